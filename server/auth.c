/*
 * Staff tokens: HS256 JWTs made and checked with libjwt, the secret kept
 * in the database so every server process shares it.
 *
 * libjwt 1.10 trusts the header's "alg": with a NULL key it verifies
 * nothing, and an HS256 token "signed" with a public key passes where an
 * RSA key is expected. So verification always passes our key, pins the
 * algorithm to HS256 after decoding, and checks iss and exp itself.
 * A good signature is not enough: every request then reads the token's
 * row (revocation, role, current scope) from the database.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/http.h>
#include <jwt.h>
#include <sodium.h>

#include "server.h"

static unsigned char	token_secret[TOKEN_SECRET_LEN];
static int		token_secret_set;

static const char *const role_names[] = {
	[ROLE_NONE] = "none",
	[ROLE_DOOR] = "door",
	[ROLE_SPONSOR] = "sponsor",
	[ROLE_ORGANIZER] = "organizer",
	[ROLE_ADMIN] = "admin",
};

/* The name of a role. */
const char *
role_str(enum role r)
{
	if ((int)r < 0 || r > ROLE_ADMIN)
		return "none";
	return role_names[r];
}

/* A role by name; ROLE_NONE when unknown. */
enum role
role_from_str(const char *s)
{
	int	 i;

	if (s == NULL)
		return ROLE_NONE;
	for (i = ROLE_DOOR; i <= ROLE_ADMIN; i++)
		if (strcmp(s, role_names[i]) == 0)
			return (enum role)i;
	return ROLE_NONE;
}

/* Use this signing secret (tests and the loader). */
void
auth_set_secret(const unsigned char *key, size_t len)
{
	if (len != sizeof(token_secret))
		abort();
	memcpy(token_secret, key, len);
	token_secret_set = 1;
}

/*
 * Create the signing secret once (the first process wins the insert) and
 * read back whichever one the database kept.
 */
