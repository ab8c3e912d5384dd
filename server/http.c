/*
 * HTTP: requests and replies. Request limits, the body and query readers,
 * every reply, and the one place a failure becomes a status. It knows no
 * handler: the router (router.c) is handed every request.
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
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "server.h"

static struct {
	http_dispatch_fn		 dispatch;	/* the router */
	http_page_fn			 error_page;	/* HTML errors, or NULL */
	struct event_base		*base;
	struct evhttp			*http;
	struct evhttp_bound_socket	*sock;
	int				 inflight;
	int				 draining;
	struct event			*drain_timer;
	TAILQ_HEAD(, hconn)		 conns;
	int				 nconns;
} H = { .conns = TAILQ_HEAD_INITIALIZER(H.conns) };

/*
 * The method evhttp 2.1 gives a request whose method it does not know
 * (EVHTTP_REQ_UNKNOWN_ in its private http-internal.h). Allowing it lets
 * such requests reach http_gencb, which answers JSON 501; otherwise evhttp
 * sends its own HTML 501 before we see the request. libevent 2.1.12 has
 * no evhttp_set_ext_method_cmp (that is 2.2).
 */
#define HTTP_REQ_UNKNOWN	(1 << 15)

/* Per-request query arguments, parsed on first use. */
struct req_priv {
	struct req		 pub;
	json_t			*query;		/* its arguments, or NULL */
	int			 query_parsed;
	struct hconn		*conn;		/* NULL once the client is gone */
};

/*
 * One client connection, from accept to close. evhttp's own timeout
 * only measures silence: a client sending a byte every few seconds was
 * never cut off, and each could hold a body buffer. So every connection
 * gets a deadline of HTTP_TIMEOUT to send a whole request (from accept,
 * or from the previous reply); when it passes before the request is
 * complete, the socket is shut down and evhttp frees the connection as
 * on any EOF. A dispatched request has no deadline from us: its handler
 * answers (the database has its own).
 *
 * libevent 2.1.12 tells us of a new connection only through the
 * bufferevent callback (no evhttp_set_newreqcb, which is 2.2), before the
 * evhttp_connection exists. We keep a reference on the bufferevent so the
 * pointer stays valid, and find its evhttp_connection on the next turn
 * of the loop (or on the first bytes, before evhttp parses them): evhttp
 * makes it the bufferevent's callback argument, which
 * evhttp_connection_get_bufferevent() confirms. Then the close callback
 * tells us when it goes.
 *
 * The in-flight count SIGTERM waits on follows the request: it drops when
 * the reply is written, or when the connection closes with the reply
 * still unwritten (a client that reset never gets a completion).
 */
struct hconn {
	TAILQ_ENTRY(hconn)	 entry;
	struct bufferevent	*bev;		/* referenced by us */
	struct evhttp_connection *evcon;	/* NULL until adopted */
	struct event		*timer;		/* the deadline */
	struct event		*adopt;		/* next turn: find evcon */
	struct evbuffer_cb_entry *incb;		/* first bytes: find evcon */
	struct req_priv		*req;		/* dispatched, unanswered */
	int			 reply_pending;	/* answered, not yet written */
	int			 capped;	/* counts for its address */
	int			 refused;	/* over a limit: shut at adopt */
	char			 addr[64];
};

static void	hconn_arm(struct hconn *);

/*
 * The reason phrase of an HTTP status: every status the server sends
 * (handlers, the RCnnn statuses the SQL raises, evhttp's own), and a
 * phrase for the class of any other.
 */
static const char *
status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	}
	if (status >= 200 && status < 300)
		return "OK";
	if (status >= 300 && status < 400)
		return "Redirection";
	if (status >= 400 && status < 500)
		return "Client Error";
	return "Server Error";
}

/* Seconds since the request arrived. */
static double
req_seconds(const struct req *r)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - r->start.tv_sec) +
	    (double)(now.tv_nsec - r->start.tv_nsec) / 1e9;
}

