/*
 * Rollcall daemon: the one internal header.
 * Prototypes are grouped by the file that defines them.
 */
#ifndef ROLLCALL_SERVER_H
#define ROLLCALL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "common.h"

struct event_base;
struct evhttp_request;
struct evbuffer;

/* Limits on untrusted input, enforced while parsing. */
#define HTTP_MAXBODY		(64 * 1024)
#define HTTP_MAXHEADERS		(16 * 1024)
#define HTTP_TIMEOUT		10	/* seconds to send a whole request
					   (headers and body), or to idle */
#define HTTP_MAXBUFBODY		(2 * HTTP_MAXBODY) /* evhttp buffers at most
					   this; more is its plain 413 */
#define HTTP_MAXCONNS		1024	/* open client connections in all */
#define HTTP_MAXCONNS_PER_ADDR	256	/* from one address (a venue's NAT is
					   many people); trusted proxies
					   are not counted */
#define HTTP_MAXPATH		2048
#define HTTP_MAXPARAMS		4
#define FORM_MAXKEY		64	/* bytes of a form field's name */
#define FIELD_MAXTEXT		200	/* titles, names, chapters */
#define FIELD_MAXLONG		20000	/* descriptions */
#define FIELD_MAXURL		2048
#define FIELD_MAXEMAIL		254	/* bytes of an address (RFC 5321) */
#define EMAIL_MAXLOCAL		64	/* bytes of its part before the '@' */
#define FIELD_MAXPHONE		32	/* bytes of a phone number as written */
#define PHONE_MINDIGITS		5	/* digits in a phone number */
#define PHONE_MAXDIGITS		20
#define FIELD_MAXTZ		64	/* bytes of a time zone name */
#define FIELD_MAXTIME		40	/* bytes of an RFC 3339 timestamp */
#define FIELD_MAXVENUE		500	/* bytes of an event's venue */
#define FIELD_MAXROOM		100	/* bytes of an agenda session's room */
#define ID_MAX			(INT64_C(1) << 53) /* ids stay exact in JSON */
#define PAGE_MAXOFFSET		100000000 /* offset= of a paged list */
#define SCOPE_MAXEVENTS		256
#define DB_MAXWAIT		2048	/* default: queued queries before 503 busy */
#define DB_MAXPARAMS		12	/* parameters of one pooled statement */
#define DB_WAITSECS		10	/* longest a query waits for a connection */
#define DB_STMT_TIMEOUT_MS	5000
#define DB_MAXLISTEN		2	/* LISTEN connections (db_listen) */
#define DB_BACKOFF_MS		5000	/* longest wait before reconnecting */
#define DRAIN_SECS		15	/* longest SIGTERM waits for requests */

#define TOKEN_ISSUER		"rollcall"
#define TOKEN_SECRET_NAME	"token_hs256"
#define TOKEN_SECRET_LEN	32

/* All SQL the daemon runs, prepared on every pooled connection. */
enum sql_id {
	SQL_PING,
	SQL_TOKEN_LOOKUP,
	SQL_TOKEN_ISSUE,
	SQL_TOKEN_REVOKE,
	SQL_DEVICE_REVOKE,
	SQL_EVENT_LIST,
	SQL_EVENT_GET,
	SQL_EVENT_CREATE,
	SQL_EVENT_UPDATE,
	SQL_SERIES_CREATE,
	SQL_REGISTER,
	SQL_REG_GET,
	SQL_REG_CONSENT,
	SQL_REG_CANCEL,
	SQL_REG_LIST,
	SQL_TICKET_KEYS,
	SQL_TICKET_GET,
	SQL_CHECKIN_BATCH,
	SQL_OFFLINE_BUNDLE,
	SQL_JOIN,
	SQL_TICKET_REISSUE,
	SQL_SPONSOR_CREATE,
	SQL_LEAD_CAPTURE,
	SQL_LEADS,
	SQL_LEADS_CSV,
	SQL_ATTENDANCE_CSV,
	SQL_ATTENDANCE_ROWS,
	SQL_LEADS_ROWS,
	SQL_REG_ERASE,
	SQL_EVENT_SHRED,
	SQL_AUDIT,
	SQL_RESEND,
	SQL_MAIL_CLAIM,
	SQL_MAIL_DONE,
	SQL_MAIL_RELEASE,
	SQL_MAIL_STATS,
	SQL_MAIL_QUEUE,
	SQL_MAIL_TOTALS,
	SQL_AGENDA_SET,
	SQL_CHECKIN_DOOR,
	SQL_CHECKIN_GROUP,
	SQL_RETENTION,
	SQL_REGISTER_GROUP,
	SQL_ACCOUNT_ADD,
	SQL_ACCOUNT_LINK,
	SQL_ACCOUNT_SET_PASSWORD,
	SQL_ACCOUNT_LOGIN,
	SQL_ACCOUNT_DISABLE,
	SQL_SESSION_START,
	SQL_SESSION_LIVE,
	SQL_SESSION_END,
	SQL_ACCOUNT_RESET,
	SQL_ACCOUNT_INVITE,
	SQL_CONSOLE_ACCOUNTS,
	SQL_CONSOLE_OVERVIEW,
	SQL_CONSOLE_DESK,
	SQL_CONSOLE_CHECKIN,
	SQL_CONSOLE_UNDO,
	SQL_CONSOLE_REGS,
	SQL_CONSOLE_CANCEL,
	SQL_CONSOLE_PROMOTE,
	SQL_CONSOLE_RESEND,
	SQL_CONSOLE_WALK_IN,
	SQL_CONSOLE_EVENT_SAVE,
	SQL_CONSOLE_SERIES,
	SQL_CONSOLE_SPONSORS,
	SQL_SPONSOR_RENAME,
	SQL_DEVICE_CODE_NEW,
	SQL_DEVICE_CLAIM,
	SQL_CONSOLE_DEVICES,
	SQL_BADGES,
	SQL_NOSHOW_RUN,
	SQL_RECONFIRM,
	/* Blocking connections only (start-up, commands, the mail thread). */
	SQL_BEGIN,
	SQL_COMMIT,
	SQL_ROLLBACK,
	SQL_SECRET_ADD,
	SQL_SECRET_GET,
	SQL_KEY_SIGNING,
	SQL_KEY_ADD,
	SQL_KEY_RETIRE,
	SQL_MAIL_LISTEN,
	SQL_CACHE_LISTEN,
	SQL_MIGRATE_QUIET,
	SQL_MIGRATE_LOCK,
	SQL_MIGRATE_UNLOCK,
	SQL_MIGRATE_TABLE,
	SQL_MIGRATE_DONE,
	SQL_MIGRATE_RECOUNT,
	SQL_MIGRATE_RECORD,
	SQL_FUNCTIONS_UNCHECKED,
	SQL_FUNCTIONS_CHECKED,
	SQL_FUNCTIONS_CHECK,
	/*
	 * chapters, staff roles, tokens and accounts of the new roles
	 * (chapters)
	 */
	SQL_CHAPTER_LIST,
	SQL_CHAPTER_GET,
	SQL_CHAPTER_CREATE,
	SQL_CHAPTER_UPDATE,
	SQL_CHAPTER_LEADER_ADD,
	SQL_CHAPTER_LEADER_REMOVE,
	SQL_CONSOLE_CHAPTERS,
	SQL_CONSOLE_CHAPTER,
	SQL_CHAPTER_OPTIONS,
	SQL_EDITOR_EVENT,
	/*
	 * people and members, the member page, members-only events
	 * (members)
	 */
	SQL_MEMBER_CHAPTERS,
	SQL_MEMBER_JOIN,
	SQL_MEMBER_JOIN_GET,
	SQL_MEMBER_CONFIRM,
	SQL_MEMBER_LINK,
	SQL_MEMBER_GET,
	SQL_MEMBER_PROFILE,
	SQL_MEMBER_EVENT,
	SQL_MEMBER_UPDATE,
	SQL_MEMBER_EXPORT,
	SQL_MEMBER_ERASE,
	/*
	 * proposals and decisions, sponsorships, leader applications
	 * (approval)
	 */
	SQL_AP_PROPOSE,
	SQL_AP_EVENT_DECIDE,
	SQL_AP_PROPOSALS,
	SQL_AP_SPONSORSHIP_NEW,
	SQL_AP_SPONSORSHIP_DECIDE,
	SQL_AP_APPLY,
	SQL_AP_APPLY_CHAPTERS,
	SQL_AP_APPLICATIONS,
	SQL_AP_APPLICATION,
	SQL_AP_NOTE,
	SQL_AP_APPLICATION_DECIDE,
	/*
	 * reports: identity mix, chapter health, attendance, growth
	 * (reports)
	 */
	SQL_REPORT_IDENTITY,
	SQL_REPORT_HEALTH,
	SQL_REPORT_ATTENDANCE,
	SQL_REPORT_GROWTH,
	SQL_REPORT_GOALS,
	SQL_REPORT_GOALS_SET,
	SQL_REPORT_CONSOLE,
	/*
	 * NightTalk series: series sign-up, episode attendance, topic votes
	 * (series)
	 */
	SQL_SERIES_SIGNUP,
	SQL_SERIES_WITHDRAW,
	SQL_SERIES_MEMBER,
	SQL_SERIES_UPDATE,
	SQL_SERIES_REPORT,
	SQL_SERIES_CONSOLE,
	SQL_TOPIC_PROPOSE,
	SQL_TOPIC_LIST,
	SQL_TOPIC_STATUS,
	SQL_VOTE,
	SQL_UNVOTE,
	SQL_MEMBER_TOPICS,
	SQL_CONSOLE_TOPICS,
	/*
	 * contributions, the points ledger, benefits, titles
	 * (recognition)
	 */
	SQL_RC_POINTS_GET,
	SQL_RC_POINTS_SET,
	SQL_RC_RECORD,
	SQL_RC_REVIEW,
	SQL_RC_CONFIRM,
	SQL_RC_DISMISS,
	SQL_RC_LIST,
	SQL_RC_CONSOLE,
	SQL_RC_ADJUST,
	SQL_RC_BENEFITS,
	SQL_RC_BENEFIT_CREATE,
	SQL_RC_BENEFIT_UPDATE,
	SQL_RC_REDEEM,
	SQL_RC_DECIDE,
	SQL_RC_REDEMPTIONS,
	SQL_RC_CONSOLE_BENEFITS,
	SQL_RC_TITLES,
	SQL_RC_TITLE_GRANT,
	SQL_RC_TITLE_REVOKE,
	SQL_RC_LEADERBOARD,
	SQL_RC_MEMBER,
	SQL_RC_LISTED,
	SQL_RC_PROFILE,
	/*
	 * volunteers and certificates
	 * (certificates)
	 */
	SQL_VOLUNTEER_SIGNUP,
	SQL_VOLUNTEER_LIST,
	SQL_VOLUNTEER_DECIDE,
	SQL_VOLUNTEER_ATTENDED,
	SQL_VOLUNTEER_OUTSTANDING,
	SQL_CERT_ISSUE,
	SQL_CERT_REVOKE,
	SQL_CERT_LIST,
	SQL_CERT_VERIFY,
	SQL_CERT_PDF,
	SQL_CERT_MEMBER_LIST,
	SQL_CERT_MEMBER_ONE,
	SQL_CONSOLE_CERTS,
	SQL__MAX
};

