/*
 * Badges: one A6 page (or a label, as templates/badge.json says) per
 * attendee, with the name large, the company, the event's title and the
 * *lead QR*, drawn with cairo and pango into a PDF.
 *
 * The lead QR is the registration's lead code (sql/016): opaque, random,
 * no personal data, and not a ticket, so a door refuses it while a
 * sponsor's booth accepts it (lead.c). The entry ticket stays on the
 * attendee's phone or confirmation mail.
 *
 * Text goes through pango with the template's font family (Noto Sans CJK
 * by default), so Chinese, Japanese and Korean names get glyphs from a
 * font that has them; cairo embeds the subset it used. A name too wide
 * for the page shrinks, down to half its size, then wraps to two lines.
 *
 * Rendering is CPU work well over a millisecond (fonts, shaping, the PDF
 * stream), so badge_build() runs on worker.c's thread: it reads only its
 * JSON input and the template, fixed before the thread starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairo.h>
#include <event2/http.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include "pdf.h"
#include "server.h"

#define MM		(72.0 / 25.4)	/* points per millimetre */
#define BADGE_MAXFONT	128		/* bytes of a font family list */

/* The layout, from templates/badge.json; in points. */
static struct badge_tmpl {
	double	 w, h, margin, qr;
	double	 name_pt, company_pt, event_pt;
	char	 font[BADGE_MAXFONT];
} T = { 105 * MM, 148 * MM, 8 * MM, 38 * MM, 30, 15, 11,
    "Noto Sans CJK SC, sans-serif" };

/* Named page sizes in millimetres, portrait. */
static const struct { const char *name; double w, h; } sizes[] = {
	{ "A4", 210, 297 }, { "A5", 148, 210 }, { "A6", 105, 148 },
	{ "A7", 74, 105 },
};

/* A page size, "A6" or "90x54" (millimetres, width x height); 0 or -1. */
static int
badge_page(const char *s, double *w, double *h)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (strcmp(s, sizes[i].name) == 0) {
			*w = sizes[i].w;
			*h = sizes[i].h;
			return 0;
		}
	if (sscanf(s, "%lfx%lf%n", w, h, &n) != 2 || s[n] != '\0' ||
	    *w < BADGE_MINMM || *w > BADGE_MAXMM || *h < BADGE_MINMM ||
	    *h > BADGE_MAXMM)
		return -1;
	return 0;
}

/* A number member of t within [lo, hi], or its default; 0 or -1. */
static int
badge_num(const json_t *t, const char *key, double lo, double hi,
    double scale, double *out)
{
	json_t	*v = json_object_get(t, key);

	if (v == NULL)
		return 0;
	if (!json_is_number(v) || json_number_value(v) < lo ||
	    json_number_value(v) > hi) {
		log_warnx("badge.json: %s must be a number from %g to %g", key,
		    lo, hi);
		return -1;
	}
	*out = json_number_value(v) * scale;
	return 0;
}

/*
 * Parse a badge template: {page, margin_mm, qr_mm, font, name_pt,
 * company_pt, event_pt}, every member optional. 0 or -1.
 */
