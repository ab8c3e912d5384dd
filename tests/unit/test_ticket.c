/*
 * Unit tests for server/ticket.c: key generation, signing and verifying
 * ticket JWTs, and the QR code as PNG and SVG.
 *
 * Hostile tokens are built four ways: with libjwt (any algorithm, any
 * header and claims, signed with a real key), signed ES256 here with
 * OpenSSL (duplicate members and other JSON libjwt will not write), by
 * hand from base64url pieces (alg "none"), and by editing a good
 * ticket (tampering, truncation, bad characters). The attack tokens are
 * first shown to pass libjwt alone where that is the point (HS256 keyed
 * with the public PEM), so a refusal proves ticket_verify's own checks.
 *
 * The rendered codes are read back with zbar, binary mode, QR only: the
 * PNG after decoding it with libpng, the SVG after drawing its path.
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
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <png.h>
#include <sodium.h>
#include <zbar.h>

#include "server.h"
#include "unit.h"

#define JTI16		"Ab3-_xYz"	/* 8 URL-safe characters, as sql/003 makes */
#define REAL_EVENT	99999
#define REAL_REG	9999999

/* Three keys: k1 and k2 are the server's, "1" again is a stranger's. */
static struct ticket_key	keys[2];
static struct ticket_key	stranger;

/* ---------------------------------------------------------------- */
/* Helpers                                                            */

/* base64url without padding (caller frees). */
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

/*
 * header.payload signed ES256 by a PEM private key with OpenSSL, for
 * tokens libjwt will not produce (duplicate members, odd JSON).
 */
static char *
es256_token(const char *priv_pem, const char *header, const char *payload)
{
	unsigned char	 der[128], rs[64];
	const unsigned char *p = der;
	const BIGNUM	*r, *s;
	EVP_PKEY	*pkey;
	EVP_MD_CTX	*md;
	ECDSA_SIG	*es;
	BIO		*bio;
	size_t		 dlen = sizeof(der), n;
	char		*tok, *sig, *out;

	tok = hand_token(header, payload, "");
	tok[strlen(tok) - 1] = '\0';		/* drop the trailing dot */
	assert_non_null(bio = BIO_new_mem_buf(priv_pem, -1));
	assert_non_null(pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL,
	    NULL));
	assert_non_null(md = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
	    pkey), 1);
	assert_int_equal(EVP_DigestSign(md, der, &dlen,
	    (const unsigned char *)tok, strlen(tok)), 1);
	assert_non_null(es = d2i_ECDSA_SIG(NULL, &p, (long)dlen));
	ECDSA_SIG_get0(es, &r, &s);
	assert_int_equal(BN_bn2binpad(r, rs, 32), 32);
	assert_int_equal(BN_bn2binpad(s, rs + 32, 32), 32);
	sig = b64url(rs, sizeof(rs));
	n = strlen(tok) + strlen(sig) + 2;
	assert_non_null(out = malloc(n));
	snprintf(out, n, "%s.%s", tok, sig);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	free(sig);
	free(tok);
	return out;
}

/* A token made by libjwt: any algorithm, key, kid (or none) and claims. */
static char *
lib_token(jwt_alg_t alg, const char *key, const char *kid,
    const char *extra_header, const char *claims)
{
	jwt_t	*jwt = NULL;
	char	*tok;

	assert_int_equal(jwt_new(&jwt), 0);
	if (kid != NULL)
		assert_int_equal(jwt_add_header(jwt, "kid", kid), 0);
	if (extra_header != NULL)
		assert_int_equal(jwt_add_headers_json(jwt, extra_header), 0);
	assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
	assert_int_equal(jwt_set_alg(jwt, alg, (const unsigned char *)key,
	    key ? (int)strlen(key) : 0), 0);
	tok = jwt_encode_str(jwt);
	jwt_free(jwt);
	assert_non_null(tok);
	return tok;
}

/* Claims a ticket carries, with one part replaceable for the tests. */
static void
claims_json(char *buf, size_t bufsz, const char *iss, const char *ev,
    const char *jti)
{
	snprintf(buf, bufsz, "{\"iss\":\"%s\",\"e\":%s,\"r\":%d,\"jti\":\"%s\","
	    "\"iat\":%lld}", iss, ev, REAL_REG, jti, (long long)time(NULL));
}

/* Sign a realistic ticket with keys[i] (caller frees). */
static char *
real_ticket(int i, const char *jti)
{
	char	*tok;

	tok = ticket_sign(&keys[i], REAL_EVENT, REAL_REG, jti,
	    (long)time(NULL));
	assert_non_null(tok);
	return tok;
}

static void
verify_ok(const char *tok, const char *want_kid, const char *file, int line)
{
	struct ticket_claims	 c;
	char			*dup = exact(tok);
	int			 rc;

	rc = ticket_verify(dup, keys, 2, &c);
	free(dup);
	if (rc != 0) {
		print_error("ticket_verify(%s) refused a ticket it should "
		    "accept\n", showz(tok));
		soft_fail(file, line);
		return;
	}
	if (strcmp(c.kid, want_kid) != 0) {
		print_error("ticket_verify(%s) named key %s, expected %s\n",
		    showz(tok), showz(c.kid), want_kid);
		soft_fail(file, line);
	}
}

