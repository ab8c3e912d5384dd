/*
 * The router: every endpoint in one table, and what happens to a request
 * before its handler runs. It is the only file that knows every handler.
 *
 * The order for each request: match the path (404) and the method (405),
 * read the body the route declares (400, 413), learn who is asking from
 * the bearer token (401) and re-read the token's row from the database
 * (revocation, role, current scope), check the route's access (403) and,
 * for routes on one event, that the token covers it (403); parse {id}
 * and hash {secret} (404). Only then the handler, which keeps only its
 * own logic. A route open to anyone still refuses a bad token rather
 * than silently ignoring it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>
#include <sodium.h>

#include "server.h"

#define GET	EVHTTP_REQ_GET
#define POST	EVHTTP_REQ_POST
#define PATCH	EVHTTP_REQ_PATCH
#define DELETE	EVHTTP_REQ_DELETE

/* Who may call a route. */
#define ANYONE		ACCESS_ANY
#define ADMIN		ACCESS_ADMIN
#define STAFF		ACCESS_STAFF
#define DOOR		(ACCESS_DOOR | STAFF)
#define SPONSOR		ACCESS_SPONSOR
#define SPONSOR_STAFF	(ACCESS_SPONSOR | STAFF)

/* Console pages: a session cookie signs in; errors are pages. */
#define CONSOLE		(ROUTE_HTML | ROUTE_SESSION)

/*
 * Every endpoint: method, pattern, handler; access, scope, body, the
 * thing a 404 names, the name in /metrics, flags.
 */
