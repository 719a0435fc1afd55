// SPDX-License-Identifier: GPL-2.0
/*
 * Struct pages for a region, so that a mapping has page entries.
 *
 * A claimed write-back region gets a struct page for every 4 KiB and
 * mmap.c maps it with page entries instead of VM_PFNMAP|VM_IO: then
 * get_user_pages()/pin_user_pages() work on a mapping, so O_DIRECT,
 * io_uring and splice can use it as a buffer.  Where the pages come from
 * is the architecture's (resmem-arch.h, RESMEM_ARCH_BOOT_PAGES):
 *
 *  - x86 (memmap= ranges, outside the kernel's memory map): ZONE_DEVICE
 *    memory, as device-dax has it (memremap_pages(), MEMORY_DEVICE_GENERIC;
 *    its address_space is marked S_DAX as device-dax marks its inode).
 *    The page metadata costs 64 bytes of RAM per 4 KiB page
 *    (sizeof(struct page); less where the kernel shares the memmap of
 *    compound pages), or none: with pages_in=region (or a region's own
 *    pages=region) it takes the region's first bytes instead, a
 *    vmem_altmap as nvdimm's pfn devices have, and the region user space
 *    sees begins after them (struct resmem_region @head).
 *  - arm64 (device-tree ranges, inside a /memory node): the boot's own
 *    struct pages, which exist already (PageReserved, one reference
 *    each), so they cost nothing more.  Mapped as ordinary page entries
 *    (VM_MIXEDMAP), 4 KiB only: a 2 MiB page entry needs a 2 MiB folio
 *    and the boot's pages are order 0.  Only ranges in the linear map
 *    (no no-map): the kernel reaches a pinned page's bytes through
 *    page_address().
 *
 * A region that cannot have pages keeps today's PFN mapping; why is in
 * its sysfs "pages" attribute and its load log line: turned off (for
 * this region by its regions= entry's pages=off or its device-tree
 * resmem,pages = "off", for all regions by pages=0; a region's own
 * choice wins over pages=), not write-back, not 2 MiB aligned, a kernel without
 * ZONE_DEVICE, memremap_pages() refused, a no-map range, or boot pages
 * not in the state this file expects.
 *
 * Teardown never lets the range go while a user still holds a page: pins
 * and references taken by O_DIRECT, io_uring or splice outlive munmap()
 * and close().  resmem_pages_exit() waits a bounded time for them to go
 * and otherwise keeps the claim on the range (and ZONE_DEVICE pages) for
 * good (logged), so no reload hands the memory out again under them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/numa.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "compat.h"
#include "resmem-arch.h"
#include "resmem-private.h"

static bool pages = true;
module_param(pages, bool, 0444);
MODULE_PARM_DESC(pages,
	"Give write-back regions struct pages, so O_DIRECT, io_uring and splice work on a mapping; x86: ZONE_DEVICE, 64 bytes of RAM per 4 KiB; arm64: the boot's own, no extra RAM; 0 keeps the PFN mapping (default Y; a region's own pages=off|ram, regions= option or device-tree resmem,pages, wins)");

/* How long teardown waits for references to the pages to go. */
#define RESMEM_PAGES_WAIT_MS	5000

/*
 * Why @r cannot have pages, or NULL if it may (boot pages: so far).  Each
 * reason fits the 128-byte line of sysfs and the log with "no: " before.
 */
static const char *pages_refused(const struct resmem_region *r)
{
	if (r->pages_choice == RESMEM_PAGES_OFF)
		return r->source == RESMEM_SOURCE_DEVICETREE ?
			"off (device tree resmem,pages = \"off\")" :
			"off (regions= entry option pages=off)";
	if (!pages && r->pages_choice == RESMEM_PAGES_DEFAULT)
		return "off (module parameter pages=0)";
	if (!RESMEM_ARCH_BOOT_PAGES && !IS_ENABLED(CONFIG_ZONE_DEVICE))
		return "this kernel has no ZONE_DEVICE";
	if (r->cache != RESMEM_CACHE_WB)
		return "not write-back (pages need cache=wb)";
	if (!RESMEM_ARCH_BOOT_PAGES && !IS_ALIGNED(r->phys | r->size, SZ_2M))
		return "not 2 MiB aligned (address and size)";
	return NULL;
}

