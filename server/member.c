/*
 * Members (COMMUNITY.md section 1): joining the community by an e-mailed
 * link, the member's own link, their page, their export and erasure, and
 * registering as a member (the only way into a members-only event).
 *
 * No password: a member is whoever holds their link, /member/{secret}
 * (pages) and /api/v1/member/{secret}/... (API), as an attendee holds a
 * manage link. Its secret is 256 random bits shown once and mailed
 * sealed; the database keeps its SHA-256 (members.key_hash). Joining
 * sends a one-time confirmation link (join_requests, 24 hours, hashed
 * too) through the outbox; only a POST of its page confirms, so a mail
 * scanner that fetches links confirms nothing.
 *
 * "Join" and "send me my link" answer the same for every address and
 * write alike (sql/functions/member.sql), so neither says whether an
 * address is a member's. They are limited per client address and per
 * e-mail address (ratelimit.c), and the database sends an address at
 * most five confirmation links an hour whichever daemon asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <sodium.h>

#include "server.h"

static const char *const identities[] = { "enthusiast", "professional",
    "decision_maker", "partner", NULL };
static const char *const langs[] = { "en", "zh-CN", NULL };

static const struct vfield join_fields[] = {
	{ "email", V_EMAIL, 1, 0, 0, FIELD_MAXEMAIL, NULL },
	{ "name", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "identity", V_ENUM, 1, 0, 0, 0, identities },
	{ "company", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },
	{ "job_title", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },
	{ "city", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },
	{ "lang", V_ENUM, 0, 0, 0, 0, langs },
	{ "chapters", V_ARRAY_STRING, 0, 0, 1, MEMBER_MAXCHAPTERS, NULL },
	{ "chapter_ids", V_ARRAY_INT, 0, 0, 0, MEMBER_MAXCHAPTERS, NULL },
};
static const struct vfield link_fields[] = {
	{ "email", V_EMAIL, 1, 0, 0, FIELD_MAXEMAIL, NULL },
	{ "lang", V_ENUM, 0, 0, 0, 0, langs },
};
static const struct vfield update_fields[] = {
	{ "name", V_STRING, 0, 0, 1, FIELD_MAXTEXT, NULL },
	{ "company", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },
	{ "job_title", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },
	{ "city", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },
	{ "identity", V_ENUM, 0, 0, 0, 0, identities },
	{ "lang", V_ENUM, 0, 0, 0, 0, langs },
	{ "listed", V_BOOL, 0, 0, 0, 0, NULL },
	{ "chapters", V_ARRAY_STRING, 0, 0, 1, MEMBER_MAXCHAPTERS, NULL },
	{ "chapter_ids", V_ARRAY_INT, 0, 0, 0, MEMBER_MAXCHAPTERS, NULL },
};
/* A member's registration: the rest comes from their profile. */
static const struct vfield mreg_fields[] = {
	{ "event", V_INT, 1, 0, 1, ID_MAX, NULL },
	{ "company", V_STRING, 0, 0, 1, FIELD_MAXTEXT, NULL },
	{ "job_title", V_STRING, 0, 0, 1, FIELD_MAXTEXT, NULL },
	{ "identity", V_ENUM, 0, 0, 0, 0, identities },
	{ "phone", V_PHONE, 0, 1, 0, FIELD_MAXPHONE, NULL },
	{ "consent", V_OBJECT, 0, 0, 0, 0, NULL },
	{ "lang", V_ENUM, 0, 0, 0, 0, langs },
};

#define NFIELDS(a)	((int)(sizeof(a) / sizeof((a)[0])))
#define JSON_TYPE	"application/json; charset=utf-8"
#define SENT_MESSAGE	"If this address can join, a confirmation link is " \
			"on its way to it: it works once, within 24 hours."
#define LINK_MESSAGE	"If this address belongs to a member, a new member " \
			"link is on its way to it; the old link no longer " \
			"works."

/* ---------------------------------------------------------------- helpers */

/* A fresh link secret: itself, its SHA-256 and its sealed copy (or ""). */
static void
member_secret(char *secret, size_t secretsz, char *hash, size_t hashsz,
    char *sealed, size_t sealedsz)
{
	secret_random_id(secret, secretsz, SECRET_BYTES);
	secret_hash_hex(secret, hash, hashsz);
	if (secret_seal(secret, sealed, sealedsz) == -1)
		sealed[0] = '\0';
}

