/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every architecture difference resmem cares about, x86_64 and arm64: where
 * reservations come from, what "uncached" means, how the entries of a user
 * mapping are made, what counts as a boot reservation, DMA coherence and
 * cache maintenance.  No other file tests CONFIG_X86 or CONFIG_ARM64.
 * These are resmem policy, not backports (those are in compat.h).
 */
#ifndef _RESMEM_ARCH_H
#define _RESMEM_ARCH_H

#include <linux/device.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sizes.h>

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

/*
 * Struct pages for regions (pages.c): memmap= ranges are outside the
 * kernel's memory map, so they have none until ZONE_DEVICE gives them
 * some (memremap_pages(), which also maps them into the direct map).
 */
#define RESMEM_ARCH_BOOT_PAGES		0

/* (Boot pages only, never used here.) */
static inline bool resmem_pfn_kernel_mapped(unsigned long pfn)
{
	return false;
}

#else /* !CONFIG_X86 */

#define RESMEM_HAVE_MEMMAP	0

/*
 * Struct pages for regions (pages.c): a /reserved-memory range lies inside
 * a /memory node, so the boot made its struct pages already (early sparse
 * sections, PageReserved, one reference each), no-map ranges included.
 * ZONE_DEVICE cannot add pages there (memremap_pages() WARNs on System
 * RAM and sparse_add_section() finds the subsections present: -EEXIST);
 * the region uses the boot's own pages instead.  Only where the kernel's
 * linear map covers them: kernel users of a pinned page reach its bytes
 * through page_address() (pipes, sockets, checksums, bounce buffers,
 * cache maintenance for non-coherent DMA), and a no-map range has no
 * linear mapping (map_mem() skips MEMBLOCK_NOMAP), so that access would
 * be a kernel page fault: seen on 7.3 with a vmsplice()d no-map page read
 * back from the pipe (copy_page_to_iter(), "Unable to handle kernel
 * paging request"), while O_DIRECT to virtio-blk, which never touches the
 * bytes, worked.
 */
#define RESMEM_ARCH_BOOT_PAGES		1

/* Is @pfn in the kernel's linear map (so page_address() works)? */
static inline bool resmem_pfn_kernel_mapped(unsigned long pfn)
{
	return pfn_is_map_memory(pfn);
}

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
 * Device tree (of.c) and cache maintenance for non-coherent DMA (sync.c).
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
#elif defined(CONFIG_X86)
/* x86 DMA snoops the caches: sync is a barrier (sync.c), never these. */
static inline void resmem_dcache_clean(void *addr, size_t len)
{
}

static inline void resmem_dcache_inval(void *addr, size_t len)
{
}
#else
/* A silent no-op sync would lose device data: refuse to build instead. */
#error "resmem: no cache maintenance for this architecture (x86 and arm64 are supported)"
#endif

#endif /* _RESMEM_ARCH_H */
