// SPDX-License-Identifier: GPL-2.0
/*
 * resmem: boot-reserved physical memory exposed to user space.
 *
 * Module init: read the parameters, discover memmap= reservations, merge,
 * validate, claim and map each region, and give each a device; then bind
 * the device tree's "resmem,region" nodes (of.c), whose regions take the
 * same path through resmem_region_add().  One bad
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
#include <linux/mutex.h>
#include <linux/string.h>

#include "compat.h"
#include "resmem-private.h"
#include "ring.h"

/*
 * Accepted, claimed regions with devices: regions= and memmap= ones in
 * ascending address order, then device-tree ones in probe order.  The
 * mutex also covers resmem_next_minor; probes (of.c) can run after init.
 */
static LIST_HEAD(resmem_regions);
static DEFINE_MUTEX(resmem_lock);
static unsigned int resmem_next_minor;

static const char *source_text(const struct resmem_region *r)
{
	switch (r->source) {
	case RESMEM_SOURCE_PARAM:
		return "regions=";
	case RESMEM_SOURCE_DEVICETREE:
		return "the device tree";
	default:
		return "memmap=";
	}
}

static void resmem_remove_all(void)
{
	struct resmem_region *r, *tmp;

	list_for_each_entry_safe_reverse(r, tmp, &resmem_regions, node) {
		list_del(&r->node);
		resmem_producer_region_del(r);
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

static bool name_in_use(const char *name)
{
	struct resmem_region *o;

	list_for_each_entry(o, &resmem_regions, node)
		if (!strcmp(o->name, name))
			return true;
	return false;
}

/* Validate, claim and give a device to one candidate; lock held. */
static int add_region_locked(struct resmem_region *r)
{
	int ret;

	if (name_in_use(r->name)) {
		resmem_refuse(r, "the name %s is taken by another region; give each region its own name (label)",
			      r->name);
		return -EEXIST;
	}
	ret = resmem_validate(r, &resmem_regions);
	if (ret)
		return ret;
	if (resmem_next_minor >= RESMEM_MAX_REGIONS) {
		resmem_refuse(r, "more than %u regions; merge adjacent reservations into one",
			      RESMEM_MAX_REGIONS);
		return -ENOSPC;
	}
	ret = resmem_region_claim(r);
	if (ret)
		return ret;
	ret = resmem_chardev_add(r, resmem_next_minor);
	if (ret) {
		resmem_region_release(r);
		return ret;
	}
	resmem_next_minor++;
	list_add_tail(&r->node, &resmem_regions);
	if (resmem_producer_region_add(r))
		pr_warn(resmem_region_fmt ": out of memory: not available to in-kernel producers\n",
			resmem_region_arg(r));
	pr_info(resmem_region_fmt ": /dev/resmem/%s, %llu MiB, %s%s, from %s\n",
		resmem_region_arg(r), r->name, r->size >> 20,
		resmem_cache_name(r->cache), r->readonly ? ", read-only" : "",
		source_text(r));
	return 0;
}

/**
 * resmem_region_add() - validate, claim and expose one candidate region
 * @r: a named candidate, on no list
 *
 * On failure (logged) @r is freed.
 *
 * Return: 0 if /dev/resmem/NAME exists now, else a negative errno.
 */
int resmem_region_add(struct resmem_region *r)
{
	int ret;

	mutex_lock(&resmem_lock);
	ret = add_region_locked(r);
	mutex_unlock(&resmem_lock);
	if (ret)
		resmem_region_free(r);
	return ret;
}

/**
 * resmem_region_remove() - undo resmem_region_add() and free the region
 * @r: a region added with resmem_region_add(); nothing may have it open
 */
void resmem_region_remove(struct resmem_region *r)
{
	mutex_lock(&resmem_lock);
	list_del(&r->node);
	mutex_unlock(&resmem_lock);
	resmem_producer_region_del(r);
	resmem_chardev_del(r);
	resmem_region_release(r);
	resmem_region_free(r);
}

/* Validate, claim and add the candidates from regions= (or the others). */
static void __init resmem_add_regions(struct list_head *candidates,
				      bool param)
{
	struct resmem_region *r, *tmp;

	list_for_each_entry_safe(r, tmp, candidates, node) {
		if ((r->source == RESMEM_SOURCE_PARAM) != param)
			continue;
		list_del_init(&r->node);
		if (!param && displaced(r)) {
			resmem_region_free(r);
			continue;
		}
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
	if (RESMEM_HAVE_MEMMAP)
		resmem_memmap_load();
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
	if (!resmem_next_minor)
		pr_info("no usable regions; reserve memory at boot with memmap=SIZE$ADDR (x86) or a /reserved-memory node with compatible = \"resmem,region\" (device tree), or name it with regions=\n");
	return 0;

remove_regions:
	resmem_remove_all();
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
	resmem_remove_all();
	resmem_chardev_exit();
}

module_init(resmem_init);
module_exit(resmem_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Boot-reserved physical memory as /dev/resmem/<name>");
MODULE_VERSION(RESMEM_VERSION);
