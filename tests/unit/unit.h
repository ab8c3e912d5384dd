/*
 * Helpers shared by the unit test programs (included after <cmocka.h>).
 *
 * Check helpers in the tests report every failing input of a test, not
 * only the first: each prints the input, calls soft_fail() with the
 * caller's file:line, and CHECKS_PASSED() at the end of the test fails it
 * when any did. Hard cmocka asserts still stop a test at once.
 *
 * (The Makefile rebuilds a test when its .c changes, not this header:
 * touch the .c files after editing it.)
 */
#ifndef ROLLCALL_UNIT_H
#define ROLLCALL_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Printable rendering of bytes for failure messages (not log_escape). */
static inline const char *
show(const char *s, size_t len)
{
	static char	 buf[4][600];
	static int	 slot;
	char		*out = buf[slot++ % 4];
	size_t		 i, o = 0;

	if (s == NULL)
		return "(null)";
	out[o++] = '"';
	for (i = 0; i < len && o < sizeof(buf[0]) - 24; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, 8, "\\x%02x", c);
	}
	if (i < len)
		o += (size_t)snprintf(out + o, 20, "...(%zu bytes)", len);
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/* show() for a NUL-terminated string or NULL. */
static inline const char *
showz(const char *s)
{
	return show(s, s ? strlen(s) : 0);
}

/* A heap copy of s sized exactly, so that over-reads trip ASan. */
static inline char *
exact(const char *s)
{
	size_t	 n = strlen(s) + 1;
	char	*p = malloc(n);

	assert_non_null(p);
	memcpy(p, s, n);
	return p;
}

static int	soft_failures;

/* Count a failed check; the message has been printed already. */
static inline void
soft_fail(const char *file, int line)
{
	print_error("    at %s:%d\n", file, line);
	soft_failures++;
}

static inline void
checks_passed(const char *file, int line)
{
	int	 n = soft_failures;

	soft_failures = 0;
	if (n > 0) {
		print_error("%d check(s) above failed\n", n);
		_fail(file, line);
	}
}

#define CHECKS_PASSED()	checks_passed(__FILE__, __LINE__)

/* A test stopped by a hard assert must not leak its count to the next. */
static inline int
reset_soft_failures(void **state)
{
	(void)state;
	soft_failures = 0;
	return 0;
}

#define TEST(f)	cmocka_unit_test_setup(f, reset_soft_failures)

/*
 * Write text as DIR/templates/NAME of a fresh directory, hand DIR to
 * init (badge_init, certificate_init: a layout file's loader), remove it
 * all again, and return what init returned.
 */
static inline int
init_with_template(const char *name, const char *text,
    int (*init)(const char *))
{
	char	 dir[] = "/tmp/rollcall-unit-XXXXXX", path[256];
	FILE	*f;
	int	 rc;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/templates", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/templates/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	rc = init(dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/templates", dir);
	rmdir(path);
	rmdir(dir);
	return rc;
}

#endif