/* A rate-limit key: prefix and the e-mail address in lower case. */
static void
email_key(char *key, size_t keysz, const char *prefix, const char *email)
{
	size_t	 n;

	snprintf(key, keysz, "%s", prefix);
	for (n = strlen(key); *email != '\0' && n + 1 < keysz; email++, n++)
		key[n] = (char)((*email >= 'A' && *email <= 'Z') ?
		    *email + 32 : *email);
	key[n] = '\0';
}

/*
 * The limits on asking for mail: per client address (the daemon's
 * --rate-limit) and per e-mail address (MEMBER_MAIL_PER_EMAIL), whoever
 * the address is. Replies 429 and returns 0 when one is reached.
 */
static int
member_rate_ok(struct req *r, const char *email)
{
	char	 key[RATE_MAXKEY], ra[16];
	int	 retry = 1;
	time_t	 now = time(NULL);

	snprintf(key, sizeof(key), "member-addr:%s", r->addr);
	if (rate_allow(key, now, registration_rate_limit(), &retry)) {
		email_key(key, sizeof(key), "member-mail:", email);
		if (rate_allow(key, now, MEMBER_MAIL_PER_EMAIL, &retry))
			return 1;
	}
	snprintf(ra, sizeof(ra), "%d", retry > 0 ? retry : 1);
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Retry-After", ra);
	http_error(r, 429, "rate_limited", "Too many requests; try again in "
	    "%s seconds.", ra);
	return 0;
}

/* Drop optional text fields left empty: the same as not giving them. */
static void
drop_empty(json_t *o)
{
	static const char *const keys[] = { "company", "job_title", "city",
	    "phone" };
	const char	*v;
	size_t		 i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = json_string_value(json_object_get(o, keys[i]));
		if (v != NULL && *v == '\0')
			json_object_del(o, keys[i]);
	}
}

/* A flag a template can test, "identity_professional" for prefix+value. */
static void
set_flag(json_t *o, const char *prefix, const char *value)
{
	char	 key[64];

	if (value == NULL)
		return;
	snprintf(key, sizeof(key), "%s%s", prefix, value);
	json_object_set_new(o, key, json_true());
}

/* The catalog's word for key, or "". */
static const char *
word(const json_t *ctx, const char *key)
{
	const char *w = json_string_value(json_object_get(json_object_get(ctx,
	    "t"), key));

	return w != NULL ? w : "";
}

/*
 * A registration on the member's page: its manage link (and a
 * NightTalk's join link) opened from the sealed secret the database
 * keeps for a member's registrations; the sealed copy never leaves.
 */
static void
decorate_registration(json_t *reg, const json_t *t)
{
	json_t		*ev = json_object_get(reg, "event");
	const char	*sealed, *kind, *status;
	char		 secret[SECRET_LEN + 8], join[64], url[1024], key[48];

	sealed = json_string_value(json_object_get(reg, "manage_sealed"));
	kind = json_string_value(json_object_get(ev, "kind"));
	status = json_string_value(json_object_get(reg, "status"));
	if (sealed != NULL && secret_unseal(sealed, secret,
	    sizeof(secret)) == 0) {
		snprintf(url, sizeof(url), "%s/manage/%s",
		    registration_public_url(), secret);
		json_object_set_new(reg, "manage_url", json_string(url));
		if (kind != NULL && strcmp(kind, "nighttalk") == 0 &&
		    status != NULL && strcmp(status, "confirmed") == 0 &&
		    json_is_true(json_object_get(reg, "ahead"))) {
			secret_join(secret, join, sizeof(join));
			snprintf(url, sizeof(url), "%s/j/%s",
			    registration_public_url(), join);
			json_object_set_new(reg, "join_url", json_string(url));
			sodium_memzero(join, sizeof(join));
		}
		sodium_memzero(secret, sizeof(secret));
		sodium_memzero(url, sizeof(url));
	}
	json_object_del(reg, "manage_sealed");
	if (t == NULL)
		return;
	util_local_time(ev, "starts_at_local", "starts_display");
	if (kind != NULL) {
		snprintf(key, sizeof(key), "kind_%s", kind);
		json_object_set(ev, "kind_label", json_object_get(t, key));
	}
	if (status != NULL) {
		snprintf(key, sizeof(key), "status_%s", status);
		json_object_set(reg, "status_label", json_object_get(t, key));
	}
}

