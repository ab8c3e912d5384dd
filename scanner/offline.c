/*
 * Deciding at the door without the server: the offline bundle (the
 * event's public ticket keys and the jtis of revoked tickets, from GET
 * /api/v1/events/{id}/offline-bundle) and the verdict for one code.
 *
 * The verdict uses the daemon's own ticket_verify() (server/ticket.c,
 * linked in, not copied): ES256 pinned, the header's kid picking the key,
 * claims read from the signed bytes. What it cannot know offline it does
 * not pretend to: a ticket is admitted when its signature holds, it is
 * for this event, it is not revoked and this device has not admitted it
 * before (the journal). Another door's admission meanwhile shows up as a
 * conflict when the journal is synced; the earliest scan wins there.
 *
 * The bundle file is input too (it may come on a USB stick): it is
 * bounded, parsed strictly, and every field is checked before use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scanner.h"

/* qsort/bsearch order of revoked jtis. */
static int
revoked_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read the bundle file at path. NULL with a reason in err on failure. */
struct bundle *
bundle_load(const char *path, char *err, size_t errsz)
{
	struct bundle	*b;
	struct stat	 st;
	json_error_t	 je;
	json_t		*root = NULL, *keys, *k, *revoked, *r, *v;
	const char	*kid, *pem, *s;
	size_t		 i;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (stat(path, &st) == -1) {
		snprintf(err, errsz, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SCAN_MAXBUNDLE) {
		snprintf(err, errsz, "not a file of at most %d MiB",
		    SCAN_MAXBUNDLE >> 20);
		goto fail;
	}
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		snprintf(err, errsz, "not a readable bundle (%s)", je.text);
		goto fail;
	}
	if (!json_is_object(root)) {
		snprintf(err, errsz, "not a bundle: no JSON object");
		goto fail;
	}
	v = json_object_get(root, "event_id");
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		snprintf(err, errsz, "event_id: missing or not a positive "
		    "integer");
		goto fail;
	}
	b->event_id = json_integer_value(v);
	v = json_object_get(root, "issuer");
	if (v != NULL && (!json_is_string(v) ||
	    strcmp(json_string_value(v), TICKET_ISSUER) != 0)) {
		snprintf(err, errsz, "issuer: not \"%s\": a bundle for some "
		    "other system", TICKET_ISSUER);
		goto fail;
	}
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys) || json_array_size(keys) == 0 ||
	    json_array_size(keys) > SCAN_MAXKEYS) {
		snprintf(err, errsz, "keys: missing, empty or over %d entries "
		    "(a bundle from an older server? fetch it again)",
		    SCAN_MAXKEYS);
		goto fail;
	}
	json_array_foreach(keys, i, k) {
		kid = json_string_value(json_object_get(k, "kid"));
		pem = json_string_value(json_object_get(k, "public_key"));
		if (kid == NULL || *kid == '\0' ||
		    strlen(kid) >= sizeof(b->keys[0].kid) || pem == NULL ||
		    strstr(pem, "-----BEGIN PUBLIC KEY-----") == NULL ||
		    strlen(pem) > SCAN_MAXPEM) {
			snprintf(err, errsz, "keys[%zu]: needs a kid and a "
			    "PEM public_key", i);
			goto fail;
		}
		memcpy(b->keys[i].kid, kid, strlen(kid) + 1);
		if ((b->keys[i].pub_pem = strdup(pem)) == NULL) {
			snprintf(err, errsz, "out of memory");
			goto fail;
		}
		b->nkeys++;
	}
	revoked = json_object_get(root, "revoked");
	if (!json_is_array(revoked)) {
		snprintf(err, errsz, "revoked: missing or not a list");
		goto fail;
	}
	if (json_array_size(revoked) > 0 && (b->revoked = calloc(
	    json_array_size(revoked), sizeof(*b->revoked))) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	json_array_foreach(revoked, i, r) {
		if ((s = json_string_value(r)) == NULL || *s == '\0' ||
		    strlen(s) > SCAN_MAXJTI) {
			snprintf(err, errsz, "revoked[%zu]: not a ticket id", i);
			goto fail;
		}
		if ((b->revoked[i] = strdup(s)) == NULL) {
			snprintf(err, errsz, "out of memory");
			goto fail;
		}
		b->nrevoked++;
	}
	if (b->nrevoked > 1)
		qsort(b->revoked, b->nrevoked, sizeof(*b->revoked),
		    revoked_cmp);
	s = json_string_value(json_object_get(root, "generated_at"));
	snprintf(b->generated_at, sizeof(b->generated_at), "%s",
	    s != NULL && time_parse(s, NULL) == 0 ? s : "");
	json_decref(root);
	return b;
fail:
	json_decref(root);
	bundle_free(b);
	return NULL;
}

