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

cairo_status_t	 pdf_write(void *, const unsigned char *, unsigned int);
double		 pdf_text(PangoLayout *, const char *, const char *, double,
		    int, double, int, PangoAlignment);
int		 pdf_qr(cairo_t *, const char *, double, double, double);

#endif
