/*
 * Unit tests for ics_render() in server/ics.c: templates/event.ics filled
 * in from a registration as rc_registration_json returns it, with the
 * rules of RFC 5545 the template cannot follow itself: CRLF line ends,
 * UTC times, TEXT escaping, folding at 75 octets.
 *
 * The templates are read from ./templates (`make unit` runs from the
 * repository root), or from $ROLLCALL_TEMPLATES. The template's lines end
 * in CRLF in the file itself and the renderer copies them as they are; so
 * every line of the output ends in CRLF and no bare CR or LF is left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "server.h"
#include "unit.h"

/* The longest line RFC 5545 3.1 allows, in octets, without its CRLF. */

/* What the server would send: the bytes and their length. */
struct ics {
	char	*text;		/* NUL-terminated copy */
	size_t	 len;
};

static int
load_templates(void **state)
{
	const char	*dir = getenv("ROLLCALL_TEMPLATES");

	(void)state;
	if (dir == NULL)
		dir = "templates";
	if (tmpl_load_dir(dir) == -1) {
		print_error("cannot load the templates from %s/ (run from the "
		    "repository root, as `make unit` does, or set "
		    "ROLLCALL_TEMPLATES)\n", dir);
		return -1;
	}
	return 0;
}

static int
free_templates(void **state)
{
	(void)state;
	tmpl_clear();
	return 0;
}

/* A registration as rc_registration_json returns it (the fields the
 * template and ics.c use, and a few around them). */
static json_t *
registration(const char *title, const char *venue, const char *starts,
    const char *ends)
{
	json_t	*reg;

	reg = json_pack("{s:I, s:I, s:s, s:s, s:s, s:{s:I, s:s, s:s, s:s, "
	    "s:s, s:s, s:s, s:s, s:s, s:[]}}",
	    "id", (json_int_t)77, "event_id", (json_int_t)5,
	    "status", "confirmed", "name", "Ada", "email", "ada@example.org",
	    "event", "id", (json_int_t)5, "title", title, "kind", "meetup",
	    "starts_at", starts, "ends_at", ends,
	    "starts_at_local", "2026-12-03T14:00:00",
	    "ends_at_local", "2026-12-03T16:30:00",
	    "timezone", "Asia/Shanghai", "venue", venue, "sponsors");
	assert_non_null(reg);
	return reg;
}

/* Render reg; fails the test at once when ics_render gives NULL. */
static struct ics
render(json_t *reg)
{
	struct evbuffer	*b = ics_render(reg, NULL, NULL);
	struct ics	 out;

	if (b == NULL)
		fail_msg("ics_render returned NULL for a complete "
		    "registration");
	out.len = evbuffer_get_length(b);
	out.text = malloc(out.len + 1);
	assert_non_null(out.text);
	evbuffer_remove(b, out.text, out.len);
	out.text[out.len] = '\0';
	evbuffer_free(b);
	return out;
}

static struct ics
render_default(const char *title, const char *venue)
{
	json_t		*reg = registration(title, venue,
			    "2026-12-03T06:00:00+00:00",
			    "2026-12-03T08:30:00+00:00");
	struct ics	 out = render(reg);

	json_decref(reg);
	return out;
}

/* The output with every fold (CRLF and a space) taken out (caller frees). */
static char *
unfold(const struct ics *c)
{
	char	*out = malloc(c->len + 1), *o = out;
	size_t	 i;

	assert_non_null(out);
	for (i = 0; i < c->len; i++) {
		if (c->text[i] == '\r' && i + 2 < c->len &&
		    c->text[i + 1] == '\n' && c->text[i + 2] == ' ') {
			i += 2;
			continue;
		}
		*o++ = c->text[i];
	}
	*o = '\0';
	return out;
}

/* The value of the first (unfolded) line "NAME:value" (caller frees). */
static char *
property(const char *unfolded, const char *name)
{
	size_t		 n = strlen(name);
	const char	*p = unfolded, *end;
	char		*v;

	while (*p != '\0') {
		end = strstr(p, "\r\n");
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > n && strncmp(p, name, n) == 0 &&
		    p[n] == ':') {
			v = strndup(p + n + 1, (size_t)(end - p - n - 1));
			assert_non_null(v);
			return v;
		}
		p = *end ? end + 2 : end;
	}
	return NULL;
}

