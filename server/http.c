/*
 * HTTP: the route table, request limits, and every reply.
 *
 * evhttp's defaults accept unlimited headers and bodies and never time a
 * client out; here every limit is set before the first accept. A request
 * lives in a struct req from the moment it is routed until exactly one
 * reply frees it, which is also when it leaves the in-flight count that
 * SIGTERM waits on.
 */
#include <sys/socket.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "server.h"

#define GET	EVHTTP_REQ_GET
#define POST	EVHTTP_REQ_POST
#define PATCH	EVHTTP_REQ_PATCH
#define DELETE	EVHTTP_REQ_DELETE

/* Every endpoint, in one place. */
const struct route routes[] = {
	{ GET, "/healthz", ops_healthz, ACCESS_ANY, "healthz", 0 },
	{ GET, "/metrics", ops_metrics, ACCESS_ANY, "metrics", 0 },
	{ GET, "/api/v1/events", event_list, ACCESS_ANY, "events_list", 0 },
	{ POST, "/api/v1/events", event_create,
	    ACCESS_ORGANIZER | ACCESS_ADMIN, "events_create", 0 },
	{ GET, "/api/v1/events/{id}", event_get, ACCESS_ANY, "events_get", 0 },
	{ PATCH, "/api/v1/events/{id}", event_update,
	    ACCESS_ORGANIZER | ACCESS_ADMIN, "events_update", 0 },
	{ POST, "/api/v1/series", series_create,
	    ACCESS_ORGANIZER | ACCESS_ADMIN, "series_create", 0 },
	{ POST, "/api/v1/events/{id}/registrations", registration_create,
	    ACCESS_ANY, "registrations_create", 0 },
	{ POST, "/api/v1/events/{id}/resend", mail_resend, ACCESS_ANY,
	    "events_resend", 0 },
	{ GET, "/api/v1/events/{id}/registrations", registration_list,
	    ACCESS_ORGANIZER | ACCESS_ADMIN, "registrations_list", 0 },
	{ GET, "/api/v1/registrations/{secret}", registration_get, ACCESS_ANY,
	    "registration_get", 0 },
	{ PATCH, "/api/v1/registrations/{secret}", registration_update,
	    ACCESS_ANY, "registration_update", 0 },
	{ DELETE, "/api/v1/registrations/{secret}", registration_cancel,
	    ACCESS_ANY, "registration_cancel", 0 },
	{ GET, "/api/v1/registrations/{secret}/ticket.png", ticket_png_get,
	    ACCESS_ANY, "ticket_png", 0 },
	{ GET, "/api/v1/registrations/{secret}/ticket.svg", ticket_svg_get,
	    ACCESS_ANY, "ticket_svg", 0 },
	{ POST, "/api/v1/registrations/{secret}/ticket", ticket_reissue,
	    ACCESS_ANY, "ticket_reissue", 0 },
	{ POST, "/api/v1/checkins", checkin_handle,
	    ACCESS_DOOR | ACCESS_ORGANIZER | ACCESS_ADMIN, "checkins",
	    ROUTE_TOKEN_IN_SQL },
	{ POST, "/api/v1/checkins/batch", checkin_batch,
	    ACCESS_DOOR | ACCESS_ORGANIZER | ACCESS_ADMIN, "checkins_batch", 0 },
	{ GET, "/api/v1/events/{id}/offline-bundle", checkin_bundle,
	    ACCESS_DOOR | ACCESS_ORGANIZER | ACCESS_ADMIN, "offline_bundle", 0 },
	{ GET, "/j/{secret}", join_get, ACCESS_ANY, "join", ROUTE_HTML },
	{ GET, "/", web_index, ACCESS_ANY, "page_index", ROUTE_HTML },
	{ GET, "/events/{id}", web_event, ACCESS_ANY, "page_event", ROUTE_HTML },
	{ POST, "/events/{id}/register", web_register, ACCESS_ANY,
	    "page_register", ROUTE_HTML },
	{ GET, "/manage/{secret}", web_manage, ACCESS_ANY, "page_manage",
	    ROUTE_HTML },
	{ POST, "/manage/{secret}/cancel", web_cancel, ACCESS_ANY,
	    "page_cancel", ROUTE_HTML },
	{ POST, "/manage/{secret}/consent", web_consent, ACCESS_ANY,
	    "page_consent", ROUTE_HTML },
	{ POST, "/manage/{secret}/erase", web_erase, ACCESS_ANY, "page_erase",
	    ROUTE_HTML },
	{ GET, "/manage/{secret}/event.ics", web_ics, ACCESS_ANY, "page_ics",
	    ROUTE_HTML },
	{ GET, "/static/style.css", web_css, ACCESS_ANY, "static", ROUTE_HTML },
	{ POST, "/api/v1/registrations/{secret}/erase", registration_erase,
	    ACCESS_ANY, "registration_erase", 0 },
	{ POST, "/api/v1/events/{id}/agenda", event_agenda,
	    ACCESS_ORGANIZER | ACCESS_ADMIN, "events_agenda", 0 },
	{ POST, "/api/v1/events/{id}/shred", event_shred,
	    ACCESS_ORGANIZER | ACCESS_ADMIN, "events_shred", 0 },
	{ POST, "/api/v1/events/{id}/sponsors", sponsor_create,
	    ACCESS_ORGANIZER | ACCESS_ADMIN, "sponsors_create", 0 },
	{ POST, "/api/v1/leads", lead_capture, ACCESS_SPONSOR, "leads_capture", 0 },
	{ GET, "/api/v1/sponsors/{id}/leads", lead_list,
	    ACCESS_SPONSOR | ACCESS_ORGANIZER | ACCESS_ADMIN, "leads_list", 0 },
	{ GET, "/api/v1/sponsors/{id}/leads.csv", lead_csv,
	    ACCESS_SPONSOR | ACCESS_ORGANIZER | ACCESS_ADMIN, "leads_csv", 0 },
	{ GET, "/api/v1/events/{id}/attendance.csv", export_attendance,
	    ACCESS_ORGANIZER | ACCESS_ADMIN, "attendance_csv", 0 },
	{ GET, "/api/v1/audit", export_audit, ACCESS_ADMIN, "audit", 0 },
	{ POST, "/api/v1/tokens", token_issue,
	    ACCESS_ORGANIZER | ACCESS_ADMIN, "tokens_issue", 0 },
	{ DELETE, "/api/v1/tokens/{jti}", token_revoke,
	    ACCESS_ORGANIZER | ACCESS_ADMIN, "tokens_revoke", 0 },
};
const int nroutes = sizeof(routes) / sizeof(routes[0]);

