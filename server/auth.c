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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	[ROLE_COMMITTEE] = "committee",
	[ROLE_LEADER] = "leader",
	[ROLE_TRACK_OWNER] = "track_owner",
	[ROLE_INFRA] = "infra",
};

/* The name of a role. */
const char *
role_str(enum role r)
{
	if ((int)r < 0 || r >= ROLE__MAX)
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
	for (i = ROLE_DOOR; i < ROLE__MAX; i++)
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
auth_load_secret(struct db_conn *pg)
{
	unsigned char	 key[TOKEN_SECRET_LEN];

	if (db_secret(pg, TOKEN_SECRET_NAME, key, sizeof(key)) == -1)
		return -1;
	auth_set_secret(key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	return 0;
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
	    !util_urlsafe(tok, 1))
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
	    !util_urlsafe(jti, 1))
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
char *
auth_ids_pg(const int64_t *ids, int n)
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
int
auth_parse_pg_ids(const char *s, int64_t **out)
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
	if (a->role == ROLE_ADMIN || (a->roles & ACCESS_ADMIN) ||
	    a->all_events)
		return NULL;
	return auth_ids_pg(a->events, a->nevents);
}

/* True when the request's staff token covers the event. */
int
auth_in_scope(const struct auth *a, int64_t event)
{
	int	 i;

	if (a->role == ROLE_ADMIN || (a->roles & ACCESS_ADMIN) ||
	    a->all_events)
		return a->role != ROLE_NONE;
	for (i = 0; i < a->nevents; i++)
		if (a->events[i] == event)
			return 1;
	return 0;
}


/*
 * Fill a from its token's row (role, name, events, sponsor), as
 * SQL_TOKEN_LOOKUP returns it. -1, with a sentence in why, when the row
 * is missing or does not match what the signed token claims.
 */
int
auth_from_row(struct auth *a, const struct db_res *res, const char **why)
{
	if (db_rows(res) != 1) {
		*why = "This token has been revoked or has expired.";
		return -1;
	}
	if (role_from_str(db_value(res, 0, 0)) != a->role) {
		*why = "This token does not match its record.";
		return -1;
	}
	snprintf(a->name, sizeof(a->name), "%s", db_value(res, 0, 1));
	if (db_isnull(res, 0, 2))
		a->all_events = 1;
	else if ((a->nevents = auth_parse_pg_ids(db_value(res, 0, 2),
	    &a->events)) < 0) {
		a->nevents = 0;
		*why = "This token's scope is unreadable.";
		return -1;
	}
	parse_int64(db_value(res, 0, 3), 0, INT64_MAX, &a->sponsor_id);
	a->roles = 1u << a->role;
	if (!db_isnull(res, 0, 4) && (a->nchapters = auth_parse_pg_ids(
	    db_value(res, 0, 4), &a->chapters)) < 0) {
		a->nchapters = 0;
		*why = "This token's chapters are unreadable.";
		return -1;
	}
	return 0;
}

/* Forget the signing secret (commands, before they exit). */
void
auth_clear_secret(void)
{
	sodium_memzero(token_secret, sizeof(token_secret));
	token_secret_set = 0;
}
