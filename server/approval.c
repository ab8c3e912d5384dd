/*
 * The committee decides (COMMUNITY.md section 3, docs/approval.md):
 * event proposals and their decisions, sponsorships, and leader
 * applications (UGL申请) from the public form at /apply to the chapter
 * role they grant, with the committee's console pages for all of it.
 *
 * The rules live in sql/functions/approval.sql, one statement a request;
 * this file checks the input, says how approval applies to the caller
 * (config_approval_for: admin and committee need nobody's, everyone
 * else is under the deployment's switch) and renders the pages. Who may
 * call what is the route table's: submitting is staff in scope, deciding
 * and reading applications is the committee and admin.
 *
 * Applications are personal data sent by anyone: the form is CSRF-checked,
 * both the form and the API are limited per client address
 * (APPLY_PER_ADDR a minute), every field is bounded, and only the
 * committee's routes read them back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <sodium.h>

#include "server.h"

#define NFIELDS(a)	((int)(sizeof(a) / sizeof((a)[0])))

static const char *const decisions[] = { "approve", "reject", NULL };
static const char *const leader_roles[] = { "lead", "co_lead", NULL };
static const char *const new_kinds[] = { "city", "topic", NULL };
static const char *const langs[] = { "en", "zh-CN", NULL };
static const char *const app_statuses[] = { "submitted", "approved",
    "rejected", NULL };

static const struct vfield decide_fields[] = {
	{ "decision", V_ENUM, 1, 0, 0, 0, decisions },
	{ "comment", V_STRING, 0, 1, 0, APPROVAL_MAXCOMMENT, NULL },
};
static const struct vfield sponsorship_fields[] = {
	{ "name", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "benefits", V_STRING, 0, 1, 0, APPROVAL_MAXBENEFITS, NULL },
	{ "events", V_ARRAY_INT, 1, 0, 1, APPROVAL_MAXEVENTS, NULL },
};
static const struct vfield apply_fields[] = {
	{ "name", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "email", V_EMAIL, 1, 0, 0, FIELD_MAXEMAIL, NULL },
	{ "phone", V_PHONE, 0, 1, 0, FIELD_MAXPHONE, NULL },
	{ "wechat", V_STRING, 0, 1, 0, APPLY_MAXHANDLE, NULL },
	{ "occupation", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },
	{ "company", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },
	{ "job_title", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },
	{ "background", V_STRING, 1, 0, 1, APPLY_MAXESSAY, NULL },
	{ "experience", V_STRING, 1, 0, 1, APPLY_MAXESSAY, NULL },
	{ "motivation", V_STRING, 1, 0, 1, APPLY_MAXESSAY, NULL },
	{ "chapter", V_STRING, 0, 0, 1, APPLY_MAXSLUG, NULL },
	{ "new_chapter", V_OBJECT, 0, 0, 0, 0, NULL },
	{ "lang", V_ENUM, 0, 0, 0, 0, langs },
};
static const struct vfield new_chapter_fields[] = {
	{ "kind", V_ENUM, 1, 0, 0, 0, new_kinds },
	{ "name", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
};
static const struct vfield note_fields[] = {
	{ "body", V_STRING, 1, 0, 1, APPROVAL_MAXNOTE, NULL },
};
static const struct vfield app_decide_fields[] = {
	{ "decision", V_ENUM, 1, 0, 0, 0, decisions },
	{ "comment", V_STRING, 0, 1, 0, APPROVAL_MAXCOMMENT, NULL },
	{ "role", V_ENUM, 0, 1, 0, 0, leader_roles },
	{ "slug", V_STRING, 0, 1, 0, APPLY_MAXSLUG, NULL },
};

/* Whether s is one line of text (names, slugs). */
static int
one_line(const char *s)
{
	return s == NULL || strchr(s, '\n') == NULL;
}

/* A request's JSON body as text for a statement; replies 503 on failure. */
static char *
body_text(struct req *r, const json_t *o)
{
	char	*s = json_dumps(o, JSON_COMPACT);

	if (s == NULL)
		http_error(r, 503, "out_of_memory", "Try again.");
	return s;
}

