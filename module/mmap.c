// SPDX-License-Identifier: GPL-2.0
/*
 * mmap of a region: MAP_SHARED windows of physical PFNs.
 *
 * resmem_mmap() checks the request and sets the VMA up; how the page
 * tables get filled is chosen once per kernel (compat.h,
 * RESMEM_HAVE_HUGE_PFNMAP) in the one #if block below; the entries' memory
 * type and dirty state are the architecture's (resmem-arch.h):
 *  - huge PFN maps (6.12+): nothing at mmap() time; each fault installs
 *    the largest entry that fits: 1 GiB where the window's physical
 *    address, the virtual address and the VMA allow it, else 2 MiB, else
 *    4 KiB at ragged edges.  resmem_get_unmapped_area() aligns mmap(NULL)
 *    addresses so the big entries are possible.  The VMA is marked
 *    VM_HUGEPAGE (RESMEM_VM_HUGE), so THP "madvise" maps huge like
 *    "always"; THP "never" (where the mm applies it to PFN maps) and
 *    MADV_NOHUGEPAGE on the mapping make everything 4 KiB.
 *  - otherwise (6.1): the whole VMA is mapped eagerly with 4 KiB entries
 *    by remap_pfn_range() in chunks (resmem_map_vma()).
 *
 * A region with struct pages (pages.c, pages=1) is mapped differently, as
 * device-dax maps its memory: not VM_PFNMAP|VM_IO, always on fault, with
 * page entries (resmem_insert_page()) that get_user_pages() and
 * pin_user_pages() accept, so O_DIRECT, io_uring and splice work on the
 * mapping.  ZONE_DEVICE pages (x86) get 2 MiB entries where ->huge_fault
 * is reached (6.12 and later, not PREEMPT_RT), never 1 GiB ones (compat.h,
 * RESMEM_PAGES_PMD); the boot's pages (arm64) are order 0, so 4 KiB
 * entries only, in a VM_MIXEDMAP VMA (vm_insert_page() from a fault).
 *
 * Policy for what user space can do to a mapping afterwards:
 *  - fork: the child shares the mapping (page tables are copied, huge
 *    entries as huge entries);
 *  - partial munmap / mprotect split the VMA; ->open counts each piece; a
 *    huge entry that no longer fits its VMA is zapped and refaulted with
 *    smaller ones;
 *  - mremap may shrink or move, never grow (VM_DONTEXPAND: EFAULT);
 *  - mlock, MAP_LOCKED, MAP_POPULATE are no-ops: there are no struct
 *    pages to pin (VM_PFNMAP|VM_IO, which also keeps get_user_pages() and
 *    core dumps away); with the fault path, first touch maps.  With
 *    struct pages, mlock leaves a DAX or VM_MIXEDMAP VMA alone too,
 *    get_user_pages() works and VM_DONTDUMP keeps core dumps away.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>

#include "compat.h"
#include "resmem-arch.h"
#include "resmem-private.h"

/*
 * remap_pfn_range() does not reschedule; 128 MiB of 4 KiB PTEs is well
 * under a millisecond on hardware and bounded under emulation.
 */
#define RESMEM_MAP_CHUNK	SZ_128M

static const struct vm_operations_struct resmem_vm_ops;
static void resmem_vm_copied(struct vm_area_struct *vma);

#ifdef RESMEM_HAVE_MMAP_PREPARE
/*
 * A new mapping made through resmem_mmap_prepare(): count it (->close
 * uncounts it even when this fails).  The mm calls this once the VMA is
 * in the address_space and any eager map is done: if the region is being
 * removed, unmap it again (the mm does, on error); otherwise removal's
 * unmap_mapping_range(), which waits for this, finds it (lifetime.c).
 */
static int resmem_vm_mapped(unsigned long start, unsigned long end,
			    pgoff_t pgoff, const struct file *file,
			    void **vm_private_data)
{
	struct resmem_region *r = *vm_private_data;
	int idx, ret;

	atomic_inc(&r->mappings);
	idx = resmem_read_lock();
	ret = resmem_region_alive(r) ? 0 : -ENODEV;
	resmem_read_unlock(idx);
	return ret;
}
#define RESMEM_VM_MAPPED	.mapped = resmem_vm_mapped,
#else
#define RESMEM_VM_MAPPED
#endif

