/*
 * Console sessions: sign in with e-mail and password, sign out (here or
 * everywhere), and the cookie the router turns back into an account on
 * every console request.
 *
 * A session id is 256 random bits, sent once in an HttpOnly, SameSite=Lax
 * cookie (Secure when the public URL is https) and stored only as its
 * SHA-256, so every daemon sharing the database accepts it and a copy of
 * the table signs no one in. Each request re-reads the session and its
 * account (rc_session_live): a signed-out session or a disabled account
 * stops working on the next request, on every daemon.
 *
 * Sign-in is the slow path on purpose. The password is checked by
 * argon2id on a worker thread (pwhash.c), never on the loop; an unknown
 * address is checked against a dummy hash, so both take the same time;
 * and every failure gives one answer, which never says whether the
 * address or the password was wrong. Attempts are limited per client
 * address and per e-mail address (ratelimit.c, prefixed keys), counted
 * before the check, so guessing costs the guesser the minute.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/http.h>
#include <sodium.h>

#include "server.h"

static int	 cookie_secure;		/* PUBLIC_URL is https */

/* Remember whether cookies must be Secure (the public URL's scheme). */
void
session_init(const char *public_url)
{
	cookie_secure = public_url != NULL &&
	    strncasecmp(public_url, "https:", 6) == 0;
}

/* The request's session cookie, hashed into out; -1 when it has none. */
int
session_cookie_hash(struct req *r, char *out, size_t outsz)
{
	char	 id[64];
	int	 rc;

	if (req_cookie(r, SESSION_COOKIE, id, sizeof(id)) == -1)
		return -1;
	rc = secret_hash_hex(id, out, outsz);
	sodium_memzero(id, sizeof(id));
	return rc;
}

/* Fill a from SQL_SESSION_LIVE's row; -1 when the session is not live. */
int
session_from_row(struct auth *a, const struct db_res *res)
{
	char		*text, *p, *tok;
	int64_t		 id;
	enum role	 r;

	if (db_rows(res) != 1 ||
	    parse_int64(db_value(res, 0, 0), 1, ID_MAX, &id) == -1)
		return -1;
	a->role = role_from_str(db_value(res, 0, 1));
	if (a->role == ROLE_NONE || a->role == ROLE_DOOR ||
	    a->role == ROLE_SPONSOR)
		return -1;
	a->account_id = id;
	snprintf(a->jti, sizeof(a->jti), "acct:%lld", (long long)id);
	snprintf(a->name, sizeof(a->name), "%s", db_value(res, 0, 2));
	/* "{admin,leader}": the account's own role and its chapters' roles. */
	a->roles = 1u << a->role;
	if ((text = strdup(db_value(res, 0, 6))) == NULL)
		return -1;
	for (p = text + (*text == '{'); (tok = strsep(&p, ",}")) != NULL;)
		if ((r = role_from_str(tok)) != ROLE_NONE && r != ROLE_DOOR &&
		    r != ROLE_SPONSOR)
			a->roles |= 1u << r;
	free(text);
	if (!db_isnull(res, 0, 7) && (a->nchapters = auth_parse_pg_ids(
	    db_value(res, 0, 7), &a->chapters)) < 0) {
		a->nchapters = 0;
		return -1;
	}
	if (db_isnull(res, 0, 3)) {
		a->all_events = 1;
		return 0;
	}
	if ((a->nevents = auth_parse_pg_ids(db_value(res, 0, 3),
	    &a->events)) < 0) {
		a->nevents = 0;
		return -1;
	}
	return 0;
}

/* Set (id non-NULL) or clear the session cookie. */
void
session_set_cookie(struct req *r, const char *id)
{
	char	 c[192];

	if (id != NULL)
		snprintf(c, sizeof(c), SESSION_COOKIE "=%s; Path=/console; "
		    "HttpOnly; SameSite=Lax; Max-Age=%d%s", id, SESSION_MAX_SECS,
		    cookie_secure ? "; Secure" : "");
	else
		snprintf(c, sizeof(c), SESSION_COOKIE "=; Path=/console; "
		    "HttpOnly; SameSite=Lax; Max-Age=0%s",
		    cookie_secure ? "; Secure" : "");
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Set-Cookie", c);
	sodium_memzero(c, sizeof(c));
}

/* No live session: a page goes to the sign-in form, anything else 401. */
void
session_need_login(struct req *r)
{
	char	 id[64];

	if (req_cookie(r, SESSION_COOKIE, id, sizeof(id)) == 0)
		session_set_cookie(r, NULL);
	sodium_memzero(id, sizeof(id));
	if (r->method == EVHTTP_REQ_GET && r->html) {
		web_redirect(r, "/console/login");
		return;
	}
	http_error(r, 401, "login_required", "Sign in to the console first.");
}

/* The sign-in form, with a message when an attempt failed. */
static void
login_form(struct req *r, int status, const char *msg_key)
{
	json_t	*ctx = web_ctx(r, "c_login_title");

	if (ctx != NULL && msg_key != NULL)
		json_object_set(ctx, "error", json_object_get(
		    json_object_get(ctx, "t"), msg_key));
	web_page_csp(r, status, "console_login", ctx, WEB_CSP_SCRIPT);
}

/* GET /console/login */
void
session_login_page(struct req *r)
{
	login_form(r, 200, NULL);
}

/* Forget the password the form sent, now the worker holds its own copy. */
static void
wipe_password(struct req *r, const char *field)
{
	const char	*pw = json_string_value(json_object_get(r->body, field));

	if (pw != NULL)
		sodium_memzero((char *)pw, strlen(pw));
}

