/*
 * Unit tests for http_form_parse() in server/http.c: form bodies (strict)
 * and query strings (lenient) into an object of strings; and the Cookie
 * header's reader, http_cookie_find().
 *
 * Every text is handed over as an exact-size heap buffer WITHOUT a
 * terminating NUL (a request body has none), so ASan reports a read past
 * len. A failed check prints the input and what came back.
 *
 * What libevent 2.1 (evhttp_parse_query_str) does, asserted as is below:
 * it decodes %-escapes and '+' (as a space) in VALUES only; a KEY is kept
 * byte for byte, "%61" and "a+b" included. A decoded "%00" ends the value
 * there (libevent's strings are NUL-terminated), so strict parsing
 * refuses any "%00"; lenient parsing reads "a=Bob%00x" as {"a":"Bob"}.
 * A part without '=', an
 * empty key ("=1") or an empty part ("a=1&&b=2", "&a=1") makes the whole
 * text unreadable (NULL); a single trailing '&' is accepted.
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

/* Parse len bytes of text from an exact-size heap copy. */
static json_t *
parse(const char *text, size_t len, int strict)
{
	char	*buf = NULL;
	json_t	*o;

	if (len > 0) {
		buf = malloc(len);
		assert_non_null(buf);
		memcpy(buf, text, len);
	}
	o = http_form_parse(buf, len, strict);
	free(buf);
	return o;
}

/* Compact JSON text of o for messages (static buffer). */
static const char *
dump(const json_t *o)
{
	static char	 buf[1024];
	char		*s;

	if (o == NULL)
		return "NULL";
	if ((s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII)) == NULL)
		return "(undumpable)";
	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	return buf;
}

/* Check that text parses to exactly want (JSON text; see check_value for
 * values that are not UTF-8). */
static void
check_form(const char *text, size_t len, int strict, const char *want,
    const char *file, int line)
{
	json_t		*got = parse(text, len, strict);
	json_t		*w = json_loads(want, JSON_REJECT_DUPLICATES, NULL);

	assert_non_null(w);
	if (got == NULL || !json_equal(got, w)) {
		print_error("http_form_parse(%s, %zu, %s) gave %s, expected "
		    "%s\n", show(text, len), len, strict ? "strict" :
		    "lenient", dump(got), want);
		soft_fail(file, line);
	}
	json_decref(got);
	json_decref(w);
}

/* Check that text is refused (NULL). */
static void
check_refused(const char *text, size_t len, int strict, const char *why,
    const char *file, int line)
{
	json_t	*got = parse(text, len, strict);

	if (got != NULL) {
		print_error("http_form_parse(%s, %zu, %s) gave %s, expected "
		    "NULL (%s)\n", show(text, len), len, strict ? "strict" :
		    "lenient", dump(got), why);
		soft_fail(file, line);
	}
	json_decref(got);
}

/* Check that key has exactly the bytes want (wantlen) in the result. */
static void
check_value(const char *text, size_t len, int strict, const char *key,
    const char *want, size_t wantlen, const char *file, int line)
{
	json_t		*got = parse(text, len, strict);
	json_t		*v = json_object_get(got, key);

	if (!json_is_string(v) || json_string_length(v) != wantlen ||
	    memcmp(json_string_value(v), want, wantlen) != 0) {
		print_error("http_form_parse(%s, %zu, %s)[%s] is %s, expected "
		    "%s\n", show(text, len), len, strict ? "strict" :
		    "lenient", key, v ? show(json_string_value(v),
		    json_string_length(v)) : "missing", show(want, wantlen));
		soft_fail(file, line);
	}
	json_decref(got);
}

#define FORM(t, strict, want) \
	check_form((t), strlen(t), (strict), (want), __FILE__, __LINE__)
#define REFUSED(t, strict, why) \
	check_refused((t), strlen(t), (strict), (why), __FILE__, __LINE__)
#define VALUE(t, strict, key, want, wantlen) \
	check_value((t), strlen(t), (strict), (key), (want), (wantlen), \
	    __FILE__, __LINE__)

static void
pairs_become_an_object_of_strings(void **state)
{
	(void)state;
	FORM("a=1&b=2", 1, "{\"a\":\"1\",\"b\":\"2\"}");
	FORM("a=1&b=2", 0, "{\"a\":\"1\",\"b\":\"2\"}");
	FORM("name=Ada", 1, "{\"name\":\"Ada\"}");
	FORM("a=", 1, "{\"a\":\"\"}");
	FORM("a=b=c", 1, "{\"a\":\"b=c\"}");
	FORM("a=1&", 1, "{\"a\":\"1\"}");	/* one trailing '&' */
	CHECKS_PASSED();
}

