/*
 * Tell systemd how the service is doing: READY=1 once the listener is
 * bound, STOPPING=1 when SIGTERM starts the drain, and WATCHDOG=1 from
 * the event loop at half the interval systemd asks for, so a loop that
 * hangs is restarted.
 *
 * This is the datagram protocol of sd_notify(3), which systemd documents
 * as a stable interface: one AF_UNIX datagram of "KEY=VALUE" lines to
 * the socket named by $NOTIFY_SOCKET ('@' for the abstract namespace).
 * Speaking it ourselves costs forty lines and keeps libsystemd out of
 * the daemon's link; without $NOTIFY_SOCKET every call does nothing.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "server.h"

static struct event	*watchdog_ev;

/* Send one state string; quietly nothing when not run by systemd. */
static int
notify_send(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	size_t			 plen;
	int			 fd, rc = 0;

	if (path == NULL || *path == '\0')
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET is not a socket path; ignored");
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("notify socket");
		return -1;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1) {
		log_warn("notify %s", path);
		rc = -1;
	}
	close(fd);
	return rc;
}

/* Ping systemd's watchdog. */
static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify_send("WATCHDOG=1");
}

/*
 * Report readiness and, when systemd asks for a watchdog (WATCHDOG_USEC,
 * for this process per WATCHDOG_PID), ping it at half the interval.
 */
int
notify_ready(struct event_base *base, const char *listen)
{
	struct timeval	 tv;
	const char	*usec_s, *pid_s;
	char		 state[320];
	int64_t		 usec, pid;

	snprintf(state, sizeof(state), "READY=1\nSTATUS=serving on %s",
	    listen);
	notify_send(state);
	if ((usec_s = getenv("WATCHDOG_USEC")) == NULL)
		return 0;
	if ((pid_s = getenv("WATCHDOG_PID")) != NULL &&
	    (parse_int64(pid_s, 1, INT32_MAX, &pid) == -1 ||
	    pid != (int64_t)getpid()))
		return 0;	/* meant for another process */
	if (parse_int64(usec_s, 1, INT64_MAX / 2, &usec) == -1) {
		log_warnx("WATCHDOG_USEC is not a number; no watchdog");
		return 0;
	}
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	if ((watchdog_ev = event_new(base, -1, EV_PERSIST, watchdog_cb,
	    NULL)) == NULL || event_add(watchdog_ev, &tv) == -1) {
		log_warnx("cannot start the watchdog timer");
		return -1;
	}
	notify_send("WATCHDOG=1");
	log_info("systemd watchdog: a ping every %lld ms", (long long)usec / 1000);
	return 0;
}

/* SIGTERM: say we are draining, so systemd shows "deactivating". */
void
notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=draining in-flight requests");
}

/* Stop the watchdog timer at exit. */
void
notify_stop(void)
{
	if (watchdog_ev != NULL) {
		event_free(watchdog_ev);
		watchdog_ev = NULL;
	}
}
