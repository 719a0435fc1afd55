// SPDX-License-Identifier: GPL-2.0
/*
 * The region registry: every region that has a device, on one list under
 * one lock, whichever way it came (regions=, memmap= discovery at load, or
 * a device-tree platform device probed later), and one teardown for all of
 * them, unregister_region(), reached from resmem_region_remove() (the
 * device-tree device's devm action) and resmem_regions_remove_all() (module
 * exit, and load failure unwinding).
 *
 * regions= and memmap= regions go only at module exit, which open files,
 * mappings (the fops owner, the VMAs' file references) and producers (a
 * module reference) prevent.  A device-tree region goes whenever its
 * platform device does (an overlay removal, a parent's depopulate), in use
 * or not: unregister_region() first takes it away from its users
 * (lifetime.c), then removes its device node and releases the claim and
 * the kernel mapping, which an active producer keeps until
 * resmem_producer_put(); the region itself is freed by its last reference.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/string.h>

#include "resmem-private.h"

/*
 * Regions with devices: regions= and memmap= ones in ascending address
 * order, then device-tree ones in probe order.  The lock also covers
 * each region's @producer and @claim_orphaned.
 */
static LIST_HEAD(resmem_regions);
DEFINE_MUTEX(resmem_regions_lock);

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
 * The only teardown of a registered region: take it off the list and away
 * from its users, remove its device, release its claim unless a producer
 * holds it, and drop the registry's reference.
 */
static void unregister_region(struct resmem_region *r)
{
	char producer[RESMEM_WHAT_MAX] = "";
	unsigned int dmabufs;
	int opens, mappings;

	mutex_lock(&resmem_regions_lock);
	list_del_init(&r->node);
	mutex_unlock(&resmem_regions_lock);

	resmem_region_kill(r);
	resmem_chardev_del(r);

	mutex_lock(&resmem_regions_lock);
	if (r->producer)
		resmem_producer_describe(r->producer, producer,
					 sizeof(producer));
	dmabufs = r->dmabufs;
	if (r->producer || dmabufs)
		r->claim_orphaned = true;
	else
		resmem_region_release(r);
	mutex_unlock(&resmem_regions_lock);

	opens = atomic_read(&r->opens);
	mappings = atomic_read(&r->mappings);
	if (opens || mappings)
		pr_warn(resmem_region_fmt ": removed while in use: %d open files and %d mappings revoked, their accesses fail from now on\n",
			resmem_region_arg(r), opens, mappings);
	if (producer[0])
		pr_warn(resmem_region_fmt ": removed while %s produces into it: its reserve and commit fail with -ENODEV from now on; the claim stays until it calls resmem_producer_put()\n",
			resmem_region_arg(r), producer);
	if (dmabufs)
		pr_warn(resmem_region_fmt ": removed while %u dma-bufs exported from it exist: their new device mappings and syncs fail from now on; the claim and kernel mapping stay until the last is released\n",
			resmem_region_arg(r), dmabufs);
	resmem_region_free(r);
}

/**
 * resmem_region_release_orphan() - release a removed region's claim once
 * nothing that may still use its memory holds it
 * @r: the region
 * @what: what just let it go, for the log ("its producer stopped")
 *
 * Context: resmem_regions_lock held.
 */
void resmem_region_release_orphan(struct resmem_region *r, const char *what)
{
	lockdep_assert_held(&resmem_regions_lock);
	if (!r->claim_orphaned || r->producer || r->dmabufs)
		return;
	r->claim_orphaned = false;
	resmem_region_release(r);
	pr_info(resmem_region_fmt ": %s; claim released\n",
		resmem_region_arg(r), what);
}

/**
 * resmem_region_export() - count a new dma-buf of a region
 * @r: the region
 *
 * Return: 0, or -ENODEV once the region is being removed.
 */
int resmem_region_export(struct resmem_region *r)
{
	int ret = 0;

	mutex_lock(&resmem_regions_lock);
	if (resmem_region_alive(r))
		r->dmabufs++;
	else
		ret = -ENODEV;
	mutex_unlock(&resmem_regions_lock);
	return ret;
}

/**
 * resmem_region_unexport() - a dma-buf of a region is gone
 * @r: the region, counted by resmem_region_export()
 */
void resmem_region_unexport(struct resmem_region *r)
{
	mutex_lock(&resmem_regions_lock);
	r->dmabufs--;
	resmem_region_release_orphan(r, "its last dma-buf is gone");
	mutex_unlock(&resmem_regions_lock);
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
	char pages[128];
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
	ret = resmem_region_claim(r);
	if (ret)
		return ret;
	resmem_pages_init(r);
	ret = resmem_chardev_add(r);
	if (ret == -ENOSPC)
		resmem_refuse(r, "more than %u regions; merge adjacent reservations into one",
			      RESMEM_MAX_REGIONS);
	if (ret)
		goto release_region;
	list_add_tail(&r->node, &resmem_regions);
	resmem_producer_log_ring(r);
	resmem_pages_describe(r, pages, sizeof(pages));
	pr_info(resmem_region_fmt ": /dev/resmem/%s, %llu MiB, %s%s, from %s; struct pages: %s\n",
		resmem_region_arg(r), r->name, r->size >> 20,
		resmem_cache_name(r->cache), r->readonly ? ", read-only" : "",
		source_text(r), pages);
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
 * resmem_region_remove() - unregister a region, drop the registry's reference
 * @r: a region added with resmem_region_add(); it may still be in use
 *
 * Context: process context; may sleep.
 */
void resmem_region_remove(struct resmem_region *r)
{
	unregister_region(r);
}

/**
 * resmem_regions_remove_all() - unregister every region, newest first
 */
void resmem_regions_remove_all(void)
{
	struct resmem_region *r;

	for (;;) {
		mutex_lock(&resmem_regions_lock);
		r = list_empty(&resmem_regions) ? NULL :
		    list_last_entry(&resmem_regions, struct resmem_region,
				    node);
		mutex_unlock(&resmem_regions_lock);
		if (!r)
			break;
		unregister_region(r);
	}
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
