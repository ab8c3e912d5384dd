/*
 * Staff tokens handed out: POST /api/v1/tokens, DELETE /api/v1/tokens/{jti}
 * and `rollcalld token`. Both ways of issuing fill the same nine
 * parameters of rc_token_issue() (token_params), which records the row
 * and checks, in the database, what the issuer may grant; the signature
 * (auth.c) is added to the row that comes back. A leader or track owner
 * token names its chapters by slug; the row keeps them (the JWT does
 * not: every request re-reads the row).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "server.h"

/* What a new token is to be: the request or the command line says. */
struct token_spec {
	enum role	 role;
	const char	*name;
	int64_t		 ids[SCOPE_MAXEVENTS];
	int		 nids;		/* 0: every event (not for door) */
	int64_t		 sponsor;	/* 0 when none */
	const char	*chapters[CHAPTER_MAXTOKEN];	/* slugs, checked */
	int		 nchapters;
	long		 ttl;
	const char	*issuer;	/* the issuing token's jti */
	char		*scope;		/* the issuer's own scope, or NULL */
};

/* Text of the parameters rc_token_issue() takes, owned by the caller. */
struct token_params {
	char		 jti[32], sponsor[24], exp[24];
	char		*events;
	char		*chapters;	/* "{slug,...}", or NULL */
	const char	*vals[9];
};

/* Seconds from "90", "90s", "15m", "12h", "7d"; -1 when malformed. */
long
token_parse_ttl(const char *s)
{
	int64_t		 v;
	char		 num[24];
	size_t		 len = strlen(s);
	long		 unit = 1;

	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's': unit = 1; num[--len] = '\0'; break;
	case 'm': unit = 60; num[--len] = '\0'; break;
	case 'h': unit = 3600; num[--len] = '\0'; break;
	case 'd': unit = 86400; num[--len] = '\0'; break;
	default: break;
	}
	if (parse_int64(num, 1, TOKEN_MAXTTL, &v) == -1 ||
	    v * unit > TOKEN_MAXTTL)
		return -1;
	return (long)(v * unit);
}

/*
 * Sign the token described by a row that rc_token_issue() returned and
 * add it to that object as "token". Returns 0 or -1.
 */
int
token_sign_row(json_t *o, long iat)
{
	int64_t		 ids[SCOPE_MAXEVENTS];
	json_t		*evs = json_object_get(o, "events"), *v;
	const char	*jti, *name;
	size_t		 i;
	char		*tok;
	int		 n = 0;

	jti = json_string_value(json_object_get(o, "jti"));
	name = json_string_value(json_object_get(o, "name"));
	if (jti == NULL || name == NULL)
		return -1;
	if (json_is_array(evs))
		json_array_foreach(evs, i, v) {
			if (n == SCOPE_MAXEVENTS)
				return -1;
			ids[n++] = json_integer_value(v);
		}
	tok = auth_sign(jti, role_from_str(json_string_value(
	    json_object_get(o, "role"))), name, json_is_array(evs) ? ids : NULL,
	    n, json_integer_value(json_object_get(o, "sponsor_id")), iat,
	    (long)json_integer_value(json_object_get(o, "expires_epoch")));
	if (tok == NULL)
		return -1;
	json_object_set_new(o, "token", json_string(tok));
	json_object_del(o, "expires_epoch");
	sodium_memzero(tok, strlen(tok));
	free(tok);
	return 0;
}

/* Slugs (chapter_slug_ok: no quoting needed) as PostgreSQL array text. */
static char *
slugs_pg(const char *const *slugs, int n)
{
	size_t	 len = 3, k;
	char	*s, *p;
	int	 i;

	for (i = 0; i < n; i++)
		len += strlen(slugs[i]) + 1;
	if ((s = p = malloc(len)) == NULL)
		return NULL;
	*p++ = '{';
	for (i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		k = strlen(slugs[i]);
		memcpy(p, slugs[i], k);
		p += k;
	}
	*p++ = '}';
	*p = '\0';
	return s;
}

