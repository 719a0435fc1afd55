// SPDX-License-Identifier: GPL-2.0
/*
 * drain's report of what is missing from the stream: one stderr line per
 * kind (lost, refused, corrupt) and, with --index, one "gap" line each:
 *   gap FIRST_SEQ LAST_SEQ COUNT KIND FIRST_NS LAST_NS
 * FIRST_NS..LAST_NS: the refusals' times from the GAP record, or for lost
 * and corrupt records the time_ns of the records on either side.
 */
#include <inttypes.h>

#include "cli.h"

static void gap_line(struct drain_gaps *g, uint64_t first, uint64_t count,
		     const char *kind, uint64_t first_ns, uint64_t last_ns)
{
	if (!count || !g->index)
		return;
	fprintf(g->index,
		"gap %" PRIu64 " %" PRIu64 " %" PRIu64 " %s %" PRIu64
		" %" PRIu64 "\n",
		first, first + count - 1, count, kind, first_ns, last_ns);
}

/* One stderr line "drain NAME: ..." with @n and @seq, if @n. */
static void say(const struct drain_gaps *g, uint64_t n, const char *fmt,
		uint64_t seq)
{
	if (!n)
		return;
	fprintf(stderr, "%sdrain %s: ", g->tty ? "\r" : "", g->name);
	fprintf(stderr, fmt, n, seq);
}

void drain_gaps_before(struct drain_gaps *g,
		       const struct resmem_ring_recinfo *ri)
{
	uint64_t refused_at = ri->seq - ri->refused,
		 lost_at = refused_at - ri->lost,
		 corrupt_at = lost_at - ri->corrupt;

	say(g, ri->corrupt,
	    "%" PRIu64
	    " corrupt records (bad CRC or sequence) before seq %" PRIu64
	    ": not copied\n",
	    ri->seq);
	say(g, ri->lost,
	    "gap: %" PRIu64
	    " records lost (overwritten before they were read) before seq %" PRIu64
	    "\n",
	    ri->seq);
	say(g, ri->refused,
	    "gap: %" PRIu64
	    " records refused by the producer (ring full) before seq %" PRIu64
	    "\n",
	    ri->seq);
	gap_line(g, corrupt_at, ri->corrupt, "corrupt", g->prev_ns,
		 ri->time_ns);
	gap_line(g, lost_at, ri->lost, "lost", g->prev_ns, ri->time_ns);
	gap_line(g, refused_at, ri->refused, "refused",
		 ri->refused_first_ns ? ri->refused_first_ns : g->prev_ns,
		 ri->refused_last_ns ? ri->refused_last_ns : ri->time_ns);
	g->prev_ns = ri->time_ns;
}

void drain_gaps_end(struct drain_gaps *g,
		    const struct resmem_ring_reader_stats *rs)
{
	if (rs->pending_refused) {
		fprintf(stderr,
			"drain %s: gap: %" PRIu64
			" records refused by the producer (ring full) after the last record\n",
			g->name, rs->pending_refused);
		gap_line(g, rs->seq - rs->pending_refused, rs->pending_refused,
			 "refused",
			 rs->pending_first_ns ? rs->pending_first_ns :
						g->prev_ns,
			 rs->pending_last_ns);
	}
}