/* Release a bundle and its keys. */
void
bundle_free(struct bundle *b)
{
	size_t	 i;
	int	 k;

	if (b == NULL)
		return;
	for (k = 0; k < b->nkeys; k++)
		free(b->keys[k].pub_pem);
	for (i = 0; i < b->nrevoked; i++)
		free(b->revoked[i]);
	free(b->revoked);
	free(b);
}

/* True when the bundle lists jti as revoked. */
static int
bundle_revoked(const struct bundle *b, const char *jti)
{
	return b->nrevoked > 0 && bsearch(&jti, b->revoked, b->nrevoked,
	    sizeof(*b->revoked), revoked_cmp) != NULL;
}

/* The jti of a code that verifies against the bundle's keys: 0 or -1. */
int
offline_jti(const struct bundle *b, const char *code, char *jti,
    size_t jtisz)
{
	struct ticket_claims	 c;

	if (ticket_verify(code, b->keys, b->nkeys, &c) == -1 ||
	    strlen(c.jti) >= jtisz)
		return -1;
	memcpy(jti, c.jti, strlen(c.jti) + 1);
	return 0;
}

/*
 * The verdict for code scanned at time at (RFC 3339) through gate,
 * decided from the bundle and what the journal knows, as the JSON object
 * a scan prints: {result, source, event_id, registration_id, jti,
 * first_checked_in_at, gate, message}. NULL when out of memory.
 */
json_t *
offline_decide(const struct bundle *b, struct journal *j, const char *code,
    const char *gate, const char *at)
{
	struct ticket_claims	 c;
	const struct seen	*seen;
	char			 msg[160];
	const char		*v, *first = NULL, *fgate = NULL;

	msg[0] = '\0';
	if (ticket_verify(code, b->keys, b->nkeys, &c) == -1) {
		v = "invalid";
		snprintf(msg, sizeof(msg), "not a valid Rollcall ticket");
		return json_pack("{s:s, s:s, s:s}", "result", v, "source",
		    "offline", "message", msg);
	}
	if (c.event_id != b->event_id) {
		v = "wrong_event";
		snprintf(msg, sizeof(msg), "this ticket is for event %lld, "
		    "this door checks event %lld", (long long)c.event_id,
		    (long long)b->event_id);
	} else if (bundle_revoked(b, c.jti)) {
		v = "cancelled";
		snprintf(msg, sizeof(msg), "this ticket was revoked "
		    "(registration cancelled or ticket re-issued)");
	} else if ((seen = journal_seen(j, c.jti)) != NULL) {
		v = "already_checked_in";
		first = seen->at;
		fgate = seen->gate[0] != '\0' ? seen->gate : NULL;
	} else {
		v = "admitted";
		first = at;
		fgate = gate;
	}
	return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s*, s:s*, s:s*}",
	    "result", v, "source", "offline", "event_id",
	    (json_int_t)c.event_id, "registration_id", (json_int_t)c.reg_id,
	    "jti", c.jti, "first_checked_in_at", first, "gate", fgate,
	    "message", msg[0] != '\0' ? msg : NULL);
}
