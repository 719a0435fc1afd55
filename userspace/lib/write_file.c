// SPDX-License-Identifier: GPL-2.0
/*
 * Replacing a file whole: readers see the old contents or the new, never a
 * part (a boot-loader drop-in read by update-grub, a device tree blob).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "libresmem.h"

int resmem_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int resmem_write_file(const char *path, const void *buf, size_t len)
{
	char tmp[4096];
	int fd, err;

	/* the temporary beside the target: rename() does not cross file systems */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	err = resmem_write_all(fd, buf, len);
	/* on disk before the name points at it: a crash leaves old or new */
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
