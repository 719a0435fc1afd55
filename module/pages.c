// SPDX-License-Identifier: GPL-2.0
/*
 * Struct pages for a region: ZONE_DEVICE memory, as device-dax has it.
 *
 * A claimed write-back region gets a struct page for every 4 KiB
 * (memremap_pages(), MEMORY_DEVICE_GENERIC, like drivers/dax), its
 * address_space is marked S_DAX as device-dax marks its inode, and
 * mmap.c maps it with page entries instead of VM_PFNMAP|VM_IO: then
 * get_user_pages()/pin_user_pages() work on a mapping, so O_DIRECT,
 * io_uring and splice can use it as a buffer.  The page metadata costs
 * 64 bytes of RAM per 4 KiB page (sizeof(struct page); less where the
 * kernel shares the memmap of compound pages).
 *
 * A region that cannot have pages keeps today's PFN mapping; why is in
 * its sysfs "pages" attribute and its load log line: pages=0 (the user
 * turned them off), not write-back, not 2 MiB aligned, an architecture
 * or kernel without ZONE_DEVICE for it, or memremap_pages() refused.
 *
 * Teardown never frees pages a user still holds: pins and references
 * taken by O_DIRECT, io_uring or splice outlive munmap() and close().
 * resmem_pages_exit() waits a bounded time for them to go and otherwise
 * keeps the pages, and the claim on the range, for good (logged).
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
	"Give write-back regions struct pages (ZONE_DEVICE), so O_DIRECT, io_uring and splice work on a mapping; costs 64 bytes of RAM per 4 KiB; 0 keeps the PFN mapping (default Y)");

/* How long teardown waits for references to the pages to go. */
#define RESMEM_PAGES_WAIT_MS	5000

/* Why @r cannot have pages, or NULL if it may. */
static const char *pages_refused(const struct resmem_region *r)
{
	if (!pages)
		return "off (module parameter pages=0)";
	if (!IS_ENABLED(CONFIG_ZONE_DEVICE))
		return "this kernel has no ZONE_DEVICE";
	if (!RESMEM_ARCH_PAGES)
		return RESMEM_ARCH_NO_PAGES_WHY;
	if (r->cache != RESMEM_CACHE_WB)
		return "not write-back (pages need cache=wb)";
	if (!IS_ALIGNED(r->phys | r->size, SZ_2M))
		return "not 2 MiB aligned (address and size)";
	return NULL;
}

/* Bytes of RAM the struct pages of @r take, at most. */
static u64 pages_cost(const struct resmem_region *r)
{
	return (r->size >> PAGE_SHIFT) * sizeof(struct page);
}

#if IS_ENABLED(CONFIG_ZONE_DEVICE)
/**
 * resmem_pages_init() - give a claimed region struct pages, if it may have them
 * @r: the region, claimed and mapped for the kernel, without a device yet
 *
 * Never fails the region: one that gets no pages has @r->nopages say why
 * and is mapped by PFN as before.
 */
void resmem_pages_init(struct resmem_region *r)
{
	struct dev_pagemap *pgmap;
	void *addr;
	int nid;

	r->nopages = pages_refused(r);
	if (r->nopages)
		return;
	pgmap = kzalloc(sizeof(*pgmap), GFP_KERNEL);
	if (!pgmap) {
		r->nopages = "out of memory";
		return;
	}
	pgmap->type = MEMORY_DEVICE_GENERIC;
	pgmap->range.start = r->phys;
	pgmap->range.end = r->phys + r->size - 1;
	pgmap->nr_range = 1;
	pgmap->vmemmap_shift = RESMEM_PAGES_SHIFT;
	nid = phys_to_target_node(r->phys);
	if (nid != NUMA_NO_NODE && !node_online(nid))
		nid = NUMA_NO_NODE;
	addr = memremap_pages(pgmap, nid);
	if (IS_ERR(addr)) {
		r->pages_err = PTR_ERR(addr);
		r->nopages = "memremap_pages() refused the range";
		kfree(pgmap);
		return;
	}
	r->pgmap = pgmap;
}

/*
 * Pages (folios) of @r someone still holds: each starts with one reference
 * of its own (MEMORY_DEVICE_GENERIC), a mapping, a pin or a bio adds more.
 */
static unsigned long pages_busy(const struct resmem_region *r)
{
	unsigned long pfn = PHYS_PFN(r->phys);
	unsigned long end = PHYS_PFN(r->phys + r->size);
	unsigned long step = pgmap_vmemmap_nr(r->pgmap);
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
 * If some remain, the pages stay (memunmap_pages() would free them under
 * their user) and so must the claim on the range: logged.
 *
 * Context: process context; sleeps, up to RESMEM_PAGES_WAIT_MS.
 * Return: true if the region has no pages now, false if they were kept.
 */
bool resmem_pages_exit(struct resmem_region *r)
{
	unsigned long busy;
	unsigned int waited = 0;

	if (!r->pgmap)
		return true;
	while ((busy = pages_busy(r)) && waited < RESMEM_PAGES_WAIT_MS) {
		msleep(100);
		waited += 100;
	}
	if (busy) {
		pr_warn(resmem_region_fmt ": %lu of its pages are still in use %u ms after the last mapping went (an O_DIRECT, io_uring or splice user holds them); keeping its struct pages and its claim on the range until reboot\n",
			resmem_region_arg(r), busy, waited);
		r->pgmap = NULL;	/* deliberately leaked with the pages */
		return false;
	}
	memunmap_pages(r->pgmap);
	kfree(r->pgmap);
	r->pgmap = NULL;
	return true;
}
#else
void resmem_pages_init(struct resmem_region *r)
{
	r->nopages = pages_refused(r);
}

bool resmem_pages_exit(struct resmem_region *r)
{
	return true;
}
#endif

/**
 * resmem_pages_describe() - say whether a region has pages, for sysfs and the log
 * @r:		the region
 * @buf:	where to write
 * @len:	its size
 *
 * "yes: N pages, up to M KiB of RAM (64 B per 4 KiB page)" or "no: WHY".
 *
 * Return: the length written (snprintf()).
 */
int resmem_pages_describe(const struct resmem_region *r, char *buf,
			  size_t len)
{
	if (r->pgmap)
		return snprintf(buf, len,
				"yes: %llu pages, up to %llu KiB of RAM (%zu B per 4 KiB page)",
				r->size >> PAGE_SHIFT, pages_cost(r) >> 10,
				sizeof(struct page));
	if (r->pages_err)
		return snprintf(buf, len, "no: %s (error %d)", r->nopages,
				r->pages_err);
	return snprintf(buf, len, "no: %s", r->nopages ? r->nopages : "?");
}
