// SPDX-License-Identifier: GPL-2.0
/*
 * Region bookkeeping: candidates, naming, claiming and kernel mappings.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/list.h>
#include <linux/list_sort.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "resmem-arch.h"
#include "resmem-private.h"

/* The last reference to a region is gone (lifetime.c). */
static void region_release(struct device *dev)
{
	struct resmem_region *r = container_of(dev, struct resmem_region, dev);

	resmem_ring_wake_exit(r);
	resmem_lifetime_exit(r);
	resmem_chardev_release(r);
	kfree(r);
}

/**
 * resmem_region_alloc() - allocate a candidate region
 * @phys:	first physical byte
 * @size:	length in bytes (not validated yet)
 * @source:	enum resmem_source
 *
 * The cache mode starts as the cache= default, DMA coherence as the
 * architecture's default (coherent on x86, not on arm64).  The region's
 * device is initialized (not added): from here on the region is freed
 * by the last put_device(), through resmem_region_free().
 *
 * Return: the region, unnamed and not on any list, or NULL.
 */
struct resmem_region *resmem_region_alloc(u64 phys, u64 size, u32 source)
{
	struct resmem_region *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return NULL;
	device_initialize(&r->dev);
	r->dev.release = region_release;
	INIT_LIST_HEAD(&r->node);
	mutex_init(&r->mmaps_lock);
	INIT_LIST_HEAD(&r->mmaps);
	resmem_ring_wake_init(r);
	r->phys = phys;
	r->size = size;
	r->source = source;
	r->cache = resmem_default_cache;
	r->coherent = RESMEM_DMA_ALWAYS_COHERENT;
	atomic_set(&r->opens, 0);
	atomic_set(&r->mappings, 0);
	return r;
}

/**
 * resmem_region_free() - drop a reference to a region
 * @r: the region, or NULL; not claimed and on no list if this is the last
 *     reference
 */
void resmem_region_free(struct resmem_region *r)
{
	if (r)
		put_device(&r->dev);
}

/**
 * resmem_free_list() - free every unclaimed region on a list
 * @list: list of struct resmem_region.node
 */
void resmem_free_list(struct list_head *list)
{
	struct resmem_region *r, *tmp;

	list_for_each_entry_safe(r, tmp, list, node) {
		list_del(&r->node);
		resmem_region_free(r);
	}
}

static int cmp_phys(void *priv, const struct list_head *a,
		    const struct list_head *b)
{
	const struct resmem_region *ra = list_entry(a, struct resmem_region, node);
	const struct resmem_region *rb = list_entry(b, struct resmem_region, node);

	if (ra->phys != rb->phys)
		return ra->phys < rb->phys ? -1 : 1;
	return 0;
}

static bool name_taken(struct list_head *list, const char *name,
		       const struct resmem_region *except)
{
	struct resmem_region *r;

	list_for_each_entry(r, list, node)
		if (r != except && r->name[0] && !strcmp(r->name, name))
			return true;
	return false;
}

/**
 * resmem_merge_candidates() - combine discovered and explicit candidates
 * @discovered:	candidates from discovery; emptied
 * @explicit:	candidates from regions=; emptied
 * @out:	receives the candidates to validate, ascending by address
 *
 * An explicit entry with exactly a discovered range takes its place (the
 * explicit name, cache mode and source PARAM).  Other overlaps are settled
 * by the registry after validation: an accepted explicit region displaces the
 * discovered ones it overlaps, a refused one displaces nothing.  Unnamed
 * candidates are then named region0, region1, ... in ascending address
 * order, skipping names given explicitly.  A second explicit use of a name
 * is refused here.
 *
 * Return: 0.
 */
int resmem_merge_candidates(struct list_head *discovered,
			    struct list_head *explicit, struct list_head *out)
{
	struct resmem_region *d, *e, *tmp;
	unsigned int next = 0;

