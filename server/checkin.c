/*
 * Check-in at the door and offline bundles and their reconciliation.
 *
 * A scanned code is untrusted until ticket_verify() has checked its
 * signature with the key its kid names, with the algorithm pinned to
 * ES256. Only verified claims reach the database; a code that fails is
 * still recorded (as `invalid`) so the door's log is complete. The verdict
 * itself is decided by one statement in PostgreSQL (rc_checkin), which is
 * what makes admission exactly-once across doors and server processes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>

#include "server.h"

static const struct vfield checkin_fields[] = {
	{ "token", V_STRING, 1, 0, 1, CHECKIN_MAXTOKEN, NULL },
	{ "gate", V_STRING, 0, 1, 0, CHECKIN_MAXGATE, NULL },
	{ "nonce", V_STRING, 0, 1, 1, CHECKIN_MAXNONCE, NULL },
	{ "event_id", V_INT, 0, 1, 1, ID_MAX, NULL },
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

/* Free a scan that has been answered (not its request). */
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
	req_query(s->r, SQL_CHECKIN_DOOR, vals, 6, http_reply_row);
	free(cj);
	scan_free(s);
}

/*
 * Answer each scan from its row (by position, 1-based). -1 when a row is
 * missing or makes no sense: the scans still unanswered are then left in g.
 */
static int
group_reply(struct group *g, struct db_res *res)
{
	const char	*code, *body;
	int		 i, k, status;

	if (!db_ok(res) || db_rows(res) != g->n ||
	    db_cols(res) != 4)
		return -1;
	for (i = 0; i < g->n; i++) {
		k = atoi(db_value(res, i, 0)) - 1;
		if (k < 0 || k >= g->n || g->scans[k] == NULL)
			return -1;
		status = atoi(db_value(res, i, 1));
		code = db_value(res, i, 2);
		body = db_value(res, i, 3);
		if (status == 200)
			http_reply_raw_json(g->scans[k]->r, 200, body,
			    (size_t)db_length(res, i, 3));
		else
			http_error(g->scans[k]->r, status >= 400 &&
			    status <= 499 ? status : 403, code, "%s", body);
		scan_free(g->scans[k]);
		g->scans[k] = NULL;
	}
	return 0;
}

/*
 * A group's verdicts: answer each of its scans. The group's slot goes to
 * the scans waiting (group_send) before any reply is written, so the next
 * group is already on its way. When the group failed as a whole, or its
 * rows do not fit the group, each scan not yet answered is decided alone.
 */
static void
group_done(void *arg, struct db_res *res, enum db_err err)
{
	struct group	*g = arg;
	const char	*state;
	int		 i;

	ninflight--;
	group_send();
	if (err != DB_OK || res == NULL || group_reply(g, res) == -1) {
		if (res != NULL && !db_ok(res)) {
			state = db_sqlstate(res);
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

/* The keys have been re-read (or the read failed): decide the scan. */
static void
checkin_reloaded(void *arg)
{
	checkin_run(arg);
}

/*
 * The door token's row, read because its ticket names a kid we do not
 * hold: only a token in force may make the keys be re-read (a revoked
 * one with made-up kids would otherwise make the database work per
 * scan). Either way rc_checkin_group re-reads the token and decides.
 */
static void
checkin_token_done(struct req *r, struct db_res *res)
{
	const char	*why;

	if (auth_from_row(&r->auth, res, &why) == -1 ||
	    keyring_reload_then(checkin_reloaded, r) == -1)
		checkin_run(r);
}

/*
 * POST /api/v1/checkins {token, gate?, nonce?, event_id?}. A ticket
 * signed with a key this server has not loaded yet (another server just
 * rotated) makes it re-read the keys first, so the door never sees a good
 * ticket refused; the door token is checked before that, and the reads
 * are throttled for all kids together (keyring_reload_then).
 */
void
checkin_handle(struct req *r)
{
	char		 kid[TICKET_MAXKID];
	const char	*tok, *params[2];

	if (req_validate(r, checkin_fields, sizeof(checkin_fields) /
	    sizeof(checkin_fields[0])) == -1)
		return;
	tok = json_string_value(json_object_get(r->body, "token"));
	if (keyring_unknown_kid(tok, kid, sizeof(kid))) {
		params[0] = r->auth.jti;
		params[1] = role_str(r->auth.role);
		req_query(r, SQL_TOKEN_LOOKUP, params, 2, checkin_token_done);
		return;
	}
	checkin_run(r);
}

static const struct vfield batch_fields[] = {
	{ "device", V_STRING, 1, 0, 1, CHECKIN_MAXDEVICE, NULL },
	{ "scans", V_ARRAY_ANY, 1, 0, 0, CHECKIN_MAXBATCH, NULL },
};
static const struct vfield scan_fields[] = {
	{ "token", V_STRING, 1, 0, 1, CHECKIN_MAXTOKEN, NULL },
	{ "scanned_at", V_TIME, 1, 0, 0, 0, NULL },
	{ "gate", V_STRING, 0, 1, 0, CHECKIN_MAXGATE, NULL },
	{ "nonce", V_STRING, 1, 0, 1, CHECKIN_MAXNONCE, NULL },
	{ "result", V_STRING, 0, 1, 0, CHECKIN_MAXRESULT, NULL },
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
	req_query(r, SQL_CHECKIN_BATCH, vals, 4, http_reply_row);
	free(text);
	free(scope);
}

/* GET /api/v1/events/{id}/offline-bundle */
void
checkin_bundle(struct req *r)
{
	const char	*vals[1];

	vals[0] = r->params[0];
	req_query(r, SQL_OFFLINE_BUNDLE, vals, 1, http_reply_row);
}

