-- 011: verdicts without names, erasure everywhere, retention.
--
-- checkins.result no longer holds the attendee's name and company (the
-- door reads them from the registration when it answers); strip them
-- from the rows recorded so far. Registrations erased or shredded before
-- now lose what was left beside them: the sponsors' notes and the
-- outbox's error texts and sealed secrets.
UPDATE checkins SET result = result - 'attendee' WHERE result ? 'attendee';
UPDATE leads SET note = NULL
WHERE note IS NOT NULL AND registration_id IN
    (SELECT id FROM registrations WHERE erased_at IS NOT NULL);
UPDATE outbox SET last_error = 'personal data erased', secret_sealed = NULL
WHERE last_error IS NOT NULL AND registration_id IN
    (SELECT id FROM registrations WHERE erased_at IS NOT NULL);

-- Erasure finds a registration's scans; retention finds old error texts.
CREATE INDEX checkins_registration ON checkins (registration_id)
    WHERE registration_id IS NOT NULL;
CREATE INDEX outbox_finished_errors ON outbox (finished_at)
    WHERE last_error IS NOT NULL AND state IN ('sent', 'failed');
