// SPDX-License-Identifier: GPL-2.0
/*
 * A region's bus address for a device, from the DMA API for memory.
 *
 * The device must reach the region as memory: through an IOMMU, with a
 * cacheable (snooped) mapping; past a dma-ranges offset, at the translated
 * address.  dma_map_resource() is for MMIO and gives neither: dma-direct
 * returns the physical address untranslated, an IOMMU maps it as device
 * memory.  So, in order of preference:
 *
 *  - dma_map_phys() (kernels that have it): memory by physical address,
 *    struct pages or not;
 *  - dma_map_page_attrs() where the range has struct pages (arm64 device
 *    tree ranges, no-map ones included; regions with ZONE_DEVICE pages);
 *  - dma_map_resource() only where its answer is right anyway: the bus
 *    address it returns is the one the DMA API would translate to (no
 *    IOMMU translation, no offset).  Otherwise the device is refused.
 *
 * Cache maintenance is resmem's own (sync.c, through its kernel mapping),
 * so every mapping skips the DMA API's: for a no-map range it would go
 * through a linear-map address that does not exist.  A device whose DMA
 * mask does not reach the region is refused before mapping, with the
 * numbers: dma-direct would WARN, or bounce every record through swiotlb
 * where the ring never sees it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/mm.h>

#include "compat.h"
#include "resmem-arch.h"
#include "resmem-private.h"

/* Every section of [phys, phys + size) has a memmap (struct pages). */
static bool resmem_has_memmap(phys_addr_t phys, u64 size)
{
	unsigned long pfn = PHYS_PFN(phys), last = PHYS_PFN(phys + size - 1);
#ifdef CONFIG_SPARSEMEM
	unsigned long step = PAGES_PER_SECTION;
#else
	unsigned long step = 1;
#endif

	for (; pfn < last; pfn = ALIGN(pfn + 1, step))
		if (!pfn_valid(pfn))
			return false;
	return pfn_valid(last);
}

/*
 * Without an IOMMU the device addresses the region at phys_to_dma(): it
 * must be translatable (inside the device's dma-ranges) and under the
 * device's DMA mask and bus limit.  Behind an IOMMU the mask limits the
 * I/O virtual addresses, which the mapping itself allocates.
 */
static int resmem_dma_reachable(const struct resmem_region *r,
				struct device *dev, phys_addr_t phys, u64 size)
{
	dma_addr_t first, last;
	u64 limit;

	if (device_iommu_mapped(dev))
		return 0;
	first = phys_to_dma(dev, phys);
	last = phys_to_dma(dev, phys + size - 1);
	limit = min_not_zero(dma_get_mask(dev), dev->bus_dma_limit);
	if (first == DMA_MAPPING_ERROR || last == DMA_MAPPING_ERROR) {
		dev_warn_ratelimited(dev, "resmem: region %s [mem %#llx-%#llx] is outside this device's DMA window (dma-ranges): it cannot reach it; reserve memory the device's bus maps\n",
				     r->name, (u64)phys, (u64)(phys + size - 1));
		return -ERANGE;
	}
	if (last < first || last > limit) {
		dev_warn_ratelimited(dev, "resmem: region %s [mem %#llx-%#llx] is at bus addresses %#llx-%#llx, above this device's DMA limit %#llx: reserve the region below it, or set a wider DMA mask if the device has one\n",
				     r->name, (u64)phys, (u64)(phys + size - 1),
				     (u64)first, (u64)last, limit);
		return -ERANGE;
	}
	return 0;
}

/**
 * resmem_dma_map_range() - map part of a region for DMA by a device
 * @r: the region (claimed)
 * @dev: the device, its DMA mask set
 * @offset: first byte of the range, from the start of @r (page-aligned)
 * @size: bytes (page-aligned, non-zero, inside @r)
 * @map: filled in: the bus address of the range's first byte and how it
 *	 was made
 *
 * One mapping, contiguous for the device: in bus addresses where it
 * reaches memory directly, in I/O virtual addresses behind an IOMMU.
 *
 * Context: process context.
 * Return: 0; -ERANGE (the device cannot reach the range), -EOPNOTSUPP
 * (no way to map it as memory for this device on this kernel), -EIO (the
 * mapping failed, or it would have bounced through swiotlb).
 */