/* Free a request, wiping it first: it may hold secrets. */
static void
req_free(struct req *r)
{
	struct req_priv	*p = (struct req_priv *)r;
	int		 i;

	if (p->conn != NULL)
		p->conn->req = NULL;
	for (i = 0; i < r->nparams; i++)
		free(r->params[i]);
	if (r->body != NULL)
		json_decref(r->body);
	json_decref(p->query);
	free(r->auth.events);
	free(r->auth.chapters);
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

/*
 * evhttp has written the reply: the request is no longer in flight, and
 * a kept-alive connection has HTTP_TIMEOUT again for its next request.
 */
static void
req_written(struct evhttp_request *ev, void *arg)
{
	struct hconn	*c = arg;

	(void)ev;
	if (c == NULL) {
		req_complete();
		return;
	}
	if (c->reply_pending) {
		c->reply_pending = 0;
		req_complete();
	}
	hconn_arm(c);
}

/*
 * Send the reply, count it, and free the request. SIGTERM waits for the
 * reply to be written, not just queued, so the in-flight count drops in
 * evhttp's completion callback, or when the connection closes first (a
 * client gone never gets a completion; hconn_release).
 */
static void
req_send(struct req *r, int status, struct evbuffer *buf)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(r->ev);
	struct req_priv		*p;
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
	/* A write answered here is read back here at once: forget what it
	 * may have changed before the client can ask (the NOTIFY follows). */
	if (r->method != EVHTTP_REQ_GET && r->route != NULL && status < 400 &&
	    !(r->route->flags & ROUTE_PRIVATE))
		cache_forget(r->id);
	p = (struct req_priv *)r;
	if (evhttp_request_get_connection(r->ev) != NULL && p->conn != NULL) {
		p->conn->req = NULL;
		p->conn->reply_pending = 1;
		evhttp_request_set_on_complete_cb(r->ev, req_written, p->conn);
		p->conn = NULL;
	} else if (evhttp_request_get_connection(r->ev) != NULL)
		evhttp_request_set_on_complete_cb(r->ev, req_written, NULL);
	else
		req_complete();
	evhttp_send_reply(r->ev, status, status_reason(status), buf);
	metrics_observe(r->route_idx, status, secs);
	log_debug("%s %s -> %d (%.1f ms)", r->addr,
	    r->name ? r->name : "-", status, secs * 1000);
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

/* Reply status with the JSON a statement returned; none is 404. */
static void
reply_row(struct req *r, struct db_res *res, int status)
{
	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such %s.",
		    r->thing != NULL ? r->thing : "resource");
		return;
	}
	http_reply_raw_json(r, status, db_value(res, 0, 0),
	    db_length(res, 0, 0));
}

/* A req_done_fn: 200 with the row's JSON, or 404 "No such THING.". */
void
http_reply_row(struct req *r, struct db_res *res)
{
	reply_row(r, res, 200);
}

/* A req_done_fn: 201 with the row's JSON, or 404. */
void
http_reply_row_created(struct req *r, struct db_res *res)
{
	reply_row(r, res, 201);
}

