/*
 * The console's event editor: a new draft of each kind (a meetup, a
 * community day with its agenda, a NightTalk series), edit, publish,
 * cancel, finish, and duplicate an earlier event. The form's fields are
 * checked by event.c's own field tables, then saved through the API's SQL
 * functions (rc_console_event_save calls rc_event_create, rc_event_update
 * and rc_agenda_set; rc_console_series_create calls rc_series_create), so
 * the rules and the audit are the API's. A refusal comes back as the form
 * again, as typed, with the sentence next to its field.
 *
 * Times on the form are local to the event's zone ("2026-12-10T14:00",
 * what <input type=datetime-local> sends); the database converts them. A
 * draft may leave them blank, as its venue and capacity, while it is
 * planned. The status buttons are those the account may use now: submit
 * a draft to the committee, publish when approval allows
 * (docs/approval.md), withdraw a proposal, finish, cancel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

static const char *const kinds[] = { "meetup", "community_day", "nighttalk",
    NULL };

/* A community day's first agenda, before anyone edits it. */
static const struct { const char *title, *kind, *start, *end; }
    default_agenda[] = {
	{ "Opening keynote", "keynote", "09:30", "10:15" },
	{ "Talk", "talk", "10:30", "11:15" },
	{ "Lunch", "break", "12:00", "13:30" },
	{ "Hands-on lab", "hands_on", "13:30", "15:00" },
	{ "Panel", "panel", "15:30", "16:30" },
};

/* A form field's text, or "" when absent. */
static const char *
fv(const json_t *f, const char *key)
{
	const char	*v = json_string_value(json_object_get(f, key));

	return v != NULL ? v : "";
}

/* Whether s is one of a NULL-ended list. */
static int
one_of(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* Record the form's error: the field and the sentence. */
static void
form_error(struct req *r, const char *field, const char *msg)
{
	snprintf(r->errfield, sizeof(r->errfield), "%s", field);
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg);
}

/*
 * The chapters the form offers (rc_chapter_options: those its user may
 * put events in, and the event's own), labelled in the page's language,
 * the form's one selected. A form with no chapter yet and one to offer
 * takes it.
 */
static json_t *
chapter_choices(struct req *r, const json_t *options, json_t *f)
{
	json_t		*out = json_array(), *o, *c;
	const char	*cur = fv(f, "chapter"), *name, *zh, *slug;
	const char	*retired = fv(web_catalog(req_lang(r)),
	    "ch_status_retired");
	char		 label[2 * FIELD_MAXTEXT + 80];
	size_t		 i;

	if (*cur == '\0' && json_array_size(options) == 1)
		json_object_set(f, "chapter", json_object_get(json_array_get(
		    options, 0), "slug"));
	cur = fv(f, "chapter");
	json_array_foreach(options, i, c) {
		slug = fv(c, "slug");
		name = fv(c, "name");
		zh = fv(c, "name_zh");
		snprintf(label, sizeof(label), "%s (%s)%s%s",
		    req_lang(r) && *zh != '\0' ? zh : name, slug,
		    strcmp(fv(c, "status"), "retired") == 0 ? " · " : "",
		    strcmp(fv(c, "status"), "retired") == 0 ? retired : "");
		o = json_pack("{s:s, s:s, s:b}", "slug", slug, "label", label,
		    "selected", strcmp(slug, cur) == 0);
		json_array_append_new(out, o);
	}
	return out;
}

/*
 * The status buttons the account may use on this event now, and where a
 * proposal stands (the committee's comment after a rejection).
 */
