#!/usr/bin/python3
"""Self-test of check.py: tiny C files built with cc -c and a tiny sql/ tree
in a temp dir show that every check can fail and can pass.

Run: /usr/bin/python3 tests/layering/test_check.py (standard library only;
needs cc and nm). Ends with "N passed, N failed"; exits 0 when all pass.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check.py")


class Tree:
    """A throw-away project root with sources, objects and sql/."""

    # Make an empty root in a temp dir.
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="layering-")
        self.objects = []

    # Remove the root.
    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)

    # Write a file below the root and return its path.
    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    # Write server/REL.c, compile it to build/server/REL.o.
    def c(self, rel, text):
        src = self.write("server/%s.c" % rel, text)
        obj = os.path.join(self.root, "build/server/%s.o" % rel)
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        subprocess.run(["cc", "-c", "-w", "-o", obj, src], check=True)
        self.objects.append(obj)

    # Run check.py on this tree; return (exit status, output).
    def check(self, only, *extra):
        argv = [sys.executable, CHECK, "--root", self.root, "--only", only]
        p = subprocess.run(argv + self.objects + list(extra),
                           capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr


class LayeringTest(unittest.TestCase):

    # Give each test a fresh tree.
    def setUp(self):
        self.t = Tree()
        self.addCleanup(self.t.close)

    # Assert the check's verdict and its summary line.
    def verdict(self, only, ok, *extra):
        rc, out = self.t.check(only, *extra)
        want = "PASS" if ok else "FAIL"
        self.assertIn("%s %s\n" % (want, only), out, out)
        self.assertTrue(out.endswith("%d passed, %d failed\n" %
                                     (ok, not ok)), out)
        self.assertEqual(rc, 0 if ok else 1, out)
        return out

    def test_two_files_calling_each_other_form_a_cycle(self):
        self.t.c("a", "void b_run(void); void a_run(void) { b_run(); }\n")
        self.t.c("b", "void a_run(void); void b_run(void) { a_run(); }\n")
        out = self.verdict("cycles", False)
        self.assertIn("cycle of 2 files: a, b", out)
        self.assertIn("a -> b (b_run)", out)
        self.assertIn("b -> a (a_run)", out)

    def test_a_chain_is_no_cycle(self):
        self.t.c("a", "void b_run(void); void a_run(void) { b_run(); }\n")
        self.t.c("b", "void c_run(void); void b_run(void) { c_run(); }\n")
        self.t.c("c", "int c_n; void c_run(void) { c_n++; }\n")
        out = self.verdict("cycles", True)
        self.assertIn("3 files, 2 dependencies, no cycle", out)

    def test_a_cycle_through_common_and_data_names_the_folder(self):
        self.t.c("a", "extern int t_table[]; int a_get(void) "
                 "{ return t_table[0]; }\n")
        self.t.c("common/t", "int a_get(void); int t_table[2]; "
                 "int t_run(void) { return a_get(); }\n")
        out = self.verdict("cycles", False)
        self.assertIn("a -> common/t (t_table)", out)
        self.assertIn("common/t -> a (a_get)", out)

    def test_main_may_use_every_file(self):
        self.t.c("a", "int a_run(void) { return 1; }\n")
        self.t.c("b", "int a_run(void); int b_run(void) { return a_run(); }\n")
        self.t.c("main", "int a_run(void); int b_run(void);\n"
                 "int main(void) { return a_run() + b_run(); }\n")
        self.verdict("cycles", True)

    def test_a_file_using_main_forms_a_cycle(self):
        self.t.c("a", "extern int main_verbose;\n"
                 "int a_run(void) { return main_verbose; }\n")
        self.t.c("main", "int a_run(void); int main_verbose;\n"
                 "int main(void) { return a_run(); }\n")
        out = self.verdict("cycles", False)
        self.assertIn("a -> main (main_verbose)", out)
        self.assertIn("main -> a (a_run)", out)

    def test_libpq_outside_db_fails(self):
        self.t.c("db", "void *PQexec(void *, const char *);\n"
                 "void *db_exec(void *c) { return PQexec(c, \"x\"); }\n")
        self.t.c("router", "void *PQexec(void *, const char *);\n"
                 "void PQclear(void *);\n"
                 "void route(void *c) { PQclear(PQexec(c, \"x\")); }\n")
        out = self.verdict("libpq", False)
        self.assertIn("router: PQclear, PQexec", out)
        self.assertNotIn("db:", out)

    def test_libpq_in_db_only_passes(self):
        self.t.c("db", "void *PQexec(void *, const char *);\n"
                 "int lo_open(void *, unsigned, int);\n"
                 "void *db_exec(void *c) { lo_open(c, 1, 0); "
                 "return PQexec(c, \"x\"); }\n")
        self.t.c("router", "void *db_exec(void *);\n"
                 "void route(void *c) { db_exec(c); }\n")
        self.verdict("libpq", True)

    def test_sql_outside_db_fails(self):
        src = self.t.write("server/router.c",
                           'const char *q = "SELECT 1 FROM t";\n'
                           '/* "DELETE FROM t" in a comment is fine */\n'
                           'const char *u = "UPDATE t "\n'
                           '    "SET x = 1";\n'
                           'const char *l = "LISTEN rollcall_outbox";\n')
        out = self.verdict("sql-text", False, "--sources", src)
        self.assertIn('server/router.c:1: "SELECT 1 FROM t"', out)
        self.assertIn('server/router.c:3: "UPDATE t SET x = 1"', out)
        self.assertIn('server/router.c:5: "LISTEN rollcall_outbox"', out)
        self.assertNotIn("DELETE", out)

    def test_words_that_are_not_sql_pass(self):
        src = self.t.write("server/web.c",
                           'const char *m[] = { "select a seat",\n'
                           '    "Please select a seat", "DELETE",\n'
                           '    "BEGIN:VCALENDAR", "NOTIFY_SOCKET",\n'
                           '    "-----BEGIN PUBLIC KEY-----",\n'
                           '    "(http://LISTEN)", "UPDATE your details",\n'
                           '    "Press SELECT to continue", "mode=ROLLBACK" };\n'
                           "char q = '\"'; /* SELECT 1 FROM t */\n")
        db = self.t.write("server/db.c", 'const char *s = "BEGIN";\n'
                          'const char *q = "SELECT 1 FROM t";\n')
        self.verdict("sql-text", True, "--sources", src, db)

    def test_sources_are_found_under_the_root(self):
        self.t.write("server/common/x.c", 'const char *q = "COMMIT";\n')
        self.t.write("scanner/scan.c", 'const char *q = "text";\n')
        out = self.verdict("sql-text", False)
        self.assertIn('server/common/x.c:1: "COMMIT"', out)

    def test_a_function_defined_twice_fails(self):
        self.t.write("sql/001_a.sql",
                     "-- CREATE FUNCTION rc_note() is only a comment\n"
                     "CREATE FUNCTION rc_get(p bigint)\n"
                     "RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
                     "CREATE FUNCTION rc_other() RETURNS int\n"
                     "    LANGUAGE sql AS $$ SELECT 2 $$;\n")
        self.t.write("sql/later/002_b.sql",
                     "\n\ncreate or replace function public.RC_GET (p bigint)"
                     "\nRETURNS int LANGUAGE sql AS $$ SELECT 3 $$;\n")
        out = self.verdict("sql-functions", False)
        self.assertIn("rc_get: sql/001_a.sql:2, sql/later/002_b.sql:3", out)
        self.assertNotIn("rc_other", out)
        self.assertNotIn("rc_note", out)

    def test_functions_defined_once_pass(self):
        self.t.write("sql/001_a.sql",
                     "CREATE FUNCTION rc_get() RETURNS int\n"
                     "    LANGUAGE sql AS $$ SELECT 1 $$;\n")
        self.t.write("sql/002_b.sql",
                     "CREATE OR REPLACE FUNCTION audit.rc_get() RETURNS int\n"
                     "    LANGUAGE sql AS $$ SELECT 1 $$;\n")
        out = self.verdict("sql-functions", True)
        self.assertIn("2 functions, one body each", out)

    def test_all_checks_together_report_a_summary(self):
        self.t.c("db", "void *PQexec(void *, const char *);\n"
                 "static const char *sql = \"SELECT 1 FROM t\";\n"
                 "void *db_exec(void *c) { return PQexec(c, sql); }\n")
        self.t.c("main", "void *db_exec(void *);\n"
                 "int main(void) { db_exec(0); return 0; }\n")
        self.t.write("sql/001_a.sql", "CREATE FUNCTION f() RETURNS int "
                     "LANGUAGE sql AS $$ SELECT 1 $$;\n")
        p = subprocess.run([sys.executable, CHECK, "--root", self.t.root] +
                           self.t.objects, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for name in ("cycles", "libpq", "sql-text", "sql-functions"):
            self.assertIn("PASS %s\n" % name, p.stdout)
        self.assertTrue(p.stdout.endswith("\n4 passed, 0 failed\n"), p.stdout)

    def test_no_objects_is_a_failure(self):
        self.t.objects = []
        self.verdict("cycles", False)

    def test_a_missing_object_is_a_usage_error(self):
        self.t.objects = [os.path.join(self.t.root, "nope.o")]
        rc, out = self.t.check("libpq")
        self.assertEqual(rc, 2, out)
        self.assertIn("no such object", out)


# Run the tests and print "N passed, N failed".
def main():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(LayeringTest)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