static const struct route routes[] = {
	{ GET, "/healthz", ops_healthz,
	    ANYONE, 0, 0, "database", "healthz", 0 },
	{ GET, "/metrics", ops_metrics,
	    ANYONE, 0, 0, "metrics", "metrics", 0 },
	{ GET, "/.well-known/jwks.json", jwks_get,
	    ANYONE, 0, 0, "key set", "jwks", 0 },
	{ GET, "/api/v1/events", event_list,
	    ANYONE, 0, 0, "event", "events_list", 0 },
	{ POST, "/api/v1/events", event_create,
	    STAFF, 0, BODY_JSON, "event", "events_create", 0 },
	{ GET, "/api/v1/events/{id}", event_get,
	    ANYONE, 0, 0, "event", "events_get", 0 },
	{ PATCH, "/api/v1/events/{id}", event_update,
	    STAFF, SCOPE_EVENT, BODY_JSON, "event", "events_update", 0 },
	{ POST, "/api/v1/series", series_create,
	    STAFF, 0, BODY_JSON, "event", "series_create", 0 },
	{ POST, "/api/v1/events/{id}/registrations", registration_create,
	    ANYONE, 0, BODY_JSON, "event", "registrations_create", 0 },
	{ POST, "/api/v1/events/{id}/resend", mail_resend,
	    ANYONE, 0, BODY_JSON, "event", "events_resend", 0 },
	{ GET, "/api/v1/events/{id}/registrations", registration_list,
	    STAFF, SCOPE_EVENT, 0, "event", "registrations_list", 0 },
	{ GET, "/api/v1/registrations/{secret}", registration_get,
	    ANYONE, 0, 0, "registration", "registration_get", 0 },
	{ PATCH, "/api/v1/registrations/{secret}", registration_update,
	    ANYONE, 0, BODY_JSON, "registration", "registration_update", 0 },
	{ DELETE, "/api/v1/registrations/{secret}", registration_cancel,
	    ANYONE, 0, 0, "registration", "registration_cancel", 0 },
	{ GET, "/api/v1/registrations/{secret}/ticket.png", ticket_png_get,
	    ANYONE, 0, 0, "registration", "ticket_png", 0 },
	{ GET, "/api/v1/registrations/{secret}/ticket.svg", ticket_svg_get,
	    ANYONE, 0, 0, "registration", "ticket_svg", 0 },
	{ POST, "/api/v1/registrations/{secret}/ticket", ticket_reissue,
	    ANYONE, 0, BODY_JSON, "registration", "ticket_reissue", 0 },
	{ POST, "/api/v1/checkins", checkin_handle,
	    DOOR, 0, BODY_JSON, "event", "checkins",
	    ROUTE_TOKEN_IN_SQL | ROUTE_PRIVATE },
	{ POST, "/api/v1/checkins/batch", checkin_batch,
	    DOOR, 0, BODY_JSON, "event", "checkins_batch",
	    ROUTE_PRIVATE },
	{ GET, "/api/v1/events/{id}/offline-bundle", checkin_bundle,
	    DOOR, SCOPE_EVENT, 0, "event", "offline_bundle", 0 },
	{ GET, "/j/{secret}", join_get,
	    ANYONE, 0, 0, "join link", "join", ROUTE_HTML },
	{ GET, "/", web_index,
	    ANYONE, 0, 0, "page", "page_index", ROUTE_HTML },
	{ GET, "/events/{id}", web_event,
	    ANYONE, 0, 0, "event", "page_event", ROUTE_HTML },
	{ POST, "/events/{id}/register", web_register,
	    ANYONE, 0, BODY_FORM, "event", "page_register", ROUTE_HTML },
	{ GET, "/manage/{secret}", web_manage,
	    ANYONE, 0, 0, "registration", "page_manage", ROUTE_HTML },
	{ POST, "/manage/{secret}/cancel", web_cancel,
	    ANYONE, 0, BODY_FORM, "registration", "page_cancel", ROUTE_HTML },
	{ POST, "/manage/{secret}/consent", web_consent,
	    ANYONE, 0, BODY_FORM, "registration", "page_consent", ROUTE_HTML },
	{ POST, "/manage/{secret}/reconfirm", web_reconfirm,
	    ANYONE, 0, BODY_FORM, "registration", "page_reconfirm", ROUTE_HTML },
	{ POST, "/manage/{secret}/erase", web_erase,
	    ANYONE, 0, BODY_FORM, "registration", "page_erase", ROUTE_HTML },
	{ GET, "/manage/{secret}/event.ics", web_ics,
	    ANYONE, 0, 0, "registration", "page_ics", ROUTE_HTML },
	{ GET, "/static/style.css", web_css,
	    ANYONE, 0, 0, "file", "static", ROUTE_HTML },
	{ POST, "/api/v1/registrations/{secret}/reconfirm",
	    registration_reconfirm, ANYONE, 0, BODY_JSON, "registration",
	    "registration_reconfirm", 0 },
	{ POST, "/api/v1/registrations/{secret}/erase", registration_erase,
	    ANYONE, 0, BODY_JSON, "registration", "registration_erase", 0 },
	{ POST, "/api/v1/events/{id}/agenda", event_agenda,
	    STAFF, SCOPE_EVENT, BODY_JSON, "event", "events_agenda", 0 },
	{ POST, "/api/v1/events/{id}/shred", event_shred,
	    STAFF, SCOPE_EVENT, BODY_JSON, "event", "events_shred", 0 },
	{ POST, "/api/v1/events/{id}/sponsors", sponsor_create,
	    STAFF, SCOPE_EVENT, BODY_JSON, "event", "sponsors_create", 0 },
	{ POST, "/api/v1/leads", lead_capture,
	    SPONSOR, 0, BODY_JSON, "sponsor", "leads_capture",
	    ROUTE_PRIVATE },
	{ GET, "/api/v1/sponsors/{id}/leads", lead_list,
	    SPONSOR_STAFF, 0, 0, "sponsor", "leads_list", 0 },
	{ GET, "/api/v1/sponsors/{id}/leads.csv", lead_csv,
	    SPONSOR_STAFF, 0, 0, "sponsor", "leads_csv", 0 },
	{ GET, "/api/v1/sponsors/{id}/leads.xlsx", lead_xlsx,
	    SPONSOR_STAFF, 0, 0, "sponsor", "leads_xlsx", 0 },
	{ GET, "/api/v1/events/{id}/attendance.csv", export_attendance,
	    STAFF, SCOPE_EVENT, 0, "event", "attendance_csv", 0 },
	{ GET, "/api/v1/events/{id}/attendance.xlsx", export_attendance_xlsx,
	    STAFF, SCOPE_EVENT, 0, "event", "attendance_xlsx", 0 },
	{ GET, "/api/v1/events/{id}/badges.pdf", badge_event,
	    STAFF, SCOPE_EVENT, 0, "event", "badges_pdf", 0 },
	{ GET, "/api/v1/events/{id}/badges/{reg}", badge_get,
	    DOOR, SCOPE_EVENT, 0, "badge", "badge_pdf", 0 },
	{ GET, "/api/v1/audit", export_audit,
	    ADMIN, 0, 0, "audit", "audit", 0 },
	{ POST, "/api/v1/tokens", token_issue,
	    STAFF, 0, BODY_JSON, "token", "tokens_issue",
	    ROUTE_PRIVATE },
	{ DELETE, "/api/v1/tokens/{jti}", token_revoke,
	    STAFF, 0, 0, "token", "tokens_revoke",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/devices/claim", device_claim,
	    ANYONE, 0, BODY_JSON, "code", "devices_claim",
	    ROUTE_PRIVATE },
	/* The organizer console (session.c, account.c, console.c). */
	{ GET, "/console/login", session_login_page,
	    ANYONE, 0, 0, "page", "console_login_page", ROUTE_HTML },
	{ POST, "/console/login", session_login,
	    ANYONE, 0, BODY_FORM, "page", "console_login",
	    ROUTE_HTML | ROUTE_PRIVATE },
	{ POST, "/console/logout", session_logout,
	    STAFF, 0, BODY_FORM, "page", "console_logout",
	    CONSOLE | ROUTE_PRIVATE },
	{ POST, "/console/logout-all", session_logout_all,
	    STAFF, 0, BODY_FORM, "page", "console_logout_all",
	    CONSOLE | ROUTE_PRIVATE },
	{ GET, "/console/password/{secret}", account_password_page,
	    ANYONE, 0, 0, "link", "console_password_page", ROUTE_HTML },
	{ POST, "/console/password/{secret}", account_password_set,
	    ANYONE, 0, BODY_FORM, "link", "console_password", ROUTE_HTML },
	{ GET, "/console/reset", account_reset_page,
	    ANYONE, 0, 0, "page", "console_reset_page", ROUTE_HTML },
	{ POST, "/console/reset", account_reset,
	    ANYONE, 0, BODY_FORM, "page", "console_reset", ROUTE_HTML },
	{ GET, "/console/accounts", account_list,
	    ADMIN | ACCESS_COMMITTEE, 0, 0, "page", "console_accounts",
	    CONSOLE },
	{ POST, "/console/accounts", account_invite,
	    ADMIN | ACCESS_COMMITTEE, 0, BODY_FORM, "account",
	    "console_account_invite", CONSOLE },
	{ POST, "/console/accounts/disable", account_disable_post,
	    ADMIN, 0, BODY_FORM, "account", "console_account_disable",
	    CONSOLE },
	{ GET, "/console", console_overview,
	    STAFF | ACCESS_INFRA, 0, 0, "page", "console_overview", CONSOLE },
	{ GET, "/console/overview.json", console_overview_json,
	    STAFF, 0, 0, "page", "console_overview_json", ROUTE_SESSION },
	{ GET, "/console/events/{id}/checkin", console_desk,
	    STAFF, SCOPE_EVENT, 0, "event", "console_desk", CONSOLE },
	{ GET, "/console/events/{id}/checkin.json", console_desk_json,
	    STAFF, SCOPE_EVENT, 0, "event", "console_desk_json",
	    ROUTE_SESSION },
	{ POST, "/console/events/{id}/checkin", console_checkin,
	    STAFF, SCOPE_EVENT, BODY_FORM, "registration", "console_checkin",
	    CONSOLE | ROUTE_PRIVATE },
	{ POST, "/console/events/{id}/checkin/undo", console_checkin_undo,
	    STAFF, SCOPE_EVENT, BODY_FORM, "registration",
	    "console_checkin_undo", CONSOLE | ROUTE_PRIVATE },
	{ GET, "/console/events/{id}/registrations", console_registrations,
	    STAFF, SCOPE_EVENT, 0, "event", "console_regs", CONSOLE },
	{ POST, "/console/events/{id}/registrations/cancel", console_reg_cancel,
	    STAFF, SCOPE_EVENT, BODY_FORM, "registration", "console_cancel",
	    CONSOLE },
	{ POST, "/console/events/{id}/registrations/promote",
	    console_reg_promote, STAFF, SCOPE_EVENT, BODY_FORM, "registration",
	    "console_promote", CONSOLE },
	{ POST, "/console/events/{id}/registrations/resend", console_reg_resend,
	    STAFF, SCOPE_EVENT, BODY_FORM, "registration", "console_resend",
	    CONSOLE },
	{ POST, "/console/events/{id}/registrations/walk-in", console_walk_in,
	    STAFF, SCOPE_EVENT, BODY_FORM, "event", "console_walk_in",
	    CONSOLE },
	{ GET, "/console/events/{id}/attendance.csv", console_export,
	    STAFF, SCOPE_EVENT, 0, "event", "console_export", CONSOLE },
	{ GET, "/console/events/{id}/attendance.xlsx", console_export_xlsx,
	    STAFF, SCOPE_EVENT, 0, "event", "console_export_xlsx", CONSOLE },
	{ GET, "/console/events/new", editor_new,
	    STAFF, 0, 0, "event", "console_event_new", CONSOLE },
	{ POST, "/console/events/new", editor_create,
	    STAFF, 0, BODY_FORM, "event", "console_event_create", CONSOLE },
	{ GET, "/console/events/{id}/edit", editor_edit,
	    STAFF, SCOPE_EVENT, 0, "event", "console_event_edit", CONSOLE },
	{ POST, "/console/events/{id}/edit", editor_update,
	    STAFF, SCOPE_EVENT, BODY_FORM, "event", "console_event_update",
	    CONSOLE },
	{ POST, "/console/events/{id}/status", editor_status,
	    STAFF, SCOPE_EVENT, BODY_FORM, "event", "console_event_status",
	    CONSOLE },
	{ GET, "/console/events/{id}/sponsors", console_sponsors,
	    STAFF, SCOPE_EVENT, 0, "event", "console_sponsors", CONSOLE },
	{ POST, "/console/events/{id}/sponsors", console_sponsor_add,
	    STAFF, SCOPE_EVENT, BODY_FORM, "event", "console_sponsor_add",
	    CONSOLE },
	{ POST, "/console/events/{id}/sponsors/rename", console_sponsor_rename,
	    STAFF, SCOPE_EVENT, BODY_FORM, "sponsor", "console_sponsor_rename",
	    CONSOLE },
	{ GET, "/console/events/{id}/devices", device_page,
	    STAFF, SCOPE_EVENT, 0, "event", "console_devices", CONSOLE },
	{ POST, "/console/events/{id}/devices", device_issue,
	    STAFF, SCOPE_EVENT, BODY_FORM, "event", "console_device_issue",
	    CONSOLE },
	{ POST, "/console/events/{id}/devices/revoke", device_revoke,
	    STAFF, SCOPE_EVENT, BODY_FORM, "token", "console_device_revoke",
	    CONSOLE },
	/* The reprint button: the API's badge PDF, under the session. */
	{ GET, "/console/events/{id}/badges/{reg}", badge_get,
	    STAFF, SCOPE_EVENT, 0, "badge", "console_badge", CONSOLE },
	{ GET, "/console/audit", console_audit,
	    ADMIN, 0, 0, "page", "console_audit", CONSOLE },
	{ GET, "/static/console.js", console_js,
	    ANYONE, 0, 0, "file", "static_js", ROUTE_HTML },
	/*
	 * The community: chapters, staff roles, tokens and accounts of the new roles.
	 * (chapters)
	 */
	{ GET, "/api/v1/chapters", chapter_list,
	    ANYONE, 0, 0, "chapter", "chapters_list", 0 },
	{ POST, "/api/v1/chapters", chapter_create,
	    ADMIN | ACCESS_COMMITTEE, 0, BODY_JSON, "chapter",
	    "chapters_create", ROUTE_PRIVATE },
	{ GET, "/api/v1/chapters/{slug}", chapter_get,
	    ANYONE, 0, 0, "chapter", "chapters_get", 0 },
	{ PATCH, "/api/v1/chapters/{slug}", chapter_update,
	    ADMIN | ACCESS_COMMITTEE, 0, BODY_JSON, "chapter",
	    "chapters_update", 0 },
	{ POST, "/api/v1/chapters/{slug}/leaders", chapter_leader_add,
	    ADMIN | ACCESS_COMMITTEE, 0, BODY_JSON, "chapter",
	    "chapters_leader_add", ROUTE_PRIVATE },
	{ DELETE, "/api/v1/chapters/{slug}/leaders/{person}",
	    chapter_leader_remove, ADMIN | ACCESS_COMMITTEE, 0, 0, "leader",
	    "chapters_leader_remove", ROUTE_PRIVATE },
	{ GET, "/chapters", chapter_page_list,
	    ANYONE, 0, 0, "page", "page_chapters", ROUTE_HTML },
	{ GET, "/chapters/{slug}", chapter_page,
	    ANYONE, 0, 0, "chapter", "page_chapter", ROUTE_HTML },
	{ GET, "/console/chapters", chapter_console_list,
	    ADMIN | ACCESS_COMMITTEE, 0, 0, "page", "console_chapters",
	    CONSOLE },
	{ POST, "/console/chapters", chapter_console_create,
	    ADMIN | ACCESS_COMMITTEE, 0, BODY_FORM, "chapter",
	    "console_chapter_create", CONSOLE | ROUTE_PRIVATE },
	{ GET, "/console/chapters/{slug}", chapter_console_page,
	    ADMIN | ACCESS_COMMITTEE, 0, 0, "chapter", "console_chapter",
	    CONSOLE },
	{ POST, "/console/chapters/{slug}", chapter_console_update,
	    ADMIN | ACCESS_COMMITTEE, 0, BODY_FORM, "chapter",
	    "console_chapter_update", CONSOLE },
	{ POST, "/console/chapters/{slug}/leaders", chapter_console_leader_add,
	    ADMIN | ACCESS_COMMITTEE, 0, BODY_FORM, "chapter",
	    "console_chapter_leader_add", CONSOLE | ROUTE_PRIVATE },
	{ POST, "/console/chapters/{slug}/leaders/remove",
	    chapter_console_leader_remove, ADMIN | ACCESS_COMMITTEE, 0,
	    BODY_FORM, "leader", "console_chapter_leader_remove",
	    CONSOLE | ROUTE_PRIVATE },
	/*
	 * The community: people and members, the member page, members-only events.
	 * (members)
	 */
	{ GET, "/join", member_join_page,
	    ANYONE, 0, 0, "page", "page_join", ROUTE_HTML },
	{ POST, "/join", member_join_form,
	    ANYONE, 0, BODY_FORM, "page", "page_join_post",
	    ROUTE_HTML | ROUTE_PRIVATE },
	{ GET, "/join/{secret}", member_confirm_page,
	    ANYONE, 0, 0, "link", "page_join_confirm", ROUTE_HTML },
	{ POST, "/join/{secret}", member_confirm_form,
	    ANYONE, 0, BODY_FORM, "link", "page_join_confirm_post",
	    ROUTE_HTML | ROUTE_PRIVATE },
	{ GET, "/member", member_link_page,
	    ANYONE, 0, 0, "page", "page_member_link", ROUTE_HTML },
	{ POST, "/member", member_link_form,
	    ANYONE, 0, BODY_FORM, "page", "page_member_link_post",
	    ROUTE_HTML | ROUTE_PRIVATE },
	{ GET, "/member/{secret}", member_page,
	    ANYONE, 0, 0, "member", "page_member", ROUTE_HTML },
	{ POST, "/member/{secret}/profile", member_profile_form,
	    ANYONE, 0, BODY_FORM, "member", "page_member_profile",
	    ROUTE_HTML | ROUTE_PRIVATE },
	{ POST, "/member/{secret}/chapters", member_chapters_form,
	    ANYONE, 0, BODY_FORM, "member", "page_member_chapters",
	    ROUTE_HTML | ROUTE_PRIVATE },
	{ POST, "/member/{secret}/erase", member_erase_form,
	    ANYONE, 0, BODY_FORM, "member", "page_member_erase", ROUTE_HTML },
	{ GET, "/member/{secret}/events/{id}", member_event_page,
	    ANYONE, 0, 0, "event", "page_member_event", ROUTE_HTML },
	{ POST, "/member/{secret}/events/{id}/register", member_register_form,
	    ANYONE, 0, BODY_FORM, "event", "page_member_register", ROUTE_HTML },
	{ POST, "/api/v1/members", member_join_api,
	    ANYONE, 0, BODY_JSON, "member", "members_join", ROUTE_PRIVATE },
	{ POST, "/api/v1/members/confirm/{secret}", member_confirm_api,
	    ANYONE, 0, BODY_JSON, "link", "members_confirm", ROUTE_PRIVATE },
	{ POST, "/api/v1/members/link", member_link_api,
	    ANYONE, 0, BODY_JSON, "member", "members_link", ROUTE_PRIVATE },
	{ GET, "/api/v1/member/{secret}", member_get,
	    ANYONE, 0, 0, "member", "member_get", 0 },
	{ PATCH, "/api/v1/member/{secret}", member_update,
	    ANYONE, 0, BODY_JSON, "member", "member_update", ROUTE_PRIVATE },
	{ GET, "/api/v1/member/{secret}/export", member_export,
	    ANYONE, 0, 0, "member", "member_export", 0 },
	{ POST, "/api/v1/member/{secret}/erase", member_erase,
	    ANYONE, 0, BODY_JSON, "member", "member_erase", 0 },
	{ POST, "/api/v1/member/{secret}/registrations", member_register,
	    ANYONE, 0, BODY_JSON, "event", "member_register", 0 },
	/*
	 * The community: proposals and decisions, sponsorships, leader applications.
	 * (approval)
	 */
	{ POST, "/api/v1/events/{id}/proposal", approval_propose,
	    STAFF, SCOPE_EVENT, BODY_JSON, "event", "ap_propose", 0 },
	{ POST, "/api/v1/events/{id}/decision", approval_decide,
	    ACCESS_ADMIN | ACCESS_COMMITTEE, SCOPE_EVENT, BODY_JSON, "event",
	    "ap_event_decide", 0 },
	{ GET, "/api/v1/proposals", approval_queue,
	    ACCESS_ADMIN | ACCESS_COMMITTEE, 0, 0, "proposal", "ap_proposals",
	    0 },
	{ POST, "/api/v1/sponsorships", sponsorship_create,
	    STAFF, 0, BODY_JSON, "sponsorship", "ap_sponsorship_create", 0 },
	{ POST, "/api/v1/sponsorships/{id}/decision", sponsorship_decide,
	    ACCESS_ADMIN | ACCESS_COMMITTEE, 0, BODY_JSON, "sponsorship",
	    "ap_sponsorship_decide", 0 },
	{ POST, "/api/v1/applications", application_create,
	    ANYONE, 0, BODY_JSON, "application", "ap_apply_api",
	    ROUTE_PRIVATE },
	{ GET, "/api/v1/applications", application_list,
	    ACCESS_ADMIN | ACCESS_COMMITTEE, 0, 0, "application",
	    "ap_applications", 0 },
	{ GET, "/api/v1/applications/{id}", application_get,
	    ACCESS_ADMIN | ACCESS_COMMITTEE, 0, 0, "application",
	    "ap_application", 0 },
	{ POST, "/api/v1/applications/{id}/notes", application_note,
	    ACCESS_ADMIN | ACCESS_COMMITTEE, 0, BODY_JSON, "application",
	    "ap_application_note", ROUTE_PRIVATE },
	{ POST, "/api/v1/applications/{id}/decision", application_decide,
	    ACCESS_ADMIN | ACCESS_COMMITTEE, 0, BODY_JSON, "application",
	    "ap_application_decide", ROUTE_PRIVATE },
	{ GET, "/apply", apply_page,
	    ANYONE, 0, 0, "page", "ap_apply_page", ROUTE_HTML },
	{ POST, "/apply", apply_post,
	    ANYONE, 0, BODY_FORM, "page", "ap_apply_form",
	    ROUTE_HTML | ROUTE_PRIVATE },
	{ GET, "/console/proposals", console_proposals,
	    ACCESS_ADMIN | ACCESS_COMMITTEE, 0, 0, "page",
	    "ap_console_proposals", CONSOLE },
	{ POST, "/console/proposals/events/{id}", console_proposal_event,
	    ACCESS_ADMIN | ACCESS_COMMITTEE, SCOPE_EVENT, BODY_FORM, "event",
	    "ap_console_event_decide", CONSOLE },
	{ POST, "/console/proposals/sponsorships/{id}",
	    console_proposal_sponsorship, ACCESS_ADMIN | ACCESS_COMMITTEE, 0,
	    BODY_FORM, "sponsorship", "ap_console_sponsorship_decide",
	    CONSOLE },
	{ GET, "/console/applications", console_applications,
	    ACCESS_ADMIN | ACCESS_COMMITTEE, 0, 0, "page",
	    "ap_console_applications", CONSOLE },
	{ GET, "/console/applications/{id}", console_application,
	    ACCESS_ADMIN | ACCESS_COMMITTEE, 0, 0, "application",
	    "ap_console_application", CONSOLE },
	{ POST, "/console/applications/{id}/notes", console_application_note,
	    ACCESS_ADMIN | ACCESS_COMMITTEE, 0, BODY_FORM, "application",
	    "ap_console_application_note", CONSOLE | ROUTE_PRIVATE },
	{ POST, "/console/applications/{id}/decision",
	    console_application_decide, ACCESS_ADMIN | ACCESS_COMMITTEE, 0,
	    BODY_FORM, "application", "ap_console_application_decide",
	    CONSOLE | ROUTE_PRIVATE },
	/*
	 * The community: reports: identity mix, chapter health, attendance, growth.
	 * (reports)
	 * Read: every chapter (admin, committee) or one's own (leaders);
	 * the goals change only by admin and committee.
	 */
#define RP_READ		(ACCESS_ADMIN | ACCESS_COMMITTEE | ACCESS_LEADER | \
			 ACCESS_TRACK_OWNER)
