/*
 * The database: a pool of non-blocking libpq connections watched by the
 * event loop, every statement prepared when a connection comes up.
 *
 * A query is handed to an idle connection at once, or waits in a bounded
 * FIFO queue. A caller learns the outcome only through its callback, which
 * runs on the loop; the loop itself never waits for PostgreSQL.
 *
 * When PostgreSQL goes away, each connection notices on its own socket,
 * fails its query (the caller answers 503), and reconnects with back-off.
 * While no connection is up, db_exec() refuses at once (DB_EDOWN) rather
 * than queueing work that may never run.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "server.h"

/*
 * Every statement the daemon runs. The PL/pgSQL functions named here live
 * in sql/; each one is a single round trip and a single transaction.
 */
const struct sql_stmt sqls[SQL__MAX] = {
	[SQL_PING] = { "ping", "SELECT 1", 0 },
	[SQL_TOKEN_LOOKUP] = { "token_lookup",
	    "SELECT role, name, events, coalesce(sponsor_id, 0) "
	    "FROM tokens WHERE jti = $1 AND revoked_at IS NULL "
	    "AND expires_at > now()", 1 },
	[SQL_TOKEN_ISSUE] = { "token_issue",
	    "SELECT rc_token_issue($1, $2, $3, $4::bigint[], "
	    "nullif($5, '')::bigint, to_timestamp($6::bigint), $7, "
	    "$8::bigint[])::text", 8 },
	[SQL_TOKEN_REVOKE] = { "token_revoke",
	    "SELECT rc_token_revoke($1, $2, $3, $4::bigint[])::text", 4 },
	[SQL_EVENT_LIST] = { "event_list",
	    "SELECT rc_event_list($1, $2)::text", 2 },
	[SQL_EVENT_GET] = { "event_get",
	    "SELECT rc_event_get($1::bigint, $2::boolean)::text", 2 },
	[SQL_EVENT_CREATE] = { "event_create",
	    "SELECT rc_event_create($1::jsonb, $2)::text", 2 },
	[SQL_EVENT_UPDATE] = { "event_update",
	    "SELECT rc_event_update($1::bigint, $2::jsonb, $3)::text", 3 },
	[SQL_SERIES_CREATE] = { "series_create",
	    "SELECT rc_series_create($1::jsonb, $2)::text", 2 },
	[SQL_REGISTER] = { "register",
	    "SELECT rc_register($1::bigint, $2::jsonb, decode($3, 'hex'), "
	    "decode($4, 'hex'), decode($5, 'hex'))::text", 5 },
	[SQL_REG_GET] = { "reg_get",
	    "SELECT rc_registration_get(decode($1, 'hex'))::text", 1 },
	[SQL_REG_CONSENT] = { "reg_consent",
	    "SELECT rc_registration_consent(decode($1, 'hex'), $2::jsonb)::text",
	    2 },
	[SQL_REG_CANCEL] = { "reg_cancel",
	    "SELECT rc_registration_cancel(decode($1, 'hex'))::text", 1 },
	[SQL_REG_LIST] = { "reg_list",
	    "SELECT rc_registration_list($1::bigint, $2, $3::integer, "
	    "$4::integer)::text", 4 },
	[SQL_TICKET_KEYS] = { "ticket_keys",
	    "SELECT kid, public_pem, private_pem, retired_at IS NULL "
	    "FROM ticket_keys ORDER BY created_at DESC", 0 },
	[SQL_TICKET_GET] = { "ticket_get",
	    "SELECT rc_ticket_get(decode($1, 'hex'))::text", 1 },
	[SQL_CHECKIN_BATCH] = { "checkin_batch",
	    "SELECT rc_checkin_upload($1, $2::bigint[], $3, $4::jsonb)::text",
	    4 },
	[SQL_OFFLINE_BUNDLE] = { "offline_bundle",
	    "SELECT rc_offline_bundle($1::bigint)::text", 1 },
	[SQL_JOIN] = { "join",
	    "SELECT rc_join(decode($1, 'hex'))::text", 1 },
	[SQL_TICKET_REISSUE] = { "ticket_reissue",
	    "SELECT rc_ticket_reissue(decode($1, 'hex'))::text", 1 },
	[SQL_SPONSOR_CREATE] = { "sponsor_create",
	    "SELECT rc_sponsor_create($1::bigint, $2, $3)::text", 3 },
	[SQL_LEAD_CAPTURE] = { "lead_capture",
	    "SELECT rc_lead_capture($1::bigint, $2::jsonb, $3, $4::integer, "
	    "$5)::text", 5 },
	[SQL_LEADS] = { "leads",
	    "SELECT rc_leads($1::bigint, $2::bigint[], $3::bigint)::text", 3 },
	[SQL_LEADS_CSV] = { "leads_csv",
	    "SELECT rc_leads_csv($1::bigint, $2::bigint[], $3::bigint, $4)", 4 },
	[SQL_ATTENDANCE_CSV] = { "attendance_csv",
	    "SELECT rc_attendance_csv($1::bigint, $2)", 2 },
	[SQL_REG_ERASE] = { "reg_erase",
	    "SELECT rc_registration_erase(decode($1, 'hex'))::text", 1 },
	[SQL_EVENT_SHRED] = { "event_shred",
	    "SELECT rc_event_shred($1::bigint, $2)::text", 2 },
	[SQL_AUDIT] = { "audit",
	    "SELECT rc_audit($1::bigint, $2::integer, $3::integer)::text", 3 },
	[SQL_RESEND] = { "resend",
	    "SELECT rc_resend($1::bigint, $2, decode($3, 'hex'), "
	    "decode($4, 'hex'), decode($5, 'hex'))", 5 },
	/* The mail sender's, on its own connection (mail_worker.c). */
	[SQL_MAIL_CLAIM] = { "mail_claim",
	    "SELECT rc_outbox_claim($1::integer, $2::integer)::text", 2 },
	[SQL_MAIL_DONE] = { "mail_done",
	    "SELECT rc_outbox_done($1::bigint, $2::boolean, $3, $4::boolean)", 4 },
	[SQL_MAIL_RELEASE] = { "mail_release",
	    "SELECT rc_outbox_release($1::bigint[])", 1 },
	[SQL_MAIL_STATS] = { "mail_stats",
	    "SELECT rc_outbox_stats()::text", 0 },
	[SQL_AGENDA_SET] = { "agenda_set",
	    "SELECT rc_agenda_set($1::bigint, $2::jsonb, $3)::text", 3 },
	[SQL_CHECKIN_DOOR] = { "checkin_door",
	    "SELECT rc_checkin_door($1, $2, $3::bigint, $4::jsonb, $5, "
	    "$6)::text", 6 },
	[SQL_CHECKIN_GROUP] = { "checkin_group",
	    "SELECT ord, status, code, body FROM rc_checkin_group($1::jsonb)",
	    1 },
};

