/*
 * Unit tests for router_match() in server/router.c: literal paths, {param}
 * segments (strdup'd for the caller), the trailing slash, and refusal of
 * paths whose segments are empty, too long or not URL-safe.
 *
 * Every path is an exact-size heap copy, so ASan reports a read past its
 * NUL. On a refused path nothing may stay allocated: the params a failed
 * match had captured so far must be freed, which ASan's leak check at exit
 * reports if not. A failed check prints the pattern and path and the test
 * goes on to report every other failing input too.
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

/* The params a path should give, NULL-terminated. */
#define PARAMS(...)	((const char *const []){ __VA_ARGS__, NULL })
#define NOPARAMS	((const char *const []){ NULL })

/* Free what a match captured. */
static void
free_params(char **params, int n)
{
	while (n > 0)
		free(params[--n]);
}

/* Check that pattern matches path and gives exactly the params want. */
static void
check_match(const char *pattern, const char *path, const char *const *want,
    const char *file, int line)
{
	char	*params[HTTP_MAXPARAMS] = { NULL };
	char	*dup = exact(path);
	int	 n = -1, nwant = 0, i, rc;

	while (want[nwant] != NULL)
		nwant++;
	rc = router_match(pattern, dup, params, &n);
	if (rc != 1) {
		print_error("router_match(%s, %s) returned %d, expected 1 "
		    "(the path should match the pattern)\n", showz(pattern),
		    showz(path), rc);
		soft_fail(file, line);
		goto out;
	}
	if (n != nwant) {
		print_error("router_match(%s, %s) captured %d param(s), "
		    "expected %d\n", showz(pattern), showz(path), n, nwant);
		soft_fail(file, line);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (params[i] == NULL || strcmp(params[i], want[i]) != 0) {
			print_error("router_match(%s, %s) param %d is %s, "
			    "expected %s\n", showz(pattern), showz(path), i,
			    showz(params[i]), showz(want[i]));
			soft_fail(file, line);
		}
	}
out:
	free(dup);
	if (n > 0 && n <= HTTP_MAXPARAMS)
		free_params(params, n);
}

/* Check that pattern does not match path and reports no params. */
static void
check_nomatch(const char *pattern, const char *path, const char *file,
    int line)
{
	char	*params[HTTP_MAXPARAMS] = { NULL };
	char	*dup = exact(path);
	int	 n = -1, rc;

	rc = router_match(pattern, dup, params, &n);
	free(dup);
	if (rc != 0) {
		print_error("router_match(%s, %s) returned %d, expected 0 "
		    "(the path should be refused)\n", showz(pattern),
		    showz(path), rc);
		soft_fail(file, line);
		if (n > 0 && n <= HTTP_MAXPARAMS)
			free_params(params, n);
		return;
	}
	if (n != 0) {
		print_error("router_match(%s, %s) refused the path but left "
		    "*nparams = %d, expected 0 (the caller would free stale "
		    "pointers)\n", showz(pattern), showz(path), n);
		soft_fail(file, line);
	}
}

#define MATCH(pat, path, want) \
	check_match((pat), (path), (want), __FILE__, __LINE__)
#define NOMATCH(pat, path)	check_nomatch((pat), (path), __FILE__, __LINE__)

/* "/r/" followed by n copies of c (caller frees). */
static char *
path_with_segment(char c, size_t n)
{
	char	*p = malloc(n + 4);

	assert_non_null(p);
	memcpy(p, "/r/", 3);
	memset(p + 3, c, n);
	p[n + 3] = '\0';
	return p;
}

static void
literal_paths_match_only_themselves(void **state)
{
	(void)state;
	MATCH("/healthz", "/healthz", NOPARAMS);
	MATCH("/", "/", NOPARAMS);
	MATCH("/api/v1/events", "/api/v1/events", NOPARAMS);
	MATCH("/static/style.css", "/static/style.css", NOPARAMS);
	NOMATCH("/healthz", "/healthy");
	NOMATCH("/healthz", "/Healthz");
	NOMATCH("/healthz", "/health");
	NOMATCH("/healthz", "/healthzz");
	NOMATCH("/healthz", "");
	NOMATCH("/api/v1/events", "/api/v1/event");
	NOMATCH("/api/v1/events", "api/v1/events");
	CHECKS_PASSED();
}

