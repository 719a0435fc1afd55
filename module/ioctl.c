// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl: RESMEM_IOC_INFO, RESMEM_IOC_SYNC; the ring's RESMEM_IOC_RING_NOTIFY
 * (ring_wake.c) and RESMEM_IOC_RING_PRODUCER (ring_claim.c); dma-buf
 * export, RESMEM_IOC_EXPORT (dmabuf.c).
 *
 * The argument starts with a __u32 size (see the UAPI header).  Sizes
 * below the first published struct are EINVAL; bytes beyond the struct we
 * know must be zero (E2BIG otherwise); we write back min(size, ours).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/numa.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "resmem-private.h"

/* The first published struct resmem_info; never changes. */
#define RESMEM_INFO_SIZE_V1	72
static_assert(sizeof(struct resmem_info) == RESMEM_INFO_SIZE_V1);

static long resmem_ioctl_info(struct resmem_region *r, void __user *uarg)
{
	struct resmem_info info;
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < RESMEM_INFO_SIZE_V1)
		return -EINVAL;
	if (usize > sizeof(info)) {
		ret = check_zeroed_user(uarg + sizeof(info),
					usize - sizeof(info));
		if (ret < 0)
			return ret;
		if (!ret)
			return -E2BIG;
	}

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.flags = (r->readonly ? RESMEM_INFO_READONLY : 0) |
		     (r->coherent ? RESMEM_INFO_COHERENT : 0);
	info.phys_addr = r->phys;
	info.length = r->size;
	info.cache_mode = r->cache;
	info.source = r->source;
	info.numa_node = phys_to_target_node(r->phys);
	info.page_size = PAGE_SIZE;
	strscpy(info.name, r->name, sizeof(info.name));

	if (copy_to_user(uarg, &info, min_t(size_t, usize, sizeof(info))))
		return -EFAULT;
	return 0;
}

/* The first published struct resmem_sync; never changes. */
#define RESMEM_SYNC_SIZE_V1	24
static_assert(sizeof(struct resmem_sync) == RESMEM_SYNC_SIZE_V1);

static long resmem_ioctl_sync(struct resmem_region *r, struct file *file,
			      void __user *uarg)
{
	struct resmem_sync s;
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < RESMEM_SYNC_SIZE_V1)
		return -EINVAL;
	ret = copy_struct_from_user(&s, sizeof(s), uarg, usize);
	if (ret)
		return ret;
	return resmem_cache_sync(r, s.direction, s.offset, s.length,
				 file->f_mode & FMODE_WRITE);
}

/**
 * resmem_ioctl() - file_operations.unlocked_ioctl for a region
 * @file:	the open region
 * @cmd:	RESMEM_IOC_*
 * @arg:	user pointer to the command's struct
 *
 * Return: 0, a negative errno, -ENOTTY for an unknown command, or -ENODEV
 * for every command once the region is removed (lifetime.c).
 */
long resmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct resmem_region *r = file->private_data;

	if (!resmem_region_alive(r))
		return -ENODEV;
	switch (cmd) {
	case RESMEM_IOC_INFO:
		return resmem_ioctl_info(r, (void __user *)arg);
	case RESMEM_IOC_SYNC:
		return resmem_ioctl_sync(r, file, (void __user *)arg);
	case RESMEM_IOC_RING_NOTIFY:
		return resmem_ioctl_ring_notify(r, file);
	case RESMEM_IOC_RING_PRODUCER:
		return resmem_ioctl_ring_producer(r, file, (void __user *)arg);
	case RESMEM_IOC_EXPORT:
		return resmem_ioctl_export(r, file, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}