/* POST /api/v1/events/{id}/proposal {}: submit a draft to the committee. */
void
approval_propose(struct req *r)
{
	const char	*vals[2];

	if (req_validate(r, NULL, 0) == -1)
		return;
	vals[0] = r->params[0];
	vals[1] = r->auth.jti;
	req_query(r, SQL_AP_PROPOSE, vals, 2, http_reply_row);
}

/* POST /api/v1/events/{id}/decision {decision, comment?} (committee). */
void
approval_decide(struct req *r)
{
	const char	*vals[4];

	if (req_validate(r, decide_fields, NFIELDS(decide_fields)) == -1)
		return;
	vals[0] = r->params[0];
	vals[1] = json_string_value(json_object_get(r->body, "decision"));
	vals[2] = json_string_value(json_object_get(r->body, "comment"));
	vals[3] = r->auth.jti;
	req_query(r, SQL_AP_EVENT_DECIDE, vals, 4, http_reply_row);
}

/* GET /api/v1/proposals: what waits for the committee. */
void
approval_queue(struct req *r)
{
	char		 lim[16];
	const char	*vals[1];

	snprintf(lim, sizeof(lim), "%d", APPROVAL_MAXQUEUE);
	vals[0] = lim;
	req_query(r, SQL_AP_PROPOSALS, vals, 1, http_reply_row);
}

/* A new sponsorship is back: 201 (no {id}: the reply forgets this
 * server's cached pages). */
static void
sponsorship_created(struct req *r, struct db_res *res)
{
	http_reply_row_created(r, res);
}

/*
 * A sponsorship's decision is back. Its sponsors show on their events'
 * pages now (or never will): forget every cached page of this server at
 * once, since r->id is the sponsorship, not an event; the other servers
 * hear the statement's notifications.
 */
static void
sponsorship_decided(struct req *r, struct db_res *res)
{
	r->id = 0;
	http_reply_row(r, res);
}

/*
 * POST /api/v1/sponsorships {name, benefits?, events: [id...]}: a sponsor
 * supporting one event or several, proposed by staff whose scope covers
 * every one of them.
 */
void
sponsorship_create(struct req *r)
{
	const char	*vals[3];
	json_t		*ev;
	json_int_t	 id;
	size_t		 i;
	char		*text;

	if (req_validate(r, sponsorship_fields,
	    NFIELDS(sponsorship_fields)) == -1)
		return;
	if (!one_line(json_string_value(json_object_get(r->body, "name")))) {
		http_error(r, 400, "invalid_field", "name: one line.");
		return;
	}
	json_array_foreach(json_object_get(r->body, "events"), i, ev) {
		id = json_integer_value(ev);
		if (!auth_in_scope(&r->auth, id)) {
			http_error(r, 403, "out_of_scope", "Event %lld is not "
			    "in your scope.", (long long)id);
			return;
		}
	}
	if ((text = body_text(r, r->body)) == NULL)
		return;
	vals[0] = text;
	vals[1] = config_approval_for(&r->auth);
	vals[2] = r->auth.jti;
	req_query(r, SQL_AP_SPONSORSHIP_NEW, vals, 3, sponsorship_created);
	free(text);
}

/* POST /api/v1/sponsorships/{id}/decision {decision, comment?}. */
void
sponsorship_decide(struct req *r)
{
	const char	*vals[4];

	if (req_validate(r, decide_fields, NFIELDS(decide_fields)) == -1)
		return;
	vals[0] = r->params[0];
	vals[1] = json_string_value(json_object_get(r->body, "decision"));
	vals[2] = json_string_value(json_object_get(r->body, "comment"));
	vals[3] = r->auth.jti;
	req_query(r, SQL_AP_SPONSORSHIP_DECIDE, vals, 4, sponsorship_decided);
}

/* Whether this client may send another application now; else 429 with
 * code (the page's own, for its sentence). */
static int
apply_rate_ok(struct req *r, const char *code)
{
	char	 key[RATE_MAXKEY], ra[16];
	int	 retry;

	snprintf(key, sizeof(key), "apply:%s", r->addr);
	if (rate_allow(key, time(NULL), APPLY_PER_ADDR, &retry))
		return 1;
	snprintf(ra, sizeof(ra), "%d", retry > 0 ? retry : 1);
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Retry-After", ra);
	http_error(r, 429, code, "Too many applications from your address; "
	    "try again in %s seconds.", ra);
	return 0;
}

