// SPDX-License-Identifier: GPL-2.0
/* resmem dt add: a /reserved-memory region in a compiled device tree. */
#include <errno.h>
#include <getopt.h> /* optind */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmd_dt.h"
#include "resmem_dt.h"

const struct cli_usage dt_add_usage = {
	.usage =
		"resmem dt add IN.dtb OUT.dtb --name NAME --size SIZE --addr ADDR [options]",
	.about =
		"Writes OUT.dtb: IN.dtb plus /reserved-memory/NAME@ADDR with reg = <ADDR SIZE>\n"
		"in the parent's cells and compatible = \"" RESMEM_DT_COMPATIBLE
		"\", so the\n"
		"resmem driver makes it /dev/resmem/LABEL (or NAME); --no-compatible writes a\n"
		"plain reservation resmem does not bind.  A missing /reserved-memory is\n"
		"created with the root's #address-cells/#size-cells and an empty ranges\n"
		"(Linux ignores it otherwise).  OUT.dtb may be IN.dtb: its mode is kept and\n"
		"a symlink is written through.",
	.notes =
		"Refused (exit 1): overlap with another reservation or /memreserve/, a range\n"
		"not wholly inside one /memory range, an address or size that does not fit\n"
		"the cells, a node of that name, an existing /reserved-memory Linux ignores;\n"
		"and what the resmem driver refuses: reusable, --cache wc/uc without --no-map,\n"
		"a region name (label, else NAME) that is not 1-31 of [A-Za-z0-9_.+-] or that\n"
		"another node already gets.\n"
		"Exit 2: bad options (size 0, not 4 KiB aligned, no-map with reusable).\n"
		"Exit 3: IN.dtb unreadable or malformed, OUT.dtb not writable.",
};

static int parse_cache(const char *cmd, const struct cli_option *o,
		       const char *s)
{
	const char **out = o->value;

	if (!strcmp(s, "wb") || !strcmp(s, "write-back"))
		*out = "write-back";
	else if (!strcmp(s, "wc") || !strcmp(s, "write-combine"))
		*out = "write-combine";
	else if (!strcmp(s, "uc") || !strcmp(s, "uncached"))
		*out = "uncached";
	else
		return usage_error(cmd, "--cache %s: use wb, wc or uc", s);
	return 0;
}

/* --compatible alone: the resmem driver's own */
static int parse_compatible(const char *cmd, const struct cli_option *o,
			    const char *s)
{
	(void)cmd;
	*(const char **)o->value = s ? s : RESMEM_DT_COMPATIBLE;
	return 0;
}

/* One line per driver rule the new node breaks, then the way out. */
static void driver_refused(const struct resmem_dt_refusal *w)
{
	char text[512];
	uint32_t bit;

	for (bit = 1; bit; bit <<= 1) {
		if (!(w->node.problems & RESMEM_DT_P_DRIVER & bit))
			continue;
		resmem_dt_driver_why(&w->node, bit, text, sizeof(text));
		fprintf(stderr, "resmem dt add: refused: %s: %s\n",
			w->node.path, text);
	}
	fprintf(stderr,
		"resmem dt add: (--no-compatible writes a plain reservation that resmem does not bind)\n");
}

/*
 * Where OUT.dtb really is and the mode to give it: an existing file keeps
 * its mode and a symlink is written through to its target.
 */
static const char *out_target(const char *path, char *buf, mode_t *mode)
{
	struct stat st;

	*mode = 0;
	if (stat(path, &st) || !S_ISREG(st.st_mode) || !realpath(path, buf))
		return path;
	*mode = st.st_mode & 07777;
	return buf;
}

static int refused(const char *in, const struct resmem_dt_new *n,
		   const struct resmem_dt_refusal *w, int err)
{
	char want[48], other[48];

	dt_range(n->addr, n->size, want, sizeof(want));
	dt_range(w->other_addr, w->other_size, other, sizeof(other));
	switch (w->kind) {
	case RESMEM_DT_MALFORMED:
		return dt_load_error(in, -EINVAL, w->fdt_err);
	case RESMEM_DT_BAD_REQUEST:
		return usage_error("dt add", "%s", w->detail);
	case RESMEM_DT_BAD_PARENT:
		fprintf(stderr,
			"resmem dt add: refused: %s's /reserved-memory has #address-cells=%d "
			"#size-cells=%d%s; Linux ignores a /reserved-memory whose cells differ from the "
			"root's or that has no ranges: fix that node first\n",
			in, w->ac, w->sc,
			(w->parent_problems & RESMEM_DT_PP_NO_RANGES) ?
				" and no ranges" :
				"");
		break;
	case RESMEM_DT_TOO_WIDE:
		fprintf(stderr,
			"resmem dt add: refused: %s does not fit #address-cells=%d "
			"#size-cells=%d of /reserved-memory (one cell holds 32 bits)\n",
			want, w->ac, w->sc);
		break;
	case RESMEM_DT_NO_MEMORY:
		fprintf(stderr,
			"resmem dt add: refused: %s has no /memory node (device_type = \"memory\"), "
			"so %s cannot be checked against RAM\n",
			in, want);
		break;
	case RESMEM_DT_OUTSIDE:
		fprintf(stderr,
			"resmem dt add: refused: %s is not wholly inside a /memory range; "
			"nearest is %s %s: reserve inside RAM\n",
			want, w->other, other);
		break;
	case RESMEM_DT_OVERLAP:
		fprintf(stderr,
			"resmem dt add: refused: %s overlaps %s (%s): choose another range\n",
			want, w->other, other);
		break;
	case RESMEM_DT_EXISTS:
		fprintf(stderr, "resmem dt add: refused: %s already exists\n",
			w->other);
		break;
	case RESMEM_DT_DRIVER:
		driver_refused(w);
		break;
	default:
		return sys_error("cannot add to", in, err);
	}
	return EXIT_PROBLEM;
}