static void resmem_vm_open(struct vm_area_struct *vma)
{
	struct resmem_region *r = vma->vm_private_data;

	atomic_inc(&r->mappings);
	resmem_vm_copied(vma);
}

static void resmem_vm_close(struct vm_area_struct *vma)
{
	struct resmem_region *r = vma->vm_private_data;

	atomic_dec(&r->mappings);
}

/*
 * Install one entry of PAGE_SIZE << @order at the (aligned) fault address.
 * The memory type comes from vma->vm_page_prot, reconciled with the
 * kernel's own mapping by the PAT code (track_pfn_insert()).  A write
 * fault on an existing huge entry makes it young and dirty again.
 */
static vm_fault_t resmem_insert_pfn(struct vm_fault *vmf, unsigned long pfn,
				    unsigned int order)
{
	switch (order) {
	case 0:
		return vmf_insert_pfn_prot(vmf->vma, vmf->address, pfn,
					   resmem_pgprot_entry(vmf->vma));
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
	case PMD_ORDER:
		return vmf_insert_pfn_pmd(vmf, pfn,
					  vmf->flags & FAULT_FLAG_WRITE);
#endif
#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
	case PUD_ORDER:
		return vmf_insert_pfn_pud(vmf, pfn,
					  vmf->flags & FAULT_FLAG_WRITE);
#endif
	default:
		return VM_FAULT_FALLBACK;
	}
}

/*
 * The same for a region with struct pages (compat.h): page entries of
 * 4 KiB or, for ZONE_DEVICE pages where faults of that order come
 * (RESMEM_PAGES_PMD), 2 MiB; a write fault on an existing entry makes it
 * writable and dirty.  The boot's pages are order 0: 4 KiB only.
 */
static vm_fault_t resmem_insert_page(struct resmem_region *r,
				     struct vm_fault *vmf, unsigned long pfn,
				     unsigned int order)
{
	bool write = vmf->flags & FAULT_FLAG_WRITE;

	switch (order) {
	case 0:
		return vmf_insert_page_mkwrite(vmf, pfn_to_page(pfn), write);
#if RESMEM_PAGES_PMD && IS_ENABLED(CONFIG_ZONE_DEVICE)
	case PMD_ORDER:
		if (!r->pgmap)
			break;
		return vmf_insert_folio_pmd(vmf, page_folio(pfn_to_page(pfn)),
					    write);
#endif
	}
	return VM_FAULT_FALLBACK;
}

/*
 * ->huge_fault (and ->fault, order 0): map PAGE_SIZE << @order bytes at
 * the aligned fault address, or ask the mm to try a smaller size; SIGBUS
 * once the region is being removed (lifetime.c).  Where mappings are made
 * at mmap() time, a fault comes only after a removal zapped them.
 */
static vm_fault_t resmem_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct resmem_region *r = vma->vm_private_data;
	unsigned long size = PAGE_SIZE << order;
	unsigned long addr = ALIGN_DOWN(vmf->address, size);
	vm_fault_t ret;
	u64 offset;
	int idx;

	if (addr < vma->vm_start || vma->vm_end - addr < size)
		return VM_FAULT_FALLBACK;
	offset = ((u64)vma->vm_pgoff << PAGE_SHIFT) + (addr - vma->vm_start);
	if (offset >= r->size || r->size - offset < size) {
		/* mmap() and VM_DONTEXPAND keep every VMA inside the region. */
		dev_warn_ratelimited(&r->dev,
				     "%s[%d]: fault at region offset %#llx (%#lx bytes) is outside the region (size %#llx)\n",
				     current->comm, task_pid_nr(current),
				     offset, size, r->size);
		return order ? VM_FAULT_FALLBACK : VM_FAULT_SIGBUS;
	}
	if ((r->phys + offset) & (size - 1))
		return VM_FAULT_FALLBACK;
	idx = resmem_read_lock();
	if (!resmem_region_alive(r))
		ret = VM_FAULT_SIGBUS;
	else if (resmem_has_pages(r))
		ret = resmem_insert_page(r, vmf,
					 (r->phys + offset) >> PAGE_SHIFT, order);
	else
		ret = resmem_insert_pfn(vmf, (r->phys + offset) >> PAGE_SHIFT,
					order);
	resmem_read_unlock(idx);
	return ret;
}

