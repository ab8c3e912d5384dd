/*
 * Topic voting (由开发者对自己感兴趣的技术话题进行投票, COMMUNITY.md
 * section 7): track owners, the leaders of a topic chapter, the
 * committee and admins propose topics for the chapter's next series;
 * members vote, once per topic; the ranking is public; a topic can be
 * closed or chosen, after which it takes no more votes.
 *
 * "Once" is a primary key on (topic, member) in PostgreSQL, so it holds
 * whatever the number of requests and servers: a repeated vote stores
 * nothing and answers 200 with "already": true (the first answers 201).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "server.h"

static const char *const topic_statuses[] = { "open", "closed", "chosen",
    NULL };

static const struct vfield propose_fields[] = {
	{ "chapter", V_STRING, 1, 0, 1, TOPIC_MAXSLUG, NULL },
	{ "title", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "description", V_STRING, 0, 0, 0, TOPIC_MAXDESC, NULL },
};
static const struct vfield status_fields[] = {
	{ "status", V_ENUM, 1, 0, 0, 0, topic_statuses },
};
static const struct vfield vote_fields[] = {
	{ "topic", V_INT, 1, 0, 1, ID_MAX, NULL },
};

#define NFIELDS(a)	((int)(sizeof(a) / sizeof((a)[0])))

/* Whether s looks like a chapter's slug (the chapters table's rule). */
static int
topic_slug_ok(const char *s)
{
	size_t	 i, n = strlen(s);

	if (n == 0 || n > TOPIC_MAXSLUG)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || (s[i] == '-' && i > 0)))
			return 0;
	return 1;
}

/* Propose body's text and the caller's chapters to rc_topic_propose. */
static void
topic_propose_run(struct req *r, json_t *body, req_done_fn done)
{
	const char	*vals[3];
	char		*text, *chapters;

	if (series_chapters_pg(r, &chapters) == -1)
		return;
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL) {
		free(chapters);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = text;
	vals[1] = chapters;
	vals[2] = r->auth.jti;
	req_query(r, SQL_TOPIC_PROPOSE, vals, 3, done);
	free(text);
	free(chapters);
}

/* POST /api/v1/topics {chapter: slug, title, description?} */
void
topic_propose(struct req *r)
{
	if (req_validate(r, propose_fields, NFIELDS(propose_fields)) == -1)
		return;
	topic_propose_run(r, r->body, http_reply_row_created);
}

/* GET /api/v1/topics[?chapter=slug]: the public ranking. */
void
topic_list(struct req *r)
{
	const char	*vals[1];

	vals[0] = req_query_arg(r, "chapter");
	if (vals[0] != NULL && !topic_slug_ok(vals[0])) {
		http_error(r, 400, "invalid_field", "chapter: a chapter's slug "
		    "(a-z, 0-9 and -, at most %d).", TOPIC_MAXSLUG);
		return;
	}
	req_query(r, SQL_TOPIC_LIST, vals, 1, http_reply_row);
}

/* Run rc_topic_status for the caller's chapters. */
static void
topic_status_run(struct req *r, const char *id, const char *status,
    req_done_fn done)
{
	const char	*vals[4];
	char		*chapters;

	if (series_chapters_pg(r, &chapters) == -1)
		return;
	vals[0] = id;
	vals[1] = status;
	vals[2] = chapters;
	vals[3] = r->auth.jti;
	req_query(r, SQL_TOPIC_STATUS, vals, 4, done);
	free(chapters);
}

/* PATCH /api/v1/topics/{id} {status: open|closed|chosen} */
void
topic_update(struct req *r)
{
	if (req_validate(r, status_fields, NFIELDS(status_fields)) == -1)
		return;
	topic_status_run(r, r->params[0], json_string_value(json_object_get(
	    r->body, "status")), http_reply_row);
}

/* A vote is in: 201 the first time, 200 with "already" after. */
static void
vote_done(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res);

	if (o == NULL) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	http_reply_json(r, json_is_true(json_object_get(o, "already")) ? 200 :
	    201, o);
}

/* POST /api/v1/member/{secret}/votes {topic: ID} */
void
vote_cast(struct req *r)
{
	const char	*vals[2];
	char		 id[24];

	if (req_validate(r, vote_fields, NFIELDS(vote_fields)) == -1)
		return;
	snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(
	    json_object_get(r->body, "topic")));
	vals[0] = r->secret_hash;
	vals[1] = id;
	req_query(r, SQL_VOTE, vals, 2, vote_done);
}

