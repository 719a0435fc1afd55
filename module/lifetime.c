// SPDX-License-Identifier: GPL-2.0
/*
 * How long a region lives, and how it is taken away from its users.
 *
 * The memory of a struct resmem_region is counted by its embedded struct
 * device and freed by the last put_device() (region.c): the registry holds
 * one reference, every open file one through the cdev (cdev_device_add()
 * makes the device the cdev's parent, and chrdev_open() takes the cdev),
 * every VMA holds its file, and an in-kernel producer takes one itself.
 *
 * A device-tree region can be removed at any moment: an overlay removal or
 * a parent's depopulate unregisters its platform device, which no driver
 * can refuse.  resmem_region_kill() makes that safe, as device-dax does on
 * unbind (kill_dev_dax(), then unmap_mapping_range()):
 *  1. @dead is set (resmem_region_alive() is false): from now on open()
 *     fails with ENXIO, read(), write(),
 *     ioctl() and mmap() with ENODEV, a page fault with SIGBUS, poll()
 *     reports EPOLLERR | EPOLLHUP and the producer API -ENODEV;
 *  2. synchronize_srcu(): every operation that found the region alive
 *     (between resmem_read_lock() and resmem_read_unlock()) has finished
 *     with region memory, including a fault that was installing an entry;
 *  3. unmap_mapping_range() on the region's own address_space, which every
 *     open file uses as its f_mapping (an anonymous inode per region, as
 *     vfio does), zaps every user page-table entry: the next access is a
 *     fault, and SIGBUS;
 *  4. pollers are woken, to see EPOLLHUP.
 * Only then does the registry release the claim and the kernel mapping
 * (or leaves them to a producer that still holds them, see producer.c).
 *
 * Operations never wait for user space inside the SRCU section (read()
 * and write() copy with page faults disabled and fault the user buffer in
 * outside it), so removal waits at most for one bounded step of each.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/srcu.h>

#include "resmem-private.h"

/* "rsmm": the pseudo file system of the regions' address_spaces. */
#define RESMEM_FS_MAGIC		0x72736d6d

/* An mm that may be inside an mmap() of a region (see resmem_track_mmap()). */
struct resmem_mm {
	struct list_head node;
	struct mm_struct *mm;
};

DEFINE_STATIC_SRCU(resmem_srcu);

/*
 * No .owner: the mount lives as long as some region has an inode on it,
 * and a reference on this module would keep it from ever unloading.
 */
static int resmem_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, RESMEM_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type resmem_fs_type = {
	.name		= "resmem",
	.init_fs_context = resmem_fs_init_fs_context,
	.kill_sb	= kill_anon_super,
};

static struct vfsmount *resmem_mnt;
static int resmem_mnt_count;

/**
 * resmem_lifetime_init() - give a region the address_space of its mappings
 * @r: a region getting its device
 *
 * Return: 0 or a negative errno.
 */
int resmem_lifetime_init(struct resmem_region *r)
{
	struct inode *inode;
	int ret;

	ret = simple_pin_fs(&resmem_fs_type, &resmem_mnt, &resmem_mnt_count);
	if (ret)
		return ret;
	inode = alloc_anon_inode(resmem_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		simple_release_fs(&resmem_mnt, &resmem_mnt_count);
		return PTR_ERR(inode);
	}
	/*
	 * A region with struct pages is mapped like device-dax (mmap.c):
	 * S_DAX (vma_is_dax()) is what lets the mm offer such a VMA huge
	 * faults and keeps khugepaged and mlock's page walk away from it.
	 */
	if (r->pgmap)
		inode->i_flags |= S_DAX;
	r->inode = inode;
	return 0;
}

/**
 * resmem_lifetime_exit() - undo resmem_lifetime_init(), if it was done
 * @r: a region being freed: no file uses its address_space any more
 */
void resmem_lifetime_exit(struct resmem_region *r)
{
	struct resmem_mm *m, *tmp;

	list_for_each_entry_safe(m, tmp, &r->mmaps, node) {
		mmdrop(m->mm);
		kfree(m);
	}
	if (!r->inode)
		return;
	iput(r->inode);
	r->inode = NULL;
	simple_release_fs(&resmem_mnt, &resmem_mnt_count);
}

