/*
 * Unit tests for the template renderer: escaping by default, sections,
 * partials, and refusal of malformed or runaway templates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "server.h"

/* Render text with ctx (JSON text); returns a malloc'd string or NULL. */
static char *
run(const char *tmpl, const char *ctxjson)
{
	json_t		*ctx = ctxjson ? json_loads(ctxjson, 0, NULL) : NULL;
	struct evbuffer	*b = tmpl_render_text(tmpl, strlen(tmpl), ctx);
	char		*out = NULL;
	size_t		 len;

	json_decref(ctx);
	if (b == NULL)
		return NULL;
	len = evbuffer_get_length(b);
	out = calloc(1, len + 1);
	evbuffer_remove(b, out, len);
	evbuffer_free(b);
	return out;
}

#define EXPECT(tmpl, ctx, want) do {					\
	char *got_ = run((tmpl), (ctx));				\
	if (got_ == NULL || strcmp(got_, (want)) != 0)			\
		fail_msg("template %s with %s gave \"%s\", want \"%s\"",\
		    (tmpl), (ctx), got_ ? got_ : "(null)", (want));	\
	free(got_);							\
} while (0)

static void
values_are_escaped_by_default(void **state)
{
	(void)state;
	EXPECT("<p>{{x}}</p>", "{\"x\":\"<script>&'\\\"\"}",
	    "<p>&lt;script&gt;&amp;&#39;&quot;</p>");
	EXPECT("{{{x}}}", "{\"x\":\"<b>\"}", "<b>");
	EXPECT("{{ a.b }}", "{\"a\":{\"b\":\"z\"}}", "z");
	EXPECT("{{n}}/{{t}}/{{f}}/{{missing}}", "{\"n\":42,\"t\":true,"
	    "\"f\":false}", "42/true//");
	EXPECT("{{a.1}}", "{\"a\":[\"x\",\"y\"]}", "y");
}

static void
sections_iterate_and_invert(void **state)
{
	(void)state;
	EXPECT("{{#l}}[{{.}}]{{/l}}", "{\"l\":[1,2,3]}", "[1][2][3]");
	EXPECT("{{#l}}{{name}}:{{top}};{{/l}}", "{\"top\":\"T\",\"l\":"
	    "[{\"name\":\"a\"},{\"name\":\"b\"}]}", "a:T;b:T;");
	EXPECT("{{#o}}{{v}}{{/o}}", "{\"o\":{\"v\":\"in\"}}", "in");
	EXPECT("{{#l}}x{{/l}}{{^l}}none{{/l}}", "{\"l\":[]}", "none");
	EXPECT("{{^x}}no{{/x}}", "{\"x\":\"\"}", "no");
	EXPECT("{{#a}}{{#a}}in{{/a}}{{/a}}", "{\"a\":true}", "in");
	EXPECT("a{{! a comment }}b", "{}", "ab");
}

static void
partials_render_and_cannot_recurse_forever(void **state)
{
	(void)state;
	assert_int_equal(tmpl_add("greet", "hi {{who}}", 10), 0);
	EXPECT("{{>greet}}!", "{\"who\":\"<x>\"}", "hi &lt;x&gt;!");
	assert_int_equal(tmpl_add("loop", "{{>loop}}", 9), 0);
	assert_null(run("{{>loop}}", "{}"));
	assert_null(run("{{>nosuch}}", "{}"));
}

static void
malformed_templates_are_refused(void **state)
{
	static const char *const bad[] = { "{{x", "{{#a}}open", "{{/a}}",
	    "{{#a}}{{/b}}", "{{{x}}", NULL };
	int	 i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++)
		if (run(bad[i], "{\"a\":true}") != NULL)
			fail_msg("malformed template %s was rendered", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values_are_escaped_by_default),
		cmocka_unit_test(sections_iterate_and_invert),
		cmocka_unit_test(partials_render_and_cannot_recurse_forever),
		cmocka_unit_test(malformed_templates_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
