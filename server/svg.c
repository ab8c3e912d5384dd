/*
 * Charts for the console's reports, drawn here as inline SVG: bars of
 * shares with a goal line, a grid of quarters, columns per quarter. No
 * script and no outside service draws them, so the page works without
 * JavaScript and shows the same numbers the table beside each chart
 * holds.
 *
 * Every chart carries a <title> and a <desc> that aria-labelledby names
 * (role="img"), colours come with text (a state is also written in its
 * cell), and every piece of text goes through tmpl_escape: labels are
 * chapter and event names that staff typed. Only presentation
 * attributes are used, never style="", so the console's CSP (no inline
 * styles) holds. Values that are not finite or out of range are drawn
 * as the nearest sensible value, never as NaN in the markup.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "server.h"

/* Layout, in user units of the viewBox. */
#define SVG_WIDTH	640
#define BAR_LABEL_W	210	/* labels end here, right-aligned */
#define BAR_X0		220	/* where a share of 0 is */
#define BAR_W		330	/* the length of a share of 1 */
#define BAR_ROW		30
#define BAR_H		18
#define GRID_LABEL_W	190
#define GRID_CELL_W	84
#define GRID_CELL_H	30
#define COL_X0		56	/* the value axis */
#define COL_TOP		44	/* below the legend */
#define COL_PLOT_H	200
#define COL_PLOT_W	(SVG_WIDTH - COL_X0 - 10)

/* Series colours, each dark enough beside black text on white. */
static const char *const series_fill[] = {
	"#0b5394", "#b35900", "#1e7b34", "#8e3b8e",
};

static const char *const state_fill[SVG__STATES] = {
	[SVG_NONE] = "#ffffff",
	[SVG_OK] = "#cde9d2",
	[SVG_MISSED] = "#f3c7c7",
	[SVG_AT_RISK] = "#fbdfa8",
	[SVG_OPEN] = "#dbe6f3",
	[SVG_FUTURE] = "#eeeeee",
	[SVG_NOT_DUE] = "#ffffff",
};

/* s, escaped for text and attribute values; "" for NULL. */
static void
put_text(struct evbuffer *b, const char *s)
{
	if (s != NULL)
		tmpl_escape(b, s, strlen(s));
}

/*
 * About how wide s is drawn at 14 units a character: a wide (CJK)
 * character a full 14, anything else 8. Enough to place a legend and to
 * shorten a label, not typesetting.
 */
double
svg_text_width(const char *s)
{
	double	 w = 0;

	for (; s != NULL && *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) == 0x80)
			continue;		/* a continuation byte */
		w += (unsigned char)*s < 0x80 ? 8 : 14;
	}
	return w;
}

/*
 * s cut to fit maxw (svg_text_width), at a character boundary, with an
 * ellipsis when cut; into out (at least 4 bytes).
 */
void
svg_fit(const char *s, double maxw, char *out, size_t outsz)
{
	size_t	 i, keep = 0;
	double	 w = 0, cw;

	if (outsz < 4) {
		if (outsz > 0)
			out[0] = '\0';
		return;
	}
	if (s == NULL)
		s = "";
	if (svg_text_width(s) <= maxw && strlen(s) < outsz) {
		memcpy(out, s, strlen(s) + 1);
		return;
	}
	for (i = 0;; i++) {
		if (s[i] != '\0' && ((unsigned char)s[i] & 0xc0) == 0x80)
			continue;	/* inside a character */
		if (i + 4 > outsz)
			break;		/* no room for it and "..." */
		keep = i;		/* s[0..i) is whole characters */
		if (s[i] == '\0')
			break;
		cw = (unsigned char)s[i] < 0x80 ? 8 : 14;
		if (w + cw > maxw - 14)
			break;
		w += cw;
	}
	memcpy(out, s, keep);
	if (s[keep] == '\0')
		out[keep] = '\0';
	else
		memcpy(out + keep, "\xe2\x80\xa6", 4);	/* U+2026, NUL */
}

/* A value clamped into [lo, hi]; NaN becomes lo. */
static double
clamp(double v, double lo, double hi)
{
	if (!isfinite(v))
		return isinf(v) && v > 0 ? hi : lo;
	return v < lo ? lo : v > hi ? hi : v;
}

