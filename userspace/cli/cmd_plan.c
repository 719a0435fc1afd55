// SPDX-License-Identifier: GPL-2.0
/*
 * resmem plan: choose a memmap=SIZE$ADDR that lies in usable RAM per the
 * firmware, and print it for the kernel command line and each boot loader,
 * escaped for that loader's parser; optionally install the GRUB drop-in.
 */
#include <errno.h>
#include <getopt.h> /* optind */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define GiB (1ULL << 30)
#define STR_(x) #x
#define STR(x) STR_(x) /* a macro's value as a string */

struct plan_opts {
	struct resmem_plan_req req;
	const char *from, *fw_dir, *iomem, *cmdline, *grub_default, *grub_d;
	int json, write, live, grub_d_given;
};

static const struct cli_usage plan_usage = {
	.usage = "resmem plan --size SIZE [options]",
	.about =
		"Chooses where memmap=SIZE$ADDR should go: inside RAM the firmware calls usable\n"
		"(/sys/firmware/memmap, or --from a saved listing or the kernel log's BIOS-e820:\n"
		"lines, '-' for stdin), at or above 4 GiB (--above, --below), aligned for the\n"
		"largest page size that fits (1G, 2M or 4K; --align), away from the running\n"
		"kernel and crash kernel (/proc/iomem).  --count N places N separate regions;\n"
		"--at checks one address instead of searching.  Prints the parameter and the\n"
		"exact line for /etc/default/grub, grub.cfg, grubby, systemd-boot and U-Boot,\n"
		"each escaped for its own parser, KASLR advice, and the machine after reboot.",
	.notes =
		"Exit 0 with a plan, 1 if it does not fit or --write refuses, 2 usage,\n"
		"3 no firmware map or a file cannot be read or written.",
};

static int parse_align(const char *cmd, const struct cli_option *o,
		       const char *arg)
{
	uint64_t *align = o->value;

	if (opt_size(cmd, o, arg))
		return EXIT_USAGE;
	if (*align < 4096 || (*align & (*align - 1)))
		return usage_error(
			cmd, "--align %s: use a power of two, at least 4K",
			arg);
	return 0;
}

static int parse_count(const char *cmd, const struct cli_option *o,
		       const char *arg)
{
	uint64_t v;

	if (parse_size_opt(cmd, "--count", arg, &v))
		return EXIT_USAGE;
	if (!v || v > RESMEM_PLAN_MAX)
		return usage_error(cmd, "--count %s: use 1 to %d", arg,
				   RESMEM_PLAN_MAX);
	*(unsigned *)o->value = (unsigned)v;
	return 0;
}