/* Fill p from t: a new jti, the expiry, the scope as array text. */
static int
token_params(const struct token_spec *t, struct token_params *p)
{
	memset(p, 0, sizeof(*p));
	if (t->nids > 0 && (p->events = auth_ids_pg(t->ids, t->nids)) == NULL)
		return -1;
	if (t->nchapters > 0 && (p->chapters = slugs_pg(t->chapters,
	    t->nchapters)) == NULL)
		return -1;
	secret_random_id(p->jti, sizeof(p->jti), 16);
	snprintf(p->sponsor, sizeof(p->sponsor), "%lld", (long long)t->sponsor);
	snprintf(p->exp, sizeof(p->exp), "%lld", (long long)time(NULL) +
	    t->ttl);
	p->vals[0] = p->jti;
	p->vals[1] = role_str(t->role);
	p->vals[2] = t->name;
	p->vals[3] = p->events;
	p->vals[4] = t->sponsor > 0 ? p->sponsor : "";
	p->vals[5] = p->exp;
	p->vals[6] = t->issuer;
	p->vals[7] = t->scope;
	p->vals[8] = p->chapters;
	return 0;
}

/* Release what token_params made. */
static void
token_params_free(struct token_params *p)
{
	free(p->events);
	free(p->chapters);
	sodium_memzero(p, sizeof(*p));
}

/* Reply with the new token's row and its signature. */
static void
token_issue_done(struct req *r, struct db_res *res)
{
	json_t	*o;

	o = db_json(res);
	if (o == NULL || token_sign_row(o, (long)time(NULL)) == -1) {
		json_decref(o);
		http_error(r, 503, "token_error", "The token could not be "
		    "signed; try again.");
		return;
	}
	http_reply_json(r, 201, o);
}

static const char *const issue_roles[] = { "door", "sponsor", "organizer",
    "admin", "committee", "leader", "track_owner", "infra", NULL };
static const struct vfield issue_fields[] = {
	{ "role", V_ENUM, 1, 0, 0, 0, issue_roles },
	{ "name", V_STRING, 1, 0, 1, FIELD_MAXTEXT, NULL },
	{ "events", V_ARRAY_INT, 0, 1, 0, SCOPE_MAXEVENTS, NULL },
	{ "sponsor", V_INT, 0, 1, 1, ID_MAX, NULL },
	{ "chapters", V_ARRAY_STRING, 0, 1, 1, CHAPTER_MAXTOKEN, NULL },
	{ "ttl", V_STRING, 0, 0, 1, TOKEN_MAXTTLLEN, NULL },
};

/* Whether a role's tokens belong to chapters. */
static int
chapter_role(enum role role)
{
	return role == ROLE_LEADER || role == ROLE_TRACK_OWNER;
}

/*
 * Whether the caller may issue a token of this role at all: an admin any;
 * the committee leader and track owner tokens (for any chapter) and door
 * and sponsor tokens; anyone else on staff door and sponsor tokens (for
 * events in its scope, checked by the caller and the database).
 */
static int
may_issue(const struct auth *a, enum role role)
{
	if (a->roles & ACCESS_ADMIN)
		return 1;
	if (role == ROLE_DOOR || role == ROLE_SPONSOR)
		return 1;
	return (a->roles & ACCESS_COMMITTEE) && chapter_role(role);
}

