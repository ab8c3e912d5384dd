/*
 * Tickets: a compact ES256 JWT that a door scanner reads from a QR code,
 * and its PNG and SVG renderings.
 *
 * Size decides the token's shape. A ticket must fit a version-10 QR code
 * at error correction M: 213 bytes in 8-bit mode. The ES256 signature
 * alone takes 86 characters. libjwt 1.10's encoder always writes
 * "typ":"JWT" into the header (a jwt_add_header("typ") is overwritten),
 * and with it no layout holding a kid, iss, event, registration, jti and
 * iat fits. So the token is assembled and signed here with OpenSSL,
 * exactly as libjwt does it (SHA-256 ECDSA over "header.payload",
 * signature as R||S), with
 *   header  {"alg":"ES256","kid":"1"}
 *   claims  {"iss":"rc","e":EVENT,"r":REGISTRATION,"jti":"...","iat":N}
 * Kids are short numbers and jtis a hexadecimal serial (sql/003): for
 * events up to 99999, registrations up to 9999999 and an 8-character jti
 * the ticket is 213 characters, version 10. Any JWT library verifies it
 * with the public PEM; the kid picks the key, a token without one is
 * tried against each known key.
 *
 * Verification is the part that faces untrusted input, and libjwt 1.10
 * trusts the header's "alg": an HS256 token whose HMAC key is our public
 * PEM would pass. So the header is decoded here first (strict base64url,
 * duplicate members refused, nothing but alg/typ/kid allowed, alg must be
 * "ES256"), libjwt then checks the signature with one public key, the
 * algorithm it saw is pinned to ES256 again, and the claims are read
 * with jansson from the very bytes that were signed, because libjwt lets
 * the last of duplicate claims win and its jwt_get_grant_int() cannot
 * tell a string from 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ECDSA_do_sign_ex and EC_KEY are deprecated in OpenSSL 3.0, still there. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <png.h>
#include <qrencode.h>
#include <sodium.h>

#include "common.h"

#define TICKET_SIGLEN		64	/* ES256: R||S, 32 bytes each */
#define TICKET_QR_MAXBYTES	213	/* 8-bit capacity of version 10-M */
#define TICKET_QR_QUIET		4	/* modules of white around the code */
#define TICKET_PNG_MAXPX	600	/* the PNG is 400 to 600 pixels wide */
#define TICKET_PNG_ZLEVEL	1	/* zlib level: rows repeat, 1 is enough */
#define TICKET_PNG_ZWINDOW	10	/* zlib window: 1 KB, rows are < 100 B */
#define TICKET_PNG_ZMEM		2	/* zlib hash memory level */
#define TICKET_SVG_SIZE		"320"	/* displayed width and height */
#define TICKET_JTI_MAX		(sizeof(((struct ticket_claims *)0)->jti) - 1)

/* A jti we sign and accept: 1 to 31 URL-safe characters. */
static int
ticket_jti_ok(const char *jti)
{
	size_t	 len = strlen(jti);

	return len > 0 && len <= TICKET_JTI_MAX && util_urlsafe(jti, 0);
}

