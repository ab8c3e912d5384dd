/*
 * Registration: sign up, the attendee's own view through a manage secret,
 * consent, cancellation, and the organizer's list.
 *
 * The manage secret is 256 random bits, shown to the attendee once and
 * stored only as its SHA-256, so a copy of the database hands out no
 * manage links. A lookup hashes whatever it is given and asks the index
 * for the hash: an unknown secret costs the same as a known one, and
 * nothing about a near miss leaks through timing.
 *
 * Capacity, the waitlist and duplicate e-mails are decided in PostgreSQL
 * (sql/002_registration.sql), never here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <sodium.h>

#include "server.h"

static const char *const identities[] = { "enthusiast", "professional",
    "decision_maker", "partner", NULL };
static const char *const consent_names[] = { "email", "phone", "job_title",
    NULL };
static const char *const reg_statuses[] = { "confirmed", "waitlisted",
    "cancelled", NULL };
static const char *const reg_langs[] = { "en", "zh-CN", NULL };

static const struct vfield reg_fields[] = {
	{ "name", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "email", V_EMAIL, 1, 0, 0, FIELD_MAXEMAIL, NULL },
	{ "company", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "job_title", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "phone", V_PHONE, 0, 1, 0, FIELD_MAXPHONE, NULL },
	{ "identity", V_ENUM, 1, 0, 0, 0, identities },
	{ "consent", V_OBJECT, 0, 0, 0, 0, NULL },
	{ "lang", V_ENUM, 0, 0, 0, 0, reg_langs },	/* of the e-mails */
};
static const struct vfield consent_fields[] = {
	{ "sponsors", V_BOOL, 0, 0, 0, 0, NULL },
	{ "fields", V_ARRAY_STRING, 0, 0, 0, CONSENT_MAXFIELDS, NULL },
};
static const struct vfield update_fields[] = {
	{ "consent", V_OBJECT, 1, 0, 0, 0, NULL },
};

#define NFIELDS(a)	((int)(sizeof(a) / sizeof((a)[0])))

static int	 rate_limit;
static char	 public_url[512];

/* Settings from the command line. */
void
registration_init(int per_minute, const char *url)
{
	size_t	 len;

	rate_limit = per_minute;
	snprintf(public_url, sizeof(public_url), "%s", url);
	len = strlen(public_url);
	while (len > 0 && public_url[len - 1] == '/')
		public_url[--len] = '\0';
}

/* Validate the consent object: known fields, each at most once. */
static int
consent_check(json_t *c, char *field, size_t fieldsz, char *msg, size_t msgsz)
{
	char		 f[64], m[256];
	json_t		*fields, *v;
	size_t		 i, j;
	int		 k;

	snprintf(field, fieldsz, "consent");
	if (validate_object(c, consent_fields, NFIELDS(consent_fields), f,
	    sizeof(f), m, sizeof(m)) == -1) {
		snprintf(msg, msgsz, "consent.%s", m);
		return -1;
	}
	fields = json_object_get(c, "fields");
	json_array_foreach(fields, i, v) {
		for (k = 0; consent_names[k] != NULL; k++)
			if (strcmp(json_string_value(v), consent_names[k]) == 0)
				break;
		if (consent_names[k] == NULL) {
			snprintf(msg, msgsz, "consent.fields: each one of email, "
			    "phone, job_title.");
			return -1;
		}
		for (j = 0; j < i; j++)
			if (json_equal(v, json_array_get(fields, j))) {
				snprintf(msg, msgsz, "consent.fields: each field "
				    "at most once.");
				return -1;
			}
	}
	return 0;
}

/* Check a registration body; -1 with the field and a sentence. */
int
registration_check(json_t *body, char *field, size_t fieldsz, char *msg,
    size_t msgsz)
{
	json_t	*c;

	if (validate_object(body, reg_fields, NFIELDS(reg_fields), field,
	    fieldsz, msg, msgsz) == -1)
		return -1;
	if ((c = json_object_get(body, "consent")) != NULL &&
	    consent_check(c, field, fieldsz, msg, msgsz) == -1)
		return -1;
	return 0;
}

