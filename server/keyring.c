/*
 * The keyring of ticket keys, shared through the database: the first
 * server to start creates the signing key, every server loads all keys,
 * and a timer re-reads them so a rotation reaches running servers within
 * a minute. Registration, check-in, leads and the outbox sign and verify
 * through it; only the signing key ever signs.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "server.h"

static struct ticket_key	keyring[KEYRING_MAX];
static int			nkeys;
static int			signing = -1;	/* index of the signing key */
static struct event		*refresh_ev;
static char			*jwks;		/* the keys as a JWK Set */

/* Tickets signed ahead for the replies of one group (keyring_presign). */
static struct {
	struct ticket_in	 in[REG_GROUP_MAX];
	char			 jti[REG_GROUP_MAX][TICKET_MAXJTI];
	char			*tok[REG_GROUP_MAX];
	int			 n;
} presigned;

/*
 * Reloads on demand, for a ticket whose kid we do not hold (another
 * server just rotated). They are coalesced and throttled as a whole: at
 * most one read of the keys per KEYRING_RELOAD_SECS whatever the kid, so
 * made-up kids cannot make the database work per scan. A scan that asks
 * too soon is not refused: it waits for the next read (at most
 * KEYRING_RELOAD_SECS), so a real new key is still taken promptly. The
 * caller checks the door token first (checkin.c).
 */
struct reload_waiter {
	TAILQ_ENTRY(reload_waiter) entry;
	void			(*fn)(void *);
	void			*arg;
};
TAILQ_HEAD(waiterq, reload_waiter);
static struct {
	struct event		*timer;		/* the next allowed read */
	struct waiterq		 next;		/* served by the next read */
	struct waiterq		 loading;	/* served by the read in flight */
	int			 nwaiting;
	int			 inflight;
	struct timespec		 last;		/* when the last read began */
	unsigned long long	 count;
} reload = {
	.next = TAILQ_HEAD_INITIALIZER(reload.next),
	.loading = TAILQ_HEAD_INITIALIZER(reload.loading),
};

/* Forget every key, wiping the private ones. */
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
	free(jwks);
	jwks = NULL;
}

/* One P-256 coordinate of pkey as unpadded base64url (32 bytes), or -1. */
static int
jwk_coord(EVP_PKEY *pkey, const char *param, char *out, size_t outsz)
{
	BIGNUM		*bn = NULL;
	unsigned char	 bin[JWK_COORD_BYTES];
	int		 rc = -1;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) == 1 &&
	    BN_bn2binpad(bn, bin, sizeof(bin)) == (int)sizeof(bin) &&
	    outsz >= sodium_base64_ENCODED_LEN(sizeof(bin),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING)) {
		sodium_bin2base64(out, outsz, bin, sizeof(bin),
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		rc = 0;
	}
	BN_free(bn);
	return rc;
}

/* One public PEM as a JWK (EC P-256, ES256, use sig), or NULL. */
static json_t *
jwk_from_pem(const char *kid, const char *pem)
{
	BIO		*bio = NULL;
	EVP_PKEY	*pkey = NULL;
	json_t		*jwk = NULL;
	char		 x[64], y[64];

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL ||
	    !EVP_PKEY_is_a(pkey, "EC") ||
	    jwk_coord(pkey, OSSL_PKEY_PARAM_EC_PUB_X, x, sizeof(x)) == -1 ||
	    jwk_coord(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, y, sizeof(y)) == -1)
		goto out;
	jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC",
	    "crv", "P-256", "x", x, "y", y, "kid", kid, "alg", "ES256",
	    "use", "sig");
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return jwk;
}

