/*
 * The database: a pool of non-blocking libpq connections watched by the
 * event loop, every statement prepared when a connection comes up.
 *
 * A query is handed to an idle connection at once, or waits in a bounded
 * FIFO queue. A caller learns the outcome only through its callback, which
 * runs on the loop; the loop itself never waits for PostgreSQL.
 *
 * When PostgreSQL goes away, each connection notices on its own socket,
 * fails its query (the caller answers 503), and reconnects with back-off.
 * While no connection is up, db_exec() refuses at once (DB_EDOWN) rather
 * than queueing work that may never run.
 */
#include <sys/queue.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "server.h"

/*
 * Every statement the daemon runs. The PL/pgSQL functions named here live
 * in sql/; each one is a single round trip and a single transaction.
 */
const struct sql_stmt sqls[SQL__MAX] = {
	[SQL_PING] = { "ping", "SELECT 1", 0 },
	[SQL_TOKEN_LOOKUP] = { "token_lookup",
	    "SELECT role, name, rc_scope_events(ARRAY[role], events, chapters), "
	    "coalesce(sponsor_id, 0), chapters FROM rc_token_live($1, $2)", 2 },
	[SQL_TOKEN_ISSUE] = { "token_issue",
	    "SELECT rc_token_issue($1, $2, $3, $4::bigint[], "
	    "nullif($5, '')::bigint, to_timestamp($6::bigint), $7, "
	    "$8::bigint[], $9::text[])::text", 9 },
	[SQL_TOKEN_REVOKE] = { "token_revoke",
	    "SELECT rc_token_revoke($1, $2, $3, $4::bigint[])::text", 4 },
	[SQL_DEVICE_REVOKE] = { "device_revoke",
	    "SELECT rc_device_revoke($1::bigint, $2, $3, $4, "
	    "$5::bigint[])::text", 5 },
	[SQL_EVENT_LIST] = { "event_list",
	    "SELECT rc_event_list($1, $2)::text", 2 },
	[SQL_EVENT_GET] = { "event_get",
	    "SELECT rc_event_get($1::bigint, $2::boolean)::text", 2 },
	[SQL_EVENT_CREATE] = { "event_create",
	    "SELECT rc_event_create($1::jsonb, $2)::text", 2 },
	[SQL_EVENT_UPDATE] = { "event_update",
	    "SELECT rc_event_update($1::bigint, $2::jsonb, $3, $4)::text", 4 },
	[SQL_SERIES_CREATE] = { "series_create",
	    "SELECT rc_series_create($1::jsonb, $2)::text", 2 },
	[SQL_REGISTER] = { "register",
	    "SELECT rc_register($1::bigint, $2::jsonb, decode($3, 'hex'), "
	    "decode($4, 'hex'), decode($5, 'hex'))::text", 5 },
	[SQL_REG_GET] = { "reg_get",
	    "SELECT rc_registration_get(decode($1, 'hex'))::text", 1 },
	[SQL_REG_CONSENT] = { "reg_consent",
	    "SELECT rc_registration_consent(decode($1, 'hex'), $2::jsonb)::text",
	    2 },
	[SQL_REG_CANCEL] = { "reg_cancel",
	    "SELECT rc_registration_cancel(decode($1, 'hex'))::text", 1 },
	[SQL_REG_LIST] = { "reg_list",
	    "SELECT rc_registration_list($1::bigint, $2, $3::integer, "
	    "$4::integer)::text", 4 },
	[SQL_TICKET_KEYS] = { "ticket_keys",
	    "SELECT kid, public_pem, private_pem, retired_at IS NULL "
	    "FROM ticket_keys ORDER BY created_at DESC", 0 },
	[SQL_TICKET_GET] = { "ticket_get",
	    "SELECT rc_ticket_get(decode($1, 'hex'))::text", 1 },
	[SQL_CHECKIN_BATCH] = { "checkin_batch",
	    "SELECT rc_checkin_upload($1, $2::bigint[], $3, $4::jsonb)::text",
	    4 },
	[SQL_OFFLINE_BUNDLE] = { "offline_bundle",
	    "SELECT rc_offline_bundle($1::bigint)::text", 1 },
	[SQL_JOIN] = { "join",
	    "SELECT rc_join(decode($1, 'hex'))::text", 1 },
	[SQL_TICKET_REISSUE] = { "ticket_reissue",
	    "SELECT rc_ticket_reissue(decode($1, 'hex'))::text", 1 },
	[SQL_SPONSOR_CREATE] = { "sponsor_create",
	    "SELECT rc_sponsor_create($1::bigint, $2, $3, $4, $5)::text", 5 },
	[SQL_LEAD_CAPTURE] = { "lead_capture",
	    "SELECT rc_lead_capture($1::bigint, $2::jsonb, $3, $4::integer, "
	    "$5)::text", 5 },
	[SQL_LEADS] = { "leads",
	    "SELECT rc_leads($1::bigint, $2::bigint[], $3::bigint)::text", 3 },
	[SQL_LEADS_CSV] = { "leads_csv",
	    "SELECT rc_leads_csv($1::bigint, $2::bigint[], $3::bigint, $4)", 4 },
	[SQL_ATTENDANCE_CSV] = { "attendance_csv",
	    "SELECT rc_attendance_csv($1::bigint, $2)", 2 },
	[SQL_ATTENDANCE_ROWS] = { "attendance_rows",
	    "SELECT rc_attendance_rows($1::bigint, $2)::text", 2 },
	[SQL_LEADS_ROWS] = { "leads_rows",
	    "SELECT rc_leads_rows($1::bigint, $2::bigint[], $3::bigint, $4)"
	    "::text", 4 },
	[SQL_REG_ERASE] = { "reg_erase",
	    "SELECT rc_registration_erase(decode($1, 'hex'))::text", 1 },
	[SQL_EVENT_SHRED] = { "event_shred",
	    "SELECT rc_event_shred($1::bigint, $2)::text", 2 },
	[SQL_AUDIT] = { "audit",
	    "SELECT rc_audit($1::bigint, $2::integer, $3::integer)::text", 3 },
	[SQL_RESEND] = { "resend",
	    "SELECT rc_resend($1::bigint, $2, decode($3, 'hex'), "
	    "decode($4, 'hex'), decode($5, 'hex'))", 5 },
	/* The mail sender's, on its own connection (mail_worker.c). */
	[SQL_MAIL_CLAIM] = { "mail_claim",
	    "SELECT rc_outbox_claim($1::integer, $2::integer)::text", 2 },
	[SQL_MAIL_DONE] = { "mail_done",
	    "SELECT rc_outbox_done($1::bigint, $2::boolean, $3, $4::boolean)", 4 },
	[SQL_MAIL_RELEASE] = { "mail_release",
	    "SELECT rc_outbox_release($1::bigint[])", 1 },
	[SQL_MAIL_STATS] = { "mail_stats",
	    "SELECT rc_outbox_stats()::text", 0 },
	[SQL_MAIL_QUEUE] = { "mail_queue",
	    "SELECT rc_outbox_queue()::text", 0 },
	[SQL_MAIL_TOTALS] = { "mail_totals",
	    "SELECT rc_outbox_totals()::text", 0 },
	[SQL_AGENDA_SET] = { "agenda_set",
	    "SELECT rc_agenda_set($1::bigint, $2::jsonb, $3)::text", 3 },
	[SQL_CHECKIN_DOOR] = { "checkin_door",
	    "SELECT rc_checkin_door($1, $2, $3::bigint, $4::jsonb, $5, "
	    "$6)::text", 6 },
	[SQL_CHECKIN_GROUP] = { "checkin_group",
	    "SELECT ord, status, code, body FROM rc_checkin_group($1::jsonb)",
	    1 },
	[SQL_RETENTION] = { "retention",
	    "SELECT rc_retention($1::integer)::text", 1 },
	[SQL_REGISTER_GROUP] = { "register_group",
	    "SELECT ord, status, body FROM rc_register_group($1::jsonb)", 1 },
	/* Staff accounts and console sessions (sql/functions/account.sql). */
	[SQL_ACCOUNT_ADD] = { "account_add",
	    "SELECT rc_account_add($1, $2, $3, $4, $5::bigint[], "
	    "decode($6, 'hex'), $7::integer, $8, $9::bigint[])::text", 9 },
	[SQL_ACCOUNT_LINK] = { "account_link",
	    "SELECT rc_account_link(decode($1, 'hex'))::text", 1 },
	[SQL_ACCOUNT_SET_PASSWORD] = { "account_set_password",
	    "SELECT rc_account_set_password(decode($1, 'hex'), $2, "
	    "decode($3, 'hex'), $4)::text", 4 },
	[SQL_ACCOUNT_LOGIN] = { "account_login",
	    "SELECT id, password_hash FROM rc_account_login($1)", 1 },
	[SQL_ACCOUNT_DISABLE] = { "account_disable",
	    "SELECT rc_account_disable($1, $2)::text", 2 },
	[SQL_SESSION_START] = { "session_start",
	    "SELECT rc_session_start($1::bigint, decode($2, 'hex'), $3)::text",
	    3 },
	[SQL_SESSION_LIVE] = { "session_live",
	    "SELECT account_id, role, name, events, email, lang, roles, chapters "
	    "FROM rc_session_live(decode($1, 'hex'), $2::integer, $3::integer)",
	    3 },
	[SQL_SESSION_END] = { "session_end",
	    "SELECT rc_session_end(decode($1, 'hex'), $2::boolean)::text", 2 },
	[SQL_ACCOUNT_RESET] = { "account_reset",
	    "SELECT rc_account_reset($1, decode($2, 'hex'), $3::integer, "
	    "decode(nullif($4, ''), 'hex'))", 4 },
	[SQL_ACCOUNT_INVITE] = { "account_invite",
	    "SELECT rc_account_invite($1::jsonb, $2::bigint[], "
	    "decode($3, 'hex'), $4::integer, $5, "
	    "decode(nullif($6, ''), 'hex'))::text", 6 },
	[SQL_CONSOLE_ACCOUNTS] = { "console_accounts",
	    "SELECT rc_console_accounts()::text", 0 },
	/* The console's pages (sql/functions/console.sql). */
	[SQL_CONSOLE_OVERVIEW] = { "console_overview",
	    "SELECT rc_console_overview($1::bigint[], $2::integer)::text", 2 },
	[SQL_CONSOLE_DESK] = { "console_desk",
	    "SELECT rc_console_desk($1::bigint, $2, $3::integer, "
	    "$4::integer)::text", 4 },
	[SQL_CONSOLE_CHECKIN] = { "console_checkin",
	    "SELECT rc_console_checkin($1::bigint, $2::bigint, $3, $4)::text",
	    4 },
	[SQL_CONSOLE_UNDO] = { "console_undo",
	    "SELECT rc_console_checkin_undo($1::bigint, $2::bigint, "
	    "$3::integer, $4)::text", 4 },
	[SQL_CONSOLE_REGS] = { "console_regs",
	    "SELECT rc_console_registrations($1::bigint, $2, $3, "
	    "$4::integer)::text", 4 },
	[SQL_CONSOLE_CANCEL] = { "console_cancel",
	    "SELECT rc_console_cancel($1::bigint, $2::bigint, $3)::text", 3 },
	[SQL_CONSOLE_PROMOTE] = { "console_promote",
	    "SELECT rc_console_promote($1::bigint, $2::bigint, $3)::text", 3 },
	[SQL_CONSOLE_RESEND] = { "console_resend",
	    "SELECT rc_console_resend($1::bigint, $2::bigint, decode($3, 'hex'), "
	    "decode($4, 'hex'), decode($5, 'hex'), $6)::text", 6 },
	[SQL_CONSOLE_WALK_IN] = { "console_walk_in",
	    "SELECT rc_console_walk_in($1::bigint, $2::bigint, $3)::text", 3 },
	[SQL_CONSOLE_EVENT_SAVE] = { "console_event_save",
	    "SELECT rc_console_event_save(nullif($1, '')::bigint, $2::jsonb, "
	    "$3)::text", 3 },
	[SQL_CONSOLE_SERIES] = { "console_series",
	    "SELECT rc_console_series_create($1::jsonb, $2)::text", 2 },
	[SQL_CONSOLE_SPONSORS] = { "console_sponsors",
	    "SELECT rc_console_sponsors($1::bigint)::text", 1 },
	[SQL_SPONSOR_RENAME] = { "sponsor_rename",
	    "SELECT rc_sponsor_rename($1::bigint, $2::bigint, $3, $4)::text", 4 },
	/* Devices (sql/functions/device.sql). */
	[SQL_DEVICE_CODE_NEW] = { "device_code_new",
	    "SELECT rc_device_code_new($1::bigint, nullif($2, '')::bigint, $3, "
	    "decode($4, 'hex'), $5::integer, $6)::text", 6 },
	[SQL_DEVICE_CLAIM] = { "device_claim",
	    "SELECT rc_device_claim(decode($1, 'hex'), $2, $3::integer)::text",
	    3 },
	[SQL_CONSOLE_DEVICES] = { "console_devices",
	    "SELECT rc_console_devices($1::bigint)::text", 1 },
	[SQL_BADGES] = { "badges",
	    "SELECT rc_badges($1::bigint, $2::bigint, $3, $4::integer, "
	    "$5::integer, $6)::text", 6 },
	/* The no-show job (noshow.c) and the attendee's reconfirmation. */
	[SQL_NOSHOW_RUN] = { "noshow_run",
	    "SELECT rc_noshow_run($1::integer)::text", 1 },
	[SQL_RECONFIRM] = { "reconfirm",
	    "SELECT rc_reconfirm(decode($1, 'hex'))::text", 1 },
	/* Blocking: start-up and commands only, never prepared on the pool. */
	[SQL_BEGIN] = { "begin", "BEGIN", 0, SQL_DIRECT },
	[SQL_COMMIT] = { "commit", "COMMIT", 0, SQL_DIRECT },
	[SQL_ROLLBACK] = { "rollback", "ROLLBACK", 0, SQL_DIRECT },
	[SQL_SECRET_ADD] = { "secret_add",
	    "INSERT INTO secrets (name, value) VALUES ($1, $2) "
	    "ON CONFLICT (name) DO NOTHING", 2, SQL_DIRECT },
	[SQL_SECRET_GET] = { "secret_get",
	    "SELECT value FROM secrets WHERE name = $1", 1, SQL_DIRECT },
	[SQL_KEY_SIGNING] = { "key_signing",
	    "SELECT kid FROM ticket_keys WHERE retired_at IS NULL", 0,
	    SQL_DIRECT },
	[SQL_KEY_ADD] = { "key_add",
	    "INSERT INTO ticket_keys (kid, private_pem, public_pem) "
	    "SELECT (count(*) + 1)::text, $1, $2 FROM ticket_keys "
	    "RETURNING kid", 2, SQL_DIRECT },
	[SQL_KEY_RETIRE] = { "key_retire",
	    "UPDATE ticket_keys SET retired_at = now() "
	    "WHERE retired_at IS NULL", 0, SQL_DIRECT },
	[SQL_MAIL_LISTEN] = { "mail_listen", "LISTEN rollcall_outbox", 0,
	    SQL_DIRECT },
	/* db_listen's connection for the read cache (server/cache.c). */
	[SQL_CACHE_LISTEN] = { "cache_listen", "LISTEN rc_public", 0,
	    SQL_DIRECT },
	[SQL_MIGRATE_QUIET] = { "migrate_quiet",
	    "SET client_min_messages = warning", 0, SQL_DIRECT },
	[SQL_MIGRATE_LOCK] = { "migrate_lock",
	    "SELECT pg_advisory_lock(7201126)", 0, SQL_DIRECT },
	[SQL_MIGRATE_UNLOCK] = { "migrate_unlock",
	    "SELECT pg_advisory_unlock(7201126)", 0, SQL_DIRECT },
	[SQL_MIGRATE_TABLE] = { "migrate_table",
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version integer PRIMARY KEY, name text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", 0, SQL_DIRECT },
	[SQL_MIGRATE_DONE] = { "migrate_done",
	    "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1,
	    SQL_DIRECT },
	[SQL_FUNCTIONS_UNCHECKED] = { "functions_unchecked",
	    "SET LOCAL check_function_bodies = off", 0, SQL_DIRECT },
	[SQL_FUNCTIONS_CHECKED] = { "functions_checked",
	    "SET LOCAL check_function_bodies = on", 0, SQL_DIRECT },
	/*
	 * Every function body in the schema, checked by its language's
	 * validator once all exist (the pass created them unchecked); an
	 * error names the function.
	 */
	[SQL_FUNCTIONS_CHECK] = { "functions_check",
	    "DO $$ DECLARE f record; BEGIN "
	    "FOR f IN SELECT p.oid, l.lanvalidator::regproc AS v "
	    "FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
	    "WHERE p.pronamespace = current_schema()::regnamespace "
	    "AND l.lanname IN ('sql', 'plpgsql') AND NOT EXISTS (SELECT 1 "
	    "FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass "
	    "AND d.objid = p.oid AND d.deptype = 'e') LOOP "
	    "BEGIN EXECUTE format('SELECT %s(%s)', f.v, f.oid); "
	    "EXCEPTION WHEN OTHERS THEN RAISE EXCEPTION '%: %', "
	    "f.oid::regprocedure, SQLERRM; END; "
	    "END LOOP; END $$", 0, SQL_DIRECT },
	/* When the tree has it: an older --share tree may not. */
	[SQL_MIGRATE_RECOUNT] = { "migrate_recount",
	    "DO $$ BEGIN IF to_regproc('rc_waitlist_recount') IS NOT NULL "
	    "THEN PERFORM rc_waitlist_recount(); END IF; END $$", 0,
	    SQL_DIRECT },
	[SQL_MIGRATE_RECORD] = { "migrate_record",
	    "INSERT INTO schema_migrations (version, name) "
	    "VALUES ($1::int, $2)", 2, SQL_DIRECT },
	/*
	 * chapters, staff roles, tokens and accounts of the new roles
	 * (chapters)
	 */
	[SQL_CHAPTER_LIST] = { "chapter_list",
	    "SELECT rc_chapter_list($1, $2)::text", 2 },
	[SQL_CHAPTER_GET] = { "chapter_get",
	    "SELECT rc_chapter_get($1, $2::boolean)::text", 2 },
	[SQL_CHAPTER_CREATE] = { "chapter_create",
	    "SELECT rc_chapter_create($1::jsonb, $2)::text", 2 },
	[SQL_CHAPTER_UPDATE] = { "chapter_update",
	    "SELECT rc_chapter_update($1, $2::jsonb, $3)::text", 3 },
	[SQL_CHAPTER_LEADER_ADD] = { "chapter_leader_add",
	    "SELECT rc_chapter_leader_add($1, $2::jsonb, $3)::text", 3 },
	[SQL_CHAPTER_LEADER_REMOVE] = { "chapter_leader_remove",
	    "SELECT rc_chapter_leader_remove($1, $2::bigint, $3, $4)::text", 4 },
	[SQL_CONSOLE_CHAPTERS] = { "console_chapters",
	    "SELECT rc_console_chapters()::text", 0 },
	[SQL_CONSOLE_CHAPTER] = { "console_chapter",
	    "SELECT rc_console_chapter($1, $2::integer)::text", 2 },
	[SQL_CHAPTER_OPTIONS] = { "chapter_options",
	    "SELECT rc_chapter_options($1, $2)::text", 2 },
	/* The event editor: the event with the chapters its user may pick. */
	[SQL_EDITOR_EVENT] = { "editor_event",
	    "SELECT (rc_event_get($1::bigint, true) || jsonb_build_object("
	    "'chapter_options', rc_chapter_options($2, (SELECT chapter "
	    "FROM events WHERE id = $1::bigint))))::text", 2 },
	/*
	 * people and members, the member page, members-only events
	 * (members)
	 */
	[SQL_MEMBER_CHAPTERS] = { "member_chapters",
	    "SELECT rc_member_chapters_open()::text", 0 },
	[SQL_MEMBER_JOIN] = { "member_join",
	    "SELECT rc_member_join($1::jsonb, decode($2, 'hex'), $3::integer, "
	    "decode(nullif($4, ''), 'hex'))::text", 4 },
	[SQL_MEMBER_JOIN_GET] = { "member_join_get",
	    "SELECT rc_member_join_get(decode($1, 'hex'))::text", 1 },
	[SQL_MEMBER_CONFIRM] = { "member_confirm",
	    "SELECT rc_member_confirm(decode($1, 'hex'), decode($2, 'hex'), "
	    "decode(nullif($3, ''), 'hex'))::text", 3 },
	[SQL_MEMBER_LINK] = { "member_link",
	    "SELECT rc_member_link($1, decode($2, 'hex'), "
	    "decode(nullif($3, ''), 'hex'))::text", 3 },
	[SQL_MEMBER_GET] = { "member_get",
	    "SELECT rc_member_get(decode($1, 'hex'))::text", 1 },
	[SQL_MEMBER_PROFILE] = { "member_profile",
	    "SELECT rc_member_profile(decode($1, 'hex'))::text", 1 },
	[SQL_MEMBER_EVENT] = { "member_event",
	    "SELECT rc_member_event(decode($1, 'hex'), $2::bigint)::text", 2 },
	[SQL_MEMBER_UPDATE] = { "member_update",
	    "SELECT rc_member_update(decode($1, 'hex'), $2::jsonb)::text", 2 },
	[SQL_MEMBER_EXPORT] = { "member_export",
	    "SELECT rc_member_export(decode($1, 'hex'))::text", 1 },
	[SQL_MEMBER_ERASE] = { "member_erase",
	    "SELECT rc_member_erase(decode($1, 'hex'))::text", 1 },
	/*
	 * proposals and decisions, sponsorships, leader applications
	 * (approval)
	 */
	[SQL_AP_PROPOSE] = { "ap_propose",
	    "SELECT rc_event_propose($1::bigint, $2)::text", 2 },
	[SQL_AP_EVENT_DECIDE] = { "ap_event_decide",
	    "SELECT rc_event_decide($1::bigint, $2, $3, $4)::text", 4 },
	[SQL_AP_PROPOSALS] = { "ap_proposals",
	    "SELECT rc_proposals($1::integer)::text", 1 },
	[SQL_AP_SPONSORSHIP_NEW] = { "ap_sponsorship_new",
	    "SELECT rc_sponsorship_create($1::jsonb, $2, $3)::text", 3 },
	[SQL_AP_SPONSORSHIP_DECIDE] = { "ap_sponsorship_decide",
	    "SELECT rc_sponsorship_decide($1::bigint, $2, $3, $4)::text", 4 },
	[SQL_AP_APPLY] = { "ap_apply",
	    "SELECT rc_application_submit($1::jsonb)::text", 1 },
	[SQL_AP_APPLY_CHAPTERS] = { "ap_apply_chapters",
	    "SELECT rc_apply_chapters()::text", 0 },
	[SQL_AP_APPLICATIONS] = { "ap_applications",
	    "SELECT rc_applications($1, $2::integer)::text", 2 },
	[SQL_AP_APPLICATION] = { "ap_application",
	    "SELECT rc_application_get($1::bigint)::text", 1 },
	[SQL_AP_NOTE] = { "ap_note",
	    "SELECT rc_application_note($1::bigint, $2, $3)::text", 3 },
	[SQL_AP_APPLICATION_DECIDE] = { "ap_application_decide",
	    "SELECT rc_application_decide($1::bigint, $2::jsonb, "
	    "decode($3, 'hex'), $4::integer, decode(nullif($5, ''), 'hex'), "
	    "$6)::text", 6 },
	/*
	 * reports: identity mix, chapter health, attendance, growth
	 * (reports)
	 */
	[SQL_REPORT_IDENTITY] = { "report_identity",
	    "SELECT rc_report_out($5, rc_report_identity($1::bigint[], "
	    "$2::date, $3::date, $4::date))", 5 },
	[SQL_REPORT_HEALTH] = { "report_health",
	    "SELECT rc_report_out($4, rc_report_health($1::bigint[], "
	    "$2::integer, $3::date))", 4 },
	[SQL_REPORT_ATTENDANCE] = { "report_attendance",
	    "SELECT rc_report_out($5, rc_report_attendance($1::bigint[], "
	    "$2::date, $3::date, $4::date))", 5 },
	[SQL_REPORT_GROWTH] = { "report_growth",
	    "SELECT rc_report_out($5, rc_report_growth($1::bigint[], "
	    "$2::date, $3::date, $4::date))", 5 },
	[SQL_REPORT_GOALS] = { "report_goals",
	    "SELECT rc_report_goals()::text", 0 },
	[SQL_REPORT_GOALS_SET] = { "report_goals_set",
	    "SELECT rc_report_goals_set($1::jsonb, $2)::text", 2 },
	[SQL_REPORT_CONSOLE] = { "report_console",
	    "SELECT rc_report_console($1::bigint[], $2::date, $3::date, "
	    "$4::integer, $5::date)::text", 5 },
	/*
	 * NightTalk series: series sign-up, episode attendance, topic votes
	 * (series)
	 */
	[SQL_SERIES_SIGNUP] = { "series_signup",
	    "SELECT rc_series_signup(decode($1, 'hex'), $2::bigint, $3::jsonb, "
	    "$4::jsonb)::text", 4 },
	[SQL_SERIES_WITHDRAW] = { "series_withdraw",
	    "SELECT rc_series_withdraw(decode($1, 'hex'), $2::bigint)::text", 2 },
	[SQL_SERIES_MEMBER] = { "series_member",
	    "SELECT rc_series_member(decode($1, 'hex'), $2::bigint)::text", 2 },
	[SQL_SERIES_UPDATE] = { "series_update",
	    "SELECT rc_series_update($1::bigint, $2::jsonb, $3::bigint[], "
	    "$4)::text", 4 },
	[SQL_SERIES_REPORT] = { "series_report",
	    "SELECT rc_series_report($1::bigint, $2::bigint[], $3::bigint[], "
	    "$4)::text", 4 },
	[SQL_SERIES_CONSOLE] = { "series_console",
	    "SELECT rc_console_series($1::bigint, $2::bigint[], "
	    "$3::bigint[])::text", 3 },
	[SQL_TOPIC_PROPOSE] = { "topic_propose",
	    "SELECT rc_topic_propose($1::jsonb, $2::bigint[], $3)::text", 3 },
	[SQL_TOPIC_LIST] = { "topic_list",
	    "SELECT rc_topic_list($1)::text", 1 },
	[SQL_TOPIC_STATUS] = { "topic_status",
	    "SELECT rc_topic_status($1::bigint, $2, $3::bigint[], $4)::text",
	    4 },
	[SQL_VOTE] = { "vote",
	    "SELECT rc_vote(decode($1, 'hex'), $2::bigint)::text", 2 },
	[SQL_UNVOTE] = { "unvote",
	    "SELECT rc_unvote(decode($1, 'hex'), $2::bigint)::text", 2 },
	[SQL_MEMBER_TOPICS] = { "member_topics",
	    "SELECT rc_member_topics(decode($1, 'hex'))::text", 1 },
	[SQL_CONSOLE_TOPICS] = { "console_topics",
	    "SELECT rc_console_topics($1::bigint[], $2::bigint[])::text", 2 },
	/*
	 * contributions, the points ledger, benefits, titles
	 * (recognition)
	 */
	/* sql/functions/recognition.sql; $N::jsonb callers: recognition.c */
	[SQL_RC_POINTS_GET] = { "rc_points_get",
	    "SELECT rc_contribution_points_get()::text", 0 },
	[SQL_RC_POINTS_SET] = { "rc_points_set",
	    "SELECT rc_contribution_points_set($1::jsonb, $2)::text", 2 },
	[SQL_RC_RECORD] = { "rc_record",
	    "SELECT rc_contribution_record($1::jsonb, $2::jsonb)::text", 2 },
	[SQL_RC_REVIEW] = { "rc_review",
	    "SELECT rc_contribution_review($1::bigint, $2::boolean, $3, "
	    "$4::jsonb)::text", 4 },
	[SQL_RC_CONFIRM] = { "rc_confirm",
	    "SELECT rc_contribution_confirm($1::bigint, $2, $3, "
	    "$4::jsonb)::text", 4 },
	[SQL_RC_DISMISS] = { "rc_dismiss",
	    "SELECT rc_contribution_dismiss($1::bigint, $2::jsonb)::text", 2 },
	[SQL_RC_LIST] = { "rc_list",
	    "SELECT rc_contribution_list($1, $2::integer, $3, $4::integer, "
	    "$5::jsonb)::text", 5 },
	[SQL_RC_CONSOLE] = { "rc_console",
	    "SELECT rc_console_contributions($1, $2::integer, $3, "
	    "$4::integer, $5::jsonb)::text", 5 },
	[SQL_RC_ADJUST] = { "rc_adjust",
	    "SELECT rc_points_adjust($1, $2::integer, $3, $4)::text", 4 },
	[SQL_RC_BENEFITS] = { "rc_benefits",
	    "SELECT rc_benefit_list($1::boolean)::text", 1 },
	[SQL_RC_BENEFIT_CREATE] = { "rc_benefit_create",
	    "SELECT rc_benefit_create($1::jsonb, $2)::text", 2 },
	[SQL_RC_BENEFIT_UPDATE] = { "rc_benefit_update",
	    "SELECT rc_benefit_update($1::bigint, $2::jsonb, $3)::text", 3 },
	[SQL_RC_REDEEM] = { "rc_redeem",
	    "SELECT rc_redemption_request(decode($1, 'hex'), "
	    "$2::bigint)::text", 2 },
	[SQL_RC_DECIDE] = { "rc_decide",
	    "SELECT rc_redemption_decide($1::bigint, $2, $3, $4)::text", 4 },
	[SQL_RC_REDEMPTIONS] = { "rc_redemptions",
	    "SELECT rc_redemption_list($1, $2::integer)::text", 2 },
	[SQL_RC_CONSOLE_BENEFITS] = { "rc_console_benefits",
	    "SELECT rc_console_benefits($1, $2::integer)::text", 2 },
	[SQL_RC_TITLES] = { "rc_titles",
	    "SELECT rc_recognition_titles($1::integer, $2::boolean)::text", 2 },
	[SQL_RC_TITLE_GRANT] = { "rc_title_grant",
	    "SELECT rc_recognition_title_grant($1, $2, $3, $4::integer, "
	    "$5)::text", 5 },
	[SQL_RC_TITLE_REVOKE] = { "rc_title_revoke",
	    "SELECT rc_recognition_title_revoke($1::bigint, $2)::text", 2 },
	[SQL_RC_LEADERBOARD] = { "rc_leaderboard",
	    "SELECT rc_recognition_leaderboard($1::integer, $2, $3::integer, "
	    "$4::jsonb)::text", 4 },
	[SQL_RC_MEMBER] = { "rc_member",
	    "SELECT rc_recognition_member(decode($1, 'hex'))::text", 1 },
	[SQL_RC_LISTED] = { "rc_listed",
	    "SELECT rc_recognition_listed(decode($1, 'hex'), "
	    "$2::boolean)::text", 2 },
	[SQL_RC_PROFILE] = { "rc_profile",
	    "SELECT rc_recognition_profile($1::bigint)::text", 1 },
	/*
	 * volunteers and certificates
	 * (certificates)
	 */
	[SQL_VOLUNTEER_SIGNUP] = { "volunteer_signup",
	    "SELECT rc_volunteer_signup($1::bigint, $2, $3, $4::text[], $5, "
	    "$6)::text", 6 },
	[SQL_VOLUNTEER_LIST] = { "volunteer_list",
	    "SELECT rc_volunteer_list($1::bigint)::text", 1 },
	[SQL_VOLUNTEER_DECIDE] = { "volunteer_decide",
	    "SELECT rc_volunteer_decide($1::bigint, $2, $3, $4::bigint, "
	    "$5::bigint[], $6)::text", 6 },
	[SQL_VOLUNTEER_ATTENDED] = { "volunteer_attended",
	    "SELECT rc_volunteer_attended($1::bigint, $2::boolean, $3::bigint, "
	    "$4::bigint[], $5)::text", 5 },
	[SQL_VOLUNTEER_OUTSTANDING] = { "volunteer_outstanding",
	    "SELECT rc_volunteer_outstanding($1::bigint, $2::boolean, "
	    "$3::bigint, $4::bigint[], $5)::text", 5 },
	[SQL_CERT_ISSUE] = { "cert_issue",
	    "SELECT rc_certificate_issue($1::jsonb, $2, $3::bigint[], "
	    "$4::boolean, $5)::text", 5 },
	[SQL_CERT_REVOKE] = { "cert_revoke",
	    "SELECT rc_certificate_revoke($1, $2, $3::bigint[], $4::boolean, "
	    "$5)::text", 5 },
	[SQL_CERT_LIST] = { "cert_list",
	    "SELECT rc_certificate_list($1::bigint, $2, $3::bigint[], "
	    "$4::boolean, $5::integer)::text", 5 },
	[SQL_CERT_VERIFY] = { "cert_verify",
	    "SELECT rc_certificate_verify($1)::text", 1 },
	[SQL_CERT_PDF] = { "cert_pdf",
	    "SELECT rc_certificate_pdf($1, $2::bigint[], $3::boolean, $4)::text",
	    4 },
	[SQL_CERT_MEMBER_LIST] = { "cert_member_list",
	    "SELECT rc_member_certificates(decode($1, 'hex'))::text", 1 },
	[SQL_CERT_MEMBER_ONE] = { "cert_member_one",
	    "SELECT rc_member_certificate(decode($1, 'hex'), $2)::text", 2 },
	[SQL_CONSOLE_CERTS] = { "console_certs",
	    "SELECT rc_console_certificates($1::bigint, $2, $3::bigint[], "
	    "$4::boolean, $5::integer)::text", 5 },
};

enum conn_state {
	C_DOWN,
	C_CONNECTING,
	C_PREPARING,
	C_IDLE,
	C_BUSY,
};

struct job {
	TAILQ_ENTRY(job)	 entry;
	enum sql_id		 id;
	int			 n;
	char			*vals[DB_MAXPARAMS];
	db_cb			 cb;
	void			*arg;
	struct timespec		 queued;
};
TAILQ_HEAD(jobq, job);

struct conn {
	PGconn		*pg;
	struct event	*ev;		/* socket readiness */
	struct event	*timer;		/* reconnect back-off */
	enum conn_state	 state;
	int		 prep;		/* next statement to prepare */
	struct job	*job;		/* query in flight */
	PGresult	*res;		/* its first result */
	int		 backoff_ms;
	int		 fd;
	short		 evflags;
	size_t		 errmark;	/* PQerrorMessage bytes already seen */
};

static struct {
	struct event_base	*base;
	char			*conninfo;
	struct conn		*conns;
	int			 nconns;
	struct jobq		 queue;
	int			 nqueued;
	int			 maxqueued;
	struct event		*sweep;
	int			 stopping;
	unsigned long long	 errors;	/* lost connections, unexpected errors */
} pool;

static void	conn_start(struct conn *);
static void	conn_cb(evutil_socket_t, short, void *);
static void	pool_dispatch(void);

/* Seconds since a CLOCK_MONOTONIC time. */
static double
elapsed(const struct timespec *since)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) +
	    (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* The database named by --db, else ROLLCALL_DB, else libpq's defaults. */
const char *
db_conninfo(const char *flag)
{
	const char	*env;

	if (flag != NULL)
		return flag;
	if ((env = getenv("ROLLCALL_DB")) != NULL)
		return env;
	return "";
}

/* The result behind a struct db_res: the type is ours, the bytes libpq's. */
#define RES(r)	((PGresult *)(r))
#define CONN(c)	((PGconn *)(c))

/* Rows in a result (0 for an error). */
int
db_rows(const struct db_res *r)
{
	return r == NULL ? 0 : PQntuples(RES(r));
}

/* Columns in a result. */
int
db_cols(const struct db_res *r)
{
	return r == NULL ? 0 : PQnfields(RES(r));
}

/* One value as text ("" for NULL). */
const char *
db_value(const struct db_res *r, int row, int col)
{
	return PQgetvalue(RES(r), row, col);
}

/* The length in bytes of one value. */
size_t
db_length(const struct db_res *r, int row, int col)
{
	return (size_t)PQgetlength(RES(r), row, col);
}

/* True when one value is NULL. */
int
db_isnull(const struct db_res *r, int row, int col)
{
	return PQgetisnull(RES(r), row, col);
}

/* True when the statement succeeded (with or without rows). */
int
db_ok(const struct db_res *r)
{
	ExecStatusType	 st;

	if (r == NULL)
		return 0;
	st = PQresultStatus(RES(r));
	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* The SQLSTATE of a failed statement, or NULL. */
const char *
db_sqlstate(const struct db_res *r)
{
	return r == NULL ? NULL : PQresultErrorField(RES(r), PG_DIAG_SQLSTATE);
}

/* The primary message of a failed statement, or NULL. */
const char *
db_message(const struct db_res *r)
{
	return r == NULL ? NULL :
	    PQresultErrorField(RES(r), PG_DIAG_MESSAGE_PRIMARY);
}

/* The detail of a failed statement, or NULL. */
const char *
db_detail(const struct db_res *r)
{
	return r == NULL ? NULL :
	    PQresultErrorField(RES(r), PG_DIAG_MESSAGE_DETAIL);
}

/* The whole error text of a failed statement ("" when it succeeded). */
const char *
db_error(const struct db_res *r)
{
	return r == NULL ? "out of memory" : PQresultErrorMessage(RES(r));
}

/* The first row's first value parsed as JSON; NULL when none or not JSON. */
json_t *
db_json(const struct db_res *r)
{
	if (db_rows(r) < 1 || db_cols(r) < 1 || db_isnull(r, 0, 0))
		return NULL;
	return json_loadb(db_value(r, 0, 0), db_length(r, 0, 0), 0, NULL);
}

/* Zero every value of a result (PQclear does not wipe). */
void
db_res_wipe(struct db_res *r)
{
	int	 i, j, n = db_rows(r), m = db_cols(r);

	for (i = 0; i < n; i++)
		for (j = 0; j < m; j++)
			sodium_memzero(PQgetvalue(RES(r), i, j),
			    (size_t)PQgetlength(RES(r), i, j));
}

/* Release a result. */
void
db_res_free(struct db_res *r)
{
	PQclear(RES(r));
}

/* A blocking connection for commands and threads (never the loop). */
struct db_conn *
db_connect_named(const char *conninfo, const char *appname)
{
	char		 opts[128];
	const char	*keys[] = { "dbname", "application_name", "options",
	    "connect_timeout", NULL };
	const char	*vals[5];
	PGconn		*pg;

	snprintf(opts, sizeof(opts), "-c statement_timeout=%d -c TimeZone=UTC",
	    DB_STMT_TIMEOUT_MS);
	vals[0] = conninfo;
	vals[1] = appname;
	vals[2] = opts;
	vals[3] = "5";
	vals[4] = NULL;
	pg = PQconnectdbParams(keys, vals, 1);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		log_warnx("cannot connect to the database: %s",
		    pg ? PQerrorMessage(pg) : "out of memory");
		PQfinish(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg, NULL, NULL);
	return (struct db_conn *)pg;
}

/* A blocking connection for the command-line tools (never the server loop). */
struct db_conn *
db_connect_blocking(const char *conninfo)
{
	PGconn	*pg;

	pg = PQconnectdb(conninfo);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		log_warnx("cannot connect to the database: %s",
		    pg ? PQerrorMessage(pg) : "out of memory");
		PQfinish(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg, NULL, NULL);
	return (struct db_conn *)pg;
}

/* True while a blocking connection is up. */
int
db_conn_ok(struct db_conn *c)
{
	return c != NULL && PQstatus(CONN(c)) == CONNECTION_OK;
}

/* The connection's last error text. */
const char *
db_conn_error(struct db_conn *c)
{
	return c == NULL ? "no connection" : PQerrorMessage(CONN(c));
}

/*
 * Wait up to ms for a notification on c or for wakefd to be readable;
 * notifications are consumed. -1 when the connection is lost.
 */
int
db_conn_wait(struct db_conn *c, int wakefd, int ms)
{
	struct pollfd	 fds[2];
	PGnotify	*n;
	char		 ch;

	fds[0].fd = wakefd;
	fds[0].events = POLLIN;
	fds[1].fd = c != NULL ? PQsocket(CONN(c)) : -1;
	fds[1].events = POLLIN;
	if (poll(fds, c != NULL ? 2 : 1, ms) == -1 && errno != EINTR)
		return 0;
	if (fds[0].revents & POLLIN)
		if (read(wakefd, &ch, 1) == -1) {
			/* empty: nothing to do */
		}
	if (c != NULL && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
		if (!PQconsumeInput(CONN(c)))
			return -1;
		while ((n = PQnotifies(CONN(c))) != NULL)
			PQfreemem(n);
	}
	return c != NULL && PQstatus(CONN(c)) != CONNECTION_OK ? -1 : 0;
}

/*
 * Run one statement of the table on a blocking connection. The result,
 * failed or not, is the caller's to free; NULL only when out of memory.
 */
struct db_res *
db_run(struct db_conn *c, enum sql_id id, const char *const *vals, int n)
{
	return (struct db_res *)PQexecParams(CONN(c), sqls[id].text, n, NULL,
	    vals, NULL, NULL, 0);
}

/* Run one statement for its effect; logs and returns -1 on failure. */
int
db_run_ok(struct db_conn *c, enum sql_id id, const char *const *vals, int n)
{
	struct db_res	*r = db_run(c, id, vals, n);
	int		 rc = 0;

	if (!db_ok(r)) {
		log_warnx("%s: %s", sqls[id].name, db_error(r));
		rc = -1;
	}
	db_res_free(r);
	return rc;
}

/*
 * Run a script of several statements (a migration file: its text is
 * ours, read from sql/). -1, logged under what, on failure.
 */
int
db_script(struct db_conn *c, const char *text, const char *what)
{
	PGresult	*res = PQexec(CONN(c), text);
	ExecStatusType	 st = PQresultStatus(res);

	/* A file of comments alone is fine (PGRES_EMPTY_QUERY). */
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
	    st != PGRES_EMPTY_QUERY) {
		log_warnx("%s: %s", what, PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/* Close a blocking connection. */
void
db_close(struct db_conn *c)
{
	PQfinish(CONN(c));
}

/*
 * A random secret of len bytes kept in `secrets` under name: created by the
 * first process that asks (of several starting at once, ON CONFLICT lets
 * one win), then read back, whichever was kept. Blocking: start-up only.
 */
int
db_secret(struct db_conn *c, const char *name, unsigned char *out, size_t len)
{
	unsigned char	 fresh[64];
	const char	*vals[2] = { name, (const char *)fresh };
	int		 lens[2] = { 0, (int)len };
	int		 fmts[2] = { 0, 1 };
	PGconn		*pg = CONN(c);
	PGresult	*res;
	int		 rc = -1;

	if (len > sizeof(fresh))
		abort();	/* a programming error */
	randombytes_buf(fresh, len);
	res = PQexecParams(pg, sqls[SQL_SECRET_ADD].text, 2, NULL, vals,
	    lens, fmts, 1);
	sodium_memzero(fresh, sizeof(fresh));
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_warnx("cannot store the secret %s (has `rollcalld migrate` "
		    "run?): %s", name, PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	res = PQexecParams(pg, sqls[SQL_SECRET_GET].text, 1, NULL, vals,
	    NULL, NULL, 1);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    PQgetlength(res, 0, 0) == (int)len) {
		memcpy(out, PQgetvalue(res, 0, 0), len);
		rc = 0;
	} else
		log_warnx("cannot read the secret %s", name);
	db_res_wipe((struct db_res *)res);
	PQclear(res);
	return rc;
}

/* Free a job that is finished or abandoned. */
static void
job_free(struct job *j)
{
	free(j);
}

/* Finish a job with an outcome; the callback may queue more work. */
static void
job_finish(struct job *j, PGresult *res, enum db_err err)
{
	db_cb	 cb = j->cb;
	void	*arg = j->arg;

	job_free(j);
	cb(arg, (struct db_res *)res, err);
}

/* True while some connection can run queries. */
static int
pool_live(void)
{
	int	 i;

	for (i = 0; i < pool.nconns; i++)
		if (pool.conns[i].state == C_IDLE ||
		    pool.conns[i].state == C_BUSY)
			return 1;
	return 0;
}

/*
 * Watch a libpq socket for the given readiness with *ev, made anew when
 * the socket or the readiness changed (libpq may reconnect on another
 * descriptor). Shared by the pool's connections and the listeners.
 */
static int
sock_watch(PGconn *pg, struct event **ev, int *fd, short *flags, short what,
    event_callback_fn cb, void *arg)
{
	int	 s = PQsocket(pg);

	if (s < 0)
		return -1;
	if (*ev != NULL && (*fd != s || *flags != what)) {
		event_free(*ev);
		*ev = NULL;
	}
	if (*ev == NULL) {
		if ((*ev = event_new(pool.base, s, what, cb, arg)) == NULL)
			return -1;
		*fd = s;
		*flags = what;
	}
	return event_add(*ev, NULL);
}

/* Watch the connection's socket for the given readiness. */
static int
conn_watch(struct conn *c, short what)
{
	return sock_watch(c->pg, &c->ev, &c->fd, &c->evflags, what, conn_cb,
	    c);
}

/* The reconnect timer: connect again. */
static void
conn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_start(arg);
}

/*
 * What the libpq call that just failed said, and nothing older. libpq
 * keeps appending to one message buffer until the next query starts, so
 * once a statement has failed (a unique violation, say, with the key's
 * values in its DETAIL) that text is still there when the connection is
 * lost while idle, and would be logged as the reason. errmark is the
 * buffer's length when the last command completed; a new query empties
 * the buffer, so a send resets it to 0.
 */
static const char *
conn_errmsg(struct conn *c)
{
	const char	*m;
	size_t		 len;

	if (c->pg == NULL)
		return "out of memory";
	m = PQerrorMessage(c->pg);
	len = strlen(m);
	if (c->errmark <= len)
		m += c->errmark;
	return *m != '\0' ? m : "no error text from libpq";
}

/*
 * Drop a broken connection: fail its query, schedule a reconnect.
 * When it was the last live one, fail everything still queued.
 */
static void
conn_fail(struct conn *c, const char *why)
{
	struct job	*j = c->job;
	struct timeval	 tv;
	struct job	*q;

	if (pool.stopping)
		log_debug("closing database connection");
	else if (c->state != C_CONNECTING || c->backoff_ms == 0)
		log_warnx("database connection lost: %s", why);
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->res != NULL) {
		PQclear(c->res);
		c->res = NULL;
	}
	PQfinish(c->pg);
	c->pg = NULL;
	c->errmark = 0;
	c->job = NULL;
	c->state = C_DOWN;
	pool.errors++;

	if (!pool.stopping) {
		c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : 100;
		if (c->backoff_ms > 5000)
			c->backoff_ms = 5000;
		tv.tv_sec = c->backoff_ms / 1000;
		tv.tv_usec = (c->backoff_ms % 1000) * 1000;
		evtimer_add(c->timer, &tv);
	}
	if (j != NULL)
		job_finish(j, NULL, DB_EDOWN);
	if (!pool_live()) {
		while ((q = TAILQ_FIRST(&pool.queue)) != NULL) {
			TAILQ_REMOVE(&pool.queue, q, entry);
			pool.nqueued--;
			job_finish(q, NULL, DB_EDOWN);
		}
	}
}

/* Flush what libpq holds; wait for writability when the socket is full. */
static int
conn_flush(struct conn *c)
{
	int	 rc = PQflush(c->pg);

	if (rc < 0)
		return -1;
	return conn_watch(c, rc == 1 ? EV_READ | EV_WRITE : EV_READ);
}

/* Skip the statements only blocking connections run; SQL__MAX when done. */
static int
next_pooled(int i)
{
	while (i < SQL__MAX && (sqls[i].flags & SQL_DIRECT))
		i++;
	return i;
}

/* Send the next statement to prepare on a new connection. */
static void
conn_prepare_next(struct conn *c)
{
	const struct sql_stmt *s = &sqls[c->prep];

	c->errmark = 0;
	if (!PQsendPrepare(c->pg, s->name, s->text, s->nparams, NULL) ||
	    conn_flush(c) == -1)
		conn_fail(c, conn_errmsg(c));
}

/* Send a job's query on an idle connection. */
static void
conn_send(struct conn *c, struct job *j)
{
	c->job = j;
	c->state = C_BUSY;
	c->errmark = 0;
	if (!PQsendQueryPrepared(c->pg, sqls[j->id].name, j->n,
	    (const char *const *)j->vals, NULL, NULL, 0) ||
	    conn_flush(c) == -1)
		conn_fail(c, conn_errmsg(c));
}

/* An idle connection still watches its socket, to notice a lost server. */
static void
conn_idle_watch(struct conn *c)
{
	if (c->state == C_IDLE && conn_watch(c, EV_READ) == -1)
		conn_fail(c, "cannot watch socket");
}

/* One command is complete: its results are all read. */
static void
conn_command_done(struct conn *c)
{
	PGresult	*res = c->res;
	struct job	*j = c->job;

	c->res = NULL;
	/* Whatever the command said is its result's, not a later failure's. */
	c->errmark = strlen(PQerrorMessage(c->pg));
	if (c->state == C_PREPARING) {
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_warnx("cannot prepare %s: %s", sqls[c->prep].name,
			    res ? PQresultErrorMessage(res) : "no result");
			PQclear(res);
			conn_fail(c, "prepare failed");
			return;
		}
		PQclear(res);
		if ((c->prep = next_pooled(c->prep + 1)) < SQL__MAX) {
			conn_prepare_next(c);
			return;
		}
		if (c->backoff_ms)
			log_info("database connection restored");
		c->backoff_ms = 0;
		c->state = C_IDLE;
		pool_dispatch();
		conn_idle_watch(c);
		return;
	}
	/* Detach everything before the callback: it may send more work. */
	c->job = NULL;
	c->state = C_IDLE;
	if (j != NULL)
		job_finish(j, res, DB_OK);
	PQclear(res);
	pool_dispatch();
	conn_idle_watch(c);
}

/* Move a connection on while it connects; once up, prepare the statements. */
static void
conn_connect_step(struct conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		if (conn_watch(c, EV_READ) == -1)
			conn_fail(c, "cannot watch socket");
		return;
	case PGRES_POLLING_WRITING:
		if (conn_watch(c, EV_WRITE) == -1)
			conn_fail(c, "cannot watch socket");
		return;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(c->pg, 1) == -1) {
			conn_fail(c, conn_errmsg(c));
			return;
		}
		PQsetNoticeProcessor(c->pg, NULL, NULL);
		c->state = C_PREPARING;
		c->prep = next_pooled(0);
		if (c->ev != NULL) {
			event_free(c->ev);
			c->ev = NULL;
		}
		conn_prepare_next(c);
		return;
	default:
		conn_fail(c, conn_errmsg(c));
		return;
	}
}

