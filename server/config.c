/*
 * The configuration file (/etc/rollcall/rollcall.conf) and the settings
 * it shares with the command line, and the list of proxies whose
 * X-Forwarded-For header is believed.
 *
 * The file is "key = value" lines; a line whose first non-blank byte is
 * '#' is a comment, and blank lines are skipped. Every other line must
 * name a known key exactly once, or the whole file is refused with
 * "FILE:LINE: reason": a misspelt key never silently does nothing.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

enum ckey {
	CK_DB,
	CK_DB_FILE,
	CK_LISTEN,
	CK_PUBLIC_URL,
	CK_RATE_LIMIT,
	CK_POOL,
	CK_QUEUE,
	CK_SHARE,
	CK_SYSLOG,
	CK_VERBOSE,
	CK_TRUSTED_PROXIES,
	CK_LEAD_RETENTION_DAYS,
	CK_NOSHOW_INTERVAL,
	CK_APPROVAL,
	CK__MAX
};

static const struct {
	const char	*name;
	int64_t		 min, max;	/* numbers only */
} ckeys[CK__MAX] = {
	[CK_DB] =		{ "db", 0, 0 },
	[CK_DB_FILE] =		{ "db_file", 0, 0 },
	[CK_LISTEN] =		{ "listen", 0, 0 },
	[CK_PUBLIC_URL] =	{ "public_url", 0, 0 },
	[CK_RATE_LIMIT] =	{ "rate_limit", 0, 1000000 },
	[CK_POOL] =		{ "pool", 1, 256 },
	[CK_QUEUE] =		{ "queue", 0, 1000000 },
	[CK_SHARE] =		{ "share", 0, 0 },
	[CK_SYSLOG] =		{ "syslog", 0, 0 },
	[CK_VERBOSE] =		{ "verbose", 0, 0 },
	[CK_TRUSTED_PROXIES] =	{ "trusted_proxies", 0, 0 },
	[CK_LEAD_RETENTION_DAYS] = { "lead_retention_days", 0,
	    RETENTION_MAXDAYS },
	[CK_NOSHOW_INTERVAL] =	{ "noshow_interval", 1, NOSHOW_MAXINTERVAL },
	[CK_APPROVAL] =		{ "approval", 0, 0 },
};

/*
 * Whether events and sponsorships wait for the committee (docs/approval.md):
 * "auto" (once a committee account or token is live), "required" or
 * "off". One setting for the whole process, as the trusted proxies are;
 * only the configuration file sets it.
 */
static const char *approval_mode = "auto";

/* One trusted proxy: an address and how many leading bits must match. */
struct proxy {
	int		 af;
	unsigned char	 addr[16];
	int		 bits;
};

static struct proxy	proxies[CONFIG_MAXPROXIES];
static int		nproxies;

static void	seterr(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Write a formatted error message into err. */
static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The built-in settings, before any file, environment or flag. */
void
config_defaults(struct config *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->listen = "127.0.0.1:8080";
	cf->pool_size = 8;
	cf->queue_max = DB_MAXWAIT;
	cf->foreground = 1;
	cf->rate_limit = 60;
	cf->lead_retention_days = RETENTION_LEAD_DAYS;
	cf->noshow_secs = NOSHOW_INTERVAL_SECS;
}

/* Release what config_load read, wiping it: db and db_file may hold a
 * password. */
void
config_free(struct config *cf)
{
	if (cf->file_text != NULL) {
		explicit_bzero(cf->file_text, cf->file_len);
		free(cf->file_text);
		cf->file_text = NULL;
	}
	if (cf->db_text != NULL) {
		explicit_bzero(cf->db_text, cf->db_len);
		free(cf->db_text);
		cf->db_text = NULL;
	}
}

/* The setting called name, or CK__MAX. */
static enum ckey
ckey_find(const char *name)
{
	int	 i;

	for (i = 0; i < CK__MAX; i++)
		if (strcmp(ckeys[i].name, name) == 0)
			return (enum ckey)i;
	return CK__MAX;
}

/* yes/true/on/1 or no/false/off/0 into *out; -1 for anything else. */
static int
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	int	 i;

	for (i = 0; yes[i] != NULL; i++)
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
	for (i = 0; no[i] != NULL; i++)
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	return -1;
}

