"""Helpers for the Rollcall integration tests: a private PostgreSQL cluster,
the daemon under test, an HTTP client, token forging and request bodies.

Only the Python standard library is used here.
"""
import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PG_SH = REPO / "deploy" / "dev" / "pg.sh"
SANITIZER_MARKERS = ("AddressSanitizer", "runtime error", "LeakSanitizer")
SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}
HTTP_TIMEOUT = 10          # server/server.h HTTP_TIMEOUT
HTTP_MAXHEADERS = 16 * 1024
HTTP_MAXBODY = 64 * 1024


def rollcalld_path():
    return os.environ.get("ROLLCALLD") or str(REPO / "build" / "asan" /
                                              "rollcalld")


def wait_until(pred, timeout, what, interval=0.05):
    """Poll pred() until it returns something true; fail after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = pred()
        except Exception as e:          # keep polling, remember why
            last = e
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s "
                                 "(last outcome: %r)" % (timeout, what, last))
        time.sleep(interval)


def fresh_rate_window():
    """Wait until the one-minute window of ratelimit.c (wall-clock
    minutes) has at least 10 s left, so that a burst counts in one window
    (a burst across a minute boundary is counted in two, and the limit
    is never reached)."""
    wait_until(lambda: time.time() % 60 < 50, 15,
               "a rate-limit minute with 10 s left")


def cli_env():
    env = dict(os.environ)
    env.update(SAN_ENV)
    env.pop("ROLLCALL_DB", None)
    return env


def run_cli(args, timeout=60):
    """Run rollcalld (or any tool) and fail on sanitizer output."""
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                       env=cli_env())
    for m in SANITIZER_MARKERS:
        assert m not in r.stderr, ("%s printed sanitizer output:\n%s" %
                                   (" ".join(args), r.stderr[-4000:]))
    return r


# --------------------------------------------------------------------------
# PostgreSQL


class PgCluster:
    """A throw-away cluster made by deploy/dev/pg.sh in a fresh temp dir."""

    def __init__(self, prefix="rollcall-it-"):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.dir, 0o755)     # pg.sh runs initdb as postgres
        self.conninfo = None

    def _pg_sh(self, cmd):
        # Durability is not under test: without fsync the suite runs
        # faster and is not at the mercy of a loaded disk. Locking and
        # transactions, which the tests are about, are unchanged.
        env = dict(os.environ, PG_EXTRA_OPTS="-c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        return subprocess.run(["bash", str(PG_SH), cmd, self.dir],
                              capture_output=True, text=True, timeout=180,
                              env=env)

    def start(self):
        r = self._pg_sh("start")
        assert r.returncode == 0, ("pg.sh start %s failed (%d):\n%s%s" %
                                   (self.dir, r.returncode, r.stdout,
                                    r.stderr))
        self.conninfo = r.stdout.strip().splitlines()[-1]
        return self.conninfo

    def stop(self):
        r = self._pg_sh("stop")
        assert r.returncode == 0, "pg.sh stop failed:\n" + r.stderr

    def destroy(self):
        try:
            self._pg_sh("stop")
        finally:
            link = os.path.join(self.dir, "cluster")
            if os.path.islink(link):
                shutil.rmtree(os.path.realpath(link), ignore_errors=True)
            shutil.rmtree(self.dir, ignore_errors=True)

    def psql(self, sql):
        """Run SQL; return the rows as lists of strings (NULL is '')."""
        r = subprocess.run(["psql", "-X", "-q", "-tA", "-F", "\x1f",
                            "-v", "ON_ERROR_STOP=1", "-d", self.conninfo,
                            "-c", sql],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, "psql failed on %r:\n%s" % (sql, r.stderr)
        return [line.split("\x1f") for line in r.stdout.splitlines()]

    def scalar(self, sql):
        rows = self.psql(sql)
        assert len(rows) == 1 and len(rows[0]) == 1, \
            "expected one value from %r, got %r" % (sql, rows)
        return rows[0][0]

    COUNTED = ("events", "series", "tokens", "audit_log", "sponsors",
               "registrations", "consent_history", "checkins", "leads")

    def counts(self):
        """Row counts of the tables bad input must never change (those of
        them that exist in the schema)."""
        if not hasattr(self, "_counted"):
            present = {r[0] for r in self.psql(
                "SELECT tablename FROM pg_tables WHERE schemaname = "
                "current_schema()")}
            self._counted = [t for t in self.COUNTED if t in present]
        row = self.psql("SELECT " + ", ".join(
            "(SELECT count(*) FROM %s)" % t for t in self._counted))[0]
        return dict(zip(self._counted, map(int, row)))

    def token_secret(self):
        return bytes.fromhex(self.scalar(
            "SELECT encode(value, 'hex') FROM secrets "
            "WHERE name = 'token_hs256'"))


def migrate(binary, conninfo, chapters=True):
    """rollcalld migrate; then (chapters) the default chapters that
    meetup(), community_day() and series() name (DEFAULT_CHAPTERS)."""
    r = run_cli([binary, "migrate", "--db", conninfo])
    assert r.returncode == 0, ("rollcalld migrate failed (%d):\n%s" %
                               (r.returncode, r.stderr))
    if chapters:
        make_default_chapters(conninfo)
    return r


def cli_token(binary, conninfo, role, name, *extra):
    r = run_cli([binary, "token", "--role", role, "--name", name,
                 "--db", conninfo, *extra])
    assert r.returncode == 0, ("rollcalld token --role %s failed (%d):\n%s"
                               % (role, r.returncode, r.stderr))
    tok = r.stdout.strip()
    assert tok.count(".") == 2, "rollcalld token printed %r" % r.stdout
    return tok


# --------------------------------------------------------------------------
# HTTP


class Resp:
    """One HTTP exchange. Unpacks as (status, json, headers, raw)."""

    def __init__(self, method, path, sent, status, headers, raw):
        self.method, self.path, self.sent = method, path, sent
        self.status, self.headers, self.raw = status, headers, raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    def __iter__(self):
        return iter((self.status, self.json, self.headers, self.raw))

    def __repr__(self):
        sent = ""
        if self.sent is not None:
            s = self.sent if isinstance(self.sent, bytes) else \
                repr(self.sent).encode()
            sent = " sending %r%s" % (s[:300], "..." if len(s) > 300 else "")
        return "%s %s%s -> HTTP %s %r" % (self.method, self.path, sent,
                                          self.status, self.raw[:600])


def http_call(port, method, path, body=None, token=None, raw=None,
              headers=None, timeout=30):
    h = {}
    data = None
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if raw is not None:
        data = raw
    elif body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if headers:
        h.update(headers)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        payload = r.read()
        return Resp(method, path, data, r.status, r.headers, payload)
    finally:
        conn.close()


def assert_error_shape(resp):
    """An error is JSON {"error": code, "message": text}."""
    ct = resp.headers.get("Content-Type", "") if resp.headers else ""
    assert ct.startswith("application/json"), \
        "error reply is not JSON (Content-Type %r): %r" % (ct, resp)
    j = resp.json
    assert isinstance(j, dict) and isinstance(j.get("error"), str) and \
        j["error"] and isinstance(j.get("message"), str) and j["message"], \
        'error reply lacks {"error", "message"}: %r' % (resp,)


def expect(resp, status, error=None):
    """Assert the status (and error code); return the parsed body."""
    assert resp.status == status, "expected HTTP %d%s, got: %r" % (
        status, " " + error if error else "", resp)
    if status >= 400:
        assert_error_shape(resp)
        if error is not None:
            assert resp.json["error"] == error, \
                "expected error %r, got: %r" % (error, resp)
    return resp.json


def expect_field_error(resp, field, status=400, error="invalid_field"):
    j = expect(resp, status, error)
    assert field in j["message"], \
        "the message should name the field %r: %r" % (field, resp)
    return j


def raw_exchange(port, data, timeout=15, half_close=False):
    """Send bytes on a fresh socket (then shut our side when half_close);
    read until EOF. A timeout raises socket.timeout."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                break
            if not d:
                break
            out += d
    finally:
        s.close()
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --------------------------------------------------------------------------
# The daemon


