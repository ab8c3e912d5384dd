/*
 * libFuzzer harness for form bodies (application/x-www-form-urlencoded,
 * http_form_parse strict, as req_read_form reads the web pages' forms):
 * any bytes must give NULL or an object of UTF-8 strings whose keys are
 * at most FORM_MAXKEY bytes, never a crash or a leak. The lenient mode
 * (query strings) is fed the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "server.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*key;
	json_t		*o, *v;

	if (size > HTTP_MAXBODY)
		return 0;
	if ((o = http_form_parse((const char *)data, size, 1)) != NULL) {
		json_object_foreach(o, key, v) {
			if (strlen(key) > FORM_MAXKEY || !json_is_string(v) ||
			    validate_utf8(key) == -1 ||
			    validate_utf8(json_string_value(v)) == -1)
				__builtin_trap();
		}
		json_decref(o);
	}
	json_decref(http_form_parse((const char *)data, size, 0));
	return 0;
}