static void
percent_escapes_and_plus_are_decoded_in_values(void **state)
{
	(void)state;
	/* libevent 2.1 turns '+' into a space in a value. */
	FORM("q=x+y", 1, "{\"q\":\"x y\"}");
	FORM("q=a%20b%2Bc%26d%3De", 1, "{\"q\":\"a b+c&d=e\"}");
	FORM("q=%e4%b8%ad", 1, "{\"q\":\"\\u4e2d\"}");
	FORM("q=%E4%B8%AD", 1, "{\"q\":\"\\u4e2d\"}");
	FORM("q=line%0d%0a2", 1, "{\"q\":\"line\\r\\n2\"}");
	/* A malformed escape is kept as it is. */
	FORM("q=%zz%4", 1, "{\"q\":\"%zz%4\"}");
	CHECKS_PASSED();
}

static void
keys_are_not_decoded(void **state)
{
	(void)state;
	/* evhttp_parse_query_str decodes values only: a key stays as sent. */
	FORM("%61=1", 1, "{\"%61\":\"1\"}");
	FORM("a+b=1", 1, "{\"a+b\":\"1\"}");
	CHECKS_PASSED();
}

static void
unreadable_text_is_refused(void **state)
{
	(void)state;
	REFUSED("a", 1, "a part without '='");
	REFUSED("a", 0, "a part without '='");
	REFUSED("=1", 1, "an empty key");
	REFUSED("a=1&&b=2", 1, "an empty part");
	REFUSED("&a=1", 0, "an empty part");
	REFUSED("&", 1, "an empty part");
	CHECKS_PASSED();
}

static void
strict_refuses_a_duplicate_key(void **state)
{
	(void)state;
	REFUSED("a=1&a=2", 1, "key a twice");
	REFUSED("a=1&b=2&a=1", 1, "key a twice, same value");
	REFUSED("a=1&%61=2&a=3", 1, "key a twice around another");
	CHECKS_PASSED();
}

static void
strict_refuses_a_key_longer_than_form_maxkey(void **state)
{
	char	 key[FORM_MAXKEY + 2], text[FORM_MAXKEY + 16], want[128];

	(void)state;
	memset(key, 'k', FORM_MAXKEY);
	key[FORM_MAXKEY] = '\0';
	snprintf(text, sizeof(text), "%s=v", key);
	snprintf(want, sizeof(want), "{\"%s\":\"v\"}", key);
	FORM(text, 1, want);			/* FORM_MAXKEY bytes: fine */
	memset(key, 'k', FORM_MAXKEY + 1);
	key[FORM_MAXKEY + 1] = '\0';
	snprintf(text, sizeof(text), "%s=v", key);
	REFUSED(text, 1, "key of FORM_MAXKEY + 1 bytes");
	snprintf(want, sizeof(want), "{\"%s\":\"v\"}", key);
	FORM(text, 0, want);			/* lenient: no key limit */
	CHECKS_PASSED();
}

static void
strict_refuses_invalid_utf8(void **state)
{
	(void)state;
	REFUSED("a=%ff", 1, "value is byte 0xff");
	REFUSED("a=%c3", 1, "value is a truncated sequence");
	REFUSED("a=%c0%af", 1, "value is an overlong '/'");
	REFUSED("a=%ed%a0%80", 1, "value is a UTF-16 surrogate");
	REFUSED("a=ok&b=%fe", 1, "second value is byte 0xfe");
	REFUSED("\xff=1", 1, "key is raw byte 0xff");
	REFUSED("a=\xe4\xb8", 1, "raw value is a truncated sequence");
	FORM("a=caf%c3%a9", 1, "{\"a\":\"caf\\u00e9\"}");
	FORM("a=caf\xc3\xa9", 1, "{\"a\":\"caf\\u00e9\"}");
	CHECKS_PASSED();
}

static void
an_embedded_nul_is_refused(void **state)
{
	static const char t1[] = "a=1\0&b=2", t2[] = "a\0=1", t3[] = "a=1\0";

	(void)state;
	check_refused(t1, sizeof(t1) - 1, 1, "NUL inside the text", __FILE__,
	    __LINE__);
	check_refused(t2, sizeof(t2) - 1, 1, "NUL inside a key", __FILE__,
	    __LINE__);
	check_refused(t3, sizeof(t3) - 1, 1, "NUL as the last byte", __FILE__,
	    __LINE__);
	check_refused(t1, sizeof(t1) - 1, 0, "NUL inside the text, lenient",
	    __FILE__, __LINE__);
	/* The same bytes without the NUL in len are fine. */
	check_form(t1, 3, 1, "{\"a\":\"1\"}", __FILE__, __LINE__);
	CHECKS_PASSED();
}

/* An encoded NUL would cut a value short unseen: strict refuses it. */
static void
an_encoded_nul_is_refused_when_strict(void **state)
{
	static const char t[] = "name=Bob%00evil", u[] = "name=Bob%00";

	(void)state;
	check_refused(t, sizeof(t) - 1, 1, "%00 inside a value", __FILE__,
	    __LINE__);
	check_refused(u, sizeof(u) - 1, 1, "%00 ending a value", __FILE__,
	    __LINE__);
	check_form(t, sizeof(t) - 1, 0, "{\"name\":\"Bob\"}", __FILE__,
	    __LINE__);
	CHECKS_PASSED();
}

