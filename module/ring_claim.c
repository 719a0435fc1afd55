// SPDX-License-Identifier: GPL-2.0
/*
 * One producer per ring: a region's producer slot is held either by an
 * in-kernel producer (@producer, producer.c) or by an open file of its
 * device (@ring_file, RESMEM_IOC_RING_PRODUCER), never both.  A file's
 * claim ends when the file is released, so a killed program frees it.
 * Both are set and cleared under resmem_regions_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "resmem-private.h"

/* The first published struct resmem_ring_producer; never changes. */
#define RESMEM_RING_PRODUCER_SIZE_V1	80
static_assert(sizeof(struct resmem_ring_producer) ==
	      RESMEM_RING_PRODUCER_SIZE_V1);

/* Fill @out with who holds @r's slot; under resmem_regions_lock. */
static void ring_holder(const struct resmem_region *r,
			struct resmem_ring_producer *out)
{
	lockdep_assert_held(&resmem_regions_lock);
	if (r->producer) {
		out->holder = RESMEM_RING_HOLDER_KERNEL;
		resmem_producer_describe(r->producer, out->name,
					 sizeof(out->name));
	} else if (r->ring_file) {
		out->holder = RESMEM_RING_HOLDER_FILE;
		out->pid = r->ring_pid;
		strscpy(out->name, r->ring_comm, sizeof(out->name));
	}
}

/**
 * resmem_ioctl_ring_producer() - RESMEM_IOC_RING_PRODUCER: claim the slot
 * @r:		the region
 * @file:	the open region, writable; it holds the slot until released
 * @uarg:	user pointer to struct resmem_ring_producer
 *
 * Context: process context.
 * Return: 0 (this file holds the slot), -EBUSY (a driver or another file
 * holds it: the out fields say which), -EBADF (not open for writing),
 * -EINVAL, -E2BIG, -EFAULT.
 */
long resmem_ioctl_ring_producer(struct resmem_region *r, struct file *file,
				void __user *uarg)
{
	struct resmem_ring_producer p;
	u32 usize;
	long ret;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < RESMEM_RING_PRODUCER_SIZE_V1)
		return -EINVAL;
	ret = copy_struct_from_user(&p, sizeof(p), uarg, usize);
	if (ret)
		return ret;
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;

	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	mutex_lock(&resmem_regions_lock);
	ret = -EBUSY;
	if (!r->producer && (!r->ring_file || r->ring_file == file)) {
		r->ring_file = file;
		r->ring_pid = task_tgid_vnr(current);
		get_task_comm(r->ring_comm, current);
		ret = 0;
	}
	ring_holder(r, &p);
	mutex_unlock(&resmem_regions_lock);
	if (ret && p.holder == RESMEM_RING_HOLDER_KERNEL)
		resmem_user_err(r, "ring producer slot is held by the in-kernel producer %s",
				p.name);
	else if (ret)
		resmem_user_err(r, "ring producer slot is held by %s[%d]",
				p.name, p.pid);
	if (copy_to_user(uarg, &p, min_t(size_t, usize, sizeof(p))))
		return -EFAULT;
	return ret;
}

/**
 * resmem_ring_unclaim() - a file is released: free the slot if it held it
 * @r:		the region
 * @file:	the file being released
 */
void resmem_ring_unclaim(struct resmem_region *r, struct file *file)
{
	mutex_lock(&resmem_regions_lock);
	if (r->ring_file == file)
		r->ring_file = NULL;
	mutex_unlock(&resmem_regions_lock);
}

/**
 * resmem_ring_claimed_by_file() - does a program hold the slot?
 * @r:		the region, under resmem_regions_lock
 * @dev:	the driver's device asking for it, for the message
 *
 * Return: true (and a rate-limited message on @dev) if a file holds it.
 */
bool resmem_ring_claimed_by_file(const struct resmem_region *r,
				 struct device *dev)
{
	lockdep_assert_held(&resmem_regions_lock);
	if (!r->ring_file)
		return false;
	dev_warn_ratelimited(dev, "resmem: region %s: process %s[%d] is producing into its ring (RESMEM_IOC_RING_PRODUCER): one producer at a time\n",
			     r->name, r->ring_comm, r->ring_pid);
	return true;
}
