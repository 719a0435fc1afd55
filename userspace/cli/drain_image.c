// SPDX-License-Identifier: GPL-2.0
/*
 * resmem drain --image FILE: the ring's committed bytes written as a ring
 * file (libresmem's ring image) at disk speed.  Whole pages go to the disk
 * straight from the region's mapping (O_DIRECT through io_uring, the
 * mapping's pages registered as fixed buffers: the region needs struct
 * pages); the few ragged page ends, the header and everything when direct
 * I/O from the mapping is not possible go through bounce buffers.  cons
 * moves only once the image is durable (fdatasync, then the directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define PG RESMEM_RING_IMAGE_ALIGN
#define REG_MAX (1ULL << 30) /* io_uring takes fixed buffers up to 1 GiB */
#define MAX_BUFS 64

struct slot {
	unsigned char *bounce;
	int busy, from_map; /* from_map: the bytes come from the mapping */
	uint32_t len;
	uint64_t off;
};

struct writer {
	const char *cmd, *name, *path;
	int fd, direct;
	struct uring u;
	int uring_err; /* 0: io_uring in use, else why not (-errno) */
	unsigned int depth, busy;
	size_t io_size, bounce_size;
	struct slot *slot;
	const unsigned char *base; /* the region's mapping */
	int zero_copy; /* whole pages straight from the mapping */
	struct iovec bufs[MAX_BUFS]; /* registered: fixed buffer i */
	unsigned int nbufs;
	int reg_err; /* registering the buffers failed: -errno */
	int refused; /* a write from the mapping failed: -errno */
	int err; /* any other failure: -errno (said on stderr) */
	uint64_t mapped, bounced; /* bytes written each way */
	struct progress prog;
};

static int set_bounce(struct writer *w, size_t size)
{
	unsigned int i;

	for (i = 0; i < w->depth; i++) {
		free(w->slot[i].bounce);
		w->slot[i].bounce = NULL;
		if (posix_memalign((void **)&w->slot[i].bounce, PG, size))
			return -ENOMEM;
	}
	w->bounce_size = size;
	return 0;
}

/* The completion of slot @s with result @res. */
static void done(struct writer *w, struct slot *s, int32_t res)
{
	s->busy = 0;
	w->busy--;
	if (res == (int32_t)s->len) {
		if (s->from_map)
			w->mapped += s->len;
		else
			w->bounced += s->len;
		progress_add(&w->prog, s->len);
		return;
	}
	if (res < 0 && s->from_map &&
	    (res == -EFAULT || res == -EINVAL || res == -EOPNOTSUPP)) {
		if (!w->refused)
			w->refused = res;
		return;
	}
	if (w->err)
		return;
	if (res < 0) {
		w->err = res;
		sys_error("cannot write", w->path, res);
	} else {
		w->err = -ENOSPC;
		fprintf(stderr,
			"resmem: %s: short write at offset %" PRIu64
			": %d of %u bytes (ENOSPC: the file system is full?)\n",
			w->path, s->off, res, s->len);
	}
}

/*
 * Submit what is queued and wait for @n completions.  If the kernel takes
 * no more (io_uring_enter() failed), what is in flight is given up: the
 * error is said and the image is not finished.
 */
static void reap(struct writer *w, unsigned int n)
{
	uint64_t ud;
	int32_t res;
	int err;

	err = uring_submit(&w->u, n);
	while (uring_reap(&w->u, &ud, &res))
		done(w, &w->slot[ud], res);
	if (!err)
		return;
	if (!w->err) {
		w->err = err;
		sys_error("cannot submit writes of", w->path, err);
	}
	w->busy = 0;
}

static void wait_all(struct writer *w)
{
	while (w->busy)
		reap(w, 1);
}

/* A free slot, waiting for one if all are in flight. */
static struct slot *get_slot(struct writer *w)
{
	unsigned int i;

	while (w->busy == w->depth)
		reap(w, 1);
	for (i = 0; i < w->depth; i++)
		if (!w->slot[i].busy)
			return &w->slot[i];
	return &w->slot[0]; /* reap() gave everything up: w->err is set */
}

