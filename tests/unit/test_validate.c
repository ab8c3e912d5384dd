/*
 * Unit tests for server/validate.c and log_escape() in server/log.c.
 *
 * Every string handed to a validator is first copied into a heap buffer of
 * exactly its size, so that AddressSanitizer reports any read past the
 * terminating NUL. A failed check prints the offending input, escaped,
 * and the test goes on to report every other failing input too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server.h"
#include "unit.h"

#define SHOW(s)	showz(s)

/* A string of n copies of c (caller frees). */
static char *
repeat(char c, size_t n)
{
	char	*p = malloc(n + 1);

	assert_non_null(p);
	memset(p, c, n);
	p[n] = '\0';
	return p;
}

typedef int (*str_check_fn)(const char *);

/* Call a string validator on an exact-size copy; fail naming the input. */
static void
check_str(const char *fname, str_check_fn fn, const char *s, int want,
    const char *file, int line)
{
	char	*dup = exact(s);
	int	 got = fn(dup);

	free(dup);
	if (got != want) {
		print_error("%s(%s) returned %d, expected %d (%s)\n", fname,
		    SHOW(s), got, want, want == 0 ? "should be accepted" :
		    "should be refused");
		soft_fail(file, line);
	}
}

#define ACCEPT(fn, s)	check_str(#fn, fn, (s), 0, __FILE__, __LINE__)
#define REFUSE(fn, s)	check_str(#fn, fn, (s), -1, __FILE__, __LINE__)

/* ---------------------------------------------------------------- */
/* parse_int64                                                        */

static void
int_ok(const char *s, int64_t min, int64_t max, int64_t want,
    const char *file, int line)
{
	char	*dup = exact(s);
	int64_t	 v = 12345;
	int	 rc = parse_int64(dup, min, max, &v);

	free(dup);
	if (rc != 0 || v != want) {
		print_error("parse_int64(%s, %lld, %lld) gave rc=%d v=%lld, "
		    "expected rc=0 v=%lld\n", SHOW(s), (long long)min,
		    (long long)max, rc, (long long)v, (long long)want);
		soft_fail(file, line);
	}
}

static void
int_bad(const char *s, int64_t min, int64_t max, const char *file, int line)
{
	char	*dup = s ? exact(s) : NULL;
	int64_t	 v = 12345;
	int	 rc = parse_int64(dup, min, max, &v);

	free(dup);
	if (rc != -1) {
		print_error("parse_int64(%s, %lld, %lld) accepted it as %lld; "
		    "it should be refused\n", SHOW(s), (long long)min, (long long)max,
		    (long long)v);
		soft_fail(file, line);
		return;
	}
	if (v != 12345) {
		print_error("parse_int64(%s) refused but still wrote %lld to "
		    "*out\n", SHOW(s), (long long)v);
		soft_fail(file, line);
	}
}

#define INT_OK(s, lo, hi, want)	int_ok((s), (lo), (hi), (want), __FILE__, __LINE__)
#define INT_BAD(s, lo, hi)	int_bad((s), (lo), (hi), __FILE__, __LINE__)

static void
parse_int64_accepts_plain_decimals_within_bounds(void **state)
{
	(void)state;
	INT_OK("0", 0, 10, 0);
	INT_OK("7", 0, 10, 7);
	INT_OK("10", 0, 10, 10);		/* max is inclusive */
	INT_OK("1", 1, 10, 1);			/* min is inclusive */
	INT_OK("-1", -5, 5, -1);
	INT_OK("-5", -5, 5, -5);
	INT_OK("9007199254740992", 1, INT64_C(1) << 53, INT64_C(1) << 53);
	INT_OK("9223372036854775807", 0, INT64_MAX, INT64_MAX);
	INT_OK("-9223372036854775808", INT64_MIN, 0, INT64_MIN);
	CHECKS_PASSED();
}

static void
parse_int64_refuses_values_out_of_bounds(void **state)
{
	(void)state;
	INT_BAD("11", 0, 10);
	INT_BAD("0", 1, 10);
	INT_BAD("-1", 0, 10);
	INT_BAD("-6", -5, 5);
	INT_BAD("9007199254740993", 1, INT64_C(1) << 53);
	CHECKS_PASSED();
}

static void
parse_int64_refuses_overflow(void **state)
{
	(void)state;
	INT_BAD("9223372036854775808", 0, INT64_MAX);
	INT_BAD("-9223372036854775809", INT64_MIN, INT64_MAX);
	INT_BAD("99999999999999999999999", 0, INT64_MAX);
	INT_BAD("18446744073709551616", 0, INT64_MAX);
	CHECKS_PASSED();
}

static void
parse_int64_refuses_leading_zeros(void **state)
{
	(void)state;
	INT_BAD("00", 0, 100);
	INT_BAD("007", 0, 100);
	INT_BAD("0123", 0, 1000);
	INT_BAD("00000000000000000000001", 0, 100);
	CHECKS_PASSED();
}

static void
parse_int64_refuses_leading_zeros_after_minus(void **state)
{
	(void)state;
	/* "-01" is as non-canonical as "01". */
	INT_BAD("-01", -10, 10);
	INT_BAD("-007", -10, 10);
	INT_BAD("-00", -10, 10);
	CHECKS_PASSED();
}

static void
parse_int64_refuses_explicit_and_doubled_signs(void **state)
{
	(void)state;
	INT_BAD("+5", 0, 10);
	INT_BAD("+0", 0, 10);
	INT_BAD("--5", -10, 10);
	INT_BAD("-+5", -10, 10);
	INT_BAD("+-5", -10, 10);
	INT_BAD("-", -10, 10);
	INT_BAD("+", -10, 10);
	CHECKS_PASSED();
}