int
auth_load_secret(PGconn *pg)
{
	unsigned char	 key[TOKEN_SECRET_LEN];

	if (db_secret(pg, TOKEN_SECRET_NAME, key, sizeof(key)) == -1)
		return -1;
	auth_set_secret(key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	return 0;
}

/* A new random token id: 128 bits, URL-safe base64. */
static void
auth_new_jti(char *out, size_t outsz)
{
	unsigned char	 raw[16];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, outsz, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/*
 * Sign a staff token. events == NULL means every event. Returns a string
 * the caller frees, or NULL.
 */
char *
auth_sign(const char *jti, enum role role, const char *name,
    const int64_t *events, int nevents, int64_t sponsor, long iat, long exp)
{
	jwt_t	*jwt = NULL;
	char	*out = NULL, *ev = NULL;
	json_t	*arr = NULL, *obj = NULL;
	int	 i;

	if (!token_secret_set || jwt_new(&jwt) != 0)
		return NULL;
	if (jwt_add_grant(jwt, "iss", TOKEN_ISSUER) ||
	    jwt_add_grant(jwt, "sub", name) ||
	    jwt_add_grant(jwt, "role", role_str(role)) ||
	    jwt_add_grant(jwt, "jti", jti) ||
	    jwt_add_grant_int(jwt, "iat", iat) ||
	    jwt_add_grant_int(jwt, "exp", exp))
		goto out;
	if (sponsor > 0 && jwt_add_grant_int(jwt, "sponsor", (long)sponsor))
		goto out;
	if (events != NULL) {
		if ((arr = json_array()) == NULL)
			goto out;
		for (i = 0; i < nevents; i++)
			json_array_append_new(arr, json_integer(events[i]));
		if ((obj = json_pack("{s:O}", "events", arr)) == NULL ||
		    (ev = json_dumps(obj, JSON_COMPACT)) == NULL ||
		    jwt_add_grants_json(jwt, ev))
			goto out;
	}
	if (jwt_set_alg(jwt, JWT_ALG_HS256, token_secret, sizeof(token_secret)))
		goto out;
	out = jwt_encode_str(jwt);
out:
	free(ev);
	json_decref(obj);
	json_decref(arr);
	jwt_free(jwt);
	return out;
}

/* True when every byte is from the JWT alphabet. */
static int
token_charset_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return 0;
	return 1;
}

/*
 * Verify a staff token's signature and claims (not its revocation).
 * Returns 0 and fills c, or -1.
 */
int
auth_verify(const char *tok, struct claims *c)
{
	jwt_t		*jwt = NULL;
	const char	*iss, *jti, *role;
	long		 exp;
	size_t		 len;
	int		 rc = -1;

	memset(c, 0, sizeof(*c));
	len = strlen(tok);
	if (!token_secret_set || len == 0 || len > AUTH_MAXTOKEN ||
	    !token_charset_ok(tok))
		return -1;
	if (jwt_decode(&jwt, tok, token_secret, sizeof(token_secret)) != 0)
		return -1;
	/* Pin the algorithm: blocks "none" and key-type confusion. */
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;
	iss = jwt_get_grant(jwt, "iss");
	if (iss == NULL || strcmp(iss, TOKEN_ISSUER) != 0)
		goto out;
	errno = 0;
	exp = jwt_get_grant_int(jwt, "exp");
	if (errno == ENOENT || errno == EINVAL || exp <= (long)time(NULL))
		goto out;
	jti = jwt_get_grant(jwt, "jti");
	if (jti == NULL || strlen(jti) == 0 || strlen(jti) >= sizeof(c->jti) ||
	    !token_charset_ok(jti))
		goto out;
	role = jwt_get_grant(jwt, "role");
	if ((c->role = role_from_str(role)) == ROLE_NONE)
		goto out;
	snprintf(c->jti, sizeof(c->jti), "%s", jti);
	c->exp = exp;
	rc = 0;
out:
	jwt_free(jwt);
	return rc;
}

/* Render ids as PostgreSQL array text, or NULL for "all". */
static char *
ids_to_pg(const int64_t *ids, int n)
{
	char	*s, *p;
	int	 i;

	if (ids == NULL)
		return NULL;
	if ((s = malloc((size_t)n * 21 + 3)) == NULL)
		return NULL;
	p = s;
	*p++ = '{';
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s%lld", i ? "," : "", (long long)ids[i]);
	*p++ = '}';
	*p = '\0';
	return s;
}

/* Parse PostgreSQL's "{1,2,3}" into a new array of ids; -1 if malformed. */
static int
parse_pg_array(const char *s, int64_t **out)
{
	const char	*p;
	char		*end;
	long long	 v;
	size_t		 max = 1;
	int		 n = 0;

	*out = NULL;
	if (*s++ != '{')
		return -1;
	for (p = s; *p != '\0'; p++)
		max += *p == ',';
	if ((*out = calloc(max, sizeof(**out))) == NULL)
		return -1;
	while (*s != '}') {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || end == s || (size_t)n == max) {
			free(*out);
			*out = NULL;
			return -1;
		}
		(*out)[n++] = v;
		s = end;
		if (*s == ',')
			s++;
	}
	return n;
}

/* The request's scope as PostgreSQL array text; NULL for every event. */
char *
auth_scope_pg(const struct auth *a)
{
	if (a->role == ROLE_ADMIN || a->all_events)
		return NULL;
	return ids_to_pg(a->events, a->nevents);
}

/* True when the request's staff token covers the event. */
int
auth_in_scope(const struct auth *a, int64_t event)
{
	int	 i;

	if (a->role == ROLE_ADMIN || a->all_events)
		return a->role != ROLE_NONE;
	for (i = 0; i < a->nevents; i++)
		if (a->events[i] == event)
			return 1;
	return 0;
}

static void
auth_lookup_done(struct req *r, PGresult *res)
{
	const struct route	*rt = r->route;
	enum role		 role;

	if (PQntuples(res) != 1) {
		http_error(r, 401, "invalid_token", "This token has been "
		    "revoked or has expired.");
		return;
	}
	role = role_from_str(PQgetvalue(res, 0, 0));
	if (role != r->auth.role) {
		http_error(r, 401, "invalid_token", "This token does not "
		    "match its record.");
		return;
	}
	snprintf(r->auth.name, sizeof(r->auth.name), "%s",
	    PQgetvalue(res, 0, 1));
	if (PQgetisnull(res, 0, 2))
		r->auth.all_events = 1;
	else if ((r->auth.nevents = parse_pg_array(PQgetvalue(res, 0, 2),
	    &r->auth.events)) < 0) {
		r->auth.nevents = 0;
		http_error(r, 401, "invalid_token", "This token's scope is "
		    "unreadable.");
		return;
	}
	parse_int64(PQgetvalue(res, 0, 3), 0, INT64_MAX, &r->auth.sponsor_id);
	if (rt->access != ACCESS_ANY && !(rt->access & (1 << role))) {
		http_error(r, 403, "forbidden", "A %s token may not do this.",
		    role_str(role));
		return;
	}
	rt->fn(r);
}

