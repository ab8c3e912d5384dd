/*
 * The camera: frames from a V4L2 device through zbar's video input, each
 * handed as grey pixels to camera_frame(), which decodes it with the same
 * decode_grey() as a photo.
 *
 * zbar 0.23.92 crashes in zbar_negotiate_format(), which both
 * zbar_processor_init() and zbar_video_enable() call unless a format has
 * been set (C_API_NOTES §2; fixed upstream in 0.23.93). So the video is
 * driven here and its format forced with zbar_video_init() before it is
 * enabled: the formats webcams offer are tried in turn, and zbar converts
 * whatever arrives to Y800 (grey).
 *
 * A camera sees the same ticket in every frame for as long as it is held
 * up; camera_frame() reports a code once and then ignores it until it
 * has been out of sight for SCAN_REPEAT_MS, so one showing is one scan.
 *
 * The hidden option --frames FILE feeds raw Y800 frames from a file to
 * camera_frame(), SCAN_FRAME_MS apart, which is how the tests exercise
 * this path without a camera.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zbar.h>

#include "scanner.h"

struct recent {
	char	*code;
	int64_t	 seen;		/* ms */
};

struct camera {
	struct decoder	*dec;
	code_fn		 fn;
	void		*arg;
	struct recent	 recent[SCAN_RECENT];
	int64_t		 now;
	int		 fresh;
};

/* A frame handler that reports through fn(arg, code, len). */
struct camera *
camera_new(struct decoder *dec, code_fn fn, void *arg)
{
	struct camera	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->dec = dec;
	c->fn = fn;
	c->arg = arg;
	return c;
}

/* Release the frame handler (not its decoder). */
void
camera_free(struct camera *c)
{
	int	 i;

	if (c == NULL)
		return;
	for (i = 0; i < SCAN_RECENT; i++)
		free(c->recent[i].code);
	free(c);
}

/* Each decoded code: pass it on unless it was in sight a moment ago. */
static void
camera_code(void *arg, const char *code, size_t len)
{
	struct camera	*c = arg;
	struct recent	*r, *slot = NULL;
	int		 i;

	for (i = 0; i < SCAN_RECENT; i++) {
		r = &c->recent[i];
		if (r->code == NULL) {
			if (slot == NULL || slot->code != NULL)
				slot = r;
			continue;
		}
		if (strlen(r->code) == len && memcmp(r->code, code, len) == 0) {
			if (c->now - r->seen < SCAN_REPEAT_MS) {
				r->seen = c->now;	/* still in sight */
				return;
			}
			slot = r;
			break;
		}
		if (slot == NULL || (slot->code != NULL && r->seen < slot->seen))
			slot = r;
	}
	if (slot->code == NULL || strlen(slot->code) != len ||
	    memcmp(slot->code, code, len) != 0) {
		free(slot->code);
		if ((slot->code = malloc(len + 1)) != NULL) {
			memcpy(slot->code, code, len);
			slot->code[len] = '\0';
		}
	}
	slot->seen = c->now;
	c->fresh++;
	c->fn(c->arg, code, len);
}

/*
 * One camera frame, w x h grey pixels taken at now (milliseconds): decode
 * it and report the codes not in sight during the last SCAN_REPEAT_MS.
 * Returns the number reported, or -1 when the frame could not be scanned.
 */
int
camera_frame(struct camera *c, const unsigned char *grey, unsigned w,
    unsigned h, int64_t now)
{
	c->now = now;
	c->fresh = 0;
	if (decode_grey(c->dec, grey, w, h, 0, camera_code, c) == -1)
		return -1;
	return c->fresh;
}

/* Milliseconds on a clock that never steps back. */
static int64_t
camera_clock(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Formats to force, most common first; zbar converts each to grey. */
static const char *const camera_formats[] = { "YUYV", "GREY", "Y800",
    "MJPG", "JPEG", "UYVY", "NV12", "YU12", "RGB3", "BGR3", NULL };

/*
 * Read frames from a V4L2 device until *stop is set or the device fails.
 * Returns 0 or -1 with a reason in err.
 */
int
camera_run(struct camera *c, const char *dev, volatile sig_atomic_t *stop, char *err,
    size_t errsz)
{
	zbar_video_t	*v;
	zbar_image_t	*img, *grey;
	struct pollfd	 pfd;
	const char	*f;
	int		 i, fd, rc = -1;

	if ((v = zbar_video_create()) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	/* Before open: the probe would otherwise pick the largest size. */
	zbar_video_request_size(v, 1280, 720);
	if (zbar_video_open(v, dev) != 0) {
		snprintf(err, errsz, "cannot open the camera %s (%s)", dev,
		    zbar_video_error_string(v, 0));
		goto out;
	}
	for (i = 0; (f = camera_formats[i]) != NULL; i++)
		if (zbar_video_init(v, zbar_fourcc(f[0], f[1], f[2], f[3])) == 0)
			break;
	if (f == NULL) {
		snprintf(err, errsz, "the camera %s offers no picture format "
		    "zbar can read", dev);
		goto out;
	}
	if (zbar_video_enable(v, 1) != 0) {
		snprintf(err, errsz, "cannot start the camera %s (%s)", dev,
		    zbar_video_error_string(v, 0));
		goto out;
	}
	fd = zbar_video_get_fd(v);
	fprintf(stderr, "rollcall-scan: camera %s: %dx%d %s; show a ticket "
	    "(Ctrl-C to stop)\n", dev, zbar_video_get_width(v),
	    zbar_video_get_height(v), f);
	while (!*stop) {
		if (fd >= 0) {
			/* Wait in slices, so that a signal stops us promptly. */
			pfd.fd = fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (poll(&pfd, 1, 500) <= 0)
				continue;
		}
		if ((img = zbar_video_next_image(v)) == NULL) {
			snprintf(err, errsz, "the camera %s stopped (%s)", dev,
			    zbar_video_error_string(v, 0));
			goto out;
		}
		grey = zbar_image_convert(img, zbar_fourcc('Y', '8', '0', '0'));
		zbar_image_destroy(img);
		if (grey == NULL)
			continue;
		camera_frame(c, zbar_image_get_data(grey),
		    zbar_image_get_width(grey), zbar_image_get_height(grey),
		    camera_clock());
		zbar_image_destroy(grey);
	}
	rc = 0;
out:
	zbar_video_enable(v, 0);
	zbar_video_destroy(v);
	return rc;
}

/*
 * Feed the raw w x h Y800 frames stored back to back in a file to
 * camera_frame() as if a camera had taken them SCAN_FRAME_MS apart.
 * Returns 0 or -1 with a reason in err.
 */
int
frames_run(struct camera *c, const char *path, unsigned w, unsigned h,
    char *err, size_t errsz)
{
	unsigned char	*buf;
	size_t		 n, size;
	FILE		*f;
	int64_t		 now = 0;
	int		 rc = -1;

	if (w == 0 || h == 0 || w > SCAN_MAXDIM || h > SCAN_MAXDIM) {
		snprintf(err, errsz, "bad frame size %ux%u", w, h);
		return -1;
	}
	size = (size_t)w * h;
	if ((buf = malloc(size)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		free(buf);
		return -1;
	}
	while ((n = fread(buf, 1, size, f)) == size) {
		camera_frame(c, buf, w, h, now);
		now += SCAN_FRAME_MS;
	}
	if (ferror(f))
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
	else if (n != 0)
		snprintf(err, errsz, "%s: a partial frame of %zu bytes at the "
		    "end", path, n);
	else
		rc = 0;
	fclose(f);
	free(buf);
	return rc;
}
