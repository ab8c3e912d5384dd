/*
 * CPU work off the event loop: WORKER_THREADS threads take jobs from a
 * bounded queue, and each finished job goes back to the loop, which runs
 * its done() (where replies are written: evhttp is the loop's alone).
 *
 * The hand-back is a pipe: a worker appends the job to the finished list
 * under the mutex and writes one byte; the loop watches the reading end,
 * drains it and runs every finished job. A byte that does not fit (the
 * pipe full of wake-ups already) is not needed, since the loop empties
 * the whole list on each wake-up. A job's run() must touch nothing the
 * loop uses: only the arguments the job owns.
 */
#include <sys/queue.h>
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "server.h"

struct work {
	TAILQ_ENTRY(work)	 entry;
	worker_fn		 run;	/* on a worker thread */
	worker_fn		 done;	/* on the loop */
	void			*arg;
};
TAILQ_HEAD(workq, work);

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct workq	 todo, finished;
	int		 ntodo;
	int		 stopping;
	int		 nthreads;
	pthread_t	 threads[WORKER_THREADS];
	int		 wake[2];	/* pipe: workers write, the loop reads */
	struct event	*ev;
} W = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
    TAILQ_HEAD_INITIALIZER(W.todo), TAILQ_HEAD_INITIALIZER(W.finished),
    0, 0, 0, { 0 }, { -1, -1 }, NULL };

/* A worker thread: run jobs until told to stop. */
static void *
worker_main(void *arg)
{
	struct work	*w;
	char		 b = 1;

	(void)arg;
	/*
	 * Below the loop in the scheduler's eyes: on a machine whose cores
	 * are all busy, a reply that needs no drawing still goes first.
	 */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), WORKER_NICE) == -1)
		log_debug("cannot lower a worker's priority");
	pthread_mutex_lock(&W.mu);
	for (;;) {
		while (!W.stopping && TAILQ_EMPTY(&W.todo))
			pthread_cond_wait(&W.cv, &W.mu);
		if (W.stopping)
			break;
		w = TAILQ_FIRST(&W.todo);
		TAILQ_REMOVE(&W.todo, w, entry);
		W.ntodo--;
		pthread_mutex_unlock(&W.mu);
		w->run(w->arg);
		pthread_mutex_lock(&W.mu);
		TAILQ_INSERT_TAIL(&W.finished, w, entry);
		if (write(W.wake[1], &b, 1) == -1) {
			/* full of wake-ups already: the loop takes them all */
		}
	}
	pthread_mutex_unlock(&W.mu);
	return NULL;
}

/* The loop's side of the pipe: run the done() of every finished job. */
static void
worker_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct workq	 done = TAILQ_HEAD_INITIALIZER(done);
	struct work	*w;
	char		 buf[256];

	(void)what;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&W.mu);
	TAILQ_CONCAT(&done, &W.finished, entry);
	pthread_mutex_unlock(&W.mu);
	while ((w = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, w, entry);
		w->done(w->arg);
		free(w);
	}
}

/*
 * Queue run(arg) for a worker thread; done(arg) follows on the loop.
 * -1 (nothing queued) when the queue is full or the workers are not up.
 */
int
worker_submit(worker_fn run, worker_fn done, void *arg)
{
	struct work	*w;

	if (W.nthreads == 0 || (w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->run = run;
	w->done = done;
	w->arg = arg;
	pthread_mutex_lock(&W.mu);
	if (W.ntodo >= WORKER_MAXQUEUE) {
		pthread_mutex_unlock(&W.mu);
		free(w);
		return -1;
	}
	TAILQ_INSERT_TAIL(&W.todo, w, entry);
	W.ntodo++;
	pthread_cond_signal(&W.cv);
	pthread_mutex_unlock(&W.mu);
	return 0;
}

/* Start the worker threads and watch their pipe from the loop. */
int
worker_start(struct event_base *base)
{
	int	 i;

	if (pipe(W.wake) == -1) {
		log_warn("pipe");
		return -1;
	}
	for (i = 0; i < 2; i++)
		if (fcntl(W.wake[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(W.wake[i], F_SETFD, FD_CLOEXEC) == -1) {
			log_warn("fcntl");
			return -1;
		}
	W.ev = event_new(base, W.wake[0], EV_READ | EV_PERSIST,
	    worker_wake_cb, NULL);
	if (W.ev == NULL || event_add(W.ev, NULL) == -1)
		return -1;
	for (i = 0; i < WORKER_THREADS; i++) {
		if (pthread_create(&W.threads[i], NULL, worker_main, NULL)) {
			log_warnx("cannot start a worker thread");
			return -1;
		}
		W.nthreads++;
	}
	return 0;
}

/*
 * Stop the threads (the loop has finished: no request waits on a job);
 * jobs not yet run are dropped with their done() run, so none leaks.
 */
void
worker_stop(void)
{
	struct work	*w;
	int		 i;

	pthread_mutex_lock(&W.mu);
	W.stopping = 1;
	pthread_cond_broadcast(&W.cv);
	pthread_mutex_unlock(&W.mu);
	for (i = 0; i < W.nthreads; i++)
		pthread_join(W.threads[i], NULL);
	W.nthreads = 0;
	worker_wake_cb(W.wake[0], EV_READ, NULL);
	while ((w = TAILQ_FIRST(&W.todo)) != NULL) {
		TAILQ_REMOVE(&W.todo, w, entry);
		w->done(w->arg);
		free(w);
	}
	W.ntodo = 0;
	if (W.ev != NULL)
		event_free(W.ev);
	W.ev = NULL;
	for (i = 0; i < 2; i++)
		if (W.wake[i] != -1)
			close(W.wake[i]);
	W.wake[0] = W.wake[1] = -1;
}

/* A file to make: build(input) on a worker thread, done() on the loop. */
struct build_job {
	worker_build_fn	 build;
	json_t		*input;
	worker_done_fn	 done;
	void		*arg;
	unsigned char	*data;
	size_t		 len;
	int		 err;
};

static int	 nbuilds;	/* file builds queued or running (the loop's) */

/* On a worker thread: make the file. */
static void
build_run(void *arg)
{
	struct build_job	*j = arg;

	j->err = j->build(j->input, &j->data, &j->len);
}

/* On the loop: hand the file to its caller, then free it. */
static void
build_done(void *arg)
{
	struct build_job	*j = arg;

	nbuilds--;
	j->done(j->arg, j->err == 0 ? j->data : NULL, j->len);
	free(j->data);
	json_decref(j->input);
	free(j);
}

/*
 * Make a file (an XLSX workbook, a badge PDF) from input on a worker
 * thread; done(arg, bytes, len) runs on the loop. At most WORKER_MAXFILES
 * wait, so a queue of large files cannot hold back the ticket images
 * behind them for long. Takes input; -1 (input released) when full.
 */
int
worker_build(worker_build_fn build, json_t *input, worker_done_fn done,
    void *arg)
{
	struct build_job	*j;

	if (nbuilds >= WORKER_MAXFILES || (j = calloc(1, sizeof(*j))) == NULL) {
		json_decref(input);
		return -1;
	}
	j->build = build;
	j->input = input;
	j->done = done;
	j->arg = arg;
	if (worker_submit(build_run, build_done, j) == -1) {
		json_decref(input);
		free(j);
		return -1;
	}
	nbuilds++;
	return 0;
}
