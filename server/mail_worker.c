/*
 * The mail sender: one thread per server process, off the event loop.
 *
 * It has its own blocking PostgreSQL connection (the loop's pool is never
 * touched from here) on which it LISTENs for new outbox rows and claims
 * due ones, MAIL_BATCH at a time, with a lease (rc_outbox_claim: FOR
 * UPDATE SKIP LOCKED, claimed_until), so that any number of server
 * processes drain one outbox without sending a row twice. For each row it
 * builds the message with GMime (a text and an HTML part from templates/
 * in the attendee's language, the QR ticket inline, the .ics attached),
 * hands it to the SMTP relay through libcurl or to sendmail(8), and
 * records the outcome with rc_outbox_done at once, before the next one.
 *
 * What can go wrong, and why this order:
 * - The relay is down: the attempt fails, the row keeps its reason and is
 *   retried with back-off; nothing is lost.
 * - The database goes away after a message went out but before it was
 *   marked: the outcome is kept in memory and recorded first thing after
 *   reconnecting, well within the lease, so the row is not sent again.
 * - The process is stopped: the thread finishes the message in hand
 *   (bounded by MAIL_SEND_SECS), hands the rest of its claim back, and
 *   exits. Only a crash between the relay's "250" and the mark can send a
 *   message twice, once the lease has run out.
 * - Only this thread uses GMime and libcurl; what it shares with the loop
 *   is read-only after start-up (settings, key, templates) except the
 *   counters behind /metrics, which a mutex guards. Tickets are signed
 *   with a copy of the signing key read on this connection, not the
 *   loop's keyring.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <gmime/gmime.h>
#include <sodium.h>

#include "server.h"

extern char **environ;


/* One attempt's outcome, kept until the database has it. */
struct outcome {
	long long	 id;
	int		 ok;
	int		 permanent;
	char		 error[MAIL_MAXERR];
};

static struct {
	struct mail_settings	*cf;
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	int			 wake[2];	/* the loop writes: stop */
	int			 stopping;	/* under mu */
	struct mail_stats	 stats;		/* under mu */
	struct ticket_key	 tkey;		/* this thread's copy */
	struct outcome		 pending[MAIL_BATCH];
	int			 npending;
	CURL			*curl;
} W = { .mu = PTHREAD_MUTEX_INITIALIZER, .wake = { -1, -1 } };

/* True once mail_worker_stop has asked the thread to end. */
static int
stopping(void)
{
	int	 s;

	pthread_mutex_lock(&W.mu);
	s = W.stopping;
	pthread_mutex_unlock(&W.mu);
	return s;
}

/* True when mail can be sent: SMTP or sendmail is configured. */
static int
delivering(void)
{
	return W.cf->smtp != NULL || W.cf->sendmail != NULL;
}

/* Wait for the outbox's notification, the stop pipe, or ms. -1: reconnect. */
static int
worker_wait(struct db_conn *pg, int ms)
{
	return db_conn_wait(pg, W.wake[0], ms);
}

/* Our connection, listening for new outbox rows. */
static struct db_conn *
worker_connect(void)
{
	struct db_conn	*pg;

	if ((pg = db_connect_named(W.cf->conninfo, "rollcalld-mail")) == NULL)
		return NULL;
	if (db_run_ok(pg, SQL_MAIL_LISTEN, NULL, 0) == -1) {
		log_warnx("mail: cannot use the database");
		db_close(pg);
		return NULL;
	}
	return pg;
}

/* Run one of the sender's statements; NULL (logged) when it fails. */
static struct db_res *
run(struct db_conn *pg, enum sql_id id, const char *const *vals, int n)
{
	struct db_res	*res;

	res = db_run(pg, id, vals, n);
	if (!db_ok(res)) {
		log_warnx("mail: %s: %s", sqls[id].name, db_error(res));
		db_res_free(res);
		return NULL;
	}
	return res;
}