struct sql_stmt {
	const char	*name;
	const char	*text;
	int		 nparams;
	int		 flags;		/* SQL_DIRECT */
};
#define SQL_DIRECT	0x01	/* not prepared on the pool's connections */

enum role {
	ROLE_NONE = 0,
	ROLE_DOOR,
	ROLE_SPONSOR,
	ROLE_ORGANIZER,
	ROLE_ADMIN,
	ROLE_COMMITTEE,		/* 组委会: approves; every chapter */
	ROLE_LEADER,		/* UGL: its chapters */
	ROLE_TRACK_OWNER,	/* 技术出品人: its topic chapters and series */
	ROLE_INFRA,		/* reviews contributions; every chapter */
	ROLE__MAX
};

#define SECRET_HEX		65	/* SHA-256 as hex, with the NUL */

/* Route access: who may call it at all; scope is checked by the handler. */
#define ACCESS_ANY		0x00	/* anyone; a token, if sent, is still checked */
#define ACCESS_DOOR		(1 << ROLE_DOOR)
#define ACCESS_SPONSOR		(1 << ROLE_SPONSOR)
#define ACCESS_ORGANIZER	(1 << ROLE_ORGANIZER)
#define ACCESS_ADMIN		(1 << ROLE_ADMIN)
#define ACCESS_COMMITTEE	(1 << ROLE_COMMITTEE)
#define ACCESS_LEADER		(1 << ROLE_LEADER)
#define ACCESS_TRACK_OWNER	(1 << ROLE_TRACK_OWNER)
#define ACCESS_INFRA		(1 << ROLE_INFRA)
/* Who plans and runs events (each within its scope). */
#define ACCESS_STAFF		(ACCESS_ORGANIZER | ACCESS_ADMIN | \
				 ACCESS_COMMITTEE | ACCESS_LEADER | \
				 ACCESS_TRACK_OWNER)

/* The staff identity of a request, re-read from the database every time. */
struct auth {
	enum role	 role;		/* the token's, or the account's own */
	unsigned	 roles;		/* every role held, as ACCESS_* bits */
	char		 jti[64];
	char		 name[FIELD_MAXTEXT + 1];
	int		 all_events;	/* scope is every event */
	int64_t		*events;	/* from the database, any length */
	int		 nevents;
	int64_t		*chapters;	/* a chapter role's chapters */
	int		 nchapters;
	int64_t		 sponsor_id;	/* 0 when none */
	int64_t		 account_id;	/* a console session's account, or 0 */
	char		 session[SECRET_HEX]; /* its session id, hashed */
};

struct claims {
	char		 jti[64];
	enum role	 role;
	long		 exp;
};

struct req;
typedef void (*route_fn)(struct req *);
struct db_res;
typedef void (*req_done_fn)(struct req *, struct db_res *);

