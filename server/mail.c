/*
 * E-mail: the resend endpoint,
 * the operator's view (/metrics, `rollcalld mail --status`), and starting
 * and stopping the sender (mail_worker.c).
 *
 * Messages are rows of the outbox (sql/006_mail.sql), written by the same
 * transaction as the change they tell of; nothing here sends anything on
 * the request path. When neither --smtp nor --sendmail is given the
 * outbox simply fills up, and /metrics says so.
 *
 * The manage secret is stored only as its SHA-256, yet the confirmation
 * must carry the manage link. So the request that made the secret seals
 * it (crypto_secretbox under a key kept in `secrets`, like the token
 * secret, a fresh random nonce first) and the outbox row carries the
 * sealed bytes; the sender opens them, puts the link in that attendee's
 * own message, wipes its copies, and the database wipes the column once
 * the row is sent, given up or skipped. The secret is never stored in
 * clear and never logged.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <sodium.h>

#include "server.h"

static struct mail_settings	 cf;
static int			 started;

static const struct vfield resend_fields[] = {
	{ "email", V_EMAIL, 1, 0, 0, FIELD_MAXEMAIL, NULL },
};

/* The one answer of the resend endpoint, whoever asks about whatever. */
static const char resend_reply[] = "{\"status\":\"accepted\",\"message\":"
    "\"If this address is registered for this event, a message with new "
    "links is on its way to it. Links sent before stop working.\"}";

/*
 * Read the SMTP password: the file's first line. A file every user may
 * read is refused, as config.c refuses such a db_file.
 */
static int
read_password(const char *path)
{
	struct stat	 st;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		log_warn("--smtp-password-file %s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & S_IROTH) || st.st_size > MAIL_MAXPASSWORD) {
		log_warnx("--smtp-password-file %s: wants a regular file of at "
		    "most %d bytes that not every user may read", path,
		    MAIL_MAXPASSWORD);
		close(fd);
		return -1;
	}
	if ((cf.password = sodium_malloc(MAIL_MAXPASSWORD + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, cf.password + len, MAIL_MAXPASSWORD - len)) > 0)
		len += (size_t)n;
	close(fd);
	cf.password[len] = '\0';
	cf.password[strcspn(cf.password, "\r\n")] = '\0';
	if (n == -1 || cf.password[0] == '\0') {
		log_warnx("--smtp-password-file %s: cannot read a password",
		    path);
		return -1;
	}
	return 0;
}

/* A message catalog of templates/i18n/. */
static json_t *
load_catalog(const char *share, const char *lang)
{
	char		 path[4096];
	json_error_t	 e;
	json_t		*c;

	snprintf(path, sizeof(path), "%s/templates/i18n/mail.%s.json", share,
	    lang);
	if ((c = json_load_file(path, JSON_REJECT_DUPLICATES, &e)) == NULL)
		log_warnx("%s:%d: %s", path, e.line, e.text);
	return c;
}

/*
 * At start-up, before the loop: the key (registrations seal with it from
 * the first request on), the catalogs, the password; then the sender's
 * thread, which also keeps the outbox counts for /metrics.
 */
