/*
 * rollcall-scan: the door scanner. Reads ticket codes from pictures, a
 * camera or a keyboard-wedge scanner and checks them in (or captures
 * sponsor leads) on a Rollcall server, or decides offline from a bundle.
 *
 *   rollcall-scan [--door [--gate NAME] | --lead] INPUT CONNECTION [--json]
 *   rollcall-scan sync --server URL --token TOKEN --journal FILE
 *
 * See usage() below and docs/scanner.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "scanner.h"

enum input {
	INPUT_NONE,
	INPUT_IMAGE,
	INPUT_CAMERA,
	INPUT_STDIN,
	INPUT_FRAMES		/* hidden: raw Y800 frames, for tests */
};

struct options {
	enum scan_mode	 mode;
	int		 mode_set;
	enum input	 input;
	const char	**images;
	int		 nimages;
	const char	*camera;
	const char	*frames;
	unsigned	 frame_w, frame_h;
	const char	*gate;
	const char	*server;
	const char	*token;
	int64_t		 event_id;
	int		 offline;
	const char	*bundle;
	const char	*journal;
	const char	*device;
	int		 json;
	long		 timeout;
	const char	*print;		/* a CUPS queue */
	const char	*print_dir;
	const char	*setup;		/* --setup IMAGE */
	const char	*setup_camera;	/* --setup-camera DEV */
	const char	*token_file;
	char		*token_read;	/* read from --token-file */
};

static volatile sig_atomic_t	 stop_flag;

/* The --help text, exit codes included. */
static void
usage_text(FILE *f)
{
	fputs(
"usage: rollcall-scan [--door [--gate NAME] | --lead] INPUT CONNECTION [--json]\n"
"       rollcall-scan sync --server URL --token TOKEN --journal FILE\n"
"                          [--device ID] [--json]\n"
"       rollcall-scan --setup IMAGE | --setup-camera /dev/videoN\n"
"                     --token-file FILE\n"
"\n"
"Checks Rollcall tickets in at a door (--door, the default) or captures\n"
"sponsor leads (--lead), one line per scan: ADMIT (green), ALREADY IN since\n"
"HH:MM at gate G (yellow), INVALID / CANCELLED / WRONG EVENT / NOT CONFIRMED\n"
"(red, with a bell). Colours only on a terminal; NO_COLOR turns them off.\n"
"\n"
"INPUT, one of:\n"
"  --image FILE...      PNG or JPEG pictures (several tickets per picture)\n"
"  --camera /dev/videoN a camera; each ticket counts once while in view\n"
"  --stdin              a keyboard-wedge scanner: one code per line\n"
"\n"
"CONNECTION:\n"
"  --server URL         the Rollcall server, e.g. https://rollcall.example.org\n"
"  --token TOKEN        a door (or sponsor) token; default $ROLLCALL_TOKEN\n"
"  --token-file FILE    read the token from FILE (what --setup wrote)\n"
"  --event ID           the event this door checks in (door mode)\n"
"  --gate NAME          this door's name, shown as \"at gate NAME\"\n"
"  --timeout SECONDS    for each request (default 5); one retry follows\n"
"  --bundle FILE        an offline bundle: when the server cannot be reached,\n"
"                       decide offline from it (needs --journal)\n"
"  --journal FILE       record every scan here (kept across restarts)\n"
"  --offline            never ask the server: decide from --bundle alone,\n"
"                       recording every scan in --journal\n"
"  --device ID          this scanner's name in uploads (default: host name)\n"
"  --json               one JSON object per scan instead of a line\n"
"  --print PRINTER      door: print each admitted attendee's badge on this\n"
"                       CUPS queue (lp -d PRINTER)\n"
"  --print-dir DIR      door: write each admitted attendee's badge PDF here\n"
"\n"
"--setup reads the console's device set-up QR (a picture, or the camera\n"
"with --setup-camera), claims its one-time code and writes the device's\n"
"token to --token-file (mode 0600): no token is typed.\n"
"\n"
"sync uploads a journal's offline admissions; the server reconciles them\n"
"(earliest scan wins) and reports admitted, duplicates and conflicts.\n"
"Syncing the same journal again is harmless.\n"
"\n"
"Exit status (the worst outcome of the run):\n"
"  0  every scan admitted (lead mode: recorded); sync: no conflicts\n"
"  1  some scan refused: already in, invalid, cancelled, wrong event, not\n"
"     confirmed; sync: conflicts or refusals reported\n"
"  2  usage error, or an unreadable bundle or journal\n"
"  3  the server could not be reached (and no bundle to fall back on)\n"
"  4  a picture could not be read or held no QR code\n"
"  5  the server refused the request (token, scope), or a journal write\n"
"     failed\n"
"\n"
"Guide for door volunteers: docs/scanner.md\n", f);
}

