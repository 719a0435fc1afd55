// SPDX-License-Identifier: GPL-2.0
/*
 * The "resmem" class and one character device per region:
 * /dev/resmem/NAME, mode 0600.
 *
 * read/write semantics, like a block device node:
 *  - the file is exactly the region: offset 0 is the region's first byte;
 *  - read at or past the end returns 0 (EOF); a read crossing the end is
 *    short;
 *  - write at or past the end fails with ENOSPC; a write crossing the end
 *    is short (returns the bytes that fit), so "dd of=" stops cleanly;
 *  - lseek accepts SEEK_SET/CUR/END to any offset from 0 to the size
 *    inclusive; a negative or larger offset, or any other whence, is
 *    EINVAL (fixed_size_llseek()).
 *  - poll/select/epoll: records in the region's ring (ring_wake.c);
 *  - fsync/fdatasync (and so msync(MS_SYNC)) succeed: the file is the
 *    memory, there is nothing to write back; a write barrier drains this
 *    CPU's write-combining buffers first.
 * Copies go in 1 MiB steps (64 KiB through a bounce buffer when
 * uncached) with cond_resched() between them; a fatal
 * signal ends a long copy early with a short count.
 *
 * Once the region is removed (lifetime.c) open fails with ENXIO, read and
 * write with ENODEV (a copy under way stops at the end of its step, with
 * a short count); lseek, fsync and close still work.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "resmem-private.h"

#define RESMEM_COPY_CHUNK	SZ_1M
#define RESMEM_BOUNCE_SIZE	SZ_64K	/* uncached regions; no high-order allocation */

static struct class *resmem_class;
static dev_t resmem_devt;
/* Minors in use: a removed region's minor is free again once it is freed. */
static DEFINE_IDA(resmem_minors);

/*
 * A read-only region (device tree "read-only") cannot be opened for
 * writing, which also keeps write() and writable shared mappings away
 * (mmap needs FMODE_WRITE for PROT_WRITE, mprotect then VM_MAYWRITE).
 */
static int resmem_open(struct inode *inode, struct file *file)
{
	struct resmem_region *r = container_of(inode->i_cdev,
					       struct resmem_region, cdev);

	/* A device node can outlive the region's removal (lifetime.c). */
	if (!resmem_region_alive(r))
		return -ENXIO;
	if (r->readonly && (file->f_mode & FMODE_WRITE)) {
		resmem_user_err(r, "region is read-only (device tree); open it O_RDONLY");
		return -EROFS;
	}
	file->private_data = r;
	resmem_lifetime_open(r, file);
	atomic_inc(&r->opens);
	return 0;
}

static int resmem_release(struct inode *inode, struct file *file)
{
	struct resmem_region *r = file->private_data;

	resmem_ring_unclaim(r, file);
	atomic_dec(&r->opens);
	return 0;
}

static loff_t resmem_llseek(struct file *file, loff_t offset, int whence)
{
	struct resmem_region *r = file->private_data;

	return fixed_size_llseek(file, offset, whence, r->size);
}

/*
 * One step of read() or write(): up to @len bytes between region offset
 * @pos and @ubuf, the region memory touched only inside
 * resmem_read_lock(), where nothing waits for user space (removal
 * waits for this): user pages are copied with page faults disabled, and
 * uncached regions, which are only accessed through the I/O accessors
 * (device memory on arm64 faults on unaligned access), go through
 * @bounce, filled or emptied outside.
 *
 * Return: bytes copied, fewer than @len when a user page was not resident
 * (the caller faults it in and calls again), -EFAULT, or -ENODEV once the
 * region is being removed.
 */
static ssize_t rw_step(struct resmem_region *r, char __user *ubuf, u64 pos,
		       size_t len, void *bounce, bool write)
{
	size_t left = 0;
	int idx;

	if (!access_ok(ubuf, len))
		return -EFAULT;
	if (bounce && write && copy_from_user(bounce, ubuf, len))
		return -EFAULT;
	idx = resmem_read_lock();
	if (!resmem_region_alive(r)) {
		resmem_read_unlock(idx);
		return -ENODEV;
	}
	if (bounce && write) {
		memcpy_toio(r->ioaddr + pos, bounce, len);
	} else if (bounce) {
		memcpy_fromio(bounce, r->ioaddr + pos, len);
	} else {
		void *kaddr = r->kaddr + pos;

		/*
		 * Not copy_from_user(): when the user buffer faults it zeroes
		 * the rest of the destination, i.e. region bytes past the
		 * count we return.
		 */
		pagefault_disable();
		left = write ? __copy_from_user_inatomic(kaddr, ubuf, len) :
			       __copy_to_user_inatomic(ubuf, kaddr, len);
		pagefault_enable();
	}
	resmem_read_unlock(idx);
	if (bounce && !write && copy_to_user(ubuf, bounce, len))
		return -EFAULT;
	return len - left;
}

/* Fault in user pages rw_step() found missing; false if the first cannot be. */
static bool rw_fault_in(char __user *ubuf, size_t len, bool write)
{
	return (write ? fault_in_readable(ubuf, len) :
			fault_in_writeable(ubuf, len)) < len;
}

