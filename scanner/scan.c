/*
 * One scan, from a decoded code to a verdict on the screen: ask the
 * server (door check-in or sponsor lead), or decide offline from the
 * bundle, journal it, show it. Also the keyboard-wedge input and the
 * upload of a journal (sync).
 *
 * Every code is untrusted bytes from a camera or a keyboard. It goes to
 * the server only as a JSON string (so it must be text: no control
 * characters, valid UTF-8, at most SCAN_MAXCODE bytes); anything else is
 * refused here as INVALID without a request.
 *
 * A request that gets no answer is retried once with the very same body,
 * nonce included: if the first attempt did reach the server and only the
 * answer was lost, the server recognises the nonce and answers with the
 * first verdict instead of a second ALREADY IN. When the server stays
 * silent and a bundle was given, the scan is decided offline at once and
 * the scanner keeps deciding offline for SCAN_OFFLINE_SECS before asking
 * the server again, so a queue is not held up by a timeout per ticket.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "scanner.h"

/* POST with one retry (same body) when the server gives no answer. */
static enum client_err
scan_post(struct client *c, const char *path, const json_t *body,
    long *status, json_t **reply, char *err, size_t errsz)
{
	enum client_err	 rc;
	int		 try;

	for (try = 0; ; try++) {
		rc = client_post(c, path, body, status, reply, err, errsz);
		if (rc == CLIENT_OK && (*status == 502 || *status == 503 ||
		    *status == 504)) {
			snprintf(err, errsz, "the server answered HTTP %ld%s%s",
			    *status, json_is_string(json_object_get(*reply,
			    "error")) ? ": " : "", json_is_string(
			    json_object_get(*reply, "error")) ?
			    json_string_value(json_object_get(*reply, "error")) :
			    "");
			json_decref(*reply);
			*reply = NULL;
			rc = CLIENT_UNREACHABLE;
		}
		if (rc != CLIENT_UNREACHABLE || try == 1)
			return rc;
		usleep(SCAN_RETRY_MS * 1000);
	}
}

/* A random nonce, hex. */
static void
scan_nonce(char *buf, size_t sz)
{
	unsigned char	 rnd[SCAN_NONCE_BYTES];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(buf, sz, rnd, sizeof(rnd));
}

static json_t	*scan_local(const char *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* A result made here: {result, source, message}. */
static json_t *
scan_local(const char *result, const char *source, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:s, s:s}", "result", result, "source",
	    source, "message", msg);
}

/* The server's error answer as a result: {result: error, status, ...}. */
static json_t *
scan_refused(long status, const json_t *reply, const char *path)
{
	const char	*code, *msg;

	code = json_string_value(json_object_get(reply, "error"));
	msg = json_string_value(json_object_get(reply, "message"));
	if (status == 404 && code != NULL && strcmp(code, "not_found") == 0 &&
	    strcmp(path, "/api/v1/leads") == 0)
		msg = "this server does not take sponsor leads yet";
	return json_pack("{s:s, s:s, s:I, s:s*, s:s}", "result", "error",
	    "source", "online", "status", (json_int_t)status, "error", code,
	    "message", msg != NULL ? msg : status == 401 ?
	    "the server refused the token" : "the server refused the request");
}

/*
 * Record a decided scan in the journal (when there is one) before it is
 * shown, and remember an admission. Returns 0 or -1.
 */
