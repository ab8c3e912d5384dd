-- 003: ticket keys, tickets, check-in, revocation, offline reconciliation,
-- NightTalk join links.
--
-- A ticket is a JWT (ES256) naming the event, the registration and a jti;
-- the registration row remembers which jti is current. Admission is one
-- conditional UPDATE ... WHERE checked_in_at IS NULL on the registration's
-- row: of any number of simultaneous scans, through any number of server
-- processes, exactly one finds it NULL.

-- Signing keys. The newest unretired key signs; every key verifies.
CREATE TABLE ticket_keys (
	kid		text PRIMARY KEY,
	private_pem	text NOT NULL,
	public_pem	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	retired_at	timestamptz
);
-- At most one signing key at a time, whoever creates it first.
CREATE UNIQUE INDEX ticket_keys_one_signing ON ticket_keys ((true))
    WHERE retired_at IS NULL;

ALTER TABLE registrations
	ADD COLUMN ticket_jti text UNIQUE,
	-- The signing key when the ticket was issued (for the record: a
	-- server signs with its current key, and every key verifies).
	ADD COLUMN ticket_kid text REFERENCES ticket_keys,
	ADD COLUMN ticket_iat bigint,
	ADD COLUMN checkin_gate text,
	ADD COLUMN join_hash bytea UNIQUE,
	ADD COLUMN joined_at timestamptz;

CREATE TABLE revoked_tickets (
	jti		text PRIMARY KEY,
	event_id	bigint NOT NULL REFERENCES events,
	registration_id	bigint NOT NULL REFERENCES registrations,
	reason		text NOT NULL CHECK (reason IN ('cancelled', 'reissued')),
	revoked_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tickets_event ON revoked_tickets (event_id);

-- Every scan, invalid ones included.
CREATE TABLE checkins (
	id		bigserial PRIMARY KEY,
	event_id	bigint,
	registration_id	bigint,
	jti		text,
	verdict		text NOT NULL CHECK (verdict IN ('admitted',
	    'already_checked_in', 'invalid', 'cancelled', 'not_confirmed',
	    'wrong_event', 'conflict')),
	gate		text,
	door_jti	text NOT NULL,
	nonce		text,
	device		text,
	source		text NOT NULL DEFAULT 'online'
	    CHECK (source IN ('online', 'offline')),
	scanned_at	timestamptz NOT NULL DEFAULT now(),
	recorded_at	timestamptz NOT NULL DEFAULT now(),
	result		jsonb NOT NULL
);
CREATE UNIQUE INDEX checkins_nonce ON checkins (door_jti, nonce)
    WHERE nonce IS NOT NULL;
CREATE INDEX checkins_event ON checkins (event_id, scanned_at);

-- A fresh ticket id. It identifies a ticket for revocation and
-- reconciliation; the signature, not the id, makes a ticket unforgeable.
-- A hexadecimal serial keeps it short (8 characters up to 4 billion
-- tickets), and every byte of the ticket costs QR modules.
CREATE SEQUENCE ticket_jti_seq START 65536;
