/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference resmem cares about; no other file tests
 * LINUX_VERSION_CODE.  (Architecture differences: resmem-arch.h.)
 *
 * Supported: 6.1 through 7.3 (Debian bookworm, trixie, trixie-backports,
 * PREEMPT_RT).  Where an interface changed, the .c files call it by its
 * newest upstream name and signature and this file gives older kernels
 * that name (tested by feature where the headers allow it), so dropping a
 * kernel means deleting a block here.  Where no upstream name can stand in
 * (a changed callback signature, a new file operation, a capability of
 * the kernel's configuration), a RESMEM_ switch says which form this
 * kernel takes.
 */
#ifndef _RESMEM_COMPAT_H
#define _RESMEM_COMPAT_H

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/version.h>

/* The supported range starts at what CI builds and boots (Debian's 6.1). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "resmem supports Linux 6.1 and later"
#endif

/* class_create(name): the owner argument went away in 6.4. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#undef class_create
#define class_create(name)						\
({									\
	static struct lock_class_key __key;				\
	__class_create(THIS_MODULE, name, &__key);			\
})
#endif

/* The class devnode callback takes a const device from 6.2. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define RESMEM_DEVNODE_CONST const
#else
#define RESMEM_DEVNODE_CONST
#endif

/* vma->vm_flags became read-only in 6.3; writers use vm_flags_set(). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma,
				unsigned long flags)
{
	vma->vm_flags |= flags;
}
#endif

/*
 * The mm's default placement, mm_get_unmapped_area(file, addr, len, pgoff,
 * flags) as 6.19 has it: 6.10 to 6.18 also took the mm, older kernels kept
 * a per-mm hook.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
#define mm_get_unmapped_area(file, addr, len, pgoff, flags) \
	current->mm->get_unmapped_area(file, addr, len, pgoff, flags)
#elif LINUX_VERSION_CODE < KERNEL_VERSION(6, 19, 0)
#define mm_get_unmapped_area(file, addr, len, pgoff, flags) \
	mm_get_unmapped_area(current->mm, file, addr, len, pgoff, flags)
#endif

/* zap_special_vma_range(): zap_vma_ptes() until 7.1 (VM_PFNMAP VMAs only). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(7, 1, 0)
#define zap_special_vma_range	zap_vma_ptes
#endif

/*
 * RESMEM_HAVE_MMAP_PREPARE (Kbuild probe: vm_operations_struct has
 * ->mapped, 7.x): the VFS prefers f_op->mmap_prepare, which describes the
 * new mapping (struct vm_area_desc) before the VMA exists; the mapping is
 * counted by ->mapped and an eager map is a requested mmap_action.  Older
 * kernels get ->mmap, which sets up the VMA itself.
 */
#ifdef RESMEM_HAVE_MMAP_PREPARE
#define RESMEM_FOP_MMAP		.mmap_prepare = resmem_mmap_prepare
#else
#define RESMEM_FOP_MMAP		.mmap = resmem_mmap
#endif

/*
 * How a mapping gets its page-table entries: one strategy per kernel,
 * chosen here and used in one place in mmap.c (resmem_insert_pfn()).
 *
 * RESMEM_HAVE_HUGE_PFNMAP (CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP: 6.12 and later
 * with transparent huge pages, so not on PREEMPT_RT, which has none):
 * the mm calls ->huge_fault for VM_PFNMAP VMAs (subject to the THP sysfs
 * setting, which it applies itself), so entries are installed on fault,
 * 1 GiB (PUD) or 2 MiB (PMD) where the architecture supports PFN maps of
 * that size, 4 KiB otherwise.  RESMEM_PUD_MAP_SIZE/RESMEM_PMD_MAP_SIZE
 * are those sizes, 0 when unsupported.
 *
 * Otherwise (6.1, RT kernels) a VM_PFNMAP VMA never reaches ->huge_fault: the whole
 * VMA is mapped with 4 KiB entries at mmap() time (remap_pfn_range()).
 */
#if defined(CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP)
#include <linux/huge_mm.h>

/*
 * vmf_insert_pfn_pmd/_pud(vmf, pfn, write) as 6.17 has them, without pfn_t:
 * before that they took a pfn_t (PFN_DEV: memory without struct pages).
 */
#ifdef RESMEM_HAVE_PFN_T	/* Kbuild: include/linux/pfn_t.h exists */
#include <linux/pfn_t.h>
#define vmf_insert_pfn_pmd(vmf, pfn, write) \
	vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), write)
