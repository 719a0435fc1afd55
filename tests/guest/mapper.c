// SPDX-License-Identifier: GPL-2.0
/*
 * mapper: exercise a /dev/resmem/<name> device from inside a test guest.
 *
 *   mapper write DEV OFFSET LENGTH SEED [--via mmap|write]
 *   mapper check DEV OFFSET LENGTH SEED [--via mmap|read]
 *   mapper map   DEV OFFSET LENGTH [--private] [--prot r|rw|rwx]
 *                [--lock] [--populate] [--rdonly] [--hold SECONDS]
 *        (--hold: close the fd, then keep the mapping for SECONDS)
 *   mapper misuse DEV CASE
 *   mapper info DEV [--size N]      RESMEM_IOC_INFO, fields as key=value
 *   mapper seek DEV WHENCE OFFSET   lseek: prints the new offset or errno
 *   mapper pread DEV OFFSET LENGTH  prints the byte count or errno
 *   mapper pwrite DEV OFFSET LENGTH writes zeros; prints count or errno
 *        CASE: fork mprotect munmap-partial mremap-grow mremap-shrink
 *              mremap-move madvise mlock
 *
 * OFFSET and LENGTH: decimal or 0x-hex, optional K/M/G/T suffix (x1024).
 *
 * Output: "ok" or "errno=NAME" on stdout (map, misuse), details on stderr.
 * Exit status: 0 when the device behaved as documented, 1 when it did not
 * (data mismatch, unexpected result), 2 for usage errors.
 *
 * PATTERN: for seed S and byte offset o from the start of the REGION, the
 * little-endian u64 word at o & ~7 is
 *   x = S ^ (o & ~7);
 *   x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
 *   x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
 *   x ^= x >> 31;
 * and byte o is byte (o & 7) of that word.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/resmem.h>

static long page_size;

static uint64_t pattern_word(uint64_t seed, uint64_t o)
{
	uint64_t x = seed ^ (o & ~(uint64_t)7);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint8_t pattern_byte(uint64_t seed, uint64_t o)
{
	return (uint8_t)(pattern_word(seed, o) >> (8 * (o & 7)));
}

/* Fill buf, which holds region bytes [off, off + len), with the pattern. */
static void pattern_fill(uint8_t *buf, uint64_t off, uint64_t len,
			 uint64_t seed)
{
	uint64_t i = 0;

	for (; i < len && ((off + i) & 7); i++)
		buf[i] = pattern_byte(seed, off + i);
	for (; i + 8 <= len; i += 8) {
		uint64_t w = pattern_word(seed, off + i);
		uint8_t b[8];

		for (int k = 0; k < 8; k++)
			b[k] = (uint8_t)(w >> (8 * k));
		memcpy(buf + i, b, 8);
	}
	for (; i < len; i++)
		buf[i] = pattern_byte(seed, off + i);
}

/* Compare; on mismatch print it and return 1. */
static int pattern_cmp(const uint8_t *buf, uint64_t off, uint64_t len,
		       uint64_t seed)
{
	uint8_t want[4096];
	uint64_t i;

	for (i = 0; i < len; i += sizeof(want)) {
		uint64_t n = len - i < sizeof(want) ? len - i : sizeof(want);

		pattern_fill(want, off + i, n, seed);
		if (memcmp(want, buf + i, n)) {
			for (uint64_t k = 0; k < n; k++) {
				if (want[k] != buf[i + k]) {
					printf("mismatch at offset 0x%" PRIx64
					       ": expected 0x%02x actual 0x%02x\n",
					       off + i + k, want[k], buf[i + k]);
					return 1;
				}
			}
		}
	}
	return 0;
}

