// SPDX-License-Identifier: GPL-2.0
/*
 * Device-tree regions: nodes with compatible = "resmem,region".
 *
 * Two shapes (docs/devicetree/resmem.yaml):
 *  - a /reserved-memory child with that compatible is itself the region;
 *  - any other node with that compatible names its regions with
 *    memory-region = <&a &b ...> (/reserved-memory children).
 * Optional properties, on the /reserved-memory child or (for cache mode,
 * struct pages, read-only and dma-coherent) on the node pointing at it,
 * the child's winning: label, resmem,cache = "write-back" |
 * "write-combine" | "uncached", resmem,pages = "off" | "ram" | "region"
 * (pages.c),
 * read-only, dma-coherent.
 *
 * Binding: nodes of the second shape are platform devices already (the
 * kernel populates every node with a compatible under the root or a
 * simple bus).  /reserved-memory children are not: of_platform_default_
 * populate_init() creates devices only for a fixed list of reserved-memory
 * compatibles (ramoops, qcom,...), and the populate walk skips the
 * /reserved-memory node because it has no compatible.  So at load time
 * resmem creates platform devices for its /reserved-memory children with
 * of_platform_device_create() (as that init code does for its list) and
 * destroys them on unload.  Every region is then found the same way: by
 * one platform driver's probe, with of_dma_configure() done by the driver
 * core (so "dma-coherent" is honoured through dev_is_dma_coherent()).
 *
 * The range is what the kernel recorded at boot for the node
 * (of_reserved_mem_lookup()), not a second parse of reg: that is the range
 * memblock reserved, or tried to.  The kernel records a node even when its
 * reservation failed and checks little (not /memory, not the kernel image
 * without no-map, not the initrd), so each region then goes through
 * resmem_region_add(): the same validation (validate.c, rules for
 * RESMEM_SOURCE_DEVICETREE), claim, device node, sysfs and mmap as the
 * memmap= regions.  Overlaps with other /reserved-memory nodes are refused
 * here, for both nodes.
 *
 * Bind/unbind through sysfs is disabled (suppress_bind_attrs): regions
 * are not meant to come and go by hand.  A platform device can still go
 * away under its regions (an overlay removal, a parent's depopulate: the
 * driver core runs remove even so), open, mapped or producing; its devm
 * action, resmem_region_remove(), is the registry's one teardown, which
 * lifetime.c makes safe at any moment.  Module unload removes them too.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/list.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_platform.h>
#include <linux/of_reserved_mem.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "resmem-arch.h"
#include "resmem-private.h"

#define RESMEM_COMPATIBLE	"resmem,region"

/* Platform devices resmem created for its /reserved-memory children. */
struct created_dev {
	struct list_head node;
	struct platform_device *pdev;
};
static LIST_HEAD(created_devs);

static bool is_rmem_child(struct device_node *np)
{
	struct device_node *parent = of_get_parent(np);
	bool ret;

	ret = parent && of_node_name_eq(parent, "reserved-memory") &&
	      parent->parent && !parent->parent->parent;
	of_node_put(parent);
	return ret;
}

/* The size in the first entry of @np's reg (cells checked by the caller). */
static u64 reg_size(struct device_node *np, u32 ac, u32 sc)
{
	const __be32 *reg = of_get_property(np, "reg", NULL);

	return reg && sc ? of_read_number(reg + ac, sc) : 0;
}

/*
 * Why did the kernel not record @mem at boot?  The checks mirror
 * drivers/of/of_reserved_mem.c: the /reserved-memory node must have the
 * root's cells and "ranges", each child a reg of whole entries.
 */
