/*
 * Check-in at the door, offline bundles and reconciliation, ticket images,
 * NightTalk join links, and the keyring of ticket keys.
 *
 * A scanned code is untrusted until ticket_verify() has checked its
 * signature with the key its kid names, with the algorithm pinned to
 * ES256. Only verified claims reach the database; a code that fails is
 * still recorded (as `invalid`) so the door's log is complete. The verdict
 * itself is decided by one statement in PostgreSQL (rc_checkin), which is
 * what makes admission exactly-once across doors and server processes.
 *
 * The keyring is shared through the database: the first server to start
 * creates the signing key, every server loads all keys, and a timer
 * re-reads them so a rotation reaches running servers within a minute.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/http.h>
#include <sodium.h>

#include "server.h"

#define KEYRING_MAX		16
#define KEYRING_REFRESH_SECS	60
#define BATCH_MAXSCANS		1000

static struct ticket_key	keyring[KEYRING_MAX];
static int			nkeys;
static int			signing = -1;	/* index of the signing key */
static struct event		*refresh_ev;

static void
keyring_clear(void)
{
	int	 i;

	for (i = 0; i < nkeys; i++) {
		ticket_key_release(&keyring[i]);
		free(keyring[i].pub_pem);
		if (keyring[i].priv_pem != NULL) {
			sodium_memzero(keyring[i].priv_pem,
			    strlen(keyring[i].priv_pem));
			free(keyring[i].priv_pem);
		}
	}
	memset(keyring, 0, sizeof(keyring));
	nkeys = 0;
	signing = -1;
}

/* Replace the keyring with rows (kid, public, private, signing). */
static int
keyring_set(PGresult *res)
{
	int	 i, n = PQntuples(res);

	if (PQnfields(res) != 4 || n == 0)
		return -1;
	keyring_clear();
	for (i = 0; i < n && i < KEYRING_MAX; i++) {
		snprintf(keyring[i].kid, sizeof(keyring[i].kid), "%s",
		    PQgetvalue(res, i, 0));
		keyring[i].pub_pem = strdup(PQgetvalue(res, i, 1));
		keyring[i].priv_pem = strdup(PQgetvalue(res, i, 2));
		if (keyring[i].pub_pem == NULL || keyring[i].priv_pem == NULL ||
		    ticket_key_prepare(&keyring[i]) == -1)
			return -1;
		if (strcmp(PQgetvalue(res, i, 3), "t") == 0)
			signing = i;
		nkeys++;
	}
	return signing >= 0 ? 0 : -1;
}

/*
 * At start-up (blocking, before the loop): create the signing key unless
 * one exists — of several servers starting at once, the unique index lets
 * exactly one insert win — then load every key.
 */
int
keyring_load(PGconn *pg)
{
	char		*priv = NULL, *pub = NULL;
	const char	*vals[2];
	PGresult	*res;
	const char	*state;
	int		 rc = -1;

	res = PQexec(pg, "SELECT 1 FROM ticket_keys WHERE retired_at IS NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("cannot read ticket keys (has `rollcalld migrate` "
		    "run?): %s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		if (ticket_keygen(&priv, &pub) == -1) {
			log_warnx("cannot generate a ticket key");
			return -1;
		}
		vals[0] = priv;
		vals[1] = pub;
		res = PQexecParams(pg, "INSERT INTO ticket_keys (kid, private_pem, "
		    "public_pem) SELECT (count(*) + 1)::text, $1, $2 "
		    "FROM ticket_keys", 2, NULL, vals, NULL, NULL, 0);
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    (state == NULL || strcmp(state, "23505") != 0))
			log_warnx("cannot store the ticket key: %s",
			    PQresultErrorMessage(res));
		sodium_memzero(priv, strlen(priv));
		free(priv);
		free(pub);
	}
	PQclear(res);
	res = PQexec(pg, "SELECT kid, public_pem, private_pem, retired_at IS NULL "
	    "FROM ticket_keys ORDER BY created_at DESC");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && keyring_set(res) == 0)
		rc = 0;
	else
		log_warnx("cannot load the ticket keys");
	PQclear(res);
	return rc;
}

