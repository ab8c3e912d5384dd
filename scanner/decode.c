/*
 * Finding QR codes in a grey picture with zbar: the one function every
 * input ends in, photos and camera frames alike.
 *
 * zbar is set up as C_API_NOTES §2 says: QR only, ZBAR_CFG_BINARY so the
 * ticket's bytes come back as they were printed (no charset guessing),
 * inverted codes tried when nothing else is found, one image scanner per
 * decoder and the decoder used by one thread.
 *
 * A photo of a phone held up at a door is not a clean render: it is
 * blurred, noisy, lit unevenly and small in the frame. zbar's own
 * binarisation copes with most of that; for still pictures, where a second
 * costs little, three passes, cheapest first, each only when the ones
 * before found nothing: the picture halved (a quarter of the pixels, and
 * averaging 2x2 blocks removes sensor noise and JPEG ringing), the picture
 * as it is (small codes), and the picture thresholded against its local
 * mean (uneven light, low contrast). Codes found are reported once each.
 */
#include <stdlib.h>
#include <string.h>

#include <zbar.h>

#include "scanner.h"

#define DECODE_MAXCODES		64	/* distinct codes kept from one picture */
#define DECODE_MINHALF		400	/* smallest side worth halving */
#define DECODE_MAXTHRESH	(8 * 1024 * 1024)	/* pixels thresholded */

struct decoder {
	zbar_image_scanner_t	*sc;
	char			*found[DECODE_MAXCODES];
	size_t			 nfound;
};

