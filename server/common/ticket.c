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
#define ES256_BATCH		4	/* tickets signed together from */
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
 * ES256-sign n messages with one P-256 key, writing each JOSE signature
 * (R||S) into sigs[i]. Returns 0, or -1 when one or more could not be
 * signed: their sigs[i] are all zero.
 *
 * The signature is deterministic: the nonce k is HMAC-SHA256 keyed with
 * the private scalar over the message digest (the idea of RFC 6979), so
 * the same ticket always has the same code: the PNG, the SVG and the
 * token in the API agree byte for byte, and a door never sees two codes
 * for one ticket. Different messages get unrelated nonces, and a nonce
 * is never reused for another message, which is what ECDSA needs.
 *
 * A signature needs two inversions, (kG)'s z for its affine x and 1/k
 * mod n: 11 of its 20 us. From ES256_BATCH messages on, both are done
 * once for all (Montgomery's trick: one inversion of the product, then
 * three multiplications each): 8.7 us a ticket in a group of 32. Below
 * that each is inverted alone, by OpenSSL's faster P-256 code for the
 * point. The signatures are the very same either way.
 */
static int
es256_sign_n(const struct ticket_key *key, char *const *msgs, size_t n,
    unsigned char (*sigs)[TICKET_SIGLEN])
{
	unsigned char	 (*digest)[SHA256_DIGEST_LENGTH] = NULL;
	unsigned char	 dbytes[32], kbytes[32];
	unsigned int	 klen;
	const BIGNUM	*r, *s, *d, *ord;
	BIGNUM		**k = NULL, **kinv = NULL, **pre = NULL, **rp = NULL;
	BIGNUM		*x, *z, *t, *u;
	EC_POINT	**kg = NULL;
	const EC_GROUP	*g;
	EC_KEY		*ec = key->priv, *own = NULL;
	ECDSA_SIG	*es;
	BN_MONT_CTX	*mont = NULL;
	BN_CTX		*ctx = NULL;
	size_t		 i;
	int		 batch = n >= ES256_BATCH, rc = -1;

	for (i = 0; i < n; i++)
		memset(sigs[i], 0, TICKET_SIGLEN);
	if (n == 0)
		return -1;
	if (ec == NULL && (ec = own = p256_private(key->priv_pem)) == NULL)
		return -1;
	if ((ctx = BN_CTX_new()) == NULL ||
	    (digest = calloc(n, sizeof(*digest))) == NULL ||
	    (k = calloc(n, sizeof(*k))) == NULL ||
	    (kinv = calloc(n, sizeof(*kinv))) == NULL ||
	    (pre = calloc(n, sizeof(*pre))) == NULL ||
	    (rp = calloc(n, sizeof(*rp))) == NULL ||
	    (kg = calloc(n, sizeof(*kg))) == NULL)
		goto out;
	BN_CTX_start(ctx);
	x = BN_CTX_get(ctx);
	z = BN_CTX_get(ctx);
	t = BN_CTX_get(ctx);
	u = BN_CTX_get(ctx);
	g = EC_KEY_get0_group(ec);
	d = EC_KEY_get0_private_key(ec);
	ord = EC_GROUP_get0_order(g);
	if (u == NULL || d == NULL || ord == NULL ||
	    BN_bn2binpad(d, dbytes, 32) != 32 || !BN_sub(x, ord, BN_value_one()))
		goto out;
	if (batch && ((mont = BN_MONT_CTX_new()) == NULL ||
	    !BN_MONT_CTX_set(mont, ord, ctx)))
		goto out;
	/* k in [1, n-1] and kG; batched, pre[i] is k_0...k_i (Montgomery). */
	for (i = 0; i < n; i++) {
		SHA256((const unsigned char *)msgs[i], strlen(msgs[i]),
		    digest[i]);
		klen = sizeof(kbytes);
		if (HMAC(EVP_sha256(), dbytes, sizeof(dbytes), digest[i],
		    sizeof(digest[i]), kbytes, &klen) == NULL ||
		    klen != sizeof(kbytes) ||
		    (k[i] = BN_bin2bn(kbytes, (int)klen, NULL)) == NULL ||
		    (kinv[i] = BN_new()) == NULL || (pre[i] = BN_new()) == NULL ||
		    (rp[i] = BN_new()) == NULL ||
		    (kg[i] = EC_POINT_new(g)) == NULL ||
		    !BN_mod(k[i], k[i], x, ctx) ||
		    !BN_add(k[i], k[i], BN_value_one()))
			goto out;
		/* k is secret: no branch on its bits where OpenSSL has one. */
		BN_set_flags(k[i], BN_FLG_CONSTTIME);
		if (!EC_POINT_mul(g, kg[i], k[i], NULL, NULL, ctx))
			goto out;
		if (batch && (!BN_to_montgomery(t, k[i], mont, ctx) ||
		    !(i == 0 ? BN_copy(pre[i], t) != NULL :
		    BN_mod_mul_montgomery(pre[i], pre[i - 1], t, mont, ctx))))
			goto out;
	}
	/* r = (kG).x mod n: batched, every z at once, then x is X (z = 1). */
	if (batch && !EC_POINTs_make_affine(g, n, kg, ctx))
		goto out;
	for (i = 0; i < n; i++) {
		if (batch && !EC_POINT_get_Jprojective_coordinates_GFp(g, kg[i],
		    x, NULL, z, ctx))
			goto out;
		if ((!batch || !BN_is_one(z)) &&
		    !EC_POINT_get_affine_coordinates(g, kg[i], x, NULL, ctx))
			goto out;
		if (!BN_nnmod(rp[i], x, ord, ctx))
			goto out;
	}
	/*
	 * 1/k by the constant-time path, not the binary algorithm whose
	 * running time depends on k's bits. Batched: 1/(k_0...k_n-1) that
	 * way, then from the last down 1/k_i is that times the product
	 * before i, and that times k_i the inverse of the product before i.
	 */
	if (!batch) {
		for (i = 0; i < n; i++)
			if (BN_mod_inverse(kinv[i], k[i], ord, ctx) == NULL)
				goto out;
	} else {
		if (!BN_from_montgomery(t, pre[n - 1], mont, ctx))
			goto out;
		BN_set_flags(t, BN_FLG_CONSTTIME);
		if (BN_mod_inverse(u, t, ord, ctx) == NULL ||
		    !BN_to_montgomery(u, u, mont, ctx))
			goto out;
		for (i = n; i-- > 0; ) {
			if (i == 0 ? BN_copy(t, u) == NULL :
			    !BN_mod_mul_montgomery(t, u, pre[i - 1], mont, ctx) ||
			    !BN_to_montgomery(z, k[i], mont, ctx) ||
			    !BN_mod_mul_montgomery(u, u, z, mont, ctx))
				goto out;
			if (!BN_from_montgomery(kinv[i], t, mont, ctx))
				goto out;
		}
	}
	rc = 0;
	for (i = 0; i < n; i++) {
		/* ECDSA_do_sign_ex takes ownership of neither kinv nor rp. */
		if ((es = ECDSA_do_sign_ex(digest[i], sizeof(digest[i]),
		    kinv[i], rp[i], ec)) == NULL) {
			rc = -1;
			continue;
		}
		ECDSA_SIG_get0(es, &r, &s);
		if (BN_bn2binpad(r, sigs[i], TICKET_SIGLEN / 2) !=
		    TICKET_SIGLEN / 2 || BN_bn2binpad(s, sigs[i] +
		    TICKET_SIGLEN / 2, TICKET_SIGLEN / 2) != TICKET_SIGLEN / 2) {
			memset(sigs[i], 0, TICKET_SIGLEN);
			rc = -1;
		}
		ECDSA_SIG_free(es);
	}
out:
	sodium_memzero(dbytes, sizeof(dbytes));
	sodium_memzero(kbytes, sizeof(kbytes));
	for (i = 0; i < n; i++) {
		if (k != NULL)
			BN_clear_free(k[i]);
		if (kinv != NULL)
			BN_clear_free(kinv[i]);
		if (pre != NULL)
			BN_clear_free(pre[i]);
		if (rp != NULL)
			BN_free(rp[i]);
		if (kg != NULL)
			EC_POINT_free(kg[i]);
	}
	free(digest);
	free(k);
	free(kinv);
	free(pre);
	free(rp);
	free(kg);
	if (ctx != NULL) {
		BN_CTX_end(ctx);	/* clears t, u and z */
		BN_CTX_free(ctx);
	}
	BN_MONT_CTX_free(mont);
	EC_KEY_free(own);	/* clears the key material */
	return rc;
}