/* GO_ON, or the exit code after showing help or saying what is wrong. */
static int parse_opts(int argc, char **argv, struct plan_opts *o)
{
	int ret, have_size = 0, have_above = 0;
	const struct cli_option options[] = {
		OPT_SIZE("size", "SIZE", &o->req.size, &have_size,
			 "bytes per region, a multiple of 4K (required; the old\n"
			 "form `resmem plan SIZE` still works)"),
		OPT_CALLBACK(
			"align", "A", &o->req.align, parse_align,
			"alignment, a power of two >= 4K (default: 1G, 2M or\n"
			"4K, the largest page size not above SIZE)"),
		OPT_SIZE("above", "ADDR", &o->req.above, &have_above,
			 "lowest start (default 4G; 0 with --at)"),
		OPT_SIZE("below", "ADDR", &o->req.below, NULL,
			 "ranges end at or below ADDR (default: no limit)"),
		OPT_SIZE("at", "ADDR", &o->req.at, &o->req.have_at,
			 "check this start address instead of searching"),
		OPT_CALLBACK("count", "N", &o->req.count, parse_count,
			     "place N separate regions (1 to " STR(
				     RESMEM_PLAN_MAX) ", default 1)"),
		OPT_STRING(
			"from", "FILE", &o->from,
			"firmware map from a saved /sys/firmware/memmap listing\n"
			"or the kernel log's BIOS-e820: lines ('-': stdin)"),
		OPT_STRING("firmware-memmap", "DIR", &o->fw_dir,
			   "instead of /sys/firmware/memmap"),
		OPT_STRING(
			"iomem", "FILE", &o->iomem,
			"instead of /proc/iomem (read by default only when planning\n"
			"for this machine: no --from or --firmware-memmap)"),
		OPT_STRING("cmdline", "FILE", &o->cmdline,
			   "instead of /proc/cmdline (the same default)"),
		OPT_STRING("grub-default", "FILE", &o->grub_default,
			   "instead of /etc/default/grub (the same default)"),
		OPT_FLAG("json", &o->json, "one JSON object"),
		OPT_FLAG("write", &o->write,
			 "install the drop-in " RESMEM_PLAN_GRUB_D
			 "/" RESMEM_PLAN_DROPIN "\n"
			 "(then run update-grub)"),
		OPT_STRING(
			"grub-d", "DIR", &o->grub_d,
			"with --write: the drop-in directory instead of\n" RESMEM_PLAN_GRUB_D),
		OPT_END(),
	};

	memset(o, 0, sizeof(*o));
	o->req.count = 1;
	o->req.above = RESMEM_PLAN_ABOVE_DEFAULT;
	ret = parse_options("plan", &plan_usage, options, argc, argv);
	if (ret != GO_ON)
		return ret;
	/* the drop-ins count when they are this machine's or named */
	o->grub_d_given = o->grub_d != NULL;
	if (!o->grub_d)
		o->grub_d = RESMEM_PLAN_GRUB_D;
	if (!have_size && argc - optind == 1) { /* old form: resmem plan 8G */
		if (parse_size_opt("plan", "SIZE", argv[optind], &o->req.size))
			return EXIT_USAGE;
		have_size = 1;
		optind++;
	}
	if (argc != optind)
		return usage_error("plan", "unexpected argument '%s'",
				   argv[optind]);
	if (!have_size)
		return usage_error("plan",
				   "--size is required (e.g. --size 8G)");
	if (!o->req.size || o->req.size % 4096)
		return usage_error("plan",
				   "--size: use a nonzero multiple of 4K");
	if (o->from && o->fw_dir)
		return usage_error(
			"plan",
			"--from and --firmware-memmap: give one firmware map");
	if (o->req.have_at && o->req.count > 1)
		return usage_error("plan",
				   "--at places one region: drop --count");
	if (o->req.have_at && !have_above)
		o->req.above = 0;
	if (o->req.below && o->req.below <= o->req.above)
		return usage_error(
			"plan", "--below must be above --above (default 4G)");
	/* the live machine's maps unless the firmware map came from elsewhere */
	o->live = !o->from && !o->fw_dir;
	if (!o->fw_dir && !o->from)
		o->fw_dir = "/sys/firmware/memmap";
	if (!o->iomem && o->live)
		o->iomem = "/proc/iomem";
	if (!o->cmdline && o->live)
		o->cmdline = "/proc/cmdline";
	if (!o->grub_default && o->live)
		o->grub_default = "/etc/default/grub";
	return GO_ON;
}

static int load_fwmap(const struct plan_opts *o, struct resmem_fwmap **fw,
		      size_t *n)
{
	char *text;
	int err;

	if (!o->from) {
		err = resmem_fwmap_read(o->fw_dir, fw, n);
		if (err == -ENOENT) {
			fprintf(stderr,
				"resmem: no firmware memory map at %s: memmap= is an x86 parameter; "
				"elsewhere use a /reserved-memory devicetree node or the module's regions=. "
				"On x86 without it: dmesg | grep BIOS-e820 | resmem plan --from - ...\n",
				o->fw_dir);
			return EXIT_SYSTEM;
		}
		return err ? sys_error("cannot read", o->fw_dir, err) : 0;
	}
	err = resmem_read_file(strcmp(o->from, "-") ? o->from : "/dev/stdin",
			       &text);
	if (err)
		return sys_error("cannot read", o->from, err);
	err = resmem_fwmap_parse_text(text, fw, n);
	free(text);
	if (err == -ENODATA || err == -EINVAL) {
		fprintf(stderr,
			"resmem: %s: no firmware map there: give a /sys/firmware/memmap listing "
			"(lines 'START END TYPE') or the kernel log's 'BIOS-e820: [mem A-B] TYPE' lines\n",
			o->from);
		return EXIT_USAGE;
	}
	return err ? sys_error("cannot parse", o->from, err) : 0;
}

