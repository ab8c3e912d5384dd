#!/usr/bin/python3
"""Check Rollcall's floor plan from the server's object files and sources.

Usage:
  check.py [--root DIR] [--only CHECK] OBJECT... [--sources SOURCE...]

  OBJECT      the server's object files, e.g. build/asan/server/*.o
              build/asan/server/common/*.o. A file is named by its path
              below the objects' common folder, without .o: "router",
              "db", "common/ticket".
  --sources   the C files to scan for SQL text (give it after the objects).
              Without it: server/**/*.c and scanner/*.c under the root.
  --root DIR  the project root; sql/ is read from here and source names are
              shown relative to it (default: two levels above this script).
  --only CHECK  run one check: cycles, libpq, sql-text or sql-functions.

Checks:
  cycles         no two files depend on each other, directly or through
                 others (A depends on B when A uses a symbol B defines);
                 each edge of a cycle is printed with its symbols.
  libpq          only db.o has undefined libpq symbols (PQ*, lo_*, pg_*).
  sql-text       only server/db.c has string literals holding SQL
                 statements (upper-case keywords in SQL shape).
  sql-functions  every CREATE [OR REPLACE] FUNCTION under sql/ names a
                 function created nowhere else.

Prints "PASS name" or "FAIL name" per check with details indented under
it, then "N passed, N failed". Exits 0 when every check passes, 1 when one
fails, 2 on bad usage or when nm cannot read an object.
"""

import argparse
import os
import re
import subprocess
import sys

CHECKS = ("cycles", "libpq", "sql-text", "sql-functions")
LIBPQ_FILE = "db"
SQL_FILE = "server/db.c"

LIBPQ_SYM = re.compile(
    r"^(PQ"
    r"|lo_(open|close|read|write|creat|import|export|unlink|lseek|tell"
    r"|truncate)"
    r"|pg_(encoding|char_to_encoding|valid_server_encoding))")

# A keyword counts at the start of a literal or after white space, and only
# in the shape of a statement, so "Please select a seat", "DELETE" (an HTTP
# method) and "BEGIN:VCALENDAR" stay out.
_AT = r"(?:^|(?<=\s))"
_NAME = r'(?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+))?'
_END = r"(?=\s*(?:;|\Z))"
SQL_SHAPES = [re.compile(_AT + p) for p in (
    r"SELECT\s+(?:\S.*?\sFROM\s+[\w\"(]|[\w.]+\s*\(|\d|\*|\$\d)",
    r"INSERT\s+INTO\s+" + _NAME,
    r"UPDATE\s+(?:ONLY\s+)?" + _NAME + r"(?:\s+(?:AS\s+)?\w+)?\s+SET\b",
    r"DELETE\s+FROM\s+" + _NAME,
    r"(?:BEGIN|COMMIT|ROLLBACK)(?:" + _END +
    r"|\s+(?:TRANSACTION|WORK|ISOLATION|READ|TO|AND|PREPARED)\b)",
    r"CREATE\s+(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+",
    r"LISTEN\s+" + _NAME + _END,
    r"NOTIFY\s+" + _NAME + r"(?=\s*(?:[,;]|\Z))",
)]

SQL_FUNCTION = re.compile(
    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+"
    r'((?:(?:"[^"]+"|\w+)\s*\.\s*)?(?:"[^"]+"|\w+))\s*\(', re.IGNORECASE)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


class UsageError(Exception):
    pass


# Run nm on one object and return its symbol names of the wanted kinds.
def nm_symbols(path, undefined):
    flag = "-u" if undefined else "--defined-only"
    try:
        out = subprocess.run(["nm", "-P", flag, path], capture_output=True,
                             text=True, check=False)
    except OSError as e:
        raise UsageError("cannot run nm: %s" % e)
    if out.returncode != 0:
        raise UsageError("nm %s %s: %s" % (flag, path, out.stderr.strip()))
    syms = set()
    for line in out.stdout.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        name, kind = f[0], f[1]
        if undefined or kind.isupper() or kind == "u":
            syms.add(name)
    return syms