static struct {
	struct event_base		*base;
	struct evhttp			*http;
	struct evhttp_bound_socket	*sock;
	int				 inflight;
	int				 draining;
	struct event			*drain_timer;
} H;

/* Per-request query arguments, parsed on first use. */
struct req_priv {
	struct req		 pub;
	struct evkeyvalq	 query;
	int			 query_parsed;
};

static const char *
status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 302: return "Found";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static double
req_seconds(const struct req *r)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - r->start.tv_sec) +
	    (double)(now.tv_nsec - r->start.tv_nsec) / 1e9;
}

static void
req_free(struct req *r)
{
	struct req_priv	*p = (struct req_priv *)r;
	int		 i;

	for (i = 0; i < r->nparams; i++)
		free(r->params[i]);
	if (r->body != NULL)
		json_decref(r->body);
	if (p->query_parsed)
		evhttp_clear_headers(&p->query);
	free(r->auth.events);
	sodium_memzero(p, sizeof(*p));
	free(p);
}

/* A request leaves the in-flight count once its reply is written. */
static void
req_complete(void)
{
	H.inflight--;
	if (H.draining && H.inflight == 0)
		event_base_loopexit(H.base, NULL);
}

static void
req_written(struct evhttp_request *ev, void *arg)
{
	(void)ev;
	(void)arg;
	req_complete();
}

/*
 * Send the reply, count it, and free the request. SIGTERM waits for the
 * reply to be written, not just queued, so the in-flight count drops in
 * evhttp's completion callback; a client already gone never gets one.
 */
