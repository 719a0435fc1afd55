// SPDX-License-Identifier: GPL-2.0
/*
 * resmem plan: the planner on saved firmware maps (QEMU pc/q35 captured from
 * guests, real-machine shapes), the escapers, the boot-configuration readers
 * and the CLI's lines.  Every expected address was worked out by hand from
 * the fixture (comment next to it), not by running the planner.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resmem_plan.h"
#include "test.h"

#define G (1ULL << 30)
#define M (1ULL << 20)
#define RUN(res, ...) run_cli(env, res, (const char *const[]){ "resmem", __VA_ARGS__, NULL })

static struct cli_result res;

struct place_case {
	const char *map, *iomem;	/* fixtures/plan/<name> */
	uint64_t size, align, above, below;
	unsigned count;
	int kaslr;
	int err;			/* 0 or -ENOSPC */
	uint64_t starts[4];		/* expected region starts */
	unsigned n;			/* regions placed */
};

static const struct place_case cases[] = {
	/* pc -m 2G: RAM 1M..0x7ffdffff only; nothing above 4G */
	{ "qemu-pc-2G.memmap", NULL, 1 * G, 0, 4 * G, 0, 1, -1, -ENOSPC, { 0 }, 0 },
	/* --above 256M: 512M aligned 2M at 256M ends 0x30000000 < 0x7ffe0000 */
	{ "qemu-pc-2G.memmap", NULL, 512 * M, 0, 256 * M, 0, 1, -1, 0, { 256 * M }, 1 },
	/* 1G aligned 1G from 256M is 1G; 1G+1G > 0x7ffe0000 */
	{ "qemu-pc-2G.memmap", NULL, 1 * G, 0, 256 * M, 0, 1, -1, -ENOSPC, { 0 }, 0 },
	/* pc 3.5G: RAM above 4G is 0x100000000-0x11fffffff (512M) */
	{ "qemu-pc-3584M.memmap", NULL, 512 * M, 0, 4 * G, 0, 1, -1, 0, { 4 * G }, 1 },
	{ "qemu-pc-3584M.memmap", NULL, 1 * G, 0, 4 * G, 0, 1, -1, -ENOSPC, { 0 }, 0 },
	/* pc 5G: 4G..6G; two 1G: 4G, then >= 5G+4K aligned 1G = 6G: no room */
	{ "qemu-pc-5G.memmap", NULL, 2 * G, 0, 4 * G, 0, 1, -1, 0, { 4 * G }, 1 },
	{ "qemu-pc-5G.memmap", NULL, 1 * G, 0, 4 * G, 0, 2, -1, -ENOSPC, { 4 * G }, 1 },
	/* two 512M (align 2M): 4G, then 4G+512M+4K rounded up to 2M */
	{ "qemu-pc-5G.memmap", NULL, 512 * M, 0, 4 * G, 0, 2, -1, 0, { 4 * G, 0x120200000 }, 2 },
	/* pc 13G: 4G..14G */
	{ "qemu-pc-13G.memmap", NULL, 8 * G, 0, 4 * G, 0, 1, -1, 0, { 4 * G }, 1 },
	{ "qemu-pc-13G.e820", NULL, 10 * G, 0, 4 * G, 0, 1, -1, 0, { 4 * G }, 1 },
	{ "qemu-pc-13G.e820", NULL, 11 * G, 0, 4 * G, 0, 1, -1, -ENOSPC, { 0 }, 0 },
	/* three 2G: 4G; 6G+4K -> 7G; 9G+4K -> 10G */
	{ "qemu-pc-13G.memmap", NULL, 2 * G, 0, 4 * G, 0, 3, -1, 0, { 4 * G, 7 * G, 10 * G }, 3 },
	/* captured iomem: kernel at 0x21f600000 by KASLR: not avoided */
	{ "qemu-pc-13G.memmap", "qemu-pc-13G.iomem", 8 * G, 0, 4 * G, 0, 1, -1, 0, { 4 * G }, 1 },
	/* same, told the kernel is fixed (nokaslr): kernel ends 0x2229fffff ->
	 * 9G; 9G+5G = 14G fits exactly, 9G+8G does not */
	{ "qemu-pc-13G.memmap", "qemu-pc-13G.iomem", 5 * G, 0, 4 * G, 0, 1, 0, 0, { 9 * G }, 1 },
	{ "qemu-pc-13G.memmap", "qemu-pc-13G.iomem", 8 * G, 0, 4 * G, 0, 1, 0, -ENOSPC, { 0 }, 0 },
	/* kernel at 16M (fixed) below 4G; Crash kernel 4G..4G+256M -> 5G */
	{ "qemu-pc-13G.memmap", "kernel-fixed-crash.iomem", 8 * G, 0, 4 * G, 0, 1, -1, 0, { 5 * G }, 1 },
	/* q35 2G: RAM up to 0x7ffdffff; q35 5G: 4G..7G; q35 13G: 4G..15G */
	{ "qemu-q35-2G.memmap", NULL, 1 * G, 0, 4 * G, 0, 1, -1, -ENOSPC, { 0 }, 0 },
	{ "qemu-q35-5G.memmap", NULL, 3 * G, 0, 4 * G, 0, 1, -1, 0, { 4 * G }, 1 },
	{ "qemu-q35-5G.memmap", NULL, 3 * G + 4096, 0, 4 * G, 0, 1, -1, -ENOSPC, { 0 }, 0 },
	{ "qemu-q35-13G.e820", NULL, 11 * G, 0, 4 * G, 0, 1, -1, 0, { 4 * G }, 1 },
	/* desktop: 4G..0x87fffffff (30G); --below 8G */
	{ "desktop-32g-acpi.e820", NULL, 16 * G, 0, 4 * G, 0, 1, -1, 0, { 4 * G }, 1 },
	{ "desktop-32g-acpi.e820", NULL, 4 * G, 0, 4 * G, 8 * G, 1, -1, 0, { 4 * G }, 1 },
	{ "desktop-32g-acpi.e820", NULL, 5 * G, 0, 4 * G, 8 * G, 1, -1, -ENOSPC, { 0 }, 0 },
	/* below 4G only: first RAM run 1M..0x6b8f3fff, 1G-aligned 1G..2G too long */
	{ "desktop-32g-acpi.e820", NULL, 1 * G, 0, 256 * M, 4 * G, 1, -1, -ENOSPC, { 0 }, 0 },
	/* server: 4G..130G, 1G hole, 131G..258G */
	{ "server-2node-256g.memmap", NULL, 127 * G, 0, 4 * G, 0, 1, -1, 0, { 131 * G }, 1 },
	{ "server-2node-256g.memmap", NULL, 60 * G, 0, 4 * G, 0, 3, -1, 0, { 4 * G, 65 * G, 131 * G }, 3 },
	{ "server-2node-256g.memmap", NULL, 64 * G, 0, 4 * G, 0, 3, -1, -ENOSPC, { 4 * G, 131 * G }, 2 },
	/* split by an unusable 2M at 10G: runs 4G..10G and 0x280200000..18G */
	{ "split-by-unusable-18g.e820", NULL, 8 * G, 0, 4 * G, 0, 1, -1, -ENOSPC, { 0 }, 0 },
	{ "split-by-unusable-18g.e820", NULL, 7 * G, 0, 4 * G, 0, 1, -1, 0, { 11 * G }, 1 },
	{ "split-by-unusable-18g.e820", NULL, 6 * G, 0, 4 * G, 0, 1, -1, 0, { 4 * G }, 1 },
	/* 2M alignment: the second run from 0x280200000 holds 8G - 2M */
	{ "split-by-unusable-18g.e820", NULL, 8 * G - 2 * M, 2 * M, 4 * G, 0, 1, -1, 0, { 0x280200000 }, 1 },
	/* small board, 1G of RAM */
	{ "board-1g.memmap", NULL, 128 * M, 0, 4 * G, 0, 1, -1, -ENOSPC, { 0 }, 0 },
	{ "board-1g.memmap", NULL, 128 * M, 0, 256 * M, 0, 1, -1, 0, { 256 * M }, 1 },
	/* adjacent RAM entries 4G..8G, 8G..10G, 10G..13G merge into one 9G run */
	{ "adjacent-ram-12g.memmap", NULL, 9 * G, 0, 4 * G, 0, 1, -1, 0, { 4 * G }, 1 },
};

