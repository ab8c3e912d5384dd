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

#define MIGRATE_LOCK	"7201126"	/* any constant shared by all runs */

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

/* A file's text, NUL-terminated, or NULL. */
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

/* Run sql; log what failed as what. */
static int
exec_ok(PGconn *pg, const char *sql, const char *what)
{
	PGresult	*res = PQexec(pg, sql);
	ExecStatusType	 st = PQresultStatus(res);

	/* A file of comments alone (a migration whose functions moved out). */
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
	    st != PGRES_EMPTY_QUERY) {
		log_warnx("%s: %s", what, PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/* Apply one file unless already recorded; 1 applied, 0 skipped, -1 error. */
static int
migrate_one(PGconn *pg, const char *dir, const char *name)
{
	char		 path[4096], ver[4];
	const char	*vals[2];
	PGresult	*res;
	char		*sql;
	int		 applied;

	memcpy(ver, name, 3);
	ver[3] = '\0';
	vals[0] = ver;
	vals[1] = name;
	if (exec_ok(pg, "BEGIN", name) == -1)
		return -1;
	res = PQexecParams(pg, "SELECT 1 FROM schema_migrations WHERE "
	    "version = $1::int", 1, NULL, vals, NULL, NULL, 0);
	applied = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res);
	PQclear(res);
	if (applied)
		return exec_ok(pg, "COMMIT", name) == -1 ? -1 : 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((sql = slurp(path)) == NULL) {
		log_warn("%s", path);
		exec_ok(pg, "ROLLBACK", name);
		return -1;
	}
	if (exec_ok(pg, sql, name) == -1) {
		free(sql);
		exec_ok(pg, "ROLLBACK", name);
		return -1;
	}
	free(sql);
	res = PQexecParams(pg, "INSERT INTO schema_migrations (version, name) "
	    "VALUES ($1::int, $2)", 2, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_warnx("%s: %s", name, PQresultErrorMessage(res));
		PQclear(res);
		exec_ok(pg, "ROLLBACK", name);
		return -1;
	}
	PQclear(res);
	if (exec_ok(pg, "COMMIT", name) == -1)
		return -1;
	log_info("applied %s", name);
	return 1;
}

/*
 * Every function body in the schema, checked by its language's validator
 * now that all of them exist (the pass created them unchecked); an error
 * names the function.
 */
#define FUNCTIONS_CHECK \
	"DO $$ DECLARE f record; BEGIN " \
	"FOR f IN SELECT p.oid, l.lanvalidator::regproc AS v " \
	"FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang " \
	"WHERE p.pronamespace = current_schema()::regnamespace " \
	"AND l.lanname IN ('sql', 'plpgsql') AND NOT EXISTS (SELECT 1 " \
	"FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass " \
	"AND d.objid = p.oid AND d.deptype = 'e') LOOP " \
	"BEGIN EXECUTE format('SELECT %s(%s)', f.v, f.oid); " \
	"EXCEPTION WHEN OTHERS THEN RAISE EXCEPTION '%: %', " \
	"f.oid::regprocedure, SQLERRM; END; " \
	"END LOOP; END $$"

/* Apply every file of dir/functions in one transaction; 0 or -1. */
static int
functions_apply(PGconn *pg, const char *dir)
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
	if (exec_ok(pg, "BEGIN", "functions") == -1)
		goto out;
	if (exec_ok(pg, "SET LOCAL check_function_bodies = off", "functions"))
		goto rollback;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", fdir, list[i]->d_name);
		if ((sql = slurp(path)) == NULL) {
			log_warn("%s", path);
			goto rollback;
		}
		if (exec_ok(pg, sql, path) == -1) {
			free(sql);
			goto rollback;
		}
		free(sql);
		log_debug("applied %s", path);
	}
	if (exec_ok(pg, "SET LOCAL check_function_bodies = on", "functions") ||
	    exec_ok(pg, FUNCTIONS_CHECK, "checking function bodies"))
		goto rollback;
	if (exec_ok(pg, "COMMIT", "functions") == -1)
		goto out;
	log_info("functions up to date (%d files in %s applied, bodies checked)",
	    n, fdir);
	rc = 0;
	goto out;
rollback:
	exec_ok(pg, "ROLLBACK", "functions");
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
	PGconn		*pg;
	int		 i, n, rc = -1, applied = 0, r;

	if ((n = scandir(dir, &list, migration_file, alphasort)) < 0) {
		log_warn("cannot read migrations in %s", dir);
		return -1;
	}
	if ((pg = db_connect_blocking(conninfo)) == NULL)
		goto out;
	if (exec_ok(pg, "SET client_min_messages = warning", "settings") ||
	    exec_ok(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", "lock") ||
	    exec_ok(pg, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version integer PRIMARY KEY, name text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", "bookkeeping"))
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
	rc = 0;
out:
	if (pg != NULL)
		exec_ok(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")",
		    "unlock");
	PQfinish(pg);
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}
