/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version and architecture difference resmem cares about.
 * No other file tests LINUX_VERSION_CODE or CONFIG_X86/CONFIG_ARM64.
 *
 * Supported: 6.1 through 7.3 (Debian bookworm, trixie, trixie-backports,
 * PREEMPT_RT), x86_64 and arm64.  Where an interface changed, the .c files
 * call it by its newest upstream name and signature and this file gives
 * older kernels that name (tested by feature where the headers allow it),
 * so dropping a kernel means deleting a block here.
 */
#ifndef _RESMEM_COMPAT_H
#define _RESMEM_COMPAT_H

#include <linux/device.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
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

#ifdef CONFIG_X86
#include <asm/processor.h>

/* Reservations come from memmap=SIZE$ADDR on the command line (cmdline.c). */
#define RESMEM_HAVE_MEMMAP	1

/* Physical address bits the CPU implements (CPUID 0x80000008). */
static inline unsigned int resmem_phys_bits(void)
{
	return boot_cpu_data.x86_phys_bits;
}

/*
 * Uncached: ioremap_uc() is strong UC (PAT UC, not UC-) for the kernel;
 * user mappings get strong UC too (resmem_pgprot_uc()), which is also
 * what the PAT code would make of them from the type our ioremap recorded.
 */
static inline void __iomem *resmem_ioremap_uc(phys_addr_t phys, size_t size)
{
	return ioremap_uc(phys, size);
}

/*
 * Strong UC in the user entries too (pgprot_noncached() would say UC-):
 * the PAT lookup fixes 4 KiB and 2 MiB entries up to the kernel mapping's
 * UC anyway, but 6.12's vmf_insert_pfn_pud() installs vma->vm_page_prot
 * as it is, so the VMA's protection must already be the exact type.
 */
static inline pgprot_t resmem_pgprot_uc(pgprot_t prot)
{
	return __pgprot((pgprot_val(prot) & ~_PAGE_CACHE_MASK) |
			cachemode2protval(_PAGE_CACHE_MODE_UC));
}

/*
 * Protection of the 4 KiB entries resmem installs.  x86 sets the accessed
 * and dirty bits in hardware without a fault, so the VMA's protection is
 * used as it is (presetting D on a read-only entry would even turn it into
 * a shadow-stack entry).
 */
static inline pgprot_t resmem_entry_prot(pgprot_t prot, bool writable)
{
	return prot;
}

/*
 * Boot reservations (memmap=, firmware) are top-level E820 "Reserved"
 * entries in /proc/iomem: IORES_DESC_RESERVED.  Returns REGION_INTERSECTS
 * if [phys, phys + size) lies entirely in them, REGION_DISJOINT if in none,
 * REGION_MIXED otherwise.
 */
static inline int resmem_reserved_intersects(u64 phys, u64 size)
{
	return region_intersects(phys, size, IORESOURCE_MEM,
				 IORES_DESC_RESERVED);
}

/* Is @res, the parent our claim landed in, such a reservation? */
static inline bool resmem_res_is_reservation(const struct resource *res)
{
	return res->parent == &iomem_resource &&
	       res->desc == IORES_DESC_RESERVED;
}

#else /* !CONFIG_X86 */

#define RESMEM_HAVE_MEMMAP	0

static inline unsigned int resmem_phys_bits(void)
{
	return MAX_PHYSMEM_BITS;
}

/*
 * arm64: "uncached" is Normal Non-cacheable, the same attributes as
 * write-combining, for both the kernel (ioremap_wc) and user space
 * (pgprot_writecombine), so the two mappings always agree.  Device memory
 * (ioremap, pgprot_device) is not used: it faults on unaligned accesses
 * and on DC ZVA, so an ordinary memset() or memcpy() in a program would
 * get SIGBUS.  Normal-NC is what arm64 has for uncached RAM: nothing is
 * allocated in any cache, loads and stores go to memory; only the order
 * and merging of stores is relaxed (a barrier or RESMEM_IOC_SYNC orders
 * them).
 */
static inline void __iomem *resmem_ioremap_uc(phys_addr_t phys, size_t size)
{
	return ioremap_wc(phys, size);
}

static inline pgprot_t resmem_pgprot_uc(pgprot_t prot)
{
	return pgprot_writecombine(prot);
}

/*
 * Protection of the 4 KiB entries resmem installs.  A writable entry is
 * made "writable-clean" (PTE_RDONLY with PTE_WRITE) so that the first
 * store sets the dirty bit; cores without hardware dirty-bit management
 * (no FEAT_HAFDBS: Cortex-A53, A57, A72, so ZynqMP and the Raspberry Pi 4)
 * take a permission fault for that, once per 4 KiB page: 2 Mi faults to
 * write 8 GiB.  Nothing tracks the dirtiness of PFN maps (no struct page,
 * no writeback; fork makes the child's copies clean itself), so writable
 * entries are installed dirty and hardware-writable from the start.
 */
static inline pgprot_t resmem_entry_prot(pgprot_t prot, bool writable)
{
	if (!writable)
		return prot;
	return __pgprot((pgprot_val(prot) | PTE_DIRTY) & ~PTE_RDONLY);
}