#define RP_GOALS	(ACCESS_ADMIN | ACCESS_COMMITTEE)
	{ GET, "/api/v1/reports/identity", report_identity,
	    RP_READ, 0, 0, "report", "reports_identity", 0 },
	{ GET, "/api/v1/reports/chapter-health", report_health,
	    RP_READ, 0, 0, "report", "reports_health", 0 },
	{ GET, "/api/v1/reports/attendance", report_attendance,
	    RP_READ, 0, 0, "report", "reports_attendance", 0 },
	{ GET, "/api/v1/reports/growth", report_growth,
	    RP_READ, 0, 0, "report", "reports_growth", 0 },
	{ GET, "/api/v1/reports/goals", report_goals_get,
	    RP_READ, 0, 0, "goals", "reports_goals", 0 },
	{ PATCH, "/api/v1/reports/goals", report_goals_set,
	    RP_GOALS, 0, BODY_JSON, "goals", "reports_goals_set",
	    ROUTE_PRIVATE },
	{ GET, "/console/reports", report_console,
	    RP_READ, 0, 0, "report", "console_reports", CONSOLE },
	{ POST, "/console/reports/goals", report_console_goals,
	    RP_GOALS, 0, BODY_FORM, "goals", "console_reports_goals",
	    CONSOLE | ROUTE_PRIVATE },
	{ GET, "/static/reports.css", report_css,
	    ANYONE, 0, 0, "file", "static_reports_css", ROUTE_HTML },
	/*
	 * The community: NightTalk series: series sign-up, episode attendance, topic votes.
	 * (series)
	 */
	{ GET, "/api/v1/member/{secret}/series/{id}", series_member_get,
	    ANYONE, 0, 0, "member", "member_series_get", 0 },
	{ POST, "/api/v1/member/{secret}/series/{id}", series_signup,
	    ANYONE, 0, BODY_JSON, "member", "member_series_signup",
	    ROUTE_PRIVATE },
	{ DELETE, "/api/v1/member/{secret}/series/{id}", series_withdraw,
	    ANYONE, 0, 0, "member", "member_series_withdraw", ROUTE_PRIVATE },
	{ PATCH, "/api/v1/series/{id}", series_update,
	    STAFF, 0, BODY_JSON, "series", "series_update", ROUTE_PRIVATE },
	{ GET, "/api/v1/series/{id}/report", series_report,
	    STAFF, 0, 0, "series", "series_report", 0 },
	{ GET, "/api/v1/topics", topic_list,
	    ANYONE, 0, 0, "chapter", "topics_list", 0 },
	{ POST, "/api/v1/topics", topic_propose,
	    ACCESS_TOPICS, 0, BODY_JSON, "chapter", "topics_propose",
	    ROUTE_PRIVATE },
	{ PATCH, "/api/v1/topics/{id}", topic_update,
	    ACCESS_TOPICS, 0, BODY_JSON, "topic", "topics_update",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/member/{secret}/votes", vote_cast,
	    ANYONE, 0, BODY_JSON, "member", "member_vote", ROUTE_PRIVATE },
	{ DELETE, "/api/v1/member/{secret}/votes/{id}", vote_withdraw,
	    ANYONE, 0, 0, "member", "member_unvote", ROUTE_PRIVATE },
	{ GET, "/member/{secret}/series/{id}", series_page,
	    ANYONE, 0, 0, "series", "page_member_series", ROUTE_HTML },
	{ POST, "/member/{secret}/series/{id}", series_page_post,
	    ANYONE, 0, BODY_FORM, "series", "page_member_series_post",
	    ROUTE_HTML | ROUTE_PRIVATE },
	{ GET, "/member/{secret}/topics", topic_member_page,
	    ANYONE, 0, 0, "member", "page_member_topics", ROUTE_HTML },
	{ POST, "/member/{secret}/topics", topic_member_post,
	    ANYONE, 0, BODY_FORM, "topic", "page_member_vote",
	    ROUTE_HTML | ROUTE_PRIVATE },
	{ GET, "/console/topics", topic_console,
	    STAFF, 0, 0, "page", "console_topics", CONSOLE },
	{ POST, "/console/topics", topic_console_propose,
	    ACCESS_TOPICS, 0, BODY_FORM, "chapter", "console_topic_propose",
	    CONSOLE | ROUTE_PRIVATE },
	{ POST, "/console/topics/status", topic_console_status,
	    ACCESS_TOPICS, 0, BODY_FORM, "topic", "console_topic_status",
	    CONSOLE | ROUTE_PRIVATE },
	{ GET, "/console/series/{id}", series_console,
	    STAFF, 0, 0, "series", "console_series_report", CONSOLE },
	/*
	 * The community: contributions, the points ledger, benefits, titles.
	 * (recognition)
	 */
	{ GET, "/api/v1/contributions/points", contribution_points_get,
	    RECOGNITION_RECORD, 0, 0, "points", "rc_points_get", 0 },
	{ PATCH, "/api/v1/contributions/points", contribution_points_set,
	    RECOGNITION_MANAGE, 0, BODY_JSON, "points", "rc_points_set",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/contributions", contribution_record,
	    RECOGNITION_RECORD, 0, BODY_JSON, "contribution", "rc_record",
	    ROUTE_PRIVATE },
	{ GET, "/api/v1/contributions", contribution_list,
	    RECOGNITION_RECORD, 0, 0, "contribution", "rc_list", 0 },
	{ POST, "/api/v1/contributions/{id}/review", contribution_review,
	    RECOGNITION_REVIEW, 0, BODY_JSON, "contribution", "rc_review",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/contributions/{id}/confirm", contribution_confirm,
	    RECOGNITION_RECORD, 0, BODY_JSON, "contribution", "rc_confirm",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/contributions/{id}/dismiss", contribution_dismiss,
	    RECOGNITION_RECORD, 0, BODY_JSON, "contribution", "rc_dismiss",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/points/corrections", points_adjust,
	    RECOGNITION_MANAGE, 0, BODY_JSON, "person", "rc_correction",
	    ROUTE_PRIVATE },
	{ GET, "/api/v1/benefits", points_benefits,
	    ANYONE, 0, 0, "benefit", "rc_benefits", 0 },
	{ POST, "/api/v1/benefits", points_benefit_create,
	    RECOGNITION_MANAGE, 0, BODY_JSON, "benefit", "rc_benefit_create",
	    ROUTE_PRIVATE },
	{ PATCH, "/api/v1/benefits/{id}", points_benefit_update,
	    RECOGNITION_MANAGE, 0, BODY_JSON, "benefit", "rc_benefit_update",
	    ROUTE_PRIVATE },
	{ GET, "/api/v1/redemptions", points_redemptions,
	    RECOGNITION_MANAGE, 0, 0, "redemption", "rc_redemptions", 0 },
	{ POST, "/api/v1/redemptions/{id}/approve", points_redemption_approve,
	    RECOGNITION_MANAGE, 0, BODY_JSON, "redemption", "rc_approve",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/redemptions/{id}/reject", points_redemption_reject,
	    RECOGNITION_MANAGE, 0, BODY_JSON, "redemption", "rc_reject",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/redemptions/{id}/fulfill", points_redemption_fulfill,
	    RECOGNITION_MANAGE, 0, BODY_JSON, "redemption", "rc_fulfill",
	    ROUTE_PRIVATE },
	{ GET, "/api/v1/titles", recognition_titles,
	    STAFF | ACCESS_INFRA, 0, 0, "title", "rc_titles", 0 },
	{ POST, "/api/v1/titles", recognition_title_grant,
	    RECOGNITION_MANAGE, 0, BODY_JSON, "title", "rc_title_grant",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/titles/{id}/revoke", recognition_title_revoke,
	    RECOGNITION_MANAGE, 0, BODY_JSON, "title", "rc_title_revoke",
	    ROUTE_PRIVATE },
	{ GET, "/api/v1/leaderboard", recognition_leaderboard,
	    RECOGNITION_RECORD, 0, 0, "chapter", "rc_leaderboard", 0 },
	{ GET, "/api/v1/member/{secret}/recognition", points_member,
	    ANYONE, 0, 0, "member", "rc_member", 0 },
	{ POST, "/api/v1/member/{secret}/redemptions", points_member_redeem,
	    ANYONE, 0, BODY_JSON, "member", "rc_member_redeem",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/member/{secret}/profile", points_member_profile,
	    ANYONE, 0, BODY_JSON, "member", "rc_member_profile",
	    ROUTE_PRIVATE },
	{ GET, "/people/{id}", recognition_profile,
	    ANYONE, 0, 0, "profile", "rc_profile_page", ROUTE_HTML },
	{ GET, "/member/{secret}/points", points_member_page,
	    ANYONE, 0, 0, "member", "rc_points_page", ROUTE_HTML },
	{ POST, "/member/{secret}/points/redeem", points_member_page_redeem,
	    ANYONE, 0, BODY_FORM, "member", "rc_points_page_redeem",
	    ROUTE_HTML | ROUTE_PRIVATE },
	{ POST, "/member/{secret}/points/listed", points_member_page_listed,
	    ANYONE, 0, BODY_FORM, "member", "rc_points_page_listed",
	    ROUTE_HTML | ROUTE_PRIVATE },
	{ GET, "/console/contributions", contribution_console,
	    RECOGNITION_RECORD, 0, 0, "page", "console_contributions",
	    CONSOLE },
	{ POST, "/console/contributions", contribution_console_record,
	    RECOGNITION_RECORD, 0, BODY_FORM, "contribution",
	    "console_contribution_record", CONSOLE | ROUTE_PRIVATE },
	{ POST, "/console/contributions/review", contribution_console_review,
	    RECOGNITION_REVIEW, 0, BODY_FORM, "contribution",
	    "console_contribution_review", CONSOLE | ROUTE_PRIVATE },
	{ POST, "/console/contributions/proposal",
	    contribution_console_proposal, RECOGNITION_RECORD, 0, BODY_FORM,
	    "contribution", "console_contribution_proposal",
	    CONSOLE | ROUTE_PRIVATE },
	{ GET, "/console/benefits", points_console,
	    RECOGNITION_MANAGE, 0, 0, "page", "console_benefits", CONSOLE },
	{ POST, "/console/benefits", points_console_benefit,
	    RECOGNITION_MANAGE, 0, BODY_FORM, "benefit",
	    "console_benefit_save", CONSOLE | ROUTE_PRIVATE },
	{ POST, "/console/redemptions", points_console_redemption,
	    RECOGNITION_MANAGE, 0, BODY_FORM, "redemption",
	    "console_redemption", CONSOLE | ROUTE_PRIVATE },
	{ GET, "/console/leaderboard", recognition_console_leaderboard,
	    RECOGNITION_RECORD, 0, 0, "page", "console_leaderboard",
	    CONSOLE },
	/*
	 * The community: volunteers and certificates.
	 * (certificates)
	 */
	{ POST, "/api/v1/events/{id}/volunteers", volunteer_create,
	    ANYONE, 0, BODY_JSON, "event", "volunteers_create",
	    ROUTE_PRIVATE },
	{ GET, "/api/v1/events/{id}/volunteers", volunteer_list,
	    STAFF, SCOPE_EVENT, 0, "event", "volunteers_list", 0 },
	{ POST, "/api/v1/volunteers/{id}/decision", volunteer_decision,
	    STAFF, 0, BODY_JSON, "volunteer", "volunteers_decision",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/volunteers/{id}/attended", volunteer_attended,
	    STAFF, 0, BODY_JSON, "volunteer", "volunteers_attended",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/volunteers/{id}/outstanding", volunteer_outstanding,
	    STAFF, 0, BODY_JSON, "volunteer", "volunteers_outstanding",
	    ROUTE_PRIVATE },
	{ POST, "/api/v1/certificates", certificate_issue,
	    STAFF, 0, BODY_JSON, "certificate", "certificates_issue",
	    ROUTE_PRIVATE },
	{ GET, "/api/v1/certificates", certificate_list,
	    STAFF, 0, 0, "certificate", "certificates_list", 0 },
	{ GET, "/api/v1/certificates/{code}", certificate_pdf,
	    STAFF, 0, 0, "certificate", "certificates_pdf", 0 },
	{ POST, "/api/v1/certificates/{code}/revoke", certificate_revoke,
	    STAFF, 0, BODY_JSON, "certificate", "certificates_revoke",
	    ROUTE_PRIVATE },
	{ GET, "/api/v1/verify/{code}", certificate_verify_api,
	    ANYONE, 0, 0, "certificate", "verify_api", 0 },
	{ GET, "/verify/{code}", certificate_verify_page,
	    ANYONE, 0, 0, "certificate", "page_verify", ROUTE_HTML },
	{ GET, "/api/v1/member/{secret}/certificates", certificate_member_list,
	    ANYONE, 0, 0, "member", "member_certificates", 0 },
	{ GET, "/member/{secret}/certificates/{code}", certificate_member_pdf,
	    ANYONE, 0, 0, "certificate", "member_certificate_pdf",
	    ROUTE_HTML },
	{ GET, "/events/{id}/volunteer", volunteer_page,
	    ANYONE, 0, 0, "event", "page_volunteer", ROUTE_HTML },
	{ POST, "/events/{id}/volunteer", volunteer_post,
	    ANYONE, 0, BODY_FORM, "event", "page_volunteer_post",
	    ROUTE_HTML | ROUTE_PRIVATE },
	{ GET, "/console/events/{id}/volunteers", console_volunteers,
	    STAFF, SCOPE_EVENT, 0, "event", "console_volunteers", CONSOLE },
	{ POST, "/console/events/{id}/volunteers", console_volunteer_act,
	    STAFF, SCOPE_EVENT, BODY_FORM, "volunteer",
	    "console_volunteer_act", CONSOLE | ROUTE_PRIVATE },
	{ GET, "/console/certificates", console_certificates,
	    STAFF, 0, 0, "page", "console_certificates", CONSOLE },
	{ POST, "/console/certificates", console_certificate_issue,
	    STAFF, 0, BODY_FORM, "certificate", "console_certificate_issue",
	    CONSOLE | ROUTE_PRIVATE },
	{ POST, "/console/certificates/revoke", console_certificate_revoke,
	    STAFF, 0, BODY_FORM, "certificate", "console_certificate_revoke",
	    CONSOLE | ROUTE_PRIVATE },
	{ GET, "/console/certificates/{code}", certificate_pdf,
	    STAFF, 0, 0, "certificate", "console_certificate_pdf", CONSOLE },
};
#define NROUTES	((int)(sizeof(routes) / sizeof(routes[0])))

