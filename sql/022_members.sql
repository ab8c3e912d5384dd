-- 022: joining the community (COMMUNITY.md section 1): a request to join
-- confirmed by an e-mailed one-time link, the member's own link mailed,
-- and a member's registrations with their manage links.
--
-- A join request holds what the joiner typed until the link is used
-- (then it becomes the person and the member, and the request goes) or
-- has expired (rc_member_join removes expired requests). Like a console
-- account's link, the database keeps only the SHA-256 of the link's
-- secret; the message carries the secret sealed in the outbox.
CREATE TABLE join_requests (
	hash		bytea PRIMARY KEY,
	email		text NOT NULL,
	profile		jsonb NOT NULL DEFAULT '{}',	-- name, identity, ...
	lang		text NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'zh-CN')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL
);
CREATE INDEX join_requests_email ON join_requests (lower(email), created_at);
CREATE INDEX join_requests_expires ON join_requests (expires_at);

-- Mail to a join request (member_confirm: the confirmation link) or to
-- a member (member_link: their member link). Such a row names neither a
-- registration nor an account; erasing the person deletes its rows.
ALTER TABLE outbox ADD COLUMN person_id bigint
	REFERENCES persons ON DELETE CASCADE,
    ADD COLUMN join_request bytea
	REFERENCES join_requests ON DELETE CASCADE;
CREATE INDEX outbox_person ON outbox (person_id, created_at)
    WHERE person_id IS NOT NULL;
CREATE INDEX outbox_join_request ON outbox (join_request)
    WHERE join_request IS NOT NULL;
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check,
    ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('confirmed',
	'waitlisted', 'promoted', 'cancelled', 'event_changed',
	'event_cancelled', 'reminder', 'resend', 'reconfirm', 'released',
	'account_reset', 'account_invite', 'member_confirm', 'member_link'));
ALTER TABLE outbox DROP CONSTRAINT outbox_recipient,
    ADD CONSTRAINT outbox_recipient CHECK (
    CASE WHEN kind IN ('account_reset', 'account_invite')
        THEN account_id IS NOT NULL AND registration_id IS NULL
            AND event_id IS NULL AND person_id IS NULL
            AND join_request IS NULL
    WHEN kind = 'member_confirm'
        THEN join_request IS NOT NULL AND registration_id IS NULL
            AND event_id IS NULL AND account_id IS NULL
            AND person_id IS NULL
    WHEN kind = 'member_link'
        THEN person_id IS NOT NULL AND registration_id IS NULL
            AND event_id IS NULL AND account_id IS NULL
            AND join_request IS NULL
    ELSE account_id IS NULL AND registration_id IS NOT NULL
        AND event_id IS NOT NULL AND person_id IS NULL
        AND join_request IS NULL END);

-- A member's registration keeps its manage secret sealed (as the outbox
-- keeps it for a message), so the member page can offer each one's
-- manage link; a registration of no member keeps none. Erasure wipes it.
ALTER TABLE registrations ADD COLUMN manage_sealed bytea;