/* One endpoint: what the router checks before its handler runs. */
struct route {
	int		 method;	/* EVHTTP_REQ_* */
	const char	*pattern;	/* "/api/v1/events/{id}" */
	route_fn	 fn;
	int		 access;	/* ACCESS_* mask */
	int		 scope;		/* SCOPE_* */
	int		 body;		/* BODY_* */
	const char	*thing;		/* "No such THING." */
	const char	*name;		/* metrics label */
	int		 flags;		/* ROUTE_* */
};
#define SCOPE_EVENT	1	/* {id} is an event the token must cover */
#define BODY_JSON	1	/* one JSON object (an empty body is {}) */
#define BODY_FORM	2	/* application/x-www-form-urlencoded */
#define ROUTE_HTML	0x01	/* a web page: HTML errors */
#define ROUTE_TOKEN_IN_SQL 0x02	/* the handler's statement re-reads the token */
#define ROUTE_SESSION	0x04	/* a console page: a session cookie may sign in */
#define ROUTE_PRIVATE	0x08	/* a write no public read shows: keeps the cache */

/* One HTTP request in flight. Freed by the reply. */
struct req {
	struct evhttp_request	*ev;
	int			 method;	/* EVHTTP_REQ_*; HEAD as GET */
	const char		*path;
	const struct route	*route;		/* set by the router */
	int			 route_idx;
	const char		*name;		/* the route's, for logs */
	const char		*thing;		/* the route's, for 404s */
	int			 html;		/* errors as pages */
	char			*params[HTTP_MAXPARAMS];
	int			 nparams;
	int64_t			 id;		/* {id}, parsed by the router */
	char			 secret_hash[65]; /* {secret}, hashed */
	json_t			*body;		/* parsed JSON object or NULL */
	int			 has_token;
	int			 head;		/* HEAD: headers only */
	struct auth		 auth;
	req_done_fn		 done;
	req_done_fn		 failed;	/* a refusal (RC4xx), if set */
	char			 secret[48];	/* a new manage secret */
	char			 join[48];	/* a new join-link secret */
	char			 errfield[128];	/* a form's wrong field */
	char			 errmsg[256];
	struct timespec		 start;
	char			 addr[64];
	uint64_t		 cache_ticket;	/* cache_ticket() at the miss */
};

enum mail_tls {
	MAIL_TLS_DEFAULT = 0,	/* required with a password, else tried */
	MAIL_TLS_REQUIRED,
	MAIL_TLS_TRY,
	MAIL_TLS_NONE,
};
/* What the sender needs; fixed before the worker starts. */
struct mail_settings {
	const char	*smtp;		/* smtp:// or smtps:// URL */
	const char	*user;
	const char	*password_file;
	char		*password;	/* read from password_file: a secret */
	enum mail_tls	 tls;
	char		 from[256];	/* envelope and From: address */
	char		 from_name[128];
	const char	*sendmail;	/* path of a sendmail(8) interface */
	const char	*conninfo;
	char		 public_url[512];
	json_t		*catalogs[2];	/* en, zh-CN */
};
struct config {
	struct mail_settings mail;	/* smtp, mail_from, ... */
	const char	*db;
	const char	*listen;
	const char	*public_url;
	const char	*share;		/* directory holding sql/ and templates/ */
	const char	*trusted_proxies; /* whose X-Forwarded-For is believed */
	int		 rate_limit;
	int		 lead_retention_days; /* leads kept after the event */
	int		 pool_size;
	int		 queue_max;
	int		 noshow_secs;	/* the no-show job runs this often */
	int		 verbose;
	int		 foreground;
	char		*file_text;	/* the config file; values point here */
	size_t		 file_len;
	char		*db_text;	/* db_file's contents (a secret) */
	size_t		 db_len;
};

/* db.c */
enum db_err {
	DB_OK = 0,
	DB_EBUSY,	/* wait queue full or waited too long */
	DB_EDOWN,	/* no usable connection */
};
struct db_res;		/* one statement's outcome: rows of text, or an error */
struct db_conn;		/* a blocking connection: commands, start-up, threads */
typedef void (*db_cb)(void *, struct db_res *, enum db_err);
extern const struct sql_stmt sqls[SQL__MAX];
int	 db_pool_start(struct event_base *, const char *, int, int);
void	 db_pool_stop(void);
enum db_err db_exec(enum sql_id, const char *const *, int, db_cb, void *);
void	 db_pool_stats(int *, int *, int *, int *);
unsigned long long db_error_count(void);
void	 db_count_error(void);
int	 db_queue_max(void);
const char *db_conninfo(const char *);
int	 db_rows(const struct db_res *);
int	 db_cols(const struct db_res *);
const char *db_value(const struct db_res *, int, int);
size_t	 db_length(const struct db_res *, int, int);
int	 db_isnull(const struct db_res *, int, int);
int	 db_ok(const struct db_res *);
const char *db_sqlstate(const struct db_res *);
const char *db_message(const struct db_res *);
const char *db_detail(const struct db_res *);
const char *db_error(const struct db_res *);
json_t	*db_json(const struct db_res *);
void	 db_res_wipe(struct db_res *);
void	 db_res_free(struct db_res *);
struct db_conn *db_connect_blocking(const char *);
struct db_conn *db_connect_named(const char *, const char *);
int	 db_conn_ok(struct db_conn *);
const char *db_conn_error(struct db_conn *);
int	 db_conn_wait(struct db_conn *, int, int);
struct db_res *db_run(struct db_conn *, enum sql_id, const char *const *,
	    int);
int	 db_run_ok(struct db_conn *, enum sql_id, const char *const *, int);
int	 db_script(struct db_conn *, const char *, const char *);
void	 db_close(struct db_conn *);
int	 db_secret(struct db_conn *, const char *, unsigned char *, size_t);
/* What a LISTEN connection reports: up (LISTEN in force: anything may
 * have changed while it was not), down, or one notification's payload. */
enum db_listen_event {
	DB_LISTEN_UP,
	DB_LISTEN_DOWN,
	DB_LISTEN_NOTIFY,
};
typedef void (*db_listen_fn)(void *, enum db_listen_event, const char *);
int	 db_listen(enum sql_id, db_listen_fn, void *);

/* cache.c */
#define CACHE_MAXENTRIES	1024	/* replies kept */
#define CACHE_MAXBYTES		(16 * 1024 * 1024) /* of their bodies */
#define CACHE_MAXENTRY		(1024 * 1024)	/* a longer body is not kept */
#define CACHE_MAXAGE_MS		1000	/* the safety net under NOTIFY */
#define CACHE_MAXKEY		512	/* bytes of a key */
#define CACHE_MAXHOLES		8	/* per-request holes in one body */
#define CACHE_BUCKETS		1024	/* hash buckets (a power of two) */
#define CACHE_NOTIFY_MAX	16	/* ids a statement notifies, else "*" */
/* One public reply: its body, where per-request text goes, its ETag. */
struct cache_entry {
	struct cache_entry	*next;		/* in its bucket */
	struct cache_entry	*lru_prev, *lru_next;
	char			*key;
	uint32_t		 hash;
	int64_t			 event;		/* the event shown; 0: a list */
	struct timespec		 born;
	const char		*type;		/* a static Content-Type */
	char			 etag[24];	/* "" when it has holes */
	size_t			 holes[CACHE_MAXHOLES];
	int			 nholes;
	size_t			 holelen;
	const unsigned char	*body;
	size_t			 len;
};
int	 cache_start(void);
void	 cache_stop(void);
const char *cache_hole(void);
uint64_t cache_ticket(void);
const struct cache_entry *cache_get(const char *);
int	 cache_prepare(struct cache_entry *, const char *,
	    const unsigned char *, size_t, const char *);