/* The opening tag with the chart's name and description. */
static void
svg_open(struct evbuffer *b, const char *id, const char *title,
    const char *desc, int height)
{
	evbuffer_add_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "class=\"rp-chart\" viewBox=\"0 0 %d %d\" width=\"100%%\" "
	    "role=\"img\" aria-labelledby=\"", SVG_WIDTH, height);
	put_text(b, id);
	evbuffer_add_printf(b, "-t ");
	put_text(b, id);
	evbuffer_add_printf(b, "-d\" font-family=\"system-ui, sans-serif\" "
	    "font-size=\"14\">\n<title id=\"");
	put_text(b, id);
	evbuffer_add_printf(b, "-t\">");
	put_text(b, title);
	evbuffer_add_printf(b, "</title>\n<desc id=\"");
	put_text(b, id);
	evbuffer_add_printf(b, "-d\">");
	put_text(b, desc);
	evbuffer_add_printf(b, "</desc>\n");
}

/* Text at (x, y) with an anchor (start, middle, end). */
static void
svg_label(struct evbuffer *b, double x, double y, const char *anchor,
    const char *s)
{
	evbuffer_add_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
	    "fill=\"#1a1a1a\">", x, y, anchor);
	put_text(b, s);
	evbuffer_add_printf(b, "</text>\n");
}

/* Whether the common arguments of a chart are usable. */
static int
svg_args_ok(struct evbuffer *b, const char *id, int n, int max)
{
	return b != NULL && id != NULL && *id != '\0' && n >= 0 && n <= max;
}

/*
 * Horizontal bars of shares (0..1), each with its label on the left and
 * its value text on the right; a bar with a goal gets a dashed line at
 * the goal and the goal's text above it. Axis ticks at 0, 50 and 100%.
 */
int
svg_bars(struct evbuffer *b, const char *id, const char *title,
    const char *desc, const struct svg_bar *bars, int n)
{
	int	 i, h = 14 + n * BAR_ROW + 28;
	double	 y, w, gx;
	char	 fit[SVG_MAXLABEL];

	if (!svg_args_ok(b, id, n, SVG_MAXITEMS) || (n > 0 && bars == NULL))
		return -1;
	svg_open(b, id, title, desc, h);
	for (i = 0; i <= 2; i++) {
		gx = BAR_X0 + BAR_W * i / 2.0;
		evbuffer_add_printf(b, "<line x1=\"%.1f\" y1=\"10\" "
		    "x2=\"%.1f\" y2=\"%d\" stroke=\"#bbbbbb\" "
		    "stroke-width=\"1\"/>\n",
		    gx, gx, 14 + n * BAR_ROW);
		evbuffer_add_printf(b, "<text x=\"%.1f\" y=\"%d\" "
		    "text-anchor=\"middle\" fill=\"#444444\" font-size=\"12\">"
		    "%d%%</text>\n", gx, 14 + n * BAR_ROW + 18, i * 50);
	}
	for (i = 0; i < n; i++) {
		y = 14 + i * BAR_ROW;
		w = BAR_W * clamp(bars[i].value, 0, 1);
		evbuffer_add_printf(b, "<g>\n");
		svg_fit(bars[i].label, BAR_LABEL_W - 4, fit, sizeof(fit));
		svg_label(b, BAR_LABEL_W, y + BAR_H - 4, "end", fit);
		evbuffer_add_printf(b, "<rect x=\"%d\" y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", BAR_X0, y,
		    w, BAR_H,
		    series_fill[0]);
		svg_label(b, BAR_X0 + w + 6, y + BAR_H - 4, "start",
		    bars[i].value_text);
		if (isfinite(bars[i].goal) && bars[i].goal >= 0) {
			gx = BAR_X0 + BAR_W * clamp(bars[i].goal, 0, 1);
			evbuffer_add_printf(b, "<line class=\"rp-goal\" "
			    "x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			    "stroke=\"#a00000\" stroke-width=\"3\" "
			    "stroke-dasharray=\"5 3\"/>\n", gx, y - 4, gx,
			    y + BAR_H + 4);
			if (bars[i].goal_text != NULL) {
				evbuffer_add_printf(b, "<text x=\"%.1f\" "
				    "y=\"%.1f\" text-anchor=\"middle\" "
				    "fill=\"#a00000\" font-size=\"11\">",
				    gx, y + BAR_H + 14 > h ? y - 6 :
				    y + BAR_H + 14);
				put_text(b, bars[i].goal_text);
				evbuffer_add_printf(b, "</text>\n");
			}
		}
		evbuffer_add_printf(b, "</g>\n");
	}
	evbuffer_add_printf(b, "</svg>");
	return 0;
}