	list_for_each_entry_safe(d, tmp, discovered, node) {
		list_for_each_entry(e, explicit, node) {
			if (d->phys == e->phys && d->size == e->size) {
				e->memmap = d->memmap;
				list_del(&d->node);
				resmem_region_free(d);
				break;
			}
		}
	}
	list_splice_tail_init(discovered, out);

	/* Duplicate explicit names: the later entry loses. */
	list_for_each_entry_safe(e, tmp, explicit, node) {
		if (e->named && name_taken(out, e->name, NULL)) {
			pr_err("regions= entry '%s' ignored: name %s is already used; give each region its own name\n",
			       e->param, e->name);
			list_del(&e->node);
			resmem_region_free(e);
			continue;
		}
		list_move_tail(&e->node, out);
	}

	list_sort(NULL, out, cmp_phys);

	list_for_each_entry(e, out, node) {
		if (e->named)
			continue;
		do {
			snprintf(e->name, sizeof(e->name), "region%u", next++);
		} while (name_taken(out, e->name, e));
	}
	return 0;
}

static int region_map(struct resmem_region *r)
{
	switch (r->cache) {
	case RESMEM_CACHE_WB:
		r->kaddr = memremap(r->phys, r->size, MEMREMAP_WB);
		return r->kaddr ? 0 : -ENOMEM;
	case RESMEM_CACHE_WC:
		r->kaddr = memremap(r->phys, r->size, MEMREMAP_WC);
		return r->kaddr ? 0 : -ENOMEM;
	case RESMEM_CACHE_UC:
		r->ioaddr = resmem_ioremap_uc(r->phys, r->size);
		return r->ioaddr ? 0 : -ENOMEM;
	}
	return -EINVAL;
}

static void region_unmap(struct resmem_region *r)
{
	if (r->kaddr)
		memunmap(r->kaddr - r->head);
	if (r->ioaddr)
		iounmap(r->ioaddr);
	r->kaddr = NULL;
	r->ioaddr = NULL;
}

/*
 * A device-tree region without no-map is System RAM the boot reserved
 * (busy "reserved" children of System RAM): __request_region() refuses
 * to nest under busy resources, insert_resource() does not.  It is mapped
 * through the linear map (memremap() of RAM returns the linear address),
 * write-back only (validate.c).
 */
static int claim_linear(struct resmem_region *r)
{
	struct resource *res, *child;
	int ret;

	res = kzalloc(sizeof(*res), GFP_KERNEL);
	if (!res)
		return -ENOMEM;
	res->name = r->res_name;
	res->start = r->phys;
	res->end = r->phys + r->size - 1;
	res->flags = IORESOURCE_MEM | IORESOURCE_BUSY | IORESOURCE_EXCLUSIVE;
	ret = insert_resource(&iomem_resource, res);
	if (ret) {
		resmem_refuse(r, "cannot claim it, a resource in /proc/iomem overlaps it partly (the kernel image or a driver's region); pick a range nothing else uses");
		kfree(res);
		return -EBUSY;
	}
	r->res = res;

	/*
	 * insert_resource() adopts whatever lies wholly inside as children.
	 * Only the boot's "reserved" entries (busy, not System RAM) may; the
	 * kernel image sections ("Kernel code", "Kernel data": System RAM
	 * resources nested in System RAM) must not.  walk_iomem_res_desc()
	 * cannot find those (it moves past the System RAM entry containing
	 * them), so look at our own new resource's children: only
	 * insert_resource() of a range inside ours could change them.
	 */
	for (child = res->child; child; child = child->sibling) {
		/*
		 * An exclusive child is a driver's claim, such as the one an
		 * earlier load kept while its pages were in use (pages.c):
		 * insert_resource() would nest over it, not refuse.
		 */
		if (child->flags & IORESOURCE_EXCLUSIVE) {
			resmem_refuse(r, "the range is still claimed by %pR '%s'; it stays until reboot",
				      child, child->name);
			ret = -EBUSY;
			goto remove_resource;
		}
		if ((child->flags & IORESOURCE_SYSRAM) ||
		    !(child->flags & IORESOURCE_BUSY)) {
			resmem_refuse(r, "node %s contains %pR '%s' (the kernel image, see /proc/iomem); move the region away from it",
				      r->node_name, child, child->name);
			ret = -EBUSY;
			goto remove_resource;
		}
	}

	ret = region_map(r);
	if (ret) {
		resmem_refuse(r, "cannot map it %s for the kernel; see earlier messages",
			      resmem_cache_name(r->cache));
		goto remove_resource;
	}
	return 0;

remove_resource:
	/* not release_resource(): it would drop the adopted children too */
	remove_resource(res);
	kfree(res);
	r->res = NULL;
	return ret;
}

