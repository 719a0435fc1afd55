// SPDX-License-Identifier: GPL-2.0
/*
 * Regions without a kernel: sysfs listing from fixtures, name handling,
 * and the mapping walker run on a regular file (mmap MAP_SHARED and
 * pread/pwrite behave the same there), checked through the other path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test.h"

static void test_names(void)
{
	char buf[64];

	CHECK(resmem_dev_path("pmem0", buf, sizeof(buf)) == 0 && !strcmp(buf, "/dev/resmem/pmem0"));
	CHECK(resmem_dev_path("/dev/resmem/x", buf, sizeof(buf)) == 0 && !strcmp(buf, "/dev/resmem/x"));
	CHECK(resmem_dev_path("./file", buf, sizeof(buf)) == 0 && !strcmp(buf, "./file"));
	CHECK(resmem_dev_path("", buf, sizeof(buf)) == -EINVAL);
	CHECK(resmem_dev_path("a-rather-long-region-name-here", buf, 16) == -ENAMETOOLONG);
	CHECK(!strcmp(resmem_source_name(RESMEM_SOURCE_DEVICETREE), "devicetree"));
	CHECK(!strcmp(resmem_cache_mode_name(RESMEM_CACHE_WC), "write-combine"));
	CHECK(resmem_cache_mode_name(99) == NULL);
}

static void test_sysfs(const struct test_env *env)
{
	struct resmem_region_info *r, one;
	char root[512];
	size_t n;

	snprintf(root, sizeof(root), "%s/sys/loaded-two-1g", env->fixtures);
	CHECK(resmem_list(root, &r, &n) == 0 && n == 2, "%zu regions", n);
	if (n == 2) {
		CHECK(!strcmp(r[0].name, "hi") && !strcmp(r[1].name, "lo"), "sorted by name");
		CHECK(r[0].phys_addr == 0x180000000ULL && r[0].size == 1ULL << 30);
		CHECK(!strcmp(r[0].cache_mode, "uncached") && !strcmp(r[0].source, "cmdline"));
		CHECK(r[0].numa_node == 0 && r[0].mappings == 0);
	}
	free(r);
	CHECK(resmem_info_sysfs(root, "lo", &one) == 0 && one.phys_addr == 0x100000000ULL);
	CHECK(resmem_info_sysfs(root, "nope", &one) == -ENOENT);
	CHECK(resmem_info_sysfs(root, "../x", &one) == -EINVAL);

	snprintf(root, sizeof(root), "%s/sys/unloaded", env->fixtures);
	CHECK(resmem_list(root, &r, &n) == 0 && n == 0 && r == NULL, "no class dir is no regions");
}

struct fill_arg {
	struct resmem_pattern p;
	uint64_t calls, bytes, next;
	int in_order;
};

static int fill_cb(void *buf, uint64_t off, size_t len, void *ctx)
{
	struct fill_arg *a = ctx;

	a->in_order &= off == a->next;
	a->next = off + len;
	a->calls++;
	a->bytes += len;
	resmem_pattern_fill(&a->p, buf, off, len);
	return 0;
}

static int cmp_cb(void *buf, uint64_t off, size_t len, void *ctx)
{
	struct resmem_mismatch *m = ctx;
	struct resmem_pattern p = { .kind = RESMEM_PATTERN_SEQ, .seed = 99 };

	resmem_pattern_compare(&p, buf, off, len, m);
	return 0;
}

static int stop_cb(void *buf, uint64_t off, size_t len, void *ctx)
{
	(void)buf, (void)off, (void)len, (void)ctx;
	return 42;
}

static void test_walk(const struct test_env *env)
{
	const uint64_t size = 64 * 4096;
	struct resmem_region *r;
	const struct resmem_region_info *info;
	struct fill_arg a = { .p = { .kind = RESMEM_PATTERN_SEQ, .seed = 99 }, .in_order = 1 };
	struct resmem_walk_opts wo = { .via = RESMEM_VIA_MMAP, .write = 1, .window = 3 * 4096, .chunk = 1000 };
	struct resmem_mismatch m;
	uint64_t off = 4096 * 5 + 5, len = 4096 * 20 + 3, i;
	char path[512];
	uint8_t *all;
	void *map;
	int fd, bad = 0;

	snprintf(path, sizeof(path), "%s/region.bin", env->tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!CHECK(fd >= 0 && ftruncate(fd, (off_t)size) == 0))
		return;
	close(fd);

	if (!CHECK(resmem_open(path, 1, &r) == 0))
		return;
	info = resmem_region_get_info(r);
	CHECK(info->size == size && !strcmp(info->source, "file") && !strcmp(info->name, "region.bin"));
	CHECK(!strcmp(resmem_region_get_path(r), path));

	/* fill through small mmap windows, from an unaligned offset */
	a.next = off;
	CHECK(resmem_walk(r, off, len, &wo, fill_cb, &a) == 0);
	CHECK(a.bytes == len && a.in_order, "walk covered %llu bytes", (unsigned long long)a.bytes);
	CHECK(a.calls > len / 3 / 4096, "windows and chunks were used (%llu calls)",
	      (unsigned long long)a.calls);

	/* read back through the other path: pread in odd-sized chunks */
	wo.via = RESMEM_VIA_RW;
	wo.write = 0;
	wo.chunk = 777;
	memset(&m, 0, sizeof(m));
	CHECK(resmem_walk(r, off, len, &wo, cmp_cb, &m) == 0);
	CHECK(m.bad_bytes == 0, "%llu bad bytes after fill", (unsigned long long)m.bad_bytes);

	/* nothing outside the range was written */
	all = malloc(size);
	CHECK(pread(resmem_region_get_fd(r), all, size, 0) == (ssize_t)size);
	for (i = 0; i < size; i++)
		if (i < off || i >= off + len)
			bad += all[i] != 0;
	CHECK(bad == 0, "%d bytes outside the range changed", bad);
	/* the bytes in range are the pattern's (the byte function is checked
	 * against Python vectors in test_pattern.c) */
	for (i = off, bad = 0; i < off + len; i++)
		bad += all[i] != resmem_pattern_byte(&a.p, i);
	CHECK(bad == 0);
	free(all);

	/* writes through pwrite, checked through mmap */
	a.p.seed = 5;
	wo.write = 1;
	CHECK(resmem_walk(r, 0, size, &wo, fill_cb, &a) == 0);
	wo.via = RESMEM_VIA_MMAP;
	wo.write = 0;
	memset(&m, 0, sizeof(m));
	CHECK(resmem_walk(r, 0, size, &wo, cmp_cb, &m) == 0);
	CHECK(m.bad_bytes > 0, "seed 5 data must not verify as seed 99");

	/* callbacks stop the walk with their own value; bounds are checked */
	CHECK(resmem_walk(r, 0, size, &wo, stop_cb, NULL) == 42);
	CHECK(resmem_walk(r, size, 1, &wo, stop_cb, NULL) == -EINVAL);
	CHECK(resmem_walk(r, 1, size, &wo, stop_cb, NULL) == -EINVAL);
	CHECK(resmem_walk(r, size, 0, &wo, stop_cb, NULL) == 0);

	CHECK(resmem_map(r, 1, 4096, PROT_READ, &map) == -EINVAL, "unaligned offset");
	CHECK(resmem_map(r, 0, size + 1, PROT_READ, &map) == -EINVAL, "beyond the end");
	CHECK(resmem_map(r, 0, 0, PROT_READ, &map) == -EINVAL, "empty");
	if (CHECK(resmem_map(r, 4096, 4096, PROT_READ, &map) == 0)) {
		CHECK(((uint8_t *)map)[0] == resmem_pattern_byte(&(struct resmem_pattern){
			.kind = RESMEM_PATTERN_SEQ, .seed = 5 }, 4096));
		CHECK(resmem_unmap(map, 4096) == 0);
	}
	resmem_close(r);
	resmem_close(NULL);	/* nothing to close */

	/* read-only open refuses writable mappings */
	if (CHECK(resmem_open(path, 0, &r) == 0)) {
		CHECK(resmem_map(r, 0, 4096, PROT_READ | PROT_WRITE, &map) == -EACCES);
		resmem_close(r);
	}

	CHECK(resmem_open("no-such-region-xyz", 0, &r) == -ENOENT && !r);
	CHECK(resmem_open("/dev/null", 0, &r) == -ENOTTY, "a char device that is not resmem");
}

void test_region(const struct test_env *env)
{
	test_names();
	test_sysfs(env);
	test_walk(env);
}
