// SPDX-License-Identifier: GPL-2.0
/*
 * resmem_ring_wait / _notify / _claim on a ring in a regular file, where
 * there is no device to sleep on or to claim: waiting is a bounded sleep
 * that still sees a record or the end of the stream, notify is a no-op
 * even with waiters set, and claiming says "not a device" (-ENOTTY).
 * (On a device they are tested in a guest: tests/test_ring_wake.py.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "libresmem.h"

#include "test.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void test_ring_wait(const struct test_env *env)
{
	struct resmem_region *region = NULL;
	struct resmem_ring_reader *rd = NULL;
	struct resmem_ring_owner who;
	struct resmem_ring *r = NULL;
	struct resmem_ring_recinfo ri;
	char path[512], buf[16];
	void *base = NULL;
	double t;
	int fd;

	snprintf(path, sizeof(path), "%s/ring-wait", env->tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (!CHECK(fd >= 0 && ftruncate(fd, 1 << 16) == 0))
		return;
	close(fd);
	if (!CHECK(resmem_open(path, 1, &region) == 0) ||
	    !CHECK(resmem_map(region, 0, 1 << 16, PROT_READ | PROT_WRITE, &base) == 0) ||
	    !CHECK(resmem_ring_init(&r, base, 1 << 16, NULL) == 0) ||
	    !CHECK(resmem_ring_reader_new(&rd, r, RESMEM_RING_FROM_HEAD) == 0))
		goto out;

	CHECK(resmem_ring_claim(region, &who) == -ENOTTY, "a file has no producer slot");
	CHECK(resmem_ring_wait(region, rd, 0) == 0, "nothing yet, no wait");
	t = now();
	CHECK(resmem_ring_wait(region, rd, -1) == 0, "a file: one bounded sleep, then nothing");
	CHECK(now() - t < 5, "the bounded sleep returned");
	CHECK(resmem_ring_attach(r, 0) == 0);
	CHECK(resmem_ring_write(r, "12345678", 8) == 0);
	((struct resmem_ring_hdr *)base)->waiters = 1;
	CHECK(resmem_ring_notify(region, r) == 0, "notify on a file is a no-op");
	CHECK(resmem_ring_wait(region, rd, -1) == 1, "a committed record is seen");
	CHECK(resmem_ring_read(rd, buf, sizeof(buf), &ri) == 1 && ri.len == 8);
	CHECK(resmem_ring_wait(region, rd, 0) == 0, "read everything");
	resmem_ring_close(r);
	CHECK(resmem_ring_wait(region, rd, -1) == 1, "the end of the stream is seen");
out:
	resmem_ring_reader_free(rd);
	resmem_ring_free(r);
	if (base)
		resmem_unmap(base, 1 << 16);
	resmem_close(region);
}
