// SPDX-License-Identifier: GPL-2.0
/*
 * The ring producer in the kernel: include/resmem/ring_producer.h (the
 * code libresmem also runs) over kernel-mapped region memory, with the
 * kernel's CRC32C.  The header is copied out of the region once and only
 * the checked copy is used: a concurrent writer of the region (a program
 * with it mapped) cannot move data_size or pos_mod under the producer.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compiler.h>
#include <linux/crc32.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/ktime.h>
#include <asm/barrier.h>

#include "ring.h"

#ifndef RESMEM_HAVE_CRC32C_LIB
/*
 * Before crc32c() became a plain library call (include/linux/crc32.h), it
 * went through the crypto API in libcrc32c.ko; the same CRC is built in as
 * __crc32c_le() (lib/crc32.c), callable in any context.
 */
static inline u32 crc32c(u32 crc, const void *p, size_t len)
{
	return __crc32c_le(crc, p, len);
}
#endif

/* The format's CRC32C: crc32c() without the initial and final inversion. */
static u32 ring_crc32c(u32 crc, const void *buf, size_t len)
{
	return ~crc32c(~crc, buf, len);
}

/* Kernel mappings of a region (WB or WC) take ordinary accesses. */
#define ring_mem_crc32c(crc, ring, len)	ring_crc32c(crc, ring, len)
#define ring_mem_read(dst, ring, len)	memcpy(dst, ring, len)
#define ring_mem_write(ring, src, len)	memcpy(ring, src, len)
/*
 * The records' CLOCK_REALTIME: the NMI-safe accessor, since the producer
 * API may be called from any context (it may lag a concurrent clock step).
 */
#define ring_time_ns()			ktime_get_real_fast_ns()
/* cache=wc regions: on x86 only wmb() (sfence) orders WC stores */
#define ring_wmb()			wmb()
#define RING_PRODUCER			struct resmem_kring

#include <resmem/ring_producer.h>

/**
 * resmem_kring_check() - is there a valid ring header?
 * @base: kernel mapping of the region
 * @region_size: bytes in the region, at least RESMEM_RING_HDR_SIZE
 * @copy: out: the header as copied and checked
 *
 * Return: 0, -ENODATA (no ring), -EPROTONOSUPPORT (other version),
 * -EBADMSG (damaged), -EINVAL (does not fit the region).
 */
int resmem_kring_check(const void *base, u64 region_size,
		       struct resmem_ring_hdr *copy)
{
	return ring_hdr_read(base, region_size, copy);
}

/**
 * resmem_kring_open() - keep the ring found at @base, or create one
 * @k: producer state to fill in
 * @base: kernel mapping of the region
 * @region_size: its size
 * @reset: create an empty ring even if a ring is there
 *
 * A region without a ring (no magic) gets one; a damaged header, one of
 * another version or one that does not fit the region is left alone (it
 * may be what a crash left behind, or something else's data) unless
 * @reset.  Nothing but the header and the first record header (cleared)
 * is written when a ring is created.  @k takes geometry and positions from
 * one checked copy of the header.
 *
 * Return: 1 if an existing ring was kept, 0 if one was created; -EINVAL if
 * the region is too small for a ring; without @reset, the header check's
 * -EBADMSG, -EPROTONOSUPPORT or -EINVAL.
 */
int resmem_kring_open(struct resmem_kring *k, void *base, u64 region_size,
		      bool reset)
{
	struct resmem_ring_hdr h;
	int err;

	if (region_size < RESMEM_RING_HDR_SIZE + RESMEM_RING_MIN_DATA)
		return -EINVAL;
	err = reset ? -ENODATA : ring_hdr_read(base, region_size, &h);
	if (err && err != -ENODATA)
		return err;
	if (err)
		ring_hdr_create(base, (region_size - RESMEM_RING_HDR_SIZE) &
				~(u64)(RESMEM_RING_ALIGN - 1), 0, 0, &h);
	ring_bind(k, base, &h);
	return !err;
}

/**
 * resmem_kring_attach() - start a producer session (epoch++)
 * @k: the ring, from resmem_kring_open()
 * @flags: RESMEM_RING_F_OVERWRITE and/or RESMEM_RING_F_KERNEL
 */
void resmem_kring_attach(struct resmem_kring *k, u32 flags)
{
	ring_attach(k, flags);
}

/**
 * resmem_kring_close() - end of stream: set RESMEM_RING_F_CLOSED
 * @k: the ring
 */
void resmem_kring_close(struct resmem_kring *k)
{
	ring_close(k);
}

/**
 * resmem_kring_reserve() - reserve the next record
 * @k: the ring
 * @len: payload bytes
 * @data_off: out: data-area offset of the payload
 *
 * A kernel producer cannot wait for the consumer: a record that does not
 * fit (full, not overwriting) is refused: it takes its sequence number,
 * counts in the header's refused and is marked by a GAP record before the
 * next record that fits.
 *
 * Return: 0, -EMSGSIZE (too big for this ring), -EBUSY (already one
 * reserved), -ENOSPC (full and not overwriting: refused).
 */
int resmem_kring_reserve(struct resmem_kring *k, u32 len, u64 *data_off)
{
	int ret = ring_reserve(k, len, data_off);

	if (ret == -ENOSPC)
		ring_refuse(k);
	return ret;
}

/**
 * resmem_kring_commit() - publish the reserved record
 * @k: the ring
 * @len: payload bytes written, at most the reserved length
 *
 * Return: 0, or -EINVAL if nothing is reserved or @len is too big.
 */
int resmem_kring_commit(struct resmem_kring *k, u32 len)
{
	return ring_commit(k, len);
}
