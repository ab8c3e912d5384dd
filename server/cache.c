/*
 * The public read cache: rendered replies of GET /api/v1/events,
 * /api/v1/events/{id}, `/` and `/events/{id}` for anonymous visitors,
 * kept in memory by key (the route and what changes the answer: filters,
 * event id, language), at most CACHE_MAXENTRIES of them and
 * CACHE_MAXBYTES of bodies, least recently used out first.
 *
 * Freshness comes from PostgreSQL: triggers (sql/functions/cache.sql)
 * notify channel rc_public with an event's id whenever a statement
 * changes what those reads show, and db_listen() hands each notification
 * here; the event's entries go, and every list with them. A write made
 * through this daemon forgets its entries at once too (cache_forget, from
 * http.c), so a client reads its own writes. CACHE_MAXAGE_MS is only the
 * safety net (a notification lost with a half-dead connection; lists
 * ending at now()).
 *
 * The race to close: a miss reads the database, and a change commits and
 * is notified before that answer comes back; storing the answer would
 * keep the old state. So a miss takes a ticket (the generation) before
 * its query, and cache_put refuses an answer once any invalidation has
 * happened since. While the LISTEN connection is down nothing is served
 * or stored, and coming back up bumps the generation: notifications sent
 * meanwhile are lost.
 *
 * Per-browser parts never enter the cache: Set-Cookie headers are written
 * per request, and a page's CSRF token is rendered as a process-random
 * placeholder (cache_hole) whose places are recorded and filled per
 * request by http_reply_cached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "server.h"

static struct {
	struct cache_entry	*buckets[CACHE_BUCKETS];
	struct cache_entry	*lru_head, *lru_tail;	/* most recent first */
	int			 nentries;
	size_t			 bytes;
	uint64_t		 gen;		/* bumped by every invalidation */
	int			 live;		/* LISTEN is in force */
	char			 hole[48];
	uint64_t		 hits, misses;
} C;