/* A connection's socket is ready: write what is pending, read results. */
static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	PGresult	*r;

	(void)fd;
	if (c->state == C_CONNECTING) {
		conn_connect_step(c);
		return;
	}
	if (what & EV_WRITE) {
		if (conn_flush(c) == -1) {
			conn_fail(c, conn_errmsg(c));
			return;
		}
	}
	if (!(what & EV_READ)) {
		return;
	}
	if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK) {
		conn_fail(c, conn_errmsg(c));
		return;
	}
	if (c->state == C_IDLE) {
		/* Nothing expected: drain notices; re-arm. */
		if (conn_watch(c, EV_READ) == -1)
			conn_fail(c, "cannot watch socket");
		return;
	}
	while (!PQisBusy(c->pg)) {
		if ((r = PQgetResult(c->pg)) == NULL) {
			conn_command_done(c);
			return;
		}
		if (c->res == NULL)
			c->res = r;
		else
			PQclear(r);
	}
	if (conn_watch(c, c->evflags) == -1)
		conn_fail(c, "cannot watch socket");
}

/* Begin connecting; progress continues in conn_cb. */
static void
conn_start(struct conn *c)
{
	char		 opts[128];
	const char	*keys[] = { "dbname", "application_name", "options",
	    "connect_timeout", NULL };
	const char	*vals[5];

	snprintf(opts, sizeof(opts), "-c statement_timeout=%d -c TimeZone=UTC",
	    DB_STMT_TIMEOUT_MS);
	vals[0] = pool.conninfo;
	vals[1] = "rollcalld";
	vals[2] = opts;
	vals[3] = "5";
	vals[4] = NULL;
	c->pg = PQconnectStartParams(keys, vals, 1);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
		c->state = C_CONNECTING;
		conn_fail(c, conn_errmsg(c));
		return;
	}
	c->state = C_CONNECTING;
	/* As the libpq manual says: begin as if PQconnectPoll said WRITING. */
	if (conn_watch(c, EV_WRITE) == -1)
		conn_fail(c, "cannot watch socket");
}