const struct cache_entry *cache_put(const char *, int64_t, uint64_t,
	    const struct cache_entry *);
void	 cache_forget(int64_t);
void	 cache_stats(uint64_t *, uint64_t *, int *, size_t *);

/* http.c */
typedef void (*http_dispatch_fn)(struct req *);
typedef void (*http_page_fn)(struct req *, int, const char *, const char *);
int	 http_start(struct event_base *, const char *, http_dispatch_fn,
	    http_page_fn);
void	 http_stop_accepting(void);
int	 http_inflight(void);
void	 http_reply_json(struct req *, int, json_t *);
void	 http_reply_text(struct req *, int, const char *, const char *);
void	 http_reply_raw_json(struct req *, int, const char *, size_t);
void	 http_reply_bytes(struct req *, int, const char *,
	    const unsigned char *, size_t, const char *);
void	 http_error(struct req *, int, const char *, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	 http_reply_row(struct req *, struct db_res *);
void	 http_reply_row_created(struct req *, struct db_res *);
void	 http_reply_csv(struct req *, struct db_res *, const char *);
void	 http_reply_cached(struct req *, const struct cache_entry *,
	    const char *);
void	 req_query(struct req *, enum sql_id, const char *const *, int,
	    req_done_fn);
void	 req_db_fail(struct req *, struct db_res *, enum db_err);
struct vfield;
int	 req_validate(struct req *, const struct vfield *, int);
const char *req_query_arg(struct req *, const char *);
int	 req_read_json(struct req *);
int	 req_read_form(struct req *);
json_t	*http_form_parse(const char *, size_t, int);
int	 http_cookie_find(const char *, const char *, char *, size_t);
int	 req_cookie(struct req *, const char *, char *, size_t);
int	 req_lang(struct req *);

/* router.c */
#define ROUTE_MAXSEGMENT	256	/* bytes of one {param} in a path */
int	 router_match(const char *, const char *, char **, int *);
const char *router_pattern(int);
int	 router_start(struct event_base *, const char *);

/* metrics.c */
#define METRICS_MAXROUTES	256	/* routes in the table, for every part */
int	 metrics_routes(const char *const *, int);
void	 metrics_observe(int, int, double);
void	 metrics_render(struct evbuffer *);

/* auth.c */
int	 auth_load_secret(struct db_conn *);
void	 auth_set_secret(const unsigned char *, size_t);
char	*auth_sign(const char *, enum role, const char *, const int64_t *, int,
	    int64_t, long, long);
int	 auth_verify(const char *, struct claims *);
int	 auth_in_scope(const struct auth *, int64_t);
char	*auth_scope_pg(const struct auth *);
char	*auth_ids_pg(const int64_t *, int);
int	 auth_parse_pg_ids(const char *, int64_t **);
int	 auth_from_row(struct auth *, const struct db_res *, const char **);
void	 auth_clear_secret(void);
const char *role_str(enum role);
enum role role_from_str(const char *);

/* token.c */
#define TOKEN_MAXTTL		(3650L * 86400)	/* ten years, in seconds */
#define TOKEN_MAXTTLLEN		16	/* bytes of a ttl, as "90d" */
long	 token_parse_ttl(const char *);
int	 token_cmd(int, char **);
void	 token_issue(struct req *);
void	 token_revoke(struct req *);
int	 token_sign_row(json_t *, long);

/* event.c */
#define EVENT_MAXCAPACITY	1000000	/* seats of one event */
#define SERIES_MINEPISODES	4	/* events a series creates */
#define SERIES_MAXEPISODES	8
#define AGENDA_MAXSESSIONS	50	/* sessions in one agenda */
void	 event_list(struct req *);
void	 event_get(struct req *);
void	 event_create(struct req *);
void	 event_update(struct req *);
void	 series_create(struct req *);
void	 event_shred(struct req *);
void	 event_agenda(struct req *);
enum event_body { EVENT_BODY_UPDATE, EVENT_BODY_SERIES, EVENT_BODY_SESSION };
int	 event_body_check(const json_t *, enum event_body, char *, size_t,
	    char *, size_t);

/* noshow.c */
#define NOSHOW_RECONFIRM_HOURS	48	/* default: ask this long before the start */
#define NOSHOW_RELEASE_HOURS	24	/* default: release unconfirmed seats then */
#define NOSHOW_MAXHOURS		720	/* most hours of either before the start */
#define NOSHOW_MAXOVERBOOK	100	/* most overbook_percent of an event */
#define NOSHOW_INTERVAL_SECS	60	/* default: run the job this often */
#define NOSHOW_MAXINTERVAL	3600	/* longest --noshow-interval */
#define NOSHOW_BATCH		500	/* registrations asked per run at most */
int	 noshow_start(struct event_base *, int);
void	 noshow_stop(void);
void	 noshow_stats(unsigned long long *, unsigned long long *,
	    unsigned long long *);

/* registration.c */
#define SECRET_BYTES		32	/* manage secret: 256 random bits */
#define SECRET_LEN		43	/* as URL-safe base64 */
#define REG_PAGE_MAX		500	/* limit= of the registrations list */
#define CONSENT_MAXFIELDS	3	/* email, phone and job_title */
#define REG_GROUP_MAX		32	/* registrations in one statement */
#define REG_GROUP_INFLIGHT	4	/* groups with the database at once */
/* A registration decided: the JSON of rc_register_try. */
typedef void (*reg_done_fn)(struct req *, const char *);
void	 registration_init(int, const char *);
void	 registration_create(struct req *);
void	 registration_get(struct req *);
void	 registration_update(struct req *);
void	 registration_cancel(struct req *);
void	 registration_list(struct req *);
void	 registration_erase(struct req *);
void	 registration_reconfirm(struct req *);
int	 registration_check(json_t *, char *, size_t, char *, size_t);
int	 registration_rate_ok(struct req *);
void	 registration_submit(struct req *, json_t *, reg_done_fn);
void	 registration_created(struct req *, const char *);
int	 registration_rate_limit(void);
void	 registration_group_stats(uint64_t *, uint64_t *, int *);
void	 reg_attach_ticket(json_t *, const char *);
const char *registration_public_url(void);

/* secret.c */
#define SECRET_SEAL_NAME	"mail_secretbox"	/* its row in `secrets` */
#define SECRET_SEALED_HEX	256	/* hex of nonce + box(manage secret) */
struct secrets {
	char	 manage[48];
	char	 join[48];
	char	 manage_hash[SECRET_HEX];
	char	 join_hash[SECRET_HEX];
	char	 sealed[SECRET_SEALED_HEX];
};
int	 secret_hash_hex(const char *, char *, size_t);
void	 secret_join(const char *, char *, size_t);
void	 secret_new(struct secrets *);
void	 secret_set_key(const unsigned char *, size_t);
int	 secret_load(struct db_conn *);
void	 secret_clear(void);
int	 secret_seal(const char *, char *, size_t);
int	 secret_unseal(const char *, char *, size_t);
void	 secret_random_id(char *, size_t, size_t);

/* ratelimit.c */
#define RATE_SLOTS		4096
#define RATE_MAXKEY		96
int	 rate_allow(const char *, time_t, int, int *);
void	 rate_reset(void);

/* keyring.c */
#define KEYRING_MAX		16
#define KEYRING_REFRESH_SECS	60
#define KEYRING_RELOAD_SECS	1	/* unknown kids re-read the keys at most
					   this often, all kids together */
int	 keyring_load(struct db_conn *);
int	 keyring_set(const struct db_res *);
int	 keyring_rotate(const char *);
int	 keyring_start(struct event_base *);
void	 keyring_stop(void);
char	*keyring_sign(const json_t *);
void	 keyring_presign(json_t *const *, int);
void	 keyring_presign_clear(void);
int	 keyring_verify(const char *, struct ticket_claims *);
json_t	*keyring_claims(const char *);
int	 keyring_unknown_kid(const char *, char *, size_t);
int	 keyring_count(void);
#define JWK_COORD_BYTES		32	/* a P-256 coordinate */
const char *keyring_jwks(void);

int	 keyring_reload_then(void (*)(void *), void *);
unsigned long long keyring_reload_count(void);
/* jwks.c */
#define JWKS_MAXAGE		300	/* seconds a client may cache the keys */
void	 jwks_get(struct req *);

/* retention.c */
#define RETENTION_SECS		3600	/* rc_retention runs this often */
#define RETENTION_RETRY_SECS	5	/* and again this soon after a failure */
#define RETENTION_LEAD_DAYS	90	/* default: leads kept after the event */
#define RETENTION_MAXDAYS	36500
int	 retention_start(struct event_base *, int);
void	 retention_stop(void);

/* worker.c */
#define WORKER_THREADS		2	/* threads drawing ticket images */
#define WORKER_MAXQUEUE		1024	/* jobs waiting before 503 busy */
#define WORKER_NICE		10	/* their priority below the loop's */
#define WORKER_MAXFILES		16	/* file builds (XLSX, PDF) waiting */
typedef void (*worker_fn)(void *);
/* Makes a file from JSON on a worker thread: 0 and the bytes, or -1. */
typedef int (*worker_build_fn)(const json_t *, unsigned char **, size_t *);
/* Gets the file back on the loop: the bytes (NULL when it failed). */
typedef void (*worker_done_fn)(void *, const unsigned char *, size_t);
int	 worker_start(struct event_base *);
int	 worker_submit(worker_fn, worker_fn, void *);
int	 worker_build(worker_build_fn, json_t *, worker_done_fn, void *);
void	 worker_stop(void);

/* checkin.c */
void	 checkin_group_stats(uint64_t *, uint64_t *);
void	 checkin_handle(struct req *);
void	 checkin_batch(struct req *);
void	 checkin_bundle(struct req *);

/* tickets.c */
void	 ticket_png_get(struct req *);
void	 ticket_svg_get(struct req *);
void	 ticket_reissue(struct req *);

/* join.c */
void	 join_get(struct req *);

/* lead.c */
#define LEAD_MAXNOTE		2000	/* bytes of a sponsor's note */
#define LEAD_MAXRATING		5	/* a rating is 1 to this */
#define LEAD_CODE_PREFIX	"RCL"	/* a badge's lead code (sql/016) */
#define LEAD_CODE_LEN		35	/* the prefix and 32 hex digits */
void	 sponsor_create(struct req *);
void	 lead_capture(struct req *);
void	 lead_list(struct req *);
void	 lead_csv(struct req *);
void	 lead_xlsx(struct req *);
int	 lead_sponsor_check(const json_t *, char *, size_t, char *,
	    size_t);

/* export.c */
#define AUDIT_PAGE_MAX		1000	/* limit= of the audit log */
void	 export_attendance(struct req *);
void	 export_attendance_xlsx(struct req *);
void	 export_reply_xlsx(struct req *, struct db_res *, const char *);
void	 export_audit(struct req *);

/* xlsx.c */
#define XLSX_MAXCOLS		32	/* columns of one sheet */
#define XLSX_MAXROWS		1000000	/* rows of one sheet (Excel: 1048576) */
#define XLSX_MAXCELL		32767	/* bytes of a text cell (Excel's) */
#define XLSX_MAXBYTES		(256 * 1024 * 1024) /* of one workbook */
#define XLSX_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
int	 xlsx_build(const json_t *, unsigned char **, size_t *);
int	 xlsx_submit(json_t *, worker_done_fn, void *);

/* badge.c */
#define BADGE_MAXPAGES		5000	/* badges in one PDF */
#define BADGE_MAXBYTES		(64 * 1024 * 1024) /* of one PDF */
#define BADGE_MAXTEMPLATE	(16 * 1024) /* bytes of templates/badge.json */
#define BADGE_MINMM		20	/* smallest page side, millimetres */
#define BADGE_MAXMM		420	/* largest page side (A3) */
#define BADGE_MAXPT		200	/* largest font size, points */
#define BADGE_DOOR_SECS		600	/* a door prints a badge this long
					   after admitting its holder */
#define BADGE_TYPE		"application/pdf"
int	 badge_init(const char *);
int	 badge_build(const json_t *, unsigned char **, size_t *);
void	 badge_get(struct req *);
void	 badge_event(struct req *);

/* template.c */
#define TMPL_MAXDEPTH		16	/* nested sections and partials */
#define TMPL_MAX		256	/* templates loaded */
#define TMPL_MAXSIZE		(256 * 1024)	/* bytes of one template */
struct evbuffer;
void	 tmpl_escape(struct evbuffer *, const char *, size_t);
int	 tmpl_add(const char *, const char *, size_t);
void	 tmpl_clear(void);
int	 tmpl_load_dir(const char *);
struct evbuffer *tmpl_render(const char *, const json_t *);
struct evbuffer *tmpl_render_text(const char *, size_t, const json_t *);

/* ics.c */
#define ICS_MAXLINE		75	/* octets of a line before folding (RFC 5545) */
struct evbuffer *ics_render(json_t *, const char *, const char *);

/* web.c */
#define WEB_CSP_SCRIPT	"default-src 'none'; script-src 'self'; " \
			"connect-src 'self'; style-src 'self'; " \
			"img-src 'self' data:; form-action 'self'; " \
			"base-uri 'none'; frame-ancestors 'none'"
int	 web_init(const char *);
json_t	*web_ctx(struct req *, const char *);
void	 web_page(struct req *, int, const char *, json_t *);
void	 web_page_csp(struct req *, int, const char *, json_t *,
	    const char *);
int	 web_csrf_ok(struct req *);
void	 web_redirect(struct req *, const char *);
const json_t *web_catalog(int);
void	 web_error_page(struct req *, int, const char *, const char *);
json_t	*web_form_registration(const json_t *);
void	 web_event_member(struct req *, json_t *, const char *);
void	 web_index(struct req *);
void	 web_event(struct req *);
void	 web_register(struct req *);
void	 web_manage(struct req *);
void	 web_cancel(struct req *);
void	 web_erase(struct req *);
void	 web_consent(struct req *);
void	 web_reconfirm(struct req *);
void	 web_ics(struct req *);
void	 web_css(struct req *);

/* ops.c */
void	 ops_healthz(struct req *);
void	 ops_metrics(struct req *);

/* validate.c */
enum vtype {
	V_STRING,	/* UTF-8 text, max length in bytes */
	V_URL,		/* http(s) URL */
	V_TIME,		/* RFC 3339 timestamp with offset */
	V_DATE,		/* YYYY-MM-DD */
	V_INT,		/* integer within [min, max] */
	V_BOOL,
	V_ENUM,		/* one of the NULL-terminated list */
	V_TZ,		/* IANA-looking name; PostgreSQL checks it exists */
	V_ARRAY_STRING,	/* array of strings, max entries */
	V_ARRAY_INT,	/* array of positive ids, max entries */
	V_EMAIL,	/* an e-mail address */
	V_PHONE,	/* digits, spaces, + - ( ), max length */
	V_OBJECT,	/* a JSON object, checked by the caller */
	V_ARRAY_ANY,	/* an array, max entries, checked by the caller */
};
struct vfield {
	const char	 *name;
	enum vtype	  type;
	int		  required;
	int		  nullable;
	long long	  min, max;	/* length for strings, range for ints */
	const char *const *values;	/* V_ENUM */
};
int	 validate_object(const json_t *, const struct vfield *, int,
	    char *, size_t, char *, size_t);
int	 validate_time(const char *);
int	 validate_date(const char *);
int	 validate_url(const char *);
int	 validate_tz(const char *);
int	 validate_email(const char *);
int	 validate_phone(const char *);
int	 validate_utf8(const char *);
int	 parse_int64(const char *, int64_t, int64_t, int64_t *);

/* config.c */
#define CONFIG_MAXFILE		(64 * 1024)
#define CONFIG_MAXLINE		4096
#define CONFIG_MAXDBFILE	4096
#define CONFIG_MAXPROXIES	64
void	 config_defaults(struct config *);
int	 config_load(struct config *, const char *, char *, size_t);
int	 config_parse(struct config *, const char *, char *, size_t, char *,
	    size_t);
int	 config_set(struct config *, const char *, const char *, char *,
	    size_t);
int	 config_check_listen(const char *);
int	 config_mail_set(struct mail_settings *, const char *, const char *,
	    char *, size_t);
void	 config_free(struct config *);
int	 proxy_trust(const char *);
int	 proxy_is_trusted(const char *);
int	 proxy_forwarded_for(const char *, char *, size_t);
const char *config_approval(void);
const char *config_approval_for(const struct auth *);
int	 config_approval_waits(const struct auth *, int);

/* notify.c */
int	 notify_ready(struct event_base *, const char *);
void	 notify_stopping(void);
void	 notify_stop(void);

/* mail.c */
#define MAIL_RESEND_PER_MINUTE	5	/* resend requests per client address */
#define MAIL_BATCH		10	/* messages a sender claims at once */
#define MAIL_LEASE_SECS		300	/* a claim outlives the slowest send */
#define MAIL_SEND_SECS		60	/* longest one delivery may take */
#define MAIL_POLL_MS		2000	/* look for due messages this often */
#define MAIL_STATS_SECS		5	/* refresh the queue's counts */
#define MAIL_TOTALS_SECS	300	/* and those of the whole outbox */
#define MAIL_MAXPASSWORD	1024	/* bytes of the SMTP password file */
struct mail_stats {
	long long	 queued, scheduled, retrying, sent, failed, skipped;
	long long	 oldest_secs;
	unsigned long long delivered, attempt_failures;	/* this process */
	int		 known;		/* the outbox has been read */
	int		 enabled;	/* this process delivers */
};
struct evbuffer;
int	 mail_start(const struct mail_settings *, const char *, const char *,
	    const char *);
void	 mail_stop(void);
void	 mail_metrics(struct evbuffer *);
void	 mail_resend(struct req *);
int	 mail_cmd(int, char **);

/* mail_build.c */
/* A message ready to go. */
struct mail_built {
	char		*data;
	size_t		 len;
	char		 to[256];
};
int	 mail_build(const struct mail_settings *, const struct ticket_key *,
	    json_t *, struct mail_built *, char *, size_t);

/* mail_worker.c */
#define MAIL_MAXERR		300	/* bytes kept of a delivery error */
int	 mail_worker_start(struct mail_settings *);
void	 mail_worker_stop(void);
void	 mail_worker_stats(struct mail_stats *);

/* pwhash.c */
#define PWHASH_THREADS		2	/* argon2id hashes at once */
#define PWHASH_MAXQUEUE		64	/* waiting beyond this: 503 busy */
#define PWHASH_MAXPASSWORD	256	/* bytes of a password */
#define PWHASH_MINPASSWORD	10
typedef void (*pwhash_cb)(void *, int, const char *);
int	 pwhash_start(struct event_base *);
void	 pwhash_stop(void);
int	 pwhash_hash(const char *, pwhash_cb, void *);
int	 pwhash_verify(const char *, const char *, pwhash_cb, void *);
int	 pwhash_hash_blocking(const char *, char *, size_t);

/* account.c */
#define ACCOUNT_LINK_SECS	(24 * 3600)	/* an invitation's link */
int	 account_cmd(int, char **);
void	 account_password_page(struct req *);
void	 account_password_set(struct req *);
#define ACCOUNT_RESET_SECS	3600	/* an e-mailed reset link */
#define RESET_PER_ADDR		10	/* reset requests a minute per address */
#define RESET_PER_ACCOUNT	3	/* ... and per e-mail address */
void	 account_reset_page(struct req *);
void	 account_reset(struct req *);
void	 account_list(struct req *);
void	 account_invite(struct req *);
void	 account_disable_post(struct req *);

/* session.c */
#define SESSION_COOKIE		"rc_session"
#define SESSION_IDLE_SECS	(12 * 3600)	/* idle expiry */
#define SESSION_MAX_SECS	(7 * 86400)	/* absolute expiry */
#define LOGIN_PER_ADDR		30	/* sign-in attempts a minute per address */
#define LOGIN_PER_ACCOUNT	10	/* ... and per e-mail address */
void	 session_init(const char *);
int	 session_cookie_hash(struct req *, char *, size_t);
int	 session_from_row(struct auth *, const struct db_res *);
void	 session_set_cookie(struct req *, const char *);
void	 session_need_login(struct req *);
int	 session_origin_ok(struct req *);
void	 session_login_page(struct req *);
void	 session_login(struct req *);
void	 session_logout(struct req *);
void	 session_logout_all(struct req *);

/* console.c */
#define CONSOLE_MAXEVENTS	100	/* events on the overview */
#define CONSOLE_MAXROWS		200	/* rows of a list page */
#define CONSOLE_UNDO_SECS	60	/* a desk check-in can be undone */
#define CONSOLE_MAXGATE		64	/* bytes of a gate's name */
void	 console_overview(struct req *);
void	 console_overview_json(struct req *);
void	 console_desk(struct req *);
void	 console_desk_json(struct req *);
void	 console_checkin(struct req *);
void	 console_checkin_undo(struct req *);
void	 console_registrations(struct req *);
void	 console_reg_cancel(struct req *);
void	 console_reg_promote(struct req *);
void	 console_reg_resend(struct req *);
void	 console_walk_in(struct req *);
void	 console_export(struct req *);
void	 console_export_xlsx(struct req *);
void	 console_audit(struct req *);
json_t	*console_ctx(struct req *, const char *);
void	 console_sponsors(struct req *);
void	 console_sponsor_add(struct req *);
void	 console_sponsor_rename(struct req *);

/* device.c: provisioning doors and booths from the console */
#define DEVICE_CODE_SECS	900	/* a provisioning code's life */
#define DEVICE_TOKEN_SECS	(7 * 86400)	/* a claimed device token's */
void	 device_page(struct req *);
void	 device_issue(struct req *);
void	 device_revoke(struct req *);
void	 device_claim(struct req *);

/* editor.c: the console's event editor */
#define EDITOR_AGENDA_ROWS	12	/* agenda rows the form offers */
#define EDITOR_MAXLOCAL		19	/* bytes of a form's local time */
void	 editor_new(struct req *);
void	 editor_create(struct req *);
void	 editor_edit(struct req *);
void	 editor_update(struct req *);
void	 editor_status(struct req *);
void	 console_js(struct req *);

/* migrate.c */
int	 migrate_run(const char *, const char *);

/*
 * The community: chapters.c: chapters, staff roles
 * (chapters)
 */
/* chapter.c */
#define CHAPTER_MAXSLUG		63	/* bytes of a chapter's slug */
#define CHAPTER_MAXTOKEN	64	/* chapters one token may name */
#define CHAPTER_MAXEVENTS	50	/* events on a chapter's console page */
int	 chapter_slug_ok(const char *);
void	 chapter_list(struct req *);
void	 chapter_get(struct req *);
void	 chapter_create(struct req *);
void	 chapter_update(struct req *);
void	 chapter_leader_add(struct req *);
void	 chapter_leader_remove(struct req *);
void	 chapter_page_list(struct req *);
void	 chapter_page(struct req *);
void	 chapter_console_list(struct req *);
void	 chapter_console_create(struct req *);
void	 chapter_console_page(struct req *);
void	 chapter_console_update(struct req *);
void	 chapter_console_leader_add(struct req *);
void	 chapter_console_leader_remove(struct req *);
/* web.c, for the chapter pages */
void	 web_event_decorate(json_t *, const json_t *);

/*
 * The community: member.c: people and members
 * (members)
 */
#define MEMBER_JOIN_SECS	(24 * 3600)	/* a confirmation link's life */
#define MEMBER_MAIL_PER_EMAIL	3	/* join and link requests a minute
					   for one e-mail address */
#define MEMBER_MAXCHAPTERS	64	/* chapters named in one request */
void	 member_join_page(struct req *);
void	 member_join_form(struct req *);
void	 member_join_api(struct req *);
void	 member_confirm_page(struct req *);
void	 member_confirm_form(struct req *);
void	 member_confirm_api(struct req *);
void	 member_link_page(struct req *);
void	 member_link_form(struct req *);
void	 member_link_api(struct req *);
void	 member_page(struct req *);
void	 member_profile_form(struct req *);
void	 member_chapters_form(struct req *);
void	 member_erase_form(struct req *);
void	 member_event_page(struct req *);
void	 member_register_form(struct req *);
void	 member_get(struct req *);
void	 member_update(struct req *);
void	 member_export(struct req *);
void	 member_erase(struct req *);
void	 member_register(struct req *);

/*
 * The community: approval.c: proposals, decisions, sponsorships, leader applications
 * (approval)
 */
#define APPROVAL_MAXCOMMENT	2000	/* bytes of a decision's comment */
#define APPROVAL_MAXBENEFITS	4000	/* bytes of a sponsorship's benefits */
#define APPROVAL_MAXEVENTS	50	/* events of one sponsorship */
#define APPROVAL_MAXNOTE	10000	/* bytes of an interview note */
#define APPROVAL_MAXQUEUE	200	/* rows of a queue or list */
#define APPLY_MAXESSAY		5000	/* bytes of an application's answer */
#define APPLY_MAXHANDLE		64	/* bytes of a WeChat id */
#define APPLY_MAXSLUG		63	/* bytes of a chapter's slug */
#define APPLY_PER_ADDR		5	/* applications a minute per address */
void	 approval_propose(struct req *);
void	 approval_decide(struct req *);
void	 approval_queue(struct req *);
void	 sponsorship_create(struct req *);
void	 sponsorship_decide(struct req *);
void	 application_create(struct req *);
void	 application_list(struct req *);
void	 application_get(struct req *);
void	 application_note(struct req *);
void	 application_decide(struct req *);
void	 apply_page(struct req *);
void	 apply_post(struct req *);
void	 console_proposals(struct req *);
void	 console_proposal_event(struct req *);
void	 console_proposal_sponsorship(struct req *);
void	 console_applications(struct req *);
void	 console_application(struct req *);
void	 console_application_note(struct req *);
void	 console_application_decide(struct req *);

/*
 * The community: report.c: reports
 * (reports)
 */
/* report.c: identity mix, chapter health, attendance, growth */
#define REPORT_MINYEAR		2000	/* ?year= of chapter health */
#define REPORT_MAXYEAR		2100
void	 report_identity(struct req *);
void	 report_health(struct req *);
void	 report_attendance(struct req *);
void	 report_growth(struct req *);
void	 report_goals_get(struct req *);
void	 report_goals_set(struct req *);
void	 report_console(struct req *);
void	 report_console_goals(struct req *);
void	 report_css(struct req *);

/* svg.c: the reports' charts as inline SVG */
#define SVG_MAXITEMS		64	/* bars, rows or columns of a chart */
#define SVG_MAXCOLS		8	/* columns of a grid */
#define SVG_MAXLABEL		256	/* bytes of a label as drawn */
enum svg_state {
	SVG_NONE = 0,
	SVG_OK,
	SVG_MISSED,
	SVG_AT_RISK,
	SVG_OPEN,
	SVG_FUTURE,
	SVG_NOT_DUE,
	SVG__STATES
};
/* One bar: a share of 0..1, its text, and a goal (< 0: none). */
struct svg_bar {
	const char	*label;
	const char	*value_text;
	double		 value;
	double		 goal;
	const char	*goal_text;
};
struct svg_cell {
	const char	*text;
	enum svg_state	 state;
};
int	 svg_bars(struct evbuffer *, const char *, const char *,
	    const char *, const struct svg_bar *, int);
int	 svg_grid(struct evbuffer *, const char *, const char *,
	    const char *, const char *const *, int, const char *const *, int,
	    const struct svg_cell *, const char *const *);
int	 svg_columns(struct evbuffer *, const char *, const char *,
	    const char *, const char *const *, int, const char *const *, int,
	    const double *);
double	 svg_nice_max(double);
double	 svg_text_width(const char *);
void	 svg_fit(const char *, double, char *, size_t);
char	*svg_string(struct evbuffer *);

/*
 * The community: series votes and episode attendance
 * (series)
 */
/* series.c: series sign-up, the series report, the member's series page */
int	 series_scope_pg(struct req *, char **);
int	 series_chapters_pg(struct req *, char **);
void	 series_signup(struct req *);
void	 series_withdraw(struct req *);
void	 series_member_get(struct req *);
void	 series_update(struct req *);
void	 series_report(struct req *);
void	 series_page(struct req *);
void	 series_page_post(struct req *);
void	 series_console(struct req *);
/* topic.c: topics for a chapter's next series, members' votes */
#define TOPIC_MAXSLUG		63	/* bytes of a chapter's slug */
#define TOPIC_MAXDESC		2000	/* bytes of a topic's description */
/* Who proposes topics and decides them (each within its chapters). */
#define ACCESS_TOPICS		(ACCESS_ADMIN | ACCESS_COMMITTEE | \
				 ACCESS_LEADER | ACCESS_TRACK_OWNER)