/* The ticket must be refused and the claims left empty. */
static void
verify_refused(const char *tok, const char *why, const char *file, int line)
{
	static const struct ticket_claims zero;
	struct ticket_claims	 c;
	char			*dup = exact(tok);
	int			 rc;

	memset(&c, 0x55, sizeof(c));
	rc = ticket_verify(dup, keys, 2, &c);
	free(dup);
	if (rc != -1) {
		print_error("ticket_verify accepted a ticket with %s: %s "
		    "(event %lld, reg %lld, jti %s)\n", why, showz(tok),
		    (long long)c.event_id, (long long)c.reg_id, showz(c.jti));
		soft_fail(file, line);
		return;
	}
	if (memcmp(&c, &zero, sizeof(c)) != 0) {
		print_error("ticket_verify refused a ticket with %s but left "
		    "event %lld, reg %lld, jti %s in the claims\n", why,
		    (long long)c.event_id, (long long)c.reg_id, showz(c.jti));
		soft_fail(file, line);
	}
}

#define VERIFY_OK(tok, kid)	verify_ok((tok), (kid), __FILE__, __LINE__)
#define VERIFY_REFUSED(tok, why) \
	verify_refused((tok), (why), __FILE__, __LINE__)

/* Read every QR code in a grey image; the one text found, or NULL. */
static char *
zbar_read(const unsigned char *grey, unsigned w, unsigned h, int *nfound)
{
	zbar_image_scanner_t	*sc;
	zbar_image_t		*img;
	const zbar_symbol_t	*sym;
	char			*text = NULL;

	*nfound = 0;
	assert_non_null(sc = zbar_image_scanner_create());
	zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	assert_non_null(img = zbar_image_create());
	zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(img, w, h);
	zbar_image_set_data(img, grey, (unsigned long)w * h, NULL);
	zbar_scan_image(sc, img);
	for (sym = zbar_image_first_symbol(img); sym != NULL;
	    sym = zbar_symbol_next(sym)) {
		if (zbar_symbol_get_type(sym) != ZBAR_QRCODE)
			continue;
		(*nfound)++;
		free(text);
		assert_non_null(text = malloc(zbar_symbol_get_data_length(sym)
		    + 1));
		memcpy(text, zbar_symbol_get_data(sym),
		    zbar_symbol_get_data_length(sym));
		text[zbar_symbol_get_data_length(sym)] = '\0';
	}
	zbar_image_destroy(img);
	zbar_image_scanner_destroy(sc);
	return text;
}

static int
load_keys(void **state)
{
	char	*priv, *pub;
	int	 i;

	(void)state;
	for (i = 0; i < 2; i++) {
		if (ticket_keygen(&keys[i].priv_pem, &keys[i].pub_pem) != 0)
			return -1;
		snprintf(keys[i].kid, sizeof(keys[i].kid), "%d", i + 1);
	}
	if (ticket_keygen(&priv, &pub) != 0)
		return -1;
	stranger.priv_pem = priv;
	stranger.pub_pem = pub;
	snprintf(stranger.kid, sizeof(stranger.kid), "1");
	return 0;
}

