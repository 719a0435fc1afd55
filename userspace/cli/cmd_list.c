// SPDX-License-Identifier: GPL-2.0
/* resmem list: every region, from sysfs (no privileges needed). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void help_list(FILE *f)
{
	fprintf(f,
		"usage: resmem list [--json] [--sysfs DIR]\n"
		"\n"
		"One line per region: name, physical range, size, source, cache mode, device.\n"
		"  --json        a JSON array of objects (name, phys_addr, size, source,\n"
		"                cache_mode, dev, numa_node, mappings)\n"
		"  --sysfs DIR   read DIR/class/resmem instead of /sys/class/resmem (tests)\n");
}

int cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct resmem_region_info *regions;
	const char *sysfs = NULL;
	int json = 0, c, err, width = 4;
	size_t n, i;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 's':
			sysfs = optarg;
			break;
		case 'h':
			help_list(stdout);
			return EXIT_OK;
		default:
			return bad_option("list", c, argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("list", "unexpected argument '%s'",
				   argv[optind]);

	err = resmem_list(sysfs, &regions, &n);
	if (err)
		return sys_error("cannot read", "/sys/class/resmem", err);
	if (json) {
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
