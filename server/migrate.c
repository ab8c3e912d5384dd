/*
 * Migrations and functions (docs/sql.md).
 *
 * sql/NNN_name.sql hold tables, indexes, constraints and data changes:
 * applied in order, each once, each in its own transaction and recorded in
 * schema_migrations. sql/functions/NOUN.sql hold every function, each once
 * with its newest body (CREATE OR REPLACE FUNCTION), and the triggers that
 * run them (CREATE OR REPLACE TRIGGER): after the migrations, every run
 * applies all of them, in name order, in one transaction, so a changed
 * body reaches an existing database by editing its file. A session
 * advisory lock serialises concurrent runs, so `rollcalld migrate` is
 * idempotent and safe while servers are up.
 *
 * The order traps, and how they are avoided:
 * - A migration runs before the functions of its release exist (on a new
 *   database, before any exist). So no migration calls a function: a
 *   CHECK or DEFAULT spells its expression out, a data change is plain SQL,
 *   and a trigger is made in its function's file, after its table.
 * - Function files may call each other in any order: the pass creates
 *   them with check_function_bodies off (as pg_restore does), then has
 *   each language's validator check every body once all exist, before
 *   the commit. One bad body rolls the whole pass back; the old bodies
 *   stay.
 * - CREATE OR REPLACE can neither drop a function nor change its
 *   arguments or result: a migration drops it first (010_functions_once).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"


/* Which names in sql/functions/ are function files: NAME.sql. */
static int
function_file(const struct dirent *d)
{
	const char	*n = d->d_name;
	size_t		 len = strlen(n);

	return len > 4 && n[0] != '.' && strcmp(n + len - 4, ".sql") == 0;
}

/* Which names in sql/ are migrations: NNN_NAME.sql. */
static int
migration_file(const struct dirent *d)
{
	const char	*n = d->d_name;
	size_t		 len = strlen(n);

	return len > 8 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' &&
	    n[1] <= '9' && n[2] >= '0' && n[2] <= '9' && n[3] == '_' &&
	    strcmp(n + len - 4, ".sql") == 0;
}

/* A whole file as a string, or NULL. */
static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf = NULL;
	long	 len;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)) &&
	    fread(buf, 1, (size_t)len, f) == (size_t)len)
		buf[len] = '\0';
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Apply one file unless already recorded; 1 applied, 0 skipped, -1 error. */
static int
migrate_one(struct db_conn *pg, const char *dir, const char *name)
{
	char		 path[4096], ver[4];
	const char	*vals[2];
	struct db_res	*res;
	char		*sql;
	int		 applied;

	memcpy(ver, name, 3);
	ver[3] = '\0';
	vals[0] = ver;
	vals[1] = name;
	if (db_run_ok(pg, SQL_BEGIN, NULL, 0) == -1)
		return -1;
	res = db_run(pg, SQL_MIGRATE_DONE, vals, 1);
	applied = db_ok(res) && db_rows(res);
	db_res_free(res);
	if (applied)
		return db_run_ok(pg, SQL_COMMIT, NULL, 0) == -1 ? -1 : 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((sql = slurp(path)) == NULL) {
		log_warn("%s", path);
		db_run_ok(pg, SQL_ROLLBACK, NULL, 0);
		return -1;
	}
	if (db_script(pg, sql, name) == -1) {
		free(sql);
		db_run_ok(pg, SQL_ROLLBACK, NULL, 0);
		return -1;
	}
	free(sql);
	if (db_run_ok(pg, SQL_MIGRATE_RECORD, vals, 2) == -1) {
		db_run_ok(pg, SQL_ROLLBACK, NULL, 0);
		return -1;
	}
	if (db_run_ok(pg, SQL_COMMIT, NULL, 0) == -1)
		return -1;
	log_info("applied %s", name);
	return 1;
}

/* Apply every file of dir/functions in one transaction; 0 or -1. */
static int
functions_apply(struct db_conn *pg, const char *dir)
{
	struct dirent	**list = NULL;
	char		 fdir[4096], path[4096 + 256];
	char		*sql;
	int		 i, n, rc = -1;

	snprintf(fdir, sizeof(fdir), "%s/functions", dir);
	if ((n = scandir(fdir, &list, function_file, alphasort)) < 0) {
		log_warn("cannot read functions in %s", fdir);
		return -1;
	}
	if (n == 0) {
		/* A tree without its functions: the daemon could not run. */
		log_warnx("no function files in %s", fdir);
		goto out;
	}
	if (db_run_ok(pg, SQL_BEGIN, NULL, 0) == -1)
		goto out;
	if (db_run_ok(pg, SQL_FUNCTIONS_UNCHECKED, NULL, 0) == -1)
		goto rollback;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", fdir, list[i]->d_name);
		if ((sql = slurp(path)) == NULL) {
			log_warn("%s", path);
			goto rollback;
		}
		if (db_script(pg, sql, path) == -1) {
			free(sql);
			goto rollback;
		}
		free(sql);
		log_debug("applied %s", path);
	}
	if (db_run_ok(pg, SQL_FUNCTIONS_CHECKED, NULL, 0) == -1 ||
	    db_run_ok(pg, SQL_FUNCTIONS_CHECK, NULL, 0) == -1)
		goto rollback;
	if (db_run_ok(pg, SQL_COMMIT, NULL, 0) == -1)
		goto out;
	log_info("functions up to date (%d files in %s applied, bodies checked)",
	    n, fdir);
	rc = 0;
	goto out;
rollback:
	db_run_ok(pg, SQL_ROLLBACK, NULL, 0);
out:
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}

/* rollcalld migrate: the newest schema, then every function file. */
int
migrate_run(const char *conninfo, const char *dir)
{
	struct dirent	**list = NULL;
	struct db_conn	*pg;
	int		 i, n, rc = -1, applied = 0, r;

	if ((n = scandir(dir, &list, migration_file, alphasort)) < 0) {
		log_warn("cannot read migrations in %s", dir);
		return -1;
	}
	if ((pg = db_connect_blocking(conninfo)) == NULL)
		goto out;
	if (db_run_ok(pg, SQL_MIGRATE_QUIET, NULL, 0) ||
	    db_run_ok(pg, SQL_MIGRATE_LOCK, NULL, 0) ||
	    db_run_ok(pg, SQL_MIGRATE_TABLE, NULL, 0))
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = migrate_one(pg, dir, list[i]->d_name)) == -1)
			goto out;
		applied += r;
	}
	log_info("schema up to date (%d migrations, %d applied now)", n,
	    applied);
	if (functions_apply(pg, dir) == -1)
		goto out;
	/* Counts kept on rows, made right once the new bodies keep them. */
	if (db_run_ok(pg, SQL_MIGRATE_RECOUNT, NULL, 0))
		goto out;
	rc = 0;
out:
	if (pg != NULL)
		db_run_ok(pg, SQL_MIGRATE_UNLOCK, NULL, 0);
	db_close(pg);
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}
