// SPDX-License-Identifier: GPL-2.0
/* Error messages: what failed, the errno by name, and what to do about it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const char *errno_name(int err)
{
	switch (err) {
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case EINTR:
		return "EINTR";
	case EIO:
		return "EIO";
	case ENXIO:
		return "ENXIO";
	case EBADF:
		return "EBADF";
	case EAGAIN:
		return "EAGAIN";
	case ENOMEM:
		return "ENOMEM";
	case EACCES:
		return "EACCES";
	case EFAULT:
		return "EFAULT";
	case EBUSY:
		return "EBUSY";
	case EEXIST:
		return "EEXIST";
	case ENODEV:
		return "ENODEV";
	case ENOTDIR:
		return "ENOTDIR";
	case EISDIR:
		return "EISDIR";
	case EINVAL:
		return "EINVAL";
	case ENFILE:
		return "ENFILE";
	case EMFILE:
		return "EMFILE";
	case ENOTTY:
		return "ENOTTY";
	case EFBIG:
		return "EFBIG";
	case ENOSPC:
		return "ENOSPC";
	case ESPIPE:
		return "ESPIPE";
	case EROFS:
		return "EROFS";
	case ERANGE:
		return "ERANGE";
	case ENAMETOOLONG:
		return "ENAMETOOLONG";
	case ENOSYS:
		return "ENOSYS";
	case EOVERFLOW:
		return "EOVERFLOW";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	}
	return "E?";
}

/* What to do when an operation on a resmem device failed with @err. */
static const char *device_hint(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "run as root or add yourself to the device's group";
	case ENOENT:
		return "no such device: see 'resmem list', and 'resmem check' if the module is not loaded";
	case ENODEV:
	case ENXIO:
		return "the device node exists but no driver answers: is the resmem module loaded? see 'resmem check'";
	case ENOTTY:
		return "not a resmem device, or a driver too old for this tool";
	case ENOMEM:
		return "not enough memory for the mapping or its page tables: try a smaller --length";
	case EINVAL:
		return "the driver refused the request (range outside the region, or a private mapping)";
	case EAGAIN:
		return "the kernel refused the cache mode (conflicting memory types?): see dmesg";
	case EROFS:
		return "the region is read-only";
	case EBUSY:
		return "another user holds the region exclusively";
	case EIO:
		return "the kernel reported an I/O error: see dmesg";
	}
	return NULL;
}

/*
 * What to do when an ordinary file (an input, an output, a sysfs or /proc
 * file) failed: no device advice, which would send the user the wrong way.
 */
static const char *file_hint(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "no permission: check the file's and its directory's permissions, or run as root";
	case ENOENT:
		return "check the path: the file or one of its directories does not exist";
	case ENOSPC:
		return "the file system is full";
	case EROFS:
		return "the file system is mounted read-only";
	case EIO:
		return "the kernel reported an I/O error: see dmesg";
	}
	return NULL;
}

int cli_quiet;

static int report(const char *what, const char *object, int err,
		  const char *hint)
{
	fprintf(stderr, "resmem: %s %s: %s (%s)\n", what, object,
		errno_name(err), strerror(err));
	if (hint && !cli_quiet)
		fprintf(stderr, "resmem: hint: %s\n", hint);
	return EXIT_SYSTEM;
}

int sys_error(const char *what, const char *object, int neg_err)
{
	return report(what, object, -neg_err, file_hint(-neg_err));
}

int dev_error(const char *what, const char *object, int neg_err)
{
	return report(what, object, -neg_err, device_hint(-neg_err));
}

int region_error(const char *name, const char *sysfs_root, int neg_err)
{
	struct resmem_region_info *regions;
	char path[256];
	size_t n, i;

	if (resmem_dev_path(name, path, sizeof(path)))
		return usage_error(NULL, "bad region name '%s'", name);
	if (neg_err != -ENOENT || strchr(name, '/'))
		return dev_error("cannot open", path, neg_err);
	/* A mistyped name: say which regions do exist. */
	fprintf(stderr, "resmem: cannot open %s: ENOENT (%s)\n", path,
		strerror(ENOENT));
	if (cli_quiet)
		return EXIT_SYSTEM;
	if (resmem_list(sysfs_root, &regions, &n) || !n) {
		fprintf(stderr,
			"resmem: hint: no resmem regions (is the module loaded? see 'resmem check')\n");
		return EXIT_SYSTEM;
	}
	fprintf(stderr, "resmem: hint: regions here:");
	for (i = 0; i < n; i++)
		fprintf(stderr, " %s", regions[i].name);
	fprintf(stderr, "\n");
	free(regions);
	return EXIT_SYSTEM;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "resmem%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'resmem %s%s--help'.\n", cmd ? cmd : "",
		cmd ? " " : "");
	return EXIT_USAGE;
}

int cli_file_writes;

int refuse_binary_tty(const char *cmd, int fd)
{
	if (!isatty(fd))
		return 0;
	return usage_error(
		cmd,
		"binary data not written to a terminal: redirect it (> FILE, | hexdump -C), or add --force");
}

int refuse_file_write(const char *cmd, const struct resmem_region *r,
		      const char *what)
{
	if (cli_file_writes ||
	    strcmp(resmem_region_get_info(r)->source, "file"))
		return 0;
	return usage_error(
		cmd,
		"%s is a regular file, not a resmem region: %s would overwrite it. "
		"Name a region (see 'resmem list'), or add --file to write to this file",
		resmem_region_get_path(r), what);
}

int walk_error(const struct resmem_region *r, const struct resmem_walk_opts *wo,
	       int err)
{
	const char *what;

	if (wo->via == RESMEM_VIA_MMAP)
		what = wo->write ? "cannot map/sync" : "cannot map";
	else
		what = wo->write ? "cannot write" : "cannot read";
	return dev_error(what, resmem_region_get_path(r), err);
}

int bad_option(const char *cmd, int opt, const char *arg)
{
	if (opt == ':')
		return usage_error(cmd, "option '%s' needs a value", arg);
	return usage_error(cmd, "unknown option '%s'", arg);
}
