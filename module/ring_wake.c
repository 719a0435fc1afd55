// SPDX-License-Identifier: GPL-2.0
/*
 * poll()/select()/epoll on a region's ring (docs/ring-format.md,
 * "Wake-ups"): EPOLLIN while committed records are not consumed (head !=
 * cons), EPOLLHUP once the producer closed the stream.  Sleepers are woken
 * by the in-kernel producer's commit (resmem_ring_kick()) and by a program
 * producing through mmap (RESMEM_IOC_RING_NOTIFY).
 *
 * A program producer cannot see the wait queue, so a poller arms the
 * ring's @waiters field for it before it sleeps:
 *
 *	poller (here)			producer
 *	poll_wait(); smp_mb()		store head (release)
 *	waiters = 1; smp_mb()		smp_mb()
 *	read head, flags		read waiters
 *	sleep if nothing new		if set: RESMEM_IOC_RING_NOTIFY
 *
 * Either the poller sees the new head or the producer sees waiters set.
 * NOTIFY clears waiters before it wakes everybody; each woken poller polls
 * again and re-arms if it still has nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/io.h>
#include <linux/irq_work.h>
#include <linux/poll.h>
#include <linux/stddef.h>
#include <linux/wait.h>

#include "resmem-private.h"
#include "ring.h"

#define RING_OFF(field)	offsetof(struct resmem_ring_hdr, field)

/*
 * Copy the header out of the region once and check the copy; only the
 * copy is used afterwards.  Uncached regions are read through the I/O
 * accessors into a first copy.
 */
static int ring_hdr_copy(struct resmem_region *r, struct resmem_ring_hdr *h)
{
	struct resmem_ring_hdr raw;

	if (r->size < RESMEM_RING_HDR_SIZE)
		return -ENODATA;
	if (r->kaddr)
		return resmem_kring_check(r->kaddr, r->size, h);
	memcpy_fromio(&raw, r->ioaddr, sizeof(raw));
	return resmem_kring_check(&raw, r->size, h);
}

static u64 ring_read64(struct resmem_region *r, size_t off)
{
	if (r->kaddr)
		return READ_ONCE(*(u64 *)((u8 *)r->kaddr + off));
	return readq(r->ioaddr + off);
}

static u32 ring_read32(struct resmem_region *r, size_t off)
{
	if (r->kaddr)
		return READ_ONCE(*(u32 *)((u8 *)r->kaddr + off));
	return readl(r->ioaddr + off);
}

static void ring_write_waiters(struct resmem_region *r, u32 val)
{
	if (r->kaddr)
		WRITE_ONCE(*(u32 *)((u8 *)r->kaddr + RING_OFF(waiters)), val);
	else
		writel(val, r->ioaddr + RING_OFF(waiters));
}

static __poll_t ring_mask(u64 head, u64 cons, u64 flags)
{
	return (head != cons ? EPOLLIN | EPOLLRDNORM : 0) |
	       (flags & RESMEM_RING_F_CLOSED ? EPOLLHUP : 0);
}

/* resmem_ring_poll()'s answer for a live region, inside resmem_read_lock(). */
static __poll_t ring_poll_mask(struct resmem_region *r)
{
	struct resmem_ring_hdr h;
	__poll_t mask;

	if (ring_hdr_copy(r, &h))
		return 0;
	mask = ring_mask(h.head, h.cons, h.flags);
	if (mask || r->readonly)
		return mask;
	ring_write_waiters(r, 1);
	smp_mb();	/* waiters set before head is read again: see above */
	return ring_mask(ring_read64(r, RING_OFF(head)), h.cons,
			 ring_read32(r, RING_OFF(flags)));
}

/**
 * resmem_ring_poll() - file_operations.poll for a region
 * @file:	the open region
 * @wait:	the poll table
 *
 * Context: process context.
 * Return: EPOLLIN | EPOLLRDNORM if the region holds a valid ring with
 * records committed but not consumed, EPOLLHUP if its producer closed it,
 * EPOLLERR | EPOLLHUP once the region is removed (removal wakes the
 * pollers), 0 otherwise (also when there is no valid ring).
 */
__poll_t resmem_ring_poll(struct file *file, struct poll_table_struct *wait)
{
	struct resmem_region *r = file->private_data;
	__poll_t mask;
	int idx;

	poll_wait(file, &r->ring_wq, wait);
	smp_mb();	/* on the queue before we look: see wq_has_sleeper() */
	idx = resmem_read_lock();
	mask = resmem_region_alive(r) ? ring_poll_mask(r) : EPOLLERR | EPOLLHUP;
	resmem_read_unlock(idx);
	return mask;
}

static void ring_kick_work(struct irq_work *work)
{
	struct resmem_region *r = container_of(work, struct resmem_region,
					       ring_kick);

	wake_up_interruptible_all(&r->ring_wq);
}

/**
 * resmem_ring_kick() - wake the pollers after an in-kernel commit or close
 * @r: the region
 *
 * The wake-up itself runs as irq_work: the producer may commit with
 * interrupts off, where a wait queue's lock must not be taken on
 * PREEMPT_RT.
 * Context: any.
 */
void resmem_ring_kick(struct resmem_region *r)
{
	if (wq_has_sleeper(&r->ring_wq))	/* full barrier after head */
		irq_work_queue(&r->ring_kick);
}

/**
 * resmem_ioctl_ring_notify() - RESMEM_IOC_RING_NOTIFY
 * @r:		the region
 * @file:	the open region, writable
 *
 * Clears the ring's @waiters, then wakes every poller; each polls again
 * and re-arms @waiters if it still has nothing to read.
 * Context: process context.
 * Return: 0, -EBADF (not open for writing), -ENODEV (region removed), or
 * as resmem_ring_hdr_check().
 */
long resmem_ioctl_ring_notify(struct resmem_region *r, struct file *file)
{
	struct resmem_ring_hdr h;
	int ret, idx;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	idx = resmem_read_lock();
	ret = resmem_region_alive(r) ? ring_hdr_copy(r, &h) : -ENODEV;
	if (!ret)
		ring_write_waiters(r, 0);
	resmem_read_unlock(idx);
	if (ret)
		return ret;
	smp_mb();	/* cleared before the queue is looked at */
	wake_up_interruptible_all(&r->ring_wq);
	return 0;
}

/**
 * resmem_ring_wake_init() - an empty wait queue for a new region
 * @r: the region, just allocated
 */
void resmem_ring_wake_init(struct resmem_region *r)
{
	init_waitqueue_head(&r->ring_wq);
	init_irq_work(&r->ring_kick, ring_kick_work);
}

/**
 * resmem_ring_wake_exit() - wait for a kick still in flight
 * @r: the region, being freed: no producer or file uses it
 */
void resmem_ring_wake_exit(struct resmem_region *r)
{
	irq_work_sync(&r->ring_kick);
}