/* Render the JWK Set of the keys held now into jwks (NULL on failure). */
static void
keyring_render_jwks(void)
{
	json_t	*set, *keys, *jwk;
	int	 i;

	free(jwks);
	jwks = NULL;
	if ((set = json_object()) == NULL || (keys = json_array()) == NULL ||
	    json_object_set_new(set, "keys", keys) == -1) {
		json_decref(set);
		return;
	}
	for (i = 0; i < nkeys; i++) {
		if ((jwk = jwk_from_pem(keyring[i].kid,
		    keyring[i].pub_pem)) == NULL) {
			log_warnx("key %s: no JWK from its public PEM",
			    keyring[i].kid);
			continue;
		}
		json_array_append_new(keys, jwk);
	}
	jwks = json_dumps(set, JSON_COMPACT);
	json_decref(set);
}

/* Replace the keyring with rows (kid, public, private, signing). */
int
keyring_set(const struct db_res *res)
{
	int	 i, n = db_rows(res);

	if (db_cols(res) != 4 || n == 0)
		return -1;
	keyring_clear();
	for (i = 0; i < n && i < KEYRING_MAX; i++) {
		snprintf(keyring[i].kid, sizeof(keyring[i].kid), "%s",
		    db_value(res, i, 0));
		keyring[i].pub_pem = strdup(db_value(res, i, 1));
		keyring[i].priv_pem = strdup(db_value(res, i, 2));
		if (keyring[i].pub_pem == NULL || keyring[i].priv_pem == NULL ||
		    ticket_key_prepare(&keyring[i]) == -1)
			return -1;
		if (strcmp(db_value(res, i, 3), "t") == 0)
			signing = i;
		nkeys++;
	}
	keyring_render_jwks();
	return signing >= 0 ? 0 : -1;
}

/*
 * At start-up (blocking, before the loop): create the signing key unless
 * one exists — of several servers starting at once, the unique index lets
 * exactly one insert win — then load every key.
 */
int
keyring_load(struct db_conn *pg)
{
	char		*priv = NULL, *pub = NULL;
	const char	*vals[2], *state;
	struct db_res	*res;
	int		 rc = -1;

	res = db_run(pg, SQL_KEY_SIGNING, NULL, 0);
	if (!db_ok(res)) {
		log_warnx("cannot read ticket keys (has `rollcalld migrate` "
		    "run?): %s", db_error(res));
		db_res_free(res);
		return -1;
	}
	if (db_rows(res) == 0) {
		db_res_free(res);
		if (ticket_keygen(&priv, &pub) == -1) {
			log_warnx("cannot generate a ticket key");
			return -1;
		}
		vals[0] = priv;
		vals[1] = pub;
		res = db_run(pg, SQL_KEY_ADD, vals, 2);
		state = db_sqlstate(res);
		if (!db_ok(res) && (state == NULL || strcmp(state, "23505") != 0))
			log_warnx("cannot store the ticket key: %s",
			    db_error(res));
		sodium_memzero(priv, strlen(priv));
		free(priv);
		free(pub);
	}
	db_res_free(res);
	res = db_run(pg, SQL_TICKET_KEYS, NULL, 0);
	if (db_ok(res) && keyring_set(res) == 0)
		rc = 0;
	else
		log_warnx("cannot load the ticket keys");
	db_res_wipe(res);
	db_res_free(res);
	return rc;
}

/* The periodic read of the keys: reload when they differ from ours. */
static void
keyring_refreshed(void *arg, struct db_res *res, enum db_err err)
{
	(void)arg;
	if (err == DB_OK && db_ok(res) && db_rows(res) > 0 &&
	    (db_rows(res) != nkeys || strcmp(db_value(res, 0, 0),
	    keyring[0].kid) != 0)) {
		if (keyring_set(res) == 0)
			log_info("ticket keys reloaded (%d keys, signing %s)",
			    nkeys, keyring[signing].kid);
	}
}