/* Check a consent change; replies 400 when it is not one. */
static int
consent_validate(struct req *r, json_t *c)
{
	char	 field[64], msg[256];

	if (consent_check(c, field, sizeof(field), msg, sizeof(msg)) == 0)
		return 0;
	http_error(r, 400, "invalid_field", "%s", msg);
	return -1;
}

/* The per-address limit; replies 429 and returns 0 when it is reached. */
int
registration_rate_ok(struct req *r)
{
	char	 ra[16];
	int	 retry;

	if (rate_allow(r->addr, time(NULL), rate_limit, &retry))
		return 1;
	snprintf(ra, sizeof(ra), "%d", retry > 0 ? retry : 1);
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Retry-After", ra);
	http_error(r, 429, "rate_limited", "Too many registrations from your "
	    "address; try again in %s seconds.", ra);
	return 0;
}

/*
 * Registrations are decided by the database in groups, as door scans are
 * (checkin.c). One goes at once while fewer than REG_GROUP_INFLIGHT
 * groups are with the database; those arriving meanwhile wait and then go
 * together, up to REG_GROUP_MAX, in one statement and one transaction
 * (rc_register_group). On one popular event every registration needs the
 * event's row lock until its commit: one at a time, each waits for its
 * own WAL flush while holding the lock; grouped, a whole group shares one
 * lock hold and one flush. Each registration is still decided under that
 * row lock in PostgreSQL, in arrival order, so capacity stays exact
 * across any number of servers. If a group fails as a whole (nothing of it
 * committed), each of its registrations is decided alone.
 *
 * A group never goes out while another of this server's groups holds one
 * of its events: it would only wait for that lock in PostgreSQL, and the
 * registrations arriving meanwhile would make smaller groups. Those of
 * a busy event wait here (in arrival order) and go together when its
 * group is back; groups of other events go meanwhile. On one hot event
 * this one change took registrations from 6,000 to 7,900 a second
 * (docs/performance.md).
 */
struct pending {
	TAILQ_ENTRY(pending)	 entry;
	struct req		*r;
	reg_done_fn		 done;
	int64_t			 event;
	json_t			*item;	/* event, p, hash, join, sealed */
};
TAILQ_HEAD(pendingq, pending);

struct reg_group {
	int		 n;
	int		 slot;			/* in out[] */
	int64_t		 events[REG_GROUP_MAX];	/* of regs, kept to the end */
	struct pending	*regs[REG_GROUP_MAX];
};

static struct pendingq	 waiting = TAILQ_HEAD_INITIALIZER(waiting);
static struct reg_group	*out[REG_GROUP_INFLIGHT];	/* with the database */
static int		 nwaiting, ninflight;
static uint64_t		 ngroups, ngrouped;

static void	group_send(void);
static void	refuse_members_only(struct req *, const char *);

/* Free a registration that has been answered (not its request). */
static void
pending_free(struct pending *p)
{
	json_decref(p->item);
	free(p);
}

/* A registration decided alone: rc_register, whose refusals raise. */
static void
alone_done(void *arg, struct db_res *res, enum db_err err)
{
	struct pending	*p = arg;

	if (err == DB_OK && db_ok(res) && db_rows(res) == 1)
		p->done(p->r, db_value(res, 0, 0));
	else if (err == DB_OK && res != NULL && db_message(res) != NULL &&
	    strcmp(db_message(res), "members_only") == 0)
		refuse_members_only(p->r, db_detail(res) ? db_detail(res) :
		    "Members only.");
	else
		req_db_fail(p->r, res, err);
	pending_free(p);
}

