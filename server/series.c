/*
 * NightTalk series for members and staff (COMMUNITY.md section 7): a
 * member registers for every episode of a series at once, or cancels the
 * episodes still to come; the series report (counts for every staff
 * role in scope, who attended how many episodes for the leaders and
 * track owners of its chapter); a series' completion threshold; the
 * member's series page and the console's report page.
 *
 * A sign-up is one registration per episode, each with its own manage
 * and join secrets, like any registration: made here (256 random bits
 * each), handed to the database only as hashes and sealed for the mail,
 * and shown once, in the answer. The database decides everything else
 * in one statement (rc_series_signup, sql/functions/series.sql).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <sodium.h>

#include "server.h"

static const char *const identities[] = { "enthusiast", "professional",
    "decision_maker", "partner", NULL };
static const char *const langs[] = { "en", "zh-CN", NULL };

/* What a sign-up may add to the member's profile (where it has none). */
static const struct vfield signup_fields[] = {
	{ "name", V_STRING, 0, 0, 1, FIELD_MAXTEXT, NULL },
	{ "company", V_STRING, 0, 0, 1, FIELD_MAXTEXT, NULL },
	{ "job_title", V_STRING, 0, 0, 1, FIELD_MAXTEXT, NULL },
	{ "identity", V_ENUM, 0, 0, 0, 0, identities },
	{ "lang", V_ENUM, 0, 0, 0, 0, langs },	/* of the e-mails */
};
static const struct vfield update_fields[] = {
	{ "completion_threshold", V_INT, 1, 1, 1, SERIES_MAXEPISODES, NULL },
};

#define NFIELDS(a)	((int)(sizeof(a) / sizeof((a)[0])))

/*
 * The events the request covers, as PostgreSQL array text in *out; NULL
 * is every event. -1 (answered 503) when memory runs out: never "every
 * event" by accident.
 */
int
series_scope_pg(struct req *r, char **out)
{
	*out = NULL;
	if ((r->auth.roles & ACCESS_ADMIN) || r->auth.all_events)
		return 0;
	*out = r->auth.nevents > 0 ? auth_ids_pg(r->auth.events,
	    r->auth.nevents) : strdup("{}");
	if (*out == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return -1;
	}
	return 0;
}

/*
 * The chapters whose people the request may see and whose topics it may
 * decide, as array text in *out: NULL (every chapter) for admin and
 * committee, a leader's or track owner's own chapters, else none. -1
 * (answered 503) when memory runs out.
 */
int
series_chapters_pg(struct req *r, char **out)
{
	*out = NULL;
	if (r->auth.roles & (ACCESS_ADMIN | ACCESS_COMMITTEE))
		return 0;
	if ((r->auth.roles & (ACCESS_LEADER | ACCESS_TRACK_OWNER)) &&
	    r->auth.nchapters > 0)
		*out = auth_ids_pg(r->auth.chapters, r->auth.nchapters);
	else
		*out = strdup("{}");
	if (*out == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return -1;
	}
	return 0;
}

/* Flags a template can test: o[prefix + o[key]] = true. */
static void
series_flag(json_t *o, const char *key, const char *prefix)
{
	const char	*v = json_string_value(json_object_get(o, key));
	char		 name[64];

	if (v == NULL)
		return;
	snprintf(name, sizeof(name), "%s%s", prefix, v);
	json_object_set_new(o, name, json_true());
}

/*
 * The member's series page: the view (rc_series_member), and what a
 * sign-up or a cancellation just did with each episode (links included:
 * shown this once). Takes both.
 */
