/*
 * fixed-http: the ceiling of `make bench`'s public reads. libevent's evhttp
 * on one thread answering every request with the same 11-byte JSON body,
 * as /work/shared/PERF_NOTES.md measured it.
 *
 *   fixed-http PORT
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

/* Every request: 200 and {"ok":true}. */
static void
fixed_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b = arg;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_add(b, "{\"ok\":true}", 11);
}

int
main(int argc, char **argv)
{
	struct event_base	*base;
	struct evhttp		*http;
	struct evbuffer		*b;

	if (argc != 2) {
		fprintf(stderr, "usage: fixed-http PORT\n");
		return 2;
	}
	if ((base = event_base_new()) == NULL ||
	    (http = evhttp_new(base)) == NULL || (b = evbuffer_new()) == NULL)
		return 1;
	evbuffer_add(b, "{\"ok\":true}", 11);
	evhttp_set_gencb(http, fixed_cb, b);
	if (evhttp_bind_socket(http, "127.0.0.1",
	    (unsigned short)atoi(argv[1])) != 0) {
		fprintf(stderr, "fixed-http: cannot listen on %s\n", argv[1]);
		return 1;
	}
	event_base_dispatch(base);
	return 0;
}
