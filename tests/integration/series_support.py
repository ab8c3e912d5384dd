"""Helpers for the NightTalk series tests (series sign-up, attendance, the
series report, topic votes): published series, staff tokens of a chapter,
and moving an episode's time so its join link opens."""
import re
import urllib.parse

import support
from community_support import make_chapter
from support import expect, series, uniq


def published_series(api, token, pg=None, **over):
    """A series whose episodes are all published; returns its JSON with
    "events" as published."""
    if "chapter" not in over:
        over["chapter"] = (make_chapter(pg, kind="topic")[1] if pg is not None
                           else "rust")
    s = expect(api("POST", "/api/v1/series", series(**over), token=token),
               201)
    s["events"] = [expect(api("PATCH", "/api/v1/events/%d" % e["id"],
                              {"status": "published"}, token=token), 200)
                   for e in s["events"]]
    return s


def chapter_token(rollcalld_bin, pg, role, chapter_ids):
    """A token of a chapter role (leader, track_owner) for these chapters;
    the chapters part makes them with `rollcalld token --chapter`."""
    args = []
    for c in chapter_ids:
        args += ["--chapter", pg.scalar("SELECT slug FROM chapters WHERE "
                                        "id = %d" % int(c))]
    return support.cli_token(rollcalld_bin, pg.conninfo, role, uniq(role),
                             *args)


def chapter_id(pg, slug):
    return int(pg.scalar("SELECT id FROM chapters WHERE slug = '%s'" % slug))


def open_now(pg, event_id):
    """Move an episode so that it is on now: its join link opens."""
    pg.psql("UPDATE events SET starts_at = now() - interval '5 minutes', "
            "ends_at = now() + interval '55 minutes' WHERE id = %d"
            % event_id)


def move_past(pg, event_id):
    """Move an episode into the past (started two days ago)."""
    pg.psql("UPDATE events SET starts_at = now() - interval '2 days', "
            "ends_at = now() - interval '2 days' + interval '1 hour' "
            "WHERE id = %d" % event_id)


def join(api, join_url):
    """Open a personal join link as the attendee's browser would."""
    path = urllib.parse.urlsplit(join_url).path
    r = api("GET", path)
    assert r.status == 302, "the join link %s should redirect to the " \
        "stream: %r" % (path, r)
    return r


def signup(api, secret, series_id, body=None):
    return api("POST", "/api/v1/member/%s/series/%d" % (secret, series_id),
               body if body is not None else {})


def states(answer):
    """{event_id: state} of a sign-up's answer."""
    return {e["event_id"]: e["state"] for e in answer["episodes"]}


class Browser:
    """Cookies and form posts, enough for server-rendered pages."""

    def __init__(self, d, lang=None):
        self.d, self.cookies, self.lang = d, {}, lang

    def _headers(self, extra=None):
        h = {}
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in
                                    self.cookies.items())
        if self.lang:
            h["Accept-Language"] = self.lang
        h.update(extra or {})
        return h

    def _keep(self, r):
        for v in r.headers.get_all("Set-Cookie") or []:
            k, _, rest = v.partition("=")
            self.cookies[k] = rest.split(";")[0]
        return r

    def get(self, path, headers=None):
        return self._keep(self.d.api("GET", path,
                                     headers=self._headers(headers)))

    def post(self, path, fields, headers=None):
        raw = urllib.parse.urlencode(fields).encode()
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        return self._keep(self.d.api("POST", path, raw=raw,
                                     headers=self._headers(h)))


def csrf_of(r):
    m = re.search(rb'name="csrf" value="([^"]+)"', r.raw)
    assert m, "no CSRF field in the form: %r" % r.raw[:300]
    return m.group(1).decode()
