// SPDX-License-Identifier: GPL-2.0
/* `resmem check` end to end against fixture files: exit codes and advice. */
#include <stdio.h>
#include <string.h>

#include "test.h"

struct scenario {
	const char *what;
	const char *cmdline, *iomem, *sys;	/* fixture names */
	int status;
	const char *must[4];			/* substrings of stdout */
};

static const struct scenario scenarios[] = {
	{ "good memmap=8G$4G", "reserve-8g-at-4g", "reserved-8g-at-4g", "loaded-8g-at-4g", 0,
	  { "ok: reserved", "claimed by resmem region 'region0'", "all good" } },
	{ "GRUB ate the dollar", "eaten-dollar", "no-reservation", "loaded-no-regions", 1,
	  { "memmap=8G has no address: this caps usable RAM at 8G and reserves nothing",
	    "grub-mkconfig, expanded `$ADDR`", "memmap=8G\\$ADDR` in grub.cfg", "memmap=8G\\\\\\$ADDR` in /etc/default/grub" } },
	{ "PCI hole", "pci-hole", "reserved-pci-hole", "loaded-no-regions", 1,
	  { "0xc0000000 is not RAM according to firmware", "PCI hole", "resmem plan --size 1G" } },
	{ "beyond the end of RAM", "beyond-ram", "no-reservation", "loaded-no-regions", 1,
	  { "0x380000000 is not RAM according to firmware" } },
	{ "did not take effect", "reserve-2g-at-5g", "no-reservation", "loaded-no-regions", 1,
	  { "did not take effect", "'System RAM' at 0x140000000" } },
	{ "module not loaded", "reserve-8g-at-4g", "reserved-8g-at-4g", "unloaded", 1,
	  { "ok: reserved", "resmem module is not loaded", "1 problem found" } },
	{ "reserved but unclaimed", "reserve-8g-at-4g", "reserved-8g-at-4g", "loaded-no-regions", 1,
	  { "no resmem device claims 0x100000000-0x2ffffffff" } },
	{ "comma-separated list", "two-1g", "reserved-two-1g", "loaded-two-1g", 0,
	  { "memmap=1G$4G:", "memmap=1G$0x180000000:", "region 'lo'", "region 'hi'" } },
	{ "KASLR kernel inside", "reserve-8g-at-4g", "kernel-inside", "loaded-8g-at-4g", 1,
	  { "kernel image ('Kernel code' at 0x200000000)", "nokaslr" } },
	{ "non-root zeros", "reserve-8g-at-4g", "non-root", "loaded-8g-at-4g", 1,
	  { "zeros", "non-root", "sudo resmem check" } },
	{ "unparsable entries", "invalid", "no-reservation", "loaded-no-regions", 1,
	  { "memmap=G$4G", "memmap=1G$", "2 problems found" } },
	{ "no memmap, regions from elsewhere", "none", "no-reservation", "loaded-two-1g", 0,
	  { "no memmap=", "all good" } },
	{ "no memmap, nothing reserved", "none", "no-reservation", "loaded-no-regions", 1,
	  { "nothing is reserved" } },
};

void test_check(const struct test_env *env)
{
	static struct cli_result res;
	char cmdline[512], iomem[512], fw[512], sys[512];
	size_t i, k;

	snprintf(fw, sizeof(fw), "%s/firmware-memmap", env->fixtures);
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		const char *argv[] = { "resmem", "check", "--cmdline", cmdline, "--iomem", iomem,
				       "--firmware-memmap", fw, "--sysfs", sys, NULL };

		snprintf(cmdline, sizeof(cmdline), "%s/cmdline/%s", env->fixtures, s->cmdline);
		snprintf(iomem, sizeof(iomem), "%s/iomem/%s", env->fixtures, s->iomem);
		snprintf(sys, sizeof(sys), "%s/sys/%s", env->fixtures, s->sys);
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
