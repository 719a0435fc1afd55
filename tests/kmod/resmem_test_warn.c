// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: proves that the harness fails a test on kernel trouble.
 * mode=warn (default) raises a real WARN (boots use panic_on_warn=1);
 * mode=log only prints the line the kernel prints for a bad page-table
 * entry, which does not panic: the harness must catch it from the log.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/bug.h>
#include <linux/module.h>
#include <linux/string.h>

static char *mode = "warn";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "warn: raise a WARN; log: print a 'Bad page map' line");

static int __init resmem_test_warn_init(void)
{
	if (!strcmp(mode, "log"))
		pr_alert("BUG: Bad page map in process resmem-test (simulated by the test suite)\n");
	else
		WARN(1, "resmem-test-warn: deliberate warning requested by the test suite\n");
	return 0;
}
module_init(resmem_test_warn_init);

static void __exit resmem_test_warn_exit(void)
{
}
module_exit(resmem_test_warn_exit);

MODULE_DESCRIPTION("resmem test suite: deliberate kernel trouble on load");
MODULE_LICENSE("GPL");