/* Check that property name has value want; print the whole file if not. */
static void
check_property(const struct ics *c, const char *name, const char *want,
    const char *file, int line)
{
	char	*u = unfold(c), *got = property(u, name);

	if (got == NULL || strcmp(got, want) != 0) {
		print_error("%s is %s, expected %s\n  in %s\n", name,
		    showz(got), showz(want), show(c->text, c->len));
		soft_fail(file, line);
	}
	free(got);
	free(u);
}

#define PROPERTY(c, name, want) \
	check_property((c), (name), (want), __FILE__, __LINE__)

/* Octets of a valid UTF-8 sequence starting at s (of n left), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t	 len, i;

	if (s[0] < 0x80)
		return 1;
	else if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		len = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/*
 * Check the physical lines: each ends in CRLF, holds no other CR or LF,
 * is whole UTF-8 on its own (so no fold split a character) and, when
 * maxline > 0, has at most maxline octets. Returns the longest line.
 */
static size_t
check_lines(const struct ics *c, size_t maxline, const char *file, int line)
{
	const unsigned char *s = (const unsigned char *)c->text;
	size_t		 i = 0, start, end, k, n, longest = 0, lineno = 0;

	if (c->len < 2 || memcmp(c->text + c->len - 2, "\r\n", 2) != 0) {
		print_error("the calendar does not end in CRLF: %s\n",
		    show(c->text, c->len));
		soft_fail(file, line);
	}
	while (i < c->len) {
		lineno++;
		start = i;
		while (i < c->len && s[i] != '\r' && s[i] != '\n')
			i++;
		end = i;
		if (i < c->len && !(s[i] == '\r' && i + 1 < c->len &&
		    s[i + 1] == '\n')) {
			print_error("line %zu ends in a bare %s, expected CRLF: "
			    "%s\n", lineno, s[i] == '\r' ? "CR" : "LF",
			    show(c->text + start, end - start));
			soft_fail(file, line);
			i++;
		} else
			i += 2;
		if (end - start > longest)
			longest = end - start;
		if (maxline > 0 && end - start > maxline) {
			print_error("line %zu is %zu octets, over the %zu RFC "
			    "5545 allows: %s\n", lineno, end - start, maxline,
			    show(c->text + start, end - start));
			soft_fail(file, line);
		}
		for (k = start; k < end; k += n) {
			if ((n = utf8_seq(s + k, end - k)) == 0) {
				print_error("line %zu is not whole UTF-8 at "
				    "octet %zu (a fold split a character?): "
				    "%s\n", lineno, k - start,
				    show(c->text + start, end - start));
				soft_fail(file, line);
				break;
			}
		}
	}
	return longest;
}

