// SPDX-License-Identifier: GPL-2.0
/* resmem_dma_sync: RESMEM_IOC_SYNC, cache maintenance for non-coherent DMA. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"
#include "libresmem.h"

int resmem_dma_sync(const struct resmem_region *r, uint32_t direction,
		    uint64_t off, uint64_t len)
{
	struct resmem_sync s;

	if (direction != RESMEM_SYNC_FOR_CPU &&
	    direction != RESMEM_SYNC_FOR_DEVICE)
		return -EINVAL;
	if (off > r->info.size || len > r->info.size - off)
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.direction = direction;
	s.offset = off;
	s.length = len;
	if (ioctl(r->fd, RESMEM_IOC_SYNC, &s))
		return -errno;
	return 0;
}
