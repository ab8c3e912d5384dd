"""Operations: /healthz, /metrics, HEAD, migrations, many clients."""
import re
import threading

import pytest

from support import expect, forge, meetup, migrate, raw_exchange, run_cli

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def scrape(api):
    r = api("GET", "/metrics")
    assert r.status == 200, "GET /metrics: %r" % r
    ct = r.headers.get("Content-Type", "")
    assert ct.startswith("text/plain"), \
        "Prometheus text wants text/plain, got %r" % ct
    samples, types = {}, {}
    for line in r.raw.decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a Prometheus sample line: %r" % line
        labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"',
                                         m.group(2) or "")))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def test_healthz_reports_the_database_ok(api):
    r = api("GET", "/healthz")
    j = expect(r, 200)
    assert j.get("status") == "ok" and j.get("database") == "ok", j
    assert r.headers.get("Content-Type", "").startswith("application/json")


def test_metrics_count_requests_by_route_and_status(api, admin_token):
    before, types = scrape(api)
    expect(api("GET", "/healthz"), 200)
    expect(api("GET", "/healthz"), 200)
    expect(api("GET", "/api/v1/events?kind=bogus"), 400)
    expect(api("GET", "/no/such/page"), 404)
    expect(api("POST", "/api/v1/events", {}), 401)
    after, types = scrape(api)

    assert types.get("rollcall_http_requests_total") == "counter", types

    def delta(**labels):
        b = value(before, "rollcall_http_requests_total", **labels) or 0
        a = value(after, "rollcall_http_requests_total", **labels)
        assert a is not None, ("no rollcall_http_requests_total%r after the "
                               "requests; have %r" % (labels, sorted(
                                   k for k in after if "requests" in k[0])))
        return a - b

    assert delta(route="healthz", status="200") == 2
    assert delta(route="events_list", status="400") == 1
    assert delta(route="events_create", status="401") == 1
    not_found = [k for k in after if k[0] == "rollcall_http_requests_total"
                 and ("status", "404") in k[1]]
    assert not_found, "a 404 for an unknown path is not counted"


def test_metrics_have_a_duration_histogram(api):
    expect(api("GET", "/healthz"), 200)
    s, types = scrape(api)
    name = "rollcall_http_request_duration_seconds"
    assert types.get(name) == "histogram", types
    buckets = sorted(((float(dict(k[1])["le"]), v) for k, v in s.items()
                      if k[0] == name + "_bucket" and
                      dict(k[1]).get("route") == "healthz"),
                     key=lambda b: b[0])
    assert len(buckets) >= 2 and buckets[-1][0] == float("inf"), buckets
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "buckets must be cumulative: %r" % buckets
    total = value(s, name + "_count", route="healthz")
    assert total is not None and total == buckets[-1][1] >= 1, (total,
                                                                buckets)
    assert (value(s, name + "_sum", route="healthz") or -1) >= 0


def test_metrics_show_the_database_pool_and_errors(api):
    s, types = scrape(api)
    pool = {dict(k[1]).get("state"): v for k, v in s.items()
            if k[0] == "rollcall_db_pool_connections"}
    assert pool, "no rollcall_db_pool_connections samples"
    assert sum(pool.values()) >= 1, \
        "the pool should have a live connection: %r" % pool
    assert types.get("rollcall_db_pool_connections") == "gauge", types
    errs = value(s, "rollcall_db_errors_total")
    assert errs is not None and errs >= 0, "no rollcall_db_errors_total"
    assert types.get("rollcall_db_errors_total") == "counter", types


def test_head_answers_headers_only(server):
    """RFC 9110 §9.3.2: a HEAD response has no content. A body would be read
    as the start of the next response on a kept-alive connection."""
    out = raw_exchange(server.port,
                       b"HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                       b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
                       b"Connection: close\r\n\r\n")
    head, sep, rest = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), out
    assert rest.startswith(b"HTTP/1.1 200"), (
        "after the HEAD response's headers the next response must start; "
        "got %r" % rest[:200])


def test_security_headers_on_every_answer(api):
    for r in (api("GET", "/healthz"), api("GET", "/api/v1/events"),
              api("GET", "/nope")):
        assert r.headers.get("X-Content-Type-Options") == "nosniff", r
        assert "no-store" in r.headers.get("Cache-Control", ""), r