static int
free_keys(void **state)
{
	int	 i;

	(void)state;
	for (i = 0; i < 2; i++) {
		sodium_memzero(keys[i].priv_pem, strlen(keys[i].priv_pem));
		free(keys[i].priv_pem);
		free(keys[i].pub_pem);
	}
	sodium_memzero(stranger.priv_pem, strlen(stranger.priv_pem));
	free(stranger.priv_pem);
	free(stranger.pub_pem);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Keys, signing, verifying                                           */

static void
keygen_gives_pkcs8_and_spki_pem(void **state)
{
	(void)state;
	assert_non_null(strstr(keys[0].priv_pem,
	    "-----BEGIN PRIVATE KEY-----\n"));
	assert_non_null(strstr(keys[0].pub_pem,
	    "-----BEGIN PUBLIC KEY-----\n"));
	assert_string_not_equal(keys[0].pub_pem, keys[1].pub_pem);
	assert_string_not_equal(keys[0].pub_pem, stranger.pub_pem);
}

static void
sign_then_verify_round_trips_the_claims(void **state)
{
	struct ticket_claims	 c;
	long			 now = (long)time(NULL);
	char			*tok;

	(void)state;
	tok = ticket_sign(&keys[0], REAL_EVENT, REAL_REG, JTI16, now);
	assert_non_null(tok);
	assert_int_equal(ticket_verify(tok, keys, 2, &c), 0);
	assert_int_equal(c.event_id, REAL_EVENT);
	assert_int_equal(c.reg_id, REAL_REG);
	assert_string_equal(c.jti, JTI16);
	assert_string_equal(c.kid, "1");
	assert_int_equal(c.iat, now);
	free(tok);

	/* Ids past 2^32 and a 31-character jti survive too. */
	tok = ticket_sign(&keys[1], INT64_C(1) << 40, INT64_C(1) << 50,
	    "0123456789012345678901234567890", 1);
	assert_non_null(tok);
	assert_int_equal(ticket_verify(tok, keys, 2, &c), 0);
	assert_int_equal(c.event_id, INT64_C(1) << 40);
	assert_int_equal(c.reg_id, INT64_C(1) << 50);
	assert_string_equal(c.jti, "0123456789012345678901234567890");
	assert_string_equal(c.kid, "2");
	free(tok);
}

static void
sign_is_deterministic_and_distinct_per_ticket(void **state)
{
	char	*a, *b, *c;

	(void)state;
	a = ticket_sign(&keys[0], REAL_EVENT, REAL_REG, JTI16, 1795433962);
	b = ticket_sign(&keys[0], REAL_EVENT, REAL_REG, JTI16, 1795433962);
	c = ticket_sign(&keys[0], REAL_EVENT, REAL_REG + 1, JTI16, 1795433962);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	/* One ticket, one code: the PNG, SVG and API must agree. */
	assert_string_equal(a, b);
	/* Another ticket gets another signature (another nonce). */
	assert_string_not_equal(strrchr(a, '.'), strrchr(c, '.'));
	free(a);
	free(b);
	free(c);
}

/*
 * A registration group's tickets are signed together (one inversion for
 * all); each must be the very ticket signed alone, and valid. One entry
 * that is no ticket (jti with a space) gets NULL and spoils none.
 */
static void
sign_many_gives_each_the_ticket_signed_alone(void **state)
{
	struct ticket_in	 in[40];
	struct ticket_claims	 c;
	char			*toks[40], *alone, jti[40][16];
	size_t			 i, n;

	(void)state;
	for (i = 0; i < 40; i++) {
		snprintf(jti[i], sizeof(jti[i]), "%zx%s", i, i == 17 ? " x" : "");
		in[i] = (struct ticket_in){ REAL_EVENT, REAL_REG - (int64_t)i,
		    jti[i], 1795433962 + (long)i };
	}
	n = ticket_sign_many(&keys[0], in, 40, toks);
	if (n != 39)
		fail_msg("ticket_sign_many signed %zu of 40, want 39 (all "
		    "but the one whose jti has a space)", n);
	assert_null(toks[17]);
	for (i = 0; i < 40; i++) {
		if (i == 17)
			continue;
		alone = ticket_sign(&keys[0], in[i].event_id, in[i].reg_id,
		    in[i].jti, in[i].iat);
		assert_non_null(alone);
		if (toks[i] == NULL || strcmp(toks[i], alone) != 0)
			fail_msg("ticket %zu of a batch differs from the same "
			    "ticket signed alone:\n  batch %s\n  alone %s", i,
			    toks[i] ? toks[i] : "(null)", alone);
		if (ticket_verify(toks[i], keys, 2, &c) != 0 ||
		    c.reg_id != in[i].reg_id || c.iat != in[i].iat)
			fail_msg("ticket %zu of a batch does not verify as its "
			    "own claims: %s", i, toks[i]);
		free(alone);
		free(toks[i]);
	}
	/* A batch of one is ticket_sign itself; of none, nothing. */
	assert_int_equal(ticket_sign_many(&keys[0], in, 0, toks), 0);
}

static void
sign_carries_issuer_and_no_personal_data(void **state)
{
	char	*tok, *head, *body;
	char	*d1, *d2;

	(void)state;
	tok = real_ticket(0, JTI16);
	d1 = strchr(tok, '.');
	d2 = strchr(d1 + 1, '.');
	head = unb64url(tok, (size_t)(d1 - tok));
	body = unb64url(d1 + 1, (size_t)(d2 - d1 - 1));
	assert_string_equal(head, "{\"alg\":\"ES256\",\"kid\":\"1\"}");
	assert_non_null(strstr(body, "\"iss\":\"" TICKET_ISSUER "\""));
	assert_non_null(strstr(body, "\"e\":99999"));
	assert_non_null(strstr(body, "\"r\":9999999"));
	assert_non_null(strstr(body, "\"jti\":\"" JTI16 "\""));
	assert_non_null(strstr(body, "\"iat\":"));
	/* Five claims and nothing else. */
	assert_int_equal(strchr(body, ',') != NULL, 1);
	{
		int	 commas = 0;
		char	*p;

		for (p = body; *p; p++)
			commas += *p == ',';
		assert_int_equal(commas, 4);
	}
	free(head);
	free(body);
	free(tok);
}

static void
sign_refuses_bad_input(void **state)
{
	struct ticket_key	 pubonly = keys[0];

	(void)state;
	pubonly.priv_pem = NULL;
	assert_null(ticket_sign(&pubonly, 1, 1, "abc", 1));
	assert_null(ticket_sign(NULL, 1, 1, "abc", 1));
	assert_null(ticket_sign(&keys[0], 0, 1, "abc", 1));
	assert_null(ticket_sign(&keys[0], 1, -1, "abc", 1));
	assert_null(ticket_sign(&keys[0], 1, 1, "abc", 0));
	assert_null(ticket_sign(&keys[0], 1, 1, "", 1));
	assert_null(ticket_sign(&keys[0], 1, 1, "a\"b", 1));
	assert_null(ticket_sign(&keys[0], 1, 1, "a+b", 1));
	assert_null(ticket_sign(&keys[0], 1, 1,
	    "01234567890123456789012345678901", 1));	/* 32 characters */
}

static void
sign_refuses_a_key_that_is_not_p256(void **state)
{
	struct ticket_key	 k = keys[0];

	(void)state;
	/* An HMAC-looking secret, and the public half, are not keys. */
	k.priv_pem = "0123456789abcdef0123456789abcdef";
	assert_null(ticket_sign(&k, 1, 1, "abc", 1));
	k.priv_pem = keys[0].pub_pem;
	assert_null(ticket_sign(&k, 1, 1, "abc", 1));
}

static void
verify_accepts_a_libjwt_es256_token_with_our_kid(void **state)
{
	char	 claims[256];
	char	*tok;

	(void)state;
	/* libjwt's own layout: typ JWT and a kid in the header. */
	claims_json(claims, sizeof(claims), TICKET_ISSUER, "7", "abc");
	tok = lib_token(JWT_ALG_ES256, keys[1].priv_pem, "2", NULL, claims);
	VERIFY_OK(tok, "2");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_tries_every_key_when_there_is_no_kid(void **state)
{
	char	*tok;

	(void)state;
	tok = real_ticket(1, JTI16);
	VERIFY_OK(tok, "2");
	free(tok);
	tok = real_ticket(0, JTI16);
	VERIFY_OK(tok, "1");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_a_tampered_payload(void **state)
{
	char	*tok, *forged, *d1, *d2, *sig;
	char	 claims[256];

	(void)state;
	tok = real_ticket(0, JTI16);
	d1 = strchr(tok, '.');
	d2 = strchr(d1 + 1, '.');
	sig = d2 + 1;
	/* Same signature, another event. */
	claims_json(claims, sizeof(claims), TICKET_ISSUER, "123457", JTI16);
	forged = hand_token("{\"alg\":\"ES256\"}", claims, sig);
	VERIFY_REFUSED(forged, "a payload the signature does not cover");
	free(forged);
	/* One character of the payload changed. */
	forged = exact(tok);
	forged[(d1 - tok) + 5] = forged[(d1 - tok) + 5] == 'A' ? 'B' : 'A';
	VERIFY_REFUSED(forged, "one payload character changed");
	free(forged);
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_a_tampered_signature(void **state)
{
	char	*tok, *forged;
	size_t	 i, len;

	(void)state;
	tok = real_ticket(0, JTI16);
	len = strlen(tok);
	/* Flip characters across the signature (not its last, whose low
	 * bits are padding). */
	for (i = len - 86; i < len - 1; i += 7) {
		forged = exact(tok);
		forged[i] = forged[i] == 'Q' ? 'g' : 'Q';
		VERIFY_REFUSED(forged, "a changed signature");
		free(forged);
	}
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_alg_none(void **state)
{
	char	 claims[256];
	char	*tok;

	(void)state;
	claims_json(claims, sizeof(claims), TICKET_ISSUER, "123456", JTI16);
	tok = hand_token("{\"alg\":\"none\"}", claims, "");
	VERIFY_REFUSED(tok, "alg none and no signature");
	free(tok);
	tok = hand_token("{\"alg\":\"none\",\"kid\":\"1\"}", claims, "AAAA");
	VERIFY_REFUSED(tok, "alg none and a made-up signature");
	free(tok);
	tok = hand_token("{\"alg\":\"NONE\"}", claims, "AAAA");
	VERIFY_REFUSED(tok, "alg NONE");
	free(tok);
	/* libjwt's own "none" token: header {"alg":"none"}, empty sig. */
	tok = lib_token(JWT_ALG_NONE, NULL, "1", NULL, claims);
	VERIFY_REFUSED(tok, "a libjwt alg none token");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_hs256_keyed_with_the_public_pem(void **state)
{
	char	 claims[256];
	char	*tok;
	jwt_t	*jwt = NULL;

	(void)state;
	claims_json(claims, sizeof(claims), TICKET_ISSUER, "123456", JTI16);
	tok = lib_token(JWT_ALG_HS256, keys[0].pub_pem, "1", NULL, claims);
	/* The attack is real: libjwt alone accepts it with the public key. */
	assert_int_equal(jwt_decode(&jwt, tok, (const unsigned char *)
	    keys[0].pub_pem, (int)strlen(keys[0].pub_pem)), 0);
	assert_int_equal(jwt_get_alg(jwt), JWT_ALG_HS256);
	jwt_free(jwt);
	VERIFY_REFUSED(tok, "HS256 keyed with the public PEM, kid k1");
	free(tok);
	/* The same without a kid, so every key is a candidate. */
	tok = lib_token(JWT_ALG_HS256, keys[1].pub_pem, NULL, NULL, claims);
	VERIFY_REFUSED(tok, "HS256 keyed with the public PEM, no kid");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_another_key_with_the_same_kid(void **state)
{
	char	 claims[256];
	char	*tok;

	(void)state;
	tok = ticket_sign(&stranger, REAL_EVENT, REAL_REG, JTI16,
	    (long)time(NULL));
	assert_non_null(tok);
	VERIFY_REFUSED(tok, "a stranger's key and no kid");
	free(tok);
	claims_json(claims, sizeof(claims), TICKET_ISSUER, "123456", JTI16);
	tok = lib_token(JWT_ALG_ES256, stranger.priv_pem, "1", NULL, claims);
	VERIFY_REFUSED(tok, "a stranger's key calling itself k1");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_a_kid_naming_the_wrong_or_no_known_key(void **state)
{
	char	 claims[256];
	char	*tok;

	(void)state;
	claims_json(claims, sizeof(claims), TICKET_ISSUER, "123456", JTI16);
	/* Signed by k1 but claiming k2: the named key is the only one. */
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, "2", NULL, claims);
	VERIFY_REFUSED(tok, "kid k2 on a k1 signature");
	free(tok);
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, "k9", NULL, claims);
	VERIFY_REFUSED(tok, "an unknown kid");
	free(tok);
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, "", NULL, claims);
	VERIFY_REFUSED(tok, "an empty kid");
	free(tok);
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem,
	    "k1xxxxxxxxxxxxxxxxxxxxxx", NULL, claims);
	VERIFY_REFUSED(tok, "an overlong kid");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_odd_headers(void **state)
{
	char	 claims[256];
	char	*tok;

	(void)state;
	claims_json(claims, sizeof(claims), TICKET_ISSUER, "123456", JTI16);
	/* Signed properly by k1, but with members we do not allow. */
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, "1",
	    "{\"jku\":\"https://evil.example/k\"}", claims);
	VERIFY_REFUSED(tok, "a jku header");
	free(tok);
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, "1",
	    "{\"crit\":[\"x\"]}", claims);
	VERIFY_REFUSED(tok, "a crit header");
	free(tok);
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, NULL,
	    "{\"typ\":\"JOSE+JSON\"}", claims);
	/* libjwt 1.10 overwrites typ with "JWT": then this one is fine. */
	VERIFY_OK(tok, "1");
	free(tok);
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, NULL,
	    "{\"kid\":7}", claims);
	VERIFY_REFUSED(tok, "a numeric kid");
	free(tok);
	/* By hand: duplicate alg, a non-object header, broken base64. */
	tok = hand_token("{\"alg\":\"ES256\",\"alg\":\"none\"}", claims, "AAAA");
	VERIFY_REFUSED(tok, "a duplicate alg");
	free(tok);
	tok = hand_token("[\"ES256\"]", claims, "AAAA");
	VERIFY_REFUSED(tok, "an array header");
	free(tok);
	tok = hand_token("{}", claims, "AAAA");
	VERIFY_REFUSED(tok, "no alg");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_a_wrong_or_missing_issuer(void **state)
{
	char	 claims[256];
	char	*tok;

	(void)state;
	/* Control: the same construction with the right issuer passes. */
	claims_json(claims, sizeof(claims), TICKET_ISSUER, "123456", JTI16);
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, NULL, NULL, claims);
	VERIFY_OK(tok, "1");
	free(tok);
	claims_json(claims, sizeof(claims), "rollcall", "123456", JTI16);
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, NULL, NULL, claims);
	VERIFY_REFUSED(tok, "iss rollcall (a staff token's issuer)");
	free(tok);
	claims_json(claims, sizeof(claims), "RC", "123456", JTI16);
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, NULL, NULL, claims);
	VERIFY_REFUSED(tok, "iss RC");
	free(tok);
	snprintf(claims, sizeof(claims), "{\"e\":1,\"r\":2,\"jti\":\"a\","
	    "\"iat\":3}");
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, NULL, NULL, claims);
	VERIFY_REFUSED(tok, "no iss");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_bad_ids_jti_or_iat(void **state)
{
	static const char *const bad[] = {
		"{\"iss\":\"rc\",\"e\":0,\"r\":2,\"jti\":\"a\",\"iat\":3}",
		"{\"iss\":\"rc\",\"e\":-5,\"r\":2,\"jti\":\"a\",\"iat\":3}",
		"{\"iss\":\"rc\",\"e\":\"5\",\"r\":2,\"jti\":\"a\",\"iat\":3}",
		"{\"iss\":\"rc\",\"e\":5.0,\"r\":2,\"jti\":\"a\",\"iat\":3}",
		"{\"iss\":\"rc\",\"e\":1,\"r\":0,\"jti\":\"a\",\"iat\":3}",
		"{\"iss\":\"rc\",\"e\":1,\"jti\":\"a\",\"iat\":3}",
		"{\"iss\":\"rc\",\"e\":1,\"r\":2,\"iat\":3}",
		"{\"iss\":\"rc\",\"e\":1,\"r\":2,\"jti\":\"\",\"iat\":3}",
		"{\"iss\":\"rc\",\"e\":1,\"r\":2,\"jti\":\"a b\",\"iat\":3}",
		"{\"iss\":\"rc\",\"e\":1,\"r\":2,\"jti\":7,\"iat\":3}",
		"{\"iss\":\"rc\",\"e\":1,\"r\":2,\"jti\":"
		    "\"01234567890123456789012345678901\",\"iat\":3}",
		"{\"iss\":\"rc\",\"e\":1,\"r\":2,\"jti\":\"a\"}",
		"{\"iss\":\"rc\",\"e\":1,\"r\":2,\"jti\":\"a\",\"iat\":0}",
		"{\"iss\":\"rc\",\"e\":1,\"r\":2,\"jti\":\"a\",\"iat\":\"3\"}",
	};
	char	*tok;
	size_t	 i;

	(void)state;
	tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, NULL, NULL,
	    "{\"iss\":\"rc\",\"e\":1,\"r\":2,\"jti\":\"a\",\"iat\":3}");
	VERIFY_OK(tok, "1");		/* control */
	free(tok);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tok = lib_token(JWT_ALG_ES256, keys[0].priv_pem, NULL, NULL,
		    bad[i]);
		VERIFY_REFUSED(tok, bad[i]);
		free(tok);
	}
	CHECKS_PASSED();
}