/*
 * Establish who is asking, then run the route's handler. Routes open to
 * anyone still refuse a bad token rather than silently ignoring it.
 */
void
auth_resolve(struct req *r)
{
	const char	*hdr, *params[1];
	struct claims	 c;

	hdr = evhttp_find_header(evhttp_request_get_input_headers(r->ev),
	    "Authorization");
	if (hdr == NULL) {
		if (r->route->access == ACCESS_ANY) {
			r->route->fn(r);
			return;
		}
		http_error(r, 401, "missing_token", "This needs a staff "
		    "token: send \"Authorization: Bearer TOKEN\".");
		return;
	}
	if (strncasecmp(hdr, "Bearer ", 7) != 0 ||
	    auth_verify(hdr + 7, &c) == -1) {
		http_error(r, 401, "invalid_token", "The token is malformed, "
		    "expired, or not signed by this server.");
		return;
	}
	r->has_token = 1;
	r->auth.role = c.role;
	memcpy(r->auth.jti, c.jti, sizeof(r->auth.jti));
	sodium_memzero(&c, sizeof(c));
	/*
	 * A route whose one statement re-reads the token's row (revocation,
	 * role, scope) saves the round trip here; the claimed role still
	 * gets a quick refusal.
	 */
	if (r->route->flags & ROUTE_TOKEN_IN_SQL) {
		if (!(r->route->access & (1 << r->auth.role))) {
			http_error(r, 403, "forbidden", "A %s token may not do "
			    "this.", role_str(r->auth.role));
			return;
		}
		r->route->fn(r);
		return;
	}
	params[0] = r->auth.jti;
	req_query(r, SQL_TOKEN_LOOKUP, params, 1, auth_lookup_done);
}

/* Seconds from "90", "90s", "15m", "12h", "7d"; -1 when malformed. */
long
auth_parse_ttl(const char *s)
{
	int64_t		 v;
	char		 num[24];
	size_t		 len = strlen(s);
	long		 unit = 1;

	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's': unit = 1; num[--len] = '\0'; break;
	case 'm': unit = 60; num[--len] = '\0'; break;
	case 'h': unit = 3600; num[--len] = '\0'; break;
	case 'd': unit = 86400; num[--len] = '\0'; break;
	default: break;
	}
	if (parse_int64(num, 1, 3650L * 86400, &v) == -1 ||
	    v * unit > 3650L * 86400)
		return -1;
	return (long)(v * unit);
}

/*
 * Sign the token described by a row that rc_token_issue() returned and
 * add it to that object as "token". Returns 0 or -1.
 */
static int
token_attach(json_t *o, long iat)
{
	int64_t		 ids[SCOPE_MAXEVENTS];
	json_t		*evs = json_object_get(o, "events"), *v;
	const char	*jti, *name;
	size_t		 i;
	char		*tok;
	int		 n = 0;

	jti = json_string_value(json_object_get(o, "jti"));
	name = json_string_value(json_object_get(o, "name"));
	if (jti == NULL || name == NULL)
		return -1;
	if (json_is_array(evs))
		json_array_foreach(evs, i, v) {
			if (n == SCOPE_MAXEVENTS)
				return -1;
			ids[n++] = json_integer_value(v);
		}
	tok = auth_sign(jti, role_from_str(json_string_value(
	    json_object_get(o, "role"))), name, json_is_array(evs) ? ids : NULL,
	    n, json_integer_value(json_object_get(o, "sponsor_id")), iat,
	    (long)json_integer_value(json_object_get(o, "expires_epoch")));
	if (tok == NULL)
		return -1;
	json_object_set_new(o, "token", json_string(tok));
	json_object_del(o, "expires_epoch");
	sodium_memzero(tok, strlen(tok));
	free(tok);
	return 0;
}

static void
token_issue_done(struct req *r, PGresult *res)
{
	json_t		*o;
	json_error_t	 e;

	o = json_loads(PQgetvalue(res, 0, 0), 0, &e);
	if (o == NULL || token_attach(o, (long)time(NULL)) == -1) {
		json_decref(o);
		http_error(r, 503, "token_error", "The token could not be "
		    "signed; try again.");
		return;
	}
	http_reply_json(r, 201, o);
}

