// SPDX-License-Identifier: GPL-2.0
/*
 * mapcost: what a mapping of a region costs, counted, never timed.
 *
 *   mapcost DEV OFFSET LENGTH [options]
 *     --fixed-misalign   map at a MAP_FIXED address that is 4 KiB past a
 *                        1 GiB boundary (no huge entry can fit)
 *     --populate         MAP_POPULATE | MAP_LOCKED
 *     --madvise ADVICE   madvise(ADVICE, a MADV_* number) on the whole
 *                        mapping before touching it
 *     --stamp SEED       touch by writing the pattern word (mapper's
 *                        PATTERN) at every 4 KiB page's first byte;
 *                        otherwise touch by reading one byte per page
 *     --misuse CASE      after touching: fork | mprotect | munmap |
 *                        mremap-move | mremap-shrink, then check the
 *                        stamps (needs --stamp) through what is left
 *
 * Prints key=value lines:
 *   addr        the mapping's address (hex); addr_align: largest power of
 *               two (up to 1 GiB) dividing addr + the offset's phase
 *   faults      minor faults taken by the touch (getrusage)
 *   pt_bytes    growth of this process's page tables (VmPTE) from before
 *               mmap to after the touch, in bytes
 *   thp_eligible  smaps THPeligible of the mapping (the kernel's THP
 *               policy for it; -1 when smaps does not say)
 *   walk        /proc/resmem_pgwalk's line for the mapping, when the
 *               resmem_test_pgwalk module is loaded
 * then "ok", or a reason and exit status 1.
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
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define PS 4096UL
#define GIB (1UL << 30)

static uint64_t pattern_word(uint64_t seed, uint64_t o)
{
	uint64_t x = seed ^ (o & ~(uint64_t)7);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/*
 * Store one byte (its own value) at q in a child: 1 if the child died of
 * SIGSEGV, 0 if the store went through, -1 on anything else.
 */
static int store_faults(volatile uint8_t *q)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		*q = *q;
		_exit(0);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
		return 1;
	if (WIFEXITED(st) && !WEXITSTATUS(st))
		return 0;
	printf("store child: status 0x%x\n", st);
	return -1;
}

