/*
 * Events and NightTalk series: validation here, the kind-specific rules
 * and the writes in PostgreSQL (sql/001_foundation.sql), one statement
 * per request. The database renders the JSON we send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

static const char *const kinds[] = { "meetup", "nighttalk", "community_day",
    NULL };
static const char *const formats[] = { "workshop", "hands_on", "panel", NULL };
static const char *const statuses[] = { "draft", "proposed", "approved",
    "published", "cancelled", "finished", NULL };
static const char *const draft_only[] = { "draft", NULL };

/*
 * The event body; `create` says which fields are required. A draft may
 * lack its dates (both, or neither), venue and capacity: proposing and
 * publishing need them (rc_event_ready, sql/functions/event.sql).
 */
#define EVENT_FIELDS(create)						\
	{ "kind", V_ENUM, create, 0, 0, 0, kinds },			\
	{ "title", V_STRING, create, 0, 1, FIELD_MAXTEXT, NULL },	\
	{ "description", V_STRING, 0, 0, 0, FIELD_MAXLONG, NULL },	\
	{ "chapter", V_STRING, create, 0, 1, FIELD_MAXTEXT, NULL },	\
	{ "format", V_ENUM, 0, 1, 0, 0, formats },			\
	{ "venue", V_STRING, 0, 1, 0, FIELD_MAXVENUE, NULL },		\
	{ "online_url", V_URL, 0, 1, 0, 0, NULL },			\
	{ "starts_at", V_TIME, 0, !(create), 0, 0, NULL },		\
	{ "ends_at", V_TIME, 0, !(create), 0, 0, NULL },		\
	{ "timezone", V_TZ, 0, 0, 0, 0, NULL },				\
	{ "capacity", V_INT, 0, 1, 0, EVENT_MAXCAPACITY, NULL },	\
	{ "waitlist", V_BOOL, 0, 0, 0, 0, NULL },			\
	{ "registration_opens_at", V_TIME, 0, 1, 0, 0, NULL },		\
	{ "registration_closes_at", V_TIME, 0, 1, 0, 0, NULL },		\
	{ "members_only", V_BOOL, 0, 0, 0, 0, NULL },			\
	{ "booth_accepts_ticket", V_BOOL, 0, 0, 0, 0, NULL },		\
	{ "reconfirm_hours", V_INT, 0, 1, 0, NOSHOW_MAXHOURS, NULL },	\
	{ "release_hours", V_INT, 0, 1, 0, NOSHOW_MAXHOURS, NULL },	\
	{ "overbook_percent", V_INT, 0, 1, 0, NOSHOW_MAXOVERBOOK, NULL }

static const struct vfield create_fields[] = {
	EVENT_FIELDS(1),
	{ "status", V_ENUM, 0, 0, 0, 0, draft_only },
};
static const struct vfield update_fields[] = {
	EVENT_FIELDS(0),
	{ "status", V_ENUM, 0, 0, 0, 0, statuses },
};
static const struct vfield series_fields[] = {
	{ "title", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "description", V_STRING, 0, 0, 0, FIELD_MAXLONG, NULL },
	{ "chapter", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "track_owner", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "timezone", V_TZ, 0, 0, 0, 0, NULL },
	{ "starts_on", V_DATE, 1, 0, 0, 0, NULL },
	{ "episodes", V_INT, 1, 0, SERIES_MINEPISODES, SERIES_MAXEPISODES,
	    NULL },
	{ "episode_titles", V_ARRAY_STRING, 0, 0, 1, SERIES_MAXEPISODES,
	    NULL },
	{ "online_url", V_URL, 1, 0, 0, 0, NULL },
	{ "capacity", V_INT, 0, 1, 0, EVENT_MAXCAPACITY, NULL },
	{ "waitlist", V_BOOL, 0, 0, 0, 0, NULL },
	{ "members_only", V_BOOL, 0, 0, 0, 0, NULL },
	{ "completion_threshold", V_INT, 0, 1, 1, SERIES_MAXEPISODES, NULL },
};

#define NFIELDS(a)	((int)(sizeof(a) / sizeof((a)[0])))
#define JSON_TYPE	"application/json; charset=utf-8"

/*
 * The cache key of a public read: the list by its filters (lengths
 * first, so no chapter's text can pose as another key), one event by
 * id. -1 when it does not fit.
 */
