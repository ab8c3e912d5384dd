/*
 * iCalendar (RFC 5545): a registration's event as an .ics file, from
 * templates/event.ics. The template fills in the fields; here are the
 * rules it cannot follow itself: TEXT escaping, times, line folding.
 *
 * Times are the event's local wall time with its TZID and a VTIMEZONE
 * when the database gave the zone's offset (tz_offset, tz_standard from
 * rc_registration_json), else UTC. The VTIMEZONE holds one component:
 * the offset in force at the event's start, as STANDARD or DAYLIGHT,
 * without transition rules; calendar apps that know the TZID (all of
 * the common ones know the IANA names) use their own rules, and the
 * others still place this event right. SEQUENCE is the event's change
 * counter, so an app replaces the copy it holds after an edit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "server.h"

/* iCalendar TEXT (RFC 5545 3.3.11): escape \\ ; , and newlines. */
static void
ics_text(json_t *o, const char *from, const char *to)
{
	const char	*s = json_string_value(json_object_get(o, from));
	char		*out, *p;

	if (s == NULL)
		s = "";
	if ((out = malloc(strlen(s) * 2 + 1)) == NULL)
		return;
	for (p = out; *s != '\0'; s++) {
		if (*s == '\r')
			continue;
		if (*s == '\n') {
			*p++ = '\\';
			*p++ = 'n';
			continue;
		}
		if (*s == '\\' || *s == ';' || *s == ',')
			*p++ = '\\';
		*p++ = *s;
	}
	*p = '\0';
	json_object_set_new(o, to, json_string(out));
	free(out);
}

/*
 * Fold lines longer than 75 octets (RFC 5545 3.1) with CRLF and a space,
 * never inside a UTF-8 sequence.
 */
static struct evbuffer *
ics_fold(struct evbuffer *in)
{
	struct evbuffer	*out = evbuffer_new();
	const unsigned char *s = evbuffer_pullup(in, -1);
	size_t		 len = evbuffer_get_length(in), i, col = 0, n;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '\n')
			col = 0;
		else if (s[i] != '\r' && (s[i] & 0xc0) != 0x80) {
			/* A character starts: fold first if it would not fit. */
			n = s[i] < 0x80 ? 1 : s[i] < 0xe0 ? 2 : s[i] < 0xf0 ? 3 : 4;
			if (col + n > ICS_MAXLINE) {
				evbuffer_add(out, "\r\n ", 3);
				col = 1;
			}
		}
		evbuffer_add(out, s + i, 1);
		if (s[i] != '\n' && s[i] != '\r')
			col++;
	}
	return out;
}

/* iCalendar time in UTC from "2026-12-03T06:00:00+00:00". */
static void
ics_time(json_t *o, const char *from, const char *to)
{
	const char	*s = json_string_value(json_object_get(o, from));
	struct tm	 tm;
	char		 buf[20];
	int		 oh = 0, om = 0, sign = 0;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6 ||
	    strlen(s) < 19)
		return;
	/* The offset after the seconds (and any fraction): Z or +HH:MM. */
	for (s += 19; *s == '.' || (*s >= '0' && *s <= '9'); s++)
		;
	if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		if (sscanf(s + 1, "%2d:%2d", &oh, &om) != 2)
			return;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return;
	t -= sign * (oh * 3600 + om * 60);
	if (gmtime_r(&t, &tm) == NULL)
		return;
	strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
	json_object_set_new(o, to, json_string(buf));
}

/* True when s is an iCalendar UTC offset: "+0800", "-0430". */
static int
ics_offset_ok(const char *s)
{
	return s != NULL && strlen(s) == 5 && (s[0] == '+' || s[0] == '-') &&
	    s[1] >= '0' && s[1] <= '2' && s[2] >= '0' && s[2] <= '9' &&
	    s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9';
}