/* an optional input file: NULL when absent (ENOENT) or not asked for */
static int read_optional(const char *path, int must, char **text)
{
	int err;

	*text = NULL;
	if (!path)
		return 0;
	err = resmem_read_file(path, text);
	if (err == -ENOENT && !must)
		return 0;
	return err ? sys_error("cannot read", path, err) : 0;
}

static void say_refusal(const struct plan_opts *o, const struct resmem_plan *p,
			FILE *f)
{
	char sz[32], big[32], al[32];

	resmem_format_size(o->req.size, sz, sizeof(sz));
	resmem_format_size(p->largest, big, sizeof(big));
	resmem_format_size(p->align, al, sizeof(al));
	switch (p->why) {
	case RESMEM_PLAN_NO_FIT:
	case RESMEM_PLAN_FEWER:
		fprintf(f,
			"refused: %s%s does not fit: the largest stretch of firmware-usable RAM between "
			"0x%llx and %s%s, aligned to %s, is %s",
			p->why == RESMEM_PLAN_FEWER ? "another region of " : "",
			sz,
			(unsigned long long)(o->req.above > RESMEM_PLAN_FLOOR ?
						     o->req.above :
						     RESMEM_PLAN_FLOOR),
			o->req.below ? "" : "the end of RAM",
			o->req.below ? "--below" : "", al, big);
		if (p->why == RESMEM_PLAN_FEWER)
			fprintf(f, " (%u of %u placed)", p->n, o->req.count);
		fprintf(f, ". Use a smaller --size%s%s\n",
			o->req.count > 1 ? " or --count" : "",
			o->req.above >= 4 * GiB ?
				", or --above 256M to allow a range below 4 GiB "
				"(where the kernel, initrd and 32-bit DMA memory live)" :
				", or a smaller --align");
		break;
	case RESMEM_PLAN_AT_NOT_RAM:
		fprintf(f,
			"refused: 0x%llx is not usable RAM in the firmware map: it is %s. "
			"A memmap= range must lie wholly inside firmware System RAM (holes such as "
			"the PCI window below 4 GiB are not memory); drop --at to let resmem choose\n",
			(unsigned long long)p->where, p->what);
		break;
	case RESMEM_PLAN_AT_IN_USE:
		fprintf(f,
			"refused: the range touches '%s' at 0x%llx (per /proc/iomem); choose another "
			"address or drop --at\n",
			p->what, (unsigned long long)p->where);
		break;
	case RESMEM_PLAN_AT_UNALIGNED:
		fprintf(f,
			"refused: 0x%llx is not aligned to %s (--align, or the largest page size "
			"for this size)\n",
			(unsigned long long)p->where, al);
		break;
	case RESMEM_PLAN_AT_OUTSIDE:
		fprintf(f,
			"refused: the range is not between --above and --below\n");
		break;
	case RESMEM_PLAN_OK:
		break;
	}
}

static const char *why_word(enum resmem_plan_why w)
{
	static const char *const words[] = { "ok",	"no_fit", "fewer",
					     "not_ram", "in_use", "unaligned",
					     "outside" };

	return words[w];
}

static void kaslr_advice(const struct resmem_plan *p,
			 const struct resmem_plan_lines *l, char *buf,
			 size_t len)
{
	char where[96] = "";

	if (p->kernel_at)
		snprintf(where, sizeof(where),
			 "the running kernel is at 0x%llx%s; ",
			 (unsigned long long)p->kernel_at,
			 p->kernel_randomized ?
				 " (placed by KASLR: it moves at each boot)" :
				 "");
	if (p->kernel_at && !p->kernel_randomized)
		snprintf(
			buf, len,
			"KASLR: off or not in use: %sit loads there at every boot, and the "
			"plan keeps clear of it.",
			where);
	else if (l->kaslr_safe)
		snprintf(
			buf, len,
			"KASLR: %sthe x86 boot code keeps the kernel out of the first four "
			"memmap= ranges; this command line has %d, so the kernel will not land inside "
			"the reservation. `resmem check` after reboot confirms it.",
			where, l->memmap_total);
	else
		snprintf(
			buf, len,
			"KASLR: %sthis command line has %d memmap= ranges but the x86 boot "
			"code avoids only the first four: put this one among the first four, or add "
			"nokaslr.",
			where, l->memmap_total);
}

