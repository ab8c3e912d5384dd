"""rollcalld migrate: numbered migrations once each, then every file of
sql/functions/ on every run (docs/sql.md); upgrading a database that the
old layout (functions inside the migrations, up to commit 2b0f12e) made."""
import glob
import os
import re
import shutil
import subprocess

import pytest

from support import REPO, PgCluster, migrate, run_cli

OLD_COMMIT = "2b0f12e"       # the last commit with functions in migrations
FUNCTIONS = REPO / "sql" / "functions"


def other_db(pg, name):
    """A new, empty database in pg's cluster; its conninfo."""
    pg.psql("CREATE DATABASE %s" % name)
    return re.sub(r"dbname=\S+", "dbname=" + name, pg.conninfo)


def psql_db(conninfo, sql):
    r = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1",
                        "-d", conninfo, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "psql failed on %r:\n%s" % (sql, r.stderr)
    return r.stdout.strip()


def overloads(conninfo):
    """Function names of the schema with more than one argument list."""
    return psql_db(conninfo, "SELECT string_agg(proname || ' x' || n, ', ') "
                   "FROM (SELECT proname, count(*) AS n FROM pg_proc "
                   "WHERE pronamespace = current_schema()::regnamespace "
                   "GROUP BY proname HAVING count(*) > 1) x")


def file_objects(what):
    """Names that sql/functions/ makes with CREATE OR REPLACE what."""
    names = set()
    for path in glob.glob(str(FUNCTIONS / "*.sql")):
        with open(path) as f:
            names |= {m.lower() for m in re.findall(
                r"^CREATE OR REPLACE %s (\w+)" % what, f.read(), re.M)}
    return names


def schema_dump(conninfo):
    """pg_dump --schema-only, without its per-run \\restrict keys."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
    pg_dump = bins[-1] if bins else shutil.which("pg_dump")
    assert pg_dump, "pg_dump not found (apt-get install postgresql-client)"
    r = subprocess.run([pg_dump, "--schema-only", "-d", conninfo],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "pg_dump failed:\n" + r.stderr
    return "\n".join(l for l in r.stdout.splitlines()
                     if not l.startswith(("\\restrict", "\\unrestrict")))


def share_copy(tmp_path):
    """A copy of the tree's sql/ to edit; the --share directory of it."""
    share = tmp_path / "share"
    shutil.copytree(REPO / "sql", share / "sql")
    return share


def migrate_share(binary, conninfo, share):
    return run_cli([binary, "migrate", "--db", conninfo, "--share",
                    str(share)])


def test_second_migrate_applies_no_migration_and_all_functions(
        rollcalld_bin, new_cluster):
    c = new_cluster()           # migrated once, from nothing
    before = c.psql("SELECT version, applied_at FROM schema_migrations "
                    "ORDER BY version")
    r = migrate(rollcalld_bin, c.conninfo)
    assert re.search(r"\(\d+ migrations, 0 applied now\)", r.stderr), \
        "a second migrate should apply no migration:\n" + r.stderr
    assert re.search(r"functions up to date \(%d files" %
                     len(glob.glob(str(FUNCTIONS / "*.sql"))), r.stderr), \
        "every migrate should apply every function file:\n" + r.stderr
    assert c.psql("SELECT version, applied_at FROM schema_migrations "
                  "ORDER BY version") == before


def test_each_function_once_and_only_those_of_sql_functions(pg):
    assert overloads(pg.conninfo) == "", \
        "functions with more than one overload after migrate"
    in_db = set(psql_db(pg.conninfo, "SELECT string_agg(proname, ' ') "
                        "FROM pg_proc WHERE pronamespace = "
                        "current_schema()::regnamespace").split())
    in_files = file_objects("FUNCTION")
    assert in_db - in_files == set(), \
        "functions in the database that no file of sql/functions/ makes " \
        "(drop them in a migration)"
    assert in_files - in_db == set(), "functions of sql/functions/ missing"
    triggers = set(psql_db(pg.conninfo, "SELECT string_agg(tgname, ' ') "
                           "FROM pg_trigger WHERE NOT tgisinternal").split())
    assert triggers == file_objects("TRIGGER"), \
        "the triggers should be those of sql/functions/, each once"


