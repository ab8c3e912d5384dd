/*
 * rollcalld: serve, migrate, token.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <sodium.h>

#include "server.h"

/* Print every command with its flags to stderr. */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: rollcalld serve [--config FILE] [--db CONNINFO] "
	    "[--listen ADDR:PORT] [--rate-limit N]\n"
	    "                 [--pool N] [--queue N] [--public-url URL] "
	    "[--trusted-proxies LIST]\n"
	    "                 [--lead-retention-days N] [--noshow-interval SECONDS]\n"
	    "                 [--syslog] [-v]\n"
	    "                 [--smtp URL [--smtp-user U --smtp-password-file F]"
	    " [--smtp-tls required|try|none]\n"
	    "                  | --sendmail PATH] [--mail-from ADDRESS]\n"
	    "       rollcalld mail --status [--db CONNINFO]\n"
	    "       rollcalld check --config FILE [serve's flags]\n"
	    "       rollcalld migrate [--config FILE] [--db CONNINFO] "
	    "[--share DIR]\n"
	    "       rollcalld rotate-key [--config FILE] [--db CONNINFO]\n"
	    "       rollcalld token --role ROLE --name NAME [--event ID]... "
	    "[--sponsor ID] [--ttl DURATION]\n"
	    "                 [--chapter SLUG]... [--config FILE] "
	    "[--db CONNINFO]\n"
	    "       rollcalld account add --email E --name N --role ROLE "
	    "[--event ID]... [--lang L]\n"
	    "                 [--public-url URL] [--config FILE] "
	    "[--db CONNINFO]\n"
	    "       rollcalld account disable --email E [--config FILE] "
	    "[--db CONNINFO]\n"
	    "Settings come from the flags, else the environment "
	    "($ROLLCALL_DB, $ROLLCALL_PUBLIC_URL),\n"
	    "else the --config file, else the defaults; the database "
	    "last of all from libpq's defaults.\n");
}

/*
 * Where sql/ and templates/ live: --share, $ROLLCALL_SHARE, the tree the
 * binary was built in (build/..), or the installed location.
 */
static const char *
share_dir(const char *flag)
{
	static char	 buf[PATH_MAX];
	char		 probe[PATH_MAX + 8];
	struct stat	 st;
	ssize_t		 n;
	char		*slash;
	int		 up;

	if (flag != NULL)
		return flag;
	if (getenv("ROLLCALL_SHARE") != NULL)
		return getenv("ROLLCALL_SHARE");
	if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		for (up = 0; up < 3; up++) {
			if ((slash = strrchr(buf, '/')) == NULL)
				break;
			*slash = '\0';
			snprintf(probe, sizeof(probe), "%s/sql", buf);
			if (stat(probe, &st) == 0 && S_ISDIR(st.st_mode))
				return buf;
		}
	}
	return "/usr/share/rollcall";
}

/* SIGTERM, SIGINT: stop accepting; let the requests in flight finish. */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	log_info("signal %d: finishing in-flight requests", (int)sig);
	notify_stopping();
	http_stop_accepting();
}

