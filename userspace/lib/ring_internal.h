/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libresmem ring internals: access to the shared header and data area.
 * Header fields are read and written with atomic builtins (the barriers of
 * docs/ring-format.md); ring memory is only touched with naturally aligned
 * 8-byte (or 4-byte) accesses so that uncached mappings work everywhere.
 */
#ifndef RESMEM_RING_INTERNAL_H
#define RESMEM_RING_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "libresmem.h"

#define RING_REC ((uint64_t)sizeof(struct resmem_ring_rec))
#define RING_ALIGN8(x) (((x) + 7) & ~(uint64_t)7)

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define LOAD_ACQ(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define STORE_REL(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
/* smp_wmb(): earlier stores before later stores (and loads). */
#define WMB() __atomic_thread_fence(__ATOMIC_RELEASE)
/* smp_rmb(): earlier loads before later loads. */
#define RMB() __atomic_thread_fence(__ATOMIC_ACQUIRE)

/* Record size in the ring for @len payload bytes. */
static inline uint64_t ring_rec_size(uint64_t len)
{
	return RING_ALIGN8(RING_REC + len);
}

/* Largest payload a ring of @data_size bytes takes. */
static inline uint64_t ring_max_payload(uint64_t data_size)
{
	uint64_t m = data_size / 2 - RING_REC;

	return m > RESMEM_RING_MAX_PAYLOAD ? RESMEM_RING_MAX_PAYLOAD : m;
}

/* Copy @len bytes from 8-aligned ring memory @src into ordinary memory. */
static inline void ring_copy_out(void *dst, const unsigned char *src,
				 uint64_t len)
{
	const volatile uint64_t *s =
		(const volatile uint64_t *)(const void *)src;
	unsigned char *d = dst;
	uint64_t w;

	for (; len >= 8; len -= 8, d += 8) {
		w = *s++;
		memcpy(d, &w, 8);
	}
	if (len) {
		w = *s;
		memcpy(d, &w, len);
	}
}

/* Copy @len bytes into 8-aligned ring memory; the last word is zero-padded. */
static inline void ring_copy_in(unsigned char *dst, const void *src,
				uint64_t len)
{
	volatile uint64_t *d = (volatile uint64_t *)(void *)dst;
	const unsigned char *s = src;
	uint64_t w;

	for (; len >= 8; len -= 8, s += 8) {
		memcpy(&w, s, 8);
		*d++ = w;
	}
	if (len) {
		w = 0;
		memcpy(&w, s, len);
		*d = w;
	}
}

/* CRC of a record: its first 20 header bytes, then @payload. */
static inline uint32_t ring_rec_crc(const struct resmem_ring_rec *h,
				    const void *payload)
{
	return resmem_crc32c(resmem_crc32c(0, h, 20), payload,
			     (h->flags & RESMEM_REC_F_PAD) ? 0 : h->len);
}

/* CRC over payload still in ring memory (8-aligned): aligned word reads. */
uint32_t ring_crc_ring(uint32_t crc, const unsigned char *p, uint64_t len);

#endif