/*
 * Check an application body: the field table, one-line names, and a
 * proposed new chapter's own fields. 0, or -1 with field and sentence.
 */
static int
apply_check(const json_t *b, char *field, size_t fieldsz, char *msg,
    size_t msgsz)
{
	static const char *const lines[] = { "name", "wechat", "occupation",
	    "company", "job_title", "chapter" };
	const json_t	*nc;
	char		 f[64], m[256];
	size_t		 i;

	if (validate_object(b, apply_fields, NFIELDS(apply_fields), field,
	    fieldsz, msg, msgsz) == -1)
		return -1;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (!one_line(json_string_value(json_object_get(b,
		    lines[i])))) {
			snprintf(field, fieldsz, "%s", lines[i]);
			snprintf(msg, msgsz, "%s: one line.", lines[i]);
			return -1;
		}
	if ((nc = json_object_get(b, "new_chapter")) != NULL) {
		m[0] = '\0';
		if (validate_object(nc, new_chapter_fields,
		    NFIELDS(new_chapter_fields), f, sizeof(f), m,
		    sizeof(m)) == -1 || !one_line(json_string_value(
		    json_object_get(nc, "name")))) {
			snprintf(field, fieldsz, "new_chapter");
			snprintf(msg, msgsz, "new_chapter.%s", m[0] != '\0' &&
			    strchr(m, ':') != NULL ? m : "name: one line.");
			return -1;
		}
	}
	if ((json_object_get(b, "chapter") != NULL) ==
	    (nc != NULL)) {
		snprintf(field, fieldsz, "chapter");
		snprintf(msg, msgsz, "chapter: name the chapter you apply for "
		    "(its slug), or propose a new_chapter {kind, name}, not "
		    "both.");
		return -1;
	}
	return 0;
}

/* POST /api/v1/applications: a leader application (anyone). */
void
application_create(struct req *r)
{
	char		 field[64], msg[256];
	const char	*vals[1];
	char		*text;

	if (!apply_rate_ok(r, "rate_limited"))
		return;
	if (apply_check(r->body, field, sizeof(field), msg,
	    sizeof(msg)) == -1) {
		http_error(r, 400, "invalid_field", "%s", msg);
		return;
	}
	if ((text = body_text(r, r->body)) == NULL)
		return;
	vals[0] = text;
	req_query(r, SQL_AP_APPLY, vals, 1, http_reply_row_created);
	sodium_memzero(text, strlen(text));
	free(text);
}

/* The ?status= of a list of applications: "" for every one, or -1. */
static int
status_arg(struct req *r, const char **out)
{
	const char	*s = req_query_arg(r, "status");
	int		 i;

	*out = "";
	if (s == NULL || *s == '\0')
		return 0;
	for (i = 0; app_statuses[i] != NULL; i++)
		if (strcmp(s, app_statuses[i]) == 0) {
			*out = app_statuses[i];
			return 0;
		}
	http_error(r, 400, "invalid_field", "status: submitted, approved or "
	    "rejected.");
	return -1;
}

/* GET /api/v1/applications?status= (committee). */
void
application_list(struct req *r)
{
	char		 lim[16];
	const char	*vals[2];

	if (status_arg(r, &vals[0]) == -1)
		return;
	snprintf(lim, sizeof(lim), "%d", APPROVAL_MAXQUEUE);
	vals[1] = lim;
	req_query(r, SQL_AP_APPLICATIONS, vals, 2, http_reply_row);
}

/* GET /api/v1/applications/{id} (committee): with its notes. */
void
application_get(struct req *r)
{
	const char	*vals[1];

	vals[0] = r->params[0];
	req_query(r, SQL_AP_APPLICATION, vals, 1, http_reply_row);
}

/* POST /api/v1/applications/{id}/notes {body} (committee). */
void
application_note(struct req *r)
{
	const char	*vals[3];

	if (req_validate(r, note_fields, NFIELDS(note_fields)) == -1)
		return;
	vals[0] = r->params[0];
	vals[1] = json_string_value(json_object_get(r->body, "body"));
	vals[2] = r->auth.jti;
	req_query(r, SQL_AP_NOTE, vals, 3, http_reply_row_created);
}

