// SPDX-License-Identifier: GPL-2.0
/* memmap= parsing, /proc/iomem and firmware map parsing, and the verdicts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define G (1ULL << 30)

static void test_parse(void)
{
	static const struct {
		const char *text;
		enum resmem_memmap_kind kind;
		uint64_t size, addr;
		int trailing;
	} want[] = {
		{ "8G$4G", RESMEM_MEMMAP_RESERVE, 8 * G, 4 * G, 0 },
		{ "8G", RESMEM_MEMMAP_LIMIT, 8 * G, 0, 0 },
		{ "1G$4G", RESMEM_MEMMAP_RESERVE, G, 4 * G, 0 },
		{ "512M@0x200000000", RESMEM_MEMMAP_RAM, 512ULL << 20, 0x200000000ULL, 0 },
		{ "64K#0x1000", RESMEM_MEMMAP_ACPI, 64ULL << 10, 0x1000, 0 },
		{ "2G!8G", RESMEM_MEMMAP_PERSIST, 2 * G, 8 * G, 0 },
		{ "exactmap", RESMEM_MEMMAP_EXACTMAP, 0, 0, 0 },
		{ "010$0x10", RESMEM_MEMMAP_RESERVE, 8, 16, 0 },	/* memparse: octal */
		{ "1G%4G-1+12", RESMEM_MEMMAP_CONVERT, G, 0, 0 },
		{ "8GG", RESMEM_MEMMAP_LIMIT, 8 * G, 0, 1 },
		{ "G$4G", RESMEM_MEMMAP_INVALID, 0, 0, 0 },
		{ "1G$", RESMEM_MEMMAP_INVALID, G, 0, 0 },
		{ "", RESMEM_MEMMAP_INVALID, 0, 0, 0 },
		{ "4G$1T", RESMEM_MEMMAP_RESERVE, 4 * G, 1ULL << 40, 0 },
		{ "1P$0", RESMEM_MEMMAP_RESERVE, 1ULL << 50, 0, 0 },
		{ "1G$4Gx", RESMEM_MEMMAP_RESERVE, G, 4 * G, 1 },
		{ "2g$5g", RESMEM_MEMMAP_RESERVE, 2 * G, 5 * G, 0 },
		{ "16E$0", RESMEM_MEMMAP_INVALID, 0, 0, 0 },		/* overflows */
	};
	const char *cmdline =
		"BOOT_IMAGE=/vmlinuz ro memmap=8G$4G quiet memmap=8G "
		"memmap=1G$4G,512M@0x200000000,64K#0x1000,2G!8G memmap=exactmap "
		"memmap=010$0x10 memmap=1G%4G-1+12 memmap=8GG memmap=G$4G memmap=1G$ memmap= "
		"\"memmap=4G$1T\" xmemmap=3G$3G memmap=1P$0 memmap=1G$4Gx memmap=2g$5g memmap=16E$0 "
		"-- memmap=9G$9G\n";
	struct resmem_memmap *m;
	size_t n, i;

	CHECK(resmem_memmap_parse(cmdline, &m, &n) == 0);
	CHECK(n == sizeof(want) / sizeof(want[0]), "%zu entries", n);
	for (i = 0; i < n && i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(!strcmp(m[i].text, want[i].text), "entry %zu text \"%s\"", i, m[i].text);
		CHECK(m[i].kind == want[i].kind, "\"%s\" kind %d want %d", want[i].text, m[i].kind, want[i].kind);
		if (want[i].kind != RESMEM_MEMMAP_INVALID && want[i].kind != RESMEM_MEMMAP_EXACTMAP)
			CHECK(m[i].size == want[i].size, "\"%s\" size 0x%llx", want[i].text,
			      (unsigned long long)m[i].size);
		if (want[i].kind >= RESMEM_MEMMAP_RAM && want[i].kind <= RESMEM_MEMMAP_PERSIST)
			CHECK(m[i].addr == want[i].addr, "\"%s\" addr 0x%llx", want[i].text,
			      (unsigned long long)m[i].addr);
		CHECK(m[i].trailing == want[i].trailing, "\"%s\" trailing", want[i].text);
	}
	free(m);

	CHECK(resmem_memmap_parse("", &m, &n) == 0 && n == 0 && m == NULL);
	free(m);
	CHECK(resmem_memmap_parse("root=/dev/sda memmap_x=1", &m, &n) == 0 && n == 0);
	free(m);
}

