// SPDX-License-Identifier: GPL-2.0
/*
 * resmem: boot-reserved physical memory exposed to user space.
 *
 * Module init: read the parameters, discover memmap= reservations, merge,
 * validate, claim and map each region, and give each a device.  One bad
 * region never stops the good ones; the module loads even with none (so
 * the userspace tools can explain why).
 *
 * While any region is open or mapped the module cannot be unloaded: the
 * file_operations owner pins it, and every VMA holds a file reference.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>

#include "compat.h"
#include "resmem.h"

/* Accepted, claimed regions with devices, ascending by address. */
static LIST_HEAD(resmem_regions);

static void resmem_remove_all(void)
{
	struct resmem_region *r, *tmp;

	list_for_each_entry_safe_reverse(r, tmp, &resmem_regions, node) {
		list_del(&r->node);
		resmem_chardev_del(r);
		resmem_region_release(r);
		resmem_region_free(r);
	}
}

static bool displaced(struct resmem_region *r)
{
	struct resmem_region *o;

	list_for_each_entry(o, &resmem_regions, node) {
		if (o->source == RESMEM_SOURCE_PARAM &&
		    resmem_regions_overlap(r, o)) {
			pr_info(resmem_region_fmt ": replaced by regions= entry '%s' (%s)\n",
				resmem_region_arg(r), o->param, o->name);
			return true;
		}
	}
	return false;
}

/* Validate, claim and add the candidates from regions= (or the others). */
static void __init resmem_add_regions(struct list_head *candidates,
				      bool param, unsigned int *minor)
{
	struct resmem_region *r, *tmp;

	list_for_each_entry_safe(r, tmp, candidates, node) {
		if ((r->source == RESMEM_SOURCE_PARAM) != param)
			continue;
		list_del_init(&r->node);
		if (!param && displaced(r))
			goto skip;
		if (resmem_validate(r, &resmem_regions))
			goto skip;
		if (*minor >= RESMEM_MAX_REGIONS) {
			pr_err(resmem_region_fmt ": refused: more than %u regions; merge adjacent reservations into one\n",
			       resmem_region_arg(r), RESMEM_MAX_REGIONS);
			goto skip;
		}
		if (resmem_region_claim(r))
			goto skip;
		if (resmem_chardev_add(r, *minor)) {
			resmem_region_release(r);
			goto skip;
		}
		(*minor)++;
		list_add_tail(&r->node, &resmem_regions);
		pr_info(resmem_region_fmt ": /dev/resmem/%s, %llu MiB, %s, from %s\n",
			resmem_region_arg(r), r->name, r->size >> 20,
			resmem_cache_name(r->cache),
			r->source == RESMEM_SOURCE_PARAM ? "regions=" :
			"memmap=");
		continue;
skip:
		resmem_region_free(r);
	}
}

static int __init resmem_init(void)
{
	LIST_HEAD(discovered);
	LIST_HEAD(explicit);
	LIST_HEAD(candidates);
	unsigned int minor = 0;
	int ret;

	ret = resmem_params_init();
	if (ret)
		return ret;
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
	 */
	resmem_add_regions(&candidates, true, &minor);
	resmem_add_regions(&candidates, false, &minor);
	if (!minor)
		pr_info("no usable regions; reserve memory at boot with memmap=SIZE$ADDR (or name it with regions=)\n");
	return 0;

free_lists:
	resmem_free_list(&candidates);
	resmem_free_list(&explicit);
	resmem_free_list(&discovered);
	return ret;
}

static void __exit resmem_exit(void)
{
	resmem_remove_all();
	resmem_chardev_exit();
}

module_init(resmem_init);
module_exit(resmem_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Boot-reserved physical memory as /dev/resmem/<name>");
