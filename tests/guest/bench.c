// SPDX-License-Identifier: GPL-2.0
/*
 * bench: one mapping kind, one size, REPS repetitions; prints one JSON
 * object of medians.  Driven by tests/bench.py (make bench).
 *
 *   bench KIND OFFSET SIZE REPS [BW_BYTES]
 *     KIND: resmem  (/dev/resmem/region0, MAP_SHARED, OFFSET in the region)
 *           devmem  (/dev/mem, OFFSET a physical address, write-back)
 *           devmem-sync (/dev/mem opened O_SYNC: uncached)
 *           devdax  (/dev/dax0.0, MAP_SHARED, OFFSET in the device)
 *           anon    (MAP_PRIVATE|MAP_ANONYMOUS, MADV_HUGEPAGE)
 *     BW_BYTES: bytes the bandwidth and random-access loops cover (the
 *           first BW_BYTES of the mapping; default: all of it)
 *
 * Per repetition: mmap; first touch (one 8-byte store per 4 KiB page of
 * the whole mapping); PageTables growth (/proc/meminfo); sequential write
 * (memset), read (64-bit sum), copy (memcpy first half to second half);
 * 2^20 random 8-byte loads at 4 KiB-aligned offsets; munmap.
 * Each metric is printed as its median over all REPS runs and, as
 * NAME_min / NAME_max, the smallest and largest value of runs 2..REPS (the
 * run-to-run spread; under QEMU the first run also pays the host's first
 * touch of guest memory).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PS 4096UL
#define NRAND (1UL << 20)
#define MAXREPS 15

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long pagetables_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PageTables: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int parse(const char *s, uint64_t *out)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'K': v <<= 10; end++; break;
	case 'M': v <<= 20; end++; break;
	case 'G': v <<= 30; end++; break;
	}
	*out = v;
	return *end ? -1 : 0;
}

enum { MMAP, TOUCH, PT, WR, RD, CP, RAND, MUNMAP, NM };
static const char *const names[NM] = {
	"mmap_us", "touch_ms", "pt_kb", "write_gbs", "read_gbs", "copy_gbs",
	"rand_mops", "munmap_us",
};

int main(int argc, char **argv)
{
	uint64_t off, size, reps, bw;
	double v[NM][MAXREPS];
	volatile uint64_t sink = 0;
	const char *kind;
	int fd = -1;

	if (argc < 5 || parse(argv[2], &off) || parse(argv[3], &size) ||
	    parse(argv[4], &reps) || !reps || reps > MAXREPS) {
		fprintf(stderr, "usage: bench resmem|devmem|devmem-sync|devdax|anon OFFSET SIZE REPS [BW_BYTES]\n");
		return 2;
	}
	bw = size;
	if (argc > 5 && (parse(argv[5], &bw) || bw > size || !bw))
		return 2;
	kind = argv[1];
	if (!strcmp(kind, "resmem"))
		fd = open("/dev/resmem/region0", O_RDWR);
	else if (!strcmp(kind, "devmem"))
		fd = open("/dev/mem", O_RDWR);
	else if (!strcmp(kind, "devdax"))
		fd = open("/dev/dax0.0", O_RDWR);
	else if (!strcmp(kind, "devmem-sync"))
		fd = open("/dev/mem", O_RDWR | O_SYNC);
	else if (strcmp(kind, "anon"))
		return 2;
	if (strcmp(kind, "anon") && fd < 0) {
		fprintf(stderr, "open: %s\n", strerror(errno));
		return 1;
	}
	for (uint64_t r = 0; r < reps; r++) {
		long pt0 = pagetables_kb();
		uint64_t x = 88172645463325252ULL;
		double t;
		uint8_t *p;

		t = now();
		if (fd >= 0)
			p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
		else
			p = mmap(NULL, size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		v[MMAP][r] = (now() - t) * 1e6;
		if (p == MAP_FAILED) {
			fprintf(stderr, "mmap %s %#llx+%#llx: %s\n", kind,
				(unsigned long long)off, (unsigned long long)size,
				strerror(errno));
			return 1;
		}
		if (fd < 0)
			madvise(p, size, MADV_HUGEPAGE);
		t = now();
		for (uint64_t i = 0; i < size; i += PS)
			*(volatile uint64_t *)(p + i) = i;
		v[TOUCH][r] = (now() - t) * 1e3;
		v[PT][r] = pagetables_kb() - pt0;

		t = now();
		memset(p, (int)r + 1, bw);
		v[WR][r] = bw / (now() - t) / 1e9;
		t = now();
		{
			uint64_t s = 0;

			for (uint64_t i = 0; i < bw; i += 8)
				s += *(uint64_t *)(p + i);
			sink += s;
		}
		v[RD][r] = bw / (now() - t) / 1e9;
		t = now();
		memcpy(p + bw / 2, p, bw / 2);
		v[CP][r] = (bw / 2) / (now() - t) / 1e9;
		t = now();
		for (uint64_t i = 0; i < NRAND; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			sink += *(volatile uint64_t *)(p + (x % (bw / PS)) * PS);
		}
		v[RAND][r] = NRAND / (now() - t) / 1e6;

		t = now();
		munmap(p, size);
		v[MUNMAP][r] = (now() - t) * 1e6;
	}
	printf("{\"kind\": \"%s\", \"size\": %llu, \"bw_bytes\": %llu, \"reps\": %llu",
	       kind, (unsigned long long)size, (unsigned long long)bw,
	       (unsigned long long)reps);
	for (int m = 0; m < NM; m++) {
		/* spread of the warm runs: the first pays the host's first touch */
		int w = reps > 1;
		double lo = v[m][w], hi = v[m][w];

		for (uint64_t r = w; r < reps; r++) {
			lo = v[m][r] < lo ? v[m][r] : lo;
			hi = v[m][r] > hi ? v[m][r] : hi;
		}
		printf(", \"%s\": %.4f, \"%s_min\": %.4f, \"%s_max\": %.4f", names[m],
		       median(v[m], (int)reps), names[m], lo, names[m], hi);
	}
	printf("}\n");
	return sink == 42 ? 3 : 0;
}
