/*
 * Web pages for attendees: the event list, an event with its registration
 * form, the confirmation / manage page with the QR ticket, cancel,
 * consent, erasure, and an .ics file. zh-CN and English.
 *
 * Every page comes from templates/ through template.c, which escapes
 * every value; the only raw insertion is the SVG the server draws itself.
 * Forms work without JavaScript. Form posts carry a CSRF token that must
 * equal the one in a SameSite=Strict cookie (double submit): another site
 * can make a browser post, but cannot read or set our cookie. Pages send
 * a Content-Security-Policy without inline script, and pages that carry
 * a manage secret are neither cached nor leaked through Referer.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "server.h"

#define CSRF_COOKIE	"rc_csrf"
#define CSP		"default-src 'none'; style-src 'self'; " \
			"img-src 'self' data:; form-action 'self'; " \
			"base-uri 'none'; frame-ancestors 'none'"

static json_t	*catalogs[2];		/* en, zh-CN */
static const char *const langs[] = { "en", "zh-CN" };

/*
 * Each part of the site may keep its messages in its own catalog,
 * templates/i18n/web-PART.LANG.json, merged into LANG's; a key defined
 * twice is an error, so no part silently changes another's text.
 */
static int
web_catalog_parts(const char *share, const char *lang, json_t *into)
{
	char		 pat[4096];
	glob_t		 g;
	json_error_t	 e;
	json_t		*part, *v;
	const char	*k;
	size_t		 i;
	int		 rc = 0;

	snprintf(pat, sizeof(pat), "%s/templates/i18n/web-*.%s.json", share,
	    lang);
	if (glob(pat, 0, NULL, &g) != 0)
		return 0;
	for (i = 0; i < g.gl_pathc && rc == 0; i++) {
		if ((part = json_load_file(g.gl_pathv[i],
		    JSON_REJECT_DUPLICATES, &e)) == NULL ||
		    !json_is_object(part)) {
			log_warnx("%s:%d: %s", g.gl_pathv[i], e.line, e.text);
			json_decref(part);
			rc = -1;
			break;
		}
		json_object_foreach(part, k, v) {
			if (json_object_get(into, k) != NULL) {
				log_warnx("%s: \"%s\" is already defined",
				    g.gl_pathv[i], k);
				rc = -1;
				break;
			}
			json_object_set(into, k, v);
		}
		json_decref(part);
	}
	globfree(&g);
	return rc;
}

/* Load templates/ and the message catalogs. */
int
web_init(const char *share)
{
	char		 path[4096];
	json_error_t	 e;
	int		 i;

	snprintf(path, sizeof(path), "%s/templates", share);
	if (tmpl_load_dir(path) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/templates/i18n/%s.json", share,
		    langs[i]);
		if ((catalogs[i] = json_load_file(path, JSON_REJECT_DUPLICATES,
		    &e)) == NULL) {
			log_warnx("%s:%d: %s", path, e.line, e.text);
			return -1;
		}
		if (web_catalog_parts(share, langs[i], catalogs[i]) == -1)
			return -1;
	}
	return 0;
}

/* The CSRF token for this browser, set as a cookie when it has none. */
static void
web_csrf(struct req *r, char *tok, size_t toksz)
{
	char		 cookie[128];

	if (req_cookie(r, CSRF_COOKIE, tok, toksz) == 0 &&
	    strlen(tok) == SECRET_LEN)
		return;
	secret_random_id(tok, toksz, SECRET_BYTES);
	snprintf(cookie, sizeof(cookie), CSRF_COOKIE "=%s; Path=/; HttpOnly; "
	    "SameSite=Strict", tok);
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Set-Cookie", cookie);
}

