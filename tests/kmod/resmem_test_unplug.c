// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: take a device-tree node's platform device away and give it
 * back, as an overlay removal or a parent's depopulate does to a bound
 * driver (which suppress_bind_attrs cannot refuse).
 *
 * insmod: of_platform_device_destroy() on the device of @node (a node the
 * kernel populated at boot, e.g. a device with memory-region), which
 * unbinds its driver (resmem's regions go) before insmod returns.
 * rmmod: of_platform_device_create() for the node again, which binds the
 * driver again if it is loaded (resmem's regions come back).
 * The console says which: "resmem_test_unplug: removed NODE" /
 * "re-created NODE".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_platform.h>
#include <linux/platform_device.h>

static char *node = "/resmem-dma";
module_param(node, charp, 0444);

static struct device_node *np;

static int __init unplug_init(void)
{
	struct platform_device *pdev;

	np = of_find_node_by_path(node);
	if (!np) {
		pr_err("no node %s\n", node);
		return -ENOENT;
	}
	pdev = of_find_device_by_node(np);
	if (!pdev) {
		pr_err("node %s has no platform device\n", node);
		of_node_put(np);
		return -ENODEV;
	}
	of_platform_device_destroy(&pdev->dev, NULL);
	platform_device_put(pdev);
	pr_info("removed %s\n", node);
	return 0;
}

static void __exit unplug_exit(void)
{
	struct platform_device *pdev = of_platform_device_create(np, NULL, NULL);

	if (pdev)
		pr_info("re-created %s as %s\n", node, dev_name(&pdev->dev));
	else
		pr_err("cannot re-create %s\n", node);
	of_node_put(np);
}

module_init(unplug_init);
module_exit(unplug_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("resmem test: remove and re-create a device-tree platform device");