# Name each object by its path below the objects' common folder.
def object_names(paths):
    dirs = [os.path.dirname(os.path.abspath(p)) for p in paths]
    base = os.path.commonpath(dirs) if dirs else ""
    names = {}
    for p in paths:
        rel = os.path.relpath(os.path.abspath(p), base)
        name = rel[:-2] if rel.endswith(".o") else rel
        name = name.replace(os.sep, "/")
        if name in names:
            raise UsageError("two objects named %s: %s and %s" %
                             (name, names[name], p))
        names[name] = p
    return names


# Read every object's defined and undefined symbols.
def read_objects(paths):
    files = {}
    for name, path in object_names(paths).items():
        if not os.path.isfile(path):
            raise UsageError("no such object: %s" % path)
        files[name] = (nm_symbols(path, False), nm_symbols(path, True))
    return files


# Map each file to {file it uses: symbols it uses there}.
def dependency_graph(files):
    definers = {}
    for name, (defined, _) in files.items():
        for s in defined:
            definers.setdefault(s, set()).add(name)
    graph = {name: {} for name in files}
    for name, (_, undefined) in files.items():
        for s in undefined:
            for d in definers.get(s, ()):
                if d != name:
                    graph[name].setdefault(d, set()).add(s)
    return graph


# Tarjan's strongly connected components, without recursion.
def components(graph):
    index, low, onstack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        onstack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    onstack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in onstack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    onstack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


# Fail for every group of files that depend on each other.
def check_cycles(files):
    if not files:
        return False, ["no object files given"]
    graph = dependency_graph(files)
    cycles = [c for c in components(graph) if len(c) > 1]
    if not cycles:
        edges = sum(len(v) for v in graph.values())
        return True, ["%d files, %d dependencies, no cycle" %
                      (len(files), edges)]
    lines = []
    for comp in sorted(cycles, key=lambda c: (-len(c), c)):
        inside = set(comp)
        lines.append("cycle of %d files: %s" % (len(comp), ", ".join(comp)))
        for a in comp:
            for b in sorted(graph[a]):
                if b in inside:
                    lines.append("  %s -> %s (%s)" % (
                        a, b, ", ".join(sorted(graph[a][b]))))
    return False, lines


# Fail for every file but db that calls libpq.
def check_libpq(files):
    if not files:
        return False, ["no object files given"]
    lines = []
    for name in sorted(files):
        if name == LIBPQ_FILE:
            continue
        syms = sorted(s for s in files[name][1] if LIBPQ_SYM.match(s))
        if syms:
            lines.append("%s: %s" % (name, ", ".join(syms)))
    if lines:
        return False, ["%d files besides %s.o call libpq:" %
                       (len(lines), LIBPQ_FILE)] + ["  " + x for x in lines]
    return True, ["only %s.o calls libpq" % LIBPQ_FILE]


# Yield (line, text) for each C string literal, adjacent ones joined.
def c_literals(src):
    i, n, line = 0, len(src), 1
    cur, cur_line, pending = None, 0, False
    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += src.count("\n", i, j)
            i = j
        elif c == '"' or c == "'":
            j, buf = i + 1, []
            while j < n and src[j] != c and src[j] != "\n":
                if src[j] == "\\" and j + 1 < n:
                    if src[j + 1] == "\n":
                        line += 1
                    buf.append(_ESCAPES.get(src[j + 1], "\\" + src[j + 1]))
                    j += 2
                else:
                    buf.append(src[j])
                    j += 1
            text = "".join(buf)
            i = j + 1 if j < n and src[j] == c else j
            if c == "'":
                pending = False
                if cur is not None:
                    yield cur_line, cur
                    cur = None
            elif cur is not None and pending:
                cur += text
            else:
                if cur is not None:
                    yield cur_line, cur
                cur, cur_line = text, line
            pending = c == '"'
        elif c.isspace():
            i += 1
        else:
            pending = False
            if cur is not None:
                yield cur_line, cur
                cur = None
            i += 1
    if cur is not None:
        yield cur_line, cur


# The C sources to scan: the ones given, or the server's and scanner's.
def find_sources(root):
    found = []
    for top, pattern in (("server", True), ("scanner", False)):
        base = os.path.join(root, top)
        for d, subdirs, names in os.walk(base):
            subdirs.sort()
            if not pattern and d != base:
                continue
            found += [os.path.join(d, x) for x in sorted(names)
                      if x.endswith(".c")]
    return found


