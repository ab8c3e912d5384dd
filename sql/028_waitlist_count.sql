-- 028: the waitlist's length kept on the event's row, beside confirmed
-- (docs/performance.md, "Third pass"). A new registration's place on the
-- waitlist was a count of the whole waitlist, once per group under the
-- event's row lock: 1 ms a group at 2,000 waiting, 30 ms at 200,000.
-- rc_register_group adds those it waitlists; the trigger
-- registrations_waitlist_count (sql/functions/registration.sql) takes
-- off each that leaves. rc_waitlist_recount, which `rollcalld migrate`
-- runs after the functions, fills it in here and after every upgrade.
ALTER TABLE events ADD COLUMN waitlisted integer NOT NULL DEFAULT 0;
