// SPDX-License-Identifier: GPL-2.0
/*
 * mmap of a region: MAP_SHARED windows, mapped eagerly with physical PFNs.
 *
 * resmem_mmap() checks the request and sets the VMA up; resmem_map_vma()
 * fills the page tables.  A huge-page fault path (6.12) can replace the
 * latter without touching the checks.
 *
 * Policy for what user space can do to a mapping afterwards:
 *  - fork: the child shares the mapping (page tables are copied);
 *  - partial munmap / mprotect split the VMA; ->open counts each piece;
 *  - mremap may shrink or move, never grow (VM_DONTEXPAND: EFAULT);
 *  - mlock, MAP_LOCKED, MAP_POPULATE are no-ops: everything is mapped
 *    already and there are no struct pages to pin (VM_PFNMAP|VM_IO, which
 *    also keeps get_user_pages() and core dumps away).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>

#include "compat.h"
#include "resmem.h"

/*
 * remap_pfn_range() does not reschedule; 128 MiB of 4 KiB PTEs is well
 * under a millisecond on hardware and bounded under emulation.
 */
#define RESMEM_MAP_CHUNK	SZ_128M

static void resmem_vm_open(struct vm_area_struct *vma)
{
	struct resmem_region *r = vma->vm_private_data;

	atomic_inc(&r->mappings);
}

static void resmem_vm_close(struct vm_area_struct *vma)
{
	struct resmem_region *r = vma->vm_private_data;

	atomic_dec(&r->mappings);
}

static const struct vm_operations_struct resmem_vm_ops = {
	.open	= resmem_vm_open,
	.close	= resmem_vm_close,
};

static pgprot_t resmem_pgprot(struct resmem_region *r, pgprot_t prot)
{
	switch (r->cache) {
	case RESMEM_CACHE_WC:
		return pgprot_writecombine(prot);
	case RESMEM_CACHE_UC:
		return resmem_pgprot_uc(prot);
	default:
		return prot;
	}
}

static void refuse_private(struct resmem_region *r)
{
	dev_info_ratelimited(r->dev,
			     "%s[%d]: MAP_PRIVATE is not supported on resmem devices; use MAP_SHARED\n",
			     current->comm, task_pid_nr(current));
}

/**
 * resmem_get_unmapped_area() - file_operations.get_unmapped_area
 * @file:	the open region
 * @addr:	hint or MAP_FIXED address
 * @len:	length of the mapping
 * @pgoff:	page offset in the region
 * @flags:	mmap flags
 *
 * Refuses MAP_PRIVATE here, before the kernel charges a private writable
 * mapping against the commit limit (which would fail a large one with a
 * misleading ENOMEM).  Placement is the mm's default; a huge-page
 * implementation would align here.
 *
 * Return: the address, or -EINVAL.
 */
unsigned long resmem_get_unmapped_area(struct file *file, unsigned long addr,
				       unsigned long len, unsigned long pgoff,
				       unsigned long flags)
{
	struct resmem_region *r = file->private_data;

	if ((flags & MAP_TYPE) == MAP_PRIVATE) {
		refuse_private(r);
		return -EINVAL;
	}
	return resmem_mm_get_unmapped_area(file, addr, len, pgoff, flags);
}

/**
 * resmem_map_vma() - map a window of a region into a VMA, all at once
 * @r:		the region
 * @vma:	VMA already checked to lie inside @r, prot and flags set
 * @offset:	byte offset of vma->vm_start in @r
 *
 * Maps in RESMEM_MAP_CHUNK steps with cond_resched() in between.  No
 * single remap_pfn_range() call covers a multi-page VMA: on x86 that is
 * what lets each call take its memory type from our kernel mapping
 * (lookup_memtype()) instead of registering a per-VMA PAT reservation
 * (VM_PAT) that a later partial munmap could not release cleanly.
 * On failure, whatever was mapped is zapped again.
 *
 * Return: 0, -EINTR on a fatal signal, or remap_pfn_range()'s error.
 */
int resmem_map_vma(struct resmem_region *r, struct vm_area_struct *vma,
		   u64 offset)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long done = 0;
	int ret = 0;

	while (done < len) {
		unsigned long chunk = min_t(unsigned long, len - done,
					    RESMEM_MAP_CHUNK);

		if (chunk == len && len > PAGE_SIZE)
			chunk -= PAGE_SIZE;
		ret = remap_pfn_range(vma, vma->vm_start + done,
				      (r->phys + offset + done) >> PAGE_SHIFT,
				      chunk, vma->vm_page_prot);
		if (ret)
			break;
		done += chunk;
		if (done < len) {
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				break;
			}
			cond_resched();
		}
	}
	if (ret && done)
		zap_vma_ptes(vma, vma->vm_start, done);
	return ret;
}

/**
 * resmem_mmap() - file_operations.mmap for a region
 * @file:	the open region
 * @vma:	the new VMA
 *
 * Return: 0, or -EINVAL for a private mapping or a window outside the
 * region (logged, rate-limited), or resmem_map_vma()'s error.
 */
int resmem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct resmem_region *r = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;
	u64 offset;
	int ret;

	/* Private (copy-on-write) mappings would hand out copies, not the memory. */
	if (!(vma->vm_flags & VM_MAYSHARE)) {
		refuse_private(r);
		return -EINVAL;
	}

	/* mem.c style: check the window before shifting or adding anything. */
	if (vma->vm_pgoff > (r->size >> PAGE_SHIFT) ||
	    len > r->size - ((u64)vma->vm_pgoff << PAGE_SHIFT)) {
		dev_info_ratelimited(r->dev,
				     "%s[%d]: mmap window at page offset %#lx, length %#lx is outside the region (size %#llx); map within [0, size)\n",
				     current->comm, task_pid_nr(current),
				     vma->vm_pgoff, len, r->size);
		return -EINVAL;
	}
	offset = (u64)vma->vm_pgoff << PAGE_SHIFT;

	resmem_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND |
				 VM_DONTDUMP);
	vma->vm_page_prot = resmem_pgprot(r, vma->vm_page_prot);
	vma->vm_private_data = r;
	vma->vm_ops = &resmem_vm_ops;

	ret = resmem_map_vma(r, vma, offset);
	if (ret)
		return ret;
	resmem_vm_open(vma);
	return 0;
}
