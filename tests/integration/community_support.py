"""Shared helpers for the community tests (COMMUNITY.md).

Members and chapters made straight in the database, for the tests of the
parts that only need one to exist (votes, points, volunteers). The tests
of joining and of the chapters API make theirs through the API.
"""
import base64
import hashlib
import os

import support


def new_secret():
    """A 43-character URL-safe secret, as the server makes them."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def _q(s):
    return "'" + str(s).replace("'", "''") + "'"


def make_member(pg, email=None, name="Test Member", identity="professional",
                joined="now()"):
    """A confirmed member; returns (person_id, secret) where secret opens
    /member/{secret} and /api/v1/member/{secret}/..."""
    email = email or support.uniq("m") + "@example.com"
    secret = new_secret()
    key = hashlib.sha256(secret.encode()).hexdigest()
    pid = int(pg.scalar(
        "WITH p AS (INSERT INTO persons (email, name, identity) VALUES "
        "(%s, %s, %s) RETURNING id), m AS (INSERT INTO members (person_id,"
        " joined_at, key_hash) SELECT id, %s, decode(%s, 'hex') FROM p) "
        "SELECT id FROM p" % (_q(email), _q(name),
                              "NULL" if identity is None else _q(identity),
                              joined, _q(key))))
    return pid, secret


def make_chapter(pg, slug=None, kind="city", status="active", name=None):
    """A chapter; returns (id, slug)."""
    slug = slug or support.uniq("ch").lower().replace("_", "-")
    cid = int(pg.scalar(
        "INSERT INTO chapters (slug, name, kind, city, topic, status) "
        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id" % (
            _q(slug), _q(name or slug), _q(kind),
            _q(slug) if kind == "city" else "NULL",
            _q(slug) if kind == "topic" else "NULL", _q(status))))
    return cid, slug
