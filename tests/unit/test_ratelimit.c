/*
 * Unit tests for rate_allow() in server/ratelimit.c: a fixed one-minute
 * window per key. Every test starts from an empty table (rate_reset).
 *
 * The table is hashed; keys in one test that must be counted apart are
 * of one length and differ only in their last byte, which FNV-1a maps to
 * different slots of any power-of-two table, so no test depends on luck.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "server.h"
#include "unit.h"

/* The start of some minute (a multiple of 60 since the epoch). */
#define MINUTE	((time_t)1796277600)

static int
fresh_table(void **state)
{
	reset_soft_failures(state);
	rate_reset();
	return 0;
}

#define RTEST(f)	cmocka_unit_test_setup(f, fresh_table)

/* Call rate_allow and check its verdict (and *retry when refused). */
static void
check_allow(const char *key, time_t now, int limit, int want, int wantretry,
    const char *file, int line)
{
	int	 retry = -12345, got;

	got = rate_allow(key, now, limit, &retry);
	if (got != want) {
		print_error("rate_allow(%s, minute+%lld, limit %d) returned "
		    "%d, expected %d (%s)\n", showz(key),
		    (long long)(now - MINUTE), limit, got, want,
		    want ? "should pass" : "should be refused");
		soft_fail(file, line);
		return;
	}
	if (!want && retry != wantretry) {
		print_error("rate_allow(%s, minute+%lld, limit %d) refused "
		    "with *retry = %d, expected %d (seconds to the next "
		    "minute)\n", showz(key), (long long)(now - MINUTE), limit,
		    retry, wantretry);
		soft_fail(file, line);
	}
}

#define PASSES(key, now, limit) \
	check_allow((key), (now), (limit), 1, 0, __FILE__, __LINE__)
#define REFUSED(key, now, limit, retry) \
	check_allow((key), (now), (limit), 0, (retry), __FILE__, __LINE__)

static void
the_limit_th_call_passes_and_the_next_is_refused(void **state)
{
	int	 i;

	(void)state;
	for (i = 0; i < 5; i++)
		PASSES("10.0.0.1", MINUTE + 10 + i, 5);
	REFUSED("10.0.0.1", MINUTE + 20, 5, 40);
	/* Still refused to the end of the minute. */
	REFUSED("10.0.0.1", MINUTE + 59, 5, 1);
	CHECKS_PASSED();
}

static void
a_limit_of_one_allows_one_call_a_minute(void **state)
{
	(void)state;
	PASSES("k", MINUTE, 1);
	REFUSED("k", MINUTE, 1, 60);
	REFUSED("k", MINUTE + 30, 1, 30);
	PASSES("k", MINUTE + 60, 1);
	CHECKS_PASSED();
}

static void
retry_counts_the_seconds_to_the_next_minute(void **state)
{
	static const int at[] = { 0, 1, 13, 30, 58, 59 };
	char	 key[16];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		snprintf(key, sizeof(key), "retry %c", (char)('a' + i));
		PASSES(key, MINUTE + at[i], 1);
		REFUSED(key, MINUTE + at[i], 1, 60 - at[i]);
	}
	CHECKS_PASSED();
}

static void
a_new_minute_starts_a_new_count(void **state)
{
	int	 i;

	(void)state;
	/* Used up in the last second of a minute... */
	for (i = 0; i < 3; i++)
		PASSES("10.0.0.1", MINUTE + 59, 3);
	REFUSED("10.0.0.1", MINUTE + 59, 3, 1);
	/* ...and whole again in the first second of the next. */
	for (i = 0; i < 3; i++)
		PASSES("10.0.0.1", MINUTE + 60, 3);
	REFUSED("10.0.0.1", MINUTE + 61, 3, 59);
	/* A window long past counts for nothing. */
	PASSES("10.0.0.1", MINUTE + 3600, 3);
	CHECKS_PASSED();
}

static void
different_keys_are_counted_apart(void **state)
{
	(void)state;
	PASSES("10.0.0.1", MINUTE, 2);
	PASSES("10.0.0.1", MINUTE, 2);
	REFUSED("10.0.0.1", MINUTE, 2, 60);
	/* Another address has its own count... */
	PASSES("10.0.0.2", MINUTE, 2);
	PASSES("10.0.0.2", MINUTE, 2);
	REFUSED("10.0.0.2", MINUTE, 2, 60);
	/* ...and using it did not reset the first. */
	REFUSED("10.0.0.1", MINUTE + 1, 2, 59);
	/* What is limited is part of the key: the same address as a
	 * resend key counts apart from its registrations. */
	PASSES("resend 10.0.0.1", MINUTE, 1);
	REFUSED("resend 10.0.0.1", MINUTE, 1, 60);
	PASSES("resend 10.0.0.3", MINUTE, 1);
	CHECKS_PASSED();
}

static void
keys_up_to_rate_maxkey_bytes_are_counted(void **state)
{
	char	 key[RATE_MAXKEY];

	(void)state;
	/* The longest key the table keeps whole: RATE_MAXKEY - 1 bytes
	 * (the callers' keys, "resend " and an address, are shorter). */
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	PASSES(key, MINUTE, 1);
	REFUSED(key, MINUTE, 1, 60);
	CHECKS_PASSED();
}

/* A key longer than the table keeps is still limited (by what is kept). */
static void
keys_longer_than_rate_maxkey_are_still_limited(void **state)
{
	char	 key[RATE_MAXKEY * 2];

	(void)state;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	PASSES(key, MINUTE, 2);
	PASSES(key, MINUTE, 2);
	REFUSED(key, MINUTE, 2, 60);
	CHECKS_PASSED();
}

static void
a_limit_of_zero_or_less_is_unlimited(void **state)
{
	int	 i, retry = -12345;

	(void)state;
	for (i = 0; i < 1000; i++) {
		PASSES("10.0.0.1", MINUTE + i % 60, 0);
		PASSES("10.0.0.2", MINUTE + i % 60, -1);
	}
	/* Unlimited calls leave nothing counted for a later limit. */
	PASSES("10.0.0.1", MINUTE, 1);
	REFUSED("10.0.0.1", MINUTE, 1, 60);
	(void)rate_allow("10.0.0.3", MINUTE, 0, &retry);
	if (retry != -12345) {
		print_error("rate_allow with limit 0 wrote *retry = %d; "
		    "expected it untouched\n", retry);
		soft_fail(__FILE__, __LINE__);
	}
	CHECKS_PASSED();
}

static void
rate_reset_forgets_every_window(void **state)
{
	(void)state;
	PASSES("10.0.0.1", MINUTE, 1);
	REFUSED("10.0.0.1", MINUTE, 1, 60);
	rate_reset();
	PASSES("10.0.0.1", MINUTE, 1);
	CHECKS_PASSED();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		RTEST(the_limit_th_call_passes_and_the_next_is_refused),
		RTEST(a_limit_of_one_allows_one_call_a_minute),
		RTEST(retry_counts_the_seconds_to_the_next_minute),
		RTEST(a_new_minute_starts_a_new_count),
		RTEST(different_keys_are_counted_apart),
		RTEST(keys_up_to_rate_maxkey_bytes_are_counted),
		RTEST(keys_longer_than_rate_maxkey_are_still_limited),
		RTEST(a_limit_of_zero_or_less_is_unlimited),
		RTEST(rate_reset_forgets_every_window),
	};

	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