static const char *errno_name(int e)
{
	static char buf[32];

	switch (e) {
	case EINVAL: return "EINVAL";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EAGAIN: return "EAGAIN";
	case ENODEV: return "ENODEV";
	case ENXIO: return "ENXIO";
	case ENOSPC: return "ENOSPC";
	case ENOTTY: return "ENOTTY";
	case E2BIG: return "E2BIG";
	case EBUSY: return "EBUSY";
	case EINTR: return "EINTR";
	case ENOENT: return "ENOENT";
	case EOVERFLOW: return "EOVERFLOW";
	case ENOSYS: return "ENOSYS";
	case EBADF: return "EBADF";
	}
	snprintf(buf, sizeof(buf), "%d", e);
	return buf;
}

static int parse_num(const char *s, uint64_t *out)
{
	char *end;
	unsigned int shift = 0;
	uint64_t v;

	errno = 0;
	if (*s == '-')
		return -1;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	case '\0': break;
	default: return -1;
	}
	if (shift && end[1])
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: mapper write DEV OFFSET LENGTH SEED [--via mmap|write]\n"
		"       mapper check DEV OFFSET LENGTH SEED [--via mmap|read]\n"
		"       mapper map DEV OFFSET LENGTH [--private] [--prot r|rw|rwx] [--lock] [--populate] [--rdonly] [--hold S]\n"
		"       mapper misuse DEV fork|mprotect|munmap-partial|mremap-grow|mremap-shrink|mremap-move|madvise|mlock\n"
		"       mapper info DEV [--size N]\n"
		"       mapper seek DEV set|cur|end|data|hole OFFSET\n"
		"       mapper pread|pwrite DEV OFFSET LENGTH\n");
	return 2;
}

static int open_dev(const char *dev, int flags)
{
	int fd = open(dev, flags);

	if (fd < 0)
		fprintf(stderr, "open %s: %s\n", dev, strerror(errno));
	return fd;
}

/* Map the page-aligned window around [off, off + len); *delta = off - start. */
static uint8_t *map_window(int fd, uint64_t off, uint64_t len, int prot,
			   uint64_t *delta, size_t *maplen)
{
	uint64_t start = off & ~(uint64_t)(page_size - 1);
	uint64_t end = (off + len + page_size - 1) & ~(uint64_t)(page_size - 1);
	void *p;

	*delta = off - start;
	*maplen = end - start;
	p = mmap(NULL, *maplen, prot, MAP_SHARED, fd, (off_t)start);
	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap offset 0x%" PRIx64 " length 0x%zx: %s\n",
			start, *maplen, strerror(errno));
		return NULL;
	}
	return p;
}

static int cmd_write_check(int argc, char **argv, int write)
{
	uint64_t off, len, seed;
	const char *via = "mmap";
	int fd, ret = 0;
	double t0;

	if (argc < 6 || parse_num(argv[3], &off) || parse_num(argv[4], &len) ||
	    parse_num(argv[5], &seed))
		return usage();
	for (int i = 6; i < argc; i++) {
		if (!strcmp(argv[i], "--via") && i + 1 < argc)
			via = argv[++i];
		else
			return usage();
	}
	if (len == 0 || off + len < off)
		return usage();
	fd = open_dev(argv[2], write ? O_RDWR : O_RDONLY);
	if (fd < 0)
		return 1;
	t0 = now_ms();

	if (!strcmp(via, "mmap")) {
		uint64_t delta;
		size_t maplen;
		uint8_t *p = map_window(fd, off, len,
					write ? PROT_READ | PROT_WRITE : PROT_READ,
					&delta, &maplen);

		if (!p)
			return 1;
		if (write) {
			for (uint64_t i = 0; i < len; i += 1 << 20) {
				uint64_t n = len - i < (1 << 20) ? len - i : (1 << 20);

				pattern_fill(p + delta + i, off + i, n, seed);
			}
			if (msync(p, maplen, MS_SYNC)) {
				printf("msync: errno=%s\n", errno_name(errno));
				ret = 1;
			}
		} else {
			ret = pattern_cmp(p + delta, off, len, seed);
		}
		munmap(p, maplen);
	} else if ((write && !strcmp(via, "write")) || (!write && !strcmp(via, "read"))) {
		size_t bufsz = 1 << 20;
		uint8_t *buf = malloc(bufsz);

		if (!buf)
			return 1;
		for (uint64_t i = 0; i < len && !ret;) {
			size_t n = len - i < bufsz ? len - i : bufsz;
			ssize_t got;

			if (write) {
				pattern_fill(buf, off + i, n, seed);
				got = pwrite(fd, buf, n, (off_t)(off + i));
			} else {
				got = pread(fd, buf, n, (off_t)(off + i));
			}
			if (got <= 0) {
				printf("%s at offset 0x%" PRIx64 ": %s\n",
				       write ? "pwrite" : "pread", off + i,
				       got < 0 ? errno_name(errno) : "end of file");
				ret = 1;
				break;
			}
			if (!write)
				ret = pattern_cmp(buf, off + i, (uint64_t)got, seed);
			i += (uint64_t)got;
		}
		free(buf);
	} else {
		return usage();
	}
	close(fd);
	if (!ret)
		printf("ok\n");
	fprintf(stderr, "%s 0x%" PRIx64 " bytes via %s in %.0f ms\n",
		write ? "wrote" : "checked", len, via, now_ms() - t0);
	return ret;
}