# Fail for every SQL statement in a C literal outside server/db.c.
def check_sql_text(root, sources):
    if not sources:
        return False, ["no C sources found under %s" % root]
    lines = []
    for path in sources:
        rel = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
        if rel == SQL_FILE:
            continue
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                src = f.read()
        except OSError as e:
            raise UsageError("cannot read %s: %s" % (path, e.strerror))
        for ln, text in c_literals(src):
            if any(p.search(text) for p in SQL_SHAPES):
                shown = " ".join(text.split())
                if len(shown) > 60:
                    shown = shown[:57] + "..."
                lines.append('%s:%d: "%s"' % (rel, ln, shown))
    if lines:
        return False, ["%d literals hold SQL outside %s:" %
                       (len(lines), SQL_FILE)] + ["  " + x for x in lines]
    return True, ["%d sources, SQL only in %s" % (len(sources), SQL_FILE)]


# Blank out SQL comments and quoted strings, keeping line breaks.
def sql_code(text):
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif text[i] == "'":
            j = i + 1
            while j < n:
                if text[j] == "'":
                    if text.startswith("''", j):
                        j += 2
                        continue
                    j += 1
                    break
                j += 1
        else:
            out.append(text[i])
            i += 1
            continue
        out.append(re.sub(r"[^\n]", " ", text[i:j]))
        i = j
    return "".join(out)


# Lower-case unquoted parts and drop a "public." schema.
def function_key(name):
    parts = [p.strip() for p in name.split(".")]
    parts = [p[1:-1] if p.startswith('"') else p.lower() for p in parts]
    if len(parts) == 2 and parts[0] == "public":
        parts = parts[1:]
    return ".".join(parts)


# Fail for every function created in more than one place under sql/.
def check_sql_functions(root):
    top = os.path.join(root, "sql")
    if not os.path.isdir(top):
        return False, ["no sql/ folder under %s" % root]
    where = {}
    count = 0
    for d, subdirs, names in os.walk(top):
        subdirs.sort()
        for x in sorted(names):
            if not x.endswith(".sql"):
                continue
            path = os.path.join(d, x)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            with open(path, encoding="utf-8", errors="replace") as f:
                code = sql_code(f.read())
            for m in SQL_FUNCTION.finditer(code):
                ln = code.count("\n", 0, m.start()) + 1
                where.setdefault(function_key(m.group(1)), []).append(
                    "%s:%d" % (rel, ln))
                count += 1
    dups = {k: v for k, v in where.items() if len(v) > 1}
    if dups:
        lines = ["%d functions have more than one body:" % len(dups)]
        for k in sorted(dups):
            lines.append("  %s: %s" % (k, ", ".join(dups[k])))
        return False, lines
    return True, ["%d functions, one body each" % count]


# Parse the command line, run the checks, print the verdicts.
def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(
        description="Check Rollcall's floor plan (see the docstring).")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(here)))
    ap.add_argument("--only", choices=CHECKS)
    ap.add_argument("--sources", nargs="+", metavar="SOURCE")
    ap.add_argument("objects", nargs="*", metavar="OBJECT")
    args = ap.parse_args(argv)
    root = os.path.abspath(args.root)
    wanted = [args.only] if args.only else list(CHECKS)

    try:
        files = None
        if "cycles" in wanted or "libpq" in wanted:
            files = read_objects(args.objects)
        results = []
        for name in wanted:
            if name == "cycles":
                ok, lines = check_cycles(files)
            elif name == "libpq":
                ok, lines = check_libpq(files)
            elif name == "sql-text":
                ok, lines = check_sql_text(
                    root, args.sources or find_sources(root))
            else:
                ok, lines = check_sql_functions(root)
            results.append((name, ok, lines))
    except UsageError as e:
        print("check.py: %s" % e, file=sys.stderr)
        return 2

    for name, ok, lines in results:
        print("%s %s" % ("PASS" if ok else "FAIL", name))
        for x in lines:
            print("    " + x)
    passed = sum(1 for r in results if r[1])
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
