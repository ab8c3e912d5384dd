/*
 * Chapters (COMMUNITY.md section 2): the JSON API (a public list and
 * chapter, the committee's create, edit and leaders), the public pages
 * /chapters and /chapters/{slug}, and the console's chapter pages.
 *
 * Fields are checked here by shape (the slug's letters, kinds, states,
 * lengths); the rules that need the database (a live time zone, a slug
 * taken, a retired chapter, who already leads) are in
 * sql/functions/chapter.sql, one statement per request. A leader row
 * grants the leader role by e-mail (rc_account_roles), so nothing here
 * touches accounts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define NFIELDS(a)	((int)(sizeof(a) / sizeof((a)[0])))

static const char *const kinds[] = { "city", "topic", NULL };
static const char *const statuses[] = { "trial", "active", "retired",
    NULL };
static const char *const leader_roles[] = { "lead", "co_lead",
    "track_owner", NULL };

/* A chapter's body; `create` says which fields are required. */
#define CHAPTER_FIELDS(create)						\
	{ "slug", V_STRING, create, 0, 1, CHAPTER_MAXSLUG, NULL },	\
	{ "name", V_STRING, create, 0, 1, FIELD_MAXTEXT, NULL },	\
	{ "name_zh", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },		\
	{ "kind", V_ENUM, create, 0, 0, 0, kinds },			\
	{ "city", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },		\
	{ "topic", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },		\
	{ "region", V_STRING, 0, 1, 0, FIELD_MAXTEXT, NULL },		\
	{ "timezone", V_TZ, 0, 0, 0, 0, NULL },				\
	{ "status", V_ENUM, 0, 0, 0, 0, statuses }

static const struct vfield create_fields[] = {
	CHAPTER_FIELDS(1),
};
static const struct vfield update_fields[] = {
	CHAPTER_FIELDS(0),
};
static const struct vfield leader_fields[] = {
	{ "email", V_EMAIL, 1, 0, 0, FIELD_MAXEMAIL, NULL },
	{ "name", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "role", V_ENUM, 1, 0, 0, 0, leader_roles },
};

/*
 * Whether s is a slug: 1 to CHAPTER_MAXSLUG lower-case Latin letters,
 * digits and hyphens, not starting with a hyphen (as the table's CHECK).
 * Slugs go into paths and into PostgreSQL array text, so nothing else
 * may pass.
 */
