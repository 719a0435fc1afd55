// SPDX-License-Identifier: GPL-2.0
/*
 * Zero-config discovery of memmap=SIZE$ADDR reservations.
 *
 * memmap=SIZE$ADDR turns the RAM in that range into E820 "Reserved",
 * shown as a top-level "Reserved" entry in /proc/iomem.  Firmware
 * reservations, and RAM the kernel itself reserves for EFI tables, look
 * the same there; only the command line tells them apart (cmdline.c).  So
 * a candidate is every part of a top-level Reserved entry that a memmap=$
 * word of the command line covers: what the user asked for and the kernel
 * really reserved.  Other Reserved ranges are never taken.  A memmap=$
 * range the kernel did not reserve in full (a hole, the PCI window, below
 * 1 MiB, the kernel image) is refused whole, with the reason.
 *
 * Candidates are named region0, region1, ... in ascending address order
 * (region.c).  Adjacent memmap= ranges merge into one region, as their
 * E820 entries do.
 *
 * What we cannot see: a memmap=SIZE$ADDR whose '$' GRUB swallowed (the
 * kernel then gets "memmap=SIZEADDR" or similar and reserves nothing).
 * The userspace "resmem check" warns about a memmap= with none of "$!#@".
 *
 * Below 1 MiB the kernel itself turns RAM into Reserved (BIOS data, the
 * first page), so discovery starts at 1 MiB.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ioport.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/sizes.h>

#include "resmem-arch.h"
#include "resmem-private.h"

struct discover_ctx {
	struct list_head *out;
	bool count_only;		/* first pass: fill @covered only */
	u64 covered[RESMEM_MEMMAP_MAX];	/* bytes of each memmap=$ range reserved */
	int err;
};

/* The whole pages of memmap=$ range @i: what a region of it can cover. */
static u64 span_pages(const struct resmem_memmap *m, unsigned int i)
{
	u64 lo = PAGE_ALIGN(m->span[i].start), hi = m->span[i].end & PAGE_MASK;

	return hi > lo ? hi - lo : 0;
}

/* Every part of one top-level Reserved entry that memmap=$ covers. */
static int discover_one(struct resource *res, void *arg)
{
	const struct resmem_memmap *m = resmem_memmap();
	struct discover_ctx *ctx = arg;
	struct resmem_region *r;
	u64 start, end, lo, hi;
	bool taken = false;
	unsigned int i;

	/* Only top-level entries come from the E820 table. */
	if (res->parent != &iomem_resource)
		return 0;

	start = max_t(u64, PAGE_ALIGN(res->start), SZ_1M);
	end = ((u64)res->end + 1) & PAGE_MASK;
	if (res->end == (resource_size_t)~0ULL || start >= end)
		return 0;

	for (i = 0; i < m->n; i++) {
		lo = PAGE_ALIGN(max(start, m->span[i].start));
		hi = min(end, m->span[i].end) & PAGE_MASK;
		if (lo >= hi)
			continue;
		taken = true;
		if (ctx->count_only) {
			ctx->covered[i] += hi - lo;
			continue;
		}
		/* all or nothing: a range the kernel reserved only in part
		 * is not what the user asked for (reported, never a region) */
		if (ctx->covered[i] < span_pages(m, i))
			continue;
		r = resmem_region_alloc(lo, hi - lo, RESMEM_SOURCE_CMDLINE);
		if (!r) {
			ctx->err = -ENOMEM;
			return ctx->err;
		}
		r->memmap = true;
		list_add_tail(&r->node, ctx->out);
	}
	if (!taken && ctx->count_only)
		pr_debug("[mem %#018llx-%#018llx]: Reserved, but not by memmap=$ on the command line (firmware or kernel reservation): ignored\n",
			 (u64)res->start, (u64)res->end);
	return 0;
}

/*
 * memmap=$ ranges the kernel did not reserve in full, refused whole with
 * the first cause found: below 1 MiB; not RAM to the firmware (inside the
 * PCI window memmap=$'s Reserved entry sits under the PCI bus, not at the
 * top level); the kernel keeping part as RAM (its image).
 */
static void discover_report_untaken(const struct discover_ctx *ctx)
{
	const struct resmem_memmap *m = resmem_memmap();
	unsigned int i;

	for (i = 0; i < m->n; i++) {
		u64 start = m->span[i].start, end = m->span[i].end;
		u64 size = span_pages(m, i), bad;
		const char *what = "";
		char why[200];

		if (size && ctx->covered[i] >= size)
			continue;
		/* the first cause found, in the order the kernel applies them */
		if (start < SZ_1M)
			snprintf(why, sizeof(why), "below 1 MiB the BIOS and the kernel keep their own data");
		else if (!resmem_fwmap()->err &&
			 (bad = resmem_fwmap_not_ram(start, end, &what)) != U64_MAX)
			snprintf(why, sizeof(why), "%#llx is not RAM in the firmware's memory map (%s there: a hole, the PCI window or beyond the end of RAM)",
				 bad, what);
		else if (region_intersects(start, end - start, IORESOURCE_SYSTEM_RAM,
					   IORES_DESC_NONE) != REGION_DISJOINT)
			snprintf(why, sizeof(why), "the kernel kept part of it as System RAM (its own image, or memory it reserved earlier; with KASLR make it one of the first four memmap= words or boot with nokaslr)");
		else
			snprintf(why, sizeof(why), "the rest is not a Reserved range of its own in /proc/iomem");
		pr_warn("memmap=%#llx$%#llx [mem %#018llx-%#018llx]: refused: the kernel reserved %llu of its %llu KiB: %s; check /sys/firmware/memmap and /proc/iomem and move the range into System RAM\n",
			end - start, start, start, end - 1,
			ctx->covered[i] >> 10, size >> 10, why);
	}
}

/**
 * resmem_discover() - find memmap=SIZE$ADDR reservations
 * @out: list to append candidates to (source RESMEM_SOURCE_CMDLINE),
 *	 in ascending address order
 *
 * Return: 0 or -ENOMEM.  Finding nothing is not an error.
 */
int resmem_discover(struct list_head *out)
{
	struct discover_ctx ctx = { .out = out };

	if (!resmem_discover_enabled)
		return 0;
	if (!RESMEM_HAVE_MEMMAP) {
		pr_info("automatic discovery is for memmap= (x86); name regions with regions= or use a device tree node\n");
		return 0;
	}
	ctx.count_only = true;
	walk_iomem_res_desc(IORES_DESC_RESERVED, IORESOURCE_MEM, 0, U64_MAX,
			    &ctx, discover_one);
	discover_report_untaken(&ctx);
	ctx.count_only = false;
	walk_iomem_res_desc(IORES_DESC_RESERVED, IORESOURCE_MEM, 0, U64_MAX,
			    &ctx, discover_one);
	return ctx.err;
}