/* Base64url without padding; a malloc'd string or NULL. */
static char *
b64url(const void *bin, size_t len)
{
	size_t	 sz = sodium_base64_ENCODED_LEN(len,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char	*s;

	if ((s = malloc(sz)) == NULL)
		return NULL;
	return sodium_bin2base64(s, sz, bin, len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/*
 * Strictly decode one base64url segment (no padding, no stray bits) and
 * parse it as a JSON object, refusing duplicate members. NULL on failure.
 */
static json_t *
b64url_json(const char *seg, size_t len)
{
	unsigned char	 buf[TICKET_MAXLEN];
	const char	*end;
	size_t		 n;
	json_t		*j;

	if (len == 0 || sodium_base642bin(buf, sizeof(buf), seg, len, NULL,
	    &n, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != seg + len)
		return NULL;
	j = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Copy a memory BIO's contents into a new NUL-terminated string. */
static char *
bio_strdup(BIO *bio)
{
	char	*data, *s;
	long	 len;

	if ((len = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (s = malloc((size_t)len + 1)) == NULL)
		return NULL;
	memcpy(s, data, (size_t)len);
	s[len] = '\0';
	return s;
}

/*
 * A new EC P-256 key pair as PEM: PKCS#8 private key and SPKI public key,
 * both for the caller to free. Returns 0 or -1.
 */
int
ticket_keygen(char **priv_pem, char **pub_pem)
{
	EVP_PKEY	*pkey = NULL;
	BIO		*bpriv = NULL, *bpub = NULL;
	int		 rc = -1;

	*priv_pem = *pub_pem = NULL;
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (bpriv = BIO_new(BIO_s_mem())) == NULL ||
	    (bpub = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_PrivateKey(bpriv, pkey, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_PUBKEY(bpub, pkey) ||
	    (*priv_pem = bio_strdup(bpriv)) == NULL ||
	    (*pub_pem = bio_strdup(bpub)) == NULL) {
		log_warnx("cannot make a ticket key");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1 && *priv_pem != NULL) {
		sodium_memzero(*priv_pem, strlen(*priv_pem));
		free(*priv_pem);
		*priv_pem = NULL;
	}
	BIO_free(bpub);
	BIO_free(bpriv);	/* a memory BIO clears its buffer on free */
	EVP_PKEY_free(pkey);
	return rc;
}

/* Parse a private PEM into a P-256 EC_KEY, or NULL. */
static EC_KEY *
p256_private(const char *pem)
{
	char		 group[32];
	EVP_PKEY	*pkey = NULL;
	EC_KEY		*ec = NULL;
	BIO		*bio;

	if (pem == NULL || (bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey != NULL && EVP_PKEY_is_a(pkey, "EC") &&
	    EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) &&
	    strcmp(group, "prime256v1") == 0)
		ec = EVP_PKEY_get1_EC_KEY(pkey);
	EVP_PKEY_free(pkey);
	return ec;
}

/*
 * ES256-sign msg with a PEM private key on the P-256 curve, writing the
 * JOSE signature (R||S) into sig. Returns 0 or -1.
 *
 * The signature is deterministic: the nonce k is HMAC-SHA256 keyed with
 * the private scalar over the message digest (the idea of RFC 6979), so
 * the same ticket always has the same code: the PNG, the SVG and the
 * token in the API agree byte for byte, and a door never sees two codes
 * for one ticket. Different messages get unrelated nonces, and a nonce
 * is never reused for another message, which is what ECDSA needs.
 */
static int
es256_sign(const struct ticket_key *key, const char *msg, size_t len,
    unsigned char sig[TICKET_SIGLEN])
{
	unsigned char	 digest[SHA256_DIGEST_LENGTH], dbytes[32], kbytes[32];
	unsigned int	 klen = sizeof(kbytes);
	const BIGNUM	*r, *s, *d, *n;
	BIGNUM		*k = NULL, *kinv = NULL, *rp = NULL, *x = NULL;
	EC_POINT	*kg = NULL;
	const EC_GROUP	*g;
	EC_KEY		*ec = key->priv, *own = NULL;
	ECDSA_SIG	*es = NULL;
	BN_CTX		*ctx = NULL;
	int		 rc = -1;

	if (ec == NULL && (ec = own = p256_private(key->priv_pem)) == NULL)
		return -1;
	if ((ctx = BN_CTX_new()) == NULL)
		goto out;
	g = EC_KEY_get0_group(ec);
	d = EC_KEY_get0_private_key(ec);
	n = EC_GROUP_get0_order(g);
	if (d == NULL || n == NULL || BN_bn2binpad(d, dbytes, 32) != 32)
		goto out;
	SHA256((const unsigned char *)msg, len, digest);
	if (HMAC(EVP_sha256(), dbytes, sizeof(dbytes), digest, sizeof(digest),
	    kbytes, &klen) == NULL || klen != sizeof(kbytes))
		goto out;
	/* k in [1, n-1]; rp = (kG).x mod n; kinv = 1/k mod n. */
	if ((k = BN_bin2bn(kbytes, (int)klen, NULL)) == NULL ||
	    (x = BN_new()) == NULL || (rp = BN_new()) == NULL ||
	    (kg = EC_POINT_new(g)) == NULL ||
	    !BN_sub(x, n, BN_value_one()) || !BN_mod(k, k, x, ctx) ||
	    !BN_add(k, k, BN_value_one()) ||
	    !EC_POINT_mul(g, kg, k, NULL, NULL, ctx) ||
	    !EC_POINT_get_affine_coordinates(g, kg, x, NULL, ctx) ||
	    !BN_nnmod(rp, x, n, ctx))
		goto out;
	/*
	 * k is secret: its inverse by the constant-time path, not the binary
	 * algorithm whose running time depends on k's bits (the signature is
	 * the same; measured no slower, 21-24 us a ticket either way).
	 */
	BN_set_flags(k, BN_FLG_CONSTTIME);
	if ((kinv = BN_mod_inverse(NULL, k, n, ctx)) == NULL)
		goto out;
	/* ECDSA_do_sign_ex takes ownership of neither kinv nor rp. */
	if ((es = ECDSA_do_sign_ex(digest, sizeof(digest), kinv, rp, ec)) ==
	    NULL)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, TICKET_SIGLEN / 2) != TICKET_SIGLEN / 2 ||
	    BN_bn2binpad(s, sig + TICKET_SIGLEN / 2, TICKET_SIGLEN / 2) !=
	    TICKET_SIGLEN / 2)
		goto out;
	rc = 0;
out:
	sodium_memzero(dbytes, sizeof(dbytes));
	sodium_memzero(kbytes, sizeof(kbytes));
	BN_clear_free(k);
	BN_clear_free(kinv);
	BN_free(rp);
	BN_free(x);
	EC_POINT_free(kg);
	ECDSA_SIG_free(es);
	BN_CTX_free(ctx);
	EC_KEY_free(own);	/* clears the key material */
	return rc;
}

/*
 * Sign a ticket for a registration: an ES256 JWT with iss, event (e),
 * registration (r), jti and iat and nothing personal. Returns a string
 * the caller frees, or NULL.
 */
char *
ticket_sign(const struct ticket_key *k, int64_t event, int64_t reg,
    const char *jti, long iat)
{
	unsigned char	 sig[TICKET_SIGLEN];
	json_t		*claims = NULL;
	char		*head = NULL, *body = NULL, *json = NULL, *sb = NULL;
	char		*tok = NULL, *out = NULL;
	char		 hdr[64];
	size_t		 len;

	if (k == NULL || k->priv_pem == NULL || event <= 0 || reg <= 0 ||
	    iat <= 0 || jti == NULL || !ticket_jti_ok(jti) ||
	    k->kid[0] == '\0' || !ticket_jti_ok(k->kid))
		return NULL;
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", k->kid);
	if ((claims = json_pack("{s:s, s:I, s:I, s:s, s:I}",
	    "iss", TICKET_ISSUER, "e", (json_int_t)event, "r", (json_int_t)reg,
	    "jti", jti, "iat", (json_int_t)iat)) == NULL ||
	    (json = json_dumps(claims, JSON_COMPACT)) == NULL ||
	    (head = b64url(hdr, strlen(hdr))) == NULL || (body = b64url(json, strlen(json))) == NULL)
		goto out;
	len = strlen(head) + 1 + strlen(body);
	if ((tok = malloc(len + 1 + sodium_base64_ENCODED_LEN(TICKET_SIGLEN,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING))) == NULL)
		goto out;
	snprintf(tok, len + 1, "%s.%s", head, body);
	if (es256_sign(k, tok, len, sig) == -1) {
		log_warnx("cannot sign a ticket with key %s", k->kid);
		goto out;
	}
	if ((sb = b64url(sig, sizeof(sig))) == NULL)
		goto out;
	tok[len] = '.';
	memcpy(tok + len + 1, sb, strlen(sb) + 1);
	if (strlen(tok) > TICKET_QR_MAXBYTES)
		log_warnx("a %zu-byte ticket needs a QR code above version %d",
		    strlen(tok), TICKET_MAXVERSION);
	out = tok;
	tok = NULL;
out:
	free(tok);
	free(sb);
	free(body);
	free(head);
	free(json);
	json_decref(claims);
	return out;
}

/*
 * Read a token's header without trusting it: alg must be ES256, typ may
 * be "JWT", kid may name a key, and nothing else may appear. Returns 0
 * and the kid (or "") in kid, or -1.
 */
static int
ticket_header(const char *seg, size_t len, char *kid, size_t kidsz)
{
	json_t		*h, *v;
	const char	*name, *s;
	int		 rc = -1;

	kid[0] = '\0';
	if ((h = b64url_json(seg, len)) == NULL)
		return -1;
	json_object_foreach(h, name, v) {
		if ((s = json_string_value(v)) == NULL)
			goto out;
		if (strcmp(name, "alg") == 0) {
			if (strcmp(s, "ES256") != 0)
				goto out;
		} else if (strcmp(name, "typ") == 0) {
			if (strcmp(s, "JWT") != 0)
				goto out;
		} else if (strcmp(name, "kid") == 0) {
			if (*s == '\0' || strlen(s) >= kidsz)
				goto out;
			memcpy(kid, s, strlen(s) + 1);
		} else
			goto out;
	}
	if (json_object_get(h, "alg") != NULL)
		rc = 0;
out:
	json_decref(h);
	return rc;
}

/* Parse a public PEM into a P-256 key, or NULL. */
static EVP_PKEY *
p256_public(const char *pem)
{
	char		 group[32];
	EVP_PKEY	*pkey = NULL;
	BIO		*bio;

	if (pem == NULL || (bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey != NULL && (!EVP_PKEY_is_a(pkey, "EC") ||
	    !EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) ||
	    strcmp(group, "prime256v1") != 0)) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return pkey;
}

/* A P-256 public PEM as an EC_KEY, or NULL. */
static EC_KEY *
p256_public_ec(const char *pem)
{
	EVP_PKEY	*pkey;
	EC_KEY		*ec;

	if ((pkey = p256_public(pem)) == NULL)
		return NULL;
	ec = EVP_PKEY_get1_EC_KEY(pkey);
	EVP_PKEY_free(pkey);
	return ec;
}

/*
 * Parse a key's public PEM once, so verification does not (reading a PEM
 * costs more than checking a signature). 0 or -1.
 */
int
ticket_key_prepare(struct ticket_key *k)
{
	if (k->pub == NULL)
		k->pub = p256_public_ec(k->pub_pem);
	if (k->priv == NULL && k->priv_pem != NULL)
		k->priv = p256_private(k->priv_pem);
	return k->pub != NULL && (k->priv_pem == NULL || k->priv != NULL) ?
	    0 : -1;
}

/* Free what ticket_key_prepare() made. */
void
ticket_key_release(struct ticket_key *k)
{
	EC_KEY_free(k->pub);
	EC_KEY_free(k->priv);
	k->pub = NULL;
	k->priv = NULL;
}

/*
 * True when "header.payload" of tok carries a valid ES256 signature by k.
 * The header's alg was already pinned to ES256 (ticket_header). This is
 * what libjwt's jwt_decode does for ES256, minus re-reading the PEM on
 * every call: SHA-256 ECDSA over the signing input, the JOSE signature
 * being R||S. ECDSA_do_verify on the parsed EC_KEY, not EVP_DigestVerify:
 * OpenSSL 3's EVP path fetches the algorithm and builds a context for
 * every call, a fifth of the cost of a check here.
 */
static int
ticket_sig_ok(const char *tok, const struct ticket_key *k)
{
	unsigned char	 raw[TICKET_SIGLEN + 2], digest[SHA256_DIGEST_LENGTH];
	const char	*dot2 = strrchr(tok, '.');
	EC_KEY		*ec = k->pub, *own = NULL;
	ECDSA_SIG	*es = NULL;
	BIGNUM		*r = NULL, *s = NULL;
	size_t		 rawlen;
	int		 ok = 0;

	if (dot2 == NULL || sodium_base642bin(raw, sizeof(raw), dot2 + 1,
	    strlen(dot2 + 1), NULL, &rawlen, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    rawlen != TICKET_SIGLEN)
		return 0;
	if (ec == NULL && (ec = own = p256_public_ec(k->pub_pem)) == NULL)
		return 0;
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(raw, TICKET_SIGLEN / 2, NULL)) == NULL ||
	    (s = BN_bin2bn(raw + TICKET_SIGLEN / 2, TICKET_SIGLEN / 2,
	    NULL)) == NULL || !ECDSA_SIG_set0(es, r, s))
		goto out;
	r = s = NULL;		/* owned by es now */
	SHA256((const unsigned char *)tok, (size_t)(dot2 - tok), digest);
	ok = ECDSA_do_verify(digest, sizeof(digest), es, ec) == 1;
out:
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	EC_KEY_free(own);
	return ok;
}

/* Check the signed claims and fill out. Returns 0 or -1. */
static int
ticket_claims(const char *seg, size_t len, struct ticket_claims *out)
{
	json_t		*c;
	const char	*iss, *jti;
	json_int_t	 ev, reg, iat;
	int		 rc = -1;

	if ((c = b64url_json(seg, len)) == NULL)
		return -1;
	if (json_unpack(c, "{s:s, s:I, s:I, s:s, s:I}", "iss", &iss,
	    "e", &ev, "r", &reg, "jti", &jti, "iat", &iat) != 0 ||
	    strcmp(iss, TICKET_ISSUER) != 0 || ev <= 0 || reg <= 0 ||
	    iat <= 0 || !ticket_jti_ok(jti))
		goto out;
	out->event_id = ev;
	out->reg_id = reg;
	out->iat = (long)iat;
	memcpy(out->jti, jti, strlen(jti) + 1);
	rc = 0;
out:
	json_decref(c);
	return rc;
}

/*
 * The kid a token's header names, without verifying anything (to learn
 * whether a key is missing). 0 and the kid ("" when none), or -1.
 */
int
ticket_peek_kid(const char *tok, char *kid, size_t kidsz)
{
	const char	*dot;

	if (tok == NULL || strlen(tok) > TICKET_MAXLEN ||
	    (dot = strchr(tok, '.')) == NULL)
		return -1;
	return ticket_header(tok, (size_t)(dot - tok), kid, kidsz);
}

/*
 * Verify a ticket against the known keys: a header kid picks one key,
 * otherwise each key is tried. Returns 0 and fills out, or -1.
 */
int
ticket_verify(const char *tok, const struct ticket_key *keys, int nkeys,
    struct ticket_claims *out)
{
	char		 kid[sizeof(keys->kid)];
	const char	*dot1, *dot2;
	size_t		 len;
	int		 i, found = -1;

	memset(out, 0, sizeof(*out));
	if (tok == NULL || keys == NULL || nkeys <= 0)
		return -1;
	len = strlen(tok);
	if (len == 0 || len > TICKET_MAXLEN || !util_urlsafe(tok, 1))
		return -1;
	/* Exactly three segments, none empty. */
	if ((dot1 = strchr(tok, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL ||
	    strchr(dot2 + 1, '.') != NULL || dot1 == tok ||
	    dot2 == dot1 + 1 || dot2[1] == '\0')
		return -1;
	if (ticket_header(tok, (size_t)(dot1 - tok), kid, sizeof(kid)) == -1)
		return -1;
	for (i = 0; i < nkeys && found == -1; i++) {
		if (kid[0] != '\0' && strcmp(kid, keys[i].kid) != 0)
			continue;
		if (ticket_sig_ok(tok, &keys[i]))
			found = i;
	}
	/* ticket_claims() writes out only once every claim has passed. */
	if (found == -1 ||
	    ticket_claims(dot1 + 1, (size_t)(dot2 - dot1 - 1), out) == -1)
		return -1;
	snprintf(out->kid, sizeof(out->kid), "%s", keys[found].kid);
	return 0;
}

/*
 * The token as a QR code at level M. Pure 8-bit mode: libqrencode's
 * mixed-mode split sometimes grows a 211-byte token to version 11, while
 * 8-bit mode fits any token of up to 213 bytes in version 10.
 */
static QRcode *
ticket_qr(const char *tok)
{
	size_t	 len;

	if (tok == NULL || (len = strlen(tok)) == 0 || len > TICKET_MAXLEN)
		return NULL;
	return QRcode_encodeString8bit(tok, 0, QR_ECLEVEL_M);
}

/* The QR version a token needs at level M, or -1. */
int
ticket_qr_version(const char *tok)
{
	QRcode	*qr;
	int	 v;

	if ((qr = ticket_qr(tok)) == NULL)
		return -1;
	v = qr->version;
	QRcode_free(qr);
	return v;
}

/* A growing buffer libpng writes a PNG into. */
struct png_buf {
	unsigned char	*p;
	size_t		 len, cap;
	int		 failed;
};

/* libpng's write callback: append to the buffer. */
static void
png_buf_write(png_structp png, png_bytep data, png_size_t n)
{
	struct png_buf	*b = png_get_io_ptr(png);
	unsigned char	*np;
	size_t		 cap;

	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

/* libpng's flush callback: nothing to flush in memory. */
static void
png_buf_flush(png_structp png)
{
	(void)png;
}

/* libpng's error callback: log, then back to ticket_png's setjmp. */
static void
png_fail(png_structp png, png_const_charp msg)
{
	log_warnx("cannot write a ticket PNG: %s", msg);
	png_longjmp(png, 1);
}

/*
 * The ticket as a 1-bit grey PNG: square modules of a whole number of
 * pixels, a 4-module quiet zone, 400 to 600 pixels wide. A pixel row is
 * one bit a pixel and repeats for a module's height, so each is written
 * with the "Up" filter (a repeated row is all zeros) at a low zlib level:
 * about a twentieth of the work of an 8-bit image at the default level.
 * Returns 0 and a buffer the caller frees, or -1.
 */
int
ticket_png(const char *tok, unsigned char **out, size_t *len)
{
	struct png_buf	 buf = { NULL, 0, 0, 0 };
	png_structp	 png = NULL;
	png_infop	 info = NULL;
	QRcode		*qr = NULL;
	unsigned char	*row = NULL;
	size_t		 w, rowlen;
	int		 n, scale, x, y, px, dy;
	volatile int	 rc = -1;

	*out = NULL;
	*len = 0;
	if ((qr = ticket_qr(tok)) == NULL)
		return -1;
	n = qr->width + 2 * TICKET_QR_QUIET;
	if ((scale = TICKET_PNG_MAXPX / n) < 1)
		scale = 1;
	w = (size_t)n * (size_t)scale;
	rowlen = (w + 7) / 8;
	if ((row = malloc(rowlen)) == NULL)
		goto out;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail,
	    NULL);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_set_write_fn(png, &buf, png_buf_write, png_buf_flush);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)w, 1,
	    PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(png, TICKET_PNG_ZLEVEL);
	/*
	 * A small window and hash: the rows repeat one row up, which is all
	 * the compression finds. zlib's default state is 256 KB, a fresh
	 * mmap and its page faults for every image (4 % of the PNG's time).
	 */
	png_set_compression_window_bits(png, TICKET_PNG_ZWINDOW);
	png_set_compression_mem_level(png, TICKET_PNG_ZMEM);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
	png_write_info(png, info);
	for (y = 0; y < n; y++) {
		/* 1 is white; a dark module clears its pixels' bits. */
		memset(row, 0xff, rowlen);
		if (y >= TICKET_QR_QUIET && y < TICKET_QR_QUIET + qr->width)
			for (x = 0; x < qr->width; x++) {
				if (!(qr->data[(y - TICKET_QR_QUIET) *
				    qr->width + x] & 1))
					continue;
				for (px = (x + TICKET_QR_QUIET) * scale;
				    px < (x + TICKET_QR_QUIET + 1) * scale; px++)
					row[px >> 3] &= (unsigned char)
					    ~(0x80 >> (px & 7));
			}
		for (dy = 0; dy < scale; dy++)
			png_write_row(png, row);
	}
	png_write_end(png, NULL);
	if (buf.failed) {
		log_warnx("cannot write a ticket PNG: out of memory");
		goto out;
	}
	*out = buf.p;
	*len = buf.len;
	buf.p = NULL;
	rc = 0;
out:
	png_destroy_write_struct(&png, &info);
	free(buf.p);
	free(row);
	QRcode_free(qr);
	return rc;
}

/*
 * The ticket as SVG: one path of unit squares, each horizontal run of
 * dark modules one rectangle, in a viewBox that includes the quiet zone.
 * Returns a string the caller frees, or NULL.
 */
char *
ticket_svg(const char *tok)
{
	QRcode	*qr;
	FILE	*f;
	char	*s = NULL;
	size_t	 sz = 0;
	int	 n, x, y, run;

	if ((qr = ticket_qr(tok)) == NULL)
		return NULL;
	if ((f = open_memstream(&s, &sz)) == NULL) {
		QRcode_free(qr);
		return NULL;
	}
	n = qr->width + 2 * TICKET_QR_QUIET;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""
	    TICKET_SVG_SIZE "\" height=\"" TICKET_SVG_SIZE "\" viewBox=\"0 0 "
	    "%d %d\" shape-rendering=\"crispEdges\"><rect width=\"%d\" "
	    "height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"", n, n, n, n);
	for (y = 0; y < qr->width; y++)
		for (x = 0; x < qr->width; x += run) {
			for (run = 0; x + run < qr->width &&
			    (qr->data[y * qr->width + x + run] & 1); run++)
				;
			if (run == 0) {
				run = 1;
				continue;
			}
			fprintf(f, "M%d %dh%dv1h-%dz", x + TICKET_QR_QUIET,
			    y + TICKET_QR_QUIET, run, run);
		}
	fputs("\"/></svg>\n", f);
	QRcode_free(qr);
	if (ferror(f)) {
		fclose(f);
		free(s);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}
