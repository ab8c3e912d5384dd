-- 021: chapters are named by their slug (COMMUNITY.md section 2).
--
-- An event's (and a series') `chapter` is now its chapter's slug, and
-- the chapter must exist: the free text of before 020 no longer makes a
-- chapter of its own (sql/functions/chapter.sql, rc_chapter_link). The
-- rows 020 linked by name take their chapter's slug here, so the text
-- and chapter_id agree everywhere, and chapter_id is required.

UPDATE events e SET chapter = c.slug
FROM chapters c
WHERE c.id = e.chapter_id AND e.chapter IS DISTINCT FROM c.slug;
UPDATE series s SET chapter = c.slug
FROM chapters c
WHERE c.id = s.chapter_id AND s.chapter IS DISTINCT FROM c.slug;

ALTER TABLE events ALTER COLUMN chapter_id SET NOT NULL;
ALTER TABLE series ALTER COLUMN chapter_id SET NOT NULL;
CREATE INDEX series_chapter ON series (chapter_id);

-- rc_token_issue takes the chapters of a leader or track owner token
-- (a ninth argument): the eight-argument one goes.
DROP FUNCTION IF EXISTS rc_token_issue(text, text, text, bigint[], bigint,
    timestamptz, text, bigint[]);