/* A form post is ours when its csrf field equals the cookie. */
int
web_csrf_ok(struct req *r)
{
	char		 tok[64];
	const char	*sent = json_string_value(json_object_get(r->body,
	    "csrf"));

	if (sent == NULL || req_cookie(r, CSRF_COOKIE, tok, sizeof(tok)) == -1 ||
	    strlen(tok) != SECRET_LEN || strlen(sent) != SECRET_LEN ||
	    sodium_memcmp(tok, sent, SECRET_LEN) != 0) {
		http_error(r, 403, "csrf", "This form has expired. Go back, "
		    "reload the page and send it again.");
		return 0;
	}
	return 1;
}

/* A page's context: the language, its messages, the query and CSRF. */
json_t *
web_ctx(struct req *r, const char *title_key)
{
	char	 csrf[64];
	int	 l = req_lang(r);
	json_t	*ctx, *t = catalogs[l];

	web_csrf(r, csrf, sizeof(csrf));
	ctx = json_pack("{s:s, s:O, s:s, s:b, s:s}", "lang", langs[l], "t", t,
	    "csrf", csrf, "zh", l == 1, "other_lang", l ? "en" : "zh-CN");
	if (ctx != NULL && title_key != NULL)
		json_object_set(ctx, "title", json_object_get(t, title_key));
	return ctx;
}

/* The message catalog of a language (0 en, 1 zh-CN). */
const json_t *
web_catalog(int lang)
{
	return catalogs[lang ? 1 : 0];
}

/* The headers every page carries, with its Content-Security-Policy. */
static void
page_headers(struct evkeyvalq *h, const char *csp)
{
	evhttp_add_header(h, "Content-Security-Policy", csp);
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
}

/* Send a rendered page; takes the context. */
void
web_page(struct req *r, int status, const char *tmpl, json_t *ctx)
{
	web_page_csp(r, status, tmpl, ctx, CSP);
}

/* Send a rendered page under a given Content-Security-Policy. */
void
web_page_csp(struct req *r, int status, const char *tmpl, json_t *ctx,
    const char *csp)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(r->ev);
	struct evbuffer		*b;
	unsigned char		*data;
	size_t			 len;

	b = ctx ? tmpl_render(tmpl, ctx) : NULL;
	json_decref(ctx);
	if (b == NULL) {
		http_error(r, 503, "render_failed", "This page cannot be shown "
		    "right now.");
		return;
	}
	page_headers(h, csp);
	len = evbuffer_get_length(b);
	data = evbuffer_pullup(b, -1);
	http_reply_bytes(r, status, "text/html; charset=utf-8", data, len,
	    "no-store");
	evbuffer_free(b);
}

/* A query argument, NULL when absent or empty. */
static const char *
query_nonempty(struct req *r, const char *key)
{
	const char	*v = req_query_arg(r, key);

	return v != NULL && *v != '\0' ? v : NULL;
}

/*
 * The cache key of a public page (cache.c): the event or the index's
 * filters, and the language. -1 when the page is not cached: a staff
 * token, ?lang= (it sets a cookie; the next request, keyed on that
 * cookie, is), or a key too long.
 */
static int
page_key(struct req *r, char *key, size_t keysz)
{
	const char	*k = query_nonempty(r, "kind");
	const char	*c = query_nonempty(r, "chapter");
	int		 n;

	if (r->has_token || req_query_arg(r, "lang") != NULL)
		return -1;
	if (r->id > 0)
		n = snprintf(key, keysz, "page/event/%lld/%d",
		    (long long)r->id, req_lang(r));
	else
		n = snprintf(key, keysz, "page/index/%d?%d:%s&%d:%s",
		    req_lang(r), k ? (int)strlen(k) : -1, k ? k : "",
		    c ? (int)strlen(c) : -1, c ? c : "");
	return n < 0 || (size_t)n >= keysz ? -1 : 0;
}

/*
 * Serve a public page from the cache, with this browser's own CSRF token
 * (and cookie, when it has none) filled in; else take a ticket for the
 * miss. 1 when served.
 */