static void	router_run(struct req *);
static void	router_token_done(struct req *, struct db_res *);
static void	router_session_done(struct req *, struct db_res *);

/*
 * Match a path against a pattern; "{x}" matches one non-empty segment of
 * URL-safe characters (at most ROUTE_MAXSEGMENT). Returns 1 on a match
 * and fills params (strdup'd, *nparams of them), else 0 with none kept.
 */
int
router_match(const char *pattern, const char *path, char **params,
    int *nparams)
{
	const char	*p = pattern, *s = path, *e;
	char		 seg[ROUTE_MAXSEGMENT + 1];
	size_t		 len;

	*nparams = 0;
	while (*p != '\0') {
		if (*p == '{') {
			for (e = s; *e != '\0' && *e != '/'; e++)
				;
			len = (size_t)(e - s);
			if (len == 0 || len > ROUTE_MAXSEGMENT ||
			    *nparams == HTTP_MAXPARAMS)
				goto nomatch;
			memcpy(seg, s, len);
			seg[len] = '\0';
			if (!util_urlsafe(seg, 1) ||
			    (params[*nparams] = strdup(seg)) == NULL)
				goto nomatch;
			(*nparams)++;
			s = e;
			while (*p != '\0' && *p != '}')
				p++;
			if (*p == '}')
				p++;
			continue;
		}
		if (*p != *s)
			goto nomatch;
		p++;
		s++;
	}
	if (*s == '\0' || (*s == '/' && s[1] == '\0'))
		return 1;
nomatch:
	while (*nparams > 0)
		free(params[--(*nparams)]);
	return 0;
}

