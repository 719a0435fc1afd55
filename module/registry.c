// SPDX-License-Identifier: GPL-2.0
/*
 * The region registry: every region that has a device, on one list under
 * one lock, whichever way it came (regions=, memmap= discovery at load, or
 * a device-tree platform device probed later), and one teardown for all of
 * them, unregister_region(), reached from resmem_region_remove() (the
 * device-tree device's devm action) and resmem_regions_remove_all() (module
 * exit, and load failure unwinding).
 *
 * A region is torn down only when nothing uses it: no open file, no VMA
 * and no in-kernel producer.  Open files and VMAs pin the module (fops
 * owner, file references), producers take a module reference, and
 * device-tree devices cannot be unbound by hand (of.c), so the only way to
 * a teardown is module exit, which `rmmod` is refused while any of them
 * exists; unregister_region() asserts it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/string.h>

#include "resmem-private.h"

/*
 * Regions with devices: regions= and memmap= ones in ascending address
 * order, then device-tree ones in probe order.  The lock also covers
 * next_minor and each region's @producer.
 */
static LIST_HEAD(resmem_regions);
DEFINE_MUTEX(resmem_regions_lock);
static unsigned int next_minor;

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

/*
 * The only teardown of a registered region: undo add_region_locked() and
 * free it.
 */
static void unregister_region(struct resmem_region *r)
{
	lockdep_assert_held(&resmem_regions_lock);
	WARN_ON(r->producer);
	WARN_ON(atomic_read(&r->opens));
	WARN_ON(atomic_read(&r->mappings));

	list_del(&r->node);
	resmem_chardev_del(r);
	resmem_region_release(r);
	resmem_region_free(r);
}

/* Is discovered region @r replaced by an accepted regions= entry? */
static bool displaced(const struct resmem_region *r)
{
	struct resmem_region *o;

	list_for_each_entry(o, &resmem_regions, node) {
		if (o->source == RESMEM_SOURCE_PARAM &&
		    resmem_ranges_overlap(r->phys, r->size, o->phys, o->size)) {
			pr_info(resmem_region_fmt ": replaced by regions= entry '%s' (%s)\n",
				resmem_region_arg(r), o->param, o->name);
			return true;
		}
	}
	return false;
}

/**
 * resmem_region_find() - look a registered region up by name
 * @name: the name, as in /dev/resmem/NAME
 *
 * Context: resmem_regions_lock held; the region stays registered while
 * it is.
 *
 * Return: the region, or NULL.
 */
struct resmem_region *resmem_region_find(const char *name)
{
	struct resmem_region *r;

	lockdep_assert_held(&resmem_regions_lock);
	list_for_each_entry(r, &resmem_regions, node)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

/* Validate, claim and give a device to one candidate. */
static int add_region_locked(struct resmem_region *r)
{
	int ret;

	lockdep_assert_held(&resmem_regions_lock);
	if (r->source == RESMEM_SOURCE_CMDLINE && displaced(r))
		return -EEXIST;
	if (resmem_region_find(r->name)) {
		resmem_refuse(r, "the name %s is taken by another region; give each region its own name (label)",
			      r->name);
		return -EEXIST;
	}
	ret = resmem_validate(r, &resmem_regions);
	if (ret)
		return ret;
	if (next_minor >= RESMEM_MAX_REGIONS) {
		resmem_refuse(r, "more than %u regions; merge adjacent reservations into one",
			      RESMEM_MAX_REGIONS);
		return -ENOSPC;
	}
	ret = resmem_region_claim(r);
	if (ret)
		return ret;
	ret = resmem_chardev_add(r, next_minor);
	if (ret)
		goto release_region;
	next_minor++;
	list_add_tail(&r->node, &resmem_regions);
	resmem_producer_log_ring(r);
	pr_info(resmem_region_fmt ": /dev/resmem/%s, %llu MiB, %s%s, from %s\n",
		resmem_region_arg(r), r->name, r->size >> 20,
		resmem_cache_name(r->cache), r->readonly ? ", read-only" : "",
		source_text(r));
	return 0;

release_region:
	resmem_region_release(r);
	return ret;
}

/**
 * resmem_region_add() - validate, claim and register one candidate region
 * @r: a named candidate, on no list
 *
 * A discovered (memmap=) candidate that an accepted regions= entry
 * overlaps is dropped instead.  On failure (logged) @r is freed.
 *
 * Return: 0 if /dev/resmem/NAME exists now, else a negative errno.
 */
int resmem_region_add(struct resmem_region *r)
{
	int ret;

	mutex_lock(&resmem_regions_lock);
	ret = add_region_locked(r);
	mutex_unlock(&resmem_regions_lock);
	if (ret)
		resmem_region_free(r);
	return ret;
}

/**
 * resmem_region_remove() - unregister and free one region
 * @r: a region added with resmem_region_add(), which nothing uses
 */
void resmem_region_remove(struct resmem_region *r)
{
	mutex_lock(&resmem_regions_lock);
	unregister_region(r);
	mutex_unlock(&resmem_regions_lock);
}

/**
 * resmem_regions_remove_all() - unregister and free every region, newest first
 */
void resmem_regions_remove_all(void)
{
	struct resmem_region *r, *tmp;

	mutex_lock(&resmem_regions_lock);
	list_for_each_entry_safe_reverse(r, tmp, &resmem_regions, node)
		unregister_region(r);
	mutex_unlock(&resmem_regions_lock);
}

/**
 * resmem_regions_empty() - is no region registered?
 *
 * Return: true if there is none.
 */
bool resmem_regions_empty(void)
{
	bool empty;

	mutex_lock(&resmem_regions_lock);
	empty = list_empty(&resmem_regions);
	mutex_unlock(&resmem_regions_lock);
	return empty;
}