static int
page_cached(struct req *r)
{
	const struct cache_entry *e;
	char		 key[CACHE_MAXKEY], tok[64];

	if (page_key(r, key, sizeof(key)) == -1)
		return 0;
	if ((e = cache_get(key)) == NULL) {
		r->cache_ticket = cache_ticket();
		return 0;
	}
	web_csrf(r, tok, sizeof(tok));
	page_headers(evhttp_request_get_output_headers(r->ev), CSP);
	http_reply_cached(r, e, tok);
	return 1;
}

/*
 * Send a public page rendered with the cache's placeholder where the
 * CSRF token goes, kept when the miss's ticket allows; takes the context.
 */
static void
web_page_keep(struct req *r, const char *tmpl, json_t *ctx)
{
	struct cache_entry	 tmp;
	const struct cache_entry *e;
	struct evbuffer		*b;
	char			 key[CACHE_MAXKEY], tok[64];
	const char		*csrf;

	if (r->cache_ticket == 0 || ctx == NULL ||
	    page_key(r, key, sizeof(key)) == -1) {
		web_page(r, 200, tmpl, ctx);
		return;
	}
	csrf = json_string_value(json_object_get(ctx, "csrf"));
	snprintf(tok, sizeof(tok), "%s", csrf != NULL ? csrf : "");
	json_object_set_new(ctx, "csrf", json_string(cache_hole()));
	b = tmpl_render(tmpl, ctx);
	json_decref(ctx);
	if (b == NULL || cache_prepare(&tmp, "text/html; charset=utf-8",
	    evbuffer_pullup(b, -1), evbuffer_get_length(b),
	    cache_hole()) == -1) {
		if (b != NULL)
			evbuffer_free(b);
		http_error(r, 503, "render_failed", "This page cannot be shown "
		    "right now.");
		return;
	}
	e = cache_put(key, r->id, r->cache_ticket, &tmp);
	page_headers(evhttp_request_get_output_headers(r->ev), CSP);
	http_reply_cached(r, e != NULL ? e : &tmp, tok);
	evbuffer_free(b);
}

/* An error as a page (http_error calls this for HTML routes). */
void
web_error_page(struct req *r, int status, const char *code,
    const char *message)
{
	json_t		*ctx, *text;
	char		 key[64];

	/* Who may not register here is told where to join. */
	if (strcmp(code, "members_only") == 0 &&
	    (ctx = web_ctx(r, "mb_only_title")) != NULL) {
		json_object_set_new(ctx, "refused", json_true());
		web_page(r, status, "join", ctx);
		return;
	}
	ctx = web_ctx(r, "error_title");
	if (ctx != NULL) {
		/* The catalog's sentence for this error, else the server's. */
		snprintf(key, sizeof(key), "err_%s", code);
		text = json_object_get(json_object_get(ctx, "t"), key);
		json_object_set_new(ctx, "status", json_integer(status));
		if (json_is_string(text))
			json_object_set(ctx, "message", text);
		else
			json_object_set_new(ctx, "message", json_string(message));
	}
	web_page(r, status, "error", ctx);
}

/* A 303 to a path on this site. */
void
web_redirect(struct req *r, const char *path)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Location",
	    path);
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Referrer-Policy", "no-referrer");
	http_reply_bytes(r, 303, "text/plain; charset=utf-8",
	    (const unsigned char *)"See Other\n", 10, "no-store");
}

/* Flags a template can test: "identity_professional", "f_email"... */
static void
add_flags(json_t *o, const char *prefix, const json_t *v)
{
	char	 key[64];
	size_t	 i;
	json_t	*e;

	if (json_is_string(v)) {
		snprintf(key, sizeof(key), "%s%s", prefix, json_string_value(v));
		json_object_set_new(o, key, json_true());
	} else if (json_is_array(v))
		json_array_foreach(v, i, e)
			add_flags(o, prefix, e);
}