static void
req_send(struct req *r, int status, struct evbuffer *buf)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(r->ev);
	double			 secs = req_seconds(r);
	char			 len[24];

	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (evhttp_find_header(h, "Cache-Control") == NULL)
		evhttp_add_header(h, "Cache-Control", "no-store");
	if (r->head && buf != NULL) {
		/* HEAD: the length of what GET would send, and no body. */
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(buf));
		evhttp_add_header(h, "Content-Length", len);
		evbuffer_drain(buf, evbuffer_get_length(buf));
	}
	if (evhttp_request_get_connection(r->ev) != NULL)
		evhttp_request_set_on_complete_cb(r->ev, req_written, NULL);
	else
		req_complete();
	evhttp_send_reply(r->ev, status, status_reason(status), buf);
	metrics_observe(r->route_idx, status, secs);
	log_debug("%s %s -> %d (%.1f ms)", r->addr,
	    r->route ? r->route->name : "-", status, secs * 1000);
	req_free(r);
}

/* Reply with a JSON value; takes the reference. */
void
http_reply_json(struct req *r, int status, json_t *v)
{
	char	*s = NULL;

	if (v != NULL)
		s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	if (s == NULL) {
		http_error(r, 503, "out_of_memory", "The server is short of "
		    "memory; try again.");
		return;
	}
	http_reply_raw_json(r, status, s, strlen(s));
	free(s);
}

/* Reply with JSON text already encoded (by PostgreSQL, usually). */
void
http_reply_raw_json(struct req *r, int status, const char *s, size_t len)
{
	struct evbuffer	*buf = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Content-Type", "application/json; charset=utf-8");
	if (buf != NULL && status != 204)
		evbuffer_add(buf, s, len);
	req_send(r, status, buf);
	if (buf != NULL)
		evbuffer_free(buf);
}

/* Reply with bytes of the given type and Cache-Control. */
void
http_reply_bytes(struct req *r, int status, const char *type,
    const unsigned char *data, size_t len, const char *cache)
{
	struct evbuffer		*buf = evbuffer_new();
	struct evkeyvalq	*h = evhttp_request_get_output_headers(r->ev);

	evhttp_add_header(h, "Content-Type", type);
	if (cache != NULL)
		evhttp_add_header(h, "Cache-Control", cache);
	if (buf != NULL)
		evbuffer_add(buf, data, len);
	req_send(r, status, buf);
	if (buf != NULL)
		evbuffer_free(buf);
}

/* Reply with text of the given type. */
void
http_reply_text(struct req *r, int status, const char *type, const char *s)
{
	struct evbuffer	*buf = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Content-Type", type);
	if (buf != NULL)
		evbuffer_add(buf, s, strlen(s));
	req_send(r, status, buf);
	if (buf != NULL)
		evbuffer_free(buf);
}

/*
 * The one way a request fails: {"error": code, "message": text}.
 */
void
http_error(struct req *r, int status, const char *code, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;
	json_t	*v;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->route != NULL && (r->route->flags & ROUTE_HTML) &&
	    strcmp(code, "render_failed") != 0) {
		web_error_page(r, status, code, msg);
		return;
	}
	if (status == 401)
		evhttp_add_header(evhttp_request_get_output_headers(r->ev),
		    "WWW-Authenticate", "Bearer realm=\"rollcall\"");
	v = json_pack("{s:s, s:s}", "error", code, "message", msg);
	if (v == NULL) {
		http_reply_raw_json(r, status, "{\"error\":\"error\"}", 17);
		return;
	}
	http_reply_json(r, status, v);
}

/*
 * Turn a database outcome into a reply. Our PL/pgSQL functions raise
 * SQLSTATE "RCnnn" with nnn the HTTP status, the error code as message and
 * the sentence for a person as detail; everything else is mapped by class
 * so that bad input never becomes a 500.
 */