/* Hand queued jobs to idle connections; expire jobs that waited too long. */
static void
pool_dispatch(void)
{
	struct job	*j;
	int		 i;

	while ((j = TAILQ_FIRST(&pool.queue)) != NULL) {
		if (elapsed(&j->queued) > DB_WAITSECS) {
			TAILQ_REMOVE(&pool.queue, j, entry);
			pool.nqueued--;
			job_finish(j, NULL, DB_EBUSY);
			continue;
		}
		for (i = 0; i < pool.nconns; i++)
			if (pool.conns[i].state == C_IDLE)
				break;
		if (i == pool.nconns)
			return;
		TAILQ_REMOVE(&pool.queue, j, entry);
		pool.nqueued--;
		conn_send(&pool.conns[i], j);
	}
}

/* The sweep timer: hand out queued jobs, expire those waiting too long. */
static void
pool_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	pool_dispatch();
}

/*
 * Run a prepared statement. The parameters are copied. Returns DB_OK when
 * the callback will run later, otherwise the reason it will not run.
 */
enum db_err
db_exec(enum sql_id id, const char *const *vals, int n, db_cb cb, void *arg)
{
	struct job	*j;
	size_t		 len, sz = sizeof(*j);
	char		*p;
	int		 i;

	if (!pool_live())
		return DB_EDOWN;
	if (pool.nqueued >= pool.maxqueued)
		return DB_EBUSY;
	if (n > (int)(sizeof(j->vals) / sizeof(j->vals[0])))
		abort();	/* a programming error, not input */
	for (i = 0; i < n; i++)
		if (vals[i] != NULL)
			sz += strlen(vals[i]) + 1;
	if ((j = calloc(1, sz)) == NULL)
		return DB_EBUSY;
	p = (char *)(j + 1);
	for (i = 0; i < n; i++) {
		if (vals[i] == NULL)
			continue;
		len = strlen(vals[i]) + 1;
		memcpy(p, vals[i], len);
		j->vals[i] = p;
		p += len;
	}
	j->id = id;
	j->n = n;
	j->cb = cb;
	j->arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &j->queued);
	TAILQ_INSERT_TAIL(&pool.queue, j, entry);
	pool.nqueued++;
	pool_dispatch();
	return DB_OK;
}