/* A bad option: the help text on stderr, exit 2. */
static void
usage(void)
{
	usage_text(stderr);
	exit(SCAN_EXIT_USAGE);
}

static void	die_usage(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* A usage error: say what is wrong, point at --help, exit 2. */
static void
die_usage(const char *fmt, ...)
{
	va_list	 ap;

	fputs("rollcall-scan: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see rollcall-scan --help)\n", stderr);
	exit(SCAN_EXIT_USAGE);
}

/* SIGINT, SIGTERM: finish the scan in hand, then stop. */
static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* SIGINT/SIGTERM end the run between scans; no SA_RESTART, so a
 * blocking read returns. */
static void
signals_init(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* A positive event id, or a usage error. */
static int64_t
parse_event(const char *s)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v <= 0 || *s == '+' ||
	    *s == '0')
		die_usage("--event: not an event id: %s", s);
	return (int64_t)v;
}

/* "WxH", each side 1..SCAN_MAXDIM. */
static void
parse_size(const char *s, unsigned *w, unsigned *h)
{
	char		*end;
	unsigned long	 a, b;

	errno = 0;
	a = strtoul(s, &end, 10);
	if (end == s || *end != 'x' || errno != 0)
		die_usage("--frame-size: not WxH: %s", s);
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || a == 0 || b == 0 ||
	    a > SCAN_MAXDIM || b > SCAN_MAXDIM)
		die_usage("--frame-size: not WxH up to %d: %s", SCAN_MAXDIM, s);
	*w = (unsigned)a;
	*h = (unsigned)b;
}

/* A gate or device name: printable UTF-8 text of at most max bytes. */
static void
check_name(const char *opt, const char *s, size_t max)
{
	json_t	*j;
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			die_usage("%s: no control characters, please", opt);
	if (i == 0 || i > max)
		die_usage("%s: 1 to %zu bytes", opt, max);
	if ((j = json_string(s)) == NULL)
		die_usage("%s: not UTF-8 text", opt);
	json_decref(j);
}

/*
 * A staff token as the server issues it: a JWT, so only [A-Za-z0-9._-]
 * (a pasted newline or space would otherwise end up in the header).
 */
static void
check_token(const char *t)
{
	size_t	 i;

	if (t == NULL || *t == '\0')
		die_usage("a token is needed: --token TOKEN or $ROLLCALL_TOKEN");
	for (i = 0; t[i] != '\0'; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' &&
		    t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') ||
		    t[i] == '.' || t[i] == '-' || t[i] == '_'))
			die_usage("the token has a character a token never has "
			    "(at position %zu): copy it again", i + 1);
	if (i > AUTH_MAXTOKEN)
		die_usage("the token is over %d characters", AUTH_MAXTOKEN);
}

enum {
	OPT_DOOR = 256, OPT_LEAD, OPT_GATE, OPT_SERVER, OPT_TOKEN, OPT_EVENT,
	OPT_OFFLINE, OPT_BUNDLE, OPT_JOURNAL, OPT_JSON, OPT_IMAGE, OPT_CAMERA,
	OPT_STDIN, OPT_TIMEOUT, OPT_DEVICE, OPT_FRAMES, OPT_FRAME_SIZE,
	OPT_PRINT, OPT_PRINT_DIR, OPT_SETUP, OPT_SETUP_CAMERA,
	OPT_TOKEN_FILE
};

