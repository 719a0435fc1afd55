// SPDX-License-Identifier: GPL-2.0
/*
 * Numbers a monitor can read, for capture and drain: --stats N lines (text,
 * or one JSON object per line with --json) carrying what happened in each
 * interval, so the lines add up to the summary; the --json summary; and the
 * terminal's "waiting for consumer" note.  Fed by struct ring_report: the
 * commands fill in the counters, this file only formats.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The counters in JSON key order, with the names the ring format uses. */
static const struct {
	const char *key;
	size_t off;
	unsigned int bit;
} counters[] = {
	{ "refused", offsetof(struct ring_counts, refused), RING_HAVE_REFUSED },
	{ "overwritten", offsetof(struct ring_counts, overwritten),
	  RING_HAVE_OVERWRITTEN },
	{ "lost", offsetof(struct ring_counts, lost), RING_HAVE_LOST },
	{ "corrupt", offsetof(struct ring_counts, corrupt), RING_HAVE_CORRUPT },
	{ "wait_ns", offsetof(struct ring_counts, wait_ns), RING_HAVE_WAIT },
};

static uint64_t counter(const struct ring_counts *c, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)c + counters[i].off, sizeof(v));
	return v;
}

static double fill_percent(const struct ring_report *rep)
{
	return rep->data_size ?
		       100.0 * (double)rep->unread / (double)rep->data_size :
		       0;
}

static double rate(uint64_t bytes, double secs)
{
	return secs > 0 ? (double)bytes / secs : 0;
}

/* The fields stats lines and the summary share: @c over @secs seconds. */
static void json_fields(FILE *f, const struct ring_report *rep,
			const struct ring_counts *c, double secs)
{
	size_t i;

	fprintf(f, "\"command\": \"%s\", \"name\": ", rep->cmd);
	json_string(f, rep->name);
	fprintf(f,
		", \"records\": %" PRIu64 ", \"bytes\": %" PRIu64
		", \"seconds\": %.3f, \"rate\": %.0f, \"fill\": %.2f",
		c->records, c->bytes, secs, rate(c->bytes, secs),
		fill_percent(rep));
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (rep->have & counters[i].bit)
			fprintf(f, ", \"%s\": %" PRIu64, counters[i].key,
				counter(c, i));
	if (rep->have & RING_HAVE_WAIT)
		fprintf(f, ", \"waited_seconds\": %.3f",
			(double)c->wait_ns / 1e9);
}

/* One line of text: "capture NAME: +N records, SIZE, RATE/s, fill ...". */
static void text_fields(FILE *f, const struct ring_report *rep,
			const struct ring_counts *c, double secs)
{
	char b[32], r[32];
	size_t i;

	resmem_format_size(c->bytes, b, sizeof(b));
	resmem_format_size((uint64_t)rate(c->bytes, secs), r, sizeof(r));
	fprintf(f,
		"%s %s: %" PRIu64 " records, %s in %.1f s, %s/s, fill %.1f%%",
		rep->cmd, rep->name, c->records, b, secs, r, fill_percent(rep));
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if ((rep->have & counters[i].bit) &&
		    counters[i].bit != RING_HAVE_WAIT)
			fprintf(f, ", %s %" PRIu64, counters[i].key,
				counter(c, i));
	if (rep->have & RING_HAVE_WAIT)
		fprintf(f, ", waited %.3f s", (double)c->wait_ns / 1e9);
}

static void sub(struct ring_counts *d, const struct ring_counts *a,
		const struct ring_counts *b)
{
	d->records = a->records - b->records;
	d->bytes = a->bytes - b->bytes;
	d->refused = a->refused - b->refused;
	d->overwritten = a->overwritten - b->overwritten;
	d->lost = a->lost - b->lost;
	d->corrupt = a->corrupt - b->corrupt;
	d->wait_ns = a->wait_ns - b->wait_ns;
}

void ring_report_start(struct ring_report *rep, const char *cmd,
		       const char *name, FILE *out, int json, double every)
{
	memset(rep, 0, sizeof(*rep));
	rep->cmd = cmd;
	rep->name = name;
	rep->out = out;
	rep->json = json;
	rep->every = every;
	rep->t0 = rep->last = now_seconds();
}

/* The interval since the last stats line, as one line; @now ends it. */
static void stats_line(struct ring_report *rep, double now)
{
	struct ring_counts d;

	sub(&d, &rep->total, &rep->at_last);
	if (rep->json) {
		fprintf(rep->out, "{\"type\": \"stats\", ");
		json_fields(rep->out, rep, &d, now - rep->last);
		fprintf(rep->out, ", \"elapsed\": %.3f}\n", now - rep->t0);
	} else {
		text_fields(rep->out, rep, &d, now - rep->last);
		fprintf(rep->out, " (interval)\n");
	}
	fflush(rep->out);
	rep->at_last = rep->total;
	rep->last = now;
}

int ring_report_tick(struct ring_report *rep, double now)
{
	if (rep->every <= 0 || now - rep->last < rep->every)
		return 0;
	stats_line(rep, now);
	return 1;
}

void ring_report_waiting(const struct ring_report *rep, double since,
			 double now)
{
	(void)rep;
	if (since > 0)
		fprintf(stderr, "waiting for consumer %.1f s", now - since);
	fprintf(stderr, "\033[K"); /* clear what a longer line left */
}

void ring_report_end(struct ring_report *rep, double now)
{
	if (rep->every > 0)
		stats_line(rep, now); /* the last, partial interval */
	if (!rep->json)
		return; /* the command prints its text summary */
	fprintf(rep->out, "{\"type\": \"summary\", ");
	json_fields(rep->out, rep, &rep->total, now - rep->t0);
	if (rep->have_seq)
		fprintf(rep->out,
			", \"first_seq\": %" PRIu64 ", \"last_seq\": %" PRIu64,
			rep->first_seq, rep->last_seq);
	if (rep->have_epoch)
		fprintf(rep->out, ", \"epoch\": %u", rep->epoch);
	fprintf(rep->out, "}\n");
	fflush(rep->out);
}

int parse_stats_seconds(const char *cmd, const struct cli_option *o,
			const char *arg)
{
	double *secs = o->value;
	char *end;

	*secs = strtod(arg, &end);
	if (*end || end == arg || !(*secs > 0) || *secs > 1e9)
		return usage_error(
			cmd, "bad --stats '%s': seconds, e.g. 10 or 0.5", arg);
	return 0;
}
