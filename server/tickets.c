/*
 * The attendee's ticket, by the manage secret: its QR code as PNG or SVG,
 * and a new ticket when a code has leaked. The code is signed here (with
 * the keyring's signing key) from the claims the database keeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* Sign the ticket a rc_ticket_get() row describes; replies on failure. */
static char *
ticket_from_row(struct req *r, struct db_res *res)
{
	json_t	*claims;
	char	*tok;

	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such registration.");
		return NULL;
	}
	claims = json_loads(db_value(res, 0, 0), 0, NULL);
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

/* A ticket PNG being drawn on a worker thread (worker.c). */
struct png_job {
	struct req	*r;	/* the loop's: not touched by the worker */
	char		*tok;
	unsigned char	*png;
	size_t		 len;
};

/* On a worker thread: draw the PNG. */
static void
png_job_run(void *arg)
{
	struct png_job	*j = arg;

	if (ticket_png(j->tok, &j->png, &j->len) == -1)
		j->png = NULL;
}

/* Back on the loop: reply with the PNG (or why there is none). */
static void
png_job_done(void *arg)
{
	struct png_job	*j = arg;

	if (j->png == NULL)
		http_error(j->r, 503, "ticket_unavailable", "The ticket image "
		    "cannot be made right now.");
	else
		http_reply_bytes(j->r, 200, "image/png", j->png, j->len,
		    "private");
	free(j->png);
	free(j->tok);
	free(j);
}

/*
 * The PNG of the ticket a rc_ticket_get() row describes: signed here,
 * drawn on a worker thread, so the loop goes on serving meanwhile.
 */
static void
ticket_png_done(struct req *r, struct db_res *res)
{
	struct png_job	*j;
	char		*tok;

	if ((tok = ticket_from_row(r, res)) == NULL)
		return;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		free(tok);
		http_error(r, 503, "busy", "The server is busy; try again in "
		    "a moment.");
		return;
	}
	j->r = r;
	j->tok = tok;
	if (worker_submit(png_job_run, png_job_done, j) == -1) {
		free(tok);
		free(j);
		http_error(r, 503, "busy", "The server is busy; try again in "
		    "a moment.");
	}
}

/* The SVG of the ticket a rc_ticket_get() row describes. */
static void
ticket_svg_done(struct req *r, struct db_res *res)
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

/* GET /api/v1/registrations/{secret}/ticket.png */
void
ticket_png_get(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_TICKET_GET, vals, 1, ticket_png_done);
}

/* GET /api/v1/registrations/{secret}/ticket.svg */
void
ticket_svg_get(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_TICKET_GET, vals, 1, ticket_svg_done);
}

/* Reply with the new ticket a rc_ticket_reissue() row describes. */
static void
reissue_done(struct req *r, struct db_res *res)
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
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_TICKET_REISSUE, vals, 1, reissue_done);
}