/*
 * LISTEN connections: one non-blocking connection per db_listen() call,
 * watched by the loop like the pool's, reporting each notification to its
 * callback. PostgreSQL keeps no notification for a session that is not
 * listening, so whatever happened while the connection was down is lost:
 * the callback hears DB_LISTEN_DOWN when it goes and DB_LISTEN_UP only
 * once LISTEN is in force again, and must assume anything changed in
 * between. Reconnects back off as the pool's do.
 */
enum listener_state {
	L_DOWN,
	L_CONNECTING,
	L_LISTENING,	/* LISTEN sent, its result not yet read */
	L_UP,
};

struct listener {
	PGconn			*pg;
	struct event		*ev;
	struct event		*timer;
	enum listener_state	 state;
	enum sql_id		 id;
	db_listen_fn		 cb;
	void			*arg;
	int			 backoff_ms;
	int			 failed;	/* LISTEN's result was an error */
	int			 fd;
	short			 evflags;
};

static struct listener	listeners[DB_MAXLISTEN];
static int		nlisteners;

static void	listener_start(struct listener *);
static void	listener_cb(evutil_socket_t, short, void *);

/* Watch a listener's socket for the given readiness. */
static int
listener_watch(struct listener *l, short what)
{
	return sock_watch(l->pg, &l->ev, &l->fd, &l->evflags, what,
	    listener_cb, l);
}

