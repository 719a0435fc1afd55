// SPDX-License-Identifier: GPL-2.0
/*
 * Validation of candidate regions before anything is claimed or mapped.
 *
 * Each refusal is one log line:
 *   resmem: NAME [mem START-END]: refused: RULE; WHAT TO DO INSTEAD
 * and refusing one region never affects the others.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/sizes.h>

#include "resmem-arch.h"
#include "resmem-private.h"

static void refuse_va(const char *what, const char *fmt, va_list *args)
{
	struct va_format vaf = { .fmt = fmt, .va = args };

	pr_err("%s: refused: %pV\n", what, &vaf);
}

/**
 * resmem_refuse_as() - log why something is not used as a region
 * @what:	what is refused, e.g. "NAME (/reserved-memory/node@0)"
 * @fmt:	the rule broken, then "; " and what to do instead
 *
 * Every refusal is this one line: "resmem: WHAT: refused: RULE; WHAT TO DO".
 */
void resmem_refuse_as(const char *what, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	refuse_va(what, fmt, &args);
	va_end(args);
}

/**
 * resmem_refuse() - log why a candidate region is not used
 * @r:		the candidate, named already
 * @fmt:	the rule broken, then "; " and what to do instead
 *
 * resmem_refuse_as() with "NAME [mem START-END]" as what is refused, or
 * "NAME [mem START, size SIZE]" when the range is empty or wraps.
 */
void resmem_refuse(const struct resmem_region *r, const char *fmt, ...)
{
	char what[RESMEM_WHAT_MAX];
	va_list args;
	u64 last;

	if (!r->size)
		snprintf(what, sizeof(what), "%s [mem %#018llx, size 0]",
			 r->name, r->phys);
	else if (check_add_overflow(r->phys, r->size - 1, &last))
		snprintf(what, sizeof(what), "%s [mem %#018llx, size %#llx]",
			 r->name, r->phys, r->size);
	else
		snprintf(what, sizeof(what), resmem_region_fmt,
			 resmem_region_arg(r));
	va_start(args, fmt);
	refuse_va(what, fmt, &args);
	va_end(args);
}

struct busy_ctx {
	u64 start;
	u64 end;
	unsigned long flags;
	bool found;
};

static int busy_found(struct resource *res, void *arg)
{
	struct busy_ctx *ctx = arg;

	ctx->start = res->start;
	ctx->end = res->end;
	ctx->flags = res->flags;
	ctx->found = true;
	return 1;	/* the first one is enough */
}

/* The first page in [start, start + size) the page allocator may own. */
static u64 first_unreserved_page(u64 start, u64 size)
{
	u64 p;

	for (p = start; p - start < size; p += PAGE_SIZE) {
		unsigned long pfn = PHYS_PFN(p);

		if (!pfn_valid(pfn) || !PageReserved(pfn_to_page(pfn)))
			return p;
		if (!(p & (SZ_64M - 1)))
			cond_resched();
	}
	return U64_MAX;
}

/*
 * A /reserved-memory region the kernel accepted at boot is one of:
 *  - no-map: memblock took it out of the linear map; /proc/iomem shows
 *    it as a top-level "reserved" entry (IORES_DESC_RESERVED), like an
 *    x86 memmap= range, and it is claimed the same way;
 *  - without no-map: still System RAM in the linear map, kept from the
 *    page allocator by memblock_reserve() (every page PageReserved) and
 *    shown as a "reserved" child of System RAM.
 * The kernel saves a node even when its reservation failed, and does not
 * check a region against /memory or (without no-map) against the kernel
 * image or the initrd, which the kernel frees after boot: all of that is
 * checked here, except the kernel image of a region without no-map,
 * which region.c finds when it claims the range.
 */
