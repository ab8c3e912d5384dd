#!/usr/bin/python3
"""Check the layout of sql/ (docs/sql.md):

- every SQL function has exactly one body (CREATE [OR REPLACE] FUNCTION
  name) anywhere under sql/: two are two versions of one function, or two
  overloads, and only one of them is what the database ends up with;
- no migration (sql/NNN_*.sql) creates a function: functions live in
  sql/functions/ and are applied after the migrations;
- every function file says CREATE OR REPLACE for its functions and
  triggers, since `rollcalld migrate` applies it again on every run.

Usage: tests/check_sql.py [SQL_DIR]   (default: the tree's sql/)
Prints one line per failure, then "N passed, N failed"; exits 1 on any
failure.
"""
import os
import re
import sys

MIGRATION = re.compile(r"^\d{3}_.*\.sql$")
# A name, optionally schema-qualified, optionally double-quoted.
NAME = r'((?:"[^"]+"|\w+)(?:\s*\.\s*(?:"[^"]+"|\w+))?)'
CREATE_FUNCTION = re.compile(
    r"\bCREATE\s+(OR\s+REPLACE\s+)?FUNCTION\s+" + NAME, re.I)
CREATE_TRIGGER = re.compile(
    r"\bCREATE\s+(OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\s+" + NAME,
    re.I)


def code_of(text):
    """text with -- comments, quoted strings and dollar-quoted bodies
    blanked (newlines kept, so line numbers hold): what is left is the
    top-level statements, where a CREATE FUNCTION counts."""
    out = []
    i, n = 0, len(text)

    def blank(s):
        return re.sub(r"[^\n]", " ", s)

    while i < n:
        c = text[i]
        end = None
        if text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif c == "'":
            end = text.find("'", i + 1)
            end = n if end < 0 else end + 1     # '' is two strings: fine
        elif c == "$":
            m = re.match(r"\$[A-Za-z_]*\$", text[i:i + 64])
            if m:
                end = text.find(m.group(0), i + len(m.group(0)))
                end = n if end < 0 else end + len(m.group(0))
        if end is None:
            out.append(c)
            i += 1
        else:
            out.append(blank(text[i:end]))
            i = end
    return "".join(out)


def base_name(name):
    return name.split(".")[-1].strip().strip('"').lower()


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "sql")
    root = os.path.normpath(root)
    if not os.path.isdir(root):
        print("check_sql: no directory %s" % root)
        return 2
    files = []
    for d, _, names in os.walk(root):
        files += [os.path.join(d, f) for f in names if f.endswith(".sql")]
    files.sort()
    bodies = {}                     # function -> [(file, line), ...]
    passed, failed = 0, []
    for path in files:
        rel = os.path.relpath(path, os.path.dirname(root))
        with open(path, encoding="utf-8") as f:
            code = code_of(f.read())
        is_migration = (os.path.dirname(path) == root and
                        MIGRATION.match(os.path.basename(path)))
        bad_replace = []
        for m in CREATE_FUNCTION.finditer(code):
            line = code.count("\n", 0, m.start()) + 1
            bodies.setdefault(base_name(m.group(2)), []).append((rel, line))
            if not is_migration and not m.group(1):
                bad_replace.append("%s:%d: CREATE FUNCTION %s" %
                                   (rel, line, m.group(2)))
        for m in CREATE_TRIGGER.finditer(code):
            if not is_migration and not m.group(1):
                line = code.count("\n", 0, m.start()) + 1
                bad_replace.append("%s:%d: CREATE TRIGGER %s" %
                                   (rel, line, m.group(2)))
        if is_migration:
            made = [(base_name(m.group(2)),
                     code.count("\n", 0, m.start()) + 1)
                    for m in CREATE_FUNCTION.finditer(code)]
            if made:
                failed.append("%s: a migration creates functions (move them "
                              "to sql/functions/): %s" % (rel, ", ".join(
                                  "%s (line %d)" % x for x in made)))
            else:
                passed += 1
        else:
            if bad_replace:
                failed.append("%s: applied on every migrate, so it must say "
                              "CREATE OR REPLACE: %s" %
                              (rel, "; ".join(bad_replace)))
            else:
                passed += 1
    for fn in sorted(bodies):
        where = bodies[fn]
        if len(where) == 1:
            passed += 1
        else:
            failed.append("%s: %d bodies, keep one (the newest, in "
                          "sql/functions/): %s" % (fn, len(where), ", ".join(
                              "%s:%d" % w for w in where)))
    for f in failed:
        print("FAIL " + f)
    print("%d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