static void
keyring_refreshed(void *arg, PGresult *res, enum db_err err)
{
	(void)arg;
	if (err == DB_OK && res != NULL &&
	    PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 &&
	    (PQntuples(res) != nkeys || strcmp(PQgetvalue(res, 0, 0),
	    keyring[0].kid) != 0)) {
		if (keyring_set(res) == 0)
			log_info("ticket keys reloaded (%d keys, signing %s)",
			    nkeys, keyring[signing].kid);
	}
}

static void
keyring_refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	db_exec(SQL_TICKET_KEYS, NULL, 0, keyring_refreshed, NULL);
}

/*
 * rollcalld rotate-key: a new signing key; the old one is retired but
 * still verifies, so every ticket already out stays valid. Running
 * servers pick the new key up within KEYRING_REFRESH_SECS (sooner when
 * they meet its kid).
 */
int
keyring_rotate(const char *conninfo)
{
	char		*priv = NULL, *pub = NULL;
	const char	*vals[2];
	PGconn		*pg;
	PGresult	*res = NULL;
	int		 rc = -1;

	if ((pg = db_connect_blocking(conninfo)) == NULL)
		return -1;
	if (ticket_keygen(&priv, &pub) == -1)
		goto out;
	vals[0] = priv;
	vals[1] = pub;
	/* Two statements, one transaction: the index allows one signer. */
	res = PQexec(pg, "BEGIN; UPDATE ticket_keys SET retired_at = now() "
	    "WHERE retired_at IS NULL");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_warnx("cannot rotate the ticket key: %s",
		    PQresultErrorMessage(res));
		goto out;
	}
	PQclear(res);
	res = PQexecParams(pg, "INSERT INTO ticket_keys (kid, private_pem, "
	    "public_pem) SELECT (count(*) + 1)::text, $1, $2 FROM ticket_keys "
	    "RETURNING kid", 2, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		log_warnx("cannot rotate the ticket key: %s",
		    PQresultErrorMessage(res));
		goto out;
	}
	PQclear(res);
	res = PQexec(pg, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_warnx("cannot rotate the ticket key: %s",
		    PQresultErrorMessage(res));
		goto out;
	}
	PQclear(res);
	res = PQexec(pg, "SELECT kid FROM ticket_keys WHERE retired_at IS NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		goto out;
	printf("ticket signing key is now %s; older keys still verify\n",
	    PQgetvalue(res, 0, 0));
	rc = 0;
out:
	if (priv != NULL) {
		sodium_memzero(priv, strlen(priv));
		free(priv);
	}
	free(pub);
	PQclear(res);
	PQfinish(pg);
	return rc;
}

/* Re-read the keys now and then, so rotations reach this server. */
int
keyring_start(struct event_base *base)
{
	struct timeval	 tv = { KEYRING_REFRESH_SECS, 0 };

	refresh_ev = event_new(base, -1, EV_PERSIST, keyring_refresh_cb, NULL);
	return refresh_ev == NULL ? -1 : event_add(refresh_ev, &tv);
}

/* Stop refreshing and wipe the keys. */
void
keyring_stop(void)
{
	if (refresh_ev != NULL)
		event_free(refresh_ev);
	refresh_ev = NULL;
	keyring_clear();
}

/*
 * Sign the ticket described by claims {ev, reg, jti, iat} as
 * rc_ticket_claims() returns them, with this server's signing key. During
 * a rotation two servers may sign one ticket with different keys; both
 * codes are valid, since retired keys still verify. NULL on failure.
 */
char *
keyring_sign(const json_t *claims)
{
	const char	*jti;

	jti = json_string_value(json_object_get(claims, "jti"));
	if (jti == NULL || signing < 0)
		return NULL;
	return ticket_sign(&keyring[signing],
	    json_integer_value(json_object_get(claims, "ev")),
	    json_integer_value(json_object_get(claims, "reg")), jti,
	    (long)json_integer_value(json_object_get(claims, "iat")));
}

/* Verify a scanned code against every key we hold. */
int
keyring_verify(const char *tok, struct ticket_claims *c)
{
	return ticket_verify(tok, keyring, nkeys, c);
}

/* The verified claims as the JSON rc_checkin() takes, or NULL. */
json_t *
keyring_claims(const char *tok)
{
	struct ticket_claims	 c;

	if (tok == NULL || keyring_verify(tok, &c) == -1)
		return NULL;
	return json_pack("{s:I, s:I, s:s, s:s}", "ev", (json_int_t)c.event_id,
	    "reg", (json_int_t)c.reg_id, "jti", c.jti, "kid", c.kid);
}