class Daemon:
    def __init__(self, binary, conninfo, log_path, extra_args=(), env=None):
        self.binary, self.conninfo = binary, conninfo
        self.env = env or {}
        self.log_path = Path(log_path)
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.checked = False

    def start(self, timeout=60):
        for attempt in range(3):
            self.port = free_port()
            env = cli_env()
            env.update(self.env)
            self.log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [self.binary, "serve", "--db", self.conninfo, "--listen",
                 "127.0.0.1:%d" % self.port, "--rate-limit", "0",
                 *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                env=env)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    r = http_call(self.port, "GET", "/healthz", timeout=5)
                    if r.status == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.05)
            if self.proc.poll() is not None and \
                    "cannot listen" in self.log_text() and attempt < 2:
                continue            # lost the port race; try another
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            raise AssertionError("rollcalld did not answer GET /healthz 200 "
                                 "(exit %r); log tail:\n%s" %
                                 (self.proc.returncode, self.tail()))
        raise AssertionError("unreachable")

    def api(self, method, path, body=None, token=None, raw=None,
            headers=None, timeout=30):
        return http_call(self.port, method, path, body=body, token=token,
                         raw=raw, headers=headers, timeout=timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, n=60):
        return "\n".join(self.log_text().splitlines()[-n:])

    def sanitizer_lines(self):
        return [l for l in self.log_text().splitlines()
                if any(m in l for m in SANITIZER_MARKERS)]

    def terminate(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)

    def stop_and_check(self, timeout=30):
        """SIGTERM, wait, and insist on exit 0 and a clean log."""
        if self.checked or self.proc is None:
            return
        self.checked = True
        self.terminate()
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("rollcalld did not exit within %d s of "
                                 "SIGTERM; log tail:\n%s" %
                                 (timeout, self.tail()))
        finally:
            self.log.close()
        bad = self.sanitizer_lines()
        assert rc == 0 and not bad, (
            "rollcalld exited with status %r%s; log tail:\n%s" %
            (rc, " and sanitizer reports" if bad else "", self.tail(80)))


