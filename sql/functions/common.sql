-- Helpers every other file uses.
--
-- Functions named rc_* are what the daemon calls: each is one statement,
-- one transaction, one round trip. They raise SQLSTATE 'RCnnn' (nnn the
-- HTTP status) with the error code as message and a sentence for a person
-- as detail; the daemon passes both through.
--
-- Every file here is applied by every `rollcalld migrate`, after the
-- numbered migrations, in one transaction (docs/sql.md): each function is
-- written once, with CREATE OR REPLACE, and its triggers with
-- CREATE OR REPLACE TRIGGER.

-- Whether tz is an IANA zone name (the timezones table, then PostgreSQL's).
CREATE OR REPLACE FUNCTION rc_tz_ok(tz text)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM timezones WHERE name = tz)
	    OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = tz)
$$;

-- A refusal as a value, for functions that decide without raising:
-- {"error": code, "status": HTTP status, "message": sentence}.
CREATE OR REPLACE FUNCTION rc_refusal(status integer, code text, msg text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('error', code, 'status', status,
	    'message', msg)
$$;

-- Raise an error the daemon turns into an HTTP reply.
CREATE OR REPLACE FUNCTION rc_fail(status integer, code text, msg text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'RC' || status::text, MESSAGE = code,
	    DETAIL = msg;
END $$;

-- The UTC offset of zone tz at instant t, in seconds east of UTC:
-- PostgreSQL's tz database, not the C library's (setting TZ for
-- localtime_r would race the mail thread).
CREATE OR REPLACE FUNCTION rc_tz_secs(t timestamptz, tz text)
RETURNS integer LANGUAGE sql STABLE AS $$
	SELECT extract(epoch FROM (t AT TIME ZONE tz) - (t AT TIME ZONE 'UTC'))
	    ::integer
$$;

-- That offset as iCalendar writes it: "+0800", "-0430".
CREATE OR REPLACE FUNCTION rc_tz_offset(t timestamptz, tz text)
RETURNS text LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN s < 0 THEN '-' ELSE '+' END ||
	    to_char(abs(s) / 3600, 'FM00') || to_char(abs(s) % 3600 / 60, 'FM00')
	FROM (SELECT rc_tz_secs(t, tz) AS s) x
$$;

-- Whether zone tz keeps standard time at t: its offset is the smaller of
-- those on 1 January and 1 July of that year (a zone without DST: always).
CREATE OR REPLACE FUNCTION rc_tz_standard(t timestamptz, tz text)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT rc_tz_secs(t, tz) <= least(
	    rc_tz_secs(date_trunc('year', t AT TIME ZONE tz) AT TIME ZONE tz, tz),
	    rc_tz_secs((date_trunc('year', t AT TIME ZONE tz) +
	        interval '6 months') AT TIME ZONE tz, tz))
$$;
