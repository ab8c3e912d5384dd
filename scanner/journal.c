/*
 * The journal: every scan this device decides (and, when it has one,
 * every online verdict it is shown) as one JSON object per line, so that
 * offline admissions survive a crash or a flat battery and can be
 * uploaded later by `rollcall-scan sync`.
 *
 * The order of events is what makes a door exactly-once on its own: a
 * scan is appended and fsync()ed before its verdict is shown, so any
 * ADMIT a volunteer has seen is on disk, and a restarted scanner rebuilds
 * the set of tickets already in from the file. A crash in the middle of
 * a write leaves a torn last line (no newline, or half a JSON object): it
 * was never shown, so it is dropped, and truncated away so that the next
 * line does not glue onto it. A damaged line anywhere else is not ours
 * to delete; it is skipped and counted. flock() keeps a second scanner
 * from writing the same journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scanner.h"

/* Read a whole (bounded) file into a new buffer. Returns 0 or -1. */
static int
journal_slurp(int fd, char **buf, size_t *len, char *err, size_t errsz)
{
	struct stat	 st;
	size_t		 got = 0;
	ssize_t		 n;

	*buf = NULL;
	*len = 0;
	if (fstat(fd, &st) == -1) {
		snprintf(err, errsz, "%s", strerror(errno));
		return -1;
	}
	if (st.st_size > SCAN_MAXJOURNAL) {
		snprintf(err, errsz, "over %d MiB: start a new journal",
		    SCAN_MAXJOURNAL >> 20);
		return -1;
	}
	if ((*buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	while (got < (size_t)st.st_size) {
		n = pread(fd, *buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	(*buf)[got] = '\0';
	*len = got;
	return 0;
}

/*
 * Walk the lines of a journal: fn gets each readable JSON object (and
 * owns nothing: the object is released afterwards). Returns the offset
 * just past the last good line, so a torn tail can be cut off; counts
 * complete lines in *lines and damaged middle lines in *damaged.
 */
static size_t
journal_lines(const char *buf, size_t len, journal_fn fn, void *arg,
    size_t *lines, size_t *damaged)
{
	const char	*p = buf, *nl;
	size_t		 good = 0;
	json_t		*o;

	*lines = *damaged = 0;
	while (p < buf + len) {
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		if (nl == NULL)
			break;			/* torn: no newline */
		o = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES,
		    NULL);
		if (o != NULL && json_is_object(o)) {
			/* Lines between the last good one and this were
			 * damaged, not torn. */
			(*lines)++;
			if (fn != NULL)
				fn(arg, o);
			good = (size_t)(nl + 1 - buf);
		} else if (nl + 1 < buf + len)
			(*damaged)++;
		json_decref(o);
		p = nl + 1;
	}
	return good;
}

/* Remember what a journal line says about a ticket being in. */
static int
journal_learn(void *arg, json_t *o)
{
	struct journal	*j = arg;
	const char	*result, *jti, *at, *gate;

	result = json_string_value(json_object_get(o, "result"));
	jti = json_string_value(json_object_get(o, "jti"));
	if (result == NULL || jti == NULL || (strcmp(result, "admitted") != 0 &&
	    strcmp(result, "already_checked_in") != 0))
		return 0;
	if ((at = json_string_value(json_object_get(o, "first_at"))) == NULL)
		at = json_string_value(json_object_get(o, "at"));
	if ((gate = json_string_value(json_object_get(o, "first_gate"))) == NULL)
		gate = json_string_value(json_object_get(o, "gate"));
	return journal_mark(j, jti, at, gate);
}

/* fsync the directory holding path, so a new file's name is durable. */
static void
journal_sync_dir(const char *path)
{
	char	*copy;
	int	 fd;

	if ((copy = strdup(path)) == NULL)
		return;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/*
 * Open (creating) the journal at path for appending, locked against a
 * second scanner, and rebuild the tickets already in from it. A torn
 * last line is cut off. NULL with a reason in err on failure.
 */
struct journal *
journal_open(const char *path, char *err, size_t errsz)
{
	struct journal	*j;
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len, good;
	int		 created;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->path = strdup(path)) == NULL) {
		snprintf(err, errsz, "out of memory");
		free(j);
		return NULL;
	}
	created = stat(path, &st) == -1 && errno == ENOENT;
	if ((j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(err, errsz, "%s", strerror(errno));
		goto fail;
	}
	if (flock(j->fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errsz, "another rollcall-scan is using "
			    "it");
		else
			snprintf(err, errsz, "%s", strerror(errno));
		goto fail;
	}
	if (created)
		journal_sync_dir(path);
	if (journal_slurp(j->fd, &buf, &len, err, errsz) == -1)
		goto fail;
	good = journal_lines(buf, len, journal_learn, j, &j->lines,
	    &j->damaged);
	if (good < len) {
		/* Only a tail after the last good line is torn. */
		j->torn = len - good;
		if (ftruncate(j->fd, (off_t)good) == -1 || fsync(j->fd) == -1) {
			snprintf(err, errsz, "cannot cut off a torn last line: "
			    "%s", strerror(errno));
			goto fail;
		}
	}
	free(buf);
	return j;
fail:
	free(buf);
	journal_close(j);
	return NULL;
}

/* Close the journal, releasing its lock. */
void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd != -1)
		close(j->fd);	/* releases the lock */
	free(j->seen);
	free(j->path);
	free(j);
}

/*
 * Append one scan as a line and make it durable (fsync) before returning:
 * only then may its verdict be shown. On failure the file is cut back to
 * where it was, so a half-written line cannot join the next one.
 */
int
journal_append(struct journal *j, const json_t *o, char *err, size_t errsz)
{
	struct stat	 st;
	char		*line;
	size_t		 len, off = 0;
	ssize_t		 n;

	if ((line = json_dumps(o, JSON_COMPACT)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	len = strlen(line);
	line[len] = '\n';	/* json_dumps left room for its NUL */
	if (fstat(j->fd, &st) == -1)
		goto fail;
	while (off < len + 1) {
		n = write(j->fd, line + off, len + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(j->fd) == -1)
		goto fail;
	free(line);
	j->lines++;
	return 0;
fail:
	snprintf(err, errsz, "cannot write the journal %s: %s", j->path,
	    strerror(errno ? errno : EIO));
	if (off > 0)
		(void)ftruncate(j->fd, st.st_size);
	free(line);
	return -1;
}

/* The ticket's first admission this journal knows of, or NULL. */
const struct seen *
journal_seen(const struct journal *j, const char *jti)
{
	size_t	 i;

	for (i = 0; i < j->nseen; i++)
		if (strcmp(j->seen[i].jti, jti) == 0)
			return &j->seen[i];
	return NULL;
}

/* Remember that the ticket jti is in since at, through gate. */
int
journal_mark(struct journal *j, const char *jti, const char *at,
    const char *gate)
{
	struct seen	*s;
	size_t		 cap;

	if (jti == NULL || strlen(jti) >= sizeof(s->jti) ||
	    journal_seen(j, jti) != NULL)
		return 0;
	if (j->nseen == j->seencap) {
		cap = j->seencap ? j->seencap * 2 : 256;
		if ((s = reallocarray(j->seen, cap, sizeof(*s))) == NULL)
			return -1;
		j->seen = s;
		j->seencap = cap;
	}
	s = &j->seen[j->nseen++];
	memset(s, 0, sizeof(*s));
	memcpy(s->jti, jti, strlen(jti) + 1);
	snprintf(s->at, sizeof(s->at), "%s", at ? at : "");
	snprintf(s->gate, sizeof(s->gate), "%s", gate ? gate : "");
	return 0;
}

/*
 * Read a journal without changing it (for sync): fn gets each readable
 * line. *lines counts them, *torn the bytes of a torn tail ignored.
 */
int
journal_read(const char *path, journal_fn fn, void *arg, size_t *lines,
    size_t *torn, char *err, size_t errsz)
{
	char	*buf = NULL;
	size_t	 len, good, damaged;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "%s", strerror(errno));
		return -1;
	}
	if (journal_slurp(fd, &buf, &len, err, errsz) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	good = journal_lines(buf, len, fn, arg, lines, &damaged);
	*torn = len - good;
	free(buf);
	return 0;
}