static void
series_render(struct req *r, json_t *view, json_t *result, const char *done)
{
	json_t		*ctx, *e;
	const json_t	*t;
	size_t		 i;
	char		 key[64];

	if ((ctx = web_ctx(r, NULL)) == NULL || view == NULL) {
		json_decref(ctx);
		json_decref(view);
		json_decref(result);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	t = json_object_get(ctx, "t");
	json_object_set(ctx, "title", json_object_get(json_object_get(view,
	    "series"), "title"));
	json_array_foreach(json_object_get(view, "episodes"), i, e)
		series_flag(e, "mine", "mine_");
	json_array_foreach(json_object_get(result, "episodes"), i, e)
		series_flag(e, "state", "state_");
	json_object_set_new(ctx, "secret", json_string(r->params[0]));
	json_object_set_new(ctx, "view", view);
	if (result != NULL)
		json_object_set_new(ctx, "result", result);
	if (done != NULL) {
		snprintf(key, sizeof(key), "sr_done_%s", done);
		json_object_set(ctx, "notice", json_object_get(t, key));
	}
	web_page(r, 200, "member_series", ctx);
}

/*
 * Forget the cached public reads of the episodes an answer names: their
 * seats changed, and this server answers its own writes' readers at once
 * (the routes are ROUTE_PRIVATE, since r->id is a series, not an event;
 * every other server hears of it from the events' NOTIFY).
 */
static void
series_forget(const json_t *o)
{
	const json_t	*e;
	size_t		 i;

	json_array_foreach(json_object_get(o, "episodes"), i, e)
		if (json_is_integer(json_object_get(e, "event_id")))
			cache_forget(json_integer_value(json_object_get(e,
			    "event_id")));
}

/* One sign-up in flight: its request and the episodes' secrets. */
struct signup {
	struct req	*r;
	int		 page;		/* answer with the member's page */
	struct secrets	 s[SERIES_MAXEPISODES];
};

/* Forget a sign-up's secrets. */
static void
signup_free(struct signup *su)
{
	sodium_memzero(su, sizeof(*su));
	free(su);
}

/*
 * Give each new registration its links from the secrets of its slot:
 * the manage link, and the join link once confirmed (a waitlisted one
 * finds it on its manage page when promoted). Pages get paths, the API
 * whole URLs. The slot itself goes.
 */
static void
signup_links(struct signup *su, json_t *o)
{
	char		 url[1024];
	const char	*base = su->page ? "" : registration_public_url();
	const char	*st;
	json_t		*e, *slot;
	json_int_t	 k;
	size_t		 i;

	json_array_foreach(json_object_get(o, "episodes"), i, e) {
		if (!json_is_integer(slot = json_object_get(e, "slot")))
			continue;
		k = json_integer_value(slot);
		json_object_del(e, "slot");
		if (k < 0 || k >= SERIES_MAXEPISODES)
			continue;
		snprintf(url, sizeof(url), "%s/manage/%s", base,
		    su->s[k].manage);
		json_object_set_new(e, "manage_url", json_string(url));
		st = json_string_value(json_object_get(e, "status"));
		if (st != NULL && strcmp(st, "confirmed") == 0) {
			snprintf(url, sizeof(url), "%s/j/%s", base,
			    su->s[k].join);
			json_object_set_new(e, "join_url", json_string(url));
		}
	}
	sodium_memzero(url, sizeof(url));
}

/* The sign-up is decided: answer (201 when anything was registered). */
static void
signup_done(void *arg, struct db_res *res, enum db_err err)
{
	struct signup	*su = arg;
	struct req	*r = su->r;
	json_t		*o, *view;

	if (err != DB_OK || res == NULL || !db_ok(res)) {
		req_db_fail(r, res, err);
		goto out;
	}
	if ((o = db_json(res)) == NULL) {
		http_error(r, 404, "not_found", "No such member.");
		goto out;
	}
	series_forget(o);
	signup_links(su, o);
	if (su->page) {
		view = json_incref(json_object_get(o, "view"));
		json_object_del(o, "view");
		series_render(r, view, o, json_integer_value(json_object_get(o,
		    "registered")) > 0 ? "registered" : "already");
		goto out;
	}
	json_object_del(o, "view");
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Referrer-Policy", "no-referrer");
	http_reply_json(r, json_integer_value(json_object_get(o,
	    "registered")) > 0 ? 201 : 200, o);
out:
	signup_free(su);
}

/*
 * Sign the member up for series r->id, extra filling their profile's
 * gaps: a manage secret (and its join secret) for every episode there
 * may be, of which the database uses one per episode it registers.
 */
static void
signup_start(struct req *r, json_t *extra, int page)
{
	struct signup	*su;
	json_t		*arr = NULL, *o;
	char		*secrets = NULL, *ex = NULL;
	const char	*vals[4];
	char		 id[24];
	enum db_err	 err;
	int		 i;

	if ((su = calloc(1, sizeof(*su))) == NULL ||
	    (arr = json_array()) == NULL)
		goto fail;
	su->r = r;
	su->page = page;
	for (i = 0; i < SERIES_MAXEPISODES; i++) {
		secret_new(&su->s[i]);
		o = json_pack("{s:s, s:s, s:s}", "hash", su->s[i].manage_hash,
		    "join", su->s[i].join_hash, "sealed", su->s[i].sealed);
		if (o == NULL || json_array_append_new(arr, o) == -1)
			goto fail;
	}
	if ((secrets = json_dumps(arr, JSON_COMPACT)) == NULL ||
	    (ex = json_dumps(extra, JSON_COMPACT)) == NULL)
		goto fail;
	json_decref(arr);
	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	vals[0] = r->secret_hash;
	vals[1] = id;
	vals[2] = secrets;
	vals[3] = ex;
	err = db_exec(SQL_SERIES_SIGNUP, vals, 4, signup_done, su);
	sodium_memzero(secrets, strlen(secrets));
	free(secrets);
	free(ex);
	if (err != DB_OK)
		signup_done(su, NULL, err);
	return;
fail:
	json_decref(arr);
	if (secrets != NULL)
		sodium_memzero(secrets, strlen(secrets));
	free(secrets);
	free(ex);
	if (su != NULL)
		signup_free(su);
	http_error(r, 503, "out_of_memory", "Try again.");
}

/*
 * POST /api/v1/member/{secret}/series/{id} {name?, company?, job_title?,
 * identity?, lang?}: register for every episode not yet started.
 */
void
series_signup(struct req *r)
{
	if (req_validate(r, signup_fields, NFIELDS(signup_fields)) == -1)
		return;
	signup_start(r, r->body, 0);
}

/* The cancellation is done: the API's answer, without the page's view. */
static void
withdraw_done(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res);

	if (o == NULL) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	series_forget(o);
	json_object_del(o, "view");
	http_reply_json(r, 200, o);
}

