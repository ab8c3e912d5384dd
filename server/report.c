/*
 * Reports (COMMUNITY.md section 5, docs/reports.md): the identity mix
 * beside the community's goals, chapter health against "at least four a
 * year, one each quarter", attendance, growth per quarter. PostgreSQL
 * computes every number (sql/functions/report.sql) and writes the CSV
 * too, from the same JSON, so the two never disagree; this file checks
 * the query, picks the caller's chapters and draws the console's page,
 * whose charts svg.c makes.
 *
 * Aggregates only: no report carries a name, an address or a person's
 * id. Admin and committee see every chapter; a leader or track owner
 * the chapters it holds (r->auth.chapters); the route table refuses
 * everyone else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "server.h"

enum report_kind {
	REPORT_IDENTITY,
	REPORT_HEALTH,
	REPORT_ATTENDANCE,
	REPORT_GROWTH,
	REPORT__MAX
};

/* Each report: its statement, its name in ?csv= and its CSV's name. */
static const struct {
	enum sql_id	 sql;
	const char	*name;
	const char	*filename;
} reports[REPORT__MAX] = {
	[REPORT_IDENTITY] = { SQL_REPORT_IDENTITY, "identity",
	    "identity.csv" },
	[REPORT_HEALTH] = { SQL_REPORT_HEALTH, "chapter-health",
	    "chapter-health.csv" },
	[REPORT_ATTENDANCE] = { SQL_REPORT_ATTENDANCE, "attendance",
	    "attendance.csv" },
	[REPORT_GROWTH] = { SQL_REPORT_GROWTH, "growth", "growth.csv" },
};

/* What the query string asked for, checked. NULL: not given. */
struct report_args {
	const char	*from;
	const char	*to;
	const char	*as_of;
	const char	*year;
	int		 csv;
};

/* Whether the caller sees every chapter (admin, committee). */
static int
report_all_chapters(const struct req *r)
{
	return (r->auth.roles & (ACCESS_ADMIN | ACCESS_COMMITTEE)) != 0;
}

/*
 * The chapters the caller's reports cover, as a PostgreSQL array ("{}"
 * when a leader holds none), or NULL for every chapter; *fail is set
 * when memory ran out. The caller frees it.
 */
static char *
report_scope(const struct req *r, int *fail)
{
	char	*s;

	*fail = 0;
	if (report_all_chapters(r))
		return NULL;
	if (r->auth.chapters == NULL || r->auth.nchapters == 0)
		s = strdup("{}");
	else
		s = auth_ids_pg(r->auth.chapters, r->auth.nchapters);
	if (s == NULL)
		*fail = 1;
	return s;
}

/* A ?key= date, checked; 0, or -1 having replied 400. */
static int
arg_date(struct req *r, const char *key, const char **out)
{
	const char	*v = req_query_arg(r, key);

	*out = NULL;
	if (v == NULL || *v == '\0')
		return 0;
	if (validate_date(v) == -1) {
		http_error(r, 400, "invalid_field", "%s: a date such as "
		    "2026-03-31.", key);
		return -1;
	}
	*out = v;
	return 0;
}

/* The query string of a report: from, to, as_of, year, format. */
static int
report_args(struct req *r, struct report_args *a)
{
	const char	*v;
	int64_t		 y;

	memset(a, 0, sizeof(*a));
	if (arg_date(r, "from", &a->from) == -1 ||
	    arg_date(r, "to", &a->to) == -1 ||
	    arg_date(r, "as_of", &a->as_of) == -1)
		return -1;
	if (a->from != NULL && a->to != NULL && strcmp(a->to, a->from) < 0) {
		http_error(r, 400, "invalid_field", "to: must not be before "
		    "from.");
		return -1;
	}
	if ((v = req_query_arg(r, "year")) != NULL && *v != '\0') {
		if (parse_int64(v, REPORT_MINYEAR, REPORT_MAXYEAR, &y) == -1) {
			http_error(r, 400, "invalid_field", "year: a year from "
			    "%d to %d.", REPORT_MINYEAR, REPORT_MAXYEAR);
			return -1;
		}
		a->year = v;
	}
	if ((v = req_query_arg(r, "format")) != NULL) {
		if (strcmp(v, "csv") == 0)
			a->csv = 1;
		else if (strcmp(v, "json") != 0) {
			http_error(r, 400, "invalid_field", "format: json or "
			    "csv.");
			return -1;
		}
	}
	return 0;
}

