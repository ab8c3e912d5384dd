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


def test_demo_seed_shows_the_community(new_cluster, start_daemon):
    c = new_cluster()
    r = subprocess.run(["psql", "-X", "-q", "-d", c.conninfo, "-f",
                        str(REPO / "deploy/dev/demo.sql")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    d = start_daemon(c.conninfo)
    chapters = {ch["slug"]: ch for ch in
                expect(d.api("GET", "/api/v1/chapters"), 200)["chapters"]}
    assert {"shanghai", "beijing", "serverless"} <= set(chapters), \
        "the demo's chapters: %r" % sorted(chapters)
    topics = expect(d.api("GET", "/api/v1/topics?chapter=serverless"), 200)
    assert len(topics["chapter"]["topics"]) == 2, topics
    benefits = expect(d.api("GET", "/api/v1/benefits"), 200)["benefits"]
    assert len(benefits) == 2, benefits
    n = int(c.scalar("SELECT count(*) FROM members"))
    assert n == 6, "the demo should have 6 members for the reports, has %d" % n