int resmem_dma_map_range(const struct resmem_region *r, struct device *dev,
			 u64 offset, u64 size, struct resmem_dma *map)
{
	unsigned long attrs = DMA_ATTR_SKIP_CPU_SYNC;
	phys_addr_t phys = r->phys + offset;
	dma_addr_t want;
	int ret;

	ret = resmem_dma_reachable(r, dev, phys, size);
	if (ret)
		return ret;
	if (resmem_dev_dma_coherent(dev))
		attrs |= RESMEM_DMA_ATTR_REQUIRE_COHERENT;
	map->attrs = attrs;
	map->phys = phys;
	map->size = size;
	if (RESMEM_HAVE_DMA_MAP_PHYS) {
		map->how = RESMEM_DMA_PHYS;
		map->addr = resmem_dma_map_phys(dev, phys, size,
						DMA_BIDIRECTIONAL, attrs);
	} else if (resmem_has_memmap(phys, size)) {
		map->how = RESMEM_DMA_PAGE;
		map->addr = dma_map_page_attrs(dev, pfn_to_page(PHYS_PFN(phys)),
					       offset_in_page(phys), size,
					       DMA_BIDIRECTIONAL, attrs);
	} else {
		map->how = RESMEM_DMA_RESOURCE;
		map->addr = dma_map_resource(dev, phys, size,
					     DMA_BIDIRECTIONAL, 0);
	}
	if (dma_mapping_error(dev, map->addr)) {
		dev_warn_ratelimited(dev, "resmem: cannot DMA-map region %s [mem %#llx-%#llx] for this device (%s failed: IOMMU out of address space?)\n",
				     r->name, (u64)phys, (u64)(phys + size - 1),
				     resmem_dma_how(map->how));
		return -EIO;
	}
	if (device_iommu_mapped(dev) && map->how != RESMEM_DMA_RESOURCE)
		return 0;	/* an I/O virtual address: nothing to compare */
	want = phys_to_dma(dev, phys);
	if (map->addr == want)
		return 0;
	resmem_dma_unmap(r, dev, map);
	if (map->how == RESMEM_DMA_RESOURCE) {
		dev_warn_ratelimited(dev, "resmem: region %s [mem %#llx-%#llx] has no struct pages and this device reaches memory through an IOMMU or a bus offset: this kernel has no way to map it for the device as memory; load resmem with pages=1 (struct pages for write-back regions), put the device's IOMMU in passthrough (iommu.passthrough=1), or use a kernel with dma_map_phys() (6.18 or later)\n",
				     r->name, (u64)phys, (u64)(phys + size - 1));
		return -EOPNOTSUPP;
	}
	dev_warn_ratelimited(dev, "resmem: region %s [mem %#llx-%#llx] would be bounced through swiotlb for this device (bus %pad instead of %pad): what it writes would never reach the region; not mapping it\n",
			     r->name, (u64)phys, (u64)(phys + size - 1),
			     &map->addr, &want);
	return -EIO;
}

/**
 * resmem_dma_map() - map a whole region for DMA by a device
 * @r: the region (claimed)
 * @dev: the device, its DMA mask set
 * @map: filled in: the bus address and how it was made
 *
 * Context: process context.
 * Return: as resmem_dma_map_range().
 */
int resmem_dma_map(const struct resmem_region *r, struct device *dev,
		   struct resmem_dma *map)
{
	return resmem_dma_map_range(r, dev, 0, r->size, map);
}

/**
 * resmem_dma_unmap() - undo resmem_dma_map() or resmem_dma_map_range()
 * @r: the region it mapped
 * @dev: the device it mapped it for
 * @map: what the mapping filled in
 */
void resmem_dma_unmap(const struct resmem_region *r, struct device *dev,
		      const struct resmem_dma *map)
{
	switch (map->how) {
	case RESMEM_DMA_PHYS:
		resmem_dma_unmap_phys(dev, map->addr, map->size,
				      DMA_BIDIRECTIONAL, map->attrs);
		break;
	case RESMEM_DMA_PAGE:
		dma_unmap_page_attrs(dev, map->addr, map->size,
				     DMA_BIDIRECTIONAL, map->attrs);
		break;
	case RESMEM_DMA_RESOURCE:
		dma_unmap_resource(dev, map->addr, map->size,
				   DMA_BIDIRECTIONAL, 0);
		break;
	}
}

/**
 * resmem_dma_how() - the DMA API call a mapping was made with, for logs
 * @how: resmem_dma.how
 *
 * Return: a static string.
 */
const char *resmem_dma_how(enum resmem_dma_how how)
{
	switch (how) {
	case RESMEM_DMA_PHYS:
		return "dma_map_phys";
	case RESMEM_DMA_PAGE:
		return "dma_map_page";
	default:
		return "dma_map_resource";
	}
}