static int
badge_parse(const char *text, size_t len, struct badge_tmpl *out)
{
	struct badge_tmpl	 t = T;
	json_t			*j, *v;
	json_error_t		 e;
	double			 w, h;
	int			 rc = -1;

	if ((j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e)) == NULL ||
	    !json_is_object(j)) {
		log_warnx("badge.json: %s",
		    j == NULL ? e.text : "not an object");
		goto out;
	}
	if ((v = json_object_get(j, "page")) != NULL) {
		if (!json_is_string(v) ||
		    badge_page(json_string_value(v), &w, &h) == -1) {
			log_warnx("badge.json: page is A4 to A7 or WxH in mm");
			goto out;
		}
		t.w = w * MM;
		t.h = h * MM;
	}
	if ((v = json_object_get(j, "font")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= sizeof(t.font)) {
			log_warnx("badge.json: font is a family list");
			goto out;
		}
		memcpy(t.font, json_string_value(v), json_string_length(v) + 1);
	}
	if (badge_num(j, "margin_mm", 0, BADGE_MAXMM / 4, MM, &t.margin) ||
	    badge_num(j, "qr_mm", 10, BADGE_MAXMM, MM, &t.qr) ||
	    badge_num(j, "name_pt", 4, BADGE_MAXPT, 1, &t.name_pt) ||
	    badge_num(j, "company_pt", 4, BADGE_MAXPT, 1, &t.company_pt) ||
	    badge_num(j, "event_pt", 4, BADGE_MAXPT, 1, &t.event_pt))
		goto out;
	if (t.qr + 2 * t.margin > (t.w < t.h ? t.w : t.h)) {
		log_warnx("badge.json: the QR and margins do not fit the page");
		goto out;
	}
	*out = t;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* Load DIR/templates/badge.json (the defaults when there is none). */
int
badge_init(const char *share)
{
	char	 path[1024], buf[BADGE_MAXTEMPLATE];
	ssize_t	 n;
	int	 fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/templates/badge.json",
	    share) >= sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || (size_t)n == sizeof(buf)) {
		log_warnx("%s: unreadable or over %d bytes", path,
		    BADGE_MAXTEMPLATE);
		return -1;
	}
	return badge_parse(buf, (size_t)n, &T);
}

/*
 * One badge page: the event's title at the top of the text box, the name
 * and company centred in what is left, the lead QR below the text on a
 * portrait page and beside it on a landscape label. 0 or -1.
 */
static int
badge_page_draw(cairo_t *cr, PangoLayout *l, const char *event,
    const json_t *b)
{
	const char	*name, *company, *code;
	double		 tx, ty, tw, th, qx, qy, eh, nh = 0, ch, pt, y;

	name = json_string_value(json_object_get(b, "name"));
	company = json_string_value(json_object_get(b, "company"));
	code = json_string_value(json_object_get(b, "lead_code"));
	if (name == NULL || code == NULL)
		return -1;
	tx = ty = T.margin;
	if (T.w > T.h) {
		tw = T.w - 3 * T.margin - T.qr;
		th = T.h - 2 * T.margin;
		qx = T.w - T.margin - T.qr;
		qy = (T.h - T.qr) / 2;
	} else {
		tw = T.w - 2 * T.margin;
		th = T.h - 3 * T.margin - T.qr;
		qx = (T.w - T.qr) / 2;
		qy = T.h - T.margin - T.qr;
	}
	cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
	eh = pdf_text(l, T.font, event, T.event_pt, 0, tw, 2,
	    PANGO_ALIGN_CENTER);
	cairo_move_to(cr, tx, ty);
	pango_cairo_show_layout(cr, l);
	/* The name: as large as fits on one line, else two smaller ones. */
	for (pt = T.name_pt; pt > T.name_pt / 2; pt *= 0.9) {
		nh = pdf_text(l, T.font, name, pt, 1, tw, 1,
		    PANGO_ALIGN_CENTER);
		if (!pango_layout_is_ellipsized(l))
			break;
	}
	if (pt <= T.name_pt / 2)
		nh = pdf_text(l, T.font, name, T.name_pt / 2, 1, tw, 2,
		    PANGO_ALIGN_CENTER);
	ch = company != NULL && *company != '\0' ? T.company_pt * 1.6 : 0;
	y = ty + eh + (th - eh - nh - ch) / 2;
	if (y < ty + eh)
		y = ty + eh;
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_move_to(cr, tx, y);
	pango_cairo_show_layout(cr, l);
	if (ch > 0) {
		pdf_text(l, T.font, company, T.company_pt, 0, tw, 1,
		    PANGO_ALIGN_CENTER);
		cairo_move_to(cr, tx, y + nh + T.company_pt * 0.4);
		pango_cairo_show_layout(cr, l);
	}
	if (pdf_qr(cr, code, qx, qy, T.qr) == -1)
		return -1;
	cairo_show_page(cr);
	return 0;
}

