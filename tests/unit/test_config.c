/*
 * Unit tests for server/config.c: the trusted-proxy list and the
 * X-Forwarded-For parser (the part that reads untrusted bytes), and the
 * setting values shared by the file and the flags. The file format and
 * its "FILE:LINE: reason" errors are tested end to end in
 * tests/integration/test_deploy.py.
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

/* proxy_forwarded_for on an exact-size copy: want NULL means refused. */
static void
check_xff(const char *xff, const char *want, const char *file, int line)
{
	char	 out[64] = "peer";
	char	*copy = exact(xff);
	int	 rc = proxy_forwarded_for(copy, out, sizeof(out));

	if (want == NULL ? (rc != -1 || strcmp(out, "peer") != 0) :
	    (rc != 0 || strcmp(out, want) != 0)) {
		print_error("X-Forwarded-For %s: got %d %s, want %s\n",
		    showz(xff), rc, showz(out), want ? want : "refusal");
		soft_fail(file, line);
	}
	free(copy);
}
#define XFF(x, w)	check_xff(x, w, __FILE__, __LINE__)

static void
test_forwarded_for_takes_the_last_ip_literal(void **state)
{
	(void)state;
	XFF("127.0.0.9", "127.0.0.9");
	XFF("10.1.2.3, 127.0.0.9", "127.0.0.9");
	XFF("forged,10.1.2.3 ,  127.0.0.9  ", "127.0.0.9");
	XFF("\t2001:db8::1", "2001:db8::1");
	XFF("2001:DB8:0:0:0:0:0:1", "2001:db8::1");
	XFF("::ffff:192.0.2.7", "192.0.2.7");
	XFF("127.0.0.9, ", NULL);
	XFF("", NULL);
	XFF(",", NULL);
	XFF("127.0.0.9, unknown", NULL);
	XFF("127.0.0.9:443", NULL);
	XFF("[::1]", NULL);
	XFF("::1%eth0", NULL);
	XFF("127.0.0.1/8", NULL);
	XFF("127.0.0.010", NULL);
	XFF("1.2.3.4 5.6.7.8", NULL);
	XFF("1.2.3.4\r\nX-Evil: 1", NULL);
	XFF("1111:2222:3333:4444:5555:6666:7777:8888:9999", NULL);
	CHECKS_PASSED();
}

static void
test_forwarded_for_respects_the_output_size(void **state)
{
	char	 out[8] = "peer";

	(void)state;
	assert_int_equal(proxy_forwarded_for("2001:db8::1", out, sizeof(out)),
	    -1);
	assert_string_equal(out, "peer");
	assert_int_equal(proxy_forwarded_for("1.2.3.4", out, sizeof(out)), 0);
	assert_string_equal(out, "1.2.3.4");
	assert_int_equal(proxy_forwarded_for(NULL, out, sizeof(out)), -1);
}

static void
check_trusted(const char *addr, int want, const char *file, int line)
{
	if (proxy_is_trusted(addr) != want) {
		print_error("%s should%s be trusted\n", showz(addr),
		    want ? "" : " not");
		soft_fail(file, line);
	}
}
#define TRUSTED(a, w)	check_trusted(a, w, __FILE__, __LINE__)

static void
test_trusted_proxies_match_addresses_and_networks(void **state)
{
	(void)state;
	TRUSTED("127.0.0.1", 0);		/* nothing trusted yet */
	assert_int_equal(proxy_trust("127.0.0.1, 10.0.0.0/8 192.168.1.128/25"
	    ",2001:db8::/32 ::1"), 0);
	TRUSTED("127.0.0.1", 1);
	TRUSTED("::ffff:127.0.0.1", 1);	/* a dual-stack listener's view */
	TRUSTED("127.0.0.2", 0);
	TRUSTED("10.255.0.1", 1);
	TRUSTED("11.0.0.1", 0);
	TRUSTED("192.168.1.128", 1);
	TRUSTED("192.168.1.255", 1);
	TRUSTED("192.168.1.127", 0);
	TRUSTED("2001:db8:ffff::1", 1);
	TRUSTED("2001:db9::1", 0);
	TRUSTED("::1", 1);
	TRUSTED("::2", 0);
	TRUSTED("not an address", 0);
	TRUSTED("", 0);
	TRUSTED(NULL, 0);
	assert_int_equal(proxy_trust("0.0.0.0/0"), 0);
	TRUSTED("203.0.113.1", 1);
	TRUSTED("2001:db8::1", 0);		/* IPv4 networks only */
	assert_int_equal(proxy_trust("nginx.local"), -1);
	TRUSTED("203.0.113.1", 0);		/* a bad list trusts nobody */
	assert_int_equal(proxy_trust(NULL), 0);
	TRUSTED("127.0.0.1", 0);
	CHECKS_PASSED();
}