void	 topic_propose(struct req *);
void	 topic_list(struct req *);
void	 topic_update(struct req *);
void	 vote_cast(struct req *);
void	 vote_withdraw(struct req *);
void	 topic_member_page(struct req *);
void	 topic_member_post(struct req *);
void	 topic_console(struct req *);
void	 topic_console_propose(struct req *);
void	 topic_console_status(struct req *);

/*
 * The community: recognition.c: contributions, points, benefits, titles
 * (recognition)
 */
/* Who may call the recognition routes (router.c). */
#define RECOGNITION_RECORD	(ACCESS_ADMIN | ACCESS_COMMITTEE | \
				 ACCESS_LEADER | ACCESS_TRACK_OWNER | \
				 ACCESS_INFRA)	/* record, list, confirm */
#define RECOGNITION_REVIEW	(ACCESS_ADMIN | ACCESS_COMMITTEE | \
				 ACCESS_INFRA)	/* review quality */
#define RECOGNITION_MANAGE	(ACCESS_ADMIN | ACCESS_COMMITTEE) /* points,
					   benefits, redemptions, titles */
#define RECOGNITION_MAXROWS	500	/* limit= of a list */
#define RECOGNITION_ROWS	200	/* its default */
#define RECOGNITION_BOARD	50	/* people on one leaderboard */
#define RECOGNITION_MAXPOINTS	100000	/* a kind's points */
#define RECOGNITION_MAXPRICE	1000000	/* a benefit's price, its stock */
#define RECOGNITION_MAXDELTA	1000000	/* one correction, either way */
#define RECOGNITION_MAXCOMMENT	2000	/* bytes of a review's comment */
#define RECOGNITION_MINYEAR	2000	/* titles' years (sql/020) */
#define RECOGNITION_MAXYEAR	2100
char	*recognition_caller(const struct req *);
int	 recognition_arg_year(struct req *, const char **);
int	 recognition_arg_slug(struct req *, const char **);
int	 recognition_arg_enum(struct req *, const char *,
	    const char *const *, const char **);