/*
 * A member's JSON (rc_member_get): every registration's links opened;
 * for a page (t, the catalog; zh, its language) the words too.
 */
static void
decorate_member(json_t *m, const json_t *t, int zh)
{
	static const char *const lists[] = { "upcoming", "past" };
	json_t		*v, *c;
	size_t		 i, k;

	for (k = 0; k < 2; k++)
		json_array_foreach(json_object_get(m, lists[k]), i, v)
			decorate_registration(v, t);
	if (t == NULL)
		return;
	json_array_foreach(json_object_get(m, "members_events"), i, v) {
		util_local_time(v, "starts_at_local", "starts_display");
		set_flag(v, "kind_", json_string_value(json_object_get(v,
		    "kind")));
	}
	/* A chapter's name in the page's language. */
	json_array_foreach(json_object_get(m, "chapters"), i, c) {
		v = json_object_get(c, "name_zh");
		json_object_set(c, "label", zh && json_string_length(v) > 0 ?
		    v : json_object_get(c, "name"));
		json_object_set_new(c, "key", json_sprintf("ch_%lld",
		    (long long)json_integer_value(json_object_get(c, "id"))));
	}
}

/* The member link, as a full URL, for secret. */
static void
member_url(char *url, size_t urlsz, const char *secret)
{
	snprintf(url, urlsz, "%s/member/%s", registration_public_url(),
	    secret);
}

/* ------------------------------------------------------------ joining */

/* Check a join request; -1 with the field and a sentence. */
static int
join_check(json_t *body, char *field, size_t fieldsz, char *msg,
    size_t msgsz)
{
	drop_empty(body);
	return validate_object(body, join_fields, NFIELDS(join_fields), field,
	    fieldsz, msg, msgsz);
}

/* Queue the request and its message (rc_member_join); done() answers. */
static void
join_submit(struct req *r, json_t *body, req_done_fn done)
{
	char		 secret[48], hash[SECRET_HEX], sealed[SECRET_SEALED_HEX];
	char		 secs[16], *text;
	const char	*vals[4];

	if (json_object_get(body, "lang") == NULL)
		json_object_set_new(body, "lang",
		    json_string(req_lang(r) ? "zh-CN" : "en"));
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	member_secret(secret, sizeof(secret), hash, sizeof(hash), sealed,
	    sizeof(sealed));
	sodium_memzero(secret, sizeof(secret));
	snprintf(secs, sizeof(secs), "%d", MEMBER_JOIN_SECS);
	vals[0] = text;
	vals[1] = hash;
	vals[2] = secs;
	vals[3] = sealed;
	req_query(r, SQL_MEMBER_JOIN, vals, 4, done);
	free(text);
}

/* The request is queued (or quietly not): the one answer. */
static void
join_api_done(struct req *r, struct db_res *res)
{
	(void)res;
	http_reply_json(r, 202, json_pack("{s:s, s:s}", "result", "sent",
	    "message", SENT_MESSAGE));
}

/* POST /api/v1/members {email, name, identity, company?, ...} */
void
member_join_api(struct req *r)
{
	char	 field[64], msg[256];

	if (join_check(r->body, field, sizeof(field), msg, sizeof(msg)) == -1) {
		http_error(r, 400, "invalid_field", "%s", msg);
		return;
	}
	if (!member_rate_ok(r, json_string_value(json_object_get(r->body,
	    "email"))))
		return;
	join_submit(r, r->body, join_api_done);
}

/*
 * The join page (templates/join.html): the form with the chapters one
 * may join; form and the field in r->errfield when it comes back.
 */