static void
a_trailing_slash_is_accepted(void **state)
{
	(void)state;
	MATCH("/api/v1/events", "/api/v1/events/", NOPARAMS);
	MATCH("/api/v1/events/{id}", "/api/v1/events/7/", PARAMS("7"));
	MATCH("/api/v1/events/{id}/registrations",
	    "/api/v1/events/7/registrations/", PARAMS("7"));
	/* One slash, not any number of them. */
	NOMATCH("/api/v1/events", "/api/v1/events//");
	CHECKS_PASSED();
}

static void
a_param_segment_is_captured(void **state)
{
	(void)state;
	MATCH("/api/v1/events/{id}", "/api/v1/events/42", PARAMS("42"));
	MATCH("/manage/{secret}", "/manage/abc-DEF_123",
	    PARAMS("abc-DEF_123"));
	MATCH("/j/{secret}", "/j/x", PARAMS("x"));
	MATCH("/api/v1/events/{id}/registrations",
	    "/api/v1/events/9/registrations", PARAMS("9"));
	/* The param is a copy: it outlives the path it came from. */
	{
		char	*params[HTTP_MAXPARAMS] = { NULL };
		char	*dup = exact("/api/v1/events/12");
		int	 n = 0;

		assert_int_equal(router_match("/api/v1/events/{id}", dup,
		    params, &n), 1);
		assert_int_equal(n, 1);
		assert_ptr_not_equal(params[0], dup + strlen("/api/v1/events/"));
		memset(dup, 'x', strlen(dup));
		free(dup);
		if (strcmp(params[0], "12") != 0) {
			print_error("param changed with the path: %s, expected "
			    "\"12\" (it should be strdup'd)\n",
			    showz(params[0]));
			soft_fail(__FILE__, __LINE__);
		}
		free_params(params, n);
	}
	CHECKS_PASSED();
}

static void
several_params_are_captured_in_order(void **state)
{
	(void)state;
	MATCH("/a/{x}/b/{y}", "/a/1/b/2", PARAMS("1", "2"));
	MATCH("/{a}/{b}/{c}", "/p/q/r", PARAMS("p", "q", "r"));
	MATCH("/{a}/{b}/{c}/{d}", "/1/2/3/4", PARAMS("1", "2", "3", "4"));
	MATCH("/{a}/{b}/{c}/{d}", "/1/2/3/4/", PARAMS("1", "2", "3", "4"));
	CHECKS_PASSED();
}

static void
extra_or_missing_segments_do_not_match(void **state)
{
	(void)state;
	NOMATCH("/api/v1/events/{id}", "/api/v1/events/7/x");
	NOMATCH("/api/v1/events/{id}", "/api/v1/events");
	NOMATCH("/api/v1/events/{id}/registrations", "/api/v1/events/7");
	NOMATCH("/api/v1/events/{id}/registrations",
	    "/api/v1/events/7/registrations/x");
	NOMATCH("/api/v1/events", "/api/v1/events/7");
	/* A capture so far must be freed when a later part fails. */
	NOMATCH("/a/{x}/b/{y}", "/a/1/b");
	NOMATCH("/a/{x}/b/{y}", "/a/1/c/2");
	NOMATCH("/a/{x}/b/{y}", "/a/1/b/2/3");
	NOMATCH("/{a}/{b}/{c}", "/p/q");
	CHECKS_PASSED();
}

static void
an_empty_segment_is_refused(void **state)
{
	(void)state;
	NOMATCH("/api/v1/events/{id}", "/api/v1/events/");
	NOMATCH("/api/v1/events/{id}", "/api/v1/events//");
	NOMATCH("/api/v1/events/{id}/registrations",
	    "/api/v1/events//registrations");
	NOMATCH("/a/{x}/{y}", "/a/1/");
	NOMATCH("/a/{x}/{y}", "/a//2");
	CHECKS_PASSED();
}