/* Display fields for an event: local times and the kind's label. */
static void
event_decorate(json_t *e, const json_t *t)
{
	char		 key[48];
	const char	*kind = json_string_value(json_object_get(e, "kind"));
	json_t		*left = json_object_get(e, "seats_left");

	util_local_time(e, "starts_at_local", "starts_display");
	util_local_time(e, "ends_at_local", "ends_display");
	if (kind != NULL) {
		snprintf(key, sizeof(key), "kind_%s", kind);
		json_object_set(e, "kind_label", json_object_get(t, key));
		json_object_set_new(e, "is_online", json_boolean(
		    strcmp(kind, "nighttalk") == 0));
	}
	json_object_set_new(e, "full", json_boolean(json_is_integer(left) &&
	    json_integer_value(left) == 0));
}

/* Render the index page: the upcoming events. */
static void
index_done(struct req *r, struct db_res *res)
{
	json_t	*ctx = web_ctx(r, "events_title"), *data, *e;
	size_t	 i;

	data = json_loads(db_value(res, 0, 0), 0, NULL);
	if (ctx == NULL || data == NULL) {
		json_decref(data);
		json_decref(ctx);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_array_foreach(json_object_get(data, "events"), i, e)
		event_decorate(e, json_object_get(ctx, "t"));
	json_object_set(ctx, "events", json_object_get(data, "events"));
	json_object_set_new(ctx, "filter_kind", json_string(
	    req_query_arg(r, "kind") ? req_query_arg(r, "kind") : ""));
	add_flags(ctx, "filter_kind_", json_object_get(ctx, "filter_kind"));
	json_object_set_new(ctx, "filter_chapter", json_string(
	    req_query_arg(r, "chapter") ? req_query_arg(r, "chapter") : ""));
	json_decref(data);
	web_page_keep(r, "index", ctx);
}

/* GET / : upcoming events, by kind and chapter. */
void
web_index(struct req *r)
{
	static const char *const kinds[] = { "meetup", "nighttalk",
	    "community_day" };
	const char	*vals[2];
	int		 i;

	vals[0] = req_query_arg(r, "kind");
	vals[1] = req_query_arg(r, "chapter");
	if (vals[0] != NULL && *vals[0] == '\0')
		vals[0] = NULL;
	if (vals[1] != NULL && *vals[1] == '\0')
		vals[1] = NULL;
	for (i = 0; vals[0] != NULL && i < 3; i++)
		if (strcmp(vals[0], kinds[i]) == 0)
			break;
	if (i == 3 || (vals[1] != NULL && (validate_utf8(vals[1]) == -1 ||
	    strlen(vals[1]) > FIELD_MAXTEXT))) {
		http_error(r, 400, "invalid_field", "Unknown filter.");
		return;
	}
	if (page_cached(r))
		return;
	req_query(r, SQL_EVENT_LIST, vals, 2, index_done);
}

/*
 * The event page's context for event e (taken): the event, whether it
 * takes registrations. NULL when memory is short.
 */
static json_t *
event_ctx(struct req *r, json_t *e)
{
	json_t	*ctx = web_ctx(r, NULL);

	if (ctx == NULL || e == NULL) {
		json_decref(e);
		json_decref(ctx);
		return NULL;
	}
	event_decorate(e, json_object_get(ctx, "t"));
	json_object_set(ctx, "title", json_object_get(e, "title"));
	json_object_set_new(ctx, "open", json_boolean(strcmp(
	    json_string_value(json_object_get(e, "status")) ?
	    json_string_value(json_object_get(e, "status")) : "",
	    "published") == 0));
	json_object_set_new(ctx, "event", e);
	return ctx;
}

/*
 * The event page for a member who came by their own link (member.c):
 * data is rc_member_event's {event, member, registration}, member_path
 * "/member/{secret}". Instead of the public form (and of the members-only
 * notice), a registration as that member, or their registration.
 */
void
web_event_member(struct req *r, json_t *data, const char *member_path)
{
	json_t	*ctx, *m;

	ctx = event_ctx(r, json_incref(json_object_get(data, "event")));
	m = json_object_get(data, "member");
	if (ctx == NULL || !json_is_object(m)) {
		json_decref(ctx);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_object_set_new(m, "path", json_string(member_path));
	json_object_set_new(m, "needs_company", json_boolean(
	    json_string_value(json_object_get(m, "company")) == NULL));
	json_object_set_new(m, "needs_job_title", json_boolean(
	    json_string_value(json_object_get(m, "job_title")) == NULL));
	json_object_set_new(m, "needs_identity", json_boolean(
	    json_string_value(json_object_get(m, "identity")) == NULL));
	if (json_is_object(json_object_get(data, "registration")))
		json_object_set(m, "registration",
		    json_object_get(data, "registration"));
	json_object_set(ctx, "member", m);
	json_object_set_new(ctx, "form", json_object());
	web_page(r, 200, "event", ctx);
}

/*
 * Render the event page. form/errors are the submitted values and the
 * field that was wrong, when the form comes back.
 */
static void
event_page(struct req *r, struct db_res *res, json_t *form, const char *field,
    const char *message)
{
	json_t	*ctx, *errs, *text;
	char	 key[80], ckey[96];

	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such event.");
		return;
	}
	if ((ctx = event_ctx(r, json_loads(db_value(res, 0, 0), 0,
	    NULL))) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	if (form != NULL) {
		form = json_deep_copy(form);
		add_flags(form, "identity_", json_object_get(form, "identity"));
	}
	json_object_set_new(ctx, "form", form ? form : json_object());
	if (field != NULL) {
		errs = json_object();
		snprintf(key, sizeof(key), "%s", field);
		/* The catalog's sentence for the field, else the server's. */
		snprintf(ckey, sizeof(ckey), "err_field_%s", field);
		text = json_object_get(json_object_get(ctx, "t"), ckey);
		if (json_is_string(text))
			json_object_set(errs, key, text);
		else
			json_object_set_new(errs, key, json_string(message));
		json_object_set_new(errs, "any", json_true());
		json_object_set_new(ctx, "errors", errs);
	}
	if (form == NULL && field == NULL)
		web_page_keep(r, "event", ctx);
	else
		web_page(r, field ? 400 : 200, "event", ctx);
}

/* Render an event's page. */
static void
event_done(struct req *r, struct db_res *res)
{
	event_page(r, res, NULL, NULL, NULL);
}

/* GET /events/{id} */
void
web_event(struct req *r)
{
	const char	*vals[2];

	if (page_cached(r))
		return;
	vals[0] = r->params[0];
	vals[1] = "false";
	req_query(r, SQL_EVENT_GET, vals, 2, event_done);
}

/* The form's fields as the API's JSON body. */
json_t *
web_form_registration(const json_t *f)
{
	static const char *const text[] = { "name", "email", "company",
	    "job_title", "phone", "identity" };
	static const char *const share[] = { "email", "phone", "job_title" };
	json_t		*o = json_object(), *fields = json_array();
	const char	*v;
	char		 key[32];
	size_t		 i;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		v = json_string_value(json_object_get(f, text[i]));
		if (v == NULL || (*v == '\0' && strcmp(text[i], "phone") == 0))
			continue;
		json_object_set_new(o, text[i], json_string(v));
	}
	for (i = 0; i < sizeof(share) / sizeof(share[0]); i++) {
		snprintf(key, sizeof(key), "share_%s", share[i]);
		if (json_object_get(f, key) != NULL)
			json_array_append_new(fields, json_string(share[i]));
	}
	json_object_set_new(o, "consent", json_pack("{s:b, s:o}", "sponsors",
	    json_object_get(f, "consent_sponsors") != NULL, "fields", fields));
	return o;
}

/* The form was refused: the event's page again, as typed, with the error. */
static void
register_form_failed(struct req *r, struct db_res *res)
{
	event_page(r, res, r->body, r->errfield, r->errmsg);
}

/* Registered from the form: to the manage page, with a welcome. */
static void
register_form_done(struct req *r, const char *row)
{
	char	 path[128];

	(void)row;
	snprintf(path, sizeof(path), "/manage/%s?welcome=1", r->secret);
	sodium_memzero(r->secret, sizeof(r->secret));
	web_redirect(r, path);
}

/* POST /events/{id}/register (a form) */
void
web_register(struct req *r)
{
	char		 field[64], msg[256];
	const char	*vals[2];
	json_t		*body;

	if (!web_csrf_ok(r) ||
	    !registration_rate_ok(r))
		return;
	body = web_form_registration(r->body);
	if (registration_check(body, field, sizeof(field), msg,
	    sizeof(msg)) == -1) {
		json_decref(body);
		/* Show the form again, the input kept, the error by its
		 * field. */
		snprintf(r->errfield, sizeof(r->errfield), "%s",
		    strncmp(field, "consent", 7) == 0 ? "consent" : field);
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg);
		vals[0] = r->params[0];
		vals[1] = "false";
		req_query(r, SQL_EVENT_GET, vals, 2, register_form_failed);
		return;
	}
	/* The public path: a members-only event refuses it. */
	json_object_set_new(body, "public", json_true());
	registration_submit(r, body, register_form_done);
	json_decref(body);
}

