/*
 * Unit tests for the door scanner (scanner/): the camera path's frame
 * handler fed raw grey frames, the offline verdict with the daemon's own
 * ticket signing and verification, the journal (torn lines, restarts,
 * one writer), time parsing, and what reaches a terminal.
 *
 * Frames are drawn here: a ticket signed with ticket_sign() is encoded
 * with libqrencode exactly as the server renders it (8-bit, level M) and
 * painted into a grey buffer, sometimes twice, inverted or over noise.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <qrencode.h>
#include <sodium.h>

#include "scanner.h"
#include "unit.h"

#define EVENT		4242
#define FW		640
#define FH		480

static struct ticket_key	key;	/* kid "7", signs and verifies */
static char			*tokens[3];
static char			 tmpdir[64];

/* What the frame handler reported, in order. */
static char	*got[16];
static int	 ngot;

static void
collect(void *arg, const char *code, size_t len)
{
	(void)arg;
	assert_true(ngot < 16);
	assert_int_equal(strlen(code), len);
	got[ngot] = strdup(code);
	assert_non_null(got[ngot]);
	ngot++;
}

static void
forget(void)
{
	while (ngot > 0)
		free(got[--ngot]);
}

/* A w x h frame of one grey level. */
static unsigned char *
frame_new(unsigned w, unsigned h, unsigned char level)
{
	unsigned char	*f = malloc((size_t)w * h);

	assert_non_null(f);
	memset(f, level, (size_t)w * h);
	return f;
}

/* Paint tok's QR code (with its quiet zone) at x, y, scale px/module. */
static void
paint(unsigned char *f, unsigned w, unsigned h, const char *tok, unsigned x,
    unsigned y, unsigned scale, int inverted)
{
	QRcode		*qr;
	unsigned	 n, mx, my, px, py, q = 4;
	int		 dark;

	assert_non_null(qr = QRcode_encodeString8bit(tok, 0, QR_ECLEVEL_M));
	n = (unsigned)qr->width + 2 * q;
	assert_true(x + n * scale <= w && y + n * scale <= h);
	for (my = 0; my < n; my++)
		for (mx = 0; mx < n; mx++) {
			dark = mx >= q && my >= q && mx < n - q && my < n - q &&
			    (qr->data[(my - q) * (unsigned)qr->width + mx - q] &
			    1);
			if (inverted)
				dark = !dark;
			for (py = 0; py < scale; py++)
				for (px = 0; px < scale; px++)
					f[(size_t)(y + my * scale + py) * w +
					    x + mx * scale + px] = dark ? 20 : 235;
		}
	QRcode_free(qr);
}

