// SPDX-License-Identifier: GPL-2.0
/*
 * Zero-config discovery of memmap=SIZE$ADDR reservations.
 *
 * Modules cannot read the kernel command line (saved_command_line is not
 * exported), so we recognise the reservations by their effect instead:
 * memmap=SIZE$ADDR turns RAM into an E820 "Reserved" range.  The kernel's
 * table shows it as a top-level "Reserved" entry in /proc/iomem while the
 * firmware's own table (e820_table_firmware, which memmap= does not edit)
 * still calls it RAM.  Every firmware-RAM run inside a top-level Reserved
 * entry is therefore a user reservation and becomes a candidate; the parts
 * the firmware itself reserved are left alone.
 *
 * Candidates are named region0, region1, ... in ascending address order
 * (region.c).  For the usual command lines, with memmap= entries listed
 * in ascending address order, that is command-line order too.
 *
 * What we cannot see: a memmap=SIZE$ADDR whose '$' GRUB swallowed (the
 * kernel then gets "memmap=SIZEADDR" or similar and reserves nothing).
 * Only the command line shows that; the userspace "resmem check" reads
 * /proc/cmdline and warns about a memmap= with none of "$!#@".
 *
 * Below 1 MiB the kernel itself turns RAM into Reserved (BIOS data, the
 * first page), so discovery starts at 1 MiB.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ioport.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/sizes.h>

#include "compat.h"
#include "resmem.h"

struct discover_ctx {
	struct list_head *out;
	int err;
};

static void discover_run(struct discover_ctx *ctx, u64 start, u64 end,
			 enum resmem_fw_type type, u64 res_start, u64 res_end)
{
	struct resmem_region *r;

	switch (type) {
	case RESMEM_FW_RAM:
		r = resmem_region_alloc(start, end - start,
					RESMEM_SOURCE_CMDLINE);
		if (!r) {
			ctx->err = -ENOMEM;
			return;
		}
		r->fw_ram = true;
		list_add_tail(&r->node, ctx->out);
		break;
	case RESMEM_FW_HOLE:
		pr_warn("[mem %#018llx-%#018llx] in Reserved [mem %#018llx-%#018llx] is not memory at all in the firmware map (memmap= beyond installed RAM?): ignored; check /sys/firmware/memmap and fix memmap=\n",
			start, end - 1, res_start, res_end);
		break;
	case RESMEM_FW_OTHER:
		pr_debug("[mem %#018llx-%#018llx]: reserved by firmware, not by memmap=: ignored\n",
			 start, end - 1);
		break;
	}
}

/* Split one top-level Reserved entry into runs of one firmware type. */
static int discover_one(struct resource *res, void *arg)
{
	struct discover_ctx *ctx = arg;
	u64 start, end, run, p;
	enum resmem_fw_type type = RESMEM_FW_RAM, t;

	/* Only top-level entries come from the E820 table. */
	if (res->parent != &iomem_resource)
		return 0;

	start = max_t(u64, PAGE_ALIGN(res->start), SZ_1M);
	end = ((u64)res->end + 1) & PAGE_MASK;
	if (res->end == (resource_size_t)~0ULL || start >= end)
		return 0;

	for (run = p = start; p < end; p += PAGE_SIZE) {
		t = resmem_fw_page_type(p);
		if (p == start) {
			type = t;
		} else if (t != type) {
			discover_run(ctx, run, p, type, res->start, res->end);
			run = p;
			type = t;
		}
		if (!(p & (SZ_64M - 1)))
			cond_resched();
	}
	discover_run(ctx, run, end, type, res->start, res->end);
	return ctx->err;
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
	if (!RESMEM_HAVE_FW_MAP) {
		pr_info("automatic discovery needs the x86 firmware memory map; name regions with regions=\n");
		return 0;
	}
	walk_iomem_res_desc(IORES_DESC_RESERVED, IORESOURCE_MEM, 0, U64_MAX,
			    &ctx, discover_one);
	return ctx.err;
}
