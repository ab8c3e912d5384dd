/*
 * The per-client limit: a fixed one-minute window per key (usually the
 * client's address, with a prefix naming what is limited) in a small open
 * table. A collision evicts the older window, which at worst lets a
 * client through early; it never blocks an innocent one for long. Each
 * daemon counts for itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server.h"

static struct rate_slot {
	char	 key[RATE_MAXKEY];
	time_t	 window;
	int	 count;
} rate_table[RATE_SLOTS];

/* May key act now, at most limit times a minute? Sets *retry when not. */
int
rate_allow(const char *key, time_t now, int limit, int *retry)
{
	struct rate_slot	*s;
	uint32_t		 h = 2166136261u;
	const char		*p;
	time_t			 window = now - now % 60;

	if (limit <= 0)
		return 1;
	for (p = key; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	s = &rate_table[h % RATE_SLOTS];
	/* A key too long to keep is known by the part of it that is kept. */
	if (strncmp(s->key, key, sizeof(s->key) - 1) != 0 ||
	    s->window != window) {
		snprintf(s->key, sizeof(s->key), "%s", key);
		s->window = window;
		s->count = 0;
	}
	if (s->count >= limit) {
		*retry = (int)(window + 60 - now);
		return 0;
	}
	s->count++;
	return 1;
}

/* Forget every window (tests). */
void
rate_reset(void)
{
	memset(rate_table, 0, sizeof(rate_table));
}