static void refuse_unrecorded(const char *name, struct device_node *mem)
{
	struct device_node *parent = of_get_parent(mem);
	u32 ac = 0, sc = 0, rac = 0, rsc = 0;
	char what[RESMEM_WHAT_MAX];
	int len = 0;

	snprintf(what, sizeof(what), "%s (%pOF)", name, mem);
	if (parent) {
		of_property_read_u32(parent, "#address-cells", &ac);
		of_property_read_u32(parent, "#size-cells", &sc);
	}
	of_property_read_u32(of_root, "#address-cells", &rac);
	of_property_read_u32(of_root, "#size-cells", &rsc);

	if (!is_rmem_child(mem))
		resmem_refuse_as(what, "not a child of /reserved-memory; memory-region must point at /reserved-memory nodes");
	else if (ac != rac || sc != rsc || !of_find_property(parent, "ranges", NULL))
		resmem_refuse_as(what, "/reserved-memory has #address-cells = <%u>, #size-cells = <%u>%s but the root has <%u>, <%u>: the kernel ignored all of /reserved-memory at boot ('unsupported node format'); give it the root's cells and an empty ranges",
				 ac, sc, of_find_property(parent, "ranges", NULL) ?
				 "" : " and no ranges", rac, rsc);
	else if (!of_get_property(mem, "reg", &len))
		resmem_refuse_as(what, "no reg property, so nothing was reserved at boot; give the node reg = <ADDRESS SIZE> (%u + %u cells)",
				 ac, sc);
	else if (!ac || !sc)
		resmem_refuse_as(what, "/reserved-memory has #address-cells = <%u>, #size-cells = <%u>: a reg needs at least one cell of each; give it the root's cells",
				 ac, sc);
	else if (!len || len % ((ac + sc) * 4))
		resmem_refuse_as(what, "reg is %d bytes, not a whole number of %u-byte entries (#address-cells = <%u>, #size-cells = <%u>), so the kernel skipped the node at boot ('invalid reg property'); write each address with %u cells and each size with %u",
				 len, (ac + sc) * 4, ac, sc, ac, sc);
	else if (!reg_size(mem, ac, sc))
		resmem_refuse_as(what, "reg gives size 0, so nothing was reserved at boot; give the region a size of at least one page (%lu bytes)",
				 PAGE_SIZE);
	else
		resmem_refuse_as(what, "the kernel recorded no reservation for this node at boot (see the 'OF: reserved mem' lines of the boot log)");
	of_node_put(parent);
}

/* Does @mem overlap another /reserved-memory node's recorded range? */
static bool overlaps_other_node(struct resmem_region *r, struct device_node *mem)
{
	struct device_node *parent = of_get_parent(mem), *o;
	bool found = false;

	if (!parent)
		return false;
	for_each_child_of_node(parent, o) {
		struct reserved_mem *orm;

		if (o == mem)
			continue;
		orm = of_reserved_mem_lookup(o);
		if (!orm || !orm->size ||
		    !resmem_ranges_overlap(r->phys, r->size, orm->base, orm->size))
			continue;
		resmem_refuse(r, "node %s overlaps /reserved-memory node %pOF [mem %pa size %pa] (the kernel said 'OVERLAP DETECTED' at boot); make the reservations disjoint",
			      r->node_name, o, &orm->base, &orm->size);
		found = true;
		of_node_put(o);
		break;
	}
	of_node_put(parent);
	return found;
}

/*
 * Does a node other than resmem's own name @mem in its memory-region?  Then
 * the range is that driver's buffer (a frame buffer, a firmware carve-out,
 * a CMA pool): never hand it to user space as well.
 */
static bool used_by_other_node(struct resmem_region *r,
			       struct device_node *mem)
{
	struct device_node *np, *target;
	bool found = false;
	int i;

	for_each_node_with_property(np, "memory-region") {
		if (of_device_is_compatible(np, RESMEM_COMPATIBLE))
			continue;
		for (i = 0; !found; i++) {
			target = of_parse_phandle(np, "memory-region", i);
			if (!target)
				break;
			found = target == mem;
			of_node_put(target);
		}
		if (found) {
			resmem_refuse(r, "node %s is also the memory-region of %pOF, another driver's buffer; give resmem a /reserved-memory node of its own",
				      r->node_name, np);
			of_node_put(np);
			break;
		}
	}
	return found;
}

static int parse_cache(struct resmem_region *r, struct device_node *np)
{
	const char *s;

	if (of_property_read_string(np, "resmem,cache", &s))
		return 0;
	if (!strcmp(s, "write-back")) {
		r->cache = RESMEM_CACHE_WB;
	} else if (!strcmp(s, "write-combine")) {
		r->cache = RESMEM_CACHE_WC;
	} else if (!strcmp(s, "uncached")) {
		r->cache = RESMEM_CACHE_UC;
	} else {
		char what[RESMEM_WHAT_MAX];

		snprintf(what, sizeof(what), "%s (%pOF)", r->name, np);
		resmem_refuse_as(what, "resmem,cache = \"%s\" is not \"write-back\", \"write-combine\" or \"uncached\"",
				 s);
		return -EINVAL;
	}
	r->cache_set = true;
	return 0;
}