/*
 * The PDF for {event: {title}, badges: [{name, company, lead_code}]},
 * one page a badge. Blocking CPU work: call it off the loop. 0 and a
 * buffer the caller frees, or -1.
 */
int
badge_build(const json_t *in, unsigned char **out, size_t *len)
{
	struct pdf_doc	 d;
	const char	*title;
	json_t		*badges, *b;
	size_t		 i;
	int		 rc = -1;

	*out = NULL;
	*len = 0;
	title = json_string_value(json_object_get(json_object_get(in,
	    "event"), "title"));
	badges = json_object_get(in, "badges");
	if (title == NULL || !json_is_array(badges) ||
	    json_array_size(badges) == 0 ||
	    json_array_size(badges) > BADGE_MAXPAGES)
		return -1;
	if (pdf_open(&d, T.w, T.h, BADGE_MAXBYTES, title) == -1)
		goto out;
	json_array_foreach(badges, i, b)
		if (badge_page_draw(d.cr, d.l, title, b) == -1)
			goto out;
	rc = pdf_finish(&d, out, len);
out:
	if (rc == -1)
		log_warnx("cannot draw %zu badges", json_array_size(badges));
	pdf_free(&d);
	return rc;
}

/* On the loop, the PDF drawn: send it (or 503 when it failed). */
static void
badge_ready(void *arg, const unsigned char *data, size_t len)
{
	struct req	*r = arg;

	if (data == NULL) {
		http_error(r, 503, "badge_failed", "The badges could not be "
		    "drawn; try again.");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Content-Disposition", "inline; filename=\"badges.pdf\"");
	http_reply_bytes(r, 200, BADGE_TYPE, data, len, "no-store");
}

/* rc_badges answered: hand its badges to the worker thread. */
static void
badge_rows(struct req *r, struct db_res *res)
{
	json_t	*in;

	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No badge to print here.");
		return;
	}
	if ((in = json_loadb(db_value(res, 0, 0), db_length(res, 0, 0), 0,
	    NULL)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	if (worker_build(badge_build, in, badge_ready, r) == -1)
		http_error(r, 503, "busy", "Too many files being made at once; "
		    "try again.");
}

/* Ask for the badges of event r->id: reg NULL for all of them. */
static void
badge_query(struct req *r, const char *reg)
{
	const char	*vals[6];
	char		 win[16], max[16];

	snprintf(win, sizeof(win), "%d", BADGE_DOOR_SECS);
	snprintf(max, sizeof(max), "%d", BADGE_MAXPAGES);
	vals[0] = r->params[0];
	vals[1] = reg;
	vals[2] = r->auth.role == ROLE_DOOR ? r->auth.jti : NULL;
	vals[3] = win;
	vals[4] = max;
	vals[5] = r->auth.jti;
	req_query(r, SQL_BADGES, vals, 6, badge_rows);
}

/*
 * GET /api/v1/events/{id}/badges/{reg}.pdf: one attendee's badge, for an
 * organizer (the console's reprint), or for the door token that admitted
 * them in the last BADGE_DOOR_SECS (rollcall-scan --print).
 */
void
badge_get(struct req *r)
{
	char	 reg[24];
	int64_t	 id;
	size_t	 n = strlen(r->params[1]);

	if (n < 5 || strcmp(r->params[1] + n - 4, ".pdf") != 0 ||
	    n - 4 >= sizeof(reg)) {
		http_error(r, 404, "not_found", "No such badge.");
		return;
	}
	memcpy(reg, r->params[1], n - 4);
	reg[n - 4] = '\0';
	if (parse_int64(reg, 1, ID_MAX, &id) == -1) {
		http_error(r, 404, "not_found", "No such badge.");
		return;
	}
	badge_query(r, reg);
}

/* GET /api/v1/events/{id}/badges.pdf: every confirmed attendee's badge. */
void
badge_event(struct req *r)
{
	badge_query(r, NULL);
}