enum conn_state {
	C_DOWN,
	C_CONNECTING,
	C_PREPARING,
	C_IDLE,
	C_BUSY,
};

struct job {
	TAILQ_ENTRY(job)	 entry;
	enum sql_id		 id;
	int			 n;
	char			*vals[8];
	db_cb			 cb;
	void			*arg;
	struct timespec		 queued;
};
TAILQ_HEAD(jobq, job);

struct conn {
	PGconn		*pg;
	struct event	*ev;		/* socket readiness */
	struct event	*timer;		/* reconnect back-off */
	enum conn_state	 state;
	int		 prep;		/* next statement to prepare */
	struct job	*job;		/* query in flight */
	PGresult	*res;		/* its first result */
	int		 backoff_ms;
	int		 fd;
	short		 evflags;
};

static struct {
	struct event_base	*base;
	char			*conninfo;
	struct conn		*conns;
	int			 nconns;
	struct jobq		 queue;
	int			 nqueued;
	int			 maxqueued;
	struct event		*sweep;
	int			 stopping;
} pool;

static void	conn_start(struct conn *);
static void	conn_cb(evutil_socket_t, short, void *);
static void	pool_dispatch(void);

static double
elapsed(const struct timespec *since)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) +
	    (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* The database named by --db, else ROLLCALL_DB, else libpq's defaults. */
const char *
db_conninfo(const char *flag)
{
	const char	*env;

	if (flag != NULL)
		return flag;
	if ((env = getenv("ROLLCALL_DB")) != NULL)
		return env;
	return "";
}

/*
 * A random secret of len bytes kept in `secrets` under name: created by the
 * first process that asks (of several starting at once, ON CONFLICT lets
 * one win), then read back, whichever was kept. Blocking: start-up only.
 */
int
db_secret(PGconn *pg, const char *name, unsigned char *out, size_t len)
{
	unsigned char	 fresh[64];
	const char	*vals[2] = { name, (const char *)fresh };
	int		 lens[2] = { 0, (int)len };
	int		 fmts[2] = { 0, 1 };
	PGresult	*res;
	int		 rc = -1;

	if (len > sizeof(fresh))
		abort();	/* a programming error */
	randombytes_buf(fresh, len);
	res = PQexecParams(pg, "INSERT INTO secrets (name, value) "
	    "VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", 2, NULL, vals,
	    lens, fmts, 1);
	sodium_memzero(fresh, sizeof(fresh));
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_warnx("cannot store the secret %s (has `rollcalld migrate` "
		    "run?): %s", name, PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	res = PQexecParams(pg, "SELECT value FROM secrets WHERE name = $1",
	    1, NULL, vals, NULL, NULL, 1);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    PQgetlength(res, 0, 0) == (int)len) {
		memcpy(out, PQgetvalue(res, 0, 0), len);
		rc = 0;
	} else
		log_warnx("cannot read the secret %s", name);
	/* PQclear does not wipe: do it ourselves. */
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		sodium_memzero(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0));
	PQclear(res);
	return rc;
}