/* The reply of a report: its CSV as a download, or its JSON. */
static void
report_reply(struct req *r, struct db_res *res, enum report_kind k)
{
	const char	*f = req_query_arg(r, "format");
	const char	*c = req_query_arg(r, "csv");

	/* ?csv=NAME is the console page's download; the API has ?format= */
	if ((f != NULL && strcmp(f, "csv") == 0) || (r->html && c != NULL))
		http_reply_csv(r, res, reports[k].filename);
	else
		http_reply_row(r, res);
}

static void
identity_done(struct req *r, struct db_res *res)
{
	report_reply(r, res, REPORT_IDENTITY);
}

static void
health_done(struct req *r, struct db_res *res)
{
	report_reply(r, res, REPORT_HEALTH);
}

static void
attendance_done(struct req *r, struct db_res *res)
{
	report_reply(r, res, REPORT_ATTENDANCE);
}

static void
growth_done(struct req *r, struct db_res *res)
{
	report_reply(r, res, REPORT_GROWTH);
}

static const req_done_fn report_done[REPORT__MAX] = {
	[REPORT_IDENTITY] = identity_done,
	[REPORT_HEALTH] = health_done,
	[REPORT_ATTENDANCE] = attendance_done,
	[REPORT_GROWTH] = growth_done,
};

/*
 * Run one report for the caller's chapters: $1 scope, $2 from (or the
 * year, for chapter health), $3 to, $4 as_of, $5 the format.
 */
static void
report_run(struct req *r, enum report_kind k, int csv)
{
	struct report_args	 a;
	const char		*vals[5];
	char			*scope;
	int			 fail, n;

	if (report_args(r, &a) == -1)
		return;
	scope = report_scope(r, &fail);
	if (fail) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = scope;
	if (k == REPORT_HEALTH) {
		vals[1] = a.year;
		vals[2] = a.as_of;
		vals[3] = csv || a.csv ? "csv" : "json";
		n = 4;
	} else {
		vals[1] = a.from;
		vals[2] = a.to;
		vals[3] = a.as_of;
		vals[4] = csv || a.csv ? "csv" : "json";
		n = 5;
	}
	req_query(r, reports[k].sql, vals, n, report_done[k]);
	free(scope);
}

/* GET /api/v1/reports/identity?from=&to=&as_of=&format= */
void
report_identity(struct req *r)
{
	report_run(r, REPORT_IDENTITY, 0);
}

/* GET /api/v1/reports/chapter-health?year=&as_of=&format= */
void
report_health(struct req *r)
{
	report_run(r, REPORT_HEALTH, 0);
}

/* GET /api/v1/reports/attendance?from=&to=&as_of=&format= */
void
report_attendance(struct req *r)
{
	report_run(r, REPORT_ATTENDANCE, 0);
}

/* GET /api/v1/reports/growth?from=&to=&as_of=&format= */
void
report_growth(struct req *r)
{
	report_run(r, REPORT_GROWTH, 0);
}

/* GET /api/v1/reports/goals */
void
report_goals_get(struct req *r)
{
	req_query(r, SQL_REPORT_GOALS, NULL, 0, http_reply_row);
}

/* The goals a PATCH may change, and their ranges (sql/024's checks). */
static const struct vfield goal_fields[] = {
	{ "members_professional_percent", V_INT, 0, 0, 0, 100, NULL },
	{ "new_members_professional_percent", V_INT, 0, 0, 0, 100, NULL },
	{ "events_per_year", V_INT, 0, 0, 0, 100, NULL },
	{ "events_per_quarter", V_INT, 0, 0, 0, 30, NULL },
	{ "at_risk_days", V_INT, 0, 0, 1, 92, NULL },
	{ "timezone", V_TZ, 0, 0, 1, FIELD_MAXTZ, NULL },
};
#define NGOAL_FIELDS \
	((int)(sizeof(goal_fields) / sizeof(goal_fields[0])))

