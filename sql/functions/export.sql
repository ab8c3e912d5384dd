-- CSV cells and the organizer's exports; the audit trail.

-- One CSV cell (RFC 4180), neutralised against formula injection: a
-- cell starting with = + - @ (or a tab or CR, which some spreadsheets
-- skip) gets a leading apostrophe.
CREATE OR REPLACE FUNCTION rc_csv(v text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN v IS NULL THEN ''
	    ELSE '"' || replace(CASE WHEN v ~ '^[=+@\t\r-]' THEN '''' || v
	        ELSE v END, '"', '""') || '"' END
$$;

CREATE OR REPLACE FUNCTION rc_csv_time(t timestamptz, tz text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(to_char(t AT TIME ZONE tz, 'YYYY-MM-DD HH24:MI:SS'), '')
$$;

-- The organizer's attendance export (audited): every registration with
-- its status, registration time, check-in time and gate.
CREATE OR REPLACE FUNCTION rc_attendance_csv(p_event bigint, p_actor text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	e events;
	body text;
BEGIN
	SELECT * INTO e FROM events WHERE id = p_event;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	SELECT string_agg(concat_ws(',', r.id::text, rc_csv(r.status),
	    rc_csv(r.name), rc_csv(r.email), rc_csv(r.company),
	    rc_csv(r.job_title), rc_csv(r.identity),
	    rc_csv_time(r.created_at, e.timezone),
	    rc_csv_time(r.checked_in_at, e.timezone), rc_csv(r.checkin_gate),
	    rc_csv_time(r.joined_at, e.timezone)), E'\r\n' ORDER BY r.id)
	INTO body FROM registrations r WHERE r.event_id = p_event;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'export.attendance', p_event, '{}');
	RETURN 'id,status,name,email,company,job_title,identity,registered_at,'
	    'checked_in_at,gate,joined_at' || E'\r\n' ||
	    coalesce(body || E'\r\n', '');
END $$;

-- The audit trail for admins, newest first.
CREATE OR REPLACE FUNCTION rc_audit(p_event bigint, p_limit integer,
    p_offset integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('limit', p_limit, 'offset', p_offset,
	    'entries', coalesce(jsonb_agg(jsonb_build_object('id', a.id,
	        'at', a.at, 'actor', a.actor, 'actor_name', t.name,
	        'action', a.action, 'event_id', a.event_id,
	        'detail', a.detail) ORDER BY a.id DESC), '[]'))
	FROM (SELECT * FROM audit_log
	    WHERE p_event IS NULL OR event_id = p_event
	    ORDER BY id DESC LIMIT p_limit OFFSET p_offset) a
	LEFT JOIN tokens t ON t.jti = a.actor
$$;

-- A local wall time as the spreadsheet exports read it (no offset: the
-- sheet says the event's time zone), or NULL.
CREATE OR REPLACE FUNCTION rc_sheet_time(t timestamptz, tz text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(t AT TIME ZONE tz, 'YYYY-MM-DD"T"HH24:MI:SS')
$$;

-- The attendance export as rows for a spreadsheet (server/xlsx.c), with
-- the same audit entry as rc_attendance_csv: {sheet, timezone, columns:
-- [{name, type?}], rows: [[...]]}; times are the event's local time.
CREATE OR REPLACE FUNCTION rc_attendance_rows(p_event bigint, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e events;
	body jsonb;
BEGIN
	SELECT * INTO e FROM events WHERE id = p_event;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	SELECT coalesce(jsonb_agg(jsonb_build_array(r.id, r.status, r.name,
	    r.email, r.company, r.job_title, r.identity,
	    rc_sheet_time(r.created_at, e.timezone),
	    rc_sheet_time(r.checked_in_at, e.timezone), r.checkin_gate,
	    rc_sheet_time(r.joined_at, e.timezone)) ORDER BY r.id), '[]')
	INTO body FROM registrations r WHERE r.event_id = p_event;
	INSERT INTO audit_log (actor, action, event_id, detail)
	VALUES (p_actor, 'export.attendance', p_event, '{}');
	RETURN jsonb_build_object('sheet', 'Attendance', 'timezone', e.timezone,
	    'columns', jsonb_build_array(jsonb_build_object('name', 'id'),
	        jsonb_build_object('name', 'status'),
	        jsonb_build_object('name', 'name'),
	        jsonb_build_object('name', 'email'),
	        jsonb_build_object('name', 'company'),
	        jsonb_build_object('name', 'job_title'),
	        jsonb_build_object('name', 'identity'),
	        jsonb_build_object('name', 'registered_at', 'type', 'datetime'),
	        jsonb_build_object('name', 'checked_in_at', 'type', 'datetime'),
	        jsonb_build_object('name', 'gate'),
	        jsonb_build_object('name', 'joined_at', 'type', 'datetime')),
	    'rows', body);
END $$;