static vm_fault_t resmem_fault(struct vm_fault *vmf)
{
	return resmem_huge_fault(vmf, 0);
}

#if RESMEM_HAVE_HUGE_PFNMAP
/*
 * Before a VMA is split at @addr (mprotect, munmap or mremap of part of
 * it), zap the 1 GiB entry around @addr, if any: 6.12 splits huge PMDs at
 * the new boundary but walks a huge PUD there as if it were a PMD table
 * (vma_adjust_trans_huge() -> mm_find_pmd()).  Both halves refault with
 * entries that fit.  7.3 still needs it: without this and
 * resmem_vm_copied(), an mprotect() in the middle of a 1 GiB entry oopses
 * there (tests/test_mapping_cost.py, the misuse cases).  Write-locking the VMA first keeps a concurrent fault
 * (per-VMA lock) from reinstalling the entry before the split.
 */
static int resmem_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	struct resmem_region *r = vma->vm_private_data;
	unsigned long start, end;

	/* Pages are mapped 2 MiB at most, and split by the mm itself. */
	if (!RESMEM_PUD_MAP_SIZE || resmem_has_pages(r) ||
	    IS_ALIGNED(addr, RESMEM_PUD_MAP_SIZE))
		return 0;
	start = max(ALIGN_DOWN(addr, RESMEM_PUD_MAP_SIZE), vma->vm_start);
	end = min(ALIGN(addr, RESMEM_PUD_MAP_SIZE), vma->vm_end);
	vma_start_write(vma);
	zap_special_vma_range(vma, start, end - start);
	return 0;
}

/*
 * @vma was just created in the caller's own mm as a copy of another VMA of
 * the same file: a split (handled by resmem_may_split()) or an mremap()
 * move, which copies the VMA and then moves its page tables.  6.12 moves a
 * 1 GiB entry only to a 1 GiB-aligned place; otherwise it walks the entry
 * as a PMD table ("bad pud", entry dropped without a TLB flush).  So zap
 * the 1 GiB entries of every VMA of this file whose virtual-to-physical
 * phase differs from @vma's (the source of such a move) first; they
 * refault at the new place with entries that fit.  Fork (another mm)
 * copies page tables entry for entry and needs nothing.
 */
static void resmem_vm_copied(struct vm_area_struct *vma)
{
	struct resmem_region *r = vma->vm_private_data;
	struct mm_struct *mm = vma->vm_mm;
	struct vm_area_struct *v;
	unsigned long phase = vma->vm_start - (vma->vm_pgoff << PAGE_SHIFT);
	VMA_ITERATOR(vmi, mm, 0);

	if (!RESMEM_PUD_MAP_SIZE || resmem_has_pages(r) || mm != current->mm)
		return;
	mmap_assert_write_locked(mm);
	for_each_vma(vmi, v) {
		if (v == vma || v->vm_ops != &resmem_vm_ops ||
		    v->vm_file != vma->vm_file ||
		    !((v->vm_start - (v->vm_pgoff << PAGE_SHIFT) - phase) &
		      (RESMEM_PUD_MAP_SIZE - 1)))
			continue;
		vma_start_write(v);
		zap_special_vma_range(v, v->vm_start, v->vm_end - v->vm_start);
	}
}

static const struct vm_operations_struct resmem_vm_ops = {
	.open		= resmem_vm_open,
	.close		= resmem_vm_close,
	RESMEM_VM_MAPPED
	.fault		= resmem_fault,
	.huge_fault	= resmem_huge_fault,
	.may_split	= resmem_may_split,
};

