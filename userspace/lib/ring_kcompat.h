/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What include/resmem/ring_producer.h needs besides kernel names
 * (kcompat.h), for libresmem: ring memory may be an uncached mapping, so it
 * is only touched with naturally aligned 8-byte accesses.
 */
#ifndef RESMEM_RING_KCOMPAT_H
#define RESMEM_RING_KCOMPAT_H

#include <string.h>
#include <time.h>

#include <linux/resmem.h>

#include "internal.h"
#include "kcompat.h"

/* Copy @len bytes from 8-aligned ring memory @src into ordinary memory. */
static inline void ring_mem_read(void *dst, const void *src, uint64_t len)
{
	const volatile uint64_t *s = (const volatile uint64_t *)src;
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
static inline void ring_mem_write(void *dst, const void *src, uint64_t len)
{
	volatile uint64_t *d = (volatile uint64_t *)dst;
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

/*
 * ring_wmb(): earlier stores to ring memory are visible before later ones,
 * also through a write-combining mapping (cache=wc): x86 WC stores are not
 * ordered by the compiler-only fence smp_wmb() is there, so sfence (the
 * kernel's wmb()); arm64 Normal-NC and device observers: dmb oshst.
 */
#if defined(__x86_64__) || defined(__i386__)
#define ring_wmb() __asm__ __volatile__("sfence" ::: "memory")
#elif defined(__aarch64__)
#define ring_wmb() __asm__ __volatile__("dmb oshst" ::: "memory")
#else
#define ring_wmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* The records' clock (docs/ring-format.md): CLOCK_REALTIME nanoseconds. */
static inline uint64_t ring_time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* resmem_crc32c() (libresmem.h) over ordinary memory. */
uint32_t resmem_crc32c(uint32_t crc, const void *buf, size_t len);
#define ring_crc32c(crc, buf, len) resmem_crc32c(crc, buf, len)

/* The same over ring memory (8-aligned): aligned word reads. */
RM_HIDDEN uint32_t ring_mem_crc32c(uint32_t crc, const void *p, uint64_t len);

#endif