/* ADDR:PORT, [IPv6]:PORT or NAME:PORT, with a port from 1 to 65535. */
int
config_check_listen(const char *s)
{
	const char	*colon = strrchr(s, ':');
	const char	*p;
	int64_t		 port;

	if (colon == NULL || colon == s || colon - s > 255 ||
	    parse_int64(colon + 1, 1, 65535, &port) == -1)
		return -1;
	for (p = s; p < colon; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '/')
			return -1;
	if (strchr(s, ':') != colon && (s[0] != '[' || colon[-1] != ']'))
		return -1;	/* a bare IPv6 address needs brackets */
	return 0;
}

/* Parse one address or ADDR/BITS into *p. */
static int
proxy_parse_one(const char *s, struct proxy *p)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash;
	int64_t		 bits;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->af = AF_INET;
		p->bits = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->af = AF_INET6;
		p->bits = 128;
	} else
		return -1;
	if (slash != NULL) {
		if (parse_int64(slash, 0, p->bits, &bits) == -1)
			return -1;
		p->bits = (int)bits;
	}
	return 0;
}

/*
 * Parse a list of addresses and ADDR/BITS networks separated by commas
 * or blanks into out[] (at most max); returns the count, or -1 with err
 * naming the bad entry.
 */
static int
proxy_parse(const char *list, struct proxy *out, int max, char *err,
    size_t errlen)
{
	char		 item[INET6_ADDRSTRLEN + 8];
	const char	*p = list;
	size_t		 len;
	int		 n = 0;

	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		if (len >= sizeof(item)) {
			seterr(err, errlen, "'%.*s...' is not an IP address "
			    "or network", 40, p);
			return -1;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (n == max) {
			seterr(err, errlen, "more than %d entries", max);
			return -1;
		}
		if (proxy_parse_one(item, &out[n]) == -1) {
			seterr(err, errlen, "'%s' is not an IP address or "
			    "ADDR/BITS network", item);
			return -1;
		}
		n++;
		p += len;
	}
	if (n == 0) {
		seterr(err, errlen, "no addresses");
		return -1;
	}
	return n;
}

/*
 * Read db_file: the conninfo, which may carry a password, from a file
 * that only root and the rollcall group may read. A file every user can
 * read is refused rather than trusted.
 */
static int
config_read_db_file(struct config *cf, const char *path, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL;
	ssize_t		 n;
	size_t		 len;
	int		 fd = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		seterr(err, errlen, "db_file: cannot open %s: %s", path,
		    strerror(errno));
		goto err;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		seterr(err, errlen, "db_file: %s is not a regular file", path);
		goto err;
	}
	if (st.st_mode & S_IROTH) {
		seterr(err, errlen, "db_file: %s is readable by every user; "
		    "make it private (chmod 640, owner root, group rollcall)",
		    path);
		goto err;
	}
	if (st.st_size > CONFIG_MAXDBFILE) {
		seterr(err, errlen, "db_file: %s is larger than %d bytes",
		    path, CONFIG_MAXDBFILE);
		goto err;
	}
	if ((buf = malloc(CONFIG_MAXDBFILE + 1)) == NULL) {
		seterr(err, errlen, "out of memory");
		goto err;
	}
	len = 0;
	while ((n = read(fd, buf + len, CONFIG_MAXDBFILE - len)) > 0)
		len += (size_t)n;
	if (n == -1) {
		seterr(err, errlen, "db_file: cannot read %s: %s", path,
		    strerror(errno));
		goto err;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		seterr(err, errlen, "db_file: %s holds a NUL byte", path);
		goto err;
	}
	/* Surrounding blanks and the final newline are not the conninfo. */
	while (len > 0 && strchr(" \t\r\n", buf[len - 1]) != NULL)
		buf[--len] = '\0';
	if (buf[strspn(buf, " \t\r\n")] == '\0') {
		seterr(err, errlen, "db_file: %s is empty", path);
		goto err;
	}
	close(fd);
	if (cf->db_text != NULL) {
		explicit_bzero(cf->db_text, cf->db_len);
		free(cf->db_text);
	}
	cf->db_text = buf;
	cf->db_len = CONFIG_MAXDBFILE + 1;
	cf->db = buf + strspn(buf, " \t\r\n");
	return 0;