/*
 * Decide an application: the statement with a fresh invitation link in
 * case the approval makes the applicant an account (its secret is only
 * ever sealed into the outbox's invitation mail, as account.c's invite).
 */
static void
application_decide_run(struct req *r, const json_t *body, req_done_fn done)
{
	char		 secret[48], hash[SECRET_HEX];
	char		 sealed[SECRET_SEALED_HEX], secs[16], *text;
	const char	*vals[6];

	if ((text = body_text(r, body)) == NULL)
		return;
	secret_random_id(secret, sizeof(secret), SECRET_BYTES);
	secret_hash_hex(secret, hash, sizeof(hash));
	if (secret_seal(secret, sealed, sizeof(sealed)) == -1)
		sealed[0] = '\0';
	sodium_memzero(secret, sizeof(secret));
	snprintf(secs, sizeof(secs), "%d", ACCOUNT_LINK_SECS);
	vals[0] = r->params[0];
	vals[1] = text;
	vals[2] = hash;
	vals[3] = secs;
	vals[4] = sealed;
	vals[5] = r->auth.jti;
	req_query(r, SQL_AP_APPLICATION_DECIDE, vals, 6, done);
	free(text);
}

/* POST /api/v1/applications/{id}/decision {decision, comment?, role?,
 * slug?} (committee). */
void
application_decide(struct req *r)
{
	if (req_validate(r, app_decide_fields,
	    NFIELDS(app_decide_fields)) == -1)
		return;
	application_decide_run(r, r->body, http_reply_row);
}

/* Pages ------------------------------------------------------------- */

/*
 * A page of ours: its context and data; after a refusal (r->errmsg) the
 * sentence by its field, under the refusal's status (page_status).
 */
static void
page_render(struct req *r, const char *tmpl, const char *title,
    json_t *data, int console)
{
	json_t	*ctx = console ? console_ctx(r, title) : web_ctx(r, title);
	json_t	*st = json_object_get(r->body, "_status");
	int	 status = 200;

	if (r->errmsg[0] != '\0')
		status = json_is_integer(st) ? (int)json_integer_value(st) :
		    400;

	if (ctx == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	if (data != NULL)
		json_object_set_new(ctx, "data", data);
	if (r->errmsg[0] != '\0') {
		json_object_set_new(ctx, "error", json_string(r->errmsg));
		json_object_set_new(ctx, "errors", json_pack("{s:b, s:s}",
		    "any", 1, r->errfield[0] ? r->errfield : "form",
		    r->errmsg));
	}
	web_page_csp(r, status, tmpl, ctx, WEB_CSP_SCRIPT);
}

/* Remember a refusal's status for the page drawn again (r->body is ours). */
static void
page_status(struct req *r, int status)
{
	if (r->body != NULL)
		json_object_set_new(r->body, "_status", json_integer(status));
}

/* An application's state in the page's language, as status_label. */
static void
status_label(struct req *r, json_t *app)
{
	char	 key[64];

	snprintf(key, sizeof(key), "ap_st_%s", json_string_value(
	    json_object_get(app, "status")) ? json_string_value(
	    json_object_get(app, "status")) : "");
	json_object_set(app, "status_label", json_object_get(web_catalog(
	    req_lang(r)), key));
}

/* A notice from ?done=, when it is one of the page's. */
static void
page_notice(struct req *r, json_t *data, const char *const *dones)
{
	const char	*done = req_query_arg(r, "done");
	char		 key[64];

	for (; done != NULL && *dones != NULL; dones++)
		if (strcmp(done, *dones) == 0) {
			snprintf(key, sizeof(key), "ap_done_%s", done);
			json_object_set(data, "notice", json_object_get(
			    web_catalog(req_lang(r)), key));
			return;
		}
}

/* Record a form's error from a refusal: the field, the sentence and
 * the status (SQLSTATE RCnnn). */
static void
refusal(struct req *r, struct db_res *res)
{
	const char	*d = db_detail(res) != NULL ? db_detail(res) :
	    db_message(res);
	const char	*state = db_sqlstate(res);
	size_t		 n;

	page_status(r, state != NULL && strlen(state) == 5 ?
	    atoi(state + 2) : 400);
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", d ? d : "refused");
	n = strcspn(r->errmsg, ":");
	snprintf(r->errfield, sizeof(r->errfield), "%.*s",
	    r->errmsg[n] == ':' && n < sizeof(r->errfield) ? (int)n : 0,
	    r->errmsg);
}

/* The form's values as the application's body: blanks left out, the
 * chapter chosen or the new one proposed. */
static json_t *
form_to_application(const json_t *f)
{
	static const char *const text[] = { "name", "email", "phone",
	    "wechat", "occupation", "company", "job_title", "background",
	    "experience", "motivation", "lang" };
	json_t		*b = json_object();
	const char	*v, *ch, *nn;
	size_t		 i;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		v = json_string_value(json_object_get(f, text[i]));
		if (v != NULL && *v != '\0')
			json_object_set_new(b, text[i], json_string(v));
	}
	ch = json_string_value(json_object_get(f, "chapter"));
	nn = json_string_value(json_object_get(f, "new_name"));
	if (ch != NULL && *ch != '\0' && strcmp(ch, "new") != 0)
		json_object_set_new(b, "chapter", json_string(ch));
	else if (nn != NULL && *nn != '\0') {
		v = json_string_value(json_object_get(f, "new_kind"));
		json_object_set_new(b, "new_chapter", json_pack("{s:s, s:s}",
		    "kind", v != NULL ? v : "", "name", nn));
	}
	return b;
}

