/*
 * Points (COMMUNITY.md section 6): the ledger's corrections, the
 * benefits catalogue (周边礼品, 技术支持, 技术培训, seats at members'
 * premium meetups), redemptions, and the member's side: their
 * recognition by API and the page /member/{secret}/points.
 *
 * A redemption is one statement (rc_redemption_request): the person's
 * row is locked, the balance checked, the stock taken by a conditional
 * update and the price debited by a ledger row whose trigger checks the
 * balance again. Twenty requests at once on two daemons cannot take a
 * balance or a stock below zero: they queue on those row locks in
 * PostgreSQL, and nothing here keeps state between requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define NFIELDS(a)	((int)(sizeof(a) / sizeof((a)[0])))

static const char *const benefit_kinds[] = { "gift", "support", "training",
    "premium_seat", NULL };
static const char *const redemption_statuses[] = { "requested", "approved",
    "rejected", "fulfilled", NULL };

static const struct vfield correction_fields[] = {
	{ "email", V_EMAIL, 1, 0, 0, 0, NULL },
	{ "delta", V_INT, 1, 0, -RECOGNITION_MAXDELTA, RECOGNITION_MAXDELTA,
	    NULL },
	{ "reason", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
};
#define BENEFIT_FIELDS(create)						\
	{ "kind", V_ENUM, create, 0, 0, 0, benefit_kinds },		\
	{ "name", V_STRING, create, 0, 1, FIELD_MAXTEXT, NULL },	\
	{ "name_zh", V_STRING, 0, 0, 0, FIELD_MAXTEXT, NULL },		\
	{ "description", V_STRING, 0, 1, 0, FIELD_MAXLONG, NULL },	\
	{ "price", V_INT, create, 0, 1, RECOGNITION_MAXPRICE, NULL },	\
	{ "stock", V_INT, 0, 1, 0, RECOGNITION_MAXPRICE, NULL },	\
	{ "event", V_INT, 0, 1, 1, ID_MAX, NULL },			\
	{ "active", V_BOOL, 0, 0, 0, 0, NULL }
static const struct vfield benefit_create_fields[] = { BENEFIT_FIELDS(1) };
static const struct vfield benefit_update_fields[] = { BENEFIT_FIELDS(0) };
static const struct vfield decide_fields[] = {
	{ "comment", V_STRING, 0, 1, 0, RECOGNITION_MAXCOMMENT, NULL },
};
static const struct vfield redeem_fields[] = {
	{ "benefit", V_INT, 1, 0, 1, ID_MAX, NULL },
};
static const struct vfield profile_fields[] = {
	{ "listed", V_BOOL, 1, 0, 0, 0, NULL },
};

/* POST /api/v1/points/corrections {email, delta, reason}: a new entry. */
void
points_adjust(struct req *r)
{
	const char	*vals[4];
	char		 delta[24];

	if (req_validate(r, correction_fields, NFIELDS(correction_fields)) ==
	    -1)
		return;
	if (json_integer_value(json_object_get(r->body, "delta")) == 0) {
		http_error(r, 400, "invalid_field", "delta: not zero.");
		return;
	}
	snprintf(delta, sizeof(delta), "%lld", (long long)json_integer_value(
	    json_object_get(r->body, "delta")));
	vals[0] = json_string_value(json_object_get(r->body, "email"));
	vals[1] = delta;
	vals[2] = json_string_value(json_object_get(r->body, "reason"));
	vals[3] = r->auth.jti;
	req_query(r, SQL_RC_ADJUST, vals, 4, http_reply_row_created);
}

/* GET /api/v1/benefits: the catalogue (active benefits), for anyone. */
void
points_benefits(struct req *r)
{
	const char	*vals[1] = { "false" };

	req_query(r, SQL_RC_BENEFITS, vals, 1, http_reply_row);
}

