// SPDX-License-Identifier: GPL-2.0
/*
 * RESMEM_IOC_SYNC: make the CPU caches and memory agree on a byte range,
 * for devices that do not snoop the caches (non-coherent DMA, arm64
 * without "dma-coherent").
 *
 *  FOR_DEVICE: clean (write back) the range to the point of coherency, so
 *		a device reads what the CPU wrote and no dirty line is later
 *		evicted over what the device writes;
 *  FOR_CPU:	invalidate the range, so the CPU's next reads come from
 *		memory, i.e. see what the device wrote.  Only through a file
 *		open for writing (ioctl.c): it discards dirty lines.  On a
 *		read-only region, where no program writes, the range is
 *		cleaned first, so nothing the kernel wrote is discarded.
 *
 * Always by virtual address on resmem's own kernel mapping of the region
 * (resmem-arch.h explains why not through the DMA API and the linear map):
 * that mapping exists for no-map regions too, so nothing is ever done
 * through an unmapped address.  The data cache is physically tagged, so
 * maintenance through this alias covers the lines user mappings filled.
 *
 * Only write-back regions have cached lines to maintain; write-combining
 * and uncached ones (Normal-NC on arm64, with no cacheable alias for
 * no-map regions) and coherent ones get a full barrier, which orders the
 * CPU's earlier accesses against the device's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>

#include "resmem-arch.h"
#include "resmem-private.h"

/* Per step; cond_resched() and a fatal-signal check in between. */
#define RESMEM_SYNC_CHUNK	SZ_1M

/**
 * resmem_cache_sync() - cache maintenance on a range of a region
 * @r:		the region
 * @direction:	RESMEM_SYNC_FOR_CPU or RESMEM_SYNC_FOR_DEVICE
 * @offset:	first byte, from the start of @r
 * @length:	bytes; 0 does nothing
 * @writer:	the caller may write the region (its file is open for writing)
 *
 * Each step runs inside resmem_read_lock(): the kernel mapping stays
 * while it does (lifetime.c).
 *
 * Return: 0, -EINVAL for an unknown direction or a range outside @r
 * (logged, rate-limited), -EBADF for RESMEM_SYNC_FOR_CPU from a caller
 * that may not write a writable region, -EINTR if a fatal signal ended a
 * long range early, or -ENODEV if the region is being removed.
 */
int resmem_cache_sync(struct resmem_region *r, u32 direction, u64 offset,
		      u64 length, bool writer)
{
	u64 done = 0;

	if (direction != RESMEM_SYNC_FOR_CPU &&
	    direction != RESMEM_SYNC_FOR_DEVICE) {
		resmem_user_err(r, "sync direction %u is neither RESMEM_SYNC_FOR_CPU (%u) nor RESMEM_SYNC_FOR_DEVICE (%u)",
				direction, RESMEM_SYNC_FOR_CPU,
				RESMEM_SYNC_FOR_DEVICE);
		return -EINVAL;
	}
	if (offset > r->size || length > r->size - offset) {
		resmem_user_err(r, "sync range offset %#llx, length %#llx is outside the region (size %#llx); sync within [0, size)",
				offset, length, r->size);
		return -EINVAL;
	}
	/*
	 * Invalidating drops dirty lines other writers have not written back
	 * yet: only for a caller that may write itself.  A read-only region
	 * has no such writer; there the range is cleaned first (below).
	 */
	if (direction == RESMEM_SYNC_FOR_CPU && !r->readonly && !writer) {
		resmem_user_err(r, "sync for the CPU discards cache lines other writers have not written back; open the device O_RDWR to sync it");
		return -EBADF;
	}
	if (!length)
		return 0;

	if (r->coherent || r->cache != RESMEM_CACHE_WB || !r->kaddr) {
		mb();
		return 0;
	}

	while (done < length) {
		u64 len = min_t(u64, length - done, RESMEM_SYNC_CHUNK);
		void *addr = r->kaddr + offset + done;
		int idx = resmem_read_lock();
		bool alive = resmem_region_alive(r);

		if (alive && (direction == RESMEM_SYNC_FOR_DEVICE || r->readonly))
			resmem_dcache_clean(addr, len);
		if (alive && direction == RESMEM_SYNC_FOR_CPU)
			resmem_dcache_inval(addr, len);
		resmem_read_unlock(idx);
		if (!alive)
			return -ENODEV;
		done += len;
		if (done < length) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}