static const struct option longopts[] = {
	{ "door", no_argument, NULL, OPT_DOOR },
	{ "lead", no_argument, NULL, OPT_LEAD },
	{ "gate", required_argument, NULL, OPT_GATE },
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "event", required_argument, NULL, OPT_EVENT },
	{ "offline", no_argument, NULL, OPT_OFFLINE },
	{ "bundle", required_argument, NULL, OPT_BUNDLE },
	{ "journal", required_argument, NULL, OPT_JOURNAL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "image", no_argument, NULL, OPT_IMAGE },
	{ "camera", required_argument, NULL, OPT_CAMERA },
	{ "stdin", no_argument, NULL, OPT_STDIN },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "frames", required_argument, NULL, OPT_FRAMES },
	{ "frame-size", required_argument, NULL, OPT_FRAME_SIZE },
	{ "print", required_argument, NULL, OPT_PRINT },
	{ "print-dir", required_argument, NULL, OPT_PRINT_DIR },
	{ "setup", required_argument, NULL, OPT_SETUP },
	{ "setup-camera", required_argument, NULL, OPT_SETUP_CAMERA },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Remember the input; a second, different one is a usage error. */
static void
set_input(struct options *o, enum input in)
{
	if (o->input != INPUT_NONE && o->input != in)
		die_usage("choose one input: --image, --camera or --stdin");
	o->input = in;
}

/* Parse argv (after an optional "sync") into o; usage errors exit. */
static void
parse_args(int argc, char **argv, struct options *o)
{
	int	 ch;
	long	 t;
	char	*end;

	/* A leading '-': words that are not options come back in order
	 * as 1, so "--image a.png b.png" collects both files. */
	while ((ch = getopt_long(argc, argv, "-h", longopts, NULL)) != -1) {
		switch (ch) {
		case 1:
			if (o->input != INPUT_IMAGE)
				die_usage("unexpected argument: %s", optarg);
			o->images[o->nimages++] = optarg;
			break;
		case OPT_DOOR:
		case OPT_LEAD:
			if (o->mode_set && o->mode != (ch == OPT_DOOR ?
			    MODE_DOOR : MODE_LEAD))
				die_usage("choose --door or --lead, not both");
			o->mode = ch == OPT_DOOR ? MODE_DOOR : MODE_LEAD;
			o->mode_set = 1;
			break;
		case OPT_GATE:
			check_name("--gate", optarg, SCAN_MAXGATE);
			o->gate = optarg;
			break;
		case OPT_SERVER:
			if (strncmp(optarg, "http://", 7) != 0 &&
			    strncmp(optarg, "https://", 8) != 0)
				die_usage("--server: an http:// or https:// URL, "
				    "not %s", optarg);
			o->server = optarg;
			break;
		case OPT_TOKEN:
			o->token = optarg;
			break;
		case OPT_SETUP:
			o->setup = optarg;
			break;
		case OPT_SETUP_CAMERA:
			o->setup_camera = optarg;
			break;
		case OPT_TOKEN_FILE:
			o->token_file = optarg;
			break;
		case OPT_EVENT:
			o->event_id = parse_event(optarg);
			break;
		case OPT_OFFLINE:
			o->offline = 1;
			break;
		case OPT_BUNDLE:
			o->bundle = optarg;
			break;
		case OPT_JOURNAL:
			o->journal = optarg;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_IMAGE:
			set_input(o, INPUT_IMAGE);
			break;
		case OPT_CAMERA:
			set_input(o, INPUT_CAMERA);
			o->camera = optarg;
			break;
		case OPT_STDIN:
			set_input(o, INPUT_STDIN);
			break;
		case OPT_FRAMES:
			set_input(o, INPUT_FRAMES);
			o->frames = optarg;
			break;
		case OPT_FRAME_SIZE:
			parse_size(optarg, &o->frame_w, &o->frame_h);
			break;
		case OPT_TIMEOUT:
			errno = 0;
			t = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || errno != 0 ||
			    t < 1 || t > SCAN_MAXTIMEOUT)
				die_usage("--timeout: seconds from 1 to %d",
				    SCAN_MAXTIMEOUT);
			o->timeout = t;
			break;
		case OPT_PRINT:
			check_name("--print", optarg, SCAN_MAXQUEUE);
			if (optarg[0] == '-')
				die_usage("--print: a printer name, not %s",
				    optarg);
			o->print = optarg;
			break;
		case OPT_PRINT_DIR:
			if (strlen(optarg) >= SCAN_MAXPATH - 64)
				die_usage("--print-dir: path too long");
			o->print_dir = optarg;
			break;
		case OPT_DEVICE:
			check_name("--device", optarg, SCAN_MAXDEVICE);
			o->device = optarg;
			break;
		case 'h':
			usage_text(stdout);
			exit(SCAN_EXIT_OK);
		default:
			usage();
		}
	}
	if (optind < argc)
		die_usage("unexpected argument: %s", argv[optind]);
	if (o->setup != NULL || o->setup_camera != NULL) {
		if (o->token_file == NULL || (o->setup != NULL &&
		    o->setup_camera != NULL))
			die_usage("--setup IMAGE or --setup-camera DEV, with "
			    "--token-file FILE");
		return;
	}
	if (o->token == NULL && o->token_file != NULL) {
		char	 err[512];

		if ((o->token_read = setup_read_token(o->token_file, err,
		    sizeof(err))) == NULL)
			die_usage("--token-file: %s", err);
		o->token = o->token_read;
	}
	if (o->token == NULL)
		o->token = getenv("ROLLCALL_TOKEN");
}

