/*
 * Contributions (COMMUNITY.md section 6): talks, articles, reviews,
 * answers, organizing, volunteering. Leaders and track owners record
 * them in their chapters, infra and the committee everywhere; infra and
 * the committee review their quality, never the one who recorded it
 * (recognition.sql compares the recorder's jti or "acct:N"). The
 * speakers on a finished event's agenda arrive as proposals, which staff
 * confirm with an e-mail address or dismiss.
 *
 * The API and the console page share the field table, so the console
 * refuses what the API refuses with the same sentence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define NFIELDS(a)	((int)(sizeof(a) / sizeof((a)[0])))

static const char *const kinds[] = { "talk", "article", "review", "answer",
    "organizing", "volunteering", "other", NULL };
static const char *const statuses[] = { "proposed", "pending", "approved",
    "declined", "dismissed", NULL };

static const struct vfield record_fields[] = {
	{ "email", V_EMAIL, 1, 0, 0, 0, NULL },
	{ "name", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "kind", V_ENUM, 1, 0, 0, 0, kinds },
	{ "title", V_STRING, 0, 0, 1, FIELD_MAXTEXT, NULL },
	{ "date", V_DATE, 1, 0, 0, 0, NULL },
	{ "chapter", V_STRING, 0, 1, 1, 63, NULL },
	{ "event", V_INT, 0, 1, 1, ID_MAX, NULL },
	{ "url", V_URL, 0, 1, 0, 0, NULL },
};
static const struct vfield review_fields[] = {
	{ "quality", V_BOOL, 1, 0, 0, 0, NULL },
	{ "comment", V_STRING, 0, 1, 0, RECOGNITION_MAXCOMMENT, NULL },
};
static const struct vfield confirm_fields[] = {
	{ "email", V_EMAIL, 1, 0, 0, 0, NULL },
	{ "name", V_STRING, 0, 0, 0, FIELD_MAXTEXT, NULL },
};
#define POINTS_FIELD(k)	{ k, V_INT, 0, 0, 0, RECOGNITION_MAXPOINTS, NULL }
static const struct vfield points_fields[] = {
	POINTS_FIELD("talk"), POINTS_FIELD("article"), POINTS_FIELD("review"),
	POINTS_FIELD("answer"), POINTS_FIELD("organizing"),
	POINTS_FIELD("volunteering"), POINTS_FIELD("other"),
};

/* GET /api/v1/contributions/points: what each kind is worth. */
void
contribution_points_get(struct req *r)
{
	req_query(r, SQL_RC_POINTS_GET, NULL, 0, http_reply_row);
}

