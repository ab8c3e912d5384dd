/*
 * Validation of untrusted input, once, at the edge.
 *
 * jansson has already refused invalid UTF-8, "\u0000", duplicate keys and
 * trailing bytes. What is left is checked here against a table of fields:
 * unknown keys are refused (a typo must not be silently ignored), every
 * string is bounded and free of control characters, numbers are ranged,
 * timestamps carry an explicit offset. Each failure names its field.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* Parse a decimal integer in [min, max] with nothing around it. */
int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char		*end;
	long long	 v;

	const char	*d;

	if (s == NULL)
		return -1;
	d = *s == '-' ? s + 1 : s;
	/* Digits only after an optional minus: no spaces, no '+', no "007". */
	if (*d < '0' || *d > '9' || (*d == '0' && (d[1] != '\0' || d != s)))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Exactly n decimal digits as a number; -1 otherwise. */
static int
digits(const char *s, int n, int *out)
{
	int	 i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days in month m (1 to 12) of year y. */
static int
days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* YYYY-MM-DD, a real date between 1970 and 2999. */
int
validate_date(const char *s)
{
	int	 y, m, d;

	if (strlen(s) < 10 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &m) || s[7] != '-' || digits(s + 8, 2, &d))
		return -1;
	if (y < 1970 || y > 2999 || m < 1 || m > 12 || d < 1 ||
	    d > days_in_month(y, m))
		return -1;
	return s[10] == '\0' ? 0 : -1;
}

/*
 * RFC 3339 with an explicit offset: 2026-12-03T19:30:00+08:00, seconds
 * and fractions optional, "Z" for UTC.
 */
int
validate_time(const char *s)
{
	int	 h, mi, sec, oh, om;
	char	 date[11];

	if (strlen(s) < 17 || strlen(s) > FIELD_MAXTIME)
		return -1;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (validate_date(date) == -1 || (s[10] != 'T' && s[10] != ' '))
		return -1;
	s += 11;
	if (digits(s, 2, &h) || s[2] != ':' || digits(s + 3, 2, &mi) ||
	    h > 23 || mi > 59)
		return -1;
	s += 5;
	if (*s == ':') {
		if (digits(s + 1, 2, &sec) || sec > 59)
			return -1;
		s += 3;
		if (*s == '.') {
			s++;
			if (*s < '0' || *s > '9')
				return -1;
			while (*s >= '0' && *s <= '9')
				s++;
		}
	}
	if (*s == 'Z')
		return s[1] == '\0' ? 0 : -1;
	if (*s != '+' && *s != '-')
		return -1;
	if (digits(s + 1, 2, &oh) || s[3] != ':' || digits(s + 4, 2, &om) ||
	    oh > 14 || om > 59 || s[6] != '\0')
		return -1;
	return 0;
}

/* An absolute http(s) URL without spaces or control characters. */
int
validate_url(const char *s)
{
	const char	*p;

	if (strncmp(s, "https://", 8) == 0)
		p = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		p = s + 7;
	else
		return -1;
	if (*p == '\0' || strchr("/:?#@", *p) != NULL || strlen(s) > FIELD_MAXURL)
		return -1;
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '"' ||
		    *p == '<' || *p == '>' || *p == '\\')
			return -1;
	return 0;
}

/* Looks like an IANA zone name; PostgreSQL decides whether it exists. */
int
validate_tz(const char *s)
{
	size_t	 len = strlen(s);

	if (len == 0 || len > FIELD_MAXTZ)
		return -1;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '/' || *s == '_' ||
		    *s == '-' || *s == '+'))
			return -1;
	return 0;
}

/*
 * A deliverable-looking address: local@domain, a dot in the domain, no
 * spaces, quotes or control characters; at most FIELD_MAXEMAIL bytes.
 */
