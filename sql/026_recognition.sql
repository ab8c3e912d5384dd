-- 026: recognition (COMMUNITY.md section 6): contributions and their
-- reviews, the points each kind is worth, the points ledger, the
-- benefits catalogue and redemptions. Titles live in `titles` (020).
--
-- Every row about a person goes with the person (ON DELETE CASCADE), so
-- erasing a person (DELETE FROM persons) removes their contributions,
-- reviews, ledger entries, redemptions and titles. The ledger's
-- append-only trigger (sql/functions/recognition.sql) lets those
-- cascaded deletes through and nothing else.

-- What a contribution of each kind is worth, changed by the committee.
CREATE TABLE contribution_points (
	kind		text PRIMARY KEY CHECK (kind IN ('talk', 'article',
			    'review', 'answer', 'organizing', 'volunteering',
			    'other')),
	points		integer NOT NULL CHECK (points BETWEEN 0 AND 100000),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	updated_by	text NOT NULL DEFAULT 'default'
);
INSERT INTO contribution_points (kind, points) VALUES
	('talk', 50), ('article', 30), ('review', 20), ('answer', 5),
	('organizing', 40), ('volunteering', 20), ('other', 10);

-- A contribution: recorded by staff (status pending), or proposed from
-- a finished event's agenda (status proposed, no person yet: the agenda
-- names a speaker in free text until staff completes the e-mail), then
-- reviewed (approved or declined), or dismissed when it was a proposal.
-- points: what the kind was worth when it was recorded.
CREATE TABLE contributions (
	id		bigserial PRIMARY KEY,
	person_id	bigint REFERENCES persons ON DELETE CASCADE,
	speaker		text,		-- a proposal's name, from the agenda
	kind		text NOT NULL CHECK (kind IN ('talk', 'article',
			    'review', 'answer', 'organizing', 'volunteering',
			    'other')),
	title		text NOT NULL,
	url		text,
	date		date NOT NULL,
	chapter_id	bigint REFERENCES chapters ON DELETE SET NULL,
	event_id	bigint REFERENCES events ON DELETE SET NULL,
	points		integer NOT NULL CHECK (points >= 0),
	status		text NOT NULL CHECK (status IN ('proposed', 'pending',
			    'approved', 'declined', 'dismissed')),
	source		text NOT NULL DEFAULT 'recorded'
			    CHECK (source IN ('recorded', 'agenda')),
	agenda_position	integer,	-- the agenda session it came from
	agenda_speaker	integer,	-- which of the session's speakers
	recorded_by	text,		-- token jti or acct:N
	recorded_at	timestamptz NOT NULL DEFAULT now(),
	reviewed_by	text,
	reviewed_at	timestamptz,
	review_comment	text,
	CHECK (person_id IS NOT NULL OR status IN ('proposed', 'dismissed')),
	CHECK (status = 'proposed' OR status = 'dismissed' OR
	    recorded_by IS NOT NULL),
	CHECK (date BETWEEN DATE '2000-01-01' AND DATE '2100-12-31')
);
CREATE INDEX contributions_person ON contributions (person_id, date);
CREATE INDEX contributions_chapter ON contributions (chapter_id, date);
CREATE INDEX contributions_status ON contributions (status, date);
-- One proposal per speaker of an agenda session, however often the
-- event is finished.
CREATE UNIQUE INDEX contributions_agenda ON contributions (event_id,
    agenda_position, agenda_speaker) WHERE source = 'agenda';

-- Every review, including a later one that changes the verdict.
CREATE TABLE contribution_reviews (
	id		bigserial PRIMARY KEY,
	contribution_id	bigint NOT NULL REFERENCES contributions
			    ON DELETE CASCADE,
	quality		boolean NOT NULL,
	comment		text,
	reviewed_by	text NOT NULL,
	reviewed_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contribution_reviews_of ON contribution_reviews
    (contribution_id);

-- What a member may exchange points for.
CREATE TABLE benefits (
	id		bigserial PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('gift', 'support',
			    'training', 'premium_seat')),
	name		text NOT NULL,
	name_zh		text NOT NULL DEFAULT '',
	description	text,
	price		integer NOT NULL CHECK (price BETWEEN 1 AND 1000000),
	stock		integer CHECK (stock >= 0),	-- NULL: no limit
	event_id	bigint REFERENCES events ON DELETE SET NULL,
	active		boolean NOT NULL DEFAULT true,
	created_by	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- A member's request for a benefit; its price was debited when asked.
CREATE TABLE redemptions (
	id		bigserial PRIMARY KEY,
	person_id	bigint NOT NULL REFERENCES persons ON DELETE CASCADE,
	benefit_id	bigint NOT NULL REFERENCES benefits,
	price		integer NOT NULL CHECK (price > 0),
	status		text NOT NULL DEFAULT 'requested'
			    CHECK (status IN ('requested', 'approved',
			    'rejected', 'fulfilled')),
	requested_at	timestamptz NOT NULL DEFAULT now(),
	decided_by	text,
	decided_at	timestamptz,
	fulfilled_by	text,
	fulfilled_at	timestamptz,
	comment		text
);
CREATE INDEX redemptions_person ON redemptions (person_id, requested_at);
CREATE INDEX redemptions_status ON redemptions (status, requested_at);

-- The points ledger: append-only (a trigger refuses UPDATE, DELETE and
-- TRUNCATE, except the deletes of erasing a person). A balance is the
-- sum of a person's entries and never below zero.
CREATE TABLE points_ledger (
	id		bigserial PRIMARY KEY,
	person_id	bigint NOT NULL REFERENCES persons ON DELETE CASCADE,
	delta		integer NOT NULL CHECK (delta <> 0),
	reason		text NOT NULL CHECK (reason IN ('contribution',
			    'contribution_reversed', 'redemption', 'refund',
			    'correction')),
	note		text,		-- a correction's reason
	contribution_id	bigint REFERENCES contributions ON DELETE CASCADE,
	redemption_id	bigint REFERENCES redemptions ON DELETE CASCADE,
	actor		text NOT NULL,	-- who wrote it: staff, member, rule
	at		timestamptz NOT NULL DEFAULT now(),
	CHECK (reason <> 'correction' OR note IS NOT NULL)
);
CREATE INDEX points_ledger_person ON points_ledger (person_id, id);
CREATE INDEX points_ledger_contribution ON points_ledger (contribution_id)
    WHERE contribution_id IS NOT NULL;
CREATE INDEX points_ledger_redemption ON points_ledger (redemption_id)
    WHERE redemption_id IS NOT NULL;

-- Who revoked a title: 'rule' (an MVA whose third approval was
-- reversed) or the committee's actor; the rule never re-grants a title
-- the committee revoked.
ALTER TABLE titles ADD COLUMN revoked_by text;
CREATE INDEX titles_year ON titles (year, title);
