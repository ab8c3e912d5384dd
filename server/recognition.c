/*
 * Recognition (COMMUNITY.md section 6), the shared part: who the caller
 * is as the SQL sees it, the query arguments every list takes, titles
 * (MVA by TUG's rule, Ambassador by the committee), the yearly
 * leaderboard per chapter and the public profile page.
 * Contributions are in contribution.c, points, benefits and the member's
 * side in points.c; both use the helpers here, never the reverse.
 *
 * The rules live in sql/functions/recognition.sql, one statement per
 * request: the route table says who may call what, the SQL narrows a
 * chapter role (leader, track owner) to its chapters and events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define NFIELDS(a)	((int)(sizeof(a) / sizeof((a)[0])))

/*
 * The caller as recognition.sql reads it: {actor, account, global,
 * review, chapters, events}. actor is the token's jti or "acct:N", which
 * is what a contribution remembers as its recorder. NULL when memory is
 * short.
 */
char *
recognition_caller(const struct req *r)
{
	const struct auth	*a = &r->auth;
	json_t			*o, *ch, *ev = NULL;
	char			*s;
	int			 i, global;

	global = (a->roles & RECOGNITION_REVIEW) != 0;
	if ((ch = json_array()) == NULL)
		return NULL;
	for (i = 0; i < a->nchapters; i++)
		json_array_append_new(ch, json_integer(a->chapters[i]));
	if (!a->all_events && !(a->roles & ACCESS_ADMIN)) {
		if ((ev = json_array()) == NULL) {
			json_decref(ch);
			return NULL;
		}
		for (i = 0; i < a->nevents; i++)
			json_array_append_new(ev, json_integer(a->events[i]));
	}
	o = json_pack("{s:s, s:o, s:b, s:b, s:o, s:o}", "actor", a->jti,
	    "account", a->account_id > 0 ? json_integer(a->account_id) :
	    json_null(), "global", global, "review", global, "chapters", ch,
	    "events", ev != NULL ? ev : json_null());
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* ?year= as 2000..2100, or NULL when absent; -1 (400 sent) when bad. */
int
recognition_arg_year(struct req *r, const char **out)
{
	const char	*v = req_query_arg(r, "year");
	int64_t		 y;

	*out = NULL;
	if (v == NULL || *v == '\0')
		return 0;
	if (parse_int64(v, RECOGNITION_MINYEAR, RECOGNITION_MAXYEAR, &y) ==
	    -1) {
		http_error(r, 400, "invalid_field", "year: a year from %d to "
		    "%d.", RECOGNITION_MINYEAR, RECOGNITION_MAXYEAR);
		return -1;
	}
	*out = v;
	return 0;
}

/* Whether s has a chapter slug's shape (sql/020). */
static int
slug_ok(const char *s)
{
	size_t	 i, n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* ?chapter= as a slug, or NULL when absent; -1 (400 sent) when bad. */
int
recognition_arg_slug(struct req *r, const char **out)
{
	const char	*v = req_query_arg(r, "chapter");

	*out = NULL;
	if (v == NULL || *v == '\0')
		return 0;
	if (!slug_ok(v)) {
		http_error(r, 400, "invalid_field", "chapter: a chapter's slug "
		    "(lower-case letters, digits and '-').");
		return -1;
	}
	*out = v;
	return 0;
}

/* ?key= as one of values, or NULL when absent; -1 (400 sent) when not. */
int
recognition_arg_enum(struct req *r, const char *key,
    const char *const *values, const char **out)
{
	const char	*v = req_query_arg(r, key);
	int		 i;

	*out = NULL;
	if (v == NULL || *v == '\0')
		return 0;
	for (i = 0; values[i] != NULL; i++)
		if (strcmp(v, values[i]) == 0) {
			*out = values[i];
			return 0;
		}
	http_error(r, 400, "invalid_field", "%s: not one of the documented "
	    "values.", key);
	return -1;
}

/* ?limit= (1..RECOGNITION_MAXROWS, default RECOGNITION_ROWS) into buf. */
int
recognition_arg_limit(struct req *r, const char **out, char *buf,
    size_t bufsz)
{
	const char	*v = req_query_arg(r, "limit");
	int64_t		 n = RECOGNITION_ROWS;

	if (v != NULL && *v != '\0' && parse_int64(v, 1, RECOGNITION_MAXROWS,
	    &n) == -1) {
		http_error(r, 400, "invalid_field", "limit: from 1 to %d.",
		    RECOGNITION_MAXROWS);
		return -1;
	}
	snprintf(buf, bufsz, "%lld", (long long)n);
	*out = buf;
	return 0;
}

/* A console form: empty fields are fields not given; the CSRF goes. */
void
recognition_form_drop_empty(json_t *form)
{
	const char	*k;
	json_t		*v;
	void		*tmp;

	json_object_del(form, "csrf");
	json_object_foreach_safe(form, tmp, k, v)
		if (json_is_string(v) && *json_string_value(v) == '\0')
			json_object_del(form, k);
}

/*
 * A form field that is a number becomes one, so the API's field table
 * checks it; 0, or -1 (400 sent) when it is not a whole number.
 */
int
recognition_form_int(struct req *r, const char *key)
{
	const char	*v = json_string_value(json_object_get(r->body, key));
	int64_t		 n;

	if (v == NULL)
		return 0;
	if (parse_int64(v, -ID_MAX, ID_MAX, &n) == -1) {
		http_error(r, 400, "invalid_field", "%s: must be a whole "
		    "number", key);
		return -1;
	}
	json_object_set_new(r->body, key, json_integer(n));
	return 0;
}

/*
 * A console page's context with the statement's JSON under "data" and
 * what every recognition page shows: the done= notice, and whether the
 * caller reviews and manages. NULL (an error sent) when it cannot be made.
 */
json_t *
recognition_ctx(struct req *r, const char *title_key, struct db_res *res)
{
	json_t		*ctx, *data;
	const char	*done = req_query_arg(r, "done");
	char		 key[64];
	size_t		 i;

	if ((data = db_json(res)) == NULL) {
		http_error(r, 404, "not_found", "No such %s.", r->thing);
		return NULL;
	}
	if ((ctx = console_ctx(r, title_key)) == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return NULL;
	}
	json_object_set_new(ctx, "data", data);
	json_object_set_new(ctx, "can_review", json_boolean(
	    (r->auth.roles & RECOGNITION_REVIEW) != 0));
	json_object_set_new(ctx, "can_manage", json_boolean(
	    (r->auth.roles & RECOGNITION_MANAGE) != 0));
	if (done != NULL && strlen(done) < 32) {
		for (i = 0; done[i] != '\0'; i++)
			if (!(done[i] >= 'a' && done[i] <= 'z') &&
			    done[i] != '_')
				break;
		snprintf(key, sizeof(key), "rc_done_%s", done);
		if (done[i] == '\0' && json_object_get(web_catalog(req_lang(r)),
		    key) != NULL)
			json_object_set(ctx, "notice", json_object_get(
			    web_catalog(req_lang(r)), key));
	}
	return ctx;
}

/*
 * Each object of rows gets FIELD_label: the catalog's message PREFIX
 * followed by its FIELD ("kind" "rc_kind_" gives talk the label of
 * rc_kind_talk).
 */
void
recognition_labels(struct req *r, json_t *rows, const char *field,
    const char *prefix)
{
	const json_t	*t = web_catalog(req_lang(r));
	const char	*v;
	char		 key[64], name[64];
	json_t		*o;
	size_t		 i;

	snprintf(name, sizeof(name), "%s_label", field);
	json_array_foreach(rows, i, o) {
		if ((v = json_string_value(json_object_get(o, field))) == NULL)
			continue;
		snprintf(key, sizeof(key), "%s%s", prefix, v);
		json_object_set(o, name, json_object_get(t, key));
	}
}

/* GET /api/v1/titles?year=&history=: titles held (staff). */
void
recognition_titles(struct req *r)
{
	const char	*vals[2], *h = req_query_arg(r, "history");

	if (recognition_arg_year(r, &vals[0]) == -1)
		return;
	if (h != NULL && strcmp(h, "true") != 0 && strcmp(h, "false") != 0 &&
	    strcmp(h, "1") != 0 && strcmp(h, "0") != 0) {
		http_error(r, 400, "invalid_field", "history: true or false.");
		return;
	}
	vals[1] = h != NULL && (strcmp(h, "true") == 0 || strcmp(h, "1") == 0) ?
	    "true" : "false";
	req_query(r, SQL_RC_TITLES, vals, 2, http_reply_row);
}

static const char *const grantable[] = { "ambassador", NULL };
static const struct vfield title_fields[] = {
	{ "email", V_EMAIL, 1, 0, 0, 0, NULL },
	{ "name", V_STRING, 0, 0, 0, FIELD_MAXTEXT, NULL },
	{ "title", V_ENUM, 1, 0, 0, 0, grantable },
	{ "year", V_INT, 1, 0, RECOGNITION_MINYEAR, RECOGNITION_MAXYEAR, NULL },
};

/*
 * POST /api/v1/titles {email, name?, title: ambassador, year}: the
 * committee names an Ambassador. MVA is granted by the rule only.
 */
void
recognition_title_grant(struct req *r)
{
	const char	*vals[5];
	char		 year[16];

	if (req_validate(r, title_fields, NFIELDS(title_fields)) == -1)
		return;
	snprintf(year, sizeof(year), "%lld", (long long)json_integer_value(
	    json_object_get(r->body, "year")));
	vals[0] = json_string_value(json_object_get(r->body, "email"));
	vals[1] = json_string_value(json_object_get(r->body, "name"));
	vals[2] = json_string_value(json_object_get(r->body, "title"));
	vals[3] = year;
	vals[4] = r->auth.jti;
	req_query(r, SQL_RC_TITLE_GRANT, vals, 5, http_reply_row_created);
}

/* POST /api/v1/titles/{id}/revoke: the row stays, with revoked_at. */
void
recognition_title_revoke(struct req *r)
{
	const char	*vals[2];

	if (json_object_size(r->body) != 0) {
		http_error(r, 400, "invalid_field", "body: takes no fields.");
		return;
	}
	vals[0] = r->params[0];
	vals[1] = r->auth.jti;
	req_query(r, SQL_RC_TITLE_REVOKE, vals, 2, http_reply_row);
}

/* The leaderboard's statement for this caller, its answer to done. */
static void
leaderboard_query(struct req *r, req_done_fn done)
{
	const char	*vals[4];
	char		 lim[16], *caller;

	if (recognition_arg_year(r, &vals[0]) == -1 ||
	    recognition_arg_slug(r, &vals[1]) == -1)
		return;
	if ((caller = recognition_caller(r)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	snprintf(lim, sizeof(lim), "%d", RECOGNITION_BOARD);
	vals[2] = lim;
	vals[3] = caller;
	req_query(r, SQL_RC_LEADERBOARD, vals, 4, done);
	free(caller);
}

/*
 * GET /api/v1/leaderboard?year=&chapter=: the year's points per chapter
 * (approved contributions dated in the year), staff only.
 */
void
recognition_leaderboard(struct req *r)
{
	leaderboard_query(r, http_reply_row);
}

/* The console's leaderboard page. */
static void
console_board_done(struct req *r, struct db_res *res)
{
	json_t	*ctx;

	if ((ctx = recognition_ctx(r, "rc_board_title", res)) == NULL)
		return;
	web_page_csp(r, 200, "console_leaderboard", ctx, WEB_CSP_SCRIPT);
}

/* GET /console/leaderboard?year=&chapter= */
void
recognition_console_leaderboard(struct req *r)
{
	leaderboard_query(r, console_board_done);
}

/* The public profile page, or 404 for a person who is not listed. */
static void
profile_done(struct req *r, struct db_res *res)
{
	json_t	*ctx, *data;

	if ((data = db_json(res)) == NULL) {
		http_error(r, 404, "not_found", "No such profile.");
		return;
	}
	if ((ctx = web_ctx(r, "rc_profile_title")) == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	recognition_labels(r, json_object_get(data, "titles"), "title",
	    "rc_title_");
	json_object_set_new(ctx, "person", data);
	web_page(r, 200, "profile", ctx);
}

/* GET /people/{id}: a person's name and titles, when they chose so. */
void
recognition_profile(struct req *r)
{
	const char	*vals[1] = { r->params[0] };

	req_query(r, SQL_RC_PROFILE, vals, 1, profile_done);
}