/* Bytes of RAM the ZONE_DEVICE struct pages of @r take, at most. */
static u64 pages_cost(const struct resmem_region *r)
{
	return (r->size >> PAGE_SHIFT) * sizeof(struct page);
}

/*
 * Can @r be mapped with the boot's struct pages?  Every page must be in
 * the linear map (see resmem-arch.h) and as the boot left a reserved
 * range (memmap_init_reserved_pages(): PageReserved, which keeps the
 * allocator, LRU and migration away; one reference, never dropped, so
 * the page is never freed), not part of a compound page and not mapped.
 * Then a reference count above one is a user (pages_busy()).
 */
static const char *boot_pages_refused(const struct resmem_region *r)
{
	unsigned long pfn = PHYS_PFN(r->phys);
	unsigned long end = PHYS_PFN(r->phys + r->size);
	struct page *page;

	for (; pfn < end; pfn++) {
		if (!pfn_valid(pfn))
			return "part of the range has no struct pages";
		if (!resmem_pfn_kernel_mapped(pfn))
			return "no-map range: not in the kernel's linear map, which kernel users of pinned pages need (drop no-map for pages)";
		page = pfn_to_page(pfn);
		if (!PageReserved(page) || PageCompound(page) ||
		    folio_mapped(page_folio(page)) ||
		    page_ref_count(page) != 1) {
			pr_info(resmem_region_fmt ": boot struct page of pfn %#lx: reserved %d, compound %d, mapped %d, refcount %d\n",
				resmem_region_arg(r), pfn, PageReserved(page),
				PageCompound(page), folio_mapped(page_folio(page)),
				page_ref_count(page));
			return "the boot's struct pages of the range are not reserved and unused";
		}
		if (!(pfn & 0xffff))
			cond_resched();
	}
	return NULL;
}

#if IS_ENABLED(CONFIG_ZONE_DEVICE)
/*
 * Bytes of @r's head that hold the struct pages of all of @r: the 2 MiB
 * blocks of the vmemmap covering them, each of which the vmemmap maps
 * with one PMD (the only size vmemmap_populate() takes from an altmap;
 * it fails rather than fall back to RAM there).  Whole memory sections
 * (pages_in_region_refused()) make that exactly size / 64.
 */
static u64 head_size(const struct resmem_region *r)
{
	u64 first = PHYS_PFN(r->phys) * sizeof(struct page);
	u64 last = PHYS_PFN(r->phys + r->size) * sizeof(struct page);

	return ALIGN(last, SZ_2M) - ALIGN_DOWN(first, SZ_2M);
}

/* Why @r's struct pages cannot be in its head, or NULL. */
static const char *pages_in_region_refused(const struct resmem_region *r)
{
	u64 section = PAGES_PER_SECTION << PAGE_SHIFT;

	/*
	 * The kernel populates the vmemmap of a partial section with 4 KiB
	 * pages from RAM, never from the altmap.
	 */
	if (!IS_ALIGNED(r->phys | r->size, section))
		return "address or size not 128 MiB aligned";
	if (head_size(r) + SZ_2M > r->size)
		return "region too small to hold them";
	return NULL;
}

/*
 * The pagemap of @r, with the vmemmap in its first @head bytes (an altmap,
 * as nvdimm's pfn devices have it) when @head is not 0.
 */
static void *device_pages_map(struct resmem_region *r,
			      struct dev_pagemap *pgmap, u64 head)
{
	int nid = phys_to_target_node(r->phys);

	memset(pgmap, 0, sizeof(*pgmap));
	pgmap->type = MEMORY_DEVICE_GENERIC;
	pgmap->range.start = r->phys;
	pgmap->range.end = r->phys + r->size - 1;
	pgmap->nr_range = 1;
	pgmap->vmemmap_shift = RESMEM_PAGES_SHIFT;
	if (head) {
		/* base_pfn must be the range's first: __add_pages() checks */
		struct vmem_altmap altmap = {
			.base_pfn = PHYS_PFN(r->phys),
			.end_pfn = PHYS_PFN(r->phys + r->size) - 1,
		};

		/* end_pfn and reserve are const: copied as nvdimm does */
		memcpy(&pgmap->altmap, &altmap, sizeof(altmap));
		pgmap->altmap.free = PHYS_PFN(head);
		pgmap->flags |= PGMAP_ALTMAP_VALID;
	}
	if (nid != NUMA_NO_NODE && !node_online(nid))
		nid = NUMA_NO_NODE;
	return memremap_pages(pgmap, nid);
}

