// SPDX-License-Identifier: GPL-2.0
/* Opening a region and finding out what it is (ioctl first, sysfs second). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"
#include "libresmem.h"
#include "resmem_trace.h"

const char *resmem_source_name(uint32_t source)
{
	switch (source) {
	case RESMEM_SOURCE_CMDLINE:
		return "cmdline";
	case RESMEM_SOURCE_PARAM:
		return "param";
	case RESMEM_SOURCE_DEVICETREE:
		return "devicetree";
	}
	return NULL;
}

const char *resmem_cache_mode_name(uint32_t cache_mode)
{
	switch (cache_mode) {
	case RESMEM_CACHE_WB:
		return "write-back";
	case RESMEM_CACHE_WC:
		return "write-combine";
	case RESMEM_CACHE_UC:
		return "uncached";
	}
	return NULL;
}

int resmem_dev_path(const char *name_or_path, char *buf, size_t len)
{
	int n;

	if (!name_or_path || !*name_or_path)
		return -EINVAL;
	if (strchr(name_or_path, '/'))
		n = snprintf(buf, len, "%s", name_or_path);
	else
		n = snprintf(buf, len, RESMEM_DEV_DIR "/%s", name_or_path);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

static void info_unknown(struct resmem_region_info *out)
{
	memset(out, 0, sizeof(*out));
	out->numa_node = -1;
	out->mappings = -1;
}

int resmem_info_ioctl(int fd, struct resmem_region_info *out)
{
	struct resmem_info ri;
	const char *s;

	memset(&ri, 0, sizeof(ri));
	ri.size = sizeof(ri);
	if (ioctl(fd, RESMEM_IOC_INFO, &ri) < 0)
		return -errno;
	info_unknown(out);
	ri.name[sizeof(ri.name) - 1] = '\0'; /* never trust a missing NUL */
	rm_strlcpy(out->name, ri.name, sizeof(out->name));
	out->phys_addr = ri.phys_addr;
	out->size = ri.length;
	s = resmem_source_name(ri.source);
	if (s)
		rm_strlcpy(out->source, s, sizeof(out->source));
	else
		snprintf(out->source, sizeof(out->source), "unknown(%u)",
			 ri.source);
	s = resmem_cache_mode_name(ri.cache_mode);
	if (s)
		rm_strlcpy(out->cache_mode, s, sizeof(out->cache_mode));
	else
		snprintf(out->cache_mode, sizeof(out->cache_mode),
			 "unknown(%u)", ri.cache_mode);
	out->numa_node = ri.numa_node;
	out->page_size = ri.page_size;
	out->flags =
		(ri.flags & (RESMEM_INFO_READONLY | RESMEM_INFO_COHERENT)) |
		RESMEM_INFO_READONLY_KNOWN | RESMEM_INFO_COHERENT_KNOWN;
	return 0;
}

static int attr_u64(const char *dir, const char *attr, int base, uint64_t *v)
{
	char buf[64];
	const char *end;
	int err = rm_read_attr(dir, attr, buf, sizeof(buf));

	if (err)
		return err;
	err = rm_parse_u64(buf, base, v, &end);
	if (err)
		return err;
	return *end ? -EINVAL : 0;
}