/* Drop a listener's connection, tell its owner, and retry later. */
static void
listener_fail(struct listener *l, const char *why)
{
	struct timeval	 tv;
	int		 was_up = l->state == L_UP;

	if (!pool.stopping && (l->state != L_CONNECTING || l->backoff_ms == 0))
		log_warnx("%s: connection lost: %s", sqls[l->id].name, why);
	if (l->ev != NULL) {
		event_free(l->ev);
		l->ev = NULL;
	}
	PQfinish(l->pg);
	l->pg = NULL;
	l->state = L_DOWN;
	if (pool.stopping)
		return;
	l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : 100;
	if (l->backoff_ms > DB_BACKOFF_MS)
		l->backoff_ms = DB_BACKOFF_MS;
	tv.tv_sec = l->backoff_ms / 1000;
	tv.tv_usec = (l->backoff_ms % 1000) * 1000;
	evtimer_add(l->timer, &tv);
	if (was_up)
		l->cb(l->arg, DB_LISTEN_DOWN, NULL);
}

/* The back-off timer: connect again. */
static void
listener_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	listener_start(arg);
}

/* Connected: send the LISTEN statement. */
static void
listener_send(struct listener *l)
{
	int	 rc;

	if (PQsetnonblocking(l->pg, 1) == -1 ||
	    !PQsendQuery(l->pg, sqls[l->id].text) ||
	    (rc = PQflush(l->pg)) == -1) {
		listener_fail(l, PQerrorMessage(l->pg));
		return;
	}
	PQsetNoticeProcessor(l->pg, NULL, NULL);
	l->state = L_LISTENING;
	l->failed = 0;
	if (listener_watch(l, rc == 1 ? EV_READ | EV_WRITE : EV_READ) == -1)
		listener_fail(l, "cannot watch socket");
}