/* A blocking connection for the command-line tools (never the server loop). */
PGconn *
db_connect_blocking(const char *conninfo)
{
	PGconn	*pg;

	pg = PQconnectdb(conninfo);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		log_warnx("cannot connect to the database: %s",
		    pg ? PQerrorMessage(pg) : "out of memory");
		PQfinish(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg, NULL, NULL);
	return pg;
}

static void
job_free(struct job *j)
{
	free(j);
}

/* Finish a job with an outcome; the callback may queue more work. */
static void
job_finish(struct job *j, PGresult *res, enum db_err err)
{
	db_cb	 cb = j->cb;
	void	*arg = j->arg;

	job_free(j);
	cb(arg, res, err);
}

static int
pool_live(void)
{
	int	 i;

	for (i = 0; i < pool.nconns; i++)
		if (pool.conns[i].state == C_IDLE ||
		    pool.conns[i].state == C_BUSY)
			return 1;
	return 0;
}

/* Watch the connection's socket for the given readiness. */
static int
conn_watch(struct conn *c, short what)
{
	int	 fd = PQsocket(c->pg);

	if (fd < 0)
		return -1;
	if (c->ev != NULL && (c->fd != fd || c->evflags != what)) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->ev == NULL) {
		c->ev = event_new(pool.base, fd, what, conn_cb, c);
		if (c->ev == NULL)
			return -1;
		c->fd = fd;
		c->evflags = what;
	}
	return event_add(c->ev, NULL);
}

static void
conn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_start(arg);
}

/*
 * Drop a broken connection: fail its query, schedule a reconnect.
 * When it was the last live one, fail everything still queued.
 */
static void
conn_fail(struct conn *c, const char *why)
{
	struct job	*j = c->job;
	struct timeval	 tv;
	struct job	*q;

	if (pool.stopping)
		log_debug("closing database connection");
	else if (c->state != C_CONNECTING || c->backoff_ms == 0)
		log_warnx("database connection lost: %s", why);
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->res != NULL) {
		PQclear(c->res);
		c->res = NULL;
	}
	PQfinish(c->pg);
	c->pg = NULL;
	c->job = NULL;
	c->state = C_DOWN;
	metrics_db_error();

	if (!pool.stopping) {
		c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : 100;
		if (c->backoff_ms > 5000)
			c->backoff_ms = 5000;
		tv.tv_sec = c->backoff_ms / 1000;
		tv.tv_usec = (c->backoff_ms % 1000) * 1000;
		evtimer_add(c->timer, &tv);
	}
	if (j != NULL)
		job_finish(j, NULL, DB_EDOWN);
	if (!pool_live()) {
		while ((q = TAILQ_FIRST(&pool.queue)) != NULL) {
			TAILQ_REMOVE(&pool.queue, q, entry);
			pool.nqueued--;
			job_finish(q, NULL, DB_EDOWN);
		}
	}
}

/* Flush what libpq holds; wait for writability when the socket is full. */
static int
conn_flush(struct conn *c)
{
	int	 rc = PQflush(c->pg);

	if (rc < 0)
		return -1;
	return conn_watch(c, rc == 1 ? EV_READ | EV_WRITE : EV_READ);
}

static void
conn_prepare_next(struct conn *c)
{
	const struct sql_stmt *s = &sqls[c->prep];

	if (!PQsendPrepare(c->pg, s->name, s->text, s->nparams, NULL) ||
	    conn_flush(c) == -1)
		conn_fail(c, PQerrorMessage(c->pg));
}