/* Write [buf, buf + len) at @off: buf is @s's bounce or in the mapping. */
static void put(struct writer *w, struct slot *s, const void *buf, uint32_t len,
		uint64_t off, int fixed)
{
	ssize_t n;

	s->busy = 1;
	s->len = len;
	s->off = off;
	s->from_map = buf != s->bounce;
	w->busy++;
	if (w->uring_err) {
		n = pwrite(w->fd, buf, len, (off_t)off);
		done(w, s, n < 0 ? -errno : (int32_t)n);
		return;
	}
	uring_write(&w->u, w->fd, buf, len, off, fixed,
		    (uint64_t)(s - w->slot));
	if (w->u.queued >= w->depth / 2 || w->busy == w->depth)
		reap(w, 0);
}

/* How much of the piece at @p may go from the mapping in one write. */
static size_t fixed_room(const struct writer *w, const unsigned char *p)
{
	unsigned int i;

	for (i = 0; i < w->nbufs; i++) {
		const unsigned char *b = w->bufs[i].iov_base;

		if (p >= b && p < b + w->bufs[i].iov_len)
			return (size_t)(b + w->bufs[i].iov_len - p);
	}
	return SIZE_MAX;
}

/*
 * One extent, in whole pages of the file: a page only partly inside the
 * extent goes through a bounce buffer with zeros around the bytes (so the
 * image holds nothing but the ring's bytes and zeros); whole pages go from
 * the mapping when zero_copy, else through bounce buffers too.
 */
static void write_extent(struct writer *w,
			 const struct resmem_ring_image_extent *e)
{
	uint64_t fs = e->file_off, fe = fs + e->len;
	uint64_t p = fs & ~(uint64_t)(PG - 1),
		 end = (fe + PG - 1) & ~(PG - 1ULL);
	uint64_t n, lo, hi;
	const unsigned char *src;
	struct slot *s;

	while (p < end && !w->err && !w->refused && !ring_stop) {
		n = end - p < w->io_size ? end - p : w->io_size;
		src = w->base + e->region_off + (p - fs);
		s = get_slot(w);
		if (w->err || w->refused)
			break;
		if (w->zero_copy && p >= fs && p + PG <= fe) {
			if (p + n > fe)
				n = (fe - p) & ~(uint64_t)(PG - 1);
			if (w->nbufs && fixed_room(w, src) < n)
				n = fixed_room(w, src);
			put(w, s, src, (uint32_t)n, p,
			    uring_fixed_index(w->bufs, w->nbufs, src, n));
			p += n;
			continue;
		}
		if (w->zero_copy || n > w->bounce_size)
			n = PG;
		lo = p > fs ? p : fs;
		hi = p + n < fe ? p + n : fe;
		memset(s->bounce, 0, n);
		memcpy(s->bounce + (lo - p),
		       w->base + e->region_off + (lo - fs), hi - lo);
		put(w, s, s->bounce, (uint32_t)n, p, -1);
		p += n;
	}
}

/*
 * Register the whole pages of the extents as fixed buffers (1 GiB each, the
 * first MAX_BUFS GiB: pages past them are written with plain writes).
 */
static int register_pages(struct writer *w, const struct resmem_ring_image *img)
{
	unsigned int i;
	uint64_t a, b, len;

	for (i = 0; i < img->extents; i++) {
		const struct resmem_ring_image_extent *e = &img->ext[i];

		a = (e->file_off + PG - 1) & ~(PG - 1ULL);
		b = (e->file_off + e->len) & ~(PG - 1ULL);
		for (; a < b && w->nbufs < MAX_BUFS; a += len) {
			len = b - a < REG_MAX ? b - a : REG_MAX;
			w->bufs[w->nbufs].iov_base =
				(void *)(uintptr_t)(w->base + e->region_off +
						    (a - e->file_off));
			w->bufs[w->nbufs++].iov_len = len;
		}
	}
	return w->nbufs ? uring_register_buffers(&w->u, w->bufs, w->nbufs) : 0;
}