/* Read LISTEN's result; once it is complete the listener is up. */
static void
listener_result(struct listener *l)
{
	PGresult	*r;

	while (!PQisBusy(l->pg)) {
		if ((r = PQgetResult(l->pg)) == NULL) {
			if (l->failed) {
				listener_fail(l, "LISTEN failed");
				return;
			}
			if (l->backoff_ms)
				log_info("%s: connection restored",
				    sqls[l->id].name);
			l->backoff_ms = 0;
			l->state = L_UP;
			l->cb(l->arg, DB_LISTEN_UP, NULL);
			return;
		}
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_warnx("%s: %s", sqls[l->id].name,
			    PQresultErrorMessage(r));
			l->failed = 1;
		}
		PQclear(r);
	}
}

/* A listener's socket is ready: connect, read LISTEN's result, or notify. */
static void
listener_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*l = arg;
	PGnotify	*n;
	int		 rc;

	(void)fd;
	if (l->state == L_CONNECTING) {
		switch (PQconnectPoll(l->pg)) {
		case PGRES_POLLING_READING:
			if (listener_watch(l, EV_READ) == -1)
				listener_fail(l, "cannot watch socket");
			return;
		case PGRES_POLLING_WRITING:
			if (listener_watch(l, EV_WRITE) == -1)
				listener_fail(l, "cannot watch socket");
			return;
		case PGRES_POLLING_OK:
			listener_send(l);
			return;
		default:
			listener_fail(l, PQerrorMessage(l->pg));
			return;
		}
	}
	if ((what & EV_WRITE) && PQflush(l->pg) == -1) {
		listener_fail(l, PQerrorMessage(l->pg));
		return;
	}
	if ((what & EV_READ) && (!PQconsumeInput(l->pg) ||
	    PQstatus(l->pg) != CONNECTION_OK)) {
		listener_fail(l, PQerrorMessage(l->pg));
		return;
	}
	if (l->state == L_LISTENING) {
		listener_result(l);
		if (l->state != L_UP)
			goto rearm;
	}
	/* The callback may not touch listeners; l stays valid. */
	while (l->state == L_UP && (n = PQnotifies(l->pg)) != NULL) {
		l->cb(l->arg, DB_LISTEN_NOTIFY, n->extra);
		PQfreemem(n);
	}