static void
join_page(struct req *r, struct db_res *res, const json_t *form, int status)
{
	json_t		*ctx = web_ctx(r, "mb_join_title"), *chapters, *c, *f;
	json_t		*errs, *text;
	const char	*zh;
	char		 key[160];
	size_t		 i;

	chapters = db_json(res);
	if (ctx == NULL || !json_is_array(chapters)) {
		json_decref(chapters);
		json_decref(ctx);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	f = form != NULL ? json_deep_copy(form) : json_object();
	set_flag(f, "identity_", json_string_value(json_object_get(f,
	    "identity")));
	zh = json_string_value(json_object_get(ctx, "lang"));
	json_array_foreach(chapters, i, c) {
		text = json_object_get(c, "name_zh");
		json_object_set(c, "label", strcmp(zh, "zh-CN") == 0 &&
		    json_string_length(text) > 0 ? text : json_object_get(c,
		    "name"));
		snprintf(key, sizeof(key), "ch_%lld", (long long)
		    json_integer_value(json_object_get(c, "id")));
		if (json_object_get(f, key) != NULL)
			json_object_set_new(c, "checked", json_true());
		json_object_set_new(c, "key", json_string(key));
		json_object_set_new(c, "is_topic", json_boolean(strcmp(
		    json_string_value(json_object_get(c, "kind")) ?
		    json_string_value(json_object_get(c, "kind")) : "",
		    "topic") == 0));
	}
	json_object_set_new(ctx, "chapters", chapters);
	json_object_set_new(ctx, "join_form", json_true());
	json_object_set_new(ctx, "form", f);
	if (r->errfield[0] != '\0') {
		errs = json_object();
		snprintf(key, sizeof(key), "mb_err_%s", r->errfield);
		text = json_object_get(json_object_get(ctx, "t"), key);
		json_object_set_new(errs, r->errfield, json_is_string(text) ?
		    json_incref(text) : json_string(r->errmsg));
		json_object_set_new(errs, "any", json_true());
		json_object_set_new(ctx, "errors", errs);
	}
	web_page(r, status, "join", ctx);
}

/* GET /join's chapters are back. */
static void
join_page_done(struct req *r, struct db_res *res)
{
	join_page(r, res, NULL, 200);
}

/* GET /join */
void
member_join_page(struct req *r)
{
	req_query(r, SQL_MEMBER_CHAPTERS, NULL, 0, join_page_done);
}

/* The join form came back wrong: the page again, as typed. */
static void
join_form_failed(struct req *r, struct db_res *res)
{
	join_page(r, res, r->body, 400);
}

/* A page of join.html in one state ("sent", "erased", ...). */
static void
join_state(struct req *r, int status, const char *title, const char *state)
{
	json_t	*ctx = web_ctx(r, title);

	if (ctx == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_object_set_new(ctx, state, json_true());
	web_page(r, status, "join", ctx);
}

/* The form's request is queued (or quietly not). */
static void
join_form_sent(struct req *r, struct db_res *res)
{
	(void)res;
	join_state(r, 200, "mb_sent_title", "sent");
}

/* The join form's fields as the API's body: chapters by "ch_ID" boxes. */
static json_t *
form_to_join(const json_t *f)
{
	static const char *const text[] = { "email", "name", "identity",
	    "company", "job_title", "city" };
	json_t		*o = json_object(), *ids = json_array(), *v;
	const char	*k;
	int64_t		 id;
	size_t		 i;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if ((v = json_object_get(f, text[i])) != NULL)
			json_object_set(o, text[i], v);
	json_object_foreach((json_t *)f, k, v)
		if (strncmp(k, "ch_", 3) == 0 &&
		    parse_int64(k + 3, 1, ID_MAX, &id) == 0)
			json_array_append_new(ids, json_integer(id));
	json_object_set_new(o, "chapter_ids", ids);
	return o;
}

/* POST /join {csrf, email, name, identity, company, ..., ch_ID...} */
void
member_join_form(struct req *r)
{
	char	 field[64], msg[256];
	json_t	*body;

	if (!web_csrf_ok(r))
		return;
	body = form_to_join(r->body);
	if (join_check(body, field, sizeof(field), msg, sizeof(msg)) == -1) {
		json_decref(body);
		snprintf(r->errfield, sizeof(r->errfield), "%s", field);
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg);
		req_query(r, SQL_MEMBER_CHAPTERS, NULL, 0, join_form_failed);
		return;
	}
	if (member_rate_ok(r, json_string_value(json_object_get(body,
	    "email"))))
		join_submit(r, body, join_form_sent);
	json_decref(body);
}

/* ---------------------------------------------------------- confirming */

/* A spent or expired link: the page that says so, with the way on. */
static void
confirm_expired(struct req *r, struct db_res *res)
{
	(void)res;
	join_state(r, 404, "mb_expired_title", "expired");
}

/* The confirmation page: what is confirmed, and the button. */
static void
confirm_page_done(struct req *r, struct db_res *res)
{
	json_t	*ctx, *q;

	if ((q = db_json(res)) == NULL) {
		confirm_expired(r, res);
		return;
	}
	if ((ctx = web_ctx(r, "mb_confirm_title")) == NULL) {
		json_decref(q);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_object_set_new(ctx, "confirm", q);
	json_object_set_new(ctx, "secret", json_string(r->params[0]));
	web_page(r, 200, "join", ctx);
}

/* GET /join/{secret}: shows a button; only its POST confirms. */
void
member_confirm_page(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_MEMBER_JOIN_GET, vals, 1, confirm_page_done);
}

/* Confirm with a new member secret in r->secret; done() answers. */
static void
confirm_submit(struct req *r, req_done_fn done, req_done_fn failed)
{
	char		 hash[SECRET_HEX], sealed[SECRET_SEALED_HEX];
	const char	*vals[3];

	member_secret(r->secret, sizeof(r->secret), hash, sizeof(hash), sealed,
	    sizeof(sealed));
	vals[0] = r->secret_hash;
	vals[1] = hash;
	vals[2] = sealed;
	r->failed = failed;
	req_query(r, SQL_MEMBER_CONFIRM, vals, 3, done);
}

/* Confirmed from the page: to the member page, which shows the link. */
static void
confirm_form_done(struct req *r, struct db_res *res)
{
	char	 path[128];

	(void)res;
	snprintf(path, sizeof(path), "/member/%s?welcome=1", r->secret);
	sodium_memzero(r->secret, sizeof(r->secret));
	web_redirect(r, path);
	sodium_memzero(path, sizeof(path));
}

/* POST /join/{secret} {csrf} */
void
member_confirm_form(struct req *r)
{
	if (web_csrf_ok(r))
		confirm_submit(r, confirm_form_done, confirm_expired);
}

/* Confirmed through the API: the member link, once. */
static void
confirm_api_done(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res);
	char	 url[1024];

	if (o == NULL) {
		sodium_memzero(r->secret, sizeof(r->secret));
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	member_url(url, sizeof(url), r->secret);
	sodium_memzero(r->secret, sizeof(r->secret));
	json_object_set_new(o, "member_url", json_string(url));
	json_object_del(o, "person_id");
	sodium_memzero(url, sizeof(url));
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Referrer-Policy", "no-referrer");
	http_reply_json(r, 200, o);
}

/* POST /api/v1/members/confirm/{secret} */
void
member_confirm_api(struct req *r)
{
	confirm_submit(r, confirm_api_done, NULL);
}

/* ------------------------------------------------- "send me my link" */

/* A new member link for email, if it is a member's (rc_member_link). */
static void
link_submit(struct req *r, const char *email, req_done_fn done)
{
	char		 secret[48], hash[SECRET_HEX], sealed[SECRET_SEALED_HEX];
	const char	*vals[3];

	member_secret(secret, sizeof(secret), hash, sizeof(hash), sealed,
	    sizeof(sealed));
	sodium_memzero(secret, sizeof(secret));
	vals[0] = email;
	vals[1] = hash;
	vals[2] = sealed;
	req_query(r, SQL_MEMBER_LINK, vals, 3, done);
}

/* Asked through the API: the one answer. */
static void
link_api_done(struct req *r, struct db_res *res)
{
	(void)res;
	http_reply_json(r, 202, json_pack("{s:s, s:s}", "result", "sent",
	    "message", LINK_MESSAGE));
}

/* POST /api/v1/members/link {email} */
void
member_link_api(struct req *r)
{
	const char	*email;

	if (req_validate(r, link_fields, NFIELDS(link_fields)) == -1)
		return;
	email = json_string_value(json_object_get(r->body, "email"));
	if (member_rate_ok(r, email))
		link_submit(r, email, link_api_done);
}

/* GET /member: the form that mails a member their link again. */
void
member_link_page(struct req *r)
{
	join_state(r, 200, "mb_link_title", "link_form");
}

/* Asked from the page: the one answer. */
static void
link_form_sent(struct req *r, struct db_res *res)
{
	(void)res;
	join_state(r, 200, "mb_link_title", "link_sent");
}

/* POST /member {csrf, email} */
void
member_link_form(struct req *r)
{
	const char	*email = json_string_value(json_object_get(r->body,
	    "email"));
	json_t		*ctx;

	if (!web_csrf_ok(r))
		return;
	if (email == NULL || strlen(email) > FIELD_MAXEMAIL ||
	    validate_email(email) == -1) {
		if ((ctx = web_ctx(r, "mb_link_title")) == NULL) {
			http_error(r, 503, "out_of_memory", "Try again.");
			return;
		}
		json_object_set_new(ctx, "link_form", json_true());
		json_object_set(ctx, "link_error", json_object_get(
		    json_object_get(ctx, "t"), "mb_err_email"));
		json_object_set_new(ctx, "form", json_pack("{s:s}", "email",
		    email != NULL ? email : ""));
		web_page(r, 400, "join", ctx);
		return;
	}
	if (member_rate_ok(r, email))
		link_submit(r, email, link_form_sent);
}

/* ---------------------------------------------------- the member page */

/* Reply with a member's JSON (rc_member_get), its links opened. */
static void
member_json_done(struct req *r, struct db_res *res)
{
	json_t	*m = db_json(res);

	if (m == NULL) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	decorate_member(m, NULL, 0);
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Referrer-Policy", "no-referrer");
	http_reply_json(r, 200, m);
}

/* GET /api/v1/member/{secret} */
void
member_get(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_MEMBER_GET, vals, 1, member_json_done);
}

