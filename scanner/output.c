/*
 * What a person at the door sees: one line per scan that starts with the
 * verdict in capitals (ADMIT, ALREADY IN, INVALID, ...), coloured green,
 * yellow or red and with a bell on a refusal when stdout is a terminal;
 * or, with --json, one JSON object per scan for a program to read.
 *
 * Names and companies were typed by attendees and reach this terminal
 * through the server: control characters in them (an escape sequence
 * could rewrite the screen, or turn a refusal green) are replaced before
 * printing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scanner.h"

#define COLOR_GREEN	"\033[1;32m"
#define COLOR_YELLOW	"\033[1;33m"
#define COLOR_RED	"\033[1;31m"
#define COLOR_RESET	"\033[0m"

enum tone { TONE_GOOD, TONE_WARN, TONE_BAD };

static const struct {
	const char	*name;		/* as the server says it */
	const char	*label;		/* as the door sees it */
	enum tone	 tone;
	int		 exit;
} verdicts[VERDICT__MAX] = {
	[VERDICT_ADMITTED] = { "admitted", "ADMIT", TONE_GOOD, SCAN_EXIT_OK },
	[VERDICT_ALREADY] = { "already_checked_in", "ALREADY IN", TONE_WARN,
	    SCAN_EXIT_REFUSED },
	[VERDICT_INVALID] = { "invalid", "INVALID", TONE_BAD,
	    SCAN_EXIT_REFUSED },
	[VERDICT_CANCELLED] = { "cancelled", "CANCELLED", TONE_BAD,
	    SCAN_EXIT_REFUSED },
	[VERDICT_NOT_CONFIRMED] = { "not_confirmed", "NOT CONFIRMED",
	    TONE_BAD, SCAN_EXIT_REFUSED },
	[VERDICT_WRONG_EVENT] = { "wrong_event", "WRONG EVENT", TONE_BAD,
	    SCAN_EXIT_REFUSED },
	[VERDICT_CAPTURED] = { "captured", "LEAD", TONE_GOOD, SCAN_EXIT_OK },
	[VERDICT_NO_CONSENT] = { "no_consent", "NO CONSENT", TONE_WARN,
	    SCAN_EXIT_OK },
	[VERDICT_ALREADY_CAPTURED] = { "already_captured", "ALREADY CAPTURED",
	    TONE_WARN, SCAN_EXIT_OK },
	[VERDICT_NO_CODE] = { "no_code", "NO CODE", TONE_BAD,
	    SCAN_EXIT_NOCODE },
	[VERDICT_UNREACHABLE] = { "unreachable", "NO SERVER", TONE_BAD,
	    SCAN_EXIT_UNREACHABLE },
	[VERDICT_ERROR] = { "error", "ERROR", TONE_BAD, SCAN_EXIT_FAILURE },
};

/* The verdict a result string names; VERDICT_ERROR when none. */
enum verdict
verdict_from_str(const char *s)
{
	int	 i;

	for (i = 0; s != NULL && i < VERDICT__MAX; i++)
		if (strcmp(verdicts[i].name, s) == 0)
			return (enum verdict)i;
	return VERDICT_ERROR;
}

/* The result string of a verdict. */
const char *
verdict_str(enum verdict v)
{
	return v < VERDICT__MAX ? verdicts[v].name : "error";
}

/* The exit code a verdict asks for (SCAN_EXIT_*). */
int
verdict_exit(enum verdict v)
{
	return v < VERDICT__MAX ? verdicts[v].exit : SCAN_EXIT_FAILURE;
}

/* The worse of two exit codes: failure, unreachable, no code, refused. */
int
exit_worse(int a, int b)
{
	static const int	 rank[] = { 0, 1, 5, 3, 2, 4 };

	if (a < 0 || a > 5)
		return a;
	if (b < 0 || b > 5)
		return b;
	return rank[b] > rank[a] ? b : a;
}

/* Colour only for a terminal, and never when NO_COLOR is set. */
void
output_init(struct output *o, int json, int isatty_stdout)
{
	const char	*nc = getenv("NO_COLOR");

	o->json = json;
	o->color = isatty_stdout && (nc == NULL || *nc == '\0');
}

/*
 * Copy src into dst for a terminal: C0 and C1 control characters and
 * DEL become '?', and the copy is cut (whole characters) to fit.
 */