/* This scanner's name for uploads: --device, else the host name. */
static const char *
device_name(const char *dev, char *buf, size_t sz)
{
	if (dev != NULL)
		return dev;
	if (gethostname(buf, sz) == -1 || buf[0] == '\0')
		snprintf(buf, sz, "rollcall-scan");
	buf[sz - 1] = '\0';
	return buf;
}

/* rollcall-scan sync: upload a journal. */
static int
cmd_sync(struct options *o)
{
	struct output	 out;
	struct client	*c;
	char		 host[SCAN_MAXDEVICE + 1], err[512];
	int		 ex;

	if (o->input != INPUT_NONE || o->offline || o->bundle != NULL ||
	    o->mode_set || o->gate != NULL)
		die_usage("sync takes --server, --token, --journal, --device, "
		    "--timeout and --json only");
	if (o->server == NULL || o->token == NULL || o->journal == NULL)
		die_usage("sync needs --server URL, --token TOKEN (or "
		    "$ROLLCALL_TOKEN) and --journal FILE");
	check_token(o->token);
	output_init(&out, o->json, isatty(STDOUT_FILENO));
	if ((c = client_new(o->server, o->token, o->timeout)) == NULL) {
		fprintf(stderr, "rollcall-scan: cannot set up HTTP\n");
		return SCAN_EXIT_FAILURE;
	}
	ex = sync_upload(c, o->journal, device_name(o->device, host,
	    sizeof(host)), &out, err, sizeof(err));
	if (ex >= SCAN_EXIT_USAGE)
		fprintf(stderr, "rollcall-scan: sync %s: %s\n", o->journal, err);
	client_free(c);
	return ex;
}

/* Check the combination of options for scanning; usage errors exit. */
static void
check_scan_options(struct options *o)
{
	if (o->input == INPUT_NONE)
		die_usage("say where codes come from: --image FILE..., "
		    "--camera /dev/videoN or --stdin");
	if (o->input == INPUT_IMAGE && o->nimages == 0)
		die_usage("--image needs at least one file");
	if (o->input == INPUT_FRAMES && o->frame_w == 0)
		die_usage("--frames needs --frame-size WxH");
	if (o->device != NULL)
		die_usage("--device is for sync");
	if (o->mode == MODE_LEAD) {
		if (o->offline || o->bundle != NULL)
			die_usage("leads need the server: no --offline or "
			    "--bundle with --lead");
		if (o->gate != NULL)
			die_usage("--gate is for --door");
	}
	if (o->print != NULL || o->print_dir != NULL) {
		if (o->mode != MODE_DOOR || o->offline)
			die_usage("--print and --print-dir are for --door "
			    "online: the badge comes from the server");
		if (o->print != NULL && o->print_dir != NULL)
			die_usage("choose --print or --print-dir, not both");
	}
	if (o->offline) {
		if (o->bundle == NULL || o->journal == NULL)
			die_usage("--offline needs --bundle FILE and --journal "
			    "FILE");
		return;
	}
	if (o->bundle != NULL && o->journal == NULL)
		die_usage("--bundle needs --journal FILE, to record the scans "
		    "decided offline");
	if (o->server == NULL)
		die_usage("say which server: --server URL (or --offline)");
	check_token(o->token);
	if (o->mode == MODE_DOOR && o->event_id == 0 && o->bundle == NULL)
		die_usage("say which event this door checks: --event ID");
}

