// SPDX-License-Identifier: GPL-2.0
/*
 * resmem check: did each memmap= on the command line take effect, and if
 * not, why; is the module loaded; does a resmem device claim each range.
 * Evidence: /proc/cmdline (what was asked), /sys/firmware/memmap (what the
 * firmware had), /proc/iomem (what the kernel made of it), sysfs (resmem).
 */
#include <errno.h>
#include <getopt.h> /* optind */
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_dt.h"
#include "cli.h"

static const struct cli_usage check_usage = {
	.usage = "resmem check [options]",
	.about =
		"Explains whether each memmap= entry of the kernel command line took effect\n"
		"and why not, whether the resmem module is loaded, and whether a resmem\n"
		"device claims each reserved range.  On device-tree machines it reports\n"
		"each resmem node of the booted tree (" RESMEM_DT_LIVE
		"): claimed as\n"
		"/dev/resmem/NAME, refused and why, not reserved at boot, or not bound.\n"
		"Run as root: /proc/iomem shows zeros to other users.",
	.notes =
		"Exit: 0 all well, 1 a problem was found (or could not be ruled out), 2 usage,\n"
		"3 an input could not be read.",
};

struct check {
	const char *cmdline_path, *iomem_path, *fw_dir, *sysfs, *fdt_path;
	int json;
	struct resmem_sysview view;
	struct resmem_region_info *regions;
	size_t n_regions;
	int module_loaded;
	int problems;
};