err:
	if (buf != NULL) {
		explicit_bzero(buf, CONFIG_MAXDBFILE + 1);
		free(buf);
	}
	if (fd != -1)
		close(fd);
	return -1;
}

/* "Name <addr>" or "addr" into m->from_name and m->from. */
static int
parse_from(struct mail_settings *m, const char *v)
{
	const char	*lt = strchr(v, '<'), *gt;
	size_t		 n;

	m->from_name[0] = '\0';
	if (lt == NULL) {
		if (strlen(v) >= sizeof(m->from))
			return -1;
		snprintf(m->from, sizeof(m->from), "%s", v);
	} else {
		if ((gt = strchr(lt, '>')) == NULL || gt[1] != '\0' ||
		    (size_t)(gt - lt - 1) >= sizeof(m->from))
			return -1;
		memcpy(m->from, lt + 1, (size_t)(gt - lt - 1));
		m->from[gt - lt - 1] = '\0';
		for (n = (size_t)(lt - v); n > 0 && v[n - 1] == ' '; n--)
			;
		if (n >= sizeof(m->from_name))
			return -1;
		memcpy(m->from_name, v, n);
		m->from_name[n] = '\0';
		if (strpbrk(m->from_name, "\r\n\"") != NULL)
			return -1;
	}
	return validate_email(m->from);
}

/*
 * One --smtp, --smtp-user, --smtp-password-file, --smtp-tls, --mail-from
 * or --sendmail flag (the name without dashes in front). -1 with err set.
 */
int
config_mail_set(struct mail_settings *m, const char *name, const char *value,
    char *err, size_t errlen)
{
	if (*value == '\0') {
		snprintf(err, errlen, "empty value");
		return -1;
	}
	if (strcmp(name, "smtp") == 0) {
		if (strncmp(value, "smtp://", 7) != 0 &&
		    strncmp(value, "smtps://", 8) != 0) {
			snprintf(err, errlen, "wants smtp://HOST[:PORT] or "
			    "smtps://HOST[:PORT]");
			return -1;
		}
		m->smtp = value;
	} else if (strcmp(name, "smtp-user") == 0)
		m->user = value;
	else if (strcmp(name, "smtp-password-file") == 0)
		m->password_file = value;
	else if (strcmp(name, "smtp-tls") == 0) {
		if (strcmp(value, "required") == 0)
			m->tls = MAIL_TLS_REQUIRED;
		else if (strcmp(value, "try") == 0)
			m->tls = MAIL_TLS_TRY;
		else if (strcmp(value, "none") == 0)
			m->tls = MAIL_TLS_NONE;
		else {
			snprintf(err, errlen, "wants required, try or none");
			return -1;
		}
	} else if (strcmp(name, "mail-from") == 0) {
		if (validate_utf8(value) == -1 || parse_from(m, value) == -1) {
			snprintf(err, errlen, "wants ADDRESS or \"Name "
			    "<ADDRESS>\"");
			return -1;
		}
	} else if (strcmp(name, "sendmail") == 0) {
		if (value[0] != '/') {
			snprintf(err, errlen, "wants an absolute path");
			return -1;
		}
		m->sendmail = value;
	} else {
		snprintf(err, errlen, "unknown mail setting");
		return -1;
	}
	return 0;
}

/*
 * Set one setting by its file key (the flags use the same names with
 * '-' for '_'). The value must outlive cf. Returns -1 with err set.
 */
