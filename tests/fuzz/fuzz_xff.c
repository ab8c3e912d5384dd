/*
 * libFuzzer harness for X-Forwarded-For (proxy_forwarded_for) and the
 * trusted-proxy list it is believed from (proxy_trust, proxy_is_trusted):
 * the input is "HEADER" or "PROXIES\0HEADER". A client address taken from
 * the header must be a canonical IP literal that fits its buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "server.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*copy, out[64], tiny[8];
	const char	*header, *nul;
	unsigned char	 a[16];

	if (size > HTTP_MAXHEADERS || (copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	header = copy;
	if ((nul = memchr(copy, '\0', size)) != NULL) {
		header = nul + 1;
		if (proxy_trust(copy) == 0)
			(void)proxy_is_trusted(header);
	}
	if (proxy_forwarded_for(header, out, sizeof(out)) == 0 &&
	    inet_pton(AF_INET, out, a) != 1 && inet_pton(AF_INET6, out, a) != 1)
		__builtin_trap();	/* only an IP literal is taken */
	(void)proxy_forwarded_for(header, tiny, sizeof(tiny));
	proxy_trust(NULL);
	free(copy);
	return 0;
}