static int
scan_journal(struct scan *s, const json_t *r, const char *code,
    const char *nonce, const char *at, char *err, size_t errsz)
{
	json_t		*line;
	const char	*result, *jti, *first, *fgate;
	char		 jbuf[32];
	int		 rc;

	if (s->journal == NULL)
		return 0;
	result = json_string_value(json_object_get(r, "result"));
	jti = json_string_value(json_object_get(r, "jti"));
	if (jti == NULL && code != NULL && s->bundle != NULL &&
	    offline_jti(s->bundle, code, jbuf, sizeof(jbuf)) == 0)
		jti = jbuf;
	first = json_string_value(json_object_get(r, "first_checked_in_at"));
	fgate = json_string_value(json_object_get(r, "gate"));
	line = json_pack("{s:s, s:s, s:O, s:s, s:s*, s:s*, s:O*, s:O*, "
	    "s:s*, s:s*, s:s*}",
	    "at", at, "nonce", nonce, "source", json_object_get(r, "source"),
	    "result", result != NULL ? result : "error", "token", code,
	    "jti", jti, "event_id", json_object_get(r, "event_id"),
	    "registration_id", json_object_get(r, "registration_id"),
	    "gate", s->gate, "first_at", first, "first_gate", fgate);
	if (line == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	rc = journal_append(s->journal, line, err, errsz);
	json_decref(line);
	if (rc == 0 && result != NULL && jti != NULL &&
	    (strcmp(result, "admitted") == 0 ||
	    strcmp(result, "already_checked_in") == 0))
		journal_mark(s->journal, jti, first, fgate);
	return rc;
}

/* Decide offline and journal the scan; an unrecordable scan is refused. */
static json_t *
scan_offline(struct scan *s, const char *code, const char *nonce,
    const char *at)
{
	json_t	*r;
	char	 err[512];

	if ((r = offline_decide(s->bundle, s->journal, code, s->gate, at)) ==
	    NULL)
		return scan_local("error", "offline", "out of memory");
	if (scan_journal(s, r, code, nonce, at, err, sizeof(err)) == -1) {
		json_decref(r);
		return scan_local("error", "offline", "%s: NOT admitted, the "
		    "scan could not be recorded", err);
	}
	return r;
}

/* Ask the server; fall back to offline when it is silent and we can. */
static json_t *
scan_online(struct scan *s, const char *code, const char *nonce,
    const char *at)
{
	const char	*path;
	json_t		*body, *reply = NULL, *r;
	long		 status;
	char		 err[512];
	enum client_err	 rc;

	if (s->mode == MODE_LEAD) {
		path = "/api/v1/leads";
		body = json_pack("{s:s}", "token", code);
	} else {
		path = "/api/v1/checkins";
		body = json_pack("{s:s, s:s, s:s*}", "token", code, "nonce",
		    nonce, "gate", s->gate);
		if (body != NULL && s->event_id > 0)
			json_object_set_new(body, "event_id",
			    json_integer(s->event_id));
	}
	if (body == NULL)
		return scan_local("error", "online", "out of memory");
	rc = scan_post(s->client, path, body, &status, &reply, err,
	    sizeof(err));
	json_decref(body);
	if (rc == CLIENT_UNREACHABLE) {
		if (s->bundle != NULL && s->mode == MODE_DOOR) {
			s->server_retry = time(NULL) + SCAN_OFFLINE_SECS;
			if (!s->told_offline)
				fprintf(stderr, "rollcall-scan: cannot reach "
				    "the server at %s (%s): deciding offline "
				    "from the bundle; scans are kept in %s for "
				    "`rollcall-scan sync`\n",
				    client_url(s->client), err,
				    s->journal->path);
			s->told_offline = 1;
			return scan_offline(s, code, nonce, at);
		}
		if (s->mode == MODE_LEAD)
			return scan_local("unreachable", "online", "cannot "
			    "reach the server at %s (%s): lead NOT recorded; "
			    "check the network and scan again",
			    client_url(s->client), err);
		return scan_local("unreachable", "online", "cannot reach the "
		    "server at %s (%s): NOT checked; check the network, or "
		    "scan offline with --bundle FILE --journal FILE",
		    client_url(s->client), err);
	}
	if (rc == CLIENT_FAILED)
		return scan_local("error", "online", "%s", err);
	if (s->told_offline) {
		fprintf(stderr, "rollcall-scan: the server answers again\n");
		s->told_offline = 0;
	}
	if ((status != 200 && status != 201) || reply == NULL ||
	    !json_is_string(json_object_get(reply, "result")) ||
	    verdict_from_str(json_string_value(json_object_get(reply,
	    "result"))) == VERDICT_ERROR) {
		r = scan_refused(status, reply, path);
		json_decref(reply);
		return r;
	}
	r = reply;
	json_object_set_new(r, "source", json_string("online"));
	if (scan_journal(s, r, code, nonce, at, err, sizeof(err)) == -1)
		fprintf(stderr, "rollcall-scan: %s\n", err);
	return r;
}

/* True when the code can go to the server as a JSON string. */
static int
scan_text_ok(const char *data, size_t len)
{
	json_t	*j;
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)data[i] < 0x20 || data[i] == 0x7f)
			return 0;
	if ((j = json_stringn(data, len)) == NULL)
		return 0;	/* not UTF-8 */
	json_decref(j);
	return 1;
}

