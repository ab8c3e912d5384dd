/*
 * Secrets that reach attendees: the manage secret (256 random bits, shown
 * once, stored only as its SHA-256), the NightTalk join secret derived
 * from it, and the sealed copy the outbox keeps so a mail can carry the
 * link without the database holding it in the clear.
 *
 * A lookup hashes whatever it is given and asks the index for the hash:
 * an unknown secret costs the same as a known one, and nothing about a
 * near miss leaks through timing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "server.h"

static unsigned char	 seal_key[crypto_secretbox_KEYBYTES];
static int		 have_key;

/* SHA-256 of a manage or join secret, as hex. -1 when it cannot be one. */
int
secret_hash_hex(const char *secret, char *hex, size_t hexsz)
{
	unsigned char	 h[crypto_hash_sha256_BYTES];

	if (strlen(secret) != SECRET_LEN || hexsz < sizeof(h) * 2 + 1 ||
	    !util_urlsafe(secret, 0))
		return -1;
	crypto_hash_sha256(h, (const unsigned char *)secret, SECRET_LEN);
	sodium_bin2hex(hex, hexsz, h, sizeof(h));
	return 0;
}

/*
 * The NightTalk join-link secret, derived from the manage secret: whoever
 * holds the manage link can always show the join link again, while the
 * join link (shared in a chat, say) reveals nothing of the manage secret.
 */
void
secret_join(const char *manage, char *out, size_t outsz)
{
	unsigned char	 h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)"rollcall-join:",
	    14);
	crypto_hash_sha256_update(&st, (const unsigned char *)manage,
	    strlen(manage));
	crypto_hash_sha256_final(&st, h);
	sodium_bin2base64(out, outsz, h, sizeof(h),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(h, sizeof(h));
}

/*
 * A new manage secret with everything the database is given of it: its
 * hash, the join secret's hash, and the sealed copy for the outbox
 * (empty when no sealing key is loaded). The caller wipes s.
 */
void
secret_new(struct secrets *s)
{
	unsigned char	 raw[SECRET_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(s->manage, sizeof(s->manage), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	secret_hash_hex(s->manage, s->manage_hash, sizeof(s->manage_hash));
	secret_join(s->manage, s->join, sizeof(s->join));
	secret_hash_hex(s->join, s->join_hash, sizeof(s->join_hash));
	if (secret_seal(s->manage, s->sealed, sizeof(s->sealed)) == -1)
		s->sealed[0] = '\0';
}

/* Use this sealing key (the loader and tests). */
void
secret_set_key(const unsigned char *key, size_t len)
{
	if (len != sizeof(seal_key))
		abort();	/* a programming error */
	memcpy(seal_key, key, len);
	have_key = 1;
}

/*
 * The sealing key from `secrets`, created by the first server to want it
 * (of several starting at once, ON CONFLICT lets one win). Blocking.
 */
int
secret_load(struct db_conn *c)
{
	unsigned char	 key[crypto_secretbox_KEYBYTES];

	if (db_secret(c, SECRET_SEAL_NAME, key, sizeof(key)) == -1)
		return -1;
	secret_set_key(key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	return 0;
}

/* Forget the sealing key. */
void
secret_clear(void)
{
	sodium_memzero(seal_key, sizeof(seal_key));
	have_key = 0;
}

/* Seal a manage secret for the outbox: hex of nonce || secretbox. */
int
secret_seal(const char *secret, char *hex, size_t hexsz)
{
	unsigned char	 buf[crypto_secretbox_NONCEBYTES +
	    crypto_secretbox_MACBYTES + SECRET_LEN];
	size_t		 len = strlen(secret);

	if (!have_key || len != SECRET_LEN || hexsz < sizeof(buf) * 2 + 1)
		return -1;
	randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES,
	    (const unsigned char *)secret, len, buf, seal_key);
	sodium_bin2hex(hex, hexsz, buf, sizeof(buf));
	return 0;
}

/* Open what secret_seal made into secret (SECRET_LEN + 1 bytes at least). */
int
secret_unseal(const char *hex, char *secret, size_t secretsz)
{
	unsigned char	 buf[crypto_secretbox_NONCEBYTES +
	    crypto_secretbox_MACBYTES + SECRET_LEN];
	size_t		 len;

	if (!have_key || secretsz < SECRET_LEN + 1 || hex == NULL ||
	    sodium_hex2bin(buf, sizeof(buf), hex, strlen(hex), NULL, &len,
	    NULL) != 0 || len != sizeof(buf))
		return -1;
	if (crypto_secretbox_open_easy((unsigned char *)secret,
	    buf + crypto_secretbox_NONCEBYTES,
	    sizeof(buf) - crypto_secretbox_NONCEBYTES, buf, seal_key) != 0)
		return -1;
	secret[SECRET_LEN] = '\0';
	return 0;
}

/* A random id of nbytes (at most 32) as URL-safe base64 (tokens, CSRF). */
void
secret_random_id(char *out, size_t outsz, size_t nbytes)
{
	unsigned char	 raw[32];

	if (nbytes > sizeof(raw))
		abort();	/* a programming error */
	randombytes_buf(raw, nbytes);
	sodium_bin2base64(out, outsz, raw, nbytes,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}
