/*
 * Certificates: volunteer, outstanding volunteer, speaker, NightTalk
 * series completion and MVA (COMMUNITY.md section 6). Staff issue them
 * (PostgreSQL decides eligibility: sql/functions/certificate.sql), each
 * with a random public code; the PDF carries a QR of
 * PUBLIC_URL/verify/{code}, and that public page says whose it is, what
 * for, when and by whom it was issued, and whether it is valid.
 *
 * The code is 144 random bits (CERT_CODE_BYTES), URL-safe: it is printed
 * and public once handed out, so the database keeps it as it is, and a
 * guesser meets the per-address limit of VERIFY_PER_ADDR lookups a
 * minute (page and API together) long before a code is found. Nothing
 * about a certificate is cached: every page and PDF reads its row, so a
 * revocation shows at once on every server sharing the database.
 *
 * The PDF is drawn with cairo and pango on worker.c's thread, as badges
 * are (badge.c): every string is decided on the loop (the certificate's
 * language, its catalog's sentences) and handed over as JSON; the thread
 * reads only that and the layout of templates/certificate.json, fixed
 * before the thread starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cairo.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include "pdf.h"
#include "server.h"

#define MM		(72.0 / 25.4)	/* points per millimetre */
#define CERT_MAXFONT	128		/* bytes of a font family list */

/* The layout, from templates/certificate.json; lengths in points. */
static struct cert_tmpl {
	double	 w, h, margin, qr;
	double	 title_pt, name_pt, body_pt, small_pt;
	double	 accent[3];
	char	 font[CERT_MAXFONT];
	char	 community[2][FIELD_MAXTEXT + 1];	/* en, zh-CN */
} T = { 297 * MM, 210 * MM, 18 * MM, 34 * MM, 30, 36, 14, 9,
    { 0.12, 0.29, 0.53 }, "Noto Sans CJK SC, sans-serif",
    { "Rollcall Community", "Rollcall 社区" } };

static const char *const kinds[] = { "volunteer", "outstanding_volunteer",
    "speaker", "series_completion", "mva", NULL };
static const char *const langs[] = { "en", "zh-CN", NULL };

/* A number member of t within [lo, hi], times scale; 0 or -1. */
static int
tmpl_num(const json_t *t, const char *key, double lo, double hi,
    double scale, double *out)
{
	json_t	*v = json_object_get(t, key);

	if (v == NULL)
		return 0;
	if (!json_is_number(v) || json_number_value(v) < lo ||
	    json_number_value(v) > hi) {
		log_warnx("certificate.json: %s must be a number from %g to %g",
		    key, lo, hi);
		return -1;
	}
	*out = json_number_value(v) * scale;
	return 0;
}

