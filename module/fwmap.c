// SPDX-License-Identifier: GPL-2.0
/*
 * The firmware's memory map, as /sys/firmware/memmap publishes it (x86).
 *
 * memmap=SIZE$ADDR marks its range Reserved in the kernel's E820 table
 * whatever is there: RAM, the ISA hole, the PCI window, or nothing at all
 * beyond the end of RAM.  /proc/iomem then shows a top-level Reserved
 * entry either way; only the firmware's own table (e820_table_firmware)
 * still says where the RAM is.  Modules cannot read that table (from 7.x
 * e820__mapped_raw_any() is exported to KVM only), but
 * drivers/firmware/memmap.c publishes it in sysfs, read here the way
 * cmdline.c reads /proc/cmdline: by the process loading the module.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "resmem-private.h"

#define FWMAP_DIR	"/sys/firmware/memmap"

static struct resmem_fwmap fwmap;

/* One sysfs attribute of entry @i, NUL-terminated, the newline removed. */
static int fwmap_read_attr(unsigned int i, const char *attr, char *buf,
			   size_t len)
{
	char path[64];
	struct file *f;
	loff_t pos = 0;
	ssize_t n;

	snprintf(path, sizeof(path), FWMAP_DIR "/%u/%s", i, attr);
	f = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_read(f, buf, len - 1, &pos);
	filp_close(f, NULL);
	if (n < 0)
		return n;
	buf[n] = '\0';
	strim(buf);
	return 0;
}

static int fwmap_cmp(const void *a, const void *b)
{
	const struct resmem_fwmap_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Entry @i into @e; -ENOENT after the last one. */
static int fwmap_read_entry(unsigned int i, struct resmem_fwmap_entry *e)
{
	char num[24];
	u64 last;
	int ret;

	ret = fwmap_read_attr(i, "start", num, sizeof(num));
	if (ret)
		return ret;
	ret = kstrtou64(num, 0, &e->start);
	if (ret)
		return ret;
	ret = fwmap_read_attr(i, "end", num, sizeof(num));
	if (ret)
		return ret;
	ret = kstrtou64(num, 0, &last);	/* inclusive */
	if (ret)
		return ret;
	if (last < e->start)
		return -EINVAL;
	e->end = last == U64_MAX ? U64_MAX : last + 1;
	return fwmap_read_attr(i, "type", e->type, sizeof(e->type));
}

/**
 * resmem_fwmap_load() - read the firmware's memory map from sysfs
 *
 * Called once at module load, in the loading process's context.  Failing
 * is not fatal here: resmem_fwmap() reports the error and the validation
 * of memmap= regions refuses them with it.
 */
void resmem_fwmap_load(void)
{
	struct resmem_fwmap_entry e;
	unsigned int i;
	int ret = 0;

	memset(&fwmap, 0, sizeof(fwmap));
	for (i = 0; ; i++) {
		ret = fwmap_read_entry(i, &e);
		if (ret)
			break;
		if (fwmap.n == ARRAY_SIZE(fwmap.entry)) {
			ret = -E2BIG;
			break;
		}
		fwmap.entry[fwmap.n++] = e;
	}
	if (ret == -ENOENT && i > 0)
		ret = 0;
	fwmap.err = ret;
	if (ret) {
		pr_warn("cannot read the firmware's memory map from " FWMAP_DIR " (entry %u: error %d): memmap= ranges cannot be checked for RAM and are refused; load resmem with /sys mounted\n",
			i, ret);
		return;
	}
	sort(fwmap.entry, fwmap.n, sizeof(fwmap.entry[0]), fwmap_cmp, NULL);
}

/**
 * resmem_fwmap() - the firmware's map read by resmem_fwmap_load()
 *
 * Return: its entries in ascending order; @err says why there are none.
 */
const struct resmem_fwmap *resmem_fwmap(void)
{
	return &fwmap;
}

/**
 * resmem_fwmap_not_ram() - first byte of a range the firmware says is not RAM
 * @start:	first byte
 * @end:	one past the last byte
 * @what:	set to what the firmware's map has there: an entry's type
 *		("Reserved", "ACPI Tables", ...) or "no entry"
 *
 * Return: the lowest address in [@start, @end) that no "System RAM" entry
 * of the firmware's map covers, or U64_MAX if all of it is System RAM.
 */
u64 resmem_fwmap_not_ram(u64 start, u64 end, const char **what)
{
	unsigned int i;

	for (i = 0; i < fwmap.n && start < end; i++) {
		const struct resmem_fwmap_entry *e = &fwmap.entry[i];

		if (e->end <= start)
			continue;
		if (e->start > start)
			break;			/* a gap in the map */
		if (strcmp(e->type, "System RAM")) {
			*what = e->type;
			return start;
		}
		start = e->end;
	}
	if (start >= end)
		return U64_MAX;
	*what = "no entry";
	return start;
}