/* One of the outbox's count functions as JSON; NULL if unreadable. */
static json_t *
read_counts(struct db_conn *pg, enum sql_id id, int *lost)
{
	struct db_res	*res;
	json_t		*s;

	if ((res = run(pg, id, NULL, 0)) == NULL) {
		*lost = 1;
		return NULL;
	}
	s = json_loads(db_value(res, 0, 0), 0, NULL);
	db_res_free(res);
	return s;
}

/*
 * Re-read the outbox counts for /metrics: the queue's (the queued rows
 * only) each time, those of the whole outbox (sent, failed, skipped)
 * when *totals_at is MAIL_TOTALS_SECS old.
 */
static int
refresh_stats(struct db_conn *pg, time_t *totals_at)
{
	json_t		*q, *t = NULL;
	int		 lost = 0;

	if ((q = read_counts(pg, SQL_MAIL_QUEUE, &lost)) == NULL)
		return lost ? -1 : 0;
	if (time(NULL) - *totals_at >= MAIL_TOTALS_SECS) {
		if ((t = read_counts(pg, SQL_MAIL_TOTALS, &lost)) == NULL &&
		    lost) {
			json_decref(q);
			return -1;
		}
		if (t != NULL)
			*totals_at = time(NULL);
	}
	pthread_mutex_lock(&W.mu);
	W.stats.queued = json_integer_value(json_object_get(q, "queued"));
	W.stats.scheduled = json_integer_value(json_object_get(q,
	    "scheduled"));
	W.stats.retrying = json_integer_value(json_object_get(q, "retrying"));
	W.stats.oldest_secs = json_integer_value(json_object_get(q,
	    "oldest_unsent_seconds"));
	if (t != NULL) {
		W.stats.sent = json_integer_value(json_object_get(t, "sent"));
		W.stats.failed = json_integer_value(json_object_get(t,
		    "failed"));
		W.stats.skipped = json_integer_value(json_object_get(t,
		    "skipped"));
	}
	W.stats.known = *totals_at != 0;
	pthread_mutex_unlock(&W.mu);
	json_decref(q);
	json_decref(t);
	return 0;
}

/* Drop this thread's copy of the signing key, wiping the private one. */
static void
tkey_clear(void)
{
	free(W.tkey.pub_pem);
	if (W.tkey.priv_pem != NULL) {
		sodium_memzero(W.tkey.priv_pem, strlen(W.tkey.priv_pem));
		free(W.tkey.priv_pem);
	}
	memset(&W.tkey, 0, sizeof(W.tkey));
}

/* This thread's copy of the ticket signing key (it may have rotated). */
static int
load_ticket_key(struct db_conn *pg)
{
	struct db_res *res;
	int		 i;

	if ((res = run(pg, SQL_TICKET_KEYS, NULL, 0)) == NULL)
		return -1;
	for (i = 0; i < db_rows(res); i++) {
		if (strcmp(db_value(res, i, 3), "t") != 0)
			continue;
		if (strcmp(W.tkey.kid, db_value(res, i, 0)) != 0) {
			tkey_clear();
			snprintf(W.tkey.kid, sizeof(W.tkey.kid), "%s",
			    db_value(res, i, 0));
			W.tkey.pub_pem = strdup(db_value(res, i, 1));
			W.tkey.priv_pem = strdup(db_value(res, i, 2));
		}
		break;
	}
	db_res_wipe(res);
	db_res_free(res);
	return W.tkey.priv_pem != NULL ? 0 : -1;
}

/* Record the outcomes kept; -1 when the database is gone (they stay). */
static int
flush_outcomes(struct db_conn *pg)
{
	const char	*vals[4];
	char		 id[24];
	struct db_res *res;

	while (W.npending > 0) {
		struct outcome *o = &W.pending[0];

		snprintf(id, sizeof(id), "%lld", o->id);
		vals[0] = id;
		vals[1] = o->ok ? "true" : "false";
		vals[2] = o->ok ? NULL : o->error;
		vals[3] = o->permanent ? "true" : "false";
		if ((res = run(pg, SQL_MAIL_DONE, vals, 4)) == NULL)
			return -1;
		if (!o->ok)
			log_warnx("mail #%lld: %s%s", o->id,
			    strcmp(db_value(res, 0, 0), "failed") == 0 ?
			    "given up: " : "will retry: ", o->error);
		db_res_free(res);
		memmove(&W.pending[0], &W.pending[1],
		    (size_t)(W.npending - 1) * sizeof(W.pending[0]));
		W.npending--;
	}
	return 0;
}