static void print_json(const struct plan_opts *o, const struct resmem_plan *p,
		       const struct resmem_plan_lines *l, const char *advice)
{
	uint64_t total = (uint64_t)p->n * o->req.size;
	unsigned k;

	printf("{\n");
	if (p->n == 1) {
		printf("  \"memmap\": ");
		json_string(stdout, l->memmap[0]);
		printf(",\n");
	}
	printf("  \"regions\": [");
	for (k = 0; k < p->n; k++) {
		printf("%s\n    {\"memmap\": ", k ? "," : "");
		json_string(stdout, l->memmap[k]);
		printf(", \"start\": %llu, \"size\": %llu, \"end\": %llu, \"ram_run\": [%llu, %llu]}",
		       (unsigned long long)p->r[k].start,
		       (unsigned long long)p->r[k].size,
		       (unsigned long long)(p->r[k].start + p->r[k].size - 1),
		       (unsigned long long)p->r[k].run_start,
		       (unsigned long long)p->r[k].run_end);
	}
	printf("\n  ],\n  \"align\": %llu,\n  \"kernel_cmdline\": ",
	       (unsigned long long)p->align);
	json_string(stdout, l->kernel);
	printf(",\n  \"etc_default_grub\": ");
	if (l->etc_default_grub)
		json_string(stdout, l->etc_default_grub);
	else
		printf("null");
	printf(",\n  \"grub_d_dropin\": ");
	json_string(stdout, l->dropin);
	printf(",\n  \"grub_cfg\": ");
	json_string(stdout, l->grub_cfg);
	printf(",\n  \"grub_cfg_args\": ");
	json_string(stdout, l->grub_cfg_args);
	printf(",\n  \"grubby\": ");
	json_string(stdout, l->grubby);
	printf(",\n  \"systemd_boot\": ");
	json_string(stdout, l->systemd_boot);
	printf(",\n  \"uboot\": ");
	json_string(stdout, l->uboot);
	printf(",\n  \"complete\": %s", l->cmdline_known ? "true" : "false");
	printf(",\n  \"replaces\": [");
	for (k = 0; l->replaces[k]; k++) {
		printf("%s", k ? ", " : "");
		json_string(stdout, l->replaces[k]);
	}
	printf("]");
	printf(",\n  \"kaslr\": {\"memmap_entries\": %d, \"safe\": %s, \"advice\": ",
	       l->memmap_total, l->kaslr_safe ? "true" : "false");
	json_string(stdout, advice);
	printf("},\n  \"after_reboot\": {\"firmware_ram\": %llu, \"reserved\": %llu, \"ram_left\": %llu}\n}\n",
	       (unsigned long long)p->fw_ram, (unsigned long long)total,
	       (unsigned long long)(p->fw_ram > total ? p->fw_ram - total : 0));
}