static int
setup(void **state)
{
	char	*priv, *pub;
	int	 i;

	(void)state;
	assert_true(sodium_init() >= 0);
	assert_int_equal(ticket_keygen(&priv, &pub), 0);
	snprintf(key.kid, sizeof(key.kid), "7");
	key.priv_pem = priv;
	key.pub_pem = pub;
	for (i = 0; i < 3; i++) {
		char	 jti[16];

		snprintf(jti, sizeof(jti), "a%04d", i);
		tokens[i] = ticket_sign(&key, i == 2 ? EVENT + 1 : EVENT,
		    1000 + i, jti, 1790000000L);
		assert_non_null(tokens[i]);
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rc-scan-unit-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[128];
	int	 i;

	(void)state;
	for (i = 0; i < 3; i++)
		free(tokens[i]);
	free(key.pub_pem);
	free(key.priv_pem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- */
/* The camera path                                                    */

static void
frame_with_a_ticket_yields_exactly_its_code(void **state)
{
	struct decoder	*d = decoder_new();
	struct camera	*c = camera_new(d, collect, NULL);
	unsigned char	*f = frame_new(FW, FH, 200);

	(void)state;
	paint(f, FW, FH, tokens[0], 100, 40, 5, 0);
	assert_int_equal(camera_frame(c, f, FW, FH, 0), 1);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], tokens[0]);
	forget();
	free(f);
	camera_free(c);
	decoder_free(d);
}

static void
a_ticket_in_sight_counts_once_until_it_has_been_away(void **state)
{
	struct decoder	*d = decoder_new();
	struct camera	*c = camera_new(d, collect, NULL);
	unsigned char	*f = frame_new(FW, FH, 200);
	unsigned char	*blank = frame_new(FW, FH, 200);
	int64_t		 t = 0;
	int		 i;

	(void)state;
	paint(f, FW, FH, tokens[0], 120, 60, 5, 0);
	/* Held up for a second at 10 frames a second: one scan. */
	for (i = 0; i < 10; i++, t += 100)
		camera_frame(c, f, FW, FH, t);
	assert_int_equal(ngot, 1);
	/* Away for less than SCAN_REPEAT_MS and back: still the same showing. */
	camera_frame(c, blank, FW, FH, t);
	t += SCAN_REPEAT_MS / 2;
	assert_int_equal(camera_frame(c, f, FW, FH, t), 0);
	/* Away for longer: a new scan (the door will say ALREADY IN). */
	t += SCAN_REPEAT_MS + 1;
	assert_int_equal(camera_frame(c, blank, FW, FH, t), 0);
	assert_int_equal(camera_frame(c, f, FW, FH, t), 1);
	assert_int_equal(ngot, 2);
	assert_string_equal(got[1], tokens[0]);
	forget();
	free(f);
	free(blank);
	camera_free(c);
	decoder_free(d);
}

static void
two_tickets_in_one_frame_are_two_scans(void **state)
{
	struct decoder	*d = decoder_new();
	struct camera	*c = camera_new(d, collect, NULL);
	unsigned char	*f = frame_new(1280, 720, 190);

	(void)state;
	paint(f, 1280, 720, tokens[0], 20, 40, 5, 0);
	paint(f, 1280, 720, tokens[1], 660, 200, 5, 0);
	assert_int_equal(camera_frame(c, f, 1280, 720, 0), 2);
	assert_int_equal(ngot, 2);
	assert_true((strcmp(got[0], tokens[0]) == 0 &&
	    strcmp(got[1], tokens[1]) == 0) ||
	    (strcmp(got[0], tokens[1]) == 0 &&
	    strcmp(got[1], tokens[0]) == 0));
	forget();
	free(f);
	camera_free(c);
	decoder_free(d);
}

static void
inverted_and_noisy_frames_still_decode(void **state)
{
	struct decoder	*d = decoder_new();
	struct camera	*c = camera_new(d, collect, NULL);
	unsigned char	*f = frame_new(FW, FH, 40);
	unsigned char	 rnd[FW];
	size_t		 i;

	(void)state;
	paint(f, FW, FH, tokens[1], 150, 70, 5, 1);	/* a dark-mode phone */
	assert_int_equal(camera_frame(c, f, FW, FH, 0), 1);
	assert_string_equal(got[0], tokens[1]);
	forget();
	free(f);
	f = frame_new(FW, FH, 200);
	paint(f, FW, FH, tokens[0], 150, 70, 5, 0);
	for (i = 0; i < (size_t)FW * FH; i++) {
		if (i % FW == 0)
			randombytes_buf(rnd, sizeof(rnd));
		f[i] = (unsigned char)(f[i] > 128 ? f[i] - (rnd[i % FW] % 50) :
		    f[i] + (rnd[i % FW] % 50));
	}
	assert_int_equal(camera_frame(c, f, FW, FH, 10000), 1);
	assert_string_equal(got[0], tokens[0]);
	forget();
	free(f);
	camera_free(c);
	decoder_free(d);
}

static void
empty_noise_and_bad_frames_yield_nothing(void **state)
{
	struct decoder	*d = decoder_new();
	struct camera	*c = camera_new(d, collect, NULL);
	unsigned char	*f = frame_new(FW, FH, 0);

	(void)state;
	assert_int_equal(camera_frame(c, f, FW, FH, 0), 0);
	randombytes_buf(f, (size_t)FW * FH);
	assert_int_equal(camera_frame(c, f, FW, FH, 0), 0);
	assert_int_equal(camera_frame(c, f, 0, FH, 0), -1);
	assert_int_equal(camera_frame(c, f, SCAN_MAXDIM + 1, 1, 0), -1);
	assert_int_equal(camera_frame(c, NULL, FW, FH, 0), -1);
	assert_int_equal(ngot, 0);
	free(f);
	camera_free(c);
	decoder_free(d);
}

static void
frames_file_feeds_the_same_handler(void **state)
{
	struct decoder	*d = decoder_new();
	struct camera	*c = camera_new(d, collect, NULL);
	unsigned char	*f = frame_new(FW, FH, 200);
	char		 path[128], err[256];
	FILE		*fp;
	int		 i;

	(void)state;
	paint(f, FW, FH, tokens[0], 100, 40, 5, 0);
	snprintf(path, sizeof(path), "%s/frames", tmpdir);
	assert_non_null(fp = fopen(path, "wb"));
	for (i = 0; i < 3; i++)
		assert_int_equal(fwrite(f, 1, (size_t)FW * FH, fp), FW * FH);
	fclose(fp);
	assert_int_equal(frames_run(c, path, FW, FH, err, sizeof(err)), 0);
	assert_int_equal(ngot, 1);
	forget();
	assert_int_equal(frames_run(c, path, FW, FH - 1, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "partial frame"));
	forget();
	free(f);
	camera_free(c);
	decoder_free(d);
}

/* ---------------------------------------------------------------- */
/* Offline verdicts with the shared ticket code                       */

static struct bundle *
test_bundle(const char *revoked)
{
	struct bundle	*b = calloc(1, sizeof(*b));

	assert_non_null(b);
	b->event_id = EVENT;
	b->keys[0] = key;
	assert_non_null(b->keys[0].pub_pem = strdup(key.pub_pem));
	b->keys[0].priv_pem = NULL;
	b->nkeys = 1;
	if (revoked != NULL) {
		assert_non_null(b->revoked = calloc(1, sizeof(char *)));
		assert_non_null(b->revoked[0] = strdup(revoked));
		b->nrevoked = 1;
	}
	return b;
}

static const char *
result_of(json_t *r)
{
	static char	 buf[64];

	assert_non_null(r);
	snprintf(buf, sizeof(buf), "%s",
	    json_string_value(json_object_get(r, "result")));
	json_decref(r);
	return buf;
}

static void
offline_verdicts_follow_the_bundle_and_the_journal(void **state)
{
	struct bundle	*b = test_bundle("a0001");
	struct journal	*j;
	char		 path[128], err[256], *forged;
	json_t		*r;

	(void)state;
	snprintf(path, sizeof(path), "%s/verdicts.journal", tmpdir);
	assert_non_null(j = journal_open(path, err, sizeof(err)));
	r = offline_decide(b, j, tokens[0], "east", "2026-11-23T10:00:00Z");
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r,
	    "registration_id")), 1000);
	assert_string_equal(result_of(r), "admitted");
	assert_int_equal(journal_mark(j, "a0000", "2026-11-23T10:00:00Z",
	    "east"), 0);
	r = offline_decide(b, j, tokens[0], "west", "2026-11-23T10:05:00Z");
	assert_string_equal(json_string_value(json_object_get(r, "gate")),
	    "east");
	assert_string_equal(result_of(r), "already_checked_in");
	assert_string_equal(result_of(offline_decide(b, j, tokens[1], NULL,
	    "2026-11-23T10:00:00Z")), "cancelled");
	assert_string_equal(result_of(offline_decide(b, j, tokens[2], NULL,
	    "2026-11-23T10:00:00Z")), "wrong_event");
	forged = strdup(tokens[0]);
	forged[strlen(forged) - 2] = forged[strlen(forged) - 2] == 'A' ?
	    'B' : 'A';
	assert_string_equal(result_of(offline_decide(b, j, forged, NULL,
	    "2026-11-23T10:00:00Z")), "invalid");
	assert_string_equal(result_of(offline_decide(b, j, "hello", NULL,
	    "2026-11-23T10:00:00Z")), "invalid");
	free(forged);
	journal_close(j);
	bundle_free(b);
}

