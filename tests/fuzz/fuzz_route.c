/*
 * libFuzzer harness for the route matcher and query strings: the input
 * is a request target, "PATH[?QUERY]". The path is matched against every
 * pattern of the real route table (router_match: {param} segments, their
 * length and alphabet), the query parsed as req_query_arg parses it
 * (http_form_parse, lenient). A match must hold only URL-safe params of
 * bounded length; nothing may leak or crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*target, *q, *params[HTTP_MAXPARAMS];
	const char	*pattern;
	json_t		*query;
	int		 i, k, n;

	if (size > HTTP_MAXPATH * 2 || (target = malloc(size + 1)) == NULL)
		return 0;
	memcpy(target, data, size);
	target[size] = '\0';
	if ((q = strchr(target, '?')) != NULL)
		*q++ = '\0';
	for (i = 0; (pattern = router_pattern(i)) != NULL; i++) {
		if (router_match(pattern, target, params, &n) == 0) {
			if (n != 0)
				__builtin_trap();	/* no params kept */
			continue;
		}
		for (k = 0; k < n; k++) {
			if (strlen(params[k]) == 0 ||
			    strlen(params[k]) > ROUTE_MAXSEGMENT ||
			    strchr(params[k], '/') != NULL)
				__builtin_trap();
			free(params[k]);
		}
	}
	if (q != NULL) {
		query = http_form_parse(q, strlen(q), 0);
		json_decref(query);
	}
	free(target);
	return 0;
}
