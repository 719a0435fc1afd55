// SPDX-License-Identifier: GPL-2.0
/* resmem dt add: a /reserved-memory region in a compiled device tree. */
#include <errno.h>
#include <getopt.h> /* optind */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_dt.h"
#include "resmem_dt.h"

const struct cli_usage dt_add_usage = {
	.usage =
		"resmem dt add IN.dtb OUT.dtb --name NAME --size SIZE --addr ADDR [options]",
	.about =
		"Writes OUT.dtb: IN.dtb plus /reserved-memory/NAME@ADDR with reg = <ADDR SIZE>\n"
		"in the parent's cells.  A missing /reserved-memory is created with the\n"
		"root's #address-cells/#size-cells and an empty ranges (Linux ignores it\n"
		"otherwise).",
	.notes =
		"Refused (exit 1): overlap with another reservation or /memreserve/, a range\n"
		"not wholly inside one /memory range, an address or size that does not fit\n"
		"the cells, a node of that name, an existing /reserved-memory Linux ignores.\n"
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
	default:
		return sys_error("cannot add to", in, err);
	}
	return EXIT_PROBLEM;
}

int cmd_dt_add(int argc, char **argv)
{
	struct resmem_dt_new n = { 0 };
	struct resmem_dt_refusal why;
	int err, fdt_err, have_size = 0, have_addr = 0;
	void *blob, *out;
	size_t len, out_len;
	char range[48], sz[32];
	const char *in, *outpath;
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
		  .help = "add compatible = \"" RESMEM_DT_COMPATIBLE
			  "\" (or STR)",
		  .value = &n.compatible,
		  .parse = parse_compatible,
		  .optional = 1 },
		OPT_STRING("label", "L", &n.label, "a label for the node"),
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
	in = argv[optind];
	outpath = argv[optind + 1];

	err = resmem_dt_load(in, &blob, &len, &fdt_err);
	if (err)
		return dt_load_error(in, err, fdt_err);
	err = resmem_dt_add(blob, len, &n, &out, &out_len, &why);
	free(blob);
	if (err)
		return refused(in, &n, &why, err);
	err = resmem_write_file(outpath, out, out_len);
	free(out);
	if (err)
		return sys_error("cannot write", outpath, err);
	printf("added /reserved-memory/%s@%llx: %s (%s)%s%s%s to %s\n", n.name,
	       (unsigned long long)n.addr,
	       dt_range(n.addr, n.size, range, sizeof(range)),
	       resmem_format_size(n.size, sz, sizeof(sz)),
	       n.no_map ? " no-map" : "", n.reusable ? " reusable" : "",
	       n.compatible ? " compatible" : "", outpath);
	return EXIT_OK;
}
