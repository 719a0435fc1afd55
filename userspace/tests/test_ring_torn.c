// SPDX-License-Identifier: GPL-2.0
/*
 * Torn and damaged records, at every byte offset of a record:
 *  - crash while writing (head not moved): the bytes of the new record up to
 *    offset k landed, nothing after; every committed record still reads
 *    back, the torn one is never returned and is reported "in flight";
 *  - committed but incomplete (head moved, bytes from offset k on are the
 *    old contents, as after a lost cache line) and single flipped bytes:
 *    the record is reported corrupt, never returned, and the reader
 *    resyncs on the records after it.
 * Both with a record that needs a PAD before it (wraps) and one that
 * does not, over stale data from earlier laps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "../lib/ring_internal.h"
#include "ring_model.h"
#include "test.h"

#define LEN	(4096 + 1000)
#define DS	1000
#define MAXP	120
#define SEED	77

struct result {
	uint64_t first, last, n, corrupt, lost;
	int wrong, scanning;
};

/* Read everything from tail on a copy of the memory. */
static void read_all(unsigned char *img, struct result *res)
{
	struct resmem_ring *r;
	struct resmem_ring_reader *rd;
	struct resmem_ring_recinfo ri;
	unsigned char buf[4096];

	memset(res, 0, sizeof(*res));
	if (resmem_ring_open(&r, img, LEN)) {
		res->wrong++;
		return;
	}
	if (resmem_ring_reader_new(&rd, r, RESMEM_RING_FROM_TAIL)) {
		res->wrong++;
		resmem_ring_free(r);
		return;
	}
	while (resmem_ring_read(rd, buf, sizeof(buf), &ri) == 1) {
		if (!model_check(SEED, ri.seq, buf, ri.len, MAXP))
			res->wrong++;
		if (!res->n)
			res->first = ri.seq;
		res->last = ri.seq;
		res->n++;
	}
	res->corrupt = rd->corrupt;
	res->lost = rd->lost;
	res->scanning = rd->scanning;
	resmem_ring_reader_free(rd);
	resmem_ring_free(r);
}

/* Data-area copy of position range [pos, pos + n) from @src into @dst. */
static void copy_span(const struct resmem_ring *r, unsigned char *dst, const unsigned char *src,
		      uint64_t pos, uint64_t n)
{
	uint64_t i, off;

	for (i = 0; i < n; i++) {
		off = RESMEM_RING_HDR_SIZE + resmem_ring_pos_add(r, pos, i) % r->data_size;
		dst[off] = src[off];
	}
}

/* Produce until the next record (seq @*next) needs a pad (@want_pad) or not. */
static int position(struct resmem_ring *r, uint64_t *next, int want_pad)
{
	uint64_t off, size;
	int i;

	for (i = 0; i < 10000; i++) {
		off = r->head % r->data_size;
		size = (RING_REC + model_len(SEED, *next, MAXP) + 7) & ~7ULL;
		if ((r->data_size - off < size) == want_pad && *next > 40)
			return 0;
		if (model_produce(r, SEED, (*next)++, MAXP))
			return -1;
		r->hdr->cons = r->head;		/* a consumer that keeps up */
		r->hdr->cons_seq = *next;
	}
	return -1;
}

