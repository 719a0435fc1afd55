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

/* CRC of a record: its CRC'd header bytes, then @payload (none for PAD). */
static inline uint32_t ring_rec_crc(const struct resmem_ring_rec *h,
				    const void *payload)
{
	return resmem_crc32c(resmem_crc32c(0, h, RESMEM_RING_REC_CRC_LEN),
			     payload,
			     (h->flags & RESMEM_REC_F_PAD) ? 0 : h->len);
}

#endif