/* PATCH /api/v1/member/{secret} {name?, company?, ..., chapters?} */
void
member_update(struct req *r)
{
	const char	*vals[2];
	char		*text;

	if (req_validate(r, update_fields, NFIELDS(update_fields)) == -1)
		return;
	if ((text = json_dumps(r->body, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = r->secret_hash;
	vals[1] = text;
	req_query(r, SQL_MEMBER_UPDATE, vals, 2, member_json_done);
	free(text);
}

/*
 * The member page (templates/member.html). A profile form that came
 * back wrong is in r->body, its field in r->errfield.
 */
static void
member_page_done(struct req *r, struct db_res *res)
{
	static const char *const notices[] = { "profile", "chapters",
	    "confirm_erase", NULL };
	json_t		*ctx, *m, *p, *errs, *text;
	const char	*done = req_query_arg(r, "done");
	char		 url[1024], key[160];
	int		 i;

	if ((m = db_json(res)) == NULL) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	if ((ctx = web_ctx(r, "mb_page_title")) == NULL) {
		json_decref(m);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	decorate_member(m, json_object_get(ctx, "t"), req_lang(r));
	p = json_object_get(m, "person");
	if (r->errfield[0] != '\0') {
		/* The profile as typed, over what is kept. */
		json_object_update(p, r->body);
		errs = json_object();
		snprintf(key, sizeof(key), "mb_err_%s", r->errfield);
		text = json_object_get(json_object_get(ctx, "t"), key);
		json_object_set_new(errs, r->errfield, json_is_string(text) ?
		    json_incref(text) : json_string(r->errmsg));
		json_object_set_new(errs, "any", json_true());
		json_object_set_new(ctx, "errors", errs);
	}
	set_flag(p, "identity_", json_string_value(json_object_get(p,
	    "identity")));
	json_object_set_new(p, "lang_zh", json_boolean(json_string_value(
	    json_object_get(p, "lang")) != NULL && strcmp(json_string_value(
	    json_object_get(p, "lang")), "zh-CN") == 0));
	json_object_set_new(ctx, "secret", json_string(r->params[0]));
	member_url(url, sizeof(url), r->params[0]);
	json_object_set_new(ctx, "member_url", json_string(url));
	sodium_memzero(url, sizeof(url));
	json_object_set_new(ctx, "welcome", json_boolean(
	    req_query_arg(r, "welcome") != NULL));
	for (i = 0; done != NULL && notices[i] != NULL; i++)
		if (strcmp(done, notices[i]) == 0) {
			snprintf(key, sizeof(key), "mb_done_%s", notices[i]);
			json_object_set_new(ctx, "notice", json_string(word(ctx,
			    key)));
		}
	json_object_set_new(ctx, "m", m);
	web_page(r, r->errfield[0] != '\0' ? 400 : 200, "member", ctx);
}

/* GET /member/{secret} */
void
member_page(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_MEMBER_GET, vals, 1, member_page_done);
}

/* Saved from a page form: back to the member page with a word. */
static void
member_saved(struct req *r, struct db_res *res)
{
	char	 path[ROUTE_MAXSEGMENT + 320];

	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	snprintf(path, sizeof(path), "/member/%s?done=%s", r->params[0],
	    r->errmsg);
	web_redirect(r, path);
}

/* Send a page form's change (rc_member_update); back with done=what. */
static void
member_save(struct req *r, json_t *body, const char *what)
{
	const char	*vals[2];
	char		*text;

	if ((text = json_dumps(body, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", what);
	vals[0] = r->secret_hash;
	vals[1] = text;
	req_query(r, SQL_MEMBER_UPDATE, vals, 2, member_saved);
	free(text);
}

/* POST /member/{secret}/profile {csrf, name, company, ..., listed?} */
void
member_profile_form(struct req *r)
{
	static const char *const text[] = { "name", "company", "job_title",
	    "city", "identity", "lang" };
	char		 field[64], msg[256];
	const char	*vals[1] = { r->secret_hash };
	json_t		*body, *v;
	size_t		 i;

	if (!web_csrf_ok(r))
		return;
	body = json_object();
	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if ((v = json_object_get(r->body, text[i])) != NULL)
			json_object_set(body, text[i], v);
	/* Blank company, job title or city: the member has none. */
	for (i = 1; i < 4; i++) {
		v = json_object_get(body, text[i]);
		if (v != NULL && json_string_length(v) == 0)
			json_object_set_new(body, text[i], json_null());
	}
	json_object_set_new(body, "listed", json_boolean(
	    json_object_get(r->body, "listed") != NULL));
	if (validate_object(body, update_fields, NFIELDS(update_fields), field,
	    sizeof(field), msg, sizeof(msg)) == -1) {
		json_decref(body);
		snprintf(r->errfield, sizeof(r->errfield), "%s", field);
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg);
		req_query(r, SQL_MEMBER_GET, vals, 1, member_page_done);
		return;
	}
	member_save(r, body, "profile");
	json_decref(body);
}

/* POST /member/{secret}/chapters {csrf, ch_ID...}: the chapters they are in. */
void
member_chapters_form(struct req *r)
{
	json_t	*body, *all;

	if (!web_csrf_ok(r))
		return;
	all = form_to_join(r->body);
	body = json_pack("{s:O}", "chapter_ids", json_object_get(all,
	    "chapter_ids"));
	json_decref(all);
	if (body == NULL || json_array_size(json_object_get(body,
	    "chapter_ids")) > MEMBER_MAXCHAPTERS) {
		json_decref(body);
		http_error(r, 400, "invalid_field", "chapters: at most %d.",
		    MEMBER_MAXCHAPTERS);
		return;
	}
	member_save(r, body, "chapters");
	json_decref(body);
}

/* ---------------------------------------------------- export, erasure */

/* GET /api/v1/member/{secret}/export: everything held, as a file. */
static void
export_done(struct req *r, struct db_res *res)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(r->ev);

	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	evhttp_add_header(h, "Content-Disposition",
	    "attachment; filename=\"rollcall-member.json\"");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	http_reply_bytes(r, 200, JSON_TYPE, (const unsigned char *)db_value(res,
	    0, 0), db_length(res, 0, 0), "private, no-store");
}

/* GET /api/v1/member/{secret}/export */
void
member_export(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_MEMBER_EXPORT, vals, 1, export_done);
}

/* POST /api/v1/member/{secret}/erase */
void
member_erase(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_MEMBER_ERASE, vals, 1, http_reply_row);
}

/* Erased from the page: the page that says so. */
static void
erase_form_done(struct req *r, struct db_res *res)
{
	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	join_state(r, 200, "mb_erased_title", "erased");
}

/* POST /member/{secret}/erase {csrf, confirm}: only with the box ticked. */
void
member_erase_form(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };
	char		 path[160];

	if (!web_csrf_ok(r))
		return;
	if (json_object_get(r->body, "confirm") == NULL) {
		snprintf(path, sizeof(path), "/member/%s?done=confirm_erase"
		    "#erase", r->params[0]);
		web_redirect(r, path);
		return;
	}
	req_query(r, SQL_MEMBER_ERASE, vals, 1, erase_form_done);
}

/* ------------------------------------------- registering as a member */

/*
 * A member's registration body: name and address from their profile,
 * company, job title and identity from the request or else the profile,
 * phone and consent from the request. NULL with msg when a field the
 * registration needs is in neither.
 */
static json_t *
mreg_body(const json_t *profile, const json_t *given, char *msg,
    size_t msgsz)
{
	static const char *const fill[] = { "company", "job_title",
	    "identity" };
	json_t	*p, *v;
	size_t	 i;

	p = json_pack("{s:O, s:O}", "name", json_object_get(profile, "name"),
	    "email", json_object_get(profile, "email"));
	if (p == NULL) {
		snprintf(msg, msgsz, "out of memory");
		return NULL;
	}
	for (i = 0; i < sizeof(fill) / sizeof(fill[0]); i++) {
		if ((v = json_object_get(given, fill[i])) == NULL ||
		    !json_is_string(v) || json_string_length(v) == 0)
			v = json_object_get(profile, fill[i]);
		if (!json_is_string(v) || json_string_length(v) == 0) {
			snprintf(msg, msgsz, "%s: your profile has none; add "
			    "it on your member page, or send it with the "
			    "registration.", fill[i]);
			json_decref(p);
			return NULL;
		}
		json_object_set(p, fill[i], v);
	}
	if ((v = json_object_get(given, "phone")) != NULL && json_is_string(v) &&
	    json_string_length(v) > 0)
		json_object_set(p, "phone", v);
	if ((v = json_object_get(given, "consent")) != NULL)
		json_object_set(p, "consent", v);
	v = json_object_get(given, "lang");
	json_object_set(p, "lang", v != NULL ? v : json_object_get(profile,
	    "lang"));
	return p;
}

/* The profile is back: register as that member for event r->id. */
static void
mreg_profile_done(struct req *r, struct db_res *res, const json_t *given,
    reg_done_fn done)
{
	char	 field[64], msg[256];
	json_t	*profile, *p;

	if ((profile = db_json(res)) == NULL) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	p = mreg_body(profile, given, msg, sizeof(msg));
	json_decref(profile);
	if (p == NULL || registration_check(p, field, sizeof(field), msg,
	    sizeof(msg)) == -1) {
		json_decref(p);
		http_error(r, 400, "invalid_field", "%s", msg);
		return;
	}
	registration_submit(r, p, done);
	json_decref(p);
}

/* The API's member registration: the profile is back. */
static void
mreg_api_profile(struct req *r, struct db_res *res)
{
	mreg_profile_done(r, res, r->body, registration_created);
}

/*
 * POST /api/v1/member/{secret}/registrations {event, company?,
 * job_title?, identity?, phone?, consent?, lang?}: register as this
 * member, members-only events included.
 */
void
member_register(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	if (req_validate(r, mreg_fields, NFIELDS(mreg_fields)) == -1 ||
	    !registration_rate_ok(r))
		return;
	r->id = json_integer_value(json_object_get(r->body, "event"));
	req_query(r, SQL_MEMBER_PROFILE, vals, 1, mreg_api_profile);
}

/* The event as this member sees it (web_event_member). */
static void
member_event_done(struct req *r, struct db_res *res)
{
	json_t	*data = db_json(res), *reg;
	char	 path[128];

	if (data == NULL) {
		http_error(r, 404, "not_found", "No such event.");
		return;
	}
	if ((reg = json_object_get(data, "registration")) != NULL &&
	    json_is_object(reg))
		decorate_registration(reg, NULL);
	snprintf(path, sizeof(path), "/member/%s", r->params[0]);
	web_event_member(r, data, path);
	json_decref(data);
}

/* GET /member/{secret}/events/{id} */
void
member_event_page(struct req *r)
{
	const char	*vals[2];
	char		 id[24];

	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	vals[0] = r->secret_hash;
	vals[1] = id;
	req_query(r, SQL_MEMBER_EVENT, vals, 2, member_event_done);
}

/* Registered from the page: to the registration's page, with a welcome. */
static void
mreg_form_done(struct req *r, const char *row)
{
	char	 path[128];

	(void)row;
	snprintf(path, sizeof(path), "/manage/%s?welcome=1", r->secret);
	sodium_memzero(r->secret, sizeof(r->secret));
	web_redirect(r, path);
}

/* The page's member registration: the profile is back. */
static void
mreg_form_profile(struct req *r, struct db_res *res)
{
	json_t	*given = web_form_registration(r->body);

	mreg_profile_done(r, res, given, mreg_form_done);
	json_decref(given);
}

/* POST /member/{secret}/events/{id}/register {csrf, phone?, consent...} */
void
member_register_form(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	if (!web_csrf_ok(r) || !registration_rate_ok(r))
		return;
	req_query(r, SQL_MEMBER_PROFILE, vals, 1, mreg_form_profile);
}
