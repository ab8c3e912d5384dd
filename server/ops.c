/*
 * Operations: /healthz (a real database round trip) and /metrics in the
 * Prometheus text format, gathered from the counters each part keeps
 * (metrics.c, db.c, checkin.c, mail.c). Each server process reports its
 * own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "server.h"

/* Reply with the metrics rendered into b (which is freed). */
static void
metrics_done(struct req *r, struct evbuffer *b)
{
	struct evbuffer	*out = b;
	size_t		 len = evbuffer_get_length(out);
	char		*text;

	if ((text = malloc(len + 1)) == NULL) {
		evbuffer_free(out);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	evbuffer_remove(out, text, len);
	text[len] = '\0';
	evbuffer_free(out);
	http_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    text);
	free(text);
}

/* GET /metrics */
void
ops_metrics(struct req *r)
{
	struct evbuffer		*b;
	uint64_t		 groups, grouped, hits, misses;
	unsigned long long	 runs, asked, released;
	int			 total, idle, busy, waiting, entries, regwait;
	size_t			 bytes;

	if ((b = evbuffer_new()) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	metrics_render(b);
	db_pool_stats(&total, &idle, &busy, &waiting);
	evbuffer_add_printf(b,
	    "# HELP rollcall_db_pool_connections Pooled database connections "
	    "that are up, by state.\n"
	    "# TYPE rollcall_db_pool_connections gauge\n"
	    "rollcall_db_pool_connections{state=\"idle\"} %d\n"
	    "rollcall_db_pool_connections{state=\"busy\"} %d\n"
	    "# HELP rollcall_db_pool_waiting Queries waiting for a "
	    "connection.\n"
	    "# TYPE rollcall_db_pool_waiting gauge\n"
	    "rollcall_db_pool_waiting %d\n"
	    "# HELP rollcall_db_errors_total Lost connections and unexpected "
	    "database errors.\n"
	    "# TYPE rollcall_db_errors_total counter\n"
	    "rollcall_db_errors_total %llu\n"
	    "# HELP rollcall_http_inflight Requests being answered.\n"
	    "# TYPE rollcall_http_inflight gauge\n"
	    "rollcall_http_inflight %d\n",
	    idle, busy, waiting, db_error_count(), http_inflight());
	checkin_group_stats(&groups, &grouped);
	evbuffer_add_printf(b,
	    "# HELP rollcall_checkin_groups_total Statements that decided "
	    "door scans (scans arriving together share one).\n"
	    "# TYPE rollcall_checkin_groups_total counter\n"
	    "rollcall_checkin_groups_total %llu\n"
	    "# HELP rollcall_checkin_grouped_scans_total Door scans those "
	    "statements carried.\n"
	    "# TYPE rollcall_checkin_grouped_scans_total counter\n"
	    "rollcall_checkin_grouped_scans_total %llu\n",
	    (unsigned long long)groups, (unsigned long long)grouped);
	registration_group_stats(&groups, &grouped, &regwait);
	evbuffer_add_printf(b,
	    "# HELP rollcall_registration_groups_total Statements that "
	    "decided registrations (those arriving together share one).\n"
	    "# TYPE rollcall_registration_groups_total counter\n"
	    "rollcall_registration_groups_total %llu\n"
	    "# HELP rollcall_registration_grouped_total Registrations those "
	    "statements carried.\n"
	    "# TYPE rollcall_registration_grouped_total counter\n"
	    "rollcall_registration_grouped_total %llu\n"
	    "# HELP rollcall_registration_waiting Registrations waiting for "
	    "the next group (theirs is busy with an event of theirs, or "
	    "every group is out).\n"
	    "# TYPE rollcall_registration_waiting gauge\n"
	    "rollcall_registration_waiting %d\n",
	    (unsigned long long)groups, (unsigned long long)grouped, regwait);
	evbuffer_add_printf(b,
	    "# HELP rollcall_keyring_reloads_total Reads of the ticket keys "
	    "caused by tickets with a kid this server did not hold (a live "
	    "door token's; at most one a second).\n"
	    "# TYPE rollcall_keyring_reloads_total counter\n"
	    "rollcall_keyring_reloads_total %llu\n", keyring_reload_count());
	noshow_stats(&runs, &asked, &released);
	evbuffer_add_printf(b,
	    "# HELP rollcall_noshow_runs_total Runs of the no-show job "
	    "(this process).\n"
	    "# TYPE rollcall_noshow_runs_total counter\n"
	    "rollcall_noshow_runs_total %llu\n"
	    "# HELP rollcall_noshow_asked_total Attendees asked to "
	    "reconfirm (this process).\n"
	    "# TYPE rollcall_noshow_asked_total counter\n"
	    "rollcall_noshow_asked_total %llu\n"
	    "# HELP rollcall_noshow_released_total Unconfirmed seats "
	    "released to the waitlist (this process).\n"
	    "# TYPE rollcall_noshow_released_total counter\n"
	    "rollcall_noshow_released_total %llu\n", runs, asked, released);
	cache_stats(&hits, &misses, &entries, &bytes);
	evbuffer_add_printf(b,
	    "# HELP rollcall_cache_requests_total Public reads looked up in "
	    "the read cache, by outcome.\n"
	    "# TYPE rollcall_cache_requests_total counter\n"
	    "rollcall_cache_requests_total{result=\"hit\"} %llu\n"
	    "rollcall_cache_requests_total{result=\"miss\"} %llu\n"
	    "# HELP rollcall_cache_entries Replies kept in the read cache.\n"
	    "# TYPE rollcall_cache_entries gauge\n"
	    "rollcall_cache_entries %d\n"
	    "# HELP rollcall_cache_bytes Bytes of the replies kept.\n"
	    "# TYPE rollcall_cache_bytes gauge\n"
	    "rollcall_cache_bytes %zu\n",
	    (unsigned long long)hits, (unsigned long long)misses, entries,
	    bytes);
	mail_metrics(b);
	metrics_done(r, b);
}

/* The database answered: ok, with the pool's counts. */
static void
healthz_done(struct req *r, struct db_res *res)
{
	int	 total, idle, busy, waiting;
	json_t	*v;

	(void)res;
	db_pool_stats(&total, &idle, &busy, &waiting);
	v = json_pack("{s:s, s:s, s:{s:i, s:i, s:i}}", "status", "ok",
	    "database", "ok", "pool", "up", total, "busy", busy, "waiting",
	    waiting);
	http_reply_json(r, 200, v);
}

/* GET /healthz: alive, and the database answers. */
void
ops_healthz(struct req *r)
{
	req_query(r, SQL_PING, NULL, 0, healthz_done);
}