/* Send a job's query on an idle connection. */
static void
conn_send(struct conn *c, struct job *j)
{
	c->job = j;
	c->state = C_BUSY;
	if (!PQsendQueryPrepared(c->pg, sqls[j->id].name, j->n,
	    (const char *const *)j->vals, NULL, NULL, 0) ||
	    conn_flush(c) == -1)
		conn_fail(c, PQerrorMessage(c->pg));
}

/* An idle connection still watches its socket, to notice a lost server. */
static void
conn_idle_watch(struct conn *c)
{
	if (c->state == C_IDLE && conn_watch(c, EV_READ) == -1)
		conn_fail(c, "cannot watch socket");
}

/* One command is complete: its results are all read. */
static void
conn_command_done(struct conn *c)
{
	PGresult	*res = c->res;
	struct job	*j = c->job;

	c->res = NULL;
	if (c->state == C_PREPARING) {
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_warnx("cannot prepare %s: %s", sqls[c->prep].name,
			    res ? PQresultErrorMessage(res) : "no result");
			PQclear(res);
			conn_fail(c, "prepare failed");
			return;
		}
		PQclear(res);
		if (++c->prep < SQL__MAX) {
			conn_prepare_next(c);
			return;
		}
		if (c->backoff_ms)
			log_info("database connection restored");
		c->backoff_ms = 0;
		c->state = C_IDLE;
		pool_dispatch();
		conn_idle_watch(c);
		return;
	}
	/* Detach everything before the callback: it may send more work. */
	c->job = NULL;
	c->state = C_IDLE;
	if (j != NULL)
		job_finish(j, res, DB_OK);
	PQclear(res);
	pool_dispatch();
	conn_idle_watch(c);
}

static void
conn_connect_step(struct conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		if (conn_watch(c, EV_READ) == -1)
			conn_fail(c, "cannot watch socket");
		return;
	case PGRES_POLLING_WRITING:
		if (conn_watch(c, EV_WRITE) == -1)
			conn_fail(c, "cannot watch socket");
		return;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(c->pg, 1) == -1) {
			conn_fail(c, PQerrorMessage(c->pg));
			return;
		}
		PQsetNoticeProcessor(c->pg, NULL, NULL);
		c->state = C_PREPARING;
		c->prep = 0;
		if (c->ev != NULL) {
			event_free(c->ev);
			c->ev = NULL;
		}
		conn_prepare_next(c);
		return;
	default:
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	PGresult	*r;

	(void)fd;
	if (c->state == C_CONNECTING) {
		conn_connect_step(c);
		return;
	}
	if (what & EV_WRITE) {
		if (conn_flush(c) == -1) {
			conn_fail(c, PQerrorMessage(c->pg));
			return;
		}
	}
	if (!(what & EV_READ)) {
		return;
	}
	if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (c->state == C_IDLE) {
		/* Nothing expected: drain notices; re-arm. */
		if (conn_watch(c, EV_READ) == -1)
			conn_fail(c, "cannot watch socket");
		return;
	}
	while (!PQisBusy(c->pg)) {
		if ((r = PQgetResult(c->pg)) == NULL) {
			conn_command_done(c);
			return;
		}
		if (c->res == NULL)
			c->res = r;
		else
			PQclear(r);
	}
	if (conn_watch(c, c->evflags) == -1)
		conn_fail(c, "cannot watch socket");
}

/* Begin connecting; progress continues in conn_cb. */
static void
conn_start(struct conn *c)
{
	char		 opts[128];
	const char	*keys[] = { "dbname", "application_name", "options",
	    "connect_timeout", NULL };
	const char	*vals[5];

	snprintf(opts, sizeof(opts), "-c statement_timeout=%d -c TimeZone=UTC",
	    DB_STMT_TIMEOUT_MS);
	vals[0] = pool.conninfo;
	vals[1] = "rollcalld";
	vals[2] = opts;
	vals[3] = "5";
	vals[4] = NULL;
	c->pg = PQconnectStartParams(keys, vals, 1);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
		c->state = C_CONNECTING;
		conn_fail(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
		return;
	}
	c->state = C_CONNECTING;
	/* As the libpq manual says: begin as if PQconnectPoll said WRITING. */
	if (conn_watch(c, EV_WRITE) == -1)
		conn_fail(c, "cannot watch socket");
}