static int cmd_map(int argc, char **argv)
{
	uint64_t off, len;
	int flags = MAP_SHARED, prot = PROT_READ | PROT_WRITE;
	int oflags = O_RDWR, lock = 0, fd;
	unsigned int hold = 0;
	volatile uint8_t *p;
	double t0;

	if (argc < 5 || parse_num(argv[3], &off) || parse_num(argv[4], &len))
		return usage();
	for (int i = 5; i < argc; i++) {
		if (!strcmp(argv[i], "--private")) {
			flags = MAP_PRIVATE;
		} else if (!strcmp(argv[i], "--prot") && i + 1 < argc) {
			const char *s = argv[++i];

			if (!strcmp(s, "r"))
				prot = PROT_READ;
			else if (!strcmp(s, "rw"))
				prot = PROT_READ | PROT_WRITE;
			else if (!strcmp(s, "rwx"))
				prot = PROT_READ | PROT_WRITE | PROT_EXEC;
			else
				return usage();
		} else if (!strcmp(argv[i], "--lock")) {
			lock = 1;
			flags |= MAP_LOCKED;
		} else if (!strcmp(argv[i], "--populate")) {
			flags |= MAP_POPULATE;
		} else if (!strcmp(argv[i], "--hold") && i + 1 < argc) {
			hold = (unsigned int)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--rdonly")) {
			oflags = O_RDONLY;
		} else {
			return usage();
		}
	}
	fd = open_dev(argv[2], oflags);
	if (fd < 0)
		return 1;
	t0 = now_ms();
	p = mmap(NULL, len, prot, flags, fd, (off_t)off);
	if (p == MAP_FAILED) {
		printf("errno=%s\n", errno_name(errno));
		return 0;
	}
	fprintf(stderr, "mmap 0x%" PRIx64 " bytes in %.0f ms\n", len,
		now_ms() - t0);
	if (lock && mlock((void *)p, len)) {
		printf("errno=%s\n", errno_name(errno));
		munmap((void *)p, len);
		return 0;
	}
	/* A successful mmap must be usable end to end: touch both ends. */
	(void)p[0];
	(void)p[len - 1];
	if (prot & PROT_WRITE) {
		uint8_t a = p[0], b = p[len - 1];

		p[0] = a;
		p[len - 1] = b;
	}
	close(fd);
	if (hold) {
		printf("mapped\n");
		sleep(hold);
	}
	t0 = now_ms();
	if (munmap((void *)p, len)) {
		printf("munmap errno=%s\n", errno_name(errno));
		return 1;
	}
	fprintf(stderr, "munmap in %.0f ms\n", now_ms() - t0);
	printf("ok\n");
	return 0;
}