static void
parse_int64_refuses_surrounding_spaces(void **state)
{
	(void)state;
	INT_BAD(" 5", 0, 10);
	INT_BAD("5 ", 0, 10);
	INT_BAD(" ", 0, 10);
	INT_BAD("5 5", 0, 100);
	INT_BAD("- 5", -10, 10);
	INT_BAD("5\n", 0, 10);
	CHECKS_PASSED();
}

static void
parse_int64_refuses_leading_whitespace_other_than_space(void **state)
{
	(void)state;
	/* strtoll() skips all isspace() bytes, not only ' '. */
	INT_BAD("\t5", 0, 10);
	INT_BAD("\n5", 0, 10);
	INT_BAD("\r5", 0, 10);
	INT_BAD("\v5", 0, 10);
	INT_BAD("\f5", 0, 10);
	INT_BAD("\t-5", -10, 10);
	CHECKS_PASSED();
}

static void
parse_int64_refuses_trailing_junk_and_other_notations(void **state)
{
	(void)state;
	INT_BAD("5x", 0, 10);
	INT_BAD("12abc", 0, 100);
	INT_BAD("5.0", 0, 10);
	INT_BAD("1e3", 0, 10000);
	INT_BAD("0x10", 0, 100);
	INT_BAD("x5", 0, 10);
	INT_BAD("５", 0, 10);		/* fullwidth digit */
	CHECKS_PASSED();
}

