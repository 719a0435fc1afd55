// SPDX-License-Identifier: GPL-2.0
/* resmem sync: cache maintenance on a range, for devices that do not snoop. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

void help_sync(FILE *f)
{
	fprintf(f,
		"usage: resmem sync NAME --for-cpu|--for-device [--offset OFF] [--length LEN]\n"
		"\n"
		"Makes the CPU caches and memory agree on bytes [OFF, OFF + LEN) of a region\n"
		"(default: from OFF to the end), for a DMA master that does not snoop the CPU\n"
		"caches (arm64 without \"dma-coherent\"):\n"
		"  --for-device  before a device reads what the CPU wrote: write dirty cache\n"
		"                lines back to memory\n"
		"  --for-cpu     before the CPU reads what a device wrote: drop the cached\n"
		"                copies (CPU writes to the range not synced --for-device\n"
		"                first are lost, like with the kernel's DMA API)\n"
		"On coherent regions ('coherent' in resmem info: x86, dma-coherent) and on\n"
		"write-combining or uncached ones it is only a memory barrier.  Programs use\n"
		"the RESMEM_IOC_SYNC ioctl (or resmem_dma_sync() in libresmem) directly.\n");
}

int cmd_sync(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "for-cpu", no_argument, NULL, 'c' },
		{ "for-device", no_argument, NULL, 'd' },
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct resmem_region *r;
	uint64_t off = 0, len = 0;
	uint32_t dir = 0;
	int have_len = 0, c, err;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
		case 'd':
			if (dir)
				return usage_error(
					"sync",
					"give one of --for-cpu and --for-device");
			dir = c == 'c' ? RESMEM_SYNC_FOR_CPU :
					 RESMEM_SYNC_FOR_DEVICE;
			break;
		case 'o':
			if (parse_size_opt("sync", "--offset", optarg, &off))
				return EXIT_USAGE;
			break;
		case 'l':
			if (parse_size_opt("sync", "--length", optarg, &len))
				return EXIT_USAGE;
			have_len = 1;
			break;
		case 'h':
			help_sync(stdout);
			return EXIT_OK;
		default:
			return bad_option("sync", c, argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return usage_error("sync",
				   argc == optind ?
					   "which region? (see 'resmem list')" :
					   "too many arguments");
	if (!dir)
		return usage_error(
			"sync",
			"say which way: --for-cpu (device wrote, CPU reads) or --for-device (CPU wrote, device reads)");

	err = resmem_open(argv[optind], 0, &r);
	if (err)
		return region_error(argv[optind], NULL, err);
	err = resolve_range("sync", resmem_region_get_info(r), have_len, off,
			    &len);
	if (!err) {
		err = resmem_dma_sync(r, dir, off, len);
		if (err)
			err = sys_error("RESMEM_IOC_SYNC",
					resmem_region_get_path(r), err);
	}
	resmem_close(r);
	return err;
}