/* Reply with the CSV text of a one-row result (with a BOM); NULL is 404. */
void
http_reply_csv(struct req *r, struct db_res *res, const char *filename)
{
	static const unsigned char bom[] = { 0xef, 0xbb, 0xbf };
	struct evkeyvalq	*h = evhttp_request_get_output_headers(r->ev);
	unsigned char		*buf;
	char			 disp[128];
	size_t			 len;

	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "Nothing to export here.");
		return;
	}
	len = (size_t)db_length(res, 0, 0);
	if ((buf = malloc(sizeof(bom) + len)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	memcpy(buf, bom, sizeof(bom));
	memcpy(buf + sizeof(bom), db_value(res, 0, 0), len);
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", filename);
	evhttp_add_header(h, "Content-Disposition", disp);
	http_reply_bytes(r, 200, "text/csv; charset=utf-8", buf,
	    sizeof(bom) + len, "no-store");
	free(buf);
}

/*
 * Reply with a cached body (cache.c), fill written into each of its
 * holes; 304 when the client already has the entry's ETag.
 */
void
http_reply_cached(struct req *r, const struct cache_entry *e,
    const char *fill)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(r->ev);
	struct evbuffer		*buf;
	const char		*inm;
	size_t			 at = 0;
	int			 i;

	if (e->etag[0] != '\0') {
		evhttp_add_header(h, "ETag", e->etag);
		inm = evhttp_find_header(evhttp_request_get_input_headers(
		    r->ev), "If-None-Match");
		if (inm != NULL && (strstr(inm, e->etag) != NULL ||
		    strcmp(inm, "*") == 0)) {
			req_send(r, 304, NULL);
			return;
		}
	}
	evhttp_add_header(h, "Content-Type", e->type);
	if ((buf = evbuffer_new()) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	for (i = 0; i < e->nholes; i++) {
		evbuffer_add(buf, e->body + at, e->holes[i] - at);
		evbuffer_add(buf, fill, strlen(fill));
		at = e->holes[i] + e->holelen;
	}
	evbuffer_add(buf, e->body + at, e->len - at);
	req_send(r, 200, buf);
	evbuffer_free(buf);
}

#define LANG_COOKIE	"rc_lang"

/*
 * The value of cookie `name` in a Cookie header ("a=1; b=2"), copied
 * into out. The header is the client's: the value is taken as sent, up
 * to the next ';', and refused (-1) when it does not fit outsz.
 */
int
http_cookie_find(const char *header, const char *name, char *out,
    size_t outsz)
{
	const char	*p, *v, *end;
	size_t		 nlen = strlen(name), len;

	for (p = header; p != NULL && *p != '\0'; p = end) {
		while (*p == ' ' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			v = p + nlen + 1;
			len = (size_t)(end - v);
			if (len >= outsz)
				return -1;
			memcpy(out, v, len);
			out[len] = '\0';
			return 0;
		}
	}
	return -1;
}

/* The value of cookie `name` in the request, copied into out. */
int
req_cookie(struct req *r, const char *name, char *out, size_t outsz)
{
	return http_cookie_find(evhttp_find_header(
	    evhttp_request_get_input_headers(r->ev), "Cookie"), name, out,
	    outsz);
}

/* zh-CN (1) or en (0): ?lang=, then the cookie, then Accept-Language. */
int
req_lang(struct req *r)
{
	const char	*q, *al;
	char		 c[16];

	if ((q = req_query_arg(r, "lang")) != NULL) {
		if (strcmp(q, "zh-CN") == 0 || strcmp(q, "en") == 0) {
			evhttp_add_header(evhttp_request_get_output_headers(
			    r->ev), "Set-Cookie", strcmp(q, "en") == 0 ?
			    LANG_COOKIE "=en; Path=/; SameSite=Lax; Max-Age="
			    "31536000" : LANG_COOKIE "=zh-CN; Path=/; "
			    "SameSite=Lax; Max-Age=31536000");
			return strcmp(q, "en") == 0 ? 0 : 1;
		}
	}
	if (req_cookie(r, LANG_COOKIE, c, sizeof(c)) == 0)
		return strcmp(c, "zh-CN") == 0 ? 1 : 0;
	al = evhttp_find_header(evhttp_request_get_input_headers(r->ev),
	    "Accept-Language");
	return al != NULL && strncasecmp(al, "zh", 2) == 0 ? 1 : 0;
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
	if (r->html && H.error_page != NULL &&
	    strcmp(code, "render_failed") != 0) {
		H.error_page(r, status, code, msg);
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
 * A request's statement is back: done() on success; a refusal of ours
 * (RC4xx) to failed() when the handler set one (a form drawn again with
 * the sentence by its field); else the failure.
 */
static void
req_db_cb(void *arg, struct db_res *res, enum db_err err)
{
	struct req	*r = arg;

	if (err == DB_OK && res != NULL && db_ok(res)) {
		r->done(r, res);
		return;
	}
	if (r->failed != NULL && err == DB_OK && res != NULL &&
	    db_sqlstate(res) != NULL &&
	    strncmp(db_sqlstate(res), "RC4", 3) == 0) {
		r->failed(r, res);
		return;
	}
	req_db_fail(r, res, err);
}

/*
 * Reply to a request whose statement failed (or never ran). Our PL/pgSQL
 * functions raise SQLSTATE "RCnnn" with nnn the HTTP status, the error
 * code as message and the sentence for a person as detail; everything
 * else is mapped by class so that bad input never becomes a 500.
 */
void
req_db_fail(struct req *r, struct db_res *res, enum db_err err)
{
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
	state = db_sqlstate(res);
	code = db_message(res);
	detail = db_detail(res);
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
	db_count_error();
	if (strcmp(state, "57014") == 0 || strncmp(state, "40", 2) == 0 ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strncmp(state, "53", 2) == 0) {
		http_error(r, 503, "database_unavailable", "The database did "
		    "not answer in time; try again.");
		return;
	}
	log_warnx("%s: SQLSTATE %s: %s", r->name ? r->name : "-",
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

/* A query-string argument (the first, if repeated), or NULL. */
const char *
req_query_arg(struct req *r, const char *key)
{
	struct req_priv	*p = (struct req_priv *)r;
	const char	*q;

	if (!p->query_parsed) {
		p->query_parsed = 1;
		q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->ev));
		if (q != NULL)
			p->query = http_form_parse(q, strlen(q), 0);
	}
	return json_string_value(json_object_get(p->query, key));
}

/*
 * Read the body as one JSON object. Limits: HTTP_MAXBODY bytes (evhttp
 * itself refuses far larger bodies before reading them), strict UTF-8,
 * no duplicate keys, no trailing bytes, no NUL.
 */
int
req_read_json(struct req *r)
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

/*
 * Parse "a=1&b=2" (a form body or a query string; in values, %-escapes
 * and '+' are decoded, keys are taken as sent) into an object of strings. Strict, for forms: every key and
 * value UTF-8, keys at most FORM_MAXKEY bytes, each key once, else NULL.
 * Lenient, for query strings: the first value of a key wins and values
 * are passed on unchecked for the handler to judge. NULL when the text
 * cannot be read at all or memory is short.
 */
json_t *
http_form_parse(const char *text, size_t len, int strict)
{
	struct evkeyvalq	 kv;
	struct evkeyval		*e;
	json_t			*o;
	char			*copy;

	if ((copy = malloc(len + 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	TAILQ_INIT(&kv);
	/* Strict: a NUL, raw or as %00, would cut a value short unseen. */
	if ((o = json_object()) == NULL || strlen(copy) != len ||
	    (strict && strcasestr(copy, "%00") != NULL) ||
	    (len > 0 && evhttp_parse_query_str(copy, &kv) == -1))
		goto bad;
	TAILQ_FOREACH(e, &kv, next) {
		if (json_object_get(o, e->key) != NULL) {
			if (strict)
				goto bad;
			continue;
		}
		if (strict && (validate_utf8(e->key) == -1 ||
		    validate_utf8(e->value) == -1 ||
		    strlen(e->key) > FORM_MAXKEY))
			goto bad;
		if (json_object_set_new_nocheck(o, e->key,
		    json_string_nocheck(e->value)) == -1)
			goto bad;
	}
	evhttp_clear_headers(&kv);
	free(copy);
	return o;
bad:
	evhttp_clear_headers(&kv);
	free(copy);
	json_decref(o);
	return NULL;
}

/*
 * Read an application/x-www-form-urlencoded body into r->body as an
 * object of strings (http_form_parse, strict). Limits as for JSON.
 */
int
req_read_form(struct req *r)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(r->ev);
	size_t			 len = evbuffer_get_length(in);

	if (len > HTTP_MAXBODY) {
		http_error(r, 413, "body_too_large", "The form is over %d KiB.",
		    HTTP_MAXBODY / 1024);
		return -1;
	}
	r->body = http_form_parse((const char *)evbuffer_pullup(in, -1), len,
	    1);
	if (r->body == NULL) {
		http_error(r, 400, "malformed_form", "The form could not be "
		    "read.");
		return -1;
	}
	return 0;
}

/* Forget a connection: evhttp is freeing it, or freed it unseen. */
static void
hconn_release(struct hconn *c)
{
	if (c->req != NULL)
		c->req->conn = NULL;
	if (c->reply_pending) {
		c->reply_pending = 0;
		req_complete();
	}
	if (c->evcon != NULL)
		evhttp_connection_set_closecb(c->evcon, NULL, NULL);
	if (c->incb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->incb);
	TAILQ_REMOVE(&H.conns, c, entry);
	H.nconns--;
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->adopt != NULL)
		event_free(c->adopt);
	bufferevent_decref(c->bev);
	free(c);
}

/* evhttp closes the connection. */
static void
hconn_closed(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	hconn_release(arg);
}

/* Cut a connection off: evhttp sees EOF and frees it the usual way. */
static void
hconn_shut(struct hconn *c)
{
	evutil_socket_t	 fd = bufferevent_getfd(c->bev);

	if (fd != -1)
		shutdown(fd, SHUT_RDWR);
}

/* Start (or restart, after a reply) the time to send a whole request. */
static void
hconn_arm(struct hconn *c)
{
	struct timeval	 tv = { HTTP_TIMEOUT, 0 };

	evtimer_add(c->timer, &tv);
}

/*
 * Find the evhttp_connection of a new bufferevent; 0 when it is there
 * (or the bufferevent was freed meanwhile: then c is released, -1).
 */
static int
hconn_adopt(struct hconn *c)
{
	bufferevent_data_cb	 rd;
	bufferevent_event_cb	 evcb;
	void			*arg = NULL;
	struct hconn		*o;
	char			*host = NULL;
	ev_uint16_t		 port = 0;
	int			 same = 0;

	if (c->evcon != NULL)
		return 0;
	bufferevent_getcb(c->bev, &rd, NULL, &evcb, &arg);
	if (rd == NULL || arg == NULL || evhttp_connection_get_bufferevent(
	    (struct evhttp_connection *)arg) != c->bev) {
		/* evhttp already freed it (bufferevent_free clears them). */
		hconn_release(c);
		return -1;
	}
	c->evcon = arg;
	evhttp_connection_set_closecb(c->evcon, hconn_closed, c);
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->incb);
	c->incb = NULL;
	evhttp_connection_get_peer(c->evcon, &host, &port);
	if (host != NULL)
		snprintf(c->addr, sizeof(c->addr), "%s", host);
	if (host != NULL && !proxy_is_trusted(host)) {
		TAILQ_FOREACH(o, &H.conns, entry)
			if (o->capped && strcmp(o->addr, c->addr) == 0)
				same++;
		if (same >= HTTP_MAXCONNS_PER_ADDR) {
			if (same == HTTP_MAXCONNS_PER_ADDR)
				log_warnx("%s has %d connections open, the most "
				    "one address may (HTTP_MAXCONNS_PER_ADDR); "
				    "closing new ones", c->addr, same);
			c->refused = 1;
		} else
			c->capped = 1;
	}
	if (c->refused)
		hconn_shut(c);
	return 0;
}

/* The next turn of the loop after accept: the connection exists now. */
static void
hconn_adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hconn_adopt(arg);
}

/* The first bytes arrived: adopt before evhttp parses them. */
static void
hconn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	(void)buf;
	if (info->n_added > 0)
		hconn_adopt(arg);
}

/* The deadline passed: cut off a request still arriving. */
static void
hconn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hconn	*c = arg;

	(void)fd;
	(void)what;
	if (hconn_adopt(c) == -1)
		return;
	if (c->req != NULL || c->reply_pending) {
		hconn_arm(c);	/* answering: look again later */
		return;
	}
	log_debug("%s: no whole request within %d s; closing", c->addr,
	    HTTP_TIMEOUT);
	hconn_shut(c);
}