/* The open chapters are back: the form (again, as typed, on an error). */
static void
apply_page_done(struct req *r, struct db_res *res)
{
	json_t		*data = db_json(res), *f;
	const char	*sel;
	char		 key[96];
	size_t		 i;
	json_t		*c;

	if (data == NULL)
		data = json_pack("{s:[]}", "chapters");
	f = r->errmsg[0] != '\0' && r->body != NULL ?
	    json_deep_copy(r->body) : json_object();
	json_object_del(f, "csrf");
	json_object_del(f, "_status");
	sel = json_string_value(json_object_get(f, "chapter"));
	json_array_foreach(json_object_get(data, "chapters"), i, c)
		if (sel != NULL && strcmp(sel, json_string_value(
		    json_object_get(c, "slug")) ? json_string_value(
		    json_object_get(c, "slug")) : "") == 0)
			json_object_set_new(c, "selected", json_true());
	snprintf(key, sizeof(key), "kind_%s", json_string_value(
	    json_object_get(f, "new_kind")) ? json_string_value(
	    json_object_get(f, "new_kind")) : "city");
	json_object_set_new(f, key, json_true());
	if (sel != NULL && strcmp(sel, "new") == 0)
		json_object_set_new(f, "chapter_new", json_true());
	json_object_set_new(data, "form", f);
	if (r->errmsg[0] == '\0')
		page_notice(r, data, (const char *const[]){ "sent", NULL });
	page_render(r, "apply", "ap_apply_title", data, 0);
}

/* GET /apply: the leader application form. */
void
apply_page(struct req *r)
{
	r->failed = NULL;
	req_query(r, SQL_AP_APPLY_CHAPTERS, NULL, 0, apply_page_done);
}

/* Sent from the form: to the page with its thanks. */
static void
apply_sent(struct req *r, struct db_res *res)
{
	(void)res;
	web_redirect(r, "/apply?done=sent");
}

/* The database refused the form: the form again with the sentence. */
static void
apply_refused(struct req *r, struct db_res *res)
{
	refusal(r, res);
	apply_page(r);
}