def test_migrate_is_idempotent(rollcalld_bin, pg):
    before = pg.psql("SELECT version, applied_at FROM schema_migrations "
                     "ORDER BY version")
    assert before, "schema_migrations is empty"
    migrate(rollcalld_bin, pg.conninfo)
    assert pg.psql("SELECT version, applied_at FROM schema_migrations "
                   "ORDER BY version") == before


def test_many_concurrent_clients_are_all_answered(server, admin_token):
    results = []
    lock = threading.Lock()

    def worker(i):
        try:
            if i % 3 == 0:
                r = server.api("GET", "/api/v1/events")
            elif i % 3 == 1:
                r = server.api("GET", "/healthz")
            else:
                r = server.api("POST", "/api/v1/events", raw=b"{",
                               token=admin_token)
            out = r.status
        except (OSError, Exception) as e:   # report, do not hide
            out = repr(e)
        with lock:
            results.append((i % 3, out))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(90)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    want = {0: 200, 1: 200, 2: 400}
    bad = [(k, s) for k, s in results if s != want[k]]
    assert len(results) == 90 and not bad, \
        "%d of 90 concurrent requests went wrong: %r" % (len(bad), bad[:10])


@pytest.mark.parametrize("junk", [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # TLS
    b"GET /healthz HTTP/9.9\r\n\r\n",
    b"\r\n\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
    b"POST /api/v1/events HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzzz\r\n",
], ids=["tls-hello", "http-9.9", "blank-lines", "no-path",
        "negative-length", "bad-chunk"])
def test_protocol_junk_does_not_hurt_the_server(server, api, junk):
    out = raw_exchange(server.port, junk, timeout=15, half_close=True)
    if out:
        status = out.split(b" ", 2)[1:2]
        assert status and status[0][:1] == b"4", \
            "protocol junk should get a 4xx or a closed connection: %r" % out
    expect(api("GET", "/healthz"), 200)


@pytest.mark.parametrize("args", [
    [], ["bogus"], ["serve", "--rate-limit", "x"],
    ["serve", "--rate-limit", "-1"], ["serve", "--pool", "0"],
    ["serve", "--pool", "257"], ["serve", "--public-url", "ftp://x"],
    ["serve", "--bogus"], ["serve", "extra"], ["migrate", "extra"],
], ids=lambda a: " ".join(a) or "no-args")
def test_daemon_refuses_bad_arguments_with_status_2(rollcalld_bin, args):
    r = run_cli([rollcalld_bin, *args], timeout=30)
    assert r.returncode == 2, ("rollcalld %s should exit 2, got %d: %r" %
                               (" ".join(args), r.returncode, r.stderr))
    assert r.stderr.strip(), "say what is wrong on stderr"


def test_tokens_and_the_secret_never_reach_the_log(pg, start_daemon,
                                                   admin_token, secret):
    d = start_daemon(pg.conninfo, ["-v"])
    expect(d.api("POST", "/api/v1/events", meetup(), token=admin_token), 201)
    issued = expect(d.api("POST", "/api/v1/tokens",
                          {"role": "admin", "name": "log-check"},
                          token=admin_token), 201)["token"]
    expect(d.api("GET", "/api/v1/events", token=issued), 200)
    forged = forge({"iss": "rollcall", "role": "admin", "jti": "nope",
                    "exp": 4102444800}, secret)
    expect(d.api("GET", "/api/v1/events", token=forged), 401)
    expect(d.api("POST", "/api/v1/events", raw=b"{" + admin_token.encode(),
                 token=admin_token), 400)
    d.stop_and_check()
    log = d.log_text()
    assert "events_create" in log or "POST" in log or "->" in log, \
        "with -v the daemon should log requests; log:\n" + d.tail()
    for what, s in (("an admin token", admin_token),
                    ("an issued token", issued), ("a forged token", forged),
                    ("the HS256 secret (hex)", secret.hex())):
        for part in [s] + [p for p in s.split(".") if len(p) > 20][1:]:
            assert part not in log, "%s appears in the log:\n%s" % (
                what, d.tail())