rearm:
	if (l->state == L_DOWN)
		return;
	if ((rc = PQflush(l->pg)) == -1)
		listener_fail(l, PQerrorMessage(l->pg));
	else if (listener_watch(l, rc == 1 ? EV_READ | EV_WRITE : EV_READ) ==
	    -1)
		listener_fail(l, "cannot watch socket");
}

/* Begin connecting a listener; progress continues in listener_cb. */
static void
listener_start(struct listener *l)
{
	char		 opts[128];
	const char	*keys[] = { "dbname", "application_name", "options",
	    "connect_timeout", "keepalives_idle", "keepalives_interval",
	    "keepalives_count", NULL };
	const char	*vals[8];

	/* Keepalives: a connection dead without a word is noticed in 10 s
	 * or so; until then the cache's age limit bounds what it misses. */
	snprintf(opts, sizeof(opts), "-c statement_timeout=%d",
	    DB_STMT_TIMEOUT_MS);
	vals[0] = pool.conninfo;
	vals[1] = "rollcalld-listen";
	vals[2] = opts;
	vals[3] = "5";
	vals[4] = "5";
	vals[5] = "2";
	vals[6] = "3";
	vals[7] = NULL;
	l->state = L_CONNECTING;
	l->pg = PQconnectStartParams(keys, vals, 1);
	if (l->pg == NULL || PQstatus(l->pg) == CONNECTION_BAD) {
		listener_fail(l, l->pg ? PQerrorMessage(l->pg) :
		    "out of memory");
		return;
	}
	if (listener_watch(l, EV_WRITE) == -1)
		listener_fail(l, "cannot watch socket");
}

