-- Retention: personal data that has served its purpose goes on its own.
-- The daemon runs rc_retention at start and every hour
-- (server/retention.c); docs/operations.md lists every place personal
-- data lives and for how long.

-- Delete the leads (and so the sponsors' notes) of events that ended
-- more than p_lead_days days ago, and the error texts of outbox rows
-- finished (sent or given up) more than a week ago: a mail server's
-- refusal quotes the address. The counts of what went, as JSON.
CREATE OR REPLACE FUNCTION rc_retention(p_lead_days integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	nleads integer;
	nerrors integer;
BEGIN
	DELETE FROM leads l USING sponsors s, events e
	WHERE s.id = l.sponsor_id AND e.id = s.event_id
	  AND e.ends_at < now() - make_interval(days => p_lead_days);
	GET DIAGNOSTICS nleads = ROW_COUNT;
	UPDATE outbox SET last_error = NULL
	WHERE state IN ('sent', 'failed') AND last_error IS NOT NULL
	  AND finished_at < now() - interval '7 days';
	GET DIAGNOSTICS nerrors = ROW_COUNT;
	RETURN jsonb_build_object('leads_expired', nleads,
	    'outbox_errors_cleared', nerrors);
END $$;