static void
req_db_cb(void *arg, PGresult *res, enum db_err err)
{
	struct req	*r = arg;
	const char	*state, *code, *detail;
	int		 status;

	if (err == DB_EBUSY) {
		http_error(r, 503, "busy", "The server is busy; try again "
		    "in a moment.");
		return;
	}
	if (err != DB_OK || res == NULL) {
		http_error(r, 503, "database_unavailable", "The database is "
		    "unavailable; try again shortly.");
		return;
	}
	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		r->done(r, res);
		return;
	default:
		break;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	code = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	if (state == NULL)
		state = "XX000";
	if (strncmp(state, "RC", 2) == 0 && code != NULL) {
		status = atoi(state + 2);
		if (status < 400 || status > 499)
			status = 400;
		http_error(r, status, code, "%s", detail ? detail : code);
		return;
	}
	if (strncmp(state, "22", 2) == 0) {
		http_error(r, 400, "invalid_value", "A value is out of range "
		    "or malformed.");
		return;
	}
	if (strcmp(state, "23505") == 0) {
		http_error(r, 409, "conflict", "That already exists.");
		return;
	}
	if (strncmp(state, "23", 2) == 0) {
		http_error(r, 400, "invalid_value", "A value breaks a rule "
		    "of the data.");
		return;
	}
	metrics_db_error();
	if (strcmp(state, "57014") == 0 || strncmp(state, "40", 2) == 0 ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strncmp(state, "53", 2) == 0) {
		http_error(r, 503, "database_unavailable", "The database did "
		    "not answer in time; try again.");
		return;
	}
	log_warnx("%s: SQLSTATE %s: %s", r->route ? r->route->name : "-",
	    state, code ? code : "");
	http_error(r, 500, "internal_error", "Something went wrong on our "
	    "side; it has been logged.");
}

/* Run a prepared statement for a request; done() runs on success only. */
void
req_query(struct req *r, enum sql_id id, const char *const *vals, int n,
    req_done_fn done)
{
	enum db_err	 err;

	r->done = done;
	err = db_exec(id, vals, n, req_db_cb, r);
	if (err != DB_OK)
		req_db_cb(r, NULL, err);
}

/* Path parameter i as a positive id; replies 404 and returns -1 if not. */
int
req_param_id(struct req *r, int i, int64_t *out)
{
	if (i >= r->nparams ||
	    parse_int64(r->params[i], 1, INT64_C(1) << 53, out) == -1) {
		http_error(r, 404, "not_found", "No such resource.");
		return -1;
	}
	return 0;
}

/* Check the body against a field table; replies 400 naming the field. */
int
req_validate(struct req *r, const struct vfield *fields, int n)
{
	char	 field[64], msg[256];

	if (validate_object(r->body, fields, n, field, sizeof(field), msg,
	    sizeof(msg)) == 0)
		return 0;
	http_error(r, 400, "invalid_field", "%s", msg);
	return -1;
}

/*
 * Path parameter 0 as an event id the caller's token covers; replies 404
 * or 403 and returns -1 otherwise.
 */
int
req_event_in_scope(struct req *r, int64_t *id)
{
	if (req_param_id(r, 0, id) == -1)
		return -1;
	if (!auth_in_scope(&r->auth, *id)) {
		http_error(r, 403, "out_of_scope", "Event %lld is not in your "
		    "token's scope.", (long long)*id);
		return -1;
	}
	return 0;
}

/* A query-string argument, or NULL. */
const char *
req_query_arg(struct req *r, const char *key)
{
	struct req_priv	*p = (struct req_priv *)r;
	const char	*q;

	if (!p->query_parsed) {
		TAILQ_INIT(&p->query);
		p->query_parsed = 1;
		q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->ev));
		if (q != NULL && evhttp_parse_query_str(q, &p->query) == -1)
			evhttp_clear_headers(&p->query);
	}
	return evhttp_find_header(&p->query, key);
}

/*
 * Match a path against a pattern; "{x}" matches one non-empty segment of
 * URL-safe characters. Returns 1 on a match and fills r->params.
 */
static int
route_match(const char *pattern, const char *path, struct req *r)
{
	const char	*p = pattern, *s = path, *e;
	size_t		 len;

	r->nparams = 0;
	while (*p != '\0') {
		if (*p == '{') {
			for (e = s; *e != '\0' && *e != '/'; e++)
				if (!((*e >= 'a' && *e <= 'z') ||
				    (*e >= 'A' && *e <= 'Z') ||
				    (*e >= '0' && *e <= '9') ||
				    *e == '-' || *e == '_' || *e == '.'))
					goto nomatch;
			len = (size_t)(e - s);
			if (len == 0 || len > 256 || r->nparams == HTTP_MAXPARAMS)
				goto nomatch;
			if ((r->params[r->nparams] = strndup(s, len)) == NULL)
				goto nomatch;
			r->nparams++;
			s = e;
			while (*p != '\0' && *p != '}')
				p++;
			if (*p == '}')
				p++;
			continue;
		}
		if (*p != *s)
			goto nomatch;
		p++;
		s++;
	}
	if (*s == '\0' || (*s == '/' && s[1] == '\0'))
		return 1;
nomatch:
	while (r->nparams > 0)
		free(r->params[--r->nparams]);
	return 0;
}