int
mail_start(const struct mail_settings *settings, const char *conninfo,
    const char *share, const char *public_url)
{
	struct db_conn *pg;
	size_t	 len;
	int	 rc;

	cf = *settings;
	if (cf.smtp != NULL && cf.sendmail != NULL) {
		log_warnx("--smtp and --sendmail: choose one");
		return -1;
	}
	if ((cf.smtp != NULL || cf.sendmail != NULL) && cf.from[0] == '\0') {
		log_warnx("sending mail needs --mail-from ADDRESS");
		return -1;
	}
	if ((cf.user == NULL) != (cf.password_file == NULL)) {
		log_warnx("--smtp-user and --smtp-password-file go together");
		return -1;
	}
	if (cf.sendmail != NULL && access(cf.sendmail, X_OK) == -1) {
		log_warn("--sendmail %s", cf.sendmail);
		return -1;
	}
	if (cf.password_file != NULL && read_password(cf.password_file) == -1)
		return -1;
	if ((pg = db_connect_blocking(conninfo)) == NULL)
		return -1;
	rc = secret_load(pg);
	db_close(pg);
	if (rc == -1)
		return -1;
	if ((cf.catalogs[0] = load_catalog(share, "en")) == NULL ||
	    (cf.catalogs[1] = load_catalog(share, "zh-CN")) == NULL)
		return -1;
	cf.conninfo = conninfo;
	snprintf(cf.public_url, sizeof(cf.public_url), "%s", public_url);
	len = strlen(cf.public_url);
	while (len > 0 && cf.public_url[len - 1] == '/')
		cf.public_url[--len] = '\0';
	if (mail_worker_start(&cf) == -1)
		return -1;
	started = 1;
	if (cf.smtp != NULL || cf.sendmail != NULL)
		log_info("mail: sending through %s", cf.smtp != NULL ? "SMTP" :
		    "sendmail");
	else
		log_info("mail: no --smtp or --sendmail; messages stay queued");
	return 0;
}

/* Stop the sender (it hands back what it holds) and wipe the secrets. */
void
mail_stop(void)
{
	int	 i;

	if (started)
		mail_worker_stop();
	started = 0;
	for (i = 0; i < 2; i++) {
		json_decref(cf.catalogs[i]);
		cf.catalogs[i] = NULL;
	}
	if (cf.password != NULL) {
		sodium_free(cf.password);	/* wipes */
		cf.password = NULL;
	}
	secret_clear();
}

/* The outbox and this process's sending, in Prometheus text. */
void
mail_metrics(struct evbuffer *b)
{
	struct mail_stats	 s;

	mail_worker_stats(&s);
	evbuffer_add_printf(b,
	    "# HELP rollcall_mail_delivery_enabled 1 when this process sends "
	    "mail (--smtp or --sendmail).\n"
	    "# TYPE rollcall_mail_delivery_enabled gauge\n"
	    "rollcall_mail_delivery_enabled %d\n"
	    "# HELP rollcall_mail_sent_total Messages this process delivered.\n"
	    "# TYPE rollcall_mail_sent_total counter\n"
	    "rollcall_mail_sent_total %llu\n"
	    "# HELP rollcall_mail_attempt_failures_total Delivery attempts "
	    "that failed in this process.\n"
	    "# TYPE rollcall_mail_attempt_failures_total counter\n"
	    "rollcall_mail_attempt_failures_total %llu\n",
	    s.enabled, s.delivered, s.attempt_failures);
	if (!s.known)
		return;
	evbuffer_add_printf(b,
	    "# HELP rollcall_mail_outbox Messages in the outbox by state "
	    "(queued: due, unsent; scheduled: due later, as reminders queued "
	    "before migration 029; "
	    "retrying: queued after a failed attempt; sent, failed and "
	    "skipped: read every 5 minutes).\n"
	    "# TYPE rollcall_mail_outbox gauge\n"
	    "rollcall_mail_outbox{state=\"queued\"} %lld\n"
	    "rollcall_mail_outbox{state=\"scheduled\"} %lld\n"
	    "rollcall_mail_outbox{state=\"retrying\"} %lld\n"
	    "rollcall_mail_outbox{state=\"sent\"} %lld\n"
	    "rollcall_mail_outbox{state=\"failed\"} %lld\n"
	    "rollcall_mail_outbox{state=\"skipped\"} %lld\n"
	    "# HELP rollcall_mail_oldest_unsent_seconds Age of the oldest due "
	    "message not yet sent.\n"
	    "# TYPE rollcall_mail_oldest_unsent_seconds gauge\n"
	    "rollcall_mail_oldest_unsent_seconds %lld\n",
	    s.queued, s.scheduled, s.retrying, s.sent, s.failed, s.skipped,
	    s.oldest_secs);
}

/* The same answer whatever rc_resend found. */
static void
resend_done(struct req *r, struct db_res *res)
{
	(void)res;
	http_reply_raw_json(r, 202, resend_reply, sizeof(resend_reply) - 1);
}