/* All extents, then everything in flight done. */
static void write_all(struct writer *w, const struct resmem_ring_image *img)
{
	unsigned int i;

	w->mapped = w->bounced = 0;
	progress_start(&w->prog, "drain", w->name, img->size);
	for (i = 0; i < img->extents; i++)
		write_extent(w, &img->ext[i]);
	wait_all(w);
}

/*
 * The image file: created, or an existing empty regular file (an image
 * is never written over anything).  O_DIRECT when its file system takes
 * it; *direct_err says why not.  0 or an exit code.
 */
static int open_image(struct writer *w, int *created, int *direct_err)
{
	struct stat sb;
	char sz[32];
	int fd;

	*created = 0;
	*direct_err = 0;
	fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0)
		*created = 1;
	else if (errno == EEXIST)
		fd = open(w->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sys_error("cannot create", w->path, -errno);
	if (fstat(fd, &sb)) {
		close(fd);
		return sys_error("cannot stat", w->path, -errno);
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size) {
		resmem_format_size((uint64_t)sb.st_size, sz, sizeof(sz));
		fprintf(stderr,
			"%s: %s %s: not overwritten.\n"
			"  An image goes to a new (or empty) regular file: name one\n",
			w->cmd, w->path,
			S_ISREG(sb.st_mode) ? "already holds data" :
					      "is not a regular file");
		if (S_ISREG(sb.st_mode))
			fprintf(stderr, "  (%s holds %" PRIu64 " bytes, %s)\n",
				w->path, (uint64_t)sb.st_size, sz);
		close(fd);
		return EXIT_PROBLEM;
	}
	close(fd);
	w->fd = open(w->path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (w->fd >= 0) {
		w->direct = 1;
		return 0;
	}
	*direct_err = -errno;
	w->fd = open(w->path, O_WRONLY | O_CLOEXEC);
	if (w->fd < 0)
		return sys_error("cannot open", w->path, -errno);
	return 0;
}

/* fsync() the directory holding @path: the new file's entry is durable. */
static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, err = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd) && errno != EINVAL) /* some file systems cannot */
		err = -errno;
	close(fd);
	return err;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Why whole pages cannot go straight from the mapping, or NULL. */
static const char *no_zero_copy(const struct writer *w,
				const struct ring_map *m,
				const struct image_args *a, int direct_err,
				char *buf, size_t len)
{
	if (a->copy)
		return "asked for (--copy)";
	if (!w->direct) {
		snprintf(buf, len,
			 "%s's file system does not take O_DIRECT: %s", w->path,
			 errno_name(-direct_err));
		return buf;
	}
	if (!strncmp(m->info.pages, "no", 2)) {
		snprintf(buf, len,
			 "the region has no struct pages (sysfs pages: %s)",
			 m->info.pages);
		return buf;
	}
	return NULL;
}

static void path_text(const struct writer *w, const char *why, char *buf,
		      size_t len)
{
	char io[32];
	int n;

	resmem_format_size(w->io_size, io, sizeof(io));
	if (!w->zero_copy)
		n = snprintf(buf, len, "copy (%s)", why);
	else if (w->uring_err)
		n = snprintf(buf, len,
			     "zero-copy O_DIRECT pwrite (no io_uring: %s)",
			     errno_name(-w->uring_err));
	else if (w->reg_err)
		n = snprintf(
			buf, len,
			"zero-copy io_uring O_DIRECT (buffers not registered: %s)",
			errno_name(-w->reg_err));
	else
		n = snprintf(buf, len,
			     "zero-copy io_uring O_DIRECT, registered buffers");
	if (n < 0 || (size_t)n >= len)
		return;
	if (!w->zero_copy)
		snprintf(buf + n, len - (size_t)n, ", %s%s",
			 w->uring_err ? "pwrite" : "io_uring",
			 w->direct ? " O_DIRECT" : "");
	if (!w->uring_err)
		snprintf(buf + strlen(buf), len - strlen(buf),
			 "; %u x %s in flight", w->depth, io);
}

