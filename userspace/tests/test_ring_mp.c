// SPDX-License-Identifier: GPL-2.0
/*
 * Two processes, one shared mapping, real concurrency: a producer writes the
 * model stream as fast as it can while a consumer drains it; in stop mode
 * nothing may be lost, in overwrite mode every gap must be reported as
 * exactly the records that were overwritten.  Never a wrong record.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/ring_internal.h"
#include "ring_model.h"
#include "test.h"

#define LEN	(4096 + 65536)
#define MAXP	2000
#define SEED	4242
#define RECORDS	200000

struct shared_result {
	uint64_t produced, consumed, lost, corrupt, wrong, gaps_bad;
};

static void producer(unsigned char *m, int overwrite)
{
	struct resmem_ring *r;
	uint64_t seq = UINT64_MAX - 1000;	/* crosses the 2^64 wrap of seq */
	int err;

	if (resmem_ring_open(&r, m, LEN) || resmem_ring_attach(r, overwrite ? RESMEM_RING_F_OVERWRITE : 0))
		_exit(2);
	while (seq != UINT64_MAX - 1000 + RECORDS) {
		err = model_produce(r, SEED, seq, MAXP);
		if (err == -ENOSPC && !overwrite) {
			sched_yield();
			continue;
		}
		if (err)
			_exit(3);
		seq++;
	}
	resmem_ring_close(r);
	resmem_ring_free(r);
	_exit(0);
}

static void consumer(unsigned char *m, struct shared_result *res)
{
	struct resmem_ring *r;
	struct resmem_ring_reader *rd;
	struct resmem_ring_recinfo ri;
	unsigned char buf[MAXP];
	uint64_t next = UINT64_MAX - 1000;
	int n;

	if (resmem_ring_open(&r, m, LEN) || resmem_ring_reader_new(&rd, r, RESMEM_RING_FROM_CONS))
		_exit(2);
	for (;;) {
		n = resmem_ring_read(rd, buf, sizeof(buf), &ri);
		if (n < 0)
			_exit(3);
		if (!n) {
			if (__atomic_load_n(&r->hdr->flags, __ATOMIC_ACQUIRE) & RESMEM_RING_F_CLOSED &&
			    __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE) == rd->pos)
				break;
			sched_yield();
			continue;
		}
		if (ri.seq != next + ri.lost)
			res->gaps_bad++;
		if (!model_check(SEED, ri.seq, buf, ri.len, MAXP))
			res->wrong++;
		res->lost += ri.lost;
		res->corrupt += ri.corrupt;
		res->consumed++;
		next = ri.seq + 1;
		resmem_ring_consume(rd);
	}
	res->produced = next - (UINT64_MAX - 1000);
	_exit(0);
}

static void run(int overwrite)
{
	unsigned char *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct shared_result *res = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct resmem_ring *r;
	struct resmem_ring_opts o = { 0, (1ULL << 32) - 4096, UINT64_MAX - 1000 };
	pid_t p, c;
	int sp, sc;

	if (!CHECK(m != MAP_FAILED && res != MAP_FAILED))
		return;
	memset(res, 0, sizeof(*res));
	if (!CHECK(resmem_ring_init(&r, m, LEN, &o) == 0))
		return;
	resmem_ring_free(r);	/* the children open their own */
	fflush(NULL);
	c = fork();
	if (c == 0)
		consumer(m, res);
	p = fork();
	if (p == 0)
		producer(m, overwrite);
	waitpid(p, &sp, 0);
	waitpid(c, &sc, 0);
	CHECK(WIFEXITED(sp) && WEXITSTATUS(sp) == 0 && WIFEXITED(sc) && WEXITSTATUS(sc) == 0,
	      "producer status %#x, consumer %#x", sp, sc);
	CHECK(!res->wrong && !res->corrupt && !res->gaps_bad,
	      "overwrite %d: %llu wrong, %llu corrupt, %llu unexplained gaps", overwrite,
	      (unsigned long long)res->wrong, (unsigned long long)res->corrupt,
	      (unsigned long long)res->gaps_bad);
	CHECK(res->produced == RECORDS && res->consumed + res->lost == RECORDS,
	      "overwrite %d: %llu consumed + %llu lost of %d", overwrite,
	      (unsigned long long)res->consumed, (unsigned long long)res->lost, RECORDS);
	if (!overwrite)
		CHECK(res->lost == 0 && res->consumed == RECORDS);
	fprintf(stderr, "  ring two-process run, overwrite %d: %llu consumed, %llu lost (counted)\n",
		overwrite, (unsigned long long)res->consumed, (unsigned long long)res->lost);
	munmap(res, 4096);
	munmap(m, LEN);
}

/*
 * Readers starting from tail while an overwriting producer moves tail under
 * them: the first record a reader returns was not lost by anybody, so
 * lost must be 0 and the record must be the one its seq says.
 */
static void tail_readers(void)
{
	unsigned char *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct resmem_ring_opts o = { 0, (1ULL << 32) - 4096, UINT64_MAX - 1000 };
	struct resmem_ring *r;
	struct resmem_ring_reader *rd;
	struct resmem_ring_recinfo ri;
	unsigned char buf[MAXP];
	uint64_t lost = 0, corrupt = 0, wrong = 0, read = 0, i;
	pid_t p;
	int sp, n, k;

	if (!CHECK(m != MAP_FAILED) || !CHECK(resmem_ring_init(&r, m, LEN, &o) == 0))
		return;
	fflush(NULL);
	p = fork();
	if (p == 0)
		producer(m, 1);
	for (i = 0;; i++) {	/* until the producer closes the ring */
		if (resmem_ring_reader_new(&rd, r, RESMEM_RING_FROM_TAIL)) {
			wrong++;
			break;
		}
		for (k = 0; k < 3; k++) {
			n = resmem_ring_read(rd, buf, sizeof(buf), &ri);
			if (n != 1)
				break;
			read++;
			if (!model_check(SEED, ri.seq, buf, ri.len, MAXP))
				wrong++;
			if (k == 0) {
				lost += ri.lost;
				corrupt += ri.corrupt;
			}
		}
		resmem_ring_reader_free(rd);
		if (__atomic_load_n(&r->hdr->flags, __ATOMIC_ACQUIRE) & RESMEM_RING_F_CLOSED)
			break;
	}
	waitpid(p, &sp, 0);
	CHECK(WIFEXITED(sp) && WEXITSTATUS(sp) == 0, "producer status %#x", sp);
	CHECK(read > 1000, "only %llu records read by the tail readers", (unsigned long long)read);
	CHECK(!lost && !corrupt && !wrong,
	      "readers from tail: first records counted %llu lost, %llu corrupt; %llu wrong of %llu read",
	      (unsigned long long)lost, (unsigned long long)corrupt, (unsigned long long)wrong,
	      (unsigned long long)read);
	fprintf(stderr, "  ring tail readers under an overwriting producer: %llu readers, %llu records\n",
		(unsigned long long)i, (unsigned long long)read);
	resmem_ring_free(r);
	munmap(m, LEN);
}

void test_ring_mp(const struct test_env *env)
{
	(void)env;
	run(0);
	run(1);
	tail_readers();
}