static int
event_cache_key(struct req *r, char *key, size_t keysz)
{
	const char	*k = req_query_arg(r, "kind");
	const char	*c = req_query_arg(r, "chapter");
	int		 n;

	if (r->id > 0)
		n = snprintf(key, keysz, "api/event/%lld", (long long)r->id);
	else
		n = snprintf(key, keysz, "api/events?%d:%s&%d:%s",
		    k ? (int)strlen(k) : -1, k ? k : "",
		    c ? (int)strlen(c) : -1, c ? c : "");
	return n < 0 || (size_t)n >= keysz ? -1 : 0;
}

/*
 * Answer an anonymous public read from the cache when it can; else take
 * a ticket for the miss. 1 when answered.
 */
static int
event_cached(struct req *r)
{
	const struct cache_entry *e;
	char		 key[CACHE_MAXKEY];

	if (r->has_token || event_cache_key(r, key, sizeof(key)) == -1)
		return 0;
	if ((e = cache_get(key)) != NULL) {
		http_reply_cached(r, e, NULL);
		return 1;
	}
	r->cache_ticket = cache_ticket();
	return 0;
}

/* A public read's row is back: keep it (when the ticket allows), reply. */
static void
event_cache_done(struct req *r, struct db_res *res)
{
	struct cache_entry	 tmp;
	const struct cache_entry *e;
	char			 key[CACHE_MAXKEY];

	if (r->cache_ticket == 0 || db_rows(res) != 1 ||
	    db_isnull(res, 0, 0) || event_cache_key(r, key, sizeof(key)) == -1 ||
	    cache_prepare(&tmp, JSON_TYPE, (const unsigned char *)db_value(res,
	    0, 0), db_length(res, 0, 0), NULL) == -1) {
		http_reply_row(r, res);
		return;
	}
	e = cache_put(key, r->id, r->cache_ticket, &tmp);
	http_reply_cached(r, e != NULL ? e : &tmp, NULL);
}

/* GET /api/v1/events?kind=&chapter=: published, public, upcoming. */
void
event_list(struct req *r)
{
	const char	*vals[2];
	int		 i;

	vals[0] = req_query_arg(r, "kind");
	vals[1] = req_query_arg(r, "chapter");
	if (vals[0] != NULL) {
		for (i = 0; kinds[i] != NULL; i++)
			if (strcmp(vals[0], kinds[i]) == 0)
				break;
		if (kinds[i] == NULL) {
			http_error(r, 400, "invalid_field", "kind: one of "
			    "meetup, nighttalk, community_day.");
			return;
		}
	}
	if (vals[1] != NULL && (strlen(vals[1]) > FIELD_MAXTEXT ||
	    validate_utf8(vals[1]) == -1 || strchr(vals[1], '\n') != NULL)) {
		http_error(r, 400, "invalid_field", "chapter: UTF-8 text, at "
		    "most %d bytes on one line.", FIELD_MAXTEXT);
		return;
	}
	if (event_cached(r))
		return;
	req_query(r, SQL_EVENT_LIST, vals, 2, event_cache_done);
}

/* GET /api/v1/events/{id}: drafts only to staff whose scope covers it. */
void
event_get(struct req *r)
{
	const char	*vals[2];
	int		 staff;

	staff = r->has_token && (r->auth.roles & ACCESS_STAFF) &&
	    auth_in_scope(&r->auth, r->id);
	if (!staff && event_cached(r))
		return;
	vals[0] = r->params[0];
	vals[1] = staff ? "true" : "false";
	req_query(r, SQL_EVENT_GET, vals, 2, event_cache_done);
}

/* POST /api/v1/events: a new draft ("status": "draft" may say so).
 * NightTalks come from a series. */
