/*
 * Unit tests for server/secret.c: the manage secret's hash, the join
 * secret derived from it, the sealed copy for the outbox, random ids.
 *
 * The expected hashes are computed here independently with libsodium's
 * one-shot crypto_hash_sha256, not with the code under test. Each test
 * starts from a known state: either sealing key K1 loaded, or none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "server.h"
#include "unit.h"

/* A well-formed manage secret (43 URL-safe characters). */
#define MANAGE_A	"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"
#define MANAGE_B	"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdf"

/* Length of what secret_seal writes: hex of nonce || MAC || secret. */
#define SEALED_LEN	(2 * (crypto_secretbox_NONCEBYTES + \
			    crypto_secretbox_MACBYTES + SECRET_LEN))

static const unsigned char K1[crypto_secretbox_KEYBYTES] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
};
static const unsigned char K2[crypto_secretbox_KEYBYTES] = {
	32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
	16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1
};

static int
with_key(void **state)
{
	reset_soft_failures(state);
	secret_set_key(K1, sizeof(K1));
	return 0;
}

static int
without_key(void **state)
{
	reset_soft_failures(state);
	secret_clear();
	return 0;
}

static int
forget_key(void **state)
{
	(void)state;
	secret_clear();
	return 0;
}

#define KEYED(f)	cmocka_unit_test_setup_teardown(f, with_key, forget_key)
#define UNKEYED(f)	cmocka_unit_test_setup_teardown(f, without_key, \
			    forget_key)

/* SHA-256 of s as lowercase hex, computed without secret.c. */
static void
sha256_hex(const char *s, char hex[SECRET_HEX])
{
	unsigned char	 h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	sodium_bin2hex(hex, SECRET_HEX, h, sizeof(h));
}

/* Is s exactly n characters of A-Z a-z 0-9 - _? */
static int
is_urlsafe(const char *s, size_t n)
{
	size_t	 i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_", s[i]) == NULL)
			return 0;
	return 1;
}

/* Is s exactly n lowercase hex digits? */
static int
is_hex(const char *s, size_t n)
{
	size_t	 i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL)
			return 0;
	return 1;
}

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		print_error(__VA_ARGS__);				\
		soft_fail(__FILE__, __LINE__);				\
	}								\
} while (0)

/* ---------------------------------------------------------------- */
/* secret_hash_hex                                                    */

static void
hash_hex_is_the_sha256_of_the_secret(void **state)
{
	static const char *const ok[] = { MANAGE_A, MANAGE_B,
	    "0000000000000000000000000000000000000000000",
	    "___________________________________________", NULL };
	char	 got[SECRET_HEX], want[SECRET_HEX], *dup;
	int	 i, rc;

	(void)state;
	for (i = 0; ok[i] != NULL; i++) {
		dup = exact(ok[i]);
		memset(got, 'X', sizeof(got));
		rc = secret_hash_hex(dup, got, sizeof(got));
		free(dup);
		sha256_hex(ok[i], want);
		CHECK(rc == 0 && strcmp(got, want) == 0,
		    "secret_hash_hex(%s) gave rc=%d %s, expected rc=0 %s "
		    "(SHA-256 as hex)\n", showz(ok[i]), rc,
		    rc == 0 ? showz(got) : "-", want);
		CHECK(rc != 0 || is_hex(got, 64),
		    "secret_hash_hex(%s) wrote %s, expected 64 lowercase hex "
		    "digits\n", showz(ok[i]), show(got, sizeof(got)));
	}
	CHECKS_PASSED();
}

static void
hash_hex_refuses_what_cannot_be_a_secret(void **state)
{
	static const char *const bad[] = {
		"",
		"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd",	/* 42 */
		"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdef",	/* 44 */
		"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+_abcde",	/* '+' */
		"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/_abcde",	/* '/' */
		"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd=",	/* '=' */
		"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-.abcde",	/* '.' */
		"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 _abcde",	/* ' ' */
		"AbCdEfGhIjKlMnOpQrStUvWxYz01234567\xc3\xa9-_abcd", /* é */
		NULL
	};
	char	 hex[SECRET_HEX], *dup;
	int	 i, rc;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		dup = exact(bad[i]);
		rc = secret_hash_hex(dup, hex, sizeof(hex));
		free(dup);
		CHECK(rc == -1, "secret_hash_hex(%s) returned %d, expected -1 "
		    "(not %d URL-safe characters)\n", showz(bad[i]), rc,
		    SECRET_LEN);
	}
	CHECKS_PASSED();
}

