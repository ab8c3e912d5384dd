/*
 * Volunteers (COMMUNITY.md section 6): a person signs up for an event
 * with their skills, from the event's page or the API; the leader (staff
 * in the event's scope) approves or declines, records attendance (a
 * check-in of the volunteer's own registration counts by itself: SQL
 * joins it, nothing is copied) and flags outstanding volunteers after
 * the event, who may then get a certificate (certificate.c).
 *
 * Sign-ups are public input: the same field checks for the form and the
 * API, the registrations' per-address limit (--rate-limit), and the form
 * carries the CSRF token as every attendee form does (web.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "server.h"

static const char *const skills[] = { "design", "operations", "organizing",
    "hosting", NULL };
static const char *const langs[] = { "en", "zh-CN", NULL };

static const struct vfield signup_fields[] = {
	{ "email", V_EMAIL, 1, 0, 0, FIELD_MAXEMAIL, NULL },
	{ "name", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "skills", V_ARRAY_STRING, 1, 0, 1, 4, NULL },
	{ "note", V_STRING, 0, 1, 0, VOLUNTEER_MAXNOTE, NULL },
	{ "lang", V_ENUM, 0, 1, 0, 0, langs },
};

/*
 * Check a sign-up and write its skills as a PostgreSQL array into arr
 * ("{design,hosting}"). 0, or -1 with the field and a sentence.
 */
static int
signup_check(const json_t *b, char *arr, size_t arrsz, char *field,
    size_t fieldsz, char *msg, size_t msgsz)
{
	const char	*name, *s;
	json_t		*v;
	size_t		 i;
	int		 j;

	if (validate_object(b, signup_fields, sizeof(signup_fields) /
	    sizeof(signup_fields[0]), field, fieldsz, msg, msgsz) == -1)
		return -1;
	name = json_string_value(json_object_get(b, "name"));
	if (strchr(name, '\n') != NULL || strchr(name, '\r') != NULL) {
		snprintf(field, fieldsz, "name");
		snprintf(msg, msgsz, "name: one line");
		return -1;
	}
	snprintf(arr, arrsz, "{");
	json_array_foreach(json_object_get(b, "skills"), i, v) {
		s = json_string_value(v);
		for (j = 0; skills[j] != NULL && strcmp(s, skills[j]) != 0; j++)
			;
		if (skills[j] == NULL)
			break;
		snprintf(arr + strlen(arr), arrsz - strlen(arr), "%s%s",
		    i ? "," : "", skills[j]);
	}
	if (i == 0 || i < json_array_size(json_object_get(b, "skills"))) {
		snprintf(field, fieldsz, "skills");
		snprintf(msg, msgsz, "skills: at least one of design, "
		    "operations, organizing, hosting");
		return -1;
	}
	snprintf(arr + strlen(arr), arrsz - strlen(arr), "}");
	return 0;
}

/* Run the sign-up of a checked body. */
static void
signup_query(struct req *r, const json_t *b, const char *arr,
    req_done_fn done)
{
	const char	*vals[6];
	const char	*lang = json_string_value(json_object_get(b, "lang"));

	vals[0] = r->params[0];
	vals[1] = json_string_value(json_object_get(b, "email"));
	vals[2] = json_string_value(json_object_get(b, "name"));
	vals[3] = arr;
	vals[4] = json_string_value(json_object_get(b, "note"));
	vals[5] = lang != NULL ? lang : req_lang(r) ? "zh-CN" : "en";
	req_query(r, SQL_VOLUNTEER_SIGNUP, vals, 6, done);
}

/*
 * POST /api/v1/events/{id}/volunteers {email, name, skills, note?,
 * lang?}: 201 {id, event_id, status: "pending", skills}.
 */
void
volunteer_create(struct req *r)
{
	char	 arr[64], field[64], msg[256];

	if (!registration_rate_ok(r))
		return;
	if (signup_check(r->body, arr, sizeof(arr), field, sizeof(field), msg,
	    sizeof(msg)) == -1) {
		http_error(r, 400, "invalid_field", "%s", msg);
		return;
	}
	signup_query(r, r->body, arr, http_reply_row_created);
}

/* GET /api/v1/events/{id}/volunteers (staff in the event's scope) */
void
volunteer_list(struct req *r)
{
	const char	*vals[1] = { r->params[0] };

	req_query(r, SQL_VOLUNTEER_LIST, vals, 1, http_reply_row);
}

/* One change of volunteer r->id through statement id; the page's event
 * (console) or NULL (API). */
