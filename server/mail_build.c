/*
 * One outbox row made into a MIME message, in steps: the context the
 * templates see (the recipient's own registration, their event, their
 * links: nothing of anyone else), the manage and join links opened from
 * the sealed secret, the ticket signed and drawn, the text and HTML
 * rendered from templates/ in the attendee's language, the parts put
 * together with GMime, and the bytes written for the wire.
 *
 * Runs on the mail sender's thread (mail_worker.c). Everything secret it
 * makes (the manage link, the ticket, the rendered text) is wiped before
 * it is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <gmime/gmime.h>
#include <sodium.h>

#include "server.h"

/* A message being built: what each step leaves for the next. */
struct draft {
	const struct mail_settings *cf;
	const struct ticket_key	*tkey;
	json_t		*m;		/* the outbox row */
	json_t		*reg, *ev, *t;	/* its registration, event, catalog */
	const char	*kind, *email, *name;
	int		 confirmed, online;
	json_t		*ctx;		/* what the templates see */
	char		 secret[SECRET_LEN + 8];
	char		 subject[512];
	char		*tok;
	unsigned char	*png;
	size_t		 pnglen;
	struct evbuffer	*text, *html, *ics;
	GByteArray	*btext, *bhtml, *bics, *bpng;
	GMimeMessage	*msg;
};

/* Zero a JSON string in place before it is freed: it held a secret. */
static void
json_wipe(json_t *o, const char *k)
{
	json_t	*v = json_object_get(o, k);

	if (json_is_string(v))
		sodium_memzero((char *)json_string_value(v),
		    json_string_length(v));
}

/* Wipe and free a buffer that held a message. */
static void
evbuffer_wipe_free(struct evbuffer *b)
{
	size_t	 len;

	if (b == NULL)
		return;
	if ((len = evbuffer_get_length(b)) > 0)
		sodium_memzero(evbuffer_pullup(b, -1), len);
	evbuffer_free(b);
}

/*
 * A MIME part over bytes we own (so we can wipe them afterwards):
 * GMime reads them through a memory stream that does not own them.
 */
static GMimePart *
part_new(const char *type, const char *subtype, GByteArray *bytes,
    GMimeContentEncoding enc)
{
	GMimePart		*p = g_mime_part_new_with_type(type, subtype);
	GMimeStream		*st;
	GMimeDataWrapper	*dw;

	st = g_mime_stream_mem_new_with_byte_array(bytes);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
	dw = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(p, dw);
	g_object_unref(dw);
	g_object_unref(st);
	if (enc != GMIME_CONTENT_ENCODING_DEFAULT)
		g_mime_part_set_content_encoding(p, enc);
	else
		g_mime_object_encode(GMIME_OBJECT(p),
		    GMIME_ENCODING_CONSTRAINT_7BIT);
	return p;
}

/* A copy of a buffer's bytes for GMime. */
static GByteArray *
bytes_of(struct evbuffer *b)
{
	GByteArray	*a = g_byte_array_new();
	size_t		 len = evbuffer_get_length(b);

	g_byte_array_append(a, evbuffer_pullup(b, -1), (guint)len);
	return a;
}

/* Wipe and free bytes GMime read. */
static void
bytes_wipe_free(GByteArray *a)
{
	if (a == NULL)
		return;
	sodium_memzero(a->data, a->len);
	g_byte_array_free(a, TRUE);
}

/* Messages with the ticket and the calendar file, when confirmed. */
static int
kind_has_ticket(const char *kind)
{
	return strcmp(kind, "confirmed") == 0 || strcmp(kind, "promoted") == 0 ||
	    strcmp(kind, "reminder") == 0 || strcmp(kind, "resend") == 0;
}

/*
 * Step 1 for a staff account's message (account_reset, account_invite):
 * the account's address and name, the console's one-time link opened from
 * the sealed secret. No event, no ticket.
 */