static void test_iomem(void)
{
	const char *text =
		"00000000-00000fff : Reserved\n"
		"00100000-bffdffff : System RAM\n"
		"  3a000000-3ae02fff : Kernel code\n"
		"    3a000000-3a000fff : deeper\n"
		"100000000-2ffffffff : Reserved\n"
		"\n";
	struct resmem_iomem *e;
	size_t n;
	int zeroed = -1;

	CHECK(resmem_iomem_parse(text, &e, &n, &zeroed) == 0);
	CHECK(n == 5, "%zu entries", n);
	if (n == 5) {
		CHECK(e[1].start == 0x100000 && e[1].end == 0xbffdffff && e[1].depth == 0 &&
		      !strcmp(e[1].name, "System RAM"));
		CHECK(e[2].depth == 1 && !strcmp(e[2].name, "Kernel code"));
		CHECK(e[3].depth == 2);
		CHECK(e[4].start == 0x100000000ULL && e[4].end == 0x2ffffffffULL);
	}
	CHECK(zeroed == 0);
	free(e);

	CHECK(resmem_iomem_parse("00000000-00000000 : Reserved\n  00000000-00000000 : x\n",
				 &e, &n, &zeroed) == 0 && n == 2 && zeroed == 1);
	free(e);
	CHECK(resmem_iomem_parse("this is not iomem\n", &e, &n, &zeroed) == -EINVAL);
	CHECK(resmem_iomem_parse("1000-2000 Reserved\n", &e, &n, &zeroed) == -EINVAL);
}

static void load(const struct test_env *env, const char *iomem_name, struct resmem_sysview *v,
		 struct resmem_iomem **io, struct resmem_fwmap **fw)
{
	char path[512], *text = NULL;

	snprintf(path, sizeof(path), "%s/iomem/%s", env->fixtures, iomem_name);
	memset(v, 0, sizeof(*v));
	*io = NULL;
	if (!CHECK(resmem_read_file(path, &text) == 0, "%s", path))
		return;
	CHECK(resmem_iomem_parse(text, io, &v->n_iomem, &v->iomem_zeroed) == 0, "%s", path);
	free(text);
	v->iomem = *io;
	snprintf(path, sizeof(path), "%s/firmware-memmap", env->fixtures);
	CHECK(resmem_fwmap_read(path, fw, &v->n_fw) == 0);
	v->fw = *fw;
}

static enum resmem_verdict judge(const struct test_env *env, const char *iomem_name,
				 const char *entry, struct resmem_evidence *ev)
{
	struct resmem_sysview v;
	struct resmem_iomem *io;
	struct resmem_fwmap *fw = NULL;
	struct resmem_memmap *m;
	enum resmem_verdict r = (enum resmem_verdict)-1;
	size_t n;

	load(env, iomem_name, &v, &io, &fw);
	if (!resmem_memmap_parse(entry, &m, &n) && n == 1)
		r = resmem_memmap_judge(&m[0], &v, ev);
	free(m);
	free(io);
	free(fw);
	return r;
}

static void test_fwmap(const struct test_env *env)
{
	struct resmem_fwmap *fw;
	char path[512];
	size_t n, i;
	int sorted = 1;

	snprintf(path, sizeof(path), "%s/firmware-memmap", env->fixtures);
	CHECK(resmem_fwmap_read(path, &fw, &n) == 0 && n == 8, "%zu entries", n);
	for (i = 1; i < n; i++)
		sorted &= fw[i - 1].start < fw[i].start;
	CHECK(sorted);
	/* captured from QEMU's pc machine with -m 13G: RAM above 4 GiB, then the
	 * Reserved window SeaBIOS reports at 1012 GiB */
	CHECK(n == 8 && fw[6].start == 0x100000000ULL && fw[6].end == 0x37fffffffULL &&
	      !strcmp(fw[6].type, "System RAM") && fw[7].start == 0xfd00000000ULL &&
	      !strcmp(fw[7].type, "Reserved"));
	free(fw);
	snprintf(path, sizeof(path), "%s/no-such-dir", env->fixtures);
	CHECK(resmem_fwmap_read(path, &fw, &n) == -ENOENT);
}