int
chapter_slug_ok(const char *s)
{
	size_t	 i;

	if (s == NULL || *s == '\0' || *s == '-')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i == CHAPTER_MAXSLUG || !((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* Whether s is one of a NULL-ended list. */
static int
one_of(const char *s, const char *const *list)
{
	if (s == NULL)
		return 0;
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* Whether the caller sees the staff view of chapters. */
static int
chapter_staff(const struct req *r)
{
	return r->has_token &&
	    (r->auth.roles & (ACCESS_ADMIN | ACCESS_COMMITTEE)) != 0;
}

/* Check a body's fields and its slug; 400 and -1 when wrong. */
static int
chapter_body_ok(struct req *r, const struct vfield *fields, int n)
{
	const char	*slug;

	if (req_validate(r, fields, n) == -1)
		return -1;
	slug = json_string_value(json_object_get(r->body, "slug"));
	if (slug != NULL && !chapter_slug_ok(slug)) {
		http_error(r, 400, "invalid_field", "slug: 1 to %d lower-case "
		    "letters, digits and hyphens, not starting with a hyphen.",
		    CHAPTER_MAXSLUG);
		return -1;
	}
	return 0;
}

/* Run one statement on a JSON body: (slug?, body, actor). */
static void
chapter_write(struct req *r, enum sql_id id, const char *slug,
    req_done_fn done)
{
	const char	*vals[3];
	char		*body;
	int		 n = 0;

	if ((body = json_dumps(r->body, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	if (slug != NULL)
		vals[n++] = slug;
	vals[n++] = body;
	vals[n++] = r->auth.jti;
	req_query(r, id, vals, n, done);
	free(body);
}

/*
 * The list's filters from the query: status (trial, active, retired or
 * all; none: the live ones) and kind. -1 after a 400 when wrong.
 */
static int
list_filters(struct req *r, const char **vals)
{
	vals[0] = req_query_arg(r, "status");
	vals[1] = req_query_arg(r, "kind");
	if (vals[0] != NULL && *vals[0] == '\0')
		vals[0] = NULL;
	if (vals[1] != NULL && *vals[1] == '\0')
		vals[1] = NULL;
	if (vals[0] != NULL && !one_of(vals[0], statuses) &&
	    strcmp(vals[0], "all") != 0) {
		http_error(r, 400, "invalid_field", "status: one of trial, "
		    "active, retired, all.");
		return -1;
	}
	if (vals[1] != NULL && !one_of(vals[1], kinds)) {
		http_error(r, 400, "invalid_field", "kind: city or topic.");
		return -1;
	}
	return 0;
}

/* GET /api/v1/chapters?status=&kind= */
void
chapter_list(struct req *r)
{
	const char	*vals[2];

	if (list_filters(r, vals) == -1)
		return;
	req_query(r, SQL_CHAPTER_LIST, vals, 2, http_reply_row);
}

/* GET /api/v1/chapters/{slug}: the chapter and its upcoming events. */
void
chapter_get(struct req *r)
{
	const char	*vals[2];

	if (!chapter_slug_ok(r->params[0])) {
		http_error(r, 404, "not_found", "No such chapter.");
		return;
	}
	vals[0] = r->params[0];
	vals[1] = chapter_staff(r) ? "true" : "false";
	req_query(r, SQL_CHAPTER_GET, vals, 2, http_reply_row);
}

/* POST /api/v1/chapters {slug, name, name_zh?, kind, city?, ...} */
void
chapter_create(struct req *r)
{
	if (chapter_body_ok(r, create_fields, NFIELDS(create_fields)) == -1)
		return;
	chapter_write(r, SQL_CHAPTER_CREATE, NULL, http_reply_row_created);
}

/* PATCH /api/v1/chapters/{slug}: fields and status; never the slug. */
void
chapter_update(struct req *r)
{
	if (!chapter_slug_ok(r->params[0])) {
		http_error(r, 404, "not_found", "No such chapter.");
		return;
	}
	if (chapter_body_ok(r, update_fields, NFIELDS(update_fields)) == -1)
		return;
	chapter_write(r, SQL_CHAPTER_UPDATE, r->params[0], http_reply_row);
}

/* POST /api/v1/chapters/{slug}/leaders {email, name, role} */
void
chapter_leader_add(struct req *r)
{
	if (!chapter_slug_ok(r->params[0])) {
		http_error(r, 404, "not_found", "No such chapter.");
		return;
	}
	if (req_validate(r, leader_fields, NFIELDS(leader_fields)) == -1)
		return;
	chapter_write(r, SQL_CHAPTER_LEADER_ADD, r->params[0],
	    http_reply_row_created);
}

/* Remove a leader: slug, person id and role (NULL: every role). */
static void
leader_remove(struct req *r, const char *person, const char *role,
    req_done_fn done)
{
	const char	*vals[4];
	int64_t		 id;

	if (!chapter_slug_ok(r->params[0]) ||
	    parse_int64(person, 1, ID_MAX, &id) == -1) {
		http_error(r, 404, "not_found", "No such leader.");
		return;
	}
	if (role != NULL && !one_of(role, leader_roles)) {
		http_error(r, 400, "invalid_field", "role: lead, co_lead or "
		    "track_owner.");
		return;
	}
	vals[0] = r->params[0];
	vals[1] = person;
	vals[2] = role;
	vals[3] = r->auth.jti;
	req_query(r, SQL_CHAPTER_LEADER_REMOVE, vals, 4, done);
}

/* DELETE /api/v1/chapters/{slug}/leaders/{person}?role= */
void
chapter_leader_remove(struct req *r)
{
	const char	*role = req_query_arg(r, "role");

	leader_remove(r, r->params[1], role != NULL && *role != '\0' ? role :
	    NULL, http_reply_row);
}

/* A catalog's text for prefix + value, or NULL. */
static json_t *
label(const json_t *t, const char *prefix, const char *value)
{
	char	 key[64];

	if (value == NULL)
		return NULL;
	snprintf(key, sizeof(key), "%s%s", prefix, value);
	return json_object_get(t, key);
}

/*
 * Display fields for a chapter on a page: its name in the page's
 * language (the other one beside it), the labels of its kind, status and
 * leaders' roles, its place, and flags the templates test.
 */
static void
chapter_decorate(json_t *c, const json_t *t, int zh)
{
	const char	*name = json_string_value(json_object_get(c, "name"));
	const char	*name_zh = json_string_value(json_object_get(c,
	    "name_zh"));
	const char	*kind = json_string_value(json_object_get(c, "kind"));
	const char	*st = json_string_value(json_object_get(c, "status"));
	const char	*place;
	json_t		*l;
	char		 key[48];
	size_t		 i;

	if (name_zh == NULL || *name_zh == '\0') {
		json_object_set_new(c, "display_name", json_string(name ? name :
		    ""));
	} else {
		json_object_set_new(c, "display_name", json_string(zh ?
		    name_zh : name));
		json_object_set_new(c, "other_name", json_string(zh ? name :
		    name_zh));
		json_object_set_new(c, "other_lang", json_string(zh ? "en" :
		    "zh-CN"));
	}
	json_object_set(c, "kind_label", label(t, "ch_kind_", kind));
	json_object_set(c, "status_label", label(t, "ch_status_", st));
	if (kind != NULL) {
		snprintf(key, sizeof(key), "kind_is_%s", kind);
		json_object_set_new(c, key, json_true());
	}
	if (st != NULL) {
		snprintf(key, sizeof(key), "status_is_%s", st);
		json_object_set_new(c, key, json_true());
	}
	place = json_string_value(json_object_get(c, kind != NULL &&
	    strcmp(kind, "topic") == 0 ? "topic" : "city"));
	if (place != NULL && *place != '\0')
		json_object_set_new(c, "place", json_string(place));
	json_array_foreach(json_object_get(c, "leaders"), i, l) {
		const char	*role = json_string_value(json_object_get(l,
		    "role"));

		if (role == NULL)
			continue;
		json_object_set(l, "role_label", label(t, "ch_role_", role));
		snprintf(key, sizeof(key), "role_is_%s", role);
		json_object_set_new(l, key, json_true());
	}
}

/* The public list is back: the page. */
static void
page_list_done(struct req *r, struct db_res *res)
{
	json_t		*ctx = web_ctx(r, "ch_title"), *data, *c;
	const char	*st = req_query_arg(r, "status");
	const char	*k = req_query_arg(r, "kind");
	char		 key[48];
	size_t		 i;

	data = db_json(res);
	if (ctx == NULL || data == NULL) {
		json_decref(data);
		json_decref(ctx);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_array_foreach(json_object_get(data, "chapters"), i, c)
		chapter_decorate(c, json_object_get(ctx, "t"), req_lang(r));
	json_object_set(ctx, "chapters", json_object_get(data, "chapters"));
	json_decref(data);
	snprintf(key, sizeof(key), "filter_%s", st != NULL && *st != '\0' ?
	    st : k != NULL && *k != '\0' ? k : "live");
	json_object_set_new(ctx, key, json_true());
	web_page(r, 200, "chapters", ctx);
}

/* GET /chapters?kind=&status=: the chapters, in zh-CN or English. */
void
chapter_page_list(struct req *r)
{
	const char	*vals[2];

	if (list_filters(r, vals) == -1)
		return;
	req_query(r, SQL_CHAPTER_LIST, vals, 2, page_list_done);
}

/* One chapter is back: its page, or 404. */
static void
page_done(struct req *r, struct db_res *res)
{
	json_t		*data = db_json(res), *ctx, *e;
	const json_t	*t;
	size_t		 i;

	if (data == NULL) {
		http_error(r, 404, "not_found", "No such chapter.");
		return;
	}
	if ((ctx = web_ctx(r, NULL)) == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	t = json_object_get(ctx, "t");
	chapter_decorate(data, t, req_lang(r));
	json_array_foreach(json_object_get(data, "events"), i, e)
		web_event_decorate(e, t);
	json_object_set(ctx, "title", json_object_get(data, "display_name"));
	json_object_set_new(ctx, "chapter", data);
	web_page(r, 200, "chapter", ctx);
}

/* GET /chapters/{slug}: names, kind, place, leaders, upcoming events. */
void
chapter_page(struct req *r)
{
	const char	*vals[2];

	if (!chapter_slug_ok(r->params[0])) {
		http_error(r, 404, "not_found", "No such chapter.");
		return;
	}
	vals[0] = r->params[0];
	vals[1] = "false";
	req_query(r, SQL_CHAPTER_GET, vals, 2, page_done);
}

/*
 * The console's chapter pages (admin, committee). A form the database
 * refuses comes back as typed with the sentence by its field; r->errmsg
 * holds the sentence, r->errfield the field ("form" when none).
 */

/* Record a form's error: the field and the sentence. */
static void
form_error(struct req *r, const char *field, const char *msg)
{
	snprintf(r->errfield, sizeof(r->errfield), "%s", field);
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg);
}

/* A refusal's sentence and, when it starts "field:", the field. */
static void
form_error_db(struct req *r, struct db_res *res)
{
	const char	*d = db_detail(res) != NULL ? db_detail(res) :
	    db_message(res);
	size_t		 n;

	if (d == NULL)
		d = "refused";
	form_error(r, "form", d);
	n = strcspn(d, ": ");
	if (d[n] == ':' && n > 0 && n < sizeof(r->errfield))
		snprintf(r->errfield, sizeof(r->errfield), "%.*s", (int)n, d);
}

/*
 * Put the error and the form as typed into a page's context, with the
 * flags its selects test (kind_is_city, status_is_trial, role_is_lead).
 */
static void
form_again(struct req *r, json_t *ctx, const char *form)
{
	static const char *const sel[] = { "kind", "status", "role" };
	json_t		*f;
	const char	*v;
	char		 key[64];
	size_t		 i;

	if (r->errmsg[0] == '\0')
		return;
	json_object_set_new(ctx, "error", json_string(r->errmsg));
	json_object_set_new(ctx, "errors", json_pack("{s:b, s:s}", "any", 1,
	    r->errfield, r->errmsg));
	if (r->body == NULL || (f = json_deep_copy(r->body)) == NULL)
		return;
	for (i = 0; i < sizeof(sel) / sizeof(sel[0]); i++)
		if ((v = json_string_value(json_object_get(f, sel[i]))) !=
		    NULL && strlen(v) < 32) {
			snprintf(key, sizeof(key), "%s_is_%s", sel[i], v);
			json_object_set_new(f, key, json_true());
		}
	json_object_set_new(ctx, form, f);
}

/* A ?done= word as the page's notice. */
static void
notice(struct req *r, json_t *ctx)
{
	static const char *const words[] = { "created", "saved",
	    "leader_added", "leader_removed", NULL };
	const char	*done = req_query_arg(r, "done");
	char		 key[48];

	if (r->errmsg[0] != '\0' || !one_of(done, words))
		return;
	snprintf(key, sizeof(key), "ch_done_%s", done);
	json_object_set(ctx, "notice", json_object_get(json_object_get(ctx,
	    "t"), key));
}

/* The console's list is back: the page (with a refused create's form). */
static void
console_list_done(struct req *r, struct db_res *res)
{
	json_t	*data = db_json(res), *ctx, *c;
	size_t	 i;

	if (data == NULL || (ctx = console_ctx(r, "ch_title")) == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_array_foreach(json_object_get(data, "chapters"), i, c)
		chapter_decorate(c, json_object_get(ctx, "t"), req_lang(r));
	json_object_set_new(ctx, "data", data);
	notice(r, ctx);
	form_again(r, ctx, "f");
	web_page_csp(r, r->errmsg[0] != '\0' ? 400 : 200, "console_chapters",
	    ctx, WEB_CSP_SCRIPT);
}

/* GET /console/chapters */
void
chapter_console_list(struct req *r)
{
	r->failed = NULL;
	req_query(r, SQL_CONSOLE_CHAPTERS, NULL, 0, console_list_done);
}

/* A refused create: the list again with the form as typed. */
static void
console_create_refused(struct req *r, struct db_res *res)
{
	form_error_db(r, res);
	chapter_console_list(r);
}

/* Created: to the new chapter's page. */
static void
console_created(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res);
	char	 path[128];

	snprintf(path, sizeof(path), "/console/chapters/%s?done=created",
	    chapter_slug_ok(json_string_value(json_object_get(o, "slug"))) ?
	    json_string_value(json_object_get(o, "slug")) : "");
	json_decref(o);
	web_redirect(r, path);
}

/*
 * A console form as an API body: the fields named, blank ones left out
 * (create) or cleared (edit: null, and "" for name_zh), then the API's
 * field table. NULL with the error set.
 */
static json_t *
form_body(struct req *r, int create)
{
	static const char *const text[] = { "slug", "name", "name_zh", "kind",
	    "city", "topic", "region", "timezone", "status" };
	const struct vfield	*fields = create ? create_fields : update_fields;
	json_t		*b = json_object();
	const char	*v;
	char		 field[64], msg[256];
	size_t		 i;

	for (i = create ? 0 : 1; i < sizeof(text) / sizeof(text[0]); i++) {
		v = json_string_value(json_object_get(r->body, text[i]));
		if (v != NULL && *v != '\0')
			json_object_set_new(b, text[i], json_string(v));
		else if (!create && (strcmp(text[i], "city") == 0 ||
		    strcmp(text[i], "topic") == 0 ||
		    strcmp(text[i], "region") == 0))
			json_object_set_new(b, text[i], json_null());
		else if (!create && strcmp(text[i], "name_zh") == 0)
			json_object_set_new(b, text[i], json_string(""));
	}
	if (validate_object(b, fields, create ? NFIELDS(create_fields) :
	    NFIELDS(update_fields), field, sizeof(field), msg,
	    sizeof(msg)) == -1) {
		form_error(r, field, msg);
		json_decref(b);
		return NULL;
	}
	v = json_string_value(json_object_get(b, "slug"));
	if (v != NULL && !chapter_slug_ok(v)) {
		snprintf(msg, sizeof(msg), "slug: 1 to %d lower-case letters, "
		    "digits and hyphens, not starting with a hyphen.",
		    CHAPTER_MAXSLUG);
		form_error(r, "slug", msg);
		json_decref(b);
		return NULL;
	}
	return b;
}

/* Run a console write on body b (taken): (slug?, b, account). */
static void
console_write(struct req *r, enum sql_id id, const char *slug, json_t *b,
    req_done_fn done, req_done_fn refused)
{
	const char	*vals[3];
	char		*text = json_dumps(b, JSON_COMPACT);
	int		 n = 0;

	json_decref(b);
	if (text == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	if (slug != NULL)
		vals[n++] = slug;
	vals[n++] = text;
	vals[n++] = r->auth.jti;
	r->failed = refused;
	req_query(r, id, vals, n, done);
	free(text);
}

/* POST /console/chapters {csrf, slug, name, name_zh, kind, ...} */
void
chapter_console_create(struct req *r)
{
	json_t	*b;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if ((b = form_body(r, 1)) == NULL) {
		chapter_console_list(r);
		return;
	}
	console_write(r, SQL_CHAPTER_CREATE, NULL, b, console_created,
	    console_create_refused);
}

/* One chapter's console page is back, with a refused form as typed. */
static void
console_page_done(struct req *r, struct db_res *res)
{
	json_t		*data = db_json(res), *ctx;
	const char	*form = r->route->fn == chapter_console_leader_add ?
	    "lf" : "f";

	if (data == NULL) {
		http_error(r, 404, "not_found", "No such chapter.");
		return;
	}
	if ((ctx = console_ctx(r, "ch_title")) == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	chapter_decorate(data, json_object_get(ctx, "t"), req_lang(r));
	json_object_set(ctx, "title", json_object_get(data, "display_name"));
	/* The edit form's values: as typed after a refusal, else the row's. */
	json_object_set(ctx, "f", data);
	json_object_set_new(ctx, "data", data);
	notice(r, ctx);
	form_again(r, ctx, form);
	/* The leader form's error is said there, not by the edit form's
	 * fields of the same names. */
	if (r->errmsg[0] != '\0' && strcmp(form, "lf") == 0) {
		json_object_set_new(ctx, "leader_error", json_true());
		json_object_set_new(ctx, "errors", json_pack("{s:b}", "any", 1));
	}
	web_page_csp(r, r->errmsg[0] != '\0' ? 400 : 200, "console_chapter",
	    ctx, WEB_CSP_SCRIPT);
}

/* GET /console/chapters/{slug} */
void
chapter_console_page(struct req *r)
{
	const char	*vals[2];
	char		 limit[16];

	if (!chapter_slug_ok(r->params[0])) {
		http_error(r, 404, "not_found", "No such chapter.");
		return;
	}
	snprintf(limit, sizeof(limit), "%d", CHAPTER_MAXEVENTS);
	vals[0] = r->params[0];
	vals[1] = limit;
	r->failed = NULL;
	req_query(r, SQL_CONSOLE_CHAPTER, vals, 2, console_page_done);
}

/* A refused edit or leader: the chapter's page again, the form as typed. */
static void
console_page_refused(struct req *r, struct db_res *res)
{
	form_error_db(r, res);
	chapter_console_page(r);
}

/* A change saved: back to the chapter's page with a word of it. */
static void
console_changed(struct req *r, struct db_res *res)
{
	char	 path[160];

	(void)res;
	snprintf(path, sizeof(path), "/console/chapters/%s?done=%s",
	    r->params[0], r->route->fn == chapter_console_update ? "saved" :
	    r->route->fn == chapter_console_leader_add ? "leader_added" :
	    "leader_removed");
	web_redirect(r, path);
}

/* POST /console/chapters/{slug} {csrf, name, name_zh, kind, ..., status} */
void
chapter_console_update(struct req *r)
{
	json_t	*b;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (!chapter_slug_ok(r->params[0])) {
		http_error(r, 404, "not_found", "No such chapter.");
		return;
	}
	if ((b = form_body(r, 0)) == NULL) {
		chapter_console_page(r);
		return;
	}
	console_write(r, SQL_CHAPTER_UPDATE, r->params[0], b, console_changed,
	    console_page_refused);
}

/* POST /console/chapters/{slug}/leaders {csrf, email, name, role} */
void
chapter_console_leader_add(struct req *r)
{
	static const char *const keys[] = { "email", "name", "role" };
	char		 field[64], msg[256];
	json_t		*b;
	const char	*v;
	size_t		 i;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (!chapter_slug_ok(r->params[0])) {
		http_error(r, 404, "not_found", "No such chapter.");
		return;
	}
	b = json_object();
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = json_string_value(json_object_get(r->body,
		    keys[i]))) != NULL && *v != '\0')
			json_object_set_new(b, keys[i], json_string(v));
	if (validate_object(b, leader_fields, NFIELDS(leader_fields), field,
	    sizeof(field), msg, sizeof(msg)) == -1) {
		json_decref(b);
		form_error(r, field, msg);
		chapter_console_page(r);
		return;
	}
	console_write(r, SQL_CHAPTER_LEADER_ADD, r->params[0], b,
	    console_changed, console_page_refused);
}

/* POST /console/chapters/{slug}/leaders/remove {csrf, person, role} */
void
chapter_console_leader_remove(struct req *r)
{
	const char	*person = json_string_value(json_object_get(r->body,
	    "person"));
	const char	*role = json_string_value(json_object_get(r->body,
	    "role"));

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	r->failed = console_page_refused;
	leader_remove(r, person != NULL ? person : "", role != NULL &&
	    *role != '\0' ? role : NULL, console_changed);
}