static void summary(const struct writer *w, const struct resmem_ring_image *img,
		    const struct image_args *a, const char *path, double secs,
		    double cpu, int consumed)
{
	uint64_t total = w->mapped + w->bounced;
	double mib = (double)total / (1 << 20);
	double rate = secs > 0 ? mib / secs : 0;
	double per_gib = total ? cpu / ((double)total / (1 << 30)) : 0;
	char b[32], mb[32], bb[32];

	if (a->json) {
		printf("{\"image\": ");
		json_string(stdout, w->path);
		printf(", \"records\": %" PRIu64 ", \"payload_bytes\": %" PRIu64
		       ", \"first_seq\": %" PRIu64 ", \"end_seq\": %" PRIu64
		       ", \"image_size\": %" PRIu64 ", \"bytes\": %" PRIu64
		       ", \"mapped_bytes\": %" PRIu64
		       ", \"bounced_bytes\": %" PRIu64
		       ", \"seconds\": %.6f, \"mib_s\": %.3f, \"cpu_seconds\": %.6f"
		       ", \"cpu_s_per_gib\": %.6f, \"zero_copy\": %s, \"path\": ",
		       img->records, img->bytes, img->start_seq, img->end_seq,
		       img->size, total, w->mapped, w->bounced, secs, rate, cpu,
		       per_gib, w->zero_copy ? "true" : "false");
		json_string(stdout, path);
		printf(", \"io_size\": %zu, \"io_depth\": %u, \"consumed\": %s}\n",
		       w->io_size, w->uring_err ? 1 : w->depth,
		       consumed ? "true" : "false");
		return;
	}
	resmem_format_size(img->bytes, b, sizeof(b));
	fprintf(stderr, "drain %s: image %s: %" PRIu64 " records (%s)", w->name,
		w->path, img->records, b);
	if (img->end_seq != img->start_seq)
		fprintf(stderr, ", seq %" PRIu64 "..%" PRIu64, img->start_seq,
			img->end_seq - 1);
	resmem_format_size(total, b, sizeof(b));
	fprintf(stderr,
		", %s written in %.3f s: %.1f MiB/s, CPU %.3f s (%.3f s/GiB)\n",
		b, secs, rate, cpu, per_gib);
	resmem_format_size(w->mapped, mb, sizeof(mb));
	resmem_format_size(w->bounced, bb, sizeof(bb));
	fprintf(stderr,
		"drain %s: path: %s; %s from the mapping, %s through bounce buffers\n",
		w->name, path, mb, bb);
	if (consumed)
		fprintf(stderr,
			"drain %s: consumed up to seq %" PRIu64
			" (after the image was durable)\n",
			w->name, img->end_seq - 1);
}