void
output_sanitize(char *dst, size_t dstsz, const char *src)
{
	const unsigned char	*s = (const unsigned char *)src;
	size_t			 o = 0, n;

	if (dstsz == 0)
		return;
	while (s != NULL && *s != '\0') {
		if (*s < 0x20 || *s == 0x7f) {
			n = 1;
			if (o + 1 >= dstsz)
				break;
			dst[o++] = '?';
			s++;
			continue;
		}
		if (*s == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
			if (o + 1 >= dstsz)
				break;
			dst[o++] = '?';
			s += 2;
			continue;
		}
		/* The length of this UTF-8 sequence, kept whole. */
		n = *s < 0x80 ? 1 : *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : 2;
		if (strnlen((const char *)s, n) < n || o + n >= dstsz)
			break;
		memcpy(dst + o, s, n);
		o += n;
		s += n;
	}
	dst[o] = '\0';
}

/*
 * Parse an RFC 3339 time (also PostgreSQL's "+08" offsets and a space
 * for the T) into *t. Returns 0 or -1.
 */
int
time_parse(const char *s, time_t *t)
{
	struct tm	 tm;
	const char	*p;
	int		 sign, oh = 0, om = 0, n = 0;
	time_t		 v;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &n) != 3 || n != 10 || (s[10] != 'T' && s[10] != ' '))
		return -1;
	p = s + 11;
	if (sscanf(p, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &n) != 2 || n != 5)
		return -1;
	p += 5;
	if (*p == ':') {
		if (sscanf(p + 1, "%2d%n", &tm.tm_sec, &n) != 1 || n != 2)
			return -1;
		p += 3;
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
	}
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	if (*p == 'Z' || *p == 'z') {
		if (p[1] != '\0')
			return -1;
		sign = 0;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d%n", &oh, &n) != 1 || n != 2)
			return -1;
		p += 3;
		if (*p == ':')
			p++;
		if (*p != '\0' && (sscanf(p, "%2d%n", &om, &n) != 1 || n != 2 ||
		    p[2] != '\0'))
			return -1;
		if (oh > 14 || om > 59)
			return -1;
	} else
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((v = timegm(&tm)) == (time_t)-1)
		return -1;
	v -= (time_t)sign * (oh * 3600 + om * 60);
	if (t != NULL)
		*t = v;
	return 0;
}

/* Now as RFC 3339 in UTC with milliseconds. */
void
time_now(char *buf, size_t sz)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 s[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sz, "%s.%03ldZ", s, ts.tv_nsec / 1000000);
}

/* An RFC 3339 time as HH:MM on this machine's clock, or "?". */
void
time_hhmm(const char *s, char *buf, size_t sz)
{
	struct tm	 tm;
	time_t		 t;

	if (time_parse(s, &t) == -1 || localtime_r(&t, &tm) == NULL ||
	    strftime(buf, sz, "%H:%M", &tm) == 0)
		snprintf(buf, sz, "?");
}

/* A string member of o made safe for a terminal, or "". */
static const char *
field(const json_t *o, const char *key, char *buf, size_t sz)
{
	output_sanitize(buf, sz, json_string_value(json_object_get(o, key)));
	return buf;
}

/* "Name, Company" of the attendee (or lead) object, or "". */
static void
who(const json_t *person, char *buf, size_t sz)
{
	char	 name[256], company[256];

	field(person, "name", name, sizeof(name));
	field(person, "company", company, sizeof(company));
	if (name[0] != '\0' && company[0] != '\0')
		snprintf(buf, sz, "%s, %s", name, company);
	else
		snprintf(buf, sz, "%s%s", name, company);
}

/* The consented lead fields after name and company, "" when none. */
static void
lead_fields(const json_t *lead, char *buf, size_t sz)
{
	static const struct {
		const char	*key, *label;
	} shown[] = { { "email", "e-mail" }, { "phone", "phone" },
	    { "job_title", "job title" } };
	const char	*key;
	json_t		*v;
	char		 val[256];
	size_t		 i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		if (field(lead, shown[i].key, val, sizeof(val))[0] == '\0')
			continue;
		o += (size_t)snprintf(buf + o, o < sz ? sz - o : 0, "%s%s %s",
		    o ? ", " : "", shown[i].label, val);
	}
	/* Other consented fields a newer server sends, by their names. */
	json_object_foreach((json_t *)lead, key, v) {
		if (!json_is_string(v) || strcmp(key, "name") == 0 ||
		    strcmp(key, "company") == 0 || strcmp(key, "email") == 0 ||
		    strcmp(key, "phone") == 0 || strcmp(key, "job_title") == 0)
			continue;
		output_sanitize(val, sizeof(val), json_string_value(v));
		if (val[0] == '\0')
			continue;
		o += (size_t)snprintf(buf + o, o < sz ? sz - o : 0, "%s%.40s %s",
		    o ? ", " : "", key, val);
	}
	if (o >= sz && sz > 4)
		memcpy(buf + sz - 4, "...", 4);
}