/* A decoder for QR codes in binary mode, or NULL. */
struct decoder *
decoder_new(void)
{
	struct decoder	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->sc = zbar_image_scanner_create()) == NULL) {
		free(d);
		return NULL;
	}
	zbar_image_scanner_set_config(d->sc, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(d->sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zbar_image_scanner_set_config(d->sc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	zbar_image_scanner_set_config(d->sc, 0, ZBAR_CFG_TEST_INVERTED, 1);
	return d;
}

/* Drop the codes remembered from the last picture. */
static void
decoder_forget(struct decoder *d)
{
	size_t	 i;

	for (i = 0; i < d->nfound; i++) {
		free(d->found[i]);
		d->found[i] = NULL;
	}
	d->nfound = 0;
}

/* Release the decoder and its zbar scanner. */
void
decoder_free(struct decoder *d)
{
	if (d == NULL)
		return;
	decoder_forget(d);
	zbar_image_scanner_destroy(d->sc);
	free(d);
}

/* Report each QR symbol of one zbar pass that no earlier pass reported. */
static int
decode_pass(struct decoder *d, const unsigned char *grey, unsigned w,
    unsigned h, code_fn fn, void *arg)
{
	const zbar_symbol_t	*s;
	zbar_image_t		*img;
	const char		*data;
	unsigned		 len;
	size_t			 i;
	int			 n, fresh = 0;

	if ((img = zbar_image_create()) == NULL)
		return -1;
	zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(img, w, h);
	zbar_image_set_data(img, grey, (unsigned long)w * h, NULL);
	n = zbar_scan_image(d->sc, img);
	for (s = zbar_image_first_symbol(img); n > 0 && s != NULL;
	    s = zbar_symbol_next(s)) {
		if (zbar_symbol_get_type(s) != ZBAR_QRCODE)
			continue;
		data = zbar_symbol_get_data(s);
		len = zbar_symbol_get_data_length(s);
		for (i = 0; i < d->nfound; i++)
			if (strlen(d->found[i]) == len &&
			    memcmp(d->found[i], data, len) == 0)
				break;
		if (i < d->nfound || d->nfound == DECODE_MAXCODES)
			continue;
		/* zbar's data is NUL-terminated; a NUL inside stays visible
		 * to the callback through len. */
		if ((d->found[d->nfound] = malloc((size_t)len + 1)) == NULL)
			continue;
		memcpy(d->found[d->nfound], data, len);
		d->found[d->nfound][len] = '\0';
		d->nfound++;
		fresh++;
		fn(arg, data, len);
	}
	zbar_image_destroy(img);
	return n < 0 ? -1 : fresh;
}

/* The picture at half size, each pixel the mean of a 2x2 block. */
static unsigned char *
grey_half(const unsigned char *g, unsigned w, unsigned h, unsigned *hw,
    unsigned *hh)
{
	unsigned char	*out;
	unsigned	 x, y;
	size_t		 i;

	*hw = w / 2;
	*hh = h / 2;
	if ((out = malloc((size_t)*hw * *hh)) == NULL)
		return NULL;
	for (y = 0; y < *hh; y++)
		for (x = 0; x < *hw; x++) {
			i = (size_t)2 * y * w + 2 * x;
			out[(size_t)y * *hw + x] = (unsigned char)((g[i] +
			    g[i + 1] + g[i + w] + g[i + w + 1] + 2) / 4);
		}
	return out;
}

/*
 * The picture in black and white: a pixel is dark when it is darker than
 * the mean of the square around it (side about an eighth of the picture)
 * by a small margin. One integral image makes every mean O(1).
 */
static unsigned char *
grey_threshold(const unsigned char *g, unsigned w, unsigned h)
{
	uint32_t	*sum;
	unsigned char	*out = NULL;
	unsigned	 x, y, r, x0, x1, y0, y1;
	uint64_t	 s, area;
	uint32_t	 row;

	/* 255 * pixels must fit the 32-bit sums. */
	if ((size_t)w * h > DECODE_MAXTHRESH)
		return NULL;
	if ((sum = calloc(((size_t)w + 1) * ((size_t)h + 1),
	    sizeof(*sum))) == NULL)
		return NULL;
	for (y = 0; y < h; y++) {
		row = 0;
		for (x = 0; x < w; x++) {
			row += g[(size_t)y * w + x];
			sum[(size_t)(y + 1) * (w + 1) + x + 1] =
			    sum[(size_t)y * (w + 1) + x + 1] + row;
		}
	}
	if ((out = malloc((size_t)w * h)) == NULL)
		goto out;
	r = (w < h ? w : h) / 16;
	if (r < 8)
		r = 8;
	for (y = 0; y < h; y++) {
		y0 = y > r ? y - r : 0;
		y1 = y + r + 1 < h ? y + r + 1 : h;
		for (x = 0; x < w; x++) {
			x0 = x > r ? x - r : 0;
			x1 = x + r + 1 < w ? x + r + 1 : w;
			s = sum[(size_t)y1 * (w + 1) + x1] -
			    sum[(size_t)y0 * (w + 1) + x1] -
			    sum[(size_t)y1 * (w + 1) + x0] +
			    sum[(size_t)y0 * (w + 1) + x0];
			area = (uint64_t)(x1 - x0) * (y1 - y0);
			/* dark when g * area < s - 8 * area, no division */
			out[(size_t)y * w + x] = (uint64_t)g[(size_t)y * w +
			    x] * area + 8 * area < s ? 0 : 255;
		}
	}
out:
	free(sum);
	return out;
}

/*
 * Find the QR codes in a w x h grey picture (one byte a pixel, rows
 * packed) and call fn once for each distinct code. With DECODE_THOROUGH
 * the extra passes run as well. Returns the number of codes, or -1.
 */
int
decode_grey(struct decoder *d, const unsigned char *grey, unsigned w,
    unsigned h, int flags, code_fn fn, void *arg)
{
	unsigned char	*half = NULL, *bw = NULL;
	unsigned	 hw, hh;
	int		 n = -1;

	if (d == NULL || grey == NULL || w == 0 || h == 0 ||
	    w > SCAN_MAXDIM || h > SCAN_MAXDIM)
		return -1;
	decoder_forget(d);
	if (!(flags & DECODE_THOROUGH)) {
		if (decode_pass(d, grey, w, h, fn, arg) == -1)
			goto out;
		n = (int)d->nfound;
		goto out;
	}
	/*
	 * Cheapest first, and each costlier pass only when the cheaper
	 * ones found nothing: a quarter of the pixels reads most photos
	 * (and is less noisy), the full picture reads small codes, the
	 * thresholded one uneven light.
	 */
	if ((w < h ? w : h) >= DECODE_MINHALF &&
	    (half = grey_half(grey, w, h, &hw, &hh)) != NULL &&
	    decode_pass(d, half, hw, hh, fn, arg) == -1)
		goto out;
	if (d->nfound == 0 && decode_pass(d, grey, w, h, fn, arg) == -1)
		goto out;
	if (d->nfound == 0) {
		/* Big pictures are thresholded at half size. */
		if ((bw = grey_threshold(grey, w, h)) != NULL)
			decode_pass(d, bw, w, h, fn, arg);
		else if (half != NULL &&
		    (bw = grey_threshold(half, hw, hh)) != NULL)
			decode_pass(d, bw, hw, hh, fn, arg);
	}
	n = (int)d->nfound;
out:
	free(half);
	free(bw);
	decoder_forget(d);
	return n;
}
