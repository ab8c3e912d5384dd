/*
 * Staff accounts: `rollcalld account add|disable` and the one-time link's
 * page where a person sets the password. The link's secret is 256 random
 * bits that only the printed link holds; the database keeps its SHA-256
 * and lets it be used once, within ACCOUNT_LINK_SECS.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <sodium.h>

#include "server.h"

/* The command's usage lines. */
static void
account_usage(void)
{
	fprintf(stderr, "usage: rollcalld account add --email E --name N "
	    "--role ROLE [--event ID]...\n"
	    "                 [--lang en|zh-CN] [--public-url URL] "
	    "[--db CONNINFO]\n"
	    "       rollcalld account disable --email E [--db CONNINFO]\n"
	    "  ROLE: organizer (needs --event), admin, committee, leader, "
	    "track_owner, infra\n"
	    "  (a leader's chapters come from the chapters' leader rows, by "
	    "e-mail)\n");
}

/* The roles an account may have: every staff role. */
static const char *const account_roles[] = { "organizer", "admin",
    "committee", "leader", "track_owner", "infra", NULL };

/* Whether role is one of them. */
static int
account_role_ok(const char *role)
{
	const char *const *p;

	for (p = account_roles; role != NULL && *p != NULL; p++)
		if (strcmp(role, *p) == 0)
			return 1;
	return 0;
}

/* Print the new account and, on the last line, its one-time link. */
static int
account_add(struct db_conn *pg, const char *email, const char *name,
    const char *lang, const char *role, const int64_t *ids, int nids,
    const char *url)
{
	char		 secret[48], hash[SECRET_HEX], secs[16];
	char		*events = NULL;
	const char	*vals[9];
	struct db_res	*res = NULL;
	json_t		*o = NULL;
	int		 rc = 1;

	if (nids > 0 && (events = auth_ids_pg(ids, nids)) == NULL)
		goto out;
	secret_random_id(secret, sizeof(secret), SECRET_BYTES);
	secret_hash_hex(secret, hash, sizeof(hash));
	snprintf(secs, sizeof(secs), "%d", ACCOUNT_LINK_SECS);
	vals[0] = email;
	vals[1] = name;
	vals[2] = lang;
	vals[3] = role;
	vals[4] = events;
	vals[5] = hash;
	vals[6] = secs;
	vals[7] = "command-line";
	vals[8] = NULL;
	res = db_run(pg, SQL_ACCOUNT_ADD, vals, 9);
	if (!db_ok(res) || (o = db_json(res)) == NULL) {
		fprintf(stderr, "rollcalld: cannot add the account: %s\n",
		    db_detail(res) ? db_detail(res) : db_error(res));
		goto out;
	}
	printf("account %lld: %s <%s>, %s\n",
	    (long long)json_integer_value(json_object_get(o, "id")), name,
	    email, role);
	printf("link valid until %s; open it to set the password:\n",
	    json_string_value(json_object_get(o, "link_expires_at")));
	printf("%s/console/password/%s\n", url, secret);
	rc = 0;
out:
	sodium_memzero(secret, sizeof(secret));
	json_decref(o);
	db_res_free(res);
	free(events);
	return rc;
}

/* Disable an account: its sessions end at once. */
static int
account_disable(struct db_conn *pg, const char *email)
{
	const char	*vals[2] = { email, "command-line" };
	struct db_res	*res = db_run(pg, SQL_ACCOUNT_DISABLE, vals, 2);
	int		 rc = 1;

	if (!db_ok(res) || db_rows(res) != 1)
		fprintf(stderr, "rollcalld: cannot disable the account: %s\n",
		    db_detail(res) ? db_detail(res) : db_error(res));
	else {
		printf("account %s disabled\n", email);
		rc = 0;
	}
	db_res_free(res);
	return rc;
}

