// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only (arm64): a platform device with no device-tree node, which is
 * not DMA-coherent unless @coherent, asks to produce into region @region.
 * insmod fails with resmem_producer_get()'s error; on success the device
 * stays the region's producer until rmmod.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/platform_device.h>

#include "resmem_producer.h"

static char *region = "hi";
module_param(region, charp, 0444);
static bool coherent;
module_param(coherent, bool, 0444);

static struct platform_device *pdev;
static struct resmem_producer *producer;

static int __init resmem_test_nc_init(void)
{
	int ret;

	pdev = platform_device_register_simple("resmem-test-nc", PLATFORM_DEVID_NONE,
					       NULL, 0);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	ret = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto unregister;
	/* what the DT core would set for a node marked dma-coherent */
#ifdef RESMEM_HAVE_DEV_FLAGS
	dev_assign_dma_coherent(&pdev->dev, coherent);
#else
	pdev->dev.dma_coherent = coherent;
#endif
	producer = resmem_producer_get(region, &pdev->dev, RESMEM_PRODUCER_RESET);
	if (IS_ERR(producer)) {
		ret = PTR_ERR(producer);
		pr_info("resmem_producer_get(%s): %d\n", region, ret);
		goto unregister;
	}
	pr_info("producing into %s\n", region);
	return 0;

unregister:
	platform_device_unregister(pdev);
	return ret;
}

static void __exit resmem_test_nc_exit(void)
{
	resmem_producer_put(producer);
	platform_device_unregister(pdev);
}

module_init(resmem_test_nc_init);
module_exit(resmem_test_nc_exit);
MODULE_DESCRIPTION("resmem test: a non-coherent device as a producer");
MODULE_LICENSE("GPL");
