// SPDX-License-Identifier: GPL-2.0
/* resmem_export: RESMEM_IOC_EXPORT, a window of a region as a dma-buf. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"
#include "libresmem.h"

int resmem_export(const struct resmem_region *r, uint64_t off, uint64_t len,
		  uint32_t flags, int *fd)
{
	struct resmem_export e;

	if (!fd ||
	    (flags & ~(uint32_t)(RESMEM_EXPORT_RDWR | RESMEM_EXPORT_CLOEXEC)))
		return -EINVAL;
	if (off >= r->info.size || len > r->info.size - off)
		return -EINVAL;
	memset(&e, 0, sizeof(e));
	e.size = sizeof(e);
	e.flags = flags;
	e.offset = off;
	e.length = len;
	if (ioctl(r->fd, RESMEM_IOC_EXPORT, &e))
		return -errno;
	*fd = e.fd;
	return 0;
}
