/*
 * Badge printing at the door: after an online admission, fetch the
 * attendee's badge PDF from the server with the door token (the server
 * lets a door token fetch the badge of a registration it admitted in the
 * last few minutes, docs/scanner.md) and send it to a CUPS queue with
 * `lp -d QUEUE FILE` (--print), or write it into a directory
 * (--print-dir).
 *
 * lp runs without a shell (execvp, arguments as given), so a queue name
 * cannot inject commands; the file name is ours. The PDF is written to a
 * temporary name and renamed, so a watcher of --print-dir never sees half
 * a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scanner.h"

/* Write len bytes of data to path through a temporary name; 0 or -1. */
static int
print_write(const char *path, const char *data, size_t len, char *err,
    size_t errsz)
{
	char	 tmp[SCAN_MAXPATH];
	ssize_t	 n;
	size_t	 off = 0;
	int	 fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.part", path) >=
	    sizeof(tmp)) {
		snprintf(err, errsz, "%s: path too long", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) ==
	    -1) {
		snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < len) {
		if ((n = write(fd, data + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1 || rename(tmp, path) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Run lp -d queue file and wait for it; 0 when it exited 0, else -1. */
static int
print_lp(const char *queue, const char *file, char *err, size_t errsz)
{
	pid_t	 pid;
	int	 st;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		snprintf(err, errsz, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* lp's own chatter ("request id is ...") stays off our stdout. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execlp("lp", "lp", "-d", queue, "--", file, (char *)NULL);
		fprintf(stderr, "rollcall-scan: lp: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			snprintf(err, errsz, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errsz, "lp -d %s failed (status %d)", queue,
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return -1;
	}
	return 0;
}

/*
 * Print the badge of the admission r (the server's answer, with event_id
 * and registration_id). 0 when printed or written (or nothing asked), -1
 * with err in words for a person.
 */
int
print_badge(const struct printer *p, struct client *c, const json_t *r,
    char *err, size_t errsz)
{
	char		 path[128], file[SCAN_MAXPATH], *pdf = NULL;
	char		 tmpl[] = "/tmp/rollcall-badge-XXXXXX";
	json_int_t	 ev, reg;
	size_t		 len;
	int		 fd, rc = -1;

	if (p->queue == NULL && p->dir == NULL)
		return 0;
	ev = json_integer_value(json_object_get(r, "event_id"));
	reg = json_integer_value(json_object_get(r, "registration_id"));
	if (ev <= 0 || reg <= 0) {
		snprintf(err, errsz, "the server did not say whose badge");
		return -1;
	}
	snprintf(path, sizeof(path), "/api/v1/events/%lld/badges/%lld.pdf",
	    (long long)ev, (long long)reg);
	if (client_get_file(c, path, &pdf, &len, err, errsz) == -1)
		return -1;
	if (p->dir != NULL) {
		if ((size_t)snprintf(file, sizeof(file), "%s/badge-%lld-%lld.pdf",
		    p->dir, (long long)ev, (long long)reg) >= sizeof(file))
			snprintf(err, errsz, "--print-dir: path too long");
		else
			rc = print_write(file, pdf, len, err, errsz);
	} else {
		const char *tmpdir = getenv("TMPDIR");

		if (tmpdir != NULL && *tmpdir != '\0' &&
		    (size_t)snprintf(file, sizeof(file),
		    "%s/rollcall-badge-XXXXXX", tmpdir) < sizeof(file))
			;
		else
			snprintf(file, sizeof(file), "%s", tmpl);
		if ((fd = mkstemp(file)) == -1)
			snprintf(err, errsz, "%s: %s", file, strerror(errno));
		else {
			close(fd);
			if (print_write(file, pdf, len, err, errsz) == 0)
				rc = print_lp(p->queue, file, err, errsz);
			unlink(file);
		}
	}
	free(pdf);
	return rc;
}
