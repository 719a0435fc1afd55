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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/io.h>
#include <linux/module.h>
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

/*
 * A read-only region (device tree "read-only") cannot be opened for
 * writing, which also keeps write() and writable shared mappings away
 * (mmap needs FMODE_WRITE for PROT_WRITE, mprotect then VM_MAYWRITE).
 */
static int resmem_open(struct inode *inode, struct file *file)
{
	struct resmem_region *r = container_of(inode->i_cdev,
					       struct resmem_region, cdev);

	if (r->readonly && (file->f_mode & FMODE_WRITE)) {
		resmem_user_err(r, "region is read-only (device tree); open it O_RDONLY");
		return -EROFS;
	}
	file->private_data = r;
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
 * Uncached regions are only accessed through the I/O accessors (device
 * memory on arm64 faults on unaligned access), via a bounce buffer.
 */
static ssize_t copy_out_io(struct resmem_region *r, char __user *buf,
			   u64 pos, size_t len, void *bounce)
{
	memcpy_fromio(bounce, r->ioaddr + pos, len);
	return copy_to_user(buf, bounce, len) ? -EFAULT : 0;
}

static ssize_t copy_in_io(struct resmem_region *r, const char __user *buf,
			  u64 pos, size_t len, void *bounce)
{
	if (copy_from_user(bounce, buf, len))
		return -EFAULT;
	memcpy_toio(r->ioaddr + pos, bounce, len);
	return 0;
}

static ssize_t resmem_rw(struct file *file, char __user *ubuf, size_t count,
			 loff_t *ppos, bool write)
{
	struct resmem_region *r = file->private_data;
	void *bounce = NULL;
	size_t done = 0, step = RESMEM_COPY_CHUNK;
	u64 pos;
	ssize_t ret = 0;

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
		size_t left;

		if (bounce) {
			ret = write ? copy_in_io(r, ubuf + done, pos, len, bounce) :
				      copy_out_io(r, ubuf + done, pos, len, bounce);
			left = ret ? len : 0;
		} else if (write) {
			/*
			 * Not copy_from_user(): when the user buffer faults it
			 * zeroes the rest of the destination, i.e. region bytes
			 * past the count we return.
			 */
			left = len;
			if (access_ok(ubuf + done, len))
				left = __copy_from_user(r->kaddr + pos, ubuf + done,
							len);
		} else {
			left = copy_to_user(ubuf + done, r->kaddr + pos, len);
		}
		done += len - left;
		pos += len - left;
		if (left) {
			ret = -EFAULT;
			break;
		}
		ret = 0;
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
	class_destroy(resmem_class);
	unregister_chrdev_region(resmem_devt, RESMEM_MAX_REGIONS);
}

/**
 * resmem_chardev_add() - give a claimed region its device node
 * @r:		the region
 * @minor:	a minor number below RESMEM_MAX_REGIONS, unique per region
 *
 * Return: 0 or a negative errno (logged).
 */
int resmem_chardev_add(struct resmem_region *r, unsigned int minor)
{
	dev_t devt = MKDEV(MAJOR(resmem_devt), minor);
	int ret;

	r->minor = minor;
	resmem_ring_wake_init(r);
	cdev_init(&r->cdev, &resmem_fops);
	r->cdev.owner = THIS_MODULE;
	ret = cdev_add(&r->cdev, devt, 1);
	if (ret) {
		pr_err(resmem_region_fmt ": cannot add character device: %d\n",
		       resmem_region_arg(r), ret);
		return ret;
	}
	r->dev = device_create(resmem_class, NULL, devt, r, "%s", r->name);
	if (IS_ERR(r->dev)) {
		ret = PTR_ERR(r->dev);
		r->dev = NULL;
		pr_err(resmem_region_fmt ": cannot create device: %d\n",
		       resmem_region_arg(r), ret);
		goto del_cdev;
	}
	return 0;

del_cdev:
	cdev_del(&r->cdev);
	return ret;
}

/**
 * resmem_chardev_del() - remove a region's device node
 * @r: the region, added with resmem_chardev_add()
 */
void resmem_chardev_del(struct resmem_region *r)
{
	if (r->dev)
		device_destroy(resmem_class, r->cdev.dev);
	r->dev = NULL;
	cdev_del(&r->cdev);
	resmem_ring_wake_exit(r);
}
