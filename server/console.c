/*
 * The organizer console's pages: the overview of my upcoming events, the
 * check-in desk, registrations (cancel, promote, walk-in) and the
 * attendance export. The router has signed the account in (session.c)
 * and checked that {id} is an event it covers; every change goes through
 * one rc_console_* statement, which writes audit_log with the account.
 *
 * Every page works without JavaScript: forms post and come back with a
 * 303 (post, redirect, get). /static/console.js, the only script (the CSP
 * allows no inline one), polls the small .json endpoints to keep the
 * numbers live and ticks check-ins without a reload, posting the same
 * forms with the same CSRF field and asking for JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <sodium.h>

#include "server.h"

/* A page's context: the web page's, plus who is signed in. */
json_t *
console_ctx(struct req *r, const char *title_key)
{
	json_t	*ctx = web_ctx(r, title_key);

	if (ctx == NULL)
		return NULL;
	/*
	 * Which links the navigation offers (the route table still decides):
	 * "committee" what the admin and the committee both may do
	 * (chapters, accounts, proposals), "reports" every chapter role,
	 * "recorder" who records contributions.
	 */
	json_object_set_new(ctx, "me", json_pack("{s:s, s:b, s:b, s:b, s:b}",
	    "name", r->auth.name,
	    "admin", (r->auth.roles & ACCESS_ADMIN) != 0,
	    "committee", (r->auth.roles & (ACCESS_ADMIN |
	    ACCESS_COMMITTEE)) != 0,
	    "reports", (r->auth.roles & (ACCESS_ADMIN | ACCESS_COMMITTEE |
	    ACCESS_LEADER | ACCESS_TRACK_OWNER)) != 0,
	    "recorder", (r->auth.roles & (ACCESS_ADMIN | ACCESS_COMMITTEE |
	    ACCESS_INFRA | ACCESS_LEADER | ACCESS_TRACK_OWNER)) != 0));
	json_object_set_new(ctx, "console", json_true());
	return ctx;
}