static int load(const struct test_env *env, const char *name, char **text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/plan/%s", env->fixtures, name);
	return resmem_read_file(path, text);
}

static void test_placement(const struct test_env *env)
{
	size_t i, maps = 0;
	const char *seen[64];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct place_case *c = &cases[i];
		struct resmem_plan_req req = { .size = c->size, .align = c->align, .above = c->above,
					       .below = c->below, .count = c->count, .kaslr = c->kaslr };
		struct resmem_fwmap *fw = NULL;
		struct resmem_iomem *io = NULL;
		struct resmem_plan p;
		size_t n_fw = 0, n_io = 0, k;
		char *text;
		int err, zeroed, known = 0;

		if (!CHECK(load(env, c->map, &text) == 0, "%s", c->map))
			continue;
		CHECK(resmem_fwmap_parse_text(text, &fw, &n_fw) == 0 && n_fw > 4, "%s", c->map);
		free(text);
		if (c->iomem) {
			CHECK(load(env, c->iomem, &text) == 0);
			CHECK(resmem_iomem_parse(text, &io, &n_io, &zeroed) == 0 && !zeroed);
			free(text);
		}
		err = resmem_plan_make(fw, n_fw, io, n_io, &req, &p);
		CHECK(err == c->err && p.n == c->n, "case %zu (%s, size 0x%llx x%u): err %d n %u, want %d n %u",
		      i, c->map, (unsigned long long)c->size, c->count, err, p.n, c->err, c->n);
		for (k = 0; k < c->n && k < p.n; k++)
			CHECK(p.r[k].start == c->starts[k] && p.r[k].size == c->size,
			      "case %zu (%s) region %zu at 0x%llx, want 0x%llx", i, c->map, k,
			      (unsigned long long)p.r[k].start, (unsigned long long)c->starts[k]);
		for (k = 0; k < maps; k++)
			known |= !strcmp(seen[k], c->map);
		if (!known && maps < 64)
			seen[maps++] = c->map;
		free(fw);
		free(io);
	}
	CHECK(maps >= 10, "only %zu firmware maps exercised", maps);
}