/*
 * POST /api/v1/events/{id}/resend {email}: new links by e-mail. The
 * answer is the same whether or not the address is registered (or the
 * event exists): a new secret is made, sealed and handed to rc_resend
 * every time, which uses it only for a registration it finds. Limited
 * per client address here, and per registration in rc_resend, so it can
 * neither probe addresses quickly nor flood an inbox.
 */
void
mail_resend(struct req *r)
{
	struct secrets	 s;
	char		 field[64], msg[256], rkey[RATE_MAXKEY], ra[16];
	const char	*vals[5];
	int		 retry;

	snprintf(rkey, sizeof(rkey), "resend %s", r->addr);
	if (!rate_allow(rkey, time(NULL), MAIL_RESEND_PER_MINUTE, &retry)) {
		snprintf(ra, sizeof(ra), "%d", retry > 0 ? retry : 1);
		evhttp_add_header(evhttp_request_get_output_headers(r->ev),
		    "Retry-After", ra);
		http_error(r, 429, "rate_limited", "Too many requests from "
		    "your address; try again in %s seconds.", ra);
		return;
	}
	if (validate_object(r->body, resend_fields, 1, field, sizeof(field),
	    msg, sizeof(msg)) == -1) {
		http_error(r, 400, "invalid_field", "%s", msg);
		return;
	}
	secret_new(&s);
	vals[0] = r->params[0];
	vals[1] = json_string_value(json_object_get(r->body, "email"));
	vals[2] = s.manage_hash;
	vals[3] = s.join_hash;
	vals[4] = s.sealed[0] != '\0' ? s.sealed : NULL;
	req_query(r, SQL_RESEND, vals, 5, resend_done);
	sodium_memzero(&s, sizeof(s));
}

/*
 * rollcalld mail --status [--db CONNINFO]: the outbox as /metrics shows
 * it, and the latest failures with their reasons (never an address).
 */
int
mail_cmd(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "status", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*db = NULL;
	struct db_conn *pg;
	struct db_res *res;
	json_t		*s, *f;
	size_t		 i;
	int		 ch, status = 0, rc = 1;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'd')
			db = optarg;
		else if (ch == 's')
			status = 1;
		else
			goto usage;
	}
	if (!status || optind != argc)
		goto usage;
	if ((pg = db_connect_blocking(db_conninfo(db))) == NULL)
		return 1;
	res = db_run(pg, SQL_MAIL_STATS, NULL, 0);
	if ((s = db_json(res)) == NULL) {
		log_warnx("cannot read the outbox (has `rollcalld migrate` "
		    "run?): %s", db_error(res));
		goto out;
	}
	printf("queued %lld\nscheduled %lld\nretrying %lld\nsent %lld\n"
	    "failed %lld\nskipped %lld\noldest_unsent_seconds %lld\n",
	    (long long)json_integer_value(json_object_get(s, "queued")),
	    (long long)json_integer_value(json_object_get(s, "scheduled")),
	    (long long)json_integer_value(json_object_get(s, "retrying")),
	    (long long)json_integer_value(json_object_get(s, "sent")),
	    (long long)json_integer_value(json_object_get(s, "failed")),
	    (long long)json_integer_value(json_object_get(s, "skipped")),
	    (long long)json_integer_value(json_object_get(s,
	    "oldest_unsent_seconds")));
	json_array_foreach(json_object_get(s, "recent_failures"), i, f)
		printf("%s #%lld %s after %lld attempts: %s\n",
		    json_string_value(json_object_get(f, "state")),
		    (long long)json_integer_value(json_object_get(f, "id")),
		    json_string_value(json_object_get(f, "kind")),
		    (long long)json_integer_value(json_object_get(f,
		    "attempts")),
		    json_string_value(json_object_get(f, "error")));
	json_decref(s);
	rc = 0;
out:
	db_res_free(res);
	db_close(pg);
	return rc;
usage:
	fprintf(stderr, "usage: rollcalld mail --status [--db CONNINFO]\n");
	return 2;
}