/* Render a console page from the JSON a statement returned (under "data"). */
static void
console_render(struct req *r, struct db_res *res, const char *tmpl,
    const char *title_key, json_t *extra)
{
	json_t	*ctx, *data;

	if ((data = db_json(res)) == NULL) {
		json_decref(extra);
		http_error(r, 404, "not_found", "No such %s.", r->thing);
		return;
	}
	if ((ctx = console_ctx(r, title_key)) == NULL) {
		json_decref(data);
		json_decref(extra);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_object_set_new(ctx, "data", data);
	if (extra != NULL)
		json_object_update(ctx, extra);
	json_decref(extra);
	web_page_csp(r, 200, tmpl, ctx, WEB_CSP_SCRIPT);
}

/* Whether the caller (console.js) asked for JSON rather than a page. */
static int
wants_json(struct req *r)
{
	const char	*a = evhttp_find_header(
	    evhttp_request_get_input_headers(r->ev), "Accept");

	return a != NULL && strstr(a, "application/json") != NULL;
}

/* A search term from the query string: UTF-8, one line, bounded. */
static const char *
query_text(struct req *r, const char *key)
{
	const char	*q = req_query_arg(r, key);

	if (q == NULL || strlen(q) > FIELD_MAXTEXT || validate_utf8(q) == -1)
		return "";
	return q;
}

/* The overview page. */
static void
overview_done(struct req *r, struct db_res *res)
{
	console_render(r, res, "console_overview", "c_overview_title", NULL);
}

/* The overview's numbers, for polling. */
static void
overview_json_done(struct req *r, struct db_res *res)
{
	http_reply_row(r, res);
}

/* Run the overview's statement for the account's scope. */
static void
overview_query(struct req *r, req_done_fn done)
{
	char		*scope = auth_scope_pg(&r->auth);
	char		 lim[16];
	const char	*vals[2];

	if (scope == NULL && !(r->auth.role == ROLE_ADMIN ||
	    r->auth.all_events))
		scope = strdup("{}");
	snprintf(lim, sizeof(lim), "%d", CONSOLE_MAXEVENTS);
	vals[0] = scope;
	vals[1] = lim;
	req_query(r, SQL_CONSOLE_OVERVIEW, vals, 2, done);
	free(scope);
}

/* GET /console */
void
console_overview(struct req *r)
{
	/* Infra runs no events: its console is the contributions to review. */
	if (!(r->auth.roles & ACCESS_STAFF)) {
		web_redirect(r, "/console/contributions");
		return;
	}
	overview_query(r, overview_done);
}

/* GET /console/overview.json */
void
console_overview_json(struct req *r)
{
	overview_query(r, overview_json_done);
}

/* The desk page, with the verdict of the last tick when there is one. */
static void
desk_done(struct req *r, struct db_res *res)
{
	static const char *const verdicts[] = { "admitted",
	    "already_checked_in", "cancelled", "not_confirmed", "undone",
	    "invalid", NULL };
	const char	*v = req_query_arg(r, "v");
	json_t		*extra = json_object();
	char		 key[64];
	int		 i;

	json_object_set_new(extra, "q", json_string(query_text(r, "q")));
	json_object_set_new(extra, "desk_gate", json_string(query_text(r,
	    "gate")[0] ? query_text(r, "gate") : "desk"));
	for (i = 0; v != NULL && verdicts[i] != NULL; i++)
		if (strcmp(v, verdicts[i]) == 0) {
			snprintf(key, sizeof(key), "c_verdict_%s", v);
			json_object_set(extra, "verdict", json_object_get(
			    web_catalog(req_lang(r)), key));
			json_object_set_new(extra, "verdict_ok", json_boolean(
			    strcmp(v, "admitted") == 0 ||
			    strcmp(v, "undone") == 0));
		}
	console_render(r, res, "console_desk", "c_desk_title", extra);
}

/* Run the desk's statement: the event's attendees matching ?q=. */
static void
desk_query(struct req *r, req_done_fn done)
{
	char		 lim[16], undo[16];
	const char	*vals[4];

	snprintf(lim, sizeof(lim), "%d", CONSOLE_MAXROWS);
	snprintf(undo, sizeof(undo), "%d", CONSOLE_UNDO_SECS);
	vals[0] = r->params[0];
	vals[1] = query_text(r, "q");
	vals[2] = lim;
	vals[3] = undo;
	req_query(r, SQL_CONSOLE_DESK, vals, 4, done);
}

/* GET /console/events/{id}/checkin?q= */
void
console_desk(struct req *r)
{
	desk_query(r, desk_done);
}

/* GET /console/events/{id}/checkin.json?q= */
void
console_desk_json(struct req *r)
{
	desk_query(r, http_reply_row);
}

/* The form's registration id, or -1 (replied 400). */
static int
form_registration(struct req *r, int64_t *id)
{
	const char	*v = json_string_value(json_object_get(r->body,
	    "registration"));

	if (v == NULL || parse_int64(v, 1, ID_MAX, id) == -1) {
		http_error(r, 400, "invalid_field", "registration: the id of "
		    "a registration.");
		return -1;
	}
	return 0;
}

/* Back to a page of the event, with a query (already URL-safe). */
static void
back_to(struct req *r, const char *page, const char *query)
{
	char	 path[512];

	snprintf(path, sizeof(path), "/console/events/%lld/%s%s%s",
	    (long long)r->id, page, query[0] ? "?" : "", query);
	web_redirect(r, path);
}

/* Append key=value, %-encoded, to a query string being built. */
static void
query_add(char *q, size_t qsz, const char *key, const char *value)
{
	char	*enc;

	if (value == NULL || *value == '\0' ||
	    (enc = evhttp_encode_uri(value)) == NULL)
		return;
	snprintf(q + strlen(q), qsz - strlen(q), "%s%s=%s", q[0] ? "&" : "",
	    key, enc);
	free(enc);
}

/* A tick's verdict: JSON for console.js, else back to the desk. */
static void
checkin_done(struct req *r, struct db_res *res)
{
	json_t		*o;
	char		 q[512] = "";

	if (wants_json(r)) {
		http_reply_row(r, res);
		return;
	}
	o = db_json(res);
	query_add(q, sizeof(q), "q", json_string_value(json_object_get(
	    r->body, "q")));
	query_add(q, sizeof(q), "gate", json_string_value(json_object_get(
	    r->body, "gate")));
	query_add(q, sizeof(q), "v", json_string_value(json_object_get(o,
	    "result")));
	json_decref(o);
	back_to(r, "checkin", q);
}

/* POST /console/events/{id}/checkin {csrf, registration, gate?, q?} */
void
console_checkin(struct req *r)
{
	const char	*gate = json_string_value(json_object_get(r->body,
	    "gate"));
	const char	*vals[4];
	int64_t		 reg;

	if (!web_csrf_ok(r) || !session_origin_ok(r) ||
	    form_registration(r, &reg) == -1)
		return;
	if (gate == NULL || *gate == '\0')
		gate = "desk";
	if (strlen(gate) > CONSOLE_MAXGATE || validate_utf8(gate) == -1) {
		http_error(r, 400, "invalid_field", "gate: at most %d bytes.",
		    CONSOLE_MAXGATE);
		return;
	}
	vals[0] = r->params[0];
	vals[1] = json_string_value(json_object_get(r->body, "registration"));
	vals[2] = gate;
	vals[3] = r->auth.jti;
	req_query(r, SQL_CONSOLE_CHECKIN, vals, 4, checkin_done);
}

/* POST /console/events/{id}/checkin/undo {csrf, registration} */
void
console_checkin_undo(struct req *r)
{
	char		 secs[16];
	const char	*vals[4];
	int64_t		 reg;

	if (!web_csrf_ok(r) || !session_origin_ok(r) ||
	    form_registration(r, &reg) == -1)
		return;
	snprintf(secs, sizeof(secs), "%d", CONSOLE_UNDO_SECS);
	vals[0] = r->params[0];
	vals[1] = json_string_value(json_object_get(r->body, "registration"));
	vals[2] = secs;
	vals[3] = r->auth.jti;
	req_query(r, SQL_CONSOLE_UNDO, vals, 4, checkin_done);
}

/* The registrations page, filtered. */
static void
regs_done(struct req *r, struct db_res *res)
{
	static const char *const statuses[] = { "confirmed", "waitlisted",
	    "cancelled", NULL };
	static const char *const dones[] = { "cancelled", "promoted",
	    "walk_in", NULL };
	const char	*st = query_text(r, "status"), *done;
	json_t		*extra = json_object();
	char		 key[64];
	int		 i;

	json_object_set_new(extra, "q", json_string(query_text(r, "q")));
	for (i = 0; statuses[i] != NULL; i++)
		if (strcmp(st, statuses[i]) == 0) {
			snprintf(key, sizeof(key), "status_%s", st);
			json_object_set_new(extra, key, json_true());
		}
	done = query_text(r, "done");
	for (i = 0; dones[i] != NULL; i++)
		if (strcmp(done, dones[i]) == 0) {
			snprintf(key, sizeof(key), "c_done_%s", done);
			json_object_set(extra, "notice", json_object_get(
			    web_catalog(req_lang(r)), key));
		}
	console_render(r, res, "console_regs", "c_regs_title", extra);
}

/* GET /console/events/{id}/registrations?q=&status= */
void
console_registrations(struct req *r)
{
	static const char *const statuses[] = { "confirmed", "waitlisted",
	    "cancelled", NULL };
	const char	*st = query_text(r, "status");
	char		 lim[16];
	const char	*vals[4];
	int		 i;

	for (i = 0; statuses[i] != NULL && strcmp(st, statuses[i]) != 0; i++)
		;
	snprintf(lim, sizeof(lim), "%d", CONSOLE_MAXROWS);
	vals[0] = r->params[0];
	vals[1] = query_text(r, "q");
	vals[2] = statuses[i] != NULL ? st : "";
	vals[3] = lim;
	req_query(r, SQL_CONSOLE_REGS, vals, 4, regs_done);
}

/* A change made: back to the registrations with its notice. */
static void
reg_changed(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res);
	char	 q[64];

	snprintf(q, sizeof(q), "done=%s", json_string_value(json_object_get(o,
	    "result")) != NULL ? json_string_value(json_object_get(o,
	    "result")) : "walk_in");
	json_decref(o);
	back_to(r, "registrations", q);
}

