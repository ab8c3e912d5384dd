-- 025: NightTalk series (COMMUNITY.md section 7): the topics track owners
-- propose for a topic chapter's next series, and the members' votes.
--
-- Series sign-up and per-episode attendance need no table of their own:
-- a sign-up is one registration per episode (registrations.person_id
-- names the member), attendance is registrations.joined_at, set when the
-- personal join link is opened (rc_join), and the completion threshold is
-- series.completion_threshold (migration 020).

-- A topic proposed for a chapter's next series. proposed_by is the actor
-- (a token's jti or acct:ID), as in audit_log; status: open (votes
-- taken), closed (votes kept, no more taken), chosen (picked for the
-- series; no more votes either).
CREATE TABLE topics (
	id		bigserial PRIMARY KEY,
	chapter_id	bigint NOT NULL REFERENCES chapters ON DELETE CASCADE,
	title		text NOT NULL
	    CHECK (length(title) BETWEEN 1 AND 200),
	description	text NOT NULL DEFAULT '',
	status		text NOT NULL DEFAULT 'open'
	    CHECK (status IN ('open', 'closed', 'chosen')),
	proposed_by	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX topics_chapter ON topics (chapter_id, created_at);
-- One open topic of a title per chapter (case-insensitive): a second
-- proposal of the same topic would split its votes.
CREATE UNIQUE INDEX topics_open_title ON topics (chapter_id, lower(title))
    WHERE status = 'open';

-- One vote per member per topic: the primary key is the rule, so two
-- servers taking the same member's vote at once store it once. A member
-- who leaves (or is erased) takes their votes along.
CREATE TABLE topic_votes (
	topic_id	bigint NOT NULL REFERENCES topics ON DELETE CASCADE,
	person_id	bigint NOT NULL REFERENCES members ON DELETE CASCADE,
	voted_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (topic_id, person_id)
);
CREATE INDEX topic_votes_person ON topic_votes (person_id);

