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


/* True for a migration's file name: NNN_name.sql. */
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

/* rollcalld migrate: bring the database to the newest schema. */
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
