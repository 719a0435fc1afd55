// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel producer API (resmem_producer.h): a device driver looks a
 * region up by name, gets it DMA-mapped for its device, and streams records
 * into the region's ring.  A valid ring already in the region (from before a
 * warm reboot, kexec or panic) is kept and continued; nothing is zeroed.
 *
 * Regions are looked up in the registry (registry.c); a region has at most
 * one producer, its @producer, set and cleared under resmem_regions_lock.
 * A producer holds a reference on this module, so resmem cannot be
 * unloaded until resmem_producer_put(), and one on the region.  A
 * device-tree region can still be removed under it (lifetime.c): from then
 * on reserve and commit fail with -ENODEV, telling the driver to stop,
 * while the claim, the kernel mapping and the DMA mapping stay until
 * resmem_producer_put(), since its device may still be writing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "resmem-arch.h"
#include "resmem-private.h"
#include "resmem_producer.h"
#include "ring.h"

/**
 * struct resmem_producer - one driver producing into one region
 * @region:	the region (whose @producer this is)
 * @dev:	the device that writes the records (DMA)
 * @dma:	bus address of the region's first byte for @dev
 * @ring:	the ring state
 */
struct resmem_producer {
	struct resmem_region *region;
	struct device *dev;
	struct resmem_dma dma;
	struct resmem_kring ring;
};

/**
 * resmem_producer_log_ring() - say whether a new region holds a valid ring
 * @r: a region that just got its device
 *
 * A valid ring is kept either way (resmem_producer_get() continues it).
 */
void resmem_producer_log_ring(const struct resmem_region *r)
{
	struct resmem_ring_hdr h;

	if (r->kaddr && r->size >= RESMEM_RING_HDR_SIZE &&
	    !resmem_kring_check(r->kaddr, r->size, &h))
		pr_info(resmem_region_fmt ": ring kept: epoch %llu, next seq %llu, %llu bytes committed since tail\n",
			resmem_region_arg(r), h.epoch, h.head_seq,
			resmem_ring_pos_distance(h.pos_mod, h.head, h.tail));
}

/* Why resmem_kring_open() would not continue or create a ring. */
static const char *ring_refusal(int err)
{
	switch (err) {
	case -EBADMSG:
		return "damaged ring header";
	case -EPROTONOSUPPORT:
		return "ring of another format version";
	default:
		return "too small for a ring, or its ring header does not fit it";
	}
}

/**
 * resmem_producer_get() - become the producer of a region's ring
 * @name: region name (as in /dev/resmem/NAME)
 * @dev: the device that will write records by DMA (its DMA mask must be
 *	 set); the region is mapped for it as memory by the DMA API (dma.c),
 *	 so an IOMMU and a dma-ranges offset are honoured
 * @flags: RESMEM_PRODUCER_OVERWRITE (overwrite unread records when full),
 *	   RESMEM_PRODUCER_RESET (start an empty ring instead of continuing a
 *	   valid one)
 *
 * Continues a valid ring found in the region (epoch + 1); writes a new
 * empty ring header where there is none; refuses a damaged one (unless
 * RESMEM_PRODUCER_RESET): it may be what a crash left behind.  Holds a
 * reference on the resmem module until resmem_producer_put().  Records
 * are CRC-checked by the CPU at commit, so a write-back region needs a
 * DMA-coherent device (refused otherwise); a write-combining one takes any.
 * Context: process context; may sleep.
 *
 * Return: the producer, or ERR_PTR(): -ENOENT (no such region), -EBUSY (it
 * has a producer: a driver, or a program through RESMEM_IOC_RING_PRODUCER),
 * -EOPNOTSUPP (uncached region: no plain kernel mapping; or write-back
 * and @dev is not DMA-coherent),
 * -EINVAL (too small for a ring, or its ring does not fit it), -EBADMSG
 * (damaged ring header), -EPROTONOSUPPORT (ring of another format
 * version), -ERANGE (@dev cannot reach the region), -EOPNOTSUPP (no way
 * to map it as memory for @dev on this kernel), -EIO (DMA mapping
 * failed), -ENOMEM, -ENODEV.
 */
