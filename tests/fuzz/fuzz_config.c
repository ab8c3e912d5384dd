/*
 * libFuzzer harness for the configuration file (config_parse, which
 * config_load calls with the file's bytes): any text must be applied or
 * refused with "NAME:LINE: reason", never crash or leak. Inputs naming
 * db_file are skipped: that key opens the path it is given (reading a
 * file is not parsing, and a FIFO would block the fuzzer).
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
	struct config	 cf;
	char		*text, err[512];

	if (size > CONFIG_MAXFILE || memmem(data, size, "db_file", 7) != NULL)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_defaults(&cf);
	err[0] = '\0';
	if (config_parse(&cf, "fuzz.conf", text, size, err, sizeof(err)) ==
	    -1 && strncmp(err, "fuzz.conf:", 10) != 0)
		__builtin_trap();	/* a refusal names the file */
	config_free(&cf);
	return 0;
}
