-- 006: e-mail through a transactional outbox.
--
-- Every message is a row of `outbox`, written in the same transaction as
-- the change that causes it: registering (confirmed or waitlisted),
-- promotion from the waitlist, cancellation, an event's time or place
-- changing, the event being cancelled, and the reminder the day before
-- (queued at registration, due then). A row names a registration and an
-- event, never an address: the sender reads the address, the name and the
-- event as they are when it sends, so an erased attendee gets nothing and
-- a changed event is described as it now is.
--
-- Senders (one worker thread per server process, each on its own
-- connection) claim due rows with FOR UPDATE SKIP LOCKED and a lease
-- (claimed_until), so several processes share the outbox without sending
-- one row twice; a sender that dies leaves its lease to run out and the
-- row is sent by the next one. After each attempt rc_outbox_done() marks
-- the row sent, or schedules a retry with back-off keeping the reason,
-- or gives up (a permanent refusal, or three days of trying) keeping the
-- reason.
--
-- The manage secret exists in clear only in the request that made it
-- (registrations keep its SHA-256). A message that must carry the manage
-- link carries the secret sealed (crypto_secretbox, key `mail_secretbox`
-- in `secrets`, nonce first) in secret_sealed; the column is wiped as soon
-- as the row is sent, given up or skipped.

ALTER TABLE registrations ADD COLUMN lang text NOT NULL DEFAULT 'en'
    CHECK (lang IN ('en', 'zh-CN'));

CREATE TABLE outbox (
	id		bigserial PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('confirmed', 'waitlisted',
	    'promoted', 'cancelled', 'event_changed', 'event_cancelled',
	    'reminder', 'resend')),
	registration_id	bigint NOT NULL REFERENCES registrations,
	event_id	bigint NOT NULL REFERENCES events,
	secret_sealed	bytea,
	detail		jsonb NOT NULL DEFAULT '{}',
	state		text NOT NULL DEFAULT 'queued'
	    CHECK (state IN ('queued', 'sent', 'failed', 'skipped')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	due_at		timestamptz NOT NULL DEFAULT now(),
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	claimed_until	timestamptz,
	attempts	integer NOT NULL DEFAULT 0,
	last_error	text,
	finished_at	timestamptz,
	CHECK (state = 'queued' OR secret_sealed IS NULL)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id)
    WHERE state = 'queued';
CREATE INDEX outbox_registration ON outbox (registration_id)
    WHERE state = 'queued';
CREATE INDEX outbox_resend ON outbox (registration_id, created_at)
    WHERE kind = 'resend';