/*
 * evhttp wants a bufferevent for a connection it just accepted: make it,
 * and start the connection's deadline. Over HTTP_MAXCONNS, the
 * connection is shut as soon as it is adopted.
 */
static struct bufferevent *
http_bevcb(struct event_base *base, void *arg)
{
	struct bufferevent	*bev;
	struct hconn		*c;
	struct timeval		 now = { 0, 0 };

	(void)arg;
	if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return bev;		/* served, just untracked */
	c->bev = bev;
	if ((c->timer = evtimer_new(base, hconn_timer_cb, c)) == NULL ||
	    (c->adopt = evtimer_new(base, hconn_adopt_cb, c)) == NULL ||
	    (c->incb = evbuffer_add_cb(bufferevent_get_input(bev),
	    hconn_input_cb, c)) == NULL) {
		if (c->timer != NULL)
			event_free(c->timer);
		if (c->adopt != NULL)
			event_free(c->adopt);
		free(c);
		return bev;
	}
	bufferevent_incref(bev);
	TAILQ_INSERT_TAIL(&H.conns, c, entry);
	if (++H.nconns > HTTP_MAXCONNS) {
		if (H.nconns == HTTP_MAXCONNS + 1)
			log_warnx("%d connections open (HTTP_MAXCONNS); closing "
			    "new ones", HTTP_MAXCONNS);
		c->refused = 1;
	}
	hconn_arm(c);
	evtimer_add(c->adopt, &now);
	return bev;
}