int
config_set(struct config *cf, const char *key, const char *value, char *err,
    size_t errlen)
{
	struct proxy	 tmp[CONFIG_MAXPROXIES];
	enum ckey	 k = ckey_find(key);
	char		 why[160];
	int64_t		 v;
	int		 b;

	if (k == CK__MAX) {
		seterr(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	if (*value == '\0') {
		seterr(err, errlen, "%s: empty value", key);
		return -1;
	}
	switch (k) {
	case CK_DB:
		cf->db = value;
		break;
	case CK_DB_FILE:
		return config_read_db_file(cf, value, err, errlen);
	case CK_LISTEN:
		if (config_check_listen(value) == -1) {
			seterr(err, errlen, "listen: wants ADDR:PORT (port 1 "
			    "to 65535, IPv6 in brackets), not '%s'", value);
			return -1;
		}
		cf->listen = value;
		break;
	case CK_PUBLIC_URL:
		if (validate_url(value) == -1) {
			seterr(err, errlen, "public_url: wants an http:// or "
			    "https:// URL");
			return -1;
		}
		cf->public_url = value;
		break;
	case CK_RATE_LIMIT:
	case CK_POOL:
	case CK_QUEUE:
	case CK_LEAD_RETENTION_DAYS:
	case CK_NOSHOW_INTERVAL:
		if (parse_int64(value, ckeys[k].min, ckeys[k].max, &v) == -1) {
			seterr(err, errlen, "%s: wants a whole number from "
			    "%lld to %lld%s", key, (long long)ckeys[k].min,
			    (long long)ckeys[k].max, k == CK_RATE_LIMIT ?
			    " (0 turns it off)" : "");
			return -1;
		}
		if (k == CK_RATE_LIMIT)
			cf->rate_limit = (int)v;
		else if (k == CK_POOL)
			cf->pool_size = (int)v;
		else if (k == CK_LEAD_RETENTION_DAYS)
			cf->lead_retention_days = (int)v;
		else if (k == CK_NOSHOW_INTERVAL)
			cf->noshow_secs = (int)v;
		else
			cf->queue_max = (int)v;
		break;
	case CK_SHARE:
		cf->share = value;
		break;
	case CK_SYSLOG:
	case CK_VERBOSE:
		if (parse_bool(value, &b) == -1) {
			seterr(err, errlen, "%s: wants yes or no", key);
			return -1;
		}
		if (k == CK_SYSLOG)
			cf->foreground = !b;
		else
			cf->verbose = b;
		break;
	case CK_APPROVAL:
		if (strcmp(value, "auto") == 0)
			approval_mode = "auto";
		else if (strcmp(value, "required") == 0)
			approval_mode = "required";
		else if (strcmp(value, "off") == 0)
			approval_mode = "off";
		else {
			seterr(err, errlen, "approval: wants auto, required or "
			    "off");
			return -1;
		}
		break;
	case CK_TRUSTED_PROXIES:
		if (proxy_parse(value, tmp, CONFIG_MAXPROXIES, why,
		    sizeof(why)) == -1) {
			seterr(err, errlen, "trusted_proxies: %s", why);
			return -1;
		}
		cf->trusted_proxies = value;
		break;
	case CK__MAX:
		break;
	}
	return 0;
}

/* Strip blanks from both ends of s in place. */
static char *
trim(char *s)
{
	char	*e;

	s += strspn(s, " \t");
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/*
 * Check one line and apply it. The file is untrusted only in the sense
 * that a person may have mistyped it: refuse anything that is not
 * exactly "key = value", so that the mistake is named with its line.
 */
static int
config_line(struct config *cf, char *line, int lineno, int *seen,
    char *err, size_t errlen)
{
	char		*eq, *key, *value, *p;
	enum ckey	 k;

	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			seterr(err, errlen, "control character 0x%02x",
			    (unsigned char)*p);
			return -1;
		}
	if (validate_utf8(line) == -1) {
		seterr(err, errlen, "not UTF-8");
		return -1;
	}
	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if ((eq = strchr(line, '=')) == NULL) {
		seterr(err, errlen, "expected 'key = value'");
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (*key == '\0') {
		seterr(err, errlen, "expected 'key = value': no key");
		return -1;
	}
	if (key[strspn(key, "abcdefghijklmnopqrstuvwxyz_")] != '\0') {
		seterr(err, errlen, "expected 'key = value': '%s' is not a "
		    "key", key);
		return -1;
	}
	if ((k = ckey_find(key)) == CK__MAX) {
		/* Mail settings belong to mail.c: smtp, smtp_user, ... */
		if (strncmp(key, "smtp", 4) == 0 || strcmp(key, "mail_from") ==
		    0 || strcmp(key, "sendmail") == 0) {
			char	 name[32], why[160];
			size_t	 i;

			snprintf(name, sizeof(name), "%s", key);
			for (i = 0; name[i] != '\0'; i++)
				if (name[i] == '_')
					name[i] = '-';
			if (config_mail_set(&cf->mail, name, value, why,
			    sizeof(why)) == 0)
				return 0;
			seterr(err, errlen, "%s: %s", key, why);
			return -1;
		}
		seterr(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	if (seen[k]) {
		seterr(err, errlen, "%s is already set on line %d", key,
		    seen[k]);
		return -1;
	}
	if ((k == CK_DB && seen[CK_DB_FILE]) ||
	    (k == CK_DB_FILE && seen[CK_DB])) {
		seterr(err, errlen, "db and db_file both set (the other on "
		    "line %d); keep one", seen[k == CK_DB ? CK_DB_FILE : CK_DB]);
		return -1;
	}
	seen[k] = lineno;
	return config_set(cf, key, value, err, errlen);
}

/*
 * Read the configuration file into cf, over what cf holds. On error,
 * err reads "FILE:LINE: reason" (or "FILE: reason") and -1 returns.
 */
int
config_load(struct config *cf, const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	char		 why[1];
	char		*buf = NULL;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto err;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		goto err;
	}
	if (st.st_size > CONFIG_MAXFILE) {
		seterr(err, errlen, "%s: larger than %d bytes", path,
		    CONFIG_MAXFILE);
		goto err;
	}
	if ((buf = malloc(CONFIG_MAXFILE + 1)) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		goto err;
	}
	while ((n = read(fd, buf + len, CONFIG_MAXFILE - len)) > 0)
		len += (size_t)n;
	if (n == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto err;
	}
	if (len == CONFIG_MAXFILE && read(fd, why, 1) > 0) {
		seterr(err, errlen, "%s: larger than %d bytes", path,
		    CONFIG_MAXFILE);
		goto err;
	}
	buf[len] = '\0';
	close(fd);
	return config_parse(cf, path, buf, len, err, errlen);
err:
	free(buf);
	if (fd != -1)
		close(fd);
	return -1;
}

/*
 * Apply the text of a configuration file (name is for messages) to cf,
 * over what cf holds. text is malloc'd, len bytes and a NUL after them;
 * cf owns it from here on, also on error (config_free releases it), as
 * the values cf keeps point into it. -1 with "NAME:LINE: reason" in err.
 */
int
config_parse(struct config *cf, const char *name, char *text, size_t len,
    char *err, size_t errlen)
{
	char		 why[512];
	char		*line, *nl;
	int		 seen[CK__MAX];
	int		 lineno = 0;

	memset(seen, 0, sizeof(seen));
	if (cf->file_text != NULL) {
		explicit_bzero(cf->file_text, cf->file_len);
		free(cf->file_text);
	}
	cf->file_text = text;
	cf->file_len = len + 1;
	for (line = text; line < text + len; line = nl + 1) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(text + len - line))) ==
		    NULL)
			nl = text + len;
		*nl = '\0';
		if (strlen(line) != (size_t)(nl - line)) {
			seterr(err, errlen, "%s:%d: NUL byte", name, lineno);
			return -1;
		}
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (strlen(line) > CONFIG_MAXLINE) {
			seterr(err, errlen, "%s:%d: line longer than %d bytes",
			    name, lineno, CONFIG_MAXLINE);
			return -1;
		}
		if (config_line(cf, line, lineno, seen, why, sizeof(why)) ==
		    -1) {
			seterr(err, errlen, "%s:%d: %s", name, lineno, why);
			return -1;
		}
	}
	return 0;
}

