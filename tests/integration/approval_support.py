"""Helpers for the approval tests (docs/approval.md).

The committee's approval switches on, in the default `approval = auto`,
as soon as a committee token or account is live in the database; the
shared test database must never see one, or every later test whose
organizer publishes would get 409 approval_required. So these tests run
on a cluster of their own (`World`), with a committee token from the
start, and a daemon that believes X-Forwarded-For from 127.0.0.1 so each
test can be its own client address (the applications' rate limit).
"""
import itertools
import json
import uuid

import support
from support import Daemon, PgCluster, cli_token, expect, migrate

_addr = itertools.count(1)


def fresh_addr():
    """A client address no other test used (for X-Forwarded-For)."""
    n = next(_addr)
    return "10.%d.%d.%d" % (n // 65536 % 256, n // 256 % 256, n % 256)


def write_config(path, approval=None):
    """A config file for `serve --config`: trusted proxies, the switch."""
    lines = ["trusted_proxies = 127.0.0.1"]
    if approval is not None:
        lines.append("approval = %s" % approval)
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def q(s):
    return "'" + str(s).replace("'", "''") + "'"


class World:
    """A cluster of its own with a committee, a leader of one chapter and
    a daemon; start() and stop() around a module."""

    def __init__(self, binary, tmp):
        self.binary, self.tmp = binary, tmp
        self.pg = PgCluster(prefix="rollcall-it-approval-")
        self.daemons = []

    def start(self):
        self.pg.start()
        migrate(self.binary, self.pg.conninfo)
        self.d = self.daemon()
        self.admin = self.token("admin")
        self.committee = self.token("committee")
        self.committee2 = self.token("committee")
        self.chapter, self.slug = self.new_chapter()
        self.leader = self.leader_token(self.chapter)
        self.other_chapter, self.other_slug = self.new_chapter()
        return self

    def daemon(self, approval=None):
        n = len(self.daemons)
        conf = write_config(self.tmp / ("rollcall-%d.conf" % n), approval)
        d = Daemon(self.binary, self.pg.conninfo,
                   self.tmp / ("rollcalld-%d.log" % n), ["--config", conf])
        self.daemons.append(d)
        return d.start()

    def stop(self):
        errors = []
        for d in self.daemons:
            try:
                d.stop_and_check()
            except AssertionError as e:
                errors.append(str(e))
        self.pg.destroy()
        assert not errors, "\n\n".join(errors)

    def token(self, role, *extra):
        return cli_token(self.binary, self.pg.conninfo, role,
                         support.uniq(role), *extra)

    def new_chapter(self):
        slug = support.uniq("ch").lower()
        cid = int(self.pg.scalar(
            "INSERT INTO chapters (slug, name, kind, city, status) VALUES "
            "(%s, %s, 'city', %s, 'active') RETURNING id"
            % (q(slug), q(slug.upper()), q(slug))))
        return cid, slug

    def leader_token(self, chapter_id, role="leader"):
        return self.token(role, "--chapter", self.pg.scalar(
            "SELECT slug FROM chapters WHERE id = %d" % chapter_id))

    def api(self, method, path, body=None, token=None, d=None, **kw):
        return (d or self.d).api(method, path, body, token=token, **kw)

    def event(self, token=None, status=None, **over):
        """A meetup of the leader's chapter (by its token unless given),
        walked to status by the calls a user makes."""
        body = support.meetup(chapter=self.slug)
        body.update(over)
        body = {k: v for k, v in body.items() if v is not support.DROP}
        tok = token or self.leader
        ev = expect(self.api("POST", "/api/v1/events", body, token=tok), 201)
        path = "/api/v1/events/%d" % ev["id"]
        if status in ("proposed", "approved", "published"):
            ev = expect(self.api("POST", path + "/proposal", {}, token=tok),
                        200)
        if status in ("approved", "published"):
            ev = expect(self.api("POST", path + "/decision",
                                 {"decision": "approve"},
                                 token=self.committee), 200)
        if status == "published":
            ev = expect(self.api("PATCH", path, {"status": "published"},
                                 token=tok), 200)
        return ev

    def status(self, event_id):
        return self.pg.scalar("SELECT status FROM events WHERE id = %d"
                              % event_id)

    def audit(self, event_id, like="event.%"):
        """(action, actor, detail) of an event's audit rows, oldest first."""
        rows = self.pg.psql(
            "SELECT action, actor, detail::text FROM audit_log WHERE "
            "event_id = %d AND action LIKE %s ORDER BY id"
            % (event_id, q(like)))
        return [(a, b, json.loads(c)) for a, b, c in rows]

    def jti(self, token):
        return support.jwt_claims(token)["jti"]


def application(**over):
    """A complete leader application for an existing chapter or a new one
    (pass chapter=SLUG or new_chapter={...})."""
    body = {
        "name": "Wang Fang", "email": "%s@example.com" % uuid.uuid4().hex[:12],
        "phone": "+86 138 0013 8000", "wechat": "wangfang_dev",
        "occupation": "Engineer", "company": "Acme Cloud",
        "job_title": "Senior developer",
        "background": "Five years of serverless on AWS: Lambda, DynamoDB.",
        "experience": "Spoke at two meetups; ran a study group of 30.",
        "motivation": "Grow the city's developer community; four meetups "
                      "in my first year.",
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not support.DROP}
