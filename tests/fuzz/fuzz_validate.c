/*
 * libFuzzer harness for JSON body validation: the input is a request
 * body, parsed as the router parses one (json_loadb, no duplicate keys),
 * then checked by the real registration table (registration_check: the
 * sign-up body and its consent object, the API's and the web form's) and
 * by a table with every other field type the handlers use (URL, time,
 * date, time zone, number, id list). Any bytes must be refused or
 * accepted with a field name and a message, never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "server.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const kinds[] = { "talk", "break", NULL };

/* The field types registration_check does not reach, as event.c uses them. */
static const struct vfield other_fields[] = {
	{ "online_url", V_URL, 0, 1, 0, 0, NULL },
	{ "starts_at", V_TIME, 0, 0, 0, 0, NULL },
	{ "starts_on", V_DATE, 0, 0, 0, 0, NULL },
	{ "timezone", V_TZ, 0, 0, 0, 0, NULL },
	{ "capacity", V_INT, 0, 1, 0, EVENT_MAXCAPACITY, NULL },
	{ "events", V_ARRAY_INT, 0, 0, 0, SCOPE_MAXEVENTS, NULL },
	{ "titles", V_ARRAY_STRING, 0, 0, 1, SERIES_MAXEPISODES, NULL },
	{ "sessions", V_ARRAY_ANY, 0, 0, 0, AGENDA_MAXSESSIONS, NULL },
	{ "kind", V_ENUM, 0, 1, 0, 0, kinds },
	{ "all", V_BOOL, 0, 0, 0, 0, NULL },
	{ "description", V_STRING, 0, 0, 0, FIELD_MAXLONG, NULL },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 field[64], msg[256];
	json_t		*body;

	if (size > HTTP_MAXBODY)
		return 0;
	body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    NULL);
	if (body == NULL)
		return 0;
	if (json_is_object(body)) {
		if (registration_check(body, field, sizeof(field), msg,
		    sizeof(msg)) == -1 && msg[0] == '\0')
			__builtin_trap();	/* a refusal names its reason */
		validate_object(body, other_fields, (int)(sizeof(other_fields) /
		    sizeof(other_fields[0])), field, sizeof(field), msg,
		    sizeof(msg));
	}
	json_decref(body);
	return 0;
}