/* Create (id NULL) or change a benefit from the checked body. */
static void
benefit_query(struct req *r, const char *id, req_done_fn done)
{
	const char	*vals[3];
	char		*body;

	if ((body = json_dumps(r->body, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	if (id == NULL) {
		vals[0] = body;
		vals[1] = r->auth.jti;
		req_query(r, SQL_RC_BENEFIT_CREATE, vals, 2, done);
	} else {
		vals[0] = id;
		vals[1] = body;
		vals[2] = r->auth.jti;
		req_query(r, SQL_RC_BENEFIT_UPDATE, vals, 3, done);
	}
	free(body);
}

/* POST /api/v1/benefits {kind, name, name_zh?, description?, price,
 * stock?, event?, active?} -> 201 (stock null or absent: no limit). */
void
points_benefit_create(struct req *r)
{
	if (req_validate(r, benefit_create_fields,
	    NFIELDS(benefit_create_fields)) == -1)
		return;
	benefit_query(r, NULL, http_reply_row_created);
}

/* PATCH /api/v1/benefits/{id}: any of the fields. */
void
points_benefit_update(struct req *r)
{
	if (req_validate(r, benefit_update_fields,
	    NFIELDS(benefit_update_fields)) == -1)
		return;
	if (json_object_size(r->body) == 0) {
		http_error(r, 400, "invalid_field", "body: change at least one "
		    "field.");
		return;
	}
	benefit_query(r, r->params[0], http_reply_row);
}

/* GET /api/v1/redemptions?status=&limit=: newest first. */
void
points_redemptions(struct req *r)
{
	const char	*vals[2];
	char		 lim[16];

	if (recognition_arg_enum(r, "status", redemption_statuses,
	    &vals[0]) == -1 ||
	    recognition_arg_limit(r, &vals[1], lim, sizeof(lim)) == -1)
		return;
	req_query(r, SQL_RC_REDEMPTIONS, vals, 2, http_reply_row);
}

/* Move redemption id on (approve, reject, fulfill). */
static void
decide_query(struct req *r, const char *id, const char *action,
    const char *comment, req_done_fn done)
{
	const char	*vals[4];

	vals[0] = id;
	vals[1] = action;
	vals[2] = comment;
	vals[3] = r->auth.jti;
	req_query(r, SQL_RC_DECIDE, vals, 4, done);
}

/* An API decision {comment?} on redemption {id}. */
static void
decide(struct req *r, const char *action)
{
	if (req_validate(r, decide_fields, NFIELDS(decide_fields)) == -1)
		return;
	decide_query(r, r->params[0], action, json_string_value(
	    json_object_get(r->body, "comment")), http_reply_row);
}

/* POST /api/v1/redemptions/{id}/approve */
void
points_redemption_approve(struct req *r)
{
	decide(r, "approve");
}

/* POST /api/v1/redemptions/{id}/reject: the points come back. */
void
points_redemption_reject(struct req *r)
{
	decide(r, "reject");
}

/* POST /api/v1/redemptions/{id}/fulfill */
void
points_redemption_fulfill(struct req *r)
{
	decide(r, "fulfill");
}

/* GET /api/v1/member/{secret}/recognition: the member's own. */
void
points_member(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_RC_MEMBER, vals, 1, http_reply_row);
}

/* POST /api/v1/member/{secret}/redemptions {benefit} -> 201. */
void
points_member_redeem(struct req *r)
{
	const char	*vals[2];
	char		 id[24];

	if (req_validate(r, redeem_fields, NFIELDS(redeem_fields)) == -1)
		return;
	snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(
	    json_object_get(r->body, "benefit")));
	vals[0] = r->secret_hash;
	vals[1] = id;
	req_query(r, SQL_RC_REDEEM, vals, 2, http_reply_row_created);
}

/* POST /api/v1/member/{secret}/profile {listed}: a public profile or not. */
void
points_member_profile(struct req *r)
{
	const char	*vals[2];

	if (req_validate(r, profile_fields, NFIELDS(profile_fields)) == -1)
		return;
	vals[0] = r->secret_hash;
	vals[1] = json_is_true(json_object_get(r->body, "listed")) ? "true" :
	    "false";
	req_query(r, SQL_RC_LISTED, vals, 2, http_reply_row);
}

/* A catalog message of the page's language by key, or NULL. */
static json_t *
message(struct req *r, const char *prefix, const char *name)
{
	char	 key[64];

	if (name == NULL || strlen(name) > 32)
		return NULL;
	snprintf(key, sizeof(key), "%s%s", prefix, name);
	return json_object_get(web_catalog(req_lang(r)), key);
}

/* The member's points page, in the member's language. */
static void
member_page_done(struct req *r, struct db_res *res)
{
	json_t	*ctx, *data, *m;

	if ((data = db_json(res)) == NULL) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	if ((ctx = web_ctx(r, "rc_points_title")) == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	recognition_labels(r, json_object_get(data, "contributions"), "kind",
	    "rc_kind_");
	recognition_labels(r, json_object_get(data, "contributions"),
	    "status", "rc_status_");
	recognition_labels(r, json_object_get(data, "benefits"), "kind",
	    "rc_benefit_");
	recognition_labels(r, json_object_get(data, "redemptions"), "status",
	    "rc_redemption_");
	recognition_labels(r, json_object_get(json_object_get(data, "points"),
	    "ledger"), "reason", "rc_reason_");
	recognition_labels(r, json_object_get(data, "titles"), "title",
	    "rc_title_");
	json_object_set_new(ctx, "data", data);
	json_object_set_new(ctx, "secret", json_string(r->params[0]));
	if ((m = message(r, "rc_done_", req_query_arg(r, "done"))) != NULL)
		json_object_set(ctx, "notice", m);
	if ((m = message(r, "rc_error_", req_query_arg(r, "error"))) != NULL)
		json_object_set(ctx, "problem", m);
	web_page(r, 200, "member_points", ctx);
}

/* GET /member/{secret}/points */
void
points_member_page(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_RC_MEMBER, vals, 1, member_page_done);
}

/* Back to the member's points page with ?done= or ?error=. */
static void
member_back(struct req *r, const char *what, const char *code)
{
	char	 path[ROUTE_MAXSEGMENT + 96];

	snprintf(path, sizeof(path), "/member/%s/points?%s=%s", r->params[0],
	    what, code);
	web_redirect(r, path);
}

/* A redemption asked from the page. */
static void
page_redeemed(struct req *r, struct db_res *res)
{
	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	member_back(r, "done", "requested");
}

/* Refused (not enough points, out of stock): the page says so. */
static void
page_refused(struct req *r, struct db_res *res)
{
	const char	*code = db_message(res);

	member_back(r, "error", code != NULL && strcmp(code,
	    "insufficient_points") == 0 ? "insufficient_points" :
	    code != NULL && strcmp(code, "out_of_stock") == 0 ?
	    "out_of_stock" : "not_available");
}

/* POST /member/{secret}/points/redeem {csrf, benefit} */
void
points_member_page_redeem(struct req *r)
{
	const char	*b = json_string_value(json_object_get(r->body,
	    "benefit"));
	const char	*vals[2];
	int64_t		 id;

	if (!web_csrf_ok(r))
		return;
	if (b == NULL || parse_int64(b, 1, ID_MAX, &id) == -1) {
		http_error(r, 400, "invalid_field", "benefit: a benefit.");
		return;
	}
	vals[0] = r->secret_hash;
	vals[1] = b;
	r->failed = page_refused;
	req_query(r, SQL_RC_REDEEM, vals, 2, page_redeemed);
}

/* The profile choice saved from the page. */
static void
page_listed(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res);

	if (o == NULL) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	member_back(r, "done", json_is_true(json_object_get(o, "listed")) ?
	    "listed" : "unlisted");
	json_decref(o);
}

