-- 004: sponsors' leads by consent, exports, the audit trail, erasure.
--
-- A lead row holds no personal data: only which sponsor scanned which
-- registration, when, and the sponsor's own note and rating. What a
-- sponsor sees of the person is computed at read time from the
-- registration's *current* consent, so withdrawing consent (or erasing)
-- hides the person from every sponsor's leads and exports at once.

CREATE TABLE leads (
	id		bigserial PRIMARY KEY,
	sponsor_id	bigint NOT NULL REFERENCES sponsors,
	registration_id	bigint NOT NULL REFERENCES registrations,
	note		text,
	rating		integer CHECK (rating BETWEEN 1 AND 5),
	captured_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	captured_by	text NOT NULL,
	UNIQUE (sponsor_id, registration_id)
);

-- Scans of attendees who did not consent: a number, nothing else.
CREATE TABLE sponsor_scan_counts (
	sponsor_id	bigint PRIMARY KEY REFERENCES sponsors,
	no_consent	bigint NOT NULL DEFAULT 0
);

ALTER TABLE registrations ADD COLUMN erased_at timestamptz;
-- An erased registration has no e-mail at all (NULL also keeps it out of
-- the one-per-e-mail index, where several erased rows would collide).
ALTER TABLE registrations ALTER COLUMN email DROP NOT NULL;