/* Send a checked goals object to the database (audited there). */
static void
goals_save(struct req *r, const json_t *goals, req_done_fn done)
{
	const char	*vals[2];
	char		*body;

	if (json_object_size(goals) == 0) {
		http_error(r, 400, "invalid_field", "body: name at least one "
		    "goal to change.");
		return;
	}
	if ((body = json_dumps(goals, JSON_COMPACT)) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = body;
	vals[1] = r->auth.jti;
	req_query(r, SQL_REPORT_GOALS_SET, vals, 2, done);
	free(body);
}

/* PATCH /api/v1/reports/goals (admin, committee; audited) */
void
report_goals_set(struct req *r)
{
	if (req_validate(r, goal_fields, NGOAL_FIELDS) == -1)
		return;
	goals_save(r, r->body, http_reply_row);
}

/* The goals saved from the console: back to the page. */
static void
console_goals_done(struct req *r, struct db_res *res)
{
	(void)res;
	web_redirect(r, "/console/reports?done=goals");
}

/*
 * POST /console/reports/goals (admin, committee): the form's numbers,
 * an empty field left as it is; then the same checks and statement as
 * the PATCH.
 */
void
report_console_goals(struct req *r)
{
	json_t		*goals;
	const char	*v, *key;
	json_t		*val;
	int64_t		 n;
	int		 i;

	if (!web_csrf_ok(r) || !session_origin_ok(r))
		return;
	if ((goals = json_object()) == NULL) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	json_object_foreach(r->body, key, val) {
		if (strcmp(key, "csrf") == 0)
			continue;
		for (i = 0; i < NGOAL_FIELDS; i++)
			if (strcmp(key, goal_fields[i].name) == 0)
				break;
		if (i == NGOAL_FIELDS || (v = json_string_value(val)) == NULL) {
			json_decref(goals);
			http_error(r, 400, "invalid_field", "This form has no "
			    "such field.");
			return;
		}
		if (*v == '\0')
			continue;
		if (goal_fields[i].type == V_TZ)
			json_object_set_new(goals, key, json_string(v));
		else if (parse_int64(v, goal_fields[i].min, goal_fields[i].max,
		    &n) == 0)
			json_object_set_new(goals, key, json_integer(n));
		else {
			json_decref(goals);
			http_error(r, 400, "invalid_field", "%s: a whole "
			    "number from %lld to %lld.", key,
			    goal_fields[i].min, goal_fields[i].max);
			return;
		}
	}
	if (validate_object(goals, goal_fields, NGOAL_FIELDS, r->errfield,
	    sizeof(r->errfield), r->errmsg, sizeof(r->errmsg)) == -1) {
		json_decref(goals);
		http_error(r, 400, "invalid_field", "%s", r->errmsg);
		return;
	}
	goals_save(r, goals, console_goals_done);
	json_decref(goals);
}

/* GET /static/reports.css: the reports page's few rules. */
void
report_css(struct req *r)
{
	struct evbuffer	*b = tmpl_render("console_reports.css", NULL);

	if (b == NULL) {
		http_error(r, 404, "not_found", "No such file.");
		return;
	}
	http_reply_bytes(r, 200, "text/css; charset=utf-8",
	    evbuffer_pullup(b, -1), evbuffer_get_length(b),
	    "public, max-age=3600");
	evbuffer_free(b);
}

/* The console page's words: a catalog entry, or the key itself. */
static const char *
word(const json_t *cat, const char *key)
{
	const char	*s = json_string_value(json_object_get(cat, key));

	return s != NULL ? s : key;
}

/* word() of "PREFIX" "VALUE", or NULL when the catalog has none. */
static const char *
word_of(const json_t *cat, const char *prefix, const char *value)
{
	char	 key[96];

	if (value == NULL || snprintf(key, sizeof(key), "%s%s", prefix,
	    value) >= (int)sizeof(key))
		return NULL;
	return json_string_value(json_object_get(cat, key));
}

/* A share (0..1) as the page prints it: "72.5%", "80%", or "-". */
static void
pct_text(const json_t *v, char *buf, size_t sz)
{
	double	 p;

	if (!json_is_number(v)) {
		snprintf(buf, sz, "\xe2\x80\x94");	/* an em dash */
		return;
	}
	p = json_number_value(v) * 1000.0;
	p = (double)(long long)(p + (p < 0 ? -0.5 : 0.5)) / 10.0;
	if (p == (double)(long long)p)
		snprintf(buf, sz, "%lld%%", (long long)p);
	else
		snprintf(buf, sz, "%.1f%%", p);
}

/*
 * Words and percentages for the page, beside the numbers the report
 * holds: for each share, rate and target a KEY_pct; for met, on_track,
 * state, identity, kind and role their words (KEY_text); a display_name
 * in the page's language for each thing named in both. In place, all
 * the way down.
 */
static void
report_decorate(json_t *v, const json_t *cat, int zh)
{
	static const char *const pcts[] = { "share", "no_show_rate",
	    "join_rate", "target" };
	static const struct { const char *key, *prefix; } words[] = {
		{ "state", "rp_state_" }, { "identity", "identity_" },
		{ "identity", "rp_identity_" }, { "kind", "kind_" },
		{ "kind", "rp_kind_" }, { "role", "rp_role_" },
	};
	const char	*key, *s, *zhname;
	json_t		*e, *x;
	char		 buf[32], k2[64];
	size_t		 i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			report_decorate(e, cat, zh);
		return;
	}
	if (!json_is_object(v))
		return;
	json_object_foreach(v, key, e)
		report_decorate(e, cat, zh);
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		if ((x = json_object_get(v, pcts[i])) != NULL) {
			pct_text(x, buf, sizeof(buf));
			snprintf(k2, sizeof(k2), "%s_pct", pcts[i]);
			json_object_set_new(v, k2, json_string(buf));
		}
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		s = json_string_value(json_object_get(v, words[i].key));
		snprintf(k2, sizeof(k2), "%s_text", words[i].key);
		if (s != NULL && json_object_get(v, k2) == NULL &&
		    (s = word_of(cat, words[i].prefix, s)) != NULL)
			json_object_set_new(v, k2, json_string(s));
	}
	if ((x = json_object_get(v, "met")) != NULL) {
		s = json_is_true(x) ? "met" : json_is_false(x) ? "not-met" :
		    "no-data";
		snprintf(k2, sizeof(k2), "rp-%s", s);
		json_object_set_new(v, "met_class", json_string(k2));
		json_object_set_new(v, "met_text", json_string(word(cat,
		    json_is_true(x) ? "rp_met" : json_is_false(x) ?
		    "rp_not_met" : "rp_no_data")));
	}
	if ((x = json_object_get(v, "on_track")) != NULL)
		json_object_set_new(v, "on_track_text", json_string(word(cat,
		    json_is_true(x) ? "rp_on_track" : "rp_off_track")));
	if ((s = json_string_value(json_object_get(v, "name"))) != NULL) {
		zhname = json_string_value(json_object_get(v, "name_zh"));
		json_object_set_new(v, "display_name", json_string(
		    zh && zhname != NULL && *zhname != '\0' ? zhname : s));
	}
}