/* Believe X-Forwarded-For from these addresses (NULL: from none). */
int
proxy_trust(const char *list)
{
	char	 err[160];
	int	 n;

	nproxies = 0;
	if (list == NULL)
		return 0;
	if ((n = proxy_parse(list, proxies, CONFIG_MAXPROXIES, err,
	    sizeof(err))) == -1) {
		log_warnx("trusted_proxies: %s", err);
		return -1;
	}
	nproxies = n;
	return 0;
}

/* Parse a numeric address; an IPv4-mapped IPv6 address counts as IPv4. */
static int
addr_parse(const char *s, int *af, unsigned char addr[16])
{
	static const unsigned char mapped[12] =
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (inet_pton(AF_INET, s, addr) == 1) {
		*af = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) != 1)
		return -1;
	*af = AF_INET6;
	if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
		memmove(addr, addr + 12, 4);
		*af = AF_INET;
	}
	return 0;
}

/* Is the peer address one of the trusted proxies? */
int
proxy_is_trusted(const char *peer)
{
	unsigned char	 a[16];
	int		 af, i, full, rest;

	if (nproxies == 0 || peer == NULL || addr_parse(peer, &af, a) == -1)
		return 0;
	for (i = 0; i < nproxies; i++) {
		if (proxies[i].af != af)
			continue;
		full = proxies[i].bits / 8;
		rest = proxies[i].bits % 8;
		if (memcmp(a, proxies[i].addr, (size_t)full) != 0)
			continue;
		if (rest != 0 && ((a[full] ^ proxies[i].addr[full]) &
		    (0xff << (8 - rest)) & 0xff) != 0)
			continue;
		return 1;
	}
	return 0;
}

