// SPDX-License-Identifier: GPL-2.0
/* resmem list: every region, from sysfs (no privileges needed). */
#include <getopt.h> /* optind */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cli_usage list_usage = {
	.usage = "resmem list [options]",
	.about =
		"One line per region: name, physical range, size, source, cache mode, device.",
};

int cmd_list(int argc, char **argv)
{
	struct show_args a = { 0 };
	const struct cli_option options[] = {
		OPT_FLAG("json", &a.json,
			 "a JSON array of objects (name, phys_addr, size, source,\n"
			 "cache_mode, dev, numa_node, mappings)"),
		OPT_STRING(
			"sysfs", "DIR", &a.sysfs,
			"read DIR/class/resmem instead of /sys/class/resmem (tests)"),
		OPT_END(),
	};
	struct resmem_region_info *regions;
	int ret, err, width = 4;
	size_t n, i;

	ret = parse_options("list", &list_usage, options, argc, argv);
	if (ret != GO_ON)
		return ret;
	if (optind < argc)
		return usage_error("list", "unexpected argument '%s'",
				   argv[optind]);

	err = resmem_list(a.sysfs, &regions, &n);
	if (err)
		return sys_error("cannot read", "/sys/class/resmem", err);
	if (a.json) {
		printf("[");
		for (i = 0; i < n; i++) {
			printf(i ? ",\n  " : "\n  ");
			show_region_json(stdout, &regions[i], 0);
		}
		printf(n ? "\n]\n" : "]\n");
	} else if (!n) {
		fprintf(stderr,
			"no resmem regions (is the module loaded? see 'resmem check')\n");
	} else {
		for (i = 0; i < n; i++)
			if ((int)strlen(regions[i].name) > width)
				width = (int)strlen(regions[i].name);
		for (i = 0; i < n; i++)
			show_region_line(stdout, &regions[i], width);
	}
	free(regions);
	return EXIT_OK;
}
