// SPDX-License-Identifier: GPL-2.0
/* Device-tree blobs: read a file, and check a blob before anything walks it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfdt.h>

#include "resmem_dt.h"
#include "resmem_trace.h"

int resmem_dt_check(const void *blob, size_t len, int *fdt_err)
{
	int err;

	if (fdt_err)
		*fdt_err = 0;
	/* fdt_check_full() takes the real buffer length: it refuses a header
	 * whose totalsize or block offsets point past it. */
	if (len < sizeof(struct fdt_header) || len > INT_MAX)
		err = -FDT_ERR_TRUNCATED;
	else
		err = fdt_check_full(blob, len);
	if (!err && fdt_totalsize(blob) > len)
		err = -FDT_ERR_TRUNCATED;
	if (!err)
		return 0;
	if (fdt_err)
		*fdt_err = -err;
	return -EINVAL;
}

int resmem_dt_load(const char *path, void **blob, size_t *len, int *fdt_err)
{
	size_t cap = 64 << 10, n = 0;
	char *buf = NULL, *p;
	int fd, err;

	if (fdt_err)
		*fdt_err = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		resmem_trace("device tree %s: %s", path, strerror(err));
		return -err;
	}
	for (;;) {
		ssize_t r;

		if (n == cap || !buf) {
			if (buf)
				cap *= 2;
			if (cap > RESMEM_DT_MAX_BLOB + 1)
				cap = RESMEM_DT_MAX_BLOB + 1;
			p = realloc(buf, cap);
			if (!p) {
				err = -ENOMEM;
				goto fail;
			}
			buf = p;
		}
		/* sysfs binary attributes (/sys/firmware/fdt) need plain reads */
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > RESMEM_DT_MAX_BLOB) {
			err = -EFBIG;
			goto fail;
		}
	}
	close(fd);
	err = resmem_dt_check(buf, n, fdt_err);
	resmem_trace("device tree %s: %zu bytes%s", path, n,
		     err ? ", not a valid blob" : "");
	if (err) {
		free(buf);
		return err;
	}
	*blob = buf;
	*len = n;
	return 0;
fail:
	resmem_trace("device tree %s: %s", path, strerror(-err));
	close(fd);
	free(buf);
	return err;
}

const char *resmem_dt_strerror(int fdt_err)
{
	return fdt_strerror(-fdt_err);
}