def test_editing_a_function_file_reaches_the_database(rollcalld_bin,
                                                      new_cluster, tmp_path):
    c = new_cluster()
    probe = "SELECT rc_csv_time('2026-03-05 09:30:00+00', 'UTC')"
    assert c.scalar(probe) == "2026-03-05 09:30:00"
    share = share_copy(tmp_path)
    path = share / "sql" / "functions" / "export.sql"
    text = path.read_text()
    assert "'YYYY-MM-DD HH24:MI:SS'" in text
    path.write_text(text.replace("'YYYY-MM-DD HH24:MI:SS'",
                                 "'DD.MM.YYYY HH24:MI'"))
    r = migrate_share(rollcalld_bin, c.conninfo, share)
    assert r.returncode == 0, "migrate of the edited tree failed:\n" + \
        r.stderr
    assert c.scalar(probe) == "05.03.2026 09:30", \
        "the edited body of rc_csv_time did not reach the database"
    migrate(rollcalld_bin, c.conninfo)
    assert c.scalar(probe) == "2026-03-05 09:30:00"


def test_a_bad_body_fails_migrate_and_changes_no_function(
        rollcalld_bin, new_cluster, tmp_path):
    c = new_cluster()
    probe = "SELECT rc_csv_time('2026-03-05 09:30:00+00', 'UTC')"
    share = share_copy(tmp_path)
    fdir = share / "sql" / "functions"
    # a good change in one file, a call of a missing function in another
    # that comes later: the pass is one transaction, so neither lands
    path = fdir / "export.sql"
    path.write_text(path.read_text().replace("'YYYY-MM-DD HH24:MI:SS'",
                                             "'DD.MM.YYYY HH24:MI'"))
    path = fdir / "registration.sql"
    text = path.read_text()
    assert "rc_ticket_claims(r)," in text
    path.write_text(text.replace("rc_ticket_claims(r),",
                                 "rc_ticket_claimz(r),", 1))
    r = migrate_share(rollcalld_bin, c.conninfo, share)
    assert r.returncode != 0, "migrate accepted a body calling a missing " \
        "function:\n" + r.stderr
    assert "rc_registration_json" in r.stderr and \
        "rc_ticket_claimz" in r.stderr, \
        "the error should name the function and what it lacks:\n" + r.stderr
    assert c.scalar(probe) == "2026-03-05 09:30:00", \
        "a failed functions pass left a changed function behind"


def old_sql_files(tmp_path):
    """sql/*.sql of OLD_COMMIT, written under tmp_path; skip without git."""
    try:
        names = subprocess.run(
            ["git", "-C", str(REPO), "ls-tree", "--name-only", OLD_COMMIT,
             "sql/"], capture_output=True, text=True, timeout=30,
            check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git history with commit %s to take the old "
                    "migrations from" % OLD_COMMIT)
    out = []
    d = tmp_path / "old-sql"
    d.mkdir()
    for name in sorted(n for n in names if n.endswith(".sql")):
        text = subprocess.run(["git", "-C", str(REPO), "show",
                               "%s:%s" % (OLD_COMMIT, name)],
                              capture_output=True, text=True, timeout=30,
                              check=True).stdout
        out.append(d / os.path.basename(name))
        out[-1].write_text(text)
    assert len(out) == 9, "expected the 9 old migrations, got %r" % out
    return out


