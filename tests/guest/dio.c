// SPDX-License-Identifier: GPL-2.0
/*
 * dio: O_DIRECT between a mapping of a resmem region and a disk.
 *
 *   dio write DEV DISK OFFSET LENGTH DISKOFF SEED [--fork] [--mlock]
 *	fill region window [OFFSET, OFFSET + LENGTH) with pattern SEED
 *	through the mapping, zero the disk's [DISKOFF, DISKOFF + LENGTH)
 *	(O_DIRECT from anonymous memory), then pwrite() the mapping there
 *	with O_DIRECT and fdatasync()
 *   dio read DEV DISK OFFSET LENGTH DISKOFF SEED [--fork] [--mlock]
 *	fill the window with pattern SEED + 1 through the mapping, write
 *	pattern SEED for region offsets [OFFSET, ...) to the disk at DISKOFF
 *	(O_DIRECT from anonymous memory), then pread() it with O_DIRECT into
 *	the mapping and compare the mapping with pattern SEED
 *
 *   --fork   a child process (sharing the mapping) does the pwrite/pread
 *   --mlock  mlock() the mapping first
 *   --uring  the I/O goes through io_uring instead: the window registered
 *	      as a fixed buffer (pinned long-term), then one WRITE_FIXED or
 *	      READ_FIXED; "errno=NAME" if registering fails
 *
 *   dio hold DEV OFFSET LENGTH SEED RELEASE
 *	fill the window with pattern SEED through a mapping, vmsplice() it
 *	into a pipe (the pipe holds references to the region's pages), unmap
 *	it and close DEV, print "held"; once the file RELEASE exists, read the
 *	pipe and compare it with pattern SEED ("ok": the pages the pipe held
 *	kept their bytes whatever happened to the module meanwhile)
 *
 * The pattern is mapper's (tests/harness/pattern.py): the bytes a region
 * offset o holds for seed S, whatever the window.
 *
 * Output: "ok" when the pwrite/pread moved LENGTH bytes (and, for read,
 * the mapping holds them), "errno=NAME" when it failed, "short=N" when it
 * moved fewer; details on stderr.  Exit status: 0 ok or errno, 1 for a
 * mismatch or a failure outside the I/O under test, 2 for usage errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "uring.h"

#define ALIGN 4096

static uint64_t pattern_word(uint64_t seed, uint64_t o)
{
	uint64_t x = seed ^ (o & ~(uint64_t)7);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* buf holds region bytes [off, off + len) */
static void pattern_fill(uint8_t *buf, uint64_t off, uint64_t len,
			 uint64_t seed)
{
	for (uint64_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(pattern_word(seed, off + i) >>
				   (8 * ((off + i) & 7)));
}

static int pattern_cmp(const uint8_t *buf, uint64_t off, uint64_t len,
		       uint64_t seed)
{
	for (uint64_t i = 0; i < len; i++) {
		uint8_t want = (uint8_t)(pattern_word(seed, off + i) >>
					 (8 * ((off + i) & 7)));

		if (buf[i] != want) {
			fprintf(stderr, "mismatch at region offset %#" PRIx64
				": %#x, expected %#x\n", off + i, buf[i], want);
			return 1;
		}
	}
	return 0;
}

static uint64_t num(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	case 'T': case 't': v <<= 40; end++; break;
	}
	if (*end || end == s) {
		fprintf(stderr, "not a number: %s\n", s);
		exit(2);
	}
	return v;
}

/* O_DIRECT write of len bytes of buf (anonymous, aligned) at disk offset */
static int disk_put(int fd, const void *buf, uint64_t len, uint64_t diskoff)
{
	ssize_t n = pwrite(fd, buf, len, (off_t)diskoff);

	if (n != (ssize_t)len) {
		fprintf(stderr, "preparing the disk: pwrite: %s\n",
			n < 0 ? strerror(errno) : "short");
		return 1;
	}
	return fdatasync(fd) ? 1 : 0;
}

static int use_uring;

/* The I/O through io_uring with p registered as a fixed buffer. */
static ssize_t io_uring_fixed(int fd, uint8_t *p, uint64_t len,
			      uint64_t diskoff, int write)
{
	struct iovec iov = { .iov_base = p, .iov_len = len };
	struct uring u = { .fd = -1 };
	const char *step = "io_uring_setup";
	long r = uring_init(&u, 4);
	uint64_t ud;
	int32_t res;

	if (!r) {
		step = "IORING_REGISTER_BUFFERS";
		r = uring_register_buffers(&u, &iov, 1);
	}
	if (!r) {
		step = write ? "IORING_OP_WRITE_FIXED" : "IORING_OP_READ_FIXED";
		if (write)
			uring_write(&u, fd, p, (unsigned int)len, diskoff, 0, 0);
		else
			uring_read(&u, fd, p, (unsigned int)len, diskoff, 0, 0);
		r = uring_submit(&u, 1);
		if (!r)
			r = uring_reap(&u, &ud, &res) ? res : -EAGAIN;
	}
	if (r < 0)
		fprintf(stderr, "%s: %s\n", step, strerror((int)-r));
	if (u.fd >= 0)
		uring_exit(&u);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (ssize_t)r;
}