int cmd_dt_add(int argc, char **argv)
{
	struct resmem_dt_new n = { 0 };
	struct resmem_dt_refusal why;
	int err, fdt_err, have_size = 0, have_addr = 0, no_compat = 0;
	void *blob, *out;
	size_t len, out_len;
	char range[48], sz[32], target_buf[PATH_MAX], full[64], rname[48];
	const char *in, *outpath, *target;
	mode_t mode;
	const struct cli_option options[] = {
		OPT_STRING("name", "NAME", &n.name,
			   "node name without unit address (required)"),
		OPT_SIZE("size", "SIZE", &n.size, &have_size,
			 "bytes to reserve (required)"),
		OPT_SIZE("addr", "ADDR", &n.addr, &have_addr,
			 "physical start address (required)"),
		OPT_FLAG("no-map", &n.no_map,
			 "add no-map: the kernel leaves the range out of its\n"
			 "linear map"),
		OPT_FLAG(
			"reusable", &n.reusable,
			"add reusable: the kernel may use it until a driver claims it"),
		{ .name = "compatible",
		  .arg = "STR",
		  .help = "compatible = STR instead of \"" RESMEM_DT_COMPATIBLE
			  "\"",
		  .value = &n.compatible,
		  .parse = parse_compatible,
		  .optional = 1 },
		OPT_FLAG(
			"no-compatible", &no_compat,
			"no compatible: a plain reservation resmem does not bind"),
		OPT_STRING("label", "L", &n.label,
			   "a label for the node: the region's name"),
		OPT_CALLBACK("cache", "wb|wc|uc", &n.cache, parse_cache,
			     "resmem,cache = write-back|write-combine|uncached"),
		OPT_END(),
	};

	err = parse_options("dt add", &dt_add_usage, options, argc, argv);
	if (err != GO_ON)
		return err;
	if (argc - optind != 2)
		return usage_error("dt add", "needs IN.dtb and OUT.dtb");
	if (!n.name || !have_size || !have_addr)
		return usage_error("dt add",
				   "--name, --size and --addr are required");
	if (no_compat && n.compatible)
		return usage_error(
			"dt add",
			"--compatible and --no-compatible exclude each other");
	if (!no_compat && !n.compatible)
		n.compatible = RESMEM_DT_COMPATIBLE;
	in = argv[optind];
	outpath = argv[optind + 1];

	err = resmem_dt_load(in, &blob, &len, &fdt_err);
	if (err)
		return dt_load_error(in, err, fdt_err);
	err = resmem_dt_add(blob, len, &n, &out, &out_len, &why);
	free(blob);
	if (err)
		return refused(in, &n, &why, err);
	target = out_target(outpath, target_buf, &mode);
	err = resmem_write_file(target, out, out_len);
	free(out);
	if (!err && mode && chmod(target, mode))
		err = -errno;
	if (err)
		return sys_error("cannot write", outpath, err);
	snprintf(full, sizeof(full), "%s@%llx", n.name,
		 (unsigned long long)n.addr);
	printf("added /reserved-memory/%s: %s (%s)%s%s to %s\n", full,
	       dt_range(n.addr, n.size, range, sizeof(range)),
	       resmem_format_size(n.size, sz, sizeof(sz)),
	       n.no_map ? " no-map" : "", n.reusable ? " reusable" : "",
	       outpath);
	if (n.compatible && !strcmp(n.compatible, RESMEM_DT_COMPATIBLE)) {
		struct resmem_dt_naming nm = { .node_name = full,
					       .label = n.label };

		resmem_dt_region_name(&nm, rname, sizeof(rname));
		printf("becomes /dev/resmem/%s\n", rname);
	} else {
		printf("not a resmem region (no compatible \"%s\"): no /dev/resmem node\n",
		       RESMEM_DT_COMPATIBLE);
	}
	return EXIT_OK;
}
