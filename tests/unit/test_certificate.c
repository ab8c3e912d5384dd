/*
 * Unit tests for server/certificate.c: templates/certificate.json is
 * checked when it loads (page, orientation, colours, a QR that fits, no
 * unknown members), and certificate_build() draws one PDF page with the
 * QR of the verify address and refuses input it cannot draw. It prints
 * how long one certificate takes, the number docs/certificates.md cites
 * for drawing off the loop (the integration tests read the PDFs back
 * with pdftotext, pdffonts, pdftoppm and zbarimg).
 *
 * fontconfig and pango keep process-wide caches they never free, which
 * LeakSanitizer would report at exit; leak checking is off for this one
 * program, as for test_badge.
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

/* Load text as templates/certificate.json (unit.h's init_with_template). */
static int
init_with(const char *text)
{
	return init_with_template("certificate.json", text, certificate_init);
}

/* Good layouts load, bad ones are refused. */
static void
test_templates(void **state)
{
	static const struct { const char *text; int ok; } cases[] = {
		{ "{}", 0 },
		{ "{\"page\": \"A4\", \"orientation\": \"portrait\"}", 0 },
		{ "{\"page\": \"A5\"}", 0 },
		{ "{\"orientation\": \"landscape\"}", 0 },
		{ "{\"page\": \"280x200\", \"qr_mm\": 30}", 0 },
		{ "{\"accent\": \"#336699\", \"community\": {\"en\": \"AWS UG "
		    "China\", \"zh-CN\": \"亚马逊云科技用户组\"}}", 0 },
		{ "{\"page\": \"B5\"}", -1 },
		{ "{\"page\": \"A4\", \"orientation\": \"sideways\"}", -1 },
		{ "{\"page\": \"10x10\"}", -1 },
		{ "{\"qr_mm\": 150}", -1 },
		{ "{\"accent\": \"blue\"}", -1 },
		{ "{\"accent\": \"#12345\"}", -1 },
		{ "{\"community\": \"Rollcall\"}", -1 },
		{ "{\"community\": {\"en\": \"\"}}", -1 },
		{ "{\"name_pt\": 0}", -1 },
		{ "{\"font\": \"\"}", -1 },
		{ "{\"colour\": \"#000000\"}", -1 },
		{ "{\"page\": \"A4\", \"page\": \"A5\"}", -1 },
		{ "[]", -1 },
		{ "not json", -1 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (init_with(cases[i].text) != cases[i].ok) {
			printf("certificate.json %s: %s\n", cases[i].text,
			    cases[i].ok ? "refused" : "accepted");
			soft_fail(__FILE__, __LINE__);
		}
	assert_int_equal(certificate_init("/nonexistent"), 0);	/* defaults */
	assert_int_equal(init_with("{}"), 0);
	CHECKS_PASSED();
}

/* A certificate's drawing input, as certificate.c makes it. */
static json_t *
input(const char *name, int revoked)
{
	json_t	*in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "title", "志愿者证书", "intro", "兹证明", "name", name,
	    "body", "于 2026-12-20 在「Go Meetup 上海」活动中担任志愿者。",
	    "issuer", "Shanghai · Rollcall 社区",
	    "issued", "颁发日期：2026-12-21",
	    "code_line", "证书编号：w9jjvp5-jTVln2g95lgXk84m",
	    "verify_line", "验证地址：https://events.example.com/verify/"
	    "w9jjvp5-jTVln2g95lgXk84m",
	    "url", "https://events.example.com/verify/"
	    "w9jjvp5-jTVln2g95lgXk84m");

	if (revoked)
		json_object_set_new(in, "revoked", json_string("已撤销"));
	return in;
}

/* Milliseconds certificate_build takes, best of tries. */
static double
time_build(const char *name, int tries)
{
	struct timespec	 a, b;
	unsigned char	*data;
	size_t		 len;
	json_t		*in = input(name, 0);
	double		 ms, best = 1e9;
	int		 t;

	for (t = 0; t < tries; t++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		assert_int_equal(certificate_build(in, &data, &len), 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		assert_true(len > 1000 && memcmp(data, "%PDF-", 5) == 0);
		free(data);
		ms = (b.tv_sec - a.tv_sec) * 1e3 +
		    (b.tv_nsec - a.tv_nsec) / 1e6;
		if (ms < best)
			best = ms;
	}
	json_decref(in);
	return best;
}

/* One page; long names shrink or wrap rather than fail; the time. */
static void
test_build(void **state)
{
	unsigned char	*data;
	size_t		 len;
	json_t		*in;

	(void)state;
	assert_int_equal(certificate_init("/nonexistent"), 0);
	time_build("张伟", 1);		/* fonts load once */
	printf("certificate_build: one certificate in %.2f ms (best of 3)\n",
	    time_build("Ada Lovelace", 3));
	in = input("Maximilian Alexander Konstantin von Habsburg-Lothringen "
	    "und Bourbon-Parma 欧阳娜娜", 1);
	assert_int_equal(certificate_build(in, &data, &len), 0);
	assert_true(len > 1000 && memcmp(data, "%PDF-", 5) == 0);
	free(data);
	json_decref(in);
	assert_int_equal(init_with("{\"page\": \"A4\", \"orientation\": "
	    "\"portrait\"}"), 0);
	time_build("Grace Hopper", 1);
	assert_int_equal(certificate_init("/nonexistent"), 0);
}

/* Input it cannot draw is refused, no PDF made. */
static void
test_refused(void **state)
{
	const char	*bad[] = {
		"{}",
		"[]",
		"{\"name\": \"Ada\"}",
		"{\"url\": \"https://x.example/verify/c\"}",
		"{\"name\": \"\", \"url\": \"https://x.example/verify/c\"}",
		"{\"name\": 1, \"url\": \"https://x.example/verify/c\"}",
	};
	unsigned char	*data;
	size_t		 len, i;
	json_t		*j;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_non_null(j = json_loads(bad[i], 0, NULL));
		if (certificate_build(j, &data, &len) != -1 || data != NULL) {
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
