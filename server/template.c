/*
 * Templates: a small subset of Mustache rendered over jansson values.
 *
 *   {{name}} {{a.b}} {{.}}   a value, HTML-escaped (always)
 *   {{{name}}}               a value as is: the explicit, rare exception
 *                            (the server's own inline SVG ticket)
 *   {{#name}}...{{/name}}    for each element of an array, or once for an
 *                            object or any other true value
 *   {{^name}}...{{/name}}    when the value is missing, false, null, "",
 *                            0 or an empty array
 *   {{>name}}                another template (a partial)
 *
 * Escaping is the default because the values are what attendees typed;
 * a template can only opt out with the triple braces, which review can
 * grep for. Templates are read from disk once at start-up; rendering
 * parses as it goes (they are small) and never recurses deeper than
 * TMPL_MAXDEPTH, so a template cannot make the daemon loop or overflow
 * its stack, whatever it contains.
 */
#include <sys/types.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "server.h"

static struct tmpl {
	char	*name;
	char	*text;
	size_t	 len;
} tmpls[TMPL_MAX];
static int	ntmpls;

struct frame {
	const json_t	*v;
	const struct frame *up;
};

static int	render(struct evbuffer *, const char *, size_t,
		    const struct frame *, int);

/* Append s HTML-escaped. */
void
tmpl_escape(struct evbuffer *b, const char *s, size_t len)
{
	size_t	 i, start = 0;
	const char *rep;

	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		evbuffer_add(b, s + start, i - start);
		evbuffer_add(b, rep, strlen(rep));
		start = i + 1;
	}
	evbuffer_add(b, s + start, len - start);
}

/* A template by name, or NULL. */
static const struct tmpl *
tmpl_find(const char *name, size_t len)
{
	int	 i;

	for (i = 0; i < ntmpls; i++)
		if (strlen(tmpls[i].name) == len &&
		    memcmp(tmpls[i].name, name, len) == 0)
			return &tmpls[i];
	return NULL;
}

/* Add a template from memory (tests, fuzzing); the text is copied. */
int
tmpl_add(const char *name, const char *text, size_t len)
{
	if (ntmpls == TMPL_MAX || len > TMPL_MAXSIZE)
		return -1;
	if ((tmpls[ntmpls].name = strdup(name)) == NULL ||
	    (tmpls[ntmpls].text = malloc(len + 1)) == NULL) {
		free(tmpls[ntmpls].name);
		return -1;
	}
	memcpy(tmpls[ntmpls].text, text, len);
	tmpls[ntmpls].text[len] = '\0';
	tmpls[ntmpls].len = len;
	ntmpls++;
	return 0;
}

/* Forget every template. */
void
tmpl_clear(void)
{
	int	 i;

	for (i = 0; i < ntmpls; i++) {
		free(tmpls[i].name);
		free(tmpls[i].text);
	}
	ntmpls = 0;
}

/* Read the .html, .ics, .txt and .css files of DIR once; .html is dropped
 * from the name, other suffixes stay. */
int
tmpl_load_dir(const char *dir)
{
	struct dirent	**list = NULL;
	char		 path[4096], name[256];
	FILE		*f;
	char		*buf;
	long		 len;
	int		 i, n, rc = 0;
	const char	*dot;

	if ((n = scandir(dir, &list, NULL, alphasort)) < 0) {
		log_warn("cannot read templates in %s", dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		dot = strrchr(list[i]->d_name, '.');
		if (dot == NULL || list[i]->d_name[0] == '.' ||
		    (strcmp(dot, ".html") && strcmp(dot, ".ics") &&
		    strcmp(dot, ".txt") && strcmp(dot, ".css") &&
		    strcmp(dot, ".js")))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		snprintf(name, sizeof(name), "%.*s%s",
		    (int)(dot - list[i]->d_name), list[i]->d_name,
		    strcmp(dot, ".html") ? dot : "");
		if ((f = fopen(path, "r")) == NULL) {
			log_warn("%s", path);
			rc = -1;
			continue;
		}
		buf = NULL;
		if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
		    len <= TMPL_MAXSIZE && fseek(f, 0, SEEK_SET) == 0 &&
		    (buf = malloc((size_t)len + 1)) != NULL &&
		    fread(buf, 1, (size_t)len, f) == (size_t)len) {
			if (tmpl_add(name, buf, (size_t)len) == -1)
				rc = -1;
		} else {
			log_warnx("cannot read template %s", path);
			rc = -1;
		}
		free(buf);
		fclose(f);
	}
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}

/* Look a dotted name up through the frames, innermost first. */
static const json_t *
lookup(const char *name, size_t len, const struct frame *fr)
{
	const json_t	*v;
	const char	*dot, *end = name + len;
	char		 key[128];
	size_t		 klen;

	if (len == 1 && name[0] == '.')
		return fr ? fr->v : NULL;
	dot = memchr(name, '.', len);
	klen = (size_t)((dot ? dot : end) - name);
	if (klen == 0 || klen >= sizeof(key))
		return NULL;
	memcpy(key, name, klen);
	key[klen] = '\0';
	for (v = NULL; fr != NULL && v == NULL; fr = fr->up)
		if (json_is_object(fr->v))
			v = json_object_get(fr->v, key);
	while (v != NULL && dot != NULL) {
		name = dot + 1;
		dot = memchr(name, '.', (size_t)(end - name));
		klen = (size_t)((dot ? dot : end) - name);
		if (klen == 0 || klen >= sizeof(key))
			return NULL;
		memcpy(key, name, klen);
		key[klen] = '\0';
		if (json_is_object(v))
			v = json_object_get(v, key);
		else if (json_is_array(v) && key[0] >= '0' && key[0] <= '9' &&
		    klen < 6)
			v = json_array_get(v, (size_t)atoi(key));
		else
			v = NULL;
	}
	return v;
}