/* Run one change on a registration of the event (cancel, promote). */
static void
reg_change(struct req *r, enum sql_id id)
{
	const char	*vals[3];
	int64_t		 reg;

	if (!web_csrf_ok(r) || !session_origin_ok(r) ||
	    form_registration(r, &reg) == -1)
		return;
	vals[0] = r->params[0];
	vals[1] = json_string_value(json_object_get(r->body, "registration"));
	vals[2] = r->auth.jti;
	req_query(r, id, vals, 3, reg_changed);
}

/* POST /console/events/{id}/registrations/cancel {csrf, registration} */
void
console_reg_cancel(struct req *r)
{
	reg_change(r, SQL_CONSOLE_CANCEL);
}

/* POST /console/events/{id}/registrations/promote {csrf, registration} */
void
console_reg_promote(struct req *r)
{
	reg_change(r, SQL_CONSOLE_PROMOTE);
}

/*
 * POST /console/events/{id}/registrations/resend {csrf, registration}: the
 * ticket and links again, by e-mail, with new secrets (the old links stop
 * working), on the attendee's behalf.
 */
void
console_reg_resend(struct req *r)
{
	struct secrets	 s;
	const char	*vals[6];
	int64_t		 reg;

	if (!web_csrf_ok(r) || !session_origin_ok(r) ||
	    form_registration(r, &reg) == -1)
		return;
	secret_new(&s);
	vals[0] = r->params[0];
	vals[1] = json_string_value(json_object_get(r->body, "registration"));
	vals[2] = s.manage_hash;
	vals[3] = s.join_hash;
	vals[4] = s.sealed[0] != '\0' ? s.sealed : NULL;
	vals[5] = r->auth.jti;
	req_query(r, SQL_CONSOLE_RESEND, vals, 6, reg_changed);
	sodium_memzero(&s, sizeof(s));
}