int
validate_email(const char *s)
{
	const char	*at = strrchr(s, '@'), *p;
	size_t		 len = strlen(s);

	if (at == NULL || at == s || len > FIELD_MAXEMAIL ||
	    (size_t)(at - s) > EMAIL_MAXLOCAL)
		return -1;
	for (p = s; p < at; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f ||
		    strchr("\"(),:;<>@[\\]", *p) != NULL)
			return -1;
	if (*s == '.' || at[-1] == '.' || strstr(s, "..") != NULL)
		return -1;
	p = at + 1;
	if (*p == '\0' || *p == '.' || *p == '-' || strchr(p, '.') == NULL ||
	    s[len - 1] == '.' || s[len - 1] == '-')
		return -1;
	for (; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    (unsigned char)*p >= 0x80))
			return -1;
	return 0;
}

/* A phone number as people write it: digits, spaces, + - ( ) and dots. */
int
validate_phone(const char *s)
{
	int	 ndigits = 0;

	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			ndigits++;
		else if (strchr(" +-().", *s) == NULL)
			return -1;
	}
	return ndigits >= PHONE_MINDIGITS && ndigits <= PHONE_MAXDIGITS ? 0 :
	    -1;
}

/* Well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF). */
int
validate_utf8(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned int		 c, min;
	int			 n, i;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1; c = *p & 0x1f; min = 0x80;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2; c = *p & 0x0f; min = 0x800;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3; c = *p & 0x07; min = 0x10000;
		} else
			return -1;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -1;
			c = (c << 6) | (p[i] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return -1;
		p += n + 1;
	}
	return 0;
}

/* No C0 control characters except tab, CR and LF, and no DEL. */
static int
text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' &&
		    *s != '\r') || *s == 0x7f)
			return 0;
	return 1;
}

/* True when s is only spaces, tabs and line breaks. */
static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

static int	fail(char *, size_t, char *, size_t, const char *, const char *,
    ...) __attribute__((format(printf, 6, 7)));

/* Name the wrong field and say why ("name: why"); returns -1. */
static int
fail(char *field, size_t fieldsz, char *msg, size_t msgsz, const char *name,
    const char *fmt, ...)
{
	char	 text[200];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(field, fieldsz, "%s", name);
	snprintf(msg, msgsz, "%s: %s", name, text);
	return -1;
}

/* Check one string against its field's type and length. */
static int
check_string(const char *name, const struct vfield *f, const char *s,
    char *field, size_t fieldsz, char *msg, size_t msgsz)
{
	size_t		 i, len = strlen(s);

	if (!text_ok(s))
		return fail(field, fieldsz, msg, msgsz, name,
		    "must not contain control characters");
	switch (f->type) {
	case V_STRING:
		if ((long long)len > f->max)
			return fail(field, fieldsz, msg, msgsz, name,
			    "at most %lld bytes", f->max);
		if (f->min > 0 && blank(s))
			return fail(field, fieldsz, msg, msgsz, name,
			    "must not be empty");
		return 0;
	case V_URL:
		if (validate_url(s) == -1)
			return fail(field, fieldsz, msg, msgsz, name,
			    "an http:// or https:// address");
		return 0;
	case V_TIME:
		if (validate_time(s) == -1)
			return fail(field, fieldsz, msg, msgsz, name,
			    "a time such as 2026-12-03T19:30:00+08:00");
		return 0;
	case V_DATE:
		if (validate_date(s) == -1)
			return fail(field, fieldsz, msg, msgsz, name,
			    "a date such as 2026-12-03");
		return 0;
	case V_TZ:
		if (validate_tz(s) == -1)
			return fail(field, fieldsz, msg, msgsz, name,
			    "an IANA time zone such as Asia/Shanghai");
		return 0;
	case V_EMAIL:
		if (validate_email(s) == -1)
			return fail(field, fieldsz, msg, msgsz, name,
			    "an e-mail address such as li.lei@example.com");
		return 0;
	case V_PHONE:
		if ((long long)len > f->max || validate_phone(s) == -1)
			return fail(field, fieldsz, msg, msgsz, name,
			    "a phone number such as +86 138 0013 8000");
		return 0;
	case V_ENUM:
		for (i = 0; f->values[i] != NULL; i++)
			if (strcmp(s, f->values[i]) == 0)
				return 0;
		return fail(field, fieldsz, msg, msgsz, name,
		    "must be one of the documented values");
	default:
		return fail(field, fieldsz, msg, msgsz, name, "unexpected text");
	}
}