static void
lenient_keeps_the_first_value_of_a_repeated_key(void **state)
{
	(void)state;
	FORM("a=1&a=2", 0, "{\"a\":\"1\"}");
	FORM("a=1&b=x&a=2&b=y&a=3", 0, "{\"a\":\"1\",\"b\":\"x\"}");
	FORM("a=&a=2", 0, "{\"a\":\"\"}");
	CHECKS_PASSED();
}

static void
lenient_keeps_values_that_are_not_utf8(void **state)
{
	(void)state;
	VALUE("a=%ff", 0, "a", "\xff", 1);
	VALUE("a=x%c3&b=1", 0, "a", "x\xc3", 2);
	VALUE("a=\xfe\xff", 0, "a", "\xfe\xff", 2);
	VALUE("a=%ff&a=ok", 0, "a", "\xff", 1);
	CHECKS_PASSED();
}

static void
empty_text_is_an_empty_object(void **state)
{
	json_t	*o;

	(void)state;
	FORM("", 1, "{}");
	FORM("", 0, "{}");
	/* A request without a body: no buffer at all. */
	o = http_form_parse(NULL, 0, 1);
	if (!json_is_object(o) || json_object_size(o) != 0) {
		print_error("http_form_parse(NULL, 0, strict) gave %s, "
		    "expected {}\n", dump(o));
		soft_fail(__FILE__, __LINE__);
	}
	json_decref(o);
	o = http_form_parse(NULL, 0, 0);
	if (!json_is_object(o) || json_object_size(o) != 0) {
		print_error("http_form_parse(NULL, 0, lenient) gave %s, "
		    "expected {}\n", dump(o));
		soft_fail(__FILE__, __LINE__);
	}
	json_decref(o);
	/* len 0 with bytes behind the pointer reads none of them. */
	check_form("a=1", 0, 1, "{}", __FILE__, __LINE__);
	CHECKS_PASSED();
}

/* http_cookie_find on an exact-size copy: want NULL means not found. */
static void
check_cookie(const char *header, const char *name, size_t outsz,
    const char *want, const char *file, int line)
{
	char	 out[64] = "untouched";
	char	*copy = header ? exact(header) : NULL;
	int	 rc = http_cookie_find(copy, name, out, outsz);

	if (want == NULL ? rc != -1 : (rc != 0 || strcmp(out, want) != 0)) {
		print_error("cookie %s in %s: got %d %s, want %s\n", name,
		    showz(header), rc, rc == 0 ? showz(out) : "-",
		    want ? showz(want) : "none");
		soft_fail(file, line);
	}
	free(copy);
}
#define COOKIE(h, n, w)	check_cookie(h, n, 64, w, __FILE__, __LINE__)

static void
cookie_find_takes_the_named_value(void **state)
{
	(void)state;
	COOKIE("rc_lang=zh-CN", "rc_lang", "zh-CN");
	COOKIE("a=1; rc_lang=en; b=2", "rc_lang", "en");
	COOKIE(";; rc_lang=en", "rc_lang", "en");
	COOKIE("rc_lang=en; rc_lang=zh-CN", "rc_lang", "en");	/* the first */
	COOKIE("rc_lang=", "rc_lang", "");
	CHECKS_PASSED();
}

static void
cookie_find_refuses_other_names_and_long_values(void **state)
{
	(void)state;
	COOKIE(NULL, "rc_lang", NULL);
	COOKIE("", "rc_lang", NULL);
	COOKIE("rc_lang", "rc_lang", NULL);
	COOKIE("rc_language=en", "rc_lang", NULL);
	COOKIE("xrc_lang=en", "rc_lang", NULL);
	COOKIE(" ;  ; ", "rc_lang", NULL);
	check_cookie("rc_lang=0123456789", "rc_lang", 10, NULL, __FILE__,
	    __LINE__);
	check_cookie("rc_lang=012345678", "rc_lang", 10, "012345678",
	    __FILE__, __LINE__);
	CHECKS_PASSED();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(pairs_become_an_object_of_strings),
		TEST(percent_escapes_and_plus_are_decoded_in_values),
		TEST(keys_are_not_decoded),
		TEST(unreadable_text_is_refused),
		TEST(strict_refuses_a_duplicate_key),
		TEST(strict_refuses_a_key_longer_than_form_maxkey),
		TEST(strict_refuses_invalid_utf8),
		TEST(an_embedded_nul_is_refused),
		TEST(an_encoded_nul_is_refused_when_strict),
		TEST(lenient_keeps_the_first_value_of_a_repeated_key),
		TEST(lenient_keeps_values_that_are_not_utf8),
		TEST(empty_text_is_an_empty_object),
		TEST(cookie_find_takes_the_named_value),
		TEST(cookie_find_refuses_other_names_and_long_values),
	};

	return cmocka_run_group_tests_name("form", tests, NULL, NULL);
}
