// SPDX-License-Identifier: GPL-2.0
/*
 * Loss accounting of ring format 2, against the test's own record of what
 * the producer did (the witness): a lossy producer's refused records are
 * exactly the holes a consumer finds, the GAP records' ranges exact and
 * never returned as data; a lossless producer that waits counts nothing
 * lost; an overwriting producer's overwritten counter equals what the
 * consumer lost; time_ns never goes back and lies within the run; stale
 * bytes after a reset are never taken for a record in flight.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/ring_internal.h"
#include "ring_model.h"
#include "test.h"

#define LEN (4096 + 4096)
#define MAXP 300
#define SEED 99
#define N 3000

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct consumer {
	struct resmem_ring_reader *rd;
	uint64_t next, got, lost, refused, last_ns;
	int wrong;
	unsigned char *refused_seq; /* the witness: seqs the producer refused */
	uint64_t t0, t1;
};

/* Read (and consume) up to @n records, checking each against the witness. */
static void consume(struct consumer *c, int n)
{
	unsigned char buf[4096];
	struct resmem_ring_recinfo ri;
	uint64_t s;

	while (n-- && resmem_ring_read(c->rd, buf, sizeof(buf), &ri) == 1) {
		if (!model_check(SEED, ri.seq, buf, ri.len, MAXP) || ri.corrupt ||
		    ri.seq - ri.refused - ri.lost != c->next)
			c->wrong++;
		for (s = ri.seq - ri.refused; s != ri.seq; s++)
			if (!c->refused_seq || !c->refused_seq[s])
				c->wrong++; /* a hole the producer did not refuse */
		for (s = c->next; s != ri.seq - ri.refused; s++)
			if (c->refused_seq && c->refused_seq[s])
				c->wrong++; /* a refused record counted lost */
		if (ri.refused && (ri.refused_first_ns < c->t0 ||
				   ri.refused_last_ns < ri.refused_first_ns ||
				   ri.refused_last_ns > ri.time_ns))
			c->wrong++;
		if (ri.time_ns < c->last_ns || ri.time_ns < c->t0)
			c->wrong++;
		c->last_ns = ri.time_ns;
		c->lost += ri.lost;
		c->refused += ri.refused;
		c->next = ri.seq + 1;
		c->got++;
		resmem_ring_consume(c->rd);
	}
}

/* mode: 0 lossy (refuse), 1 lossless (wait for the consumer), 2 overwrite */
static void run(unsigned char *m, int mode)
{
	static unsigned char refused_seq[N + 1];
	struct resmem_ring *r = NULL;
	struct consumer c = { .refused_seq = refused_seq };
	struct resmem_ring_counters run, all;
	struct resmem_ring_reader_stats rs;
	uint64_t seq = 0, refused = 0;
	int err;

	memset(refused_seq, 0, sizeof(refused_seq));
	srand(1234 + mode);
	c.t0 = realtime_ns();
	if (!CHECK(resmem_ring_init(&r, m, LEN, NULL) == 0) ||
	    !CHECK(resmem_ring_attach(r, mode == 2 ? RESMEM_RING_F_OVERWRITE : 0) == 0) ||
	    !CHECK(resmem_ring_reader_new(&c.rd, r, RESMEM_RING_FROM_CONS) == 0))
		goto out;
	while (seq < N) {
		err = model_produce(r, SEED, seq, MAXP);
		if (err == -ENOSPC && mode == 0) {
			CHECK(resmem_ring_refuse(r) == 0);
			refused_seq[seq++] = 1;
			refused++;
		} else if (err == -ENOSPC) { /* lossless: the consumer catches up */
			resmem_ring_add_wait(r, 1000);
			consume(&c, 3);
		} else if (CHECK(err == 0, "err %d", err)) {
			seq++;
		} else {
			break;
		}
		if (rand() % 8 == 0)
			consume(&c, rand() % 4);
	}
	resmem_ring_close(r);
	consume(&c, N);
	c.t1 = realtime_ns();
	resmem_ring_reader_stats(c.rd, &rs);
	resmem_ring_run_counters(r, &run);
	resmem_ring_counters(r, &all);
	CHECK(!c.wrong, "mode %d: %d records or holes disagree with the witness", mode, c.wrong);
	CHECK(c.last_ns <= c.t1, "time_ns after the end of the run");
	CHECK(run.refused == refused && all.refused == refused && rs.refused == refused &&
		      c.refused + rs.pending_refused == refused,
	      "mode %d: refused: producer %llu, header %llu, reader %llu", mode,
	      (unsigned long long)refused, (unsigned long long)all.refused,
	      (unsigned long long)rs.refused);
	CHECK(c.got + refused + c.lost == N && rs.seq == N, "mode %d: got %llu lost %llu", mode,
	      (unsigned long long)c.got, (unsigned long long)c.lost);
	CHECK(run.overwritten == c.lost && all.overwritten == c.lost,
	      "mode %d: overwritten %llu, consumer lost %llu", mode,
	      (unsigned long long)run.overwritten, (unsigned long long)c.lost);
	CHECK(run.corrupt == 0 && rs.corrupt == 0);
	if (mode == 0)
		CHECK(refused > 100 && c.refused > 0, "the lossy run refused (%llu)",
		      (unsigned long long)refused);
	if (mode == 1)
		CHECK(refused == 0 && c.lost == 0 && run.wait_ns > 0 && c.got == N,
		      "lossless: nothing lost, waits counted (%llu ns)",
		      (unsigned long long)run.wait_ns);
	if (mode == 2)
		CHECK(c.lost > 100, "the overwriting run overwrote (%llu)", (unsigned long long)c.lost);
out:
	resmem_ring_reader_free(c.rd);
	resmem_ring_free(r);
}