static void print_text(const struct plan_opts *o, const struct resmem_plan *p,
		       const struct resmem_plan_lines *l, const char *advice)
{
	char a[32], b[32], c[32];
	const char *line;
	uint64_t total = (uint64_t)p->n * o->req.size;
	unsigned k;

	printf("%s\n", l->kernel);
	resmem_format_size(p->align, a, sizeof(a));
	for (k = 0; k < p->n; k++) {
		resmem_format_size(p->r[k].size, b, sizeof(b));
		resmem_format_size(p->r[k].run_end - p->r[k].run_start + 1, c,
				   sizeof(c));
		printf("  region%u: 0x%llx-0x%llx (%s), aligned to %s, inside firmware System RAM "
		       "0x%llx-0x%llx (%s)\n",
		       k, (unsigned long long)p->r[k].start,
		       (unsigned long long)(p->r[k].start + p->r[k].size - 1),
		       b, a, (unsigned long long)p->r[k].run_start,
		       (unsigned long long)p->r[k].run_end, c);
	}
	printf("\nkernel command line: %s\n", l->kernel);
	if (l->etc_default_grub)
		printf("/etc/default/grub:   %s\n"
		       "                     (replace the GRUB_CMDLINE_LINUX_DEFAULT line, then update-grub; "
		       "or resmem plan ... --write)\n",
		       l->etc_default_grub);
	else
		printf("/etc/default/grub:   its GRUB_CMDLINE_LINUX_DEFAULT %s: use the drop-in "
		       "(resmem plan ... --write)\n",
		       l->grub_err == -ENOTSUP ?
			       "uses sh expansion and cannot be rewritten exactly" :
			       "has an unterminated quote");
	if (l->grub_refuse[0])
		printf("                     (a memmap= word there cannot be evaluated, so --write "
		       "refuses: take it out of these lines by hand)\n%s",
		       l->grub_refuse);
	if (l->grub_broken[0])
		printf("                     (it now hands the kernel %s: the drop-in assigns the value "
		       "without it; by hand, take it out of every GRUB_CMDLINE_LINUX* line)\n",
		       l->grub_broken);
	printf("grub.d drop-in:      " RESMEM_PLAN_GRUB_D "/" RESMEM_PLAN_DROPIN
	       " (--write installs it):\n");
	for (line = strstr(l->dropin, "\nGRUB_CMDLINE") + 1; *line;
	     line = strchr(line, '\n') + 1)
		printf("                     %.*s\n",
		       (int)(strchr(line, '\n') - line), line);
	printf("grub.cfg menu entry: %s\n", l->grub_cfg);
	printf("grubby (BLS):        %s\n", l->grubby);
	printf("systemd-boot entry:  %s\n", l->systemd_boot);
	printf("U-Boot (x86):        %s; saveenv\n", l->uboot);
	if (!l->cmdline_known)
		printf("incomplete:          the grub.cfg, systemd-boot and U-Boot lines hold only the "
		       "new parameters (the command line is unknown: no --cmdline): add root= and "
		       "the rest of the machine's parameters\n");
	if (l->replaces[0]) {
		printf("note: replaces");
		for (k = 0; l->replaces[k]; k++)
			printf(" %s", l->replaces[k]);
		printf("\n");
	}
	printf("\n%s\n", advice);
	resmem_format_size(total, a, sizeof(a));
	resmem_format_size(p->fw_ram, b, sizeof(b));
	resmem_format_size(p->fw_ram > total ? p->fw_ram - total : 0, c,
			   sizeof(c));
	printf("after reboot: /proc/iomem shows each range as 'Reserved'; MemTotal (free) drops by "
	       "about %s: %s of %s firmware RAM stays usable; modprobe resmem gives /dev/resmem/region0%s; "
	       "run `resmem check` to confirm\n",
	       a, c, b, p->n > 1 ? "..." : "");
}

/* drop-ins sourced after ours can undo it: say so rather than promise */
static void note_later_dropins(const struct plan_opts *o, const char *after)
{
	char *lines =
		resmem_default_grub_lines(after, "GRUB_CMDLINE_LINUX_DEFAULT");

	if (lines && strstr(lines, "memmap="))
		fprintf(stderr,
			"note: a drop-in in %s sourced after " RESMEM_PLAN_DROPIN
			" also sets memmap= (check it; it is not rewritten):\n%s",
			o->grub_d, lines);
	free(lines);
}