void
event_create(struct req *r)
{
	const char	*vals[2];
	char		*body;

	if (req_validate(r, create_fields, NFIELDS(create_fields)) == -1)
		return;
	if (strcmp(json_string_value(json_object_get(r->body, "kind")),
	    "nighttalk") == 0) {
		http_error(r, 400, "invalid_field", "kind: NightTalks belong "
		    "to a series; create them with POST /api/v1/series.");
		return;
	}
	json_object_del(r->body, "status");
	/* The no-show defaults; an explicit null turns either off. */
	if (json_object_get(r->body, "reconfirm_hours") == NULL)
		json_object_set_new(r->body, "reconfirm_hours",
		    json_integer(NOSHOW_RECONFIRM_HOURS));
	if (json_object_get(r->body, "release_hours") == NULL)
		json_object_set_new(r->body, "release_hours",
		    json_integer(NOSHOW_RELEASE_HOURS));
	if ((body = json_dumps(r->body, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = body;
	vals[1] = r->auth.jti;
	req_query(r, SQL_EVENT_CREATE, vals, 2, http_reply_row_created);
	free(body);
}

/* PATCH /api/v1/events/{id}: edit, publish (when approval allows),
 * withdraw, cancel, finish. */
void
event_update(struct req *r)
{
	const char	*vals[4];
	char		*body;

	if (req_validate(r, update_fields, NFIELDS(update_fields)) == -1)
		return;
	if ((body = json_dumps(r->body, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = r->params[0];
	vals[1] = body;
	vals[2] = r->auth.jti;
	vals[3] = config_approval_for(&r->auth);
	req_query(r, SQL_EVENT_UPDATE, vals, 4, http_reply_row);
	free(body);
}

/* POST /api/v1/series: 4-8 weekly Thursday NightTalks, as drafts. */
void
series_create(struct req *r)
{
	const char	*vals[2];
	char		*body;

	if (req_validate(r, series_fields, NFIELDS(series_fields)) == -1)
		return;
	if ((body = json_dumps(r->body, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = body;
	vals[1] = r->auth.jti;
	req_query(r, SQL_SERIES_CREATE, vals, 2, http_reply_row_created);
	free(body);
}

/* POST /api/v1/events/{id}/shred: blank an ended event's personal data. */
void
event_shred(struct req *r)
{
	const char	*vals[2];

	vals[0] = r->params[0];
	vals[1] = r->auth.jti;
	req_query(r, SQL_EVENT_SHRED, vals, 2, http_reply_row);
}

static const char *const session_kinds[] = { "talk", "keynote", "panel",
    "hands_on", "lab", "break", NULL };
static const struct vfield agenda_fields[] = {
	{ "sessions", V_ARRAY_ANY, 1, 0, 0, AGENDA_MAXSESSIONS, NULL },
};
static const struct vfield session_fields[] = {
	{ "title", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "speaker", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },
	{ "kind", V_ENUM, 0, 1, 0, 0, session_kinds },
	{ "room", V_STRING, 0, 1, 0, FIELD_MAXROOM, NULL },
	{ "starts_at", V_TIME, 0, 1, 0, 0, NULL },
	{ "ends_at", V_TIME, 0, 1, 0, 0, NULL },
};

/*
 * POST /api/v1/events/{id}/agenda {sessions: [{title, speaker?, kind?,
 * room?, starts_at?, ends_at?}]}: replaces the event's agenda.
 */
void
event_agenda(struct req *r)
{
	char		 field[64], msg[256];
	const char	*vals[3];
	json_t		*s;
	char		*body;
	size_t		 i;

	if (req_validate(r, agenda_fields, NFIELDS(agenda_fields)) == -1)
		return;
	json_array_foreach(json_object_get(r->body, "sessions"), i, s)
		if (validate_object(s, session_fields, NFIELDS(session_fields),
		    field, sizeof(field), msg, sizeof(msg)) == -1) {
			http_error(r, 400, "invalid_field", "sessions[%zu].%s",
			    i, msg);
			return;
		}
	if ((body = json_dumps(r->body, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = r->params[0];
	vals[1] = body;
	vals[2] = r->auth.jti;
	req_query(r, SQL_AGENDA_SET, vals, 3, http_reply_row);
	free(body);
}

/*
 * Check a body as the API would (the console's editor): an edit's fields
 * (nothing required), a series, or one agenda session. 0, or -1 with the
 * field and the sentence.
 */
int
event_body_check(const json_t *body, enum event_body what, char *field,
    size_t fieldsz, char *msg, size_t msgsz)
{
	switch (what) {
	case EVENT_BODY_UPDATE:
		return validate_object(body, update_fields,
		    NFIELDS(update_fields), field, fieldsz, msg, msgsz);
	case EVENT_BODY_SERIES:
		return validate_object(body, series_fields,
		    NFIELDS(series_fields), field, fieldsz, msg, msgsz);
	case EVENT_BODY_SESSION:
		return validate_object(body, session_fields,
		    NFIELDS(session_fields), field, fieldsz, msg, msgsz);
	}
	return -1;
}