/* resmem,pages = "off" | "ram" | "region": the region's own choice. */
static int parse_pages(struct resmem_region *r, struct device_node *np)
{
	char what[RESMEM_WHAT_MAX];
	const char *s;

	if (of_property_read_string(np, "resmem,pages", &s))
		return 0;
	if (!resmem_parse_pages(s, &r->pages_choice))
		return 0;
	snprintf(what, sizeof(what), "%s (%pOF)", r->name, np);
	resmem_refuse_as(what, "resmem,pages = \"%s\" is not \"off\", \"ram\" or \"region\"; \"off\" keeps the PFN mapping, the others give struct pages",
			 s);
	return -EINVAL;
}

/*
 * The region's name (docs/devicetree/resmem.yaml), first match:
 * the /reserved-memory child's label; for a node pointing at it with
 * memory-region (entry @idx of @count): "<label>-<memory-region-names[idx]>",
 * "<label>" (one entry) or "<label>-<idx>", memory-region-names[idx];
 * else the child's node name without the unit address.
 */
static int region_name(char *buf, struct device_node *mem,
		       struct device_node *owner, int idx, int count)
{
	const char *label, *rname;
	bool has_label, has_rname;
	int n;

	has_label = !of_property_read_string(owner, "label", &label);
	has_rname = owner != mem &&
		    !of_property_read_string_index(owner, "memory-region-names",
						   idx, &rname);
	if (!of_property_read_string(mem, "label", &label))
		n = snprintf(buf, RESMEM_NAME_MAX, "%s", label);
	else if (owner != mem && has_label && has_rname)
		n = snprintf(buf, RESMEM_NAME_MAX, "%s-%s", label, rname);
	else if (owner != mem && has_label && count == 1)
		n = snprintf(buf, RESMEM_NAME_MAX, "%s", label);
	else if (owner != mem && has_label)
		n = snprintf(buf, RESMEM_NAME_MAX, "%s-%d", label, idx);
	else if (has_rname)
		n = snprintf(buf, RESMEM_NAME_MAX, "%s", rname);
	else
		n = snprintf(buf, RESMEM_NAME_MAX, "%s", mem->name);
	if (n >= RESMEM_NAME_MAX || !resmem_name_ok(buf)) {
		char what[RESMEM_WHAT_MAX];

		snprintf(what, sizeof(what), "%pOF", mem);
		resmem_refuse_as(what, "region name '%s' (from label, node name or memory-region-names) is not 1-%d characters from [A-Za-z0-9_.+-] not starting with '.'; set label to such a name",
				 buf, RESMEM_NAME_MAX - 1);
		return -EINVAL;
	}
	return 0;
}

/* One region: @mem, a /reserved-memory child, found through @dev's node. */
static struct resmem_region *dt_region(struct device *dev,
				       struct device_node *mem, int idx,
				       int count)
{
	struct device_node *owner = dev->of_node;
	struct resmem_region *r;
	struct reserved_mem *rmem;
	char name[RESMEM_NAME_MAX];

	if (region_name(name, mem, owner, idx, count))
		return NULL;
	rmem = is_rmem_child(mem) ? of_reserved_mem_lookup(mem) : NULL;
	if (!rmem) {
		refuse_unrecorded(name, mem);
		return NULL;
	}

	r = resmem_region_alloc(rmem->base, rmem->size,
				RESMEM_SOURCE_DEVICETREE);
	if (!r)
		return NULL;
	strscpy(r->name, name, sizeof(r->name));
	r->named = true;
	snprintf(r->node_name, sizeof(r->node_name), "%pOF", mem);
	r->linear = !of_property_read_bool(mem, "no-map");
	r->reusable = of_property_read_bool(mem, "reusable");
	r->readonly = of_property_read_bool(mem, "read-only") ||
		      of_property_read_bool(owner, "read-only");
	r->coherent = resmem_dev_dma_coherent(dev) ||
		      of_property_read_bool(mem, "dma-coherent");

	if (parse_cache(r, mem) || (!r->cache_set && parse_cache(r, owner)))
		goto free_region;
	if (parse_pages(r, mem) ||
	    (r->pages_choice == RESMEM_PAGES_DEFAULT && parse_pages(r, owner)))
		goto free_region;
	/* Without no-map the memory is in the write-back linear map. */
	if (r->linear && !r->cache_set)
		r->cache = RESMEM_CACHE_WB;
	if (of_property_count_elems_of_size(mem, "reg", 1) >
	    (of_n_addr_cells(mem) + of_n_size_cells(mem)) * 4)
		pr_warn(resmem_region_fmt ": node %s has several reg entries; the kernel records only the first, which is the region\n",
			resmem_region_arg(r), r->node_name);
	if (r->size && overlaps_other_node(r, mem))
		goto free_region;
	if (used_by_other_node(r, mem))
		goto free_region;
	return r;

free_region:
	resmem_region_free(r);
	return NULL;
}

