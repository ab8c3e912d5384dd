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

static void
usage(void)
{
	fprintf(stderr,
	    "usage: rollcalld serve [--db CONNINFO] [--listen ADDR:PORT] "
	    "[--rate-limit N] [--pool N] [--queue N] [--public-url URL]\n"
	    "                 [--syslog] [-v]\n"
	    "       rollcalld migrate [--db CONNINFO] [--share DIR]\n"
	    "       rollcalld rotate-key [--db CONNINFO]\n"
	    "       rollcalld token --role ROLE --name NAME [--event ID]... "
	    "[--sponsor ID] [--ttl DURATION] [--db CONNINFO]\n"
	    "The database is --db, else $ROLLCALL_DB, else libpq's "
	    "defaults.\n");
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

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	log_info("signal %d: finishing in-flight requests", (int)sig);
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

/* Load what every server shares through the database, retrying a while. */
static int
serve_load(const char *conninfo)
{
	PGconn	*pg;
	int	 tries;

	for (tries = 0; tries < 30; tries++) {
		if ((pg = db_connect_blocking(conninfo)) != NULL) {
			if (auth_load_secret(pg) == 0 &&
			    keyring_load(pg) == 0) {
				PQfinish(pg);
				return 0;
			}
			PQfinish(pg);
			return -1;
		}
		sleep(1);
	}
	return -1;
}

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
	else if (getenv("ROLLCALL_PUBLIC_URL") != NULL)
		snprintf(url, sizeof(url), "%s", getenv("ROLLCALL_PUBLIC_URL"));
	else
		snprintf(url, sizeof(url), "http://%s", cf->listen);
	registration_init(cf->rate_limit, url);
	if (serve_load(conninfo) == -1) {
		log_warnx("cannot start without the database");
		return 1;
	}
	if ((base = event_base_new()) == NULL)
		return 1;
	if (db_pool_start(base, conninfo, cf->pool_size, cf->queue_max) == -1 ||
	    keyring_start(base) == -1 || http_start(base, cf->listen) == -1)
		return 1;
	sigterm = evsignal_new(base, SIGTERM, on_signal, NULL);
	sigint = evsignal_new(base, SIGINT, on_signal, NULL);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL))
		return 1;
	log_info("rollcalld serving (pool %d, rate limit %d/min)",
	    cf->pool_size, cf->rate_limit);
	event_base_dispatch(base);
	db_pool_stop();
	keyring_stop();
	event_free(sigterm);
	event_free(sigint);
	log_info("stopped");
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "rate-limit", required_argument, NULL, 'r' },
		{ "pool", required_argument, NULL, 'p' },
		{ "queue", required_argument, NULL, 'q' },
		{ "share", required_argument, NULL, 's' },
		{ "public-url", required_argument, NULL, 'u' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct config	 cf;
	const char	*cmd;
	char		 sqldir[PATH_MAX + 8];
	int64_t		 v;
	int		 ch;

	if (argc < 2) {
		usage();
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "rollcalld: libsodium failed to start\n");
		return 1;
	}
	cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "token") == 0) {
		log_init(1, 0);
		return auth_cmd_token(argc, argv);
	}
	memset(&cf, 0, sizeof(cf));
	cf.listen = "127.0.0.1:8080";
	cf.pool_size = 8;
	cf.queue_max = DB_MAXWAIT;
	cf.foreground = 1;
	cf.rate_limit = 60;
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			cf.db = optarg;
			break;
		case 'l':
			cf.listen = optarg;
			break;
		case 'r':
			if (parse_int64(optarg, 0, 1000000, &v) == -1) {
				fprintf(stderr, "rollcalld: --rate-limit wants "
				    "a number (0 turns it off)\n");
				return 2;
			}
			cf.rate_limit = (int)v;
			break;
		case 'p':
			if (parse_int64(optarg, 1, 256, &v) == -1) {
				fprintf(stderr, "rollcalld: --pool wants 1 to "
				    "256\n");
				return 2;
			}
			cf.pool_size = (int)v;
			break;
		case 'q':
			if (parse_int64(optarg, 0, 1000000, &v) == -1) {
				fprintf(stderr, "rollcalld: --queue wants 0 to "
				    "1000000\n");
				return 2;
			}
			cf.queue_max = (int)v;
			break;
		case 's':
			cf.share = optarg;
			break;
		case 'u':
			if (validate_url(optarg) == -1) {
				fprintf(stderr, "rollcalld: --public-url wants "
				    "an http(s) URL\n");
				return 2;
			}
			cf.public_url = optarg;
			break;
		case 'S':
			cf.foreground = 0;
			break;
		case 'v':
			cf.verbose = 1;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(&cf);
	if (strcmp(cmd, "rotate-key") == 0) {
		log_init(1, cf.verbose);
		return keyring_rotate(db_conninfo(cf.db)) == 0 ? 0 : 1;
	}
	if (strcmp(cmd, "migrate") == 0) {
		log_init(1, cf.verbose);
		snprintf(sqldir, sizeof(sqldir), "%s/sql", share_dir(cf.share));
		return migrate_run(db_conninfo(cf.db), sqldir) == 0 ? 0 : 1;
	}
	usage();
	return 2;
}