/* DELETE /api/v1/member/{secret}/series/{id}: cancel what is to come. */
void
series_withdraw(struct req *r)
{
	const char	*vals[2] = { r->secret_hash, r->params[1] };

	req_query(r, SQL_SERIES_WITHDRAW, vals, 2, withdraw_done);
}

/* GET /api/v1/member/{secret}/series/{id}: the member's view of it. */
void
series_member_get(struct req *r)
{
	const char	*vals[2] = { r->secret_hash, r->params[1] };

	req_query(r, SQL_SERIES_MEMBER, vals, 2, http_reply_row);
}

/* PATCH /api/v1/series/{id} {completion_threshold: 1..episodes | null} */
void
series_update(struct req *r)
{
	const char	*vals[4];
	char		*body, *scope;

	if (req_validate(r, update_fields, NFIELDS(update_fields)) == -1 ||
	    series_scope_pg(r, &scope) == -1)
		return;
	if ((body = json_dumps(r->body, JSON_COMPACT)) == NULL) {
		free(scope);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = r->params[0];
	vals[1] = body;
	vals[2] = scope;
	vals[3] = r->auth.jti;
	req_query(r, SQL_SERIES_UPDATE, vals, 4, http_reply_row);
	free(body);
	free(scope);
}

/*
 * GET /api/v1/series/{id}/report[?people=1]: the counts for anyone on
 * staff whose scope covers the series; the people only for its
 * chapter's leaders and track owners, the committee and admins (403 to
 * others, decided with the series' chapter in the database).
 */
void
series_report(struct req *r)
{
	const char	*people = req_query_arg(r, "people");
	const char	*vals[4];
	char		*scope, *chapters;

	if (people != NULL && strcmp(people, "0") != 0 &&
	    strcmp(people, "1") != 0) {
		http_error(r, 400, "invalid_field", "people: 1 for the list of "
		    "who attended, 0 or nothing for the counts only.");
		return;
	}
	if (series_scope_pg(r, &scope) == -1)
		return;
	if (series_chapters_pg(r, &chapters) == -1) {
		free(scope);
		return;
	}
	vals[0] = r->params[0];
	vals[1] = scope;
	vals[2] = chapters;
	vals[3] = people != NULL && strcmp(people, "1") == 0 ? "yes" : "no";
	req_query(r, SQL_SERIES_REPORT, vals, 4, http_reply_row);
	free(scope);
	free(chapters);
}

/* The member's series page from rc_series_member's row. */
static void
page_done(struct req *r, struct db_res *res)
{
	json_t	*view = db_json(res);

	if (view == NULL) {
		http_error(r, 404, "not_found", "No such member or series.");
		return;
	}
	series_render(r, view, NULL, NULL);
}

/* GET /member/{secret}/series/{id}: the episodes, the sign-up button. */
void
series_page(struct req *r)
{
	const char	*vals[2] = { r->secret_hash, r->params[1] };

	req_query(r, SQL_SERIES_MEMBER, vals, 2, page_done);
}

/* The page's cancellation is done: the page, with what it cancelled. */
static void
page_withdraw_done(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res), *view;

	if (o == NULL) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	series_forget(o);
	view = json_incref(json_object_get(o, "view"));
	json_object_del(o, "view");
	series_render(r, view, o, "cancelled");
}