static void torn_case(unsigned char *m, int want_pad, int overwrite, uint64_t start_pos)
{
	static unsigned char before[LEN], after[LEN], img[LEN];
	struct resmem_ring *r = NULL;
	struct resmem_ring_opts o = { DS, start_pos, 5 };
	struct resmem_ring_inflight f;
	struct resmem_ring_rec hx;
	uint64_t next = 5, x, xpos, xend, k, span, hdrlen;
	struct result res;
	int bad_crash = 0, bad_commit = 0, bad_flip = 0, same = 0;

	memset(m, 0x3c, LEN);
	if (!CHECK(resmem_ring_init(&r, m, LEN, &o) == 0) ||
	    !CHECK(resmem_ring_attach(r, overwrite ? RESMEM_RING_F_OVERWRITE : 0) == 0))
		goto out;
	if (!CHECK(position(r, &next, want_pad) == 0))
		goto out;
	memcpy(before, m, LEN);
	x = next;
	xpos = r->head;
	if (!CHECK(model_produce(r, SEED, next++, MAXP) == 0))
		goto out;
	xend = r->head;
	span = resmem_ring_distance(r, xend, xpos);	/* pad + record */
	memcpy(after, m, LEN);

	/* 1. crash after k bytes of the new record (header of the ring: tail moved, head not) */
	for (k = 0; k <= span; k++) {
		memcpy(img, before, LEN);
		copy_span(r, img, after, xpos, k);
		memcpy(&((struct resmem_ring_hdr *)img)->tail, &((struct resmem_ring_hdr *)after)->tail, 8);
		memcpy(&((struct resmem_ring_hdr *)img)->tail_seq,
		       &((struct resmem_ring_hdr *)after)->tail_seq, 8);
		read_all(img, &res);
		if (res.wrong || res.corrupt || res.last != x - 1 || res.scanning) {
			fprintf(stderr, "  crash at %llu: wrong %d corrupt %llu last %llu (want %llu) scanning %d\n",
				(unsigned long long)k, res.wrong, (unsigned long long)res.corrupt,
				(unsigned long long)res.last, (unsigned long long)x - 1, res.scanning);
			bad_crash++;
		}
		if (k < span) {
			struct resmem_ring *ri;

			if (resmem_ring_open(&ri, img, LEN)) {
				bad_crash++;
				continue;
			}
			resmem_ring_inflight(ri, &f);
			resmem_ring_free(ri);
			/* the in-flight record's header is complete once its RING_REC bytes landed */
			hdrlen = span - ((RING_REC + model_len(SEED, x, MAXP) + 7) & ~7ULL) + RING_REC;
			/* present once its seq landed and the epoch agrees (old bytes of this session) */
			if ((k >= hdrlen && !f.present) || (k <= hdrlen - 24 && f.present) ||
			    (f.present && (f.seq != x ||
					   f.complete != (k >= hdrlen + model_len(SEED, x, MAXP))))) {
				fprintf(stderr, "  inflight at %llu/%llu (hdr end %llu): present %d seq %llu complete %d\n",
					(unsigned long long)k, (unsigned long long)span,
					(unsigned long long)hdrlen, f.present, (unsigned long long)f.seq,
					f.complete);
				bad_crash++;
			}
		}
	}
	CHECK(!bad_crash, "crash mid-record (pad %d, overwrite %d): %d of %llu offsets wrong",
	      want_pad, overwrite, bad_crash, (unsigned long long)span + 1);

	/* Two more records after x, so a reader must resync past a bad x. */
	if (!CHECK(model_produce(r, SEED, next++, MAXP) == 0 &&
		   model_produce(r, SEED, next++, MAXP) == 0))
		goto out;
	memcpy(after, m, LEN);
	hdrlen = span - ((RING_REC + model_len(SEED, x, MAXP) + 7) & ~7ULL);	/* pad part */
	memcpy(&hx, after + RESMEM_RING_HDR_SIZE + resmem_ring_pos_add(r, xpos, hdrlen) % DS, RING_REC);

	/* 2. committed, but bytes from k on are what was there before */
	for (k = 0; k < span; k++) {
		memcpy(img, after, LEN);
		copy_span(r, img, before, resmem_ring_pos_add(r, xpos, k), span - k);
		if (!memcmp(img, after, LEN)) {
			same++;
			continue;
		}
		read_all(img, &res);
		if (k >= hdrlen + RING_REC + hx.len) {	/* only the record's padding differs */
			if (res.wrong || res.corrupt || res.last != next - 1)
				bad_commit++;
			continue;
		}
		if (res.wrong || res.last != next - 1 || res.corrupt < 1 || res.n < 2) {
			fprintf(stderr, "  torn at %llu: wrong %d last %llu corrupt %llu n %llu\n",
				(unsigned long long)k, res.wrong, (unsigned long long)res.last,
				(unsigned long long)res.corrupt, (unsigned long long)res.n);
			bad_commit++;
		}
	}
	CHECK(!bad_commit, "committed torn record (pad %d): %d of %llu offsets wrong (%d identical)",
	      want_pad, bad_commit, (unsigned long long)span, same);

	/* 3. one flipped bit at every byte offset of the record (header and payload) */
	for (k = hdrlen; k < hdrlen + RING_REC + hx.len; k++) {
		memcpy(img, after, LEN);
		img[RESMEM_RING_HDR_SIZE + resmem_ring_pos_add(r, xpos, k) % DS] ^= 0x10;
		read_all(img, &res);
		if (res.wrong || res.corrupt != 1 || res.last != next - 1 || res.lost)
			bad_flip++;
	}
	CHECK(!bad_flip, "flipped byte in a committed record (pad %d): %d offsets wrong",
	      want_pad, bad_flip);
out:
	resmem_ring_free(r);
}

/*
 * The FIRST record a reader meets is damaged (the record at tail, after the
 * ring wrapped so tail and tail_seq are not where they started): a byte
 * flipped at every offset of it.  From tail and from cons (= tail) it is
 * counted as 1 corrupt record, never returned, nothing is lost, and every
 * record after it reads back.
 */