static ssize_t resmem_rw(struct file *file, char __user *ubuf, size_t count,
			 loff_t *ppos, bool write)
{
	struct resmem_region *r = file->private_data;
	void *bounce = NULL;
	size_t done = 0, step = RESMEM_COPY_CHUNK;
	u64 pos;
	ssize_t ret = 0;

	if (!resmem_region_alive(r))
		return -ENODEV;
	if (*ppos < 0)
		return -EINVAL;
	pos = *ppos;
	if (pos >= r->size)
		return write ? -ENOSPC : 0;
	count = min_t(u64, count, r->size - pos);
	if (!count)
		return 0;

	if (r->ioaddr) {
		step = RESMEM_BOUNCE_SIZE;
		bounce = kmalloc(min_t(size_t, count, step), GFP_KERNEL);
		if (!bounce)
			return -ENOMEM;
	}

	while (done < count) {
		size_t len = min_t(size_t, count - done, step);
		ssize_t n = rw_step(r, ubuf + done, pos, len, bounce, write);

		if (n < 0) {
			ret = n;
			break;
		}
		done += n;
		pos += n;
		if (n < len && !rw_fault_in(ubuf + done, len - n, write)) {
			ret = -EFAULT;
			break;
		}
		if (done < count) {
			if (fatal_signal_pending(current))
				break;
			cond_resched();
		}
	}
	kfree(bounce);

	*ppos = pos;
	return done ? done : ret;
}

static ssize_t resmem_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	return resmem_rw(file, buf, count, ppos, false);
}

static ssize_t resmem_write(struct file *file, const char __user *buf,
			    size_t count, loff_t *ppos)
{
	return resmem_rw(file, (char __user *)buf, count, ppos, true);
}

static int resmem_fsync(struct file *file, loff_t start, loff_t end,
			int datasync)
{
	wmb();
	return 0;
}

static const struct file_operations resmem_fops = {
	.owner		= THIS_MODULE,
	.open		= resmem_open,
	.release	= resmem_release,
	.llseek		= resmem_llseek,
	.read		= resmem_read,
	.write		= resmem_write,
	.fsync		= resmem_fsync,
	.poll		= resmem_ring_poll,
	RESMEM_FOP_MMAP,
	.get_unmapped_area = resmem_get_unmapped_area,
	.unlocked_ioctl	= resmem_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static char *resmem_devnode(RESMEM_DEVNODE_CONST struct device *dev,
			    umode_t *mode)
{
	const struct resmem_region *r = dev_get_drvdata(dev);

	if (mode)
		*mode = r && r->readonly ? 0400 : 0600;
	return kasprintf(GFP_KERNEL, "resmem/%s", dev_name(dev));
}

/**
 * resmem_chardev_init() - create the class and reserve device numbers
 *
 * Return: 0 or a negative errno (logged).
 */
int resmem_chardev_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&resmem_devt, 0, RESMEM_MAX_REGIONS,
				  KBUILD_MODNAME);
	if (ret) {
		pr_err("cannot allocate device numbers: %d\n", ret);
		return ret;
	}
	resmem_class = class_create(KBUILD_MODNAME);
	if (IS_ERR(resmem_class)) {
		ret = PTR_ERR(resmem_class);
		pr_err("cannot create class resmem: %d\n", ret);
		goto unregister_chrdev;
	}
	resmem_class->devnode = resmem_devnode;
	resmem_class->dev_groups = resmem_groups;
	return 0;

unregister_chrdev:
	unregister_chrdev_region(resmem_devt, RESMEM_MAX_REGIONS);
	return ret;
}

/**
 * resmem_chardev_exit() - undo resmem_chardev_init()
 */
void resmem_chardev_exit(void)
{
	ida_destroy(&resmem_minors);
	class_destroy(resmem_class);
	unregister_chrdev_region(resmem_devt, RESMEM_MAX_REGIONS);
}

/**
 * resmem_chardev_add() - give a claimed region its device node
 * @r: the region
 *
 * The cdev is the device's child (cdev_device_add()): an open file keeps
 * the region, cdev included, until it is closed, after any removal.
 *
 * Return: 0, -ENOSPC when RESMEM_MAX_REGIONS regions exist, or another
 * negative errno (logged).
 */
int resmem_chardev_add(struct resmem_region *r)
{
	int ret;

	ret = ida_alloc_max(&resmem_minors, RESMEM_MAX_REGIONS - 1, GFP_KERNEL);
	if (ret < 0)
		return ret;
	r->minor = ret;
	r->dev.devt = MKDEV(MAJOR(resmem_devt), r->minor);
	ret = resmem_lifetime_init(r);
	if (ret) {
		pr_err(resmem_region_fmt ": cannot make its address_space: %d\n",
		       resmem_region_arg(r), ret);
		return ret;
	}
	r->dev.class = resmem_class;
	dev_set_drvdata(&r->dev, r);
	ret = dev_set_name(&r->dev, "%s", r->name);
	if (ret)
		return ret;
	cdev_init(&r->cdev, &resmem_fops);
	r->cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&r->cdev, &r->dev);
	if (ret)
		pr_err(resmem_region_fmt ": cannot add its device: %d\n",
		       resmem_region_arg(r), ret);
	return ret;
}

/**
 * resmem_chardev_del() - remove a region's device node
 * @r: the region, added with resmem_chardev_add()
 *
 * Files still open keep the region (and its cdev) until they are closed.
 */
void resmem_chardev_del(struct resmem_region *r)
{
	cdev_device_del(&r->cdev, &r->dev);
}

/**
 * resmem_chardev_release() - free a region's minor, if it had one
 * @r: the region, being freed
 */
void resmem_chardev_release(struct resmem_region *r)
{
	if (r->dev.devt)
		ida_free(&resmem_minors, r->minor);
}