/* Mapped on fault: nothing to do at mmap() time. */
static inline int resmem_populate(struct resmem_region *r,
			   struct vm_area_struct *vma, u64 offset)
{
	return 0;
}
#else
static const struct vm_operations_struct resmem_vm_ops = {
	.open	= resmem_vm_open,
	.close	= resmem_vm_close,
	RESMEM_VM_MAPPED
	.fault	= resmem_fault,
};

#define resmem_populate	resmem_map_vma

static void resmem_vm_copied(struct vm_area_struct *vma)
{
}
#endif

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
	resmem_user_err(r, "MAP_PRIVATE is not supported on resmem devices; use MAP_SHARED");
}

/*
 * The largest page-table entry size the window [offset, offset + len)
 * can use: the biggest supported size of which at least one naturally
 * aligned block (in physical addresses) lies inside the window; 0 when
 * only base pages fit or the window is not inside the region (mmap()
 * refuses it later).
 */
static unsigned long resmem_map_align(struct resmem_region *r, u64 offset,
				      unsigned long len)
{
	static const unsigned long sizes[] = {
		RESMEM_PUD_MAP_SIZE, RESMEM_PMD_MAP_SIZE,
	};
	u64 start, first;
	int i;

	if (offset > r->size || len > r->size - offset)
		return 0;
	start = r->phys + offset;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		if (!sizes[i])
			continue;
		first = round_up(start, (u64)sizes[i]);
		if (first + sizes[i] <= start + len)
			return sizes[i];
	}
	return 0;
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
 * misleading ENOMEM).
 *
 * Without a hint, places the mapping so that its virtual address is
 * congruent to its physical address modulo the largest entry size the
 * window can use (see resmem_map_align()), as device-dax does: asks for
 * @len plus that size and slides the start up.  A hint or MAP_FIXED
 * address is taken as given; faults there fall back to what fits.
 *
 * Return: the address, or a negative errno.
 */
unsigned long resmem_get_unmapped_area(struct file *file, unsigned long addr,
				       unsigned long len, unsigned long pgoff,
				       unsigned long flags)
{
	struct resmem_region *r = file->private_data;
	unsigned long align, len_align, area;
	u64 offset = (u64)pgoff << PAGE_SHIFT;

	if ((flags & MAP_TYPE) == MAP_PRIVATE) {
		refuse_private(r);
		return -EINVAL;
	}
	if (addr || (flags & MAP_FIXED) || pgoff > (r->size >> PAGE_SHIFT))
		goto out;
	align = resmem_map_align(r, offset, len);
	if (!align || check_add_overflow(len, align, &len_align))
		goto out;
	area = mm_get_unmapped_area(file, 0, len_align, pgoff, flags);
	if (IS_ERR_VALUE(area))
		goto out;
	return area + ((r->phys + offset - area) & (align - 1));
out:
	return mm_get_unmapped_area(file, addr, len, pgoff, flags);
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
				      chunk, resmem_pgprot_entry(vma));
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
		zap_special_vma_range(vma, vma->vm_start, done);
	return ret;
}

/* mem.c style: check the window before shifting or adding anything. */
static int resmem_check_window(struct resmem_region *r, unsigned long pgoff,
			       unsigned long len)
{
	if (pgoff > (r->size >> PAGE_SHIFT) ||
	    len > r->size - ((u64)pgoff << PAGE_SHIFT)) {
		resmem_user_err(r, "mmap window at page offset %#lx, length %#lx is outside the region (size %#llx); map within [0, size)",
				pgoff, len, r->size);
		return -EINVAL;
	}
	return 0;
}

#ifdef RESMEM_HAVE_MMAP_PREPARE
/**
 * resmem_mmap_prepare() - file_operations.mmap_prepare for a region
 * @desc:	the mapping about to be made
 *
 * The same checks and setup as resmem_mmap() on older kernels, on the
 * description of the VMA; where entries are not installed on fault, the
 * whole window is PFN-mapped by the mm right after (an mmap_action).
 *
 * Return: 0, or -EINVAL for a private mapping or a window outside the
 * region (logged, rate-limited).
 */