/* A line on stderr about the bundle and journal in use. */
static void
tell_offline_state(const struct bundle *b, const struct journal *j)
{
	char	 hhmm[16];
	time_t	 t, now = time(NULL);

	if (b != NULL) {
		fprintf(stderr, "rollcall-scan: bundle for event %lld, %d "
		    "key%s, %zu revoked ticket%s", (long long)b->event_id,
		    b->nkeys, b->nkeys == 1 ? "" : "s", b->nrevoked,
		    b->nrevoked == 1 ? "" : "s");
		if (b->generated_at[0] != '\0' &&
		    time_parse(b->generated_at, &t) == 0) {
			time_hhmm(b->generated_at, hhmm, sizeof(hhmm));
			fprintf(stderr, ", made %s", hhmm);
			if (now - t > 24 * 3600)
				fprintf(stderr, " %lld days ago: cancellations "
				    "since then are not in it",
				    (long long)((now - t) / 86400));
		}
		fputc('\n', stderr);
	}
	if (j == NULL)
		return;
	if (j->torn > 0)
		fprintf(stderr, "rollcall-scan: journal %s: dropped a torn "
		    "last line (%zu bytes, never shown as a verdict)\n",
		    j->path, j->torn);
	if (j->damaged > 0)
		fprintf(stderr, "rollcall-scan: journal %s: skipped %zu "
		    "damaged line%s\n", j->path, j->damaged,
		    j->damaged == 1 ? "" : "s");
	if (j->nseen > 0)
		fprintf(stderr, "rollcall-scan: journal %s: %zu ticket%s "
		    "already in\n", j->path, j->nseen,
		    j->nseen == 1 ? "" : "s");
}

/* Scan every picture named on the command line. */
static void
run_images(struct scan *s, struct decoder *d, struct options *o)
{
	unsigned char	*grey;
	unsigned	 w, h;
	char		 err[256];
	int		 i, n;

	for (i = 0; i < o->nimages && !stop_flag; i++) {
		s->input = o->images[i];
		if (image_load(o->images[i], &grey, &w, &h, err,
		    sizeof(err)) == -1) {
			scan_no_code(s, o->images[i], err);
			continue;
		}
		n = decode_grey(d, grey, w, h, DECODE_THOROUGH, scan_code, s);
		free(grey);
		if (n <= 0)
			scan_no_code(s, o->images[i], n < 0 ? "cannot scan "
			    "this picture" : "no QR code found; try again");
	}
}

