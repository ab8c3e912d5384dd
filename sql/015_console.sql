-- 015: the organizer console: staff accounts, their browser sessions and
-- one-time links (set a password, reset it).
--
-- An account holds one role with the scope a token has (events NULL means
-- every event). A session's id lives only in the browser's cookie; the
-- database keeps its SHA-256, so a copy of this table signs no one in.
-- Every daemon sharing the database reads the same rows: a revoked account
-- or a signed-out session stops working on the next request everywhere.

CREATE TABLE accounts (
	id		bigserial PRIMARY KEY,
	email		text NOT NULL,
	name		text NOT NULL,
	lang		text NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'zh-CN')),
	role		text NOT NULL CHECK (role IN ('organizer', 'admin')),
	events		bigint[],
	password_hash	text,
	created_by	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	password_at	timestamptz,
	disabled_at	timestamptz,
	disabled_by	text
);
CREATE UNIQUE INDEX accounts_email ON accounts (lower(email));

CREATE TABLE console_sessions (
	id_hash		bytea PRIMARY KEY,
	account_id	bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_seen_at	timestamptz NOT NULL DEFAULT now(),
	address		text
);
CREATE INDEX console_sessions_account ON console_sessions (account_id);

CREATE TABLE account_links (
	hash		bytea PRIMARY KEY,
	account_id	bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
	purpose		text NOT NULL CHECK (purpose IN ('invite', 'reset')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz
);
CREATE INDEX account_links_account ON account_links (account_id);