/*
 * Check an object against a field table. Returns 0, or -1 with the
 * offending field's name and a sentence naming it.
 */
int
validate_object(const json_t *o, const struct vfield *fields, int n,
    char *field, size_t fieldsz, char *msg, size_t msgsz)
{
	const struct vfield	*f;
	const char		*key;
	json_t			*v, *e;
	size_t			 idx;
	int			 i;

	if (!json_is_object(o))
		return fail(field, fieldsz, msg, msgsz, "body",
		    "must be a JSON object");
	json_object_foreach((json_t *)o, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, fields[i].name) == 0)
				break;
		if (i == n) {
			char	 safe[64];

			log_escape(safe, sizeof(safe), key, strlen(key));
			return fail(field, fieldsz, msg, msgsz, safe,
			    "unknown field");
		}
	}
	for (i = 0; i < n; i++) {
		f = &fields[i];
		v = json_object_get(o, f->name);
		if (v == NULL) {
			if (f->required)
				return fail(field, fieldsz, msg, msgsz,
				    f->name, "is required");
			continue;
		}
		if (json_is_null(v)) {
			if (!f->nullable)
				return fail(field, fieldsz, msg, msgsz,
				    f->name, "must not be null");
			continue;
		}
		switch (f->type) {
		case V_INT:
			if (!json_is_integer(v))
				return fail(field, fieldsz, msg, msgsz,
				    f->name, "must be a whole number");
			if (json_integer_value(v) < f->min ||
			    json_integer_value(v) > f->max)
				return fail(field, fieldsz, msg, msgsz,
				    f->name, "must be between %lld and %lld",
				    f->min, f->max);
			break;
		case V_OBJECT:
			if (!json_is_object(v))
				return fail(field, fieldsz, msg, msgsz,
				    f->name, "must be an object");
			break;
		case V_BOOL:
			if (!json_is_boolean(v))
				return fail(field, fieldsz, msg, msgsz,
				    f->name, "must be true or false");
			break;
		case V_ARRAY_ANY:
			if (!json_is_array(v))
				return fail(field, fieldsz, msg, msgsz,
				    f->name, "must be a list");
			if ((long long)json_array_size(v) > f->max)
				return fail(field, fieldsz, msg, msgsz,
				    f->name, "at most %lld entries", f->max);
			break;
		case V_ARRAY_STRING:
		case V_ARRAY_INT:
			if (!json_is_array(v))
				return fail(field, fieldsz, msg, msgsz,
				    f->name, "must be a list");
			if ((long long)json_array_size(v) > f->max)
				return fail(field, fieldsz, msg, msgsz,
				    f->name, "at most %lld entries", f->max);
			json_array_foreach(v, idx, e) {
				if (f->type == V_ARRAY_INT) {
					if (!json_is_integer(e) ||
					    json_integer_value(e) < 1 ||
					    json_integer_value(e) > ID_MAX)
						return fail(field, fieldsz, msg,
						    msgsz, f->name, "must be "
						    "a list of ids");
					continue;
				}
				if (!json_is_string(e) ||
				    strlen(json_string_value(e)) >
				    FIELD_MAXTEXT ||
				    !text_ok(json_string_value(e)) ||
				    (f->min > 0 && blank(json_string_value(e))))
					return fail(field, fieldsz, msg, msgsz,
					    f->name, "must be a list of short%s "
					    "texts", f->min > 0 ? ", non-empty" :
					    "");
			}
			break;
		default:
			if (!json_is_string(v))
				return fail(field, fieldsz, msg, msgsz,
				    f->name, "must be a string");
			if (check_string(f->name, f, json_string_value(v),
			    field, fieldsz, msg, msgsz) == -1)
				return -1;
			break;
		}
	}
	return 0;
}

