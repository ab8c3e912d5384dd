/*
 * libFuzzer harness for the template renderer: the input is split at the
 * first NUL into a template and a JSON context. Whatever the bytes, the
 * renderer must return output or NULL, never crash, hang or read out of
 * bounds (built with ASan and UBSan by `make fuzz`).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>

#include "server.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*nul = memchr(data, 0, size);
	size_t		 tlen = nul ? (size_t)(nul - data) : size;
	json_t		*ctx = NULL;
	struct evbuffer	*b;
	static int	 loaded;

	if (!loaded) {
		tmpl_add("p", "[{{x}}{{#l}}{{.}}{{/l}}]", 24);
		loaded = 1;
	}
	if (nul != NULL)
		ctx = json_loadb((const char *)nul + 1, size - tlen - 1, 0, NULL);
	if ((b = tmpl_render_text((const char *)data, tlen, ctx)) != NULL)
		evbuffer_free(b);
	json_decref(ctx);
	return 0;
}
