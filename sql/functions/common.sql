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