/* ---------------------------------------------------------------- */
/* The journal                                                        */

static void
write_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "wb");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *
read_file(const char *path)
{
	static char	 buf[4096];
	FILE		*f = fopen(path, "rb");
	size_t		 n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
journal_drops_a_torn_tail_and_rebuilds_the_state(void **state)
{
	const char	*good = "{\"result\":\"admitted\",\"jti\":\"a0000\","
	    "\"at\":\"2026-11-23T10:00:00Z\",\"gate\":\"east\"}\n"
	    "not json at all\n"
	    "{\"result\":\"invalid\"}\n";
	char		 path[128], err[256], text[512];
	struct journal	*j;
	json_t		*line;

	(void)state;
	snprintf(path, sizeof(path), "%s/torn.journal", tmpdir);
	snprintf(text, sizeof(text), "%s{\"result\":\"admitted\",\"jti\":"
	    "\"a0001\",\"at\"", good);
	write_file(path, text);
	assert_non_null(j = journal_open(path, err, sizeof(err)));
	assert_int_equal(j->lines, 2);
	assert_int_equal(j->damaged, 1);
	assert_true(j->torn > 0);
	assert_non_null(journal_seen(j, "a0000"));
	assert_string_equal(journal_seen(j, "a0000")->gate, "east");
	assert_null(journal_seen(j, "a0001"));
	assert_string_equal(read_file(path), good);
	/* One writer: a second scanner on the same journal is refused. */
	assert_null(journal_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "another rollcall-scan"));
	assert_non_null(line = json_pack("{s:s, s:s, s:s}", "result",
	    "admitted", "jti", "a0002", "at", "2026-11-23T11:00:00Z"));
	assert_int_equal(journal_append(j, line, err, sizeof(err)), 0);
	json_decref(line);
	journal_close(j);
	assert_non_null(j = journal_open(path, err, sizeof(err)));
	assert_int_equal(j->torn, 0);
	assert_non_null(journal_seen(j, "a0002"));
	assert_int_equal(j->nseen, 2);
	journal_close(j);
}