static int
draft_account(struct draft *d, const char *lang, char *err, size_t errlen)
{
	json_t		*acct = json_object_get(d->m, "account");
	const char	*s;
	char		 url[1024];

	d->email = json_string_value(json_object_get(acct, "email"));
	d->name = json_string_value(json_object_get(acct, "name"));
	s = json_string_value(json_object_get(d->m, "sealed"));
	if (lang == NULL || d->email == NULL || d->name == NULL || s == NULL ||
	    secret_unseal(s, d->secret, sizeof(d->secret)) == -1) {
		snprintf(err, errlen, "message data incomplete");
		return -2;
	}
	d->t = d->cf->catalogs[strcmp(lang, "zh-CN") == 0];
	d->ev = json_object_get(d->m, "detail");
	d->ctx = json_pack("{s:O, s:s, s:O, s:s}", "t", d->t, "lang", lang,
	    "reg", acct, "site_url", d->cf->public_url);
	if (d->ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(url, sizeof(url), "%s/console/password/%s",
	    d->cf->public_url, d->secret);
	json_object_set_new(d->ctx, "link_url", json_string(url));
	sodium_memzero(url, sizeof(url));
	return 0;
}

/* Whether the row is a staff account's message rather than an attendee's. */
static int
kind_is_account(const char *kind)
{
	return strncmp(kind, "account_", 8) == 0;
}

/* Whether the row is a (future) member's message: no registration. */
static int
kind_is_member(const char *kind)
{
	return strncmp(kind, "member_", 7) == 0;
}

/*
 * Step 1 for a member's message (member_confirm to a join request,
 * member_link to a member): the address and name, the link opened from
 * the sealed secret: /join/{secret} to confirm, /member/{secret} to
 * their page. No event, no ticket.
 */
static int
draft_member(struct draft *d, const char *lang, char *err, size_t errlen)
{
	json_t		*who = json_object_get(d->m, "member");
	const char	*s;
	char		 url[1024];

	d->email = json_string_value(json_object_get(who, "email"));
	d->name = json_string_value(json_object_get(who, "name"));
	s = json_string_value(json_object_get(d->m, "sealed"));
	if (lang == NULL || d->email == NULL || d->name == NULL || s == NULL ||
	    secret_unseal(s, d->secret, sizeof(d->secret)) == -1) {
		snprintf(err, errlen, "message data incomplete");
		return -2;
	}
	d->t = d->cf->catalogs[strcmp(lang, "zh-CN") == 0];
	d->ev = json_object_get(d->m, "detail");
	d->ctx = json_pack("{s:O, s:s, s:O, s:s}", "t", d->t, "lang", lang,
	    "reg", who, "site_url", d->cf->public_url);
	if (d->ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(url, sizeof(url), "%s/%s/%s", d->cf->public_url,
	    strcmp(d->kind, "member_confirm") == 0 ? "join" : "member",
	    d->secret);
	json_object_set_new(d->ctx, "link_url", json_string(url));
	sodium_memzero(url, sizeof(url));
	return 0;
}

/* Step 1: the row's parts and the templates' context. -2 when unusable. */
static int
draft_context(struct draft *d, char *err, size_t errlen)
{
	const char	*lang, *status, *evkind, *s, *start;
	char		 url[1024], tname[64];
	json_t		*c;
	size_t		 i;
	int		 zh;

	d->kind = json_string_value(json_object_get(d->m, "kind"));
	lang = json_string_value(json_object_get(d->m, "lang"));
	if (d->kind != NULL && kind_is_account(d->kind))
		return draft_account(d, lang, err, errlen);
	if (d->kind != NULL && kind_is_member(d->kind))
		return draft_member(d, lang, err, errlen);
	d->reg = json_object_get(d->m, "reg");
	d->ev = json_object_get(d->reg, "event");
	d->email = json_string_value(json_object_get(d->reg, "email"));
	d->name = json_string_value(json_object_get(d->reg, "name"));
	status = json_string_value(json_object_get(d->reg, "status"));
	evkind = json_string_value(json_object_get(d->ev, "kind"));
	if (d->kind == NULL || lang == NULL || d->email == NULL ||
	    d->name == NULL || status == NULL || evkind == NULL) {
		snprintf(err, errlen, "message data incomplete");
		return -2;
	}
	zh = strcmp(lang, "zh-CN") == 0;
	d->t = d->cf->catalogs[zh];
	d->confirmed = strcmp(status, "confirmed") == 0;
	d->online = strcmp(evkind, "nighttalk") == 0;
	d->ctx = json_pack("{s:O, s:s, s:O, s:O, s:s, s:b, s:b}", "t", d->t,
	    "lang", lang, "reg", d->reg, "event", d->ev, "site_url",
	    d->cf->public_url, "confirmed", d->confirmed, "is_online",
	    d->online);
	if (d->ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	util_local_time(d->ev, "starts_at_local", "starts_display");
	/* Online, people join from anywhere: the start in UTC as well. */
	if (d->online)
		util_local_time(d->ev, "starts_at", "starts_utc");
	util_local_time(d->ev, "ends_at_local", "ends_display");
	s = json_string_value(json_object_get(d->ev, "ends_display"));
	start = json_string_value(json_object_get(d->ev, "starts_display"));
	if (s != NULL && strlen(s) > 11 && strncmp(s, start ? start : "",
	    10) == 0)
		json_object_set_new(d->ev, "ends_short", json_string(s + 11));
	else if (s != NULL)
		json_object_set_new(d->ev, "ends_short", json_string(s));
	snprintf(url, sizeof(url), "%s/events/%lld", d->cf->public_url,
	    (long long)json_integer_value(json_object_get(d->ev, "id")));
	json_object_set_new(d->ctx, "event_url", json_string(url));
	json_array_foreach(json_object_get(json_object_get(d->m, "detail"),
	    "changed"), i, c) {
		if ((s = json_string_value(c)) == NULL)
			continue;
		snprintf(tname, sizeof(tname), "changed_%s", s);
		json_object_set_new(d->ctx, tname, json_true());
	}
	return 0;
}

/* Step 2: the manage link (and join link), only in this attendee's mail. */
static void
draft_links(struct draft *d)
{
	const char	*s;
	char		 url[1024], join[64];
	int		 have = 0;

	if (kind_is_account(d->kind) || kind_is_member(d->kind))
		return;
	if ((s = json_string_value(json_object_get(d->m, "sealed"))) != NULL &&
	    secret_unseal(s, d->secret, sizeof(d->secret)) == 0) {
		have = 1;
		snprintf(url, sizeof(url), "%s/manage/%s", d->cf->public_url,
		    d->secret);
		json_object_set_new(d->ctx, "manage_url", json_string(url));
		if (d->online && d->confirmed) {
			secret_join(d->secret, join, sizeof(join));
			snprintf(url, sizeof(url), "%s/j/%s",
			    d->cf->public_url, join);
			json_object_set_new(d->ctx, "join_url",
			    json_string(url));
			sodium_memzero(join, sizeof(join));
		}
		sodium_memzero(url, sizeof(url));
	}
	json_object_set_new(d->ctx, "has_manage", json_boolean(have));
}

/* Step 3: the ticket, signed as the manage page signs it, as a PNG. */
static int
draft_ticket(struct draft *d, char *err, size_t errlen)
{
	json_t	*claims = json_object_get(d->reg, "ticket_claims");

	/* Online events have no door: their mails carry the join link. */
	if (d->online || !d->confirmed || !kind_has_ticket(d->kind) ||
	    !json_is_object(claims) || d->tkey->priv_pem == NULL)
		return 0;
	d->tok = ticket_sign(d->tkey, json_integer_value(json_object_get(
	    claims, "ev")), json_integer_value(json_object_get(claims, "reg")),
	    json_string_value(json_object_get(claims, "jti")),
	    (long)json_integer_value(json_object_get(claims, "iat")));
	if (d->tok == NULL)
		return 0;
	if (ticket_png(d->tok, &d->png, &d->pnglen) == -1) {
		snprintf(err, errlen, "cannot draw the ticket");
		return -1;
	}
	json_object_set_new(d->ctx, "has_ticket", json_true());
	return 0;
}

/* Step 4: subject, calendar file, text and HTML from the templates. */
static int
draft_render(struct draft *d, char *err, size_t errlen)
{
	const char	*pre, *title;
	char		 tname[64];
	size_t		 i;

	snprintf(tname, sizeof(tname), "subject_%s", d->kind);
	pre = json_string_value(json_object_get(d->t, tname));
	title = json_string_value(json_object_get(d->ev, "title"));
	snprintf(d->subject, sizeof(d->subject), "%s%s", pre ? pre : "",
	    title ? title : "");
	for (i = 0; d->subject[i] != '\0'; i++)
		if (d->subject[i] == '\r' || d->subject[i] == '\n')
			d->subject[i] = ' ';
	if (d->confirmed && (kind_has_ticket(d->kind) ||
	    strcmp(d->kind, "event_changed") == 0))
		d->ics = ics_render(d->reg, json_string_value(json_object_get(
		    d->ctx, "event_url")), json_string_value(json_object_get(
		    d->ctx, "join_url")));
	json_object_set_new(d->ctx, "has_ics", json_boolean(d->ics != NULL));
	snprintf(tname, sizeof(tname), "mail_%s.txt", d->kind);
	d->text = tmpl_render(tname, d->ctx);
	snprintf(tname, sizeof(tname), "mail_%s", d->kind);
	d->html = tmpl_render(tname, d->ctx);
	if (d->text == NULL || d->html == NULL) {
		snprintf(err, errlen, "template mail_%s does not render",
		    d->kind);
		return -1;
	}
	return 0;
}

/* The headers: From, To, Subject, Date, Message-ID, Auto-Submitted. */
static void
draft_headers(struct draft *d)
{
	char		 msgid[320];
	const char	*at;
	GDateTime	*now;

	d->msg = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(d->msg, GMIME_ADDRESS_TYPE_FROM,
	    d->cf->from_name[0] ? d->cf->from_name : NULL, d->cf->from);
	g_mime_message_add_mailbox(d->msg, GMIME_ADDRESS_TYPE_TO, d->name,
	    d->email);
	g_mime_message_set_subject(d->msg, d->subject, "utf-8");
	now = g_date_time_new_now_utc();
	g_mime_message_set_date(d->msg, now);
	g_date_time_unref(now);
	at = strrchr(d->cf->from, '@');
	snprintf(msgid, sizeof(msgid), "rollcall.%lld.%lld@%s",
	    (long long)json_integer_value(json_object_get(d->m, "id")),
	    (long long)json_integer_value(json_object_get(d->m, "created_at")),
	    at != NULL ? at + 1 : "rollcall");
	g_mime_message_set_message_id(d->msg, msgid);
	g_mime_object_set_header(GMIME_OBJECT(d->msg), "Auto-Submitted",
	    "auto-generated", NULL);
}

/* A text part (plain or html) in UTF-8. */
static GMimeObject *
text_part(const char *subtype, GByteArray *bytes)
{
	GMimePart	*part;

	part = part_new("text", subtype, bytes, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part),
	    "charset", "utf-8");
	return GMIME_OBJECT(part);
}

/* Put child into a new multipart of subtype; the multipart holds it. */
static GMimeObject *
wrap(const char *subtype, GMimeObject *child)
{
	GMimeMultipart	*mp = g_mime_multipart_new_with_subtype(subtype);

	g_mime_multipart_add(mp, child);
	g_object_unref(child);
	return GMIME_OBJECT(mp);
}

/*
 * Step 5: the MIME tree,
 * multipart/mixed [ related [ alternative [text, html], png ], ics ].
 */
static void
draft_mime(struct draft *d)
{
	GMimeObject	*body, *p;
	GMimePart	*part;

	draft_headers(d);
	d->btext = bytes_of(d->text);
	d->bhtml = bytes_of(d->html);
	body = wrap("alternative", text_part("plain", d->btext));
	p = text_part("html", d->bhtml);
	g_mime_multipart_add(GMIME_MULTIPART(body), p);
	g_object_unref(p);
	if (d->png != NULL) {
		d->bpng = g_byte_array_new();
		g_byte_array_append(d->bpng, d->png, (guint)d->pnglen);
		body = wrap("related", body);
		g_mime_object_set_content_type_parameter(body, "type",
		    "multipart/alternative");
		part = part_new("image", "png", d->bpng,
		    GMIME_CONTENT_ENCODING_BASE64);
		g_mime_part_set_content_id(part, "ticket@rollcall");
		g_mime_object_set_disposition(GMIME_OBJECT(part), "inline");
		g_mime_part_set_filename(part, "ticket.png");
		g_mime_multipart_add(GMIME_MULTIPART(body), GMIME_OBJECT(part));
		g_object_unref(part);
	}
	if (d->ics != NULL) {
		d->bics = bytes_of(d->ics);
		body = wrap("mixed", body);
		part = part_new("text", "calendar", d->bics,
		    GMIME_CONTENT_ENCODING_BASE64);
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(part),
		    "charset", "utf-8");
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(part),
		    "method", "PUBLISH");
		g_mime_object_set_disposition(GMIME_OBJECT(part), "attachment");
		g_mime_part_set_filename(part, "event.ics");
		g_mime_multipart_add(GMIME_MULTIPART(body), GMIME_OBJECT(part));
		g_object_unref(part);
	}
	g_mime_message_set_mime_part(d->msg, body);
	g_object_unref(body);
}

