// SPDX-License-Identifier: GPL-2.0
/*
 * resmem_ring_reserve_ahead() (LIBRESMEM_3.2): the payload places it gives
 * are where resmem_ring_reserve() then puts each record, across the data
 * end (PAD records and implicit pads), after refused records (the pending
 * GAP record goes first), with positions started just below 2^64, in stop
 * and overwrite modes.  Payloads filled there before the reservation read
 * back intact (every CRC good, every byte the stream's); the reader is the
 * witness.  -ENOSPC only when not one record fits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/ring_internal.h"
#include "test.h"

#define DATA (64 * 1024 + 24)
#define MAXN 40
#define BATCHES 400

static unsigned char byte_of(uint64_t seq, uint32_t i)
{
	return (unsigned char)(seq * 131 + i * 7 + (i >> 8));
}

struct ahead_run {
	struct resmem_ring *r;
	struct resmem_ring_reader *rd;
	unsigned char *buf;
	uint64_t next_read; /* seq the reader expects next (stop mode) */
	int wrong;
};

/* Read everything committed; check it; consume. */
static void read_all(struct ahead_run *a, int overwrite)
{
	struct resmem_ring_recinfo ri;
	uint32_t i;

	while (resmem_ring_read(a->rd, a->buf, DATA, &ri) == 1) {
		for (i = 0; i < ri.len; i++)
			if (a->buf[i] != byte_of(ri.seq, i)) {
				a->wrong++;
				break;
			}
		if (!overwrite && ri.seq != a->next_read + ri.refused)
			a->wrong++;
		a->next_read = ri.seq + 1;
	}
	resmem_ring_consume(a->rd);
}

static void run(uint64_t start_pos, uint64_t start_seq, int overwrite)
{
	struct resmem_ring_opts o = { .data_size = DATA, .start_pos = start_pos,
				      .start_seq = start_seq };
	struct ahead_run a = { 0 };
	void *place[MAXN], *p;
	unsigned int n, want, i, b, misplaced = 0, nospc = 0;
	uint32_t len, j;
	uint64_t seq;
	int err, bad = 0;

	unsigned char *mem = malloc(RESMEM_RING_HDR_SIZE + DATA);

	a.buf = malloc(DATA);
	if (!CHECK(mem && a.buf && !resmem_ring_init(&a.r, mem, RESMEM_RING_HDR_SIZE + DATA, &o)))
		return;
	CHECK(!resmem_ring_attach(a.r, overwrite ? RESMEM_RING_F_OVERWRITE : 0));
	CHECK(!resmem_ring_reader_new(&a.rd, a.r, RESMEM_RING_FROM_TAIL));
	a.next_read = start_seq;
	srand(7);
	for (b = 0; b < BATCHES; b++) {
		len = 1 + (uint32_t)rand() % 9000;
		want = 1 + (unsigned int)rand() % MAXN;
		if (rand() % 8 == 0 && !resmem_ring_refuse(a.r))
			continue; /* a GAP record before the next batch */
		n = want;
		err = resmem_ring_reserve_ahead(a.r, len, &n, place);
		if (err == -ENOSPC) {
			nospc++;
			read_all(&a, overwrite);
			continue;
		}
		if (err || n > want || !n) {
			bad++;
			break;
		}
		seq = resmem_ring_next_seq(a.r);
		/* filled before anything is reserved, last first */
		for (i = n; i-- > 0;)
			for (j = 0; j < len; j++)
				((unsigned char *)place[i])[j] = byte_of(seq + i, j);
		for (i = 0; i < n; i++) {
			if (resmem_ring_reserve(a.r, len, &p) || p != place[i])
				misplaced++;
			if (resmem_ring_commit(a.r, len))
				bad++;
		}
		if (rand() % 3 == 0)
			read_all(&a, overwrite);
	}
	read_all(&a, overwrite);
	CHECK(!bad && !misplaced && !a.wrong,
	      "pos %#llx overwrite %d: %d failures, %u misplaced, %d wrong records",
	      (unsigned long long)start_pos, overwrite, bad, misplaced, a.wrong);
	CHECK(overwrite || nospc, "stop mode never found the ring full");
	CHECK(a.next_read - start_seq > BATCHES, "only %llu records read",
	      (unsigned long long)(a.next_read - start_seq));
	n = 0;
	CHECK(resmem_ring_reserve_ahead(a.r, 8, &n, place) == -EINVAL);
	CHECK(!resmem_ring_reserve(a.r, 8, &p));
	n = 1;
	CHECK(resmem_ring_reserve_ahead(a.r, 8, &n, place) == -EBUSY);
	resmem_ring_reader_free(a.rd);
	resmem_ring_free(a.r);
	free(a.buf);
	free(mem);
}

void test_ring_ahead(const struct test_env *env)
{
	uint64_t mod = resmem_ring_pos_mod(DATA);

	(void)env;
	run(0, 0, 0);
	run(mod - 3 * DATA - 8 * 1000, ~0ULL - 500, 0);
	run(mod - 8 * 7, (1ULL << 32) - 10, 1);
}