static void first_record_case(unsigned char *m, int overwrite)
{
	static unsigned char after[LEN], img[LEN];
	struct resmem_ring *r = NULL;
	struct resmem_ring_opts o = { DS, 0, 5 };
	struct resmem_ring_rec hx;
	struct resmem_ring_hdr *h;
	uint64_t next = 5, k, t, tseq, hseq;
	struct result res;
	int bad = 0, i;

	memset(m, 0x3c, LEN);
	if (!CHECK(resmem_ring_init(&r, m, LEN, &o) == 0) ||
	    !CHECK(resmem_ring_attach(r, RESMEM_RING_F_OVERWRITE) == 0))
		goto out;
	for (i = 0; i < 200; i++)	/* several laps: tail moved by overwriting */
		if (!CHECK(model_produce(r, SEED, next++, MAXP) == 0))
			goto out;
	h = (struct resmem_ring_hdr *)m;
	h->cons = h->tail;
	h->cons_seq = h->tail_seq;
	if (!overwrite)
		h->flags = 0;
	memcpy(after, m, LEN);
	t = h->tail;
	tseq = h->tail_seq;
	hseq = h->head_seq;
	if (DS - t % DS < RING_REC || (memcpy(&hx, after + RESMEM_RING_HDR_SIZE + t % DS, RING_REC), hx.flags)) {
		/* tail at a pad: the first record is after it */
		t = resmem_ring_pos_add(r, t, DS - t % DS);
		memcpy(&hx, after + RESMEM_RING_HDR_SIZE, RING_REC);
	}
	if (!CHECK(hx.seq == tseq && tseq > 5 && hseq - tseq > 3, "seq %llu tail_seq %llu head_seq %llu",
		   (unsigned long long)hx.seq, (unsigned long long)tseq, (unsigned long long)hseq))
		goto out;
	for (k = 0; k < RING_REC + hx.len; k++) {
		int from;

		memcpy(img, after, LEN);
		img[RESMEM_RING_HDR_SIZE + resmem_ring_pos_add(r, t, k) % DS] ^= 0x10;
		for (from = 0; from < 2; from++) {
			struct resmem_ring *ri;
			struct resmem_ring_reader *rd;
			struct resmem_ring_recinfo inf;
			unsigned char buf[4096];

			memset(&res, 0, sizeof(res));
			if (resmem_ring_open(&ri, img, LEN)) {
				bad++;
				continue;
			}
			if (resmem_ring_reader_new(&rd, ri, from ? RESMEM_RING_FROM_CONS
								 : RESMEM_RING_FROM_TAIL)) {
				bad++;
				resmem_ring_free(ri);
				continue;
			}
			while (resmem_ring_read(rd, buf, sizeof(buf), &inf) == 1) {
				if (!model_check(SEED, inf.seq, buf, inf.len, MAXP))
					res.wrong++;
				if (!res.n)
					res.first = inf.seq;
				res.last = inf.seq;
				res.n++;
			}
			if (res.wrong || rd->corrupt != 1 || rd->lost || res.first != tseq + 1 ||
			    res.last != hseq - 1 || res.n != hseq - tseq - 1) {
				fprintf(stderr, "  first record, flip at %llu (from %s): wrong %d corrupt %llu lost %llu first %llu last %llu n %llu (tail_seq %llu head_seq %llu)\n",
					(unsigned long long)k, from ? "cons" : "tail", res.wrong,
					(unsigned long long)rd->corrupt, (unsigned long long)rd->lost,
					(unsigned long long)res.first, (unsigned long long)res.last,
					(unsigned long long)res.n, (unsigned long long)tseq,
					(unsigned long long)hseq);
				bad++;
			}
			resmem_ring_reader_free(rd);
			resmem_ring_free(ri);
		}
	}
	CHECK(!bad, "corrupt first record (overwrite %d): %d of %llu cases wrong", overwrite, bad,
	      (unsigned long long)(RING_REC + hx.len) * 2);
out:
	resmem_ring_free(r);
}

void test_ring_torn(const struct test_env *env)
{
	unsigned char *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	(void)env;
	if (!CHECK(m != MAP_FAILED))
		return;
	torn_case(m, 0, 1, 0);
	torn_case(m, 1, 1, 0);
	torn_case(m, 0, 0, (1ULL << 32) - 512);
	torn_case(m, 1, 0, ((UINT64_MAX / DS) * DS - 504));
	first_record_case(m, 1);
	first_record_case(m, 0);
	munmap(m, LEN);
}
