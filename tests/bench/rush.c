/*
 * rush-client: the opening rush of `make bench`. CONNS keep-alive
 * connections are opened first; then all at once they POST N
 * registrations (each with an address of its own) to one event, each
 * connection sending its next as soon as its last is answered. One
 * thread and epoll, so that the client neither takes the CPU the server
 * needs nor adds its own scheduling to the latencies (the Python client
 * it replaces did both at 200 connections).
 *
 *   rush-client HOST PORT EVENT N CONNS
 *
 * Prints one line: secs attempts answered s5xx confirmed waitlisted p50_ms
 * p99_ms max_ms reconnects statuses (status:count, ...) results
 * (status:error-or-status:count, ...). Exits non-zero only when it
 * cannot run.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BUFMAX	65536
#define NKEYS	64

struct conn {
	int	 fd;
	int	 req;		/* the request waiting for its answer, or -1 */
	double	 sent;
	size_t	 len;
	char	 buf[BUFMAX];
};

struct tally {
	char	 key[64];
	int	 n;
};

static struct sockaddr_in	 addr;
static char			**reqs;
static size_t			*reqlen;
static int			 nreq, next_req, answered, s5xx, reconnects;
static double			*lat;
static int			 nlat;
static struct tally		 statuses[NKEYS], results[NKEYS];