/* rollcalld account add|disable ... */
int
account_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "email", required_argument, NULL, 'm' },
		{ "name", required_argument, NULL, 'n' },
		{ "role", required_argument, NULL, 'r' },
		{ "event", required_argument, NULL, 'e' },
		{ "lang", required_argument, NULL, 'l' },
		{ "public-url", required_argument, NULL, 'u' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	int64_t		 ids[SCOPE_MAXEVENTS];
	const char	*email = NULL, *name = NULL, *role = NULL, *db = NULL;
	const char	*lang = "en", *url = getenv("ROLLCALL_PUBLIC_URL");
	const char	*verb;
	struct db_conn	*pg;
	int		 ch, nids = 0, rc;

	if (argc < 2) {
		account_usage();
		return 2;
	}
	verb = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'm': email = optarg; break;
		case 'n': name = optarg; break;
		case 'r': role = optarg; break;
		case 'l': lang = optarg; break;
		case 'u': url = optarg; break;
		case 'd': db = optarg; break;
		case 'e':
			if (nids == SCOPE_MAXEVENTS || parse_int64(optarg, 1,
			    ID_MAX, &ids[nids]) == -1) {
				fprintf(stderr, "rollcalld: --event wants an "
				    "event id\n");
				return 2;
			}
			nids++;
			break;
		default:
			account_usage();
			return 2;
		}
	}
	if (optind != argc || email == NULL || validate_email(email) == -1) {
		account_usage();
		return 2;
	}
	if (strcmp(verb, "add") == 0) {
		if (name == NULL || *name == '\0' ||
		    strlen(name) > FIELD_MAXTEXT || validate_utf8(name) == -1 ||
		    !account_role_ok(role) || (strcmp(lang, "en") != 0 &&
		    strcmp(lang, "zh-CN") != 0)) {
			account_usage();
			return 2;
		}
		if (strcmp(role, "organizer") == 0 && nids == 0) {
			fprintf(stderr, "rollcalld: an organizer needs "
			    "--event (an admin covers every event)\n");
			return 2;
		}
		if (url == NULL || *url == '\0')
			url = "http://127.0.0.1:8080";
		if (validate_url(url) == -1 || url[strlen(url) - 1] == '/') {
			fprintf(stderr, "rollcalld: --public-url wants "
			    "http(s)://HOST[:PORT] without a trailing /\n");
			return 2;
		}
	} else if (strcmp(verb, "disable") != 0) {
		account_usage();
		return 2;
	}
	if ((pg = db_connect_blocking(db_conninfo(db))) == NULL)
		return 1;
	rc = strcmp(verb, "add") == 0 ?
	    account_add(pg, email, name, lang, role, ids, nids, url) :
	    account_disable(pg, email);
	db_close(pg);
	return rc;
}

/* The set-password form for the link's account, or 404 when spent. */
static void
password_form(struct req *r, struct db_res *res)
{
	json_t	*ctx, *link;

	if ((link = db_json(res)) == NULL) {
		http_error(r, 404, "link_expired", "This link has expired or "
		    "has already been used.");
		return;
	}
	ctx = web_ctx(r, "c_password_title");
	if (ctx == NULL) {
		json_decref(link);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_object_set_new(ctx, "link", link);
	json_object_set_new(ctx, "secret", json_string(r->params[0]));
	json_object_set_new(ctx, "min", json_integer(PWHASH_MINPASSWORD));
	if (r->errmsg[0] != '\0')
		json_object_set(ctx, "error", json_object_get(
		    json_object_get(ctx, "t"), r->errmsg));
	web_page_csp(r, r->errmsg[0] != '\0' ? 400 : 200, "console_password",
	    ctx, WEB_CSP_SCRIPT);
}

/* GET /console/password/{secret} */
void
account_password_page(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_ACCOUNT_LINK, vals, 1, password_form);
}

/* The password is set and the session started: into the console. */
static void
password_done(struct req *r, struct db_res *res)
{
	(void)res;
	session_set_cookie(r, r->secret);
	sodium_memzero(r->secret, sizeof(r->secret));
	web_redirect(r, "/console");
}

