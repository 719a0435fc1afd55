// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs: /sys/class/resmem/NAME/{phys_addr,size,source,cache_mode,
 * numa_node,mappings,coherent,
 * pages}.  Documented in docs/ABI/sysfs-class-resmem.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/numa.h>
#include <linux/sysfs.h>

#include "resmem-private.h"

static const char * const source_names[] = {
	[RESMEM_SOURCE_CMDLINE] = "cmdline",
	[RESMEM_SOURCE_PARAM] = "param",
	[RESMEM_SOURCE_DEVICETREE] = "devicetree",
};

static ssize_t phys_addr_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct resmem_region *r = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%#llx\n", r->phys);
}
static DEVICE_ATTR_RO(phys_addr);

static ssize_t size_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct resmem_region *r = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", r->size);
}
static DEVICE_ATTR_RO(size);

static ssize_t source_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct resmem_region *r = dev_get_drvdata(dev);

	if (r->source >= ARRAY_SIZE(source_names))
		return sysfs_emit(buf, "unknown\n");
	return sysfs_emit(buf, "%s\n", source_names[r->source]);
}
static DEVICE_ATTR_RO(source);

static ssize_t cache_mode_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct resmem_region *r = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", resmem_cache_name(r->cache));
}
static DEVICE_ATTR_RO(cache_mode);

static ssize_t numa_node_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct resmem_region *r = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", phys_to_target_node(r->phys));
}
static DEVICE_ATTR_RO(numa_node);

static ssize_t mappings_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct resmem_region *r = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", atomic_read(&r->mappings));
}
static DEVICE_ATTR_RO(mappings);

/* 1 if DMA into the region snoops the CPU caches (no resmem sync needed). */
static ssize_t coherent_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct resmem_region *r = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", r->coherent ? 1 : 0);
}
static DEVICE_ATTR_RO(coherent);

/* "yes: N pages, up to M KiB of RAM (64 B per 4 KiB page)" or "no: WHY" (pages.c) */
static ssize_t pages_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct resmem_region *r = dev_get_drvdata(dev);
	char text[128];

	resmem_pages_describe(r, text, sizeof(text));
	return sysfs_emit(buf, "%s\n", text);
}
static DEVICE_ATTR_RO(pages);

static struct attribute *resmem_attrs[] = {
	&dev_attr_phys_addr.attr,
	&dev_attr_size.attr,
	&dev_attr_source.attr,
	&dev_attr_cache_mode.attr,
	&dev_attr_numa_node.attr,
	&dev_attr_mappings.attr,
	&dev_attr_coherent.attr,
	&dev_attr_pages.attr,
	NULL,
};

static const struct attribute_group resmem_group = {
	.attrs = resmem_attrs,
};

/* The class's dev_groups: every region device gets these attributes. */
const struct attribute_group *resmem_groups[] = {
	&resmem_group,
	NULL,
};