static void
parse_int64_refuses_empty_and_null(void **state)
{
	(void)state;
	INT_BAD("", 0, 10);
	INT_BAD(NULL, 0, 10);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* validate_date and validate_time                                    */

static void
validate_date_accepts_real_dates(void **state)
{
	(void)state;
	ACCEPT(validate_date, "2026-12-03");
	ACCEPT(validate_date, "1970-01-01");
	ACCEPT(validate_date, "2999-12-31");
	ACCEPT(validate_date, "2026-01-31");
	ACCEPT(validate_date, "2026-04-30");
	CHECKS_PASSED();
}

static void
validate_date_knows_leap_years(void **state)
{
	(void)state;
	ACCEPT(validate_date, "2024-02-29");	/* divisible by 4 */
	ACCEPT(validate_date, "2000-02-29");	/* divisible by 400 */
	REFUSE(validate_date, "2023-02-29");	/* not divisible by 4 */
	REFUSE(validate_date, "2100-02-29");	/* century, not by 400 */
	REFUSE(validate_date, "2024-02-30");
	ACCEPT(validate_date, "2100-02-28");
	CHECKS_PASSED();
}

static void
validate_date_refuses_malformed_or_impossible_dates(void **state)
{
	(void)state;
	REFUSE(validate_date, "");
	REFUSE(validate_date, "2026-12-3");
	REFUSE(validate_date, "2026-1-03");
	REFUSE(validate_date, "26-12-03");
	REFUSE(validate_date, "2026/12/03");
	REFUSE(validate_date, "2026-12-03 ");
	REFUSE(validate_date, "2026-12-03T00:00:00Z");
	REFUSE(validate_date, "2026-00-10");
	REFUSE(validate_date, "2026-13-10");
	REFUSE(validate_date, "2026-04-31");
	REFUSE(validate_date, "2026-12-00");
	REFUSE(validate_date, "2026-12-32");
	REFUSE(validate_date, "1969-12-31");	/* before the supported range */
	REFUSE(validate_date, "3000-01-01");	/* after it */
	REFUSE(validate_date, "-026-12-03");
	REFUSE(validate_date, "2026-+2-03");
	CHECKS_PASSED();
}

static void
validate_time_accepts_rfc3339_with_offset(void **state)
{
	(void)state;
	ACCEPT(validate_time, "2026-12-03T19:30:00+08:00");
	ACCEPT(validate_time, "2026-12-03T19:30:00-05:30");
	ACCEPT(validate_time, "2026-12-03T19:30:00Z");
	ACCEPT(validate_time, "2026-12-03T19:30:00.5Z");
	ACCEPT(validate_time, "2026-12-03T19:30:00.123456+14:00");
	ACCEPT(validate_time, "2026-12-03T19:30Z");		/* no seconds */
	ACCEPT(validate_time, "2026-12-03T19:30+08:00");
	ACCEPT(validate_time, "2026-12-03 19:30:00+08:00");	/* RFC 3339 5.6 note */
	ACCEPT(validate_time, "2026-12-03T00:00:00Z");
	ACCEPT(validate_time, "2026-12-03T23:59:59-00:00");
	ACCEPT(validate_time, "2024-02-29T12:00:00Z");
	CHECKS_PASSED();
}

static void
validate_time_refuses_missing_offset(void **state)
{
	(void)state;
	REFUSE(validate_time, "2026-12-03T19:30:00");
	REFUSE(validate_time, "2026-12-03T19:30:00.5");
	REFUSE(validate_time, "2026-12-03T19:30");
	REFUSE(validate_time, "2026-12-03T19:30:00+08");
	REFUSE(validate_time, "2026-12-03T19:30:00+0800");
	REFUSE(validate_time, "2026-12-03T19:30:00+8:00");
	REFUSE(validate_time, "2026-12-03T19:30:00+");
	CHECKS_PASSED();
}

static void
validate_time_refuses_impossible_dates_and_clock_times(void **state)
{
	(void)state;
	REFUSE(validate_time, "2026-02-30T10:00:00Z");	/* Feb 30 */
	REFUSE(validate_time, "2023-02-29T10:00:00Z");	/* not a leap year */
	REFUSE(validate_time, "2026-12-03T24:00:00Z");	/* hour 24 */
	REFUSE(validate_time, "2026-12-03T23:60:00Z");
	REFUSE(validate_time, "2026-12-03T23:59:60Z");
	REFUSE(validate_time, "2026-12-03T19:30:00+15:00");
	REFUSE(validate_time, "2026-12-03T19:30:00+08:60");
	CHECKS_PASSED();
}

static void
validate_time_refuses_garbage(void **state)
{
	(void)state;
	REFUSE(validate_time, "");
	REFUSE(validate_time, "now");
	REFUSE(validate_time, "2026-12-03");
	REFUSE(validate_time, "2026-12-03T19:30:00Zjunk");
	REFUSE(validate_time, "2026-12-03T19:30:00Z ");
	REFUSE(validate_time, "2026-12-03T19:30:00+08:00x");
	REFUSE(validate_time, "2026-12-03T19:30:00+08:00 ");
	REFUSE(validate_time, "2026-12-03X19:30:00Z");
	REFUSE(validate_time, "2026-12-03T19-30-00Z");
	REFUSE(validate_time, "2026-12-03T19:30:00.Z");	/* empty fraction */
	REFUSE(validate_time, "2026-12-03T19:30.5Z");	/* fraction, no seconds */
	REFUSE(validate_time, "2026-12-03T1:30:00Z");
	REFUSE(validate_time, "2026-12-03T19:3:00Z");
	REFUSE(validate_time, "1700000000");
	CHECKS_PASSED();
}

static void
validate_time_refuses_over_long_fractions(void **state)
{
	char	 s[128];

	(void)state;
	/* 40 bytes is the cap: 19, ".", 19 digits, "Z". */
	snprintf(s, sizeof(s), "2026-12-03T19:30:00.%sZ",
	    "1234567890123456789");
	assert_int_equal(strlen(s), 40);
	ACCEPT(validate_time, s);
	snprintf(s, sizeof(s), "2026-12-03T19:30:00.%sZ",
	    "12345678901234567890");
	assert_int_equal(strlen(s), 41);
	REFUSE(validate_time, s);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* validate_url                                                       */

static void
validate_url_accepts_http_and_https(void **state)
{
	(void)state;
	ACCEPT(validate_url, "https://example.com");
	ACCEPT(validate_url, "http://example.com");
	ACCEPT(validate_url, "https://example.com/");
	ACCEPT(validate_url, "https://meet.example.com:8443/room/42?pw=a&b=c#top");
	ACCEPT(validate_url, "https://xn--fsqu00a.xn--0zwm56d/");
	ACCEPT(validate_url, "https://例子.测试/路径");	/* raw UTF-8 bytes */
	ACCEPT(validate_url, "http://127.0.0.1:8080/");
	ACCEPT(validate_url, "https://[::1]/");
	CHECKS_PASSED();
}

static void
validate_url_refuses_other_schemes(void **state)
{
	(void)state;
	REFUSE(validate_url, "");
	REFUSE(validate_url, "ftp://example.com/");
	REFUSE(validate_url, "javascript:alert(1)");
	REFUSE(validate_url, "data:text/html,hi");
	REFUSE(validate_url, "//example.com/");
	REFUSE(validate_url, "example.com");
	REFUSE(validate_url, "https:example.com");
	REFUSE(validate_url, "https:/example.com");
	REFUSE(validate_url, " https://example.com");
	REFUSE(validate_url, "httpsx://example.com");
	CHECKS_PASSED();
}

static void
validate_url_refuses_empty_host(void **state)
{
	(void)state;
	REFUSE(validate_url, "http://");
	REFUSE(validate_url, "https://");
	REFUSE(validate_url, "https:///path");
	CHECKS_PASSED();
}

static void
validate_url_refuses_empty_host_before_port_query_or_fragment(void **state)
{
	(void)state;
	/* Each of these has an empty host as surely as "https:///path". */
	REFUSE(validate_url, "https://?q=1");
	REFUSE(validate_url, "https://#top");
	REFUSE(validate_url, "https://:443/");
	CHECKS_PASSED();
}

static void
validate_url_refuses_spaces_quotes_and_control_bytes(void **state)
{
	(void)state;
	REFUSE(validate_url, "https://exa mple.com/");
	REFUSE(validate_url, "https://example.com/a b");
	REFUSE(validate_url, "https://example.com/ ");
	REFUSE(validate_url, "https://example.com/\"onmouseover=\"x");
	REFUSE(validate_url, "https://example.com/<script>");
	REFUSE(validate_url, "https://example.com/a>b");
	REFUSE(validate_url, "https://example.com\\@evil.com/");
	REFUSE(validate_url, "https://example.com/\tx");
	REFUSE(validate_url, "https://example.com/\nx");
	REFUSE(validate_url, "https://example.com/\rx");
	REFUSE(validate_url, "https://example.com/\x01");
	REFUSE(validate_url, "https://example.com/\x1b[31m");
	REFUSE(validate_url, "https://example.com/\x7f");
	CHECKS_PASSED();
}

static void
validate_url_caps_length_at_field_maxurl(void **state)
{
	const char	*base = "https://example.com/";
	char		*s;
	size_t		 n = strlen(base);

	(void)state;
	s = repeat('a', FIELD_MAXURL);
	memcpy(s, base, n);
	assert_int_equal(strlen(s), FIELD_MAXURL);
	ACCEPT(validate_url, s);
	free(s);

	s = repeat('a', FIELD_MAXURL + 1);
	memcpy(s, base, n);
	REFUSE(validate_url, s);
	free(s);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* validate_tz                                                        */

static void
validate_tz_accepts_iana_looking_names(void **state)
{
	(void)state;
	ACCEPT(validate_tz, "UTC");
	ACCEPT(validate_tz, "Asia/Shanghai");
	ACCEPT(validate_tz, "America/Argentina/Buenos_Aires");
	ACCEPT(validate_tz, "America/Port-au-Prince");
	ACCEPT(validate_tz, "Etc/GMT+8");
	ACCEPT(validate_tz, "Etc/GMT-14");
	CHECKS_PASSED();
}

static void
validate_tz_refuses_other_text(void **state)
{
	char	*s;

	(void)state;
	REFUSE(validate_tz, "");
	REFUSE(validate_tz, "Asia Shanghai");
	REFUSE(validate_tz, "../../etc/passwd");
	REFUSE(validate_tz, "Asia/Shanghai\n");
	REFUSE(validate_tz, "Asia/Shanghai;DROP");
	REFUSE(validate_tz, "'UTC'");
	REFUSE(validate_tz, "\"UTC\"");
	REFUSE(validate_tz, "Europe/Zürich");
	REFUSE(validate_tz, "UTC\x7f");

	s = repeat('A', 64);
	ACCEPT(validate_tz, s);			/* 64 bytes is the cap */
	free(s);
	s = repeat('A', 65);
	REFUSE(validate_tz, s);
	free(s);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* validate_email                                                     */

static void
validate_email_accepts_ordinary_addresses(void **state)
{
	(void)state;
	ACCEPT(validate_email, "a@b.cn");
	ACCEPT(validate_email, "ada.lovelace@example.com");
	ACCEPT(validate_email, "ada+rollcall@example.com");	/* plus tag */
	ACCEPT(validate_email, "ada+tag+more@mail.example.co.uk");
	ACCEPT(validate_email, "o'brien@example.ie");
	ACCEPT(validate_email, "first_last-1@sub-domain.example.org");
	ACCEPT(validate_email, "用户@例子.广告");		/* IDN bytes, UTF-8 */
	ACCEPT(validate_email, "josé@exämple.com");
	ACCEPT(validate_email, "x@xn--fsqu00a.xn--0zwm56d");
	CHECKS_PASSED();
}

static void
validate_email_refuses_malformed_addresses(void **state)
{
	(void)state;
	REFUSE(validate_email, "");
	REFUSE(validate_email, "ada.example.com");		/* no @ */
	REFUSE(validate_email, "@example.com");			/* empty local */
	REFUSE(validate_email, "ada@");				/* empty domain */
	REFUSE(validate_email, "ada@localhost");		/* no dot in domain */
	REFUSE(validate_email, "ada lovelace@example.com");	/* space */
	REFUSE(validate_email, "ada@exa mple.com");
	REFUSE(validate_email, " ada@example.com");
	REFUSE(validate_email, "ada@example.com ");
	REFUSE(validate_email, "\"ada\"@example.com");		/* quotes */
	REFUSE(validate_email, "ada\"@example.com");
	REFUSE(validate_email, "ada..lovelace@example.com");	/* double dot */
	REFUSE(validate_email, "ada@example..com");
	REFUSE(validate_email, ".ada@example.com");
	REFUSE(validate_email, "ada.@example.com");
	REFUSE(validate_email, "ada@.example.com");
	REFUSE(validate_email, "ada@example.com.");
	REFUSE(validate_email, "ada@-example.com");
	REFUSE(validate_email, "ada@example.com-");
	REFUSE(validate_email, "ada@b@example.com");		/* two @ */
	REFUSE(validate_email, "ada@[192.0.2.1]");
	REFUSE(validate_email, "ada@exam_ple.com");
	REFUSE(validate_email, "ada<x>@example.com");
	REFUSE(validate_email, "ada,bob@example.com");
	REFUSE(validate_email, "ada\\@example.com");
	REFUSE(validate_email, "ada\n@example.com");
	REFUSE(validate_email, "ada@example.com\n");
	REFUSE(validate_email, "ada\x7f@example.com");
	REFUSE(validate_email, "ada\t@example.com");
	CHECKS_PASSED();
}

/* local@domain with exactly the given lengths; the domain ends ".com". */
static char *
email_of(size_t local, size_t domain)
{
	char	*s = malloc(local + 1 + domain + 1);
	size_t	 i;

	assert_non_null(s);
	assert_true(domain >= 5);
	memset(s, 'a', local);
	s[local] = '@';
	/* Labels of 49 bytes; never a dot next to the final ".com". */
	for (i = 0; i < domain - 4; i++)
		s[local + 1 + i] = (i % 50 == 49 && i + 1 < domain - 4) ?
		    '.' : 'd';
	memcpy(s + local + 1 + domain - 4, ".com", 4);
	s[local + 1 + domain] = '\0';
	return s;
}

static void
validate_email_enforces_rfc5321_lengths(void **state)
{
	char	*s;

	(void)state;
	s = email_of(64, 10);
	ACCEPT(validate_email, s);		/* 64-byte local part */
	free(s);
	s = email_of(65, 10);
	REFUSE(validate_email, s);		/* 65-byte local part */
	free(s);
	s = email_of(64, 189);
	assert_int_equal(strlen(s), 254);
	ACCEPT(validate_email, s);		/* 254 bytes in all */
	free(s);
	s = email_of(64, 190);
	assert_int_equal(strlen(s), 255);
	REFUSE(validate_email, s);		/* 255 bytes in all */
	free(s);
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* log_escape                                                         */

static void
escape_is(const char *src, size_t len, const char *want, const char *file,
    int line)
{
	char	 out[256];

	memset(out, 'Z', sizeof(out));
	log_escape(out, sizeof(out), src, len);
	if (strcmp(out, want) != 0) {
		print_error("log_escape(%s) gave %s, expected %s\n",
		    show(src, len), SHOW(out), SHOW(want));
		soft_fail(file, line);
	}
}

#define ESCAPE_IS(src, want) \
	escape_is((src), sizeof(src) - 1, (want), __FILE__, __LINE__)

static void
log_escape_passes_printable_ascii(void **state)
{
	(void)state;
	ESCAPE_IS("", "");
	ESCAPE_IS("GET /api/v1/events?x=1", "GET /api/v1/events?x=1");
	ESCAPE_IS(" ~!\"#'", " ~!\"#'");
	CHECKS_PASSED();
}

static void
log_escape_escapes_control_bytes_backslash_and_high_bytes(void **state)
{
	(void)state;
	ESCAPE_IS("a\nb", "a\\x0ab");
	ESCAPE_IS("a\r\nfake: line", "a\\x0d\\x0afake: line");
	ESCAPE_IS("\t", "\\x09");
	ESCAPE_IS("\x1b[31m", "\\x1b[31m");
	ESCAPE_IS("\x7f", "\\x7f");
	ESCAPE_IS("\\", "\\x5c");		/* so "\x0a" typed by a client is not a newline */
	ESCAPE_IS("\\x0a", "\\x5cx0a");
	ESCAPE_IS("é", "\\xc3\\xa9");
	ESCAPE_IS("\xff", "\\xff");
	ESCAPE_IS("a\0b", "a\\x00b");		/* NUL inside srclen */
	CHECKS_PASSED();
}

static void
log_escape_stops_at_srclen(void **state)
{
	char	 out[32];

	(void)state;
	log_escape(out, sizeof(out), "abcdef", 3);
	assert_string_equal(out, "abc");
	CHECKS_PASSED();
}

/*
 * For every buffer size, the output must fit (NUL included) and must be
 * the escaping of a prefix of the input: never half an escape.
 */
static void
log_escape_output_is_bounded_and_terminated(void **state)
{
	char	 src[200], full[1024], pre[1024];
	char	*out;
	size_t	 i, dstsz, k;
	int	 found;

	(void)state;
	for (i = 0; i < sizeof(src); i++)
		src[i] = (char)(i * 37 + 11);	/* mixes printable and not */
	log_escape(full, sizeof(full), src, sizeof(src));
	assert_int_equal(strlen(full) + 1 < sizeof(full), 1);

	for (dstsz = 1; dstsz <= 80; dstsz++) {
		out = malloc(dstsz);		/* exact size: ASan sees overruns */
		assert_non_null(out);
		memset(out, 'Z', dstsz);
		log_escape(out, dstsz, src, sizeof(src));
		if (memchr(out, '\0', dstsz) == NULL) {
			print_error("log_escape with dstsz=%zu left no NUL\n",
			    dstsz);
			fail();
		}
		found = 0;
		for (k = 0; k <= sizeof(src) && !found; k++) {
			log_escape(pre, sizeof(pre), src, k);
			found = strcmp(pre, out) == 0;
		}
		if (!found) {
			print_error("log_escape with dstsz=%zu gave %s, which is "
			    "not the escaping of any prefix\n", dstsz,
			    SHOW(out));
			fail();
		}
		free(out);
	}
	CHECKS_PASSED();
}

static void
log_escape_leaves_a_zero_sized_buffer_alone(void **state)
{
	char	 out[1] = { 'Z' };

	(void)state;
	log_escape(out, 0, "abc", 3);
	assert_int_equal(out[0], 'Z');
	CHECKS_PASSED();
}

static void
log_escape_fills_a_roomy_buffer_completely(void **state)
{
	char	 out[64];

	(void)state;
	/* 10 printable bytes and 10 escapes: 50 bytes + NUL fit in 64. */
	log_escape(out, sizeof(out), "abcdefghij\n\n\n\n\n\n\n\n\n\n", 20);
	assert_string_equal(out, "abcdefghij\\x0a\\x0a\\x0a\\x0a\\x0a"
	    "\\x0a\\x0a\\x0a\\x0a\\x0a");
	CHECKS_PASSED();
}

/* ---------------------------------------------------------------- */
/* validate_object                                                    */

static const char *const colours[] = { "red", "green", NULL };

static const struct vfield table[] = {
	{ "title",  V_STRING,       1, 0, 1, 10, NULL },
	{ "note",   V_STRING,       0, 1, 0, 20, NULL },
	{ "link",   V_URL,          0, 1, 0, 0, NULL },
	{ "at",     V_TIME,         0, 0, 0, 0, NULL },
	{ "day",    V_DATE,         0, 0, 0, 0, NULL },
	{ "count",  V_INT,          0, 1, 1, 100, NULL },
	{ "flag",   V_BOOL,         0, 0, 0, 0, NULL },
	{ "colour", V_ENUM,         0, 0, 0, 0, colours },
	{ "tz",     V_TZ,           0, 0, 0, 0, NULL },
	{ "tags",   V_ARRAY_STRING, 0, 0, 0, 3, NULL },
	{ "ids",    V_ARRAY_INT,    0, 1, 0, 3, NULL },
};
#define NTABLE	((int)(sizeof(table) / sizeof(table[0])))

static json_t *
parse(const char *text, const char *file, int line)
{
	json_error_t	 e;
	json_t		*o;

	o = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	if (o == NULL) {
		print_error("test bug: bad JSON %s: %s\n", text, e.text);
		_fail(file, line);
	}
	return o;
}

static void
obj_valid(const char *text, const char *file, int line)
{
	json_t	*o = parse(text, file, line);
	char	 field[64] = "", msg[256] = "";
	int	 rc;

	rc = validate_object(o, table, NTABLE, field, sizeof(field), msg,
	    sizeof(msg));
	json_decref(o);
	if (rc != 0) {
		print_error("validate_object(%s) refused it: field %s, "
		    "message %s\n", text, SHOW(field), SHOW(msg));
		soft_fail(file, line);
	}
}

static void
obj_invalid(const char *text, const char *want_field, const char *want_msg,
    const char *file, int line)
{
	json_t	*o = parse(text, file, line);
	char	 field[64] = "", msg[256] = "";
	int	 rc;

	rc = validate_object(o, table, NTABLE, field, sizeof(field), msg,
	    sizeof(msg));
	json_decref(o);
	if (rc != -1) {
		print_error("validate_object(%s) accepted it; expected field "
		    "%s refused with %s\n", text, want_field, want_msg);
		soft_fail(file, line);
		return;
	}
	if (strcmp(field, want_field) != 0 || strcmp(msg, want_msg) != 0) {
		print_error("validate_object(%s) named field %s with %s; "
		    "expected field %s with %s\n", text, SHOW(field), SHOW(msg),
		    SHOW(want_field), SHOW(want_msg));
		soft_fail(file, line);
	}
}

#define OBJ_VALID(text)		obj_valid((text), __FILE__, __LINE__)
#define OBJ_INVALID(text, field, msg) \
	obj_invalid((text), (field), (msg), __FILE__, __LINE__)

static void
validate_object_accepts_a_complete_valid_object(void **state)
{
	(void)state;
	OBJ_VALID("{\"title\":\"Hello\"}");
	OBJ_VALID("{\"title\":\"Hello\", \"note\":\"a\\tb\\nc\","
	    "\"link\":\"https://example.com/x\","
	    "\"at\":\"2026-12-03T19:30:00+08:00\", \"day\":\"2026-12-03\","
	    "\"count\":100, \"flag\":false, \"colour\":\"green\","
	    "\"tz\":\"Asia/Shanghai\", \"tags\":[\"a\",\"b\",\"\"],"
	    "\"ids\":[1,2,9007199254740992]}");
	CHECKS_PASSED();
}

static void
validate_object_accepts_null_where_nullable_and_absent_optionals(void **state)
{
	(void)state;
	OBJ_VALID("{\"title\":\"x\", \"note\":null, \"link\":null, "
	    "\"count\":null, \"ids\":null}");
	OBJ_VALID("{\"title\":\"x\", \"note\":\"\"}");	/* min 0: may be empty */
	OBJ_VALID("{\"title\":\"x\", \"tags\":[], \"ids\":[]}");
	CHECKS_PASSED();
}

static void
validate_object_refuses_a_non_object_body(void **state)
{
	(void)state;
	OBJ_INVALID("[]", "body", "body: must be a JSON object");
	OBJ_INVALID("\"title\"", "body", "body: must be a JSON object");
	OBJ_INVALID("null", "body", "body: must be a JSON object");
	CHECKS_PASSED();
}

static void
validate_object_names_an_unknown_field(void **state)
{
	(void)state;
	OBJ_INVALID("{\"title\":\"x\", \"bogus\":1}", "bogus",
	    "bogus: unknown field");
	OBJ_INVALID("{\"Title\":\"x\"}", "Title", "Title: unknown field");
	/* The name is client bytes: it comes back escaped. */
	OBJ_INVALID("{\"title\":\"x\", \"a\\u0001b\\nc\":1}", "a\\x01b\\x0ac",
	    "a\\x01b\\x0ac: unknown field");
	CHECKS_PASSED();
}

static void
validate_object_names_a_missing_required_field(void **state)
{
	(void)state;
	OBJ_INVALID("{}", "title", "title: is required");
	OBJ_INVALID("{\"note\":\"n\"}", "title", "title: is required");
	CHECKS_PASSED();
}

static void
validate_object_refuses_null_where_not_nullable(void **state)
{
	(void)state;
	OBJ_INVALID("{\"title\":null}", "title", "title: must not be null");
	OBJ_INVALID("{\"title\":\"x\", \"flag\":null}", "flag",
	    "flag: must not be null");
	OBJ_INVALID("{\"title\":\"x\", \"tags\":null}", "tags",
	    "tags: must not be null");
	OBJ_INVALID("{\"title\":\"x\", \"colour\":null}", "colour",
	    "colour: must not be null");
	CHECKS_PASSED();
}

static void
validate_object_refuses_wrong_json_types(void **state)
{
	(void)state;
	OBJ_INVALID("{\"title\":5}", "title", "title: must be a string");
	OBJ_INVALID("{\"title\":[\"x\"]}", "title", "title: must be a string");
	OBJ_INVALID("{\"title\":\"x\", \"link\":true}", "link",
	    "link: must be a string");
	OBJ_INVALID("{\"title\":\"x\", \"at\":1700000000}", "at",
	    "at: must be a string");
	OBJ_INVALID("{\"title\":\"x\", \"day\":[]}", "day",
	    "day: must be a string");
	OBJ_INVALID("{\"title\":\"x\", \"colour\":1}", "colour",
	    "colour: must be a string");
	OBJ_INVALID("{\"title\":\"x\", \"tz\":{}}", "tz",
	    "tz: must be a string");
	OBJ_INVALID("{\"title\":\"x\", \"count\":\"5\"}", "count",
	    "count: must be a whole number");
	OBJ_INVALID("{\"title\":\"x\", \"count\":5.0}", "count",
	    "count: must be a whole number");
	OBJ_INVALID("{\"title\":\"x\", \"count\":true}", "count",
	    "count: must be a whole number");
	OBJ_INVALID("{\"title\":\"x\", \"flag\":1}", "flag",
	    "flag: must be true or false");
	OBJ_INVALID("{\"title\":\"x\", \"flag\":\"true\"}", "flag",
	    "flag: must be true or false");
	OBJ_INVALID("{\"title\":\"x\", \"tags\":\"a\"}", "tags",
	    "tags: must be a list");
	OBJ_INVALID("{\"title\":\"x\", \"tags\":{}}", "tags",
	    "tags: must be a list");
	OBJ_INVALID("{\"title\":\"x\", \"ids\":1}", "ids",
	    "ids: must be a list");
	CHECKS_PASSED();
}

static void
validate_object_bounds_string_length_in_bytes(void **state)
{
	(void)state;
	OBJ_VALID("{\"title\":\"1234567890\"}");		/* max 10 */
	OBJ_INVALID("{\"title\":\"12345678901\"}", "title",
	    "title: at most 10 bytes");
	OBJ_VALID("{\"title\":\"ééééé\"}");			/* 10 bytes */
	OBJ_INVALID("{\"title\":\"éééééé\"}", "title",	/* 12 bytes */
	    "title: at most 10 bytes");
	CHECKS_PASSED();
}

static void
validate_object_refuses_blank_string_when_min_is_positive(void **state)
{
	(void)state;
	OBJ_INVALID("{\"title\":\"\"}", "title", "title: must not be empty");
	OBJ_INVALID("{\"title\":\"   \"}", "title", "title: must not be empty");
	OBJ_INVALID("{\"title\":\" \\t\\n \"}", "title",
	    "title: must not be empty");
	CHECKS_PASSED();
}

static void
validate_object_refuses_control_characters(void **state)
{
	char	 text[64];
	int	 c;

	(void)state;
	for (c = 1; c < 0x20; c++) {
		/* Allowed in text; CR too, though text_ok()'s comment omits it. */
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		snprintf(text, sizeof(text), "{\"title\":\"a\\u%04xb\"}", c);
		OBJ_INVALID(text, "title",
		    "title: must not contain control characters");
	}
	OBJ_INVALID("{\"title\":\"a\x7f" "b\"}", "title",
	    "title: must not contain control characters");
	OBJ_INVALID("{\"title\":\"x\", \"note\":\"\\u001b[2J\"}", "note",
	    "note: must not contain control characters");
	OBJ_INVALID("{\"title\":\"x\", \"link\":\"https://e.com/\\u0001\"}",
	    "link", "link: must not contain control characters");
	OBJ_INVALID("{\"title\":\"x\", \"colour\":\"red\\u0007\"}", "colour",
	    "colour: must not contain control characters");
	OBJ_VALID("{\"title\":\"a\\tb\\nc\"}");	/* tab, newline allowed */
	CHECKS_PASSED();
}

static void
validate_object_refuses_bad_values_for_text_types(void **state)
{
	(void)state;
	OBJ_INVALID("{\"title\":\"x\", \"link\":\"ftp://e.com/\"}", "link",
	    "link: an http:// or https:// address");
	OBJ_INVALID("{\"title\":\"x\", \"at\":\"2026-12-03T19:30:00\"}", "at",
	    "at: a time such as 2026-12-03T19:30:00+08:00");
	OBJ_INVALID("{\"title\":\"x\", \"day\":\"2026-02-30\"}", "day",
	    "day: a date such as 2026-12-03");
	OBJ_INVALID("{\"title\":\"x\", \"tz\":\"Asia Shanghai\"}", "tz",
	    "tz: an IANA time zone such as Asia/Shanghai");
	CHECKS_PASSED();
}

static void
validate_object_refuses_enum_values_not_in_the_list(void **state)
{
	(void)state;
	OBJ_VALID("{\"title\":\"x\", \"colour\":\"red\"}");
	OBJ_INVALID("{\"title\":\"x\", \"colour\":\"blue\"}", "colour",
	    "colour: must be one of the documented values");
	OBJ_INVALID("{\"title\":\"x\", \"colour\":\"RED\"}", "colour",
	    "colour: must be one of the documented values");
	OBJ_INVALID("{\"title\":\"x\", \"colour\":\"\"}", "colour",
	    "colour: must be one of the documented values");
	OBJ_INVALID("{\"title\":\"x\", \"colour\":\"red \"}", "colour",
	    "colour: must be one of the documented values");
	CHECKS_PASSED();
}

static void
validate_object_refuses_ints_out_of_range(void **state)
{
	(void)state;
	OBJ_VALID("{\"title\":\"x\", \"count\":1}");
	OBJ_VALID("{\"title\":\"x\", \"count\":100}");
	OBJ_INVALID("{\"title\":\"x\", \"count\":0}", "count",
	    "count: must be between 1 and 100");
	OBJ_INVALID("{\"title\":\"x\", \"count\":101}", "count",
	    "count: must be between 1 and 100");
	OBJ_INVALID("{\"title\":\"x\", \"count\":-1}", "count",
	    "count: must be between 1 and 100");
	OBJ_INVALID("{\"title\":\"x\", \"count\":9223372036854775807}",
	    "count", "count: must be between 1 and 100");
	CHECKS_PASSED();
}

static void
validate_object_checks_int_arrays(void **state)
{
	const char	*msg = "ids: must be a list of ids";

	(void)state;
	OBJ_VALID("{\"title\":\"x\", \"ids\":[1,2,3]}");
	OBJ_INVALID("{\"title\":\"x\", \"ids\":[0]}", "ids", msg);
	OBJ_INVALID("{\"title\":\"x\", \"ids\":[1,-5]}", "ids", msg);
	OBJ_INVALID("{\"title\":\"x\", \"ids\":[\"1\"]}", "ids", msg);
	OBJ_INVALID("{\"title\":\"x\", \"ids\":[1.5]}", "ids", msg);
	OBJ_INVALID("{\"title\":\"x\", \"ids\":[true]}", "ids", msg);
	OBJ_INVALID("{\"title\":\"x\", \"ids\":[null]}", "ids", msg);
	OBJ_INVALID("{\"title\":\"x\", \"ids\":[[1]]}", "ids", msg);
	OBJ_INVALID("{\"title\":\"x\", \"ids\":[9007199254740993]}", "ids",
	    msg);				/* 2^53 + 1 */
	OBJ_INVALID("{\"title\":\"x\", \"ids\":[1,2,3,4]}", "ids",
	    "ids: at most 3 entries");
	CHECKS_PASSED();
}

static void
validate_object_checks_string_arrays(void **state)
{
	const char	*msg = "tags: must be a list of short texts";
	char		*text, *s;

	(void)state;
	OBJ_VALID("{\"title\":\"x\", \"tags\":[\"a\",\"b\",\"c\"]}");
	OBJ_INVALID("{\"title\":\"x\", \"tags\":[1]}", "tags", msg);
	OBJ_INVALID("{\"title\":\"x\", \"tags\":[\"a\",null]}", "tags", msg);
	OBJ_INVALID("{\"title\":\"x\", \"tags\":[[\"a\"]]}", "tags", msg);
	OBJ_INVALID("{\"title\":\"x\", \"tags\":[{}]}", "tags", msg);
	OBJ_INVALID("{\"title\":\"x\", \"tags\":[\"a\\u0001\"]}", "tags", msg);
	OBJ_INVALID("{\"title\":\"x\", \"tags\":[\"a\",\"b\",\"c\",\"d\"]}",
	    "tags", "tags: at most 3 entries");

	/* Each entry is at most FIELD_MAXTEXT bytes. */
	text = malloc(FIELD_MAXTEXT + 64);
	assert_non_null(text);
	s = repeat('t', FIELD_MAXTEXT);
	snprintf(text, FIELD_MAXTEXT + 64, "{\"title\":\"x\", \"tags\":[\"%s\"]}",
	    s);
	OBJ_VALID(text);
	free(s);
	s = repeat('t', FIELD_MAXTEXT + 1);
	snprintf(text, FIELD_MAXTEXT + 64, "{\"title\":\"x\", \"tags\":[\"%s\"]}",
	    s);
	OBJ_INVALID(text, "tags", msg);
	free(s);
	free(text);
	CHECKS_PASSED();
}

static void
validate_object_truncates_into_small_buffers(void **state)
{
	json_t	*o = parse("{\"title\":\"x\", \"count\":0}", __FILE__,
	    __LINE__);
	char	*field = malloc(4), *msg = malloc(8);

	(void)state;
	assert_non_null(field);
	assert_non_null(msg);
	/* Exact-size heap buffers: ASan reports any overrun. */
	assert_int_equal(validate_object(o, table, NTABLE, field, 4, msg, 8),
	    -1);
	assert_string_equal(field, "cou");
	assert_string_equal(msg, "count: ");
	free(field);
	free(msg);
	json_decref(o);
	CHECKS_PASSED();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(parse_int64_accepts_plain_decimals_within_bounds),
		TEST(parse_int64_refuses_values_out_of_bounds),
		TEST(parse_int64_refuses_overflow),
		TEST(parse_int64_refuses_leading_zeros),
		TEST(parse_int64_refuses_leading_zeros_after_minus),
		TEST(parse_int64_refuses_explicit_and_doubled_signs),
		TEST(parse_int64_refuses_surrounding_spaces),
		TEST(parse_int64_refuses_leading_whitespace_other_than_space),
		TEST(parse_int64_refuses_trailing_junk_and_other_notations),
		TEST(parse_int64_refuses_empty_and_null),
		TEST(validate_date_accepts_real_dates),
		TEST(validate_date_knows_leap_years),
		TEST(validate_date_refuses_malformed_or_impossible_dates),
		TEST(validate_time_accepts_rfc3339_with_offset),
		TEST(validate_time_refuses_missing_offset),
		TEST(validate_time_refuses_impossible_dates_and_clock_times),
		TEST(validate_time_refuses_garbage),
		TEST(validate_time_refuses_over_long_fractions),
		TEST(validate_url_accepts_http_and_https),
		TEST(validate_url_refuses_other_schemes),
		TEST(validate_url_refuses_empty_host),
		TEST(validate_url_refuses_empty_host_before_port_query_or_fragment),
		TEST(validate_url_refuses_spaces_quotes_and_control_bytes),
		TEST(validate_url_caps_length_at_field_maxurl),
		TEST(validate_tz_accepts_iana_looking_names),
		TEST(validate_tz_refuses_other_text),
		TEST(validate_email_accepts_ordinary_addresses),
		TEST(validate_email_refuses_malformed_addresses),
		TEST(validate_email_enforces_rfc5321_lengths),
		TEST(log_escape_passes_printable_ascii),
		TEST(log_escape_escapes_control_bytes_backslash_and_high_bytes),
		TEST(log_escape_stops_at_srclen),
		TEST(log_escape_output_is_bounded_and_terminated),
		TEST(log_escape_leaves_a_zero_sized_buffer_alone),
		TEST(log_escape_fills_a_roomy_buffer_completely),
		TEST(validate_object_accepts_a_complete_valid_object),
		TEST(validate_object_accepts_null_where_nullable_and_absent_optionals),
		TEST(validate_object_refuses_a_non_object_body),
		TEST(validate_object_names_an_unknown_field),
		TEST(validate_object_names_a_missing_required_field),
		TEST(validate_object_refuses_null_where_not_nullable),
		TEST(validate_object_refuses_wrong_json_types),
		TEST(validate_object_bounds_string_length_in_bytes),
		TEST(validate_object_refuses_blank_string_when_min_is_positive),
		TEST(validate_object_refuses_control_characters),
		TEST(validate_object_refuses_bad_values_for_text_types),
		TEST(validate_object_refuses_enum_values_not_in_the_list),
		TEST(validate_object_refuses_ints_out_of_range),
		TEST(validate_object_checks_int_arrays),
		TEST(validate_object_checks_string_arrays),
		TEST(validate_object_truncates_into_small_buffers),
	};

	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