static struct resmem_plan plan_on(const struct test_env *env, const char *map, uint64_t size,
				  uint64_t align, uint64_t above, uint64_t at, int *err)
{
	struct resmem_plan_req req = { .size = size, .align = align, .above = above, .count = 1,
				       .at = at, .have_at = 1, .kaslr = -1 };
	struct resmem_fwmap *fw = NULL;
	struct resmem_plan p;
	size_t n_fw = 0;
	char *text = NULL;

	memset(&p, 0, sizeof(p));
	if (load(env, map, &text) || resmem_fwmap_parse_text(text, &fw, &n_fw)) {
		*err = -999;
	} else {
		*err = resmem_plan_make(fw, n_fw, NULL, 0, &req, &p);
	}
	free(text);
	free(fw);
	return p;
}

static void test_refusals(const struct test_env *env)
{
	struct resmem_plan p;
	int err;

	/* 0x7c000000 starts a firmware "reserved" entry (below 4G on the desktop) */
	p = plan_on(env, "desktop-32g-acpi.e820", 64 * M, 0, 0, 0x7c000000, &err);
	CHECK(err == -ENOSPC && p.why == RESMEM_PLAN_AT_NOT_RAM && p.where == 0x7c000000 &&
	      !strcmp(p.what, "Reserved"), "%d %d 0x%llx %s", err, p.why, (unsigned long long)p.where, p.what);
	/* 0x78000000 lies in ACPI NVS 0x77fff000-0x7a7fefff */
	p = plan_on(env, "desktop-32g-acpi.e820", 2 * M, 0, 0, 0x78000000, &err);
	CHECK(err == -ENOSPC && p.where == 0x78000000 && !strcmp(p.what, "ACPI Non-volatile Storage"), "%s", p.what);
	/* the ACPI data entry 0x77f6c000-0x77ffefff, 4K pages */
	p = plan_on(env, "desktop-32g-acpi.e820", 4096, 4096, 0, 0x77f6c000, &err);
	CHECK(err == -ENOSPC && !strcmp(p.what, "ACPI Tables"), "%s", p.what);
	/* starts in RAM, runs into the reserved entry at 0xbffe0000 (pc) */
	p = plan_on(env, "qemu-pc-13G.memmap", 4 * M, 0, 0, 0xbfe00000, &err);
	CHECK(err == -ENOSPC && p.where == 0xbffe0000 && !strcmp(p.what, "Reserved"),
	      "0x%llx %s", (unsigned long long)p.where, p.what);
	/* the PCI hole at 3G: no firmware entry at all */
	p = plan_on(env, "qemu-pc-13G.memmap", 1 * G, 0, 0, 3 * G, &err);
	CHECK(err == -ENOSPC && p.where == 3 * G && strstr(p.what, "no firmware entry"), "%s", p.what);
	/* beyond installed RAM (14G) */
	p = plan_on(env, "qemu-pc-13G.memmap", 1 * G, 0, 0, 14 * G, &err);
	CHECK(err == -ENOSPC && p.why == RESMEM_PLAN_AT_NOT_RAM && p.where == 14 * G);
	/* straddles the end of RAM: 13G..15G, first bad byte 14G */
	p = plan_on(env, "qemu-pc-13G.memmap", 2 * G, 0, 0, 13 * G, &err);
	CHECK(err == -ENOSPC && p.where == 14 * G);
	/* persistent (type 12) at 18G */
	p = plan_on(env, "split-by-unusable-18g.e820", 1 * G, 0, 0, 18 * G, &err);
	CHECK(err == -ENOSPC && !strcmp(p.what, "Persistent Memory (legacy)"), "%s", p.what);
	/* 1G size wants 1G alignment */
	p = plan_on(env, "qemu-pc-13G.memmap", 1 * G, 0, 0, 4 * G + 2 * M, &err);
	CHECK(err == -ENOSPC && p.why == RESMEM_PLAN_AT_UNALIGNED);
	/* a good --at */
	p = plan_on(env, "qemu-pc-13G.memmap", 2 * G, 0, 0, 6 * G, &err);
	CHECK(err == 0 && p.n == 1 && p.r[0].start == 6 * G && p.r[0].run_start == 4 * G &&
	      p.r[0].run_end == 14 * G - 1);
	/* bad requests */
	p = plan_on(env, "qemu-pc-13G.memmap", 4095, 0, 0, 4 * G, &err);
	CHECK(err == -EINVAL);
	p = plan_on(env, "qemu-pc-13G.memmap", 1 * G, 3 * G, 0, 4 * G, &err);
	CHECK(err == -EINVAL);
}

static void test_largest(const struct test_env *env)
{
	struct resmem_plan_req req = { .size = 8 * G, .above = 4 * G, .count = 1, .kaslr = -1 };
	struct resmem_fwmap *fw;
	struct resmem_plan p;
	size_t n;
	char *text;

	/* runs 4G..10G (6G) and 0x280200000..18G: from 11G (1G-aligned) 7G */
	CHECK(load(env, "split-by-unusable-18g.e820", &text) == 0);
	CHECK(resmem_fwmap_parse_text(text, &fw, &n) == 0 && n == 10, "%zu entries", n);
	CHECK(resmem_plan_make(fw, n, NULL, 0, &req, &p) == -ENOSPC && p.why == RESMEM_PLAN_NO_FIT &&
	      p.largest == 7 * G, "largest 0x%llx", (unsigned long long)p.largest);
	req.align = 2 * M;			/* from 0x280200000 to 18G */
	CHECK(resmem_plan_make(fw, n, NULL, 0, &req, &p) == -ENOSPC && p.largest == 8 * G - 2 * M);
	/* System RAM: 0x9fc00 + 0xbfee0000 + 6G + (8G - 2M) */
	CHECK(p.fw_ram == 0x9fc00ULL + 0xbfee0000ULL + 6 * G + 8 * G - 2 * M);
	free(fw);
	free(text);
}