/* POST /member/{secret}/points/listed {csrf, listed?}: a checkbox. */
void
points_member_page_listed(struct req *r)
{
	const char	*l = json_string_value(json_object_get(r->body,
	    "listed"));
	const char	*vals[2];

	if (!web_csrf_ok(r))
		return;
	vals[0] = r->secret_hash;
	vals[1] = l != NULL && strcmp(l, "1") == 0 ? "true" : "false";
	req_query(r, SQL_RC_LISTED, vals, 2, page_listed);
}

/* The console's benefits page. */
static void
console_done(struct req *r, struct db_res *res)
{
	json_t		*ctx, *data, *kinds, *sts;
	const char	*st = req_query_arg(r, "status");
	int		 i;

	if ((ctx = recognition_ctx(r, "rc_benefits_title", res)) == NULL)
		return;
	data = json_object_get(ctx, "data");
	recognition_labels(r, json_object_get(data, "benefits"), "kind",
	    "rc_benefit_");
	recognition_labels(r, json_object_get(data, "redemptions"), "status",
	    "rc_redemption_");
	kinds = json_array();
	sts = json_array();
	for (i = 0; benefit_kinds[i] != NULL; i++)
		json_array_append_new(kinds, json_pack("{s:s, s:O?}", "kind",
		    benefit_kinds[i], "label", message(r, "rc_benefit_",
		    benefit_kinds[i])));
	for (i = 0; redemption_statuses[i] != NULL; i++)
		json_array_append_new(sts, json_pack("{s:s, s:O?, s:b}",
		    "status", redemption_statuses[i], "label", message(r,
		    "rc_redemption_", redemption_statuses[i]), "selected",
		    st != NULL && strcmp(st, redemption_statuses[i]) == 0));
	json_object_set_new(ctx, "kinds", kinds);
	json_object_set_new(ctx, "statuses", sts);
	web_page_csp(r, 200, "console_benefits", ctx, WEB_CSP_SCRIPT);
}

