/*
 * rollcall-scan --setup IMAGE | --setup-camera DEV --token-file FILE: set
 * a door or booth device up from the console's provisioning QR. The QR
 * holds {"rollcall":"device","url":URL,"code":CODE}; the code is claimed
 * once at URL/api/v1/devices/claim for the device's token, which goes to
 * FILE (mode 0600, replaced atomically) so no token is ever typed. Later
 * runs read it with --token-file FILE.
 *
 * The QR is untrusted input: only an http(s) URL and a URL-safe code of
 * the expected length are used; anything else in view is ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "scanner.h"

/* What a provisioning QR said. */
struct setup_qr {
	char			 url[SETUP_MAXURL + 1];
	char			 code[SETUP_CODELEN + 1];
	int			 found;
	volatile sig_atomic_t	*stop;
};

/* One decoded code: keep it when it is a device QR. */
static void
setup_code(void *arg, const char *data, size_t len)
{
	struct setup_qr	*q = arg;
	json_t		*o;
	const char	*kind, *url, *code;

	if (q->found || (o = json_loadb(data, len, 0, NULL)) == NULL)
		return;
	kind = json_string_value(json_object_get(o, "rollcall"));
	url = json_string_value(json_object_get(o, "url"));
	code = json_string_value(json_object_get(o, "code"));
	if (kind != NULL && strcmp(kind, "device") == 0 && url != NULL &&
	    code != NULL && strlen(url) <= SETUP_MAXURL &&
	    (strncmp(url, "http://", 7) == 0 ||
	    strncmp(url, "https://", 8) == 0) &&
	    strlen(code) == SETUP_CODELEN && util_urlsafe(code, 0)) {
		snprintf(q->url, sizeof(q->url), "%s", url);
		snprintf(q->code, sizeof(q->code), "%s", code);
		q->found = 1;
		if (q->stop != NULL)
			*q->stop = 1;
	}
	json_decref(o);
}

/* Write the token to path, mode 0600, through a temporary file. */
static int
setup_write(const char *path, const char *token, char *err, size_t errsz)
{
	char	 tmp[SCAN_MAXPATH];
	int	 fd;
	size_t	 len = strlen(token);

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errsz, "the token file's path is too long");
		return -1;
	}
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
	    fchmod(fd, 0600) == -1 || write(fd, token, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) == -1) {
		snprintf(err, errsz, "%.*s: %s", (int)(errsz / 2), tmp,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * Read the QR from image (or, when image is NULL, from camera until one
 * is in view or stop is set), claim it, write the token. An exit status.
 */
int
setup_run(const char *image, const char *camera, const char *token_file,
    long timeout, volatile sig_atomic_t *stop)
{
	struct setup_qr	 q;
	struct decoder	*d = NULL;
	struct camera	*cam = NULL;
	struct client	*c = NULL;
	unsigned char	*grey = NULL;
	unsigned	 w, h;
	char		 err[SCAN_MAXPATH + 256];
	json_t		*body = NULL, *reply = NULL;
	const char	*token;
	long		 status;
	int		 rc = SCAN_EXIT_FAILURE;

	memset(&q, 0, sizeof(q));
	if ((d = decoder_new()) == NULL) {
		fprintf(stderr, "rollcall-scan: cannot set up zbar\n");
		goto out;
	}
	if (image != NULL) {
		if (image_load(image, &grey, &w, &h, err, sizeof(err)) == -1) {
			fprintf(stderr, "rollcall-scan: %s: %s\n", image, err);
			rc = SCAN_EXIT_NOCODE;
			goto out;
		}
		decode_grey(d, grey, w, h, DECODE_THOROUGH, setup_code, &q);
	} else {
		q.stop = stop;
		fprintf(stderr, "rollcall-scan: show the set-up QR to the "
		    "camera (Ctrl-C to stop)\n");
		if ((cam = camera_new(d, setup_code, &q)) == NULL ||
		    camera_run(cam, camera, stop, err, sizeof(err)) == -1) {
			fprintf(stderr, "rollcall-scan: %s\n", cam ? err :
			    "cannot set up the camera");
			goto out;
		}
	}
	if (!q.found) {
		fprintf(stderr, "rollcall-scan: no Rollcall set-up QR found\n");
		rc = SCAN_EXIT_NOCODE;
		goto out;
	}
	if ((c = client_new(q.url, NULL, timeout)) == NULL ||
	    (body = json_pack("{s:s}", "code", q.code)) == NULL) {
		fprintf(stderr, "rollcall-scan: cannot set up HTTP\n");
		goto out;
	}
	switch (client_post(c, "/api/v1/devices/claim", body, &status, &reply,
	    err, sizeof(err))) {
	case CLIENT_OK:
		break;
	case CLIENT_UNREACHABLE:
		fprintf(stderr, "rollcall-scan: %s: %s\n", q.url, err);
		rc = SCAN_EXIT_UNREACHABLE;
		goto out;
	default:
		fprintf(stderr, "rollcall-scan: %s: %s\n", q.url, err);
		goto out;
	}
	token = json_string_value(json_object_get(reply, "token"));
	if (status != 201 || token == NULL) {
		fprintf(stderr, "rollcall-scan: the server refused the code "
		    "(HTTP %ld): %s\n", status, json_string_value(
		    json_object_get(reply, "message")) ? json_string_value(
		    json_object_get(reply, "message")) : "no reason given");
		rc = SCAN_EXIT_FAILURE;
		goto out;
	}
	if (setup_write(token_file, token, err, sizeof(err)) == -1) {
		fprintf(stderr, "rollcall-scan: %s\n", err);
		rc = SCAN_EXIT_FAILURE;
		goto out;
	}
	printf("set up: %s token \"%s\" for %s, in %s\n", json_string_value(
	    json_object_get(reply, "role")), json_string_value(
	    json_object_get(reply, "name")), q.url, token_file);
	rc = SCAN_EXIT_OK;
out:
	if (reply != NULL && json_object_get(reply, "token") != NULL) {
		const char *t = json_string_value(json_object_get(reply,
		    "token"));

		sodium_memzero((char *)t, strlen(t));
	}
	sodium_memzero(&q, sizeof(q));
	json_decref(reply);
	json_decref(body);
	client_free(c);
	camera_free(cam);
	decoder_free(d);
	free(grey);
	return rc;
}

/* Read a token written by setup_run; NULL (err set) when unreadable. */
char *
setup_read_token(const char *path, char *err, size_t errsz)
{
	char		 buf[SETUP_MAXTOKEN + 2];
	struct stat	 st;
	size_t		 n;
	FILE		*f;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
		fprintf(stderr, "rollcall-scan: warning: %s is readable by "
		    "others (chmod 600 it)\n", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0 || n > SETUP_MAXTOKEN) {
		snprintf(err, errsz, "%s: not a token", path);
		sodium_memzero(buf, sizeof(buf));
		return NULL;
	}
	return strdup(buf);
}
