-- 023: the committee decides (COMMUNITY.md section 3, section 2's leader
-- applications): event proposals, sponsorships, leader applications.
--
-- Events move draft -> proposed -> approved -> published -> finished, and
-- to cancelled from any state before finished; a rejected proposal goes
-- back to draft with the committee's comment, kept in event_proposals. A
-- draft may lack a date, a venue and a capacity: what publishing needs is
-- checked by rc_event_check once an event is proposed or later.

ALTER TABLE events DROP CONSTRAINT events_status_check;
ALTER TABLE events ADD CONSTRAINT events_status_check CHECK (status IN (
    'draft', 'proposed', 'approved', 'published', 'cancelled', 'finished'));
ALTER TABLE events ALTER COLUMN starts_at DROP NOT NULL;
ALTER TABLE events ALTER COLUMN ends_at DROP NOT NULL;
ALTER TABLE events ADD CONSTRAINT events_dated CHECK (
    (starts_at IS NULL) = (ends_at IS NULL)
    AND (starts_at IS NOT NULL OR status IN ('draft', 'cancelled')));

-- Every submission of an event and what the committee made of it. At
-- most one is open (undecided) per event: two submissions racing on one
-- draft cannot both stand.
CREATE TABLE event_proposals (
	id		bigserial PRIMARY KEY,
	event_id	bigint NOT NULL REFERENCES events,
	submitted_by	text NOT NULL,
	submitted_at	timestamptz NOT NULL DEFAULT now(),
	decision	text CHECK (decision IN ('approved', 'rejected',
			    'withdrawn')),
	comment		text,
	decided_by	text,
	decided_at	timestamptz,
	CHECK ((decision IS NULL) = (decided_at IS NULL))
);
CREATE UNIQUE INDEX event_proposals_open ON event_proposals (event_id)
    WHERE decision IS NULL;
CREATE INDEX event_proposals_event ON event_proposals (event_id, id);

-- A sponsorship: an organisation supporting one event or several with
-- the benefits agreed, proposed by staff and decided by the committee.
-- Each event it covers has its sponsors row (the booth, its leads and
-- tokens), pointing here; only an approved sponsorship shows the sponsor
-- on the event's page and consent text and gives it booth devices.
CREATE TABLE sponsorships (
	id		bigserial PRIMARY KEY,
	name		text NOT NULL,
	benefits	text NOT NULL DEFAULT '',
	status		text NOT NULL DEFAULT 'proposed'
	    CHECK (status IN ('proposed', 'approved', 'rejected')),
	comment		text,
	proposed_by	text NOT NULL,
	proposed_at	timestamptz NOT NULL DEFAULT now(),
	decided_by	text,
	decided_at	timestamptz
);
CREATE INDEX sponsorships_proposed ON sponsorships (proposed_at)
    WHERE status = 'proposed';
ALTER TABLE sponsors ADD COLUMN sponsorship_id bigint
    REFERENCES sponsorships;
CREATE INDEX sponsors_sponsorship ON sponsors (sponsorship_id);

-- The sponsors of before were attached without a decision: they keep
-- what they had, as approved sponsorships of their one event.
INSERT INTO sponsorships (id, name, status, comment, proposed_by,
    proposed_at, decided_by, decided_at)
SELECT id, name, 'approved', 'approved when sponsorships began',
    'migration', created_at, 'migration', now()
FROM sponsors;
UPDATE sponsors SET sponsorship_id = id;
SELECT setval(pg_get_serial_sequence('sponsorships', 'id'),
    coalesce(max(id), 0) + 1, false) FROM sponsorships;

-- Whether a committee member is live: looked up on every publish.
CREATE INDEX tokens_committee ON tokens (expires_at)
    WHERE role = 'committee' AND revoked_at IS NULL;

-- Leader applications (UGL申请): the handbook's fields, for an existing
-- chapter or a proposed new city or topic. Personal data: only the
-- committee reads them, and they go with the person (ON DELETE CASCADE).
CREATE TABLE leader_applications (
	id		bigserial PRIMARY KEY,
	person_id	bigint NOT NULL REFERENCES persons ON DELETE CASCADE,
	name		text NOT NULL,
	email		text NOT NULL,
	phone		text,
	wechat		text,
	occupation	text,
	company		text,
	job_title	text,
	background	text NOT NULL,
	experience	text NOT NULL,
	motivation	text NOT NULL,
	chapter_id	bigint REFERENCES chapters,
	new_kind	text CHECK (new_kind IN ('city', 'topic')),
	new_name	text,
	lang		text NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'zh-CN')),
	status		text NOT NULL DEFAULT 'submitted'
	    CHECK (status IN ('submitted', 'approved', 'rejected')),
	role		text CHECK (role IN ('lead', 'co_lead')),
	comment		text,
	decided_by	text,
	decided_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (chapter_id IS NOT NULL OR new_name IS NOT NULL),
	CHECK ((new_name IS NULL) = (new_kind IS NULL))
);
CREATE INDEX leader_applications_status ON leader_applications (status, id);
CREATE INDEX leader_applications_person ON leader_applications (person_id);

-- The committee's interview notes on an application.
CREATE TABLE application_notes (
	id		bigserial PRIMARY KEY,
	application_id	bigint NOT NULL REFERENCES leader_applications
	    ON DELETE CASCADE,
	author		text NOT NULL,
	body		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX application_notes_application ON application_notes
    (application_id, id);

-- The signatures change: the caller's approval (server/config.c,
-- config_approval_for) and a sponsor's agreed benefits.
DROP FUNCTION IF EXISTS rc_event_update(bigint, jsonb, text);
DROP FUNCTION IF EXISTS rc_sponsor_create(bigint, text, text);