static const char *const issue_roles[] = { "door", "sponsor", "organizer",
    "admin", NULL };
static const struct vfield issue_fields[] = {
	{ "role", V_ENUM, 1, 0, 0, 0, issue_roles },
	{ "name", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "events", V_ARRAY_INT, 0, 1, 0, SCOPE_MAXEVENTS, NULL },
	{ "sponsor", V_INT, 0, 1, 1, INT64_C(1) << 53, NULL },
	{ "ttl", V_STRING, 0, 0, 1, 16, NULL },
};

/*
 * POST /api/v1/tokens: an admin issues any token; an organizer only door
 * and sponsor tokens, only for events in its own scope.
 */
void
token_issue(struct req *r)
{
	char		 jti[32], sponsor[24], exp[24];
	int64_t		 ids[SCOPE_MAXEVENTS];
	json_t		*evs, *v, *ttlv;
	enum role	 role;
	long		 ttl = 86400;
	char		*events = NULL, *scope = NULL;
	const char	*vals[8];
	size_t		 i;
	int		 n = 0;

	if (req_validate(r, issue_fields, sizeof(issue_fields) /
	    sizeof(issue_fields[0])) == -1)
		return;
	role = role_from_str(json_string_value(json_object_get(r->body,
	    "role")));
	if ((ttlv = json_object_get(r->body, "ttl")) != NULL &&
	    (ttl = auth_parse_ttl(json_string_value(ttlv))) == -1) {
		http_error(r, 400, "invalid_field", "ttl: a duration such as "
		    "\"12h\", \"7d\" or \"900s\".");
		return;
	}
	evs = json_object_get(r->body, "events");
	if (json_is_array(evs) && json_array_size(evs) == 0) {
		http_error(r, 400, "invalid_field", "events: an empty list would "
		    "grant nothing; leave it out to mean every event.");
		return;
	}
	if (json_is_array(evs))
		json_array_foreach(evs, i, v)
			ids[n++] = json_integer_value(v);
	if (role == ROLE_DOOR && n == 0) {
		http_error(r, 400, "invalid_field", "events: a door token "
		    "needs the events it may check in.");
		return;
	}
	if (r->auth.role == ROLE_ORGANIZER) {
		if (role != ROLE_DOOR && role != ROLE_SPONSOR) {
			http_error(r, 403, "forbidden", "An organizer may issue "
			    "door and sponsor tokens only.");
			return;
		}
		for (i = 0; i < (size_t)n; i++)
			if (!auth_in_scope(&r->auth, ids[i])) {
				http_error(r, 403, "out_of_scope", "Event %lld "
				    "is not in your token's scope.",
				    (long long)ids[i]);
				return;
			}
		scope = auth_scope_pg(&r->auth);
	}
	if (role == ROLE_SPONSOR &&
	    !json_is_integer(json_object_get(r->body, "sponsor"))) {
		http_error(r, 400, "invalid_field", "sponsor: a sponsor token "
		    "needs the sponsor's id.");
		free(scope);
		return;
	}
	if (n > 0)
		events = ids_to_pg(ids, n);
	auth_new_jti(jti, sizeof(jti));
	snprintf(sponsor, sizeof(sponsor), "%lld", (long long)
	    json_integer_value(json_object_get(r->body, "sponsor")));
	snprintf(exp, sizeof(exp), "%lld", (long long)time(NULL) + ttl);
	vals[0] = jti;
	vals[1] = role_str(role);
	vals[2] = json_string_value(json_object_get(r->body, "name"));
	vals[3] = events;
	vals[4] = strcmp(sponsor, "0") ? sponsor : "";
	vals[5] = exp;
	vals[6] = r->auth.jti;
	vals[7] = scope;
	req_query(r, SQL_TOKEN_ISSUE, vals, 8, token_issue_done);
	free(events);
	free(scope);
}

static void
token_revoke_done(struct req *r, PGresult *res)
{
	http_reply_raw_json(r, 200, PQgetvalue(res, 0, 0),
	    (size_t)PQgetlength(res, 0, 0));
}