/* Count, print and forget one result. */
static void
scan_show(struct scan *s, json_t *r)
{
	if (r == NULL)
		r = scan_local("error", "local", "out of memory");
	if (r == NULL) {
		s->exit = exit_worse(s->exit, SCAN_EXIT_FAILURE);
		return;
	}
	if (s->input != NULL)
		json_object_set_new(r, "input", json_string(s->input));
	s->exit = exit_worse(s->exit, verdict_exit(verdict_from_str(
	    json_string_value(json_object_get(r, "result")))));
	output_result(&s->out, r);
	json_decref(r);
}

/*
 * After an online admission, print the attendee's badge (--print,
 * --print-dir). A badge that cannot be printed does not undo the
 * admission: the verdict stands, and the failure is said on stderr and
 * in the JSON ("badge_error").
 */
static void
scan_print(struct scan *s, json_t *r)
{
	const char	*v, *src;
	char		 err[512];

	if (r == NULL || (s->print.queue == NULL && s->print.dir == NULL))
		return;
	v = json_string_value(json_object_get(r, "result"));
	src = json_string_value(json_object_get(r, "source"));
	if (v == NULL || strcmp(v, "admitted") != 0)
		return;
	if (src == NULL || strcmp(src, "online") != 0) {
		fprintf(stderr, "rollcall-scan: badge NOT printed: decided "
		    "offline; print it from the console later\n");
		json_object_set_new(r, "badge_error", json_string("offline"));
		return;
	}
	if (print_badge(&s->print, s->client, r, err, sizeof(err)) == -1) {
		fprintf(stderr, "rollcall-scan: badge NOT printed: %s\n", err);
		json_object_set_new(r, "badge_error", json_string(err));
	} else
		json_object_set_new(r, "badge", json_string(s->print.queue ?
		    "printed" : "written"));
}

/*
 * One decoded code (a code_fn): decide it and show the verdict. Empty
 * codes are ignored; codes that are not text are INVALID without asking.
 */
void
scan_code(void *arg, const char *data, size_t len)
{
	struct scan	*s = arg;
	char		 code[SCAN_MAXCODE + 1], nonce[2 * SCAN_NONCE_BYTES + 1];
	char		 at[48], err[256];
	json_t		*r;

	if (len == 0)
		return;
	time_now(at, sizeof(at));
	scan_nonce(nonce, sizeof(nonce));
	if (len > SCAN_MAXCODE || !scan_text_ok(data, len)) {
		r = scan_local("invalid", "local", len > SCAN_MAXCODE ?
		    "a code over %d bytes: not a Rollcall ticket" :
		    "a code that is not text: not a Rollcall ticket",
		    SCAN_MAXCODE);
		if (r != NULL && scan_journal(s, r, NULL, nonce, at, err,
		    sizeof(err)) == -1)
			fprintf(stderr, "rollcall-scan: %s\n", err);
		scan_show(s, r);
		return;
	}
	memcpy(code, data, len);
	code[len] = '\0';
	if (s->offline || (s->bundle != NULL && time(NULL) < s->server_retry))
		r = scan_offline(s, code, nonce, at);
	else
		r = scan_online(s, code, nonce, at);
	scan_print(s, r);
	scan_show(s, r);
}

/* An image without a readable code, or one that could not be read. */
void
scan_no_code(struct scan *s, const char *input, const char *why)
{
	json_t	*r;

	r = json_pack("{s:s, s:s, s:s}", "result", "no_code", "source",
	    "local", "message", why);
	s->input = input;
	scan_show(s, r);
}

/* Hand a finished stdin line to scan_code, spaces around it trimmed. */
static void
stdin_line(struct scan *s, char *line, size_t n, int over)
{
	size_t	 b = 0;

	if (over) {
		scan_show(s, scan_local("invalid", "local", "a line over %d "
		    "bytes: not a Rollcall ticket", SCAN_MAXCODE));
			return;
	}
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	while (b < n && (line[b] == ' ' || line[b] == '\t'))
		b++;
	line[n] = '\0';
	scan_code(s, line + b, n - b);
}