/* The session is recorded: hand the browser its cookie. */
static void
login_started(struct req *r, struct db_res *res)
{
	(void)res;
	session_set_cookie(r, r->secret);
	sodium_memzero(r->secret, sizeof(r->secret));
	web_redirect(r, "/console");
}

/* The worker has checked the password (ok: 1 when it matched). */
static void
login_checked(void *arg, int ok, const char *unused)
{
	struct req	*r = arg;
	char		 acct[24], hash[SECRET_HEX];
	const char	*vals[3];

	(void)unused;
	if (!ok || r->auth.account_id == 0) {
		log_info("console sign-in refused from %s", r->addr);
		login_form(r, 401, "c_login_failed");
		return;
	}
	secret_random_id(r->secret, sizeof(r->secret), SECRET_BYTES);
	secret_hash_hex(r->secret, hash, sizeof(hash));
	snprintf(acct, sizeof(acct), "%lld", (long long)r->auth.account_id);
	vals[0] = acct;
	vals[1] = hash;
	vals[2] = r->addr;
	req_query(r, SQL_SESSION_START, vals, 3, login_started);
}

/* The account's password hash is back (or no row): check it off the loop. */
static void
login_found(struct req *r, struct db_res *res)
{
	const char	*pw = json_string_value(json_object_get(r->body,
	    "password"));
	const char	*hash = NULL;

	if (db_rows(res) == 1 && parse_int64(db_value(res, 0, 0), 1, ID_MAX,
	    &r->auth.account_id) == 0)
		hash = db_value(res, 0, 1);
	else
		r->auth.account_id = 0;
	if (pwhash_verify(hash, pw, login_checked, r) == -1) {
		http_error(r, 503, "busy", "The server is busy; try again in "
		    "a moment.");
		return;
	}
	wipe_password(r, "password");
}

/* POST /console/login {csrf, email, password} */
void
session_login(struct req *r)
{
	const char	*email = json_string_value(json_object_get(r->body,
	    "email"));
	const char	*pw = json_string_value(json_object_get(r->body,
	    "password"));
	char		 key[RATE_MAXKEY];
	const char	*vals[1];
	int		 retry;
	time_t		 now = time(NULL);

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (email == NULL || pw == NULL || *email == '\0' || *pw == '\0' ||
	    strlen(email) > FIELD_MAXEMAIL || strlen(pw) > PWHASH_MAXPASSWORD) {
		login_form(r, 401, "c_login_failed");
		return;
	}
	snprintf(key, sizeof(key), "login-addr:%s", r->addr);
	if (!rate_allow(key, now, LOGIN_PER_ADDR, &retry)) {
		login_form(r, 429, "c_login_slow");
		return;
	}
	snprintf(key, sizeof(key), "login-acct:");
	for (size_t i = 0, n = strlen(key); email[i] != '\0' &&
	    n + 1 < sizeof(key); i++, n++) {
		key[n] = (char)((email[i] >= 'A' && email[i] <= 'Z') ?
		    email[i] + 32 : email[i]);
		key[n + 1] = '\0';
	}
	if (!rate_allow(key, now, LOGIN_PER_ACCOUNT, &retry)) {
		login_form(r, 429, "c_login_slow");
		return;
	}
	vals[0] = email;
	req_query(r, SQL_ACCOUNT_LOGIN, vals, 1, login_found);
}

/* Signed out: the cookie goes, and so does the browser, to the form. */
static void
logout_done(struct req *r, struct db_res *res)
{
	(void)res;
	session_set_cookie(r, NULL);
	web_redirect(r, "/console/login");
}

/* Sign out this session (all: every session of the account). */
static void
logout(struct req *r, int all)
{
	const char	*vals[2];

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (r->auth.account_id == 0) {
		http_error(r, 400, "not_a_session", "Only a console session "
		    "can sign out.");
		return;
	}
	vals[0] = r->auth.session;
	vals[1] = all ? "true" : "false";
	req_query(r, SQL_SESSION_END, vals, 2, logout_done);
}

/* POST /console/logout */
void
session_logout(struct req *r)
{
	logout(r, 0);
}

/* POST /console/logout-all: sign out everywhere. */
void
session_logout_all(struct req *r)
{
	logout(r, 1);
}

/*
 * A console post must come from a console page. The CSRF token already
 * proves that a page of ours was read; the Origin (sent by every current
 * browser on a POST) and Sec-Fetch-Site are a second, independent check
 * that costs nothing: another site's form carries its own origin, which
 * cannot equal the Host it posts to.
 */
int
session_origin_ok(struct req *r)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(r->ev);
	const char		*origin = evhttp_find_header(in, "Origin");
	const char		*site = evhttp_find_header(in, "Sec-Fetch-Site");
	const char		*host = evhttp_find_header(in, "Host");
	const char		*p;

	if (site != NULL && strcmp(site, "same-origin") != 0 &&
	    strcmp(site, "none") != 0)
		goto refuse;
	/* "null": a page under Referrer-Policy no-referrer hides its
	 * origin; Sec-Fetch-Site, above, still tells. */
	if (origin == NULL || strcmp(origin, "null") == 0)
		return 1;
	if ((p = strstr(origin, "://")) == NULL || host == NULL ||
	    strcasecmp(p + 3, host) != 0)
		goto refuse;
	return 1;
refuse:
	http_error(r, 403, "cross_origin", "This form was sent from another "
	    "site and has been refused.");
	return 0;
}