/* The walk-in is registered: write its audit line, then back. */
static void
walk_in_registered(struct req *r, const char *row)
{
	json_t		*o = json_loads(row, 0, NULL);
	char		 id[24];
	const char	*vals[3];

	sodium_memzero(r->secret, sizeof(r->secret));
	snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(
	    json_object_get(o, "id")));
	json_decref(o);
	vals[0] = r->params[0];
	vals[1] = id;
	vals[2] = r->auth.jti;
	req_query(r, SQL_CONSOLE_WALK_IN, vals, 3, reg_changed);
}

/*
 * POST /console/events/{id}/registrations/walk-in {csrf, name, email,
 * company, job_title, identity}: registered as the form on the event's
 * page would, without consent to sponsors.
 */
void
console_walk_in(struct req *r)
{
	static const char *const text[] = { "name", "email", "company",
	    "job_title", "identity" };
	char		 field[64], msg[256];
	json_t		*body;
	const char	*v;
	size_t		 i;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	body = json_object();
	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if ((v = json_string_value(json_object_get(r->body,
		    text[i]))) != NULL)
			json_object_set_new(body, text[i], json_string(v));
	json_object_set_new(body, "consent", json_pack("{s:b, s:[]}",
	    "sponsors", 0, "fields"));
	if (registration_check(body, field, sizeof(field), msg,
	    sizeof(msg)) == -1) {
		json_decref(body);
		http_error(r, 400, "invalid_field", "%s", msg);
		return;
	}
	registration_submit(r, body, walk_in_registered);
	json_decref(body);
}

/* The sponsors page, with the notice of the last change. */
static void
sponsors_done(struct req *r, struct db_res *res)
{
	const char	*done = query_text(r, "done");
	json_t		*extra = json_object();

	if (strcmp(done, "added") == 0 || strcmp(done, "renamed") == 0) {
		char	 key[64];

		snprintf(key, sizeof(key), "c_sp_done_%s", done);
		json_object_set(extra, "notice", json_object_get(
		    web_catalog(req_lang(r)), key));
	}
	console_render(r, res, "console_sponsors", "c_sponsors_title", extra);
}

/* GET /console/events/{id}/sponsors: each booth and its scan count. */
void
console_sponsors(struct req *r)
{
	const char	*vals[1];

	vals[0] = r->params[0];
	req_query(r, SQL_CONSOLE_SPONSORS, vals, 1, sponsors_done);
}

/* The form's sponsor name (and benefits, when sent), checked as the API
 * checks them; NULL (400). */
