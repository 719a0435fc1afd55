// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: raises one kernel WARN on load, so the harness can prove that a
 * WARN in a guest fails the test that caused it (boots use panic_on_warn=1).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/bug.h>
#include <linux/module.h>

static int __init resmem_test_warn_init(void)
{
	WARN(1, "resmem-test-warn: deliberate warning requested by the test suite\n");
	return 0;
}
module_init(resmem_test_warn_init);

static void __exit resmem_test_warn_exit(void)
{
}
module_exit(resmem_test_warn_exit);

MODULE_DESCRIPTION("resmem test suite: deliberate WARN on load");
MODULE_LICENSE("GPL");
