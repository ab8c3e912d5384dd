/*
 * Drawing PDFs with cairo and pango: what the badges (badge.c) and the
 * certificates (certificate.c) share. Only those two include this file,
 * so the rest of the server does not see cairo's and pango's headers.
 */
#ifndef PDF_H
#define PDF_H

#include <cairo.h>
#include <pango/pangocairo.h>

/* Where cairo writes a PDF: a growing buffer, capped at max bytes. */
struct pdf_buf {
	unsigned char	*data;
	size_t		 len, cap, max;
};

/* A PDF being drawn: one user unit a point, a pango layout to write with. */
struct pdf_doc {
	struct pdf_buf	 buf;
	cairo_surface_t	*s;
	cairo_t		*cr;
	PangoLayout	*l;
};

int		 pdf_open(struct pdf_doc *, double, double, size_t,
		    const char *);
int		 pdf_finish(struct pdf_doc *, unsigned char **, size_t *);
void		 pdf_free(struct pdf_doc *);
cairo_status_t	 pdf_write(void *, const unsigned char *, unsigned int);
double		 pdf_text(PangoLayout *, const char *, const char *, double,
		    int, double, int, PangoAlignment);
int		 pdf_qr(cairo_t *, const char *, double, double, double);

#endif