/* The path pattern of route i, or NULL past the table (fuzzing, tests). */
const char *
router_pattern(int i)
{
	return i >= 0 && i < NROUTES ? routes[i].pattern : NULL;
}

/* The methods a path answers, for Allow. */
static const char *
method_name(int m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET, HEAD";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PATCH: return "PATCH";
	case EVHTTP_REQ_DELETE: return "DELETE";
	default: return "?";
	}
}

/* Find the route for r's method and path; replies 404 or 405 when none. */
static const struct route *
router_find(struct req *r, int *idx)
{
	char	 allow[128];
	int	 i, path_matched = 0;

	allow[0] = '\0';
	for (i = 0; i < NROUTES; i++) {
		if (!router_match(routes[i].pattern, r->path, r->params,
		    &r->nparams))
			continue;
		path_matched = 1;
		if (r->method == routes[i].method) {
			*idx = i;
			return &routes[i];
		}
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow),
		    "%s%s", allow[0] ? ", " : "", method_name(routes[i].method));
		while (r->nparams > 0)
			free(r->params[--r->nparams]);
	}
	if (path_matched) {
		evhttp_add_header(evhttp_request_get_output_headers(r->ev),
		    "Allow", allow);
		http_error(r, 405, "method_not_allowed", "That method is not "
		    "allowed on this resource (allowed: %s).", allow);
	} else
		http_error(r, 404, "not_found", "No such resource.");
	return NULL;
}