#define vmf_insert_pfn_pud(vmf, pfn, write) \
	vmf_insert_pfn_pud(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), write)
#endif

#define RESMEM_HAVE_HUGE_PFNMAP	1
/*
 * Marked like a MADV_HUGEPAGE mapping (as device-dax marks its VMAs):
 * with THP "madvise" the mm would otherwise keep PFN maps at 4 KiB, and
 * "never" or MADV_NOHUGEPAGE on the mapping still give 4 KiB entries.
 * (Later 6.12.y kernels skip the THP sysfs check for huge PFN maps
 * altogether; MADV_NOHUGEPAGE still applies there.)
 */
#define RESMEM_VM_HUGE		VM_HUGEPAGE

#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
#define RESMEM_PUD_MAP_SIZE	PUD_SIZE
#else
#define RESMEM_PUD_MAP_SIZE	0UL
#endif
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
#define RESMEM_PMD_MAP_SIZE	PMD_SIZE
#else
#define RESMEM_PMD_MAP_SIZE	0UL
#endif

#else
#define RESMEM_HAVE_HUGE_PFNMAP	0
#define RESMEM_VM_HUGE		0
#define RESMEM_PUD_MAP_SIZE	0UL
#define RESMEM_PMD_MAP_SIZE	0UL
#endif

/*
 * Struct pages for regions (pages.c) and their entries (mmap.c,
 * resmem_insert_page()).
 *
 * RESMEM_HAVE_INSERT_FOLIO (Kbuild probe: huge_mm.h declares
 * vmf_insert_folio_pmd(), 6.15 and later): ZONE_DEVICE pages are ordinary
 * refcounted folios, mapped with vmf_insert_page_mkwrite() and
 * vmf_insert_folio_pmd(); a 2 MiB entry needs a 2 MiB folio, so the pages
 * are made compound (RESMEM_PAGES_SHIFT, pgmap->vmemmap_shift).  Older
 * kernels map them as "devmap" entries, a pfn_t with PFN_DEV|PFN_MAP given
 * to vmf_insert_mixed() or vmf_insert_pfn_pmd(), which get_user_pages()
 * resolves through get_dev_pagemap(): they get the new names here.  Any
 * other page (arm64: the boot's own) is an ordinary page entry, which
 * vm_insert_page() makes on every kernel.
 *
 * RESMEM_PAGES_PMD: a region with ZONE_DEVICE pages gets 2 MiB entries
 * where ->huge_fault is reached (RESMEM_HAVE_HUGE_PFNMAP: 6.12 and later,
 * not PREEMPT_RT).  On 6.1 they stay 4 KiB on purpose: its MADV_COLD and
 * MADV_PAGEOUT walk a devmap PMD as a bad pmd.  1 GiB entries need
 * PUD-sized folios, which nothing gives a module: regions with pages map
 * at most 2 MiB.
 */
#define RESMEM_PAGES_PMD	RESMEM_HAVE_HUGE_PFNMAP
#if IS_ENABLED(CONFIG_ZONE_DEVICE)
#include <linux/memremap.h>
#endif

#ifdef RESMEM_HAVE_INSERT_FOLIO
#define RESMEM_PAGES_SHIFT	(RESMEM_PAGES_PMD ? PMD_SHIFT - PAGE_SHIFT : 0)
#else
#define RESMEM_PAGES_SHIFT	0
#if IS_ENABLED(CONFIG_ZONE_DEVICE)
#include <linux/pfn_t.h>
#endif

/*
 * ZONE_DEVICE pages: @write unused, as device-dax has it on these kernels:
 * the entry takes the VMA's protection (writable in a shared writable
 * mapping), and do_wp_page() makes a write-protected one writable without
 * us (vmf_insert_mixed_mkwrite() is not exported to modules from 6.12).
 * Other pages: vm_insert_page(), which needs VM_MIXEDMAP set at mmap()
 * time when called from a fault; its entry is clean, so a core without
 * hardware dirty bits takes one more fault at the first store.  -EBUSY
 * (another thread mapped it first) is success, as in upstream's version.
 */
