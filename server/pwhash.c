/*
 * Password hashing off the event loop. argon2id (crypto_pwhash_str at the
 * interactive limits) takes tens of milliseconds and 64 MiB per call: on
 * the loop it would stall every other request. PWHASH_THREADS workers take
 * jobs from a bounded queue; a finished job goes on a done list and the
 * loop is woken with event_active (the base was made after
 * evthread_use_pthreads, so that call is safe from another thread). The
 * callback then runs on the loop, the only thread that may reply.
 *
 * What can go wrong: a flood of sign-ins would queue without end, so the
 * queue is capped (the caller answers 503); a password lingers in memory,
 * so every job's copy is wiped before it is freed; at shutdown a worker
 * may be mid-hash, so pwhash_stop waits for the workers and drops the
 * jobs nobody will answer (the loop has already stopped).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "server.h"

struct pwjob {
	struct pwjob	*next;
	int		 verify;	/* 1: check pw against hash; 0: hash pw */
	char		 pw[PWHASH_MAXPASSWORD + 1];
	char		 hash[crypto_pwhash_STRBYTES];
	int		 result;	/* verify: 1 match, 0 not; hash: 0 or -1 */
	pwhash_cb	 cb;
	void		*arg;
};

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 threads[PWHASH_THREADS];
	int		 nthreads;
	struct pwjob	*todo, *todo_tail;
	struct pwjob	*done;
	int		 queued;
	int		 stopping;
	struct event	*wake;
	char		 dummy[crypto_pwhash_STRBYTES];
} P;

/* Wipe and free a job. */
static void
job_free(struct pwjob *j)
{
	sodium_memzero(j, sizeof(*j));
	free(j);
}

/* Hash with the interactive limits into out (crypto_pwhash_STRBYTES). */
static int
hash_now(const char *pw, char *out)
{
	return crypto_pwhash_str(out, pw, strlen(pw),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -1;
}

/* A worker: take a job, do it, hand it to the loop. */
static void *
worker(void *arg)
{
	struct pwjob	*j;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&P.mu);
		while (P.todo == NULL && !P.stopping)
			pthread_cond_wait(&P.cv, &P.mu);
		if (P.stopping) {
			pthread_mutex_unlock(&P.mu);
			return NULL;
		}
		j = P.todo;
		P.todo = j->next;
		if (P.todo == NULL)
			P.todo_tail = NULL;
		pthread_mutex_unlock(&P.mu);

		if (j->verify)
			j->result = crypto_pwhash_str_verify(j->hash, j->pw,
			    strlen(j->pw)) == 0;
		else
			j->result = hash_now(j->pw, j->hash);
		sodium_memzero(j->pw, sizeof(j->pw));

		pthread_mutex_lock(&P.mu);
		j->next = P.done;
		P.done = j;
		pthread_mutex_unlock(&P.mu);
		event_active(P.wake, EV_READ, 0);
	}
}

/* On the loop: run the callbacks of every finished job. */
static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pwjob	*j, *next;

	(void)fd;
	(void)what;
	(void)arg;
	pthread_mutex_lock(&P.mu);
	j = P.done;
	P.done = NULL;
	pthread_mutex_unlock(&P.mu);
	for (; j != NULL; j = next) {
		next = j->next;
		pthread_mutex_lock(&P.mu);
		P.queued--;
		pthread_mutex_unlock(&P.mu);
		j->cb(j->arg, j->result, j->verify ? NULL : j->hash);
		job_free(j);
	}
}

/* Queue a job; -1 when the queue is full or memory short. */
static int
submit(int verify, const char *pw, const char *hash, pwhash_cb cb, void *arg)
{
	struct pwjob	*j;

	if (strlen(pw) > PWHASH_MAXPASSWORD || (hash != NULL &&
	    strlen(hash) >= crypto_pwhash_STRBYTES))
		return -1;
	pthread_mutex_lock(&P.mu);
	if (P.queued >= PWHASH_MAXQUEUE || P.stopping || P.nthreads == 0) {
		pthread_mutex_unlock(&P.mu);
		return -1;
	}
	P.queued++;
	pthread_mutex_unlock(&P.mu);
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		pthread_mutex_lock(&P.mu);
		P.queued--;
		pthread_mutex_unlock(&P.mu);
		return -1;
	}
	j->verify = verify;
	memcpy(j->pw, pw, strlen(pw) + 1);
	if (hash != NULL)
		memcpy(j->hash, hash, strlen(hash) + 1);
	j->cb = cb;
	j->arg = arg;
	pthread_mutex_lock(&P.mu);
	if (P.todo_tail != NULL)
		P.todo_tail->next = j;
	else
		P.todo = j;
	P.todo_tail = j;
	pthread_cond_signal(&P.cv);
	pthread_mutex_unlock(&P.mu);
	return 0;
}

/* Hash pw on a worker; cb(arg, 0 or -1, hash) runs on the loop. */
int
pwhash_hash(const char *pw, pwhash_cb cb, void *arg)
{
	return submit(0, pw, NULL, cb, arg);
}

/*
 * Check pw against hash on a worker; cb(arg, 1 or 0, NULL) on the loop.
 * hash NULL (no such account) checks against a dummy, so an unknown
 * address takes as long as a wrong password.
 */
int
pwhash_verify(const char *hash, const char *pw, pwhash_cb cb, void *arg)
{
	int	 rc;

	if (hash != NULL && *hash != '\0')
		return submit(1, pw, hash, cb, arg);
	rc = submit(1, pw, P.dummy, cb, arg);
	/* The dummy's password is random: it never matches. */
	return rc;
}

/* Hash now, on this thread (commands, never the loop). */
int
pwhash_hash_blocking(const char *pw, char *out, size_t outsz)
{
	if (outsz < crypto_pwhash_STRBYTES)
		return -1;
	return hash_now(pw, out);
}

/* Start the workers and the loop's wake-up event. */
int
pwhash_start(struct event_base *base)
{
	char	 pw[48];
	int	 i;

	pthread_mutex_init(&P.mu, NULL);
	pthread_cond_init(&P.cv, NULL);
	secret_random_id(pw, sizeof(pw), 32);
	if (hash_now(pw, P.dummy) == -1) {
		log_warnx("cannot hash a password (out of memory?)");
		return -1;
	}
	sodium_memzero(pw, sizeof(pw));
	if ((P.wake = event_new(base, -1, 0, wake_cb, NULL)) == NULL)
		return -1;
	for (i = 0; i < PWHASH_THREADS; i++) {
		if (pthread_create(&P.threads[i], NULL, worker, NULL) != 0) {
			log_warnx("cannot start a password worker");
			break;
		}
		P.nthreads++;
	}
	return P.nthreads > 0 ? 0 : -1;
}

/* Stop the workers; jobs not yet answered are dropped. */
void
pwhash_stop(void)
{
	struct pwjob	*j, *next;
	int		 i;

	pthread_mutex_lock(&P.mu);
	P.stopping = 1;
	pthread_cond_broadcast(&P.cv);
	pthread_mutex_unlock(&P.mu);
	for (i = 0; i < P.nthreads; i++)
		pthread_join(P.threads[i], NULL);
	P.nthreads = 0;
	for (j = P.todo; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	for (j = P.done; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	P.todo = P.todo_tail = P.done = NULL;
	if (P.wake != NULL)
		event_free(P.wake);
	P.wake = NULL;
}