/* DELETE /api/v1/tokens/{jti}: the database checks who may revoke what. */
void
token_revoke(struct req *r)
{
	char		*scope = NULL;
	const char	*vals[4];

	if (r->auth.role == ROLE_ORGANIZER)
		scope = auth_scope_pg(&r->auth);
	vals[0] = r->params[0];
	vals[1] = r->auth.jti;
	vals[2] = role_str(r->auth.role);
	vals[3] = scope;
	req_query(r, SQL_TOKEN_REVOKE, vals, 4, token_revoke_done);
	free(scope);
}

static void
token_usage(void)
{
	fprintf(stderr, "usage: rollcalld token --role ROLE --name NAME "
	    "[--event ID]... [--sponsor ID] [--ttl DURATION] [--db CONNINFO]\n");
}

/* rollcalld token: issue one staff token and print it on stdout. */
int
auth_cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "event", required_argument, NULL, 'e' },
		{ "sponsor", required_argument, NULL, 's' },
		{ "ttl", required_argument, NULL, 't' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	int64_t		 ids[SCOPE_MAXEVENTS], sp = 0;
	const char	*db = NULL, *name = NULL, *vals[8];
	enum role	 role = ROLE_NONE;
	long		 ttl = 30L * 86400;
	char		 jti[32], sponsor[24], exp[24];
	char		*events = NULL;
	PGconn		*pg = NULL;
	PGresult	*res = NULL;
	json_t		*o = NULL;
	int		 ch, n = 0, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			role = role_from_str(optarg);
			break;
		case 'n':
			name = optarg;
			break;
		case 'e':
			if (n == SCOPE_MAXEVENTS || parse_int64(optarg, 1,
			    INT64_C(1) << 53, &ids[n]) == -1) {
				fprintf(stderr, "rollcalld: --event wants an "
				    "event id\n");
				return 2;
			}
			n++;
			break;
		case 's':
			if (parse_int64(optarg, 1, INT64_C(1) << 53, &sp)) {
				fprintf(stderr, "rollcalld: --sponsor wants a "
				    "sponsor id\n");
				return 2;
			}
			break;
		case 't':
			if ((ttl = auth_parse_ttl(optarg)) == -1) {
				fprintf(stderr, "rollcalld: --ttl wants a "
				    "duration such as 12h or 30d\n");
				return 2;
			}
			break;
		case 'd':
			db = optarg;
			break;
		default:
			token_usage();
			return 2;
		}
	}
	if (role == ROLE_NONE || name == NULL || *name == '\0' ||
	    strlen(name) > FIELD_MAXTEXT || optind != argc) {
		token_usage();
		return 2;
	}
	if (role == ROLE_DOOR && n == 0) {
		fprintf(stderr, "rollcalld: a door token needs --event\n");
		return 2;
	}
	if (role == ROLE_SPONSOR && sp == 0) {
		fprintf(stderr, "rollcalld: a sponsor token needs --sponsor\n");
		return 2;
	}
	if ((pg = db_connect_blocking(db_conninfo(db))) == NULL ||
	    auth_load_secret(pg) == -1)
		goto out;
	if (n > 0 || role == ROLE_DOOR)
		events = ids_to_pg(ids, n);
	auth_new_jti(jti, sizeof(jti));
	snprintf(sponsor, sizeof(sponsor), "%lld", (long long)sp);
	snprintf(exp, sizeof(exp), "%lld", (long long)time(NULL) + ttl);
	vals[0] = jti;
	vals[1] = role_str(role);
	vals[2] = name;
	vals[3] = events;
	vals[4] = sp ? sponsor : "";
	vals[5] = exp;
	vals[6] = "command-line";
	vals[7] = NULL;
	res = PQexecParams(pg, sqls[SQL_TOKEN_ISSUE].text, 8, NULL, vals,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		fprintf(stderr, "rollcalld: cannot issue the token: %s",
		    PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) ?
		    PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) :
		    PQresultErrorMessage(res));
		fputc('\n', stderr);
		goto out;
	}
	o = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	if (o == NULL || token_attach(o, (long)time(NULL)) == -1) {
		fprintf(stderr, "rollcalld: cannot sign the token\n");
		goto out;
	}
	printf("%s\n", json_string_value(json_object_get(o, "token")));
	rc = 0;
out:
	json_decref(o);
	PQclear(res);
	PQfinish(pg);
	free(events);
	sodium_memzero(token_secret, sizeof(token_secret));
	return rc;
}