/*
 * Every request, from http.c: find its route, read its body, then learn
 * who is asking.
 */
static void
router_dispatch(struct req *r)
{
	const struct route	*rt;
	const char		*hdr, *params[3];
	struct claims		 c;
	int			 idx;

	if ((rt = router_find(r, &idx)) == NULL)
		return;
	r->route = rt;
	r->route_idx = idx;
	r->name = rt->name;
	r->thing = rt->thing;
	r->html = (rt->flags & ROUTE_HTML) != 0;
	if ((rt->body == BODY_JSON && req_read_json(r) == -1) ||
	    (rt->body == BODY_FORM && req_read_form(r) == -1))
		return;
	hdr = evhttp_find_header(evhttp_request_get_input_headers(r->ev),
	    "Authorization");
	if (hdr == NULL) {
		if (rt->access == ACCESS_ANY) {
			router_run(r);
			return;
		}
		/*
		 * A console page: the session cookie stands for a token. Its
		 * row and its account's role and scope are re-read now, as a
		 * token's are, so a signed-out session or a disabled account
		 * fails here on every daemon.
		 */
		if (rt->flags & ROUTE_SESSION) {
			char	 idle[16], max[16];

			if (session_cookie_hash(r, r->auth.session,
			    sizeof(r->auth.session)) == -1) {
				session_need_login(r);
				return;
			}
			snprintf(idle, sizeof(idle), "%d", SESSION_IDLE_SECS);
			snprintf(max, sizeof(max), "%d", SESSION_MAX_SECS);
			params[0] = r->auth.session;
			params[1] = idle;
			params[2] = max;
			req_query(r, SQL_SESSION_LIVE, params, 3,
			    router_session_done);
			return;
		}
		http_error(r, 401, "missing_token", "This needs a staff "
		    "token: send \"Authorization: Bearer TOKEN\".");
		return;
	}
	if (strncasecmp(hdr, "Bearer ", 7) != 0 ||
	    auth_verify(hdr + 7, &c) == -1) {
		http_error(r, 401, "invalid_token", "The token is malformed, "
		    "expired, or not signed by this server.");
		return;
	}
	r->has_token = 1;
	r->auth.role = c.role;
	r->auth.roles = 1u << c.role;
	memcpy(r->auth.jti, c.jti, sizeof(r->auth.jti));
	sodium_memzero(&c, sizeof(c));
	/*
	 * A route whose one statement re-reads the token's row (revocation,
	 * role, scope) saves the round trip here; the claimed role still
	 * gets a quick refusal.
	 */
	if (rt->flags & ROUTE_TOKEN_IN_SQL) {
		if (!(rt->access & r->auth.roles)) {
			http_error(r, 403, "forbidden", "A %s token may not do "
			    "this.", role_str(r->auth.role));
			return;
		}
		router_run(r);
		return;
	}
	params[0] = r->auth.jti;
	params[1] = role_str(r->auth.role);
	req_query(r, SQL_TOKEN_LOOKUP, params, 2, router_token_done);
}

