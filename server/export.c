/*
 * Exports and the audit trail. CSV is built by PostgreSQL (RFC 4180
 * quoting, formula cells neutralised, sql/004) and sent here as UTF-8 with
 * a byte-order mark, so Excel opens Chinese names correctly. XLSX is built
 * from the rows PostgreSQL returns as JSON (rc_*_rows) by xlsx.c, on its
 * thread, and replied to here when it is done. Every export is written to
 * audit_log in the same statement that produces it.
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

/* A spreadsheet reply in the making: the request and its file name. */
struct xlsx_reply {
	struct req	*r;
	const char	*filename;	/* a literal */
};

/* On the loop, the workbook built: send it (or 503 when it failed). */
static void
xlsx_ready(void *arg, const unsigned char *data, size_t len)
{
	struct xlsx_reply	*x = arg;
	struct req		*r = x->r;
	char			 disp[128];

	snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"",
	    x->filename);
	free(x);
	if (data == NULL) {
		http_error(r, 503, "export_failed", "The spreadsheet could not "
		    "be made; try again.");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Content-Disposition", disp);
	http_reply_bytes(r, 200, XLSX_TYPE, data, len, "no-store");
}

/*
 * A req_done_fn's body for rc_*_rows results: hand the rows to the
 * spreadsheet thread; the reply is sent when it is done. NULL is 404.
 */
void
export_reply_xlsx(struct req *r, struct db_res *res, const char *filename)
{
	struct xlsx_reply	*x;
	json_t			*sheet;

	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "Nothing to export here.");
		return;
	}
	sheet = json_loadb(db_value(res, 0, 0), db_length(res, 0, 0), 0, NULL);
	if (sheet == NULL || (x = malloc(sizeof(*x))) == NULL) {
		json_decref(sheet);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	x->r = r;
	x->filename = filename;
	if (xlsx_submit(sheet, xlsx_ready, x) == -1) {
		free(x);
		http_error(r, 503, "busy", "Too many exports at once; try "
		    "again.");
	}
}

/* Reply with the attendance as an XLSX download. */
static void
attendance_xlsx_done(struct req *r, struct db_res *res)
{
	export_reply_xlsx(r, res, "attendance.xlsx");
}

/* GET /api/v1/events/{id}/attendance.xlsx (organizer, audited) */
void
export_attendance_xlsx(struct req *r)
{
	const char	*vals[2];

	vals[0] = r->params[0];
	vals[1] = r->auth.jti;
	req_query(r, SQL_ATTENDANCE_ROWS, vals, 2, attendance_xlsx_done);
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