static void test_fwtext(const struct test_env *env)
{
	struct resmem_fwmap *a, *b;
	size_t na, nb, i;
	char *ta, *tb;
	int same = 1;

	/* the same guest's /sys/firmware/memmap listing and BIOS-e820 log lines */
	CHECK(load(env, "qemu-pc-13G.memmap", &ta) == 0 && load(env, "qemu-pc-13G.e820", &tb) == 0);
	CHECK(resmem_fwmap_parse_text(ta, &a, &na) == 0 && resmem_fwmap_parse_text(tb, &b, &nb) == 0);
	CHECK(na == 8 && nb == 8, "%zu %zu", na, nb);
	for (i = 0; i < na && i < nb; i++)
		same &= a[i].start == b[i].start && a[i].end == b[i].end && !strcmp(a[i].type, b[i].type);
	CHECK(same, "listing and e820 lines disagree");
	CHECK(a[7].start == 0xfd00000000ULL && a[6].start == 0x100000000ULL &&
	      a[6].end == 0x37fffffffULL && !strcmp(a[6].type, "System RAM"));
	free(a);
	free(b);
	free(ta);
	free(tb);
	CHECK(resmem_fwmap_parse_text("hello\nworld\n", &a, &na) == -ENODATA);
	CHECK(resmem_fwmap_parse_text("0x2000 0x1000 System RAM\n", &a, &na) == -EINVAL);
	/* a log with the map twice (two boots) */
	CHECK(resmem_fwmap_parse_text("BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
				      "x BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
				      "BIOS-e820: [mem 0x0000000100000000-0x00000001ffffffff] soft reserved\n",
				      &a, &na) == 0 && na == 2 && !strcmp(a[1].type, "Soft Reserved"));
	free(a);
}

static void test_escape(void)
{
	char buf[256];

	CHECK(resmem_escape_grub("memmap=8G$0x100000000", buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "memmap=8G\\$0x100000000"), "%s", buf);
	CHECK(resmem_escape_grub("a b\"c'd\\e;f#g{h}", buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "a\\ b\\\"c\\'d\\\\e\\;f\\#g\\{h\\}"), "%s", buf);
	CHECK(resmem_escape_grub("root=UUID=0b1c-22,ro:x/y+z_.", buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "root=UUID=0b1c-22,ro:x/y+z_."), "%s", buf);
	CHECK(resmem_escape_sh_dq("quiet memmap=8G\\$4G \"`", buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "quiet memmap=8G\\\\\\$4G \\\"\\`"), "%s", buf);
	CHECK(resmem_escape_sh_sq("it's $x", buf, sizeof(buf)) == 0 && !strcmp(buf, "'it'\\''s $x'"), "%s", buf);
	CHECK(resmem_escape_hush("memmap=8G$4G", buf, sizeof(buf)) == 0 && !strcmp(buf, "'memmap=8G$4G'"));
	CHECK(resmem_escape_grub("$$$$", buf, 8) == -ENOSPC && strlen(buf) < 8);
	CHECK(resmem_escape_sh_sq("abc", buf, 5) == -ENOSPC);
}

