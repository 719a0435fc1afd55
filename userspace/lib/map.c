// SPDX-License-Identifier: GPL-2.0
/*
 * Mapping windows of a region and walking ranges through them.  Regions can
 * be larger than the address space or page-table memory a process may spend,
 * so big ranges are visited one window (default 1 GiB) at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "libresmem.h"

static uint64_t page_size_of(const struct resmem_region *r)
{
	long ps = sysconf(_SC_PAGESIZE);

	/* mmap offsets must be aligned to the CPU's page size, not the region's */
	if (r->info.page_size > (uint64_t)ps)
		return r->info.page_size;
	return ps > 0 ? (uint64_t)ps : 4096;
}

static int inside(const struct resmem_region *r, uint64_t off, uint64_t len)
{
	return off <= r->info.size && len <= r->info.size - off;
}

int resmem_map(const struct resmem_region *r, uint64_t off, uint64_t len,
	       int prot, void **addr)
{
	void *p;

	if (!len || off % page_size_of(r) || !inside(r, off, len) ||
	    len > SIZE_MAX)
		return -EINVAL;
	p = mmap(NULL, (size_t)len, prot, MAP_SHARED, r->fd, (off_t)off);
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

int resmem_msync(void *addr, uint64_t len)
{
	return msync(addr, (size_t)len, MS_SYNC) < 0 ? -errno : 0;
}

int resmem_unmap(void *addr, uint64_t len)
{
	return munmap(addr, (size_t)len) < 0 ? -errno : 0;
}

static int walk_mmap(const struct resmem_region *r, uint64_t off, uint64_t len,
		     const struct resmem_walk_opts *o, resmem_walk_fn fn,
		     void *ctx)
{
	uint64_t ps = page_size_of(r);
	uint64_t window = o->window ? o->window : RESMEM_DEFAULT_WINDOW;
	size_t chunk = o->chunk ? o->chunk : (64u << 20);
	int prot = o->write ? PROT_READ | PROT_WRITE : PROT_READ;
	uint64_t end = off + len;

	window = (window + ps - 1) / ps * ps;
	while (off < end) {
		uint64_t base = off / ps * ps;
		uint64_t wlen = window;
		uint64_t stop, pos;
		char *map;
		int ret = 0, err;

		/* the last window may be shorter than the others */
		if (wlen > r->info.size - base)
			wlen = r->info.size - base;
		stop = base + wlen < end ? base + wlen : end;
		/* map whole pages only: trailing partial page rounds up */
		wlen = (stop - base + ps - 1) / ps * ps;
		if (wlen > r->info.size - base)
			wlen = r->info.size - base;
		err = resmem_map(r, base, wlen, prot, (void **)&map);
		if (err)
			return err;
		for (pos = off; pos < stop && !ret; pos += chunk) {
			size_t n = stop - pos < chunk ? (size_t)(stop - pos) :
							chunk;

			ret = fn(map + (pos - base), pos, n, ctx);
		}
		err = o->write ? resmem_msync(map, wlen) : 0;
		resmem_unmap(map, wlen);
		if (ret)
			return ret;
		if (err)
			return err;
		off = stop;
	}
	return 0;
}

/* pread/pwrite all of it: retry EINTR and short transfers; EOF is -EIO. */
static int full_io(int fd, void *buf, size_t n, uint64_t off, int write)
{
	char *p = buf;

	while (n) {
		ssize_t done = write ? pwrite(fd, p, n, (off_t)off) :
				       pread(fd, p, n, (off_t)off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return -errno;
		if (done == 0)
			return -EIO;
		p += done;
		off += (uint64_t)done;
		n -= (size_t)done;
	}
	return 0;
}

static int walk_rw(const struct resmem_region *r, uint64_t off, uint64_t len,
		   const struct resmem_walk_opts *o, resmem_walk_fn fn,
		   void *ctx)
{
	size_t chunk = o->chunk ? o->chunk : (4u << 20);
	uint64_t end = off + len;
	void *buf;
	int ret = 0;

	/* page-aligned so pattern code can use whole-word accesses */
	if (posix_memalign(&buf, 4096, chunk))
		return -ENOMEM;
	while (off < end && !ret) {
		size_t n = end - off < chunk ? (size_t)(end - off) : chunk;

		if (!o->write)
			ret = full_io(r->fd, buf, n, off, 0);
		if (!ret)
			ret = fn(buf, off, n, ctx);
		if (!ret && o->write)
			ret = full_io(r->fd, buf, n, off, 1);
		off += n;
	}
	free(buf);
	return ret;
}

int resmem_walk(const struct resmem_region *r, uint64_t off, uint64_t len,
		const struct resmem_walk_opts *opts, resmem_walk_fn fn,
		void *ctx)
{
	static const struct resmem_walk_opts defaults;
	const struct resmem_walk_opts *o = opts ? opts : &defaults;

	if (!inside(r, off, len))
		return -EINVAL;
	if (!len)
		return 0;
	if (o->via == RESMEM_VIA_RW)
		return walk_rw(r, off, len, o, fn, ctx);
	return walk_mmap(r, off, len, o, fn, ctx);
}