/* A withdrawal's answer; no member is 404. */
static void
unvote_done(struct req *r, struct db_res *res)
{
	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	http_reply_row(r, res);
}

/* DELETE /api/v1/member/{secret}/votes/{id}: withdraw the vote. */
void
vote_withdraw(struct req *r)
{
	const char	*vals[2] = { r->secret_hash, r->params[1] };

	req_query(r, SQL_UNVOTE, vals, 2, unvote_done);
}

/* The member's topics page from rc_member_topics. */
static void
member_page_done(struct req *r, struct db_res *res)
{
	json_t		*ctx, *data = db_json(res);
	const char	*done = req_query_arg(r, "done");
	char		 key[64];

	if (data == NULL) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	if ((ctx = web_ctx(r, "sr_topics_title")) == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_object_set_new(ctx, "secret", json_string(r->params[0]));
	json_object_set_new(ctx, "data", data);
	if (done != NULL && (strcmp(done, "voted") == 0 ||
	    strcmp(done, "unvoted") == 0 || strcmp(done, "already") == 0)) {
		snprintf(key, sizeof(key), "sr_tp_done_%s", done);
		json_object_set(ctx, "notice", json_object_get(
		    json_object_get(ctx, "t"), key));
	}
	web_page(r, 200, "member_topics", ctx);
}

/* GET /member/{secret}/topics: open topics with vote buttons. */
void
topic_member_page(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_MEMBER_TOPICS, vals, 1, member_page_done);
}

/* A vote from the page is in: back to the page, saying what happened. */
static void
member_vote_done(struct req *r, struct db_res *res)
{
	json_t		*o = db_json(res);
	char		 path[160];
	const char	*done;

	if (o == NULL) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	if (json_is_true(json_object_get(o, "voted")))
		done = json_is_true(json_object_get(o, "already")) ?
		    "already" : "voted";
	else
		done = "unvoted";
	json_decref(o);
	snprintf(path, sizeof(path), "/member/%s/topics?done=%s",
	    r->params[0], done);
	web_redirect(r, path);
}

/* POST /member/{secret}/topics (a form: csrf, topic, action vote|unvote) */
void
topic_member_post(struct req *r)
{
	const char	*action, *topic, *vals[2];
	int64_t		 id;

	if (!web_csrf_ok(r))
		return;
	action = json_string_value(json_object_get(r->body, "action"));
	topic = json_string_value(json_object_get(r->body, "topic"));
	if (topic == NULL || parse_int64(topic, 1, ID_MAX, &id) == -1) {
		http_error(r, 400, "invalid_field", "topic: a topic's id.");
		return;
	}
	if (action == NULL || (strcmp(action, "vote") != 0 &&
	    strcmp(action, "unvote") != 0)) {
		http_error(r, 400, "invalid_field", "action: vote or unvote.");
		return;
	}
	vals[0] = r->secret_hash;
	vals[1] = topic;
	req_query(r, strcmp(action, "vote") == 0 ? SQL_VOTE : SQL_UNVOTE, vals,
	    2, member_vote_done);
}

/* Each topic's status in words, and flags for the form's options. */
static void
topic_decorate(json_t *data, const json_t *t)
{
	json_t		*c, *tp;
	const char	*st;
	char		 key[64];
	size_t		 i, j;

	json_array_foreach(json_object_get(data, "chapters"), i, c)
		json_array_foreach(json_object_get(c, "topics"), j, tp) {
			if ((st = json_string_value(json_object_get(tp,
			    "status"))) == NULL)
				continue;
			snprintf(key, sizeof(key), "sr_status_%s", st);
			json_object_set(tp, "status_label", json_object_get(t,
			    key));
			snprintf(key, sizeof(key), "st_%s", st);
			json_object_set_new(tp, key, json_true());
		}
}