static double
now(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
count(struct tally *t, const char *key)
{
	int	 i;

	for (i = 0; i < NKEYS && t[i].key[0] != '\0'; i++)
		if (strcmp(t[i].key, key) == 0)
			break;
	if (i == NKEYS)
		return;
	if (t[i].key[0] == '\0')
		snprintf(t[i].key, sizeof(t[i].key), "%s", key);
	t[i].n++;
}

static int
cmp_tally(const void *a, const void *b)
{
	return strcmp(((const struct tally *)a)->key,
	    ((const struct tally *)b)->key);
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A blocking connect, then non-blocking; -1 on failure. */
static int
dial(void)
{
	int	 fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Send the next request on c, if any is left; 0, or -1 when it failed. */
static int
send_next(struct conn *c)
{
	ssize_t	 w;
	size_t	 off = 0;

	c->req = -1;
	c->len = 0;
	if (next_req >= nreq)
		return 0;
	c->req = next_req++;
	c->sent = now();
	while (off < reqlen[c->req]) {
		w = write(c->fd, reqs[c->req] + off, reqlen[c->req] - off);
		if (w > 0)
			off += (size_t)w;
		else if (w == -1 && errno == EAGAIN)
			continue;	/* a few hundred bytes: rare, brief */
		else
			return -1;
	}
	return 0;
}

/* "key":"value" of a compact JSON body into out; "-" when absent. */
static void
json_str(const char *body, const char *key, char *out, size_t outsz)
{
	char		 pat[64];
	const char	*p, *q;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = strstr(body, pat)) == NULL ||
	    (q = strchr(p + strlen(pat), '"')) == NULL) {
		snprintf(out, outsz, "-");
		return;
	}
	p += strlen(pat);
	snprintf(out, outsz, "%.*s", (int)(q - p), p);
}

/*
 * One answer complete in c->buf? 1 (and it is counted), 0 when more is
 * needed, -1 when it makes no sense. *close is set when the server will
 * close the connection after it.
 */
static int
answer(struct conn *c, int *closing)
{
	char		*end, *cl, *body, key[96], res[48];
	size_t		 head, blen;
	int		 status;

	c->buf[c->len] = '\0';
	if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
		return c->len >= BUFMAX - 1 ? -1 : 0;
	head = (size_t)(end - c->buf) + 4;
	if (sscanf(c->buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	blen = 0;
	for (cl = c->buf; (cl = strchr(cl, '\n')) != NULL && cl < end; cl++)
		if (strncasecmp(cl + 1, "Content-Length:", 15) == 0)
			blen = strtoul(cl + 16, NULL, 10);
	*closing = 0;
	for (cl = c->buf; (cl = strchr(cl, '\n')) != NULL && cl < end; cl++)
		if (strncasecmp(cl + 1, "Connection: close", 17) == 0)
			*closing = 1;
	if (c->len < head + blen)
		return 0;
	body = c->buf + head;
	body[blen] = '\0';
	lat[nlat++] = now() - c->sent;
	answered++;
	if (status >= 500)
		s5xx++;
	snprintf(key, sizeof(key), "%d", status);
	count(statuses, key);
	json_str(body, status == 201 ? "status" : "error", res, sizeof(res));
	snprintf(key, sizeof(key), "%d:%s", status, res);
	count(results, key);
	return 1;
}

/* The connection broke with c->req unanswered: count it, dial again. */
static int
redial(int ep, struct conn *c, const char *why)
{
	struct epoll_event	 ev;
	char			 key[64];

	if (c->req >= 0) {
		snprintf(key, sizeof(key), "no_answer:%s", why);
		count(statuses, key);
	}
	close(c->fd);
	reconnects++;
	if ((c->fd = dial()) == -1)
		return -1;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		return -1;
	return send_next(c);
}

static void
print_tally(const char *name, struct tally *t)
{
	int	 i, n;

	for (n = 0; n < NKEYS && t[n].key[0] != '\0'; n++)
		;
	qsort(t, (size_t)n, sizeof(*t), cmp_tally);
	printf(" %s=", name);
	for (i = 0; i < n; i++)
		printf("%s%s:%d", i ? "," : "", t[i].key, t[i].n);
}

static int
find(struct tally *t, const char *key)
{
	int	 i;

	for (i = 0; i < NKEYS && t[i].key[0] != '\0'; i++)
		if (strcmp(t[i].key, key) == 0)
			return t[i].n;
	return 0;
}

int
main(int argc, char **argv)
{
	struct epoll_event	 ev, evs[256];
	struct rlimit		 rl;
	struct conn		*conns, *c;
	char			 body[512];
	double			 t0, secs, last;
	ssize_t			 r;
	int			 ep, i, k, n, nconn, closing, done;

	if (argc != 6) {
		fprintf(stderr, "usage: rush-client HOST PORT EVENT N CONNS\n");
		return 2;
	}
	nreq = atoi(argv[4]);
	nconn = atoi(argv[5]);
	if (nreq < 1 || nconn < 1) {
		fprintf(stderr, "rush-client: N and CONNS must be positive\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)nconn + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "rush-client: %s: not an IPv4 address\n",
		    argv[1]);
		return 2;
	}
	reqs = calloc((size_t)nreq, sizeof(*reqs));
	reqlen = calloc((size_t)nreq, sizeof(*reqlen));
	lat = calloc((size_t)nreq, sizeof(*lat));
	conns = calloc((size_t)nconn, sizeof(*conns));
	if (reqs == NULL || reqlen == NULL || lat == NULL || conns == NULL)
		return 1;
	for (i = 0; i < nreq; i++) {
		n = snprintf(body, sizeof(body), "{\"name\": \"Bench Attendee\", "
		    "\"email\": \"rush%lx-%d@bench.example.com\", \"company\": "
		    "\"Bench Co\", \"job_title\": \"Engineer\", \"identity\": "
		    "\"professional\", \"consent\": {\"sponsors\": true, "
		    "\"fields\": [\"email\", \"job_title\"]}}",
		    (long)time(NULL), i);
		if (asprintf(&reqs[i], "POST /api/v1/events/%s/registrations "
		    "HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json"
		    "\r\nContent-Length: %d\r\n\r\n%s", argv[3], argv[1],
		    argv[2], n, body) == -1)
			return 1;
		reqlen[i] = strlen(reqs[i]);
	}
	if ((ep = epoll_create1(0)) == -1)
		return 1;
	/* Every client is connected and waiting before the rush opens. */
	for (i = 0; i < nconn; i++) {
		if ((conns[i].fd = dial()) == -1) {
			fprintf(stderr, "rush-client: connect: %s\n",
			    strerror(errno));
			return 1;
		}
		conns[i].req = -1;
		ev.events = EPOLLIN;
		ev.data.ptr = &conns[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) == -1)
			return 1;
	}
	t0 = now();
	for (i = 0; i < nconn; i++)
		if (send_next(&conns[i]) == -1 &&
		    redial(ep, &conns[i], "write") == -1)
			return 1;
	last = now();
	for (done = 0; !done; ) {
		n = epoll_wait(ep, evs, 256, 1000);
		if (n == -1 && errno != EINTR)
			return 1;
		if (n > 0)
			last = now();
		else if (now() - last > 60) {
			count(statuses, "no_answer:timeout");
			break;
		}
		for (k = 0; k < n; k++) {
			c = evs[k].data.ptr;
			r = read(c->fd, c->buf + c->len, BUFMAX - 1 - c->len);
			if (r == -1 && errno == EAGAIN)
				continue;
			if (r <= 0) {
				if (redial(ep, c, r == 0 ? "closed" : "read") ==
				    -1)
					return 1;
				continue;
			}
			c->len += (size_t)r;
			switch (answer(c, &closing)) {
			case 0:
				break;
			case 1:
				if (closing) {
					c->req = -1;
					if (redial(ep, c, "closed") == -1)
						return 1;
				} else if (send_next(c) == -1 &&
				    redial(ep, c, "write") == -1)
					return 1;
				break;
			default:
				if (redial(ep, c, "garbled") == -1)
					return 1;
			}
		}
		for (done = 1, i = 0; i < nconn; i++)
			if (conns[i].req >= 0)
				done = 0;
	}
	secs = now() - t0;
	qsort(lat, (size_t)nlat, sizeof(*lat), cmp_double);
#define PCT(p)	(nlat ? lat[(int)(nlat * (p)) < nlat ? (int)(nlat * (p)) : \
	    nlat - 1] * 1000 : 0)
	printf("secs=%.3f attempts=%d answered=%d s5xx=%d confirmed=%d "
	    "waitlisted=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f reconnects=%d",
	    secs, nreq, answered, s5xx, find(results, "201:confirmed"),
	    find(results, "201:waitlisted"), PCT(0.50), PCT(0.99),
	    nlat ? lat[nlat - 1] * 1000 : 0, reconnects);
	print_tally("statuses", statuses);
	print_tally("results", results);
	printf("\n");
	return 0;
}