/* The token's row is back: who is asking, and may they? */
static void
router_token_done(struct req *r, struct db_res *res)
{
	const struct route	*rt = r->route;
	const char		*why;

	if (auth_from_row(&r->auth, res, &why) == -1) {
		http_error(r, 401, "invalid_token", "%s", why);
		return;
	}
	if (rt->access != ACCESS_ANY && !(rt->access & r->auth.roles)) {
		http_error(r, 403, "forbidden", "A %s token may not do this.",
		    role_str(r->auth.role));
		return;
	}
	router_run(r);
}

/* The session's row is back: which account, and may it? */
static void
router_session_done(struct req *r, struct db_res *res)
{
	const struct route	*rt = r->route;

	if (session_from_row(&r->auth, res) == -1) {
		session_need_login(r);
		return;
	}
	if (!(rt->access & r->auth.roles)) {
		http_error(r, 403, "forbidden", "An %s account may not do "
		    "this.", role_str(r->auth.role));
		return;
	}
	router_run(r);
}

/* Which of a pattern's parameters is name ("{id}"), or -1 if none. */
static int
router_param(const char *pattern, const char *name)
{
	const char	*at = strstr(pattern, name), *p;
	int		 n = 0;

	if (at == NULL)
		return -1;
	for (p = pattern; p < at; p++)
		n += *p == '{';
	return n;
}

