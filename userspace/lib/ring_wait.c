// SPDX-License-Identifier: GPL-2.0
/*
 * Wake-ups and the producer slot of a ring in a region device
 * (docs/ring-format.md, "Wake-ups" and "Producer"): a reader sleeps in
 * poll() on the device, a producer that finds the ring's waiters field set
 * after committing asks the module to wake it.  A ring in a regular file
 * has no device to sleep on: waiting there is a bounded sleep.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "ring_internal.h"

/* Longest sleep when poll() cannot tell us (a file, a non-consuming reader). */
#define RING_WAIT_SLICE_MS 1

static int ring_on_device(const struct resmem_region *region)
{
	struct stat st;

	return !fstat(region->fd, &st) && S_ISCHR(st.st_mode);
}

/* Anything for @rd: a record after its position, or the end of the stream. */
static int ring_ready(const struct resmem_ring_reader *rd)
{
	const struct resmem_ring_hdr *h = rd->ring->hdr;

	return smp_load_acquire(&h->head) != rd->pos ||
	       (READ_ONCE(h->flags) & RESMEM_RING_F_CLOSED);
}

static int ring_sleep_slice(const struct resmem_ring_reader *rd, int timeout_ms)
{
	struct timespec t = { 0, 0 };
	int ms = timeout_ms < 0 || timeout_ms > RING_WAIT_SLICE_MS ?
			 RING_WAIT_SLICE_MS :
			 timeout_ms;

	t.tv_nsec = (long)ms * 1000000L;
	if (nanosleep(&t, NULL))
		return -errno;
	return ring_ready(rd);
}

int resmem_ring_wait(const struct resmem_region *region,
		     const struct resmem_ring_reader *rd, int timeout_ms)
{
	struct pollfd p = { .fd = region->fd, .events = POLLIN };
	const struct resmem_ring_hdr *h = rd->ring->hdr;
	int n;

	if (ring_ready(rd))
		return 1;
	if (!timeout_ms)
		return 0;
	/*
	 * poll() reports records nobody consumed (head != cons): it cannot
	 * sleep for a reader that is ahead of the consumer.
	 */
	if (!ring_on_device(region) ||
	    READ_ONCE(h->cons) != smp_load_acquire(&h->head))
		return ring_sleep_slice(rd, timeout_ms);
	n = poll(&p, 1, timeout_ms);
	if (n < 0)
		return -errno;
	return ring_ready(rd);
}

int resmem_ring_notify(const struct resmem_region *region,
		       const struct resmem_ring *r)
{
	/* head (or the closed flag) stored before waiters is read */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!READ_ONCE(r->hdr->waiters))
		return 0;
	if (ioctl(region->fd, RESMEM_IOC_RING_NOTIFY))
		return errno == ENOTTY ? 0 : -errno;
	return 0;
}

int resmem_ring_claim(const struct resmem_region *region,
		      struct resmem_ring_owner *who)
{
	struct resmem_ring_producer p = { .size = sizeof(p) };
	int err;

	memset(who, 0, sizeof(*who));
	if (!ring_on_device(region))
		return -ENOTTY;
	err = ioctl(region->fd, RESMEM_IOC_RING_PRODUCER, &p) ? -errno : 0;
	if (err && err != -EBUSY)
		return err;
	who->kernel = p.holder == RESMEM_RING_HOLDER_KERNEL;
	who->pid = p.pid;
	p.name[sizeof(p.name) - 1] = 0;
	rm_strlcpy(who->name, p.name, sizeof(who->name));
	return err;
}