/* Result of one misuse case: print what happened, exit 0 iff as documented. */
static int report(int err, int expect)
{
	if (err)
		printf("errno=%s\n", errno_name(err));
	else
		printf("ok\n");
	if (err != expect) {
		fprintf(stderr, "expected %s\n", expect ? errno_name(expect) : "ok");
		return 1;
	}
	return 0;
}

static int check_pages(const uint8_t *p, uint64_t off, uint64_t len,
		       uint64_t seed)
{
	return pattern_cmp(p, off, len, seed);
}

/* sysfs "pages" of the region behind DEV says "yes: ...": page entries. */
static int has_pages(const char *dev)
{
	const char *name = strrchr(dev, '/');
	char path[256], buf[4] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/resmem/%s/pages", name ? name + 1 : dev);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return !strncmp(buf, "yes", 3);
}

static int cmd_misuse(int argc, char **argv)
{
	const char *c;
	uint64_t ps, seed = 0x5eed;
	uint64_t len;
	uint8_t *p;
	int fd, err = 0;

	if (argc != 4)
		return usage();
	c = argv[3];
	ps = (uint64_t)page_size;
	len = 4 * ps;
	fd = open_dev(argv[2], O_RDWR);
	if (fd < 0)
		return 1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "setup mmap: %s\n", strerror(errno));
		return 1;
	}
	pattern_fill(p, 0, len, seed);

	if (!strcmp(c, "fork")) {
		/* The child sees the parent's data and its writes are shared. */
		pid_t pid = fork();
		int st;

		if (pid < 0)
			return 1;
		if (!pid) {
			if (check_pages(p, 0, len, seed))
				_exit(1);
			pattern_fill(p, 0, len, seed + 1);
			_exit(0);
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("child failed (status 0x%x)\n", st);
			return 1;
		}
		if (check_pages(p, 0, len, seed + 1))
			return 1;
		return report(0, 0);
	}
	if (!strcmp(c, "mprotect")) {
		if (mprotect(p, len, PROT_READ))
			err = errno;
		else if (mprotect(p + ps, ps, PROT_READ | PROT_WRITE))
			err = errno;
		else {
			p[ps] = p[ps];
			if (check_pages(p, 0, len, seed))
				return 1;
		}
		return report(err, 0);
	}
	if (!strcmp(c, "munmap-partial")) {
		if (munmap(p + ps, ps))
			err = errno;
		else if (check_pages(p, 0, ps, seed) ||
			 check_pages(p + 2 * ps, 2 * ps, 2 * ps, seed))
			return 1;
		return report(err, 0);
	}
	if (!strcmp(c, "mremap-grow")) {
		/* VM_DONTEXPAND: growing is refused with EFAULT, in place or moving. */
		void *q = mremap(p, len, 2 * len, MREMAP_MAYMOVE);

		if (q == MAP_FAILED)
			err = errno;
		if (check_pages(p, 0, len, seed))
			return 1;
		return report(err, EFAULT);
	}
	if (!strcmp(c, "mremap-shrink")) {
		void *q = mremap(p, len, 2 * ps, 0);

		if (q == MAP_FAILED)
			err = errno;
		else if (check_pages(p, 0, 2 * ps, seed))
			return 1;
		return report(err, 0);
	}
	if (!strcmp(c, "mremap-move")) {
		/* Reserve a distinct target, then move the mapping there. */
		void *t = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint8_t *q;

		if (t == MAP_FAILED)
			return 1;
		q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, t);
		if (q == MAP_FAILED)
			err = errno;
		else if (check_pages(q, 0, len, seed))
			return 1;
		return report(err, 0);
	}
	if (!strcmp(c, "madvise")) {
		/*
		 * PFN maps have no pages to drop: EINVAL.  Page entries (struct
		 * pages) are zapped and fault back in on the same memory.  The
		 * data stays either way.
		 */
		if (madvise(p, len, MADV_DONTNEED))
			err = errno;
		if (check_pages(p, 0, len, seed))
			return 1;
		return report(err, has_pages(argv[2]) ? 0 : EINVAL);
	}
	if (!strcmp(c, "mlock")) {
		if (mlock(p, len))
			err = errno;
		else if (munlock(p, len))
			err = errno;
		if (check_pages(p, 0, len, seed))
			return 1;
		return report(err, 0);
	}
	return usage();
}

