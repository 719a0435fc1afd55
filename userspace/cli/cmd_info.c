// SPDX-License-Identifier: GPL-2.0
/* resmem info: one region, from its device (ioctl) or else from sysfs. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void help_info(FILE *f)
{
	fprintf(f,
		"usage: resmem info NAME [--json] [--sysfs DIR]\n"
		"\n"
		"Everything about one region (NAME, or a device path): physical range, size,\n"
		"source, cache mode, NUMA node, live mappings, page size.  Uses the device's\n"
		"RESMEM_IOC_INFO ioctl; without access to the device it reads sysfs.\n"
		"  --json        one JSON object (the list keys plus page_size, readonly)\n"
		"  --sysfs DIR   sysfs root for the fallback (tests)\n");
}

int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct resmem_region r;
	struct resmem_region_info info;
	const char *sysfs = NULL, *name;
	int json = 0, c, err;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 's':
			sysfs = optarg;
			break;
		case 'h':
			help_info(stdout);
			return EXIT_OK;
		default:
			return bad_option("info", c, argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return usage_error("info",
				   argc == optind ?
					   "which region? (see 'resmem list')" :
					   "too many arguments");
	name = argv[optind];

	err = resmem_open(name, 0, &r);
	if (!err) {
		info = r.info;
		resmem_close(&r);
	} else if (!strchr(name, '/') &&
		   !resmem_info_sysfs(sysfs, name, &info)) {
		/* No access to the device (not root?): sysfs tells nearly as much. */
		fprintf(stderr,
			"resmem: note: cannot open /dev/resmem/%s (%s); showing sysfs information\n",
			name, errno_name(-err));
		info.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	} else {
		return region_error(name, sysfs, err);
	}
	if (json) {
		show_region_json(stdout, &info, 1);
		printf("\n");
	} else {
		show_region_detail(stdout, &info);
	}
	return EXIT_OK;
}