/* A title of n copies of the UTF-8 text unit (caller frees). */
static char *
repeat(const char *unit, size_t n)
{
	size_t	 ul = strlen(unit), i;
	char	*s = malloc(ul * n + 1);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

static void
every_line_ends_in_crlf(void **state)
{
	struct ics	 c = render_default("Rollcall meetup", "Hall A");

	(void)state;
	check_lines(&c, ICS_MAXLINE, __FILE__, __LINE__);
	free(c.text);
	CHECKS_PASSED();
}

static void
the_calendar_holds_one_event(void **state)
{
	struct ics	 c = render_default("Rollcall meetup", "Hall A");
	static const char *const want[] = { "BEGIN:VCALENDAR\r\n",
	    "VERSION:2.0\r\n", "BEGIN:VEVENT\r\n", "END:VEVENT\r\n",
	    "END:VCALENDAR\r\n", NULL };
	const char	*at = c.text, *p;
	int		 i;

	(void)state;
	/* In this order, each on a line of its own. */
	for (i = 0; want[i] != NULL; i++) {
		if ((p = strstr(at, want[i])) == NULL ||
		    (p != c.text && p[-1] != '\n')) {
			print_error("no line %s after the previous one in %s\n",
			    showz(want[i]), show(c.text, c.len));
			soft_fail(__FILE__, __LINE__);
			continue;
		}
		at = p + strlen(want[i]);
	}
	if (strncmp(c.text, "BEGIN:VCALENDAR\r\n", 17) != 0) {
		print_error("the file starts %s, expected BEGIN:VCALENDAR\n",
		    show(c.text, c.len < 20 ? c.len : 20));
		soft_fail(__FILE__, __LINE__);
	}
	PROPERTY(&c, "UID", "rollcall-event-5-reg-77@rollcall");
	free(c.text);
	CHECKS_PASSED();
}

static void
times_are_utc_basic_format(void **state)
{
	struct ics	 c = render_default("Rollcall meetup", "Hall A");
	char		*u = unfold(&c), *stamp = property(u, "DTSTAMP");
	size_t		 i;
	int		 ok;

	(void)state;
	PROPERTY(&c, "DTSTART", "20261203T060000Z");
	PROPERTY(&c, "DTEND", "20261203T083000Z");
	/* DTSTAMP is now, in the same form. */
	ok = stamp != NULL && strlen(stamp) == 16 && stamp[8] == 'T' &&
	    stamp[15] == 'Z';
	for (i = 0; ok && i < 15; i++)
		if (i != 8 && (stamp[i] < '0' || stamp[i] > '9'))
			ok = 0;
	if (!ok) {
		print_error("DTSTAMP is %s, expected YYYYMMDDTHHMMSSZ\n",
		    showz(stamp));
		soft_fail(__FILE__, __LINE__);
	}
	free(stamp);
	free(u);
	free(c.text);
	CHECKS_PASSED();
}

static void
times_with_fractional_seconds_keep_whole_seconds(void **state)
{
	json_t		*reg = registration("t", "v",
			    "2026-01-09T23:59:58.123456+00:00",
			    "2026-01-10T00:00:00+00:00");
	struct ics	 c = render(reg);

	(void)state;
	/* PostgreSQL's jsonb of a timestamptz may carry microseconds. */
	PROPERTY(&c, "DTSTART", "20260109T235958Z");
	PROPERTY(&c, "DTEND", "20260110T000000Z");
	json_decref(reg);
	free(c.text);
	CHECKS_PASSED();
}

static void
text_escapes_backslash_semicolon_comma_and_newline(void **state)
{
	struct ics	 c = render_default("A\\B; C, D\nE\r\nF",
			    "Hall A; 2F, Room \\1\nBack door");

	(void)state;
	/* RFC 5545 3.3.11: \\ \; \, and \n; a CR is dropped. */
	PROPERTY(&c, "SUMMARY", "A\\\\B\\; C\\, D\\nE\\nF");
	PROPERTY(&c, "LOCATION", "Hall A\\; 2F\\, Room \\\\1\\nBack door");
	/* An escaped newline stays on its line: no bare LF, no CR. */
	check_lines(&c, ICS_MAXLINE, __FILE__, __LINE__);
	free(c.text);
	CHECKS_PASSED();
}

static void
text_is_not_html_escaped(void **state)
{
	struct ics	 c = render_default("R&D <night> \"Q\" 'A'",
			    "Caf\xc3\xa9 & Bar");

	(void)state;
	/* A calendar is not HTML: the template must use the raw form. */
	PROPERTY(&c, "SUMMARY", "R&D <night> \"Q\" 'A'");
	PROPERTY(&c, "LOCATION", "Caf\xc3\xa9 & Bar");
	free(c.text);
	CHECKS_PASSED();
}

static void
long_ascii_lines_fold_within_75_octets(void **state)
{
	char		*title = repeat("abcdefghij", 30);
	struct ics	 c = render_default(title, "Hall A");
	size_t		 longest;

	(void)state;
	longest = check_lines(&c, ICS_MAXLINE, __FILE__, __LINE__);
	if (longest < ICS_MAXLINE - 2) {
		print_error("longest line is %zu octets: a 300-octet title "
		    "should be folded close to the limit, not early\n",
		    longest);
		soft_fail(__FILE__, __LINE__);
	}
	if (strstr(c.text, "\r\n ") == NULL) {
		print_error("a 300-octet title was not folded: %s\n",
		    show(c.text, c.len));
		soft_fail(__FILE__, __LINE__);
	}
	PROPERTY(&c, "SUMMARY", title);		/* unfolds to the title */
	free(title);
	free(c.text);
	CHECKS_PASSED();
}

static void
folding_never_splits_a_utf8_character(void **state)
{
	/* 3-octet characters; with 4-octet ones and a mix, every
	 * alignment of a character against the fold point occurs. */
	static const char *const units[] = { "\xe6\xb4\xbb\xe5\x8a\xa8",
	    "\xf0\x9f\x8e\x89", "a\xe4\xb8\xad\xc3\xa9", NULL };
	char		*title;
	struct ics	 c;
	int		 i;

	(void)state;
	for (i = 0; units[i] != NULL; i++) {
		title = repeat(units[i], 40);
		c = render_default(title, title);
		check_lines(&c, 0, __FILE__, __LINE__);
		PROPERTY(&c, "SUMMARY", title);
		PROPERTY(&c, "LOCATION", title);
		free(title);
		free(c.text);
	}
	CHECKS_PASSED();
}

/*
 * A multi-octet character that would end past octet 75 is moved whole to
 * the next line (ics_fold once let continuation lines of a Chinese title
 * reach 76 octets).
 */
static void
long_utf8_lines_fold_within_75_octets(void **state)
{
	char		*title = repeat("\xe6\xb4\xbb\xe5\x8a\xa8\xe6\xa0\x87"
			    "\xe9\xa2\x98", 20);	/* 活动标题 x 20 */
	struct ics	 c = render_default(title, "Hall A");

	(void)state;
	check_lines(&c, ICS_MAXLINE, __FILE__, __LINE__);
	free(title);
	free(c.text);
	CHECKS_PASSED();
}

static void
a_registration_without_its_event_gives_null(void **state)
{
	json_t		*reg;
	struct evbuffer	*b;

	(void)state;
	reg = json_pack("{s:I, s:s}", "id", (json_int_t)77, "status",
	    "confirmed");
	assert_non_null(reg);
	b = ics_render(reg, NULL, NULL);
	if (b != NULL) {
		print_error("ics_render of a registration without \"event\" "
		    "gave %zu bytes, expected NULL\n",
		    evbuffer_get_length(b));
		soft_fail(__FILE__, __LINE__);
		evbuffer_free(b);
	}
	json_decref(reg);
	CHECKS_PASSED();
}

/* A local time with its offset is converted to UTC, not relabelled. */
static void
times_with_an_offset_are_converted_to_utc(void **state)
{
	json_t		*reg = registration("Meetup", "Hall A",
			    "2026-12-03T14:00:00+08:00",
			    "2026-12-03T01:30:00-05:30");
	struct ics	 c = render(reg);

	(void)state;
	PROPERTY(&c, "DTSTART", "20261203T060000Z");
	PROPERTY(&c, "DTEND", "20261203T070000Z");
	json_decref(reg);
	free(c.text);
	CHECKS_PASSED();
}

/* "event": null is no event: no calendar with empty times. */
static void
a_null_event_gives_null(void **state)
{
	json_t		*reg;
	struct evbuffer	*b;

	(void)state;
	reg = json_pack("{s:I, s:s, s:n}", "id", (json_int_t)78, "status",
	    "confirmed", "event");
	assert_non_null(reg);
	b = ics_render(reg, NULL, NULL);
	if (b != NULL) {
		print_error("ics_render with \"event\": null gave %zu bytes, "
		    "expected NULL\n", evbuffer_get_length(b));
		soft_fail(__FILE__, __LINE__);
		evbuffer_free(b);
	}
	json_decref(reg);
	CHECKS_PASSED();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(every_line_ends_in_crlf),
		TEST(the_calendar_holds_one_event),
		TEST(times_are_utc_basic_format),
		TEST(times_with_fractional_seconds_keep_whole_seconds),
		TEST(text_escapes_backslash_semicolon_comma_and_newline),
		TEST(text_is_not_html_escaped),
		TEST(long_ascii_lines_fold_within_75_octets),
		TEST(folding_never_splits_a_utf8_character),
		TEST(long_utf8_lines_fold_within_75_octets),
		TEST(a_registration_without_its_event_gives_null),
		TEST(times_with_an_offset_are_converted_to_utc),
		TEST(a_null_event_gives_null),
	};

	return cmocka_run_group_tests_name("ics", tests, load_templates,
	    free_templates);
}
