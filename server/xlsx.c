/*
 * Spreadsheet exports: rows a SQL function returned, as an XLSX workbook
 * (libxlsxwriter), built on a worker thread and handed back to the loop.
 *
 * Why a thread: libxlsxwriter 1.1.4 (Debian 12) writes only to a file
 * path, and keeps its parts in temporary files before it zips them, so a
 * build is blocking file I/O as well as CPU (about 3-4 ms for 300 rows on
 * this machine, tests/unit/test_xlsx.c prints it). Neither may happen on
 * the event loop: the build runs on worker.c's thread.
 *
 * Cells: a JSON number is a number, a string is a string (never a
 * formula, so no cell needs neutralising as the CSV's do), a string in a
 * column of type "datetime" ("YYYY-MM-DDTHH:MM:SS") is an Excel date
 * with a date format, null is an empty cell. Row 1 holds the column
 * names, bold, frozen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "server.h"

/* Parse "YYYY-MM-DDTHH:MM:SS" into dt; -1 when it is not one. */
static int
xlsx_parse_time(const char *s, lxw_datetime *dt)
{
	int	 y, mo, d, h, mi, sec, n = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
	    &sec, &n) != 6 || s[n] != '\0' || y < 1900 || y > 9999 ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	dt->year = y;
	dt->month = mo;
	dt->day = d;
	dt->hour = h;
	dt->min = mi;
	dt->sec = sec;
	return 0;
}

/* Write one cell of a row; kind is the column's type. */
static lxw_error
xlsx_cell(lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, json_t *v,
    int is_time, lxw_format *datefmt)
{
	lxw_datetime	 dt;
	const char	*s;

	if (json_is_integer(v))
		return worksheet_write_number(ws, row, col,
		    (double)json_integer_value(v), NULL);
	if (json_is_real(v))
		return worksheet_write_number(ws, row, col, json_real_value(v),
		    NULL);
	if (!json_is_string(v))
		return LXW_NO_ERROR;
	s = json_string_value(v);
	if (is_time && xlsx_parse_time(s, &dt) == 0)
		return worksheet_write_datetime(ws, row, col, &dt, datefmt);
	if (strlen(s) > XLSX_MAXCELL)
		return LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED;
	return worksheet_write_string(ws, row, col, s, NULL);
}

/* Fill the workbook at path from sheet {sheet, columns, rows}; 0 or -1. */
static int
xlsx_write(const char *path, const char *tmpdir, const json_t *sheet)
{
	lxw_workbook_options	 opt = { .constant_memory = 1,
	    .tmpdir = (char *)tmpdir, .use_zip64 = 0 };
	lxw_workbook		*wb;
	lxw_worksheet		*ws;
	lxw_format		*bold, *datefmt;
	json_t			*cols, *rows, *row, *c;
	const char		*name;
	char			 is_time[XLSX_MAXCOLS];
	size_t			 i, j, ncols;
	lxw_error		 e = LXW_NO_ERROR;

	cols = json_object_get(sheet, "columns");
	rows = json_object_get(sheet, "rows");
	ncols = json_array_size(cols);
	if (!json_is_array(rows) || ncols == 0 || ncols > XLSX_MAXCOLS ||
	    json_array_size(rows) > XLSX_MAXROWS)
		return -1;
	name = json_string_value(json_object_get(sheet, "sheet"));
	if ((wb = workbook_new_opt(path, &opt)) == NULL)
		return -1;
	ws = workbook_add_worksheet(wb, name);
	bold = workbook_add_format(wb);
	datefmt = workbook_add_format(wb);
	if (ws == NULL || bold == NULL || datefmt == NULL) {
		workbook_close(wb);
		return -1;
	}
	format_set_bold(bold);
	format_set_num_format(datefmt, "yyyy-mm-dd hh:mm:ss");
	worksheet_freeze_panes(ws, 1, 0);
	for (j = 0; j < ncols && e == LXW_NO_ERROR; j++) {
		c = json_array_get(cols, j);
		is_time[j] = json_is_string(json_object_get(c, "type")) &&
		    strcmp(json_string_value(json_object_get(c, "type")),
		    "datetime") == 0;
		e = worksheet_write_string(ws, 0, (lxw_col_t)j,
		    json_string_value(json_object_get(c, "name")), bold);
		worksheet_set_column(ws, (lxw_col_t)j, (lxw_col_t)j,
		    is_time[j] ? 20 : 16, NULL);
	}
	json_array_foreach(rows, i, row) {
		if (e != LXW_NO_ERROR)
			break;
		for (j = 0; j < ncols && j < json_array_size(row) &&
		    e == LXW_NO_ERROR; j++)
			e = xlsx_cell(ws, (lxw_row_t)(i + 1), (lxw_col_t)j,
			    json_array_get(row, j), is_time[j], datefmt);
	}
	if (e != LXW_NO_ERROR)
		log_warnx("cell: %s", lxw_strerror(e));
	if (workbook_close(wb) != LXW_NO_ERROR || e != LXW_NO_ERROR)
		return -1;
	return 0;
}

/* Read a whole file into a malloc'd buffer; 0 or -1. */
static int
xlsx_slurp(int fd, unsigned char **out, size_t *len)
{
	unsigned char	*buf = NULL, *nb;
	size_t		 have = 0, cap = 0;
	ssize_t		 n;

	for (;;) {
		if (have == cap) {
			if (cap >= XLSX_MAXBYTES)
				goto err;
			cap = cap ? cap * 2 : 64 * 1024;
			if ((nb = realloc(buf, cap)) == NULL)
				goto err;
			buf = nb;
		}
		if ((n = read(fd, buf + have, cap - have)) < 0) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	*out = buf;
	*len = have;
	return 0;
err:
	free(buf);
	return -1;
}

/*
 * Build the workbook for sheet in memory: written to a private temporary
 * file (TMPDIR, else /tmp; systemd gives the daemon its own), read back
 * and unlinked. Blocking: call it off the loop. 0 or -1.
 */
int
xlsx_build(const json_t *sheet, unsigned char **out, size_t *len)
{
	const char	*dir = getenv("TMPDIR");
	char		 path[512];
	int		 fd = -1, rc = -1;

	*out = NULL;
	*len = 0;
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/rollcall-xlsx-XXXXXX",
	    dir) >= sizeof(path) || (fd = mkstemp(path)) == -1) {
		log_warn("temporary file in %s", dir);
		return -1;
	}
	if (xlsx_write(path, dir, sheet) == 0) {
		/* The library wrote the same file through its own handle. */
		if (lseek(fd, 0, SEEK_SET) == 0 &&
		    xlsx_slurp(fd, out, len) == 0)
			rc = 0;
	}
	if (fd != -1)
		close(fd);
	unlink(path);
	return rc;
}

/*
 * Queue sheet (its reference is taken) for building on the worker thread;
 * done(arg, data, len) runs on the loop later, data NULL on failure. -1
 * (sheet released, done never called) when the queue is full.
 */
int
xlsx_submit(json_t *sheet, worker_done_fn done, void *arg)
{
	return worker_build(xlsx_build, sheet, done, arg);
}
