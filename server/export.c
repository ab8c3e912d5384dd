/*
 * Exports and the audit trail. CSV is built by PostgreSQL (RFC 4180
 * quoting, formula cells neutralised, sql/004) and sent here as UTF-8 with
 * a byte-order mark, so Excel opens Chinese names correctly. Every export
 * is written to audit_log in the same statement that produces it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "server.h"

/* Reply with the attendance as a CSV download. */
static void
attendance_done(struct req *r, struct db_res *res)
{
	http_reply_csv(r, res, "attendance.csv");
}

/* GET /api/v1/events/{id}/attendance.csv (organizer, audited) */
void
export_attendance(struct req *r)
{
	const char	*vals[2];

	vals[0] = r->params[0];
	vals[1] = r->auth.jti;
	req_query(r, SQL_ATTENDANCE_CSV, vals, 2, attendance_done);
}

/* GET /api/v1/audit?event=&limit=&offset= (admin) */
void
export_audit(struct req *r)
{
	const char	*arg, *vals[3];
	char		 lim[16], off[16];
	int64_t		 id, limit = 100, offset = 0;

	vals[0] = NULL;
	if ((arg = req_query_arg(r, "event")) != NULL) {
		if (parse_int64(arg, 1, ID_MAX, &id) == -1) {
			http_error(r, 400, "invalid_field", "event: an event id.");
			return;
		}
		vals[0] = arg;
	}
	if ((arg = req_query_arg(r, "limit")) != NULL &&
	    parse_int64(arg, 1, AUDIT_PAGE_MAX, &limit) == -1) {
		http_error(r, 400, "invalid_field", "limit: 1 to %d.",
		    AUDIT_PAGE_MAX);
		return;
	}
	if ((arg = req_query_arg(r, "offset")) != NULL &&
	    parse_int64(arg, 0, PAGE_MAXOFFSET, &offset) == -1) {
		http_error(r, 400, "invalid_field", "offset: 0 or more.");
		return;
	}
	snprintf(lim, sizeof(lim), "%lld", (long long)limit);
	snprintf(off, sizeof(off), "%lld", (long long)offset);
	vals[1] = lim;
	vals[2] = off;
	req_query(r, SQL_AUDIT, vals, 3, http_reply_row);
}
