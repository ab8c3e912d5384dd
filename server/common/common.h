/*
 * Code both programs link (the daemon and rollcall-scan): logging, ticket
 * signing and verification, small helpers, and the limits on input that
 * the two must agree on. Nothing here knows about HTTP or the database.
 */
#ifndef ROLLCALL_COMMON_H
#define ROLLCALL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * Limits the door scanner and the server share: what the scanner sends
 * must fit what the server accepts.
 */
#define AUTH_MAXTOKEN		4096	/* bytes of a staff token */
#define CHECKIN_MAXTOKEN	16384	/* bytes of a scanned code sent */
#define CHECKIN_MAXGATE		64	/* bytes of a gate name */
#define CHECKIN_MAXNONCE	64	/* bytes of a scan's nonce */
#define CHECKIN_MAXDEVICE	64	/* bytes of a device name */
#define CHECKIN_MAXRESULT	32	/* bytes of an offline verdict */
#define CHECKIN_MAXBATCH	1000	/* scans in one offline upload */

/* log.c */
void	 log_init(int, int);
void	 log_warn(const char *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_warnx(const char *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_info(const char *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_debug(const char *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_escape(char *, size_t, const char *, size_t);
#define log_warn(...)	log_warn(__func__, __VA_ARGS__)
#define log_warnx(...)	log_warnx(__func__, __VA_ARGS__)
#define log_info(...)	log_info(__func__, __VA_ARGS__)
#define log_debug(...)	log_debug(__func__, __VA_ARGS__)

/* ticket.c */
#define TICKET_ISSUER		"rc"	/* short: every byte costs QR modules */
#define TICKET_MAXLEN		512
#define TICKET_MAXKID		16	/* bytes of a key id, with the NUL */
#define TICKET_MAXJTI		32	/* bytes of a jti, with the NUL */
#define TICKET_MAXVERSION	10	/* QR version at error correction M */
struct ticket_key {
	char		 kid[TICKET_MAXKID];
	char		*pub_pem;
	char		*priv_pem;	/* NULL when this key only verifies */
	void		*pub;		/* parsed public key (EC_KEY), or NULL */
	void		*priv;		/* parsed private key (EC_KEY), or NULL */
};
struct ticket_claims {
	int64_t		 event_id;
	int64_t		 reg_id;
	char		 jti[TICKET_MAXJTI];
	char		 kid[TICKET_MAXKID];
	long		 iat;
};
/* One ticket to sign: what its claims say. */
struct ticket_in {
	int64_t		 event_id;
	int64_t		 reg_id;
	const char	*jti;
	long		 iat;
};
int	 ticket_keygen(char **, char **);
int	 ticket_key_prepare(struct ticket_key *);
void	 ticket_key_release(struct ticket_key *);
char	*ticket_sign(const struct ticket_key *, int64_t, int64_t, const char *,
	    long);
size_t	 ticket_sign_many(const struct ticket_key *, const struct ticket_in *,
	    size_t, char **);
int	 ticket_verify(const char *, const struct ticket_key *, int,
	    struct ticket_claims *);
int	 ticket_png(const char *, unsigned char **, size_t *);
char	*ticket_svg(const char *);
int	 ticket_qr_version(const char *);
int	 ticket_peek_kid(const char *, char *, size_t);

/* util.c */
int	 util_urlsafe(const char *, int);
void	 util_local_time(json_t *, const char *, const char *);

#endif
