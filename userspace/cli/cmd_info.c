// SPDX-License-Identifier: GPL-2.0
/* resmem info: one region, from its device (ioctl) or else from sysfs. */
#include <errno.h>
#include <getopt.h> /* optind */
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct cli_usage info_usage = {
	.usage = "resmem info NAME [options]",
	.about =
		"Everything about one region (NAME, or a device path): physical range, size,\n"
		"source, cache mode, DMA coherence, NUMA node, live mappings, page size,\n"
		"access.  Uses the device's RESMEM_IOC_INFO ioctl; without access to the\n"
		"device it reads sysfs, which does not say whether the region is read-only.",
};

int cmd_info(int argc, char **argv)
{
	struct show_args a = { 0 };
	const struct cli_option options[] = {
		OPT_FLAG("json", &a.json,
			 "one JSON object (the list keys plus page_size, readonly,\n"
			 "coherent; null where not known)"),
		OPT_STRING("sysfs", "DIR", &a.sysfs,
			   "sysfs root for the fallback (tests)"),
		OPT_END(),
	};
	struct resmem_region *r;
	struct resmem_region_info info;
	const char *name;
	int ret, err;

	ret = parse_options("info", &info_usage, options, argc, argv);
	if (ret != GO_ON)
		return ret;
	if (argc - optind != 1)
		return usage_error("info",
				   argc == optind ?
					   "which region? (see 'resmem list')" :
					   "too many arguments");
	name = argv[optind];

	err = resmem_open(name, 0, &r);
	if (!err) {
		info = *resmem_region_get_info(r);
		resmem_close(r);
	} else if (!strchr(name, '/') &&
		   !resmem_info_sysfs(a.sysfs, name, &info)) {
		/* No access to the device (not root?): sysfs tells nearly as much. */
		if (!cli_quiet)
			fprintf(stderr,
				"resmem: note: cannot open /dev/resmem/%s (%s); showing sysfs information\n",
				name, errno_name(-err));
		info.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	} else {
		return region_error(name, a.sysfs, err);
	}
	if (a.json) {
		show_region_json(stdout, &info, 1);
		printf("\n");
	} else {
		show_region_detail(stdout, &info);
	}
	return EXIT_OK;
}
