/*
 * Unit tests for server/svg.c, the console reports' charts: the
 * geometry follows the numbers (a share of a half is half a bar, the
 * goal line sits at the goal, the tallest column reaches the round top
 * of its axis), what is out of range or not a number is drawn at the
 * nearest sensible value and never as "nan", labels are escaped and
 * shortened at a character boundary, every chart names itself for
 * assistive technology, and its tags are balanced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "server.h"
#include "unit.h"

/* A chart as a string (the caller frees it), or NULL when refused. */
struct chart {
	int	 rc;
	char	*s;
};

static struct chart
take(struct evbuffer *b, int rc)
{
	struct chart	 c;

	c.rc = rc;
	c.s = rc == 0 ? svg_string(b) : NULL;
	evbuffer_free(b);
	return c;
}

/* How many times needle occurs in s. */
static int
count(const char *s, const char *needle)
{
	int	 n = 0;

	while (s != NULL && (s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

#define HAS(s, needle) do {						\
	if (strstr((s), (needle)) == NULL) {				\
		print_error("missing %s in %s\n", showz(needle),	\
		    showz(s));						\
		soft_fail(__FILE__, __LINE__);				\
	}								\
} while (0)
#define HASNT(s, needle) do {						\
	if (strstr((s), (needle)) != NULL) {				\
		print_error("unexpected %s in %s\n", showz(needle),	\
		    showz(s));						\
		soft_fail(__FILE__, __LINE__);				\
	}								\
} while (0)

/*
 * Whether the markup's tags are balanced: every <x ...> closed by its
 * </x> in order, <x .../> closing itself. Text between tags is not
 * looked at (it holds only escaped text, which HASNT checks).
 */
static int
balanced(const char *s)
{
	char		 stack[64][16];
	int		 depth = 0;
	const char	*p, *e;
	size_t		 n;

	for (p = s; (p = strchr(p, '<')) != NULL; p = e + 1) {
		if ((e = strchr(p, '>')) == NULL)
			return 0;
		if (p[1] == '/') {
			n = strcspn(p + 2, " >");
			if (depth == 0 || n >= sizeof(stack[0]) ||
			    strncmp(stack[depth - 1], p + 2, n) != 0 ||
			    stack[depth - 1][n] != '\0')
				return 0;
			depth--;
		} else if (e[-1] != '/') {
			n = strcspn(p + 1, " >\n");
			if (depth == 64 || n >= sizeof(stack[0]))
				return 0;
			memcpy(stack[depth], p + 1, n);
			stack[depth++][n] = '\0';
		}
	}
	return depth == 0;
}

static void
a_bar_is_its_share_long_and_the_goal_line_at_the_goal(
    void **state)
{
	struct svg_bar	 bars[2] = {
		{ "Enthusiasts", "50%", 0.5, -1, NULL },
		{ "Professional developers", "75%", 0.75, 0.8, "Goal 80%" },
	};
	struct evbuffer	*b;
	struct chart	 c;

	(void)state;
	b = evbuffer_new();
	c = take(b, svg_bars(b, "rp-m", "Members", "75% of 10", bars, 2));
	assert_int_equal(c.rc, 0);
	/* BAR_W 330: a half is 165, three quarters 247.5 */
	HAS(c.s, "width=\"165.0\"");
	HAS(c.s, "width=\"247.5\"");
	/* the goal at 220 + 0.8 * 330 = 484 */
	HAS(c.s, "class=\"rp-goal\" x1=\"484.0\"");
	assert_int_equal(count(c.s, "class=\"rp-goal\""), 1);
	HAS(c.s, ">Goal 80%</text>");
	HAS(c.s, ">75%</text>");
	assert_true(balanced(c.s));
	free(c.s);
	CHECKS_PASSED();
}

static void
shares_out_of_range_are_drawn_at_the_nearest_end(
    void **state)
{
	struct svg_bar	 bars[4] = {
		{ "a", "?", NAN, NAN, "g" },
		{ "b", "?", 2.0, 5.0, "g" },
		{ "c", "?", -1.0, -0.5, "g" },
		{ "d", "?", INFINITY, -INFINITY, "g" },
	};
	struct evbuffer	*b = evbuffer_new();
	struct chart	 c = take(b, svg_bars(b, "x", "t", "d", bars, 4));

	(void)state;
	assert_int_equal(c.rc, 0);
	HASNT(c.s, "nan");
	HASNT(c.s, "inf\"");
	HASNT(c.s, "=\"-");
	/* NaN and -1 are no bar; 2 and infinity a whole one */
	assert_int_equal(count(c.s, "width=\"0.0\""), 2);
	assert_int_equal(count(c.s, "width=\"330.0\""), 2);
	/* only the goal of 5 (clamped to 1) is drawn: NaN and below 0 are
	   "no goal" */
	assert_int_equal(count(c.s, "class=\"rp-goal\""), 1);
	HAS(c.s, "class=\"rp-goal\" x1=\"550.0\"");
	free(c.s);
	CHECKS_PASSED();
}

static void
labels_are_escaped_and_the_chart_names_itself(void **state)
{
	struct svg_bar	 bar = { "<script>&\"'", "1 < 2",
	    0.1, 0.2, "<b>" };
	struct evbuffer	*b = evbuffer_new();
	struct chart	 c = take(b, svg_bars(b, "rp-\"x", "A & B <c>",
	    "d\"e", &bar, 1));

	(void)state;
	assert_int_equal(c.rc, 0);
	HASNT(c.s, "<script");
	HASNT(c.s, "<b>");
	HAS(c.s, "&lt;script&gt;");
	HAS(c.s, "&amp;&quot;&#39;");
	HAS(c.s, "1 &lt; 2");
	HAS(c.s, "<title id=\"rp-&quot;x-t\">A &amp; B &lt;c&gt;</title>");
	HAS(c.s, "<desc id=\"rp-&quot;x-d\">d&quot;e</desc>");
	HAS(c.s, "role=\"img\" aria-labelledby=\"rp-&quot;x-t rp-&quot;x-d\"");
	HASNT(c.s, "style=");
	assert_true(balanced(c.s));
	free(c.s);
	CHECKS_PASSED();
}

static void
bad_arguments_are_refused_and_draw_nothing(void **state)
{
	struct svg_bar	 bar = { "a", "b", 0.5, -1, NULL };
	struct svg_cell	 cell = { "1", SVG_OK };
	const char	*lab[] = { "a" };
	double		 v = 1;
	struct evbuffer	*b = evbuffer_new();

	(void)state;
	assert_int_equal(svg_bars(NULL, "x", "t", "d", &bar, 1), -1);
	assert_int_equal(svg_bars(b, NULL, "t", "d", &bar, 1), -1);
	assert_int_equal(svg_bars(b, "", "t", "d", &bar, 1), -1);
	assert_int_equal(svg_bars(b, "x", "t", "d", NULL, 1), -1);
	assert_int_equal(svg_bars(b, "x", "t", "d", &bar, -1), -1);
	assert_int_equal(svg_bars(b, "x", "t", "d", &bar, SVG_MAXITEMS + 1),
	    -1);
	assert_int_equal(svg_grid(b, "x", "t", "d", lab, SVG_MAXCOLS + 1, lab,
	    1, &cell, NULL), -1);
	assert_int_equal(svg_grid(b, "x", "t", "d", lab, 1, lab, 1, NULL,
	    NULL), -1);
	assert_int_equal(svg_columns(b, "x", "t", "d", lab, 1, lab, 0, &v),
	    -1);
	assert_int_equal(svg_columns(b, "x", "t", "d", lab, 1, lab, 5, &v),
	    -1);
	assert_int_equal(svg_columns(b, "x", "t", "d", lab, 1, lab, 1, NULL),
	    -1);
	assert_int_equal(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

static void
a_grid_has_a_cell_per_row_and_column_filled_by_its_state(void **state)
{
	const char	*cols[] = { "Q1", "Q2", "Q3" };
	const char	*rows[] = { "Shanghai", "Beijing" };
	const char	*names[SVG__STATES] = { NULL };
	struct svg_cell	 cells[6] = {
		{ "1 OK", SVG_OK }, { "0 missed", SVG_MISSED },
		{ "0 at risk", SVG_AT_RISK },
		{ "0 not due", SVG_NOT_DUE }, { "0 open", SVG_OPEN },
		{ "?", (enum svg_state)99 },
	};
	struct evbuffer	*b = evbuffer_new();
	struct chart	 c;

	(void)state;
	names[SVG_OK] = "OK";
	names[SVG_MISSED] = "missed";
	c = take(b, svg_grid(b, "rp-h", "Health", "2 chapters", cols, 3, rows,
	    2, cells, names));
	assert_int_equal(c.rc, 0);
	/* six cells and a legend of two: eight rects with a stroke */
	assert_int_equal(count(c.s, "<rect"), 8);
	/* ok: a cell and the legend */
	assert_int_equal(count(c.s, "fill=\"#cde9d2\""), 2);
	assert_int_equal(count(c.s, "fill=\"#f3c7c7\""), 2);	/* missed */
	assert_int_equal(count(c.s, "fill=\"#fbdfa8\""), 1); /* at risk */
	/* an unknown state is drawn as none (white), like not due */
	assert_int_equal(count(c.s, "fill=\"#ffffff\""), 2);
	HAS(c.s, ">0 at risk</text>");
	HAS(c.s, ">Beijing</text>");
	HAS(c.s, ">missed</text>");
	assert_true(balanced(c.s));
	free(c.s);
	CHECKS_PASSED();
}

static void
the_tallest_column_reaches_the_round_top_of_its_axis(void **state)
{
	const char	*q[] = { "2026-Q1", "2026-Q2" };
	const char	*series[] = { "offline", "online" };
	double		 v[4] = { 3, 6, 0, 1.5 };
	struct evbuffer	*b = evbuffer_new();
	struct chart	 c = take(b, svg_columns(b, "rp-g", "Attendees",
	    "per quarter", q, 2, series, 2, v));

	(void)state;
	assert_int_equal(c.rc, 0);
	/* top 6 over COL_PLOT_H 200: 6 is 200 tall, 3 is 100, 0 is 0 */
	HAS(c.s, "height=\"200.0\"");
	HAS(c.s, "height=\"100.0\"");
	HAS(c.s, "height=\"50.0\"");
	HAS(c.s, "height=\"0.0\"");
	HAS(c.s, ">6</text>");		/* the axis' top */
	HAS(c.s, ">3</text>");		/* its middle */
	HAS(c.s, ">2026-Q2</text>");
	HAS(c.s, ">online</text>");
	assert_true(balanced(c.s));
	free(c.s);
	CHECKS_PASSED();
}

static void
columns_of_nothing_or_negative_counts_draw_no_height(void **state)
{
	const char	*q[] = { "a", "b", "c" };
	const char	*series[] = { "n" };
	double		 v[3] = { 0, -4, NAN };
	struct evbuffer	*b = evbuffer_new();
	struct chart	 c = take(b, svg_columns(b, "z", "t", "d", q, 3,
	    series, 1, v));

	(void)state;
	assert_int_equal(c.rc, 0);
	assert_int_equal(count(c.s, "height=\"0.0\""), 3);
	HASNT(c.s, "nan");
	HASNT(c.s, "inf");
	HASNT(c.s, "height=\"-");
	free(c.s);
	CHECKS_PASSED();
}

static void
an_empty_chart_is_still_a_named_image(void **state)
{
	struct evbuffer	*b = evbuffer_new();
	struct chart	 c = take(b, svg_grid(b, "e", "Nothing",
	    "No chapters", NULL, 0, NULL, 0, NULL, NULL));

	(void)state;
	assert_int_equal(c.rc, 0);
	HAS(c.s, "<title id=\"e-t\">Nothing</title>");
	assert_true(balanced(c.s));
	free(c.s);
	CHECKS_PASSED();
}

static void
an_axis_top_is_two_four_six_or_ten_times_a_power_of_ten(void **state)
{
	static const struct { double in, want; } t[] = {
		{ 0, 2 }, { 1, 2 }, { 2, 2 }, { 2.5, 4 }, { 4, 4 }, { 5, 6 },
		{ 7, 10 }, { 10, 10 }, { 11, 20 }, { 45, 60 }, { 61, 100 },
		{ 1000, 1000 }, { 1001, 2000 }, { -3, 2 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (svg_nice_max(t[i].in) != t[i].want) {
			print_error("svg_nice_max(%g) = %g, want %g\n", t[i].in,
			    svg_nice_max(t[i].in), t[i].want);
			soft_fail(__FILE__, __LINE__);
		}
	if (svg_nice_max(NAN) != 2 || !isfinite(svg_nice_max(INFINITY))) {
		print_error("svg_nice_max of NaN or infinity\n");
		soft_fail(__FILE__, __LINE__);
	}
	CHECKS_PASSED();
}

static void
a_long_label_is_cut_at_a_character_with_an_ellipsis(void **state)
{
	char	 out[SVG_MAXLABEL], tiny[8], *in;

	(void)state;
	svg_fit("Shanghai", 200, out, sizeof(out));
	assert_string_equal(out, "Shanghai");
	/* 8 a letter: 10 letters are 80; within 60 keep (60 - 14) / 8 = 5 */
	svg_fit("abcdefghij", 60, out, sizeof(out));
	assert_string_equal(out, "abcde\xe2\x80\xa6");
	/* a CJK character is 14: within 60 three (42) and the ellipsis */
	in = exact("\xe4\xb8\x8a\xe6\xb5\xb7\xe5\x88\x86\xe4\xbc\x9a\xe5\xa4"
	    "\xa7");
	svg_fit(in, 60, out, sizeof(out));
	assert_string_equal(out, "\xe4\xb8\x8a\xe6\xb5\xb7\xe5\x88\x86"
	    "\xe2\x80\xa6");
	assert_int_equal(validate_utf8(out), 0);
	/* a buffer too small for the text: cut to fit it, ellipsis and all */
	svg_fit("abcdefghijklmnop", 1000, tiny, sizeof(tiny));
	assert_string_equal(tiny, "abcd\xe2\x80\xa6");
	svg_fit(in, 1000, tiny, sizeof(tiny));
	assert_string_equal(tiny, "\xe4\xb8\x8a\xe2\x80\xa6");
	assert_int_equal(validate_utf8(tiny), 0);
	svg_fit("abc", 1000, tiny, 2);
	assert_string_equal(tiny, "");
	svg_fit(NULL, 10, out, sizeof(out));
	assert_string_equal(out, "");
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(a_bar_is_its_share_long_and_the_goal_line_at_the_goal),
		TEST(shares_out_of_range_are_drawn_at_the_nearest_end),
		TEST(labels_are_escaped_and_the_chart_names_itself),
		TEST(bad_arguments_are_refused_and_draw_nothing),
		TEST(a_grid_has_a_cell_per_row_and_column_filled_by_its_state),
		TEST(the_tallest_column_reaches_the_round_top_of_its_axis),
		TEST(columns_of_nothing_or_negative_counts_draw_no_height),
		TEST(an_empty_chart_is_still_a_named_image),
		TEST(an_axis_top_is_two_four_six_or_ten_times_a_power_of_ten),
		TEST(a_long_label_is_cut_at_a_character_with_an_ellipsis),
	};

	return cmocka_run_group_tests_name("svg", tests, NULL, NULL);
}