int	 recognition_arg_limit(struct req *, const char **, char *, size_t);
void	 recognition_form_drop_empty(json_t *);
int	 recognition_form_int(struct req *, const char *);
json_t	*recognition_ctx(struct req *, const char *, struct db_res *);
void	 recognition_labels(struct req *, json_t *, const char *,
	    const char *);
void	 recognition_titles(struct req *);
void	 recognition_title_grant(struct req *);
void	 recognition_title_revoke(struct req *);
void	 recognition_leaderboard(struct req *);
void	 recognition_console_leaderboard(struct req *);
void	 recognition_profile(struct req *);
/* contribution.c */
void	 contribution_points_get(struct req *);
void	 contribution_points_set(struct req *);
void	 contribution_record(struct req *);
void	 contribution_list(struct req *);
void	 contribution_review(struct req *);
void	 contribution_confirm(struct req *);
void	 contribution_dismiss(struct req *);
void	 contribution_console(struct req *);
void	 contribution_console_record(struct req *);
void	 contribution_console_review(struct req *);
void	 contribution_console_proposal(struct req *);
/* points.c */
void	 points_adjust(struct req *);
void	 points_benefits(struct req *);
void	 points_benefit_create(struct req *);
void	 points_benefit_update(struct req *);
void	 points_redemptions(struct req *);
void	 points_redemption_approve(struct req *);
void	 points_redemption_reject(struct req *);
void	 points_redemption_fulfill(struct req *);
void	 points_member(struct req *);
void	 points_member_redeem(struct req *);
void	 points_member_profile(struct req *);
void	 points_member_page(struct req *);
void	 points_member_page_redeem(struct req *);
void	 points_member_page_listed(struct req *);
void	 points_console(struct req *);
void	 points_console_benefit(struct req *);
void	 points_console_redemption(struct req *);

