"""The demo `make run` seeds (deploy/dev/demo.sql) applies to a fresh
database and shows what its comments promise: the README's first look."""
import subprocess

from support import REPO, expect


def test_demo_seed_applies_and_is_listed(new_cluster, start_daemon):
    c = new_cluster()
    r = subprocess.run(["psql", "-X", "-q", "-d", c.conninfo, "-f",
                        str(REPO / "deploy/dev/demo.sql")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, ("deploy/dev/demo.sql no longer applies to a "
                               "fresh database, so `make run` fails:\n%s"
                               % r.stderr)
    d = start_daemon(c.conninfo)
    events = expect(d.api("GET", "/api/v1/events"), 200)
    kinds = sorted({e["kind"] for e in events["events"]})
    assert kinds == ["community_day", "meetup"], (
        "the demo should list a meetup and a community day publicly "
        "(the NightTalks are members-only), got kinds %r" % kinds)
