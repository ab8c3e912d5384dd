/*
 * Devices: a door or a booth set up from the console without a token
 * ever being typed. The devices page issues a provisioning QR holding the
 * server's public URL and a one-time code (DEVICE_CODE_SECS; only its
 * SHA-256 is stored); rollcall-scan --setup reads it and claims the code
 * at POST /api/v1/devices/claim, which issues the device token through
 * rc_token_issue as the account that made the code: a door token scoped
 * to the event, or a sponsor token for the booth. The page lists the
 * event's live device tokens with their last use, and revokes them.
 *
 * The code is a 256-bit secret, shown once (in the page that issued it)
 * and refused after its first claim or after 15 minutes, so a photo of
 * an old QR admits nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "server.h"

/* The devices page; extra holds a just-issued QR, if any. */
static void
devices_render(struct req *r, struct db_res *res, json_t *extra)
{
	json_t	*ctx, *data;

	if ((data = db_json(res)) == NULL) {
		json_decref(extra);
		http_error(r, 404, "not_found", "No such event.");
		return;
	}
	if ((ctx = console_ctx(r, "c_devices_title")) == NULL) {
		json_decref(data);
		json_decref(extra);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_object_set_new(ctx, "data", data);
	if (extra != NULL)
		json_object_update(ctx, extra);
	json_decref(extra);
	if (strcmp(req_query_arg(r, "done") ? req_query_arg(r, "done") : "",
	    "revoked") == 0)
		json_object_set(ctx, "notice", json_object_get(web_catalog(
		    req_lang(r)), "c_dev_revoked"));
	web_page_csp(r, 200, "console_devices", ctx, WEB_CSP_SCRIPT);
}

/* The page without a new code. */
static void
devices_done(struct req *r, struct db_res *res)
{
	devices_render(r, res, NULL);
}

/* GET /console/events/{id}/devices */
void
device_page(struct req *r)
{
	const char	*vals[1];

	vals[0] = r->params[0];
	req_query(r, SQL_CONSOLE_DEVICES, vals, 1, devices_done);
}

/* The page again with the new code's QR (SVG, and a PNG to save). */
static void
issued_list_done(struct req *r, struct db_res *res)
{
	json_t		*extra = json_object_get(r->body, "_issued");

	json_incref(extra);
	devices_render(r, res, extra);
}

/* A set-up QR to draw off the loop: its text in, SVG and PNG out. */
struct qr_job {
	struct req	*r;
	json_t		*issued;	/* the code's row */
	char		*text;		/* {rollcall, url, code}: a secret */
	char		*svg;
	char		*uri;		/* data:image/png;base64,... */
};

/* On a worker thread: the QR as SVG, and as a PNG in a data URI. */
static void
qr_job_run(void *arg)
{
	struct qr_job	*j = arg;
	unsigned char	*png = NULL;
	size_t		 pnglen = 0, b64len;
	char		*b64;

	j->svg = ticket_svg(j->text);
	if (ticket_png(j->text, &png, &pnglen) == 0) {
		b64len = sodium_base64_ENCODED_LEN(pnglen,
		    sodium_base64_VARIANT_ORIGINAL);
		b64 = malloc(b64len);
		j->uri = b64 != NULL ? malloc(b64len + 32) : NULL;
		if (j->uri != NULL) {
			sodium_bin2base64(b64, b64len, png, pnglen,
			    sodium_base64_VARIANT_ORIGINAL);
			snprintf(j->uri, b64len + 32,
			    "data:image/png;base64,%s", b64);
		}
		free(b64);
		free(png);
	}
	sodium_memzero(j->text, strlen(j->text));
}

/* Back on the loop: the QR drawn, list the devices with it on top. */
static void
qr_job_done(void *arg)
{
	struct qr_job	*j = arg;
	struct req	*r = j->r;
	json_t		*extra;
	const char	*vals[1];

	if (j->svg == NULL || (extra = json_pack("{s:s, s:O}", "qr_svg",
	    j->svg, "issued", j->issued)) == NULL)
		http_error(r, 503, "qr_error", "The QR could not be drawn.");
	else {
		if (j->uri != NULL)
			json_object_set_new(extra, "qr_png",
			    json_string(j->uri));
		json_object_set_new(r->body, "_issued", extra);
		vals[0] = r->params[0];
		req_query(r, SQL_CONSOLE_DEVICES, vals, 1, issued_list_done);
	}
	json_decref(j->issued);
	free(j->text);
	free(j->svg);
	free(j->uri);
	free(j);
}

/* The code is stored: draw its QR on a worker, then list the devices. */
static void
issued_done(struct req *r, struct db_res *res)
{
	json_t		*payload;
	struct qr_job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		sodium_memzero(r->secret, sizeof(r->secret));
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	j->r = r;
	j->issued = db_json(res);
	payload = json_pack("{s:s, s:s, s:s}", "rollcall", "device", "url",
	    registration_public_url(), "code", r->secret);
	j->text = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	sodium_memzero(r->secret, sizeof(r->secret));
	if (j->issued == NULL || j->text == NULL ||
	    worker_submit(qr_job_run, qr_job_done, j) == -1) {
		if (j->text != NULL)
			sodium_memzero(j->text, strlen(j->text));
		json_decref(j->issued);
		free(j->text);
		free(j);
		http_error(r, 503, "qr_error", "The QR could not be drawn.");
	}
}

/*
 * POST /console/events/{id}/devices {csrf, kind: door|booth, sponsor?,
 * name}: a new one-time code, shown once as a QR.
 */
void
device_issue(struct req *r)
{
	const char	*kind = json_string_value(json_object_get(r->body,
	    "kind"));
	const char	*name = json_string_value(json_object_get(r->body,
	    "name"));
	const char	*sp = json_string_value(json_object_get(r->body,
	    "sponsor"));
	struct secrets	 s;
	char		 secs[16];
	const char	*vals[6];
	int64_t		 id;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (kind == NULL || (strcmp(kind, "door") != 0 &&
	    strcmp(kind, "booth") != 0)) {
		http_error(r, 400, "invalid_field", "kind: door or booth.");
		return;
	}
	if (name == NULL || *name == '\0' || strlen(name) > FIELD_MAXTEXT ||
	    validate_utf8(name) == -1 || strchr(name, '\n') != NULL) {
		http_error(r, 400, "invalid_field", "name: UTF-8 text, 1 to %d "
		    "bytes on one line.", FIELD_MAXTEXT);
		return;
	}
	if (strcmp(kind, "booth") == 0 && (sp == NULL ||
	    parse_int64(sp, 1, ID_MAX, &id) == -1)) {
		http_error(r, 400, "invalid_field", "sponsor: the booth's "
		    "sponsor.");
		return;
	}
	secret_new(&s);
	memcpy(r->secret, s.manage, sizeof(r->secret));
	snprintf(secs, sizeof(secs), "%d", DEVICE_CODE_SECS);
	vals[0] = r->params[0];
	vals[1] = strcmp(kind, "booth") == 0 ? sp : "";
	vals[2] = name;
	vals[3] = s.manage_hash;
	vals[4] = secs;
	vals[5] = r->auth.jti;
	req_query(r, SQL_DEVICE_CODE_NEW, vals, 6, issued_done);
	sodium_memzero(&s, sizeof(s));
}

/* A device token revoked: back to the list. */
static void
revoked_done(struct req *r, struct db_res *res)
{
	char	 path[128];

	(void)res;
	snprintf(path, sizeof(path), "/console/events/%lld/devices?"
	    "done=revoked", (long long)r->id);
	web_redirect(r, path);
}

/* POST /console/events/{id}/devices/revoke {csrf, jti}: one of this
 * event's devices (rc_device_revoke), nothing else. */
void
device_revoke(struct req *r)
{
	const char	*jti = json_string_value(json_object_get(r->body,
	    "jti"));
	const char	*vals[5];
	char		*scope;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (jti == NULL || *jti == '\0' || strlen(jti) > ROUTE_MAXSEGMENT ||
	    !util_urlsafe(jti, 1)) {
		http_error(r, 400, "invalid_field", "jti: a token's id.");
		return;
	}
	scope = auth_scope_pg(&r->auth);
	vals[0] = r->params[0];
	vals[1] = jti;
	vals[2] = r->auth.jti;
	vals[3] = role_str(r->auth.role);
	vals[4] = scope;
	req_query(r, SQL_DEVICE_REVOKE, vals, 5, revoked_done);
	free(scope);
}

/* The claim's token row is back: sign it and reply. */
static void
claim_done(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res);

	if (o == NULL || token_sign_row(o, (long)time(NULL)) == -1) {
		json_decref(o);
		http_error(r, 503, "token_error", "The token could not be "
		    "signed; try again.");
		return;
	}
	http_reply_json(r, 201, o);
}

/* POST /api/v1/devices/claim {code}: the code, once, for a device token. */
void
device_claim(struct req *r)
{
	const char	*code = json_string_value(json_object_get(r->body,
	    "code"));
	char		 hash[SECRET_HEX], jti[32], ttl[16];
	const char	*vals[3];

	if (code == NULL || strlen(code) != SECRET_LEN ||
	    !util_urlsafe(code, 0) || json_object_size(r->body) != 1 ||
	    secret_hash_hex(code, hash, sizeof(hash)) == -1) {
		http_error(r, 400, "invalid_field", "code: the one-time code "
		    "of a device QR (%d characters).", SECRET_LEN);
		return;
	}
	secret_random_id(jti, sizeof(jti), 16);
	snprintf(ttl, sizeof(ttl), "%d", DEVICE_TOKEN_SECS);
	vals[0] = hash;
	vals[1] = jti;
	vals[2] = ttl;
	req_query(r, SQL_DEVICE_CLAIM, vals, 3, claim_done);
}