/* The manage page's data, with the signed ticket as inline SVG. */
static void
manage_done(struct req *r, struct db_res *res)
{
	json_t		*ctx, *reg, *ticket, *ev;
	const char	*tok;
	char		 join[64], url[128];
	char		*svg;

	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such registration.");
		return;
	}
	ctx = web_ctx(r, "manage_title");
	reg = json_loads(db_value(res, 0, 0), 0, NULL);
	if (ctx == NULL || reg == NULL) {
		json_decref(reg);
		json_decref(ctx);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	reg_attach_ticket(reg, r->params[0]);
	ticket = json_object_get(reg, "ticket");
	tok = json_string_value(json_object_get(ticket, "token"));
	if (tok != NULL && (svg = ticket_svg(tok)) != NULL) {
		json_object_set_new(ticket, "svg", json_string(svg));
		free(svg);
	}
	if ((ev = json_object_get(reg, "event")) != NULL)
		event_decorate(ev, json_object_get(ctx, "t"));
	json_object_set_new(reg, "confirmed", json_boolean(strcmp(
	    json_string_value(json_object_get(reg, "status")) ?
	    json_string_value(json_object_get(reg, "status")) : "",
	    "confirmed") == 0));
	json_object_set_new(reg, "waitlisted", json_boolean(strcmp(
	    json_string_value(json_object_get(reg, "status")) ?
	    json_string_value(json_object_get(reg, "status")) : "",
	    "waitlisted") == 0));
	json_object_set_new(reg, "cancelled", json_boolean(strcmp(
	    json_string_value(json_object_get(reg, "status")) ?
	    json_string_value(json_object_get(reg, "status")) : "",
	    "cancelled") == 0));
	if (json_is_true(json_object_get(ev, "is_online")) &&
	    json_is_true(json_object_get(reg, "confirmed"))) {
		secret_join(r->params[0], join, sizeof(join));
		snprintf(url, sizeof(url), "/j/%s", join);
		json_object_set_new(reg, "join_path", json_string(url));
		sodium_memzero(join, sizeof(join));
	}
	add_flags(json_object_get(reg, "consent"), "f_", json_object_get(
	    json_object_get(reg, "consent"), "fields"));
	json_object_set_new(ctx, "secret", json_string(r->params[0]));
	json_object_set_new(ctx, "welcome", json_boolean(
	    req_query_arg(r, "welcome") != NULL));
	json_object_set_new(ctx, "reg", reg);
	web_page(r, 200, "manage", ctx);
}