static int cmd_info(int argc, char **argv)
{
	union {
		struct resmem_info info;
		uint8_t raw[4096];
	} u;
	uint64_t size = sizeof(u.info);
	int fd;

	if (argc == 5 && !strcmp(argv[3], "--size")) {
		if (parse_num(argv[4], &size) || size > sizeof(u.raw))
			return usage();
	} else if (argc != 3) {
		return usage();
	}
	memset(&u, 0, sizeof(u));
	u.info.size = (uint32_t)size;
	fd = open_dev(argv[2], O_RDONLY);
	if (fd < 0)
		return 1;
	if (ioctl(fd, RESMEM_IOC_INFO, &u)) {
		printf("errno=%s\n", errno_name(errno));
		return 0;
	}
	printf("ok\nsize=%u\nflags=%#x\nphys_addr=%#llx\nlength=%llu\n"
	       "cache_mode=%u\nsource=%u\nnuma_node=%d\npage_size=%u\nname=%.*s\n",
	       u.info.size, u.info.flags, (unsigned long long)u.info.phys_addr,
	       (unsigned long long)u.info.length, u.info.cache_mode,
	       u.info.source, u.info.numa_node, u.info.page_size,
	       (int)sizeof(u.info.name), u.info.name);
	return 0;
}

static int cmd_seek(int argc, char **argv)
{
	static const struct { const char *name; int whence; } w[] = {
		{ "set", SEEK_SET }, { "cur", SEEK_CUR }, { "end", SEEK_END },
		{ "data", SEEK_DATA }, { "hole", SEEK_HOLE },
	};
	long long off;
	char *end;
	off_t r;
	int fd, whence = -1;

	if (argc != 5)
		return usage();
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (!strcmp(argv[3], w[i].name))
			whence = w[i].whence;
	errno = 0;
	off = strtoll(argv[4], &end, 0);
	if (whence < 0 || errno || *end)
		return usage();
	fd = open_dev(argv[2], O_RDONLY);
	if (fd < 0)
		return 1;
	r = lseek(fd, (off_t)off, whence);
	if (r < 0)
		printf("errno=%s\n", errno_name(errno));
	else
		printf("%lld\n", (long long)r);
	return 0;
}

static int cmd_prw(int argc, char **argv, int write)
{
	uint64_t off, len;
	uint8_t *buf;
	ssize_t r;
	int fd;

	if (argc != 5 || parse_num(argv[3], &off) || parse_num(argv[4], &len) ||
	    len > (1 << 30))
		return usage();
	buf = calloc(1, len ? len : 1);
	if (!buf)
		return 1;
	fd = open_dev(argv[2], write ? O_WRONLY : O_RDONLY);
	if (fd < 0)
		return 1;
	r = write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
	if (r < 0)
		printf("errno=%s\n", errno_name(errno));
	else
		printf("%zd\n", r);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	page_size = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3)
		return usage();
	if (!strcmp(argv[1], "write"))
		return cmd_write_check(argc, argv, 1);
	if (!strcmp(argv[1], "check"))
		return cmd_write_check(argc, argv, 0);
	if (!strcmp(argv[1], "map"))
		return cmd_map(argc, argv);
	if (!strcmp(argv[1], "misuse"))
		return cmd_misuse(argc, argv);
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc, argv);
	if (!strcmp(argv[1], "seek"))
		return cmd_seek(argc, argv);
	if (!strcmp(argv[1], "pread"))
		return cmd_prw(argc, argv, 0);
	if (!strcmp(argv[1], "pwrite"))
		return cmd_prw(argc, argv, 1);
	return usage();
}