/**
 * resmem_lifetime_open() - a new open file of @r maps through @r's inode
 * @r:		the region
 * @file:	the file being opened
 */
void resmem_lifetime_open(struct resmem_region *r, struct file *file)
{
	file->f_mapping = r->inode->i_mapping;
}

/**
 * resmem_read_lock() - begin an operation that may touch region memory
 *
 * Inside, a region that resmem_region_alive() says is alive keeps its
 * memory, claim and mappings until resmem_read_unlock().  Nothing inside
 * may wait for user space (removal waits for it).
 *
 * Return: a cookie for resmem_read_unlock().
 */
int resmem_read_lock(void) __acquires(resmem_srcu)
{
	return srcu_read_lock(&resmem_srcu);
}

/**
 * resmem_read_unlock() - end what resmem_read_lock() began
 * @idx: its cookie
 */
void resmem_read_unlock(int idx) __releases(resmem_srcu)
{
	srcu_read_unlock(&resmem_srcu, idx);
}

/*
 * Where ->mmap maps the whole window (compat.h, RESMEM_MMAP_BEFORE_LINK),
 * it does so before the mm links the VMA into the address_space, so
 * removal's unmap_mapping_range() cannot see a mapping whose mmap() is
 * still running.  That mmap() holds its mm's mmap_lock for writing from
 * before ->mmap until the VMA is linked: remember the mm, and removal
 * takes that lock once before unmapping again.  An mm whose lock nobody
 * holds for writing has finished every such mmap(), so the list is
 * trimmed to the mms that may still be inside one.
 */

/**
 * resmem_track_mmap() - remember the mm of an mmap() filling a VMA now
 * @r: the region, alive, inside resmem_read_lock()
 *
 * Context: ->mmap, current->mm's mmap_lock held for writing.
 * Return: 0 or -ENOMEM.
 */
int resmem_track_mmap(struct resmem_region *r)
{
	struct mm_struct *mm = current->mm;
	struct resmem_mm *m, *tmp;
	bool found = false;

	mmap_assert_write_locked(mm);
	mutex_lock(&r->mmaps_lock);
	list_for_each_entry_safe(m, tmp, &r->mmaps, node) {
		if (m->mm == mm) {
			found = true;
			continue;
		}
		if (!mmap_read_trylock(m->mm))
			continue;
		mmap_read_unlock(m->mm);
		list_del(&m->node);
		mmdrop(m->mm);
		kfree(m);
	}
	if (!found) {
		m = kmalloc(sizeof(*m), GFP_KERNEL);
		if (!m) {
			mutex_unlock(&r->mmaps_lock);
			return -ENOMEM;
		}
		mmgrab(mm);
		m->mm = mm;
		list_add(&m->node, &r->mmaps);
	}
	mutex_unlock(&r->mmaps_lock);
	return 0;
}

/*
 * Wait until every mmap() that filled a VMA of @r has linked it, and zap
 * those too.  After synchronize_srcu() no new one can be tracked.
 */
static void wait_mmaps(struct resmem_region *r)
{
	struct resmem_mm *m, *tmp;
	LIST_HEAD(mms);

	mutex_lock(&r->mmaps_lock);
	list_splice_init(&r->mmaps, &mms);
	mutex_unlock(&r->mmaps_lock);
	if (list_empty(&mms))
		return;
	list_for_each_entry_safe(m, tmp, &mms, node) {
		mmap_read_lock(m->mm);
		mmap_read_unlock(m->mm);
		mmdrop(m->mm);
		kfree(m);
	}
	unmap_mapping_range(r->inode->i_mapping, 0, 0, 1);
}

/**
 * resmem_region_kill() - take a region away from its users (steps 1-4 above)
 * @r: a region with a device, no longer in the registry
 *
 * Context: process context; may sleep.  Not under resmem_regions_lock.
 */
void resmem_region_kill(struct resmem_region *r)
{
	WRITE_ONCE(r->dead, true);
	synchronize_srcu(&resmem_srcu);
	unmap_mapping_range(r->inode->i_mapping, 0, 0, 1);
	wait_mmaps(r);
	wake_up_interruptible_all(&r->ring_wq);
}