/**
 * resmem_region_claim() - claim a validated region and map it for the kernel
 * @r: the region
 *
 * Inserts "resmem: NAME" as a busy, exclusive child of its Reserved entry
 * in iomem_resource (so /dev/mem refuses it under IO_STRICT_DEVMEM) and
 * maps it with the region's cache mode.  The kernel mapping decides the
 * memory type (x86 PAT) that every user mapping then inherits.
 *
 * Return: 0, -EBUSY if the range cannot be claimed where expected, or
 * -ENOMEM if it cannot be mapped.  Each failure is logged.
 */
int resmem_region_claim(struct resmem_region *r)
{
	struct resource *parent;
	int ret;

	snprintf(r->res_name, sizeof(r->res_name), "resmem: %s", r->name);
	if (r->linear)
		return claim_linear(r);
	r->res = __request_region(&iomem_resource, r->phys, r->size,
				  r->res_name, IORESOURCE_EXCLUSIVE);
	if (!r->res) {
		resmem_refuse(r, "cannot claim it, something in /proc/iomem overlaps it; pick a range nothing else uses");
		return -EBUSY;
	}

	/*
	 * __request_region() nests under any non-busy resource that contains
	 * the range; ours must sit directly in a top-level Reserved entry.
	 */
	parent = r->res->parent;
	if (!parent || !resmem_res_is_reservation(parent)) {
		resmem_refuse(r, "it lies inside %pR '%s', not directly in a Reserved range; use memory reserved with %s",
			      parent, parent ? parent->name : "?",
			      r->source == RESMEM_SOURCE_DEVICETREE ?
			      "a no-map /reserved-memory node" : "memmap=SIZE$ADDR");
		ret = -EBUSY;
		goto release_region;
	}

	ret = region_map(r);
	if (ret) {
		resmem_refuse(r, "cannot map it %s for the kernel (out of address space or conflicting memory type, see earlier messages); try a smaller region or another cache= mode",
			      resmem_cache_name(r->cache));
		goto release_region;
	}
	return 0;

release_region:
	__release_region(&iomem_resource, r->phys, r->size);
	r->res = NULL;
	return ret;
}

/**
 * resmem_region_release() - undo resmem_region_claim() and resmem_pages_init()
 * @r: the region; nothing may map or have it open any more
 *
 * If its struct pages are still in use (pages.c), they and the claim
 * stay; only the kernel mapping goes.
 */
void resmem_region_release(struct resmem_region *r)
{
	if (!resmem_pages_exit(r)) {
		/*
		 * Pages still in use stay, and so does the claim: nothing else
		 * may take the range.  Its label outlives @r and this module
		 * (allocated, never freed; NULL shows as "<BAD>").
		 */
		if (r->res)
			r->res->name = kasprintf(GFP_KERNEL,
						 "resmem: %s (struct pages still in use)",
						 r->name);
		r->res = NULL;
	}
	region_unmap(r);
	if (r->res && r->linear) {
		remove_resource(r->res);
		kfree(r->res);
	} else if (r->res) {
		/* the claim includes the struct pages' head (pages.c) */
		__release_region(&iomem_resource, r->phys - r->head,
				 r->size + r->head);
	}
	r->res = NULL;
}
