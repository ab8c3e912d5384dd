-- 027: volunteers and certificates (COMMUNITY.md section 6; issue 18
-- items 4 and 5). The functions are in sql/functions/volunteer.sql and
-- sql/functions/certificate.sql; docs/certificates.md has the decisions.

-- A person's sign-up to volunteer at one event. Attendance recorded by
-- staff is attended_at; a check-in (or an online join) of the person's
-- own registration for the event also counts, read by a join when asked
-- (rc_volunteer_checked_in), never copied here. Erasing the person
-- deletes the row.
CREATE TABLE volunteers (
	id		bigserial PRIMARY KEY,
	event_id	bigint NOT NULL REFERENCES events,
	person_id	bigint NOT NULL REFERENCES persons ON DELETE CASCADE,
	name		text NOT NULL,
	skills		text[] NOT NULL CHECK (cardinality(skills) BETWEEN 1 AND 4
	    AND skills <@ ARRAY['design', 'operations', 'organizing',
	        'hosting']),
	note		text,
	status		text NOT NULL DEFAULT 'pending'
	    CHECK (status IN ('pending', 'approved', 'declined')),
	comment		text,		-- the leader's, with the decision
	decided_at	timestamptz,
	decided_by	text,
	attended_at	timestamptz,
	attended_by	text,
	outstanding_at	timestamptz,	-- flagged by the leader after the event
	outstanding_by	text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (event_id, person_id),
	CHECK (outstanding_at IS NULL OR status = 'approved')
);
CREATE INDEX volunteers_person ON volunteers (person_id);

-- A certificate: a random public code (printed, in the QR), what it is
-- for (an event, a series or a year), the name printed on it and who
-- issued it. Revocation keeps the row. When the person is erased
-- (DELETE FROM persons) the trigger of certificate.sql revokes it and
-- blanks the name before person_id is set NULL here, so the counts of
-- what was issued stay and nothing personal does.
CREATE TABLE certificates (
	id		bigserial PRIMARY KEY,
	code		text NOT NULL UNIQUE
	    CHECK (code ~ '^[A-Za-z0-9_-]{24}$'),
	kind		text NOT NULL CHECK (kind IN ('volunteer',
	    'outstanding_volunteer', 'speaker', 'series_completion', 'mva')),
	person_id	bigint REFERENCES persons ON DELETE SET NULL,
	holder_name	text,
	lang		text NOT NULL CHECK (lang IN ('en', 'zh-CN')),
	event_id	bigint REFERENCES events,
	series_id	bigint REFERENCES series,
	year		integer CHECK (year BETWEEN 2000 AND 2100),
	chapter_id	bigint REFERENCES chapters,	-- the issuer; NULL: the
							-- community itself
	issued_at	timestamptz NOT NULL DEFAULT now(),
	issued_by	text NOT NULL,
	revoked_at	timestamptz,
	revoked_by	text,
	revoke_reason	text,
	erased_at	timestamptz,
	CHECK (CASE kind
	    WHEN 'series_completion' THEN series_id IS NOT NULL
	        AND event_id IS NULL AND year IS NULL
	    WHEN 'mva' THEN year IS NOT NULL AND event_id IS NULL
	        AND series_id IS NULL
	    ELSE event_id IS NOT NULL AND series_id IS NULL AND year IS NULL
	    END),
	CHECK ((erased_at IS NULL) = (holder_name IS NOT NULL)),
	CHECK (erased_at IS NULL OR revoked_at IS NOT NULL)
);
-- One certificate in force per person, kind and subject.
CREATE UNIQUE INDEX certificates_one_live ON certificates (kind, person_id,
    coalesce(event_id, 0), coalesce(series_id, 0), coalesce(year, 0))
    WHERE revoked_at IS NULL;
CREATE INDEX certificates_person ON certificates (person_id)
    WHERE person_id IS NOT NULL;
CREATE INDEX certificates_event ON certificates (event_id)
    WHERE event_id IS NOT NULL;
CREATE INDEX certificates_series ON certificates (series_id)
    WHERE series_id IS NOT NULL;
