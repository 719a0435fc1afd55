// SPDX-License-Identifier: GPL-2.0
/* `resmem check` end to end against fixture files: exit codes and advice. */
#include <stdio.h>
#include <string.h>

#include "test.h"

struct scenario {
	const char *what;
	const char *cmdline, *iomem, *sys, *fw;	/* paths under fixtures/ */
	int status;
	const char *must[4];			/* substrings of stdout */
};

/*
 * What `resmem check` reads of a boot captured from the harness guest
 * (python3 -m tests.harness.fixtures capture NAME; fixtures/README.md), with
 * the module loaded or not: the expected words follow from what the boot
 * was (e.g. 1G at 3G lies in the PCI hole of QEMU's pc machine), never from
 * what the tool happened to print.
 */
#define CAPTURED(name, state)                                                   \
	"captured/" name "/cmdline", "captured/" name "/" state "/iomem",       \
		"captured/" name "/" state "/sys", "captured/" name "/firmware-memmap"
/* hand-written inputs, judged against the captured pc -m 13G firmware map */
#define WRITTEN(cmdline, iomem, sys)                                            \
	"cmdline/" cmdline, "iomem/" iomem, "sys/" sys, "firmware-memmap"

static const struct scenario scenarios[] = {
	{ "good memmap=8G$4G", CAPTURED("reserve-8g-at-4g", "loaded"), 0,
	  { "ok: reserved (firmware map: System RAM; /proc/iomem: Reserved)",
	    "claimed by resmem region 'region0'", "all good" } },
	{ "GRUB ate the dollar", CAPTURED("eaten-dollar", "loaded"), 1,
	  { "memmap=8G has no address: this caps usable RAM at 8G and reserves nothing",
	    "grub-mkconfig, expanded `$ADDR`", "memmap=8G\\$ADDR` in grub.cfg", "memmap=8G\\\\\\$ADDR` in /etc/default/grub" } },
	{ "PCI hole", CAPTURED("pci-hole", "loaded"), 1,
	  { "0xc0000000 is not RAM according to firmware (firmware map: no entry", "PCI hole",
	    "resmem plan --size 1G", "module: resmem is loaded, 0 regions" } },
	{ "kernel inside (nokaslr: at 16 MiB)", CAPTURED("kernel-inside", "loaded"), 1,
	  { "kernel image ('Kernel code' at 0x1000000)", "move the range away",
	    "module: resmem is loaded, 0 regions" } },
	{ "module not loaded", CAPTURED("reserve-8g-at-4g", "unloaded"), 1,
	  { "ok: reserved", "resmem module is not loaded", "1 problem found" } },
	{ "PCI hole, module not loaded", CAPTURED("pci-hole", "unloaded"), 1,
	  { "is not RAM according to firmware", "resmem module is not loaded", "2 problems found" } },
	{ "beyond the end of RAM", WRITTEN("beyond-ram", "no-reservation", "loaded-no-regions"), 1,
	  { "0x380000000 is not RAM according to firmware" } },
	{ "did not take effect", WRITTEN("reserve-2g-at-5g", "no-reservation", "loaded-no-regions"), 1,
	  { "did not take effect", "'System RAM' at 0x140000000" } },
	{ "reserved but unclaimed", "captured/reserve-8g-at-4g/cmdline",
	  "captured/reserve-8g-at-4g/unloaded/iomem", "sys/loaded-no-regions", "firmware-memmap", 1,
	  { "no resmem device claims 0x100000000-0x2ffffffff" } },
	{ "comma-separated list", WRITTEN("two-1g", "reserved-two-1g", "loaded-two-1g"), 0,
	  { "memmap=1G$4G:", "memmap=1G$0x180000000:", "region 'lo'", "region 'hi'" } },
	{ "non-root zeros", WRITTEN("reserve-8g-at-4g", "non-root", "loaded-8g-at-4g"), 1,
	  { "zeros", "non-root", "sudo resmem check" } },
	{ "unparsable entries", WRITTEN("invalid", "no-reservation", "loaded-no-regions"), 1,
	  { "memmap=G$4G", "memmap=1G$", "2 problems found" } },
	{ "no memmap, regions from elsewhere", WRITTEN("none", "no-reservation", "loaded-two-1g"), 0,
	  { "no memmap=", "all good" } },
	{ "no memmap, nothing reserved", WRITTEN("none", "no-reservation", "loaded-no-regions"), 1,
	  { "nothing is reserved" } },
};

void test_check(const struct test_env *env)
{
	static struct cli_result res;
	char cmdline[512], iomem[512], fw[512], sys[512];
	size_t i, k;

	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		const char *argv[] = { "resmem", "check", "--cmdline", cmdline, "--iomem", iomem,
				       "--firmware-memmap", fw, "--sysfs", sys, NULL };

		snprintf(cmdline, sizeof(cmdline), "%s/%s", env->fixtures, s->cmdline);
		snprintf(iomem, sizeof(iomem), "%s/%s", env->fixtures, s->iomem);
		snprintf(sys, sizeof(sys), "%s/%s", env->fixtures, s->sys);
		snprintf(fw, sizeof(fw), "%s/%s", env->fixtures, s->fw);
		run_cli(env, &res, argv);
		CHECK(res.status == s->status, "check (%s): exit %d, want %d\n%s%s", s->what,
		      res.status, s->status, res.out, res.err);
		for (k = 0; k < 4 && s->must[k]; k++)
			CHECK(strstr(res.out, s->must[k]), "check (%s): no \"%s\" in:\n%s", s->what,
			      s->must[k], res.out);
	}

	{
		const char *argv[] = { "resmem", "check", "--bogus", NULL };

		CHECK(run_cli(env, &res, argv) == 2, "unknown option is a usage error");
	}
	{
		const char *argv[] = { "resmem", "check", "--cmdline", "/no/such/file", NULL };

		CHECK(run_cli(env, &res, argv) == 3 && strstr(res.err, "ENOENT"), "%s", res.err);
	}
	{
		const char *argv[] = { "resmem", "check", "--cmdline", NULL };

		CHECK(run_cli(env, &res, argv) == 2 && strstr(res.err, "needs a value"), "%s", res.err);
	}
	{
		/* no firmware map (arm64): still judged from iomem, and said so */
		snprintf(cmdline, sizeof(cmdline), "%s/cmdline/reserve-8g-at-4g", env->fixtures);
		snprintf(iomem, sizeof(iomem), "%s/iomem/reserved-8g-at-4g", env->fixtures);
		snprintf(sys, sizeof(sys), "%s/sys/loaded-8g-at-4g", env->fixtures);
		const char *argv[] = { "resmem", "check", "--cmdline", cmdline, "--iomem", iomem,
				       "--firmware-memmap", "/no/such/dir", "--sysfs", sys, NULL };

		CHECK(run_cli(env, &res, argv) == 0 && strstr(res.out, "no firmware memory map"),
		      "%d %s", res.status, res.out);
	}
}
