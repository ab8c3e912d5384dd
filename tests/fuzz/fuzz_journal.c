/*
 * libFuzzer harness for the scanner's journal reader: the input is a
 * journal file (one JSON object per line, perhaps a torn last line),
 * opened as a restarted scanner opens it (journal_open: rebuild the
 * tickets already in, cut a torn tail off) and read as `rollcall-scan
 * sync` reads it (journal_read). The file lives in a memfd, reached by
 * its /proc/self/fd path, so each run starts from the input's bytes.
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

/* Count what sync would be handed. */
static int
count(void *arg, json_t *o)
{
	if (!json_is_object(o))
		__builtin_trap();
	(*(size_t *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 fd = -1;
	static char	 path[64];
	struct journal	*j;
	char		 err[256];
	size_t		 lines, torn, n = 0, i;

	if (fd == -1) {
		if ((fd = memfd_create("journal", MFD_CLOEXEC)) == -1)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) !=
	    (ssize_t)size)
		abort();
	if (journal_read(path, count, &n, &lines, &torn, err,
	    sizeof(err)) == 0 && (n != lines || torn > size))
		__builtin_trap();
	if ((j = journal_open(path, err, sizeof(err))) != NULL) {
		if (j->torn > size || j->lines != lines)
			__builtin_trap();
		for (i = 0; i < j->nseen; i++)
			if (journal_seen(j, j->seen[i].jti) != &j->seen[i])
				__builtin_trap();	/* one entry a ticket */
		journal_close(j);
	}
	return 0;
}