static void
volunteer_change(struct req *r, enum sql_id id, const char *volunteer,
    const char *a, const char *b, const char *event, req_done_fn done)
{
	const char	*vals[6];
	char		*scope = certificate_scope(r);
	int		 n = 0;

	vals[n++] = volunteer;
	vals[n++] = a;
	if (id == SQL_VOLUNTEER_DECIDE)
		vals[n++] = b;
	vals[n++] = event;
	vals[n++] = scope;
	vals[n++] = r->auth.jti;
	req_query(r, id, vals, n, done);
	free(scope);
}

static const char *const decisions[] = { "approve", "decline", NULL };
static const struct vfield decision_fields[] = {
	{ "decision", V_ENUM, 1, 0, 0, 0, decisions },
	{ "comment", V_STRING, 0, 1, 0, VOLUNTEER_MAXNOTE, NULL },
};

/* POST /api/v1/volunteers/{id}/decision {decision, comment?} */
void
volunteer_decision(struct req *r)
{
	if (req_validate(r, decision_fields, 2) == -1)
		return;
	volunteer_change(r, SQL_VOLUNTEER_DECIDE, r->params[0],
	    json_string_value(json_object_get(r->body, "decision")),
	    json_string_value(json_object_get(r->body, "comment")), NULL,
	    http_reply_row);
}

static const struct vfield attended_fields[] = {
	{ "attended", V_BOOL, 0, 0, 0, 0, NULL },
};
static const struct vfield outstanding_fields[] = {
	{ "outstanding", V_BOOL, 0, 0, 0, 0, NULL },
};

/* A flag of the body, true when left out. */
static const char *
flag(struct req *r, const char *key)
{
	json_t	*v = json_object_get(r->body, key);

	return v == NULL || json_is_true(v) ? "true" : "false";
}

/* POST /api/v1/volunteers/{id}/attended {attended?: true} */
void
volunteer_attended(struct req *r)
{
	if (req_validate(r, attended_fields, 1) == -1)
		return;
	volunteer_change(r, SQL_VOLUNTEER_ATTENDED, r->params[0],
	    flag(r, "attended"), NULL, NULL, http_reply_row);
}

/* POST /api/v1/volunteers/{id}/outstanding {outstanding?: true} */
void
volunteer_outstanding(struct req *r)
{
	if (req_validate(r, outstanding_fields, 1) == -1)
		return;
	volunteer_change(r, SQL_VOLUNTEER_OUTSTANDING, r->params[0],
	    flag(r, "outstanding"), NULL, NULL, http_reply_row);
}

/* ------------------------------------------------------------------ */
/* The public sign-up form, from the event's page. */

/* The form page for the event in res, with what was typed and the error
 * kept in r (errfield, errmsg) when it comes back refused. */
static void
form_page(struct req *r, struct db_res *res)
{
	json_t		*ctx, *e, *form, *errs, *text;
	const char	*st;
	char		 key[160];
	size_t		 i;
	int		 status = 200;

	if ((e = db_json(res)) == NULL) {
		http_error(r, 404, "not_found", "No such event.");
		return;
	}
	if ((ctx = web_ctx(r, "ce_vol_title")) == NULL) {
		json_decref(e);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	util_local_time(e, "starts_at_local", "starts_display");
	st = json_string_value(json_object_get(e, "status"));
	json_object_set_new(ctx, "open", json_boolean(st != NULL &&
	    strcmp(st, "published") == 0));
	json_object_set_new(ctx, "event", e);
	form = json_object();
	if (r->errmsg[0] != '\0' && r->body != NULL) {
		json_object_update(form, r->body);
		errs = json_object();
		if (r->errfield[0] != '\0') {
			/* The catalog's sentence for the field, else ours. */
			snprintf(key, sizeof(key), "ce_err_field_%s",
			    r->errfield);
			text = json_object_get(web_catalog(req_lang(r)), key);
			json_object_set_new(errs, r->errfield, json_is_string(
			    text) ? json_incref(text) : json_string(
			    r->errmsg));
			json_object_set_new(errs, "fields", json_true());
		} else
			json_object_set_new(errs, "general",
			    json_string(r->errmsg));
		json_object_set_new(errs, "any", json_true());
		json_object_set_new(ctx, "errors", errs);
		status = json_integer_value(json_object_get(r->body,
		    "_status")) >= 400 ? (int)json_integer_value(
		    json_object_get(r->body, "_status")) : 400;
	}
	for (i = 0; skills[i] != NULL; i++) {
		snprintf(key, sizeof(key), "skill_%s", skills[i]);
		if (json_object_get(form, key) != NULL)
			json_object_set_new(form, key, json_true());
	}
	json_object_set_new(ctx, "form", form);
	json_object_set_new(ctx, "done", json_boolean(r->errmsg[0] == '\0' &&
	    req_query_arg(r, "done") != NULL));
	web_page(r, status, "volunteer", ctx);
}

/* Ask for the event (public fields only), then draw the form. */
static void
form_query(struct req *r)
{
	const char	*vals[2];

	r->failed = NULL;
	vals[0] = r->params[0];
	vals[1] = "false";
	req_query(r, SQL_EVENT_GET, vals, 2, form_page);
}

/* GET /events/{id}/volunteer */
void
volunteer_page(struct req *r)
{
	form_query(r);
}

/* Signed up from the form: the page again, thanking them. */
static void
form_done(struct req *r, struct db_res *res)
{
	char	 path[128];

	(void)res;
	snprintf(path, sizeof(path), "/events/%lld/volunteer?done=1",
	    (long long)r->id);
	web_redirect(r, path);
}

/* The database refused (closed, already signed up): the form again. */
static void
form_refused(struct req *r, struct db_res *res)
{
	const char	*d = db_detail(res), *code = db_message(res);
	const char	*st = db_sqlstate(res);
	const json_t	*text;
	char		 key[96];

	snprintf(key, sizeof(key), "err_%s", code != NULL ? code : "");
	text = json_object_get(web_catalog(req_lang(r)), key);
	if (!json_is_string(text)) {
		snprintf(key, sizeof(key), "ce_err_%s", code != NULL ? code :
		    "");
		text = json_object_get(web_catalog(req_lang(r)), key);
	}
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", json_is_string(text) ?
	    json_string_value(text) : d != NULL ? d : "Refused.");
	r->errfield[0] = '\0';
	json_object_set_new(r->body, "_status", json_integer(st != NULL ?
	    atoi(st + 2) : 400));
	form_query(r);
}