static void test_bootcfg(void)
{
	char **w, **v, **d, *val;
	size_t n;
	int found;

	CHECK(resmem_cmdline_split("BOOT_IMAGE=/vmlinuz  root=UUID=x ro foo=\"a b\" \"bar=c d\" -- init arg",
				   &w, &n) == 0 && n == 5);
	CHECK(!strcmp(w[0], "BOOT_IMAGE=/vmlinuz") && !strcmp(w[3], "foo=a b") && !strcmp(w[4], "bar=c d") &&
	      w[5] == NULL);
	resmem_strv_free(w);

	CHECK(resmem_grub_words("quiet \"a b\" memmap=8G\\$4G 'c$d'", &v, &d, &n) == 0 && n == 4);
	CHECK(!strcmp(v[1], "\"a b\"") && !strcmp(d[1], "a b") && !strcmp(v[2], "memmap=8G\\$4G") &&
	      !strcmp(d[2], "memmap=8G$4G") && !strcmp(d[3], "c$d"), "%s|%s|%s", d[1], d[2], d[3]);
	resmem_strv_free(v);
	resmem_strv_free(d);
	CHECK(resmem_grub_words("a \"b", &v, &d, &n) == -EINVAL);
	/* GRUB expands what sh left unescaped: $4 and $0 are empty, 'x' and \$ are not */
	CHECK(resmem_grub_words("memmap=8G$4G memmap=8G$0x100000000 \"a${b}c\" 'x$y' m=\\$1 $", &v, &d, &n) == 0 &&
	      n == 6);
	CHECK(!strcmp(d[0], "memmap=8GG") && !strcmp(d[1], "memmap=8Gx100000000") && !strcmp(d[2], "ac") &&
	      !strcmp(d[3], "x$y") && !strcmp(d[4], "m=$1") && !strcmp(d[5], "$"),
	      "%s|%s|%s|%s|%s|%s", d[0], d[1], d[2], d[3], d[4], d[5]);
	resmem_strv_free(v);
	resmem_strv_free(d);

	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n", &val, &found) == 0 &&
	      found && !strcmp(val, "quiet splash"));
	free(val);
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"a\"\n#GRUB_CMDLINE_LINUX_DEFAULT=\"b\"\n"
					"  export GRUB_CMDLINE_LINUX_DEFAULT='c $d'  # comment\n", &val, &found) == 0 &&
	      !strcmp(val, "c $d"), "%s", val);
	free(val);
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"x\\\\\\$y \\\"q\\\" \\z\"\n", &val, &found) == 0 &&
	      !strcmp(val, "x\\$y \"q\" \\z"), "%s", val);
	free(val);
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"one\\\ntwo\"\n", &val, &found) == 0 &&
	      !strcmp(val, "onetwo"), "%s", val);
	free(val);
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=a\\ b;c\n", &val, &found) == 0 &&
	      !strcmp(val, "a b"), "%s", val);
	free(val);
	CHECK(resmem_default_grub_value("GRUB_TIMEOUT=5\n", &val, &found) == 0 && !found && !strcmp(val, ""));
	free(val);
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"$FOO x\"\n", &val, &found) == -ENOTSUP);
	/* what grub-mkconfig's sh makes of it: no positional parameters, $0 its path */
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet memmap=8G$4G\"\n", &val, &found) == 0 &&
	      !strcmp(val, "quiet memmap=8GG"), "%s", val);
	free(val);
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=memmap=8G$0x1${2}0$#\n", &val, &found) == 0 &&
	      !strcmp(val, "memmap=8G/usr/sbin/grub-mkconfigx100"), "%s", val);
	free(val);
	/* drop-ins append to the value so far */
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT a\"\n"
					"GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} b\"\n", &val, &found) == 0 &&
	      !strcmp(val, "quiet a b"), "%s", val);
	free(val);
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"$X\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT a\"\n",
					&val, &found) == -ENOTSUP);
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"$X\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"a\"\n", &val, &found) == 0 &&
	      !strcmp(val, "a"), "%s", val);
	free(val);
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"$$ x\"\n", &val, &found) == -ENOTSUP);
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"$(id) x\"\n", &val, &found) == -ENOTSUP);
	val = resmem_default_grub_lines("A=1\nGRUB_CMDLINE_LINUX_DEFAULT=\"$X memmap=8G\"\n"
					" export GRUB_CMDLINE_LINUX_DEFAULT=y\nGRUB_CMDLINE_LINUX=z", "GRUB_CMDLINE_LINUX_DEFAULT");
	CHECK(val && !strcmp(val, "GRUB_CMDLINE_LINUX_DEFAULT=\"$X memmap=8G\"\n export GRUB_CMDLINE_LINUX_DEFAULT=y\n"),
	      "%s", val);
	free(val);
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"x `id`\"\n", &val, &found) == -ENOTSUP);
	CHECK(resmem_default_grub_value("GRUB_CMDLINE_LINUX_DEFAULT=\"x\n", &val, &found) == -EINVAL);
}

