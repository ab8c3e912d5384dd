-- 029: the reminder a day before an event is queued then, by the
-- scheduled job (rc_reminders_queue, run with the no-show job), instead
-- of an outbox row written for every registration the moment it
-- registers (a tenth of what registering wrote; docs/mail.md,
-- docs/performance.md "fourth pass").
--
-- registrations.remind: a reminder is wanted (the event was more than a
-- day away when it registered); remind_sealed: the manage secret sealed
-- for that mail (as the outbox row held it), wiped when the reminder is
-- queued, the registration cancelled or erased, the event cancelled.
-- events.reminded_at: when the job queued the event's reminders (or
-- decided there were none: it moved to within a day first).
--
-- Registrations from before this keep the reminder rows they have
-- (remind false), which go out and follow the event as before.
ALTER TABLE registrations ADD COLUMN remind boolean NOT NULL DEFAULT false;
ALTER TABLE registrations ADD COLUMN remind_sealed bytea;
ALTER TABLE events ADD COLUMN reminded_at timestamptz;
