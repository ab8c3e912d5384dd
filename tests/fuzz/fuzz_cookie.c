/*
 * libFuzzer harness for the Cookie header (http_cookie_find, which
 * req_cookie calls): the input is "NAME\0HEADER" or, without a NUL, a
 * header searched for rc_lang and rc_csrf. A value found must fit the
 * buffer and be NUL-terminated inside it; nothing may be read past the
 * header's end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Look name up in header with a small and a large buffer. */
static void
find(const char *header, const char *name)
{
	char	 small[16], large[HTTP_MAXHEADERS];

	if (http_cookie_find(header, name, small, sizeof(small)) == 0 &&
	    strlen(small) >= sizeof(small))
		__builtin_trap();
	if (http_cookie_find(header, name, large, sizeof(large)) == 0 &&
	    strlen(large) >= sizeof(large))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*copy;
	const char	*nul;

	if (size > HTTP_MAXHEADERS || (copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if ((nul = memchr(copy, '\0', size)) != NULL)
		find(nul + 1, copy);
	else {
		find(copy, "rc_lang");
		find(copy, "rc_csrf");
	}
	free(copy);
	return 0;
}
