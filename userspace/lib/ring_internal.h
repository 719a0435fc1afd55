/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libresmem ring internals.  The producer is include/resmem/ring_producer.h
 * (shared with the module, built in ring_produce.c); the arithmetic and the
 * header check are the UAPI header's.  Ring memory is only touched through
 * ring_kcompat.h: naturally aligned 8-byte accesses, so that uncached
 * mappings work everywhere.
 */
#ifndef RESMEM_RING_INTERNAL_H
#define RESMEM_RING_INTERNAL_H

#include "libresmem.h"
#include "ring_kcompat.h"

#define RING_REC ((u64)sizeof(struct resmem_ring_rec))

/* The ring handle: the producer state of include/resmem/ring_producer.h. */
struct resmem_ring {
	struct resmem_ring_hdr *hdr; /* region offset 0 */
	u8 *data; /* the data area */
	u64 data_size; /* from the checked header copy */
	u64 pos_mod;
	/* producer state (valid after resmem_ring_attach()) */
	int producing;
	u32 flags; /* RESMEM_RING_F_* of this session */
	u32 epoch;
	u64 head, head_seq, tail, tail_seq;
	u64 refused, overwritten,
		wait_ns; /* since reset: the producer's copies */
	u64 run_refused, run_overwritten,
		run_wait_ns; /* their values at attach */
	u64 run_corrupt; /* the consumer's corrupt count at attach */
	struct resmem_ring_gap gap; /* refused records not yet marked */
	int reserved; /* a record is reserved, not committed */
	u64 rsv_pos; /* its position */
	u32 rsv_len; /* its reserved payload length */
};

struct resmem_ring_reader {
	const struct resmem_ring *ring;
	u64 pos; /* next record's position */
	u64 seq; /* its expected sequence number */
	int synced; /* seq is known */
	int resync; /* after a jump: accept seq >= expected (2: from tail,
		     * nothing read yet) */
	int scanning; /* after corruption: searching for a record */
	u64 records, bytes; /* good records returned */
	u64 lost; /* records overwritten before they were read */
	u64 refused; /* records the producer refused (holes, GAP records) */
	u64 corrupt; /* records that failed their checks */
	u64 corrupt_told; /* of those, added to the header's corrupt */
	/* missing since the last record returned, for the next one's recinfo */
	u64 pend_lost, pend_corrupt;
	struct resmem_ring_gap pend; /* refused (count), when (GAP records) */
};

/* CRC of a record: its CRC'd header bytes, then @payload (none for PAD). */
static inline uint32_t ring_rec_crc(const struct resmem_ring_rec *h,
				    const void *payload)
{
	return resmem_crc32c(resmem_crc32c(0, h, RESMEM_RING_REC_CRC_LEN),
			     payload,
			     (h->flags & RESMEM_REC_F_PAD) ? 0 : h->len);
}

/*
 * The record header at *@pos, past an implicit pad (fewer than RING_REC
 * bytes before the data end: *@pos moves to the next lap), copied to @h;
 * *@room: bytes from it to the data end.
 */
static inline void ring_rec_at(const struct resmem_ring *r, u64 *pos,
			       struct resmem_ring_rec *h, u64 *room)
{
	u64 off = resmem_ring_pos_offset(r->data_size, *pos);

	*room = r->data_size - off;
	if (*room < RING_REC) {
		*pos = resmem_ring_pos_advance(r->pos_mod, *pos, *room);
		off = 0;
		*room = r->data_size;
	}
	ring_mem_read(h, r->data + off, RING_REC);
}

#endif