/* Decide one registration on its own (rc_register). */
static void
pending_alone(struct pending *p)
{
	const char	*vals[5];
	json_t		*it = p->item;
	char		 ev[24];
	char		*body;
	enum db_err	 err;

	snprintf(ev, sizeof(ev), "%lld",
	    (long long)json_integer_value(json_object_get(it, "event")));
	if ((body = json_dumps(json_object_get(it, "p"), JSON_COMPACT)) ==
	    NULL) {
		http_error(p->r, 503, "out_of_memory", "Try again.");
		pending_free(p);
		return;
	}
	vals[0] = ev;
	vals[1] = body;
	vals[2] = json_string_value(json_object_get(it, "hash"));
	vals[3] = json_string_value(json_object_get(it, "join"));
	vals[4] = json_string_value(json_object_get(it, "sealed"));
	err = db_exec(SQL_REGISTER, vals, 5, alone_done, p);
	free(body);
	if (err != DB_OK)
		alone_done(p, NULL, err);
}

/*
 * 403 members_only: the refusal also says where to join (an API client
 * gets join_url; a page shows the join link, web_error_page).
 */
static void
refuse_members_only(struct req *r, const char *msg)
{
	char	 url[sizeof(public_url) + 16];
	json_t	*o;

	if (r->html) {
		http_error(r, 403, "members_only", "%s", msg);
		return;
	}
	snprintf(url, sizeof(url), "%s/join", public_url);
	if ((o = json_pack("{s:s, s:s, s:s}", "error", "members_only",
	    "message", msg, "join_url", url)) == NULL) {
		http_error(r, 403, "members_only", "%s", msg);
		return;
	}
	http_reply_json(r, 403, o);
}

/* Answer one registration from its group's row. */
static void
pending_reply(struct pending *p, int status, const char *body)
{
	json_t		*o;
	const char	*code, *msg;

	if (status == 201) {
		p->done(p->r, body);
		return;
	}
	o = json_loads(body, 0, NULL);
	code = json_string_value(json_object_get(o, "error"));
	msg = json_string_value(json_object_get(o, "message"));
	if (code != NULL && strcmp(code, "members_only") == 0)
		refuse_members_only(p->r, msg ? msg : "Members only.");
	else
		http_error(p->r, status >= 400 && status <= 499 ? status : 400,
		    code ? code : "refused", "%s", msg ? msg : "Refused.");
	json_decref(o);
}

/*
 * The "ticket_claims" object of a registration's JSON as the database
 * wrote it (jsonb's text: `"key": value`), or NULL. Only that object is
 * parsed, not the whole row.
 */
static json_t *
row_claims(const char *body)
{
	static const char	 key[] = "\"ticket_claims\": {";
	const char		*p;

	if ((p = strstr(body, key)) == NULL)
		return NULL;
	return json_loads(p + sizeof(key) - 2, JSON_DISABLE_EOF_CHECK, NULL);
}

/* Sign the tickets of a group's rows together (keyring_presign). */
static void
group_presign(struct reg_group *g, struct db_res *res)
{
	json_t	*claims[REG_GROUP_MAX];
	int	 i, n = 0;

	for (i = 0; i < g->n; i++)
		if (atoi(db_value(res, i, 1)) == 201 &&
		    (claims[n] = row_claims(db_value(res, i, 2))) != NULL)
			n++;
	keyring_presign(claims, n);
	for (i = 0; i < n; i++)
		json_decref(claims[i]);
}

/*
 * Answer each registration from its row (by position, 1-based), their
 * tickets signed together first. -1 when a row is missing or makes no
 * sense: those unanswered stay in g.
 */
static int
group_reply(struct reg_group *g, struct db_res *res)
{
	int	 i, k;

	if (!db_ok(res) || db_rows(res) != g->n || db_cols(res) != 3)
		return -1;
	group_presign(g, res);
	for (i = 0; i < g->n; i++) {
		k = atoi(db_value(res, i, 0)) - 1;
		if (k < 0 || k >= g->n || g->regs[k] == NULL) {
			keyring_presign_clear();
			return -1;
		}
		pending_reply(g->regs[k], atoi(db_value(res, i, 1)),
		    db_value(res, i, 2));
		pending_free(g->regs[k]);
		g->regs[k] = NULL;
	}
	keyring_presign_clear();
	return 0;
}

