/*
 * Logging: stderr in the foreground, syslog otherwise.
 * Every line carries the calling function's name. Never log secrets;
 * escape client bytes with log_escape() first.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "common.h"

#undef log_warn
#undef log_warnx
#undef log_info
#undef log_debug

static int	log_foreground = 1;
static int	log_verbose;

/* Choose where log lines go and whether debug lines are kept. */
void
log_init(int foreground, int verbose)
{
	log_foreground = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog("rollcalld", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* Write one line: to stderr in the foreground, else to syslog. */
static void
log_vemit(int pri, const char *fn, const char *err, const char *fmt,
    va_list ap)
{
	char	 msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_foreground) {
		if (err)
			fprintf(stderr, "rollcalld: %s: %s: %s\n", fn, msg, err);
		else
			fprintf(stderr, "rollcalld: %s: %s\n", fn, msg);
		fflush(stderr);
	} else if (err)
		syslog(pri, "%s: %s: %s", fn, msg, err);
	else
		syslog(pri, "%s: %s", fn, msg);
}

/* Log a warning with strerror(errno) appended. */
void
log_warn(const char *fn, const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, fn, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Log a warning. */
void
log_warnx(const char *fn, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, fn, NULL, fmt, ap);
	va_end(ap);
}

/* Log an informational line. */
void
log_info(const char *fn, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, fn, NULL, fmt, ap);
	va_end(ap);
}

/* Log a debug line, only with -v. */
void
log_debug(const char *fn, const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, fn, NULL, fmt, ap);
	va_end(ap);
}

/* Copy client bytes into dst, escaping anything that is not printable ASCII. */
void
log_escape(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	static const char hex[] = "0123456789abcdef";
	size_t		 i, o = 0;
	unsigned char	 c;

	if (dstsz == 0)
		return;
	for (i = 0; i < srclen && o + 5 < dstsz; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			dst[o++] = (char)c;
			continue;
		}
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[c >> 4];
		dst[o++] = hex[c & 0xf];
	}
	dst[o] = '\0';
}