/* o[to] = ";TZID=zone:20261203T200000" from a local "2026-12-03T20:00:00". */
static int
ics_local(json_t *o, const char *from, const char *tz, const char *to)
{
	const char	*s = json_string_value(json_object_get(o, from));
	char		 buf[FIELD_MAXTZ + 32];
	int		 y, mo, d, h, mi, sec;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h,
	    &mi, &sec) != 6)
		return -1;
	snprintf(buf, sizeof(buf), ";TZID=%s:%04d%02d%02dT%02d%02d%02d", tz, y,
	    mo, d, h, mi, sec);
	json_object_set_new(o, to, json_string(buf));
	return 0;
}

/*
 * DTSTART and DTEND of ev: local with TZID and ev.ics_tz (the VTIMEZONE's
 * fields) when the zone and its offset are known and safe to write as a
 * parameter, else UTC.
 */
static void
ics_times(json_t *ev)
{
	const char	*tz = json_string_value(json_object_get(ev, "timezone"));
	const char	*off = json_string_value(json_object_get(ev, "tz_offset"));
	char		 buf[24];

	if (tz != NULL && validate_tz(tz) == 0 && ics_offset_ok(off) &&
	    ics_local(ev, "starts_at_local", tz, "ics_dtstart") == 0 &&
	    ics_local(ev, "ends_at_local", tz, "ics_dtend") == 0) {
		json_object_set_new(ev, "ics_tz", json_pack("{s:s, s:s, s:s}",
		    "tzid", tz, "offset", off, "kind", json_is_false(
		    json_object_get(ev, "tz_standard")) ? "DAYLIGHT" :
		    "STANDARD"));
		return;
	}
	ics_time(ev, "starts_at", "dtstart");
	ics_time(ev, "ends_at", "dtend");
	snprintf(buf, sizeof(buf), ":%s", json_string_value(json_object_get(ev,
	    "dtstart")) ? json_string_value(json_object_get(ev, "dtstart")) : "");
	json_object_set_new(ev, "ics_dtstart", json_string(buf));
	snprintf(buf, sizeof(buf), ":%s", json_string_value(json_object_get(ev,
	    "dtend")) ? json_string_value(json_object_get(ev, "dtend")) : "");
	json_object_set_new(ev, "ics_dtend", json_string(buf));
}

/*
 * The .ics of a registration as rc_registration_json shows it (reg.event
 * is decorated in place); url is the event's page (or NULL), location
 * the attendee's own join link for an online event (else the venue is).
 * Called by the page handler and by the mail sender's thread: it touches
 * nothing shared but the templates, which are read-only once loaded.
 */
struct evbuffer *
ics_render(json_t *reg, const char *url, const char *location)
{
	struct evbuffer	*b, *folded;
	json_t		*ev;
	char		 stamp[20], seq[24];
	time_t		 now = time(NULL);
	struct tm	 tm;
	const char	*st;

	if (!json_is_object(ev = json_object_get(reg, "event")))
		return NULL;
	ics_times(ev);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
	json_object_set_new(ev, "dtstamp", json_string(stamp));
	snprintf(seq, sizeof(seq), "%lld", (long long)json_integer_value(
	    json_object_get(ev, "sequence")));
	json_object_set_new(ev, "ics_sequence", json_string(seq));
	ics_text(ev, "title", "ics_title");
	ics_text(ev, "description", "ics_description");
	if (location != NULL)
		json_object_set_new(ev, "location", json_string(location));
	else
		json_object_set(ev, "location", json_object_get(ev, "venue") ?
		    json_object_get(ev, "venue") : json_null());
	ics_text(ev, "location", "ics_location");
	if (url != NULL && validate_url(url) == 0)
		json_object_set_new(ev, "ics_url", json_string(url));
	st = json_string_value(json_object_get(ev, "status"));
	json_object_set_new(ev, "ics_cancelled",
	    json_boolean(st != NULL && strcmp(st, "cancelled") == 0));
	if ((b = tmpl_render("event.ics", reg)) == NULL)
		return NULL;
	folded = ics_fold(b);
	evbuffer_free(b);
	return folded;
}

