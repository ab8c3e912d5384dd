/*
 * libFuzzer harness for ticket verification, the code every scanned QR
 * code reaches: any bytes must be refused or accepted without a crash,
 * and nothing the fuzzer makes may verify (it has no private key).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ticket_key	 key;
	struct ticket_claims		 c;
	char				*tok;

	if (key.pub_pem == NULL) {
		if (ticket_keygen(&key.priv_pem, &key.pub_pem) == -1)
			abort();
		strcpy(key.kid, "1");
		free(key.priv_pem);
		key.priv_pem = NULL;
	}
	if ((tok = malloc(size + 1)) == NULL)
		return 0;
	memcpy(tok, data, size);
	tok[size] = '\0';
	if (ticket_verify(tok, &key, 1, &c) == 0)
		abort();	/* forged without the private key */
	free(tok);
	return 0;
}