/* The SVG state of a quarter's state word. */
static enum svg_state
state_of(const char *s)
{
	static const char *const names[SVG__STATES] = {
		[SVG_OK] = "ok", [SVG_MISSED] = "missed",
		[SVG_AT_RISK] = "at_risk", [SVG_OPEN] = "open",
		[SVG_FUTURE] = "future", [SVG_NOT_DUE] = "not_due",
	};
	int	 i;

	for (i = 1; s != NULL && i < SVG__STATES; i++)
		if (strcmp(s, names[i]) == 0)
			return (enum svg_state)i;
	return SVG_NONE;
}

/* Put a chart (the buffer's markup) into ctx.charts under name. */
static void
chart_put(json_t *charts, const char *name, struct evbuffer *b, int rc)
{
	char	*s;

	if (rc == 0 && (s = svg_string(b)) != NULL) {
		json_object_set_new(charts, name, json_string(s));
		free(s);
	}
	evbuffer_drain(b, evbuffer_get_length(b));
}

/*
 * The bars of one identity mix with the professional goal: the
 * chart's description says the figure and the verdict in words.
 */
static int
chart_mix(struct evbuffer *b, const char *id, const char *title,
    const json_t *mix, const json_t *cat)
{
	struct svg_bar	 bars[8];
	const json_t	*ids = json_object_get(mix, "identities"), *e;
	const json_t	*goal = json_object_get(mix, "goal");
	char		 vals[8][32], desc[512], goaltext[64], tgt[32];
	size_t		 i;
	int		 n = 0;

	pct_text(json_object_get(goal, "target"), tgt, sizeof(tgt));
	snprintf(goaltext, sizeof(goaltext), "%s %s", word(cat, "rp_goal"),
	    tgt);
	json_array_foreach(ids, i, e) {
		if (n == 8)
			break;
		pct_text(json_object_get(e, "share"), vals[n], sizeof(vals[n]));
		bars[n].label = json_string_value(json_object_get(e,
		    "identity_text"));
		bars[n].value_text = vals[n];
		bars[n].value = json_number_value(json_object_get(e, "share"));
		bars[n].goal = -1;
		bars[n].goal_text = NULL;
		if (strcmp(json_string_value(json_object_get(e, "identity")) ?
		    json_string_value(json_object_get(e, "identity")) : "",
		    "professional") == 0 && goal != NULL) {
			bars[n].goal = json_number_value(json_object_get(goal,
			    "target"));
			bars[n].goal_text = goaltext;
		}
		n++;
	}
	snprintf(desc, sizeof(desc), "%s: %s (%s %lld). %s: %s.",
	    word(cat, "identity_professional"), json_string_value(
	    json_object_get(goal, "share_pct")) ? json_string_value(
	    json_object_get(goal, "share_pct")) : "",
	    word(cat, "rp_total"), (long long)json_integer_value(
	    json_object_get(mix, "total")), goaltext, json_string_value(
	    json_object_get(goal, "met_text")) ? json_string_value(
	    json_object_get(goal, "met_text")) : "");
	return svg_bars(b, id, title, desc, bars, n);
}