/* Hand queued jobs to idle connections; expire jobs that waited too long. */
static void
pool_dispatch(void)
{
	struct job	*j;
	int		 i;

	while ((j = TAILQ_FIRST(&pool.queue)) != NULL) {
		if (elapsed(&j->queued) > DB_WAITSECS) {
			TAILQ_REMOVE(&pool.queue, j, entry);
			pool.nqueued--;
			job_finish(j, NULL, DB_EBUSY);
			continue;
		}
		for (i = 0; i < pool.nconns; i++)
			if (pool.conns[i].state == C_IDLE)
				break;
		if (i == pool.nconns)
			return;
		TAILQ_REMOVE(&pool.queue, j, entry);
		pool.nqueued--;
		conn_send(&pool.conns[i], j);
	}
}

static void
pool_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	pool_dispatch();
}

/*
 * Run a prepared statement. The parameters are copied. Returns DB_OK when
 * the callback will run later, otherwise the reason it will not run.
 */
enum db_err
db_exec(enum sql_id id, const char *const *vals, int n, db_cb cb, void *arg)
{
	struct job	*j;
	size_t		 len, sz = sizeof(*j);
	char		*p;
	int		 i;

	if (!pool_live())
		return DB_EDOWN;
	if (pool.nqueued >= pool.maxqueued)
		return DB_EBUSY;
	if (n > (int)(sizeof(j->vals) / sizeof(j->vals[0])))
		abort();	/* a programming error, not input */
	for (i = 0; i < n; i++)
		if (vals[i] != NULL)
			sz += strlen(vals[i]) + 1;
	if ((j = calloc(1, sz)) == NULL)
		return DB_EBUSY;
	p = (char *)(j + 1);
	for (i = 0; i < n; i++) {
		if (vals[i] == NULL)
			continue;
		len = strlen(vals[i]) + 1;
		memcpy(p, vals[i], len);
		j->vals[i] = p;
		p += len;
	}
	j->id = id;
	j->n = n;
	j->cb = cb;
	j->arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &j->queued);
	TAILQ_INSERT_TAIL(&pool.queue, j, entry);
	pool.nqueued++;
	pool_dispatch();
	return DB_OK;
}

/* How many queries may wait for a connection (--queue). */
int
db_queue_max(void)
{
	return pool.maxqueued;
}

/* Start the pool; connections come up in the background. */
int
db_pool_start(struct event_base *base, const char *conninfo, int size,
    int maxqueued)
{
	struct timeval	 tv = { 1, 0 };
	int		 i;

	pool.base = base;
	pool.maxqueued = maxqueued;
	if ((pool.conninfo = strdup(conninfo)) == NULL)
		return -1;
	TAILQ_INIT(&pool.queue);
	if ((pool.conns = calloc((size_t)size, sizeof(*pool.conns))) == NULL)
		return -1;
	pool.nconns = size;
	for (i = 0; i < size; i++) {
		pool.conns[i].timer = evtimer_new(base, conn_retry_cb,
		    &pool.conns[i]);
		if (pool.conns[i].timer == NULL)
			return -1;
		pool.conns[i].fd = -1;
	}
	pool.sweep = event_new(base, -1, EV_PERSIST, pool_sweep_cb, NULL);
	if (pool.sweep == NULL || event_add(pool.sweep, &tv) == -1)
		return -1;
	for (i = 0; i < size; i++)
		conn_start(&pool.conns[i]);
	return 0;
}

/* Close every connection; queued work is failed. */
void
db_pool_stop(void)
{
	struct conn	*c;
	int		 i;

	pool.stopping = 1;
	for (i = 0; i < pool.nconns; i++) {
		c = &pool.conns[i];
		if (c->state != C_DOWN)
			conn_fail(c, "shutting down");
		event_free(c->timer);
	}
	if (pool.sweep != NULL)
		event_free(pool.sweep);
	free(pool.conns);
	free(pool.conninfo);
	memset(&pool, 0, sizeof(pool));
}

/* Connections in total, idle, busy, and queries waiting. */
void
db_pool_stats(int *total, int *idle, int *busy, int *waiting)
{
	int	 i;

	*total = *idle = *busy = 0;
	for (i = 0; i < pool.nconns; i++) {
		if (pool.conns[i].state == C_IDLE)
			(*idle)++;
		else if (pool.conns[i].state == C_BUSY)
			(*busy)++;
		else
			continue;
		(*total)++;
	}
	*waiting = pool.nqueued;
}
