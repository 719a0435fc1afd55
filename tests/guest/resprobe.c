// SPDX-License-Identifier: GPL-2.0
/*
 * resprobe: raw ioctl and lifetime probes of a resmem device for the tests.
 *   resprobe info DEV [SIZE [FILL]]  RESMEM_IOC_INFO with struct size SIZE (default
 *                                     sizeof); FILL is the byte for the bytes past
 *                                     the struct (default 0).  Prints the fields
 *                                     as key=value or errno=NAME.
 *   resprobe ioctl DEV CMD            any command number: prints ok or errno=NAME
 *   resprobe hold DEV LEN SECONDS     maps [0, LEN), closes the fd, sleeps
 *   resprobe sync DEV DIR OFF LEN [SIZE [FILL]]
 *                                     RESMEM_IOC_SYNC with direction DIR (a number),
 *                                     struct size SIZE, FILL past the struct: ok or
 *                                     errno=NAME
 *   resprobe memset DEV OFF LEN BYTE  memset() (the C library's: DC ZVA, unaligned
 *                                     stores) through a MAP_SHARED mapping of
 *                                     [OFF, OFF + LEN) rounded out to pages, then
 *                                     memcpy() it back and compare: ok
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/resmem.h>

static const char *errname(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case EFAULT: return "EFAULT";
	case E2BIG: return "E2BIG";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case EINTR: return "EINTR";
	default: return strerrorname_np(e) ? strerrorname_np(e) : "E?";
	}
}

static int info(int fd, size_t size, int fill)
{
	size_t cap = size > sizeof(struct resmem_info) ? size : sizeof(struct resmem_info);
	unsigned char *buf = malloc(cap + 64);
	struct resmem_info *ri = (struct resmem_info *)buf;

	if (!buf)
		return 3;
	memset(buf, 0, cap + 64);
	if (size > sizeof(*ri))
		memset(buf + sizeof(*ri), fill, size - sizeof(*ri));
	ri->size = (uint32_t)size;
	if (ioctl(fd, RESMEM_IOC_INFO, buf)) {
		printf("errno=%s\n", errname(errno));
		return 0;
	}
	printf("size=%u\nflags=%u\nphys_addr=0x%llx\nlength=%llu\ncache_mode=%u\nsource=%u\n"
	       "numa_node=%d\npage_size=%u\nname=%.*s\n", ri->size, ri->flags,
	       (unsigned long long)ri->phys_addr, (unsigned long long)ri->length, ri->cache_mode,
	       ri->source, ri->numa_node, ri->page_size, RESMEM_NAME_MAX, ri->name);
	/* Nothing past the caller's size may be written. */
	for (size_t i = size; i < cap + 64; i++)
		if (buf[i]) {
			printf("overwrite_at=%zu\n", i);
			return 1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: resprobe info DEV [SIZE [FILL]] | ioctl DEV CMD | hold DEV LEN SECONDS | sync DEV DIR OFF LEN [SIZE [FILL]] | memset DEV OFF LEN BYTE\n");
		return 2;
	}
	int fd = open(argv[2], O_RDWR);

	if (fd < 0) {
		printf("errno=%s\n", errname(errno));
		return 0;
	}
	if (!strcmp(argv[1], "info")) {
		size_t size = argc > 3 ? strtoull(argv[3], NULL, 0) : sizeof(struct resmem_info);
		int fill = argc > 4 ? (int)strtol(argv[4], NULL, 0) : 0;

		return info(fd, size, fill);
	}
	if (!strcmp(argv[1], "ioctl") && argc == 4) {
		unsigned long cmd = strtoul(argv[3], NULL, 0);
		struct resmem_info ri = { .size = sizeof(ri) };

		if (ioctl(fd, cmd, &ri))
			printf("errno=%s\n", errname(errno));
		else
			printf("ok\n");
		return 0;
	}
	if (!strcmp(argv[1], "hold") && argc == 5) {
		size_t len = strtoull(argv[3], NULL, 0);
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (p == MAP_FAILED) {
			printf("errno=%s\n", errname(errno));
			return 1;
		}
		close(fd);
		printf("holding\n");
		fflush(stdout);
		sleep((unsigned)atoi(argv[4]));
		return 0;
	}
	if (!strcmp(argv[1], "sync") && argc >= 6) {
		size_t size = argc > 6 ? strtoull(argv[6], NULL, 0) : sizeof(struct resmem_sync);
		int fill = argc > 7 ? (int)strtol(argv[7], NULL, 0) : 0;
		unsigned char buf[256];
		struct resmem_sync *s = (struct resmem_sync *)buf;

		if (size > sizeof(buf))
			return 2;
		memset(buf, fill, sizeof(buf));
		memset(buf, 0, sizeof(*s));
		s->size = (uint32_t)size;
		s->direction = (uint32_t)strtoul(argv[3], NULL, 0);
		s->offset = strtoull(argv[4], NULL, 0);
		s->length = strtoull(argv[5], NULL, 0);
		if (ioctl(fd, RESMEM_IOC_SYNC, buf))
			printf("errno=%s\n", errname(errno));
		else
			printf("ok\n");
		return 0;
	}
	if (!strcmp(argv[1], "memset") && argc == 6) {
		size_t off = strtoull(argv[3], NULL, 0), len = strtoull(argv[4], NULL, 0);
		int byte = (int)strtol(argv[5], NULL, 0);
		size_t pg = (size_t)sysconf(_SC_PAGESIZE), start = off & ~(pg - 1);
		size_t maplen = (off + len - start + pg - 1) & ~(pg - 1);
		unsigned char *p = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
					(off_t)start);
		unsigned char *copy = malloc(len);

		if (p == MAP_FAILED || !copy) {
			printf("errno=%s\n", errname(errno));
			return 1;
		}
		memset(p + (off - start), byte, len);
		memcpy(copy, p + (off - start), len);
		for (size_t i = 0; i < len; i++)
			if (copy[i] != (unsigned char)byte) {
				printf("mismatch_at=%zu\n", i);
				return 1;
			}
		printf("ok\n");
		return 0;
	}
	fprintf(stderr, "resprobe: bad arguments\n");
	return 2;
}