static void
a_segment_longer_than_route_maxsegment_is_refused(void **state)
{
	char	*at = path_with_segment('a', ROUTE_MAXSEGMENT);
	char	*over = path_with_segment('a', ROUTE_MAXSEGMENT + 1);
	char	*far = path_with_segment('a', HTTP_MAXPATH);
	char	*want = malloc(ROUTE_MAXSEGMENT + 1);

	(void)state;
	assert_non_null(want);
	memset(want, 'a', ROUTE_MAXSEGMENT);
	want[ROUTE_MAXSEGMENT] = '\0';
	MATCH("/r/{x}", at, PARAMS(want));
	NOMATCH("/r/{x}", over);
	NOMATCH("/r/{x}", far);
	/* The second param too, after a first was captured. */
	{
		char	*two = malloc(strlen(over) + 8);

		assert_non_null(two);
		snprintf(two, strlen(over) + 8, "/r/1%s", over + 2);
		NOMATCH("/r/{x}/{y}", two);
		free(two);
	}
	free(at);
	free(over);
	free(far);
	free(want);
	CHECKS_PASSED();
}

static void
non_url_safe_bytes_in_a_param_are_refused(void **state)
{
	static const char *const bad[] = {
		"/r/a%2f", "/r/%41", "/r/a b", "/r/caf\xc3\xa9", "/r/a+b",
		"/r/a?b", "/r/a#b", "/r/a:b", "/r/a\\b", "/r/a\tb", "/r/a'b",
		"/r/a\"b", "/r/a<b", "/r/\x7f", "/r/\xff", "/r/a~b", "/r/a=b",
		"/r/a&b", "/r/a;b", "/r/a@b", "/r/a*b", NULL
	};
	int	 i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++)
		NOMATCH("/r/{x}", bad[i]);
	/* A bad second param must not leak the first. */
	NOMATCH("/r/{x}/{y}", "/r/ok/n%20o");
	CHECKS_PASSED();
}

static void
dots_are_allowed_in_a_param(void **state)
{
	(void)state;
	MATCH("/r/{x}", "/r/ticket.png", PARAMS("ticket.png"));
	MATCH("/r/{x}", "/r/a.b.c", PARAMS("a.b.c"));
	MATCH("/r/{x}/y", "/r/v1.2/y", PARAMS("v1.2"));
	MATCH("/r/{x}", "/r/-_.09azAZ", PARAMS("-_.09azAZ"));
	CHECKS_PASSED();
}

static void
at_most_http_maxparams_are_captured(void **state)
{
	char	*params[HTTP_MAXPARAMS + 1] = { NULL };
	int	 n = -1, rc;

	(void)state;
	/* HTTP_MAXPARAMS is 4; one more {param} refuses the path, without
	 * writing past the caller's HTTP_MAXPARAMS slots. */
	assert_int_equal(HTTP_MAXPARAMS, 4);
	MATCH("/{a}/{b}/{c}/{d}", "/1/2/3/4", PARAMS("1", "2", "3", "4"));
	rc = router_match("/{a}/{b}/{c}/{d}/{e}", "/1/2/3/4/5", params, &n);
	if (rc != 0 || n != 0) {
		print_error("a 5-param pattern gave rc=%d nparams=%d, expected "
		    "rc=0 nparams=0 (over HTTP_MAXPARAMS=%d)\n", rc, n,
		    HTTP_MAXPARAMS);
		soft_fail(__FILE__, __LINE__);
		if (n > 0 && n <= HTTP_MAXPARAMS + 1)
			free_params(params, n);
	}
	if (params[HTTP_MAXPARAMS] != NULL) {
		print_error("router_match wrote params[%d], past the %d the "
		    "caller has\n", HTTP_MAXPARAMS, HTTP_MAXPARAMS);
		soft_fail(__FILE__, __LINE__);
	}
	CHECKS_PASSED();
}

static void
router_pattern_walks_the_route_table_and_stops(void **state)
{
	int	 i;

	(void)state;
	assert_null(router_pattern(-1));
	for (i = 0; router_pattern(i) != NULL; i++)
		assert_true(router_pattern(i)[0] == '/');
	assert_true(i > 10);
	assert_null(router_pattern(i + 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(literal_paths_match_only_themselves),
		TEST(a_trailing_slash_is_accepted),
		TEST(a_param_segment_is_captured),
		TEST(several_params_are_captured_in_order),
		TEST(extra_or_missing_segments_do_not_match),
		TEST(an_empty_segment_is_refused),
		TEST(a_segment_longer_than_route_maxsegment_is_refused),
		TEST(non_url_safe_bytes_in_a_param_are_refused),
		TEST(dots_are_allowed_in_a_param),
		TEST(at_most_http_maxparams_are_captured),
		TEST(router_pattern_walks_the_route_table_and_stops),
	};

	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
