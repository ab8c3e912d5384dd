/*
 * ticket-bench: the ticket code of the daemon (server/ticket.c, linked in
 * from the release objects) measured alone, for `make bench`.
 *
 *   ticket-bench sign CONNINFO EVENT FILE
 *	Sign the ticket of every confirmed registration of EVENT with the
 *	signing key from the ticket_keys table, exactly as the daemon does
 *	(keyring_sign: the registration's jti and iat, the current signing
 *	key), one token a line into FILE, in registration id order.
 *	Prints "signed=N secs=S".
 *
 *   ticket-bench micro CONNINFO FILE SECS PNG
 *	With the keys from ticket_keys and the tokens in FILE: ticket_png()
 *	on one token, ticket_verify() and ticket_sign() in loops of SECS
 *	seconds each; writes the PNG to PNG. Prints key=value lines.
 *
 * Exits non-zero when anything does not work as the daemon needs it to
 * (a token that does not verify, a PNG that cannot be made).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "server.h"

#define MAXKEYS		16
#define MAXTOKENS	4096	/* tokens the verify loop rotates through */

static struct ticket_key	keys[MAXKEYS];
static int			nkeys, signing = -1;

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static PGconn *
connect_db(const char *conninfo)
{
	PGconn	*pg = PQconnectdb(conninfo);

	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "ticket-bench: cannot connect: %s",
		    pg ? PQerrorMessage(pg) : "out of memory\n");
		exit(1);
	}
	return pg;
}

/* The keyring as the daemon loads it (keyring_load in server/checkin.c). */
static void
load_keys(PGconn *pg)
{
	PGresult	*res;
	int		 i;

	res = PQexec(pg, "SELECT kid, public_pem, private_pem, "
	    "retired_at IS NULL FROM ticket_keys ORDER BY created_at DESC");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) == 0) {
		fprintf(stderr, "ticket-bench: no ticket keys (has the daemon "
		    "run once?): %s", PQresultErrorMessage(res));
		exit(1);
	}
	for (i = 0; i < PQntuples(res) && i < MAXKEYS; i++) {
		snprintf(keys[i].kid, sizeof(keys[i].kid), "%s",
		    PQgetvalue(res, i, 0));
		keys[i].pub_pem = strdup(PQgetvalue(res, i, 1));
		keys[i].priv_pem = strdup(PQgetvalue(res, i, 2));
		if (keys[i].pub_pem == NULL || keys[i].priv_pem == NULL ||
		    ticket_key_prepare(&keys[i]) == -1) {
			fprintf(stderr, "ticket-bench: out of memory\n");
			exit(1);
		}
		if (strcmp(PQgetvalue(res, i, 3), "t") == 0)
			signing = i;
		nkeys++;
	}
	PQclear(res);
	if (signing < 0) {
		fprintf(stderr, "ticket-bench: no signing key\n");
		exit(1);
	}
}

static int
cmd_sign(const char *conninfo, const char *event, const char *file)
{
	const char	*vals[1] = { event };
	PGresult	*res;
	PGconn		*pg;
	FILE		*f;
	char		*tok;
	double		 t0;
	int		 i, n;

	pg = connect_db(conninfo);
	load_keys(pg);
	res = PQexecParams(pg, "SELECT id, ticket_jti, ticket_iat "
	    "FROM registrations WHERE event_id = $1::bigint "
	    "AND status = 'confirmed' AND ticket_jti IS NOT NULL ORDER BY id",
	    1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "ticket-bench: %s", PQresultErrorMessage(res));
		return 1;
	}
	if ((f = fopen(file, "w")) == NULL) {
		perror(file);
		return 1;
	}
	n = PQntuples(res);
	t0 = now();
	for (i = 0; i < n; i++) {
		tok = ticket_sign(&keys[signing],
		    strtoll(event, NULL, 10),
		    strtoll(PQgetvalue(res, i, 0), NULL, 10),
		    PQgetvalue(res, i, 1),
		    strtol(PQgetvalue(res, i, 2), NULL, 10));
		if (tok == NULL) {
			fprintf(stderr, "ticket-bench: cannot sign registration "
			    "%s\n", PQgetvalue(res, i, 0));
			return 1;
		}
		fprintf(f, "%s\n", tok);
		free(tok);
	}
	if (fclose(f) != 0) {
		perror(file);
		return 1;
	}
	printf("signed=%d secs=%.3f\n", n, now() - t0);
	PQclear(res);
	PQfinish(pg);
	return 0;
}