/* POST /apply (the form): CSRF, the limit, the API's checks. */
void
apply_post(struct req *r)
{
	char		 field[64], msg[256];
	const char	*vals[1];
	json_t		*b;
	char		*text;

	if (!web_csrf_ok(r) || !apply_rate_ok(r, "too_many_applications"))
		return;
	b = form_to_application(r->body);
	if (apply_check(b, field, sizeof(field), msg, sizeof(msg)) == -1) {
		json_decref(b);
		snprintf(r->errfield, sizeof(r->errfield), "%s",
		    strcmp(field, "new_chapter") == 0 ? "new_name" : field);
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg);
		apply_page(r);
		return;
	}
	text = body_text(r, b);
	json_decref(b);
	if (text == NULL)
		return;
	r->failed = apply_refused;
	vals[0] = text;
	req_query(r, SQL_AP_APPLY, vals, 1, apply_sent);
	sodium_memzero(text, strlen(text));
	free(text);
}

/* The queue is back: the committee's proposals page. */
static void
proposals_page_done(struct req *r, struct db_res *res)
{
	json_t	*data = db_json(res);

	if (data == NULL) {
		http_error(r, 404, "not_found", "No such page.");
		return;
	}
	if (r->errmsg[0] == '\0')
		page_notice(r, data, (const char *const[]){ "approved",
		    "rejected", NULL });
	page_render(r, "console_proposals", "ap_proposals_title", data, 1);
}

/* GET /console/proposals: events and sponsorships awaiting a decision. */
void
console_proposals(struct req *r)
{
	char		 lim[16];
	const char	*vals[1];

	snprintf(lim, sizeof(lim), "%d", APPROVAL_MAXQUEUE);
	vals[0] = lim;
	r->failed = NULL;
	req_query(r, SQL_AP_PROPOSALS, vals, 1, proposals_page_done);
}

/* A decision from the queue is made: back to it with the notice. */
static void
queue_decided(struct req *r, struct db_res *res)
{
	const char	*d = json_string_value(json_object_get(r->body,
	    "decision"));

	(void)res;
	r->id = 0;
	web_redirect(r, strcmp(d, "approve") == 0 ?
	    "/console/proposals?done=approved" :
	    "/console/proposals?done=rejected");
}

/* The decision was refused (decided meanwhile, no comment): the queue
 * again with the sentence. */
static void
queue_refused(struct req *r, struct db_res *res)
{
	refusal(r, res);
	console_proposals(r);
}

/* A decision form's {decision, comment} checked; NULL (replied 400). */
static json_t *
form_decision(struct req *r)
{
	const char	*d = json_string_value(json_object_get(r->body,
	    "decision"));
	const char	*c = json_string_value(json_object_get(r->body,
	    "comment"));
	char		 field[64], msg[256];
	json_t		*o = json_pack("{s:s?, s:s?}", "decision", d, "comment",
	    c != NULL && *c != '\0' ? c : NULL);

	if (o == NULL || validate_object(o, decide_fields,
	    NFIELDS(decide_fields), field, sizeof(field), msg,
	    sizeof(msg)) == -1) {
		json_decref(o);
		http_error(r, 400, "invalid_field", "%s", o == NULL ?
		    "decision: approve or reject." : msg);
		return NULL;
	}
	return o;
}

/* POST /console/proposals/{events|sponsorships}/{id} {csrf, decision,
 * comment}. */
static void
queue_decide(struct req *r, enum sql_id stmt)
{
	const char	*vals[4];
	json_t		*o;

	if (!web_csrf_ok(r) || !session_origin_ok(r) ||
	    (o = form_decision(r)) == NULL)
		return;
	vals[0] = r->params[0];
	vals[1] = json_string_value(json_object_get(o, "decision"));
	vals[2] = json_string_value(json_object_get(o, "comment"));
	vals[3] = r->auth.jti;
	r->failed = queue_refused;
	req_query(r, stmt, vals, 4, queue_decided);
	json_decref(o);
}

/* POST /console/proposals/events/{id} */
void
console_proposal_event(struct req *r)
{
	queue_decide(r, SQL_AP_EVENT_DECIDE);
}

/* POST /console/proposals/sponsorships/{id} */
void
console_proposal_sponsorship(struct req *r)
{
	queue_decide(r, SQL_AP_SPONSORSHIP_DECIDE);
}

