/*
 * rollcall-scan: the door scanner's one internal header.
 * Prototypes are grouped by the file that defines them.
 *
 * Ticket verification is not copied here: the scanner links the code it
 * shares with the daemon (server/common/, declared in common.h) and calls
 * the same ticket_verify() with the public keys of an offline bundle.
 */
#ifndef ROLLCALL_SCANNER_H
#define ROLLCALL_SCANNER_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "common.h"

/*
 * Limits on untrusted input, enforced while reading it.
 *
 * SCAN_MAXCODE stays below the server's CHECKIN_MAXTOKEN, so whatever the
 * scanner sends the server reads. Both lie well above a real ticket
 * (TICKET_MAXLEN); a code over SCAN_MAXCODE is refused here as INVALID.
 */
#define SCAN_MAXCODE		4096	/* bytes of one code or stdin line */
#if SCAN_MAXCODE > CHECKIN_MAXTOKEN
#error "the server would refuse a code the scanner sends"
#endif
#define SCAN_MAXDIM		8000	/* image width or height, pixels */
#define SCAN_MAXREPLY		(1024 * 1024)	/* bytes of a server answer */
#define SCAN_MAXBADGE		(16 * 1024 * 1024) /* bytes of a badge PDF */
#define SCAN_MAXPATH		4096	/* bytes of a badge file path */
#define SCAN_MAXBUNDLE		(16 * 1024 * 1024)
#define SCAN_MAXJOURNAL		(64 * 1024 * 1024)
#define SCAN_MAXKEYS		16	/* public keys in a bundle */
#define SCAN_MAXPEM		4096	/* bytes of a bundle key's PEM */
#define SCAN_MAXJTI		64	/* bytes of a revoked ticket id */
#define SCAN_MAXGATE		CHECKIN_MAXGATE
#define SCAN_MAXDEVICE		CHECKIN_MAXDEVICE
#define SCAN_MAXQUEUE		127	/* bytes of a CUPS queue name */
#define SCAN_TIMEOUT		5	/* seconds for one request, default */
#define SCAN_MAXTIMEOUT		300	/* --timeout: at most this */
#define SCAN_RETRY_MS		300	/* pause before the one retry */
#define SCAN_OFFLINE_SECS	30	/* after a failure, decide offline this long */
#define SCAN_REPEAT_MS		3000	/* camera: the same code again is ignored */
#define SCAN_FRAME_MS		100	/* --frames: 10 frames a second */
#define SCAN_RECENT		8	/* camera: codes remembered for that */
#define SCAN_BATCH		(CHECKIN_MAXBATCH / 2)	/* scans in one upload */
#define SCAN_NONCE_BYTES	16	/* sent as hex: within CHECKIN_MAXNONCE */
#if 2 * SCAN_NONCE_BYTES > CHECKIN_MAXNONCE
#error "the server would refuse the scanner's nonces"
#endif

/* Exit codes, also listed in --help. The worst outcome of a run wins. */
enum scan_exit {
	SCAN_EXIT_OK = 0,		/* every scan admitted (or recorded) */
	SCAN_EXIT_REFUSED = 1,		/* some scan refused or already in */
	SCAN_EXIT_USAGE = 2,		/* bad options, unreadable bundle */
	SCAN_EXIT_UNREACHABLE = 3,	/* the server could not be reached */
	SCAN_EXIT_NOCODE = 4,		/* an image held no readable code */
	SCAN_EXIT_FAILURE = 5,		/* the server refused us, disk error */
};

/* A scan's outcome: the server's verdicts (SPEC §4), lead answers, ours. */
enum verdict {
	VERDICT_ADMITTED,
	VERDICT_ALREADY,		/* already_checked_in */
	VERDICT_INVALID,
	VERDICT_CANCELLED,
	VERDICT_NOT_CONFIRMED,
	VERDICT_WRONG_EVENT,
	VERDICT_CAPTURED,		/* lead */
	VERDICT_NO_CONSENT,		/* lead */
	VERDICT_ALREADY_CAPTURED,	/* lead */
	VERDICT_NO_CODE,		/* an image without a readable code */
	VERDICT_UNREACHABLE,		/* no server and no bundle */
	VERDICT_ERROR,			/* server refused the request, disk */
	VERDICT__MAX
};

enum scan_mode {
	MODE_DOOR,
	MODE_LEAD
};

/* Called with each code found; data is NUL-terminated at len. */
typedef void (*code_fn)(void *, const char *, size_t);

/* decode.c */
struct decoder;
struct decoder *decoder_new(void);
void	 decoder_free(struct decoder *);
int	 decode_grey(struct decoder *, const unsigned char *, unsigned,
	    unsigned, int, code_fn, void *);
#define DECODE_THOROUGH	0x01	/* still pictures: retry harder passes */