/* The worker has hashed the new password: spend the link with it. */
static void
password_hashed(void *arg, int rc, const char *pwhash)
{
	struct req	*r = arg;
	char		 sess[SECRET_HEX];
	const char	*vals[4];

	if (rc == -1) {
		http_error(r, 503, "busy", "The password could not be saved; "
		    "try again.");
		return;
	}
	secret_random_id(r->secret, sizeof(r->secret), SECRET_BYTES);
	secret_hash_hex(r->secret, sess, sizeof(sess));
	vals[0] = r->secret_hash;
	vals[1] = pwhash;
	vals[2] = sess;
	vals[3] = r->addr;
	req_query(r, SQL_ACCOUNT_SET_PASSWORD, vals, 4, password_done);
}

/* POST /console/password/{secret} {csrf, password, repeat} */
void
account_password_set(struct req *r)
{
	const char	*pw = json_string_value(json_object_get(r->body,
	    "password"));
	const char	*again = json_string_value(json_object_get(r->body,
	    "repeat"));
	const char	*vals[1] = { r->secret_hash };

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (pw == NULL || again == NULL || strcmp(pw, again) != 0)
		snprintf(r->errmsg, sizeof(r->errmsg), "c_password_differ");
	else if (strlen(pw) < PWHASH_MINPASSWORD ||
	    strlen(pw) > PWHASH_MAXPASSWORD || validate_utf8(pw) == -1)
		snprintf(r->errmsg, sizeof(r->errmsg), "c_password_short");
	if (r->errmsg[0] != '\0') {
		req_query(r, SQL_ACCOUNT_LINK, vals, 1, password_form);
		return;
	}
	if (pwhash_hash(pw, password_hashed, r) == -1) {
		http_error(r, 503, "busy", "The server is busy; try again in "
		    "a moment.");
		return;
	}
	sodium_memzero((char *)pw, strlen(pw));
	sodium_memzero((char *)again, strlen(again));
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

/* The reset form; sent: the one answer, whoever the address is. */
static void
reset_form(struct req *r, int status, int sent, const char *msg_key)
{
	json_t	*ctx = web_ctx(r, "c_reset_title");

	if (ctx == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	if (sent)
		json_object_set_new(ctx, "sent", json_true());
	if (msg_key != NULL)
		json_object_set(ctx, "error", json_object_get(
		    json_object_get(ctx, "t"), msg_key));
	web_page_csp(r, status, "console_reset", ctx, WEB_CSP_SCRIPT);
}

/* GET /console/reset */
void
account_reset_page(struct req *r)
{
	reset_form(r, 200, 0, NULL);
}

/* The request is recorded (and mailed, if the address has an account). */
static void
reset_done(struct req *r, struct db_res *res)
{
	(void)res;
	reset_form(r, 200, 1, NULL);
}

/* POST /console/reset {csrf, email}: the same answer for every address. */
void
account_reset(struct req *r)
{
	const char	*email = json_string_value(json_object_get(r->body,
	    "email"));
	char		 key[RATE_MAXKEY], secret[48], hash[SECRET_HEX];
	char		 sealed[SECRET_SEALED_HEX], secs[16];
	const char	*vals[4];
	int		 retry;
	time_t		 now = time(NULL);

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (email == NULL || strlen(email) > FIELD_MAXEMAIL ||
	    validate_email(email) == -1) {
		reset_form(r, 400, 0, "c_reset_invalid");
		return;
	}
	snprintf(key, sizeof(key), "reset-addr:%s", r->addr);
	if (!rate_allow(key, now, RESET_PER_ADDR, &retry)) {
		reset_form(r, 429, 0, "c_login_slow");
		return;
	}
	email_key(key, sizeof(key), "reset-acct:", email);
	if (!rate_allow(key, now, RESET_PER_ACCOUNT, &retry)) {
		reset_form(r, 429, 0, "c_login_slow");
		return;
	}
	secret_random_id(secret, sizeof(secret), SECRET_BYTES);
	secret_hash_hex(secret, hash, sizeof(hash));
	if (secret_seal(secret, sealed, sizeof(sealed)) == -1)
		sealed[0] = '\0';
	snprintf(secs, sizeof(secs), "%d", ACCOUNT_RESET_SECS);
	vals[0] = email;
	vals[1] = hash;
	vals[2] = secs;
	vals[3] = sealed;
	req_query(r, SQL_ACCOUNT_RESET, vals, 4, reset_done);
	sodium_memzero(secret, sizeof(secret));
}

/* The accounts page (admins): the list and the invite form. */
static void
accounts_done(struct req *r, struct db_res *res)
{
	json_t		*ctx, *data, *a, *v, *labels;
	const char	*done = req_query_arg(r, "done");
	char		 k[32];
	size_t		 i, j;

	if ((data = db_json(res)) == NULL ||
	    (ctx = console_ctx(r, "c_accounts_title")) == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	/* Each account's roles, by their words in the page's language. */
	json_array_foreach(json_object_get(data, "accounts"), i, a) {
		labels = json_array();
		json_array_foreach(json_object_get(a, "roles"), j, v) {
			snprintf(k, sizeof(k), "ch_staff_%s",
			    json_string_value(v));
			json_array_append(labels, json_object_get(
			    json_object_get(ctx, "t"), k));
		}
		json_object_set_new(a, "role_labels", labels);
	}
	json_object_set_new(ctx, "data", data);
	if (done != NULL && (strcmp(done, "invited") == 0 ||
	    strcmp(done, "disabled") == 0)) {
		snprintf(k, sizeof(k), "c_acc_%s", done);
		json_object_set(ctx, "notice", json_object_get(
		    json_object_get(ctx, "t"), k));
	}
	web_page_csp(r, 200, "console_accounts", ctx, WEB_CSP_SCRIPT);
}

/* GET /console/accounts */
void
account_list(struct req *r)
{
	req_query(r, SQL_CONSOLE_ACCOUNTS, NULL, 0, accounts_done);
}

/* Invited or disabled: back to the list with a word of what happened. */
static void
accounts_changed(struct req *r, struct db_res *res)
{
	(void)res;
	web_redirect(r, r->errmsg);
}

/* The invite form's events: ids separated by commas or spaces. */
static int
form_events(const char *s, int64_t *ids, int *nids)
{
	char	 buf[512], *p, *tok;

	*nids = 0;
	if (s == NULL)
		return 0;
	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	for (p = buf; (tok = strsep(&p, ", ")) != NULL;) {
		if (*tok == '\0')
			continue;
		if (*nids == SCOPE_MAXEVENTS ||
		    parse_int64(tok, 1, ID_MAX, &ids[*nids]) == -1)
			return -1;
		(*nids)++;
	}
	return 0;
}

/*
 * POST /console/accounts {csrf, email, name, role, events, chapter, lang}:
 * the account as `rollcalld account add` makes it, its link e-mailed.
 * Admins grant any staff role; the committee every one but admin,
 * committee and infra. A leader or track owner invited with a chapter
 * also gets that chapter's leader row (the grant of its scope).
 */
void
account_invite(struct req *r)
{
	const char	*email = json_string_value(json_object_get(r->body,
	    "email"));
	const char	*name = json_string_value(json_object_get(r->body,
	    "name"));
	const char	*role = json_string_value(json_object_get(r->body,
	    "role"));
	const char	*lang = json_string_value(json_object_get(r->body,
	    "lang"));
	const char	*chapter = json_string_value(json_object_get(r->body,
	    "chapter"));
	int64_t		 ids[SCOPE_MAXEVENTS];
	char		 secret[48], hash[SECRET_HEX], sealed[SECRET_SEALED_HEX];
	char		 secs[16], *events = NULL, *text;
	const char	*vals[6];
	json_t		*who;
	int		 nids;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (lang == NULL || *lang == '\0')
		lang = "en";
	if (email == NULL || strlen(email) > FIELD_MAXEMAIL ||
	    validate_email(email) == -1) {
		http_error(r, 400, "invalid_field", "email: an e-mail address.");
		return;
	}
	if (name == NULL || *name == '\0' || strlen(name) > FIELD_MAXTEXT ||
	    validate_utf8(name) == -1 || strchr(name, '\n') != NULL) {
		http_error(r, 400, "invalid_field", "name: UTF-8 text, 1 to %d "
		    "bytes on one line.", FIELD_MAXTEXT);
		return;
	}
	if (!account_role_ok(role) || (strcmp(lang, "en") != 0 &&
	    strcmp(lang, "zh-CN") != 0)) {
		http_error(r, 400, "invalid_field", "role: organizer, leader, "
		    "track_owner, committee, infra or admin; lang: en or "
		    "zh-CN.");
		return;
	}
	if (!(r->auth.roles & ACCESS_ADMIN) && (strcmp(role, "admin") == 0 ||
	    strcmp(role, "committee") == 0 || strcmp(role, "infra") == 0)) {
		http_error(r, 403, "forbidden", "Only an admin may grant the "
		    "admin, committee and infra roles.");
		return;
	}
	if (chapter != NULL && *chapter == '\0')
		chapter = NULL;
	if (chapter != NULL && (!chapter_slug_ok(chapter) ||
	    (strcmp(role, "leader") != 0 && strcmp(role, "track_owner") != 0))) {
		http_error(r, 400, "invalid_field", "chapter: a chapter's slug, "
		    "for a leader or a track owner only.");
		return;
	}
	if (form_events(json_string_value(json_object_get(r->body, "events")),
	    ids, &nids) == -1 || (strcmp(role, "organizer") == 0 &&
	    nids == 0)) {
		http_error(r, 400, "invalid_field", "events: an organizer "
		    "needs the ids of its events, separated by commas.");
		return;
	}
	if (nids > 0 && (events = auth_ids_pg(ids, nids)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	secret_random_id(secret, sizeof(secret), SECRET_BYTES);
	secret_hash_hex(secret, hash, sizeof(hash));
	if (secret_seal(secret, sealed, sizeof(sealed)) == -1)
		sealed[0] = '\0';
	sodium_memzero(secret, sizeof(secret));
	snprintf(secs, sizeof(secs), "%d", ACCOUNT_LINK_SECS);
	snprintf(r->errmsg, sizeof(r->errmsg), "/console/accounts?done="
	    "invited");
	who = json_pack("{s:s, s:s, s:s, s:s, s:s?}", "email", email, "name",
	    name, "lang", lang, "role", role, "chapter", chapter);
	if (who == NULL || (text = json_dumps(who, JSON_COMPACT)) == NULL) {
		json_decref(who);
		free(events);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = text;
	vals[1] = events;
	vals[2] = hash;
	vals[3] = secs;
	vals[4] = r->auth.jti;
	vals[5] = sealed;
	req_query(r, SQL_ACCOUNT_INVITE, vals, 6, accounts_changed);
	json_decref(who);
	free(text);
	free(events);
}

/* POST /console/accounts/disable {csrf, email}: rc_account_disable. */
void
account_disable_post(struct req *r)
{
	const char	*email = json_string_value(json_object_get(r->body,
	    "email"));
	const char	*vals[2];

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (email == NULL || strlen(email) > FIELD_MAXEMAIL ||
	    validate_email(email) == -1) {
		http_error(r, 400, "invalid_field", "email: an e-mail address.");
		return;
	}
	snprintf(r->errmsg, sizeof(r->errmsg), "/console/accounts?done="
	    "disabled");
	vals[0] = email;
	vals[1] = r->auth.jti;
	req_query(r, SQL_ACCOUNT_DISABLE, vals, 2, accounts_changed);
}