# --------------------------------------------------------------------------
# Tokens


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_claims(token):
    return json.loads(b64u_decode(token.split(".")[1]))


def jwt_header(token):
    return json.loads(b64u_decode(token.split(".")[0]))


def forge(claims, secret, alg="HS256", header=None, signature=None):
    """A JWT signed (or not) the way the test wants."""
    hdr = {"alg": alg, "typ": "JWT"}
    hdr.update(header or {})
    signing = (b64u(json.dumps(hdr, separators=(",", ":")).encode()) + "." +
               b64u(json.dumps(claims, separators=(",", ":")).encode()))
    digests = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
               "HS512": hashlib.sha512}
    if signature is not None:
        sig = signature
    elif alg in digests:
        sig = hmac.new(secret, signing.encode(), digests[alg]).digest()
    else:
        sig = b""
    return signing + "." + b64u(sig)


# --------------------------------------------------------------------------
# Request bodies

DROP = object()     # a field value meaning "leave this key out"


def _apply(base, over):
    base.update(over)
    return {k: v for k, v in base.items() if v is not DROP}


def uniq(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def day(days_from_now):
    return (dt.datetime.now(dt.timezone.utc) +
            dt.timedelta(days=days_from_now)).date()


def at(days_from_now, hour, minute=0, offset="+08:00"):
    return "%sT%02d:%02d:00%s" % (day(days_from_now), hour, minute, offset)


# The chapters every test database has (conftest makes them after
# migrating): events name a chapter by its slug, and it must exist.
DEFAULT_CHAPTERS = (
    # slug, name, name_zh, kind, city, topic
    ("shanghai", "Shanghai", "上海", "city", "Shanghai", None),
    ("beijing", "Beijing", "北京", "city", "Beijing", None),
    ("rust", "Rust", "Rust 技术分会", "topic", None, "Rust"),
)


def make_default_chapters(conninfo):
    """Insert DEFAULT_CHAPTERS (active) into a migrated database."""
    def q(v):
        return "NULL" if v is None else "'" + v.replace("'", "''") + "'"
    sql = ("INSERT INTO chapters (slug, name, name_zh, kind, city, topic, "
           "status) VALUES " + ", ".join(
               "(%s, %s, %s, %s, %s, %s, 'active')" % tuple(map(q, c))
               for c in DEFAULT_CHAPTERS) + " ON CONFLICT (slug) DO NOTHING")
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                        conninfo, "-c", sql], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, "making the default chapters failed:\n%s" % \
        r.stderr


def meetup(**over):
    return _apply({
        "kind": "meetup", "title": "Go Meetup: profiling in production",
        "description": "Two talks and pizza.", "chapter": "shanghai",
        "format": "workshop", "venue": "Innovation Hub, 88 Keyuan Road",
        "starts_at": at(30, 14), "ends_at": at(30, 18),
    }, over)


def community_day(**over):
    return _apply({
        "kind": "community_day", "title": "Community Day Beijing",
        "chapter": "beijing", "venue": "Convention Center, Hall 3",
        "starts_at": at(40, 9), "ends_at": at(40, 18),
    }, over)


def series(**over):
    return _apply({
        "title": "NightTalk: Rust", "chapter": "rust",
        "track_owner": "Li Wei", "starts_on": str(day(20)),
        "episodes": 4, "online_url": "https://live.example.com/rust",
    }, over)