/* GET /manage/{secret} */
void
web_manage(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_REG_GET, vals, 1, manage_done);
}

/* Back to the registration's manage page; 404 when there is none. */
static void
back_to_manage(struct req *r, struct db_res *res)
{
	char	 path[128];

	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such registration.");
		return;
	}
	snprintf(path, sizeof(path), "/manage/%s", r->params[0]);
	web_redirect(r, path);
}

/* POST /manage/{secret}/cancel */
void
web_cancel(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	if (web_csrf_ok(r))
		req_query(r, SQL_REG_CANCEL, vals, 1, back_to_manage);
}

/* POST /manage/{secret}/erase */
void
web_erase(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	if (web_csrf_ok(r))
		req_query(r, SQL_REG_ERASE, vals, 1, back_to_manage);
}

/*
 * POST /manage/{secret}/reconfirm: the button of the manage page that
 * the reconfirmation mail links to. Only a POST confirms, so a mail
 * scanner fetching the link confirms nothing.
 */
void
web_reconfirm(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	if (web_csrf_ok(r))
		req_query(r, SQL_RECONFIRM, vals, 1, back_to_manage);
}

/* POST /manage/{secret}/consent */
void
web_consent(struct req *r)
{
	const char	*vals[2];
	json_t		*reg, *c;
	char		*text;

	if (!web_csrf_ok(r))
		return;
	reg = web_form_registration(r->body);
	c = json_object_get(reg, "consent");
	if (!json_is_true(json_object_get(c, "sponsors")))
		json_array_clear(json_object_get(c, "fields"));
	text = json_dumps(c, JSON_COMPACT);
	json_decref(reg);
	if (text == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = r->secret_hash;
	vals[1] = text;
	req_query(r, SQL_REG_CONSENT, vals, 2, back_to_manage);
	free(text);
}

/* Reply with the registration's event as an iCalendar file. */
static void
ics_done(struct req *r, struct db_res *res)
{
	struct evbuffer	*b;
	json_t		*reg, *ev;
	const char	*kind, *status;
	char		 url[1024], loc[1024], join[64];

	if (db_rows(res) != 1 || db_isnull(res, 0, 0) ||
	    (reg = json_loads(db_value(res, 0, 0), 0, NULL)) == NULL) {
		http_error(r, 404, "not_found", "No such registration.");
		return;
	}
	if (!json_is_object(json_object_get(reg, "event"))) {
		json_decref(reg);
		http_error(r, 404, "not_found", "No such registration.");
		return;
	}
	loc[0] = '\0';
	ev = json_object_get(reg, "event");
	snprintf(url, sizeof(url), "%s/events/%lld", registration_public_url(),
	    (long long)json_integer_value(json_object_get(ev, "id")));
	kind = json_string_value(json_object_get(ev, "kind"));
	status = json_string_value(json_object_get(reg, "status"));
	/* An online event's place is the attendee's own join link. */
	if (kind != NULL && strcmp(kind, "nighttalk") == 0 && status != NULL &&
	    strcmp(status, "confirmed") == 0) {
		secret_join(r->params[0], join, sizeof(join));
		snprintf(loc, sizeof(loc), "%s/j/%s", registration_public_url(),
		    join);
		sodium_memzero(join, sizeof(join));
	}
	b = ics_render(reg, url, loc[0] != '\0' ? loc : NULL);
	sodium_memzero(loc, sizeof(loc));
	json_decref(reg);
	if (b == NULL) {
		http_error(r, 503, "render_failed", "Try again.");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Content-Disposition", "attachment; filename=\"event.ics\"");
	http_reply_bytes(r, 200, "text/calendar; charset=utf-8",
	    evbuffer_pullup(b, -1), evbuffer_get_length(b), "private, no-store");
	evbuffer_free(b);
}

/* GET /manage/{secret}/event.ics */
void
web_ics(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_REG_GET, vals, 1, ics_done);
}

/* GET /static/style.css */
void
web_css(struct req *r)
{
	struct evbuffer	*b = tmpl_render("style.css", NULL);

	if (b == NULL) {
		http_error(r, 404, "not_found", "No such file.");
		return;
	}
	http_reply_bytes(r, 200, "text/css; charset=utf-8",
	    evbuffer_pullup(b, -1), evbuffer_get_length(b),
	    "public, max-age=3600");
	evbuffer_free(b);
}

/* Display fields for an event shown on another part's page (chapters). */
void
web_event_decorate(json_t *e, const json_t *t)
{
	event_decorate(e, t);
}