static void
reply_json_row(struct req *r, PGresult *res)
{
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such event.");
		return;
	}
	http_reply_raw_json(r, 200, PQgetvalue(res, 0, 0),
	    (size_t)PQgetlength(res, 0, 0));
}

static const struct vfield checkin_fields[] = {
	{ "token", V_STRING, 1, 0, 1, 16384, NULL },
	{ "gate", V_STRING, 0, 1, 0, 64, NULL },
	{ "nonce", V_STRING, 0, 1, 1, 64, NULL },
	{ "event_id", V_INT, 0, 1, 1, INT64_C(1) << 53, NULL },
};

/*
 * Scans are decided by the database in groups. A scan goes at once while
 * fewer than GROUP_INFLIGHT groups are with the database; scans arriving
 * meanwhile wait and then go together, up to GROUP_MAX, in one statement
 * and one transaction (rc_checkin_group). At a rush the door then waits
 * on one WAL flush per group instead of one per scan; a lone scan waits
 * for nothing. Each scan is still decided by rc_checkin's one conditional
 * UPDATE, so admission stays exactly-once across doors and servers. If a
 * group fails as a whole, each of its scans is decided alone.
 */
#define GROUP_MAX	64
#define GROUP_INFLIGHT	2

struct scan {
	TAILQ_ENTRY(scan)	 entry;
	struct req		*r;
	json_t			*item;	/* door, role, event, claims,
					   gate, nonce */
};
TAILQ_HEAD(scanq, scan);

struct group {
	int		 n;
	struct scan	*scans[GROUP_MAX];
};

static struct scanq	 waiting = TAILQ_HEAD_INITIALIZER(waiting);
static int		 nwaiting, ninflight;
static uint64_t		 ngroups, ngrouped;

static void	group_send(void);

static void
scan_free(struct scan *s)
{
	json_decref(s->item);
	free(s);
}

/* One scan alone: rc_checkin_door, whose refusals map as any request's. */
static void
scan_alone(struct scan *s)
{
	char		 evbuf[24];
	const char	*vals[6];
	json_t		*it = s->item, *ev = json_object_get(it, "event");
	json_t		*claims = json_object_get(it, "claims");
	char		*cj = NULL;

	if (json_is_object(claims))
		cj = json_dumps(claims, JSON_COMPACT);
	snprintf(evbuf, sizeof(evbuf), "%lld", (long long)json_integer_value(ev));
	vals[0] = json_string_value(json_object_get(it, "door"));
	vals[1] = json_string_value(json_object_get(it, "role"));
	vals[2] = json_is_integer(ev) ? evbuf : NULL;
	vals[3] = cj;
	vals[4] = json_string_value(json_object_get(it, "gate"));
	vals[5] = json_string_value(json_object_get(it, "nonce"));
	req_query(s->r, SQL_CHECKIN_DOOR, vals, 6, reply_json_row);
	free(cj);
	scan_free(s);
}

/*
 * Answer each scan from its row (by position, 1-based). -1 when a row is
 * missing or makes no sense: the scans still unanswered are then left in g.
 */
static int
group_reply(struct group *g, PGresult *res)
{
	const char	*code, *body;
	int		 i, k, status;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != g->n ||
	    PQnfields(res) != 4)
		return -1;
	for (i = 0; i < g->n; i++) {
		k = atoi(PQgetvalue(res, i, 0)) - 1;
		if (k < 0 || k >= g->n || g->scans[k] == NULL)
			return -1;
		status = atoi(PQgetvalue(res, i, 1));
		code = PQgetvalue(res, i, 2);
		body = PQgetvalue(res, i, 3);
		if (status == 200)
			http_reply_raw_json(g->scans[k]->r, 200, body,
			    (size_t)PQgetlength(res, i, 3));
		else
			http_error(g->scans[k]->r, status >= 400 &&
			    status <= 499 ? status : 403, code, "%s", body);
		scan_free(g->scans[k]);
		g->scans[k] = NULL;
	}
	return 0;
}

