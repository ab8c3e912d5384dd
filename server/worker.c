/*
 * The file-building thread: work that takes the loop more than a
 * millisecond (an XLSX workbook, a badge PDF) runs here and is handed
 * back to the loop when it is done.
 *
 * One thread takes jobs from a bounded queue; each job is a build
 * function, its JSON input, and a callback. A finished job goes on a done
 * list and one byte down a pipe wakes the loop, which calls the job's
 * callback there, where the reply is sent. libevent need not be
 * thread-aware for this: the thread never touches the base. A build
 * function touches no connection and no libevent object, only its input.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "server.h"

struct worker_job {
	worker_build_fn	 build;
	json_t		*input;
	worker_done_fn	 done;
	void		*arg;
	unsigned char	*data;
	size_t		 len;
	int		 err;
	struct worker_job *next;
};

static struct {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct worker_job *todo, *todo_tail;	/* for the thread */
	struct worker_job *done;		/* for the loop */
	int		 queued;
	int		 stop;
	int		 running;
	int		 pipe[2];
	struct event	*wake;
} W = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
    .pipe = { -1, -1 } };

/* The thread: build each queued job, then hand it to the loop. */
static void *
worker_main(void *arg)
{
	struct worker_job *j;
	char		 b = 1;

	(void)arg;
	pthread_mutex_lock(&W.mu);
	for (;;) {
		while (W.todo == NULL && !W.stop)
			pthread_cond_wait(&W.cv, &W.mu);
		if (W.todo == NULL)
			break;
		j = W.todo;
		if ((W.todo = j->next) == NULL)
			W.todo_tail = NULL;
		pthread_mutex_unlock(&W.mu);
		j->err = j->build(j->input, &j->data, &j->len);
		pthread_mutex_lock(&W.mu);
		j->next = W.done;
		W.done = j;
		while (write(W.pipe[1], &b, 1) == -1 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&W.mu);
	return NULL;
}

/* On the loop: call back every finished job, in the order they finished. */
static void
worker_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker_job *list, *rev = NULL, *j;
	char		 buf[64];

	(void)what;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&W.mu);
	list = W.done;
	W.done = NULL;
	pthread_mutex_unlock(&W.mu);
	while (list != NULL) {
		j = list;
		list = j->next;
		j->next = rev;
		rev = j;
	}
	while ((j = rev) != NULL) {
		rev = j->next;
		pthread_mutex_lock(&W.mu);
		W.queued--;
		pthread_mutex_unlock(&W.mu);
		j->done(j->arg, j->err == 0 ? j->data : NULL, j->len);
		free(j->data);
		json_decref(j->input);
		free(j);
	}
}

/* Start the thread and its wake-up pipe on base. */
int
worker_start(struct event_base *base)
{
	if (pipe2(W.pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		log_warn("pipe");
		return -1;
	}
	W.wake = event_new(base, W.pipe[0], EV_READ | EV_PERSIST,
	    worker_wake_cb, NULL);
	if (W.wake == NULL || event_add(W.wake, NULL) == -1)
		return -1;
	W.stop = 0;
	if (pthread_create(&W.thread, NULL, worker_main, NULL) != 0) {
		log_warnx("cannot start the file-building thread");
		return -1;
	}
	W.running = 1;
	return 0;
}

/*
 * Queue build(input) (input's reference is taken); done(arg, data, len)
 * runs on the loop later, data NULL when the build failed. -1 (input
 * released, done never called) when the queue is full or the thread is
 * not running.
 */
int
worker_submit(worker_build_fn build, json_t *input, worker_done_fn done,
    void *arg)
{
	struct worker_job *j;

	pthread_mutex_lock(&W.mu);
	if (!W.running || W.queued >= WORKER_MAXQUEUE ||
	    (j = calloc(1, sizeof(*j))) == NULL) {
		pthread_mutex_unlock(&W.mu);
		json_decref(input);
		return -1;
	}
	j->build = build;
	j->input = input;
	j->done = done;
	j->arg = arg;
	if (W.todo_tail != NULL)
		W.todo_tail->next = j;
	else
		W.todo = j;
	W.todo_tail = j;
	W.queued++;
	pthread_cond_signal(&W.cv);
	pthread_mutex_unlock(&W.mu);
	return 0;
}

/* Stop the thread (after the loop, when no request waits) and close up. */
void
worker_stop(void)
{
	if (W.running) {
		pthread_mutex_lock(&W.mu);
		W.stop = 1;
		pthread_cond_signal(&W.cv);
		pthread_mutex_unlock(&W.mu);
		pthread_join(W.thread, NULL);
		W.running = 0;
	}
	if (W.wake != NULL)
		event_free(W.wake);
	W.wake = NULL;
	if (W.pipe[0] != -1)
		close(W.pipe[0]);
	if (W.pipe[1] != -1)
		close(W.pipe[1]);
	W.pipe[0] = W.pipe[1] = -1;
}