static void test_cli_lines(const struct test_env *env)
{
	char map[512], grub[512], cmd[512], io[512], old[512], eaten[512], three[512], dir[600], path[700],
		unknown[600];
	char *text;

	snprintf(map, sizeof(map), "%s/plan/qemu-pc-13G.memmap", env->fixtures);
	snprintf(grub, sizeof(grub), "%s/plan/debian.grub", env->fixtures);
	snprintf(old, sizeof(old), "%s/plan/old-memmap.grub", env->fixtures);
	snprintf(eaten, sizeof(eaten), "%s/plan/eaten.grub", env->fixtures);
	snprintf(cmd, sizeof(cmd), "%s/plan/debian.cmdline", env->fixtures);
	snprintf(three, sizeof(three), "%s/plan/three-memmap.cmdline", env->fixtures);
	snprintf(io, sizeof(io), "%s/plan/qemu-pc-13G.iomem", env->fixtures);

	CHECK(RUN(&res, "plan", "--size", "8G", "--from", map, "--grub-default", grub, "--cmdline", cmd,
		  "--json") == 0, "%s", res.err);
	CHECK(strstr(res.out, "\n  \"memmap\": \"8G$0x100000000\",\n"), "%s", res.out);
	CHECK(strstr(res.out, "\"etc_default_grub\": \"GRUB_CMDLINE_LINUX_DEFAULT=\\\"quiet memmap=8G\\\\\\\\\\\\$0x100000000\\\"\""),
	      "%s", res.out);
	CHECK(strstr(res.out, "\"grub_cfg\": \"linux /boot/vmlinuz-6.1.0-18-amd64 root=UUID=0b1c-22 ro quiet memmap=8G\\\\$0x100000000\""),
	      "%s", res.out);
	CHECK(strstr(res.out, "\"grubby\": \"grubby --update-kernel=ALL --remove-args='memmap=8G\\\\$4G' "
			      "--args='memmap=8G\\\\$0x100000000'\""), "%s", res.out);
	CHECK(strstr(res.out, "\"systemd_boot\": \"options root=UUID=0b1c-22 ro quiet memmap=8G$0x100000000\""), "%s", res.out);
	CHECK(strstr(res.out, "\"uboot\": \"setenv bootargs 'root=UUID=0b1c-22 ro quiet memmap=8G$0x100000000'\""), "%s", res.out);
	CHECK(strstr(res.out, "\"replaces\": [\"memmap=8G$4G\"]") && strstr(res.out, "\"complete\": true"), "%s", res.out);
	/* 13 GiB of firmware RAM minus the 8G: 0x9fc00 + 0xbfee0000 + 10G - 8G */
	CHECK(strstr(res.out, "\"ram_left\": 5368183808"), "%s", res.out);

	/* old memmap=$ in /etc/default/grub replaced, the rest kept verbatim */
	CHECK(RUN(&res, "plan", "--size", "8G", "--from", map, "--grub-default", old) == 0);
	CHECK(strstr(res.out, "/etc/default/grub:   GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash memmap=1G@8G "
			      "acpi_osi=\\\"!Windows 2015\\\" memmap=8G\\\\\\$0x100000000\"\n"), "%s", res.out);
	/* sh eats the $ of memmap=8G$4G: the value is what grub-mkconfig sees, the
	 * mangled word (8 GiB of RAM, no reservation) is replaced */
	CHECK(RUN(&res, "plan", "--size", "8G", "--from", map, "--grub-default", eaten, "--json") == 0);
	CHECK(strstr(res.out, "\"etc_default_grub\": \"GRUB_CMDLINE_LINUX_DEFAULT=\\\"quiet memmap=8G\\\\\\\\\\\\$0x100000000\\\"\"") &&
	      strstr(res.out, "\"replaces\": [\"memmap=8GG\"]") && strstr(res.out, "\"complete\": false"), "%s", res.out);
	CHECK(RUN(&res, "plan", "--size", "8G", "--from", map, "--grub-default", eaten) == 0 &&
	      strstr(res.out, "\nincomplete: ") && strstr(res.out, "note: replaces memmap=8GG\n") &&
	      strstr(res.out, "(it now hands the kernel memmap=8GG: the drop-in assigns the value without it"), "%s", res.out);

	/* KASLR: the fixture keeps 3 memmap= (its $ one is replaced): +1 is 4, fine; +2 is 5
	 * (4G, then 5G + 4K rounded up to 1G = 6G) */
	CHECK(RUN(&res, "plan", "--size", "1G", "--from", map, "--cmdline", three, "--json") == 0);
	CHECK(strstr(res.out, "\"memmap_entries\": 4, \"safe\": true"), "%s", res.out);
	CHECK(RUN(&res, "plan", "--size", "1G", "--count", "2", "--from", map, "--cmdline", three, "--json") == 0);
	CHECK(strstr(res.out, "\"memmap_entries\": 5, \"safe\": false") && strstr(res.out, "nokaslr") &&
	      !strstr(res.out, "\n  \"memmap\"") && strstr(res.out, "{\"memmap\": \"1G$0x180000000\""),
	      "%s", res.out);
	/* the running kernel, placed by KASLR, is named */
	CHECK(RUN(&res, "plan", "--size", "8G", "--from", map, "--iomem", io) == 0 &&
	      strstr(res.out, "the running kernel is at 0x21f600000 (placed by KASLR"), "%s", res.out);

	/* refusals: text names the reason; --json carries it */
	CHECK(RUN(&res, "plan", "--size", "11G", "--from", map) == 1 && !res.out[0] &&
	      strstr(res.err, "refused: 11.0 GiB does not fit") && strstr(res.err, "is 10.0 GiB"), "%s", res.err);
	CHECK(RUN(&res, "plan", "--size", "1G", "--at", "3G", "--from", map, "--json") == 1 &&
	      strstr(res.out, "\"error\": \"not_ram\"") && strstr(res.err, "0xc0000000 is not usable RAM"),
	      "%s%s", res.out, res.err);
	CHECK(RUN(&res, "plan", "--size", "0", "--from", map) == 2);
	CHECK(RUN(&res, "plan", "--from", map) == 2 && strstr(res.err, "--size is required"));
	CHECK(RUN(&res, "plan", "--size", "1G", "--count", "17", "--from", map) == 2);
	CHECK(RUN(&res, "plan", "--size", "1G", "--from", "/no/such") == 3);
	CHECK(RUN(&res, "plan", "--size", "1G", "--from", grub) == 2 && strstr(res.err, "no firmware map"));

	/* --write installs the drop-in */
	snprintf(dir, sizeof(dir), "%s/grub.d", env->tmpdir);
	snprintf(path, sizeof(path), "%s/resmem.cfg", dir);
	CHECK(RUN(&res, "plan", "--size", "8G", "--from", map, "--grub-default", old, "--write",
		  "--grub-d", dir) == 0, "%s", res.err);
	CHECK(resmem_read_file(path, &text) == 0 &&
	      strstr(text, "\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash memmap=1G@8G acpi_osi=\\\"!Windows 2015\\\" "
			   "memmap=8G\\\\\\$0x100000000\"\n"),
	      "%s", text);
	free(text);
	CHECK(strstr(res.out, "wrote ") && strstr(res.out, "update-grub") &&
	      strstr(res.out, "re-assigns GRUB_CMDLINE_LINUX_DEFAULT without memmap=8G$4G"), "%s", res.out);
	/* nothing to replace: the drop-in appends */
	CHECK(RUN(&res, "plan", "--size", "8G", "--from", map, "--grub-default", grub, "--write", "--grub-d", dir) == 0);
	CHECK(resmem_read_file(path, &text) == 0 &&
	      strstr(text, "\nGRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT memmap=8G\\\\\\$0x100000000\"\n"),
	      "%s", text);
	free(text);
	/* a memmap= word behind sh expansion cannot be taken out: refused, the line named */
	snprintf(unknown, sizeof(unknown), "%s/unknown.grub", env->tmpdir);
	CHECK(resmem_write_file(unknown, "GRUB_CMDLINE_LINUX_DEFAULT=\"$EXTRA memmap=8G\\$4G\"\n", 50) == 0);
	unlink(path);
	CHECK(RUN(&res, "plan", "--size", "8G", "--from", map, "--grub-default", unknown) == 0 &&
	      strstr(res.out, "--write refuses: take it out of these lines by hand)\n"
			      "GRUB_CMDLINE_LINUX_DEFAULT=\"$EXTRA memmap=8G\\$4G\"\n"), "%s", res.out);
	CHECK(RUN(&res, "plan", "--size", "8G", "--from", map, "--grub-default", unknown, "--write", "--grub-d", dir) == 1 &&
	      strstr(res.err, "refused") && strstr(res.err, "\nGRUB_CMDLINE_LINUX_DEFAULT=\"$EXTRA memmap=8G\\$4G\"\n") &&
	      access(path, F_OK), "%s", res.err);
	/* refused by the file system: no advice about a device's group */
	CHECK(RUN(&res, "plan", "--size", "8G", "--from", map, "--write", "--grub-d", "/sys/kernel/resmem-plan-test") == 3 &&
	      strstr(res.err, "root") && !strstr(res.err, "group"), "%s", res.err);
}