/*
 * Run a LISTEN statement of the table (SQL_*_LISTEN) on a connection of
 * its own, after db_pool_start; cb hears DB_LISTEN_UP, each notification
 * and DB_LISTEN_DOWN, on the loop, for as long as the pool runs.
 */
int
db_listen(enum sql_id id, db_listen_fn cb, void *arg)
{
	struct listener	*l;

	if (pool.base == NULL || nlisteners == DB_MAXLISTEN)
		return -1;
	l = &listeners[nlisteners];
	memset(l, 0, sizeof(*l));
	l->id = id;
	l->cb = cb;
	l->arg = arg;
	l->fd = -1;
	if ((l->timer = evtimer_new(pool.base, listener_retry_cb, l)) == NULL)
		return -1;
	nlisteners++;
	listener_start(l);
	return 0;
}

/* Close every listener (the pool is stopping). */
static void
listeners_stop(void)
{
	struct listener	*l;
	int		 i;

	for (i = 0; i < nlisteners; i++) {
		l = &listeners[i];
		if (l->state != L_DOWN)
			listener_fail(l, "shutting down");
		event_free(l->timer);
	}
	nlisteners = 0;
}

/* How many queries may wait for a connection (--queue). */
int
db_queue_max(void)
{
	return pool.maxqueued;
}

/* Start the pool; connections come up in the background. */
int
db_pool_start(struct event_base *base, const char *conninfo, int size,
    int maxqueued)
{
	struct timeval	 tv = { 1, 0 };
	int		 i;

	pool.base = base;
	pool.maxqueued = maxqueued;
	if ((pool.conninfo = strdup(conninfo)) == NULL)
		return -1;
	TAILQ_INIT(&pool.queue);
	if ((pool.conns = calloc((size_t)size, sizeof(*pool.conns))) == NULL)
		return -1;
	pool.nconns = size;
	for (i = 0; i < size; i++) {
		pool.conns[i].timer = evtimer_new(base, conn_retry_cb,
		    &pool.conns[i]);
		if (pool.conns[i].timer == NULL)
			return -1;
		pool.conns[i].fd = -1;
	}
	pool.sweep = event_new(base, -1, EV_PERSIST, pool_sweep_cb, NULL);
	if (pool.sweep == NULL || event_add(pool.sweep, &tv) == -1)
		return -1;
	for (i = 0; i < size; i++)
		conn_start(&pool.conns[i]);
	return 0;
}

/* Close every connection; queued work is failed. */
void
db_pool_stop(void)
{
	struct conn	*c;
	int		 i;

	pool.stopping = 1;
	listeners_stop();
	for (i = 0; i < pool.nconns; i++) {
		c = &pool.conns[i];
		if (c->state != C_DOWN)
			conn_fail(c, "shutting down");
		event_free(c->timer);
	}
	if (pool.sweep != NULL)
		event_free(pool.sweep);
	free(pool.conns);
	free(pool.conninfo);
	memset(&pool, 0, sizeof(pool));
}

/* Lost connections and unexpected database errors, for /metrics. */
unsigned long long
db_error_count(void)
{
	return pool.errors;
}

/* Count an unexpected database error a caller met (its SQLSTATE). */
void
db_count_error(void)
{
	pool.errors++;
}

/* Connections in total, idle, busy, and queries waiting. */
void
db_pool_stats(int *total, int *idle, int *busy, int *waiting)
{
	int	 i;

	*total = *idle = *busy = 0;
	for (i = 0; i < pool.nconns; i++) {
		if (pool.conns[i].state == C_IDLE)
			(*idle)++;
		else if (pool.conns[i].state == C_BUSY)
			(*busy)++;
		else
			continue;
		(*total)++;
	}
	*waiting = pool.nqueued;
}
