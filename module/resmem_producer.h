/* SPDX-License-Identifier: GPL-2.0 */
/*
 * resmem in-kernel producer API: a device driver streams records into the
 * crash-safe ring (docs/ring-format.md) of a resmem region, typically by
 * letting its device DMA each record's payload.
 *
 *	p = resmem_producer_get("region0", &pdev->dev, 0);
 *	for each block:
 *		resmem_producer_reserve(p, len, &slot);
 *		program the device to write len bytes at slot.dma; wait for it;
 *		resmem_producer_commit(p, len);
 *	resmem_producer_put(p);
 *
 * One producer per region at a time; the caller serializes its own calls
 * (reserve/commit from one context at a time).  Readers are user space
 * (resmem drain, libresmem) or anything else that follows the format.
 * A device-tree region can be removed under its producer: reserve and
 * commit then fail with -ENODEV, and the driver stops its device and calls
 * resmem_producer_put(), which releases what the region still held.
 */
#ifndef _RESMEM_PRODUCER_H
#define _RESMEM_PRODUCER_H

#include <linux/device.h>
#include <linux/types.h>

struct resmem_producer;

/* resmem_producer_get() flags */
#define RESMEM_PRODUCER_OVERWRITE	(1U << 0)	/* overwrite unread records */
#define RESMEM_PRODUCER_RESET		(1U << 1)	/* start an empty ring */

/**
 * struct resmem_slot - where a reserved record's payload goes
 * @dma:	bus address of the payload for the producer's device
 * @vaddr:	kernel address of the payload
 * @len:	bytes reserved
 * @seq:	the record's sequence number
 */
struct resmem_slot {
	dma_addr_t dma;
	void *vaddr;
	u32 len;
	u64 seq;
};

struct resmem_producer *resmem_producer_get(const char *name, struct device *dev,
					    unsigned int flags);
void resmem_producer_put(struct resmem_producer *p);
phys_addr_t resmem_producer_phys(const struct resmem_producer *p);
dma_addr_t resmem_producer_dma(const struct resmem_producer *p);
void *resmem_producer_vaddr(const struct resmem_producer *p);
u64 resmem_producer_size(const struct resmem_producer *p);
int resmem_producer_reserve(struct resmem_producer *p, u32 len,
			    struct resmem_slot *slot);
int resmem_producer_commit(struct resmem_producer *p, u32 len);

#endif /* _RESMEM_PRODUCER_H */