/*
 * Keyboard-wedge input: a hardware scanner types each code and Enter.
 * One code a line; CR and LF both end a line (so CRLF works), blank lines
 * are skipped, a line over SCAN_MAXCODE bytes is refused whole (its rest
 * is read and dropped, never taken for a second code). Returns 0 at the
 * end of input or when *stop is set, -1 on a read error.
 */
int
stdin_run(struct scan *s, FILE *f, volatile sig_atomic_t *stop)
{
	char	 line[SCAN_MAXCODE + 1];
	size_t	 n = 0;
	int	 c, over = 0;

	while (!*stop) {
		if ((c = getc(f)) == EOF) {
			if (ferror(f) && errno == EINTR && !*stop) {
				clearerr(f);
				continue;
			}
			break;
		}
		if (c == '\n' || c == '\r') {
			if (n > 0 || over)
				stdin_line(s, line, n, over);
			n = 0;
			over = 0;
		} else if (over)
			continue;
		else if (n == SCAN_MAXCODE)
			over = 1;
		else
			line[n++] = (char)c;
	}
	if (!*stop && (n > 0 || over))
		stdin_line(s, line, n, over);
	return ferror(f) && !*stop ? -1 : 0;
}

/* The journal lines sync uploads: offline admissions. */
static int
sync_collect(void *arg, json_t *o)
{
	json_t		*scans = arg, *scan;
	const char	*source, *result, *token, *at, *nonce, *gate;

	source = json_string_value(json_object_get(o, "source"));
	result = json_string_value(json_object_get(o, "result"));
	token = json_string_value(json_object_get(o, "token"));
	at = json_string_value(json_object_get(o, "at"));
	nonce = json_string_value(json_object_get(o, "nonce"));
	gate = json_string_value(json_object_get(o, "gate"));
	if (source == NULL || strcmp(source, "offline") != 0 ||
	    result == NULL || strcmp(result, "admitted") != 0 ||
	    token == NULL || at == NULL || nonce == NULL ||
	    time_parse(at, NULL) == -1)
		return 0;
	scan = json_pack("{s:s, s:s, s:s, s:s*}", "token", token,
	    "scanned_at", at, "nonce", nonce, "gate", gate);
	return scan == NULL ? -1 : json_array_append_new(scans, scan);
}

/*
 * Print one conflict the server reports, for the organizers: a ticket
 * this device admitted after another door did, or before (the earliest
 * scan wins, so then the other admission is the one superseded).
 */
static void
sync_conflict(const struct output *o, const json_t *res)
{
	char		 hhmm[16], before[16], gate[SCAN_MAXGATE * 4 + 1];
	const char	*v = json_string_value(json_object_get(res, "result"));
	const json_t	*displaced = json_object_get(res,
			    "displaced_checked_in_at");
	long long	 reg = json_integer_value(json_object_get(res,
			    "registration_id"));

	time_hhmm(json_string_value(json_object_get(res,
	    "first_checked_in_at")), hhmm, sizeof(hhmm));
	output_sanitize(gate, sizeof(gate), json_string_value(
	    json_object_get(res, "gate")));
	printf("%sCONFLICT%s  registration %lld: ", o->color ? "\033[1;33m" :
	    "", o->color ? "\033[0m" : "", reg);
	if (v != NULL && strcmp(v, "admitted") == 0 && json_is_string(
	    displaced)) {
		time_hhmm(json_string_value(displaced), before, sizeof(before));
		printf("admitted here at %s, before the admission at %s "
		    "elsewhere\n", hhmm, before);
	} else
		printf("first admitted at %s%s%s\n", hhmm, gate[0] ?
		    " at gate " : "", gate);
}

/*
 * Upload the offline admissions of a journal to POST
 * /api/v1/checkins/batch, SCAN_BATCH at a time, and print the server's
 * reconciliation. The server knows each scan by its nonce, so uploading
 * a journal again only reports duplicates. Returns an exit code.
 */
