// SPDX-License-Identifier: GPL-2.0
/* resmem sync: cache maintenance on a range, for devices that do not snoop. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

static const struct cli_usage sync_usage = {
	.usage = "resmem sync NAME --for-cpu|--for-device [options]",
	.about =
		"Makes the CPU caches and memory agree on bytes [OFF, OFF + LEN) of a region\n"
		"(default: from OFF to the end), for a DMA master that does not snoop the CPU\n"
		"caches (arm64 without \"dma-coherent\").",
	.notes =
		"On coherent regions ('coherent' in resmem info: x86, dma-coherent) and on\n"
		"write-combining or uncached ones it is only a memory barrier.  Programs use\n"
		"the RESMEM_IOC_SYNC ioctl (or resmem_dma_sync() in libresmem) directly.",
};

/* --for-cpu, --for-device: exactly one. */
static int set_direction(const char *cmd, const struct cli_option *o,
			 const char *arg)
{
	uint32_t *dir = o->value;

	(void)arg;
	if (*dir)
		return usage_error(cmd,
				   "give one of --for-cpu and --for-device");
	*dir = (uint32_t)o->data;
	return 0;
}

int cmd_sync(int argc, char **argv)
{
	struct resmem_region *r;
	uint64_t off = 0, len = 0;
	uint32_t dir = 0;
	int have_len = 0, err;
	const struct cli_option options[] = {
		{ .name = "for-device",
		  .help = "before a device reads what the CPU wrote: write dirty cache\n"
			  "lines back to memory",
		  .value = &dir,
		  .parse = set_direction,
		  .data = RESMEM_SYNC_FOR_DEVICE },
		{ .name = "for-cpu",
		  .help = "before the CPU reads what a device wrote: drop the cached\n"
			  "copies (CPU writes to the range not synced --for-device\n"
			  "first are lost, like with the kernel's DMA API)",
		  .value = &dir,
		  .parse = set_direction,
		  .data = RESMEM_SYNC_FOR_CPU },
		WINDOW_OPTIONS(&off, &len, &have_len),
		OPT_END(),
	};

	err = parse_options("sync", &sync_usage, options, argc, argv);
	if (err != GO_ON)
		return err;
	if (argc - optind != 1)
		return usage_error("sync",
				   argc == optind ?
					   "which region? (see 'resmem list')" :
					   "too many arguments");
	if (!dir)
		return usage_error(
			"sync",
			"say which way: --for-cpu (device wrote, CPU reads) or --for-device (CPU wrote, device reads)");

	/* the module syncs for the CPU only through a writable descriptor
	 * (invalidating discards dirty lines), except on read-only regions */
	err = resmem_open(argv[optind], dir == RESMEM_SYNC_FOR_CPU, &r);
	if (err == -EROFS || err == -EACCES)
		err = resmem_open(argv[optind], 0, &r);
	if (err)
		return region_error(argv[optind], NULL, err);
	err = resolve_range("sync", resmem_region_get_info(r), have_len, off,
			    &len);
	if (!err) {
		err = resmem_dma_sync(r, dir, off, len);
		if (err == -EBADF) {
			fprintf(stderr,
				"sync: %s: --for-cpu needs write access to the device: it discards\n"
				"  cache lines other writers have not written back (you may only read it)\n",
				resmem_region_get_info(r)->name);
			err = EXIT_PROBLEM;
		} else if (err)
			err = dev_error("RESMEM_IOC_SYNC",
					resmem_region_get_path(r), err);
	}
	resmem_close(r);
	return err;
}
