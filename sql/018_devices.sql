-- 018: devices from the console: a door or booth device is issued as a
-- provisioning QR holding the server's public URL and a one-time code.
-- The database keeps only the code's SHA-256; the code works once and
-- for DEVICE_CODE_SECS (15 minutes), and is exchanged for a device
-- token (rc_token_issue: a door token scoped to the event, or a sponsor
-- token for the booth) by POST /api/v1/devices/claim.
CREATE TABLE device_codes (
	hash		bytea PRIMARY KEY,
	event_id	bigint NOT NULL REFERENCES events,
	role		text NOT NULL CHECK (role IN ('door', 'sponsor')),
	sponsor_id	bigint REFERENCES sponsors,
	name		text NOT NULL,
	created_by	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	claimed_at	timestamptz,
	jti		text,
	CHECK ((role = 'sponsor') = (sponsor_id IS NOT NULL))
);
CREATE INDEX device_codes_event ON device_codes (event_id);

-- A device's last use is read from what it did (checkins.door_jti,
-- leads.captured_by): no write per scan.
CREATE INDEX IF NOT EXISTS checkins_door_recorded ON checkins (door_jti,
    recorded_at);
CREATE INDEX IF NOT EXISTS leads_captured_by ON leads (captured_by,
    updated_at);