static inline vm_fault_t vmf_insert_page_mkwrite(struct vm_fault *vmf,
						 struct page *page, bool write)
{
	int err;

#if IS_ENABLED(CONFIG_ZONE_DEVICE)
	if (is_zone_device_page(page))
		return vmf_insert_mixed(vmf->vma, vmf->address,
					__pfn_to_pfn_t(page_to_pfn(page),
						       PFN_DEV | PFN_MAP));
#endif
	err = vm_insert_page(vmf->vma, vmf->address & PAGE_MASK, page);
	if (err == -ENOMEM)
		return VM_FAULT_OOM;
	if (err < 0 && err != -EBUSY)
		return VM_FAULT_SIGBUS;
	return VM_FAULT_NOPAGE;
}

#if RESMEM_PAGES_PMD && IS_ENABLED(CONFIG_ZONE_DEVICE)
/* (vmf_insert_pfn_pmd): the function, not the pfn_t-less macro above */
static inline vm_fault_t vmf_insert_folio_pmd(struct vm_fault *vmf,
					      struct folio *folio, bool write)
{
	return (vmf_insert_pfn_pmd)(vmf, __pfn_to_pfn_t(folio_pfn(folio),
							PFN_DEV | PFN_MAP),
				    write);
}
#endif
#endif /* RESMEM_HAVE_INSERT_FOLIO */

/*
 * RESMEM_MMAP_BEFORE_LINK: ->mmap (no ->mmap_prepare) on a kernel without
 * huge PFN maps fills the page tables before the mm links the new VMA into
 * the file's address_space, where a removal's unmap_mapping_range() would
 * look for it (lifetime.c, resmem_track_mmap()).  With ->mmap_prepare the
 * mm links the VMA before the eager map and calls vm_ops->mapped after it;
 * with huge PFN maps nothing is mapped before a fault.
 */
#if !RESMEM_HAVE_HUGE_PFNMAP && !defined(RESMEM_HAVE_MMAP_PREPARE)
#define RESMEM_MMAP_BEFORE_LINK	1
#else
#define RESMEM_MMAP_BEFORE_LINK	0
#endif

/*
 * dma_map_phys(): memory mapped for DMA by physical address, struct pages
 * or not (6.18; Kbuild probe RESMEM_HAVE_DMA_MAP_PHYS).  Before it, dma.c
 * maps through struct pages, or not at all as memory.
 */
#ifdef RESMEM_HAVE_DMA_MAP_PHYS
#undef RESMEM_HAVE_DMA_MAP_PHYS
#define RESMEM_HAVE_DMA_MAP_PHYS	1
#define resmem_dma_map_phys		dma_map_phys
#define resmem_dma_unmap_phys		dma_unmap_phys
#else
#define RESMEM_HAVE_DMA_MAP_PHYS	0
static inline dma_addr_t resmem_dma_map_phys(struct device *dev,
					     phys_addr_t phys, size_t size,
					     enum dma_data_direction dir,
					     unsigned long attrs)
{
	return DMA_MAPPING_ERROR;
}

static inline void resmem_dma_unmap_phys(struct device *dev, dma_addr_t addr,
					 size_t size,
					 enum dma_data_direction dir,
					 unsigned long attrs)
{
}
#endif

/* DMA_ATTR_REQUIRE_COHERENT (7.x): fail rather than bounce or flush. */
#ifdef DMA_ATTR_REQUIRE_COHERENT
#define RESMEM_DMA_ATTR_REQUIRE_COHERENT	DMA_ATTR_REQUIRE_COHERENT
#else
#define RESMEM_DMA_ATTR_REQUIRE_COHERENT	0
#endif

/*
 * MODULE_IMPORT_NS("NS"): a string from 6.13; before, a bare token that
 * the macro stringified.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#undef MODULE_IMPORT_NS
#define MODULE_IMPORT_NS(ns)	MODULE_INFO(import_ns, ns)
#endif

/*
 * vfs_mmap(file, vma): a file's mmap for a VMA set up by someone else (a
 * dma-buf's mmap), through ->mmap_prepare where the file has it; it was
 * call_mmap() until 6.17 (Kbuild probe RESMEM_HAVE_VFS_MMAP).
 */
#ifndef RESMEM_HAVE_VFS_MMAP
#define vfs_mmap	call_mmap
#endif

#endif /* _RESMEM_COMPAT_H */
