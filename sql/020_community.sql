-- 020: the community (COMMUNITY.md): people and members, chapters with
-- their leaders and members, the new staff roles.
--
-- The tables every part of the community builds on. Later migrations
-- add what each part needs (member links, approvals, reports' goals,
-- series votes, recognition); this one only lays the ground and moves
-- the old free-text chapters into chapter rows.

-- One row per human, by e-mail (case-insensitive).
CREATE TABLE persons (
	id		bigserial PRIMARY KEY,
	email		text NOT NULL,
	name		text NOT NULL DEFAULT '',
	company		text,
	job_title	text,
	city		text,
	lang		text NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'zh-CN')),
	identity	text CHECK (identity IN ('enthusiast', 'professional',
			    'decision_maker', 'partner')),
	listed		boolean NOT NULL DEFAULT false,	-- a public profile
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX persons_email ON persons (lower(email));

-- A person who joined the community by confirming their e-mail.
-- key_hash: SHA-256 of the member's own link secret (the member page,
-- /member/{secret}, and the member API, /api/v1/member/{secret}/...),
-- as a registration's manage secret is kept.
CREATE TABLE members (
	person_id	bigint PRIMARY KEY REFERENCES persons ON DELETE CASCADE,
	joined_at	timestamptz NOT NULL DEFAULT now(),
	key_hash	bytea UNIQUE
);
CREATE INDEX members_joined ON members (joined_at);

CREATE TABLE chapters (
	id		bigserial PRIMARY KEY,
	slug		text NOT NULL UNIQUE
	    CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
	name		text NOT NULL,
	name_zh		text NOT NULL DEFAULT '',
	kind		text NOT NULL DEFAULT 'city'
	    CHECK (kind IN ('city', 'topic')),
	city		text,
	topic		text,
	region		text,
	timezone	text NOT NULL DEFAULT 'Asia/Shanghai',
	status		text NOT NULL DEFAULT 'trial'
	    CHECK (status IN ('trial', 'active', 'retired')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- Who leads a chapter: lead and co-leads (UGL), and track owners (技术出品人).
-- An account whose e-mail is a person here holds the leader (or
-- track_owner) role on these chapters: the row is the grant.
CREATE TABLE chapter_leaders (
	chapter_id	bigint NOT NULL REFERENCES chapters ON DELETE CASCADE,
	person_id	bigint NOT NULL REFERENCES persons ON DELETE CASCADE,
	role		text NOT NULL
	    CHECK (role IN ('lead', 'co_lead', 'track_owner')),
	since		timestamptz NOT NULL DEFAULT now(),
	added_by	text NOT NULL,
	PRIMARY KEY (chapter_id, person_id, role)
);
CREATE INDEX chapter_leaders_person ON chapter_leaders (person_id);

CREATE TABLE chapter_members (
	chapter_id	bigint NOT NULL REFERENCES chapters ON DELETE CASCADE,
	person_id	bigint NOT NULL REFERENCES members ON DELETE CASCADE,
	joined_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (chapter_id, person_id)
);
CREATE INDEX chapter_members_person ON chapter_members (person_id);

-- A registration from a member's e-mail links to them.
ALTER TABLE registrations ADD COLUMN person_id bigint
    REFERENCES persons ON DELETE SET NULL;
CREATE INDEX registrations_person ON registrations (person_id)
    WHERE person_id IS NOT NULL;

-- Every event (and series) belongs to a chapter. The old free text
-- becomes a chapter each: its slug is the text in lower case with runs
-- of other characters as '-' (a text with no Latin letters or digits
-- gets 'chapter-' and a hash).
ALTER TABLE events ADD COLUMN chapter_id bigint REFERENCES chapters;
ALTER TABLE series ADD COLUMN chapter_id bigint REFERENCES chapters;
CREATE INDEX events_chapter ON events (chapter_id, starts_at);

CREATE TEMP TABLE chapter_map ON COMMIT DROP AS
SELECT name, coalesce(nullif(trim(BOTH '-' FROM substr(regexp_replace(
    lower(name), '[^a-z0-9]+', '-', 'g'), 1, 63)), ''),
    'chapter-' || substr(md5(name), 1, 8)) AS slug
FROM (SELECT chapter AS name FROM events
    UNION SELECT chapter FROM series) n;

INSERT INTO chapters (slug, name, kind, city, status)
SELECT DISTINCT ON (slug) slug, name, 'city', name, 'active'
FROM chapter_map ORDER BY slug, name;

UPDATE events e SET chapter_id = c.id
FROM chapter_map m JOIN chapters c ON c.slug = m.slug
WHERE m.name = e.chapter;
UPDATE series s SET chapter_id = c.id
FROM chapter_map m JOIN chapters c ON c.slug = m.slug
WHERE m.name = s.chapter;

-- The new staff roles. A token of a chapter role names its chapters.
ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_role_check CHECK (role IN ('door',
    'sponsor', 'organizer', 'admin', 'committee', 'leader', 'track_owner',
    'infra'));
ALTER TABLE tokens ADD COLUMN chapters bigint[];

-- An account's own role; leader and track_owner also come from
-- chapter_leaders (by the account's e-mail), so one account may hold
-- several roles.
ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check CHECK (role IN (
    'organizer', 'admin', 'committee', 'leader', 'track_owner', 'infra'));

-- rc_session_live now also returns the account's roles and chapters.
DROP FUNCTION IF EXISTS rc_session_live(bytea, integer, integer);

-- A NightTalk series' completion: joined at least this many episodes
-- (COMMUNITY.md section 6; NULL: every episode).
ALTER TABLE series ADD COLUMN completion_threshold integer
    CHECK (completion_threshold > 0);

-- Titles held: MVA of a year (by TUG's rule) and Ambassador (granted by
-- the committee); the history is kept, a revoked title keeps its row.
CREATE TABLE titles (
	id		bigserial PRIMARY KEY,
	person_id	bigint NOT NULL REFERENCES persons ON DELETE CASCADE,
	title		text NOT NULL CHECK (title IN ('mva', 'ambassador')),
	year		integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
	granted_by	text NOT NULL,
	granted_at	timestamptz NOT NULL DEFAULT now(),
	revoked_at	timestamptz,
	UNIQUE (person_id, title, year)
);
