-- The iCalendar SEQUENCE of an event: bumped by rc_event_update on every
-- change, so calendar apps replace the copy they hold (RFC 5546 3.1.4:
-- an update with the same SEQUENCE is ignored).
ALTER TABLE events ADD COLUMN ics_sequence integer NOT NULL DEFAULT 0
    CHECK (ics_sequence >= 0);
