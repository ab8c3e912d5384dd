-- Chapters (COMMUNITY.md section 2).

-- A chapter's slug made from free text: lower case, runs of anything but
-- Latin letters and digits as '-', at most 63 characters; text with none
-- of those gets 'chapter-' and a hash (as migration 020 did).
CREATE OR REPLACE FUNCTION rc_chapter_slugify(p_text text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(nullif(trim(BOTH '-' FROM substr(regexp_replace(
	    lower(p_text), '[^a-z0-9]+', '-', 'g'), 1, 63)), ''),
	    'chapter-' || substr(md5(p_text), 1, 8))
$$;

-- The chapter an event or series names in its `chapter` field: the one
-- with that slug, else the one with that name, else a new trial chapter
-- of that name (the free text of before chapters existed).
CREATE OR REPLACE FUNCTION rc_chapter_for(p_text text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	cid bigint;
BEGIN
	SELECT id INTO cid FROM chapters WHERE slug = p_text;
	IF NOT FOUND THEN
		SELECT id INTO cid FROM chapters WHERE name = p_text
		ORDER BY id LIMIT 1;
	END IF;
	IF NOT FOUND THEN
		INSERT INTO chapters (slug, name, kind, city, status)
		VALUES (rc_chapter_slugify(p_text), p_text, 'city', p_text,
		    'trial')
		ON CONFLICT (slug) DO UPDATE SET slug = excluded.slug
		RETURNING id INTO cid;
	END IF;
	RETURN cid;
END $$;

-- Keep chapter_id in step with the chapter an event or series names.
CREATE OR REPLACE FUNCTION rc_chapter_link()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' OR NEW.chapter IS DISTINCT FROM OLD.chapter
	    OR NEW.chapter_id IS NULL THEN
		NEW.chapter_id := rc_chapter_for(NEW.chapter);
	END IF;
	RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER events_chapter BEFORE INSERT OR UPDATE OF chapter
    ON events FOR EACH ROW EXECUTE FUNCTION rc_chapter_link();
CREATE OR REPLACE TRIGGER series_chapter BEFORE INSERT OR UPDATE OF chapter
    ON series FOR EACH ROW EXECUTE FUNCTION rc_chapter_link();
