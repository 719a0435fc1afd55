/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ring format (docs/ring-format.md) as the kernel producer writes it.
 * ring.c builds the producer of include/resmem/ring_producer.h (the same
 * code libresmem runs) for kernel memory; producer.c is the exported API.
 */
#ifndef _RESMEM_RING_H
#define _RESMEM_RING_H

#include <linux/types.h>
#include <uapi/linux/resmem.h>

/**
 * struct resmem_kring - producer view of a ring in kernel-mapped memory
 * @hdr:	the header, at the region's first byte
 * @data:	the data area
 * @data_size:	bytes in the data area (from the checked header copy)
 * @pos_mod:	positions wrap here (likewise)
 * @flags:	RESMEM_RING_F_* of this producer session
 * @epoch:	low 32 bits of the header's epoch for this session
 * @head:	committed end (producer's copy)
 * @head_seq:	next sequence number
 * @tail:	oldest record not overwritten
 * @tail_seq:	its sequence number
 * @refused:	records refused since the ring was reset (header's copy)
 * @overwritten: records overwritten unread since then
 * @wait_ns:	nanoseconds producers waited for room since then
 * @run_refused: @refused when this session attached
 * @run_overwritten: @overwritten when this session attached
 * @run_wait_ns: @wait_ns when this session attached
 * @gap:	records refused and not yet marked by a GAP record
 * @reserved:	a record is reserved and not committed
 * @rsv_pos:	its position
 * @rsv_len:	its reserved payload length
 */
struct resmem_kring {
	struct resmem_ring_hdr *hdr;
	u8 *data;
	u64 data_size;
	u64 pos_mod;
	u32 flags;
	u32 epoch;
	u64 head, head_seq, tail, tail_seq;
	u64 refused, overwritten, wait_ns;
	u64 run_refused, run_overwritten, run_wait_ns;
	struct resmem_ring_gap gap;
	bool reserved;
	u64 rsv_pos;
	u32 rsv_len;
};

int resmem_kring_check(const void *base, u64 region_size,
		       struct resmem_ring_hdr *copy);
int resmem_kring_open(struct resmem_kring *k, void *base, u64 region_size,
		      bool reset);
void resmem_kring_attach(struct resmem_kring *k, u32 flags);
void resmem_kring_close(struct resmem_kring *k);
int resmem_kring_reserve(struct resmem_kring *k, u32 len, u64 *data_off);
int resmem_kring_commit(struct resmem_kring *k, u32 len);

#endif /* _RESMEM_RING_H */