static int validate_dt(struct resmem_region *r, u64 last)
{
	struct busy_ctx busy = {};
	u64 bad;
	int ret;

	if (r->reusable) {
		resmem_refuse(r, "node %s is 'reusable': the kernel lends that memory to the page allocator (CMA), so it is not ours to hand out%s; remove 'reusable' from the node",
			      r->node_name, r->linear ? "" :
			      " (and 'reusable' with 'no-map' contradict each other)");
		return -EINVAL;
	}

	ret = region_intersects(r->phys, r->size, IORESOURCE_SYSTEM_RAM,
				IORES_DESC_NONE);
	if (!r->linear) {
		if (ret != REGION_DISJOINT) {
			resmem_refuse(r, "node %s says no-map but the range %s System RAM: the kernel did not take it out of the linear map (look for 'failed to reserve memory' in the boot log: it overlaps the kernel or another reservation); move the region to free RAM",
				      r->node_name,
				      ret == REGION_INTERSECTS ? "is" : "overlaps");
			return -EINVAL;
		}
		ret = resmem_reserved_intersects(r->phys, r->size);
		if (ret != REGION_INTERSECTS) {
			resmem_refuse(r, "node %s: %s the memory the /memory nodes describe (see /proc/iomem); put the region inside RAM",
				      r->node_name, ret == REGION_DISJOINT ?
				      "not inside" : "only partly inside");
			return -EINVAL;
		}
		walk_iomem_res_desc(IORES_DESC_NONE, IORESOURCE_BUSY, r->phys,
				    last, &busy, busy_found);
		if (busy.found) {
			resmem_refuse(r, "node %s: [mem %#018llx-%#018llx] inside it is in use (flags %#lx; see /proc/iomem); use a range nothing else claims",
				      r->node_name, busy.start, busy.end, busy.flags);
			return -EINVAL;
		}
		return 0;
	}

	if (ret != REGION_INTERSECTS) {
		resmem_refuse(r, "node %s: %s System RAM (the memory the /memory nodes describe); put the region inside RAM",
			      r->node_name, ret == REGION_DISJOINT ?
			      "not inside" : "only partly inside");
		return -EINVAL;
	}
	/* The kernel image (PageReserved too) is refused by the claim. */
	bad = first_unreserved_page(r->phys, r->size);
	if (bad != U64_MAX) {
		resmem_refuse(r, "node %s: page at %#llx belongs to the page allocator (the boot did not reserve it, or the kernel freed it after boot: its init sections or the initrd); move the region to RAM nothing else uses",
			      r->node_name, bad);
		return -EINVAL;
	}
	if (r->cache != RESMEM_CACHE_WB) {
		resmem_refuse(r, "node %s: %s needs no-map: without it the region stays in the kernel's write-back linear map and a second, %s mapping would alias it; add no-map to the node or use resmem,cache = \"write-back\"",
			      r->node_name, resmem_cache_name(r->cache),
			      resmem_cache_name(r->cache));
		return -EINVAL;
	}
	return 0;
}

/**
 * resmem_validate() - decide whether a candidate region may be used
 * @r:		the candidate, named already
 * @accepted:	regions accepted so far (struct resmem_region.node)
 *
 * Logs one line explaining the refusal, if any.
 *
 * Return: 0 if @r may be claimed, -EINVAL if it is refused.
 */
