// SPDX-License-Identifier: GPL-2.0
/*
 * Ring properties on the host: CRC32C known answers, header checks, random
 * producer/consumer interleavings (stop and overwrite modes) with positions
 * and sequence numbers started just below 2^32 and 2^64, on anonymous and
 * file mappings.  A model of the stream (ring_model.h) is the witness.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../lib/ring_internal.h"
#include "ring_model.h"
#include "test.h"

/* Bit-at-a-time CRC32C: the reference for the slice-by-8 code. */
static uint32_t crc_ref(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffff;
	int k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78 & -(c & 1));
	}
	return ~c;
}

static void test_crc(void)
{
	unsigned char buf[300];
	size_t i, a, n;
	int bad = 0;

	CHECK(resmem_crc32c(0, "123456789", 9) == 0xe3069283);
	CHECK(resmem_crc32c(0, "", 0) == 0);
	/* iSCSI test vector: 32 zero bytes -> 0x8a9136aa (RFC 3720 B.4) */
	memset(buf, 0, 32);
	CHECK(resmem_crc32c(0, buf, 32) == 0x8a9136aa);
	memset(buf, 0xff, 32);
	CHECK(resmem_crc32c(0, buf, 32) == 0x62a8ab43);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	for (a = 0; a < 8; a++)
		for (n = 0; n + a <= 280; n += 13)
			if (resmem_crc32c(0, buf + a, n) != crc_ref(buf + a, n) ||
			    resmem_crc32c(resmem_crc32c(0, buf + a, n / 3), buf + a + n / 3,
					  n - n / 3) != crc_ref(buf + a, n))
				bad++;
	CHECK(!bad, "%d alignment/length/chaining cases differ from the bitwise CRC", bad);
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* resmem_ring_open()'s verdict on the ring at @m. */
static int open_err(void *m, size_t len)
{
	struct resmem_ring *r;
	int err = resmem_ring_open(&r, m, len);

	resmem_ring_free(r);
	return err;
}

static void test_header(void)
{
	size_t len = 16384;
	unsigned char *m = map_anon(len), saved[256];
	struct resmem_ring *r = NULL, *r2 = NULL;
	struct resmem_ring_opts o = { 0 };
	size_t i;
	int bad = 0;

	if (!CHECK(m))
		return;
	CHECK(open_err(m, len) == -ENODATA, "zeroed memory is no ring");
	CHECK(resmem_ring_init(&r, m, 4096, NULL) == -EINVAL, "too small");
	o.data_size = 1001;
	CHECK(resmem_ring_init(&r, m, len, &o) == -EINVAL, "data size not a multiple of 8");
	o.data_size = len;
	CHECK(resmem_ring_init(&r, m, len, &o) == -EINVAL, "data does not fit");
	o.data_size = 0;
	o.start_pos = 4;
	CHECK(resmem_ring_init(&r, m, len, &o) == -EINVAL, "misaligned start");
	CHECK(resmem_ring_init(&r, m, len, NULL) == 0);
	CHECK(r->data_size == len - 4096 && r->pos_mod % r->data_size == 0 &&
	      r->pos_mod > UINT64_MAX - r->data_size);
	CHECK(resmem_ring_open(&r2, m, len) == 0 && r2->data_size == r->data_size);
	resmem_ring_free(r2);
	CHECK(open_err(m, len - 8) == -EINVAL, "region smaller than the ring");
	/* Every bit flip in the geometry (bytes 0..47) is caught. */
	memcpy(saved, m, sizeof(saved));
	for (i = 0; i < 48 * 8; i++) {
		m[i / 8] ^= (unsigned char)(1 << (i % 8));
		if (!open_err(m, len)) {
			fprintf(stderr, "  header bit %zu flipped still opens\n", i);
			bad++;
		}
		memcpy(m, saved, sizeof(saved));
	}
	CHECK(!bad, "%d geometry corruptions accepted", bad);
	r->hdr->head = r->pos_mod;
	CHECK(open_err(m, len) == -EBADMSG, "head beyond pos_mod");
	r->hdr->head = 4;
	CHECK(open_err(m, len) == -EBADMSG, "head misaligned");
	r->hdr->head = r->data_size + 8;
	CHECK(open_err(m, len) == -EBADMSG, "head - tail > data_size");
	r->hdr->head = 0;
	r->hdr->cons = 12;
	CHECK(open_err(m, len) == -EBADMSG, "cons misaligned");
	memcpy(m, saved, sizeof(saved));
	m[41] ^= 1;
	CHECK(open_err(m, len) == -EBADMSG, "geometry CRC covers reserved0");
	memcpy(m, saved, sizeof(saved));
	m[8] = 1; /* a version 1 ring is another version, never guessed at */
	CHECK(open_err(m, len) == -EPROTONOSUPPORT);
	resmem_ring_free(r);
	munmap(m, len);
}

/*
 * One random run: a producer and two readers (the consumer, which frees
 * space, and a peeker, which does not) take turns at random.  Every record
 * a reader returns must be the model's record with that seq; seqs must
 * follow each other except where the reader reports exactly that many lost.
 */
struct run_stats {
	uint64_t produced, consumed, peeked, lost, full;
	int bad;
};

struct check_reader {
	struct resmem_ring_reader *rd;
	uint64_t next;		/* next seq expected */
	int started;
};

static int reader_step(struct check_reader *c, uint64_t seed, uint32_t max, int consume,
		       struct run_stats *st)
{
	unsigned char buf[4096];
	struct resmem_ring_recinfo ri;
	int n = resmem_ring_read(c->rd, buf, sizeof(buf), &ri);

	if (n < 0) {
		st->bad++;
		return 0;
	}
	if (!n)
		return 0;
	if (ri.corrupt) {
		fprintf(stderr, "  reader saw %llu corrupt records at seq %llu\n",
			(unsigned long long)ri.corrupt, (unsigned long long)ri.seq);
		st->bad++;
	}
	if (c->started && ri.seq != c->next + ri.lost) {
		fprintf(stderr, "  seq %llu after %llu with %llu lost\n", (unsigned long long)ri.seq,
			(unsigned long long)c->next, (unsigned long long)ri.lost);
		st->bad++;
	}
	if (!model_check(seed, ri.seq, buf, ri.len, max)) {
		fprintf(stderr, "  record seq %llu (%u bytes) is not the model's\n",
			(unsigned long long)ri.seq, ri.len);
		st->bad++;
	}
	st->lost += ri.lost;
	c->next = ri.seq + 1;
	c->started = 1;
	if (consume) {
		resmem_ring_consume(c->rd);
		st->consumed++;
	} else {
		st->peeked++;
	}
	return 1;
}

static void one_run(unsigned char *m, size_t len, uint64_t data_size, uint64_t start_pos,
		    uint64_t start_seq, int overwrite, unsigned seed, int steps,
		    struct run_stats *st)
{
	struct resmem_ring *r = NULL, *rr = NULL;
	struct resmem_ring_opts o = { data_size, start_pos, start_seq };
	struct check_reader cons = { 0 }, peek = { 0 };
	uint32_t max = (uint32_t)(data_size / 5);
	uint64_t next = start_seq;
	int i, err;

	memset(st, 0, sizeof(*st));
	if (max > 4000)
		max = 4000;
	if (max > resmem_ring_max_payload(data_size))
		max = (uint32_t)resmem_ring_max_payload(data_size);
	srand(seed);
	memset(m, 0xa5, len);		/* stale junk in the data area */
	if (resmem_ring_init(&r, m, len, &o) || resmem_ring_attach(r, overwrite ? RESMEM_RING_F_OVERWRITE : 0) ||
	    resmem_ring_open(&rr, m, len) || resmem_ring_reader_new(&cons.rd, rr, RESMEM_RING_FROM_CONS) ||
	    resmem_ring_reader_new(&peek.rd, rr, RESMEM_RING_FROM_TAIL)) {
		st->bad++;
		goto out;
	}
	cons.next = start_seq;
	cons.started = 1;
	for (i = 0; i < steps; i++) {
		switch (rand() % 4) {
		case 0:
		case 1:
			err = model_produce(r, seed, next, max);
			if (!err) {
				next++;
				st->produced++;
			} else if (err == -ENOSPC && !overwrite) {
				st->full++;
			} else {
				st->bad++;
			}
			break;
		case 2:
			reader_step(&cons, seed, max, 1, st);
			break;
		default:
			reader_step(&peek, seed, max, 0, st);
			break;
		}
	}
	while (reader_step(&cons, seed, max, 1, st))
		;
	if (cons.next != next) {
		fprintf(stderr, "  consumer ended at %llu, producer at %llu\n",
			(unsigned long long)cons.next, (unsigned long long)next);
		st->bad++;
	}
	if (!overwrite && (cons.rd->lost || st->consumed != st->produced))
		st->bad++;
	if (overwrite && st->consumed + cons.rd->lost != st->produced)
		st->bad++;
	if (cons.rd->corrupt || peek.rd->corrupt)
		st->bad++;
out:
	resmem_ring_reader_free(cons.rd);
	resmem_ring_reader_free(peek.rd);
	resmem_ring_free(rr);
	resmem_ring_free(r);
}

static void test_interleavings(const struct test_env *env)
{
	static const uint64_t sizes[] = { 264, 1000, 4096, 12344 };
	uint64_t pos_mods[4], starts[6], seqs[3] = { 0, (1ULL << 32) - 37, UINT64_MAX - 41 };
	size_t len = 4096 + 12344 + 64;
	unsigned char *anon = map_anon(len), *file;
	char path[512];
	struct run_stats st;
	uint64_t produced = 0, lost = 0, wraps = 0, full = 0;
	unsigned s, k, si, runs = 0, bad_runs = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/ring.bin", env->tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (!CHECK(fd >= 0 && ftruncate(fd, (off_t)len) == 0) || !CHECK(anon))
		return;
	file = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (!CHECK(file != MAP_FAILED))
		return;
	for (si = 0; si < 4; si++) {
		pos_mods[si] = (UINT64_MAX / sizes[si]) * sizes[si];
		starts[0] = 0;
		starts[1] = (1ULL << 32) - 1024;	/* crosses 4 GiB */
		starts[2] = (1ULL << 32) - 8;
		starts[3] = (pos_mods[si] - 2048) & ~7ULL;	/* crosses the 2^64 wrap */
		starts[4] = pos_mods[si] - 8;
		starts[5] = (pos_mods[si] - 3 * sizes[si] - 16) & ~7ULL;
		for (k = 0; k < 6; k++) {
			for (s = 0; s < 8; s++) {
				unsigned char *m = (s & 1) ? file : anon;

				one_run(m, len, sizes[si], starts[k], seqs[(s + k) % 3], s & 2,
					1000 * si + 10 * k + s, 3000, &st);
				runs++;
				if (st.bad) {
					bad_runs++;
					fprintf(stderr, "  run size %llu start %#llx seed %u: %d problems\n",
						(unsigned long long)sizes[si],
						(unsigned long long)starts[k], 1000 * si + 10 * k + s,
						st.bad);
				}
				produced += st.produced;
				lost += st.lost;
				full += st.full;
				wraps += st.produced * 40 / sizes[si];
			}
		}
	}
	CHECK(!bad_runs, "%u of %u random runs went wrong", bad_runs, runs);
	CHECK(lost > 0 && full > 0 && wraps > 1000,
	      "the runs exercised overwrite (%llu lost), full (%llu) and wraps (~%llu)",
	      (unsigned long long)lost, (unsigned long long)full, (unsigned long long)wraps);
	munmap(file, len);
	munmap(anon, len);
}

void test_ring_torn(const struct test_env *env);
void test_ring_mp(const struct test_env *env);
void test_ring_cli(const struct test_env *env);
void test_ring_hdr_race(const struct test_env *env);
void test_ring_gaps(const struct test_env *env);
void test_ring_guard(const struct test_env *env);
void test_ring_wait(const struct test_env *env);
void test_ring_ahead(const struct test_env *env);

void test_ring(const struct test_env *env)
{
	test_crc();
	test_header();
	test_interleavings(env);
	test_ring_torn(env);
	test_ring_mp(env);
	test_ring_cli(env);
	test_ring_hdr_race(env);
	test_ring_gaps(env);
	test_ring_guard(env);
	test_ring_wait(env);
	test_ring_ahead(env);
}
