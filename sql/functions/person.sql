-- People and members: the rows every part of the community shares.

-- The person with this e-mail (case-insensitive), made when new; a name
-- given fills an empty one but never overwrites what the person wrote.
CREATE OR REPLACE FUNCTION rc_person_upsert(p_email text, p_name text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	pid bigint;
BEGIN
	INSERT INTO persons (email, name)
	VALUES (p_email, coalesce(p_name, ''))
	ON CONFLICT ((lower(email))) DO UPDATE
	    SET name = CASE WHEN persons.name = '' THEN excluded.name
	        ELSE persons.name END
	RETURNING id INTO pid;
	RETURN pid;
END $$;

-- The member whose link secret hashes to p_key (the router's
-- r->secret_hash, decoded), or NULL.
CREATE OR REPLACE FUNCTION rc_member_by_key(p_key bytea)
RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT person_id FROM members WHERE key_hash = p_key
$$;

-- Whether a person holds a title for a year (a revoked one does not).
CREATE OR REPLACE FUNCTION rc_title_holds(p_person bigint, p_title text,
    p_year integer)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM titles WHERE person_id = p_person
	    AND title = p_title AND year = p_year AND revoked_at IS NULL)
$$;