/* Read the checked body into t; replies 400 or 403 and returns -1. */
static int
token_spec_from_body(struct req *r, struct token_spec *t)
{
	json_t		*evs, *v, *ttlv;
	size_t		 i;

	memset(t, 0, sizeof(*t));
	if (req_validate(r, issue_fields, sizeof(issue_fields) /
	    sizeof(issue_fields[0])) == -1)
		return -1;
	t->role = role_from_str(json_string_value(json_object_get(r->body,
	    "role")));
	t->name = json_string_value(json_object_get(r->body, "name"));
	t->ttl = 86400;
	t->issuer = r->auth.jti;
	t->sponsor = json_integer_value(json_object_get(r->body, "sponsor"));
	if ((ttlv = json_object_get(r->body, "ttl")) != NULL &&
	    (t->ttl = token_parse_ttl(json_string_value(ttlv))) == -1) {
		http_error(r, 400, "invalid_field", "ttl: a duration such as "
		    "\"12h\", \"7d\" or \"900s\".");
		return -1;
	}
	evs = json_object_get(r->body, "events");
	if (json_is_array(evs) && json_array_size(evs) == 0) {
		http_error(r, 400, "invalid_field", "events: an empty list would "
		    "grant nothing; leave it out to mean every event.");
		return -1;
	}
	if (json_is_array(evs))
		json_array_foreach(evs, i, v)
			t->ids[t->nids++] = json_integer_value(v);
	json_array_foreach(json_object_get(r->body, "chapters"), i, v) {
		if (!chapter_slug_ok(json_string_value(v))) {
			http_error(r, 400, "invalid_field", "chapters: slugs of "
			    "chapters (lower-case letters, digits, hyphens).");
			return -1;
		}
		t->chapters[t->nchapters++] = json_string_value(v);
	}
	if (chapter_role(t->role) && t->nchapters == 0) {
		http_error(r, 400, "invalid_field", "chapters: a %s token needs "
		    "the slugs of its chapters.", role_str(t->role));
		return -1;
	}
	if (!chapter_role(t->role) && json_object_get(r->body, "chapters") !=
	    NULL && !json_is_null(json_object_get(r->body, "chapters"))) {
		http_error(r, 400, "invalid_field", "chapters: only leader and "
		    "track_owner tokens belong to chapters.");
		return -1;
	}
	if (t->role == ROLE_DOOR && t->nids == 0) {
		http_error(r, 400, "invalid_field", "events: a door token "
		    "needs the events it may check in.");
		return -1;
	}
	if (!may_issue(&r->auth, t->role)) {
		http_error(r, 403, "forbidden", "Only an admin may issue %s "
		    "tokens%s.", role_str(t->role), chapter_role(t->role) ?
		    " (and the committee)" : "");
		return -1;
	}
	if (!(r->auth.roles & ACCESS_ADMIN)) {
		for (i = 0; i < (size_t)t->nids; i++)
			if (!auth_in_scope(&r->auth, t->ids[i])) {
				http_error(r, 403, "out_of_scope", "Event %lld "
				    "is not in your token's scope.",
				    (long long)t->ids[i]);
				return -1;
			}
	}
	if (t->role == ROLE_SPONSOR && t->sponsor == 0) {
		http_error(r, 400, "invalid_field", "sponsor: a sponsor token "
		    "needs the sponsor's id.");
		return -1;
	}
	return 0;
}

/*
 * POST /api/v1/tokens: an admin issues any token; the committee also
 * leader and track owner tokens; other staff only door and sponsor
 * tokens, only for events in their own scope.
 */