/* The health grid: a row per chapter, Q1-Q4 and the year. */
static int
chart_health(struct evbuffer *b, const json_t *health, const json_t *cat)
{
	const json_t	*chs = json_object_get(health, "chapters"), *c, *q;
	const char	*cols[5], *rows[SVG_MAXITEMS], *names[SVG__STATES];
	struct svg_cell	 cells[SVG_MAXITEMS * 5];
	char		 text[SVG_MAXITEMS * 5][48], desc[256];
	size_t		 i, j;
	int		 n = 0, rc;
	enum svg_state	 st;

	cols[0] = word(cat, "rp_q1");
	cols[1] = word(cat, "rp_q2");
	cols[2] = word(cat, "rp_q3");
	cols[3] = word(cat, "rp_q4");
	cols[4] = word(cat, "rp_year");
	memset(names, 0, sizeof(names));
	names[SVG_OK] = word(cat, "rp_state_ok");
	names[SVG_MISSED] = word(cat, "rp_state_missed");
	names[SVG_AT_RISK] = word(cat, "rp_state_at_risk");
	names[SVG_OPEN] = word(cat, "rp_state_open");
	names[SVG_FUTURE] = word(cat, "rp_state_future");
	names[SVG_NOT_DUE] = word(cat, "rp_state_not_due");
	json_array_foreach(chs, i, c) {
		if (n == SVG_MAXITEMS)
			break;
		rows[n] = json_string_value(json_object_get(c,
		    "display_name"));
		for (j = 0; j < 4; j++) {
			q = json_array_get(json_object_get(c, "quarters"), j);
			st = state_of(json_string_value(json_object_get(q,
			    "state")));
			snprintf(text[n * 5 + j], sizeof(text[0]), "%lld %s",
			    (long long)json_integer_value(json_object_get(q,
			    "events")), json_string_value(json_object_get(q,
			    "state_text")) ? json_string_value(json_object_get(
			    q, "state_text")) : "");
			cells[n * 5 + j].text = text[n * 5 + j];
			cells[n * 5 + j].state = st;
		}
		q = json_object_get(c, "year");
		snprintf(text[n * 5 + 4], sizeof(text[0]), "%lld/%lld",
		    (long long)json_integer_value(json_object_get(q, "events")),
		    (long long)json_integer_value(json_object_get(q,
		    "target")));
		cells[n * 5 + 4].text = text[n * 5 + 4];
		cells[n * 5 + 4].state = json_is_true(json_object_get(q,
		    "on_track")) ? SVG_OK : SVG_MISSED;
		n++;
	}
	snprintf(desc, sizeof(desc), "%s: %lld. %s: %lld. %s: %lld.",
	    word(cat, "rp_chapters"), (long long)json_integer_value(
	    json_object_get(json_object_get(health, "summary"), "chapters")),
	    word(cat, "rp_with_missed"), (long long)json_integer_value(
	    json_object_get(json_object_get(health, "summary"), "missed")),
	    word(cat, "rp_with_at_risk"), (long long)json_integer_value(
	    json_object_get(json_object_get(health, "summary"), "at_risk")));
	rc = svg_grid(b, "rp-health", word(cat, "rp_health_chart"), desc,
	    cols, 5, rows, n, cells, names);
	return rc;
}