static void
hash_hex_refuses_a_buffer_too_small(void **state)
{
	char	*hex = malloc(SECRET_HEX - 1);
	int	 rc;

	(void)state;
	assert_non_null(hex);
	/* 64 bytes has no room for the NUL; the heap copy lets ASan see
	 * a write past it if the size check were missing. */
	rc = secret_hash_hex(MANAGE_A, hex, SECRET_HEX - 1);
	CHECK(rc == -1, "secret_hash_hex into %d bytes returned %d, expected "
	    "-1 (64 hex digits and a NUL need %d)\n", SECRET_HEX - 1, rc,
	    SECRET_HEX);
	rc = secret_hash_hex(MANAGE_A, hex, 0);
	CHECK(rc == -1, "secret_hash_hex into 0 bytes returned %d, expected "
	    "-1\n", rc);
	free(hex);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* secret_join                                                        */

/* base64url(SHA-256("rollcall-join:" || manage)), computed here. */
static void
join_expected(const char *manage, char out[48])
{
	unsigned char	 h[crypto_hash_sha256_BYTES];
	char		 in[128];

	snprintf(in, sizeof(in), "rollcall-join:%s", manage);
	crypto_hash_sha256(h, (const unsigned char *)in, strlen(in));
	sodium_bin2base64(out, 48, h, sizeof(h),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void
join_is_deterministic_url_safe_and_not_the_manage_secret(void **state)
{
	char	 j1[48], j2[48], want[48], hex[SECRET_HEX];

	(void)state;
	secret_join(MANAGE_A, j1, sizeof(j1));
	secret_join(MANAGE_A, j2, sizeof(j2));
	CHECK(strcmp(j1, j2) == 0, "secret_join(%s) gave %s then %s, expected "
	    "the same twice\n", MANAGE_A, showz(j1), showz(j2));
	CHECK(is_urlsafe(j1, SECRET_LEN), "secret_join(%s) gave %s, expected "
	    "%d URL-safe characters\n", MANAGE_A, showz(j1), SECRET_LEN);
	CHECK(strcmp(j1, MANAGE_A) != 0, "secret_join(%s) returned the manage "
	    "secret itself\n", MANAGE_A);
	join_expected(MANAGE_A, want);
	CHECK(strcmp(j1, want) == 0, "secret_join(%s) gave %s, expected %s "
	    "(base64url of SHA-256(\"rollcall-join:\" || manage)); a change "
	    "here breaks every join link already sent\n", MANAGE_A, showz(j1),
	    want);
	/* The join secret is itself a well-formed secret to look up. */
	CHECK(secret_hash_hex(j1, hex, sizeof(hex)) == 0, "secret_hash_hex "
	    "refused the join secret %s; /j/{secret} could never find it\n",
	    showz(j1));
	CHECKS_PASSED();
}

static void
join_differs_for_different_manage_secrets(void **state)
{
	char	 ja[48], jb[48];

	(void)state;
	secret_join(MANAGE_A, ja, sizeof(ja));
	secret_join(MANAGE_B, jb, sizeof(jb));
	CHECK(strcmp(ja, jb) != 0, "secret_join gave %s for both %s and %s, "
	    "expected different join secrets\n", showz(ja), MANAGE_A,
	    MANAGE_B);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* secret_new                                                         */

static void
new_secret_has_matching_hashes_and_a_sealed_copy(void **state)
{
	struct secrets	 s;
	char		 want[SECRET_HEX], join[48], back[SECRET_LEN + 1];
	int		 rc;

	(void)state;
	memset(&s, 'X', sizeof(s));
	secret_new(&s);
	CHECK(is_urlsafe(s.manage, SECRET_LEN), "secret_new: manage is %s, "
	    "expected %d URL-safe characters\n", show(s.manage,
	    strnlen(s.manage, sizeof(s.manage))), SECRET_LEN);
	assert_non_null(memchr(s.manage, '\0', sizeof(s.manage)));

	sha256_hex(s.manage, want);
	CHECK(strcmp(s.manage_hash, want) == 0, "secret_new: manage_hash is "
	    "%s, expected SHA-256 of manage %s\n", show(s.manage_hash,
	    strnlen(s.manage_hash, SECRET_HEX)), want);
	secret_join(s.manage, join, sizeof(join));
	CHECK(strcmp(s.join, join) == 0, "secret_new: join is %s, expected "
	    "secret_join(manage) = %s\n", show(s.join, strnlen(s.join,
	    sizeof(s.join))), join);
	sha256_hex(join, want);
	CHECK(strcmp(s.join_hash, want) == 0, "secret_new: join_hash is %s, "
	    "expected SHA-256 of join %s\n", show(s.join_hash,
	    strnlen(s.join_hash, SECRET_HEX)), want);

	CHECK(is_hex(s.sealed, SEALED_LEN), "secret_new with a key: sealed is "
	    "%s, expected %d hex digits\n", show(s.sealed, strnlen(s.sealed,
	    sizeof(s.sealed))), SEALED_LEN);
	memset(back, 'X', sizeof(back));
	rc = secret_unseal(s.sealed, back, sizeof(back));
	CHECK(rc == 0 && strcmp(back, s.manage) == 0, "secret_unseal(sealed) "
	    "gave rc=%d %s, expected rc=0 and the manage secret %s\n", rc,
	    show(back, strnlen(back, sizeof(back))), s.manage);
	sodium_memzero(&s, sizeof(s));
	CHECKS_PASSED();
}

static void
new_secrets_differ_each_time(void **state)
{
	struct secrets	 a, b;

	(void)state;
	secret_new(&a);
	secret_new(&b);
	CHECK(strcmp(a.manage, b.manage) != 0, "secret_new gave manage %s "
	    "twice\n", a.manage);
	CHECK(strcmp(a.manage_hash, b.manage_hash) != 0, "secret_new gave "
	    "manage_hash %s twice\n", a.manage_hash);
	CHECK(strcmp(a.join, b.join) != 0, "secret_new gave join %s twice\n",
	    a.join);
	CHECK(strcmp(a.sealed, b.sealed) != 0, "secret_new gave sealed %s "
	    "twice\n", a.sealed);
	CHECKS_PASSED();
}

static void
new_secret_without_a_key_is_not_sealed(void **state)
{
	struct secrets	 s;
	char		 want[SECRET_HEX];

	(void)state;
	memset(&s, 'X', sizeof(s));
	secret_new(&s);
	CHECK(s.sealed[0] == '\0', "secret_new without a key: sealed is %s, "
	    "expected \"\"\n", show(s.sealed, strnlen(s.sealed,
	    sizeof(s.sealed))));
	CHECK(is_urlsafe(s.manage, SECRET_LEN), "secret_new without a key: "
	    "manage is %s, expected %d URL-safe characters\n", show(s.manage,
	    strnlen(s.manage, sizeof(s.manage))), SECRET_LEN);
	sha256_hex(s.manage, want);
	CHECK(strcmp(s.manage_hash, want) == 0, "secret_new without a key: "
	    "manage_hash is %s, expected %s\n", show(s.manage_hash,
	    strnlen(s.manage_hash, SECRET_HEX)), want);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* secret_seal, secret_unseal                                          */

static void
seal_and_unseal_round_trip(void **state)
{
	char	 sealed[SECRET_SEALED_HEX], again[SECRET_SEALED_HEX];
	char	 back[SECRET_LEN + 1];
	int	 rc;

	(void)state;
	assert_int_equal(secret_seal(MANAGE_A, sealed, sizeof(sealed)), 0);
	CHECK(is_hex(sealed, SEALED_LEN), "secret_seal gave %s, expected %d "
	    "hex digits\n", showz(sealed), SEALED_LEN);
	rc = secret_unseal(sealed, back, sizeof(back));
	CHECK(rc == 0 && strcmp(back, MANAGE_A) == 0, "secret_unseal gave "
	    "rc=%d %s, expected rc=0 %s\n", rc, rc == 0 ? showz(back) : "-",
	    MANAGE_A);
	/* A fresh nonce each time: the same secret seals differently. */
	assert_int_equal(secret_seal(MANAGE_A, again, sizeof(again)), 0);
	CHECK(strcmp(sealed, again) != 0, "secret_seal gave %s twice for the "
	    "same secret (a repeated nonce)\n", sealed);
	CHECKS_PASSED();
}

static void
unseal_refuses_tampered_hex(void **state)
{
	char	 sealed[SECRET_SEALED_HEX], bad[SECRET_SEALED_HEX + 4];
	char	 back[SECRET_LEN + 1];
	size_t	 where[] = { 0, 47, 48, 80, SEALED_LEN - 1 };
	size_t	 i;
	int	 rc;

	(void)state;
	assert_int_equal(secret_seal(MANAGE_A, sealed, sizeof(sealed)), 0);
	/* One hex digit changed in the nonce, the MAC, the box. */
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		memcpy(bad, sealed, sizeof(sealed));
		bad[where[i]] = bad[where[i]] == '0' ? '1' : '0';
		rc = secret_unseal(bad, back, sizeof(back));
		CHECK(rc == -1, "secret_unseal with hex digit %zu changed "
		    "returned %d, expected -1\n", where[i], rc);
	}
	/* Cut short, made longer, not hex, empty. */
	memcpy(bad, sealed, sizeof(sealed));
	bad[SEALED_LEN - 2] = '\0';
	rc = secret_unseal(bad, back, sizeof(back));
	CHECK(rc == -1, "secret_unseal of a sealed copy one byte short "
	    "returned %d, expected -1\n", rc);
	snprintf(bad, sizeof(bad), "%s00", sealed);
	rc = secret_unseal(bad, back, sizeof(back));
	CHECK(rc == -1, "secret_unseal of a sealed copy one byte long "
	    "returned %d, expected -1\n", rc);
	memcpy(bad, sealed, sizeof(sealed));
	bad[10] = 'g';
	rc = secret_unseal(bad, back, sizeof(back));
	CHECK(rc == -1, "secret_unseal of text with a 'g' returned %d, "
	    "expected -1\n", rc);
	rc = secret_unseal("", back, sizeof(back));
	CHECK(rc == -1, "secret_unseal(\"\") returned %d, expected -1\n", rc);
	rc = secret_unseal(NULL, back, sizeof(back));
	CHECK(rc == -1, "secret_unseal(NULL) returned %d, expected -1\n", rc);
	CHECKS_PASSED();
}

static void
unseal_refuses_a_copy_sealed_with_another_key(void **state)
{
	char	 sealed[SECRET_SEALED_HEX], back[SECRET_LEN + 1];
	int	 rc;

	(void)state;
	assert_int_equal(secret_seal(MANAGE_A, sealed, sizeof(sealed)), 0);
	secret_set_key(K2, sizeof(K2));
	rc = secret_unseal(sealed, back, sizeof(back));
	CHECK(rc == -1, "secret_unseal under another key returned %d, "
	    "expected -1\n", rc);
	secret_clear();
	rc = secret_unseal(sealed, back, sizeof(back));
	CHECK(rc == -1, "secret_unseal with no key loaded returned %d, "
	    "expected -1\n", rc);
	secret_set_key(K1, sizeof(K1));
	rc = secret_unseal(sealed, back, sizeof(back));
	CHECK(rc == 0 && strcmp(back, MANAGE_A) == 0, "secret_unseal under "
	    "the sealing key again gave rc=%d, expected 0 and %s\n", rc,
	    MANAGE_A);
	CHECKS_PASSED();
}

static void
unseal_refuses_a_buffer_too_small(void **state)
{
	char	 sealed[SECRET_SEALED_HEX];
	char	*back = malloc(SECRET_LEN);
	int	 rc;

	(void)state;
	assert_non_null(back);
	assert_int_equal(secret_seal(MANAGE_A, sealed, sizeof(sealed)), 0);
	/* 43 bytes has no room for the NUL (a heap copy: ASan sees). */
	rc = secret_unseal(sealed, back, SECRET_LEN);
	CHECK(rc == -1, "secret_unseal into %d bytes returned %d, expected -1 "
	    "(%d characters and a NUL need %d)\n", SECRET_LEN, rc, SECRET_LEN,
	    SECRET_LEN + 1);
	free(back);
	CHECKS_PASSED();
}

static void
seal_refuses_bad_input(void **state)
{
	char	 sealed[SECRET_SEALED_HEX];
	int	 rc;

	(void)state;
	rc = secret_seal("short", sealed, sizeof(sealed));
	CHECK(rc == -1, "secret_seal of a 5-byte secret returned %d, expected "
	    "-1\n", rc);
	rc = secret_seal(MANAGE_A "x", sealed, sizeof(sealed));
	CHECK(rc == -1, "secret_seal of a 44-byte secret returned %d, "
	    "expected -1\n", rc);
	rc = secret_seal(MANAGE_A, sealed, SEALED_LEN);
	CHECK(rc == -1, "secret_seal into %d bytes returned %d, expected -1 "
	    "(no room for the NUL)\n", SEALED_LEN, rc);
	rc = secret_seal(MANAGE_A, sealed, SEALED_LEN + 1);
	CHECK(rc == 0, "secret_seal into exactly %d bytes returned %d, "
	    "expected 0\n", SEALED_LEN + 1, rc);
	secret_clear();
	rc = secret_seal(MANAGE_A, sealed, sizeof(sealed));
	CHECK(rc == -1, "secret_seal with no key loaded returned %d, expected "
	    "-1\n", rc);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* secret_random_id                                                   */

static void
random_ids_are_url_safe_of_the_right_length_and_differ(void **state)
{
	static const size_t sizes[] = { 1, 16, 24, 32 };
	char	 a[64], b[64];
	size_t	 i, want;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		want = (sizes[i] * 4 + 2) / 3;	/* base64 without padding */
		memset(a, 'X', sizeof(a));
		secret_random_id(a, sizeof(a), sizes[i]);
		secret_random_id(b, sizeof(b), sizes[i]);
		CHECK(is_urlsafe(a, want), "secret_random_id(%zu bytes) gave "
		    "%s, expected %zu URL-safe characters\n", sizes[i],
		    show(a, strnlen(a, sizeof(a))), want);
		/* One byte repeats by chance 1 time in 256; 16 never. */
		CHECK(sizes[i] < 16 || strcmp(a, b) != 0, "secret_random_id("
		    "%zu bytes) gave %s twice\n", sizes[i], a);
	}
	/* SECRET_BYTES (a CSRF token in web.c) fits SECRET_LEN + 1 bytes. */
	secret_random_id(a, SECRET_LEN + 1, SECRET_BYTES);
	CHECK(is_urlsafe(a, SECRET_LEN), "secret_random_id(%d bytes) into %d "
	    "gave %s, expected %d URL-safe characters\n", SECRET_BYTES,
	    SECRET_LEN + 1, showz(a), SECRET_LEN);
	CHECKS_PASSED();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		UNKEYED(hash_hex_is_the_sha256_of_the_secret),
		UNKEYED(hash_hex_refuses_what_cannot_be_a_secret),
		UNKEYED(hash_hex_refuses_a_buffer_too_small),
		UNKEYED(join_is_deterministic_url_safe_and_not_the_manage_secret),
		UNKEYED(join_differs_for_different_manage_secrets),
		KEYED(new_secret_has_matching_hashes_and_a_sealed_copy),
		KEYED(new_secrets_differ_each_time),
		UNKEYED(new_secret_without_a_key_is_not_sealed),
		KEYED(seal_and_unseal_round_trip),
		KEYED(unseal_refuses_tampered_hex),
		KEYED(unseal_refuses_a_copy_sealed_with_another_key),
		KEYED(unseal_refuses_a_buffer_too_small),
		KEYED(seal_refuses_bad_input),
		UNKEYED(random_ids_are_url_safe_of_the_right_length_and_differ),
	};

	if (sodium_init() < 0) {
		print_error("sodium_init failed\n");
		return 1;
	}
	return cmocka_run_group_tests_name("secret", tests, NULL, NULL);
}