static void remove_region(void *data)
{
	resmem_region_remove(data);
}

static int resmem_of_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct device_node *np = dev->of_node;
	char what[RESMEM_WHAT_MAX];
	int count, i, added = 0;

	snprintf(what, sizeof(what), "%pOF", np);
	if (is_rmem_child(np)) {
		count = 1;
	} else {
		count = of_count_phandle_with_args(np, "memory-region", NULL);
		if (count <= 0) {
			resmem_refuse_as(what, "compatible \"%s\" outside /reserved-memory needs memory-region = <&region ...>",
					 RESMEM_COMPATIBLE);
			return -ENODEV;
		}
	}

	for (i = 0; i < count; i++) {
		struct device_node *mem;
		struct resmem_region *r;

		mem = count == 1 && is_rmem_child(np) ? of_node_get(np) :
			of_parse_phandle(np, "memory-region", i);
		if (!mem) {
			resmem_refuse_as(what, "memory-region entry %d is not a valid phandle",
					 i);
			continue;
		}
		r = dt_region(dev, mem, i, count);
		of_node_put(mem);
		if (!r || resmem_region_add(r))
			continue;
		if (devm_add_action_or_reset(dev, remove_region, r))
			continue;
		added++;
	}
	return added ? 0 : -ENODEV;
}

static const struct of_device_id resmem_of_match[] = {
	{ .compatible = RESMEM_COMPATIBLE },
	{ }
};
MODULE_DEVICE_TABLE(of, resmem_of_match);

static struct platform_driver resmem_of_driver = {
	.probe = resmem_of_probe,
	.driver = {
		.name = KBUILD_MODNAME,
		.of_match_table = resmem_of_match,
		.suppress_bind_attrs = true,
	},
};

static void destroy_created(void)
{
	struct created_dev *c, *tmp;

	list_for_each_entry_safe_reverse(c, tmp, &created_devs, node) {
		of_platform_device_destroy(&c->pdev->dev, NULL);
		list_del(&c->node);
		kfree(c);
	}
}

/* Platform devices for "resmem,region" children of /reserved-memory. */
static void create_rmem_devices(void)
{
	struct device_node *parent, *np;

	parent = of_find_node_by_path("/reserved-memory");
	if (!parent)
		return;
	for_each_available_child_of_node(parent, np) {
		struct created_dev *c;

		if (!of_device_is_compatible(np, RESMEM_COMPATIBLE) ||
		    of_node_check_flag(np, OF_POPULATED))
			continue;
		c = kzalloc(sizeof(*c), GFP_KERNEL);
		if (!c) {
			of_node_put(np);
			break;
		}
		c->pdev = of_platform_device_create(np, NULL, NULL);
		if (!c->pdev) {
			pr_err("%pOF: cannot create its platform device; region not used\n",
			       np);
			kfree(c);
			continue;
		}
		list_add_tail(&c->node, &created_devs);
	}
	of_node_put(parent);
}

/**
 * resmem_of_init() - bind the device tree's "resmem,region" nodes
 *
 * Creates platform devices for /reserved-memory children with that
 * compatible and registers the platform driver, whose probes add the
 * regions (refusals are logged; they do not fail this).
 *
 * Return: 0, or platform_driver_register()'s error.
 */
int resmem_of_init(void)
{
	int ret;

	create_rmem_devices();
	ret = platform_driver_register(&resmem_of_driver);
	if (ret) {
		pr_err("cannot register the device-tree driver: %d\n", ret);
		goto destroy_devices;
	}
	return 0;

destroy_devices:
	destroy_created();
	return ret;
}

/**
 * resmem_of_exit() - undo resmem_of_init(), removing the device-tree regions
 */
void resmem_of_exit(void)
{
	platform_driver_unregister(&resmem_of_driver);
	destroy_created();
}