/* A measure of the growth report and the words that name it. */
struct measure {
	const char	*key;		/* in each quarter's JSON */
	const char	*word;		/* in the catalog */
};

/* One chart of the growth per quarter: the measures as series. */
static int
chart_growth(struct evbuffer *b, const char *id, const char *title,
    const json_t *growth, const struct measure *m, int nm,
    const json_t *cat)
{
	const json_t	*qs = json_object_get(growth, "quarters"), *q;
	const char	*labels[SVG_MAXITEMS], *series[4];
	const char	*from, *to;
	double		 values[SVG_MAXITEMS * 4];
	char		 desc[256];
	size_t		 i;
	int		 n = 0, s;

	if (nm > 4)
		nm = 4;
	for (s = 0; s < nm; s++)
		series[s] = word(cat, m[s].word);
	json_array_foreach(qs, i, q) {
		if (n == SVG_MAXITEMS)
			break;
		labels[n] = json_string_value(json_object_get(q, "quarter"));
		for (s = 0; s < nm; s++)
			values[n * nm + s] = (double)json_integer_value(
			    json_object_get(q, m[s].key));
		n++;
	}
	from = json_string_value(json_object_get(growth, "from"));
	to = json_string_value(json_object_get(growth, "to"));
	snprintf(desc, sizeof(desc), "%s, %s %s %s %s.", title,
	    word(cat, "rp_from"), from ? from : "", word(cat, "rp_to"),
	    to ? to : "");
	return svg_columns(b, id, title, desc, labels, n, series, nm, values);
}

/* A count as the page prints it, or a dash when it is withheld. */
static void
count_text(const json_t *v, char *buf, size_t sz)
{
	if (json_is_integer(v))
		snprintf(buf, sz, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, sz, "\xe2\x80\x94");
}

/*
 * The identity table's rows: each identity with its count and share
 * among members and among the new members, side by side.
 */
static json_t *
identity_rows(const json_t *identity)
{
	const json_t	*m = json_object_get(json_object_get(identity,
	    "members"), "identities");
	const json_t	*nm = json_object_get(json_object_get(identity,
	    "new_members"), "identities");
	json_t		*rows = json_array(), *e, *f;
	size_t		 i;
	char		 n1[24], n2[24];

	json_array_foreach(m, i, e) {
		f = json_array_get(nm, i);
		count_text(json_object_get(e, "n"), n1, sizeof(n1));
		count_text(json_object_get(f, "n"), n2, sizeof(n2));
		json_array_append_new(rows, json_pack("{s:O?, s:s, s:O?, s:s, "
		    "s:O?, s:b}", "identity_text", json_object_get(e,
		    "identity_text"), "n", n1,
		    "share_pct", json_object_get(e, "share_pct"),
		    "new_n", n2, "new_share_pct",
		    json_object_get(f, "share_pct"), "professional",
		    strcmp(json_string_value(json_object_get(e, "identity")) ?
		    json_string_value(json_object_get(e, "identity")) : "",
		    "professional") == 0));
	}
	return rows;
}

/* The filters as a query string for the page's download links. */
static void
query_string(const struct report_args *a, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s%s%s%s%s%s%s%s", a->from ? "&from=" : "",
	    a->from ? a->from : "", a->to ? "&to=" : "", a->to ? a->to : "",
	    a->year ? "&year=" : "", a->year ? a->year : "",
	    a->as_of ? "&as_of=" : "", a->as_of ? a->as_of : "");
}