static void
group_done(void *arg, PGresult *res, enum db_err err)
{
	struct group	*g = arg;
	const char	*state;
	int		 i;

	ninflight--;
	group_send();
	if (err != DB_OK || res == NULL || group_reply(g, res) == -1) {
		if (res != NULL && PQresultStatus(res) != PGRES_TUPLES_OK) {
			state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			log_warnx("a group of %d scans failed (SQLSTATE %s); "
			    "deciding each alone", g->n, state ? state : "?");
		}
		for (i = 0; i < g->n; i++)
			if (g->scans[i] != NULL)
				scan_alone(g->scans[i]);
	}
	free(g);
}

/* Send what waits, while fewer than GROUP_INFLIGHT groups are out. */
static void
group_send(void)
{
	struct group	*g;
	struct scan	*s;
	json_t		*arr;
	char		*text;
	const char	*vals[1];
	int		 i;

	while (ninflight < GROUP_INFLIGHT && !TAILQ_EMPTY(&waiting)) {
		if ((g = calloc(1, sizeof(*g))) == NULL ||
		    (arr = json_array()) == NULL) {
			free(g);
			while ((s = TAILQ_FIRST(&waiting)) != NULL) {
				TAILQ_REMOVE(&waiting, s, entry);
				nwaiting--;
				scan_alone(s);
			}
			return;
		}
		while (g->n < GROUP_MAX &&
		    (s = TAILQ_FIRST(&waiting)) != NULL) {
			TAILQ_REMOVE(&waiting, s, entry);
			nwaiting--;
			g->scans[g->n++] = s;
			json_array_append(arr, s->item);
		}
		text = json_dumps(arr, JSON_COMPACT);
		json_decref(arr);
		vals[0] = text;
		if (text == NULL || db_exec(SQL_CHECKIN_GROUP, vals, 1,
		    group_done, g) != DB_OK) {
			free(text);
			for (i = 0; i < g->n; i++)
				scan_alone(g->scans[i]);
			free(g);
			continue;
		}
		free(text);
		ninflight++;
		ngroups++;
		ngrouped += (uint64_t)g->n;
	}
}

/* Groups sent and the scans they carried, for /metrics. */
void
checkin_group_stats(uint64_t *groups, uint64_t *scans)
{
	*groups = ngroups;
	*scans = ngrouped;
}

/*
 * Decide the scan: the verified claims (or none) and the door token go to
 * the database, which re-reads the token's row and admits in the same
 * statement.
 */
static void
checkin_run(struct req *r)
{
	struct scan	*s;
	json_t		*ev = json_object_get(r->body, "event_id");

	/* As many scans wait here as queries may wait for a connection. */
	if (nwaiting >= db_queue_max() || (s = calloc(1, sizeof(*s))) == NULL) {
		http_error(r, 503, "busy", "The server is busy; try again in "
		    "a moment.");
		return;
	}
	s->r = r;
	s->item = json_pack("{s:s, s:s, s:O?, s:o?, s:O?, s:O?}",
	    "door", r->auth.jti, "role", role_str(r->auth.role),
	    "event", json_is_integer(ev) ? ev : NULL,
	    "claims", keyring_claims(json_string_value(json_object_get(r->body,
	    "token"))),
	    "gate", json_object_get(r->body, "gate"),
	    "nonce", json_object_get(r->body, "nonce"));
	if (s->item == NULL) {
		free(s);
		http_error(r, 503, "busy", "The server is busy; try again in "
		    "a moment.");
		return;
	}
	TAILQ_INSERT_TAIL(&waiting, s, entry);
	nwaiting++;
	group_send();
}

static void
checkin_keys_done(struct req *r, PGresult *res)
{
	if (PQntuples(res) > 0 && keyring_set(res) == 0)
		log_info("ticket keys reloaded (%d keys)", nkeys);
	checkin_run(r);
}

/* True when tok names a kid this server does not hold; the kid in kid. */
static int
kid_unknown(const char *tok, char *kid, size_t kidsz)
{
	int	 i;

	if (tok == NULL || ticket_peek_kid(tok, kid, kidsz) == -1 ||
	    kid[0] == '\0')
		return 0;
	for (i = 0; i < nkeys; i++)
		if (strcmp(keyring[i].kid, kid) == 0)
			return 0;
	return 1;
}