static void
editor_actions(struct req *r, json_t *ctx, const json_t *ev)
{
	const char	*st = fv(ev, "status");
	const json_t	*prop = json_object_get(ev, "proposal");
	int		 waits, direct, open;

	waits = config_approval_waits(&r->auth, json_is_true(json_object_get(ev,
	    "committee_live")));
	direct = strcmp(config_approval_for(&r->auth), "direct") == 0;
	open = strcmp(st, "cancelled") != 0 && strcmp(st, "finished") != 0;
	if (strcmp(st, "draft") == 0) {
		json_object_set_new(ctx, "can_submit", json_true());
		if (!waits)
			json_object_set_new(ctx, "can_publish", json_true());
		else
			json_object_set_new(ctx, "needs_approval", json_true());
	} else if (strcmp(st, "proposed") == 0) {
		json_object_set_new(ctx, "awaiting", json_true());
		json_object_set_new(ctx, "can_withdraw", json_true());
		if (!waits)
			json_object_set_new(ctx, "can_publish", json_true());
		if (direct)
			json_object_set_new(ctx, "can_decide", json_true());
	} else if (strcmp(st, "approved") == 0) {
		json_object_set_new(ctx, "can_publish", json_true());
		json_object_set_new(ctx, "can_withdraw", json_true());
	} else if (strcmp(st, "published") == 0)
		json_object_set_new(ctx, "can_finish", json_true());
	if (open)
		json_object_set_new(ctx, "can_cancel", json_true());
	if (json_is_object(prop) && strcmp(st, "draft") == 0 &&
	    strcmp(fv(prop, "decision"), "rejected") == 0)
		json_object_set_new(ctx, "rejected", json_deep_copy(prop));
	if (json_is_object(prop) && strcmp(st, "approved") == 0)
		json_object_set_new(ctx, "approved", json_deep_copy(prop));
}

/*
 * Draw the editor. f holds the form's values under the form's names;
 * kind and id (0: new) say which form; ev, for an edit, the event;
 * chapters the chapters it offers.
 */
