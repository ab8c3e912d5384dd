/*
 * The ticket keys' public halves as a JWK Set (RFC 7517) at
 * /.well-known/jwks.json, so any JWT library can verify a ticket by its
 * kid. The set is made by keyring.c whenever the keys load, so a request
 * only copies it; a short max-age lets a rotation reach clients soon.
 */
#include <stdio.h>
#include <string.h>

#include "server.h"

/* GET /.well-known/jwks.json (anyone, cacheable) */
void
jwks_get(struct req *r)
{
	const char	*set = keyring_jwks();
	char		 cache[64];

	if (set == NULL) {
		http_error(r, 503, "keys_unavailable", "The ticket keys are "
		    "not loaded; try again.");
		return;
	}
	snprintf(cache, sizeof(cache), "public, max-age=%d", JWKS_MAXAGE);
	http_reply_bytes(r, 200, "application/jwk-set+json",
	    (const unsigned char *)set, strlen(set), cache);
}
