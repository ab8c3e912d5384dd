-- 019: mail to a staff account: the console's password reset and its
-- invitations. Such an outbox row names an account instead of a
-- registration and an event; a registration's rows keep naming both, as
-- before. The link the message carries is the account's one-time link
-- (account_links), sealed in secret_sealed as a manage secret is.
ALTER TABLE outbox ALTER COLUMN registration_id DROP NOT NULL,
    ALTER COLUMN event_id DROP NOT NULL,
    ADD COLUMN account_id bigint REFERENCES accounts ON DELETE CASCADE;
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check,
    ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('confirmed',
	'waitlisted', 'promoted', 'cancelled', 'event_changed',
	'event_cancelled', 'reminder', 'resend', 'reconfirm', 'released',
	'account_reset', 'account_invite'));
ALTER TABLE outbox ADD CONSTRAINT outbox_recipient CHECK (
    CASE WHEN kind IN ('account_reset', 'account_invite')
        THEN account_id IS NOT NULL AND registration_id IS NULL
            AND event_id IS NULL
        ELSE account_id IS NULL AND registration_id IS NOT NULL
            AND event_id IS NOT NULL END);
CREATE INDEX outbox_account ON outbox (account_id, created_at)
    WHERE account_id IS NOT NULL;
