/*
 * Unit tests for xlsx_build() in server/xlsx.c: a sheet of rows as the
 * rc_*_rows functions return them becomes a zip (an XLSX workbook) in
 * memory, no temporary file is left behind, and bad sheets are refused.
 * It also prints how long 300 rows take, the number docs/api.md cites
 * for building off the loop (the integration tests read the workbook
 * back with openpyxl).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "server.h"
#include "unit.h"

#define ROWS	300

/* A sheet like rc_attendance_rows' with n rows. */
static json_t *
sheet_of(int n)
{
	json_t	*rows = json_array();
	int	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(rows, json_pack("[i, s, s, s, s, s, s, s, "
		    "n, n, s]", i + 1, "confirmed", "张伟", "zw@example.com",
		    "=Example Co", "SRE", "professional", "2026-12-03T14:05:09",
		    "2026-12-03T20:00:00"));
	return json_pack("{s:s, s:[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}, {s:s}, "
	    "{s:s}, {s:s, s:s}, {s:s, s:s}, {s:s}, {s:s, s:s}], s:o}",
	    "sheet", "Attendance", "columns", "name", "id", "name", "status",
	    "name", "name", "name", "email", "name", "company", "name",
	    "job_title", "name", "identity", "name", "registered_at", "type",
	    "datetime", "name", "checked_in_at", "type", "datetime", "name",
	    "gate", "name", "joined_at", "type", "datetime", "rows", rows);
}

/* 300 rows build into a zip, and the time it took is printed. */
static void
test_builds_a_workbook(void **state)
{
	json_t		*sheet = sheet_of(ROWS);
	unsigned char	*data;
	size_t		 len;
	struct timespec	 a, b;
	double		 ms, best = 1e9;
	int		 i;

	(void)state;
	assert_non_null(sheet);
	for (i = 0; i < 5; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		assert_int_equal(xlsx_build(sheet, &data, &len), 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (double)(b.tv_sec - a.tv_sec) * 1e3 +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		if (ms < best)
			best = ms;
		assert_true(len > 1000);
		assert_memory_equal(data, "PK\x03\x04", 4);
		free(data);
	}
	printf("xlsx_build: %d rows in %.2f ms (best of 5)\n", ROWS, best);
	json_decref(sheet);
}

/* A sheet without columns, or with too many, is refused. */
static void
test_refuses_bad_sheets(void **state)
{
	json_t		*sheet = json_pack("{s:s, s:[], s:[]}", "sheet", "X",
	    "columns", "rows");
	unsigned char	*data;
	size_t		 len;

	(void)state;
	assert_int_equal(xlsx_build(sheet, &data, &len), -1);
	assert_null(data);
	json_decref(sheet);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builds_a_workbook),
		cmocka_unit_test(test_refuses_bad_sheets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