/* Counters since reset survive a second run; per run they start at 0. */
static void per_run(unsigned char *m)
{
	struct resmem_ring *r = NULL;
	struct resmem_ring_counters run, all;
	int i, refused = 0;

	if (!CHECK(resmem_ring_init(&r, m, LEN, NULL) == 0))
		return;
	for (i = 0; i < 2; i++) {
		CHECK(resmem_ring_attach(r, 0) == 0);
		while (model_produce(r, SEED, resmem_ring_next_seq(r), MAXP) == 0)
			;
		CHECK(resmem_ring_refuse(r) == 0 && resmem_ring_refuse(r) == 0);
		refused += 2;
		resmem_ring_run_counters(r, &run);
		resmem_ring_counters(r, &all);
		CHECK(run.refused == 2 && all.refused == (uint64_t)refused,
		      "run %d: run %llu, since reset %llu", i, (unsigned long long)run.refused,
		      (unsigned long long)all.refused);
		resmem_ring_close(r);
	}
	resmem_ring_free(r);
}

/*
 * After a reset, a clean run ends where the run before the reset left a
 * record of the same seq and length: no "in flight" (the old code said so).
 * Nor after a crash between records.
 */
static void stale_inflight(unsigned char *m)
{
	struct resmem_ring *r = NULL;
	struct resmem_ring_inflight f;
	uint64_t s;
	int crash;

	for (crash = 0; crash < 2; crash++) {
		if (!CHECK(resmem_ring_init(&r, m, LEN, NULL) == 0) ||
		    !CHECK(resmem_ring_attach(r, 0) == 0))
			return;
		for (s = 0; s < 12; s++)
			CHECK(model_produce(r, SEED, s, 100) == 0);
		resmem_ring_close(r);
		resmem_ring_free(r);
		if (!CHECK(resmem_ring_init(&r, m, LEN, NULL) == 0) ||
		    !CHECK(resmem_ring_attach(r, 0) == 0))
			return;
		for (s = 0; s < 10; s++)
			CHECK(model_produce(r, SEED, s, 100) == 0);
		if (!crash)
			resmem_ring_close(r);
		resmem_ring_inflight(r, &f);
		CHECK(!f.present, "%s: stale record seq %llu taken for in flight",
		      crash ? "crash" : "clean", (unsigned long long)f.seq);
		resmem_ring_free(r);
	}
	/* a real one still is: reserved, not committed */
	if (!CHECK(resmem_ring_open(&r, m, LEN) == 0) || !CHECK(resmem_ring_attach(r, 0) == 0))
		return;
	{
		void *p;

		CHECK(resmem_ring_reserve(r, 50, &p) == 0);
		resmem_ring_inflight(r, &f);
		CHECK(f.present && f.seq == 10 && !f.complete, "reserved record in flight");
	}
	resmem_ring_free(r);
}

void test_ring_gaps(const struct test_env *env)
{
	static _Alignas(8) unsigned char m[LEN];

	(void)env;
	memset(m, 0x5a, sizeof(m));
	run(m, 0);
	run(m, 1);
	run(m, 2);
	per_run(m);
	memset(m, 0, sizeof(m));
	stale_inflight(m);
}
