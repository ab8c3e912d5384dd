/*
 * Small helpers both programs use: the URL-safe alphabet and the JSON
 * time fields pages and mails show.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common.h"

/* True when s is made only of URL-safe base64 bytes (and dots if dots). */
int
util_urlsafe(const char *s, int dots)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    (dots && *s == '.')))
			return 0;
	return 1;
}

/* o[to] = "2026-12-03 14:00" from o[from] = "2026-12-03T14:00:00...". */
void
util_local_time(json_t *o, const char *from, const char *to)
{
	const char	*s = json_string_value(json_object_get(o, from));
	char		 buf[32];

	if (s == NULL || strlen(s) < 16)
		return;
	snprintf(buf, sizeof(buf), "%.10s %.5s", s, s + 11);
	json_object_set_new(o, to, json_string(buf));
}
