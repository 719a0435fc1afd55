// SPDX-License-Identifier: GPL-2.0
/*
 * The shared producer (include/resmem/ring_producer.h, the code the module
 * runs on a region a program may have mapped) against a header that
 * changes under it: right after the producer copies the header out, a
 * "concurrent writer" (the read hook below) makes the live header claim a
 * data area far past the region, positions beyond pos_mod, a cons that is
 * not a position.  Every write of the producer must stay inside the region
 * and nothing may divide by a value it did not check.
 */
#include <string.h>

#include <linux/resmem.h>

#include "../lib/kcompat.h"
#include "test.h"

#define REGION (RESMEM_RING_HDR_SIZE + 4096)

static _Alignas(8) u8 mem[REGION + 4096];	/* the region, then a guard */
static int outside;		/* writes that left the region */
static int racing;		/* the writer strikes after each header copy */

static void strike(void)
{
	struct resmem_ring_hdr *h = (struct resmem_ring_hdr *)mem;

	h->data_size = (u64)1 << 40;
	h->pos_mod = 3;
	h->head = ~(u64)0 - 5;
	h->tail = 12345;
	h->cons = 7;
}

static void ring_mem_read(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
	if (racing && src == mem)
		strike();
}

static void ring_mem_write(void *dst, const void *src, size_t len)
{
	if ((u8 *)dst < mem || (u8 *)dst + len > mem + REGION)
		outside++;
	else
		memcpy(dst, src, len);
}

#define ring_crc32c(crc, buf, len) resmem_crc32c(crc, buf, len)
#define ring_mem_crc32c(crc, buf, len) resmem_crc32c(crc, buf, len)
#define ring_time_ns() ((u64)1)
#define ring_wmb() smp_wmb()

struct producer {
	struct resmem_ring_hdr *hdr;
	u8 *data;
	u64 data_size, pos_mod;
	u32 flags, epoch;
	u64 head, head_seq, tail, tail_seq;
	u64 refused, overwritten, wait_ns;
	u64 run_refused, run_overwritten, run_wait_ns;
	struct resmem_ring_gap gap;
	bool reserved;
	u64 rsv_pos;
	u32 rsv_len;
};
#define RING_PRODUCER struct producer

#include <resmem/ring_producer.h>

/* What the module's resmem_kring_open() and a producer session do. */
static void produce(struct producer *p, int keep)
{
	struct resmem_ring_hdr h;
	u64 off = 0;
	int i, err = -ENODATA;

	if (keep)
		err = ring_hdr_read(mem, REGION, &h);
	CHECK(!keep || !err, "err %d", err);
	if (err)
		ring_hdr_create(mem, REGION - RESMEM_RING_HDR_SIZE, 0, 0, &h);
	ring_bind(p, mem, &h);
	ring_attach(p, RESMEM_RING_F_KERNEL);
	for (i = 0; i < 200; i++) {
		if (racing && i % 50 == 0)
			strike();
		err = ring_reserve(p, 100 + i, &off);
		if (err == -ENOSPC) { /* as the kernel producer: refused, GAP later */
			ring_refuse(p);
			continue;
		}
		CHECK(!err && off + 100 + i <= p->data_size, "err %d off %llu",
		      err, (unsigned long long)off);
		CHECK(!ring_commit(p, 100 + i));
	}
	ring_close(p);
}

void test_ring_hdr_race(const struct test_env *env)
{
	struct producer p;

	(void)env;
	memset(mem, 0, sizeof(mem));
	racing = 0;
	produce(&p, 0);
	racing = 1;
	produce(&p, 1);
	CHECK(p.data_size == REGION - RESMEM_RING_HDR_SIZE &&
		      p.pos_mod == resmem_ring_pos_mod(p.data_size),
	      "geometry from the checked copy");
	CHECK(outside == 0, "%d writes outside the region", outside);
}