/* A string member of t into out (1 to len-1 bytes of UTF-8); 0 or -1. */
static int
tmpl_str(const json_t *t, const char *key, char *out, size_t len)
{
	json_t	*v = json_object_get(t, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) >= len ||
	    validate_utf8(json_string_value(v)) == -1) {
		log_warnx("certificate.json: %s must be text of 1 to %zu bytes",
		    key, len - 1);
		return -1;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* A page: "A4" or "A5" with orientation, or "WxH" in millimetres. */
static int
tmpl_page(const char *s, const char *orient, double *w, double *h)
{
	double	 t;
	int	 n = 0;

	if (strcmp(s, "A4") == 0) {
		*w = 210;
		*h = 297;
	} else if (strcmp(s, "A5") == 0) {
		*w = 148;
		*h = 210;
	} else if (sscanf(s, "%lfx%lf%n", w, h, &n) != 2 || s[n] != '\0' ||
	    *w < CERT_MINMM || *w > CERT_MAXMM || *h < CERT_MINMM ||
	    *h > CERT_MAXMM)
		return -1;
	else
		return 0;
	if (orient == NULL || strcmp(orient, "landscape") == 0) {
		t = *w;
		*w = *h;
		*h = t;
	} else if (strcmp(orient, "portrait") != 0)
		return -1;
	return 0;
}

/* "#RRGGBB" as three fractions; 0 or -1. */
static int
tmpl_colour(const char *s, double rgb[3])
{
	unsigned int	 c;
	int		 n = 0, i;

	if (s == NULL || strlen(s) != 7 || sscanf(s, "#%6x%n", &c, &n) != 1 ||
	    n != 7)
		return -1;
	for (i = 0; i < 3; i++)
		rgb[i] = ((c >> (16 - 8 * i)) & 0xff) / 255.0;
	return 0;
}

/*
 * Parse a layout: {page, orientation, margin_mm, qr_mm, font, title_pt,
 * name_pt, body_pt, small_pt, accent, community: {en, zh-CN}}, every
 * member optional; unknown members are refused (a misspelt one would do
 * nothing). 0 or -1.
 */
int
certificate_parse(const char *text, size_t len)
{
	static const char *const known[] = { "page", "orientation",
	    "margin_mm", "qr_mm", "font", "title_pt", "name_pt", "body_pt",
	    "small_pt", "accent", "community", NULL };
	struct cert_tmpl	 t = T;
	json_t			*j, *v, *c;
	json_error_t		 e;
	const char		*k;
	double			 w, h;
	int			 i, rc = -1;

	if ((j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e)) == NULL ||
	    !json_is_object(j)) {
		log_warnx("certificate.json: %s", j == NULL ? e.text :
		    "not an object");
		goto out;
	}
	json_object_foreach(j, k, v) {
		for (i = 0; known[i] != NULL && strcmp(known[i], k) != 0; i++)
			;
		if (known[i] == NULL) {
			log_warnx("certificate.json: unknown member");
			goto out;
		}
	}
	if ((v = json_object_get(j, "page")) != NULL || json_object_get(j,
	    "orientation") != NULL) {
		if ((v != NULL && !json_is_string(v)) || tmpl_page(v != NULL ?
		    json_string_value(v) : "A4", json_string_value(
		    json_object_get(j, "orientation")), &w, &h) == -1) {
			log_warnx("certificate.json: page is A4, A5 or WxH in "
			    "mm; orientation landscape or portrait");
			goto out;
		}
		t.w = w * MM;
		t.h = h * MM;
	}
	if ((v = json_object_get(j, "accent")) != NULL &&
	    tmpl_colour(json_string_value(v), t.accent) == -1) {
		log_warnx("certificate.json: accent is a colour as #RRGGBB");
		goto out;
	}
	if ((c = json_object_get(j, "community")) != NULL &&
	    !json_is_object(c)) {
		log_warnx("certificate.json: community is {en, zh-CN}");
		goto out;
	}
	if (tmpl_str(j, "font", t.font, sizeof(t.font)) ||
	    tmpl_str(c, "en", t.community[0], sizeof(t.community[0])) ||
	    tmpl_str(c, "zh-CN", t.community[1], sizeof(t.community[1])) ||
	    tmpl_num(j, "margin_mm", 0, CERT_MAXMM / 4, MM, &t.margin) ||
	    tmpl_num(j, "qr_mm", 15, CERT_MAXMM, MM, &t.qr) ||
	    tmpl_num(j, "title_pt", 4, CERT_MAXPT, 1, &t.title_pt) ||
	    tmpl_num(j, "name_pt", 4, CERT_MAXPT, 1, &t.name_pt) ||
	    tmpl_num(j, "body_pt", 4, CERT_MAXPT, 1, &t.body_pt) ||
	    tmpl_num(j, "small_pt", 4, CERT_MAXPT, 1, &t.small_pt))
		goto out;
	if (t.qr + 2 * t.margin > (t.w < t.h ? t.w : t.h) / 2) {
		log_warnx("certificate.json: the QR and margins take more than "
		    "half the page");
		goto out;
	}
	T = t;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* Load DIR/templates/certificate.json (the defaults when there is none). */
int
certificate_init(const char *share)
{
	char	 path[1024], buf[CERT_MAXTEMPLATE];
	ssize_t	 n;
	int	 fd;

	if ((size_t)snprintf(path, sizeof(path),
	    "%s/templates/certificate.json", share) >= sizeof(path))
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
		    CERT_MAXTEMPLATE);
		return -1;
	}
	return certificate_parse(buf, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* Drawing, on the worker thread. */

/* Show l at (x, y); returns y below it. */
static double
cert_show(cairo_t *cr, PangoLayout *l, double x, double y)
{
	int	 w, h;

	cairo_move_to(cr, x, y);
	pango_cairo_show_layout(cr, l);
	pango_layout_get_size(l, &w, &h);
	return y + (double)h / PANGO_SCALE;
}

/* o[key], or JSON null when o has none (for json_pack's "O"). */
static json_t *
jget(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return v != NULL ? v : json_null();
}

/* A string member of the drawing's input, or "". */
static const char *
in_str(const json_t *in, const char *key)
{
	const char	*s = json_string_value(json_object_get(in, key));

	return s != NULL ? s : "";
}

/* The name's size: as large as fits one line, else half size on two. */
static double
cert_name_pt(PangoLayout *l, const char *name, double width, int *lines)
{
	double	 pt;

	*lines = 1;
	for (pt = T.name_pt; pt > T.name_pt / 2; pt *= 0.9) {
		pdf_text(l, T.font, name, pt, 1, width, 1, PANGO_ALIGN_CENTER);
		if (!pango_layout_is_ellipsized(l))
			return pt;
	}
	*lines = 2;
	return T.name_pt / 2;
}

/*
 * The page: a frame in the accent colour; the issuer at the top; the
 * title, "this certifies that", the name as large as fits and what for,
 * centred in the space above the QR; at the foot the date, the code and
 * the verify address beside the QR.
 */
static int
cert_draw(cairo_t *cr, PangoLayout *l, const json_t *in)
{
	const double	*a = T.accent;
	const char	*revoked = in_str(in, "revoked");
	double		 x = T.margin, tw = T.w - 2 * T.margin, y, npt, fx, fw;
	double		 qx = T.w - T.margin - T.qr, qy = T.h - T.margin - T.qr;
	double		 inset = T.margin / 2, top, block;
	int		 nlines;

	cairo_set_source_rgb(cr, a[0], a[1], a[2]);
	cairo_set_line_width(cr, 2.5);
	cairo_rectangle(cr, inset, inset, T.w - 2 * inset, T.h - 2 * inset);
	cairo_stroke(cr);
	cairo_set_line_width(cr, 0.6);
	cairo_rectangle(cr, inset + 3 * MM, inset + 3 * MM,
	    T.w - 2 * inset - 6 * MM, T.h - 2 * inset - 6 * MM);
	cairo_stroke(cr);

	pdf_text(l, T.font, in_str(in, "issuer"), T.body_pt, 0, tw, 2,
	    PANGO_ALIGN_CENTER);
	top = cert_show(cr, l, x, T.margin + 2 * MM) + 4 * MM;

	/* Measure the block, then centre it between the issuer and QR. */
	npt = cert_name_pt(l, in_str(in, "name"), tw, &nlines);
	block = pdf_text(l, T.font, in_str(in, "title"), T.title_pt, 1, tw, 2,
	    PANGO_ALIGN_CENTER) + 10 * MM;
	if (*revoked != '\0')
		block += pdf_text(l, T.font, revoked, T.body_pt, 1, tw, 1,
		    PANGO_ALIGN_CENTER) + 2 * MM;
	block += pdf_text(l, T.font, in_str(in, "intro"), T.body_pt, 0, tw, 1,
	    PANGO_ALIGN_CENTER) + 3 * MM;
	block += pdf_text(l, T.font, in_str(in, "name"), npt, 1, tw, nlines,
	    PANGO_ALIGN_CENTER) + 7 * MM;
	block += pdf_text(l, T.font, in_str(in, "body"), T.body_pt, 0,
	    tw * 0.85, 3,
	    PANGO_ALIGN_CENTER);
	y = top + (qy - 4 * MM - top - block) / 2;
	if (y < top)
		y = top;

	cairo_set_source_rgb(cr, a[0], a[1], a[2]);
	pdf_text(l, T.font, in_str(in, "title"), T.title_pt, 1, tw, 2,
	    PANGO_ALIGN_CENTER);
	y = cert_show(cr, l, x, y);
	if (*revoked != '\0') {
		cairo_set_source_rgb(cr, 0.75, 0.05, 0.05);
		pdf_text(l, T.font, revoked, T.body_pt, 1, tw, 1,
		    PANGO_ALIGN_CENTER);
		y = cert_show(cr, l, x, y + 2 * MM);
	}
	cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
	pdf_text(l, T.font, in_str(in, "intro"), T.body_pt, 0, tw, 1,
	    PANGO_ALIGN_CENTER);
	y = cert_show(cr, l, x, y + 10 * MM) + 3 * MM;
	cairo_set_source_rgb(cr, 0, 0, 0);
	pdf_text(l, T.font, in_str(in, "name"), npt, 1, tw, nlines,
	    PANGO_ALIGN_CENTER);
	y = cert_show(cr, l, x, y) + 3 * MM;
	cairo_set_source_rgb(cr, a[0], a[1], a[2]);
	cairo_move_to(cr, T.w / 2 - 30 * MM, y);
	cairo_line_to(cr, T.w / 2 + 30 * MM, y);
	cairo_stroke(cr);
	cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
	pdf_text(l, T.font, in_str(in, "body"), T.body_pt, 0, tw * 0.85, 3,
	    PANGO_ALIGN_CENTER);
	cert_show(cr, l, x + tw * 0.075, y + 4 * MM);

	/* The foot: date, code and address left of the QR, bottoms level. */
	fx = x;
	fw = qx - 6 * MM - fx;
	y = qy + T.qr - 3 * (T.small_pt * 1.4) - T.body_pt * 1.5;
	cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
	pdf_text(l, T.font, in_str(in, "issued"), T.body_pt, 0, fw, 1,
	    PANGO_ALIGN_LEFT);
	y = cert_show(cr, l, fx, y) + T.small_pt * 0.4;
	cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
	pdf_text(l, T.font, in_str(in, "code_line"), T.small_pt, 0, fw, 1,
	    PANGO_ALIGN_LEFT);
	y = cert_show(cr, l, fx, y);
	pdf_text(l, T.font, in_str(in, "verify_line"), T.small_pt, 0, fw, 2,
	    PANGO_ALIGN_LEFT);
	cert_show(cr, l, fx, y);
	if (pdf_qr(cr, in_str(in, "url"), qx, qy, T.qr) == -1)
		return -1;
	cairo_show_page(cr);
	return 0;
}

/*
 * The PDF of one certificate from {title, intro, name, body, issuer,
 * issued, code_line, verify_line, url, revoked?}: blocking CPU work, for
 * the worker thread. 0 and a buffer the caller frees, or -1.
 */
int
certificate_build(const json_t *in, unsigned char **out, size_t *len)
{
	struct pdf_doc	 d;
	int		 rc = -1;

	*out = NULL;
	*len = 0;
	if (!json_is_object(in) || *in_str(in, "name") == '\0' ||
	    *in_str(in, "url") == '\0')
		return -1;
	if (pdf_open(&d, T.w, T.h, CERT_MAXBYTES, in_str(in, "title")) == 0 &&
	    cert_draw(d.cr, d.l, in) == 0)
		rc = pdf_finish(&d, out, len);
	if (rc == -1)
		log_warnx("cannot draw a certificate");
	pdf_free(&d);
	return rc;
}

/* ------------------------------------------------------------------ */
/* What a certificate says, in words, on the loop. */

/* A catalog's string, or "". */
static const char *
cat_str(int lang, const char *key)
{
	const char	*s = json_string_value(json_object_get(
	    web_catalog(lang), key));

	return s != NULL ? s : "";
}

/* A catalog sentence with {{{...}}} holes filled from ctx, malloc'd. */
static char *
cat_fill(int lang, const char *key, const json_t *ctx)
{
	const char	*t = cat_str(lang, key);
	struct evbuffer	*b = tmpl_render_text(t, strlen(t), ctx);
	char		*s = NULL;
	size_t		 n;

	if (b == NULL)
		return strdup(t);
	n = evbuffer_get_length(b);
	if ((s = malloc(n + 1)) != NULL) {
		evbuffer_remove(b, s, n);
		s[n] = '\0';
	}
	evbuffer_free(b);
	return s;
}

/*
 * The issuer in a language: "chapter · community", or the community
 * alone (an MVA's). Into buf, which it returns.
 */
static const char *
cert_issuer(const json_t *c, int lang, char *buf, size_t len)
{
	const json_t	*is = json_object_get(c, "issuer");
	const char	*zh = json_string_value(json_object_get(is, "name_zh"));
	const char	*en = json_string_value(json_object_get(is, "name"));
	const char	*ch = lang == 1 && zh != NULL && *zh != '\0' ? zh : en;

	if (ch != NULL && *ch != '\0')
		snprintf(buf, len, "%s · %s", ch, T.community[lang ? 1 : 0]);
	else
		snprintf(buf, len, "%s", T.community[lang ? 1 : 0]);
	return buf;
}

/*
 * Words for certificate c (the JSON of rc_certificate_public) in a
 * language, added to c: kind_label, what (the event, series or year),
 * issuer_name, valid, erased. Used by the page, the API and the PDF.
 */
static void
cert_describe(json_t *c, int lang)
{
	const char	*kind = json_string_value(json_object_get(c, "kind"));
	const json_t	*ev = json_object_get(c, "event");
	const json_t	*se = json_object_get(c, "series");
	char		 key[64], what[FIELD_MAXTEXT + 32];
	char		 issuer[2 * FIELD_MAXTEXT + 8];

	snprintf(key, sizeof(key), "ce_kind_%s", kind != NULL ? kind : "");
	json_object_set_new(c, "kind_label", json_string(cat_str(lang, key)));
	if (json_is_object(ev))
		snprintf(what, sizeof(what), "%s",
		    json_string_value(json_object_get(ev, "title")));
	else if (json_is_object(se))
		snprintf(what, sizeof(what), "%s",
		    json_string_value(json_object_get(se, "title")));
	else
		snprintf(what, sizeof(what), "%lld", (long long)
		    json_integer_value(json_object_get(c, "year")));
	json_object_set_new(c, "what", json_string(what));
	json_object_set_new(c, "issuer_name", json_string(cert_issuer(c,
	    lang, issuer, sizeof(issuer))));
	json_object_set_new(c, "valid", json_boolean(strcmp(json_string_value(
	    json_object_get(c, "status")) ? json_string_value(
	    json_object_get(c, "status")) : "", "valid") == 0));
	json_object_set_new(c, "erased", json_boolean(json_is_null(
	    json_object_get(c, "holder"))));
}

/* PUBLIC_URL/verify/{code} into buf. */
static void
cert_verify_url(const char *code, char *buf, size_t len)
{
	snprintf(buf, len, "%s/verify/%s", registration_public_url(),
	    code != NULL ? code : "");
}

/* The drawing's input for certificate c, in its own language. */
static json_t *
cert_pdf_input(json_t *c)
{
	const char	*lg = json_string_value(json_object_get(c, "lang"));
	const char	*kind = json_string_value(json_object_get(c, "kind"));
	const char	*code = json_string_value(json_object_get(c, "code"));
	int		 lang = lg != NULL && strcmp(lg, "zh-CN") == 0;
	char		 key[64], url[1024], line[1200];
	char		*body, *issued;
	json_t		*in, *ctx;

	cert_describe(c, lang);
	cert_verify_url(code, url, sizeof(url));
	ctx = json_pack("{s:O, s:O, s:O, s:O, s:O}",
	    "what", jget(c, "what"),
	    "date", jget(json_object_get(c, "event"), "date"),
	    "year", jget(c, "year"),
	    "episodes", jget(json_object_get(c, "series"), "episodes"),
	    "issued_on", jget(c, "issued_on"));
	if (ctx == NULL)
		return NULL;
	snprintf(key, sizeof(key), "ce_pdf_body_%s", kind != NULL ? kind : "");
	body = cat_fill(lang, key, ctx);
	issued = cat_fill(lang, "ce_pdf_issued", ctx);
	json_decref(ctx);
	snprintf(key, sizeof(key), "ce_pdf_title_%s", kind != NULL ? kind : "");
	in = json_pack("{s:s, s:s, s:O, s:s?, s:s, s:s?, s:s}",
	    "title", cat_str(lang, key), "intro", cat_str(lang, "ce_pdf_intro"),
	    "name", jget(c, "holder"), "body", body,
	    "issuer", json_string_value(json_object_get(c, "issuer_name")),
	    "issued", issued, "url", url);
	free(body);
	free(issued);
	if (in == NULL)
		return NULL;
	snprintf(line, sizeof(line), "%s %s", cat_str(lang, "ce_pdf_code"),
	    code != NULL ? code : "");
	json_object_set_new(in, "code_line", json_string(line));
	snprintf(line, sizeof(line), "%s %s", cat_str(lang, "ce_pdf_verify"),
	    url);
	json_object_set_new(in, "verify_line", json_string(line));
	if (!json_is_true(json_object_get(c, "valid")))
		json_object_set_new(in, "revoked", json_string(cat_str(lang,
		    "ce_pdf_revoked")));
	return in;
}

/* ------------------------------------------------------------------ */
/* Requests. */

/*
 * The caller's events as a PostgreSQL array, NULL for every event; a
 * caller with no events gets "{}", never "every event". Free it.
 */
char *
certificate_scope(struct req *r)
{
	char	*scope = auth_scope_pg(&r->auth);

	if (scope == NULL && !(r->auth.role == ROLE_ADMIN ||
	    (r->auth.roles & ACCESS_ADMIN) || r->auth.all_events))
		scope = strdup("{}");
	return scope;
}

/* Whether the caller issues MVA certificates: committee or admin. */
static int
cert_committee(struct req *r)
{
	return (r->auth.roles & (ACCESS_COMMITTEE | ACCESS_ADMIN)) != 0;
}

/* A code from a path segment: 24 URL-safe characters, with ".pdf" when
 * pdf is set; 0 or -1. */
static int
cert_code(const char *seg, int pdf, char *out, size_t outsz)
{
	size_t	 n = strlen(seg);

	if (pdf) {
		if (n < 5 || strcmp(seg + n - 4, ".pdf") != 0)
			return -1;
		n -= 4;
	}
	if (n != CERT_CODE_LEN || n >= outsz)
		return -1;
	memcpy(out, seg, n);
	out[n] = '\0';
	return util_urlsafe(out, 0) ? 0 : -1;
}

/* The PDF drawn: send it (or 503 when it failed). */
static void
pdf_ready(void *arg, const unsigned char *data, size_t len)
{
	struct req	*r = arg;

	if (data == NULL) {
		http_error(r, 503, "certificate_failed", "The certificate "
		    "could not be drawn; try again.");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Content-Disposition", "inline; filename=\"certificate.pdf\"");
	http_reply_bytes(r, 200, CERT_TYPE, data, len, "no-store");
}

/* A certificate's row is back: draw it on the worker thread. */
static void
pdf_row(struct req *r, struct db_res *res)
{
	json_t	*c = db_json(res), *in;

	if (c == NULL) {
		http_error(r, 404, "not_found", "No such certificate.");
		return;
	}
	in = cert_pdf_input(c);
	json_decref(c);
	if (in == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	if (worker_build(certificate_build, in, pdf_ready, r) == -1)
		http_error(r, 503, "busy", "Too many files being made at once; "
		    "try again.");
}

/*
 * GET /api/v1/certificates/{code}.pdf (and the console's
 * /console/certificates/{code}.pdf): staff who reach it; audited.
 */
void
certificate_pdf(struct req *r)
{
	char		 code[CERT_CODE_LEN + 1];
	const char	*vals[4];
	char		*scope;

	if (cert_code(r->params[0], 1, code, sizeof(code)) == -1) {
		http_error(r, 404, "not_found", "No such certificate.");
		return;
	}
	scope = certificate_scope(r);
	vals[0] = code;
	vals[1] = scope;
	vals[2] = cert_committee(r) ? "true" : "false";
	vals[3] = r->auth.jti;
	req_query(r, SQL_CERT_PDF, vals, 4, pdf_row);
	free(scope);
}

/* GET /member/{secret}/certificates/{code}.pdf: the holder's own. */
void
certificate_member_pdf(struct req *r)
{
	char		 code[CERT_CODE_LEN + 1];
	const char	*vals[2];

	if (cert_code(r->params[1], 1, code, sizeof(code)) == -1) {
		http_error(r, 404, "not_found", "No such certificate.");
		return;
	}
	vals[0] = r->secret_hash;
	vals[1] = code;
	req_query(r, SQL_CERT_MEMBER_ONE, vals, 2, pdf_row);
}

/* Add verify_url and pdf_url (the API's or the given one) to c. */
static void
cert_urls(json_t *c, const char *pdf_fmt, const char *secret)
{
	const char	*code = json_string_value(json_object_get(c, "code"));
	char		 url[1024];

	cert_verify_url(code, url, sizeof(url));
	json_object_set_new(c, "verify_url", json_string(url));
	if (pdf_fmt == NULL)
		snprintf(url, sizeof(url), "%s/api/v1/certificates/%s.pdf",
		    registration_public_url(), code != NULL ? code : "");
	else
		snprintf(url, sizeof(url), "%s/member/%s/certificates/%s.pdf",
		    registration_public_url(), secret,
		    code != NULL ? code : "");
	json_object_set_new(c, "pdf_url", json_string(url));
}

/* Issued: 201 with the certificate, its verify and PDF addresses. */
static void
issued_done(struct req *r, struct db_res *res)
{
	json_t	*c = db_json(res);

	if (c == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	cert_urls(c, NULL, NULL);
	http_reply_json(r, 201, c);
}

static const struct vfield issue_fields[] = {
	{ "kind", V_ENUM, 1, 0, 0, 0, kinds },
	{ "email", V_EMAIL, 1, 0, 0, FIELD_MAXEMAIL, NULL },
	{ "name", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "event", V_INT, 0, 1, 1, ID_MAX, NULL },
	{ "series", V_INT, 0, 1, 1, ID_MAX, NULL },
	{ "year", V_INT, 0, 1, 2000, 2100, NULL },
	{ "lang", V_ENUM, 0, 1, 0, 0, langs },
};

/* Check an issue request; 0, or -1 with the field and sentence. */
static int
issue_check(const json_t *b, char *field, size_t fieldsz, char *msg,
    size_t msgsz)
{
	const char	*name;

	if (validate_object(b, issue_fields, sizeof(issue_fields) /
	    sizeof(issue_fields[0]), field, fieldsz, msg, msgsz) == -1)
		return -1;
	name = json_string_value(json_object_get(b, "name"));
	if (strchr(name, '\n') != NULL || strchr(name, '\r') != NULL ||
	    strchr(name, '\t') != NULL) {
		snprintf(field, fieldsz, "name");
		snprintf(msg, msgsz, "name: one line, as it is to be printed");
		return -1;
	}
	return 0;
}

/* Run the issue statement for a checked body. */
static void
issue_query(struct req *r, const json_t *b, req_done_fn done)
{
	char		 code[CERT_CODE_LEN + 8];
	const char	*vals[5];
	char		*text, *scope;

	if ((text = json_dumps(b, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	secret_random_id(code, sizeof(code), CERT_CODE_BYTES);
	scope = certificate_scope(r);
	vals[0] = text;
	vals[1] = code;
	vals[2] = scope;
	vals[3] = cert_committee(r) ? "true" : "false";
	vals[4] = r->auth.jti;
	req_query(r, SQL_CERT_ISSUE, vals, 5, done);
	free(text);
	free(scope);
}

/*
 * POST /api/v1/certificates {kind, email, name, event? | series? |
 * year?, lang?}: 201 {code, verify_url, pdf_url, ...}. MVA certificates
 * are the committee's (403 for anyone else); eligibility is SQL's (409).
 */
void
certificate_issue(struct req *r)
{
	char		 field[64], msg[256];
	const char	*kind;

	if (issue_check(r->body, field, sizeof(field), msg,
	    sizeof(msg)) == -1) {
		http_error(r, 400, "invalid_field", "%s", msg);
		return;
	}
	kind = json_string_value(json_object_get(r->body, "kind"));
	if (strcmp(kind, "mva") == 0 && !cert_committee(r)) {
		http_error(r, 403, "forbidden", "Only the committee issues MVA "
		    "certificates.");
		return;
	}
	issue_query(r, r->body, issued_done);
}

/* A revocation's answer: the certificate, or 404. */
static void
revoked_done(struct req *r, struct db_res *res)
{
	json_t	*c = db_json(res);

	if (c == NULL) {
		http_error(r, 404, "not_found", "No such certificate.");
		return;
	}
	cert_urls(c, NULL, NULL);
	http_reply_json(r, 200, c);
}

/* Run the revocation of code with reason (NULL: none). */
static void
revoke_query(struct req *r, const char *code, const char *reason,
    req_done_fn done)
{
	const char	*vals[5];
	char		*scope = certificate_scope(r);

	vals[0] = code;
	vals[1] = reason;
	vals[2] = scope;
	vals[3] = cert_committee(r) ? "true" : "false";
	vals[4] = r->auth.jti;
	req_query(r, SQL_CERT_REVOKE, vals, 5, done);
	free(scope);
}

static const struct vfield revoke_fields[] = {
	{ "reason", V_STRING, 0, 1, 0, CERT_MAXREASON, NULL },
};

/* POST /api/v1/certificates/{code}/revoke {reason?}: at once; audited. */
void
certificate_revoke(struct req *r)
{
	char	 code[CERT_CODE_LEN + 1];

	if (req_validate(r, revoke_fields, 1) == -1)
		return;
	if (cert_code(r->params[0], 0, code, sizeof(code)) == -1) {
		http_error(r, 404, "not_found", "No such certificate.");
		return;
	}
	revoke_query(r, code, json_string_value(json_object_get(r->body,
	    "reason")), revoked_done);
}

/* The list is back: each certificate with its addresses. */
static void
list_done(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res), *c;
	size_t	 i;

	if (o == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_array_foreach(json_object_get(o, "certificates"), i, c)
		cert_urls(c, NULL, NULL);
	http_reply_json(r, 200, o);
}

/* ?event= and ?kind= of a list; 0, or -1 (replied 400). */
static int
list_filters(struct req *r, const char **event, const char **kind)
{
	int64_t		 id;
	int		 i;

	*event = req_query_arg(r, "event");
	*kind = req_query_arg(r, "kind");
	if (*event != NULL && **event == '\0')
		*event = NULL;
	if (*kind != NULL && **kind == '\0')
		*kind = NULL;
	if (*event != NULL && parse_int64(*event, 1, ID_MAX, &id) == -1) {
		http_error(r, 400, "invalid_field", "event: an event's id.");
		return -1;
	}
	for (i = 0; *kind != NULL && kinds[i] != NULL &&
	    strcmp(*kind, kinds[i]) != 0; i++)
		;
	if (*kind != NULL && kinds[i] == NULL) {
		http_error(r, 400, "invalid_field", "kind: volunteer, "
		    "outstanding_volunteer, speaker, series_completion or "
		    "mva.");
		return -1;
	}
	return 0;
}

/* Run the list (or the console page's) statement with the filters. */
static void
list_query(struct req *r, enum sql_id id, const char *event,
    const char *kind, req_done_fn done)
{
	const char	*vals[5];
	char		 lim[16];
	char		*scope = certificate_scope(r);

	snprintf(lim, sizeof(lim), "%d", CERT_LIST_MAX);
	vals[0] = event;
	vals[1] = kind;
	vals[2] = scope;
	vals[3] = cert_committee(r) ? "true" : "false";
	vals[4] = lim;
	req_query(r, id, vals, 5, done);
	free(scope);
}

/* GET /api/v1/certificates?event=&kind=: what the caller reaches. */
void
certificate_list(struct req *r)
{
	const char	*event, *kind;

	if (list_filters(r, &event, &kind) == -1)
		return;
	list_query(r, SQL_CERT_LIST, event, kind, list_done);
}

/* GET /api/v1/member/{secret}/certificates: the member's own. */
static void
member_list_done(struct req *r, struct db_res *res)
{
	json_t	*o = db_json(res), *c;
	size_t	 i;

	if (o == NULL) {
		http_error(r, 404, "not_found", "No such member.");
		return;
	}
	json_array_foreach(json_object_get(o, "certificates"), i, c) {
		cert_describe(c, req_lang(r));
		cert_urls(c, "member", r->params[0]);
		if (!json_is_true(json_object_get(c, "valid")))
			json_object_del(c, "pdf_url");
		json_object_del(c, "kind_label");
		json_object_del(c, "issuer_name");
		json_object_del(c, "erased");
	}
	http_reply_json(r, 200, o);
}

/* GET /api/v1/member/{secret}/certificates */
void
certificate_member_list(struct req *r)
{
	const char	*vals[1] = { r->secret_hash };

	req_query(r, SQL_CERT_MEMBER_LIST, vals, 1, member_list_done);
}

static void	verify_error_page(struct req *, int, const char *);

/*
 * Guessing codes: VERIFY_PER_ADDR lookups a minute from one address,
 * page and API together, whatever they find. 1 when this one may go.
 */
static int
verify_rate_ok(struct req *r)
{
	char	 key[RATE_MAXKEY], ra[16];
	int	 retry = 0;

	snprintf(key, sizeof(key), "verify:%s", r->addr);
	if (rate_allow(key, time(NULL), VERIFY_PER_ADDR, &retry))
		return 1;
	snprintf(ra, sizeof(ra), "%d", retry > 0 ? retry : 1);
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Retry-After", ra);
	if (r->html)
		verify_error_page(r, 429, "ce_err_verify_rate");
	else
		http_error(r, 429, "rate_limited", "Too many certificates "
		    "looked up from your address; try again in %s seconds.",
		    ra);
	return 0;
}

/* The public answer: what a verifier may see, nothing else. */
static void
verify_api_done(struct req *r, struct db_res *res)
{
	json_t		*c = db_json(res), *o;
	char		 url[1024], en[2 * FIELD_MAXTEXT + 8];
	char		 zh[2 * FIELD_MAXTEXT + 8];

	if (c == NULL) {
		http_error(r, 404, "not_found", "No certificate has this "
		    "code.");
		return;
	}
	cert_describe(c, 0);
	cert_verify_url(json_string_value(json_object_get(c, "code")), url,
	    sizeof(url));
	o = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, "
	    "s:O, s:{s:s, s:s, s:O}, s:s}",
	    "code", jget(c, "code"), "kind", jget(c, "kind"),
	    "status", jget(c, "status"), "valid", jget(c, "valid"),
	    "holder", jget(c, "holder"), "issued_at", jget(c, "issued_at"),
	    "issued_on", jget(c, "issued_on"),
	    "revoked_at", jget(c, "revoked_at"), "event", jget(c, "event"),
	    "series", jget(c, "series"), "year", jget(c, "year"),
	    "issuer", "name", cert_issuer(c, 0, en, sizeof(en)),
	    "name_zh", cert_issuer(c, 1, zh, sizeof(zh)),
	    "chapter", jget(json_object_get(c, "issuer"), "slug"),
	    "verify_url", url);
	json_decref(c);
	http_reply_json(r, 200, o);
}

/* The verify page's own error page: status and a sentence of ours. */
static void
verify_error_page(struct req *r, int status, const char *key)
{
	json_t	*ctx = web_ctx(r, "error_title");

	if (ctx == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_object_set_new(ctx, "status", json_integer(status));
	json_object_set_new(ctx, "message", json_string(cat_str(req_lang(r),
	    key)));
	web_page(r, status, "error", ctx);
}

/* The public page. */
static void
verify_page_done(struct req *r, struct db_res *res)
{
	json_t	*c = db_json(res), *ctx;
	int	 lang = req_lang(r);

	if (c == NULL) {
		verify_error_page(r, 404, "ce_err_verify_unknown");
		return;
	}
	if ((ctx = web_ctx(r, "ce_verify_title")) == NULL) {
		json_decref(c);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	cert_describe(c, lang);
	json_object_set_new(ctx, "cert", c);
	web_page(r, 200, "verify", ctx);
}

/* GET /verify/{code}: the page the QR opens. */
void
certificate_verify_page(struct req *r)
{
	char		 code[CERT_CODE_LEN + 1];
	const char	*vals[1];

	if (!verify_rate_ok(r))
		return;
	if (cert_code(r->params[0], 0, code, sizeof(code)) == -1) {
		verify_error_page(r, 404, "ce_err_verify_unknown");
		return;
	}
	vals[0] = code;
	req_query(r, SQL_CERT_VERIFY, vals, 1, verify_page_done);
}

/* GET /api/v1/verify/{code}: the same as JSON. */
void
certificate_verify_api(struct req *r)
{
	char		 code[CERT_CODE_LEN + 1];
	const char	*vals[1];

	if (!verify_rate_ok(r))
		return;
	if (cert_code(r->params[0], 0, code, sizeof(code)) == -1) {
		http_error(r, 404, "not_found", "No certificate has this "
		    "code.");
		return;
	}
	vals[0] = code;
	req_query(r, SQL_CERT_VERIFY, vals, 1, verify_api_done);
}

/* ------------------------------------------------------------------ */
/* The console's certificates page. */

/* The page, with a notice or the refused form and its sentence. */
static void
console_certs_done(struct req *r, struct db_res *res)
{
	static const char *const dones[] = { "issued", "revoked", NULL };
	json_t		*ctx, *data, *c, *form;
	const char	*done = req_query_arg(r, "done"), *k;
	char		 key[64];
	size_t		 i;
	int		 lang = req_lang(r), j, status = 200;

	if ((data = db_json(res)) == NULL ||
	    (ctx = console_ctx(r, "ce_console_title")) == NULL) {
		json_decref(data);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_array_foreach(json_object_get(data, "certificates"), i, c) {
		cert_describe(c, lang);
		json_object_set_new(c, "pdf_path", json_pack("s++",
		    "/console/certificates/", json_string_value(
		    json_object_get(c, "code")), ".pdf"));
	}
	json_object_set_new(ctx, "data", data);
	for (j = 0; done != NULL && dones[j] != NULL; j++)
		if (strcmp(done, dones[j]) == 0) {
			snprintf(key, sizeof(key), "ce_done_%s", done);
			json_object_set_new(ctx, "notice", json_string(cat_str(
			    lang, key)));
		}
	form = json_object();
	if (r->errmsg[0] != '\0') {
		json_object_update(form, r->body);
		json_object_set_new(ctx, "error", json_string(r->errmsg));
		status = json_integer_value(json_object_get(r->body,
		    "_status")) >= 400 ? (int)json_integer_value(
		    json_object_get(r->body, "_status")) : 400;
	}
	k = json_string_value(json_object_get(form, "kind"));
	snprintf(key, sizeof(key), "kind_%s", k != NULL ? k : "volunteer");
	json_object_set_new(form, key, json_true());
	k = json_string_value(json_object_get(form, "lang"));
	json_object_set_new(form, k != NULL && strcmp(k, "zh-CN") == 0 ?
	    "lang_zh" : k != NULL && strcmp(k, "en") == 0 ? "lang_en" :
	    "lang_person", json_true());
	json_object_set_new(ctx, "form", form);
	k = req_query_arg(r, "kind");
	json_object_set_new(ctx, "filter_kind", json_string(k != NULL ? k :
	    ""));
	if (k != NULL) {
		snprintf(key, sizeof(key), "filter_%s", k);
		json_object_set_new(ctx, key, json_true());
	}
	json_object_set_new(ctx, "committee", json_boolean(cert_committee(r)));
	web_page_csp(r, status, "console_certificates", ctx, WEB_CSP_SCRIPT);
}

/* GET /console/certificates?event=&kind=&done= */
void
console_certificates(struct req *r)
{
	const char	*event, *kind;

	r->failed = NULL;
	if (list_filters(r, &event, &kind) == -1)
		return;
	list_query(r, SQL_CONSOLE_CERTS, event, kind, console_certs_done);
}

/* A form's field as a positive integer into the body; 0 or -1. */
static int
form_int(json_t *b, const json_t *f, const char *key, int64_t lo,
    int64_t hi)
{
	const char	*v = json_string_value(json_object_get(f, key));
	int64_t		 n;

	if (v == NULL || *v == '\0')
		return 0;
	if (parse_int64(v, lo, hi, &n) == -1)
		return -1;
	json_object_set_new(b, key, json_integer(n));
	return 0;
}

/* Where a console issue goes back to: the volunteers page it came from,
 * or the certificates page. */
static void
console_back(struct req *r, const char *done, const char *code)
{
	const char	*back = json_string_value(json_object_get(r->body,
	    "back"));
	const char	*ev = json_string_value(json_object_get(r->body,
	    "event"));
	char		 path[256];
	int64_t		 id;

	if (back != NULL && strcmp(back, "volunteers") == 0 && ev != NULL &&
	    parse_int64(ev, 1, ID_MAX, &id) == 0)
		snprintf(path, sizeof(path), "/console/events/%lld/volunteers"
		    "?done=%s%s%s", (long long)id, done, code ? "&code=" : "",
		    code ? code : "");
	else
		snprintf(path, sizeof(path),
		    "/console/certificates?done=%s%s%s", done,
		    code ? "&code=" : "", code ? code : "");
	web_redirect(r, path);
}

/* Issued from the console: back with the new code. */
static void
console_issued(struct req *r, struct db_res *res)
{
	json_t	*c = db_json(res);
	char	 code[CERT_CODE_LEN + 1] = "";

	snprintf(code, sizeof(code), "%s", json_string_value(json_object_get(c,
	    "code")) ? json_string_value(json_object_get(c, "code")) : "");
	json_decref(c);
	console_back(r, "issued", code[0] ? code : NULL);
}

/* The page again with the refusal's sentence above the form. */
static void
console_refused(struct req *r, struct db_res *res)
{
	const char	*d = res != NULL ? db_detail(res) : NULL;
	const char	*st = res != NULL ? db_sqlstate(res) : NULL;

	snprintf(r->errmsg, sizeof(r->errmsg), "%s", d != NULL ? d :
	    "This certificate cannot be issued.");
	json_object_set_new(r->body, "_status", json_integer(st != NULL ?
	    atoi(st + 2) : 400));
	console_certificates(r);
}

/*
 * POST /console/certificates {csrf, kind, email, name, event?, series?,
 * year?, lang?, back?}: as POST /api/v1/certificates.
 */
void
console_certificate_issue(struct req *r)
{
	static const char *const text[] = { "kind", "email", "name", "lang" };
	char		 field[64], msg[256];
	const char	*v;
	json_t		*b;
	size_t		 i;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	b = json_object();
	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if ((v = json_string_value(json_object_get(r->body,
		    text[i]))) != NULL && *v != '\0')
			json_object_set_new(b, text[i], json_string(v));
	if (form_int(b, r->body, "event", 1, ID_MAX) == -1 ||
	    form_int(b, r->body, "series", 1, ID_MAX) == -1 ||
	    form_int(b, r->body, "year", 2000, 2100) == -1) {
		snprintf(r->errmsg, sizeof(r->errmsg), "%s",
		    cat_str(req_lang(r), "ce_err_numbers"));
		json_decref(b);
		console_certificates(r);
		return;
	}
	/* Only the field of the kind's subject goes. */
	v = json_string_value(json_object_get(b, "kind"));
	if (v != NULL && strcmp(v, "series_completion") == 0) {
		json_object_del(b, "event");
		json_object_del(b, "year");
	} else if (v != NULL && strcmp(v, "mva") == 0) {
		json_object_del(b, "event");
		json_object_del(b, "series");
	} else {
		json_object_del(b, "series");
		json_object_del(b, "year");
	}
	if (issue_check(b, field, sizeof(field), msg, sizeof(msg)) == -1) {
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg);
		json_decref(b);
		console_certificates(r);
		return;
	}
	r->failed = console_refused;
	issue_query(r, b, console_issued);
	json_decref(b);
}

/* Revoked from the console: back to the list. */
static void
console_revoked(struct req *r, struct db_res *res)
{
	if (db_rows(res) != 1 || db_isnull(res, 0, 0)) {
		http_error(r, 404, "not_found", "No such certificate.");
		return;
	}
	console_back(r, "revoked", NULL);
}

/* POST /console/certificates/revoke {csrf, code, reason?} */
void
console_certificate_revoke(struct req *r)
{
	const char	*code = json_string_value(json_object_get(r->body,
	    "code"));
	const char	*reason = json_string_value(json_object_get(r->body,
	    "reason"));
	char		 c[CERT_CODE_LEN + 1];

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if (code == NULL || cert_code(code, 0, c, sizeof(c)) == -1) {
		http_error(r, 400, "invalid_field", "code: a certificate's "
		    "code.");
		return;
	}
	if (reason != NULL && (strlen(reason) > CERT_MAXREASON ||
	    validate_utf8(reason) == -1)) {
		http_error(r, 400, "invalid_field", "reason: at most %d bytes.",
		    CERT_MAXREASON);
		return;
	}
	revoke_query(r, c, reason != NULL && *reason != '\0' ? reason : NULL,
	    console_revoked);
}