static void
editor_page(struct req *r, const char *kind, int64_t id, json_t *f,
    const json_t *ev, const json_t *chapters)
{
	json_t		*ctx, *rows, *row;
	const char	*st = json_string_value(json_object_get(ev,
	    "status"));
	char		 key[128];
	int		 i, status;

	if ((ctx = console_ctx(r, id ? "c_edit_title" : "c_new_title")) ==
	    NULL) {
		json_decref(f);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	snprintf(key, sizeof(key), "kind_%s", kind);
	json_object_set_new(ctx, key, json_true());
	json_object_set_new(ctx, "kind", json_string(kind));
	if (id) {
		json_object_set_new(ctx, "id", json_integer(id));
		json_object_set_new(ctx, "event", json_deep_copy(ev));
		json_object_del(json_object_get(ctx, "event"),
		    "chapter_options");
		snprintf(key, sizeof(key), "status_is_%s", st ? st : "draft");
		json_object_set_new(ctx, key, json_true());
		snprintf(key, sizeof(key), "ap_status_%s", st ? st : "draft");
		json_object_set(ctx, "status_text", json_object_get(web_catalog(
		    req_lang(r)), key));
		editor_actions(r, ctx, ev);
	}
	snprintf(key, sizeof(key), "format_%s", fv(f, "format"));
	json_object_set_new(f, key, json_true());
	rows = json_array();
	for (i = 1; i <= EDITOR_AGENDA_ROWS; i++) {
		static const char *const cols[] = { "title", "speaker",
		    "kind", "room", "start", "end" };
		size_t	 c;

		row = json_pack("{s:i}", "n", i);
		for (c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
			snprintf(key, sizeof(key), "s%d_%s", i, cols[c]);
			json_object_set_new(row, cols[c], json_string(fv(f,
			    key)));
		}
		snprintf(key, sizeof(key), "kind_%s", fv(row, "kind"));
		json_object_set_new(row, key, json_true());
		json_array_append_new(rows, row);
	}
	json_object_set_new(ctx, "rows", rows);
	json_object_set_new(ctx, "chapters", chapter_choices(r, chapters, f));
	if (r->errmsg[0] != '\0') {
		json_object_set_new(ctx, "error", json_string(r->errmsg));
		json_object_set_new(ctx, "errors", json_pack("{s:b, s:s}",
		    "any", 1, r->errfield, r->errmsg));
	}
	json_object_set_new(ctx, "f", f);
	status = r->errmsg[0] == '\0' ? 200 : 400;
	if (r->errmsg[0] != '\0' && json_is_integer(json_object_get(r->body,
	    "_status")))
		status = (int)json_integer_value(json_object_get(r->body,
		    "_status"));
	web_page_csp(r, status, "console_event", ctx, WEB_CSP_SCRIPT);
}

/* A new form of a kind: the kind's defaults. */
static json_t *
form_defaults(const char *kind)
{
	json_t	*f = json_pack("{s:s, s:s, s:s}", "timezone",
	    "Asia/Shanghai", "waitlist", "on", "episodes", "4");
	char	 key[32];
	size_t	 i;

	if (strcmp(kind, "meetup") == 0) {
		json_object_set_new(f, "format", json_string("workshop"));
		json_object_set_new(f, "capacity", json_string("100"));
	} else if (strcmp(kind, "community_day") == 0) {
		json_object_set_new(f, "capacity", json_string("300"));
		for (i = 0; i < sizeof(default_agenda) /
		    sizeof(default_agenda[0]); i++) {
			snprintf(key, sizeof(key), "s%zu_title", i + 1);
			json_object_set_new(f, key, json_string(
			    default_agenda[i].title));
			snprintf(key, sizeof(key), "s%zu_kind", i + 1);
			json_object_set_new(f, key, json_string(
			    default_agenda[i].kind));
			snprintf(key, sizeof(key), "s%zu_start", i + 1);
			json_object_set_new(f, key, json_string(
			    default_agenda[i].start));
			snprintf(key, sizeof(key), "s%zu_end", i + 1);
			json_object_set_new(f, key, json_string(
			    default_agenda[i].end));
		}
	} else
		json_object_set_new(f, "members_only", json_string("on"));
	return f;
}

/* An event's JSON as the form's values; with_dates 0 for a duplicate. */
static json_t *
form_from_event(const json_t *ev, int with_dates)
{
	static const char *const text[] = { "title", "description",
	    "chapter", "format", "venue", "online_url", "timezone" };
	json_t		*f = json_object(), *s;
	char		 key[32], buf[32];
	size_t		 i;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		json_object_set_new(f, text[i], json_string(fv(ev, text[i])));
	if (json_is_integer(json_object_get(ev, "capacity"))) {
		snprintf(buf, sizeof(buf), "%lld", (long long)
		    json_integer_value(json_object_get(ev, "capacity")));
		json_object_set_new(f, "capacity", json_string(buf));
	}
	if (json_is_true(json_object_get(ev, "waitlist")))
		json_object_set_new(f, "waitlist", json_string("on"));
	if (json_is_true(json_object_get(ev, "members_only")))
		json_object_set_new(f, "members_only", json_string("on"));
	if (with_dates) {
		snprintf(buf, sizeof(buf), "%.16s", fv(ev, "starts_at_local"));
		json_object_set_new(f, "starts_local", json_string(buf));
		snprintf(buf, sizeof(buf), "%.16s", fv(ev, "ends_at_local"));
		json_object_set_new(f, "ends_local", json_string(buf));
	}
	json_array_foreach(json_object_get(ev, "sessions"), i, s) {
		if (i >= EDITOR_AGENDA_ROWS)
			break;
#define ROWVAL(col, from) do {						\
		snprintf(key, sizeof(key), "s%zu_%s", i + 1, col);	\
		json_object_set_new(f, key, json_string(fv(s, from)));	\
	} while (0)
		ROWVAL("title", "title");
		ROWVAL("speaker", "speaker");
		ROWVAL("kind", "kind");
		ROWVAL("room", "room");
		ROWVAL("start", "starts_local");
		ROWVAL("end", "ends_local");
#undef ROWVAL
	}
	return f;
}

/* A duplicate's source is back: a new form with its fields, no dates. */
static void
new_from_done(struct req *r, struct db_res *res)
{
	json_t		*ev = db_json(res);
	const char	*kind = fv(ev, "kind");

	if (ev == NULL || !one_of(kind, kinds)) {
		json_decref(ev);
		http_error(r, 404, "not_found", "No such event.");
		return;
	}
	editor_page(r, kind, 0, form_from_event(ev, 0), NULL,
	    json_object_get(ev, "chapter_options"));
	json_decref(ev);
}