int
sync_upload(struct client *c, const char *path, const char *device,
    const struct output *o, char *err, size_t errsz)
{
	json_t		*scans = NULL, *chunk = NULL, *body = NULL, *reply = NULL;
	json_t		*results = NULL, *res, *sum = NULL;
	json_int_t	 admitted = 0, dups = 0, conflicts = 0, refused = 0;
	size_t		 lines, torn, i, k, total;
	long		 status;
	enum client_err	 rc;
	const char	*v;
	char		*text;
	int		 ex = SCAN_EXIT_FAILURE;

	if ((scans = json_array()) == NULL || (results = json_array()) == NULL)
		goto oom;
	if (journal_read(path, sync_collect, scans, &lines, &torn, err,
	    errsz) == -1) {
		ex = SCAN_EXIT_USAGE;
		goto out;
	}
	if (torn > 0)
		fprintf(stderr, "rollcall-scan: %s: ignoring a torn last line "
		    "(%zu bytes)\n", path, torn);
	total = json_array_size(scans);
	for (i = 0; i < total; i += SCAN_BATCH) {
		if ((chunk = json_array()) == NULL)
			goto oom;
		for (k = i; k < total && k < i + SCAN_BATCH; k++)
			json_array_append(chunk, json_array_get(scans, k));
		body = json_pack("{s:s, s:o}", "device", device, "scans", chunk);
		chunk = NULL;
		if (body == NULL)
			goto oom;
		rc = scan_post(c, "/api/v1/checkins/batch", body, &status,
		    &reply, err, errsz);
		json_decref(body);
		body = NULL;
		if (rc == CLIENT_UNREACHABLE) {
			ex = SCAN_EXIT_UNREACHABLE;
			snprintf(err + strlen(err), errsz - strlen(err),
			    " (cannot reach %s; nothing lost: sync again "
			    "later)", client_url(c));
			goto out;
		}
		if (rc != CLIENT_OK)
			goto out;
		if (status != 200 || !json_is_integer(json_object_get(reply,
		    "admitted"))) {
			v = json_string_value(json_object_get(reply, "message"));
			snprintf(err, errsz, "the server refused the upload "
			    "(HTTP %ld%s%s)", status, v ? ": " : "", v ? v : "");
			goto out;
		}
		admitted += json_integer_value(json_object_get(reply,
		    "admitted"));
		dups += json_integer_value(json_object_get(reply,
		    "duplicates"));
		conflicts += json_integer_value(json_object_get(reply,
		    "conflicts"));
		refused += json_integer_value(json_object_get(reply,
		    "refused"));
		json_array_extend(results, json_object_get(reply, "results"));
		json_decref(reply);
		reply = NULL;
	}
	if (o->json) {
		sum = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:O}",
		    "journal", path, "uploaded", (json_int_t)total,
		    "admitted", admitted, "duplicates", dups,
		    "conflicts", conflicts, "refused", refused,
		    "results", results);
		if (sum == NULL || (text = json_dumps(sum, JSON_COMPACT)) ==
		    NULL)
			goto oom;
		printf("%s\n", text);
		free(text);
	} else {
		printf("synced %s: %zu offline admission%s uploaded: %lld "
		    "admitted, %lld duplicate%s (already uploaded), %lld "
		    "conflict%s, %lld refused\n", path, total,
		    total == 1 ? "" : "s", (long long)admitted, (long long)dups,
		    dups == 1 ? "" : "s", (long long)conflicts,
		    conflicts == 1 ? "" : "s", (long long)refused);
		json_array_foreach(results, i, res) {
			v = json_string_value(json_object_get(res, "result"));
			if (v != NULL && (strcmp(v, "conflict") == 0 ||
			    (strcmp(v, "admitted") == 0 && json_is_string(
			    json_object_get(res, "displaced_checked_in_at")))))
				sync_conflict(o, res);
		}
	}
	fflush(stdout);
	ex = conflicts > 0 || refused > 0 ? SCAN_EXIT_REFUSED : SCAN_EXIT_OK;
	goto out;
oom:
	snprintf(err, errsz, "out of memory");
out:
	json_decref(sum);
	json_decref(reply);
	json_decref(body);
	json_decref(chunk);
	json_decref(results);
	json_decref(scans);
	return ex;
}