/*
 * Read the body as one JSON object. Limits: HTTP_MAXBODY bytes (evhttp
 * itself refuses far larger bodies before reading them), strict UTF-8,
 * no duplicate keys, no trailing bytes, no NUL.
 */
static int
req_parse_body(struct req *r)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(r->ev);
	size_t		 len = evbuffer_get_length(in);
	const char	*data;
	json_error_t	 e;

	if (len > HTTP_MAXBODY) {
		http_error(r, 413, "body_too_large", "The request body is "
		    "over %d KiB.", HTTP_MAXBODY / 1024);
		return -1;
	}
	if (len == 0 && evhttp_request_get_command(r->ev) == EVHTTP_REQ_PATCH) {
		http_error(r, 400, "malformed_json", "A change needs a JSON "
		    "object as its body.");
		return -1;
	}
	if (len == 0) {
		/* A POST without a body is an empty object: the field checks
		 * name what is missing; actions without fields need none. */
		if ((r->body = json_object()) == NULL) {
			http_error(r, 503, "out_of_memory", "Try again.");
			return -1;
		}
		return 0;
	}
	data = (const char *)evbuffer_pullup(in, -1);
	r->body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);
	if (r->body == NULL) {
		http_error(r, 400, "malformed_json", "The body is not valid "
		    "JSON (UTF-8) at byte %d: %s", e.position, e.text);
		return -1;
	}
	if (!json_is_object(r->body)) {
		http_error(r, 400, "malformed_json", "The body must be a "
		    "JSON object.");
		return -1;
	}
	return 0;
}

static const char *
method_name(int m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET, HEAD";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PATCH: return "PATCH";
	case EVHTTP_REQ_DELETE: return "DELETE";
	default: return "?";
	}
}

/*
 * Read an application/x-www-form-urlencoded body into r->body as an
 * object of strings. Limits as for JSON; every value must be UTF-8
 * without NUL, and a key may appear once.
 */
static int
req_parse_form(struct req *r)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(r->ev);
	size_t			 len = evbuffer_get_length(in);
	struct evkeyvalq	 kv;
	struct evkeyval		*e;
	char			*text;
	int			 rc = -1;

	if (len > HTTP_MAXBODY) {
		http_error(r, 413, "body_too_large", "The form is over %d KiB.",
		    HTTP_MAXBODY / 1024);
		return -1;
	}
	if ((text = malloc(len + 1)) == NULL || (r->body = json_object()) ==
	    NULL) {
		free(text);
		http_error(r, 503, "out_of_memory", "Try again.");
		return -1;
	}
	evbuffer_copyout(in, text, len);
	text[len] = '\0';
	TAILQ_INIT(&kv);
	if (strlen(text) != len || (len > 0 &&
	    evhttp_parse_query_str(text, &kv) == -1)) {
		http_error(r, 400, "malformed_form", "The form could not be "
		    "read.");
		goto out;
	}
	TAILQ_FOREACH(e, &kv, next) {
		if (validate_utf8(e->key) == -1 || validate_utf8(e->value) ==
		    -1 || strlen(e->key) > 64 ||
		    json_object_get(r->body, e->key) != NULL) {
			http_error(r, 400, "malformed_form", "The form could "
			    "not be read.");
			goto out;
		}
		json_object_set_new(r->body, e->key, json_string(e->value));
	}
	rc = 0;
out:
	evhttp_clear_headers(&kv);
	free(text);
	return rc;
}

