/*
 * libFuzzer harness for PostgreSQL array text as a token's scope arrives
 * from the database ("{1,2,3}", auth_parse_pg_ids): malformed text must
 * give -1 and no array; well-formed text as many ids as it holds, which
 * auth_ids_pg writes back in the same form.
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
	char		*text, *back;
	int64_t		*ids;
	int		 n;

	if (size > HTTP_MAXHEADERS || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	n = auth_parse_pg_ids(text, &ids);
	if (n < 0 && ids != NULL)
		__builtin_trap();	/* no array kept on failure */
	if (n >= 0) {
		if ((back = auth_ids_pg(ids, n)) != NULL) {
			int64_t	*again;

			if (auth_parse_pg_ids(back, &again) != n ||
			    (n > 0 && memcmp(ids, again, (size_t)n *
			    sizeof(*ids)) != 0))
				__builtin_trap();	/* round trip */
			free(again);
			free(back);
		}
		free(ids);
	}
	free(text);
	return 0;
}