/* PATCH /api/v1/contributions/points {kind: points, ...} */
void
contribution_points_set(struct req *r)
{
	const char	*vals[2];
	char		*body;

	if (req_validate(r, points_fields, NFIELDS(points_fields)) == -1)
		return;
	if (json_object_size(r->body) == 0) {
		http_error(r, 400, "invalid_field", "body: name at least one "
		    "kind and its points.");
		return;
	}
	if ((body = json_dumps(r->body, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = body;
	vals[1] = r->auth.jti;
	req_query(r, SQL_RC_POINTS_SET, vals, 2, http_reply_row);
	free(body);
}

/*
 * Check a contribution's body (API or console form): the field table,
 * then a title or a link (a link alone is its own title). 0, or -1 with
 * the 400 sent.
 */
static int
record_check(struct req *r)
{
	json_t	*url;

	if (req_validate(r, record_fields, NFIELDS(record_fields)) == -1)
		return -1;
	url = json_object_get(r->body, "url");
	if (json_object_get(r->body, "title") == NULL) {
		if (!json_is_string(url)) {
			http_error(r, 400, "invalid_field", "title: give a "
			    "title or a url.");
			return -1;
		}
		if (strlen(json_string_value(url)) > FIELD_MAXTEXT) {
			http_error(r, 400, "invalid_field", "title: required "
			    "when the url is longer than %d bytes.",
			    FIELD_MAXTEXT);
			return -1;
		}
		json_object_set(r->body, "title", url);
	}
	return 0;
}

/* Record the checked body as the caller; done gets the new row. */
static void
record_query(struct req *r, req_done_fn done)
{
	const char	*vals[2];
	char		*body, *caller;

	body = json_dumps(r->body, JSON_COMPACT);
	caller = recognition_caller(r);
	if (body == NULL || caller == NULL) {
		free(body);
		free(caller);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = body;
	vals[1] = caller;
	req_query(r, SQL_RC_RECORD, vals, 2, done);
	free(body);
	free(caller);
}

/*
 * POST /api/v1/contributions {email, name, kind, title, date, chapter?,
 * event?, url?} -> 201: pending review.
 */
void
contribution_record(struct req *r)
{
	if (record_check(r) == -1)
		return;
	record_query(r, http_reply_row_created);
}

/* The list's statement (API or console page) for this caller. */
static void
list_query(struct req *r, enum sql_id id, req_done_fn done)
{
	const char	*vals[5];
	char		 lim[16], *caller;

	if (recognition_arg_slug(r, &vals[0]) == -1 ||
	    recognition_arg_year(r, &vals[1]) == -1 ||
	    recognition_arg_enum(r, "status", statuses, &vals[2]) == -1 ||
	    recognition_arg_limit(r, &vals[3], lim, sizeof(lim)) == -1)
		return;
	if ((caller = recognition_caller(r)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[4] = caller;
	req_query(r, id, vals, 5, done);
	free(caller);
}

/* GET /api/v1/contributions?chapter=&year=&status=&limit= (staff). */
void
contribution_list(struct req *r)
{
	list_query(r, SQL_RC_LIST, http_reply_row);
}

/* Review {quality, comment?} as the caller; done gets the row. */
static void
review_query(struct req *r, const char *id, int quality,
    const char *comment, req_done_fn done)
{
	const char	*vals[4];
	char		*caller;

	if ((caller = recognition_caller(r)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = id;
	vals[1] = quality ? "true" : "false";
	vals[2] = comment;
	vals[3] = caller;
	req_query(r, SQL_RC_REVIEW, vals, 4, done);
	free(caller);
}

/*
 * POST /api/v1/contributions/{id}/review {quality, comment?}: infra,
 * committee and admin; 403 own_record for the one who recorded it.
 */
void
contribution_review(struct req *r)
{
	if (req_validate(r, review_fields, NFIELDS(review_fields)) == -1)
		return;
	review_query(r, r->params[0], json_is_true(json_object_get(r->body,
	    "quality")), json_string_value(json_object_get(r->body,
	    "comment")), http_reply_row);
}

/* Confirm a proposal with an e-mail address (and a name). */
static void
confirm_query(struct req *r, const char *id, req_done_fn done)
{
	const char	*vals[4];
	char		*caller;

	if ((caller = recognition_caller(r)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = id;
	vals[1] = json_string_value(json_object_get(r->body, "email"));
	vals[2] = json_string_value(json_object_get(r->body, "name"));
	vals[3] = caller;
	req_query(r, SQL_RC_CONFIRM, vals, 4, done);
	free(caller);
}

/* POST /api/v1/contributions/{id}/confirm {email, name?}: a proposal. */
void
contribution_confirm(struct req *r)
{
	if (req_validate(r, confirm_fields, NFIELDS(confirm_fields)) == -1)
		return;
	confirm_query(r, r->params[0], http_reply_row);
}

/* Dismiss a proposal. */
static void
dismiss_query(struct req *r, const char *id, req_done_fn done)
{
	const char	*vals[2];
	char		*caller;

	if ((caller = recognition_caller(r)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = id;
	vals[1] = caller;
	req_query(r, SQL_RC_DISMISS, vals, 2, done);
	free(caller);
}

/* POST /api/v1/contributions/{id}/dismiss: a proposal, not taken. */
void
contribution_dismiss(struct req *r)
{
	if (json_object_size(r->body) != 0) {
		http_error(r, 400, "invalid_field", "body: takes no fields.");
		return;
	}
	dismiss_query(r, r->params[0], http_reply_row);
}

/* The console page: labels for kinds and statuses, the form's choices. */
static void
console_done(struct req *r, struct db_res *res)
{
	json_t		*ctx, *data, *opts, *pts, *sts;
	const char	*st = req_query_arg(r, "status");
	char		 key[64];
	int		 i;

	if ((ctx = recognition_ctx(r, "rc_contrib_title", res)) == NULL)
		return;
	data = json_object_get(ctx, "data");
	recognition_labels(r, json_object_get(data, "contributions"), "kind",
	    "rc_kind_");
	recognition_labels(r, json_object_get(data, "contributions"),
	    "status", "rc_status_");
	recognition_labels(r, json_object_get(data, "proposals"), "kind",
	    "rc_kind_");
	pts = json_object_get(data, "points");
	opts = json_array();
	sts = json_array();
	for (i = 0; kinds[i] != NULL; i++) {
		snprintf(key, sizeof(key), "rc_kind_%s", kinds[i]);
		json_array_append_new(opts, json_pack("{s:s, s:O?, s:O?}",
		    "kind", kinds[i], "label", json_object_get(web_catalog(
		    req_lang(r)), key), "points", json_object_get(pts,
		    kinds[i])));
	}
	for (i = 0; statuses[i] != NULL; i++) {
		if (strcmp(statuses[i], "proposed") == 0)
			continue;
		snprintf(key, sizeof(key), "rc_status_%s", statuses[i]);
		json_array_append_new(sts, json_pack("{s:s, s:O?, s:b}",
		    "status", statuses[i], "label", json_object_get(
		    web_catalog(req_lang(r)), key), "selected",
		    st != NULL && strcmp(st, statuses[i]) == 0));
	}
	json_object_set_new(ctx, "kinds", opts);
	json_object_set_new(ctx, "statuses", sts);
	web_page_csp(r, 200, "console_contributions", ctx, WEB_CSP_SCRIPT);
}

/* GET /console/contributions?chapter=&year=&status= */
void
contribution_console(struct req *r)
{
	list_query(r, SQL_RC_CONSOLE, console_done);
}

/* A console form done: back to the page with its notice. */
static void
console_back(struct req *r, const char *done)
{
	char	 path[96];

	snprintf(path, sizeof(path), "/console/contributions?done=%s", done);
	web_redirect(r, path);
}

/* The form's statements are back: the page again, with a notice. */
static void
recorded_done(struct req *r, struct db_res *res)
{
	(void)res;
	console_back(r, "recorded");
}

static void
reviewed_done(struct req *r, struct db_res *res)
{
	(void)res;
	console_back(r, "reviewed");
}

static void
confirmed_done(struct req *r, struct db_res *res)
{
	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such contribution.");
		return;
	}
	console_back(r, "confirmed");
}

static void
dismissed_done(struct req *r, struct db_res *res)
{
	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such contribution.");
		return;
	}
	console_back(r, "dismissed");
}

/*
 * POST /console/contributions {csrf, email, name, kind, title, date,
 * chapter?, event?, url?}: the API's record, from the page's form.
 */
void
contribution_console_record(struct req *r)
{
	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	recognition_form_drop_empty(r->body);
	if (recognition_form_int(r, "event") == -1 || record_check(r) == -1)
		return;
	record_query(r, recorded_done);
}

/* The id field of a console form into buf; -1 (400 sent) when bad. */
static int
form_id(struct req *r, char *buf, size_t bufsz)
{
	const char	*id = json_string_value(json_object_get(r->body, "id"));
	int64_t		 n;

	if (id == NULL || parse_int64(id, 1, ID_MAX, &n) == -1) {
		http_error(r, 400, "invalid_field", "id: a contribution.");
		return -1;
	}
	snprintf(buf, bufsz, "%lld", (long long)n);
	return 0;
}

/*
 * POST /console/contributions/review {csrf, id, quality: yes|no,
 * comment?}: a reviewer's verdict (its own records have no button, and
 * the statement refuses them anyway).
 */
void
contribution_console_review(struct req *r)
{
	const char	*q, *comment;
	char		 id[24];

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	recognition_form_drop_empty(r->body);
	if (form_id(r, id, sizeof(id)) == -1)
		return;
	q = json_string_value(json_object_get(r->body, "quality"));
	comment = json_string_value(json_object_get(r->body, "comment"));
	if (q == NULL || (strcmp(q, "yes") != 0 && strcmp(q, "no") != 0)) {
		http_error(r, 400, "invalid_field", "quality: yes or no.");
		return;
	}
	if (comment != NULL && (strlen(comment) > RECOGNITION_MAXCOMMENT ||
	    validate_utf8(comment) == -1)) {
		http_error(r, 400, "invalid_field", "comment: at most %d "
		    "bytes of text.", RECOGNITION_MAXCOMMENT);
		return;
	}
	review_query(r, id, strcmp(q, "yes") == 0, comment, reviewed_done);
}

/*
 * POST /console/contributions/proposal {csrf, id, action: confirm |
 * dismiss, email, name?}: a proposal from an agenda, completed or not.
 */
void
contribution_console_proposal(struct req *r)
{
	const char	*action;
	char		 id[24], field[64], msg[256];

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	recognition_form_drop_empty(r->body);
	if (form_id(r, id, sizeof(id)) == -1)
		return;
	action = json_string_value(json_object_get(r->body, "action"));
	if (action != NULL && strcmp(action, "dismiss") == 0) {
		dismiss_query(r, id, dismissed_done);
		return;
	}
	if (action == NULL || strcmp(action, "confirm") != 0) {
		http_error(r, 400, "invalid_field", "action: confirm or "
		    "dismiss.");
		return;
	}
	json_object_del(r->body, "id");
	json_object_del(r->body, "action");
	if (validate_object(r->body, confirm_fields, NFIELDS(confirm_fields),
	    field, sizeof(field), msg, sizeof(msg)) == -1) {
		http_error(r, 400, "invalid_field", "%s", msg);
		return;
	}
	confirm_query(r, id, confirmed_done);
}