static void
check_set(const char *key, const char *value, int want, const char *file,
    int line)
{
	struct config	 cf;
	char		 err[256] = "";

	config_defaults(&cf);
	if (config_set(&cf, key, value, err, sizeof(err)) != want) {
		print_error("%s = %s: want %s (%s)\n", key, showz(value),
		    want == 0 ? "accepted" : "refused", err);
		soft_fail(file, line);
	} else if (want == -1 && strncmp(err, key, strlen(key)) != 0 &&
	    strstr(err, "unknown key") == NULL) {
		print_error("%s = %s: the error should start with the key: "
		    "%s\n", key, showz(value), err);
		soft_fail(file, line);
	}
	config_free(&cf);
}
#define SET(k, v, w)	check_set(k, v, w, __FILE__, __LINE__)

static void
test_setting_values_are_checked(void **state)
{
	(void)state;
	SET("listen", "127.0.0.1:8081", 0);
	SET("listen", "[::1]:8081", 0);
	SET("listen", "localhost:1", 0);
	SET("listen", "127.0.0.1:0", -1);
	SET("listen", "127.0.0.1:65536", -1);
	SET("listen", "::1:8081", -1);
	SET("listen", ":8081", -1);
	SET("listen", "127.0.0.1", -1);
	SET("listen", "a b:80", -1);
	SET("pool", "1", 0);
	SET("pool", "256", 0);
	SET("pool", "257", -1);
	SET("pool", "08", -1);
	SET("pool", " 8", -1);
	SET("rate_limit", "0", 0);
	SET("queue", "1000001", -1);
	SET("syslog", "Yes", 0);
	SET("syslog", "off", 0);
	SET("syslog", "y", -1);
	SET("public_url", "https://rollcall.example.org", 0);
	SET("public_url", "javascript:alert(1)", -1);
	SET("trusted_proxies", " , ", -1);
	SET("db", "", -1);
	SET("nope", "1", -1);
	CHECKS_PASSED();
}

static void
test_later_settings_win(void **state)
{
	struct config	 cf;
	char		 err[256];

	(void)state;
	config_defaults(&cf);
	assert_int_equal(cf.pool_size, 8);
	assert_int_equal(cf.foreground, 1);
	assert_int_equal(config_set(&cf, "pool", "3", err, sizeof(err)), 0);
	assert_int_equal(config_set(&cf, "pool", "5", err, sizeof(err)), 0);
	assert_int_equal(config_set(&cf, "syslog", "yes", err, sizeof(err)), 0);
	assert_int_equal(cf.pool_size, 5);
	assert_int_equal(cf.foreground, 0);
	/* a refused value leaves the setting as it was */
	assert_int_equal(config_set(&cf, "pool", "0", err, sizeof(err)), -1);
	assert_int_equal(cf.pool_size, 5);
	config_free(&cf);
}

/* config_parse on a heap copy of text: 0, or -1 with err. */
static int
parse_text(struct config *cf, const char *text, char *err, size_t errlen)
{
	size_t	 len = strlen(text);
	char	*buf = malloc(len + 1);

	assert_non_null(buf);
	memcpy(buf, text, len + 1);
	err[0] = '\0';
	return config_parse(cf, "t.conf", buf, len, err, errlen);
}

static void
test_config_parse_applies_lines_and_names_the_bad_one(void **state)
{
	struct config	 cf;
	char		 err[512];

	(void)state;
	config_defaults(&cf);
	assert_int_equal(parse_text(&cf, "# a comment\r\n\npool = 3\r\n"
	    "  listen=127.0.0.1:9000  \nmail_from = Rollcall <rc@example.org>\n",
	    err, sizeof(err)), 0);
	assert_int_equal(cf.pool_size, 3);
	assert_string_equal(cf.listen, "127.0.0.1:9000");
	assert_string_equal(cf.mail.from, "rc@example.org");
	config_free(&cf);

	config_defaults(&cf);
	assert_int_equal(parse_text(&cf, "pool = 3\npool = 4\n", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "t.conf:2: pool is already set on line 1");
	config_free(&cf);

	config_defaults(&cf);
	assert_int_equal(parse_text(&cf, "verbose = yes\nbogus = 1\n", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "t.conf:2: unknown key 'bogus'");
	config_free(&cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_forwarded_for_takes_the_last_ip_literal),
		TEST(test_forwarded_for_respects_the_output_size),
		TEST(test_trusted_proxies_match_addresses_and_networks),
		TEST(test_setting_values_are_checked),
		TEST(test_later_settings_win),
		TEST(test_config_parse_applies_lines_and_names_the_bad_one),
	};

	log_init(1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
