// SPDX-License-Identifier: GPL-2.0
/*
 * diowrite: the disk's own speed, for make bench's drain figure
 * (tests/bench.py): BYTES of anonymous memory (touched first, so no page
 * faults are timed) written to FILE with O_DIRECT through io_uring, as
 * `resmem drain --image` writes a region: the memory registered as fixed
 * buffers (1 GiB each), DEPTH writes of IOSIZE bytes in flight, then
 * fdatasync().
 *
 *   diowrite FILE BYTES IOSIZE DEPTH
 *
 * Prints one JSON object: bytes, seconds, mib_s, cpu_seconds (this
 * process's user + system time), cpu_s_per_gib.  Exit 0, 1 on a failure
 * (said on stderr).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "uring.h"

#define GIB (1ULL << 30)

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "diowrite: %s: %s\n", what, strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	uint64_t bytes, io, off = 0, done = 0;
	unsigned int depth, busy = 0, nbuf, i;
	struct iovec iov[64];
	struct uring u = { 0 };
	unsigned char *mem;
	double t0, c0, t, c;
	uint64_t ud;
	int32_t res;
	int fd, err;

	if (argc != 5)
		return fprintf(stderr, "usage: diowrite FILE BYTES IOSIZE DEPTH\n"), 2;
	bytes = strtoull(argv[2], NULL, 0);
	io = strtoull(argv[3], NULL, 0);
	depth = (unsigned int)strtoul(argv[4], NULL, 0);
	if (!bytes || !io || bytes % io || GIB % io || !depth || bytes > 64 * GIB)
		return fprintf(stderr, "diowrite: BYTES a multiple of IOSIZE, IOSIZE dividing 1 GiB\n"), 2;
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap", errno);
	for (uint64_t o = 0; o < bytes; o += 4096)
		mem[o] = (unsigned char)(o >> 12);
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0644);
	if (fd < 0)
		return fail(argv[1], errno);
	err = uring_init(&u, depth);
	if (err)
		return fail("io_uring_setup", -err);
	nbuf = (unsigned int)((bytes + GIB - 1) / GIB);
	for (i = 0; i < nbuf; i++) {
		iov[i].iov_base = mem + i * GIB;
		iov[i].iov_len = bytes - i * GIB < GIB ? bytes - i * GIB : GIB;
	}
	err = uring_register_buffers(&u, iov, nbuf);
	if (err)
		return fail("IORING_REGISTER_BUFFERS", -err);
	t0 = now();
	c0 = cpu();
	while (done < bytes) {
		while (busy < depth && off < bytes) {
			uring_write(&u, fd, mem + off, (unsigned int)io, off,
				    (int)(off / GIB), 0);
			off += io;
			busy++;
		}
		err = uring_submit(&u, 1);
		if (err)
			return fail("io_uring_enter", -err);
		while (uring_reap(&u, &ud, &res)) {
			if (res != (int32_t)io)
				return fail("write", res < 0 ? -res : EIO);
			busy--;
			done += io;
		}
	}
	if (fdatasync(fd))
		return fail("fdatasync", errno);
	t = now() - t0;
	c = cpu() - c0;
	printf("{\"bytes\": %llu, \"seconds\": %.6f, \"mib_s\": %.3f, \"cpu_seconds\": %.6f, "
	       "\"cpu_s_per_gib\": %.6f}\n", (unsigned long long)bytes, t,
	       (double)bytes / (1 << 20) / t, c, c / ((double)bytes / GIB));
	close(fd);
	return 0;
}