/* Every KEYRING_REFRESH_SECS: read the keys again. */
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
	struct db_conn	*pg;
	struct db_res	*res = NULL;
	int		 rc = -1;

	if ((pg = db_connect_blocking(conninfo)) == NULL)
		return -1;
	if (ticket_keygen(&priv, &pub) == -1)
		goto out;
	vals[0] = priv;
	vals[1] = pub;
	/* Retire and add in one transaction: the index allows one signer. */
	if (db_run_ok(pg, SQL_BEGIN, NULL, 0) == -1 ||
	    db_run_ok(pg, SQL_KEY_RETIRE, NULL, 0) == -1)
		goto out;
	res = db_run(pg, SQL_KEY_ADD, vals, 2);
	if (!db_ok(res) || db_rows(res) != 1) {
		log_warnx("cannot rotate the ticket key: %s", db_error(res));
		goto out;
	}
	if (db_run_ok(pg, SQL_COMMIT, NULL, 0) == -1)
		goto out;
	printf("ticket signing key is now %s; older keys still verify\n",
	    db_value(res, 0, 0));
	rc = 0;
out:
	if (priv != NULL) {
		sodium_memzero(priv, strlen(priv));
		free(priv);
	}
	free(pub);
	db_res_free(res);
	db_close(pg);
	return rc;
}

static void	reload_start(void);

/* The on-demand read is back: take the keys, run those who waited for it. */
static void
reload_done(void *arg, struct db_res *res, enum db_err err)
{
	struct reload_waiter	*w;

	(void)arg;
	reload.inflight = 0;
	if (err == DB_OK && db_ok(res) && db_rows(res) > 0 &&
	    keyring_set(res) == 0)
		log_info("ticket keys reloaded for an unknown kid (%d keys)",
		    nkeys);
	while ((w = TAILQ_FIRST(&reload.loading)) != NULL) {
		TAILQ_REMOVE(&reload.loading, w, entry);
		reload.nwaiting--;
		w->fn(w->arg);
		free(w);
	}
	if (!TAILQ_EMPTY(&reload.next))
		reload_start();
}

/* Seconds since the last on-demand read began (large when none has). */
static double
reload_age(void)
{
	struct timespec	 now;

	if (reload.count == 0)
		return 1e9;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - reload.last.tv_sec) +
	    (double)(now.tv_nsec - reload.last.tv_nsec) / 1e9;
}

/* Read the keys for those waiting, now or when the throttle allows. */
static void
reload_start(void)
{
	struct reload_waiter	*w;
	struct timeval		 tv;
	double			 wait;

	if (reload.inflight || evtimer_pending(reload.timer, NULL))
		return;
	if ((wait = KEYRING_RELOAD_SECS - reload_age()) > 0) {
		tv.tv_sec = (time_t)wait;
		tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6) + 1;
		evtimer_add(reload.timer, &tv);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &reload.last);
	reload.count++;
	while ((w = TAILQ_FIRST(&reload.next)) != NULL) {
		TAILQ_REMOVE(&reload.next, w, entry);
		TAILQ_INSERT_TAIL(&reload.loading, w, entry);
	}
	reload.inflight = 1;
	if (db_exec(SQL_TICKET_KEYS, NULL, 0, reload_done, NULL) != DB_OK)
		reload_done(NULL, NULL, DB_EBUSY);
}

/* The throttle has passed: read the keys. */
static void
reload_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	reload_start();
}

/*
 * Re-read the keys soon (see `reload` above), then call fn(arg), whether
 * the read worked or not. -1 when too many wait already: the caller goes
 * on with the keys it has.
 */