void
token_issue(struct req *r)
{
	struct token_spec	 t;
	struct token_params	 p;

	if (token_spec_from_body(r, &t) == -1)
		return;
	if (!(r->auth.roles & ACCESS_ADMIN))
		t.scope = auth_scope_pg(&r->auth);
	if (token_params(&t, &p) == -1) {
		free(t.scope);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	req_query(r, SQL_TOKEN_ISSUE, p.vals, 9, token_issue_done);
	token_params_free(&p);
	free(t.scope);
}

/* DELETE /api/v1/tokens/{jti}: the database checks who may revoke what. */
void
token_revoke(struct req *r)
{
	char		*scope = NULL;
	const char	*vals[4];

	if (r->auth.role != ROLE_ADMIN)
		scope = auth_scope_pg(&r->auth);
	vals[0] = r->params[0];
	vals[1] = r->auth.jti;
	vals[2] = role_str(r->auth.role);
	vals[3] = scope;
	req_query(r, SQL_TOKEN_REVOKE, vals, 4, http_reply_row);
	free(scope);
}

/* The command's usage line. */
static void
token_usage(void)
{
	fprintf(stderr, "usage: rollcalld token --role ROLE --name NAME "
	    "[--event ID]... [--sponsor ID]\n"
	    "                       [--chapter SLUG]... [--ttl DURATION] "
	    "[--db CONNINFO]\n"
	    "  ROLE: door, sponsor, organizer, admin, committee, leader, "
	    "track_owner, infra\n"
	    "  (a leader or track_owner token needs --chapter)\n");
}

/* Read the command line into t and *db; 2 (usage) or 0. */
static int
token_spec_from_argv(int argc, char **argv, struct token_spec *t,
    const char **db)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "event", required_argument, NULL, 'e' },
		{ "sponsor", required_argument, NULL, 's' },
		{ "chapter", required_argument, NULL, 'c' },
		{ "ttl", required_argument, NULL, 't' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch;

	memset(t, 0, sizeof(*t));
	t->ttl = 30L * 86400;
	t->issuer = "command-line";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			t->role = role_from_str(optarg);
			break;
		case 'n':
			t->name = optarg;
			break;
		case 'e':
			if (t->nids == SCOPE_MAXEVENTS || parse_int64(optarg, 1,
			    ID_MAX, &t->ids[t->nids]) == -1) {
				fprintf(stderr, "rollcalld: --event wants an "
				    "event id\n");
				return 2;
			}
			t->nids++;
			break;
		case 's':
			if (parse_int64(optarg, 1, ID_MAX, &t->sponsor)) {
				fprintf(stderr, "rollcalld: --sponsor wants a "
				    "sponsor id\n");
				return 2;
			}
			break;
		case 'c':
			if (t->nchapters == CHAPTER_MAXTOKEN ||
			    !chapter_slug_ok(optarg)) {
				fprintf(stderr, "rollcalld: --chapter wants a "
				    "chapter's slug (lower-case letters, "
				    "digits, hyphens)\n");
				return 2;
			}
			t->chapters[t->nchapters++] = optarg;
			break;
		case 't':
			if ((t->ttl = token_parse_ttl(optarg)) == -1) {
				fprintf(stderr, "rollcalld: --ttl wants a "
				    "duration such as 12h or 30d\n");
				return 2;
			}
			break;
		case 'd':
			*db = optarg;
			break;
		default:
			token_usage();
			return 2;
		}
	}
	if (t->role == ROLE_NONE || t->name == NULL || *t->name == '\0' ||
	    strlen(t->name) > FIELD_MAXTEXT || optind != argc) {
		token_usage();
		return 2;
	}
	if (t->role == ROLE_DOOR && t->nids == 0) {
		fprintf(stderr, "rollcalld: a door token needs --event\n");
		return 2;
	}
	if (t->role == ROLE_SPONSOR && t->sponsor == 0) {
		fprintf(stderr, "rollcalld: a sponsor token needs --sponsor\n");
		return 2;
	}
	if (chapter_role(t->role) && t->nchapters == 0) {
		fprintf(stderr, "rollcalld: a %s token needs --chapter\n",
		    role_str(t->role));
		return 2;
	}
	if (!chapter_role(t->role) && t->nchapters > 0) {
		fprintf(stderr, "rollcalld: only leader and track_owner tokens "
		    "take --chapter\n");
		return 2;
	}
	return 0;
}

/* rollcalld token: issue one staff token and print it on stdout. */
int
token_cmd(int argc, char **argv)
{
	struct token_spec	 t;
	struct token_params	 p;
	const char		*db = NULL;
	struct db_conn		*pg = NULL;
	struct db_res		*res = NULL;
	json_t			*o = NULL;
	int			 rc;

	if ((rc = token_spec_from_argv(argc, argv, &t, &db)) != 0)
		return rc;
	rc = 1;
	memset(&p, 0, sizeof(p));
	if ((pg = db_connect_blocking(db_conninfo(db))) == NULL ||
	    auth_load_secret(pg) == -1 || token_params(&t, &p) == -1)
		goto out;
	res = db_run(pg, SQL_TOKEN_ISSUE, p.vals, 9);
	if (!db_ok(res) || db_rows(res) != 1) {
		fprintf(stderr, "rollcalld: cannot issue the token: %s\n",
		    db_detail(res) ? db_detail(res) : db_error(res));
		goto out;
	}
	o = db_json(res);
	if (o == NULL || token_sign_row(o, (long)time(NULL)) == -1) {
		fprintf(stderr, "rollcalld: cannot sign the token\n");
		goto out;
	}
	printf("%s\n", json_string_value(json_object_get(o, "token")));
	rc = 0;
out:
	json_decref(o);
	db_res_free(res);
	db_close(pg);
	token_params_free(&p);
	auth_clear_secret();
	return rc;
}