static void
http_gencb(struct evhttp_request *ev, void *arg)
{
	struct req_priv		*p;
	struct req		*r;
	const char		*path;
	char			*host = NULL;
	ev_uint16_t		 port = 0;
	struct evhttp_connection *conn;
	enum evhttp_cmd_type	 method = evhttp_request_get_command(ev);
	char			 allow[128];
	int			 i, path_matched = 0;

	(void)arg;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		evhttp_send_error(ev, 503, "Service Unavailable");
		return;
	}
	H.inflight++;
	r = &p->pub;
	r->ev = ev;
	r->route_idx = -1;
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	if ((conn = evhttp_request_get_connection(ev)) != NULL) {
		evhttp_connection_get_peer(conn, &host, &port);
		if (host != NULL)
			snprintf(r->addr, sizeof(r->addr), "%s", host);
		/* Behind a trusted proxy the client is the address it saw
		 * (the last X-Forwarded-For entry); anyone else's header
		 * is the client's own say-so and is ignored. */
		if (host != NULL && proxy_is_trusted(host))
			proxy_forwarded_for(evhttp_find_header(
			    evhttp_request_get_input_headers(ev),
			    "X-Forwarded-For"), r->addr, sizeof(r->addr));
	}
	if (method == EVHTTP_REQ_HEAD) {
		method = EVHTTP_REQ_GET;
		r->head = 1;
	}

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(ev));
	if (path == NULL || *path == '\0' || strlen(path) > HTTP_MAXPATH) {
		http_error(r, 404, "not_found", "No such resource.");
		return;
	}
	allow[0] = '\0';
	for (i = 0; i < nroutes; i++) {
		if (!route_match(routes[i].pattern, path, r))
			continue;
		path_matched = 1;
		if ((int)method == routes[i].method)
			break;
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow),
		    "%s%s", allow[0] ? ", " : "", method_name(routes[i].method));
		while (r->nparams > 0)
			free(r->params[--r->nparams]);
	}
	if (i == nroutes) {
		if (path_matched) {
			evhttp_add_header(evhttp_request_get_output_headers(ev),
			    "Allow", allow);
			http_error(r, 405, "method_not_allowed", "That method "
			    "is not allowed on this resource (allowed: %s).",
			    allow);
		} else
			http_error(r, 404, "not_found", "No such resource.");
		return;
	}
	r->route = &routes[i];
	r->route_idx = i;
	if ((method == POST || method == PATCH) &&
	    ((r->route->flags & ROUTE_HTML) ? req_parse_form(r) :
	    req_parse_body(r)) == -1)
		return;
	auth_resolve(r);
}

static void
drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_warnx("%d requests still running after %d s; exiting",
	    H.inflight, DRAIN_SECS);
	event_base_loopexit(H.base, NULL);
}

/*
 * Stop accepting connections; the loop exits once in-flight requests
 * have been answered (or after DRAIN_SECS).
 */
void
http_stop_accepting(void)
{
	struct timeval	 tv = { DRAIN_SECS, 0 };

	if (H.draining)
		return;
	H.draining = 1;
	if (H.sock != NULL) {
		evhttp_del_accept_socket(H.http, H.sock);
		H.sock = NULL;
	}
	log_info("draining %d in-flight requests", H.inflight);
	if (H.inflight == 0) {
		event_base_loopexit(H.base, NULL);
		return;
	}
	H.drain_timer = evtimer_new(H.base, drain_timeout_cb, NULL);
	if (H.drain_timer != NULL)
		evtimer_add(H.drain_timer, &tv);
}

/* Requests received and not yet answered. */
int
http_inflight(void)
{
	return H.inflight;
}

/* Bind ADDR:PORT and serve with every limit set. */
int
http_start(struct event_base *base, const char *listen)
{
	char		 host[256];
	const char	*colon;
	int64_t		 port;

	colon = strrchr(listen, ':');
	if (colon == NULL || (size_t)(colon - listen) >= sizeof(host) ||
	    parse_int64(colon + 1, 0, 65535, &port) == -1) {
		log_warnx("--listen wants ADDR:PORT, not %s", listen);
		return -1;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	H.base = base;
	if ((H.http = evhttp_new(base)) == NULL)
		return -1;
	evhttp_set_max_headers_size(H.http, HTTP_MAXHEADERS);
	/* evhttp refuses (plain 413) above this; we answer JSON 413 below. */
	evhttp_set_max_body_size(H.http, 16 * HTTP_MAXBODY);
	evhttp_set_timeout(H.http, HTTP_TIMEOUT);
	/* Every method reaches the router, which answers 405 in JSON. */
	evhttp_set_allowed_methods(H.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT);
	evhttp_set_default_content_type(H.http, NULL);
	evhttp_set_flags(H.http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_gencb(H.http, http_gencb, NULL);
	H.sock = evhttp_bind_socket_with_handle(H.http, host, (ev_uint16_t)port);
	if (H.sock == NULL) {
		log_warn("cannot listen on %s", listen);
		return -1;
	}
	log_info("listening on %s", listen);
	return 0;
}