static void test_judge(const struct test_env *env)
{
	struct resmem_evidence ev;

	CHECK(judge(env, "reserved-8g-at-4g", "memmap=8G$4G", &ev) == RESMEM_VERDICT_OK);
	CHECK(judge(env, "reserved-8g-at-4g", "memmap=1G$5G", &ev) == RESMEM_VERDICT_OK,
	      "a part of a reserved range is reserved");
	CHECK(judge(env, "no-reservation", "memmap=8G", &ev) == RESMEM_VERDICT_NO_ADDRESS);
	CHECK(judge(env, "../captured/pci-hole/loaded/iomem", "memmap=1G$3G", &ev) ==
	      RESMEM_VERDICT_NOT_RAM);
	CHECK(ev.where == 0xc0000000ULL && ev.fw_known, "where 0x%llx", (unsigned long long)ev.where);
	CHECK(judge(env, "no-reservation", "memmap=2G$13G", &ev) == RESMEM_VERDICT_NOT_RAM);
	CHECK(ev.where == 0x380000000ULL, "first non-RAM byte 0x%llx", (unsigned long long)ev.where);
	CHECK(judge(env, "no-reservation", "memmap=2G$5G", &ev) == RESMEM_VERDICT_NOT_APPLIED);
	CHECK(ev.where == 0x140000000ULL && !strcmp(ev.iomem, "System RAM"), "iomem '%s'", ev.iomem);
	CHECK(judge(env, "reserved-8g-at-4g", "memmap=2G$11G", &ev) == RESMEM_VERDICT_NOT_APPLIED,
	      "range half reserved");
	CHECK(ev.where == 0x300000000ULL, "where 0x%llx", (unsigned long long)ev.where);
	CHECK(judge(env, "reserved-two-1g", "memmap=1G$0x180000000", &ev) == RESMEM_VERDICT_OK);
	CHECK(judge(env, "reserved-two-1g", "memmap=3G$4G", &ev) == RESMEM_VERDICT_NOT_APPLIED,
	      "a gap between two reservations");
	/* captured with nokaslr: the image at 16 MiB, the kernel kept the range as RAM */
	CHECK(judge(env, "../captured/kernel-inside/loaded/iomem", "memmap=32M$16M", &ev) ==
	      RESMEM_VERDICT_KERNEL_INSIDE);
	CHECK(ev.where == 0x1000000ULL && !strcmp(ev.iomem, "Kernel code"), "where 0x%llx '%s'",
	      (unsigned long long)ev.where, ev.iomem);
	CHECK(judge(env, "no-reservation", "memmap=128K$0xA0000", &ev) == RESMEM_VERDICT_BELOW_1M,
	      "the ISA hole: below 1 MiB comes first, as in the module");
	CHECK(judge(env, "no-reservation", "memmap=64K$0x10000", &ev) == RESMEM_VERDICT_BELOW_1M);
	CHECK(ev.where == 0x10000ULL, "where 0x%llx", (unsigned long long)ev.where);
	CHECK(judge(env, "no-reservation", "memmap=1M$0x100000", &ev) != RESMEM_VERDICT_BELOW_1M,
	      "1 MiB itself is allowed");
	CHECK(judge(env, "non-root", "memmap=8G$4G", &ev) == RESMEM_VERDICT_UNKNOWN);
	CHECK(judge(env, "non-root", "memmap=1G$3G", &ev) == RESMEM_VERDICT_NOT_RAM,
	      "the firmware map is readable without root");
	CHECK(judge(env, "no-reservation", "memmap=G$4G", &ev) == RESMEM_VERDICT_INVALID);
	CHECK(judge(env, "no-reservation", "memmap=0$4G", &ev) == RESMEM_VERDICT_INVALID);
	CHECK(judge(env, "no-reservation", "memmap=2G$0xffffffffffffffff", &ev) == RESMEM_VERDICT_INVALID);
	CHECK(judge(env, "no-reservation", "memmap=exactmap", &ev) == RESMEM_VERDICT_NOT_CHECKED);
	CHECK(judge(env, "no-reservation", "memmap=1G@4G", &ev) == RESMEM_VERDICT_OK);
	CHECK(judge(env, "reserved-8g-at-4g", "memmap=1G@4G", &ev) == RESMEM_VERDICT_NOT_APPLIED);
}

void test_memmap(const struct test_env *env)
{
	test_parse();
	test_iomem();
	test_fwmap(env);
	test_judge(env);
}
