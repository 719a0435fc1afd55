// SPDX-License-Identifier: GPL-2.0
/* resmem export: a window of a region as a dma-buf, handed to a command. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct cli_usage export_usage = {
	.usage = "resmem export NAME [options] -- COMMAND [ARGS...]",
	.about =
		"Exports bytes [OFF, OFF + LEN) of a region as a dma-buf and runs COMMAND\n"
		"with the dma-buf open: its descriptor number is in the environment as\n"
		"RESMEM_DMABUF_FD (or is the one --fd asks for), its size in bytes as\n"
		"RESMEM_DMABUF_SIZE.  COMMAND replaces resmem (exec), so its exit status is\n"
		"the command's.  The buffer is the region's memory itself: what a device\n"
		"the command gives it to (V4L2, DRM, RDMA) writes lands in the region.",
	.notes =
		"OFF and LEN must be multiples of the page size.  Writable unless\n"
		"--read-only (devices may then only read it, and it cannot be mapped\n"
		"writable).  While the buffer exists the resmem module cannot be unloaded.\n"
		"Programs use the RESMEM_IOC_EXPORT ioctl (or resmem_export() in\n"
		"libresmem) directly.",
};

int cmd_export(int argc, char **argv)
{
	struct resmem_region *r;
	uint64_t off = 0, len = 0, want_fd = 0;
	int have_len = 0, have_fd = 0, readonly = 0, fd, err;
	const char *name;
	char num[32];
	const struct cli_option options[] = {
		WINDOW_OPTIONS(&off, &len, &have_len),
		OPT_FLAG(
			"read-only", &readonly,
			"export a read-only buffer (the device is opened read-only)"),
		OPT_SIZE(
			"fd", "N", &want_fd, &have_fd,
			"put the dma-buf on descriptor N (default: the next free one)"),
		OPT_END(),
	};

	err = parse_options("export", &export_usage, options, argc, argv);
	if (err != GO_ON)
		return err;
	if (argc - optind < 1)
		return usage_error("export",
				   "which region? (see 'resmem list')");
	name = argv[optind++];
	if (argc - optind < 1)
		return usage_error(
			"export",
			"which command gets the buffer? (resmem export %s -- COMMAND ...)",
			name);
	if (have_fd && (want_fd < 3 || want_fd > 1023))
		return usage_error(
			"export",
			"--fd %llu: give a descriptor from 3 to 1023 (0-2 are stdin, stdout, stderr)",
			(unsigned long long)want_fd);

	err = resmem_open(name, !readonly, &r);
	if (err)
		return region_error(name, NULL, err);
	err = resolve_range("export", resmem_region_get_info(r), have_len, off,
			    &len);
	if (err)
		goto out;
	err = resmem_export(r, off, len, readonly ? 0 : RESMEM_EXPORT_RDWR,
			    &fd);
	if (err == -ENOTTY) {
		fprintf(stderr,
			"export: %s: this resmem module cannot export dma-bufs (an older module, or a kernel without CONFIG_DMA_SHARED_BUFFER)\n",
			resmem_region_get_path(r));
		err = EXIT_SYSTEM;
		goto out;
	}
	if (err == -EINVAL) {
		fprintf(stderr,
			"export: %s: --offset 0x%llx --length 0x%llx: both must be multiples of the page size (%u bytes), and the window not empty\n",
			resmem_region_get_path(r), (unsigned long long)off,
			(unsigned long long)len,
			resmem_region_get_info(r)->page_size);
		err = EXIT_USAGE;
		goto out;
	}
	if (err) {
		err = dev_error("RESMEM_IOC_EXPORT", resmem_region_get_path(r),
				err);
		goto out;
	}
	if (have_fd && fd != (int)want_fd) {
		if (dup2(fd, (int)want_fd) < 0) {
			err = sys_error("dup2", "the dma-buf", -errno);
			close(fd);
			goto out;
		}
		close(fd);
		fd = (int)want_fd;
	}
	snprintf(num, sizeof(num), "%d", fd);
	setenv("RESMEM_DMABUF_FD", num, 1);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)len);
	setenv("RESMEM_DMABUF_SIZE", num, 1);
	/* the buffer holds the region; the device's own descriptor can go */
	resmem_close(r);
	fflush(NULL);
	execvp(argv[optind], argv + optind);
	err = -errno;
	fprintf(stderr, "resmem: export: cannot run %s: %s (%s)\n",
		argv[optind], errno_name(-err), strerror(-err));
	close(fd);
	return err == -ENOENT ? 127 : 126;
out:
	resmem_close(r);
	return err;
}
