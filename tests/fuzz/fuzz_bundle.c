/*
 * libFuzzer harness for the scanner's offline bundle (bundle_load: the
 * event's public keys and revoked jtis, a file that may come on a USB
 * stick) and the offline verdict (offline_decide): the input is
 * "BUNDLE" or "BUNDLE\0CODE". The bundle lives in a memfd reached by its
 * /proc/self/fd path. A loaded bundle must hold checked fields; a
 * verdict must be a JSON object with a result.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scanner.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 fd = -1;
	static char	 path[64];
	struct journal	 j;
	struct bundle	*b;
	const uint8_t	*nul;
	char		 err[256], *code, jti[64];
	size_t		 blen;
	json_t		*v;

	if (fd == -1) {
		if ((fd = memfd_create("bundle", MFD_CLOEXEC)) == -1)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	nul = memchr(data, 0, size);
	blen = nul != NULL ? (size_t)(nul - data) : size;
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, blen, 0) !=
	    (ssize_t)blen)
		abort();
	if ((b = bundle_load(path, err, sizeof(err))) == NULL)
		return 0;
	if (b->event_id <= 0 || b->nkeys <= 0 || b->nkeys > SCAN_MAXKEYS)
		__builtin_trap();
	if (nul != NULL && (code = strndup((const char *)nul + 1,
	    size - blen - 1)) != NULL) {
		memset(&j, 0, sizeof(j));
		j.fd = -1;
		(void)offline_jti(b, code, jti, sizeof(jti));
		if ((v = offline_decide(b, &j, code, "main", "2030-01-01T10:00:00Z"))
		    == NULL || json_string_value(json_object_get(v, "result")) ==
		    NULL)
			__builtin_trap();
		json_decref(v);
		free(code);
	}
	bundle_free(b);
	return 0;
}