/* GET /console/benefits?status= */
void
points_console(struct req *r)
{
	const char	*vals[2];
	char		 lim[16];

	if (recognition_arg_enum(r, "status", redemption_statuses,
	    &vals[0]) == -1)
		return;
	snprintf(lim, sizeof(lim), "%d", RECOGNITION_ROWS);
	vals[1] = lim;
	req_query(r, SQL_RC_CONSOLE_BENEFITS, vals, 2, console_done);
}

/* A console form's change is saved: the page again with a notice. */
static void
console_saved(struct req *r, struct db_res *res)
{
	(void)res;
	web_redirect(r, "/console/benefits?done=saved");
}

/*
 * POST /console/benefits {csrf, id?, kind, name, name_zh, description,
 * price, stock, active}: a new benefit, or (with id) a change; an empty
 * stock is no limit.
 */
void
points_console_benefit(struct req *r)
{
	const json_t	*f;
	const char	*a, *id;
	char		 idbuf[24], field[64], msg[256];
	int64_t		 n;
	int		 update;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	f = json_object_get(r->body, "stock");
	if (json_is_string(f) && *json_string_value(f) == '\0')
		json_object_set_new(r->body, "stock", json_null());
	recognition_form_drop_empty(r->body);
	id = json_string_value(json_object_get(r->body, "id"));
	if ((update = id != NULL)) {
		if (parse_int64(id, 1, ID_MAX, &n) == -1) {
			http_error(r, 400, "invalid_field", "id: a benefit.");
			return;
		}
		snprintf(idbuf, sizeof(idbuf), "%lld", (long long)n);
		json_object_del(r->body, "id");
	}
	if ((a = json_string_value(json_object_get(r->body, "active"))) !=
	    NULL)
		json_object_set_new(r->body, "active", json_boolean(
		    strcmp(a, "true") == 0 || strcmp(a, "1") == 0));
	if (recognition_form_int(r, "price") == -1 ||
	    recognition_form_int(r, "stock") == -1 ||
	    recognition_form_int(r, "event") == -1)
		return;
	if (validate_object(r->body, update ? benefit_update_fields :
	    benefit_create_fields, update ? NFIELDS(benefit_update_fields) :
	    NFIELDS(benefit_create_fields), field, sizeof(field), msg,
	    sizeof(msg)) == -1) {
		http_error(r, 400, "invalid_field", "%s", msg);
		return;
	}
	benefit_query(r, update ? idbuf : NULL, console_saved);
}

/* A redemption moved on from the console. */
static void
console_decided(struct req *r, struct db_res *res)
{
	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such redemption.");
		return;
	}
	web_redirect(r, "/console/benefits?done=decided");
}

/* POST /console/redemptions {csrf, id, action, comment?} */
void
points_console_redemption(struct req *r)
{
	const char	*id = json_string_value(json_object_get(r->body, "id"));
	const char	*action = json_string_value(json_object_get(r->body,
	    "action"));
	const char	*comment = json_string_value(json_object_get(r->body,
	    "comment"));
	int64_t		 n;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (id == NULL || parse_int64(id, 1, ID_MAX, &n) == -1) {
		http_error(r, 400, "invalid_field", "id: a redemption.");
		return;
	}
	if (action == NULL || (strcmp(action, "approve") != 0 &&
	    strcmp(action, "reject") != 0 && strcmp(action, "fulfill") != 0)) {
		http_error(r, 400, "invalid_field", "action: approve, reject "
		    "or fulfill.");
		return;
	}
	if (comment != NULL && *comment == '\0')
		comment = NULL;
	if (comment != NULL && strlen(comment) > RECOGNITION_MAXCOMMENT) {
		http_error(r, 400, "invalid_field", "comment: at most %d "
		    "bytes.", RECOGNITION_MAXCOMMENT);
		return;
	}
	decide_query(r, id, action, comment, console_decided);
}
