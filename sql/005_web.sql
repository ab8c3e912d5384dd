-- 005: what the attendee's pages need of an event: local times and kind.
CREATE OR REPLACE FUNCTION rc_registration_json(r registrations)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', r.id, 'event_id', r.event_id,
	    'status', r.status, 'name', r.name, 'email', r.email,
	    'company', r.company, 'job_title', r.job_title, 'phone', r.phone,
	    'identity', r.identity,
	    'consent', jsonb_build_object('sponsors', r.consent_sponsors,
	        'fields', to_jsonb(r.consent_fields), 'updated_at', r.consent_at),
	    'created_at', r.created_at, 'confirmed_at', r.confirmed_at,
	    'cancelled_at', r.cancelled_at, 'checked_in_at', r.checked_in_at,
	    'waitlist_position', rc_waitlist_position(r),
	    'ticket_claims', rc_ticket_claims(r),
	    'event', (SELECT jsonb_build_object('id', e.id, 'title', e.title,
	        'kind', e.kind, 'chapter', e.chapter,
	        'starts_at', e.starts_at, 'ends_at', e.ends_at,
	        'starts_at_local', to_char(e.starts_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD"T"HH24:MI:SS'),
	        'ends_at_local', to_char(e.ends_at AT TIME ZONE e.timezone,
	            'YYYY-MM-DD"T"HH24:MI:SS'),
	        'timezone', e.timezone, 'venue', e.venue, 'status', e.status,
	        'sponsors', (SELECT coalesce(jsonb_agg(s.name ORDER BY s.id),
	            '[]') FROM sponsors s WHERE s.event_id = e.id))
	        FROM events e WHERE e.id = r.event_id))
$$;