/* ---------------------------------------------------------------- */
/* Times and the terminal                                             */

static void
times_parse_as_rfc3339_and_postgresql_write_them(void **state)
{
	static const struct {
		const char	*s;
		long long	 t;	/* -1: refused */
	} cases[] = {
		{ "2026-11-23T12:08:27Z", 1795435707 },
		{ "2026-11-23T12:08:27.090444+00:00", 1795435707 },
		{ "2026-11-23T20:08:27+08:00", 1795435707 },
		{ "2026-11-23 20:08:27+08", 1795435707 },
		{ "2026-11-23T04:08:27-0800", 1795435707 },
		{ "2026-11-23T12:08Z", 1795435680 },
		{ "2026-11-23T12:08:27", -1 },
		{ "2026-13-23T12:08:27Z", -1 },
		{ "2026-11-23T24:00:00Z", -1 },
		{ "2026-11-23T12:08:27Zjunk", -1 },
		{ "yesterday", -1 },
		{ "", -1 },
	};
	size_t	 i;
	time_t	 t;
	int	 rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = time_parse(cases[i].s, &t);
		if (cases[i].t == -1 ? rc != -1 : rc != 0 ||
		    (long long)t != cases[i].t) {
			print_error("time_parse(%s) = %d, %lld\n",
			    showz(cases[i].s), rc, (long long)t);
			soft_fail(__FILE__, __LINE__);
		}
	}
	assert_int_equal(time_parse(NULL, &t), -1);
	CHECKS_PASSED();
}

static void
terminal_text_loses_control_characters_not_letters(void **state)
{
	char	 out[32];

	(void)state;
	output_sanitize(out, sizeof(out), "Li\033[32mNa\a");
	assert_string_equal(out, "Li?[32mNa?");
	output_sanitize(out, sizeof(out), "A\xc2\x9b" "B");	/* C1 CSI */
	assert_string_equal(out, "A?B");
	output_sanitize(out, sizeof(out), "张伟");
	assert_string_equal(out, "张伟");
	output_sanitize(out, 5, "张伟");	/* no half a character */
	assert_string_equal(out, "张");
	output_sanitize(out, sizeof(out), NULL);
	assert_string_equal(out, "");
}

static void
the_worst_outcome_decides_the_exit_code(void **state)
{
	(void)state;
	assert_int_equal(exit_worse(SCAN_EXIT_OK, SCAN_EXIT_REFUSED),
	    SCAN_EXIT_REFUSED);
	assert_int_equal(exit_worse(SCAN_EXIT_NOCODE, SCAN_EXIT_REFUSED),
	    SCAN_EXIT_NOCODE);
	assert_int_equal(exit_worse(SCAN_EXIT_UNREACHABLE, SCAN_EXIT_NOCODE),
	    SCAN_EXIT_UNREACHABLE);
	assert_int_equal(exit_worse(SCAN_EXIT_UNREACHABLE, SCAN_EXIT_FAILURE),
	    SCAN_EXIT_FAILURE);
	assert_int_equal(verdict_exit(verdict_from_str("admitted")),
	    SCAN_EXIT_OK);
	assert_int_equal(verdict_exit(verdict_from_str("no_consent")),
	    SCAN_EXIT_OK);
	assert_int_equal(verdict_exit(verdict_from_str("already_checked_in")),
	    SCAN_EXIT_REFUSED);
	assert_int_equal(verdict_from_str("something new"), VERDICT_ERROR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(frame_with_a_ticket_yields_exactly_its_code),
		TEST(a_ticket_in_sight_counts_once_until_it_has_been_away),
		TEST(two_tickets_in_one_frame_are_two_scans),
		TEST(inverted_and_noisy_frames_still_decode),
		TEST(empty_noise_and_bad_frames_yield_nothing),
		TEST(frames_file_feeds_the_same_handler),
		TEST(offline_verdicts_follow_the_bundle_and_the_journal),
		TEST(journal_drops_a_torn_tail_and_rebuilds_the_state),
		TEST(times_parse_as_rfc3339_and_postgresql_write_them),
		TEST(terminal_text_loses_control_characters_not_letters),
		TEST(the_worst_outcome_decides_the_exit_code),
	};

	return cmocka_run_group_tests_name("scanner", tests, setup, teardown);
}