/* Every report is back: decorate, draw, render the page. */
static void
console_done(struct req *r, struct db_res *res)
{
	static const struct measure att[] = {
		{ "attendees_offline", "rp_attendees_offline" },
		{ "attendees_online", "rp_attendees_online" },
	}, mem[] = {
		{ "new_members", "rp_new_members" },
	}, evs[] = {
		{ "events", "rp_events" },
		{ "new_chapters", "rp_new_chapters" },
	};
	const json_t	*cat = web_catalog(req_lang(r));
	json_t		*ctx = NULL, *data, *charts = NULL, *id;
	struct evbuffer	*b = NULL;
	struct report_args a;
	char		 q[128];
	const char	*done = req_query_arg(r, "done");

	if ((data = db_json(res)) == NULL) {
		http_error(r, 404, "not_found", "No such page.");
		return;
	}
	report_decorate(data, cat, req_lang(r) == 1);
	if ((ctx = console_ctx(r, "rp_title")) == NULL ||
	    (charts = json_object()) == NULL || (b = evbuffer_new()) == NULL) {
		json_decref(data);
		json_decref(ctx);
		json_decref(charts);
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	id = json_object_get(data, "identity");
	chart_put(charts, "members", b, chart_mix(b, "rp-members",
	    word(cat, "rp_members_chart"), json_object_get(id, "members"),
	    cat));
	chart_put(charts, "new_members", b, chart_mix(b, "rp-new-members",
	    word(cat, "rp_new_members_chart"), json_object_get(id,
	    "new_members"), cat));
	chart_put(charts, "health", b, chart_health(b, json_object_get(data,
	    "health"), cat));
	chart_put(charts, "attendees", b, chart_growth(b, "rp-attendees",
	    word(cat, "rp_attendees_chart"), json_object_get(data, "growth"),
	    att, 2, cat));
	chart_put(charts, "growth_members", b, chart_growth(b,
	    "rp-growth-members", word(cat, "rp_new_members_per_quarter"),
	    json_object_get(data, "growth"), mem, 1, cat));
	chart_put(charts, "growth_events", b, chart_growth(b,
	    "rp-growth-events", word(cat, "rp_events_chart"),
	    json_object_get(data, "growth"), evs, 2, cat));
	evbuffer_free(b);
	json_object_set_new(ctx, "identity_rows", identity_rows(id));
	json_object_set_new(ctx, "data", data);
	json_object_set_new(ctx, "charts", charts);
	json_object_set_new(ctx, "can_edit_goals",
	    json_boolean(report_all_chapters(r)));
	json_object_set_new(ctx, "all_chapters",
	    json_boolean(report_all_chapters(r)));
	json_object_set_new(ctx, "saved", json_boolean(done != NULL &&
	    strcmp(done, "goals") == 0));
	if (report_args(r, &a) == 0) {
		query_string(&a, q, sizeof(q));
		json_object_set_new(ctx, "query", json_string(q));
		json_object_set_new(ctx, "filter", json_pack("{s:s?, s:s?, "
		    "s:s?, s:s?}", "from", a.from, "to", a.to, "year", a.year,
		    "as_of", a.as_of));
	}
	web_page_csp(r, 200, "console_reports", ctx, WEB_CSP_SCRIPT);
}

/*
 * GET /console/reports?from=&to=&year=&as_of= (admin, committee,
 * leaders): every report, charts and tables; ?csv=NAME downloads one
 * report's CSV under the session, as the API gives it.
 */
void
report_console(struct req *r)
{
	struct report_args	 a;
	const char		*csv = req_query_arg(r, "csv"), *vals[6];
	char			*scope;
	int			 fail, k;

	if (csv != NULL) {
		for (k = 0; k < REPORT__MAX; k++)
			if (strcmp(csv, reports[k].name) == 0) {
				report_run(r, (enum report_kind)k, 1);
				return;
			}
		http_error(r, 404, "not_found", "No such report.");
		return;
	}
	if (report_args(r, &a) == -1)
		return;
	scope = report_scope(r, &fail);
	if (fail) {
		http_error(r, 503, "out_of_memory", "Try again.");
		return;
	}
	vals[0] = scope;
	vals[1] = a.from;
	vals[2] = a.to;
	vals[3] = a.year;
	vals[4] = a.as_of;
	req_query(r, SQL_REPORT_CONSOLE, vals, 5, console_done);
	free(scope);
}
