// SPDX-License-Identifier: GPL-2.0
/* The ring's loss and wait counters, typed, as capture, drain and ring say them. */
#include <inttypes.h>

#include "cli.h"

void ring_counters_print(FILE *f, const struct resmem_ring_counters *c)
{
	fprintf(f,
		"refused %" PRIu64 ", overwritten unread %" PRIu64
		", waited %.3f s, corrupt %" PRIu64,
		c->refused, c->overwritten, (double)c->wait_ns / 1e9,
		c->corrupt);
}

void ring_counters_summary(FILE *f, const char *cmd, const char *name,
			   const struct resmem_ring *r)
{
	struct resmem_ring_counters run, all;

	resmem_ring_run_counters(r, &run);
	resmem_ring_counters(r, &all);
	fprintf(f, "%s %s: this run: ", cmd, name);
	ring_counters_print(f, &run);
	fprintf(f, "\n%s %s: since reset: ", cmd, name);
	ring_counters_print(f, &all);
	fputc('\n', f);
}