/* PNG width and height from the IHDR chunk; 0 when not a PNG. */
static unsigned
png_dim(const unsigned char *p, size_t len, unsigned *h)
{
	*h = 0;
	if (len < 24 || memcmp(p, "\x89PNG\r\n\x1a\n", 8) != 0 ||
	    memcmp(p + 12, "IHDR", 4) != 0)
		return 0;
	*h = (unsigned)p[20] << 24 | (unsigned)p[21] << 16 |
	    (unsigned)p[22] << 8 | p[23];
	return (unsigned)p[16] << 24 | (unsigned)p[17] << 16 |
	    (unsigned)p[18] << 8 | p[19];
}

static int
cmd_micro(const char *conninfo, const char *file, const char *secs_s,
    const char *pngfile)
{
	static char		*toks[MAXTOKENS];
	struct ticket_claims	 c;
	char			 line[TICKET_MAXLEN + 2];
	unsigned char		*png;
	size_t			 len;
	unsigned		 w, h;
	double			 secs = strtod(secs_s, NULL), t0, t;
	long			 n, bad;
	PGconn			*pg;
	FILE			*f;
	char			*tok;
	int			 ntoks = 0;

	pg = connect_db(conninfo);
	load_keys(pg);
	PQfinish(pg);
	if ((f = fopen(file, "r")) == NULL) {
		perror(file);
		return 1;
	}
	while (ntoks < MAXTOKENS && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] != '\0' && (toks[ntoks] = strdup(line)) != NULL)
			ntoks++;
	}
	fclose(f);
	if (ntoks == 0) {
		fprintf(stderr, "ticket-bench: no tokens in %s\n", file);
		return 1;
	}
	if (ticket_verify(toks[0], keys, nkeys, &c) == -1) {
		fprintf(stderr, "ticket-bench: the first token does not "
		    "verify\n");
		return 1;
	}
	printf("token_bytes=%zu\n", strlen(toks[0]));
	printf("qr_version=%d\n", ticket_qr_version(toks[0]));

	/* The PNG of one realistic token, as GET .../ticket.png makes it. */
	if (ticket_png(toks[0], &png, &len) == -1) {
		fprintf(stderr, "ticket-bench: ticket_png failed\n");
		return 1;
	}
	w = png_dim(png, len, &h);
	if ((f = fopen(pngfile, "wb")) == NULL ||
	    fwrite(png, 1, len, f) != len || fclose(f) != 0) {
		perror(pngfile);
		return 1;
	}
	free(png);
	printf("png_bytes=%zu\npng_px=%ux%u\n", len, w, h);
	n = bad = 0;
	t0 = now();
	do {
		if (ticket_png(toks[0], &png, &len) == -1)
			bad++;
		free(png);
		n++;
	} while ((t = now() - t0) < secs);
	printf("png_per_sec=%.1f\npng_n=%ld\npng_failed=%ld\n", n / t, n, bad);

	/* Verification, rotating through real tokens. */
	n = bad = 0;
	t0 = now();
	do {
		if (ticket_verify(toks[n % ntoks], keys, nkeys, &c) == -1)
			bad++;
		n++;
	} while ((t = now() - t0) < secs);
	printf("verify_per_sec=%.1f\nverify_n=%ld\nverify_failed=%ld\n",
	    n / t, n, bad);
	/* A token with a flipped signature byte must not verify. */
	tok = strdup(toks[0]);
	if (tok != NULL) {
		len = strlen(tok);
		tok[len - 2] = tok[len - 2] == 'A' ? 'B' : 'A';
		printf("forged_rejected=%d\n",
		    ticket_verify(tok, keys, nkeys, &c) == -1);
		free(tok);
	}

	/* Signing, as registration and the ticket routes do. */
	n = bad = 0;
	t0 = now();
	do {
		char	 jti[24];

		snprintf(jti, sizeof(jti), "%lx", 0x10000L + n);
		if ((tok = ticket_sign(&keys[signing], 12345, 1000000 + n,
		    jti, (long)time(NULL))) == NULL)
			bad++;
		free(tok);
		n++;
	} while ((t = now() - t0) < secs);
	printf("sign_per_sec=%.1f\nsign_n=%ld\nsign_failed=%ld\n", n / t, n,
	    bad);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 5 && strcmp(argv[1], "sign") == 0)
		return cmd_sign(argv[2], argv[3], argv[4]);
	if (argc == 6 && strcmp(argv[1], "micro") == 0)
		return cmd_micro(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: ticket-bench sign CONNINFO EVENT FILE\n"
	    "       ticket-bench micro CONNINFO FILE SECS PNG\n");
	return 2;
}