/* POST /events/{id}/volunteer {csrf, name, email, skill_*, note} */
void
volunteer_post(struct req *r)
{
	static const char *const text[] = { "name", "email", "note" };
	char		 arr[64], field[64], msg[256], key[32];
	const char	*v;
	json_t		*b, *sk;
	size_t		 i;

	if (!web_csrf_ok(r) || !registration_rate_ok(r))
		return;
	b = json_object();
	sk = json_array();
	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if ((v = json_string_value(json_object_get(r->body,
		    text[i]))) != NULL && (*v != '\0' ||
		    strcmp(text[i], "note") != 0))
			json_object_set_new(b, text[i], json_string(v));
	for (i = 0; skills[i] != NULL; i++) {
		snprintf(key, sizeof(key), "skill_%s", skills[i]);
		if (json_object_get(r->body, key) != NULL)
			json_array_append_new(sk, json_string(skills[i]));
	}
	json_object_set_new(b, "skills", sk);
	json_object_set_new(b, "lang", json_string(req_lang(r) ? "zh-CN" :
	    "en"));
	if (signup_check(b, arr, sizeof(arr), field, sizeof(field), msg,
	    sizeof(msg)) == -1) {
		json_decref(b);
		snprintf(r->errfield, sizeof(r->errfield), "%s", field);
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg);
		form_query(r);
		return;
	}
	r->failed = form_refused;
	signup_query(r, b, arr, form_done);
	json_decref(b);
}

/* ------------------------------------------------------------------ */
/* The console's volunteers page. */

/*
 * What the page may offer for volunteer v: recorded (attendance by
 * hand), checked_in, can_flag (after the event), can_issue_volunteer,
 * can_issue_outstanding (when no such certificate is in force).
 */
static void
vol_flags(json_t *v, int over)
{
	const char	*src = json_string_value(json_object_get(v,
	    "attended_source"));
	const char	*k;
	json_t		*c;
	size_t		 i;
	int		 approved, attended, outstanding;
	int		 has_v = 0, has_o = 0;

	approved = json_object_get(v, "status_approved") != NULL;
	attended = json_is_true(json_object_get(v, "attended"));
	outstanding = json_is_true(json_object_get(v, "outstanding"));
	json_array_foreach(json_object_get(v, "certificates"), i, c) {
		k = json_string_value(json_object_get(c, "kind"));
		has_v |= k != NULL && strcmp(k, "volunteer") == 0;
		has_o |= k != NULL && strcmp(k, "outstanding_volunteer") == 0;
	}
	json_object_set_new(v, "recorded", json_boolean(src != NULL &&
	    strcmp(src, "recorded") == 0));
	json_object_set_new(v, "checked_in", json_boolean(src != NULL &&
	    strcmp(src, "check_in") == 0));
	json_object_set_new(v, "can_flag", json_boolean(approved && attended &&
	    over && !outstanding));
	json_object_set_new(v, "can_issue_volunteer", json_boolean(approved &&
	    attended && !has_v));
	json_object_set_new(v, "can_issue_outstanding", json_boolean(
	    approved && outstanding && !has_o));
}