/*
 * POST /api/v1/checkins {token, gate?, nonce?, event_id?}. A ticket
 * signed with a key this server has not loaded yet (another server just
 * rotated) makes it re-read the keys first, so the door never sees a good
 * ticket refused: at most once a second for any one unknown kid, so a
 * made-up kid right before it does not keep a real new one out.
 */
void
checkin_handle(struct req *r)
{
	static time_t	 last_reload;
	static char	 last_kid[sizeof(keyring[0].kid)];
	char		 kid[sizeof(keyring[0].kid)];
	const char	*tok;

	if (req_validate(r, checkin_fields, sizeof(checkin_fields) /
	    sizeof(checkin_fields[0])) == -1)
		return;
	tok = json_string_value(json_object_get(r->body, "token"));
	if (kid_unknown(tok, kid, sizeof(kid)) &&
	    (time(NULL) != last_reload || strcmp(kid, last_kid) != 0)) {
		last_reload = time(NULL);
		snprintf(last_kid, sizeof(last_kid), "%s", kid);
		req_query(r, SQL_TICKET_KEYS, NULL, 0, checkin_keys_done);
		return;
	}
	checkin_run(r);
}

static const struct vfield batch_fields[] = {
	{ "device", V_STRING, 1, 0, 1, 64, NULL },
	{ "scans", V_ARRAY_ANY, 1, 0, 0, BATCH_MAXSCANS, NULL },
};
static const struct vfield scan_fields[] = {
	{ "token", V_STRING, 1, 0, 1, 16384, NULL },
	{ "scanned_at", V_TIME, 1, 0, 0, 0, NULL },
	{ "gate", V_STRING, 0, 1, 0, 64, NULL },
	{ "nonce", V_STRING, 1, 0, 1, 64, NULL },
	{ "result", V_STRING, 0, 1, 0, 32, NULL },
};

/*
 * POST /api/v1/checkins/batch {device, scans: [{token, scanned_at, gate?,
 * nonce}]}: scans a door decided offline. Each code is verified here; the
 * database orders them and lets the earliest admission win.
 */