/*
 * The chapters are back for a new form: the kind's defaults (GET), or
 * the form as typed after a refusal (POST).
 */
static void
new_form_done(struct req *r, struct db_res *res)
{
	json_t		*chapters = db_json(res);
	const char	*kind = r->body != NULL ? fv(r->body, "kind") :
	    req_query_arg(r, "kind");

	if (kind == NULL || !one_of(kind, kinds)) {
		json_decref(chapters);
		http_error(r, 400, "invalid_field", "kind: one of meetup, "
		    "community_day, nighttalk.");
		return;
	}
	editor_page(r, kind, 0, r->body != NULL ? json_deep_copy(r->body) :
	    form_defaults(kind), NULL, chapters);
	json_decref(chapters);
}

/* A new form: first the chapters its user may pick. */
static void
new_form(struct req *r)
{
	const char	*vals[2];

	vals[0] = r->auth.jti;
	vals[1] = r->body != NULL ? fv(r->body, "chapter") : "";
	r->failed = NULL;
	req_query(r, SQL_CHAPTER_OPTIONS, vals, 2, new_form_done);
}

/* GET /console/events/new?kind=&from=: the kinds, or a kind's form. */
void
editor_new(struct req *r)
{
	const char	*kind = req_query_arg(r, "kind");
	const char	*from = req_query_arg(r, "from");
	const char	*vals[2];
	json_t		*ctx;
	int64_t		 id;

	if (from != NULL) {
		if (parse_int64(from, 1, ID_MAX, &id) == -1 ||
		    !auth_in_scope(&r->auth, id)) {
			http_error(r, 404, "not_found", "No such event.");
			return;
		}
		vals[0] = from;
		vals[1] = r->auth.jti;
		req_query(r, SQL_EDITOR_EVENT, vals, 2, new_from_done);
		return;
	}
	if (kind != NULL && one_of(kind, kinds)) {
		new_form(r);
		return;
	}
	if ((ctx = console_ctx(r, "c_new_title")) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	web_page_csp(r, 200, "console_event_kind", ctx, WEB_CSP_SCRIPT);
}

/* Whether s is a form's local time, YYYY-MM-DDTHH:MM[:SS]. */
static int
local_ok(const char *s)
{
	char	 t[FIELD_MAXTIME];
	size_t	 len = strlen(s);

	if (len != 16 && len != EDITOR_MAXLOCAL)
		return 0;
	snprintf(t, sizeof(t), "%s%s+00:00", s, len == 16 ? ":00" : "");
	return validate_time(t) == 0;
}

/* Whether s is a time of day, HH:MM. */
static int
clock_ok(const char *s)
{
	return strlen(s) == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '2' &&
	    s[1] >= '0' && s[1] <= '9' && s[3] >= '0' && s[3] <= '5' &&
	    s[4] >= '0' && s[4] <= '9' && (s[0] < '2' || s[1] <= '3');
}

/* A whole number from the form into the body; -1 (error set) if not one. */
static int
put_int(struct req *r, json_t *b, const json_t *f, const char *key,
    long long max, int create)
{
	const char	*v = fv(f, key);
	int64_t		 n;
	char		 msg[128];

	if (*v == '\0') {
		if (!create)
			json_object_set_new(b, key, json_null());
		return 0;
	}
	if (parse_int64(v, 0, max, &n) == -1) {
		snprintf(msg, sizeof(msg), "%s: a whole number from 0 to %lld.",
		    key, max);
		form_error(r, key, msg);
		return -1;
	}
	json_object_set_new(b, key, json_integer(n));
	return 0;
}

/*
 * The form as the API's body: text fields as typed (blank optional ones
 * left out on a new event, null on an edit), checkboxes as booleans, local
 * times, and a community day's agenda rows. NULL with the error set.
 */
static json_t *
form_to_event(struct req *r, const char *kind, int create)
{
	static const char *const text[] = { "title", "description",
	    "chapter", "venue", "online_url", "timezone" };
	static const char *const required[] = { "title", "chapter" };
	const json_t	*f = r->body;
	json_t		*b = json_object(), *check, *sessions, *s;
	char		 key[128], field[64], msg[256];
	const char	*v;
	size_t		 i;
	int		 n;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (*fv(f, required[i]) == '\0') {
			snprintf(msg, sizeof(msg), "%s: is required.",
			    required[i]);
			form_error(r, required[i], msg);
			goto fail;
		}
	if (create)
		json_object_set_new(b, "kind", json_string(kind));
	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		v = fv(f, text[i]);
		if (*v != '\0')
			json_object_set_new(b, text[i], json_string(v));
		else if (!create && strcmp(text[i], "timezone") != 0)
			json_object_set_new(b, text[i], strcmp(text[i],
			    "description") == 0 ? json_string("") :
			    json_null());
	}
	if (strcmp(kind, "meetup") == 0)
		json_object_set_new(b, "format", json_string(fv(f, "format")));
	if (put_int(r, b, f, "capacity", EVENT_MAXCAPACITY, create) == -1)
		goto fail;
	json_object_set_new(b, "waitlist", json_boolean(json_object_get(f,
	    "waitlist") != NULL));
	json_object_set_new(b, "members_only", json_boolean(
	    json_object_get(f, "members_only") != NULL));
	/* event.c's table, without the local times it does not know. */
	check = json_deep_copy(b);
	json_object_del(check, "kind");
	if (event_body_check(check, EVENT_BODY_UPDATE, field, sizeof(field),
	    msg, sizeof(msg)) == -1) {
		json_decref(check);
		form_error(r, field, msg);
		goto fail;
	}
	json_decref(check);
	for (i = 0; i < 2; i++) {
		const char *k = i == 0 ? "starts_local" : "ends_local";

		/* A draft without its date yet; an edit clears it. */
		if (*fv(f, k) == '\0') {
			if (!create)
				json_object_set_new(b, k, json_string(""));
			continue;
		}
		if (!local_ok(fv(f, k))) {
			snprintf(msg, sizeof(msg), "%s: a date and time such "
			    "as 2026-12-03T19:30.", k);
			form_error(r, k, msg);
			goto fail;
		}
		json_object_set_new(b, k, json_string(fv(f, k)));
	}
	if (strcmp(kind, "community_day") != 0)
		return b;
	sessions = json_array();
	json_object_set_new(b, "sessions", sessions);
	for (n = 1; n <= EDITOR_AGENDA_ROWS; n++) {
		static const char *const cols[] = { "title", "speaker",
		    "kind", "room" };
		size_t	 c;

		snprintf(key, sizeof(key), "s%d_title", n);
		if (*fv(f, key) == '\0')
			continue;
		s = json_object();
		for (c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
			snprintf(key, sizeof(key), "s%d_%s", n, cols[c]);
			if (*fv(f, key) != '\0')
				json_object_set_new(s, cols[c], json_string(
				    fv(f, key)));
		}
		if (event_body_check(s, EVENT_BODY_SESSION, field,
		    sizeof(field), msg, sizeof(msg)) == -1) {
			json_decref(s);
			snprintf(key, sizeof(key), "s%d_%s", n, field);
			form_error(r, key, msg);
			goto fail;
		}
		for (c = 0; c < 2; c++) {
			snprintf(key, sizeof(key), "s%d_%s", n, c ? "end" :
			    "start");
			v = fv(f, key);
			if (*v == '\0')
				continue;
			if (!clock_ok(v)) {
				json_decref(s);
				form_error(r, key, "sessions: a time of day "
				    "such as 09:30.");
				goto fail;
			}
			json_object_set_new(s, c ? "ends_local" :
			    "starts_local", json_string(v));
		}
		json_array_append_new(sessions, s);
	}
	return b;
fail:
	json_decref(b);
	return NULL;
}