/* The list is back: the applications page. */
static void
applications_page_done(struct req *r, struct db_res *res)
{
	json_t		*data = db_json(res), *app;
	const char	*st;
	char		 key[64];
	size_t		 i;

	if (data == NULL) {
		http_error(r, 404, "not_found", "No such page.");
		return;
	}
	status_arg(r, &st);
	json_array_foreach(json_object_get(data, "applications"), i, app)
		status_label(r, app);
	snprintf(key, sizeof(key), "filter_%s", *st ? st : "all");
	json_object_set_new(data, key, json_true());
	page_render(r, "console_applications", "ap_applications_title",
	    data, 1);
}

/* GET /console/applications?status= */
void
console_applications(struct req *r)
{
	char		 lim[16];
	const char	*vals[2];

	if (status_arg(r, &vals[0]) == -1)
		return;
	snprintf(lim, sizeof(lim), "%d", APPROVAL_MAXQUEUE);
	vals[1] = lim;
	req_query(r, SQL_AP_APPLICATIONS, vals, 2, applications_page_done);
}

/* One application is back: its page, with notes and the decision. */
static void
application_page_done(struct req *r, struct db_res *res)
{
	json_t	*data = db_json(res);

	if (data == NULL) {
		http_error(r, 404, "not_found", "No such application.");
		return;
	}
	if (strcmp(json_string_value(json_object_get(data, "status")) ?
	    json_string_value(json_object_get(data, "status")) : "",
	    "submitted") == 0)
		json_object_set_new(data, "open", json_true());
	status_label(r, data);
	if (r->errmsg[0] == '\0')
		page_notice(r, data, (const char *const[]){ "noted",
		    "approved", "rejected", NULL });
	page_render(r, "console_applications_view", "ap_application_title",
	    data, 1);
}

/* GET /console/applications/{id} */
void
console_application(struct req *r)
{
	const char	*vals[1];

	vals[0] = r->params[0];
	r->failed = NULL;
	req_query(r, SQL_AP_APPLICATION, vals, 1, application_page_done);
}

/* A note or a decision on one application is in: back to its page. */
static void
application_changed(struct req *r, struct db_res *res)
{
	const char	*d = json_string_value(json_object_get(r->body,
	    "decision"));
	char		 path[128];

	(void)res;
	snprintf(path, sizeof(path), "/console/applications/%lld?done=%s",
	    (long long)r->id, d == NULL ? "noted" : strcmp(d, "approve") ==
	    0 ? "approved" : "rejected");
	web_redirect(r, path);
}

/* Refused (decided meanwhile, a slug taken): the page with the sentence. */
static void
application_refused(struct req *r, struct db_res *res)
{
	refusal(r, res);
	console_application(r);
}

/* POST /console/applications/{id}/notes {csrf, body} */
void
console_application_note(struct req *r)
{
	const char	*body = json_string_value(json_object_get(r->body,
	    "body"));
	const char	*vals[3];
	char		 field[64], msg[256];
	json_t		*o;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	o = json_pack("{s:s?}", "body", body);
	if (o == NULL || validate_object(o, note_fields, NFIELDS(note_fields),
	    field, sizeof(field), msg, sizeof(msg)) == -1) {
		json_decref(o);
		http_error(r, 400, "invalid_field", "%s", o == NULL ?
		    "body: the note." : msg);
		return;
	}
	json_decref(o);
	vals[0] = r->params[0];
	vals[1] = body;
	vals[2] = r->auth.jti;
	r->failed = application_refused;
	req_query(r, SQL_AP_NOTE, vals, 3, application_changed);
}

/* POST /console/applications/{id}/decision {csrf, decision, comment,
 * role?, slug?} */
void
console_application_decide(struct req *r)
{
	static const char *const keys[] = { "decision", "comment", "role",
	    "slug" };
	char		 field[64], msg[256];
	const char	*v;
	json_t		*o;
	size_t		 i;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	o = json_object();
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = json_string_value(json_object_get(r->body, keys[i]));
		if (v != NULL && *v != '\0')
			json_object_set_new(o, keys[i], json_string(v));
	}
	if (validate_object(o, app_decide_fields, NFIELDS(app_decide_fields),
	    field, sizeof(field), msg, sizeof(msg)) == -1) {
		json_decref(o);
		http_error(r, 400, "invalid_field", "%s", msg);
		return;
	}
	r->failed = application_refused;
	application_decide_run(r, o, application_changed);
	json_decref(o);
}