static void problem(struct check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void problem(struct check *c, const char *fmt, ...)
{
	va_list ap;

	printf("  problem: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	c->problems++;
}

static const char *kind_word(enum resmem_memmap_kind k)
{
	switch (k) {
	case RESMEM_MEMMAP_RAM:
		return "usable RAM";
	case RESMEM_MEMMAP_ACPI:
		return "ACPI data";
	case RESMEM_MEMMAP_RESERVE:
		return "reserve";
	case RESMEM_MEMMAP_PERSIST:
		return "persistent memory";
	default:
		return "";
	}
}

static int arch_has_memmap(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return 1;
#else
	return 0;
#endif
}

/* Which resmem regions overlap [start, end]; report claim or its absence. */
static void check_claim(struct check *c, const struct resmem_memmap *m)
{
	uint64_t start = m->addr, end = m->addr + m->size - 1;
	size_t i;
	int found = 0;

	for (i = 0; i < c->n_regions; i++) {
		const struct resmem_region_info *r = &c->regions[i];
		uint64_t rend = r->phys_addr + r->size - 1;

		if (!r->size || r->phys_addr > end || rend < start)
			continue;
		found = 1;
		printf("  ok: claimed by resmem region '%s' (/dev/resmem/%s, 0x%" PRIx64
		       "-0x%" PRIx64 ")\n",
		       r->name, r->name, r->phys_addr, rend);
		if (r->phys_addr > start || rend < end)
			printf("  note: region '%s' covers only part of memmap=%s\n",
			       r->name, m->text);
	}
	if (!found && c->module_loaded)
		problem(c,
			"no resmem device claims 0x%" PRIx64 "-0x%" PRIx64
			": see 'dmesg | grep resmem' for why the module skipped it",
			start, end);
}

static void judge_one(struct check *c, const struct resmem_memmap *m)
{
	struct resmem_evidence ev;
	enum resmem_verdict v = resmem_memmap_judge(m, &c->view, &ev);
	char size[32], sz[32];

	resmem_format_size(m->size, size, sizeof(size));
	resmem_format_memparse(m->size, sz, sizeof(sz));
	printf("memmap=%s", m->text);
	if (m->kind >= RESMEM_MEMMAP_RAM && m->kind <= RESMEM_MEMMAP_PERSIST &&
	    m->size)
		printf(": %s %s at 0x%" PRIx64 "-0x%" PRIx64,
		       kind_word(m->kind), size, m->addr,
		       m->addr + m->size - 1);
	printf("\n");
	if (m->trailing)
		printf("  note: the kernel rejects the characters after the entry (it still acts on the part before them)\n");

	switch (v) {
	case RESMEM_VERDICT_OK:
		printf("  ok: %s (firmware map: %s; /proc/iomem: %s)\n",
		       m->kind == RESMEM_MEMMAP_RESERVE ? "reserved" :
							  "took effect",
		       c->view.fw ? "System RAM" : "not available",
		       resmem_memmap_type_name(m->kind));
		break;
	case RESMEM_VERDICT_NO_ADDRESS:
		problem(c,
			"memmap=%s has no address: this caps usable RAM at %s and reserves nothing. "
			"Most likely GRUB, or the shell that runs grub-mkconfig, expanded `$ADDR` as a variable: write `memmap=%s\\$ADDR` in grub.cfg "
			"or `memmap=%s\\\\\\$ADDR` in /etc/default/grub (e.g. memmap=%s\\\\\\$4G; "
			"'resmem plan --size %s' suggests an ADDR)",
			m->text, sz, sz, sz, sz, sz);
		break;
	case RESMEM_VERDICT_NOT_RAM:
		problem(c,
			"0x%" PRIx64
			" is not RAM according to firmware (firmware map: %s; /proc/iomem: %s), "
			"e.g. a PCI hole: choose a range inside usable RAM, `resmem plan --size %s` helps",
			ev.where, ev.fw, ev.iomem[0] ? ev.iomem : "nothing",
			sz);
		break;
	case RESMEM_VERDICT_NOT_APPLIED:
		problem(c,
			"did not take effect: /proc/iomem shows '%s' at 0x%" PRIx64
			", not '%s'%s%s%s",
			ev.iomem, ev.where, resmem_memmap_type_name(m->kind),
			ev.fw[0] ? " (firmware map: " : "", ev.fw,
			ev.fw[0] ? ")" : "");
		if (!arch_has_memmap())
			printf("  hint: memmap= is understood by x86 kernels only: on this architecture use a "
			       "/reserved-memory devicetree node or the resmem module's regions= parameter\n");
		else
			printf("  hint: see 'dmesg | grep -i e820' for the map the kernel used; "
			       "entries after '--' are not kernel parameters\n");
		break;
	case RESMEM_VERDICT_KERNEL_INSIDE:
		problem(c,
			"the kernel image ('%s' at 0x%" PRIx64
			") lies inside this range, so the kernel kept it as RAM: move the range away from it "
			"(see 'Kernel code' in /proc/iomem); if KASLR put it there, boot with nokaslr or make "
			"this one of the first four memmap= entries (KASLR avoids those)",
			ev.iomem, ev.where);
		break;
	case RESMEM_VERDICT_BELOW_1M:
		problem(c,
			"starts below 1 MiB (0x%" PRIx64
			"), where the BIOS and the kernel keep their own data: resmem never uses it; "
			"reserve at or above 1 MiB, ideally above 4 GiB (`resmem plan --size %s` helps)",
			ev.where, sz);
		break;
	case RESMEM_VERDICT_UNKNOWN:
		printf("  unknown: /proc/iomem shows zero addresses to non-root users: run 'sudo resmem check' to verify\n");
		c->problems++;
		break;
	case RESMEM_VERDICT_INVALID:
		problem(c,
			"the kernel cannot use this entry: write SIZE$ADDR (reserve), SIZE@ADDR, SIZE#ADDR "
			"or SIZE!ADDR with a nonzero SIZE, e.g. memmap=8G$4G");
		break;
	case RESMEM_VERDICT_NOT_CHECKED:
		printf("  note: not checked by resmem\n");
		break;
	}
	if (m->kind == RESMEM_MEMMAP_RESERVE &&
	    (v == RESMEM_VERDICT_OK || v == RESMEM_VERDICT_UNKNOWN))
		check_claim(c, m);
}

static int load_views(struct check *c, struct resmem_iomem **iomem,
		      struct resmem_fwmap **fw)
{
	char *text;
	size_t n;
	int err;

	err = resmem_read_file(c->iomem_path, &text);
	if (err)
		return sys_error("cannot read", c->iomem_path, err);
	err = resmem_iomem_parse(text, iomem, &c->view.n_iomem,
				 &c->view.iomem_zeroed);
	free(text);
	if (err) {
		fprintf(stderr, "resmem: %s does not look like /proc/iomem\n",
			c->iomem_path);
		return EXIT_SYSTEM;
	}
	c->view.iomem = *iomem;

	err = resmem_fwmap_read(c->fw_dir, fw, &n);
	if (err == -ENOENT && c->json) {
		/* the JSON says "firmware_map": false */
	} else if (err == -ENOENT) {
		printf("note: no firmware memory map at %s (only x86 has one): cannot tell RAM from holes\n",
		       c->fw_dir);
	} else if (err) {
		return sys_error("cannot read", c->fw_dir, err);
	} else {
		c->view.fw = *fw;
		c->view.n_fw = n;
	}
	if (c->view.iomem_zeroed && !c->json)
		printf("note: %s shows zeros instead of addresses to non-root users: run as root for real addresses\n",
		       c->iomem_path);
	return 0;
}

static void find_module(struct check *c, char *path, size_t len)
{
	struct stat st;

	snprintf(path, len, "%s/module/resmem",
		 c->sysfs ? c->sysfs : RESMEM_SYSFS_ROOT);
	c->module_loaded = !stat(path, &st) && S_ISDIR(st.st_mode);
}

static void report_module(struct check *c, const char *path)
{
	size_t i;

	if (!c->module_loaded) {
		printf("module:\n");
		problem(c,
			"the resmem module is not loaded (%s missing): 'modprobe resmem' or 'insmod resmem.ko'",
			path);
		return;
	}
	printf("module: resmem is loaded, %zu region%s", c->n_regions,
	       c->n_regions == 1 ? "" : "s");
	for (i = 0; i < c->n_regions; i++)
		printf("%s%s (%s, 0x%" PRIx64 "-0x%" PRIx64 ")",
		       i ? ", " : ": ", c->regions[i].name,
		       c->regions[i].source, c->regions[i].phys_addr,
		       c->regions[i].phys_addr + c->regions[i].size -
			       (c->regions[i].size ? 1 : 0));
	printf("\n");
}

static const char *verdict_word(enum resmem_verdict v)
{
	static const char *const words[] = {
		[RESMEM_VERDICT_OK] = "ok",
		[RESMEM_VERDICT_NO_ADDRESS] = "no-address",
		[RESMEM_VERDICT_NOT_RAM] = "not-ram",
		[RESMEM_VERDICT_NOT_APPLIED] = "not-applied",
		[RESMEM_VERDICT_KERNEL_INSIDE] = "kernel-inside",
		[RESMEM_VERDICT_BELOW_1M] = "below-1m",
		[RESMEM_VERDICT_UNKNOWN] = "unknown",
		[RESMEM_VERDICT_INVALID] = "invalid",
		[RESMEM_VERDICT_NOT_CHECKED] = "not-checked",
	};

	return words[v];
}

static const char *memmap_kind_word(enum resmem_memmap_kind k)
{
	static const char *const words[] = {
		[RESMEM_MEMMAP_LIMIT] = "limit",
		[RESMEM_MEMMAP_RAM] = "ram",
		[RESMEM_MEMMAP_ACPI] = "acpi",
		[RESMEM_MEMMAP_RESERVE] = "reserve",
		[RESMEM_MEMMAP_PERSIST] = "persistent",
		[RESMEM_MEMMAP_CONVERT] = "convert",
		[RESMEM_MEMMAP_EXACTMAP] = "exactmap",
		[RESMEM_MEMMAP_INVALID] = "invalid",
	};

	return (size_t)k < sizeof(words) / sizeof(words[0]) ? words[k] :
							      "invalid";
}

/* One memmap= entry for --json; returns the problems the text counts. */
static int json_memmap(struct check *c, const struct resmem_memmap *m)
{
	struct resmem_evidence ev;
	enum resmem_verdict v = resmem_memmap_judge(m, &c->view, &ev);
	int problems = v != RESMEM_VERDICT_OK &&
		       v != RESMEM_VERDICT_NOT_CHECKED;
	/* as judge_one(): only a reservation that took effect is claimed */
	int claims = m->kind == RESMEM_MEMMAP_RESERVE &&
		     (v == RESMEM_VERDICT_OK || v == RESMEM_VERDICT_UNKNOWN);
	size_t i, k = 0;

	printf("{\"entry\": ");
	json_string(stdout, m->text);
	printf(", \"kind\": \"%s\", \"addr\": %" PRIu64 ", \"size\": %" PRIu64
	       ", \"verdict\": \"%s\", \"evidence\": {\"where\": %" PRIu64
	       ", \"iomem\": ",
	       memmap_kind_word(m->kind), m->addr, m->size, verdict_word(v),
	       ev.where);
	json_string(stdout, ev.iomem);
	printf(", \"firmware\": ");
	json_string(stdout, ev.fw);
	printf("}, \"claimed_by\": [");
	for (i = 0; claims && i < c->n_regions; i++) {
		const struct resmem_region_info *r = &c->regions[i];

		if (!r->size || r->phys_addr > m->addr + m->size - 1 ||
		    r->phys_addr + r->size - 1 < m->addr)
			continue;
		printf("%s", k++ ? ", " : "");
		json_string(stdout, r->name);
	}
	printf("]}");
	if (claims && !k && c->module_loaded)
		problems++;
	return problems;
}

/* check --json: the same findings and problem count as the text. */
static void check_json(struct check *c, const struct resmem_memmap *mm,
		       size_t n_mm, const struct resmem_dt_view *dtv,
		       const struct check_dt_sys *sys, int nothing_reserved)
{
	size_t i;
	int problems = 0;

	printf("{\"memmap\": [");
	for (i = 0; i < n_mm; i++) {
		printf("%s", i ? ", " : "");
		problems += json_memmap(c, &mm[i]);
	}
	printf("], \"firmware_map\": %s, \"iomem_zeroed\": %s, ",
	       c->view.fw ? "true" : "false",
	       c->view.iomem_zeroed ? "true" : "false");
	problems += check_dt_json(stdout, c->fdt_path, dtv, sys);
	printf(", \"module\": {\"loaded\": %s, \"regions\": [",
	       c->module_loaded ? "true" : "false");
	for (i = 0; i < c->n_regions; i++) {
		printf("%s{\"name\": ", i ? ", " : "");
		json_string(stdout, c->regions[i].name);
		printf(", \"source\": ");
		json_string(stdout, c->regions[i].source);
		printf(", \"addr\": %" PRIu64 ", \"size\": %" PRIu64 "}",
		       c->regions[i].phys_addr, c->regions[i].size);
	}
	printf("]}");
	problems += !c->module_loaded + nothing_reserved;
	printf(", \"nothing_reserved\": %s, \"problems\": %d}\n",
	       nothing_reserved ? "true" : "false", problems);
	c->problems = problems;
}

/* Resmem nodes in the device tree, if there is one. */
static size_t dt_resmem_nodes(const struct resmem_dt_view *v)
{
	size_t i, n = 0;

	for (i = 0; v && i < v->n_reg; i++)
		n += (size_t)check_dt_is_resmem(&v->reg[i]);
	return n;
}

int cmd_check(int argc, char **argv)
{
	struct check c = {
		.cmdline_path = "/proc/cmdline",
		.iomem_path = "/proc/iomem",
		.fw_dir = "/sys/firmware/memmap",
	};
	struct resmem_iomem *iomem = NULL;
	struct resmem_fwmap *fw = NULL;
	struct resmem_memmap *mm = NULL;
	struct resmem_dt_view dtv = { 0 };
	struct check_dt_sys sys;
	size_t n_mm = 0, i;
	char *cmdline, modpath[512];
	int err, ret, have_dt = 0, nothing_reserved;
	const struct cli_option options[] = {
		OPT_STRING("cmdline", "FILE", &c.cmdline_path,
			   "instead of /proc/cmdline"),
		OPT_STRING("iomem", "FILE", &c.iomem_path,
			   "instead of /proc/iomem"),
		OPT_STRING("firmware-memmap", "DIR", &c.fw_dir,
			   "instead of /sys/firmware/memmap"),
		OPT_STRING("sysfs", "DIR", &c.sysfs,
			   "sysfs root for module/resmem and class/resmem"),
		OPT_STRING("fdt", "FILE.dtb", &c.fdt_path,
			   "the booted device tree instead of " RESMEM_DT_LIVE),
		OPT_FLAG(
			"json", &c.json,
			"one JSON object: memmap entries, device-tree nodes, module"),
		OPT_END(),
	};

	ret = parse_options("check", &check_usage, options, argc, argv);
	if (ret != GO_ON)
		return ret;
	if (optind < argc)
		return usage_error("check", "unexpected argument '%s'",
				   argv[optind]);

	err = resmem_read_file(c.cmdline_path, &cmdline);
	if (err)
		return sys_error("cannot read", c.cmdline_path, err);
	err = resmem_memmap_parse(cmdline, &mm, &n_mm);
	free(cmdline);
	if (err)
		return sys_error("cannot parse", c.cmdline_path, err);
	ret = load_views(&c, &iomem, &fw);
	if (ret)
		goto out;
	err = resmem_list(c.sysfs, &c.regions, &c.n_regions);
	if (err) {
		ret = sys_error("cannot read", "class/resmem in sysfs", err);
		goto out;
	}
	find_module(&c, modpath, sizeof(modpath));
	/* a saved /proc/iomem goes with a saved tree (--fdt), not the live one */
	if (c.fdt_path || !strcmp(c.iomem_path, "/proc/iomem"))
		have_dt =
			check_dt_load(c.fdt_path ? c.fdt_path : RESMEM_DT_LIVE,
				      c.fdt_path != NULL, &dtv);
	if (have_dt < 0) {
		ret = EXIT_SYSTEM;
		goto out;
	}
	if (!c.fdt_path)
		c.fdt_path = RESMEM_DT_LIVE;
	sys = (struct check_dt_sys){ .iomem = c.view.iomem,
				     .n_iomem = c.view.n_iomem,
				     .iomem_zeroed = c.view.iomem_zeroed,
				     .regions = c.regions,
				     .n_regions = c.n_regions,
				     .module_loaded = c.module_loaded };
	nothing_reserved = !n_mm && !c.n_regions && c.module_loaded &&
			   !dt_resmem_nodes(have_dt ? &dtv : NULL);
	if (c.json) {
		check_json(&c, mm, n_mm, have_dt ? &dtv : NULL, &sys,
			   nothing_reserved);
		ret = c.problems ? EXIT_PROBLEM : EXIT_OK;
		goto out;
	}

	if (!n_mm) {
		printf("no memmap= on the kernel command line (%s)\n",
		       c.cmdline_path);
		if (nothing_reserved)
			problem(&c,
				"nothing is reserved for resmem: add memmap=SIZE$ADDR (x86, see 'resmem plan'), "
				"a /reserved-memory node (devicetree) or the module's regions= parameter");
	} else if (!arch_has_memmap()) {
		printf("note: memmap= is understood by x86 kernels only; this is not one\n");
	}
	for (i = 0; i < n_mm; i++)
		judge_one(&c, &mm[i]);
	if (have_dt)
		c.problems += check_dt_report(c.fdt_path, &dtv, &sys);
	report_module(&c, modpath);

	if (c.problems)
		printf("%d problem%s found\n", c.problems,
		       c.problems == 1 ? "" : "s");
	else
		printf("all good\n");
	ret = c.problems ? EXIT_PROBLEM : EXIT_OK;
out:
	free(mm);
	free(iomem);
	free(fw);
	free(c.regions);
	resmem_dt_view_free(&dtv);
	return ret;
}
