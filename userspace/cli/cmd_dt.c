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