static void
verify_refuses_duplicate_claims(void **state)
{
	char	*tok;

	(void)state;
	/* Control: the hand-signed construction itself is accepted. */
	tok = es256_token(keys[0].priv_pem, "{\"alg\":\"ES256\"}",
	    "{\"iss\":\"rc\",\"e\":2,\"r\":2,\"jti\":\"a\",\"iat\":3}");
	VERIFY_OK(tok, "1");
	free(tok);
	/* libjwt would let the last "e" win; we refuse the token. */
	tok = es256_token(keys[0].priv_pem, "{\"alg\":\"ES256\"}",
	    "{\"iss\":\"rc\",\"e\":1,\"e\":2,\"r\":2,\"jti\":\"a\",\"iat\":3}");
	VERIFY_REFUSED(tok, "a duplicate event claim");
	free(tok);
	tok = es256_token(keys[0].priv_pem, "{\"alg\":\"ES256\",\"kid\":\"2\","
	    "\"kid\":\"1\"}",
	    "{\"iss\":\"rc\",\"e\":2,\"r\":2,\"jti\":\"a\",\"iat\":3}");
	VERIFY_REFUSED(tok, "a duplicate kid");
	free(tok);
	/* Claims that are not JSON, or not an object, though signed. */
	tok = es256_token(keys[0].priv_pem, "{\"alg\":\"ES256\"}",
	    "[\"rc\",2,2,\"a\",3]");
	VERIFY_REFUSED(tok, "an array of claims");
	free(tok);
	tok = es256_token(keys[0].priv_pem, "{\"alg\":\"ES256\"}",
	    "{\"iss\":\"rc\",\"e\":2,\"r\":2,\"jti\":\"a\",\"iat\":3} x");
	VERIFY_REFUSED(tok, "trailing bytes after the claims");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_truncated_tokens(void **state)
{
	char	*tok, *cut;
	size_t	 len, keep;

	(void)state;
	tok = real_ticket(0, JTI16);
	len = strlen(tok);
	for (keep = 0; keep < len; keep += (keep < 40 || keep > len - 90) ?
	    1 : 9) {
		cut = malloc(keep + 1);
		assert_non_null(cut);
		memcpy(cut, tok, keep);
		cut[keep] = '\0';
		VERIFY_REFUSED(cut, "a truncated token");
		free(cut);
	}
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_extra_segments_and_oversize(void **state)
{
	char	*tok, *big;
	size_t	 n;

	(void)state;
	tok = real_ticket(0, JTI16);
	n = strlen(tok) + 8;
	assert_non_null(big = malloc(n));
	snprintf(big, n, "%s.AAAA", tok);
	VERIFY_REFUSED(big, "a fourth segment");
	snprintf(big, n, ".%s", tok);
	VERIFY_REFUSED(big, "a leading dot");
	free(big);
	/* Over TICKET_MAXLEN: the good token padded out inside the payload
	 * would need a signature; any length past the cap is refused. */
	n = TICKET_MAXLEN + 2;
	assert_non_null(big = malloc(n));
	memset(big, 'A', n - 1);
	big[n - 1] = '\0';
	memcpy(big, tok, strlen(tok));
	VERIFY_REFUSED(big, "TICKET_MAXLEN + 1 characters");
	free(big);
	n = 100000;
	assert_non_null(big = malloc(n));
	memset(big, 'A', n - 1);
	big[n - 1] = '\0';
	big[10] = big[20] = '.';
	VERIFY_REFUSED(big, "a 100 kB blob");
	free(big);
	VERIFY_REFUSED("", "the empty string");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_caps_the_length_even_with_a_good_signature(void **state)
{
	char	 claims[TICKET_MAXLEN];
	char	*tok;
	size_t	 pad;

	(void)state;
	/* Grow an extra claim until the signed token is exactly at the cap,
	 * then one character past it. */
	for (pad = 1; ; pad++) {
		snprintf(claims, sizeof(claims), "{\"iss\":\"rc\",\"e\":1,"
		    "\"r\":2,\"jti\":\"a\",\"iat\":3,\"x\":\"%0*d\"}",
		    (int)pad, 0);
		tok = es256_token(keys[0].priv_pem, "{\"alg\":\"ES256\"}",
		    claims);
		if (strlen(tok) >= TICKET_MAXLEN)
			break;
		free(tok);
	}
	if (strlen(tok) == TICKET_MAXLEN) {
		VERIFY_OK(tok, "1");
		free(tok);
		pad += 3;	/* 3 more bytes: 4 more base64 characters */
		snprintf(claims, sizeof(claims), "{\"iss\":\"rc\",\"e\":1,"
		    "\"r\":2,\"jti\":\"a\",\"iat\":3,\"x\":\"%0*d\"}",
		    (int)pad, 0);
		tok = es256_token(keys[0].priv_pem, "{\"alg\":\"ES256\"}",
		    claims);
	}
	assert_true(strlen(tok) > TICKET_MAXLEN);
	VERIFY_REFUSED(tok, "a well-signed token over TICKET_MAXLEN");
	free(tok);
	CHECKS_PASSED();
}

static void
verify_refuses_characters_outside_the_jwt_alphabet(void **state)
{
	static const char bad[] = { '+', '/', '=', ' ', '\n', '"', '%', '\x80',
	    '\xff' };
	char	*tok, *forged;
	size_t	 i, n;

	(void)state;
	tok = real_ticket(0, JTI16);
	for (i = 0; i < sizeof(bad); i++) {
		forged = exact(tok);
		forged[30] = bad[i];
		VERIFY_REFUSED(forged, "a character outside [A-Za-z0-9._-]");
		free(forged);
	}
	/* Standard base64 padding after a good signature. */
	n = strlen(tok) + 3;
	assert_non_null(forged = malloc(n));
	snprintf(forged, n, "%s==", tok);
	VERIFY_REFUSED(forged, "\"==\" padding");
	free(forged);
	free(tok);
	CHECKS_PASSED();
}

static void
verify_handles_no_keys(void **state)
{
	struct ticket_claims	 c;
	struct ticket_key	 nopub = keys[0];
	char			*tok;

	(void)state;
	tok = real_ticket(0, JTI16);
	assert_int_equal(ticket_verify(tok, keys, 0, &c), -1);
	assert_int_equal(ticket_verify(tok, NULL, 2, &c), -1);
	assert_int_equal(ticket_verify(NULL, keys, 2, &c), -1);
	nopub.pub_pem = NULL;
	assert_int_equal(ticket_verify(tok, &nopub, 1, &c), -1);
	/* A private PEM is not a verification key. */
	nopub.pub_pem = keys[0].priv_pem;
	assert_int_equal(ticket_verify(tok, &nopub, 1, &c), -1);
	free(tok);
}

/* ---------------------------------------------------------------- */
/* QR code                                                            */

static void
realistic_ticket_fits_qr_version_10(void **state)
{
	char	*tok;
	int	 v;

	(void)state;
	tok = real_ticket(0, JTI16);
	v = ticket_qr_version(tok);
	print_message("    ticket of %zu bytes -> QR version %d at M\n",
	    strlen(tok), v);
	assert_in_range(v, 1, TICKET_MAXVERSION);
	free(tok);
}

static void
every_realistic_ticket_fits_qr_version_10(void **state)
{
	unsigned char	 raw[4];
	char		 jti[9];
	char		*tok;
	size_t		 maxlen = 0;
	int		 i, v, maxv = 0;

	(void)state;
	/* Signatures and jtis vary; the version must not. */
	for (i = 0; i < 300; i++) {
		randombytes_buf(raw, sizeof(raw));
		/* The widest jti sql/003 makes: 8 hexadecimal digits. */
		sodium_bin2hex(jti, sizeof(jti), raw, sizeof(raw));
		tok = ticket_sign(&keys[i % 2], REAL_EVENT, REAL_REG, jti,
		    (long)time(NULL) + i);
		assert_non_null(tok);
		v = ticket_qr_version(tok);
		if (v > maxv)
			maxv = v;
		if (strlen(tok) > maxlen)
			maxlen = strlen(tok);
		free(tok);
	}
	print_message("    300 tickets: at most %zu bytes, QR version %d\n",
	    maxlen, maxv);
	assert_in_range(maxv, 1, TICKET_MAXVERSION);
}

static void
qr_version_depends_on_length_alone(void **state)
{
	/*
	 * A 211-byte ticket (real header and claims, a signature-shaped
	 * tail) that libqrencode's mixed-mode split grows to version 11;
	 * the 8-bit encoding keeps it at 10.
	 */
	static const char tok[] = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJyYyIsImUiOj"
	    "EyMzQ1NiwiciI6OTk5OTk5OSwianRpIjoiQWIzLV94WXowOVF3RXJUeSIsImlhdCI"
	    "6MTc2NzIyNTYwMH0.AwaIQ4aP1z1437NpLchWrUTzY51PgwA5i7drrlq8AJJSd8NU0"
	    "A7KBVJrPNBXE935wszVZJCOTQLLW2u5F9E_4L";
	char	 buf[300];

	(void)state;
	assert_int_equal(strlen(tok), 211);
	assert_int_equal(ticket_qr_version(tok), 10);
	/* 213 bytes is version 10's capacity at M; 214 needs 11. */
	memset(buf, 'z', sizeof(buf));
	buf[213] = '\0';
	assert_int_equal(ticket_qr_version(buf), 10);
	buf[213] = 'z';
	buf[214] = '\0';
	assert_int_equal(ticket_qr_version(buf), 11);
}

static void
qr_refuses_empty_or_oversize(void **state)
{
	unsigned char	*png = (unsigned char *)"x";
	size_t		 len = 1;
	char		*big;

	(void)state;
	assert_int_equal(ticket_qr_version(""), -1);
	assert_int_equal(ticket_qr_version(NULL), -1);
	assert_int_equal(ticket_png("", &png, &len), -1);
	assert_null(png);
	assert_int_equal(len, 0);
	assert_null(ticket_svg(NULL));
	assert_non_null(big = malloc(TICKET_MAXLEN + 2));
	memset(big, 'A', TICKET_MAXLEN + 1);
	big[TICKET_MAXLEN + 1] = '\0';
	assert_int_equal(ticket_qr_version(big), -1);
	assert_null(ticket_svg(big));
	free(big);
}

static void
png_decodes_and_scans_to_the_token(void **state)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n' };
	png_image	 img;
	unsigned char	*png, *grey;
	char		*tok, *text;
	size_t		 len;
	int		 n, modules;

	(void)state;
	tok = real_ticket(0, JTI16);
	assert_int_equal(ticket_png(tok, &png, &len), 0);
	assert_true(len > sizeof(sig));
	assert_memory_equal(png, sig, sizeof(sig));

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_memory(&img, png, len));
	img.format = PNG_FORMAT_GRAY;
	assert_int_equal(img.width, img.height);
	assert_in_range(img.width, 400, 600);
	/* A whole number of pixels per module, quiet zone included. */
	modules = 17 + 4 * ticket_qr_version(tok) + 8;
	assert_int_equal(img.width % (png_uint_32)modules, 0);
	assert_non_null(grey = malloc(PNG_IMAGE_SIZE(img)));
	assert_true(png_image_finish_read(&img, NULL, grey, 0, NULL));
	/* Only pure black and white: no interpolation. */
	for (len = 0; len < PNG_IMAGE_SIZE(img); len++)
		if (grey[len] != 0 && grey[len] != 0xff)
			fail_msg("grey pixel %u at %zu", grey[len], len);

	text = zbar_read(grey, img.width, img.height, &n);
	assert_int_equal(n, 1);
	assert_non_null(text);
	assert_string_equal(text, tok);
	free(text);
	free(grey);
	free(png);
	free(tok);
}

static void
svg_has_a_viewbox_a_path_and_scans_to_the_token(void **state)
{
	enum { SCALE = 6 };
	char		 want[64];
	char		*tok, *svg, *d, *text;
	unsigned char	*grey;
	int		 n, x, y, w, consumed, dx, dy, found;
	size_t		 px;

	(void)state;
	tok = real_ticket(1, JTI16);
	assert_non_null(svg = ticket_svg(tok));
	n = 17 + 4 * ticket_qr_version(tok) + 8;
	snprintf(want, sizeof(want), "viewBox=\"0 0 %d %d\"", n, n);
	assert_non_null(strstr(svg, want));
	assert_non_null(strstr(svg, "shape-rendering=\"crispEdges\""));
	assert_non_null(strstr(svg, "<rect width="));
	assert_non_null(strstr(svg, "width=\"320\" height=\"320\""));
	assert_non_null(d = strstr(svg, "<path fill=\"#000\" d=\""));
	assert_non_null(strstr(svg, "</svg>"));

	/* Draw the path's runs and read them back. */
	px = (size_t)n * SCALE;
	assert_non_null(grey = malloc(px * px));
	memset(grey, 0xff, px * px);
	d += strlen("<path fill=\"#000\" d=\"");
	while (*d == 'M') {
		assert_int_equal(sscanf(d, "M%d %dh%dv1h-%*dz%n", &x, &y, &w,
		    &consumed), 3);
		assert_true(x >= 4 && y >= 4 && w >= 1 && x + w <= n - 4 &&
		    y < n - 4);
		for (dy = 0; dy < SCALE; dy++)
			for (dx = 0; dx < w * SCALE; dx++)
				grey[((size_t)y * SCALE + dy) * px +
				    (size_t)x * SCALE + dx] = 0;
		d += consumed;
	}
	assert_int_equal(*d, '"');
	text = zbar_read(grey, (unsigned)px, (unsigned)px, &found);
	assert_int_equal(found, 1);
	assert_non_null(text);
	assert_string_equal(text, tok);
	free(text);
	free(grey);
	free(svg);
	free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(keygen_gives_pkcs8_and_spki_pem),
		TEST(sign_then_verify_round_trips_the_claims),
		TEST(sign_carries_issuer_and_no_personal_data),
		TEST(sign_refuses_bad_input),
		TEST(sign_refuses_a_key_that_is_not_p256),
		TEST(verify_accepts_a_libjwt_es256_token_with_our_kid),
		TEST(verify_tries_every_key_when_there_is_no_kid),
		TEST(verify_refuses_a_tampered_payload),
		TEST(verify_refuses_a_tampered_signature),
		TEST(verify_refuses_alg_none),
		TEST(verify_refuses_hs256_keyed_with_the_public_pem),
		TEST(verify_refuses_another_key_with_the_same_kid),
		TEST(verify_refuses_a_kid_naming_the_wrong_or_no_known_key),
		TEST(verify_refuses_odd_headers),
		TEST(verify_refuses_a_wrong_or_missing_issuer),
		TEST(verify_refuses_bad_ids_jti_or_iat),
		TEST(verify_refuses_duplicate_claims),
		TEST(verify_refuses_truncated_tokens),
		TEST(verify_refuses_extra_segments_and_oversize),
		TEST(verify_caps_the_length_even_with_a_good_signature),
		TEST(verify_refuses_characters_outside_the_jwt_alphabet),
		TEST(verify_handles_no_keys),
		TEST(sign_is_deterministic_and_distinct_per_ticket),
		TEST(sign_many_gives_each_the_ticket_signed_alone),
		TEST(realistic_ticket_fits_qr_version_10),
		TEST(every_realistic_ticket_fits_qr_version_10),
		TEST(qr_version_depends_on_length_alone),
		TEST(qr_refuses_empty_or_oversize),
		TEST(png_decodes_and_scans_to_the_token),
		TEST(svg_has_a_viewbox_a_path_and_scans_to_the_token),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("ticket", tests, load_keys,
	    free_keys);
}