int resmem_validate(struct resmem_region *r, struct list_head *accepted)
{
	unsigned int bits = resmem_phys_bits();
	struct resmem_region *o;
	struct resmem_efi_range efi;
	struct busy_ctx busy = {};
	u64 last, bad;
	int ret;

	if (!r->size) {
		resmem_refuse(r, "zero size; give a SIZE of at least one page (%lu bytes)",
			      PAGE_SIZE);
		return -EINVAL;
	}
	if (check_add_overflow(r->phys, r->size - 1, &last)) {
		resmem_refuse(r, "start + size overflows 64 bits; check SIZE and ADDR");
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(r->phys) || !PAGE_ALIGNED(r->size)) {
		resmem_refuse(r, "start and size must be multiples of the page size (%lu bytes); round ADDR and SIZE to %lu",
			      PAGE_SIZE, PAGE_SIZE);
		return -EINVAL;
	}
	if (bits < 64 && last >> bits) {
		resmem_refuse(r, "beyond the %u physical address bits of this CPU (highest address %#llx); use an address below that",
			      bits, (1ULL << bits) - 1);
		return -EINVAL;
	}
	/* An x86 rule (BIOS data); arm64 boards may well have RAM at 0. */
	if (r->phys < SZ_1M && r->source != RESMEM_SOURCE_DEVICETREE) {
		resmem_refuse(r, "below 1 MiB, where the BIOS and the kernel keep their own data; use an address at or above 1 MiB (ideally above 4 GiB)");
		return -EINVAL;
	}
	list_for_each_entry(o, accepted, node) {
		if (resmem_ranges_overlap(r->phys, r->size, o->phys, o->size)) {
			resmem_refuse(r, "overlaps region %s [mem %#018llx-%#018llx]; make the regions disjoint",
				      o->name, o->phys, o->phys + o->size - 1);
			return -EINVAL;
		}
	}

	/* Whatever the source: what the UEFI firmware still uses is not ours. */
	if (resmem_efi_in_use(r->phys, r->phys + r->size, &efi)) {
		resmem_refuse(r, "[mem %#018llx-%#018llx] inside it is UEFI firmware memory (EFI memory type %u%s: the kernel calls into it while the machine runs); move the region out of it (boot with efi=debug to see the EFI memory map)",
			      efi.start, efi.end - 1, efi.type,
			      efi.runtime ? ", runtime" : "");
		return -EINVAL;
	}

	if (r->source == RESMEM_SOURCE_DEVICETREE)
		return validate_dt(r, last);

	/*
	 * memmap=$ reserves address space whether or not RAM is there: in the
	 * ISA or PCI hole, or past the end of RAM, the kernel shows the same
	 * Reserved entry.  Only the firmware's map still tells.  (A range
	 * memmap=$ did not reserve is refused below, for that.)
	 */
	if (RESMEM_HAVE_MEMMAP &&
	    (r->memmap ||
	     resmem_memmap_uncovered(r->phys, r->phys + r->size) == U64_MAX)) {
		const char *what = "";

		if (resmem_fwmap()->err) {
			resmem_refuse(r, "cannot tell whether it is RAM: the firmware's memory map could not be read (/sys/firmware/memmap: error %d); load resmem with /sys mounted",
				      resmem_fwmap()->err);
			return -EINVAL;
		}
		bad = resmem_fwmap_not_ram(r->phys, r->phys + r->size, &what);
		if (bad != U64_MAX) {
			resmem_refuse(r, "%#llx is not RAM in the firmware's memory map (%s there: a hole, the PCI window, firmware data or beyond the end of RAM; see /sys/firmware/memmap); memmap=$ reserves address space, RAM or not: move the range into System RAM ('resmem plan --size SIZE' finds one)",
				      bad, what);
			return -EINVAL;
		}
	}

	/* In use by the kernel as ordinary memory? */
	ret = region_intersects(r->phys, r->size, IORESOURCE_SYSTEM_RAM,
				IORES_DESC_NONE);
	if (ret != REGION_DISJOINT) {
		resmem_refuse(r, "%s System RAM the kernel is using; reserve it at boot with memmap=%lluK$%#llx (quote the '$' for GRUB) or pick a Reserved range from /proc/iomem",
			      ret == REGION_INTERSECTS ? "is" : "overlaps",
			      r->size >> 10, r->phys);
		return -EINVAL;
	}

	/* Fully inside Reserved entries, so not MMIO, a PCI window or a hole. */
	ret = resmem_reserved_intersects(r->phys, r->size);
	if (ret != REGION_INTERSECTS) {
		resmem_refuse(r, "%s; only memory reserved at boot with memmap=SIZE$ADDR can be used (see /proc/iomem)",
			      ret == REGION_DISJOINT ?
			      "not in any Reserved range (device MMIO, PCI window or no memory there)" :
			      "only partly in a Reserved range, the rest is device MMIO, a PCI window or no memory");
		return -EINVAL;
	}

	/*
	 * Nothing else may live inside: kernel code/data (KASLR can place the
	 * kernel inside a large memmap= range), Crash kernel, ACPI tables or
	 * another driver all show up as busy resources.
	 */
	walk_iomem_res_desc(IORES_DESC_NONE, IORESOURCE_BUSY, r->phys, last,
			    &busy, busy_found);
	if (busy.found) {
		resmem_refuse(r, "[mem %#018llx-%#018llx] inside it is in use (flags %#lx: kernel image, crash kernel, firmware tables or another driver; see /proc/iomem); use a range nothing else claims",
			      busy.start, busy.end, busy.flags);
		return -EINVAL;
	}

	/*
	 * Only what the command line reserved with memmap=$ is the user's:
	 * never a firmware or EFI reservation.  Discovery took its candidates
	 * from the memmap=$ ranges already.
	 */
	if (!RESMEM_HAVE_MEMMAP || r->memmap)
		return 0;
	if (resmem_memmap()->err) {
		resmem_refuse(r, "cannot tell whether memmap=$ reserved it: the kernel command line could not be read (/proc/cmdline: error %d); load resmem with /proc mounted",
			      resmem_memmap()->err);
		return -EINVAL;
	}
	bad = resmem_memmap_uncovered(r->phys, r->phys + r->size);
	if (bad != U64_MAX) {
		resmem_refuse(r, "page at %#llx is not in a memmap=SIZE$ADDR range of the kernel command line (a firmware or EFI reservation, not the user's); use only ranges memmap=$ reserved",
			      bad);
		return -EINVAL;
	}
	return 0;
}
