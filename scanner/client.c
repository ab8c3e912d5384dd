/*
 * The scanner's HTTP client: JSON POSTs to the Rollcall server over one
 * libcurl easy handle, reused so that a door keeps one connection alive
 * between scans instead of paying a TCP (and TLS) handshake per ticket.
 *
 * What comes back is untrusted: the body is capped at SCAN_MAXREPLY and
 * must be one JSON object. Every request has a deadline (--timeout); a
 * request that gets no HTTP answer at all (refused, timed out, reset) is
 * CLIENT_UNREACHABLE, which the caller retries once with the same body
 * (same nonce, so the server counts it once) and then reports or decides
 * offline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "scanner.h"

struct client {
	CURL			*curl;
	char			*base;		/* no trailing slash */
	struct curl_slist	*headers;
	char			*auth;		/* "Authorization: Bearer ..." */
	long			 timeout;
	char			 errbuf[CURL_ERROR_SIZE];
};

struct sink {
	char	*buf;
	size_t	 len;
	size_t	 max;
	int	 over;
};

/* A client for the server at base, sending token (if any); NULL on failure. */
struct client *
client_new(const char *base, const char *token, long timeout)
{
	struct client	*c;
	size_t		 len;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		len--;
	if ((c->base = strndup(base, len)) == NULL)
		goto fail;
	/* No token (rollcall-scan --setup, claiming one): no header. */
	len = strlen("Authorization: Bearer ") + (token ? strlen(token) : 0) +
	    1;
	if ((c->auth = malloc(len)) == NULL)
		goto fail;
	if (token != NULL)
		snprintf(c->auth, len, "Authorization: Bearer %s", token);
	else
		snprintf(c->auth, len, "X-Rollcall-Setup: 1");
	if ((c->headers = curl_slist_append(NULL, c->auth)) == NULL ||
	    (c->headers = curl_slist_append(c->headers,
	    "Content-Type: application/json")) == NULL ||
	    (c->headers = curl_slist_append(c->headers,
	    "Accept: application/json")) == NULL ||
	    (c->curl = curl_easy_init()) == NULL)
		goto fail;
	c->timeout = timeout;
	return c;
fail:
	client_free(c);
	return NULL;
}

/* Release the client, wiping the token it carried. */
void
client_free(struct client *c)
{
	struct curl_slist	*h;

	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	for (h = c->headers; h != NULL; h = h->next)
		sodium_memzero(h->data, strlen(h->data));
	curl_slist_free_all(c->headers);
	if (c->auth != NULL) {
		sodium_memzero(c->auth, strlen(c->auth));
		free(c->auth);
	}
	free(c->base);
	free(c);
}

/* The server's base URL, for messages. */
const char *
client_url(const struct client *c)
{
	return c->base;
}

/* libcurl's write callback: keep at most the sink's max bytes. */
static size_t
client_sink(char *data, size_t size, size_t n, void *arg)
{
	struct sink	*s = arg;
	size_t		 len = size * n;
	char		*p;

	if (s->len + len > s->max) {
		s->over = 1;
		return 0;	/* makes libcurl stop with an error */
	}
	if ((p = realloc(s->buf, s->len + len + 1)) == NULL)
		return 0;
	s->buf = p;
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return len;
}

/*
 * POST body (a JSON object) to base + path. On CLIENT_OK *status is the
 * HTTP status and *reply the answer's JSON object (NULL when it had
 * none); otherwise err says what went wrong, in words for a person.
 */
enum client_err
client_post(struct client *c, const char *path, const json_t *body,
    long *status, json_t **reply, char *err, size_t errsz)
{
	struct sink	 sink = { NULL, 0, SCAN_MAXREPLY, 0 };
	char		*url = NULL, *text = NULL;
	size_t		 len;
	CURLcode	 cc;
	json_t		*j;
	enum client_err	 rc = CLIENT_FAILED;

	*status = 0;
	*reply = NULL;
	err[0] = '\0';
	len = strlen(c->base) + strlen(path) + 1;
	if ((url = malloc(len)) == NULL ||
	    (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	snprintf(url, len, "%s%s", c->base, path);
	curl_easy_reset(c->curl);
	c->errbuf[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->timeout);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, c->timeout);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_sink);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "rollcall-scan");
	cc = curl_easy_perform(c->curl);
	if (cc != CURLE_OK) {
		if (sink.over) {
			snprintf(err, errsz, "the server's answer is over %d "
			    "bytes", SCAN_MAXREPLY);
			goto out;
		}
		snprintf(err, errsz, "%s", c->errbuf[0] != '\0' ? c->errbuf :
		    curl_easy_strerror(cc));
		switch (cc) {
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_SSL_CONNECT_ERROR:
			rc = CLIENT_UNREACHABLE;
			break;
		default:
			break;
		}
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	if (sink.len > 0) {
		j = json_loadb(sink.buf, sink.len, JSON_REJECT_DUPLICATES, NULL);
		if (j == NULL || !json_is_object(j)) {
			json_decref(j);
			snprintf(err, errsz, "the server answered HTTP %ld with "
			    "something other than JSON", *status);
			/* A proxy's HTML error page: as good as no answer. */
			rc = *status >= 500 ? CLIENT_UNREACHABLE : CLIENT_FAILED;
			goto out;
		}
		*reply = j;
	}
	rc = CLIENT_OK;
out:
	free(sink.buf);
	free(text);
	free(url);
	return rc;
}

/*
 * GET base + path as bytes (a badge PDF), at most SCAN_MAXBADGE of them.
 * 0 with the body in *out (the caller frees it) on HTTP 200, else -1 and
 * err in words for a person.
 */
int
client_get_file(struct client *c, const char *path, char **out,
    size_t *len, char *err, size_t errsz)
{
	struct sink	 sink = { NULL, 0, SCAN_MAXBADGE, 0 };
	char		*url;
	size_t		 n;
	long		 status = 0;
	CURLcode	 cc;

	*out = NULL;
	*len = 0;
	n = strlen(c->base) + strlen(path) + 1;
	if ((url = malloc(n)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	snprintf(url, n, "%s%s", c->base, path);
	curl_easy_reset(c->curl);
	c->errbuf[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->timeout);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, c->timeout);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_sink);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "rollcall-scan");
	cc = curl_easy_perform(c->curl);
	free(url);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK || status != 200) {
		if (sink.over)
			snprintf(err, errsz, "the file is over %d bytes",
			    SCAN_MAXBADGE);
		else if (cc != CURLE_OK)
			snprintf(err, errsz, "%s", c->errbuf[0] != '\0' ?
			    c->errbuf : curl_easy_strerror(cc));
		else
			snprintf(err, errsz, "the server answered HTTP %ld",
			    status);
		free(sink.buf);
		return -1;
	}
	*out = sink.buf;
	*len = sink.len;
	return 0;
}