/* image.c */
int	 image_load(const char *, unsigned char **, unsigned *, unsigned *,
	    char *, size_t);

/* camera.c */
struct camera;
struct camera *camera_new(struct decoder *, code_fn, void *);
void	 camera_free(struct camera *);
int	 camera_frame(struct camera *, const unsigned char *, unsigned,
	    unsigned, int64_t);
int	 camera_run(struct camera *, const char *, volatile sig_atomic_t *,
	    char *, size_t);
int	 frames_run(struct camera *, const char *, unsigned, unsigned,
	    char *, size_t);

/* client.c */
enum client_err {
	CLIENT_OK,		/* an HTTP answer, any status */
	CLIENT_UNREACHABLE,	/* no answer: connect, timeout, reset */
	CLIENT_FAILED		/* a local failure or a garbled answer */
};
struct client;
struct client *client_new(const char *, const char *, long);
void	 client_free(struct client *);
enum client_err client_post(struct client *, const char *, const json_t *,
	    long *, json_t **, char *, size_t);
const char *client_url(const struct client *);
int	 client_get_file(struct client *, const char *, char **, size_t *,
	    char *, size_t);

/* setup.c: --setup from the console's provisioning QR */
#define SETUP_MAXURL		2048	/* bytes of the QR's server URL */
#define SETUP_CODELEN		43	/* the one-time code, base64url */
#define SETUP_MAXTOKEN		AUTH_MAXTOKEN	/* bytes of a token file */
int	 setup_run(const char *, const char *, const char *, long,
	    volatile sig_atomic_t *);
char	*setup_read_token(const char *, char *, size_t);

/* print.c */
struct printer {
	const char	*queue;		/* --print: a CUPS queue, for lp -d */
	const char	*dir;		/* --print-dir: write the PDFs here */
};
int	 print_badge(const struct printer *, struct client *, const json_t *,
	    char *, size_t);

/* journal.c */
struct seen {
	char		 jti[32];
	char		 at[48];		/* first admission, RFC 3339 */
	char		 gate[SCAN_MAXGATE + 1];
};
struct journal {
	char		*path;
	int		 fd;
	struct seen	*seen;		/* tickets known to be in */
	size_t		 nseen, seencap;
	size_t		 lines;
	size_t		 torn;		/* bytes of a torn last line dropped */
	size_t		 damaged;	/* unreadable lines skipped */
};
typedef int (*journal_fn)(void *, json_t *);
struct journal *journal_open(const char *, char *, size_t);
void	 journal_close(struct journal *);
int	 journal_append(struct journal *, const json_t *, char *, size_t);
const struct seen *journal_seen(const struct journal *, const char *);
int	 journal_mark(struct journal *, const char *, const char *,
	    const char *);
int	 journal_read(const char *, journal_fn, void *, size_t *, size_t *,
	    char *, size_t);

/* offline.c */
struct bundle {
	int64_t		 event_id;
	struct ticket_key keys[SCAN_MAXKEYS];
	int		 nkeys;
	char		**revoked;	/* sorted */
	size_t		 nrevoked;
	char		 generated_at[48];
};
struct bundle *bundle_load(const char *, char *, size_t);
void	 bundle_free(struct bundle *);
json_t	*offline_decide(const struct bundle *, struct journal *,
	    const char *, const char *, const char *);
int	 offline_jti(const struct bundle *, const char *, char *, size_t);

/* output.c */
struct output {
	int		 json;		/* one JSON object per scan */
	int		 color;		/* ANSI colours and a bell */
};
void	 output_init(struct output *, int, int);
void	 output_result(const struct output *, const json_t *);
void	 output_sanitize(char *, size_t, const char *);
enum verdict verdict_from_str(const char *);
const char *verdict_str(enum verdict);
int	 verdict_exit(enum verdict);
int	 exit_worse(int, int);
int	 time_parse(const char *, time_t *);
void	 time_now(char *, size_t);
void	 time_hhmm(const char *, char *, size_t);

/* scan.c */
struct scan {
	enum scan_mode	 mode;
	int		 offline;	/* --offline: never ask the server */
	int64_t		 event_id;
	const char	*gate;
	const char	*input;		/* "stdin", a file name, a device */
	struct client	*client;
	struct bundle	*bundle;
	struct journal	*journal;
	struct output	 out;
	int		 exit;		/* worst exit code so far */
	time_t		 server_retry;	/* deciding offline until then */
	struct printer	 print;		/* badges of admitted scans */
	int		 told_offline;
};
void	 scan_code(void *, const char *, size_t);
void	 scan_no_code(struct scan *, const char *, const char *);
int	 stdin_run(struct scan *, FILE *, volatile sig_atomic_t *);
int	 sync_upload(struct client *, const char *, const char *,
	    const struct output *, char *, size_t);

#endif