/* Step 6: the bytes for the wire; SMTP wants CRLF, sendmail(8) LF. */
static int
draft_write(struct draft *d, struct mail_built *out, char *err,
    size_t errlen)
{
	GMimeFormatOptions	*fo;
	GMimeStream		*st;
	GByteArray		*wire;

	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, d->cf->smtp != NULL ?
	    GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX);
	st = g_mime_stream_mem_new();
	if (g_mime_object_write_to_stream(GMIME_OBJECT(d->msg), fo, st) < 0) {
		g_mime_format_options_free(fo);
		g_object_unref(st);
		snprintf(err, errlen, "cannot write the message");
		return -1;
	}
	g_mime_format_options_free(fo);
	wire = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(st));
	if ((out->data = malloc(wire->len + 1)) != NULL) {
		memcpy(out->data, wire->data, wire->len);
		out->data[wire->len] = '\0';
		out->len = wire->len;
	}
	sodium_memzero(wire->data, wire->len);
	g_object_unref(st);
	if (out->data == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Wipe and release everything a draft holds. */
static void
draft_free(struct draft *d)
{
	if (d->msg != NULL)
		g_object_unref(d->msg);
	bytes_wipe_free(d->btext);
	bytes_wipe_free(d->bhtml);
	bytes_wipe_free(d->bics);
	bytes_wipe_free(d->bpng);
	evbuffer_wipe_free(d->text);
	evbuffer_wipe_free(d->html);
	evbuffer_wipe_free(d->ics);
	free(d->png);
	free(d->tok);
	if (d->ctx != NULL) {
		json_wipe(d->ctx, "manage_url");
		json_wipe(d->ctx, "join_url");
		json_wipe(d->ctx, "link_url");
		json_decref(d->ctx);
	}
	sodium_memzero(d, sizeof(*d));
}

/*
 * Build message m (a row of rc_outbox_claim) into out, signing its ticket
 * with tkey. With err set: -2 when the data cannot make a message
 * (retrying will not help), -1 when it may later (a template that does
 * not render until it is fixed, memory).
 */
int
mail_build(const struct mail_settings *cf, const struct ticket_key *tkey,
    json_t *m, struct mail_built *out, char *err, size_t errlen)
{
	struct draft	 d;
	int		 rc;

	memset(&d, 0, sizeof(d));
	memset(out, 0, sizeof(*out));
	d.cf = cf;
	d.tkey = tkey;
	d.m = m;
	if ((rc = draft_context(&d, err, errlen)) == 0) {
		snprintf(out->to, sizeof(out->to), "%s", d.email);
		draft_links(&d);
		if ((rc = draft_ticket(&d, err, errlen)) == 0 &&
		    (rc = draft_render(&d, err, errlen)) == 0) {
			draft_mime(&d);
			rc = draft_write(&d, out, err, errlen);
		}
	}
	draft_free(&d);
	return rc;
}