int resmem_mmap_prepare(struct vm_area_desc *desc)
{
	struct resmem_region *r = desc->file->private_data;
	u64 offset;
	int ret;

	/* Private (copy-on-write) mappings would hand out copies, not the memory. */
	if (!vma_desc_test(desc, VMA_MAYSHARE_BIT)) {
		refuse_private(r);
		return -EINVAL;
	}
	ret = resmem_check_window(r, desc->pgoff, vma_desc_size(desc));
	if (ret)
		return ret;
	/* Early and clear; resmem_vm_mapped() is what fences a removal. */
	if (!resmem_region_alive(r))
		return -ENODEV;
	offset = (u64)desc->pgoff << PAGE_SHIFT;

	if (r->pgmap) {
		/* Struct pages: mapped on fault, like device-dax. */
		vma_desc_set_flags(desc, VMA_DONTEXPAND_BIT, VMA_DONTDUMP_BIT);
		if (RESMEM_PAGES_PMD)
			vma_desc_set_flags(desc, VMA_HUGEPAGE_BIT);
	} else if (r->bootpages) {
		/* The boot's pages, 4 KiB on fault (vm_insert_page()). */
		vma_desc_set_flags(desc, VMA_MIXEDMAP_BIT, VMA_DONTEXPAND_BIT,
				   VMA_DONTDUMP_BIT);
	} else {
		vma_desc_set_flags(desc, VMA_IO_BIT, VMA_PFNMAP_BIT,
				   VMA_DONTEXPAND_BIT, VMA_DONTDUMP_BIT);
		if (RESMEM_HAVE_HUGE_PFNMAP)
			vma_desc_set_flags(desc, VMA_HUGEPAGE_BIT);
	}
	desc->page_prot = resmem_pgprot(r, desc->page_prot);
	desc->private_data = r;
	desc->vm_ops = &resmem_vm_ops;
	if (!RESMEM_HAVE_HUGE_PFNMAP && !resmem_has_pages(r)) {
		mmap_action_remap_full(desc, (r->phys + offset) >> PAGE_SHIFT);
		desc->action.remap.pgprot =
			resmem_entry_prot(desc->page_prot,
					  vma_desc_test(desc, VMA_WRITE_BIT));
	}
	return 0;
}
#else
/**
 * resmem_mmap() - file_operations.mmap for a region
 * @file:	the open region
 * @vma:	the new VMA
 *
 * Where the whole window is mapped here (RESMEM_MMAP_BEFORE_LINK), that
 * happens inside resmem_read_lock(), and removal learns of this mm.
 *
 * Return: 0, -EINVAL for a private mapping or a window outside the
 * region (logged, rate-limited), -ENODEV once the region is being
 * removed, or resmem_map_vma()'s error (6.1).
 */
int resmem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct resmem_region *r = file->private_data;
	u64 offset;
	int ret, idx;

	/* Private (copy-on-write) mappings would hand out copies, not the memory. */
	if (!(vma->vm_flags & VM_MAYSHARE)) {
		refuse_private(r);
		return -EINVAL;
	}
	ret = resmem_check_window(r, vma->vm_pgoff, vma->vm_end - vma->vm_start);
	if (ret)
		return ret;
	offset = (u64)vma->vm_pgoff << PAGE_SHIFT;

	if (r->pgmap)	/* struct pages: mapped on fault, like device-dax */
		vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP |
				  (RESMEM_PAGES_PMD ? VM_HUGEPAGE : 0));
	else if (r->bootpages)	/* 4 KiB on fault, vm_insert_page() */
		vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	else
		vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND |
				  VM_DONTDUMP | RESMEM_VM_HUGE);
	vma->vm_page_prot = resmem_pgprot(r, vma->vm_page_prot);
	vma->vm_private_data = r;
	vma->vm_ops = &resmem_vm_ops;

	idx = resmem_read_lock();
	ret = resmem_region_alive(r) ? 0 : -ENODEV;
	if (!ret && RESMEM_MMAP_BEFORE_LINK && !resmem_has_pages(r))
		ret = resmem_track_mmap(r);
	if (!ret && !resmem_has_pages(r))
		ret = resmem_populate(r, vma, offset);
	resmem_read_unlock(idx);
	if (ret)
		return ret;
	resmem_vm_open(vma);
	return 0;
}
#endif