static int parse_num(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'K': v <<= 10; end++; break;
	case 'M': v <<= 20; end++; break;
	case 'G': v <<= 30; end++; break;
	case 'T': v <<= 40; end++; break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static long vmpte_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPTE: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * The kernel's own word on whether the VMA at p may get huge entries under
 * the current THP settings (smaps THPeligible), or -1 if not found.
 */
static int thp_eligible(void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	unsigned long start, end;
	int in = 0, v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* a VMA's header line: "start-end perms ..." */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start == (unsigned long)p;
		else if (in && sscanf(line, "THPeligible: %d", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static void walk(const char *tag, void *p, uint64_t len)
{
	char buf[300];
	int fd = open("/proc/resmem_pgwalk", O_RDWR);
	ssize_t n;

	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%lx %" PRIx64, (unsigned long)p, len);
	if (write(fd, buf, n) == n && (n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = 0;
		printf("%s=%s", tag, buf);
	}
	close(fd);
}

static void stamp(volatile uint8_t *p, uint64_t off, uint64_t len, uint64_t seed)
{
	for (uint64_t i = 0; i < len; i += PS)
		*(volatile uint64_t *)(p + i) = pattern_word(seed, off + i);
}

/* Check stamps of [from, to) (offsets into the mapping that starts at region offset off). */
static int check(volatile uint8_t *p, uint64_t off, uint64_t from, uint64_t to,
		 uint64_t seed)
{
	for (uint64_t i = from; i < to; i += PS) {
		uint64_t got = *(volatile uint64_t *)(p + i);

		if (got != pattern_word(seed, off + i)) {
			printf("mismatch at region offset 0x%" PRIx64 ": 0x%" PRIx64 "\n",
			       off + i, got);
			return 1;
		}
	}
	return 0;
}

static unsigned long align_of(unsigned long a)
{
	unsigned long al = GIB;

	while (al > PS && (a & (al - 1)))
		al >>= 1;
	return al;
}

int main(int argc, char **argv)
{
	uint64_t off, len, seed = 0;
	int have_seed = 0, misalign = 0, flags = MAP_SHARED, advice = -1;
	const char *misuse = NULL;
	long pte0, f0;
	uint8_t *p;
	int fd;

	if (argc < 4 || parse_num(argv[2], &off) || parse_num(argv[3], &len))
		goto usage;
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--fixed-misalign"))
			misalign = 1;
		else if (!strcmp(argv[i], "--populate"))
			flags |= MAP_POPULATE | MAP_LOCKED;
		else if (!strcmp(argv[i], "--stamp") && i + 1 < argc && !parse_num(argv[i + 1], &seed))
			have_seed = 1, i++;
		else if (!strcmp(argv[i], "--madvise") && i + 1 < argc)
			advice = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--misuse") && i + 1 < argc)
			misuse = argv[++i];
		else
			goto usage;
	}
	if (misuse && !have_seed)
		goto usage;
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		printf("open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	pte0 = vmpte_kb();
	if (misalign) {
		/* Reserve len + 2 GiB, then map 4 KiB past a 1 GiB boundary in it. */
		uint8_t *r = mmap(NULL, len + 2 * GIB, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		unsigned long a;

		if (r == MAP_FAILED) {
			printf("reserve: %s\n", strerror(errno));
			return 1;
		}
		a = (((unsigned long)r + GIB - 1) & ~(GIB - 1)) + PS;
		p = mmap((void *)a, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, (off_t)off);
	} else {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, (off_t)off);
	}
	if (p == MAP_FAILED) {
		printf("mmap: %s\n", strerror(errno));
		return 1;
	}
	printf("addr=%#lx\naddr_align=%lu\n", (unsigned long)p,
	       align_of((unsigned long)p));
	if (advice >= 0 && madvise(p, len, advice)) {
		printf("madvise %d: %s\n", advice, strerror(errno));
		return 1;
	}
	printf("thp_eligible=%d\n", thp_eligible(p));
	f0 = minflt();
	if (have_seed) {
		stamp(p, off, len, seed);
	} else {
		volatile uint8_t sink = 0;

		for (uint64_t i = 0; i < len; i += PS)
			sink += p[i];
		(void)sink;
	}
	printf("faults=%ld\npt_bytes=%ld\n", minflt() - f0, (vmpte_kb() - pte0) * 1024);
	walk("walk", p, len);
	if (have_seed && check(p, off, 0, len, seed))
		return 1;

	if (!misuse) {
		puts("ok");
		return 0;
	}
	if (!strcmp(misuse, "fork")) {
		pid_t pid;

		fflush(stdout);
		pid = fork();
		int st;

		if (pid < 0)
			return 1;
		if (!pid) {
			walk("child_walk", p, len);
			if (check(p, off, 0, len, seed)) {
				fflush(stdout);
				_exit(1);
			}
			stamp(p, off, len, seed + 1);
			fflush(stdout);
			_exit(0);
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("child failed (status 0x%x)\n", st);
			return 1;
		}
		if (check(p, off, 0, len, seed + 1))
			return 1;
	} else if (!strcmp(misuse, "mprotect")) {
		/* Read-only hole of 4 KiB inside the first huge entry, then write around it. */
		if (mprotect(p + 2 * PS, PS, PROT_READ)) {
			printf("mprotect: %s\n", strerror(errno));
			return 1;
		}
		walk("after_walk", p, len);
		if (check(p, off, 0, len, seed))
			return 1;
		stamp(p, off, 2 * PS, seed + 1);
		stamp(p + 3 * PS, off + 3 * PS, len - 3 * PS, seed + 1);
		if (check(p, off, 0, 2 * PS, seed + 1) || check(p, off, 2 * PS, 3 * PS, seed) ||
		    check(p, off, 3 * PS, len, seed + 1))
			return 1;
		/* The hole is really read-only (entries installed dirty or not)... */
		if (store_faults(p + 2 * PS) != 1 || check(p, off, 2 * PS, 3 * PS, seed))
			return 1;
		/* ...and writable again once allowed. */
		if (mprotect(p + 2 * PS, PS, PROT_READ | PROT_WRITE)) {
			printf("mprotect: %s\n", strerror(errno));
			return 1;
		}
		if (store_faults(p + 2 * PS) != 0)
			return 1;
		stamp(p + 2 * PS, off + 2 * PS, PS, seed + 1);
		if (check(p, off, 0, len, seed + 1))
			return 1;
	} else if (!strcmp(misuse, "munmap")) {
		/* Punch 4 KiB out of the middle of the mapping. */
		uint64_t hole = (len / 2) & ~(PS - 1);

		if (munmap(p + hole, PS)) {
			printf("munmap: %s\n", strerror(errno));
			return 1;
		}
		walk("after_walk", p, len);
		if (check(p, off, 0, hole, seed) || check(p, off, hole + PS, len, seed))
			return 1;
	} else if (!strcmp(misuse, "mremap-move")) {
		/* Move to an address 2 MiB off a 1 GiB boundary: entries must shrink or move. */
		uint8_t *r = mmap(NULL, len + 2 * GIB, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		uint8_t *t, *q;

		if (r == MAP_FAILED)
			return 1;
		t = (uint8_t *)((((unsigned long)r + GIB - 1) & ~(GIB - 1)) + (2UL << 20));
		q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, t);
		if (q == MAP_FAILED) {
			printf("mremap: %s\n", strerror(errno));
			return 1;
		}
		walk("after_walk", q, len);
		if (check(q, off, 0, len, seed))
			return 1;
		walk("after_touch_walk", q, len);
	} else if (!strcmp(misuse, "mremap-shrink")) {
		uint64_t keep = (len / 2 + PS) & ~(PS - 1);

		if (mremap(p, len, keep, 0) == MAP_FAILED) {
			printf("mremap: %s\n", strerror(errno));
			return 1;
		}
		walk("after_walk", p, keep);
		if (check(p, off, 0, keep, seed))
			return 1;
	} else {
		goto usage;
	}
	puts("ok");
	return 0;
usage:
	fprintf(stderr, "usage: mapcost DEV OFFSET LENGTH [--fixed-misalign] [--populate] [--madvise N] "
		"[--stamp SEED] [--misuse fork|mprotect|munmap|mremap-move|mremap-shrink]\n");
	return 2;
}