/*
 * arm64 has no E820: memory the boot took out of the linear map (a
 * /reserved-memory node with no-map, EFI reservations) stays memblock
 * memory marked NOMAP.  /proc/iomem shows it as a top-level "reserved"
 * entry with flags IORESOURCE_MEM and (6.1) desc IORES_DESC_NONE, so the
 * descriptor cannot tell it from MMIO; the page test can: pfn_valid()
 * (memory the /memory nodes describe, it has a struct page) but not
 * pfn_is_map_memory() (not in the linear map).
 */
static inline int resmem_reserved_intersects(u64 phys, u64 size)
{
	u64 p, nomap = 0;

	for (p = phys; p - phys < size; p += PAGE_SIZE) {
		unsigned long pfn = PHYS_PFN(p);

		if (pfn_valid(pfn) && !pfn_is_map_memory(pfn))
			nomap++;
		if (!(p & (SZ_64M - 1)))
			cond_resched();
	}
	if (nomap == size >> PAGE_SHIFT)
		return REGION_INTERSECTS;
	return nomap ? REGION_MIXED : REGION_DISJOINT;
}

/* Top-level and not System RAM: the "reserved" entry of a NOMAP range. */
static inline bool resmem_res_is_reservation(const struct resource *res)
{
	return res->parent == &iomem_resource &&
	       !(res->flags & IORESOURCE_SYSRAM) &&
	       !(res->flags & IORESOURCE_BUSY);
}

#endif /* CONFIG_X86 */

/* The protection of the entries resmem installs in @vma (see above). */
static inline pgprot_t resmem_pgprot_entry(struct vm_area_struct *vma)
{
	return resmem_entry_prot(vma->vm_page_prot, vma->vm_flags & VM_WRITE);
}

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
 * chosen here and used in one place in mmap.c.
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

/*
 * Install one entry of PAGE_SIZE << @order at the (aligned) fault address.
 * The memory type comes from vma->vm_page_prot, reconciled with the
 * kernel's own mapping by the PAT code (track_pfn_insert()).  A write
 * fault on an existing huge entry makes it young and dirty again.
 */
static inline vm_fault_t resmem_insert_pfn(struct vm_fault *vmf,
					   unsigned long pfn,
					   unsigned int order)
{
	bool write = vmf->flags & FAULT_FLAG_WRITE;

	switch (order) {
	case 0:
		return vmf_insert_pfn_prot(vmf->vma, vmf->address, pfn,
					   resmem_pgprot_entry(vmf->vma));
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
	case PMD_ORDER:
		return vmf_insert_pfn_pmd(vmf, pfn, write);
#endif
#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
	case PUD_ORDER:
		return vmf_insert_pfn_pud(vmf, pfn, write);
#endif
	default:
		return VM_FAULT_FALLBACK;
	}
}
#else
#define RESMEM_HAVE_HUGE_PFNMAP	0
#define RESMEM_VM_HUGE		0
#define RESMEM_PUD_MAP_SIZE	0UL
#define RESMEM_PMD_MAP_SIZE	0UL
#endif


/* ------------------------------------------------------------------------
 * Device tree (of.c) and cache maintenance for non-coherent DMA (sync.c).
 * ------------------------------------------------------------------------
 */
#include <linux/dma-map-ops.h>

/*
 * Are DMA masters coherent with the CPU caches unless a device says
 * otherwise?  x86: always (the caches snoop every DMA).  arm64: only
 * devices marked "dma-coherent" in the device tree (dev_is_dma_coherent()
 * after of_dma_configure(), or the property on the /reserved-memory node).
 */
#ifdef CONFIG_X86
#define RESMEM_DMA_ALWAYS_COHERENT	1
#else
#define RESMEM_DMA_ALWAYS_COHERENT	0
#endif

static inline bool resmem_dev_dma_coherent(struct device *dev)
{
	return RESMEM_DMA_ALWAYS_COHERENT || dev_is_dma_coherent(dev);
}

/*
 * Cache maintenance by kernel virtual address, on resmem's own mapping of
 * the region (never phys_to_virt(): a no-map region is not in the linear
 * map, which is why the DMA API's dma_sync_single_*() -> arch_sync_dma_*()
 * cannot be used on it; those take a physical address and clean through
 * the linear map).  arch_wb_cache_pmem() (DC CVAP, or DC CVAC without
 * FEAT_DPB: clean to at least the point of coherency) and
 * arch_invalidate_pmem() (dcache_inval_poc: DC IVAC, partial lines at the
 * edges cleaned and invalidated) are the exported arm64 entry points to
 * exactly the operations arch_sync_dma_for_device()/_for_cpu() perform.
 * On x86 DMA is coherent and these are never needed.
 */
#ifdef CONFIG_ARM64
#include <linux/libnvdimm.h>

static inline void resmem_dcache_clean(void *addr, size_t len)
{
	arch_wb_cache_pmem(addr, len);
}

static inline void resmem_dcache_inval(void *addr, size_t len)
{
	arch_invalidate_pmem(addr, len);
}
#else
static inline void resmem_dcache_clean(void *addr, size_t len)
{
}

static inline void resmem_dcache_inval(void *addr, size_t len)
{
}
#endif

#endif /* _RESMEM_COMPAT_H */