/*
 * A grid: one row per label, one column per heading, each cell filled
 * by its state and holding its text (which names the state as well, so
 * colour is never the only sign). An optional legend of the states
 * named in state_names (indexed by enum svg_state; NULL: none).
 */
int
svg_grid(struct evbuffer *b, const char *id, const char *title,
    const char *desc, const char *const *cols, int ncols,
    const char *const *rows, int nrows, const struct svg_cell *cells,
    const char *const *state_names)
{
	int		 i, j, h, legend = 0;
	double		 lx;
	enum svg_state	 st;
	char		 fit[SVG_MAXLABEL];

	if (!svg_args_ok(b, id, nrows, SVG_MAXITEMS) || ncols < 0 ||
	    ncols > SVG_MAXCOLS || (ncols > 0 && cols == NULL) ||
	    (nrows > 0 && (rows == NULL || (ncols > 0 && cells == NULL))))
		return -1;
	if (state_names != NULL)
		for (i = 0; i < SVG__STATES; i++)
			legend |= state_names[i] != NULL;
	h = 34 + nrows * GRID_CELL_H + (legend ? 36 : 8);
	svg_open(b, id, title, desc, h);
	for (j = 0; j < ncols; j++) {
		svg_fit(cols[j], GRID_CELL_W - 4, fit, sizeof(fit));
		svg_label(b, GRID_LABEL_W + j * GRID_CELL_W + GRID_CELL_W / 2.0,
		    22, "middle", fit);
	}
	for (i = 0; i < nrows; i++) {
		evbuffer_add_printf(b, "<g>\n");
		svg_fit(rows[i], GRID_LABEL_W - 12, fit, sizeof(fit));
		svg_label(b, GRID_LABEL_W - 8, 34 + i * GRID_CELL_H + 20,
		    "end", fit);
		for (j = 0; j < ncols; j++) {
			st = cells[i * ncols + j].state;
			if ((int)st < 0 || st >= SVG__STATES)
				st = SVG_NONE;
			evbuffer_add_printf(b, "<rect x=\"%d\" y=\"%d\" "
			    "width=\"%d\" height=\"%d\" fill=\"%s\" "
			    "stroke=\"#666666\" stroke-width=\"1\"/>\n",
			    GRID_LABEL_W + j * GRID_CELL_W,
			    34 + i * GRID_CELL_H, GRID_CELL_W, GRID_CELL_H,
			    state_fill[st]);
			svg_fit(cells[i * ncols + j].text, GRID_CELL_W - 4,
			    fit, sizeof(fit));
			svg_label(b, GRID_LABEL_W + j * GRID_CELL_W +
			    GRID_CELL_W / 2.0, 34 + i * GRID_CELL_H + 20,
			    "middle", fit);
		}
		evbuffer_add_printf(b, "</g>\n");
	}
	if (legend) {
		lx = 10;
		for (i = 0; i < SVG__STATES; i++) {
			if (state_names[i] == NULL)
				continue;
			evbuffer_add_printf(b, "<rect x=\"%.1f\" y=\"%d\" "
			    "width=\"14\" height=\"14\" fill=\"%s\" "
			    "stroke=\"#666666\" stroke-width=\"1\"/>\n", lx,
			    h - 26, state_fill[i]);
			svg_label(b, lx + 18, h - 14, "start", state_names[i]);
			lx += 18 + svg_text_width(state_names[i]) + 16;
		}
	}
	evbuffer_add_printf(b, "</svg>");
	return 0;
}

/*
 * A round top for a count axis, >= v: 2, 4, 6 or 10 times a power of
 * ten, so that its half, the middle gridline, is a whole number too.
 */
double
svg_nice_max(double v)
{
	double	 p = 1;

	v = clamp(v, 0, 1e15);
	while (p * 10 < v)
		p *= 10;
	if (v <= 2 * p)
		return 2 * p;
	if (v <= 4 * p)
		return 4 * p;
	if (v <= 6 * p)
		return 6 * p;
	return 10 * p;
}