/*
 * ZONE_DEVICE pages for @r; @r->nopages says why not.  Asked to keep the
 * metadata in the region, they go there if they can (@r then describes
 * the usable part after it, resmem-private.h), else to RAM, and
 * @r->head_why says why.
 */
static void device_pages_init(struct resmem_region *r, bool in_region)
{
	struct dev_pagemap *pgmap;
	void *addr = NULL;
	u64 head = 0;

	pgmap = kzalloc(sizeof(*pgmap), GFP_KERNEL);
	if (!pgmap) {
		r->nopages = "out of memory";
		return;
	}
	if (in_region) {
		r->head_why = pages_in_region_refused(r);
		if (!r->head_why) {
			head = head_size(r);
			addr = device_pages_map(r, pgmap, head);
			if (IS_ERR(addr)) {
				pr_info(resmem_region_fmt ": memremap_pages() with the struct pages in the region's first %llu MiB: error %ld; they go to RAM\n",
					resmem_region_arg(r), head >> 20,
					PTR_ERR(addr));
				r->head_why = "memremap_pages() refused it";
				head = 0;
			} else if (!pgmap->altmap.alloc) {
				/*
				 * Nothing taken from the head: the memmap of
				 * the range existed already (some kernels make
				 * it at boot for memmap= ranges), in RAM.
				 */
				memunmap_pages(pgmap);
				r->head_why = "the boot made them already";
				head = 0;
			}
		}
	}
	if (!head)
		addr = device_pages_map(r, pgmap, 0);
	if (IS_ERR(addr)) {
		r->pages_err = PTR_ERR(addr);
		r->nopages = "memremap_pages() refused the range";
		kfree(pgmap);
		return;
	}
	r->pgmap = pgmap;
	if (head) {
		/* the struct pages are not user data: hide them */
		r->head = head;
		r->phys += head;
		r->size -= head;
		r->kaddr += head;
	}
}

/* Pages per folio: each holds one reference of its own when unused. */
static unsigned long pages_step(const struct resmem_region *r)
{
	return r->pgmap ? pgmap_vmemmap_nr(r->pgmap) : 1;
}

static void device_pages_exit(struct resmem_region *r)
{
	memunmap_pages(r->pgmap);
	kfree(r->pgmap);
}
#else
static void device_pages_init(struct resmem_region *r, bool in_region)
{
	r->nopages = "this kernel has no ZONE_DEVICE";
}

static unsigned long pages_step(const struct resmem_region *r)
{
	return 1;
}

static void device_pages_exit(struct resmem_region *r)
{
}
#endif

/**
 * resmem_pages_init() - give a claimed region struct pages, if it may have them
 * @r: the region, claimed and mapped for the kernel, without a device yet
 *
 * Never fails the region: one that gets no pages has @r->nopages say why
 * and is mapped by PFN as before.
 */
void resmem_pages_init(struct resmem_region *r)
{
	r->nopages = pages_refused(r);
	if (r->nopages)
		return;
	if (!RESMEM_ARCH_BOOT_PAGES) {
		u32 in = r->pages_choice == RESMEM_PAGES_DEFAULT ?
			 resmem_default_pages_in : r->pages_choice;

		device_pages_init(r, in == RESMEM_PAGES_REGION);
		return;
	}
	r->nopages = boot_pages_refused(r);
	r->bootpages = !r->nopages;
}

/*
 * Pages (folios) of @r someone still holds: each has one reference of its
 * own (MEMORY_DEVICE_GENERIC; the boot's), a mapping, a pin or a bio adds
 * more.
 */
