// SPDX-License-Identifier: GPL-2.0
/*
 * streamcheck: checks a byte stream on stdin against pattern seq:SEED
 * (docs/cli.md "Patterns"), written independently of libresmem, so
 * `resmem drain --follow | streamcheck SEED` proves every drained byte
 * without storing the stream.
 *   streamcheck SEED [--record N] [--rate BYTES_PER_SECOND]
 * Without --record the stream is the pattern from offset 0, every byte.
 * With --record N it is records of N bytes (a multiple of 8), record seq S
 * holding the pattern at offset S * N, in rising seq order with holes
 * allowed: a record that is not the next seq is looked up among the
 * following seqs by its first word, and the hole is reported as a gap.
 * This is how a lossy capture's drained stream looks, so the gaps this
 * finds from the bytes alone can be compared with the ring's counters.
 * --rate reads no faster than that: a deliberately slow consumer.
 * Prints "streamcheck: gap seq A..B (C records)" per gap (the first 100000),
 * then "streamcheck: BYTES bytes, BAD bad bytes[, R records, G gaps,
 * S skipped][, first bad at OFF]"; exit 0 when every byte matched, 1
 * otherwise, 2 on a read or usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How far past the expected seq a record is looked for (a stall's worth). */
#define MAX_SKIP (1ULL << 28)
#define MAX_GAP_LINES 100000

static uint64_t word(uint64_t seed, uint64_t w)
{
	uint64_t x = seed ^ w;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

struct check {
	uint64_t seed, reclen, bytes, bad, first_bad;
	uint64_t next_seq, records, gaps, skipped;
};

/* Compare @len bytes at @p with the pattern from stream offset @off. */
static void compare(struct check *c, const unsigned char *p, size_t len,
		    uint64_t off)
{
	size_t i, k;

	for (i = 0; i < len; i += 8) {
		uint64_t w = word(c->seed, off + i);

		for (k = 0; k < 8 && i + k < len; k++) {
			if (p[i + k] != (unsigned char)(w >> (8 * k))) {
				if (c->first_bad == UINT64_MAX)
					c->first_bad = c->bytes + i + k;
				c->bad++;
			}
		}
	}
}

static uint64_t first_word(const unsigned char *p)
{
	uint64_t v = 0;
	int k;

	for (k = 7; k >= 0; k--)
		v = v << 8 | p[k];
	return v;
}

/* One whole record: find its seq (the next, or a later one after a gap). */
static void check_record(struct check *c, const unsigned char *p)
{
	uint64_t want = first_word(p), s = c->next_seq, skip;

	for (skip = 0; skip <= MAX_SKIP; skip++)
		if (word(c->seed, (s + skip) * c->reclen) == want)
			break;
	if (skip > MAX_SKIP) {
		skip = 0; /* no such record: all of it is compared and bad */
	} else if (skip) {
		if (c->gaps < MAX_GAP_LINES)
			printf("streamcheck: gap seq %" PRIu64 "..%" PRIu64
			       " (%" PRIu64 " records)\n",
			       s, s + skip - 1, skip);
		c->gaps++;
		c->skipped += skip;
	}
	s += skip;
	compare(c, p, c->reclen, s * c->reclen);
	c->next_seq = s + 1;
	c->records++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep until @done bytes are no more than @rate per second since @t0. */
static void throttle(double rate, double t0, uint64_t done)
{
	double ahead = (double)done / rate - (now() - t0);
	struct timespec ts;

	if (ahead <= 0)
		return;
	ts.tv_sec = (time_t)ahead;
	ts.tv_nsec = (long)((ahead - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: streamcheck SEED [--record N] [--rate BYTES_PER_SECOND]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static unsigned char buf[1 << 20];
	struct check c = { .first_bad = UINT64_MAX };
	double rate = 0, t0 = now();
	size_t have = 0, i, chunk = sizeof(buf);
	ssize_t n;
	int eof = 0, a;

	if (argc < 2)
		return usage();
	c.seed = strtoull(argv[1], NULL, 0);
	for (a = 2; a + 1 < argc; a += 2) {
		if (!strcmp(argv[a], "--record"))
			c.reclen = strtoull(argv[a + 1], NULL, 0);
		else if (!strcmp(argv[a], "--rate"))
			rate = strtod(argv[a + 1], NULL);
		else
			return usage();
	}
	if (a != argc ||
	    (c.reclen && (c.reclen % 8 || c.reclen > sizeof(buf))) || rate < 0)
		return usage();
	if (rate > 0 && rate / 10 < (double)chunk)
		chunk = rate / 10 > 4096 ? (size_t)(rate / 10) : 4096;
	while (!eof) {
		size_t want = sizeof(buf) - have < chunk ? sizeof(buf) - have :
							   chunk;

		n = read(0, buf + have, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("streamcheck: read");
			return 2;
		}
		if (n == 0)
			eof = 1;
		have += (size_t)n;
		if (c.reclen) {
			for (i = 0; i + c.reclen <= have; i += c.reclen) {
				check_record(&c, buf + i);
				c.bytes += c.reclen;
			}
			if (eof && i < have) { /* a torn last record: all bad */
				c.first_bad = c.first_bad == UINT64_MAX ?
						      c.bytes :
						      c.first_bad;
				c.bad += have - i;
				c.bytes += have - i;
				i = have;
			}
		} else {
			/* whole words; at EOF the partial last word too */
			i = eof ? have : have & ~(size_t)7;
			compare(&c, buf, i, c.bytes);
			c.bytes += i;
		}
		memmove(buf, buf + i, have - i);
		have -= i;
		if (rate > 0)
			throttle(rate, t0, c.bytes + have);
	}
	printf("streamcheck: %" PRIu64 " bytes, %" PRIu64 " bad bytes", c.bytes,
	       c.bad);
	if (c.reclen)
		printf(", %" PRIu64 " records, %" PRIu64 " gaps, %" PRIu64
		       " skipped",
		       c.records, c.gaps, c.skipped);
	if (c.bad)
		printf(", first bad at %" PRIu64, c.first_bad);
	printf("\n");
	return c.bad || !c.bytes ? 1 : 0;
}