struct resmem_producer *resmem_producer_get(const char *name,
					    struct device *dev,
					    unsigned int flags)
{
	struct resmem_producer *p;
	struct resmem_region *r;
	int ret, kept;

	if (!dev)
		return ERR_PTR(-EINVAL);
	if (!try_module_get(THIS_MODULE))
		return ERR_PTR(-ENODEV);
	ret = -ENOMEM;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		goto put_module;
	mutex_lock(&resmem_regions_lock);
	r = resmem_region_find(name);
	ret = -ENOENT;
	if (!r)
		goto unlock;
	ret = -EBUSY;
	if (r->producer || resmem_ring_claimed_by_file(r, dev))
		goto unlock;
	ret = -EOPNOTSUPP;
	if (!r->kaddr) {
		dev_warn_ratelimited(dev, "resmem: region %s is uncached: the producer API needs a write-back or write-combining region (cache=wb|wc)\n",
				     name);
		goto unlock;
	}
	/*
	 * A device that does not snoop the CPU caches would DMA records past
	 * the cache lines the CPU writes headers into and reads CRCs through
	 * (arm64 without dma-coherent): only a region the CPU maps without a
	 * cache (write-combining) is safe for it.
	 */
	if (r->cache == RESMEM_CACHE_WB && !resmem_dev_dma_coherent(dev)) {
		dev_warn_ratelimited(dev, "resmem: region %s is write-back and this device is not DMA-coherent: its writes would bypass the CPU's cached view of the ring; map the region write-combining (resmem,cache = \"write-combining\", or regions=...:wc) or describe the device as dma-coherent\n",
				     name);
		goto unlock;
	}
	kept = resmem_kring_open(&p->ring, r->kaddr, r->size,
				 flags & RESMEM_PRODUCER_RESET);
	ret = kept;
	if (kept < 0) {
		dev_warn_ratelimited(dev, "resmem: region %s: %s (%d): not producing there; take out what it holds, then start a new ring (resmem ring %s --reset, or RESMEM_PRODUCER_RESET)\n",
				     name, ring_refusal(kept), kept, name);
		goto unlock;
	}
	ret = resmem_dma_map(r, dev, &p->dma);
	if (ret)
		goto unlock;
	p->region = r;
	p->dev = get_device(dev);
	get_device(&r->dev);
	r->producer = p;
	resmem_kring_attach(&p->ring, RESMEM_RING_F_KERNEL |
			    ((flags & RESMEM_PRODUCER_OVERWRITE) ?
			     RESMEM_RING_F_OVERWRITE : 0));
	mutex_unlock(&resmem_regions_lock);
	dev_info(dev, "resmem: producing into %s (%s ring, epoch %u, next seq %llu, dma %pad by %s)\n",
		 name, kept ? "kept" : "new", p->ring.epoch, p->ring.head_seq,
		 &p->dma.addr, resmem_dma_how(p->dma.how));
	return p;

unlock:
	mutex_unlock(&resmem_regions_lock);
	kfree(p);
put_module:
	module_put(THIS_MODULE);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(resmem_producer_get);

/**
 * resmem_producer_put() - stop producing: mark the stream closed, unmap
 * @p: from resmem_producer_get(); a reserved, uncommitted record is dropped
 *
 * The device must no longer write to the region; @p is freed.  If the
 * region was removed meanwhile, its claim and kernel mapping go now.
 * Context: process context.
 */
void resmem_producer_put(struct resmem_producer *p)
{
	struct resmem_region *r;

	if (IS_ERR_OR_NULL(p))
		return;
	r = p->region;
	resmem_kring_close(&p->ring);
	resmem_ring_kick(r);
	resmem_dma_unmap(r, p->dev, &p->dma);
	put_device(p->dev);
	mutex_lock(&resmem_regions_lock);
	WARN_ON(r->producer != p);
	r->producer = NULL;
	resmem_region_release_orphan(r, "its producer stopped");
	mutex_unlock(&resmem_regions_lock);
	resmem_region_free(r);
	kfree(p);
	module_put(THIS_MODULE);
}
EXPORT_SYMBOL_GPL(resmem_producer_put);

/**
 * resmem_producer_phys() - physical address of the region's first byte
 * @p: the producer
 *
 * Return: the address.
 */
phys_addr_t resmem_producer_phys(const struct resmem_producer *p)
{
	return p->region->phys;
}
EXPORT_SYMBOL_GPL(resmem_producer_phys);

/**
 * resmem_producer_dma() - bus address of the region's first byte
 * @p: the producer
 *
 * Return: the address for the device given to resmem_producer_get().
 */
dma_addr_t resmem_producer_dma(const struct resmem_producer *p)
{
	return p->dma.addr;
}
EXPORT_SYMBOL_GPL(resmem_producer_dma);

/**
 * resmem_producer_vaddr() - kernel mapping of the region's first byte
 * @p: the producer
 *
 * Return: the address (the ring header lives there).
 */
void *resmem_producer_vaddr(const struct resmem_producer *p)
{
	return p->region->kaddr;
}
EXPORT_SYMBOL_GPL(resmem_producer_vaddr);

/**
 * resmem_producer_size() - size of the region
 * @p: the producer
 *
 * Return: bytes.
 */
u64 resmem_producer_size(const struct resmem_producer *p)
{
	return p->region->size;
}
EXPORT_SYMBOL_GPL(resmem_producer_size);

/**
 * resmem_producer_reserve() - reserve the next record of the ring
 * @p: the producer
 * @len: payload bytes the device will write
 * @slot: out: where the payload goes (bus and kernel address), its seq
 *
 * The record is invisible to readers until resmem_producer_commit().
 * Context: any; the caller serializes reserve/commit.
 *
 * Return: 0, -ENOSPC (ring full and not overwriting: the record is refused,
 * counted in the ring's refused counter and marked by a GAP record),
 * -EMSGSIZE (@len too big for the ring), -EBUSY (a record is reserved),
 * -ENODEV (the region was removed: stop, and call resmem_producer_put()).
 */
int resmem_producer_reserve(struct resmem_producer *p, u32 len,
			    struct resmem_slot *slot)
{
	u64 off;
	int ret;

	if (!resmem_region_alive(p->region))
		return -ENODEV;
	ret = resmem_kring_reserve(&p->ring, len, &off);
	if (ret)
		return ret;
	off += RESMEM_RING_HDR_SIZE;
	slot->dma = p->dma.addr + off;
	slot->vaddr = (u8 *)p->region->kaddr + off;
	slot->len = len;
	slot->seq = p->ring.head_seq;
	return 0;
}
EXPORT_SYMBOL_GPL(resmem_producer_reserve);

/**
 * resmem_producer_commit() - publish the reserved record
 * @p: the producer
 * @len: bytes the device wrote (at most the reserved length)
 *
 * Call only once the device's write has completed and is visible to the
 * CPU: the CRC is computed over the payload now, then the ring's head moves
 * (store-release), making the whole record visible to readers at once.
 * Context: any; the caller serializes reserve/commit.
 *
 * Return: 0, -EINVAL (nothing reserved, @len too big), or -ENODEV (the
 * region was removed: the record is not published; stop, and call
 * resmem_producer_put()).
 */
int resmem_producer_commit(struct resmem_producer *p, u32 len)
{
	int ret;

	if (!resmem_region_alive(p->region))
		return -ENODEV;
	dma_rmb();	/* the device's payload before our CRC reads */
	ret = resmem_kring_commit(&p->ring, len);
	if (!ret)
		resmem_ring_kick(p->region);
	return ret;
}
EXPORT_SYMBOL_GPL(resmem_producer_commit);

/**
 * resmem_producer_describe() - "DRIVER DEVICE" of a producer, for messages
 * @p: the producer, under resmem_regions_lock
 * @buf: out, NUL-terminated
 * @len: its size
 */
void resmem_producer_describe(const struct resmem_producer *p, char *buf,
			      size_t len)
{
	snprintf(buf, len, "%s %s", dev_driver_string(p->dev),
		 dev_name(p->dev));
}