static unsigned long pages_busy(const struct resmem_region *r)
{
	unsigned long pfn = PHYS_PFN(r->phys);
	unsigned long end = PHYS_PFN(r->phys + r->size);
	unsigned long step = pages_step(r);
	unsigned long busy = 0;

	for (; pfn < end; pfn += step) {
		if (page_ref_count(pfn_to_page(pfn)) != 1)
			busy++;
		if (!(pfn & 0xffff))
			cond_resched();
	}
	return busy;
}

/**
 * resmem_pages_exit() - take a region's struct pages away again
 * @r: the region; nothing maps it any more
 *
 * Waits up to RESMEM_PAGES_WAIT_MS for references that outlive mappings
 * (pins of an O_DIRECT or io_uring request in flight, pages in a pipe).
 * If some remain, the claim on the range must stay (and ZONE_DEVICE pages:
 * memunmap_pages() would free them under their user): logged.
 *
 * Context: process context; sleeps, up to RESMEM_PAGES_WAIT_MS.
 * Return: true if the region has no pages now, false if they were kept.
 */
bool resmem_pages_exit(struct resmem_region *r)
{
	unsigned long busy;
	unsigned int waited = 0;

	if (!resmem_has_pages(r))
		return true;
	while ((busy = pages_busy(r)) && waited < RESMEM_PAGES_WAIT_MS) {
		msleep(100);
		waited += 100;
	}
	if (busy) {
		pr_warn(resmem_region_fmt ": %lu of its pages are still in use %u ms after the last mapping went (an O_DIRECT, io_uring or splice user holds them); keeping %sits claim on the range until reboot\n",
			resmem_region_arg(r), busy, waited,
			r->pgmap ? "its struct pages and " : "");
		r->pgmap = NULL;	/* deliberately leaked with the pages */
		r->bootpages = false;
		return false;
	}
	if (r->pgmap)
		device_pages_exit(r);
	r->pgmap = NULL;
	r->bootpages = false;
	return true;
}

/**
 * resmem_pages_describe() - say whether a region has pages, for sysfs and the log
 * @r:		the region
 * @buf:	where to write
 * @len:	its size
 *
 * "yes: N pages, up to M KiB of RAM (64 B per 4 KiB page)" (ZONE_DEVICE),
 * "yes: N pages, the boot's own (no extra RAM; 4 KiB entries)" or
 * "no: WHY" (a region turned off by its own choice names where it was
 * made: "no: off (regions= entry 'ENTRY')",
 * "no: off (device tree resmem,pages = "off")").
 *
 * Return: the length written (snprintf()).
 */
int resmem_pages_describe(const struct resmem_region *r, char *buf,
			  size_t len)
{
	if (r->pgmap && r->head)
		return snprintf(buf, len,
				"yes: %llu pages, struct pages in the region's first %llu MiB [mem %#llx-%#llx] (no RAM)",
				r->size >> PAGE_SHIFT, r->head >> 20,
				r->phys - r->head, r->phys - 1);
	if (r->pgmap && r->head_why)
		return snprintf(buf, len,
				"yes: %llu pages, up to %llu KiB of RAM (%zu B per 4 KiB page; not in the region: %s)",
				r->size >> PAGE_SHIFT, pages_cost(r) >> 10,
				sizeof(struct page), r->head_why);
	if (r->pgmap)
		return snprintf(buf, len,
				"yes: %llu pages, up to %llu KiB of RAM (%zu B per 4 KiB page)",
				r->size >> PAGE_SHIFT, pages_cost(r) >> 10,
				sizeof(struct page));
	if (r->bootpages)
		return snprintf(buf, len,
				"yes: %llu pages, the boot's own (no extra RAM; 4 KiB entries)",
				r->size >> PAGE_SHIFT);
	if (r->pages_err)
		return snprintf(buf, len, "no: %s (error %d)", r->nopages,
				r->pages_err);
	/* the entry itself, so a user with several sees which one said so */
	if (r->pages_choice == RESMEM_PAGES_OFF &&
	    r->source == RESMEM_SOURCE_PARAM)
		return snprintf(buf, len, "no: off (regions= entry '%s')",
				r->param);
	return snprintf(buf, len, "no: %s", r->nopages ? r->nopages : "?");
}
