// SPDX-License-Identifier: GPL-2.0
/*
 * resmem: boot-reserved physical memory exposed to user space.
 *
 * Module init: read the parameters, discover memmap= reservations, merge,
 * validate, claim and map each region, and give each a device; then bind
 * the device tree's "resmem,region" nodes (of.c), whose regions take the
 * same path through resmem_region_add() into the registry (registry.c).
 * One bad region never stops the good ones; the module loads even with
 * none (so the userspace tools can explain why).
 *
 * While any region is open, mapped or producing the module cannot be
 * unloaded: the file_operations owner pins it, every VMA holds a file
 * reference and every in-kernel producer a module reference.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>

#include "resmem-arch.h"
#include "resmem-private.h"

/* Register the candidates from regions= (or the others); logged each. */
static void __init resmem_add_regions(struct list_head *candidates,
				      bool param)
{
	struct resmem_region *r, *tmp;

	list_for_each_entry_safe(r, tmp, candidates, node) {
		if ((r->source == RESMEM_SOURCE_PARAM) != param)
			continue;
		list_del_init(&r->node);
		resmem_region_add(r);
	}
}

static int __init resmem_init(void)
{
	LIST_HEAD(discovered);
	LIST_HEAD(explicit);
	LIST_HEAD(candidates);
	int ret;

	ret = resmem_params_init();
	if (ret)
		return ret;
	if (RESMEM_HAVE_MEMMAP) {
		resmem_memmap_load();
		resmem_fwmap_load();
	}
	ret = resmem_parse_regions(&explicit);
	if (ret)
		goto free_lists;
	ret = resmem_discover(&discovered);
	if (ret)
		goto free_lists;
	resmem_merge_candidates(&discovered, &explicit, &candidates);

	ret = resmem_chardev_init();
	if (ret)
		goto free_lists;

	/*
	 * Explicit regions first, so that an accepted one displaces the
	 * discovered regions it overlaps and a refused one displaces nothing.
	 * Device-tree regions come last: an accepted regions= entry wins over
	 * a node it overlaps too (the node is refused as an overlap).
	 */
	resmem_add_regions(&candidates, true);
	resmem_add_regions(&candidates, false);
	ret = resmem_of_init();
	if (ret)
		goto remove_regions;
	if (resmem_regions_empty())
		pr_info("no usable regions; reserve memory at boot with memmap=SIZE$ADDR (x86) or a /reserved-memory node with compatible = \"resmem,region\" (device tree), or name it with regions=\n");
	return 0;

remove_regions:
	resmem_regions_remove_all();
	resmem_chardev_exit();
free_lists:
	resmem_free_list(&candidates);
	resmem_free_list(&explicit);
	resmem_free_list(&discovered);
	return ret;
}

static void __exit resmem_exit(void)
{
	resmem_of_exit();
	resmem_regions_remove_all();
	resmem_chardev_exit();
}

module_init(resmem_init);
module_exit(resmem_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Boot-reserved physical memory as /dev/resmem/<name>");
MODULE_VERSION(RESMEM_VERSION);
