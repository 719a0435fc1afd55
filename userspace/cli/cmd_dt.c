// SPDX-License-Identifier: GPL-2.0
/* resmem dt: dispatch to `dt add` / `dt list`, and what they share. */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "cmd_dt.h"
#include "resmem_dt.h"

/* The dispatcher's help: the synopses of its subcommands. */
static void help_dt(FILE *f)
{
	fprintf(f,
		"usage: %s\n"
		"       %s\n"
		"\n"
		"Adds and checks /reserved-memory regions in a flattened device tree.\n"
		"resmem dt add --help and resmem dt list --help say more.\n",
		dt_add_usage.usage, dt_list_usage.usage);
}

/* Every RESMEM_DT_P_* bit, in the order the reasons are shown. */
const uint32_t dt_problem_bits[] = {
	RESMEM_DT_P_PARENT,
	RESMEM_DT_P_DISABLED,
	RESMEM_DT_P_NO_REG,
	RESMEM_DT_P_REG_CELLS,
	RESMEM_DT_P_SIZE_ZERO,
	RESMEM_DT_P_WRAPS,
	RESMEM_DT_P_NOMAP_REUSABLE,
	RESMEM_DT_P_OUTSIDE,
	RESMEM_DT_P_OVERLAP,
	RESMEM_DT_P_UNALIGNED,
	RESMEM_DT_P_REUSABLE,
	RESMEM_DT_P_CACHE_BAD,
	RESMEM_DT_P_CACHE_NEEDS_NO_MAP,
	RESMEM_DT_P_NAME,
	RESMEM_DT_P_NAME_TAKEN,
};
const size_t dt_n_problem_bits =
	sizeof(dt_problem_bits) / sizeof(dt_problem_bits[0]);

int dt_load_error(const char *path, int err, int fdt_err)
{
	if (err == -EINVAL && fdt_err) {
		fprintf(stderr,
			"resmem dt: %s is not a usable device tree blob: %s (libfdt FDT_ERR %d)\n",
			path, resmem_dt_strerror(fdt_err), fdt_err);
		return EXIT_SYSTEM;
	}
	if (err == -EFBIG) {
		fprintf(stderr,
			"resmem dt: %s: larger than %u MiB, not a device tree blob\n",
			path, RESMEM_DT_MAX_BLOB >> 20);
		return EXIT_SYSTEM;
	}
	return sys_error("cannot read", path, err);
}

char *dt_range(uint64_t addr, uint64_t size, char *buf, size_t len)
{
	snprintf(buf, len, "0x%llx-0x%llx", (unsigned long long)addr,
		 (unsigned long long)(addr + (size ? size - 1 : 0)));
	return buf;
}

void dt_why(const struct resmem_dt_view *v, const struct resmem_dt_region *r,
	    uint32_t bit, char *buf, size_t len)
{
	char a[48];
	size_t i, n;

	switch (bit) {
	case RESMEM_DT_P_PARENT:
		snprintf(
			buf, len,
			"/reserved-memory has #address-cells=%d #size-cells=%d%s (root: %d/%d): "
			"Linux ignores every child unless the cells match the root's and ranges is present",
			v->ac, v->sc,
			(v->parent_problems & RESMEM_DT_PP_NO_RANGES) ?
				" and no ranges" :
				"",
			v->root_ac, v->root_sc);
		break;
	case RESMEM_DT_P_DISABLED:
		snprintf(buf, len,
			 "status is not \"okay\": Linux skips the node");
		break;
	case RESMEM_DT_P_NO_REG:
		snprintf(buf, len,
			 "no reg (and no size): Linux skips the node");
		break;
	case RESMEM_DT_P_REG_CELLS:
		snprintf(
			buf, len,
			"reg is %d bytes but #address-cells=%d + #size-cells=%d need a "
			"multiple of %d (a 1-cell reg on a 2-cell parent?)",
			r->reg_len, v->ac, v->sc, 4 * (v->ac + v->sc));
		break;
	case RESMEM_DT_P_SIZE_ZERO:
		snprintf(buf, len, "size 0");
		break;
	case RESMEM_DT_P_WRAPS:
		snprintf(buf, len, "0x%llx + 0x%llx wraps past 2^64",
			 (unsigned long long)r->addr,
			 (unsigned long long)r->size);
		break;
	case RESMEM_DT_P_NOMAP_REUSABLE:
		snprintf(
			buf, len,
			"no-map and reusable together: Linux refuses the region");
		break;
	case RESMEM_DT_P_OUTSIDE:
		n = (size_t)snprintf(
			buf, len, "not wholly inside one /memory range (RAM:");
		for (i = 0; i < v->n_mem && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n, " %s",
					      dt_range(v->mem[i].start,
						       v->mem[i].size, a,
						       sizeof(a)));
		if (n < len)
			snprintf(buf + n, len - n, ")");
		break;
	case RESMEM_DT_P_OVERLAP:
		snprintf(buf, len, "overlaps %s (%s)", v->reg[r->overlap].path,
			 dt_range(v->reg[r->overlap].addr,
				  v->reg[r->overlap].size, a, sizeof(a)));
		break;
	case RESMEM_DT_P_UNALIGNED:
		snprintf(
			buf, len,
			"address or size not a multiple of 4 KiB: resmem maps whole pages");
		break;
	default:
		resmem_dt_driver_why(r, bit, buf, len);
	}
}

/*
 * The device node resmem makes of @r into @buf, or NULL with *@none saying
 * why there is none.
 */
const char *dt_device_of(const struct resmem_dt_region *r, char *buf,
			 size_t len, const char **none)
{
	*none = NULL;
	if (r->flags & RESMEM_DT_F_MEMRESERVE)
		*none = "a /memreserve/ entry: resmem binds only /reserved-memory nodes";
	else if (!(r->flags & (RESMEM_DT_F_RESMEM | RESMEM_DT_F_BOUND)))
		*none = "not compatible \"" RESMEM_DT_COMPATIBLE
			"\" and no such node points at it with memory-region: "
			"resmem does not bind it";
	else if (r->problems)
		*none = "resmem refuses the node (see why)";
	if (*none)
		return NULL;
	snprintf(buf, len, "/dev/resmem/%s", r->name);
	return buf;
}

int cmd_dt(int argc, char **argv)
{
	if (argc < 2) {
		help_dt(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		help_dt(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "add"))
		return cmd_dt_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return cmd_dt_list(argc - 1, argv + 1);
	return usage_error("dt", "unknown subcommand '%s' (add or list)",
			   argv[1]);
}
