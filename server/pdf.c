/*
 * Drawing PDFs with cairo and pango (pdf.h): the write callback that
 * keeps a PDF in memory, a block of text laid out by pango, a QR code
 * drawn as filled squares. Runs on the worker thread; touches nothing
 * shared.
 */
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <qrencode.h>

#include "pdf.h"

#define QR_QUIET	4		/* modules of white around the code */

/* cairo's write callback: append to the pdf_buf, up to its max. */
cairo_status_t
pdf_write(void *arg, const unsigned char *data, unsigned int len)
{
	struct pdf_buf	*b = arg;
	unsigned char	*nd;
	size_t		 cap;

	if (b->len + len > b->max)
		return CAIRO_STATUS_WRITE_ERROR;
	if (b->len + len > b->cap) {
		for (cap = b->cap ? b->cap : 64 * 1024; cap < b->len + len;
		    cap *= 2)
			;
		if ((nd = realloc(b->data, cap)) == NULL)
			return CAIRO_STATUS_NO_MEMORY;
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return CAIRO_STATUS_SUCCESS;
}

/*
 * Start a PDF of w x h points, at most max bytes, titled title, in
 * memory. 0, or -1 (pdf_free still to be called).
 */
int
pdf_open(struct pdf_doc *d, double w, double h, size_t max,
    const char *title)
{
	PangoContext	*pc;

	memset(d, 0, sizeof(*d));
	d->buf.max = max;
	d->s = cairo_pdf_surface_create_for_stream(pdf_write, &d->buf, w, h);
	if (cairo_surface_status(d->s) != CAIRO_STATUS_SUCCESS)
		return -1;
	cairo_pdf_surface_set_metadata(d->s, CAIRO_PDF_METADATA_TITLE,
	    title != NULL ? title : "");
	cairo_pdf_surface_set_metadata(d->s, CAIRO_PDF_METADATA_CREATOR,
	    "Rollcall");
	d->cr = cairo_create(d->s);
	if ((d->l = pango_cairo_create_layout(d->cr)) == NULL)
		return -1;
	/* One user unit is one point: font sizes are in points. */
	pc = pango_layout_get_context(d->l);
	pango_cairo_context_set_resolution(pc, 72);
	pango_layout_context_changed(d->l);
	return 0;
}

/* The pages drawn: the PDF's bytes, which the caller frees; or -1. */
int
pdf_finish(struct pdf_doc *d, unsigned char **out, size_t *len)
{
	cairo_surface_finish(d->s);
	if (cairo_surface_status(d->s) != CAIRO_STATUS_SUCCESS ||
	    cairo_status(d->cr) != CAIRO_STATUS_SUCCESS)
		return -1;
	*out = d->buf.data;
	*len = d->buf.len;
	d->buf.data = NULL;
	return 0;
}

/* Release what pdf_open made (and the bytes, unless pdf_finish took them). */
void
pdf_free(struct pdf_doc *d)
{
	if (d->l != NULL)
		g_object_unref(d->l);
	if (d->cr != NULL)
		cairo_destroy(d->cr);
	if (d->s != NULL)
		cairo_surface_destroy(d->s);
	free(d->buf.data);
	memset(d, 0, sizeof(*d));
}

/*
 * Set l to text in font at pt points, width wide, at most lines lines
 * (ellipsized after), aligned; returns its height in points.
 */
double
pdf_text(PangoLayout *l, const char *font, const char *text, double pt,
    int bold, double width, int lines, PangoAlignment align)
{
	PangoFontDescription	*fd;
	int			 w, h;

	fd = pango_font_description_from_string(font);
	pango_font_description_set_absolute_size(fd, pt * PANGO_SCALE);
	pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD :
	    PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
	pango_layout_set_width(l, (int)(width * PANGO_SCALE));
	pango_layout_set_height(l, -lines);
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
	pango_layout_set_alignment(l, align);
	pango_layout_set_text(l, text != NULL ? text : "", -1);
	pango_layout_get_size(l, &w, &h);
	return (double)h / PANGO_SCALE;
}

/* Draw the QR code of text as a square of side size at (x, y); 0 or -1. */
int
pdf_qr(cairo_t *cr, const char *text, double x, double y, double size)
{
	QRcode	*qr;
	double	 m;
	int	 i, j;

	if ((qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) ==
	    NULL)
		return -1;
	m = size / (qr->width + 2 * QR_QUIET);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, x, y, size, size);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (j = 0; j < qr->width; j++)
		for (i = 0; i < qr->width; i++)
			if (qr->data[j * qr->width + i] & 1)
				cairo_rectangle(cr, x + (i + QR_QUIET) * m,
				    y + (j + QR_QUIET) * m, m, m);
	cairo_fill(cr);
	QRcode_free(qr);
	return 0;
}
