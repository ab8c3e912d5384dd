/*
 * Unit tests for the pure parts of server/auth.c: signing and verifying
 * staff tokens, TTL parsing, role names and event scope.
 *
 * Hostile tokens are built two ways: with libjwt itself (same secret,
 * exactly one claim or the algorithm wrong), and by hand from base64url
 * pieces where libjwt would refuse to produce them (alg "none", RS256
 * and ES256 headers). Each is checked to be refused by auth_verify()
 * and to leave no identity behind in the claims.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jwt.h>
#include <sodium.h>

#include "server.h"
#include "unit.h"

/* The test secret: 32 known bytes, and a different one. */
static const unsigned char secret[TOKEN_SECRET_LEN] =
    "0123456789abcdef0123456789ABCDEF";
static const unsigned char other_secret[TOKEN_SECRET_LEN] =
    "fedcba9876543210FEDCBA9876543210";

/* ---------------------------------------------------------------- */
/* Helpers                                                            */

/* base64url without padding, as JWT wants it (caller frees). */
static char *
b64url(const void *data, size_t len)
{
	size_t	 n = sodium_base64_encoded_len(len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char	*out = malloc(n);

	assert_non_null(out);
	sodium_bin2base64(out, n, data, len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/* Decode one base64url segment into a NUL-terminated string. */
static char *
unb64url(const char *s, size_t len)
{
	unsigned char	*out = malloc(len + 1);
	size_t		 n;

	assert_non_null(out);
	assert_int_equal(sodium_base642bin(out, len, s, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	out[n] = '\0';
	return (char *)out;
}

/* header.payload.sig from JSON texts and a ready signature segment. */
static char *
hand_token(const char *header, const char *payload, const char *sig)
{
	char	*h = b64url(header, strlen(header));
	char	*p = b64url(payload, strlen(payload));
	size_t	 n = strlen(h) + strlen(p) + strlen(sig) + 3;
	char	*tok = malloc(n);

	assert_non_null(tok);
	snprintf(tok, n, "%s.%s.%s", h, p, sig);
	free(h);
	free(p);
	return tok;
}

/* A token signed by libjwt with any algorithm, key and claims. */
static char *
lib_token(jwt_alg_t alg, const unsigned char *key, int keylen,
    const char *claims)
{
	jwt_t	*jwt = NULL;
	char	*tok;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
	assert_int_equal(jwt_set_alg(jwt, alg, key, keylen), 0);
	tok = jwt_encode_str(jwt);
	jwt_free(jwt);
	assert_non_null(tok);
	return tok;
}

/* HS256 with the server's secret: only the claims can be wrong. */
static char *
hs256(const char *claims)
{
	return lib_token(JWT_ALG_HS256, secret, sizeof(secret), claims);
}

/* Claims that auth_verify accepts, with exp an hour ahead. */
static void
good_claims(char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "{\"iss\":\"rollcall\",\"sub\":\"Door 1\","
	    "\"role\":\"door\",\"jti\":\"Abc-123_xyz\",\"iat\":%lld,"
	    "\"exp\":%lld}", (long long)time(NULL),
	    (long long)time(NULL) + 3600);
}

static void
verify_ok(const char *tok, enum role want_role, const char *want_jti,
    const char *file, int line)
{
	struct claims	 c;
	char		*dup = exact(tok);
	int		 rc;

	rc = auth_verify(dup, &c);
	free(dup);
	if (rc != 0) {
		print_error("auth_verify(%s) refused a token it should "
		    "accept\n", showz(tok));
		soft_fail(file, line);
		return;
	}
	if (c.role != want_role || strcmp(c.jti, want_jti) != 0) {
		print_error("auth_verify(%s) gave role %s jti %s; expected "
		    "role %s jti %s\n", showz(tok), role_str(c.role),
		    showz(c.jti), role_str(want_role), want_jti);
		soft_fail(file, line);
	}
}

/* The token must be refused and the claims must say nobody. */
static void
verify_refused(const char *tok, const char *why, const char *file, int line)
{
	struct claims	 c;
	char		*dup = exact(tok);
	int		 rc;

	memset(&c, 0x55, sizeof(c));
	rc = auth_verify(dup, &c);
	free(dup);
	if (rc != -1) {
		print_error("auth_verify accepted a token with %s: %s "
		    "(role %s, jti %s)\n", why, showz(tok), role_str(c.role),
		    showz(c.jti));
		soft_fail(file, line);
		return;
	}
	if (c.role != ROLE_NONE || c.jti[0] != '\0' || c.exp != 0) {
		print_error("auth_verify refused a token with %s but left "
		    "role %d, jti %s, exp %ld in the claims\n", why,
		    (int)c.role, showz(c.jti), c.exp);
		soft_fail(file, line);
	}
}

#define VERIFY_OK(tok, role, jti) \
	verify_ok((tok), (role), (jti), __FILE__, __LINE__)
#define VERIFY_REFUSED(tok, why) \
	verify_refused((tok), (why), __FILE__, __LINE__)

/* Sign a token the way the server does, an hour ahead. */
static char *
server_token(const char *jti, enum role role)
{
	char	*tok;
	long	 now = (long)time(NULL);

	tok = auth_sign(jti, role, "Test Staff", NULL, 0, 0, now, now + 3600);
	assert_non_null(tok);
	return tok;
}

/* ---------------------------------------------------------------- */
/* Before a secret is set                                             */

static void
sign_and_verify_refuse_until_a_secret_is_set(void **state)
{
	char	 claims[512];
	char	*tok;

	(void)state;
	assert_null(auth_sign("abc", ROLE_ADMIN, "x", NULL, 0, 0, 1, 2));
	/* A token that is good once the secret is set, but not before. */
	good_claims(claims, sizeof(claims));
	tok = hs256(claims);
	VERIFY_REFUSED(tok, "no secret set yet");
	auth_set_secret(secret, sizeof(secret));
	VERIFY_OK(tok, ROLE_DOOR, "Abc-123_xyz");
	free(tok);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* Round trips                                                        */

static int
set_secret(void **state)
{
	(void)state;
	auth_set_secret(secret, sizeof(secret));
	return 0;
}

static void
sign_then_verify_round_trips_every_role(void **state)
{
	static const enum role roles[] = { ROLE_DOOR, ROLE_SPONSOR,
	    ROLE_ORGANIZER, ROLE_ADMIN };
	char		 jti[32];
	char		*tok;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		snprintf(jti, sizeof(jti), "jti-%s_%zu", role_str(roles[i]), i);
		tok = server_token(jti, roles[i]);
		VERIFY_OK(tok, roles[i], jti);
		free(tok);
	}
	CHECKS_PASSED();
}

static void
verify_reports_exp_from_the_token(void **state)
{
	struct claims	 c;
	long		 now = (long)time(NULL);
	char		*tok;

	(void)state;
	tok = auth_sign("e1", ROLE_DOOR, "d", NULL, 0, 0, now, now + 1234);
	assert_non_null(tok);
	assert_int_equal(auth_verify(tok, &c), 0);
	assert_int_equal(c.exp, now + 1234);
	free(tok);
	CHECKS_PASSED();
}

static void
sign_puts_issuer_subject_events_and_sponsor_in_the_claims(void **state)
{
	const int64_t	 events[] = { 7, 9007199254740992 };
	long		 now = (long)time(NULL);
	jwt_t		*jwt = NULL;
	char		*tok, *ev;

	(void)state;
	tok = auth_sign("s1", ROLE_SPONSOR, "Ada \"Sponsor\" Ltd", events, 2,
	    42, now, now + 60);
	assert_non_null(tok);
	assert_int_equal(jwt_decode(&jwt, tok, secret, sizeof(secret)), 0);
	assert_int_equal(jwt_get_alg(jwt), JWT_ALG_HS256);
	assert_string_equal(jwt_get_grant(jwt, "iss"), TOKEN_ISSUER);
	assert_string_equal(jwt_get_grant(jwt, "sub"), "Ada \"Sponsor\" Ltd");
	assert_string_equal(jwt_get_grant(jwt, "role"), "sponsor");
	assert_int_equal(jwt_get_grant_int(jwt, "sponsor"), 42);
	assert_int_equal(jwt_get_grant_int(jwt, "iat"), now);
	ev = jwt_get_grants_json(jwt, "events");
	assert_non_null(ev);
	assert_string_equal(ev, "[7,9007199254740992]");
	free(ev);
	jwt_free(jwt);
	free(tok);

	/* events == NULL means every event: no "events" claim at all. */
	tok = auth_sign("s2", ROLE_ADMIN, "Root", NULL, 0, 0, now, now + 60);
	assert_non_null(tok);
	assert_int_equal(jwt_decode(&jwt, tok, secret, sizeof(secret)), 0);
	assert_null(jwt_get_grants_json(jwt, "events"));
	errno = 0;
	(void)jwt_get_grant_int(jwt, "sponsor");
	assert_int_equal(errno, ENOENT);
	jwt_free(jwt);
	free(tok);
	CHECKS_PASSED();
}

static void
verify_accepts_a_libjwt_token_with_good_claims(void **state)
{
	char	 claims[512];
	char	*tok;

	(void)state;
	/* Shows that the hand-made refusals below differ only in one way. */
	good_claims(claims, sizeof(claims));
	tok = hs256(claims);
	VERIFY_OK(tok, ROLE_DOOR, "Abc-123_xyz");
	free(tok);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* Algorithms that must be refused                                    */

static void
verify_refuses_alg_none(void **state)
{
	static const char *const headers[] = {
		"{\"alg\":\"none\"}",
		"{\"alg\":\"none\",\"typ\":\"JWT\"}",
		"{\"alg\":\"None\",\"typ\":\"JWT\"}",
		"{\"alg\":\"NONE\",\"typ\":\"JWT\"}",
		"{\"typ\":\"JWT\"}",
		"{\"alg\":\"\",\"typ\":\"JWT\"}",
	};
	char	 claims[512];
	char	*tok, *good, *sig;
	size_t	 i;

	(void)state;
	good_claims(claims, sizeof(claims));
	good = hs256(claims);
	sig = strrchr(good, '.') + 1;
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		/* Empty signature, as alg "none" prescribes. */
		tok = hand_token(headers[i], claims, "");
		VERIFY_REFUSED(tok, headers[i]);
		free(tok);
		/* And with a real HS256 signature pasted on. */
		tok = hand_token(headers[i], claims, sig);
		VERIFY_REFUSED(tok, headers[i]);
		free(tok);
	}
	free(good);
	CHECKS_PASSED();
}

static void
verify_refuses_hs384_and_hs512_with_the_same_secret(void **state)
{
	char	 claims[512];
	char	*tok;

	(void)state;
	good_claims(claims, sizeof(claims));
	tok = lib_token(JWT_ALG_HS384, secret, sizeof(secret), claims);
	VERIFY_REFUSED(tok, "alg HS384 and the right secret");
	free(tok);
	tok = lib_token(JWT_ALG_HS512, secret, sizeof(secret), claims);
	VERIFY_REFUSED(tok, "alg HS512 and the right secret");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_rs256_and_es256_looking_tokens(void **state)
{
	unsigned char	 raw[256];
	char		 claims[512];
	char		*tok, *sig, *good;

	(void)state;
	good_claims(claims, sizeof(claims));
	randombytes_buf(raw, sizeof(raw));

	sig = b64url(raw, 256);			/* RSA-2048 signature size */
	tok = hand_token("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims, sig);
	VERIFY_REFUSED(tok, "alg RS256");
	free(tok);
	free(sig);

	sig = b64url(raw, 64);			/* ES256 R||S size */
	tok = hand_token("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", claims, sig);
	VERIFY_REFUSED(tok, "alg ES256");
	free(tok);
	free(sig);

	/* An RS256 header over a valid HMAC of the same bytes. */
	good = hs256(claims);
	tok = hand_token("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims,
	    strrchr(good, '.') + 1);
	VERIFY_REFUSED(tok, "alg RS256 and an HS256 signature");
	free(tok);
	free(good);

	tok = hand_token("{\"alg\":\"PS256\",\"typ\":\"JWT\"}", claims, "AAAA");
	VERIFY_REFUSED(tok, "alg PS256");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_a_wrong_secret(void **state)
{
	unsigned char	 one = 'x';
	char		 claims[512];
	char		*tok;

	(void)state;
	good_claims(claims, sizeof(claims));
	tok = lib_token(JWT_ALG_HS256, other_secret, sizeof(other_secret),
	    claims);
	VERIFY_REFUSED(tok, "another 32-byte secret");
	free(tok);
	tok = lib_token(JWT_ALG_HS256, secret, 31, claims);
	VERIFY_REFUSED(tok, "the secret's first 31 bytes");
	free(tok);
	tok = lib_token(JWT_ALG_HS256, &one, 1, claims);
	VERIFY_REFUSED(tok, "a 1-byte secret");
	free(tok);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* Claims that must be refused (correctly signed with the secret)     */

static void
refuse_claims(const char *claims, const char *why, const char *file,
    int line)
{
	char	*tok = hs256(claims);

	verify_refused(tok, why, file, line);
	free(tok);
}

#define REFUSE_CLAIMS(why, ...) do {					\
	char	 c_[512];						\
	snprintf(c_, sizeof(c_), __VA_ARGS__);				\
	refuse_claims(c_, (why), __FILE__, __LINE__);			\
} while (0)

#define ISS	"\"iss\":\"rollcall\""
#define ROLE	"\"role\":\"door\""
#define JTI	"\"jti\":\"j1\""

static void
verify_refuses_expired_or_missing_exp(void **state)
{
	long long	 now = (long long)time(NULL);

	(void)state;
	REFUSE_CLAIMS("exp an hour ago",
	    "{" ISS "," ROLE "," JTI ",\"exp\":%lld}", now - 3600);
	REFUSE_CLAIMS("exp one second ago",
	    "{" ISS "," ROLE "," JTI ",\"exp\":%lld}", now - 1);
	REFUSE_CLAIMS("exp equal to now",
	    "{" ISS "," ROLE "," JTI ",\"exp\":%lld}", now);
	REFUSE_CLAIMS("exp 0", "{" ISS "," ROLE "," JTI ",\"exp\":0}");
	REFUSE_CLAIMS("negative exp", "{" ISS "," ROLE "," JTI ",\"exp\":-1}");
	REFUSE_CLAIMS("no exp", "{" ISS "," ROLE "," JTI "}");
	REFUSE_CLAIMS("exp as a string",
	    "{" ISS "," ROLE "," JTI ",\"exp\":\"%lld\"}", now + 3600);
	REFUSE_CLAIMS("exp as a real",
	    "{" ISS "," ROLE "," JTI ",\"exp\":%lld.0}", now + 3600);
	REFUSE_CLAIMS("exp null", "{" ISS "," ROLE "," JTI ",\"exp\":null}");
	REFUSE_CLAIMS("exp true", "{" ISS "," ROLE "," JTI ",\"exp\":true}");
	CHECKS_PASSED();
}

static void
verify_refuses_a_wrong_or_missing_issuer(void **state)
{
	long long	 exp = (long long)time(NULL) + 3600;

	(void)state;
	REFUSE_CLAIMS("iss \"ticketd\"",
	    "{\"iss\":\"ticketd\"," ROLE "," JTI ",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("iss \"Rollcall\"",
	    "{\"iss\":\"Rollcall\"," ROLE "," JTI ",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("iss \"rollcall \"",
	    "{\"iss\":\"rollcall \"," ROLE "," JTI ",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("iss \"\"",
	    "{\"iss\":\"\"," ROLE "," JTI ",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("iss as a list",
	    "{\"iss\":[\"rollcall\"]," ROLE "," JTI ",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("no iss", "{" ROLE "," JTI ",\"exp\":%lld}", exp);
	CHECKS_PASSED();
}

static void
verify_refuses_a_missing_or_malformed_jti(void **state)
{
	long long	 exp = (long long)time(NULL) + 3600;
	char		 jti[80];
	char		 claims[512];
	char		*tok;

	(void)state;
	REFUSE_CLAIMS("no jti", "{" ISS "," ROLE ",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("jti \"\"",
	    "{" ISS "," ROLE ",\"jti\":\"\",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("jti as a number",
	    "{" ISS "," ROLE ",\"jti\":12,\"exp\":%lld}", exp);
	REFUSE_CLAIMS("jti with '/'",
	    "{" ISS "," ROLE ",\"jti\":\"a/b\",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("jti with a quote",
	    "{" ISS "," ROLE ",\"jti\":\"a'b\",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("jti with a newline",
	    "{" ISS "," ROLE ",\"jti\":\"a\\nb\",\"exp\":%lld}", exp);

	/* 63 bytes fit in struct claims; 64 do not. */
	memset(jti, 'j', 63);
	jti[63] = '\0';
	snprintf(claims, sizeof(claims), "{" ISS "," ROLE ",\"jti\":\"%s\","
	    "\"exp\":%lld}", jti, exp);
	tok = hs256(claims);
	VERIFY_OK(tok, ROLE_DOOR, jti);
	free(tok);
	jti[63] = 'j';
	jti[64] = '\0';
	REFUSE_CLAIMS("a 64-byte jti",
	    "{" ISS "," ROLE ",\"jti\":\"%s\",\"exp\":%lld}", jti, exp);
	CHECKS_PASSED();
}

static void
verify_refuses_an_unknown_role(void **state)
{
	long long	 exp = (long long)time(NULL) + 3600;

	(void)state;
	REFUSE_CLAIMS("role \"root\"",
	    "{" ISS ",\"role\":\"root\"," JTI ",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("role \"none\"",
	    "{" ISS ",\"role\":\"none\"," JTI ",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("role \"Admin\"",
	    "{" ISS ",\"role\":\"Admin\"," JTI ",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("role \"\"",
	    "{" ISS ",\"role\":\"\"," JTI ",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("role 4 (ROLE_ADMIN as a number)",
	    "{" ISS ",\"role\":4," JTI ",\"exp\":%lld}", exp);
	REFUSE_CLAIMS("no role", "{" ISS "," JTI ",\"exp\":%lld}", exp);
	CHECKS_PASSED();
}

static void
verify_refuses_a_server_token_signed_for_role_none(void **state)
{
	char	*tok;
	long	 now = (long)time(NULL);

	(void)state;
	tok = auth_sign("n1", ROLE_NONE, "nobody", NULL, 0, 0, now, now + 60);
	assert_non_null(tok);
	VERIFY_REFUSED(tok, "role none");
	free(tok);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* Damaged tokens                                                     */

static void
verify_refuses_a_tampered_payload(void **state)
{
	char	*tok, *dot1, *dot2, *payload, *p, *evil, *forged;
	size_t	 n;

	(void)state;
	tok = server_token("t1", ROLE_DOOR);
	dot1 = strchr(tok, '.');
	dot2 = strchr(dot1 + 1, '.');
	payload = unb64url(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	/* Promote the door token to admin, keep header and signature. */
	p = strstr(payload, "\"door\"");
	assert_non_null(p);
	n = strlen(payload) + 8;
	evil = malloc(n);
	assert_non_null(evil);
	snprintf(evil, n, "%.*s\"admin\"%s", (int)(p - payload), payload,
	    p + strlen("\"door\""));
	p = b64url(evil, strlen(evil));
	n = (size_t)(dot1 - tok) + strlen(p) + strlen(dot2) + 2;
	forged = malloc(n);
	assert_non_null(forged);
	snprintf(forged, n, "%.*s.%s%s", (int)(dot1 - tok), tok, p, dot2);
	VERIFY_REFUSED(forged, "role changed from door to admin");
	free(forged);
	free(p);
	free(evil);
	free(payload);

	/* One character of the payload changed. */
	dot1[3] = dot1[3] == 'A' ? 'B' : 'A';
	VERIFY_REFUSED(tok, "one payload character changed");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_a_tampered_signature(void **state)
{
	char	*tok, *sig;
	size_t	 i, len;
	char	 saved;

	(void)state;
	tok = server_token("t2", ROLE_ADMIN);
	sig = strrchr(tok, '.') + 1;
	len = strlen(sig);
	for (i = 0; i < len; i++) {
		saved = sig[i];
		sig[i] = saved == 'A' ? 'B' : 'A';
		VERIFY_REFUSED(tok, "one signature character changed");
		sig[i] = saved;
	}
	VERIFY_OK(tok, ROLE_ADMIN, "t2");	/* restored: accepted again */
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_truncated_tokens(void **state)
{
	char	*tok, *cut;
	size_t	 len, n;

	(void)state;
	tok = server_token("t3", ROLE_ORGANIZER);
	len = strlen(tok);
	cut = malloc(len + 1);
	assert_non_null(cut);
	/* Every proper prefix: header only, no signature, half a signature. */
	for (n = 0; n < len; n++) {
		memcpy(cut, tok, n);
		cut[n] = '\0';
		VERIFY_REFUSED(cut, "the token cut short");
	}
	free(cut);
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_extra_segments(void **state)
{
	char	 buf[1024];
	char	*tok;

	(void)state;
	tok = server_token("t4", ROLE_DOOR);
	snprintf(buf, sizeof(buf), "%s.", tok);
	VERIFY_REFUSED(buf, "a trailing dot");
	snprintf(buf, sizeof(buf), "%s.AAAA", tok);
	VERIFY_REFUSED(buf, "a fourth segment");
	snprintf(buf, sizeof(buf), "%s.AAAA.BBBB", tok);
	VERIFY_REFUSED(buf, "five segments (JWE-shaped)");
	snprintf(buf, sizeof(buf), ".%s", tok);
	VERIFY_REFUSED(buf, "a leading dot");
	VERIFY_REFUSED("..", "three empty segments");
	VERIFY_REFUSED(".", "two empty segments");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_caps_token_length_at_auth_maxtoken(void **state)
{
	long	 now = (long)time(NULL);
	size_t	 n, len, best_ok = 0, best_big = SIZE_MAX;
	char	*name, *tok;

	(void)state;
	/*
	 * Grow the name a byte at a time until the signed token passes
	 * AUTH_MAXTOKEN: the longest that fits must verify, the first
	 * that does not must be refused.
	 */
	for (n = AUTH_MAXTOKEN / 2; n < AUTH_MAXTOKEN; n++) {
		name = malloc(n + 1);
		assert_non_null(name);
		memset(name, 'n', n);
		name[n] = '\0';
		tok = auth_sign("big", ROLE_DOOR, name, NULL, 0, 0, now,
		    now + 600);
		free(name);
		assert_non_null(tok);
		len = strlen(tok);
		if (len <= AUTH_MAXTOKEN) {
			if (len > best_ok) {
				best_ok = len;
				VERIFY_OK(tok, ROLE_DOOR, "big");
			}
		} else {
			best_big = len;
			VERIFY_REFUSED(tok, "more than AUTH_MAXTOKEN bytes, "
			    "though correctly signed");
			free(tok);
			break;
		}
		free(tok);
	}
	/* The boundary was really probed from both sides. */
	assert_in_range(best_ok, AUTH_MAXTOKEN - 3, AUTH_MAXTOKEN);
	assert_in_range(best_big, AUTH_MAXTOKEN + 1, AUTH_MAXTOKEN + 4);
	CHECKS_PASSED();
}

static void
verify_refuses_an_oversize_blob(void **state)
{
	char	*big;

	(void)state;
	big = malloc(64 * 1024 + 1);
	assert_non_null(big);
	memset(big, 'A', 64 * 1024);
	big[100] = '.';
	big[200] = '.';
	big[64 * 1024] = '\0';
	VERIFY_REFUSED(big, "64 KiB");
	free(big);
	CHECKS_PASSED();
}

static void
verify_refuses_characters_outside_the_jwt_alphabet(void **state)
{
	static const char *const bad[] = { "=", " ", "\n", "\t", "+", "/",
	    "\"", "\xc3\xa9", "\x7f", "%" };
	char	 buf[1024];
	char	*tok, *sig;
	size_t	 i;

	(void)state;
	tok = server_token("t5", ROLE_DOOR);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", tok, bad[i]);
		VERIFY_REFUSED(buf, "a stray byte at the end");
		snprintf(buf, sizeof(buf), "%s%s", bad[i], tok);
		VERIFY_REFUSED(buf, "a stray byte at the start");
	}
	/* Standard base64 spelling of the same signature bytes. */
	sig = strrchr(tok, '.') + 1;
	for (i = 0; sig[i] != '\0'; i++) {
		if (sig[i] == '-')
			sig[i] = '+';
		else if (sig[i] == '_')
			sig[i] = '/';
	}
	snprintf(buf, sizeof(buf), "%s=", tok);
	VERIFY_REFUSED(buf, "standard base64 with padding");
	snprintf(buf, sizeof(buf), "Bearer %s", tok);
	VERIFY_REFUSED(buf, "the \"Bearer \" prefix still on");
	free(tok);
	CHECKS_PASSED();
}

/* h.p signed by hand: HMAC-SHA256 under the secret, base64url signature. */
static char *
hmac_token(const char *h, const char *p)
{
	unsigned char	 mac[crypto_auth_hmacsha256_BYTES];
	size_t		 n = strlen(h) + strlen(p) + 2;
	char		*input = malloc(n), *sig, *tok;

	assert_non_null(input);
	snprintf(input, n, "%s.%s", h, p);
	crypto_auth_hmacsha256(mac, (const unsigned char *)input, n - 1,
	    secret);
	sig = b64url(mac, sizeof(mac));
	n += strlen(sig) + 1;
	tok = malloc(n);
	assert_non_null(tok);
	snprintf(tok, n, "%s.%s", input, sig);
	free(input);
	free(sig);
	return tok;
}

/* Encode with a libsodium base64 variant (caller frees). */
static char *
b64_variant(const char *s, int variant)
{
	size_t	 n = sodium_base64_encoded_len(strlen(s), variant);
	char	*out = malloc(n);

	assert_non_null(out);
	sodium_bin2base64(out, n, (const unsigned char *)s, strlen(s), variant);
	return out;
}

/*
 * libjwt's decoder also takes the standard base64 alphabet and "="
 * padding, and the signature covers the text as sent: a token spelled
 * that way and signed with the secret verifies in libjwt. The server
 * still refuses it, because it is not the JWT alphabet.
 */
static void
verify_refuses_correctly_signed_standard_base64(void **state)
{
	const char	*header = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char		 claims[512];
	char		*h, *p, *tok;
	size_t		 len;

	(void)state;
	/* ">>>>>>" holds an aligned 0x3e3e3e, which base64 spells "Pj4+". */
	snprintf(claims, sizeof(claims), "{\"iss\":\"rollcall\","
	    "\"role\":\"door\",\"jti\":\"j1\",\"x\":\">>>>>>\","
	    "\"exp\":%lld}", (long long)time(NULL) + 3600);
	/* Pad the JSON with spaces until its base64 needs "=". */
	len = strlen(claims);
	while (len % 3 == 0) {
		memmove(claims + 1, claims, len + 1);
		claims[0] = ' ';
		len++;
	}

	/* The same construction in the JWT alphabet is accepted. */
	h = b64_variant(header, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	p = b64_variant(claims, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	tok = hmac_token(h, p);
	VERIFY_OK(tok, ROLE_DOOR, "j1");
	free(tok);
	free(p);

	p = b64_variant(claims, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	assert_non_null(strchr(p, '+'));
	tok = hmac_token(h, p);
	VERIFY_REFUSED(tok, "'+' from the standard base64 alphabet");
	free(tok);
	free(p);

	p = b64_variant(claims, sodium_base64_VARIANT_URLSAFE);
	assert_non_null(strchr(p, '='));
	tok = hmac_token(h, p);
	VERIFY_REFUSED(tok, "'=' padding");
	free(tok);
	free(p);
	free(h);
	CHECKS_PASSED();
}

static void
verify_refuses_the_empty_string(void **state)
{
	(void)state;
	VERIFY_REFUSED("", "nothing at all");
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* token_parse_ttl                                                     */

static void
ttl_is(const char *s, long want, const char *file, int line)
{
	char	*dup = exact(s);
	long	 got = token_parse_ttl(dup);

	free(dup);
	if (got != want) {
		print_error("token_parse_ttl(%s) = %ld, expected %ld\n",
		    showz(s), got, want);
		soft_fail(file, line);
	}
}

#define TTL_IS(s, want)		ttl_is((s), (want), __FILE__, __LINE__)
#define TTL_REFUSED(s)		ttl_is((s), -1, __FILE__, __LINE__)

static void
parse_ttl_accepts_seconds_minutes_hours_days(void **state)
{
	(void)state;
	TTL_IS("90", 90);
	TTL_IS("90s", 90);
	TTL_IS("15m", 900);
	TTL_IS("12h", 43200);
	TTL_IS("7d", 604800);
	TTL_IS("1s", 1);
	TTL_IS("3650d", 3650L * 86400);		/* the cap, exactly */
	TTL_IS("315360000", 3650L * 86400);
	TTL_IS("87600h", 3650L * 86400);
	CHECKS_PASSED();
}

static void
parse_ttl_refuses_malformed_or_out_of_range(void **state)
{
	(void)state;
	TTL_REFUSED("");
	TTL_REFUSED("0");
	TTL_REFUSED("0d");
	TTL_REFUSED("-1");
	TTL_REFUSED("-1h");
	TTL_REFUSED("1x");
	TTL_REFUSED("99999d");
	TTL_REFUSED("3651d");
	TTL_REFUSED("315360001");
	TTL_REFUSED("87601h");
	TTL_REFUSED("h");
	TTL_REFUSED("s");
	TTL_REFUSED("5ss");
	TTL_REFUSED("1h30m");
	TTL_REFUSED("1.5h");
	TTL_REFUSED("+5m");
	TTL_REFUSED("05m");
	TTL_REFUSED(" 5m");
	TTL_REFUSED("5m ");
	TTL_REFUSED("5 m");
	TTL_REFUSED("5M");
	TTL_REFUSED("99999999999999999999d");	/* overflows int64 */
	TTL_REFUSED("123456789012345678901234");	/* 24 bytes */
	CHECKS_PASSED();
}

static void
parse_ttl_refuses_leading_whitespace(void **state)
{
	(void)state;
	/* Reaches the server as POST /api/v1/tokens {"ttl":"\t5m"}. */
	TTL_REFUSED("\t5m");
	TTL_REFUSED("\n5m");
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* Role names and scope                                               */

static void
role_names_round_trip(void **state)
{
	static const struct {
		enum role	 role;
		const char	*name;
	} want[] = {
		{ ROLE_DOOR, "door" },
		{ ROLE_SPONSOR, "sponsor" },
		{ ROLE_ORGANIZER, "organizer" },
		{ ROLE_ADMIN, "admin" },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(role_str(want[i].role), want[i].name);
		assert_int_equal(role_from_str(want[i].name), want[i].role);
		assert_int_equal(role_from_str(role_str(want[i].role)),
		    want[i].role);
	}
	assert_string_equal(role_str(ROLE_NONE), "none");
	CHECKS_PASSED();
}

static void
role_from_str_refuses_unknown_names(void **state)
{
	static const char *const bad[] = { "none", "", "Admin", "ADMIN",
	    "admin ", " admin", "adm", "administrator", "root", "door\n",
	    "organiser" };
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (role_from_str(bad[i]) != ROLE_NONE) {
			print_error("role_from_str(%s) = %d, expected "
			    "ROLE_NONE\n", showz(bad[i]),
			    (int)role_from_str(bad[i]));
			soft_fail(__FILE__, __LINE__);
		}
	assert_int_equal(role_from_str(NULL), ROLE_NONE);
	CHECKS_PASSED();
}

static void
role_str_names_out_of_range_roles_none(void **state)
{
	(void)state;
	assert_string_equal(role_str((enum role)ROLE__MAX), "none");
	assert_string_equal(role_str((enum role)99), "none");
	assert_string_equal(role_str((enum role)-1), "none");
	CHECKS_PASSED();
}

static void
in_scope_admin_sees_every_event(void **state)
{
	struct auth	 a;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.role = ROLE_ADMIN;
	assert_true(auth_in_scope(&a, 1));
	assert_true(auth_in_scope(&a, INT64_C(1) << 53));
	CHECKS_PASSED();
}

static void
in_scope_all_events_covers_every_event(void **state)
{
	struct auth	 a;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.role = ROLE_ORGANIZER;
	a.all_events = 1;
	assert_true(auth_in_scope(&a, 1));
	assert_true(auth_in_scope(&a, 12345));
	/* ...but never for an identity without a role. */
	a.role = ROLE_NONE;
	assert_false(auth_in_scope(&a, 1));
	CHECKS_PASSED();
}

static void
in_scope_listed_events_only(void **state)
{
	struct auth	 a;
	int64_t		 ids[3];

	(void)state;
	memset(&a, 0, sizeof(a));
	a.role = ROLE_DOOR;
	a.events = ids;
	a.events[0] = 3;
	a.events[1] = 7;
	a.events[2] = 11;		/* beyond nevents: not in scope */
	a.nevents = 2;
	assert_true(auth_in_scope(&a, 3));
	assert_true(auth_in_scope(&a, 7));
	assert_false(auth_in_scope(&a, 4));
	assert_false(auth_in_scope(&a, 11));
	assert_false(auth_in_scope(&a, 0));
	assert_false(auth_in_scope(&a, -3));
	CHECKS_PASSED();
}

static void
in_scope_empty_list_covers_nothing(void **state)
{
	struct auth	 a;
	int64_t		 zeros[SCOPE_MAXEVENTS] = { 0 };

	(void)state;
	memset(&a, 0, sizeof(a));
	a.role = ROLE_SPONSOR;
	assert_false(auth_in_scope(&a, 1));
	a.events = zeros;
	a.nevents = SCOPE_MAXEVENTS;	/* all zero ids */
	assert_false(auth_in_scope(&a, 1));
	assert_true(auth_in_scope(&a, 0));
	CHECKS_PASSED();
}

/* auth_parse_pg_ids on an exact-size copy: want -1 means refused. */
static void
check_pg_ids(const char *text, int want, const int64_t *ids,
    const char *file, int line)
{
	char	*copy = exact(text);
	int64_t	*got = (int64_t *)(uintptr_t)1;
	int	 n = auth_parse_pg_ids(copy, &got), i;

	if (n != want || (n < 0 && got != NULL) || (n >= 0 && got == NULL)) {
		print_error("auth_parse_pg_ids(%s) gave %d (array %s), want "
		    "%d\n", showz(text), n, got ? "kept" : "NULL", want);
		soft_fail(file, line);
	} else
		for (i = 0; i < n; i++)
			if (got[i] != ids[i]) {
				print_error("auth_parse_pg_ids(%s)[%d] is %lld, "
				    "want %lld\n", showz(text), i,
				    (long long)got[i], (long long)ids[i]);
				soft_fail(file, line);
			}
	free(n >= 0 ? got : NULL);
	free(copy);
}
#define PG_IDS(t, w, ...) do {						\
	static const int64_t want_ids[] = { 0, ##__VA_ARGS__ };		\
	check_pg_ids(t, w, want_ids + 1, __FILE__, __LINE__);		\
} while (0)

static void
parse_pg_ids_reads_postgresql_array_text(void **state)
{
	(void)state;
	PG_IDS("{1,2,3}", 3, 1, 2, 3);
	PG_IDS("{}", 0);
	PG_IDS("{42}", 1, 42);
	PG_IDS("{9223372036854775807,-9223372036854775808}", 2,
	    INT64_MAX, INT64_MIN);
	CHECKS_PASSED();
}

static void
parse_pg_ids_refuses_malformed_text_and_keeps_no_array(void **state)
{
	(void)state;
	PG_IDS("", -1);
	PG_IDS("1,2", -1);
	PG_IDS("{1", -1);
	PG_IDS("{1,,2}", -1);
	PG_IDS("{,1}", -1);
	PG_IDS("{a}", -1);
	PG_IDS("{99999999999999999999}", -1);
	PG_IDS("{NULL}", -1);
	CHECKS_PASSED();
}

int
main(void)
{
	const struct CMUnitTest unset[] = {
		TEST(sign_and_verify_refuse_until_a_secret_is_set),
	};
	const struct CMUnitTest tests[] = {
		TEST(sign_then_verify_round_trips_every_role),
		TEST(verify_reports_exp_from_the_token),
		TEST(sign_puts_issuer_subject_events_and_sponsor_in_the_claims),
		TEST(verify_accepts_a_libjwt_token_with_good_claims),
		TEST(verify_refuses_alg_none),
		TEST(verify_refuses_hs384_and_hs512_with_the_same_secret),
		TEST(verify_refuses_rs256_and_es256_looking_tokens),
		TEST(verify_refuses_a_wrong_secret),
		TEST(verify_refuses_expired_or_missing_exp),
		TEST(verify_refuses_a_wrong_or_missing_issuer),
		TEST(verify_refuses_a_missing_or_malformed_jti),
		TEST(verify_refuses_an_unknown_role),
		TEST(verify_refuses_a_server_token_signed_for_role_none),
		TEST(verify_refuses_a_tampered_payload),
		TEST(verify_refuses_a_tampered_signature),
		TEST(verify_refuses_truncated_tokens),
		TEST(verify_refuses_extra_segments),
		TEST(verify_caps_token_length_at_auth_maxtoken),
		TEST(verify_refuses_an_oversize_blob),
		TEST(verify_refuses_characters_outside_the_jwt_alphabet),
		TEST(verify_refuses_correctly_signed_standard_base64),
		TEST(verify_refuses_the_empty_string),
		TEST(parse_ttl_accepts_seconds_minutes_hours_days),
		TEST(parse_ttl_refuses_malformed_or_out_of_range),
		TEST(parse_ttl_refuses_leading_whitespace),
		TEST(role_names_round_trip),
		TEST(role_from_str_refuses_unknown_names),
		TEST(role_str_names_out_of_range_roles_none),
		TEST(in_scope_admin_sees_every_event),
		TEST(in_scope_all_events_covers_every_event),
		TEST(in_scope_listed_events_only),
		TEST(in_scope_empty_list_covers_nothing),
		TEST(parse_pg_ids_reads_postgresql_array_text),
		TEST(parse_pg_ids_refuses_malformed_text_and_keeps_no_array),
	};
	int	 failed = 0;

	if (sodium_init() < 0)
		return 1;
	failed += cmocka_run_group_tests_name("auth without a secret", unset,
	    NULL, NULL);
	failed += cmocka_run_group_tests_name("auth", tests, set_secret, NULL);
	return failed;
}