/*
 * Sign n tickets with key k, one for each in[i]: an ES256 JWT with iss,
 * event (e), registration (r), jti and iat and nothing personal. toks[i]
 * is a string the caller frees, or NULL where in[i] is no ticket or it
 * could not be signed. Returns how many were signed. A group's tickets
 * signed together cost about half as much each (es256_sign_n), and each
 * is the same as signed alone.
 */
size_t
ticket_sign_many(const struct ticket_key *k, const struct ticket_in *in,
    size_t n, char **toks)
{
	unsigned char	 (*sigs)[TICKET_SIGLEN] = NULL;
	static const unsigned char zero[TICKET_SIGLEN];
	char		**msgs = NULL, *head = NULL, *body, *sb;
	char		 hdr[64], claims[TICKET_MAXLEN];
	size_t		*at = NULL, i, m = 0, len, signed_ = 0;

	for (i = 0; i < n; i++)
		toks[i] = NULL;
	if (k == NULL || k->priv_pem == NULL || k->kid[0] == '\0' ||
	    !ticket_jti_ok(k->kid) || n == 0)
		return 0;
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", k->kid);
	if ((head = b64url(hdr, strlen(hdr))) == NULL ||
	    (msgs = calloc(n, sizeof(*msgs))) == NULL ||
	    (at = calloc(n, sizeof(*at))) == NULL ||
	    (sigs = calloc(n, sizeof(*sigs))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (in[i].event_id <= 0 || in[i].reg_id <= 0 ||
		    in[i].iat <= 0 || in[i].jti == NULL ||
		    !ticket_jti_ok(in[i].jti))
			continue;
		/* What jansson's compact form would write: jti is URL-safe. */
		snprintf(claims, sizeof(claims), "{\"iss\":\"%s\",\"e\":%lld,"
		    "\"r\":%lld,\"jti\":\"%s\",\"iat\":%ld}", TICKET_ISSUER,
		    (long long)in[i].event_id, (long long)in[i].reg_id,
		    in[i].jti, in[i].iat);
		if ((body = b64url(claims, strlen(claims))) == NULL)
			continue;
		len = strlen(head) + 1 + strlen(body);
		if ((msgs[m] = malloc(len + 2 + sodium_base64_ENCODED_LEN(
		    TICKET_SIGLEN, sodium_base64_VARIANT_URLSAFE_NO_PADDING))) ==
		    NULL) {
			free(body);
			continue;
		}
		snprintf(msgs[m], len + 1, "%s.%s", head, body);
		free(body);
		at[m++] = i;
	}
	if (m == 0)
		goto out;
	es256_sign_n(k, msgs, m, sigs);
	for (i = 0; i < m; i++) {
		if (memcmp(sigs[i], zero, TICKET_SIGLEN) == 0) {
			log_warnx("cannot sign a ticket with key %s", k->kid);
			continue;
		}
		if ((sb = b64url(sigs[i], TICKET_SIGLEN)) == NULL)
			continue;
		len = strlen(msgs[i]);
		msgs[i][len] = '.';
		memcpy(msgs[i] + len + 1, sb, strlen(sb) + 1);
		free(sb);
		if (strlen(msgs[i]) > TICKET_QR_MAXBYTES)
			log_warnx("a %zu-byte ticket needs a QR code above "
			    "version %d", strlen(msgs[i]), TICKET_MAXVERSION);
		toks[at[i]] = msgs[i];
		msgs[i] = NULL;
		signed_++;
	}
out:
	for (i = 0; msgs != NULL && i < m; i++)
		free(msgs[i]);
	free(msgs);
	free(at);
	free(sigs);
	free(head);
	return signed_;
}

/* Sign one ticket (ticket_sign_many); NULL on failure. */
char *
ticket_sign(const struct ticket_key *k, int64_t event, int64_t reg,
    const char *jti, long iat)
{
	struct ticket_in	 in = { event, reg, jti, iat };
	char			*tok;

	ticket_sign_many(k, &in, 1, &tok);
	return tok;
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