/* False for missing, null, false, "", 0 or an empty array (Mustache's rule). */
static int
truthy(const json_t *v)
{
	if (v == NULL || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	return 1;
}

/* Append a value as text, HTML-escaped unless raw. */
static void
emit_value(struct evbuffer *b, const json_t *v, int raw)
{
	char	 num[64];

	if (json_is_string(v)) {
		if (raw)
			evbuffer_add(b, json_string_value(v),
			    json_string_length(v));
		else
			tmpl_escape(b, json_string_value(v),
			    json_string_length(v));
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld",
		    (long long)json_integer_value(v));
		evbuffer_add(b, num, strlen(num));
	} else if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%g", json_real_value(v));
		evbuffer_add(b, num, strlen(num));
	} else if (json_is_true(v))
		evbuffer_add(b, "true", 4);
}

/* Trim spaces around a tag's name. */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/*
 * Find the {{/name}} closing the section whose body starts at p, counting
 * nested sections of the same name. Returns the body length and sets
 * *after past the closing tag, or -1.
 */
static long
section_end(const char *p, const char *end, const char *name, size_t nlen,
    const char **after)
{
	const char	*s = p, *o, *c, *tn;
	size_t		 tl;
	int		 depth = 1;

	while ((o = memmem(s, (size_t)(end - s), "{{", 2)) != NULL) {
		if ((c = memmem(o + 2, (size_t)(end - o - 2), "}}", 2)) == NULL)
			return -1;
		tn = o + 3;
		tl = (size_t)(c - tn);
		if (o[2] == '#' || o[2] == '^' || o[2] == '/') {
			trim(&tn, &tl);
			if (tl == nlen && memcmp(tn, name, nlen) == 0) {
				depth += o[2] == '/' ? -1 : 1;
				if (depth == 0) {
					*after = c + 2;
					return (long)(o - p);
				}
			}
		}
		s = c + 2;
	}
	return -1;
}

/* Render template text with a frame of values; -1: malformed or too deep. */
static int
render(struct evbuffer *b, const char *t, size_t len, const struct frame *fr,
    int depth)
{
	const char		*p = t, *end = t + len, *o, *c, *name, *after;
	const struct tmpl	*part;
	const json_t		*v, *e;
	struct frame		 inner;
	size_t			 nlen, i;
	long			 body;
	int			 raw;
	char			 kind;

	if (depth > TMPL_MAXDEPTH)
		return -1;
	while (p < end) {
		if ((o = memmem(p, (size_t)(end - p), "{{", 2)) == NULL) {
			evbuffer_add(b, p, (size_t)(end - p));
			return 0;
		}
		evbuffer_add(b, p, (size_t)(o - p));
		raw = o + 2 < end && o[2] == '{';
		if ((c = memmem(o + 2, (size_t)(end - o - 2),
		    raw ? "}}}" : "}}", raw ? 3 : 2)) == NULL)
			return -1;
		kind = o[2];
		name = o + (raw || kind == '#' || kind == '^' || kind == '/' ||
		    kind == '>' || kind == '!' ? 3 : 2);
		nlen = (size_t)(c - name);
		trim(&name, &nlen);
		p = c + (raw ? 3 : 2);
		if (raw) {
			emit_value(b, lookup(name, nlen, fr), 1);
			continue;
		}
		switch (kind) {
		case '!':
			break;
		case '/':
			return -1;	/* a close without an open */
		case '>':
			if ((part = tmpl_find(name, nlen)) == NULL ||
			    render(b, part->text, part->len, fr, depth + 1))
				return -1;
			break;
		case '#':
		case '^':
			if ((body = section_end(p, end, name, nlen, &after)) < 0)
				return -1;
			v = lookup(name, nlen, fr);
			if (kind == '^') {
				if (!truthy(v) && render(b, p, (size_t)body, fr,
				    depth + 1))
					return -1;
			} else if (json_is_array(v)) {
				json_array_foreach(v, i, e) {
					inner.v = e;
					inner.up = fr;
					if (render(b, p, (size_t)body, &inner,
					    depth + 1))
						return -1;
				}
			} else if (truthy(v)) {
				inner.v = v;
				inner.up = fr;
				if (render(b, p, (size_t)body, json_is_object(v) ?
				    &inner : fr, depth + 1))
					return -1;
			}
			p = after;
			break;
		default:
			emit_value(b, lookup(name, nlen, fr), 0);
			break;
		}
	}
	return 0;
}

/*
 * Render template `name` with ctx into a new evbuffer. NULL when the
 * template is missing or malformed.
 */
struct evbuffer *
tmpl_render(const char *name, const json_t *ctx)
{
	const struct tmpl	*t = tmpl_find(name, strlen(name));
	struct evbuffer		*b;
	struct frame		 top = { ctx, NULL };

	if (t == NULL || (b = evbuffer_new()) == NULL)
		return NULL;
	if (render(b, t->text, t->len, &top, 0) == -1) {
		log_warnx("template %s failed to render", name);
		evbuffer_free(b);
		return NULL;
	}
	return b;
}

/* Render a template given as text (tests and fuzzing). */
struct evbuffer *
tmpl_render_text(const char *text, size_t len, const json_t *ctx)
{
	struct evbuffer	*b;
	struct frame	 top = { ctx, NULL };

	if ((b = evbuffer_new()) == NULL)
		return NULL;
	if (render(b, text, len, &top, 0) == -1) {
		evbuffer_free(b);
		return NULL;
	}
	return b;
}
