// SPDX-License-Identifier: GPL-2.0
/*
 * Progress and rate for long fills and verifies.  Only on a terminal and only
 * past 64 MiB: pipes and logs get no carriage-return noise.
 */
#include <unistd.h>

#include "cli.h"

#define PROGRESS_MIN (64ULL << 20)
#define PROGRESS_EVERY 0.25 /* seconds between redraws */

static double seconds(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void draw(const struct progress *p, const struct timespec *now)
{
	char done[32], total[32], rate[32];
	double t = seconds(&p->start, now);

	resmem_format_size(p->done, done, sizeof(done));
	resmem_format_size(p->total, total, sizeof(total));
	resmem_format_size(t > 0 ? (uint64_t)((double)p->done / t) : 0, rate,
			   sizeof(rate));
	fprintf(stderr, "\r%s %s: %s / %s (%3u%%) %s/s   ", p->verb, p->name,
		done, total,
		(unsigned)(p->total ? p->done * 100 / p->total : 100), rate);
}

void progress_start(struct progress *p, const char *verb, const char *name,
		    uint64_t total)
{
	p->verb = verb;
	p->name = name;
	p->total = total;
	p->done = 0;
	p->on = total > PROGRESS_MIN && isatty(STDERR_FILENO) && !cli_quiet;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

void progress_add(struct progress *p, uint64_t n)
{
	struct timespec now;

	p->done += n;
	if (!p->on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (seconds(&p->last, &now) < PROGRESS_EVERY)
		return;
	p->last = now;
	draw(p, &now);
}

double progress_end(struct progress *p)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->on) {
		draw(p, &now);
		fputc('\n', stderr);
	}
	return seconds(&p->start, &now);
}