/* The console's topics page; r->errmsg, when set, above the form. */
static void
console_done(struct req *r, struct db_res *res)
{
	json_t		*ctx, *data = db_json(res), *form;
	const char	*done = req_query_arg(r, "done");
	char		 key[64];

	if (data == NULL) {
		http_error(r, 404, "not_found", "No such page.");
		return;
	}
	if ((ctx = console_ctx(r, "sr_console_topics_title")) == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	topic_decorate(data, json_object_get(ctx, "t"));
	json_object_set_new(ctx, "data", data);
	if (r->errmsg[0] != '\0') {
		json_object_set_new(ctx, "error", json_string(r->errmsg));
		/* The proposal as typed, to correct. */
		form = json_pack("{s:s?, s:s?, s:s?}", "chapter",
		    json_string_value(json_object_get(r->body, "chapter")),
		    "title", json_string_value(json_object_get(r->body,
		    "title")), "description", json_string_value(
		    json_object_get(r->body, "description")));
		if (form != NULL)
			json_object_set_new(ctx, "form", form);
	} else if (done != NULL && (strcmp(done, "proposed") == 0 ||
	    strcmp(done, "status") == 0)) {
		snprintf(key, sizeof(key), "sr_tp_done_%s", done);
		json_object_set(ctx, "notice", json_object_get(
		    json_object_get(ctx, "t"), key));
	}
	web_page_csp(r, r->errmsg[0] != '\0' ? 400 : 200, "console_topics",
	    ctx, WEB_CSP_SCRIPT);
}

/* Run the console page's statement for the caller. */
static void
console_query(struct req *r)
{
	const char	*vals[2];
	char		*scope, *chapters;

	if (series_chapters_pg(r, &chapters) == -1)
		return;
	if (series_scope_pg(r, &scope) == -1) {
		free(chapters);
		return;
	}
	vals[0] = chapters;
	vals[1] = scope;
	req_query(r, SQL_CONSOLE_TOPICS, vals, 2, console_done);
	free(scope);
	free(chapters);
}

/* GET /console/topics: the rankings per chapter; close, choose, propose. */
void
topic_console(struct req *r)
{
	console_query(r);
}

/* A console change is done: back to the page, saying which. */
static void
console_back(struct req *r, struct db_res *res, const char *path)
{
	json_t	*o = db_json(res);

	if (o == NULL) {
		http_error(r, 404, "not_found", "No such topic.");
		return;
	}
	json_decref(o);
	web_redirect(r, path);
}

/* A topic proposed from the console. */
static void
console_proposed(struct req *r, struct db_res *res)
{
	console_back(r, res, "/console/topics?done=proposed");
}

/* A topic's status changed from the console. */
static void
console_status_done(struct req *r, struct db_res *res)
{
	console_back(r, res, "/console/topics?done=status");
}

/* A refusal of the database (RC4xx): the page again, with its sentence. */
static void
console_refused(struct req *r, struct db_res *res)
{
	const char	*detail = db_detail(res);

	snprintf(r->errmsg, sizeof(r->errmsg), "%s", detail != NULL ? detail :
	    "Refused.");
	r->failed = NULL;
	console_query(r);
}

/* POST /console/topics (a form: csrf, chapter, title, description) */
void
topic_console_propose(struct req *r)
{
	char		 field[64], msg[256];
	const char	*v;
	json_t		*body;
	size_t		 i;
	static const char *const text[] = { "chapter", "title",
	    "description" };

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if ((body = json_object()) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if ((v = json_string_value(json_object_get(r->body,
		    text[i]))) != NULL && (*v != '\0' || i < 2))
			json_object_set_new(body, text[i], json_string(v));
	if (validate_object(body, propose_fields, NFIELDS(propose_fields),
	    field, sizeof(field), msg, sizeof(msg)) == -1) {
		json_decref(body);
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg);
		console_query(r);
		return;
	}
	r->failed = console_refused;
	topic_propose_run(r, body, console_proposed);
	json_decref(body);
}

/* POST /console/topics/status (a form: csrf, topic, status) */
void
topic_console_status(struct req *r)
{
	const char	*topic, *status;
	int64_t		 id;
	int		 i;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	topic = json_string_value(json_object_get(r->body, "topic"));
	status = json_string_value(json_object_get(r->body, "status"));
	if (topic == NULL || parse_int64(topic, 1, ID_MAX, &id) == -1) {
		http_error(r, 400, "invalid_field", "topic: a topic's id.");
		return;
	}
	for (i = 0; status != NULL && topic_statuses[i] != NULL; i++)
		if (strcmp(status, topic_statuses[i]) == 0)
			break;
	if (status == NULL || topic_statuses[i] == NULL) {
		http_error(r, 400, "invalid_field", "status: open, closed or "
		    "chosen.");
		return;
	}
	topic_status_run(r, topic, status, console_status_done);
}