/*
 * The client address a trusted proxy reports: the last entry of
 * X-Forwarded-For, which that proxy appended itself (entries before it
 * came from the client and prove nothing). Only a plain IP literal is
 * taken, written back in canonical form; anything else leaves out
 * untouched and returns -1.
 */
int
proxy_forwarded_for(const char *xff, char *out, size_t outlen)
{
	char		 item[INET6_ADDRSTRLEN + 1], canon[INET6_ADDRSTRLEN];
	unsigned char	 a[16];
	const char	*last, *end;
	size_t		 len;
	int		 af;

	if (xff == NULL)
		return -1;
	last = strrchr(xff, ',');
	last = last == NULL ? xff : last + 1;
	last += strspn(last, " \t");
	end = last + strlen(last);
	while (end > last && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	len = (size_t)(end - last);
	if (len == 0 || len >= sizeof(item))
		return -1;
	memcpy(item, last, len);
	item[len] = '\0';
	if (addr_parse(item, &af, a) == -1 ||
	    inet_ntop(af, a, canon, sizeof(canon)) == NULL ||
	    strlen(canon) >= outlen)
		return -1;
	memcpy(out, canon, strlen(canon) + 1);
	return 0;
}

/* The approval switch in force: "auto", "required" or "off". */
const char *
config_approval(void)
{
	return approval_mode;
}

/*
 * How approval applies to a caller, for the statements that publish or
 * propose (sql/functions/approval.sql): "direct" for admin and committee,
 * who may publish without anyone's approval; else the switch.
 */
const char *
config_approval_for(const struct auth *a)
{
	if (a->roles & (ACCESS_ADMIN | ACCESS_COMMITTEE))
		return "direct";
	return approval_mode;
}

/*
 * Whether publishing a draft waits for the committee for this caller,
 * given whether a committee member is live (the event's staff JSON says).
 */
int
config_approval_waits(const struct auth *a, int committee_live)
{
	const char	*m = config_approval_for(a);

	if (strcmp(m, "direct") == 0 || strcmp(m, "off") == 0)
		return 0;
	if (strcmp(m, "required") == 0)
		return 1;
	return committee_live;
}