/* FNV-1a of a key. */
static uint32_t
key_hash(const char *k)
{
	uint32_t	 h = 2166136261u;

	for (; *k != '\0'; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	return h;
}

/* Milliseconds since a CLOCK_MONOTONIC time. */
static long long
age_ms(const struct timespec *t)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Unlink an entry from the recency list. */
static void
lru_unlink(struct cache_entry *e)
{
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		C.lru_head = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		C.lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

/* Put an entry first in the recency list. */
static void
lru_front(struct cache_entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = C.lru_head;
	if (C.lru_head != NULL)
		C.lru_head->lru_prev = e;
	C.lru_head = e;
	if (C.lru_tail == NULL)
		C.lru_tail = e;
}

/* Remove an entry from its bucket and the list, and free it. */
static void
entry_drop(struct cache_entry *e)
{
	struct cache_entry	**p = &C.buckets[e->hash & (CACHE_BUCKETS - 1)];

	while (*p != NULL && *p != e)
		p = &(*p)->next;
	if (*p == e)
		*p = e->next;
	lru_unlink(e);
	C.nentries--;
	C.bytes -= e->len;
	free(e);
}

/* Drop every entry; the generation moves on. */
static void
cache_flush(void)
{
	while (C.lru_head != NULL)
		entry_drop(C.lru_head);
	C.gen++;
}

/*
 * Forget what may show event `event` (its entries and every list); 0
 * forgets everything. Answers still being read from the database will
 * not be stored.
 */
void
cache_forget(int64_t event)
{
	struct cache_entry	*e, *next;

	if (event <= 0) {
		cache_flush();
		return;
	}
	for (e = C.lru_head; e != NULL; e = next) {
		next = e->lru_next;
		if (e->event == 0 || e->event == event)
			entry_drop(e);
	}
	C.gen++;
}

/* db_listen's callback: rc_public notifications and the connection. */
static void
cache_notified(void *arg, enum db_listen_event what, const char *payload)
{
	int64_t		 id;

	(void)arg;
	switch (what) {
	case DB_LISTEN_UP:
		cache_flush();
		C.live = 1;
		break;
	case DB_LISTEN_DOWN:
		C.live = 0;
		cache_flush();
		break;
	case DB_LISTEN_NOTIFY:
		if (payload != NULL && parse_int64(payload, 1, ID_MAX,
		    &id) == 0)
			cache_forget(id);
		else
			cache_flush();	/* '*' or anything unexpected */
		break;
	}
}

/* Start listening for rc_public; the cache serves once LISTEN holds. */
int
cache_start(void)
{
	unsigned char	 r[16];
	char		 hex[33];

	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
	snprintf(C.hole, sizeof(C.hole), "rc-hole-%s", hex);
	C.gen = 1;
	return db_listen(SQL_CACHE_LISTEN, cache_notified, NULL);
}

/* Free every entry. */
void
cache_stop(void)
{
	C.live = 0;
	cache_flush();
}

/*
 * The placeholder a page renders where per-request text (the CSRF token)
 * goes: random per process, so no event's text can contain it.
 */
const char *
cache_hole(void)
{
	return C.hole;
}

/* The ticket a miss takes before its query; 0 when nothing may be kept. */
uint64_t
cache_ticket(void)
{
	return C.live ? C.gen : 0;
}

/* The fresh entry for key, or NULL (a miss). Valid until the next call. */
const struct cache_entry *
cache_get(const char *key)
{
	struct cache_entry	*e;
	uint32_t		 h;

	if (!C.live)
		return NULL;
	h = key_hash(key);
	for (e = C.buckets[h & (CACHE_BUCKETS - 1)]; e != NULL; e = e->next)
		if (e->hash == h && strcmp(e->key, key) == 0)
			break;
	if (e != NULL && age_ms(&e->born) >= CACHE_MAXAGE_MS) {
		entry_drop(e);
		e = NULL;
	}
	if (e == NULL) {
		C.misses++;
		return NULL;
	}
	C.hits++;
	lru_unlink(e);
	lru_front(e);
	return e;
}

/*
 * Describe a body (not copied) as an entry: where hole occurs (hole NULL:
 * nowhere) and, for a body without holes, its ETag (a hash of the bytes,
 * so every daemon gives the same body the same tag). -1 when it has more
 * than CACHE_MAXHOLES holes.
 */
int
cache_prepare(struct cache_entry *e, const char *type,
    const unsigned char *body, size_t len, const char *hole)
{
	unsigned char	 h[8];
	const unsigned char *p, *end = body + len;
	size_t		 hl = hole != NULL ? strlen(hole) : 0;

	memset(e, 0, sizeof(*e));
	e->type = type;
	e->body = body;
	e->len = len;
	e->holelen = hl;
	for (p = body; hl > 0 && p < end; p += hl) {
		if ((p = memmem(p, (size_t)(end - p), hole, hl)) == NULL)
			break;
		if (e->nholes == CACHE_MAXHOLES)
			return -1;
		e->holes[e->nholes++] = (size_t)(p - body);
	}
	if (e->nholes == 0) {
		crypto_generichash(h, sizeof(h), body, len, NULL, 0);
		e->etag[0] = '"';
		sodium_bin2hex(e->etag + 1, sizeof(e->etag) - 2, h, sizeof(h));
		strcat(e->etag, "\"");
	}
	return 0;
}

/*
 * Keep a copy of a prepared entry under key, showing event (0: a list),
 * unless something was invalidated since ticket was taken or it is too
 * big. The stored entry, or NULL.
 */
const struct cache_entry *
cache_put(const char *key, int64_t event, uint64_t ticket,
    const struct cache_entry *src)
{
	struct cache_entry	*e, *old;
	size_t			 klen = strlen(key);
	uint32_t		 h = key_hash(key);
	unsigned char		*p;

	if (!C.live || ticket != C.gen || src->len > CACHE_MAXENTRY ||
	    klen >= CACHE_MAXKEY)
		return NULL;
	for (old = C.buckets[h & (CACHE_BUCKETS - 1)]; old != NULL;
	    old = old->next)
		if (old->hash == h && strcmp(old->key, key) == 0)
			break;
	if (old != NULL)
		entry_drop(old);
	while (C.lru_tail != NULL && (C.nentries >= CACHE_MAXENTRIES ||
	    C.bytes + src->len > CACHE_MAXBYTES))
		entry_drop(C.lru_tail);
	if ((e = malloc(sizeof(*e) + klen + 1 + src->len)) == NULL)
		return NULL;
	*e = *src;
	p = (unsigned char *)(e + 1);
	e->key = (char *)p;
	memcpy(e->key, key, klen + 1);
	memcpy(p + klen + 1, src->body, src->len);
	e->body = p + klen + 1;
	e->hash = h;
	e->event = event;
	clock_gettime(CLOCK_MONOTONIC, &e->born);
	e->next = C.buckets[h & (CACHE_BUCKETS - 1)];
	C.buckets[h & (CACHE_BUCKETS - 1)] = e;
	e->lru_prev = e->lru_next = NULL;
	lru_front(e);
	C.nentries++;
	C.bytes += e->len;
	return e;
}

/* Hits, misses, entries and bytes kept, for /metrics. */
void
cache_stats(uint64_t *hits, uint64_t *misses, int *entries, size_t *bytes)
{
	*hits = C.hits;
	*misses = C.misses;
	*entries = C.nentries;
	*bytes = C.bytes;
}