/*
 * The path's parameters as the route declares them: {id} a positive id,
 * an event the caller covers when the route is scoped to one, {secret}
 * hashed. Then the handler.
 */
static void
router_run(struct req *r)
{
	const struct route	*rt = r->route;
	int			 id = router_param(rt->pattern, "{id}");
	int			 sec = router_param(rt->pattern, "{secret}");

	if (id >= 0 && parse_int64(r->params[id], 1, ID_MAX, &r->id) == -1) {
		http_error(r, 404, "not_found", "No such %s.", rt->thing);
		return;
	}
	if (rt->scope == SCOPE_EVENT && !auth_in_scope(&r->auth, r->id)) {
		http_error(r, 403, "out_of_scope", "Event %lld is not in your "
		    "token's scope.", (long long)r->id);
		return;
	}
	if (sec >= 0 && secret_hash_hex(r->params[sec], r->secret_hash,
	    sizeof(r->secret_hash)) == -1) {
		http_error(r, 404, "not_found", "No such %s.", rt->thing);
		return;
	}
	rt->fn(r);
}

/* An error on an HTML route, drawn as a page. */
static void
router_error_page(struct req *r, int status, const char *code,
    const char *message)
{
	web_error_page(r, status, code, message);
}

/* Serve: every request through the table; route names to /metrics. */
int
router_start(struct event_base *base, const char *listen)
{
	const char	*names[NROUTES];
	int		 i;

	for (i = 0; i < NROUTES; i++)
		names[i] = routes[i].name;
	if (metrics_routes(names, NROUTES) == -1)
		return -1;
	return http_start(base, listen, router_dispatch, router_error_page);
}