/* The form as a series' body (rc_series_create's fields). */
static json_t *
form_to_series(struct req *r)
{
	static const char *const text[] = { "title", "description",
	    "chapter", "track_owner", "timezone", "starts_on",
	    "online_url" };
	const json_t	*f = r->body;
	json_t		*b = json_object();
	char		 field[64], msg[256];
	size_t		 i;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (*fv(f, text[i]) != '\0')
			json_object_set_new(b, text[i], json_string(fv(f,
			    text[i])));
	if (put_int(r, b, f, "episodes", SERIES_MAXEPISODES, 1) == -1 ||
	    put_int(r, b, f, "capacity", EVENT_MAXCAPACITY, 1) == -1) {
		json_decref(b);
		return NULL;
	}
	json_object_set_new(b, "waitlist", json_boolean(json_object_get(f,
	    "waitlist") != NULL));
	json_object_set_new(b, "members_only", json_boolean(
	    json_object_get(f, "members_only") != NULL));
	if (event_body_check(b, EVENT_BODY_SERIES, field, sizeof(field), msg,
	    sizeof(msg)) == -1) {
		form_error(r, field, msg);
		json_decref(b);
		return NULL;
	}
	return b;
}

/*
 * The database refused the form (rc_fail: "field: sentence"): the form
 * again, as typed, the sentence by its field.
 */