/* The words after the verdict label. */
static void
details(const json_t *r, enum verdict v, char *buf, size_t sz)
{
	const json_t	*person;
	char		 p[600], hhmm[16], gate[SCAN_MAXGATE * 4 + 1];
	char		 msg[300], extra[700], input[300];
	json_t		*reg;

	person = json_object_get(r, "attendee");
	if (person == NULL)
		person = json_object_get(r, "lead");
	who(person, p, sizeof(p));
	reg = json_object_get(r, "registration_id");
	if (p[0] == '\0' && json_is_integer(reg))
		snprintf(p, sizeof(p), "registration %lld",
		    (long long)json_integer_value(reg));
	field(r, "message", msg, sizeof(msg));
	field(r, "gate", gate, sizeof(gate));
	field(r, "input", input, sizeof(input));
	switch (v) {
	case VERDICT_ADMITTED:
		snprintf(buf, sz, "%s", p[0] ? p : "ticket valid");
		break;
	case VERDICT_ALREADY:
		time_hhmm(json_string_value(json_object_get(r,
		    "first_checked_in_at")), hhmm, sizeof(hhmm));
		snprintf(buf, sz, "since %s%s%s%s%s", hhmm, gate[0] ?
		    " at gate " : "", gate, p[0] ? "  " : "", p);
		break;
	case VERDICT_CANCELLED:
		snprintf(buf, sz, "%s%s%s", p, p[0] ? ": " : "", msg[0] ? msg :
		    "registration cancelled");
		break;
	case VERDICT_NOT_CONFIRMED:
		snprintf(buf, sz, "%s%s", p, p[0] ? ": on the waitlist, no seat"
		    : "on the waitlist, no seat");
		break;
	case VERDICT_CAPTURED:
	case VERDICT_ALREADY_CAPTURED:
		lead_fields(json_object_get(r, "lead"), extra, sizeof(extra));
		snprintf(buf, sz, "%s%s%s", p, extra[0] ? "  " : "", extra);
		break;
	case VERDICT_NO_CONSENT:
		snprintf(buf, sz, "no consent: nothing shared");
		break;
	case VERDICT_NO_CODE:
		snprintf(buf, sz, "%s%s%s", input, input[0] ? ": " : "",
		    msg[0] ? msg : "no QR code found; try again");
		break;
	case VERDICT_WRONG_EVENT:
		if (msg[0] == '\0' && json_is_integer(json_object_get(r,
		    "event_id")))
			snprintf(buf, sz, "this ticket is for event %lld",
			    (long long)json_integer_value(json_object_get(r,
			    "event_id")));
		else
			snprintf(buf, sz, "%s", msg[0] ? msg :
			    "this ticket is for another event");
		break;
	default:
		snprintf(buf, sz, "%s", msg[0] ? msg : v == VERDICT_INVALID ?
		    "not a valid ticket" : "");
		break;
	}
}

/* Print one scan's result: a line for a person or a JSON object. */
void
output_result(const struct output *o, const json_t *r)
{
	enum verdict	 v;
	const char	*src, *color = "";
	char		 line[2048], *text;
	int		 offline;

	if (o->json) {
		if ((text = json_dumps(r, JSON_COMPACT)) != NULL) {
			printf("%s\n", text);
			free(text);
		}
		fflush(stdout);
		return;
	}
	v = verdict_from_str(json_string_value(json_object_get(r, "result")));
	src = json_string_value(json_object_get(r, "source"));
	offline = src != NULL && strcmp(src, "offline") == 0;
	details(r, v, line, sizeof(line));
	if (o->color)
		color = verdicts[v].tone == TONE_GOOD ? COLOR_GREEN :
		    verdicts[v].tone == TONE_WARN ? COLOR_YELLOW : COLOR_RED;
	printf("%s%s%s%s%s%s%s\n", color, verdicts[v].label,
	    o->color ? COLOR_RESET : "", line[0] ? "  " : "", line,
	    offline ? "  (offline)" : "",
	    o->color && verdicts[v].exit != SCAN_EXIT_OK ? "\a" : "");
	fflush(stdout);
}
