-- 024: the community's goals, beside which the reports are read
-- (COMMUNITY.md section 5, docs/reports.md).
--
-- One row: the handbook's goals (专业化发展: professional developers 80%
-- of members, 30% of the year's new members; 每年至少举办四次活动（每季度
-- 一次）) and the report settings that go with them. Admin and committee
-- change it (PATCH /api/v1/reports/goals, audited as report.goals).
CREATE TABLE report_goals (
	id			boolean PRIMARY KEY DEFAULT true CHECK (id),
	-- percent of professional developers among all members
	members_professional	integer NOT NULL DEFAULT 80
	    CHECK (members_professional BETWEEN 0 AND 100),
	-- ... among the members who joined in the period (the year)
	new_members_professional integer NOT NULL DEFAULT 30
	    CHECK (new_members_professional BETWEEN 0 AND 100),
	-- events a chapter holds: a year, and each quarter
	events_per_year		integer NOT NULL DEFAULT 4
	    CHECK (events_per_year BETWEEN 0 AND 100),
	events_per_quarter	integer NOT NULL DEFAULT 1
	    CHECK (events_per_quarter BETWEEN 0 AND 30),
	-- a quarter with no event yet and fewer days left than this is at risk
	at_risk_days		integer NOT NULL DEFAULT 30
	    CHECK (at_risk_days BETWEEN 1 AND 92),
	-- where community-wide dates fall (members' joining, the period)
	timezone		text NOT NULL DEFAULT 'Asia/Shanghai',
	updated_at		timestamptz NOT NULL DEFAULT now(),
	updated_by		text
);
INSERT INTO report_goals DEFAULT VALUES;