/*
 * A request arrives: give it a struct req (freed by its one reply), learn
 * who sent it, and hand it to the router.
 */
static void
http_gencb(struct evhttp_request *ev, void *arg)
{
	struct req_priv		*p;
	struct req		*r;
	char			*host = NULL;
	ev_uint16_t		 port = 0;
	struct evhttp_connection *conn;
	struct hconn		*c = NULL;

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
		TAILQ_FOREACH(c, &H.conns, entry)
			if (c->bev == evhttp_connection_get_bufferevent(conn))
				break;
		if (c != NULL && hconn_adopt(c) == 0) {
			c->req = p;
			p->conn = c;
		}
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
	r->method = evhttp_request_get_command(ev);
	if (r->method == EVHTTP_REQ_HEAD) {
		r->method = EVHTTP_REQ_GET;
		r->head = 1;
	}
	if (r->method == HTTP_REQ_UNKNOWN) {
		/* evhttp read no body for it: the connection cannot be
		 * reused, so it closes after the answer. */
		evhttp_add_header(evhttp_request_get_output_headers(ev),
		    "Connection", "close");
		http_error(r, 501, "not_implemented", "This server does not "
		    "know that method; the API uses GET, HEAD, POST, PATCH "
		    "and DELETE.");
		return;
	}
	r->path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(ev));
	if (r->path == NULL || *r->path == '\0' ||
	    strlen(r->path) > HTTP_MAXPATH) {
		http_error(r, 404, "not_found", "No such resource.");
		return;
	}
	H.dispatch(r);
}

/* Requests still running DRAIN_SECS after SIGTERM: exit regardless. */
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

/*
 * Bind ADDR:PORT and serve with every limit set; every request goes to
 * dispatch, and errors on HTML routes are drawn by error_page.
 */
int
http_start(struct event_base *base, const char *listen,
    http_dispatch_fn dispatch, http_page_fn error_page)
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
	H.dispatch = dispatch;
	H.error_page = error_page;
	if ((H.http = evhttp_new(base)) == NULL)
		return -1;
	evhttp_set_max_headers_size(H.http, HTTP_MAXHEADERS);
	/* evhttp refuses (plain 413) above this; we answer JSON 413 below.
	 * It is what one connection may make us hold while a body arrives. */
	evhttp_set_max_body_size(H.http, HTTP_MAXBUFBODY);
	evhttp_set_timeout(H.http, HTTP_TIMEOUT);
	/* Each connection's deadline and the caps on connections. */
	evhttp_set_bevcb(H.http, http_bevcb, NULL);
	/* Every method reaches us: the router answers 405 in JSON, and a
	 * method evhttp does not know gets a JSON 501 above. */
	evhttp_set_allowed_methods(H.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | HTTP_REQ_UNKNOWN);
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
