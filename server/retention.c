/*
 * Retention: personal data that has served its purpose goes on its own.
 * rc_retention (sql/functions/retention.sql) deletes the leads, and so
 * the sponsors' notes, of events that ended more than lead_retention_days
 * ago, and the error texts of outbox rows finished more than a week ago.
 * It runs shortly after start and then every RETENTION_SECS, on the event
 * loop like any query; several servers sharing one database each run it,
 * which is harmless (the second run finds nothing left to do).
 */
#include <stdio.h>

#include <event2/event.h>
#include <jansson.h>

#include "server.h"

static struct event	*retention_ev;
static char		 lead_days[16];

static void	retention_arm(int);

/* The outcome of one run: log what went, then wait for the next. */
static void
retention_done(void *arg, struct db_res *res, enum db_err err)
{
	json_t		*j;
	json_int_t	 leads, errors;

	(void)arg;
	if (err != DB_OK || res == NULL || (j = db_json(res)) == NULL) {
		log_warnx("rc_retention failed (%s); trying again in %d s",
		    err != DB_OK || res == NULL ? "no database" :
		    db_error(res), RETENTION_RETRY_SECS);
		retention_arm(RETENTION_RETRY_SECS);
		return;
	}
	leads = json_integer_value(json_object_get(j, "leads_expired"));
	errors = json_integer_value(json_object_get(j,
	    "outbox_errors_cleared"));
	if (leads > 0 || errors > 0)
		log_info("retention: %lld leads expired, %lld outbox error "
		    "texts cleared", (long long)leads, (long long)errors);
	else
		log_debug("retention: nothing expired");
	json_decref(j);
	retention_arm(RETENTION_SECS);
}

/* The timer: run rc_retention, or try again soon if it cannot be sent. */
static void
retention_run(evutil_socket_t fd, short what, void *arg)
{
	const char	*vals[1] = { lead_days };

	(void)fd;
	(void)what;
	(void)arg;
	if (db_exec(SQL_RETENTION, vals, 1, retention_done, NULL) != DB_OK)
		retention_arm(RETENTION_RETRY_SECS);
}

/* Run again in secs seconds. */
static void
retention_arm(int secs)
{
	struct timeval	 tv = { secs, 0 };

	if (retention_ev != NULL && event_add(retention_ev, &tv) == -1)
		log_warnx("cannot schedule the next retention run");
}

/* Start the runs: the first a second from now, then every hour. */
int
retention_start(struct event_base *base, int days)
{
	snprintf(lead_days, sizeof(lead_days), "%d", days);
	if ((retention_ev = evtimer_new(base, retention_run, NULL)) == NULL)
		return -1;
	retention_arm(1);
	return 0;
}

/* Stop the runs (a run in flight finishes; its reply arms nothing). */
void
retention_stop(void)
{
	if (retention_ev != NULL)
		event_free(retention_ev);
	retention_ev = NULL;
}
