/*
 * Migrations: sql/NNN_name.sql, applied in order, each once, each in its
 * own transaction and recorded in schema_migrations. A session advisory
 * lock serialises concurrent runs, so `rollcalld migrate` is idempotent
 * and safe while servers are up.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define MIGRATE_LOCK	"7201126"	/* any constant shared by all runs */

static int
migration_file(const struct dirent *d)
{
	const char	*n = d->d_name;
	size_t		 len = strlen(n);

	return len > 8 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' &&
	    n[1] <= '9' && n[2] >= '0' && n[2] <= '9' && n[3] == '_' &&
	    strcmp(n + len - 4, ".sql") == 0;
}

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

static int
exec_ok(PGconn *pg, const char *sql, const char *what)
{
	PGresult	*res = PQexec(pg, sql);
	ExecStatusType	 st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
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

/* rollcalld migrate: bring the database to the newest schema. */
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
