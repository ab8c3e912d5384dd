-- 007: an event's agenda: sessions with their speakers.
CREATE TABLE sessions (
	event_id	bigint NOT NULL REFERENCES events,
	position	integer NOT NULL,
	title		text NOT NULL,
	speaker		text,
	kind		text CHECK (kind IN ('talk', 'keynote', 'panel',
	    'hands_on', 'lab', 'break')),
	room		text,
	starts_at	timestamptz,
	ends_at		timestamptz,
	PRIMARY KEY (event_id, position),
	CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
);