/*
 * A group's outcome: the slot goes to those waiting first, so the next
 * group is on its way before any reply is written; then each is answered,
 * or, when the group failed as a whole, decided alone.
 */
static void
group_done(void *arg, struct db_res *res, enum db_err err)
{
	struct reg_group	*g = arg;
	const char		*state;
	int			 i;

	out[g->slot] = NULL;
	ninflight--;
	group_send();
	if (err != DB_OK || res == NULL || group_reply(g, res) == -1) {
		if (res != NULL && !db_ok(res)) {
			state = db_sqlstate(res);
			log_warnx("a group of %d registrations failed "
			    "(SQLSTATE %s); deciding each alone", g->n,
			    state ? state : "?");
		}
		for (i = 0; i < g->n; i++)
			if (g->regs[i] != NULL)
				pending_alone(g->regs[i]);
	}
	free(g);
}

/* Whether a group with the database has event ev. */
static int
event_busy(int64_t ev)
{
	int	 i, k;

	for (k = 0; k < REG_GROUP_INFLIGHT; k++)
		for (i = 0; out[k] != NULL && i < out[k]->n; i++)
			if (out[k]->events[i] == ev)
				return 1;
	return 0;
}

/*
 * The next group: those waiting whose event no group with the database
 * has, oldest first, up to REG_GROUP_MAX. NULL when there is none (or no
 * memory: then the caller decides each alone).
 */
static struct reg_group *
group_take(int *nomem)
{
	struct reg_group	*g;
	struct pending		*p, *next;

	*nomem = 0;
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		*nomem = 1;
		return NULL;
	}
	for (p = TAILQ_FIRST(&waiting); p != NULL && g->n < REG_GROUP_MAX;
	    p = next) {
		next = TAILQ_NEXT(p, entry);
		if (event_busy(p->event))
			continue;
		TAILQ_REMOVE(&waiting, p, entry);
		nwaiting--;
		g->events[g->n] = p->event;
		g->regs[g->n++] = p;
	}
	if (g->n == 0) {
		free(g);
		return NULL;
	}
	return g;
}

/* Send what waits, while fewer than REG_GROUP_INFLIGHT groups are out. */
static void
group_send(void)
{
	struct reg_group	*g;
	struct pending		*p;
	json_t			*arr;
	char			*text;
	const char		*vals[1];
	int			 i, nomem;

	while (ninflight < REG_GROUP_INFLIGHT && !TAILQ_EMPTY(&waiting)) {
		if ((g = group_take(&nomem)) == NULL && !nomem)
			return;		/* all wait for a busy event */
		if (g == NULL || (arr = json_array()) == NULL) {
			if (g != NULL)
				for (i = 0; i < g->n; i++)
					pending_alone(g->regs[i]);
			free(g);
			while ((p = TAILQ_FIRST(&waiting)) != NULL) {
				TAILQ_REMOVE(&waiting, p, entry);
				nwaiting--;
				pending_alone(p);
			}
			return;
		}
		for (i = 0; i < g->n; i++)
			json_array_append(arr, g->regs[i]->item);
		text = json_dumps(arr, JSON_COMPACT);
		json_decref(arr);
		vals[0] = text;
		/* Out before it is sent, in case its answer comes at once. */
		for (g->slot = 0; out[g->slot] != NULL; g->slot++)
			;
		out[g->slot] = g;
		ninflight++;
		if (text == NULL || db_exec(SQL_REGISTER_GROUP, vals, 1,
		    group_done, g) != DB_OK) {
			free(text);
			out[g->slot] = NULL;
			ninflight--;
			for (i = 0; i < g->n; i++)
				pending_alone(g->regs[i]);
			free(g);
			continue;
		}
		free(text);
		ngroups++;
		ngrouped += (uint64_t)g->n;
	}
}

/* Groups sent, the registrations they carried, and those waiting. */
void
registration_group_stats(uint64_t *groups, uint64_t *regs, int *waitingp)
{
	*groups = ngroups;
	*regs = ngrouped;
	*waitingp = nwaiting;
}

