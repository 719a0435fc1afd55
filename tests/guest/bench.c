// SPDX-License-Identifier: GPL-2.0
/*
 * bench: one mapping kind, one size, REPS repetitions; prints one JSON
 * object of medians.  Driven by tests/bench.py (make bench).
 *
 *   bench KIND OFFSET SIZE REPS [BW_BYTES]
 *   bench pair KIND_A:OFFSET KIND_B:OFFSET SIZE ROUNDS [BW_BYTES]
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
#define MAXROUNDS 101

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
/* Metrics where more is better (bandwidths, rates); less for the others. */
static const int more_is_better[NM] = { 0, 0, 0, 1, 1, 1, 1, 0 };

struct kind {
	char name[16];
	uint64_t off;
	int fd;			/* -1: anonymous memory */
};

static int open_kind(struct kind *k)
{
	static const struct {
		const char *name, *path;
		int flags;
	} devs[] = {
		{ "resmem", "/dev/resmem/region0", O_RDWR },
		{ "devmem", "/dev/mem", O_RDWR },
		{ "devmem-sync", "/dev/mem", O_RDWR | O_SYNC },
		{ "devdax", "/dev/dax0.0", O_RDWR },
	};

	k->fd = -1;
	if (!strcmp(k->name, "anon"))
		return 0;
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		if (strcmp(k->name, devs[i].name))
			continue;
		k->fd = open(devs[i].path, devs[i].flags);
		if (k->fd < 0) {
			fprintf(stderr, "open %s: %s\n", devs[i].path, strerror(errno));
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "unknown kind %s\n", k->name);
	return 2;
}

static volatile uint64_t sink;

/* One repetition of every metric into out[]; 0, or 1 if mmap failed. */
static int one_rep(const struct kind *k, uint64_t size, uint64_t bw, int fill,
		   double *out)
{
	long pt0 = pagetables_kb();
	uint64_t x = 88172645463325252ULL, sum = 0;
	double t;
	uint8_t *p;

	t = now();
	if (k->fd >= 0)
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd,
			 (off_t)k->off);
	else
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	out[MMAP] = (now() - t) * 1e6;
	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap %s %#llx+%#llx: %s\n", k->name,
			(unsigned long long)k->off, (unsigned long long)size,
			strerror(errno));
		return 1;
	}
	if (k->fd < 0)
		madvise(p, size, MADV_HUGEPAGE);
	t = now();
	for (uint64_t i = 0; i < size; i += PS)
		*(volatile uint64_t *)(p + i) = i;
	out[TOUCH] = (now() - t) * 1e3;
	out[PT] = pagetables_kb() - pt0;

	t = now();
	memset(p, fill, bw);
	out[WR] = bw / (now() - t) / 1e9;
	t = now();
	for (uint64_t i = 0; i < bw; i += 8)
		sum += *(uint64_t *)(p + i);
	sink += sum;
	out[RD] = bw / (now() - t) / 1e9;
	t = now();
	memcpy(p + bw / 2, p, bw / 2);
	out[CP] = (bw / 2) / (now() - t) / 1e9;
	t = now();
	for (uint64_t i = 0; i < NRAND; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sink += *(volatile uint64_t *)(p + (x % (bw / PS)) * PS);
	}
	out[RAND] = NRAND / (now() - t) / 1e6;

	t = now();
	munmap(p, size);
	out[MUNMAP] = (now() - t) * 1e6;
	return 0;
}

/* ", NAME<suffix>: median, _min, _max" of v[m][from..n) for every metric. */
static void print_spread(const char *suffix, double v[NM][MAXROUNDS], int from,
			 int n, int with_median_of_all)
{
	for (int m = 0; m < NM; m++) {
		double lo = v[m][from], hi = v[m][from];

		for (int r = from; r < n; r++) {
			lo = v[m][r] < lo ? v[m][r] : lo;
			hi = v[m][r] > hi ? v[m][r] : hi;
		}
		printf(", \"%s%s\": %.4f, \"%s%s_min\": %.4f, \"%s%s_max\": %.4f",
		       names[m], suffix,
		       with_median_of_all ? median(v[m], n) : median(v[m] + from, n - from),
		       names[m], suffix, lo, names[m], suffix, hi);
	}
}