static int write_dropin(const struct plan_opts *o,
			const struct resmem_plan_lines *l)
{
	char path[1024];
	int err;

	if (l->grub_refuse[0]) {
		fprintf(stderr,
			"resmem: refused: /etc/default/grub hands the kernel a memmap= word that cannot "
			"be evaluated here (sh expansion), so a drop-in cannot take it out; remove the "
			"memmap= word from (or delete) this line, then run --write again:\n%s",
			l->grub_refuse);
		return EXIT_PROBLEM;
	}
	if (mkdir(o->grub_d, 0755) && errno != EEXIST)
		err = -errno;
	else {
		snprintf(path, sizeof(path), "%s/" RESMEM_PLAN_DROPIN,
			 o->grub_d);
		err = resmem_write_file(path, l->dropin, strlen(l->dropin));
	}
	if (err == -EACCES || err == -EPERM) {
		fprintf(stderr,
			"resmem: cannot write %s/" RESMEM_PLAN_DROPIN
			": %s: %s\n",
			o->grub_d, strerror(-err),
			geteuid() ?
				"run plan --write as root (sudo): the boot "
				"configuration belongs to root" :
				"refused even to root (a read-only file system?)");
		return EXIT_SYSTEM;
	}
	if (err)
		return sys_error("cannot write", o->grub_d, err);
	fprintf(o->json ? stderr : stdout,
		"wrote %s; now run update-grub (or grub-mkconfig -o "
		"/boot/grub/grub.cfg) and reboot%s%s%s\n",
		path,
		l->grub_broken[0] ?
			"; it re-assigns GRUB_CMDLINE_LINUX_DEFAULT without " :
			"",
		l->grub_broken,
		l->grub_broken[0] ?
			" (you may also remove it from /etc/default/grub)" :
			"");
	return 0;
}

int cmd_plan(int argc, char **argv)
{
	struct plan_opts o;
	struct resmem_fwmap *fw = NULL;
	struct resmem_iomem *io = NULL;
	struct resmem_plan p;
	struct resmem_plan_lines l;
	char *iomem_text = NULL, *cmdline = NULL, *grub = NULL, advice[512];
	char *before = NULL, *after = NULL;
	size_t n_fw = 0, n_io = 0;
	int rc, err, zeroed = 0;

	rc = parse_opts(argc, argv, &o);
	if (rc != GO_ON)
		return rc;
	rc = load_fwmap(&o, &fw, &n_fw);
	if (!rc)
		rc = read_optional(o.iomem, !o.live, &iomem_text);
	if (!rc && iomem_text &&
	    resmem_iomem_parse(iomem_text, &io, &n_io, &zeroed))
		rc = usage_error("plan", "%s does not look like /proc/iomem",
				 o.iomem);
	if (!rc)
		rc = read_optional(o.cmdline, !o.live, &cmdline);
	if (!rc)
		rc = read_optional(o.grub_default, !o.live, &grub);
	if (!rc && (o.live || o.grub_d_given)) {
		err = resmem_grub_dropins(o.grub_d, &before, &after);
		if (err)
			rc = sys_error("cannot read the drop-ins in", o.grub_d,
				       err);
	}
	if (rc)
		goto out;

	o.req.kaslr = resmem_plan_kaslr(cmdline);
	err = resmem_plan_make(fw, n_fw, io, n_io, &o.req, &p);
	if (err == -ENOSPC) {
		if (o.json) {
			printf("{\"error\": \"%s\", \"largest\": %llu, \"where\": %llu, \"what\": ",
			       why_word(p.why), (unsigned long long)p.largest,
			       (unsigned long long)p.where);
			json_string(stdout, p.what);
			printf("}\n");
		}
		say_refusal(&o, &p, stderr);
		rc = EXIT_PROBLEM;
		goto out;
	}
	if (err) {
		rc = sys_error("cannot plan", "the reservation", err);
		goto out;
	}
	if (resmem_plan_lines_build(&p, cmdline, grub, before, &l)) {
		rc = sys_error("cannot plan", "the reservation", -ENOMEM);
		goto out;
	}
	kaslr_advice(&p, &l, advice, sizeof(advice));
	if (o.json)
		print_json(&o, &p, &l, advice);
	else
		print_text(&o, &p, &l, advice);
	if (zeroed)
		fprintf(stderr,
			"note: /proc/iomem shows zeros (not root): the running kernel's location "
			"was not checked; run as root to keep the plan clear of it\n");
	if (after)
		note_later_dropins(&o, after);
	if (o.write)
		rc = write_dropin(&o, &l);
	resmem_plan_lines_free(&l);
out:
	free(fw);
	free(io);
	free(iomem_text);
	free(cmdline);
	free(grub);
	free(before);
	free(after);
	return rc;
}