/* The boot-loader lines straight from the library (the CLI only formats them). */
static void test_lines(const struct test_env *env)
{
	struct resmem_plan p = { .n = 1, .r = { { .start = 4ULL << 30, .size = 8ULL << 30 } } };
	struct resmem_plan_lines l;
	char buf[32], path[600], *text;

	CHECK(!strcmp(resmem_format_memparse(8ULL << 30, buf, sizeof(buf)), "8G"), "%s", buf);
	CHECK(!strcmp(resmem_format_memparse(0x1800, buf, sizeof(buf)), "6K"), "%s", buf);
	CHECK(!strcmp(resmem_format_memparse(1000, buf, sizeof(buf)), "1000"), "%s", buf);
	CHECK(!strcmp(resmem_format_memparse(0x1001, buf, sizeof(buf)), "0x1001"), "%s", buf);
	CHECK(resmem_plan_kaslr("root=/dev/sda nokaslr quiet") == 0);
	CHECK(resmem_plan_kaslr("root=/dev/sda quiet") == -1 && resmem_plan_kaslr(NULL) == -1);

	CHECK(resmem_plan_lines_build(&p, "BOOT_IMAGE=/vmlinuz-x ro memmap=1G$8G", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
				      NULL, &l) == 0);
	CHECK(!strcmp(l.memmap[0], "8G$0x100000000") && !strcmp(l.kernel, "memmap=8G$0x100000000"), "%s", l.kernel);
	CHECK(!strcmp(l.grub_cfg, "linux /vmlinuz-x ro memmap=8G\\$0x100000000"), "%s", l.grub_cfg);
	CHECK(!strcmp(l.systemd_boot, "options ro memmap=8G$0x100000000"), "%s", l.systemd_boot);
	CHECK(!strcmp(l.uboot, "setenv bootargs 'ro memmap=8G$0x100000000'"), "%s", l.uboot);
	CHECK(!strcmp(l.grubby, "grubby --update-kernel=ALL --remove-args='memmap=1G\\$8G' --args='memmap=8G\\$0x100000000'"),
	      "%s", l.grubby);
	CHECK(!strcmp(l.etc_default_grub, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet memmap=8G\\\\\\$0x100000000\""),
	      "%s", l.etc_default_grub);
	CHECK(l.replaces[0] && !strcmp(l.replaces[0], "memmap=1G$8G") && !l.replaces[1] && l.memmap_total == 1 &&
	      l.kaslr_safe && l.cmdline_known);
	resmem_plan_lines_free(&l);

	/* init's arguments stay after "--"; grubby removes what the plan replaces */
	CHECK(resmem_plan_lines_build(&p, "root=/dev/sda memmap=1G$8G -- single \"a b\"", NULL, NULL, &l) == 0);
	CHECK(!strcmp(l.systemd_boot, "options root=/dev/sda memmap=8G$0x100000000 -- single \"a b\""),
	      "%s", l.systemd_boot);
	CHECK(!strcmp(l.uboot, "setenv bootargs 'root=/dev/sda memmap=8G$0x100000000 -- single \"a b\"'"), "%s", l.uboot);
	CHECK(!strcmp(l.grub_cfg, "linux /boot/vmlinuz root=/dev/sda memmap=8G\\$0x100000000 -- single \\\"a b\\\""),
	      "%s", l.grub_cfg);
	CHECK(!strcmp(l.grubby, "grubby --update-kernel=ALL --remove-args='memmap=1G\\$8G' --args='memmap=8G\\$0x100000000'"),
	      "%s", l.grubby);
	resmem_plan_lines_free(&l);

	/* no command line: the lines are marked incomplete */
	CHECK(resmem_plan_lines_build(&p, NULL, NULL, NULL, &l) == 0 && !l.cmdline_known && !l.replaces[0]);
	resmem_plan_lines_free(&l);

	/* /etc/default/grub's mangled word: the drop-in assigns the value without it,
	 * and the count of memmap= ranges is the GRUB line's, not the running one's */
	CHECK(resmem_plan_lines_build(&p, "ro memmap=1G$0x180000000 memmap=1G$0x200000000",
				      "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet memmap=8G$4G memmap=4K!0x300000000\"\n", NULL, &l) == 0);
	CHECK(!strcmp(l.grub_broken, "memmap=8GG") && l.memmap_total == 2, "%s %d", l.grub_broken, l.memmap_total);
	CHECK(strstr(l.dropin, "\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet memmap=4K!0x300000000 memmap=8G\\\\\\$0x100000000\"\n") &&
	      !strstr(l.dropin, "$GRUB_CMDLINE_LINUX_DEFAULT"), "%s", l.dropin);
	CHECK(l.replaces[0] && l.replaces[1] && l.replaces[2] && !strcmp(l.replaces[2], "memmap=8GG") && !l.replaces[3]);
	resmem_plan_lines_free(&l);

	/* a drop-in sourced before ours adds the mangled word: the drop-in takes it
	 * out, while the /etc/default/grub line is the file's alone */
	CHECK(resmem_plan_lines_build(&p, NULL, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"",
				      "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT memmap=8G$4G splash\"\n",
				      &l) == 0);
	CHECK(!strcmp(l.etc_default_grub, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet memmap=8G\\\\\\$0x100000000\""),
	      "%s", l.etc_default_grub);
	CHECK(!strcmp(l.grub_broken, "memmap=8GG") &&
	      strstr(l.dropin, "\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash memmap=8G\\\\\\$0x100000000\"\n"),
	      "%s", l.dropin);
	resmem_plan_lines_free(&l);
	/* the mangled word in GRUB_CMDLINE_LINUX (every entry's line): re-assigned too */
	CHECK(resmem_plan_lines_build(&p, NULL, "GRUB_CMDLINE_LINUX=\"console=ttyS0 memmap=8G$4G\"\n"
				      "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet memmap=1M!0x500000000\"\n", NULL, &l) == 0);
	CHECK(!strcmp(l.grub_broken, "memmap=8GG") && l.memmap_total == 2 &&
	      strstr(l.dropin, "\nGRUB_CMDLINE_LINUX=\"console=ttyS0\"\n"
			       "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT memmap=8G\\\\\\$0x100000000\"\n"),
	      "%d %s", l.memmap_total, l.dropin);
	resmem_plan_lines_free(&l);
	/* ... and one whose value cannot be known: --write must refuse, naming it */
	CHECK(resmem_plan_lines_build(&p, NULL, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
				      "GRUB_CMDLINE_LINUX_DEFAULT=\"$OTHER memmap=8G\"\n", &l) == 0);
	CHECK(l.etc_default_grub && !strcmp(l.grub_refuse, "GRUB_CMDLINE_LINUX_DEFAULT=\"$OTHER memmap=8G\"\n"),
	      "%s", l.grub_refuse);
	resmem_plan_lines_free(&l);

	/* grub.d: *.cfg in glob order around ours, ours and other names left out */
	{
		char dir[600], f[700], *before, *after;

		snprintf(dir, sizeof(dir), "%s/dropins", env->tmpdir);
		CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST);
		snprintf(f, sizeof(f), "%s/10-b.cfg", dir);
		CHECK(resmem_write_file(f, "B=1", 3) == 0);
		snprintf(f, sizeof(f), "%s/05-a.cfg", dir);
		CHECK(resmem_write_file(f, "A=1\n", 4) == 0);
		snprintf(f, sizeof(f), "%s/resmem.cfg", dir);
		CHECK(resmem_write_file(f, "OURS=1\n", 7) == 0);
		snprintf(f, sizeof(f), "%s/zz.cfg", dir);
		CHECK(resmem_write_file(f, "Z=1\n", 4) == 0);
		snprintf(f, sizeof(f), "%s/notes.txt", dir);
		CHECK(resmem_write_file(f, "N=1\n", 4) == 0);
		CHECK(resmem_grub_dropins(dir, &before, &after) == 0 && before && after &&
		      !strcmp(before, "A=1\n\nB=1\n") && !strcmp(after, "Z=1\n\n"), "%s|%s", before, after);
		free(before);
		free(after);
		snprintf(f, sizeof(f), "%s/none", dir);
		CHECK(resmem_grub_dropins(f, &before, &after) == 0 && !before && !after);
	}

	/* the atomic writer replaces a file whole and leaves no temporary behind */
	snprintf(path, sizeof(path), "%s/atomic.txt", env->tmpdir);
	CHECK(resmem_write_file(path, "old contents\n", 13) == 0);
	CHECK(resmem_write_file(path, "new\n", 4) == 0);
	CHECK(resmem_read_file(path, &text) == 0 && !strcmp(text, "new\n"), "%s", text);
	free(text);
	snprintf(path, sizeof(path), "%s/atomic.txt.tmp.%d", env->tmpdir, (int)getpid());
	CHECK(access(path, F_OK) && errno == ENOENT, "%s left behind", path);
	snprintf(path, sizeof(path), "%s/no/such/dir/f", env->tmpdir);
	CHECK(resmem_write_file(path, "x", 1) == -ENOENT);
}

void test_plan(const struct test_env *env)
{
	test_placement(env);
	test_refusals(env);
	test_largest(env);
	test_fwtext(env);
	test_escape();
	test_bootcfg();
	test_lines(env);
	test_cli_lines(env);
}