/* The I/O under test; prints its outcome.  Returns 0 if it moved len. */
static int io(int fd, uint8_t *p, uint64_t len, uint64_t diskoff, int write)
{
	ssize_t n;

	if (use_uring)
		n = io_uring_fixed(fd, p, len, diskoff, write);
	else
		n = write ? pwrite(fd, p, len, (off_t)diskoff) :
			    pread(fd, p, len, (off_t)diskoff);
	if (n < 0) {
		printf("errno=%s\n", strerrorname_np(errno) ?
		       strerrorname_np(errno) : "?");
		return -1;
	}
	if ((uint64_t)n != len) {
		printf("short=%zd\n", n);
		return -1;
	}
	if (write && fdatasync(fd)) {
		printf("errno=%s\n", strerrorname_np(errno));
		return -1;
	}
	return 0;
}

static int hold(int argc, char **argv)
{
	uint64_t off, len, seed, got = 0;
	int dev, pfd[2];
	struct iovec iov;
	uint8_t *p, *buf;
	ssize_t n;

	if (argc != 7) {
		fprintf(stderr, "usage: dio hold DEV OFFSET LENGTH SEED RELEASE\n");
		return 2;
	}
	off = num(argv[3]);
	len = num(argv[4]);
	seed = num(argv[5]);
	dev = open(argv[2], O_RDWR);
	if (dev < 0 || pipe(pfd) || fcntl(pfd[1], F_SETPIPE_SZ, (int)len) < 0) {
		perror("open/pipe");
		return 1;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dev, (off_t)off);
	buf = malloc(len);
	if (p == MAP_FAILED || !buf) {
		perror("mmap");
		return 1;
	}
	pattern_fill(p, off, len, seed);
	iov.iov_base = p;
	iov.iov_len = len;
	n = vmsplice(pfd[1], &iov, 1, 0);
	if (n < 0) {
		printf("errno=%s\n", strerrorname_np(errno));
		return 0;
	}
	if ((uint64_t)n != len) {
		printf("short=%zd\n", n);
		return 0;
	}
	munmap(p, len);
	close(dev);
	printf("held\n");
	fflush(stdout);
	while (access(argv[6], F_OK))
		usleep(100000);
	while (got < len && (n = read(pfd[0], buf + got, len - got)) > 0)
		got += (uint64_t)n;
	if (got != len) {
		fprintf(stderr, "pipe gave %" PRIu64 " of %" PRIu64 " bytes\n", got, len);
		return 1;
	}
	if (pattern_cmp(buf, off, len, seed))
		return 1;
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	int do_fork = 0, do_mlock = 0, write, dev, disk, ret = 0;
	uint64_t off, len, diskoff, seed;
	uint8_t *p, *anon;
	void *mem;

	if (argc > 1 && !strcmp(argv[1], "hold"))
		return hold(argc, argv);
	if (argc < 8 || (strcmp(argv[1], "write") && strcmp(argv[1], "read"))) {
		fprintf(stderr, "usage: dio write|read DEV DISK OFFSET LENGTH DISKOFF SEED [--fork] [--mlock] [--uring]\n       dio hold DEV OFFSET LENGTH SEED RELEASE\n");
		return 2;
	}
	for (int i = 8; i < argc; i++) {
		if (!strcmp(argv[i], "--fork")) {
			do_fork = 1;
		} else if (!strcmp(argv[i], "--mlock")) {
			do_mlock = 1;
		} else if (!strcmp(argv[i], "--uring")) {
			use_uring = 1;
		} else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	write = !strcmp(argv[1], "write");
	off = num(argv[4]);
	len = num(argv[5]);
	diskoff = num(argv[6]);
	seed = num(argv[7]);
	if (!len || (off | len | diskoff) % ALIGN) {
		fprintf(stderr, "OFFSET, LENGTH and DISKOFF must be multiples of %d\n",
			ALIGN);
		return 2;
	}

	dev = open(argv[2], O_RDWR);
	disk = open(argv[3], O_RDWR | O_DIRECT);
	if (dev < 0 || disk < 0) {
		perror(dev < 0 ? argv[2] : argv[3]);
		return 1;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dev, (off_t)off);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (posix_memalign(&mem, ALIGN, len)) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	anon = mem;

	if (write) {
		pattern_fill(p, off, len, seed);
		memset(anon, 0, len);
	} else {
		pattern_fill(p, off, len, seed + 1);
		pattern_fill(anon, off, len, seed);
	}
	if (disk_put(disk, anon, len, diskoff))
		return 1;
	if (do_mlock && mlock(p, len)) {
		fprintf(stderr, "mlock: %s\n", strerror(errno));
		return 1;
	}

	if (do_fork) {
		int status;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (!pid)
			_exit(io(disk, p, len, diskoff, write) ? 3 : 0);
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
			fprintf(stderr, "the child did not exit normally\n");
			return 1;
		}
		if (WEXITSTATUS(status)) {
			fflush(stdout);
			return 0;	/* the child printed the outcome */
		}
	} else if (io(disk, p, len, diskoff, write)) {
		return 0;
	}
	if (!write)
		ret = pattern_cmp(p, off, len, seed);
	if (!ret)
		printf("ok\n");
	return ret;
}