/* Raise the descriptor limit so idle keep-alive clients do not starve us. */
static void
raise_nofile(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * The event loop. With epoll, libevent's changelist folds the changes a
 * loop iteration makes to one descriptor into one epoll_ctl: a reply
 * written at once no longer adds and drops its write event by two system
 * calls (4 epoll_ctl a registration before, docs/performance.md). Its
 * one caveat, descriptors made by dup(), does not arise here: every
 * socket is our own accept, connect or libpq's.
 */
static struct event_base *
loop_new(void)
{
	struct event_config	*cfg;
	struct event_base	*base;

	if ((cfg = event_config_new()) == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* Load what every server shares through the database, retrying a while. */
static int
serve_load(const char *conninfo)
{
	struct db_conn	*pg;
	int	 tries;

	for (tries = 0; tries < 30; tries++) {
		if ((pg = db_connect_blocking(conninfo)) != NULL) {
			if (auth_load_secret(pg) == 0 &&
			    keyring_load(pg) == 0) {
				db_close(pg);
				return 0;
			}
			db_close(pg);
			return -1;
		}
		sleep(1);
	}
	return -1;
}

/*
 * rollcalld serve. The templates, the token secret and the ticket keys
 * are loaded, and the mail thread started, before the socket is opened,
 * so no request arrives before the server can answer it. The loop ends
 * once SIGTERM's requests in flight are answered (or DRAIN_SECS passed);
 * only then are the pool, the key refresh and the mail thread stopped.
 */
static int
cmd_serve(const struct config *cf)
{
	struct event_base	*base = NULL;
	struct event		*sigterm = NULL, *sigint = NULL;
	const char		*conninfo = db_conninfo(cf->db);
	char			 url[512];

	log_init(cf->foreground, cf->verbose);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (cf->public_url != NULL)
		snprintf(url, sizeof(url), "%s", cf->public_url);
	else
		snprintf(url, sizeof(url), "http://%s", cf->listen);
	registration_init(cf->rate_limit, url);
	if (proxy_trust(cf->trusted_proxies) == -1)
		return 1;
	if (web_init(share_dir(cf->share)) == -1) {
		log_warnx("cannot load the templates");
		return 1;
	}
	if (badge_init(share_dir(cf->share)) == -1) {
		log_warnx("cannot load templates/badge.json");
		return 1;
	}
	if (certificate_init(share_dir(cf->share)) == -1) {
		log_warnx("cannot load templates/certificate.json");
		return 1;
	}
	if (serve_load(conninfo) == -1) {
		log_warnx("cannot start without the database");
		return 1;
	}
	if (mail_start(&cf->mail, conninfo, share_dir(cf->share), url) == -1)
		return 1;
	/* Before the base: the password workers wake the loop from their
	 * threads (event_active), which needs libevent's locking. */
	if (evthread_use_pthreads() == -1 || (base = loop_new()) == NULL)
		return 1;
	session_init(url);
	if (pwhash_start(base) == -1 ||
	    db_pool_start(base, conninfo, cf->pool_size, cf->queue_max) == -1 ||
	    cache_start() == -1 || keyring_start(base) == -1 ||
	    worker_start(base) == -1 ||
	    retention_start(base, cf->lead_retention_days) == -1 ||
	    noshow_start(base, cf->noshow_secs) == -1 ||
	    router_start(base, cf->listen) == -1)
		return 1;
	sigterm = evsignal_new(base, SIGTERM, on_signal, NULL);
	sigint = evsignal_new(base, SIGINT, on_signal, NULL);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL))
		return 1;
	if (notify_ready(base, cf->listen) == -1)
		return 1;
	log_info("rollcalld serving (pool %d, rate limit %d/min)",
	    cf->pool_size, cf->rate_limit);
	event_base_dispatch(base);
	notify_stop();
	worker_stop();
	noshow_stop();
	db_pool_stop();
	cache_stop();
	keyring_stop();
	retention_stop();
	mail_stop();
	pwhash_stop();
	event_free(sigterm);
	event_free(sigint);
	log_info("stopped");
	return 0;
}

/* A flag from the command line, applied after the file and environment. */
struct flag {
	const char	*key;		/* config key, or NULL for --db */
	const char	*name;		/* as typed, for messages */
	const char	*value;
	int		 mail;		/* a mail setting (config_mail_set) */
};

/*
 * Read argv into flags[], checking each value as its config key would be
 * checked, so a bad flag is refused (status 2) before anything starts.
 */
static int
parse_flags(int argc, char *argv[], struct flag *flags, int *nflags,
    const char **config_path)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "rate-limit", required_argument, NULL, 'r' },
		{ "pool", required_argument, NULL, 'p' },
		{ "queue", required_argument, NULL, 'q' },
		{ "share", required_argument, NULL, 's' },
		{ "public-url", required_argument, NULL, 'u' },
		{ "trusted-proxies", required_argument, NULL, 't' },
		{ "lead-retention-days", required_argument, NULL, 'L' },
		{ "noshow-interval", required_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "syslog", no_argument, NULL, 'S' },
		/* the mail settings (config_mail_set): */
		{ "smtp", required_argument, NULL, 0x100 },
		{ "smtp-user", required_argument, NULL, 0x100 },
		{ "smtp-password-file", required_argument, NULL, 0x100 },
		{ "smtp-tls", required_argument, NULL, 0x100 },
		{ "mail-from", required_argument, NULL, 0x100 },
		{ "sendmail", required_argument, NULL, 0x100 },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct config	 scratch;
	struct flag	*f;
	const char	*why;
	char		 err[512];
	int		 ch, idx;

	*nflags = 0;
	while ((ch = getopt_long(argc, argv, "v", opts, &idx)) != -1) {
		if (ch == '?' || ch == ':') {
			usage();
			return -1;
		}
		if (ch == 'c') {
			*config_path = optarg;
			continue;
		}
		if (ch == 0x100) {
			config_defaults(&scratch);
			if (config_mail_set(&scratch.mail, opts[idx].name,
			    optarg, err, sizeof(err)) == -1) {
				fprintf(stderr, "rollcalld: --%s: %s\n",
				    opts[idx].name, err);
				return -1;
			}
			f = &flags[(*nflags)++];
			f->key = f->name = opts[idx].name;
			f->value = optarg;
			f->mail = 1;
			continue;
		}
		f = &flags[(*nflags)++];
		f->name = ch == 'v' ? "verbose" : opts[idx].name;
		f->value = optarg;
		switch (ch) {
		case 'd': f->key = NULL; continue;
		case 'l': f->key = "listen"; break;
		case 'r': f->key = "rate_limit"; break;
		case 'p': f->key = "pool"; break;
		case 'q': f->key = "queue"; break;
		case 's': f->key = "share"; break;
		case 'u': f->key = "public_url"; break;
		case 't': f->key = "trusted_proxies"; break;
		case 'L': f->key = "lead_retention_days"; break;
		case 'n': f->key = "noshow_interval"; break;
		case 'S': f->key = "syslog"; f->value = "yes"; break;
		case 'v': f->key = "verbose"; f->value = "yes"; break;
		}
		config_defaults(&scratch);
		if (config_set(&scratch, f->key, f->value, err,
		    sizeof(err)) == -1) {
			why = strncmp(err, f->key, strlen(f->key)) == 0 &&
			    strncmp(err + strlen(f->key), ": ", 2) == 0 ?
			    err + strlen(f->key) + 2 : err;
			fprintf(stderr, "rollcalld: --%s: %s\n", f->name, why);
			return -1;
		}
	}
	if (optind != argc) {
		usage();
		return -1;
	}
	return 0;
}

