"""Fixtures for the Rollcall black-box integration tests.

Run with `make integration`, or directly:
    ROLLCALLD=$PWD/build/asan/rollcalld \
        /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration

The session owns one private PostgreSQL cluster (deploy/dev/pg.sh) and one
shared daemon; tests that disturb the daemon or the database (restart,
SIGTERM) start their own with the `start_daemon` / `new_cluster` factories.
"""
import os

import pytest

import support
from support import (Daemon, PgCluster, cli_token, expect, meetup, migrate)

_shared = {}


@pytest.fixture(scope="session")
def rollcalld_bin():
    path = support.rollcalld_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("no daemon to test at %s: run `make build/asan/rollcalld`"
                    " or set ROLLCALLD" % path, pytrace=False)
    return path


@pytest.fixture(scope="session")
def pg(rollcalld_bin):
    """The session's PostgreSQL cluster, migrated."""
    cluster = PgCluster()
    try:
        cluster.start()
        migrate(rollcalld_bin, cluster.conninfo)
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def admin_token(rollcalld_bin, pg):
    return cli_token(rollcalld_bin, pg.conninfo, "admin", "tests")


@pytest.fixture(scope="session")
def secret(pg, admin_token):
    """The HS256 staff-token secret, read from the database."""
    key = pg.token_secret()
    assert len(key) == 32, "token secret is %d bytes, not 32" % len(key)
    return key


@pytest.fixture(scope="session")
def server(rollcalld_bin, pg, tmp_path_factory):
    """The daemon most tests share. Its committee approval is off: the
    shared database collects committee tokens from many tests, and with
    `approval = auto` the first one would make every later leader's or
    organizer's publish wait. The approval tests run on clusters of their
    own (approval_support.World)."""
    here = tmp_path_factory.mktemp("shared")
    (here / "rollcall.conf").write_text("approval = off\n")
    d = Daemon(rollcalld_bin, pg.conninfo, here / "rollcalld.log",
               ["--config", str(here / "rollcall.conf")])
    d.start()
    _shared["server"] = d
    yield d
    _shared.pop("server", None)
    d.stop_and_check()


@pytest.fixture(scope="session")
def api(server):
    """api(method, path, body=None, token=None, raw=None, headers=None)
    -> Resp, which unpacks as (status, json, headers, raw_bytes)."""
    return server.api


@pytest.fixture(autouse=True)
def _shared_server_survives(request):
    """Blame the test during which the shared daemon died or tripped a
    sanitizer, rather than the end of the session."""
    yield
    d = _shared.get("server")
    if d is None or d.checked or "server" not in request.fixturenames:
        return
    bad = d.sanitizer_lines()
    if not d.alive() or bad:
        d.checked = True        # report once
        pytest.fail("the shared rollcalld %s during this test; log tail:\n%s"
                    % ("exited with status %r" % d.proc.returncode
                       if not d.alive() else "reported a sanitizer error",
                       d.tail(80)), pytrace=False)


@pytest.fixture
def start_daemon(rollcalld_bin, tmp_path):
    """Factory: start_daemon(conninfo, extra_args=(), env=None) -> a Daemon
    of the test's own (env: more environment variables). At the
    end of the test each is sent SIGTERM and must exit 0 with a clean log."""
    started = []

    def _start(conninfo, extra_args=(), env=None):
        d = Daemon(rollcalld_bin, conninfo,
                   tmp_path / ("rollcalld-%d.log" % len(started)),
                   extra_args, env)
        started.append(d)
        return d.start()

    yield _start
    errors = []
    for d in started:
        try:
            d.stop_and_check()
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n\n".join(errors)


@pytest.fixture
def new_cluster(rollcalld_bin):
    """Factory: a migrated PostgreSQL cluster of the test's own."""
    made = []

    def _make():
        c = PgCluster(prefix="rollcall-it-own-")
        made.append(c)
        c.start()
        migrate(rollcalld_bin, c.conninfo)
        return c

    yield _make
    for c in made:
        c.destroy()


@pytest.fixture(scope="session")
def issue(api, admin_token):
    """issue(role, events=None, sponsor=None, by=admin) -> the 201 body of
    POST /api/v1/tokens (with "token" and "jti")."""
    def _issue(role, events=None, sponsor=None, by=None, name=None, **extra):
        body = {"role": role, "name": name or support.uniq(role)}
        if events is not None:
            body["events"] = events
        if sponsor is not None:
            body["sponsor"] = sponsor
        body.update(extra)
        r = api("POST", "/api/v1/tokens", body, token=by or admin_token)
        return expect(r, 201)
    return _issue


@pytest.fixture(scope="session")
def create_event(api, admin_token):
    """create_event(body=None, token=admin, status=None) -> event JSON;
    status walks the event there through PATCH."""
    def _create(body=None, token=None, status=None):
        tok = token or admin_token
        ev = expect(api("POST", "/api/v1/events",
                        body if body is not None else meetup(), token=tok),
                    201)
        path = "/api/v1/events/%d" % ev["id"]
        walk = {None: [], "draft": [], "published": ["published"],
                "cancelled": ["cancelled"],
                "finished": ["published", "finished"]}[status]
        for s in walk:
            ev = expect(api("PATCH", path, {"status": s}, token=tok), 200)
        return ev
    return _create


@pytest.fixture(scope="session")
def add_sponsor(pg):
    """Sponsors have no API yet: insert one and return its id."""
    def _add(event_id, name="CloudCo"):
        return int(pg.scalar("INSERT INTO sponsors (event_id, name) VALUES "
                             "(%d, '%s') RETURNING id" % (event_id, name)))
    return _add
