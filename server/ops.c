/*
 * Operations: /healthz (a real database round trip) and /metrics in the
 * Prometheus text format. Counters live in this process; each server
 * process reports its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "server.h"

#define MAX_ROUTES	64

static const int statuses[] = { 200, 201, 204, 302, 400, 401, 403, 404, 405,
    409, 413, 415, 429, 500, 503 };
#define NSTATUS		((int)(sizeof(statuses) / sizeof(statuses[0])))
static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1, 2.5, 5 };
#define NBUCKET		((int)(sizeof(buckets) / sizeof(buckets[0])))

/* Index MAX_ROUTES holds requests that matched no route. */
static struct {
	unsigned long long	 count[MAX_ROUTES + 1][NSTATUS + 1];
	unsigned long long	 hist[MAX_ROUTES + 1][NBUCKET + 1];
	double			 sum[MAX_ROUTES + 1];
	unsigned long long	 db_errors;
} M;

/* Count one answered request. */
void
metrics_observe(int route, int status, double secs)
{
	int	 i, s;

	if (route < 0 || route >= MAX_ROUTES)
		route = MAX_ROUTES;
	for (s = 0; s < NSTATUS; s++)
		if (statuses[s] == status)
			break;
	M.count[route][s]++;
	for (i = 0; i < NBUCKET; i++)
		if (secs <= buckets[i])
			break;
	M.hist[route][i]++;
	M.sum[route] += secs;
}

/* Count a database error (lost connection, unexpected SQLSTATE). */
void
metrics_db_error(void)
{
	M.db_errors++;
}

static const char *
route_label(int i)
{
	return i < nroutes ? routes[i].name : "unmatched";
}

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
	unsigned long long	 cum;
	uint64_t		 groups, grouped;
	int			 i, s, total, idle, busy, waiting, last;

	if ((b = evbuffer_new()) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	last = nroutes < MAX_ROUTES ? nroutes : MAX_ROUTES;
	evbuffer_add_printf(b, "# HELP rollcall_http_requests_total HTTP "
	    "requests answered, by route and status.\n"
	    "# TYPE rollcall_http_requests_total counter\n");
	for (i = 0; i <= MAX_ROUTES; i++) {
		if (i >= last && i != MAX_ROUTES)
			continue;
		for (s = 0; s <= NSTATUS; s++)
			if (M.count[i][s])
				evbuffer_add_printf(b, "rollcall_http_requests_"
				    "total{route=\"%s\",status=\"%s%d\"} %llu\n",
				    route_label(i), s == NSTATUS ? "other" : "",
				    s == NSTATUS ? 0 : statuses[s],
				    M.count[i][s]);
	}
	evbuffer_add_printf(b, "# HELP rollcall_http_request_duration_seconds "
	    "Time from routing to reply.\n"
	    "# TYPE rollcall_http_request_duration_seconds histogram\n");
	for (i = 0; i <= MAX_ROUTES; i++) {
		if (i >= last && i != MAX_ROUTES)
			continue;
		cum = 0;
		for (s = 0; s < NBUCKET; s++) {
			cum += M.hist[i][s];
			evbuffer_add_printf(b, "rollcall_http_request_duration_"
			    "seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
			    route_label(i), buckets[s], cum);
		}
		cum += M.hist[i][NBUCKET];
		evbuffer_add_printf(b, "rollcall_http_request_duration_seconds_"
		    "bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
		    "rollcall_http_request_duration_seconds_sum{route=\"%s\"} "
		    "%.6f\nrollcall_http_request_duration_seconds_count"
		    "{route=\"%s\"} %llu\n", route_label(i), cum,
		    route_label(i), M.sum[i], route_label(i), cum);
	}
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
	    idle, busy, waiting, M.db_errors, http_inflight());
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
	mail_metrics(b);
	metrics_done(r, b);
}

static void
healthz_done(struct req *r, PGresult *res)
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