static int parse_size_args(char **argv, int argc, int first, uint64_t *size,
			   uint64_t *reps, uint64_t max_reps, uint64_t *bw)
{
	if (argc < first + 2 || parse(argv[first], size) ||
	    parse(argv[first + 1], reps) || !*reps || *reps > max_reps)
		return -1;
	*bw = *size;
	if (argc > first + 2 && (parse(argv[first + 2], bw) || *bw > *size || !*bw))
		return -1;
	return 0;
}

static int pair(int argc, char **argv)
{
	static double v[2][NM][MAXROUNDS], ratio[NM][MAXROUNDS];
	struct kind k[2];
	uint64_t size, rounds, bw;

	if (parse_size_args(argv, argc, 4, &size, &rounds, MAXROUNDS, &bw) ||
	    rounds < 2)
		return 2;
	for (int i = 0; i < 2; i++) {
		const char *colon = strchr(argv[2 + i], ':');

		if (!colon || (size_t)(colon - argv[2 + i]) >= sizeof(k[i].name) ||
		    parse(colon + 1, &k[i].off))
			return 2;
		memcpy(k[i].name, argv[2 + i], colon - argv[2 + i]);
		k[i].name[colon - argv[2 + i]] = '\0';
		if (open_kind(&k[i]))
			return 1;
	}
	for (uint64_t r = 0; r < rounds; r++) {
		for (int j = 0; j < 2; j++) {
			int i = (int)(r & 1) ^ j;	/* A B, B A, A B, ... */
			double out[NM];

			if (one_rep(&k[i], size, bw, (int)r + 1, out))
				return 1;
			for (int m = 0; m < NM; m++)
				v[i][m][r] = out[m];
		}
		for (int m = 0; m < NM; m++)
			ratio[m][r] = v[1][m][r] ? v[0][m][r] / v[1][m][r] : 0;
	}
	printf("{\"kind\": \"pair\", \"a\": \"%s\", \"b\": \"%s\", \"size\": %llu, "
	       "\"bw_bytes\": %llu, \"rounds\": %llu", k[0].name, k[1].name,
	       (unsigned long long)size, (unsigned long long)bw,
	       (unsigned long long)rounds);
	print_spread("_ratio", ratio, 1, (int)rounds, 0);
	for (int m = 0; m < NM; m++) {
		int wins = 0;

		for (uint64_t r = 1; r < rounds; r++)
			wins += more_is_better[m] ? v[0][m][r] > v[1][m][r] :
						    v[0][m][r] < v[1][m][r];
		printf(", \"%s_wins\": %d", names[m], wins);
	}
	printf("}\n");
	return 0;
}

int main(int argc, char **argv)
{
	static double v[NM][MAXROUNDS];
	uint64_t size, reps, bw;
	struct kind k;

	if (argc > 1 && !strcmp(argv[1], "pair")) {
		int ret = pair(argc, argv);

		if (ret == 2)
			fprintf(stderr, "usage: bench pair KIND_A:OFFSET KIND_B:OFFSET SIZE ROUNDS(2..%d) [BW_BYTES]\n",
				MAXROUNDS);
		return ret;
	}
	if (argc < 3 || strlen(argv[1]) >= sizeof(k.name) || parse(argv[2], &k.off) ||
	    parse_size_args(argv, argc, 3, &size, &reps, MAXREPS, &bw)) {
		fprintf(stderr, "usage: bench resmem|devmem|devmem-sync|devdax|anon OFFSET SIZE REPS [BW_BYTES]\n");
		return 2;
	}
	strcpy(k.name, argv[1]);
	if (open_kind(&k))
		return 1;
	for (uint64_t r = 0; r < reps; r++) {
		double out[NM];

		if (one_rep(&k, size, bw, (int)r + 1, out))
			return 1;
		for (int m = 0; m < NM; m++)
			v[m][r] = out[m];
	}
	printf("{\"kind\": \"%s\", \"size\": %llu, \"bw_bytes\": %llu, \"reps\": %llu",
	       k.name, (unsigned long long)size, (unsigned long long)bw,
	       (unsigned long long)reps);
	/* spread of the warm runs: the first pays the host's first touch */
	print_spread("", v, reps > 1, (int)reps, 1);
	printf("}\n");
	return sink == 42 ? 3 : 0;
}