/* rollcall-scan [--door|--lead] ...: scan until the input ends. */
static int
cmd_scan(struct options *o)
{
	struct scan	 s;
	struct decoder	*d = NULL;
	struct camera	*cam = NULL;
	char		 err[512];
	int		 rc;

	check_scan_options(o);
	memset(&s, 0, sizeof(s));
	s.mode = o->mode;
	s.offline = o->offline;
	s.gate = o->gate;
	s.event_id = o->event_id;
	s.print.queue = o->print;
	s.print.dir = o->print_dir;
	output_init(&s.out, o->json, isatty(STDOUT_FILENO));
	s.exit = SCAN_EXIT_OK;
	if (o->bundle != NULL) {
		if ((s.bundle = bundle_load(o->bundle, err, sizeof(err))) ==
		    NULL) {
			fprintf(stderr, "rollcall-scan: bundle %s: %s\n",
			    o->bundle, err);
			rc = SCAN_EXIT_USAGE;
			goto out;
		}
		if (s.event_id == 0)
			s.event_id = s.bundle->event_id;
		else if (s.event_id != s.bundle->event_id) {
			fprintf(stderr, "rollcall-scan: the bundle %s is for "
			    "event %lld, not event %lld\n", o->bundle,
			    (long long)s.bundle->event_id,
			    (long long)s.event_id);
			rc = SCAN_EXIT_USAGE;
			goto out;
		}
	}
	if (o->journal != NULL && (s.journal = journal_open(o->journal, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "rollcall-scan: journal %s: %s\n", o->journal,
		    err);
		rc = SCAN_EXIT_USAGE;
		goto out;
	}
	tell_offline_state(s.bundle, s.journal);
	if (!o->offline && (s.client = client_new(o->server, o->token,
	    o->timeout)) == NULL) {
		fprintf(stderr, "rollcall-scan: cannot set up HTTP\n");
		rc = SCAN_EXIT_FAILURE;
		goto out;
	}
	if (o->input != INPUT_STDIN && (d = decoder_new()) == NULL) {
		fprintf(stderr, "rollcall-scan: cannot set up zbar\n");
		rc = SCAN_EXIT_FAILURE;
		goto out;
	}
	rc = SCAN_EXIT_OK;
	switch (o->input) {
	case INPUT_IMAGE:
		run_images(&s, d, o);
		break;
	case INPUT_STDIN:
		s.input = NULL;
		if (isatty(STDIN_FILENO))
			fprintf(stderr, "rollcall-scan: ready: scan a ticket "
			    "(Ctrl-C to stop)\n");
		if (stdin_run(&s, stdin, &stop_flag) == -1) {
			fprintf(stderr, "rollcall-scan: reading stdin: %s\n",
			    strerror(errno));
			rc = SCAN_EXIT_FAILURE;
		}
		break;
	case INPUT_CAMERA:
	case INPUT_FRAMES:
		s.input = NULL;
		if ((cam = camera_new(d, scan_code, &s)) == NULL) {
			rc = SCAN_EXIT_FAILURE;
			break;
		}
		if ((o->input == INPUT_CAMERA ? camera_run(cam, o->camera,
		    &stop_flag, err, sizeof(err)) : frames_run(cam, o->frames,
		    o->frame_w, o->frame_h, err, sizeof(err))) == -1) {
			fprintf(stderr, "rollcall-scan: %s\n", err);
			rc = SCAN_EXIT_FAILURE;
		}
		break;
	case INPUT_NONE:
		break;
	}
	rc = exit_worse(s.exit, rc);
out:
	camera_free(cam);
	decoder_free(d);
	client_free(s.client);
	journal_close(s.journal);
	bundle_free(s.bundle);
	return rc;
}

/* rollcall-scan [sync] OPTIONS: see usage_text(). */
int
main(int argc, char **argv)
{
	struct options	 o;
	const char	*imgs[argc > 0 ? argc : 1];
	int		 rc, sync = 0;

	memset(&o, 0, sizeof(o));
	o.images = imgs;
	o.timeout = SCAN_TIMEOUT;
	o.mode = MODE_DOOR;
	if (argc > 1 && strcmp(argv[1], "sync") == 0) {
		sync = 1;
		argv++;
		argc--;
	}
	parse_args(argc, argv, &o);
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "rollcall-scan: cannot initialise libraries\n");
		return SCAN_EXIT_FAILURE;
	}
	signals_init();
	if (o.setup != NULL || o.setup_camera != NULL)
		rc = setup_run(o.setup, o.setup_camera, o.token_file,
		    o.timeout, &stop_flag);
	else
		rc = sync ? cmd_sync(&o) : cmd_scan(&o);
	if (o.token_read != NULL) {
		sodium_memzero(o.token_read, strlen(o.token_read));
		free(o.token_read);
	}
	curl_global_cleanup();
	return rc;
}