/*
 * POST /member/{secret}/series/{id} (a form: csrf, action register or
 * cancel; identity, company, job_title where the profile lacks them).
 * Answers with the page itself, which shows the new links this once.
 */
void
series_page_post(struct req *r)
{
	static const char *const text[] = { "identity", "company",
	    "job_title" };
	const char	*action, *v, *vals[2];
	char		 field[64], msg[256];
	json_t		*extra;
	size_t		 i;

	if (!web_csrf_ok(r))
		return;
	action = json_string_value(json_object_get(r->body, "action"));
	if (action != NULL && strcmp(action, "cancel") == 0) {
		vals[0] = r->secret_hash;
		vals[1] = r->params[1];
		req_query(r, SQL_SERIES_WITHDRAW, vals, 2, page_withdraw_done);
		return;
	}
	if (action == NULL || strcmp(action, "register") != 0) {
		http_error(r, 400, "invalid_field", "action: register or "
		    "cancel.");
		return;
	}
	if ((extra = json_object()) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if ((v = json_string_value(json_object_get(r->body,
		    text[i]))) != NULL && *v != '\0')
			json_object_set_new(extra, text[i], json_string(v));
	json_object_set_new(extra, "lang", json_string(req_lang(r) ? "zh-CN" :
	    "en"));
	if (validate_object(extra, signup_fields, NFIELDS(signup_fields),
	    field, sizeof(field), msg, sizeof(msg)) == -1) {
		json_decref(extra);
		http_error(r, 400, "invalid_field", "%s", msg);
		return;
	}
	signup_start(r, extra, 1);
	json_decref(extra);
}

/* The console's report page. */
static void
console_report_done(struct req *r, struct db_res *res)
{
	json_t	*ctx, *data = db_json(res);

	if (data == NULL) {
		http_error(r, 404, "not_found", "No such series.");
		return;
	}
	if ((ctx = console_ctx(r, "sr_report_title")) == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_object_set_new(ctx, "data", data);
	web_page_csp(r, 200, "console_series", ctx, WEB_CSP_SCRIPT);
}

/* GET /console/series/{id}: the series report, the people when allowed. */
void
series_console(struct req *r)
{
	const char	*vals[3];
	char		*scope, *chapters;

	if (series_scope_pg(r, &scope) == -1)
		return;
	if (series_chapters_pg(r, &chapters) == -1) {
		free(scope);
		return;
	}
	vals[0] = r->params[0];
	vals[1] = scope;
	vals[2] = chapters;
	req_query(r, SQL_SERIES_CONSOLE, vals, 3, console_report_done);
	free(scope);
	free(chapters);
}
