/*
 * Unit tests for server/badge.c: templates/badge.json is checked when
 * it loads (page sizes, margins, a QR that fits), and badge_build()
 * draws one PDF page per badge and refuses input it cannot draw. It
 * prints how long one badge and 300 badges take, the numbers docs/api.md
 * cites for drawing off the loop (the integration tests read the PDFs
 * back with pdftotext, pdffonts, pdftoppm and zbarimg).
 *
 * fontconfig and pango keep process-wide caches they never free, which
 * LeakSanitizer would report at exit; leak checking is off for this one
 * program (the daemon's integration tests run with it off as well).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "server.h"
#include "unit.h"

const char	*__asan_default_options(void);

/* No leak report for this program: see the comment at the top. */
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

/* Load text as templates/badge.json (unit.h's init_with_template). */
static int
init_with(const char *text)
{
	return init_with_template("badge.json", text, badge_init);
}

/* Good templates load, bad ones are refused naming what is wrong. */
static void
test_templates(void **state)
{
	static const struct { const char *text; int ok; } cases[] = {
		{ "{}", 0 },
		{ "{\"page\": \"A6\"}", 0 },
		{ "{\"page\": \"90x54\", \"qr_mm\": 40, \"margin_mm\": 4}", 0 },
		{ "{\"page\": \"A4\", \"name_pt\": 60}", 0 },
		{ "{\"page\": \"B5\"}", -1 },
		{ "{\"page\": \"90x\"}", -1 },
		{ "{\"page\": \"5x5\"}", -1 },
		{ "{\"page\": \"90x54\", \"qr_mm\": 60}", -1 },
		{ "{\"name_pt\": 0}", -1 },
		{ "{\"name_pt\": \"big\"}", -1 },
		{ "{\"font\": \"\"}", -1 },
		{ "[]", -1 },
		{ "{\"page\": \"A6\", \"page\": \"A7\"}", -1 },
		{ "not json", -1 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (init_with(cases[i].text) != cases[i].ok) {
			printf("badge.json %s: %s\n", cases[i].text,
			    cases[i].ok ? "refused" : "accepted");
			soft_fail(__FILE__, __LINE__);
		}
	assert_int_equal(badge_init("/nonexistent"), 0);	/* defaults */
	assert_int_equal(init_with("{}"), 0);
	CHECKS_PASSED();
}

/* n badges of an event, as rc_badges returns them. */
static json_t *
badges_of(int n)
{
	json_t	*a = json_array();
	int	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "name",
		    i % 2 ? "张伟" : "Ada Lovelace", "company", "示例科技",
		    "lead_code", "RCL0123456789ABCDEF0123456789ABCDEF"));
	return json_pack("{s:{s:s}, s:o}", "event", "title",
	    "Community Day 2026", "badges", a);
}

/* Milliseconds badge_build takes for n badges, best of tries. */
static double
time_build(int n, int tries)
{
	struct timespec	 a, b;
	unsigned char	*data;
	size_t		 len;
	json_t		*in = badges_of(n);
	double		 ms, best = 1e9;
	int		 t;

	for (t = 0; t < tries; t++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		assert_int_equal(badge_build(in, &data, &len), 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		assert_true(len > 1000 && memcmp(data, "%PDF-", 5) == 0);
		free(data);
		ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
		if (ms < best)
			best = ms;
	}
	json_decref(in);
	return best;
}

/* A PDF a page per badge; the time it takes, printed. */
static void
test_build(void **state)
{
	(void)state;
	assert_int_equal(badge_init("/nonexistent"), 0);
	time_build(1, 1);		/* fonts load once */
	printf("badge_build: 1 badge in %.2f ms, 300 in %.2f ms (best of 3)\n",
	    time_build(1, 3), time_build(300, 3));
}

/* Input it cannot draw is refused, no PDF made. */
static void
test_refused(void **state)
{
	const char	*bad[] = {
		"{}",
		"{\"event\": {\"title\": \"x\"}, \"badges\": []}",
		"{\"event\": {}, \"badges\": [{\"name\": \"a\", "
		    "\"lead_code\": \"RCL\"}]}",
		"{\"event\": {\"title\": \"x\"}, \"badges\": [{\"name\": 1, "
		    "\"lead_code\": \"RCL\"}]}",
		"{\"event\": {\"title\": \"x\"}, \"badges\": [{\"name\": \"a\"}]}",
	};
	unsigned char	*data;
	size_t		 len, i;
	json_t		*j;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_non_null(j = json_loads(bad[i], 0, NULL));
		if (badge_build(j, &data, &len) != -1 || data != NULL) {
			printf("drew %s\n", bad[i]);
			soft_fail(__FILE__, __LINE__);
		}
		json_decref(j);
	}
	CHECKS_PASSED();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_refused),
	};

	log_init(1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