int
keyring_reload_then(void (*fn)(void *), void *arg)
{
	struct reload_waiter	*w;

	if (reload.timer == NULL || reload.nwaiting >= db_queue_max() ||
	    (w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->fn = fn;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&reload.next, w, entry);
	reload.nwaiting++;
	reload_start();
	return 0;
}

/* On-demand reads of the keys so far, for /metrics. */
unsigned long long
keyring_reload_count(void)
{
	return reload.count;
}

/* Re-read the keys now and then, so rotations reach this server. */
int
keyring_start(struct event_base *base)
{
	struct timeval	 tv = { KEYRING_REFRESH_SECS, 0 };

	if ((reload.timer = evtimer_new(base, reload_timer_cb, NULL)) == NULL)
		return -1;
	refresh_ev = event_new(base, -1, EV_PERSIST, keyring_refresh_cb, NULL);
	return refresh_ev == NULL ? -1 : event_add(refresh_ev, &tv);
}

/* Stop refreshing and wipe the keys. */
void
keyring_stop(void)
{
	struct reload_waiter	*w;

	if (refresh_ev != NULL)
		event_free(refresh_ev);
	refresh_ev = NULL;
	if (reload.timer != NULL)
		event_free(reload.timer);
	reload.timer = NULL;
	while ((w = TAILQ_FIRST(&reload.next)) != NULL) {
		TAILQ_REMOVE(&reload.next, w, entry);
		free(w);
	}
	while ((w = TAILQ_FIRST(&reload.loading)) != NULL) {
		TAILQ_REMOVE(&reload.loading, w, entry);
		free(w);
	}
	reload.nwaiting = 0;
	keyring_clear();
}

/* The ticket claims {ev, reg, jti, iat} describe; 0, or -1. */
static int
claims_in(const json_t *claims, struct ticket_in *in)
{
	in->jti = json_string_value(json_object_get(claims, "jti"));
	in->event_id = json_integer_value(json_object_get(claims, "ev"));
	in->reg_id = json_integer_value(json_object_get(claims, "reg"));
	in->iat = (long)json_integer_value(json_object_get(claims, "iat"));
	return in->jti != NULL ? 0 : -1;
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
	struct ticket_in	 in;
	int			 i;

	if (claims_in(claims, &in) == -1 || signing < 0)
		return NULL;
	for (i = 0; i < presigned.n; i++)
		if (presigned.tok[i] != NULL &&
		    presigned.in[i].event_id == in.event_id &&
		    presigned.in[i].reg_id == in.reg_id &&
		    presigned.in[i].iat == in.iat &&
		    strcmp(presigned.in[i].jti, in.jti) == 0)
			return strdup(presigned.tok[i]);
	return ticket_sign(&keyring[signing], in.event_id, in.reg_id, in.jti,
	    in.iat);
}

/*
 * Sign the tickets of n claims (NULL: none) together, for the
 * keyring_sign() calls answering one registration group until
 * keyring_presign_clear(): a group's tickets cost about half as much
 * each (ticket_sign_many). Beyond REG_GROUP_MAX, or a jti too long to
 * keep, they are signed one by one as they are asked for.
 */
void
keyring_presign(json_t *const *claims, int n)
{
	int	 i, m = 0;

	keyring_presign_clear();
	if (signing < 0)
		return;
	for (i = 0; i < n && m < REG_GROUP_MAX; i++) {
		if (claims[i] == NULL ||
		    claims_in(claims[i], &presigned.in[m]) == -1 ||
		    strlen(presigned.in[m].jti) >= TICKET_MAXJTI)
			continue;
		snprintf(presigned.jti[m], TICKET_MAXJTI, "%s", presigned.in[m].jti);
		presigned.in[m].jti = presigned.jti[m];
		m++;
	}
	if (m == 0)
		return;
	ticket_sign_many(&keyring[signing], presigned.in, (size_t)m,
	    presigned.tok);
	presigned.n = m;
}

/* Forget the tickets keyring_presign() signed. */
void
keyring_presign_clear(void)
{
	int	 i;

	for (i = 0; i < presigned.n; i++) {
		free(presigned.tok[i]);
		presigned.tok[i] = NULL;
	}
	presigned.n = 0;
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


/* True when tok names a kid this server does not hold; the kid in kid. */
int
keyring_unknown_kid(const char *tok, char *kid, size_t kidsz)
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

/* Keys held now. */
int
keyring_count(void)
{
	return nkeys;
}

/* The public keys as a JWK Set (JSON text), made when the keys load. */
const char *
keyring_jwks(void)
{
	return jwks;
}