def migrate_as_old_code_did(conninfo, files, tmp_path):
    """What server/migrate.c of OLD_COMMIT did: each file in its own
    transaction, recorded in schema_migrations."""
    script = ["SET client_min_messages = warning;",
              "CREATE TABLE schema_migrations (version integer PRIMARY KEY, "
              "name text NOT NULL, applied_at timestamptz NOT NULL "
              "DEFAULT now());"]
    for f in files:
        script += ["BEGIN;", "\\i %s" % f,
                   "INSERT INTO schema_migrations (version, name) VALUES "
                   "(%d, '%s');" % (int(f.name[:3]), f.name), "COMMIT;"]
    path = tmp_path / "old-migrate.sql"
    path.write_text("\n".join(script) + "\n")
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                        conninfo, "-f", str(path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "the old migrations failed:\n" + r.stderr


def test_upgrade_from_functions_in_migrations(rollcalld_bin, tmp_path):
    files = old_sql_files(tmp_path)
    c = PgCluster(prefix="rollcall-it-upgrade-")
    try:
        c.start()
        migrate_as_old_code_did(c.conninfo, files, tmp_path)
        assert set(psql_db(c.conninfo, "SELECT string_agg(proname, ' ') "
                           "FROM pg_proc WHERE proname LIKE 'rc_register%'"
                           ).split()) == {"rc_register", "rc_register3",
                                          "rc_register_mail"}
        # a registration made by the old functions, and a waitlisted one
        c.psql("INSERT INTO events (kind, title, chapter, format, venue, "
               "starts_at, ends_at, capacity, status) VALUES ('meetup', "
               "'Upgrade', 'Shanghai', 'panel', 'Hall', "
               "now() + interval '3 days', now() + interval '3 days 2 hours',"
               " 1, 'published')")
        for i, lang in ((1, "zh-CN"), (2, "en")):
            c.psql("SELECT rc_register_mail(1, '{\"name\": \"Old %d\", "
                   "\"email\": \"old%d@example.com\", \"company\": \"C\", "
                   "\"job_title\": \"J\", \"identity\": \"enthusiast\", "
                   "\"lang\": \"%s\"}', '\\x0%d', '\\x1%d', '\\x2%d')"
                   % (i, i, lang, i, i, i))

        r = migrate(rollcalld_bin, c.conninfo)
        # 010 and every migration after it, however many there are now.
        newer = [f for f in os.listdir(os.path.join(REPO, "sql"))
                 if re.match(r"^\d{3}_.*\.sql$", f) and f >= "010_"]
        assert "applied 010_" in r.stderr and \
            "%d applied now" % len(newer) in r.stderr, (newer, r.stderr)
        assert overloads(c.conninfo) == "", \
            "functions with more than one overload after the upgrade"
        assert psql_db(c.conninfo, "SELECT count(*) FROM pg_proc WHERE "
                       "proname IN ('rc_register3', 'rc_register_mail')"
                       ) == "0", "the old registration layers are still there"
        fresh = other_db(c, "fresh")
        migrate(rollcalld_bin, fresh)
        assert schema_dump(c.conninfo) == schema_dump(fresh), \
            "the upgraded schema differs from a new database's " \
            "(diff the two `pg_dump --schema-only`)"

        # the old rows read as before; the new rc_register and the
        # triggers work on them
        assert c.scalar("SELECT rc_registration_get('\\x01')->>'status'") \
            == "confirmed"
        out = c.scalar(
            "SELECT rc_register(1, '{\"name\": \"New\", \"email\": "
            "\"new@example.com\", \"company\": \"C\", \"job_title\": \"J\", "
            "\"identity\": \"enthusiast\", \"lang\": \"zh-CN\"}', '\\x03', "
            "'\\x13', '\\x23')->>'status'")
        assert out == "waitlisted"
        c.psql("UPDATE events SET capacity = 3 WHERE id = 1")
        rows = c.psql("SELECT email, status, lang, encode(join_hash, 'hex'), "
                      "ticket_jti IS NOT NULL FROM registrations ORDER BY id")
        assert rows == [["old1@example.com", "confirmed", "zh-CN", "11", "t"],
                        ["old2@example.com", "confirmed", "en", "12", "t"],
                        ["new@example.com", "confirmed", "zh-CN", "13", "t"]]
        kinds = c.psql("SELECT registration_id, kind FROM outbox "
                       "ORDER BY registration_id, id")
        assert ["3", "waitlisted"] in kinds and ["3", "promoted"] in kinds, \
            kinds
        # Its reminder is the job's, a day before the event (029).
        assert c.scalar("SELECT remind FROM registrations WHERE id = 3") \
            == "t"
    finally:
        c.destroy()