/*
 * Register a checked body for event r->id: new secrets in r->secret and
 * r->join, then into the next group (rc_register_group), which also
 * queues the e-mails (in the body's "lang", else the page's); they get
 * the manage secret only sealed (mail.c). done() gets the row's JSON.
 */
void
registration_submit(struct req *r, json_t *body, reg_done_fn done)
{
	struct secrets	 s;
	struct pending	*p;

	if (json_object_get(body, "lang") == NULL)
		json_object_set_new(body, "lang",
		    json_string(req_lang(r) ? "zh-CN" : "en"));
	/* As many wait here as queries may wait for a connection. */
	if (nwaiting >= db_queue_max() || (p = calloc(1, sizeof(*p))) == NULL) {
		http_error(r, 503, "busy", "The server is busy; try again in "
		    "a moment.");
		return;
	}
	secret_new(&s);
	memcpy(r->secret, s.manage, sizeof(r->secret));
	memcpy(r->join, s.join, sizeof(r->join));
	p->r = r;
	p->done = done;
	p->event = r->id;
	p->item = json_pack("{s:I, s:O, s:s, s:s, s:s?}", "event",
	    (json_int_t)r->id, "p", body, "hash", s.manage_hash, "join",
	    s.join_hash, "sealed", s.sealed[0] != '\0' ? s.sealed : NULL);
	sodium_memzero(&s, sizeof(s));
	if (p->item == NULL) {
		free(p);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	TAILQ_INSERT_TAIL(&waiting, p, entry);
	nwaiting++;
	group_send();
}

/*
 * Replace the "ticket_claims" the database sent with the signed ticket and
 * the addresses of its images (only the attendee's own secret reaches
 * them). A registration without a ticket loses the key.
 */
void
reg_attach_ticket(json_t *o, const char *secret)
{
	json_t	*claims = json_object_get(o, "ticket_claims");
	char	 png[sizeof(public_url) + SECRET_LEN + 64];
	char	 svg[sizeof(png)];
	char	*tok;

	if (json_is_object(claims) && (tok = keyring_sign(claims)) != NULL) {
		snprintf(png, sizeof(png), "%s/api/v1/registrations/%s/"
		    "ticket.png", public_url, secret);
		snprintf(svg, sizeof(svg), "%s/api/v1/registrations/%s/"
		    "ticket.svg", public_url, secret);
		json_object_set_new(o, "ticket", json_pack("{s:s, s:s, s:s}",
		    "token", tok, "png_url", png, "svg_url", svg));
		free(tok);
	}
	json_object_del(o, "ticket_claims");
}

/* Reply with the JSON a function returned; NULL (unknown secret) is 404. */
static void
reply_or_404(struct req *r, struct db_res *res)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(r->ev);
	json_t			*o;

	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such registration.");
		return;
	}
	if ((o = json_loads(db_value(res, 0, 0), 0, NULL)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	reg_attach_ticket(o, r->params[0]);
	/* The URL carries a secret: keep it out of caches and Referers. */
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	http_reply_json(r, 200, o);
}

/*
 * Registered: answer 201 with the registration, its manage link and
 * ticket (and a NightTalk's join link). The reply of every API path.
 */
void
registration_created(struct req *r, const char *row)
{
	json_t		*o;
	char		 url[sizeof(public_url) + SECRET_LEN + 16];

	o = json_loads(row, 0, NULL);
	if (o == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	snprintf(url, sizeof(url), "%s/manage/%s", public_url, r->secret);
	json_object_set_new(o, "manage_url", json_string(url));
	reg_attach_ticket(o, r->secret);
	sodium_memzero(r->secret, sizeof(r->secret));
	if (strcmp(json_string_value(json_object_get(o, "kind")) ?
	    json_string_value(json_object_get(o, "kind")) : "",
	    "nighttalk") == 0) {
		snprintf(url, sizeof(url), "%s/j/%s", public_url, r->join);
		json_object_set_new(o, "join_url", json_string(url));
	}
	json_object_del(o, "kind");
	sodium_memzero(url, sizeof(url));
	sodium_memzero(r->join, sizeof(r->join));
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Referrer-Policy", "no-referrer");
	http_reply_json(r, 201, o);
}

/* POST /api/v1/events/{id}/registrations */
void
registration_create(struct req *r)
{
	char		 field[64], msg[256];

	if (!registration_rate_ok(r))
		return;
	if (registration_check(r->body, field, sizeof(field), msg,
	    sizeof(msg)) == -1) {
		http_error(r, 400, "invalid_field", "%s", msg);
		return;
	}
	/* The public path: a members-only event refuses it. */
	json_object_set_new(r->body, "public", json_true());
	registration_submit(r, r->body, registration_created);
}

/* GET /api/v1/registrations/{secret} */
void
registration_get(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_REG_GET, vals, 1, reply_or_404);
}

/* PATCH /api/v1/registrations/{secret}: change consent. */
void
registration_update(struct req *r)
{
	char		 field[64], msg[256];
	const char	*vals[2];
	char		*body;
	json_t		*c;

	if (validate_object(r->body, update_fields, NFIELDS(update_fields),
	    field, sizeof(field), msg, sizeof(msg)) == -1) {
		http_error(r, 400, "invalid_field", "%s (only consent can be "
		    "changed here)", msg);
		return;
	}
	c = json_object_get(r->body, "consent");
	if (consent_validate(r, c) == -1)
		return;
	if ((body = json_dumps(c, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = r->secret_hash;
	vals[1] = body;
	req_query(r, SQL_REG_CONSENT, vals, 2, reply_or_404);
	free(body);
}

/* DELETE /api/v1/registrations/{secret}: cancel; promotes the waitlist. */
void
registration_cancel(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_REG_CANCEL, vals, 1, reply_or_404);
}

/*
 * POST /api/v1/registrations/{secret}/reconfirm: the attendee says they
 * are coming, so their seat is not released; 409 when it holds none.
 */
void
registration_reconfirm(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_RECONFIRM, vals, 1, reply_or_404);
}

/* GET /api/v1/events/{id}/registrations?status=&limit=&offset= */
void
registration_list(struct req *r)
{
	const char	*status, *arg, *vals[4];
	char		 lim[16], off[16];
	int64_t		 limit = 100, offset = 0;
	int		 i;

	if ((status = req_query_arg(r, "status")) != NULL) {
		for (i = 0; reg_statuses[i] != NULL; i++)
			if (strcmp(status, reg_statuses[i]) == 0)
				break;
		if (reg_statuses[i] == NULL) {
			http_error(r, 400, "invalid_field", "status: one of "
			    "confirmed, waitlisted, cancelled.");
			return;
		}
	}
	if ((arg = req_query_arg(r, "limit")) != NULL &&
	    parse_int64(arg, 1, REG_PAGE_MAX, &limit) == -1) {
		http_error(r, 400, "invalid_field", "limit: 1 to %d.",
		    REG_PAGE_MAX);
		return;
	}
	if ((arg = req_query_arg(r, "offset")) != NULL &&
	    parse_int64(arg, 0, PAGE_MAXOFFSET, &offset) == -1) {
		http_error(r, 400, "invalid_field", "offset: 0 or more.");
		return;
	}
	snprintf(lim, sizeof(lim), "%lld", (long long)limit);
	snprintf(off, sizeof(off), "%lld", (long long)offset);
	vals[0] = r->params[0];
	vals[1] = status;
	vals[2] = lim;
	vals[3] = off;
	req_query(r, SQL_REG_LIST, vals, 4, http_reply_row);
}

/*
 * POST /api/v1/registrations/{secret}/erase: the attendee's personal
 * fields are blanked, the registration cancelled (its ticket revoked, the
 * waitlist promoted); counts stay.
 */
void
registration_erase(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_REG_ERASE, vals, 1, http_reply_row);
}

/* Requests a minute one client address may make (0: no limit). */
int
registration_rate_limit(void)
{
	return rate_limit;
}

/* The site's public URL, without a trailing slash. */
const char *
registration_public_url(void)
{
	return public_url;
}