struct upload {
	const char	*data;
	size_t		 len, off;
};

/* libcurl's read callback: the next bytes of the message. */
static size_t
upload_read(char *buf, size_t size, size_t n, void *arg)
{
	struct upload	*u = arg;
	size_t		 len = size * n;

	if (len > u->len - u->off)
		len = u->len - u->off;
	memcpy(buf, u->data + u->off, len);
	u->off += len;
	return len;
}

/* Abandon a transfer when the server stops: the row is retried later. */
static int
upload_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	(void)arg;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return stopping();
}

/*
 * Through the SMTP relay. A 5xx answer to RCPT (no such mailbox) is
 * permanent; everything else (refused, timed out, 4xx, a login problem)
 * is worth retrying.
 */
static int
send_smtp(const struct mail_built *b, struct outcome *o)
{
	struct curl_slist	*rcpt = NULL;
	struct upload		 u = { b->data, b->len, 0 };
	char			 from[300], to[300], cerr[CURL_ERROR_SIZE];
	long			 code = 0, ssl;
	CURLcode		 rc;

	if (W.curl == NULL && (W.curl = curl_easy_init()) == NULL) {
		snprintf(o->error, sizeof(o->error), "smtp: curl_easy_init");
		return -1;
	}
	snprintf(from, sizeof(from), "<%s>", W.cf->from);
	snprintf(to, sizeof(to), "<%s>", b->to);
	if ((rcpt = curl_slist_append(NULL, to)) == NULL) {
		snprintf(o->error, sizeof(o->error), "smtp: out of memory");
		return -1;
	}
	switch (W.cf->tls) {
	case MAIL_TLS_REQUIRED: ssl = CURLUSESSL_ALL; break;
	case MAIL_TLS_NONE: ssl = CURLUSESSL_NONE; break;
	case MAIL_TLS_TRY: ssl = CURLUSESSL_TRY; break;
	default: ssl = W.cf->user != NULL ? CURLUSESSL_ALL : CURLUSESSL_TRY;
	}
	cerr[0] = '\0';
	curl_easy_setopt(W.curl, CURLOPT_URL, W.cf->smtp);
	curl_easy_setopt(W.curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(W.curl, CURLOPT_USE_SSL, ssl);
	curl_easy_setopt(W.curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(W.curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(W.curl, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(W.curl, CURLOPT_READDATA, &u);
	curl_easy_setopt(W.curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(W.curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(W.curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(W.curl, CURLOPT_TIMEOUT, (long)MAIL_SEND_SECS);
	curl_easy_setopt(W.curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(W.curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(W.curl, CURLOPT_XFERINFOFUNCTION, upload_progress);
	if (W.cf->user != NULL) {
		curl_easy_setopt(W.curl, CURLOPT_USERNAME, W.cf->user);
		curl_easy_setopt(W.curl, CURLOPT_PASSWORD, W.cf->password);
	}
	rc = curl_easy_perform(W.curl);
	curl_easy_getinfo(W.curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(W.curl, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(W.curl, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(rcpt);
	if (rc == CURLE_OK)
		return 0;
	o->permanent = code >= 500 && code <= 599 &&
	    strstr(cerr, "RCPT") != NULL;
	snprintf(o->error, sizeof(o->error), "smtp: %s (code %ld)",
	    cerr[0] ? cerr : curl_easy_strerror(rc), code);
	/* A broken connection is not reused. */
	curl_easy_cleanup(W.curl);
	W.curl = NULL;
	return -1;
}

/*
 * Through sendmail(8): `sendmail -i -f FROM -- TO`, the message on its
 * standard input. Exit 0 is delivered; EX_NOUSER and EX_NOHOST are
 * permanent; anything else (EX_TEMPFAIL, a crash, a hang past
 * MAIL_SEND_SECS) is retried.
 */
static int
send_sendmail(const struct mail_built *b, struct outcome *o)
{
	posix_spawn_file_actions_t fa;
	char		*argv[] = { (char *)W.cf->sendmail, "-i", "-f",
	    W.cf->from, "--", (char *)b->to, NULL };
	struct pollfd	 pfd;
	time_t		 deadline = time(NULL) + MAIL_SEND_SECS;
	size_t		 off = 0;
	ssize_t		 n;
	pid_t		 pid;
	int		 p[2], st = 0, rc;

	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(o->error, sizeof(o->error), "sendmail: pipe: %s",
		    strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	rc = posix_spawn(&pid, W.cf->sendmail, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	if (rc != 0) {
		close(p[1]);
		snprintf(o->error, sizeof(o->error), "sendmail: %s",
		    strerror(rc));
		return -1;
	}
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	while (off < b->len && time(NULL) < deadline) {
		pfd.fd = p[1];
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if ((n = write(p[1], b->data + off, b->len - off)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	close(p[1]);
	while ((rc = waitpid(pid, &st, WNOHANG)) == 0 &&
	    time(NULL) < deadline)
		usleep(20000);
	if (rc == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		snprintf(o->error, sizeof(o->error), "sendmail: no answer in "
		    "%d s", MAIL_SEND_SECS);
		return -1;
	}
	if (off == b->len && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st)) {
		o->permanent = WEXITSTATUS(st) == 67 || WEXITSTATUS(st) == 68;
		snprintf(o->error, sizeof(o->error), "sendmail: exit %d",
		    WEXITSTATUS(st));
	} else
		snprintf(o->error, sizeof(o->error), "sendmail: killed by "
		    "signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return -1;
}

/* Build, deliver and note the outcome of one message. */
static void
deliver(json_t *m)
{
	struct outcome	*o = &W.pending[W.npending++];
	struct mail_built	 b;
	int		 rc;

	memset(o, 0, sizeof(*o));
	o->id = json_integer_value(json_object_get(m, "id"));
	if ((rc = mail_build(W.cf, &W.tkey, m, &b, o->error,
	    sizeof(o->error))) < 0) {
		o->permanent = rc == -2;
		rc = -1;
	} else {
		rc = W.cf->smtp != NULL ? send_smtp(&b, o) :
		    send_sendmail(&b, o);
		sodium_memzero(b.data, b.len);
		free(b.data);
		sodium_memzero(b.to, sizeof(b.to));
	}
	o->ok = rc == 0;
	pthread_mutex_lock(&W.mu);
	if (o->ok)
		W.stats.delivered++;
	else
		W.stats.attempt_failures++;
	pthread_mutex_unlock(&W.mu);
	if (o->ok)
		log_info("mail #%lld (%s) sent", o->id,
		    json_string_value(json_object_get(m, "kind")));
}

/* Hand back claimed rows not attempted (stopping). */
static void
release(struct db_conn *pg, json_t *batch, size_t from)
{
	struct evbuffer	*ids = evbuffer_new();
	const char	*vals[1];
	struct db_res *res;
	size_t		 i;

	if (ids == NULL)
		return;
	evbuffer_add(ids, "{", 1);
	for (i = from; i < json_array_size(batch); i++)
		evbuffer_add_printf(ids, "%s%lld", i > from ? "," : "",
		    (long long)json_integer_value(json_object_get(
		    json_array_get(batch, i), "id")));
	evbuffer_add(ids, "}", 2);
	vals[0] = (const char *)evbuffer_pullup(ids, -1);
	if ((res = run(pg, SQL_MAIL_RELEASE, vals, 1)) != NULL)
		db_res_free(res);
	evbuffer_free(ids);
}

/* Claim a batch and send it. Returns how many were claimed, -1 on loss. */
static int
batch(struct db_conn *pg)
{
	char		 lim[16], lease[16];
	const char	*vals[2] = { lim, lease };
	struct db_res *res;
	json_t		*msgs;
	size_t		 i, n;

	if (load_ticket_key(pg) == -1 && !db_conn_ok(pg))
		return -1;
	snprintf(lim, sizeof(lim), "%d", MAIL_BATCH);
	snprintf(lease, sizeof(lease), "%d", MAIL_LEASE_SECS);
	if ((res = run(pg, SQL_MAIL_CLAIM, vals, 2)) == NULL)
		return -1;
	msgs = json_loads(db_value(res, 0, 0), 0, NULL);
	/* The rows carry sealed secrets: no clear text, but wipe anyway. */
	db_res_wipe(res);
	db_res_free(res);
	if ((n = json_array_size(msgs)) == 0) {
		json_decref(msgs);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (stopping()) {
			release(pg, msgs, i);
			break;
		}
		deliver(json_array_get(msgs, i));
		if (flush_outcomes(pg) == -1) {
			/* The rest stay claimed until their lease runs out. */
			json_decref(msgs);
			return -1;
		}
	}
	json_decref(msgs);
	return (int)n;
}

/*
 * The sender thread: send due messages in batches and refresh the outbox
 * counts until stopped, reconnecting with backoff when the database is
 * lost; after a reconnect, outcomes not yet recorded are written first.
 */
static void *
worker_main(void *arg)
{
	struct db_conn *pg = NULL;
	time_t	 stats_at = 0, totals_at = 0;
	int	 backoff = 0, n;

	(void)arg;
	g_mime_init();
	while (!stopping()) {
		if (pg == NULL) {
			if ((pg = worker_connect()) == NULL) {
				backoff = backoff ? backoff * 2 : 250;
				if (backoff > 5000)
					backoff = 5000;
				worker_wait(NULL, backoff);
				continue;
			}
			backoff = 0;
			if (flush_outcomes(pg) == -1)
				goto lost;
		}
		if (time(NULL) - stats_at >= MAIL_STATS_SECS) {
			if (refresh_stats(pg, &totals_at) == -1)
				goto lost;
			stats_at = time(NULL);
		}
		n = delivering() ? batch(pg) : 0;
		if (n == -1)
			goto lost;
		if (n > 0) {
			stats_at = 0;	/* counts changed: show them soon */
			continue;
		}
		if (worker_wait(pg, MAIL_POLL_MS) == -1)
			goto lost;
		continue;
lost:
		db_close(pg);
		pg = NULL;
	}
	db_close(pg);
	if (W.curl != NULL)
		curl_easy_cleanup(W.curl);
	W.curl = NULL;
	tkey_clear();
	g_mime_shutdown();
	return NULL;
}

/* Start the sender's thread (it also keeps the outbox counts). */
int
mail_worker_start(struct mail_settings *cf)
{
	W.cf = cf;
	W.stats.enabled = delivering();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	if (pipe2(W.wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("mail: pipe");
		return -1;
	}
	if (pthread_create(&W.thread, NULL, worker_main, NULL) != 0) {
		log_warnx("mail: cannot start the sender thread");
		return -1;
	}
	return 0;
}

/* Ask the thread to stop and wait for it. */
void
mail_worker_stop(void)
{
	pthread_mutex_lock(&W.mu);
	W.stopping = 1;
	pthread_mutex_unlock(&W.mu);
	if (write(W.wake[1], "x", 1) == -1)
		log_warn("mail: cannot wake the sender");
	pthread_join(W.thread, NULL);
	close(W.wake[0]);
	close(W.wake[1]);
	W.wake[0] = W.wake[1] = -1;
	curl_global_cleanup();
}

/* A copy of the counts for /metrics. */
void
mail_worker_stats(struct mail_stats *s)
{
	pthread_mutex_lock(&W.mu);
	*s = W.stats;
	pthread_mutex_unlock(&W.mu);
}