/*
 * Grouped columns: for each label (a quarter), one column per series,
 * values[i * nseries + s]; a value axis from 0 to a round maximum with
 * its gridlines, the series named in a legend. Values are counts: below
 * 0 is drawn as 0. With few columns each carries its number.
 */
int
svg_columns(struct evbuffer *b, const char *id, const char *title,
    const char *desc, const char *const *labels, int n,
    const char *const *series, int nseries, const double *values)
{
	int	 i, s, every, h = COL_TOP + COL_PLOT_H + 30;
	double	 max = 0, top, gw, bw, x, v, bh, gy, lx;
	char	 num[32], fit[SVG_MAXLABEL];

	if (!svg_args_ok(b, id, n, SVG_MAXITEMS) || nseries < 1 ||
	    nseries > (int)(sizeof(series_fill) / sizeof(series_fill[0])) ||
	    series == NULL || (n > 0 && (labels == NULL || values == NULL)))
		return -1;
	for (i = 0; i < n * nseries; i++)
		if (clamp(values[i], 0, 1e15) > max)
			max = clamp(values[i], 0, 1e15);
	top = svg_nice_max(max);
	svg_open(b, id, title, desc, h);
	for (i = 0; i <= 2; i++) {
		gy = COL_TOP + COL_PLOT_H - COL_PLOT_H * i / 2.0;
		evbuffer_add_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
		    "y2=\"%.1f\" stroke=\"#bbbbbb\" stroke-width=\"1\"/>\n",
		    COL_X0, gy, COL_X0 + COL_PLOT_W, gy);
		snprintf(num, sizeof(num), "%g", top * i / 2.0);
		evbuffer_add_printf(b, "<text x=\"%d\" y=\"%.1f\" "
		    "text-anchor=\"end\" fill=\"#444444\" font-size=\"12\">"
		    "%s</text>\n", COL_X0 - 6, gy + 4, num);
	}
	lx = COL_X0;
	for (s = 0; s < nseries; s++) {
		evbuffer_add_printf(b, "<rect x=\"%.1f\" y=\"6\" "
		    "width=\"14\" height=\"14\" fill=\"%s\"/>\n", lx,
		    series_fill[s]);
		svg_label(b, lx + 18, 18, "start", series[s]);
		lx += 18 + svg_text_width(series[s]) + 16;
	}
	gw = n > 0 ? (double)COL_PLOT_W / n : 0;
	bw = gw * 0.7 / nseries;
	/* Every label, or every second, third...: as many as fit. */
	every = 1;
	if (n > 0 && gw > 0)
		every = (int)((svg_text_width(labels[0]) + 8) / gw) + 1;
	if (every < 1)
		every = 1;
	for (i = 0; i < n; i++) {
		evbuffer_add_printf(b, "<g>\n");
		for (s = 0; s < nseries; s++) {
			v = clamp(values[i * nseries + s], 0, 1e15);
			bh = COL_PLOT_H * v / top;
			x = COL_X0 + i * gw + gw * 0.15 + s * bw;
			evbuffer_add_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" "
			    "width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
			    x, COL_TOP + COL_PLOT_H - bh, bw, bh,
			    series_fill[s]);
			if (n * nseries <= 24) {
				snprintf(num, sizeof(num), "%g", v);
				evbuffer_add_printf(b, "<text x=\"%.1f\" "
				    "y=\"%.1f\" text-anchor=\"middle\" "
				    "fill=\"#1a1a1a\" font-size=\"11\">%s"
				    "</text>\n", x + bw / 2,
				    COL_TOP + COL_PLOT_H - bh - 3, num);
			}
		}
		if (i % every == 0) {
			svg_fit(labels[i], gw * every, fit, sizeof(fit));
			svg_label(b, COL_X0 + i * gw + gw / 2,
			    COL_TOP + COL_PLOT_H + 18, "middle", fit);
		}
		evbuffer_add_printf(b, "</g>\n");
	}
	evbuffer_add_printf(b, "</svg>");
	return 0;
}

/* An evbuffer's bytes as a new NUL-terminated string, or NULL. */
char *
svg_string(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);
	char	*s;

	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	evbuffer_copyout(b, s, len);
	s[len] = '\0';
	return s;
}