/*
 * The settings in force: defaults, then the file, then the environment
 * ($ROLLCALL_DB, $ROLLCALL_PUBLIC_URL, $ROLLCALL_SHARE), then the flags.
 */
static int
load_config(struct config *cf, const char *path, const struct flag *flags,
    int nflags)
{
	char		 err[1024];
	const char	*env;
	int		 i;

	config_defaults(cf);
	if (path != NULL && config_load(cf, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "rollcalld: %s\n", err);
		return -1;
	}
	if ((env = getenv("ROLLCALL_DB")) != NULL)
		cf->db = env;
	if ((env = getenv("ROLLCALL_PUBLIC_URL")) != NULL && *env != '\0')
		cf->public_url = env;
	if ((env = getenv("ROLLCALL_SHARE")) != NULL && *env != '\0')
		cf->share = env;
	for (i = 0; i < nflags; i++) {
		if (flags[i].mail) {
			if (config_mail_set(&cf->mail, flags[i].key,
			    flags[i].value, err, sizeof(err)) == -1) {
				fprintf(stderr, "rollcalld: --%s: %s\n",
				    flags[i].name, err);
				return -1;
			}
		} else if (flags[i].key == NULL)
			cf->db = flags[i].value;
		else if (config_set(cf, flags[i].key, flags[i].value, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "rollcalld: --%s: %s\n", flags[i].name,
			    err);
			return -1;
		}
	}
	return 0;
}

/* `check`: say what the configuration amounts to, without any secret. */
static int
cmd_check(const struct config *cf, const char *path)
{
	printf("%s: ok\n", path);
	printf("listen = %s\n", cf->listen);
	printf("public_url = %s\n", cf->public_url != NULL ? cf->public_url :
	    "(http://LISTEN)");
	printf("db = %s\n", cf->db == NULL || *cf->db == '\0' ?
	    "(libpq defaults)" : "(set, not shown)");
	printf("rate_limit = %d\npool = %d\nqueue = %d\n", cf->rate_limit,
	    cf->pool_size, cf->queue_max);
	printf("lead_retention_days = %d\n", cf->lead_retention_days);
	printf("share = %s\n", share_dir(cf->share));
	printf("syslog = %s\nverbose = %s\n", cf->foreground ? "no" : "yes",
	    cf->verbose ? "yes" : "no");
	printf("trusted_proxies = %s\n", cf->trusted_proxies != NULL ?
	    cf->trusted_proxies : "(none)");
	return 0;
}

