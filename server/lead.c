/*
 * Sponsors and their leads.
 *
 * A sponsor token scans a badge: its lead code (looked up in the
 * database), or an entry ticket, verified exactly as at the door, unless
 * the event refuses tickets at booths (booth_accepts_ticket). The database stores a lead only when the attendee consented, and
 * even then only the link to the registration: what a sponsor reads is
 * computed from the attendee's consent at that moment (sql/004). No path
 * here returns registration data beyond those consented fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

static const struct vfield sponsor_fields[] = {
	{ "name", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "benefits", V_STRING, 0, 1, 0, APPROVAL_MAXBENEFITS, NULL },
};
static const struct vfield lead_fields[] = {
	{ "token", V_STRING, 1, 0, 1, CHECKIN_MAXTOKEN, NULL },
	{ "note", V_STRING, 0, 1, 0, LEAD_MAXNOTE, NULL },
	{ "rating", V_INT, 0, 1, 1, LEAD_MAXRATING, NULL },
};

#define NFIELDS(a)	((int)(sizeof(a) / sizeof((a)[0])))

/*
 * POST /api/v1/events/{id}/sponsors {name, benefits?}: a sponsorship of
 * this one event, proposed to the committee unless the caller needs no
 * approval (docs/approval.md); only an approved one is shown or scans.
 */
void
sponsor_create(struct req *r)
{
	const char	*vals[5];

	if (req_validate(r, sponsor_fields, NFIELDS(sponsor_fields)) == -1)
		return;
	vals[0] = r->params[0];
	vals[1] = json_string_value(json_object_get(r->body, "name"));
	vals[2] = json_string_value(json_object_get(r->body, "benefits"));
	vals[3] = config_approval_for(&r->auth);
	vals[4] = r->auth.jti;
	req_query(r, SQL_SPONSOR_CREATE, vals, 5,
	    http_reply_row_created);
}

/* True when s looks like a badge's lead code: "RCL" and hex digits. */
static int
lead_code_ok(const char *s)
{
	size_t	 i;

	if (s == NULL || strlen(s) != LEAD_CODE_LEN ||
	    strncmp(s, LEAD_CODE_PREFIX, strlen(LEAD_CODE_PREFIX)) != 0)
		return 0;
	for (i = strlen(LEAD_CODE_PREFIX); i < LEAD_CODE_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

/*
 * POST /api/v1/leads {token, note?, rating?} by a sponsor token: token is
 * an entry ticket or a badge's lead code (sql/016).
 */
void
lead_capture(struct req *r)
{
	char		 sponsor[24], rating[8];
	const char	*vals[5], *code;
	json_t		*claims, *rv;
	char		*cj = NULL;

	if (req_validate(r, lead_fields, NFIELDS(lead_fields)) == -1)
		return;
	if (r->auth.sponsor_id <= 0) {
		http_error(r, 403, "forbidden", "This token is not bound to a "
		    "sponsor.");
		return;
	}
	code = json_string_value(json_object_get(r->body, "token"));
	if ((claims = keyring_claims(code)) == NULL && lead_code_ok(code))
		claims = json_pack("{s:s}", "lead", code);
	if (claims != NULL)
		cj = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	rv = json_object_get(r->body, "rating");
	snprintf(sponsor, sizeof(sponsor), "%lld", (long long)r->auth.sponsor_id);
	snprintf(rating, sizeof(rating), "%lld", (long long)
	    json_integer_value(rv));
	vals[0] = sponsor;
	vals[1] = cj;
	vals[2] = json_string_value(json_object_get(r->body, "note"));
	vals[3] = json_is_integer(rv) ? rating : NULL;
	vals[4] = r->auth.jti;
	req_query(r, SQL_LEAD_CAPTURE, vals, 5, http_reply_row);
	free(cj);
}

/*
 * Who may read sponsor {id}'s leads: that sponsor's own token, an
 * organizer whose scope holds its event, an admin. The database applies
 * both limits; anything else is 404, never data.
 */
static int
lead_read_args(struct req *r, const char **vals, char *sp, size_t spsz,
    char **scope)
{
	*scope = NULL;
	if (r->auth.role == ROLE_SPONSOR) {
		if (r->auth.sponsor_id != r->id) {
			http_error(r, 403, "out_of_scope", "A sponsor reads its "
			    "own leads only.");
			return -1;
		}
		snprintf(sp, spsz, "%lld", (long long)r->auth.sponsor_id);
		vals[2] = sp;
	} else
		vals[2] = NULL;
	if (r->auth.role != ROLE_SPONSOR)
		*scope = auth_scope_pg(&r->auth);
	vals[0] = r->params[0];
	vals[1] = *scope;
	return 0;
}

/* GET /api/v1/sponsors/{id}/leads */
void
lead_list(struct req *r)
{
	const char	*vals[3];
	char		 sp[24], *scope;

	if (lead_read_args(r, vals, sp, sizeof(sp), &scope) == -1)
		return;
	req_query(r, SQL_LEADS, vals, 3, http_reply_row);
	free(scope);
}

/* Reply with the leads as a CSV download. */
static void
csv_done(struct req *r, struct db_res *res)
{
	http_reply_csv(r, res, "leads.csv");
}

/* GET /api/v1/sponsors/{id}/leads.csv (audited) */
void
lead_csv(struct req *r)
{
	const char	*vals[4];
	char		 sp[24], *scope;

	if (lead_read_args(r, vals, sp, sizeof(sp), &scope) == -1)
		return;
	vals[3] = r->auth.jti;
	req_query(r, SQL_LEADS_CSV, vals, 4, csv_done);
	free(scope);
}

/* Reply with the leads as an XLSX download. */
static void
xlsx_done(struct req *r, struct db_res *res)
{
	export_reply_xlsx(r, res, "leads.xlsx");
}

/* GET /api/v1/sponsors/{id}/leads.xlsx (audited) */
void
lead_xlsx(struct req *r)
{
	const char	*vals[4];
	char		 sp[24], *scope;

	if (lead_read_args(r, vals, sp, sizeof(sp), &scope) == -1)
		return;
	vals[3] = r->auth.jti;
	req_query(r, SQL_LEADS_ROWS, vals, 4, xlsx_done);
	free(scope);
}

/* Check a sponsor's body ({name}) as POST .../sponsors does. */
int
lead_sponsor_check(const json_t *body, char *field, size_t fieldsz,
    char *msg, size_t msgsz)
{
	return validate_object(body, sponsor_fields, NFIELDS(sponsor_fields),
	    field, fieldsz, msg, msgsz);
}