/*
 * The community: certificate.c: volunteers and certificates
 * (certificates)
 */
/* certificate.c */
#define CERT_CODE_BYTES		18	/* a code: 144 random bits */
#define CERT_CODE_LEN		24	/* as URL-safe base64 */
#define CERT_MAXREASON		500	/* bytes of a revocation's reason */
#define CERT_LIST_MAX		500	/* certificates a list shows in full */
#define CERT_MAXTEMPLATE	(16 * 1024) /* of templates/certificate.json */
#define CERT_MAXBYTES		(16 * 1024 * 1024) /* of one PDF */
#define CERT_MINMM		50	/* smallest page side, millimetres */
#define CERT_MAXMM		600	/* largest page side */
#define CERT_MAXPT		200	/* largest font size, points */
#define CERT_TYPE		"application/pdf"
#define VERIFY_PER_ADDR		30	/* code lookups a minute per address */
int	 certificate_init(const char *);
int	 certificate_parse(const char *, size_t);
int	 certificate_build(const json_t *, unsigned char **, size_t *);
char	*certificate_scope(struct req *);
void	 certificate_issue(struct req *);
void	 certificate_list(struct req *);
void	 certificate_revoke(struct req *);
void	 certificate_pdf(struct req *);
void	 certificate_member_list(struct req *);
void	 certificate_member_pdf(struct req *);
void	 certificate_verify_page(struct req *);
void	 certificate_verify_api(struct req *);
void	 console_certificates(struct req *);
void	 console_certificate_issue(struct req *);
void	 console_certificate_revoke(struct req *);

/* volunteer.c */
#define VOLUNTEER_MAXNOTE	1000	/* bytes of a sign-up's note, a comment */
void	 volunteer_create(struct req *);
void	 volunteer_list(struct req *);
void	 volunteer_decision(struct req *);
void	 volunteer_attended(struct req *);
void	 volunteer_outstanding(struct req *);
void	 volunteer_page(struct req *);
void	 volunteer_post(struct req *);
void	 console_volunteers(struct req *);
void	 console_volunteer_act(struct req *);

#endif
