"""Bad input of any kind gets a clear 4xx JSON error and changes nothing
(SPEC §5b, §7)."""
import json

import pytest

from support import assert_error_shape, at, meetup, series


def J(obj):
    return json.dumps(obj).encode()


def with_title(raw_title):
    """A valid meetup body whose title is the given raw bytes."""
    return J(meetup(title="@@T@@")).replace(b'"@@T@@"', raw_title)


EV = "/api/v1/events"
DRAFT = "/api/v1/events/{draft}"
M = meetup()

CASES = [
    # malformed JSON
    ("truncated JSON", "POST", EV, b'{"kind": "meetup",', 400),
    ("not JSON at all", "POST", EV, b"kind=meetup&title=x", 400),
    ("empty body", "POST", EV, b"", 400),
    ("whitespace body", "POST", EV, b"  \n ", 400),
    ("trailing bytes", "POST", EV, J(M) + b" x", 400),
    ("two objects", "POST", EV, J(M) + J(M), 400),
    ("single quotes", "POST", EV, J(M).replace(b'"', b"'"), 400),
    ("comment", "POST", EV, b"/* x */" + J(M), 400),
    # not an object
    ("JSON array", "POST", EV, b"[]", 400),
    ("array holding the event", "POST", EV, J([M]), 400),
    ("JSON string", "POST", EV, b'"meetup"', 400),
    ("JSON number", "POST", EV, b"42", 400),
    ("JSON null", "POST", EV, b"null", 400),
    ("JSON true", "POST", EV, b"true", 400),
    # wrong types
    ("title is a number", "POST", EV, J(meetup(title=5)), 400),
    ("title is null", "POST", EV, J(meetup(title=None)), 400),
    ("kind is a list", "POST", EV, J(meetup(kind=["meetup"])), 400),
    ("capacity is text", "POST", EV, J(meetup(capacity="100")), 400),
    ("capacity is fractional", "POST", EV, J(meetup(capacity=1.5)), 400),
    ("capacity is true", "POST", EV, J(meetup(capacity=True)), 400),
    ("capacity over the maximum", "POST", EV, J(meetup(capacity=1000001)),
     400),
    ("capacity beyond int64", "POST", EV,
     J(meetup(capacity=1)).replace(b'"capacity": 1',
                                   b'"capacity": 99999999999999999999999'),
     400),
    ("capacity 1e400", "POST", EV,
     J(meetup(capacity=1)).replace(b'"capacity": 1', b'"capacity": 1e400'),
     400),
    ("waitlist is text", "POST", EV, J(meetup(waitlist="yes")), 400),
    ("members_only is 1", "POST", EV, J(meetup(members_only=1)), 400),
    ("starts_at is a number", "POST", EV, J(meetup(starts_at=1798000000)),
     400),
    ("description is an object", "POST", EV,
     J(meetup(description={"a": 1})), 400),
    # unknown fields and enum values
    ("unknown field", "POST", EV, J(meetup(colour="red")), 400),
    ("id in the body", "POST", EV, J(meetup(id=1)), 400),
    ("status on create", "POST", EV, J(meetup(status="published")), 400),
    ("confirmed on create", "POST", EV, J(meetup(confirmed=5)), 400),
    ("unknown kind", "POST", EV, J(meetup(kind="party")), 400),
    ("kind in capitals", "POST", EV, J(meetup(kind="Meetup")), 400),
    ("unknown format", "POST", EV, J(meetup(format="lecture")), 400),
    # sizes
    ("title of 201 bytes", "POST", EV, J(meetup(title="x" * 201)), 400),
    ("title of 201 bytes of Chinese", "POST", EV,
     J(meetup(title="\u4e0a" * 67)), 400),
    ("description over 20000 bytes", "POST", EV,
     J(meetup(description="x" * 20001)), 400),
    ("venue over 500 bytes", "POST", EV, J(meetup(venue="x" * 501)), 400),
    ("body of 70 KiB", "POST", EV, J(meetup(description="x" * 70 * 1024)),
     413),
    ("70 KiB of spaces", "POST", EV, b" " * 70 * 1024, 413),
    ("nesting 20000 deep", "POST", EV, b"[" * 20000 + b"]" * 20000, 400),
    # encoding
    ("invalid UTF-8", "POST", EV, with_title(b'"caf\xe9"'), 400),
    ("overlong UTF-8", "POST", EV, with_title(b'"\xc0\xaf"'), 400),
    ("UTF-8 surrogate", "POST", EV, with_title(b'"\xed\xa0\x80"'), 400),
    ("lone surrogate escape", "POST", EV, with_title(b'"\\ud800"'), 400),
    ("raw NUL byte", "POST", EV, with_title(b'"a\x00b"'), 400),
    ("NUL after the object", "POST", EV, J(M) + b"\x00", 400),
    ("\\u0000 escape", "POST", EV, with_title(b'"a\\u0000b"'), 400),
    ("control character", "POST", EV, J(meetup(title="bell\x07")), 400),
    ("escape character", "POST", EV, J(meetup(title="\x1b[31mred")), 400),
    ("duplicate keys", "POST", EV,
     J(M)[:-1] + b', "kind": "community_day"}', 400),
    ("duplicate keys, same value", "POST", EV,
     J(M)[:-1] + b', "title": "%s"}' % M["title"].encode(), 400),
    # timestamps
    ("February 30", "POST", EV,
     J(meetup(starts_at="2026-02-30T10:00:00+08:00")), 400),
    ("no offset", "POST", EV, J(meetup(starts_at=at(30, 14)[:19])), 400),
    ("date only", "POST", EV, J(meetup(starts_at=at(30, 14)[:10])), 400),
    ("hour 24", "POST", EV, J(meetup(starts_at=at(30, 14)[:11] +
                                     "24:00:00+08:00")), 400),
    ("offset +15:00", "POST", EV, J(meetup(starts_at=at(30, 14)[:19] +
                                           "+15:00")), 400),
    ("offset without colon", "POST", EV,
     J(meetup(starts_at=at(30, 14)[:19] + "+0800")), 400),
    ("year 0001", "POST", EV, J(meetup(starts_at="0001-01-01T10:00:00Z")),
     400),
    ("words", "POST", EV, J(meetup(starts_at="next thursday")), 400),
    ("junk after the offset", "POST", EV,
     J(meetup(starts_at=at(30, 14) + "Z")), 400),
    ("registration_opens_at on February 29 2027", "POST", EV,
     J(meetup(registration_opens_at="2027-02-29T10:00:00+08:00")), 400),
    # paths
    ("non-numeric id", "GET", "/api/v1/events/abc", None, 404),
    ("id zero", "GET", "/api/v1/events/0", None, 404),
    ("negative id", "GET", "/api/v1/events/-1", None, 404),
    ("id with a leading zero", "GET", "/api/v1/events/01", None, 404),
    ("id with a plus", "GET", "/api/v1/events/+1", None, 404),
    ("id beyond 2^53", "GET", "/api/v1/events/9007199254740993", None, 404),
    ("id beyond int64", "GET", "/api/v1/events/99999999999999999999999",
     None, 404),
    ("id with a fraction", "GET", "/api/v1/events/1.5", None, 404),
    ("id with an encoded NUL", "GET", "/api/v1/events/1%00", None, 404),
    ("id with an encoded slash", "GET", "/api/v1/events/1%2F2", None, 404),
    ("PATCH a non-numeric id", "PATCH", "/api/v1/events/abc",
     J({"title": "x"}), 404),
    ("PATCH an id that does not exist", "PATCH", "/api/v1/events/987654321",
     J({"title": "x"}), 404),
    ("unknown path", "GET", "/api/v1/nope", None, 404),
    ("unknown top-level path", "GET", "/nope", None, 404),
    ("another API version", "GET", "/api/v2/events", None, 404),
    ("segment after an event", "GET", "/api/v1/events/{draft}/nope", None,
     404),
    ("path of 3000 bytes", "GET", "/api/v1/events/" + "1" * 3000, None, 404),
    ("dot segments", "GET", "/api/v1/../../etc/passwd", None, 404),
    # methods
    ("DELETE the event list", "DELETE", EV, None, 405),
    ("POST to an event", "POST", DRAFT, J(M), 405),
    ("DELETE an event", "DELETE", DRAFT, None, 405),
    ("PUT an event", "PUT", DRAFT, J(M), 405),
    ("GET the token list", "GET", "/api/v1/tokens", None, 405),
    ("PATCH a series", "PATCH", "/api/v1/series", J({"title": "x"}), 405),
    ("POST to healthz", "POST", "/healthz", J({}), 405),
    # edits
    ("PATCH the id", "PATCH", DRAFT, J({"id": 5}), 400),
    ("PATCH the confirmed count", "PATCH", DRAFT, J({"confirmed": 0}), 400),
    ("PATCH the series", "PATCH", DRAFT, J({"series_id": 1}), 400),
    ("PATCH an unknown status", "PATCH", DRAFT, J({"status": "archived"}),
     400),
    ("PATCH status null", "PATCH", DRAFT, J({"status": None}), 400),
    ("PATCH an empty body", "PATCH", DRAFT, b"", 400),
    ("PATCH an array", "PATCH", DRAFT, J([{"title": "x"}]), 400),
    ("PATCH a title of 201 bytes", "PATCH", DRAFT, J({"title": "x" * 201}),
     400),
    ("PATCH a blank title", "PATCH", DRAFT, J({"title": " \t "}), 400),
    ("PATCH 70 KiB", "PATCH", DRAFT, J({"description": "x" * 70 * 1024}),
     413),
    ("PATCH invalid UTF-8", "PATCH", DRAFT, b'{"title": "\xff"}', 400),
    ("PATCH duplicate keys", "PATCH", DRAFT,
     b'{"title": "a", "title": "b"}', 400),
    ("PATCH starts_at February 30", "PATCH", DRAFT,
     J({"starts_at": "2026-02-30T10:00:00+08:00"}), 400),
    # series and tokens
    ("series with 3 episodes", "POST", "/api/v1/series",
     J(series(episodes=3)), 400),
    ("series with 9 episodes", "POST", "/api/v1/series",
     J(series(episodes=9)), 400),
    ("series, truncated JSON", "POST", "/api/v1/series", b'{"title": ', 400),
    ("series, unknown field", "POST", "/api/v1/series",
     J(series(venue="Room 1")), 400),
    ("series starting on February 30", "POST", "/api/v1/series",
     J(series(starts_on="2027-02-30")), 400),
    ("token body is an array", "POST", "/api/v1/tokens", b"[]", 400),
    ("token with an unknown role", "POST", "/api/v1/tokens",
     J({"role": "root", "name": "x"}), 400),
    ("token with a NUL in the name", "POST", "/api/v1/tokens",
     b'{"role": "admin", "name": "a\\u0000b"}', 400),
    ("token of 70 KiB", "POST", "/api/v1/tokens",
     J({"role": "admin", "name": "x" * 70 * 1024}), 413),
    ("revoke a malformed jti", "DELETE", "/api/v1/tokens/a%20b", None, 404),
    # query strings
    ("kind filter bogus", "GET", "/api/v1/events?kind=bogus", None, 400),
    ("chapter filter of invalid UTF-8", "GET", "/api/v1/events?chapter=%FF",
     None, 400),
]


@pytest.fixture(scope="module")
def draft(create_event):
    return create_event()["id"]


@pytest.mark.parametrize("method,path,payload,status",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_4xx_json_error_and_changes_nothing(
        api, admin_token, pg, draft, method, path, payload, status):
    path = path.replace("{draft}", str(draft))
    row = ("SELECT title, status, capacity, starts_at, updated_at FROM events "
           "WHERE id = %d" % draft)
    before = (pg.counts(), pg.psql(row))
    r = api(method, path, raw=payload, token=admin_token,
            headers={"Content-Type": "application/json"})
    assert 400 <= r.status < 500, "bad input must get a 4xx: %r" % r
    assert_error_shape(r)
    assert r.status == status, "expected HTTP %d, got: %r" % (status, r)
    assert (pg.counts(), pg.psql(row)) == before, \
        "a refused request changed the database: %r" % r


def test_anonymous_bad_input_is_refused_before_anything_else(api, pg):
    """Without a token, writes are 401 whatever the body holds."""
    before = pg.counts()
    for raw in (b"{", b"[]", b"\xff", b"x" * 70 * 1024):
        r = api("POST", EV, raw=raw)
        assert r.status in (400, 401, 413), r
        assert_error_shape(r)
    assert pg.counts() == before