/* The page, with a notice after a change. */
static void
console_page_done(struct req *r, struct db_res *res)
{
	static const char *const dones[] = { "approve", "decline", "attended",
	    "absent", "outstanding", "not_outstanding", "issued", NULL };
	json_t		*ctx, *data, *v, *sk, *e;
	const char	*done = req_query_arg(r, "done"), *s;
	char		 key[64];
	size_t		 i, j;
	int		 k;

	if ((data = db_json(res)) == NULL) {
		http_error(r, 404, "not_found", "No such event.");
		return;
	}
	if ((ctx = console_ctx(r, "ce_vols_title")) == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	/* Flags the template tests: status_approved, skill labels. */
	json_array_foreach(json_object_get(data, "volunteers"), i, v) {
		s = json_string_value(json_object_get(v, "status"));
		snprintf(key, sizeof(key), "status_%s", s != NULL ? s : "");
		json_object_set_new(v, key, json_true());
		snprintf(key, sizeof(key), "ce_status_%s", s != NULL ? s : "");
		json_object_set(v, "status_label", json_object_get(
		    web_catalog(req_lang(r)), key));
		sk = json_array();
		json_array_foreach(json_object_get(v, "skills"), j, e) {
			snprintf(key, sizeof(key), "ce_skill_%s",
			    json_string_value(e) != NULL ?
			    json_string_value(e) : "");
			json_array_append(sk, json_object_get(web_catalog(
			    req_lang(r)), key));
		}
		json_object_set_new(v, "skill_labels", sk);
		vol_flags(v, json_is_true(json_object_get(json_object_get(
		    data, "event"), "over")));
	}
	json_object_set_new(ctx, "data", data);
	for (k = 0; done != NULL && dones[k] != NULL; k++)
		if (strcmp(done, dones[k]) == 0) {
			snprintf(key, sizeof(key), "ce_vols_done_%s", done);
			json_object_set(ctx, "notice", json_object_get(
			    web_catalog(req_lang(r)), key));
		}
	web_page_csp(r, 200, "console_volunteers", ctx, WEB_CSP_SCRIPT);
}

/* GET /console/events/{id}/volunteers */
void
console_volunteers(struct req *r)
{
	const char	*vals[1] = { r->params[0] };

	req_query(r, SQL_VOLUNTEER_LIST, vals, 1, console_page_done);
}

/* A change made: back to the page with its notice. */
static void
console_changed(struct req *r, struct db_res *res)
{
	char	 path[128];

	(void)res;
	snprintf(path, sizeof(path), "/console/events/%lld/volunteers?done=%s",
	    (long long)r->id, json_string_value(json_object_get(r->body,
	    "action")));
	web_redirect(r, path);
}

/*
 * POST /console/events/{id}/volunteers {csrf, volunteer, action: approve
 * | decline | attended | absent | outstanding | not_outstanding}: the
 * API's statements for a volunteer of this event.
 */
void
console_volunteer_act(struct req *r)
{
	const char	*act = json_string_value(json_object_get(r->body,
	    "action"));
	const char	*vol = json_string_value(json_object_get(r->body,
	    "volunteer"));
	int64_t		 id;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (vol == NULL || parse_int64(vol, 1, ID_MAX, &id) == -1) {
		http_error(r, 400, "invalid_field", "volunteer: a volunteer's "
		    "id.");
		return;
	}
	if (act == NULL) {
		http_error(r, 400, "invalid_field", "action: approve, decline, "
		    "attended, absent, outstanding or not_outstanding.");
	} else if (strcmp(act, "approve") == 0 || strcmp(act, "decline") == 0)
		volunteer_change(r, SQL_VOLUNTEER_DECIDE, vol, act, NULL,
		    r->params[0], console_changed);
	else if (strcmp(act, "attended") == 0 || strcmp(act, "absent") == 0)
		volunteer_change(r, SQL_VOLUNTEER_ATTENDED, vol,
		    strcmp(act, "attended") == 0 ? "true" : "false", NULL,
		    r->params[0], console_changed);
	else if (strcmp(act, "outstanding") == 0 ||
	    strcmp(act, "not_outstanding") == 0)
		volunteer_change(r, SQL_VOLUNTEER_OUTSTANDING, vol,
		    strcmp(act, "outstanding") == 0 ? "true" : "false", NULL,
		    r->params[0], console_changed);
	else
		http_error(r, 400, "invalid_field", "action: approve, decline, "
		    "attended, absent, outstanding or not_outstanding.");
}