static int attr_long(const char *dir, const char *attr, long *v)
{
	char buf[64], *end;
	int err = rm_read_attr(dir, attr, buf, sizeof(buf));

	if (err)
		return err;
	errno = 0;
	*v = strtol(buf, &end, 10);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

/* sysfs "pages", and the RAM it says the struct pages take ("up to M KiB"). */
static void pages_from_sysfs(const char *dir, struct resmem_region_info *out)
{
	unsigned long long kib;
	const char *at;

	if (rm_read_attr(dir, "pages", out->pages, sizeof(out->pages))) {
		out->pages[0] = '\0';
		return;
	}
	at = strstr(out->pages, "up to ");
	if (!strncmp(out->pages, "yes:", 4) && at &&
	    sscanf(at, "up to %llu KiB", &kib) == 1 && kib <= UINT64_MAX / 1024)
		out->pages_ram = (uint64_t)kib * 1024;
}

int resmem_info_sysfs_dir(const char *dir, struct resmem_region_info *out)
{
	const char *base;
	long v;
	int err;

	info_unknown(out);
	base = strrchr(dir, '/');
	rm_strlcpy(out->name, base ? base + 1 : dir, sizeof(out->name));
	/* phys_addr and size are what a region is: without them, fail. */
	err = attr_u64(dir, "phys_addr", 0, &out->phys_addr);
	if (!err)
		err = attr_u64(dir, "size", 0, &out->size);
	if (err)
		return err;
	/* The rest is descriptive: leave "unknown" if an attribute is missing. */
	if (rm_read_attr(dir, "source", out->source, sizeof(out->source)))
		rm_strlcpy(out->source, "unknown", sizeof(out->source));
	if (rm_read_attr(dir, "cache_mode", out->cache_mode,
			 sizeof(out->cache_mode)))
		rm_strlcpy(out->cache_mode, "unknown", sizeof(out->cache_mode));
	if (!attr_long(dir, "numa_node", &v))
		out->numa_node = (int)v;
	if (!attr_long(dir, "mappings", &v))
		out->mappings = v;
	if (!attr_long(dir, "coherent", &v))
		out->flags |= RESMEM_INFO_COHERENT_KNOWN |
			      (v ? RESMEM_INFO_COHERENT : 0);
	pages_from_sysfs(dir, out);
	return 0;
}

int resmem_info_sysfs(const char *sysfs_root, const char *name,
		      struct resmem_region_info *out)
{
	char dir[512];

	if (!name || !*name || strchr(name, '/'))
		return -EINVAL;
	if (snprintf(dir, sizeof(dir), "%s/class/resmem/%s",
		     sysfs_root ? sysfs_root : RESMEM_SYSFS_ROOT,
		     name) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	return resmem_info_sysfs_dir(dir, out);
}

/* The sysfs directory of a character device, found from its dev_t. */
static int sysfs_dir_of_fd(int fd, char *buf, size_t len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENOTTY;
	if (snprintf(buf, len, RESMEM_SYSFS_ROOT "/dev/char/%u:%u",
		     major(st.st_rdev), minor(st.st_rdev)) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * A regular file (a saved raw dump, or a test's scratch file) stands in for a
 * region at physical address 0, so dump/verify/fill work on it too.
 */
static void file_info(struct resmem_region *r, const struct stat *st)
{
	const char *slash = strrchr(r->path, '/');

	info_unknown(&r->info);
	rm_strlcpy(r->info.name, slash ? slash + 1 : r->path,
		   sizeof(r->info.name));
	r->info.size = (uint64_t)st->st_size;
	rm_strlcpy(r->info.source, "file", sizeof(r->info.source));
	rm_strlcpy(r->info.cache_mode, "write-back",
		   sizeof(r->info.cache_mode));
	r->info.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
}

static int open_region(struct resmem_region *r, const char *name_or_path,
		       int writable)
{
	char dir[128];
	const char *mode = writable ? "read-write" : "read-only";
	struct resmem_region_info extra;
	struct stat st;
	int err;

	err = resmem_dev_path(name_or_path, r->path, sizeof(r->path));
	if (err)
		return err;
	r->fd = open(r->path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (r->fd < 0) {
		err = errno;
		resmem_trace("open %s %s: %s", r->path, mode, strerror(err));
		return -err;
	}
	resmem_trace("open %s %s", r->path, mode);
	r->writable = !!writable;

	if (!fstat(r->fd, &st) && S_ISREG(st.st_mode)) {
		file_info(r, &st);
		return 0;
	}
	err = resmem_info_ioctl(r->fd, &r->info);
	if (err == -ENOTTY || err == -EINVAL) {
		/* A driver without the ioctl: its sysfs directory says the same. */
		int serr = sysfs_dir_of_fd(r->fd, dir, sizeof(dir));

		if (!serr)
			serr = resmem_info_sysfs_dir(dir, &r->info);
		if (!serr) {
			char *slash = strrchr(r->path, '/');

			rm_strlcpy(r->info.name, slash ? slash + 1 : r->path,
				   sizeof(r->info.name));
			r->info.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
			err = 0;
		}
	}
	if (err) {
		close(r->fd);
		return err;
	}
	/* Extras only sysfs knows; best effort. */
	if (!sysfs_dir_of_fd(r->fd, dir, sizeof(dir)) &&
	    !resmem_info_sysfs_dir(dir, &extra)) {
		r->info.mappings = extra.mappings;
		memcpy(r->info.pages, extra.pages, sizeof(r->info.pages));
		r->info.pages_ram = extra.pages_ram;
	}
	return 0;
}

int resmem_open(const char *name_or_path, int writable,
		struct resmem_region **out)
{
	struct resmem_region *r = calloc(1, sizeof(*r));
	int err;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	err = open_region(r, name_or_path, writable);
	if (err) {
		free(r);
		return err;
	}
	*out = r;
	return 0;
}

void resmem_close(struct resmem_region *r)
{
	if (!r)
		return;
	close(r->fd);
	free(r);
}

int resmem_region_get_fd(const struct resmem_region *r)
{
	return r->fd;
}

const struct resmem_region_info *
resmem_region_get_info(const struct resmem_region *r)
{
	return &r->info;
}

const char *resmem_region_get_path(const struct resmem_region *r)
{
	return r->path;
}