static void
form_refused(struct req *r, struct db_res *res)
{
	const char	*d = db_detail(res) != NULL ? db_detail(res) :
	    db_message(res);
	size_t		 n = strcspn(d ? d : "", ":");

	form_error(r, "form", d ? d : "refused");
	/* The page answers with the refusal's status (RCnnn): 409 for a
	 * move the event's state forbids, 400 for a field. */
	if (db_sqlstate(res) != NULL && strlen(db_sqlstate(res)) == 5)
		json_object_set_new(r->body, "_status", json_integer(atoi(
		    db_sqlstate(res) + 2)));
	if (d != NULL && d[n] == ':' && n < sizeof(r->errfield)) {
		snprintf(r->errfield, sizeof(r->errfield), "%.*s", (int)n, d);
		if (strcmp(r->errfield, "starts_at") == 0)
			snprintf(r->errfield, sizeof(r->errfield),
			    "starts_local");
		else if (strcmp(r->errfield, "ends_at") == 0)
			snprintf(r->errfield, sizeof(r->errfield),
			    "ends_local");
	}
	if (r->id) {
		/* An edit: the event's state is re-read for the buttons. */
		editor_edit(r);
		return;
	}
	new_form(r);
}

/* Saved: to the event's editor (or, for a series, the overview). */
static void
saved(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res);
	char	 path[128];

	if (json_object_get(o, "events") != NULL)
		snprintf(path, sizeof(path), "/console?done=series");
	else
		snprintf(path, sizeof(path), "/console/events/%lld/edit?"
		    "done=saved", (long long)json_integer_value(
		    json_object_get(o, "id")));
	json_decref(o);
	web_redirect(r, path);
}