static const char *
form_sponsor_name(struct req *r)
{
	const char	*v = json_string_value(json_object_get(r->body,
	    "name"));
	const char	*b = json_string_value(json_object_get(r->body,
	    "benefits"));
	char		 field[64], msg[256];
	json_t		*o = json_pack("{s:s?, s:s?}", "name", v, "benefits",
	    b);

	if (lead_sponsor_check(o, field, sizeof(field), msg, sizeof(msg)) ==
	    -1) {
		json_decref(o);
		http_error(r, 400, "invalid_field", "%s", msg);
		return NULL;
	}
	json_decref(o);
	return v;
}

/* A sponsor added or renamed: back to the sponsors page. */
static void
sponsor_changed(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res);

	if (o == NULL) {
		http_error(r, 404, "not_found", "No such sponsor.");
		return;
	}
	json_decref(o);
	back_to(r, "sponsors", json_object_get(r->body, "sponsor") != NULL ?
	    "done=renamed" : "done=added");
}

/*
 * POST /console/events/{id}/sponsors {csrf, name, benefits?}:
 * rc_sponsor_create, a sponsorship the committee decides on unless the
 * account needs no approval.
 */
void
console_sponsor_add(struct req *r)
{
	const char	*vals[5];

	if (!web_csrf_ok(r) || !session_origin_ok(r) ||
	    (vals[1] = form_sponsor_name(r)) == NULL)
		return;
	vals[0] = r->params[0];
	vals[2] = json_string_value(json_object_get(r->body, "benefits"));
	vals[3] = config_approval_for(&r->auth);
	vals[4] = r->auth.jti;
	req_query(r, SQL_SPONSOR_CREATE, vals, 5, sponsor_changed);
}

/* POST /console/events/{id}/sponsors/rename {csrf, sponsor, name} */
void
console_sponsor_rename(struct req *r)
{
	const char	*sp = json_string_value(json_object_get(r->body,
	    "sponsor"));
	const char	*vals[4];
	int64_t		 id;

	if (!web_csrf_ok(r) || !session_origin_ok(r) ||
	    (vals[2] = form_sponsor_name(r)) == NULL)
		return;
	if (sp == NULL || parse_int64(sp, 1, ID_MAX, &id) == -1) {
		http_error(r, 400, "invalid_field", "sponsor: the id of a "
		    "sponsor.");
		return;
	}
	vals[0] = r->params[0];
	vals[1] = sp;
	vals[3] = r->auth.jti;
	req_query(r, SQL_SPONSOR_RENAME, vals, 4, sponsor_changed);
}

/* The audit page. */
static void
audit_done(struct req *r, struct db_res *res)
{
	const char	*ev = req_query_arg(r, "event");

	console_render(r, res, "console_audit", "c_audit_title",
	    ev != NULL && *ev != '\0' ? json_pack("{s:s}", "filter_event", ev) :
	    NULL);
}

/* GET /console/audit (admin): the newest CONSOLE_MAXROWS entries. */
void
console_audit(struct req *r)
{
	char		 lim[16];
	const char	*vals[3], *ev = req_query_arg(r, "event");
	int64_t		 id;

	/* ?event=ID narrows the log to one event; empty means every one. */
	if (ev != NULL && *ev != '\0' && parse_int64(ev, 1, ID_MAX, &id) == -1) {
		http_error(r, 400, "invalid_field", "event: an event id.");
		return;
	}
	snprintf(lim, sizeof(lim), "%d", CONSOLE_MAXROWS);
	vals[0] = ev != NULL && *ev != '\0' ? ev : NULL;
	vals[1] = lim;
	vals[2] = "0";
	req_query(r, SQL_AUDIT, vals, 3, audit_done);
}

/* GET /console/events/{id}/attendance.csv: the audited export. */
void
console_export(struct req *r)
{
	export_attendance(r);
}

/* GET /console/events/{id}/attendance.xlsx (audited as the API's). */
void
console_export_xlsx(struct req *r)
{
	export_attendance_xlsx(r);
}

/* GET /static/console.js: the console's one script. */
void
console_js(struct req *r)
{
	struct evbuffer	*b = tmpl_render("console.js", NULL);

	if (b == NULL) {
		http_error(r, 404, "not_found", "No such file.");
		return;
	}
	http_reply_bytes(r, 200, "text/javascript; charset=utf-8",
	    evbuffer_pullup(b, -1), evbuffer_get_length(b),
	    "public, max-age=300");
	evbuffer_free(b);
}