/*
 * `token` and `account` parse their own flags; take --config FILE out of
 * them and hand the file's database (and public URL) on through
 * $ROLLCALL_DB ($ROLLCALL_PUBLIC_URL), which --db still overrides and
 * which, when already set, wins over the file.
 */
static int
cmd_with_config(int argc, char *argv[], int (*cmd)(int, char **))
{
	struct config	 cf;
	const char	*path = NULL;
	char		 err[1024];
	int		 i, n, rc;

	for (i = n = 0; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	config_defaults(&cf);
	if (path != NULL) {
		if (config_load(&cf, path, err, sizeof(err)) == -1) {
			fprintf(stderr, "rollcalld: %s\n", err);
			return 1;
		}
		if (getenv("ROLLCALL_DB") == NULL && cf.db != NULL)
			setenv("ROLLCALL_DB", cf.db, 1);
		if (getenv("ROLLCALL_PUBLIC_URL") == NULL &&
		    cf.public_url != NULL)
			setenv("ROLLCALL_PUBLIC_URL", cf.public_url, 1);
	}
	rc = cmd(n, argv);
	config_free(&cf);
	return rc;
}

/* `rotate-key`: a new ticket signing key. */
static int
cmd_rotate_key(const struct config *cf)
{
	log_init(1, cf->verbose);
	return keyring_rotate(db_conninfo(cf->db)) == 0 ? 0 : 1;
}

/* `migrate`: bring the database to the newest schema. */
static int
cmd_migrate(const struct config *cf)
{
	char	 sqldir[PATH_MAX + 8];

	log_init(1, cf->verbose);
	snprintf(sqldir, sizeof(sqldir), "%s/sql", share_dir(cf->share));
	return migrate_run(db_conninfo(cf->db), sqldir) == 0 ? 0 : 1;
}

/* `mail`: the outbox's state (it parses its own flags). */
static int
cmd_mail(int argc, char *argv[])
{
	log_init(1, 0);
	return mail_cmd(argc, argv);
}

/* `account add|disable` (account.c), with --config as for `token`. */
static int
cmd_account(int argc, char *argv[])
{
	log_init(1, 0);
	return cmd_with_config(argc, argv, account_cmd);
}

/* `token`, with log_init as for every command. */
static int
cmd_token_logged(int argc, char *argv[])
{
	log_init(1, 0);
	return cmd_with_config(argc, argv, token_cmd);
}

/*
 * Every command: those taking serve's flags and configuration get the
 * settings in force (run); the others parse their own arguments (argv).
 */
static const struct command {
	const char	*name;
	int		(*run)(const struct config *);
	int		(*argv)(int, char *[]);
	int		 needs_config;	/* refuses to run without --config */
} commands[] = {
	{ "serve", cmd_serve, NULL, 0 },
	{ "check", NULL, NULL, 1 },
	{ "migrate", cmd_migrate, NULL, 0 },
	{ "rotate-key", cmd_rotate_key, NULL, 0 },
	{ "token", NULL, cmd_token_logged, 0 },
	{ "mail", NULL, cmd_mail, 0 },
	{ "account", NULL, cmd_account, 0 },
};

/* Find the command, read the config file and flags, run the command. */
int
main(int argc, char *argv[])
{
	const struct command	*c = NULL;
	struct config		 cf;
	struct flag		*flags = NULL;
	const char		*config_path = NULL;
	size_t			 i;
	int			 nflags = 0, rc = 2;

	if (argc < 2) {
		usage();
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "rollcalld: libsodium failed to start\n");
		return 1;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			c = &commands[i];
	if (c == NULL) {
		usage();
		return 2;
	}
	argc--;
	argv++;
	if (c->argv != NULL)
		return c->argv(argc, argv);
	if ((flags = calloc((size_t)argc + 1, sizeof(*flags))) == NULL) {
		fprintf(stderr, "rollcalld: out of memory\n");
		return 1;
	}
	if (parse_flags(argc, argv, flags, &nflags, &config_path) == -1)
		goto out;
	if (c->needs_config && config_path == NULL) {
		fprintf(stderr, "rollcalld: %s wants --config FILE\n", c->name);
		goto out;
	}
	rc = 1;
	if (load_config(&cf, config_path, flags, nflags) == -1) {
		config_free(&cf);
		goto out;
	}
	rc = c->run != NULL ? c->run(&cf) : cmd_check(&cf, config_path);
	config_free(&cf);
out:
	free(flags);
	return rc;
}