static void writer_free(struct writer *w)
{
	unsigned int i;

	if (!w->uring_err)
		uring_exit(&w->u);
	for (i = 0; w->slot && i < w->depth; i++)
		free(w->slot[i].bounce);
	free(w->slot);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

/* A failure after the file was made: remove it if we made it. */
static int give_up(struct writer *w, int created, int ret)
{
	writer_free(w);
	if (created && !unlink(w->path))
		fprintf(stderr, "%s: %s removed: nothing was consumed\n",
			w->cmd, w->path);
	else
		fprintf(stderr, "%s: nothing was consumed\n", w->cmd);
	return ret;
}

/* The header, the length, durability: 0 or -errno (said). */
static int finish(struct writer *w, const struct resmem_ring_image *img)
{
	struct slot *s = get_slot(w);
	int err;

	memset(s->bounce, 0, PG);
	memcpy(s->bounce, &img->hdr, sizeof(img->hdr));
	put(w, s, s->bounce, PG, 0, -1);
	wait_all(w);
	if (w->err)
		return w->err;
	if (ftruncate(w->fd, (off_t)img->size)) {
		err = -errno;
		sys_error("cannot set the size of", w->path, err);
		return err;
	}
	if (fdatasync(w->fd)) {
		err = -errno;
		sys_error("cannot sync", w->path, err);
		return err;
	}
	err = sync_dir(w->path);
	if (err)
		sys_error("cannot sync the directory of", w->path, err);
	return err;
}

int drain_image(struct ring_map *m, const struct image_args *a)
{
	struct writer w = { .cmd = "drain",
			    .name = m->info.name,
			    .path = a->path,
			    .fd = -1,
			    .base = m->base,
			    .uring_err = -ENOSYS,
			    .io_size = a->io_size,
			    .depth = a->depth };
	struct resmem_ring_image img;
	char whybuf[256], path[256];
	const char *why;
	int created, direct_err, err, ret;
	double t0, c0, secs;

	err = resmem_ring_image_plan(m->ring, a->from, &img);
	if (err) {
		fprintf(stderr, "drain %s: %s\n", w.name,
			ring_strerror(-EBADMSG));
		return EXIT_PROBLEM;
	}
	if (img.lost)
		fprintf(stderr,
			"drain %s: gap: %" PRIu64
			" records lost (overwritten before they were read) before seq %" PRIu64
			"\n",
			w.name, img.lost, img.start_seq);
	if (img.damaged)
		fprintf(stderr,
			"drain %s: a record header between seq %" PRIu64
			" and head does not fit where it is: the image holds the bytes as they are\n"
			"  (reading it back reports the damage); records counted up to there\n",
			w.name, img.start_seq);
	ret = open_image(&w, &created, &direct_err);
	if (ret)
		return ret;
	w.slot = calloc(w.depth, sizeof(*w.slot));
	if (!w.slot || set_bounce(&w, PG))
		return give_up(&w, created,
			       sys_error("cannot allocate", "buffers",
					 -ENOMEM));
	w.uring_err = uring_init(&w.u, w.depth);
	why = no_zero_copy(&w, m, a, direct_err, whybuf, sizeof(whybuf));
	w.zero_copy = !why;
	if (w.zero_copy && !w.uring_err) {
		w.reg_err = register_pages(&w, &img);
		if (w.reg_err) {
			w.nbufs = 0; /* plain writes, pinned one at a time */
			fprintf(stderr,
				"drain %s: the mapping cannot be registered as fixed buffers (%s): zero-copy without them\n",
				w.name, errno_name(-w.reg_err));
		}
	}
	t0 = now_seconds();
	c0 = cpu_seconds();
	if (w.zero_copy) {
		write_all(&w, &img);
		if (w.refused && !w.err && !ring_stop) {
			snprintf(whybuf, sizeof(whybuf),
				 "O_DIRECT from the mapping refused: %s",
				 errno_name(-w.refused));
			why = whybuf;
			w.zero_copy = 0;
		}
	}
	if (!w.zero_copy && !w.err && !ring_stop) {
		fprintf(stderr,
			"drain %s: no zero-copy: %s: copying through bounce buffers\n",
			w.name, why);
		if (set_bounce(&w, w.io_size)) {
			ret = sys_error("cannot allocate", "bounce buffers",
					-ENOMEM);
			return give_up(&w, created, ret);
		}
		w.refused = 0;
		write_all(&w, &img);
	}
	if (ring_stop && !w.err) {
		fprintf(stderr, "drain %s: interrupted\n", w.name);
		return give_up(&w, created, EXIT_PROBLEM);
	}
	if (w.err || w.refused) {
		return give_up(&w, created, EXIT_SYSTEM);
	}
	err = resmem_ring_image_settle(m->ring, &img);
	if (err < 0) {
		fprintf(stderr,
			"drain %s: the producer overwrote every record of the image while it was written (an overwriting capture faster than the disk)\n",
			w.name);
		return give_up(&w, created, EXIT_PROBLEM);
	}
	if (err > 0)
		fprintf(stderr,
			"drain %s: gap: the producer overwrote %" PRIu64
			" bytes while they were written: the image starts at seq %" PRIu64
			"\n",
			w.name, img.overrun, img.start_seq);
	if (finish(&w, &img)) {
		return give_up(&w, created, EXIT_SYSTEM);
	}
	secs = now_seconds() - t0;
	path_text(&w, why, path, sizeof(path));
	if (a->consume)
		resmem_ring_image_consume(m->ring, &img);
	progress_end(&w.prog);
	summary(&w, &img, a, path, secs, cpu_seconds() - c0, a->consume);
	writer_free(&w);
	return img.lost || img.overrun || img.damaged ? EXIT_PROBLEM : EXIT_OK;
}
