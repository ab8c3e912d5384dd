/*
 * Request counters for /metrics: by route and status, and a latency
 * histogram per route. The router names the routes at start-up; http.c
 * counts every reply here. One process's counts, kept in memory.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "server.h"


static const int statuses[] = { 200, 201, 204, 302, 400, 401, 403, 404, 405,
    409, 413, 415, 429, 500, 503 };
#define NSTATUS		((int)(sizeof(statuses) / sizeof(statuses[0])))
static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1, 2.5, 5 };
#define NBUCKET		((int)(sizeof(buckets) / sizeof(buckets[0])))

/* Index METRICS_MAXROUTES holds requests that matched no route. */
static struct {
	unsigned long long	 count[METRICS_MAXROUTES + 1][NSTATUS + 1];
	unsigned long long	 hist[METRICS_MAXROUTES + 1][NBUCKET + 1];
	double			 sum[METRICS_MAXROUTES + 1];
} M;

/* Count one answered request. */
void
metrics_observe(int route, int status, double secs)
{
	int	 i, s;

	if (route < 0 || route >= METRICS_MAXROUTES)
		route = METRICS_MAXROUTES;
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

static const char	*route_names[METRICS_MAXROUTES];
static int		 nroute_names;

/* The routes' names, by index (the router's table); -1 if too many. */
int
metrics_routes(const char *const *names, int n)
{
	int	 i;

	if (n > METRICS_MAXROUTES)
		return -1;
	for (i = 0; i < n; i++)
		route_names[i] = names[i];
	nroute_names = n;
	return 0;
}

/* A route's name, or "unmatched". */
static const char *
route_label(int i)
{
	return i < nroute_names ? route_names[i] : "unmatched";
}

/* The request counters in Prometheus text. */
void
metrics_render(struct evbuffer *b)
{
	unsigned long long	 cum;
	int			 i, s, last;

	last = nroute_names < METRICS_MAXROUTES ? nroute_names : METRICS_MAXROUTES;
	evbuffer_add_printf(b, "# HELP rollcall_http_requests_total HTTP "
	    "requests answered, by route and status.\n"
	    "# TYPE rollcall_http_requests_total counter\n");
	for (i = 0; i <= METRICS_MAXROUTES; i++) {
		if (i >= last && i != METRICS_MAXROUTES)
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
	for (i = 0; i <= METRICS_MAXROUTES; i++) {
		if (i >= last && i != METRICS_MAXROUTES)
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
}
