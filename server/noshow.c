/*
 * No-shows: the periodic job that asks confirmed attendees to reconfirm
 * and releases the seats of those who did not (rc_noshow_run in
 * sql/functions/noshow.sql), run from a timer on the event loop of every
 * server process.
 *
 * Every server runs it, against one database: the function takes care
 * that a registration is asked once and an event's seats are released
 * once, however many servers call it at the same moment. A run still in
 * flight is not started again by the next tick, so a slow database sees
 * at most one of this process's runs at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "server.h"

static struct event	*tick_ev;
static int		 running;
static unsigned long long runs, asked, released;

/* The job's answer: counts to add up and log (the pool frees res). */
static void
noshow_done(void *arg, struct db_res *res, enum db_err err)
{
	json_t	*o;
	long long a, rl, p;

	(void)arg;
	running = 0;
	if (err != DB_OK || !db_ok(res) || db_rows(res) != 1) {
		if (err == DB_OK)
			log_warnx("no-show job failed: %s", db_error(res));
		return;
	}
	runs++;
	if ((o = json_loads(db_value(res, 0, 0), 0, NULL)) != NULL) {
		a = json_integer_value(json_object_get(o, "asked"));
		rl = json_integer_value(json_object_get(o, "released"));
		p = json_integer_value(json_object_get(o, "promoted"));
		asked += (unsigned long long)a;
		released += (unsigned long long)rl;
		if (a > 0 || rl > 0)
			log_info("no-shows: asked %lld to reconfirm, released "
			    "%lld seats, promoted %lld", a, rl, p);
		json_decref(o);
	}
}

/* A tick: run the job unless the last run is still in flight. */
static void
noshow_tick(evutil_socket_t fd, short what, void *arg)
{
	static char	 limit[16];
	const char	*vals[1] = { limit };

	(void)fd;
	(void)what;
	(void)arg;
	if (running)
		return;
	snprintf(limit, sizeof(limit), "%d", NOSHOW_BATCH);
	if (db_exec(SQL_NOSHOW_RUN, vals, 1, noshow_done, NULL) == DB_OK)
		running = 1;
}

/* Run the job every secs seconds, the first time at once. */
int
noshow_start(struct event_base *base, int secs)
{
	struct timeval	 tv = { secs, 0 };

	tick_ev = event_new(base, -1, EV_PERSIST, noshow_tick, NULL);
	if (tick_ev == NULL || event_add(tick_ev, &tv) == -1)
		return -1;
	event_active(tick_ev, EV_TIMEOUT, 0);
	return 0;
}

/* Stop the timer; a run in flight ends with the pool. */
void
noshow_stop(void)
{
	if (tick_ev != NULL)
		event_free(tick_ev);
	tick_ev = NULL;
}

/* This process's counts, for /metrics. */
void
noshow_stats(unsigned long long *nruns, unsigned long long *nasked,
    unsigned long long *nreleased)
{
	*nruns = runs;
	*nasked = asked;
	*nreleased = released;
}
