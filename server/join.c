/*
 * NightTalk join links: /j/{secret} redirects to the stream for the one
 * attendee it belongs to, so the stream's address appears in no page or
 * answer, and attendance is known from who followed their link.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "server.h"

/* Redirect to the stream a rc_join() row names; none is 404. */
static void
join_done(struct req *r, struct db_res *res)
{
	json_t		*o;
	const char	*url;

	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such join link.");
		return;
	}
	o = json_loads(db_value(res, 0, 0), 0, NULL);
	url = json_string_value(json_object_get(o, "url"));
	if (url == NULL || validate_url(url) == -1) {
		json_decref(o);
		http_error(r, 404, "not_found", "No such join link.");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Location",
	    url);
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Referrer-Policy", "no-referrer");
	json_decref(o);
	http_reply_raw_json(r, 302, "{\"result\":\"redirect\"}", 21);
}

/* GET /j/{secret}: a NightTalk attendee's personal join link. */
void
join_get(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_JOIN, vals, 1, join_done);
}
