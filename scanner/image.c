/*
 * Reading a photo or screenshot into 8-bit grey: PNG through libpng's
 * simplified API, JPEG through libjpeg-turbo. Nothing else (no
 * ImageMagick: C_API_NOTES pitfall 4).
 *
 * A picture file is untrusted input. Its header is read first and its
 * dimensions capped (SCAN_MAXDIM per side) before any pixel buffer is
 * allocated, so a small file claiming a 100000x100000 picture costs
 * nothing. libjpeg reports fatal errors through error_exit, which must
 * not return: ours longjmps back here, where everything is released.
 * Its warnings (a truncated file, corrupt data) are kept quiet; the
 * pixels it could decode are still scanned.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "scanner.h"

static const unsigned char png_magic[8] = { 0x89, 'P', 'N', 'G', '\r',
    '\n', 0x1a, '\n' };
static const unsigned char jpeg_magic[3] = { 0xff, 0xd8, 0xff };

/* Read a PNG as grey, transparency over white. Returns 0 or -1. */
static int
png_load(const char *path, unsigned char **out, unsigned *w, unsigned *h,
    char *err, size_t errsz)
{
	png_image	 img;
	png_color	 white = { 255, 255, 255 };
	unsigned char	*buf = NULL;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path)) {
		snprintf(err, errsz, "not a readable PNG (%s)", img.message);
		goto fail;
	}
	if (img.width == 0 || img.height == 0 || img.width > SCAN_MAXDIM ||
	    img.height > SCAN_MAXDIM) {
		snprintf(err, errsz, "a %ux%u picture is over the %dx%d limit",
		    (unsigned)img.width, (unsigned)img.height, SCAN_MAXDIM,
		    SCAN_MAXDIM);
		goto fail;
	}
	img.format = PNG_FORMAT_GRAY;
	if ((buf = malloc(PNG_IMAGE_SIZE(img))) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	if (!png_image_finish_read(&img, &white, buf, 0, NULL)) {
		snprintf(err, errsz, "damaged PNG (%s)", img.message);
		goto fail;
	}
	*out = buf;
	*w = img.width;
	*h = img.height;
	png_image_free(&img);
	return 0;
fail:
	free(buf);
	png_image_free(&img);
	return -1;
}

struct jpeg_fail {
	struct jpeg_error_mgr	 pub;
	jmp_buf			 jb;
	char			 msg[JMSG_LENGTH_MAX];
};

/* libjpeg's fatal error: remember its message and jump back. */
static void
jpeg_fail_exit(j_common_ptr cinfo)
{
	struct jpeg_fail	*f = (struct jpeg_fail *)cinfo->err;

	(*cinfo->err->format_message)(cinfo, f->msg);
	longjmp(f->jb, 1);
}

/* libjpeg's warnings and trace messages: not for a person at a door. */
static void
jpeg_quiet(j_common_ptr cinfo)
{
	(void)cinfo;
}

/* Read a JPEG as grey. Returns 0 or -1. */
static int
jpeg_load(const char *path, unsigned char **out, unsigned *w, unsigned *h,
    char *err, size_t errsz)
{
	struct jpeg_decompress_struct	 cinfo;
	struct jpeg_fail		 jerr;
	unsigned char			*volatile buf = NULL;
	FILE				*volatile f = NULL;
	JSAMPROW			 row;
	size_t				 stride;

	memset(&cinfo, 0, sizeof(cinfo));
	cinfo.err = jpeg_std_error(&jerr.pub);
	jerr.pub.error_exit = jpeg_fail_exit;
	jerr.pub.output_message = jpeg_quiet;
	jerr.msg[0] = '\0';
	if (setjmp(jerr.jb)) {
		snprintf(err, errsz, "damaged JPEG (%s)", jerr.msg);
		goto fail;
	}
	jpeg_create_decompress(&cinfo);
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errsz, "%s", strerror(errno));
		goto fail;
	}
	jpeg_stdio_src(&cinfo, f);
	jpeg_read_header(&cinfo, TRUE);
	if (cinfo.image_width == 0 || cinfo.image_height == 0 ||
	    cinfo.image_width > SCAN_MAXDIM || cinfo.image_height > SCAN_MAXDIM) {
		snprintf(err, errsz, "a %ux%u picture is over the %dx%d limit",
		    (unsigned)cinfo.image_width, (unsigned)cinfo.image_height,
		    SCAN_MAXDIM, SCAN_MAXDIM);
		goto fail;
	}
	cinfo.out_color_space = JCS_GRAYSCALE;
	jpeg_start_decompress(&cinfo);
	if (cinfo.output_components != 1) {
		snprintf(err, errsz, "JPEG did not decode to grey");
		goto fail;
	}
	stride = cinfo.output_width;
	if ((buf = malloc(stride * cinfo.output_height)) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		row = buf + stride * cinfo.output_scanline;
		jpeg_read_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_decompress(&cinfo);
	*out = buf;
	*w = cinfo.output_width;
	*h = cinfo.output_height;
	jpeg_destroy_decompress(&cinfo);
	fclose(f);
	return 0;
fail:
	jpeg_destroy_decompress(&cinfo);
	if (f != NULL)
		fclose(f);
	free(buf);
	return -1;
}

/*
 * Load a PNG or JPEG file (told apart by its first bytes, not its name)
 * as 8-bit grey, rows packed. Returns 0 and a buffer the caller frees,
 * or -1 with a reason in err.
 */
int
image_load(const char *path, unsigned char **out, unsigned *w, unsigned *h,
    char *err, size_t errsz)
{
	unsigned char	 head[8];
	size_t		 n;
	FILE		*f;

	*out = NULL;
	*w = *h = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errsz, "%s", strerror(errno));
		return -1;
	}
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (n == sizeof(png_magic) && memcmp(head, png_magic, n) == 0)
		return png_load(path, out, w, h, err, errsz);
	if (n >= sizeof(jpeg_magic) &&
	    memcmp(head, jpeg_magic, sizeof(jpeg_magic)) == 0)
		return jpeg_load(path, out, w, h, err, errsz);
	snprintf(err, errsz, "not a PNG or JPEG picture");
	return -1;
}