/* POST /console/events/new {csrf, kind, ...}: a new draft, or a series. */
void
editor_create(struct req *r)
{
	const char	*kind = fv(r->body, "kind");
	const char	*vals[3];
	json_t		*b;
	char		*text;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (!one_of(kind, kinds)) {
		http_error(r, 400, "invalid_field", "kind: one of meetup, "
		    "community_day, nighttalk.");
		return;
	}
	b = strcmp(kind, "nighttalk") == 0 ? form_to_series(r) :
	    form_to_event(r, kind, 1);
	if (b == NULL) {
		new_form(r);
		return;
	}
	text = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	if (text == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	r->failed = form_refused;
	if (strcmp(kind, "nighttalk") == 0) {
		vals[0] = text;
		vals[1] = r->auth.jti;
		req_query(r, SQL_CONSOLE_SERIES, vals, 2, saved);
	} else {
		vals[0] = "";
		vals[1] = text;
		vals[2] = r->auth.jti;
		req_query(r, SQL_CONSOLE_EVENT_SAVE, vals, 3, saved);
	}
	free(text);
}

/* The event to edit is back: its form, or the form as typed on a refusal. */
static void
edit_done(struct req *r, struct db_res *res)
{
	json_t		*ev = db_json(res), *f;
	const char	*done = req_query_arg(r, "done");

	if (ev == NULL) {
		http_error(r, 404, "not_found", "No such event.");
		return;
	}
	/* A refused edit keeps the form as typed; a refused status button
	 * (its form has no kind) shows the event as it is. */
	if (r->errmsg[0] != '\0' && json_object_get(r->body, "kind") != NULL)
		f = json_deep_copy(r->body);
	else
		f = form_from_event(ev, 1);
	if (done != NULL && r->errmsg[0] == '\0' && one_of(done,
	    (const char *const[]){ "saved", "published", "cancelled",
	    "finished", NULL })) {
		char	 key[32];

		snprintf(key, sizeof(key), "c_ev_done_%s", done);
		json_object_set(f, "notice", json_object_get(web_catalog(
		    req_lang(r)), key));
	} else if (done != NULL && r->errmsg[0] == '\0' && one_of(done,
	    (const char *const[]){ "proposed", "draft", NULL })) {
		char	 key[32];

		snprintf(key, sizeof(key), "ap_ev_done_%s", done);
		json_object_set(f, "notice", json_object_get(web_catalog(
		    req_lang(r)), key));
	}
	editor_page(r, fv(ev, "kind"), r->id, f, ev,
	    json_object_get(ev, "chapter_options"));
	json_decref(ev);
}

/* GET /console/events/{id}/edit */
void
editor_edit(struct req *r)
{
	const char	*vals[2];

	vals[0] = r->params[0];
	vals[1] = r->auth.jti;
	r->failed = NULL;
	req_query(r, SQL_EDITOR_EVENT, vals, 2, edit_done);
}

/* POST /console/events/{id}/edit {csrf, kind, ...} */
void
editor_update(struct req *r)
{
	const char	*kind = fv(r->body, "kind");
	const char	*vals[3];
	json_t		*b;
	char		*text;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (!one_of(kind, kinds)) {
		http_error(r, 400, "invalid_field", "kind: one of meetup, "
		    "community_day, nighttalk.");
		return;
	}
	if ((b = form_to_event(r, kind, 0)) == NULL) {
		editor_edit(r);
		return;
	}
	text = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	if (text == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	r->failed = form_refused;
	vals[0] = r->params[0];
	vals[1] = text;
	vals[2] = r->auth.jti;
	req_query(r, SQL_CONSOLE_EVENT_SAVE, vals, 3, saved);
	free(text);
}

/* A status moved: back to the editor with its notice. */
static void
status_done(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res);
	char	 path[128];

	snprintf(path, sizeof(path), "/console/events/%lld/edit?done=%s",
	    (long long)r->id, fv(o, "status"));
	json_decref(o);
	web_redirect(r, path);
}

/*
 * POST /console/events/{id}/status {csrf, status}: submit to the
 * committee (proposed), publish, withdraw a proposal (draft), cancel,
 * finish. A refusal (approval_required, a missing venue) is shown on the
 * editor.
 */
void
editor_status(struct req *r)
{
	static const char *const moves[] = { "proposed", "published",
	    "draft", "cancelled", "finished", NULL };
	const char	*st = fv(r->body, "status");
	const char	*vals[4];
	char		 body[64];

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (!one_of(st, moves)) {
		http_error(r, 400, "invalid_field", "status: one of proposed, "
		    "published, draft, cancelled, finished.");
		return;
	}
	r->failed = form_refused;
	vals[0] = r->params[0];
	if (strcmp(st, "proposed") == 0) {
		vals[1] = r->auth.jti;
		req_query(r, SQL_AP_PROPOSE, vals, 2, status_done);
		return;
	}
	snprintf(body, sizeof(body), "{\"status\":\"%s\"}", st);
	vals[1] = body;
	vals[2] = r->auth.jti;
	vals[3] = config_approval_for(&r->auth);
	req_query(r, SQL_EVENT_UPDATE, vals, 4, status_done);
}