void
checkin_batch(struct req *r)
{
	char		 field[64], msg[256];
	const char	*vals[4];
	json_t		*scans, *s, *out, *o;
	char		*text, *scope;
	size_t		 i;

	if (req_validate(r, batch_fields, sizeof(batch_fields) /
	    sizeof(batch_fields[0])) == -1)
		return;
	scans = json_object_get(r->body, "scans");
	json_array_foreach(scans, i, s) {
		if (validate_object(s, scan_fields, sizeof(scan_fields) /
		    sizeof(scan_fields[0]), field, sizeof(field), msg,
		    sizeof(msg)) == -1) {
			http_error(r, 400, "invalid_field", "scans[%zu].%s", i,
			    msg);
			return;
		}
	}
	if ((out = json_array()) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_array_foreach(scans, i, s) {
		o = json_pack("{s:o?, s:O, s:O?, s:O}", "claims",
		    keyring_claims(json_string_value(json_object_get(s, "token"))),
		    "scanned_at", json_object_get(s, "scanned_at"),
		    "gate", json_object_get(s, "gate"),
		    "nonce", json_object_get(s, "nonce"));
		if (o == NULL || json_array_append_new(out, o) == -1) {
			json_decref(out);
			http_error(r, 503, "out_of_memory", "Try again.");
			return;
		}
	}
	text = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	if (text == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	scope = auth_scope_pg(&r->auth);
	vals[0] = r->auth.jti;
	vals[1] = scope;
	vals[2] = json_string_value(json_object_get(r->body, "device"));
	vals[3] = text;
	req_query(r, SQL_CHECKIN_BATCH, vals, 4, reply_json_row);
	free(text);
	free(scope);
}

/* GET /api/v1/events/{id}/offline-bundle */
void
checkin_bundle(struct req *r)
{
	const char	*vals[1];
	int64_t		 id;

	if (req_event_in_scope(r, &id) == -1)
		return;
	vals[0] = r->params[0];
	req_query(r, SQL_OFFLINE_BUNDLE, vals, 1, reply_json_row);
}

/* Sign the ticket a rc_ticket_get() row describes; replies on failure. */
static char *
ticket_from_row(struct req *r, PGresult *res)
{
	json_t	*claims;
	char	*tok;

	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such registration.");
		return NULL;
	}
	claims = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	if (claims == NULL || json_object_size(claims) == 0) {
		json_decref(claims);
		http_error(r, 409, "not_confirmed", "Only a confirmed "
		    "registration has a ticket.");
		return NULL;
	}
	tok = keyring_sign(claims);
	json_decref(claims);
	if (tok == NULL)
		http_error(r, 503, "ticket_unavailable", "The ticket cannot be "
		    "signed right now; try again.");
	return tok;
}

static void
ticket_png_done(struct req *r, PGresult *res)
{
	unsigned char	*png = NULL;
	size_t		 len;
	char		*tok;

	if ((tok = ticket_from_row(r, res)) == NULL)
		return;
	if (ticket_png(tok, &png, &len) == -1) {
		free(tok);
		http_error(r, 503, "ticket_unavailable", "The ticket image "
		    "cannot be made right now.");
		return;
	}
	free(tok);
	http_reply_bytes(r, 200, "image/png", png, len, "private");
	free(png);
}

static void
ticket_svg_done(struct req *r, PGresult *res)
{
	char	*tok, *svg;

	if ((tok = ticket_from_row(r, res)) == NULL)
		return;
	svg = ticket_svg(tok);
	free(tok);
	if (svg == NULL) {
		http_error(r, 503, "ticket_unavailable", "The ticket image "
		    "cannot be made right now.");
		return;
	}
	http_reply_bytes(r, 200, "image/svg+xml", (unsigned char *)svg,
	    strlen(svg), "private");
	free(svg);
}

static int
secret_param(struct req *r, char *hex, size_t hexsz)
{
	if (secret_hash_hex(r->params[0], hex, hexsz) == -1) {
		http_error(r, 404, "not_found", "No such registration.");
		return -1;
	}
	return 0;
}

/* GET /api/v1/registrations/{secret}/ticket.png */
void
ticket_png_get(struct req *r)
{
	char		 hex[65];
	const char	*vals[1] = { hex };

	if (secret_param(r, hex, sizeof(hex)) == 0)
		req_query(r, SQL_TICKET_GET, vals, 1, ticket_png_done);
}

/* GET /api/v1/registrations/{secret}/ticket.svg */
void
ticket_svg_get(struct req *r)
{
	char		 hex[65];
	const char	*vals[1] = { hex };

	if (secret_param(r, hex, sizeof(hex)) == 0)
		req_query(r, SQL_TICKET_GET, vals, 1, ticket_svg_done);
}

static void
reissue_done(struct req *r, PGresult *res)
{
	json_t	*o;
	char	*tok;

	if ((tok = ticket_from_row(r, res)) == NULL)
		return;
	o = json_pack("{s:s}", "token", tok);
	free(tok);
	http_reply_json(r, 201, o);
}

/*
 * POST /api/v1/registrations/{secret}/ticket: a new ticket (a phone lost,
 * a screenshot shared); the old code is refused from now on.
 */
void
ticket_reissue(struct req *r)
{
	char		 hex[65];
	const char	*vals[1] = { hex };

	if (secret_param(r, hex, sizeof(hex)) == 0)
		req_query(r, SQL_TICKET_REISSUE, vals, 1, reissue_done);
}

static void
join_done(struct req *r, PGresult *res)
{
	json_t		*o;
	const char	*url;

	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such join link.");
		return;
	}
	o = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	url = json_string_value(json_object_get(o, "url"));
	if (url == NULL || validate_url(url) == -1) {
		json_decref(o);
		http_error(r, 404, "not_found", "No such join link.");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Location",
	    url);
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Referrer-Policy", "no-referrer");
	json_decref(o);
	http_reply_raw_json(r, 302, "{\"result\":\"redirect\"}", 21);
}

/* GET /j/{secret}: a NightTalk attendee's personal join link. */
void
join_get(struct req *r)
{
	char		 hex[65];
	const char	*vals[1] = { hex };

	if (secret_hash_hex(r->params[0], hex, sizeof(hex)) == -1) {
		http_error(r, 404, "not_found", "No such join link.");
		return;
	}
	req_query(r, SQL_JOIN, vals, 1, join_done);
}
