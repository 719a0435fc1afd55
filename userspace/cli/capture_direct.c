// SPDX-License-Identifier: GPL-2.0
/*
 * resmem capture --from FILE at disk speed: the whole records of the file
 * read with O_DIRECT (io_uring, several reads in flight) straight into
 * their payloads in the region's mapping.  Their places are reserved ahead
 * (resmem_ring_reserve_ahead()); each record is reserved and committed, in
 * order, only once all its bytes are there, so head never passes a byte
 * still being read.  A read the kernel refuses (EFAULT, EINVAL) or a
 * short one ends this part: the caller's read()+copy loop goes on from
 * the first record not committed, as it does for the ragged end of the
 * file (less than a record) and for whatever the file gained meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define REG_MAX (1ULL << 30) /* io_uring takes fixed buffers up to 1 GiB */
#define MAX_IOV 1024 /* UIO_MAXIOV */
#define PAYLOAD_ALIGN 8 /* a payload's address in the ring: 8-aligned */

struct rd_io {
	int busy;
	uint64_t first; /* the first record it fills (capture's numbering) */
	unsigned int nrec; /* records it fills, or 1: a chunk of one */
	uint32_t len;
	uint64_t off; /* in the file */
	struct iovec *iov; /* nrec pieces of the mapping */
};

struct reader {
	struct capture_direct *c;
	struct uring u;
	unsigned int depth, busy, per_io;
	struct rd_io *io;
	unsigned char **win; /* payload of record i at win[i % wcap] */
	uint32_t *missing; /* its bytes not read yet */
	unsigned int wcap;
	uint64_t planned, issued, chunk; /* records placed, records read from */
	struct iovec bufs[64]; /* registered: fixed buffer i */
	unsigned int nbufs;
	int refused, err; /* -errno */
	int64_t short_at; /* >= 0: a short read at this file offset */
};

static void say_why(struct capture_direct *c, const char *fmt, const char *a,
		    const char *b)
{
	snprintf(c->why, sizeof(c->why), fmt, a, b);
}

/*
 * Whether the whole records can go straight into the ring: 0 and @fd
 * open O_DIRECT, or -1 with c->why said (c->why empty: nothing to say,
 * e.g. the file holds less than a record).
 */
static int can_direct(struct capture_direct *c, int *fd)
{
	struct statx sx;
	struct stat sb;
	char n1[32], n2[32];

	c->why[0] = 0;
	if (fstat(c->fd, &sb) ||
	    !(S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode))) {
		say_why(c, "%s is not a regular file%s", c->path, "");
		return -1;
	}
	if (c->copy) {
		say_why(c, "asked for (--copy)%s%s", "", "");
		return -1;
	}
	if (c->lossy) {
		say_why(c, "%s%s", c->lossy, "");
		return -1;
	}
	if (!strncmp(c->m->info.pages, "no", 2)) {
		say_why(c, "the region has no struct pages (sysfs pages: %s)%s",
			c->m->info.pages, "");
		return -1;
	}
	if (S_ISREG(sb.st_mode) &&
	    (uint64_t)sb.st_size < (uint64_t)c->recsize) {
		return -1; /* nothing but a ragged end: read() */
	}
	*fd = open(c->path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (*fd < 0) {
		say_why(c, "%s's file system does not take O_DIRECT: %s",
			c->path, errno_name(errno));
		return -1;
	}
	if (!statx(*fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) &&
	    (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_mem_align) {
		snprintf(n1, sizeof(n1), "%u", sx.stx_dio_mem_align);
		snprintf(n2, sizeof(n2), "%u", sx.stx_dio_offset_align);
		if (sx.stx_dio_mem_align > PAYLOAD_ALIGN)
			say_why(c,
				"O_DIRECT on %s wants memory aligned to %s bytes (statx "
				"dio_mem_align; the disk's DMA alignment) and record payloads "
				"in the ring are 8-byte aligned",
				c->path, n1);
		else if (c->recsize % sx.stx_dio_offset_align)
			say_why(c,
				"records do not start at multiples of %s bytes in the file "
				"(statx dio_offset_align of %s): a --record-size that is one",
				n2, c->path);
		if (c->why[0]) {
			close(*fd);
			return -1;
		}
	}
	return 0;
}

/* Register the ring's data area as fixed buffers (1 GiB each, 64 at most). */
static int register_ring(struct reader *rd)
{
	const struct ring_map *m = rd->c->m;
	uint64_t ds = resmem_ring_data_size(m->ring), a, len;
	unsigned char *data = (unsigned char *)m->base + RESMEM_RING_HDR_SIZE;

	for (a = 0; a < ds && rd->nbufs < 64; a += len) {
		len = ds - a < REG_MAX ? ds - a : REG_MAX;
		rd->bufs[rd->nbufs].iov_base = data + a;
		rd->bufs[rd->nbufs++].iov_len = len;
	}
	return uring_register_buffers(&rd->u, rd->bufs, rd->nbufs);
}

/* The completion of @io with @res: what it read counts, the rest is said. */
static void done(struct reader *rd, struct rd_io *io, int32_t res)
{
	unsigned int i;

	io->busy = 0;
	rd->busy--;
	if (res == (int32_t)io->len) {
		for (i = 0; i < io->nrec; i++)
			rd->missing[(io->first + i) % rd->wcap] -=
				(uint32_t)io->iov[i].iov_len;
		rd->c->mapped += io->len;
		return;
	}
	if (res >= 0) {
		/* EOF before the size fstat() said, or a partial read: read() does the rest */
		if (rd->short_at < 0 || (int64_t)io->off < rd->short_at)
			rd->short_at = (int64_t)io->off;
		return;
	}
	if (res == -EFAULT || res == -EINVAL || res == -EOPNOTSUPP) {
		if (!rd->refused)
			rd->refused = res;
		return;
	}
	if (!rd->err) {
		rd->err = res;
		sys_error("cannot read", rd->c->path, res);
	}
}

static void reap(struct reader *rd, unsigned int wait)
{
	uint64_t ud;
	int32_t res;
	int err = uring_submit(&rd->u, wait);

	while (uring_reap(&rd->u, &ud, &res))
		done(rd, &rd->io[ud], res);
	if (err && !rd->err) {
		rd->err = err;
		sys_error("cannot submit reads of", rd->c->path, err);
		rd->busy = 0;
	}
}

static struct rd_io *free_io(struct reader *rd)
{
	unsigned int i;

	for (i = 0; i < rd->depth; i++)
		if (!rd->io[i].busy)
			return &rd->io[i];
	return NULL;
}

/*
 * Read into the next placed records: whole ones, up to io_size bytes per
 * read (vectored when several), or the next chunk of one bigger than that.
 */
static void issue(struct reader *rd, int fd)
{
	struct capture_direct *c = rd->c;
	uint32_t rs = c->recsize;
	struct rd_io *io;
	unsigned int i;
	int fixed;
	ssize_t n;

	while (rd->issued < rd->planned && (io = free_io(rd)) && !rd->err &&
	       !rd->refused && rd->short_at < 0) {
		io->first = rd->issued;
		io->off = c->file_off + rd->issued * rs;
		if (rs > c->io_size) {
			io->nrec = 1;
			io->len = rs - rd->chunk < c->io_size ?
					  (uint32_t)(rs - rd->chunk) :
					  (uint32_t)c->io_size;
			io->off += rd->chunk;
			io->iov[0].iov_base =
				rd->win[rd->issued % rd->wcap] + rd->chunk;
			io->iov[0].iov_len = io->len;
			rd->chunk += io->len;
			if (rd->chunk == rs) {
				rd->chunk = 0;
				rd->issued++;
			}
		} else {
			io->nrec = rd->planned - rd->issued < rd->per_io ?
					   (unsigned int)(rd->planned -
							  rd->issued) :
					   rd->per_io;
			for (i = 0; i < io->nrec; i++) {
				io->iov[i].iov_base =
					rd->win[(rd->issued + i) % rd->wcap];
				io->iov[i].iov_len = rs;
			}
			io->len = io->nrec * rs;
			rd->issued += io->nrec;
		}
		io->busy = 1;
		rd->busy++;
		if (c->uring_err) {
			n = preadv(fd, io->iov, (int)io->nrec, (off_t)io->off);
			done(rd, io, n < 0 ? -errno : (int32_t)n);
			continue;
		}
		fixed = io->nrec == 1 ? uring_fixed_index(rd->bufs, rd->nbufs,
							  io->iov[0].iov_base,
							  io->len) :
					-1;
		if (io->nrec == 1)
			uring_read(&rd->u, fd, io->iov[0].iov_base, io->len,
				   io->off, fixed, (uint64_t)(io - rd->io));
		else
			uring_readv(&rd->u, fd, io->iov, io->nrec, io->off,
				    (uint64_t)(io - rd->io));
	}
}

/*
 * Place more records (up to the window) where the ring will put them.
 * 0, or -ENOSPC: the ring has no room for the next one.
 */
static int place(struct reader *rd, void **tmp)
{
	struct capture_direct *c = rd->c;
	uint64_t want = c->limit - c->records;
	unsigned int n, old = (unsigned int)(rd->planned - c->records), i;
	int err;

	if (want > rd->wcap)
		want = rd->wcap;
	if (want <= old)
		return 0;
	n = (unsigned int)want;
	err = resmem_ring_reserve_ahead(c->m->ring, c->recsize, &n, tmp);
	if (err)
		return err;
	for (i = 0; i < old && i < n; i++)
		if (tmp[i] != rd->win[(c->records + i) % rd->wcap])
			return -EPROTO; /* cannot be: the ring moved under us */
	for (; i < n; i++) {
		rd->win[(c->records + i) % rd->wcap] = tmp[i];
		rd->missing[(c->records + i) % rd->wcap] = c->recsize;
	}
	if (n > old)
		rd->planned = c->records + n;
	return n > old ? 0 : -ENOSPC;
}

/* Reserve and commit the records at the front whose bytes are all there. */
static int commit_ready(struct reader *rd)
{
	struct capture_direct *c = rd->c;
	void *p;
	int err;

	while (c->records < rd->planned &&
	       !rd->missing[c->records % rd->wcap]) {
		err = resmem_ring_reserve(c->m->ring, c->recsize, &p);
		if (!err && p != rd->win[c->records % rd->wcap])
			err = -EPROTO;
		if (!err)
			err = resmem_ring_commit(c->m->ring, c->recsize);
		if (err)
			return err;
		c->records++;
		c->bytes += c->recsize;
		resmem_ring_notify(c->m->region, c->m->ring);
	}
	return 0;
}

static int reader_alloc(struct reader *rd, void ***tmp)
{
	struct capture_direct *c = rd->c;
	unsigned int i;

	rd->depth = c->depth;
	rd->per_io = 1;
	if (c->recsize <= c->io_size)
		rd->per_io = c->io_size / c->recsize < MAX_IOV ?
				     (unsigned int)(c->io_size / c->recsize) :
				     MAX_IOV;
	rd->wcap = rd->depth * rd->per_io;
	rd->io = calloc(rd->depth, sizeof(*rd->io));
	rd->win = calloc(rd->wcap, sizeof(*rd->win));
	rd->missing = calloc(rd->wcap, sizeof(*rd->missing));
	*tmp = calloc(rd->wcap, sizeof(**tmp));
	if (!rd->io || !rd->win || !rd->missing || !*tmp)
		return -ENOMEM;
	for (i = 0; i < rd->depth; i++) {
		rd->io[i].iov = calloc(rd->per_io, sizeof(struct iovec));
		if (!rd->io[i].iov)
			return -ENOMEM;
	}
	return 0;
}

static void reader_free(struct reader *rd, void **tmp)
{
	unsigned int i;

	if (!rd->c->uring_err)
		uring_exit(&rd->u);
	for (i = 0; rd->io && i < rd->depth; i++)
		free(rd->io[i].iov);
	free(rd->io);
	free(rd->win);
	free(rd->missing);
	free(tmp);
}

/* The reads, placements and commits until the end, a stop or a refusal. */
static void run(struct reader *rd, int fd, void **tmp)
{
	struct capture_direct *c = rd->c;
	double wait0 = 0;
	int err;

	while (c->records < c->limit && !rd->err && !ring_stop &&
	       !(c->duration >= 0 && now_seconds() - c->t0 >= c->duration)) {
		if (rd->refused || rd->short_at >= 0) {
			if (!rd->busy)
				break;
		} else {
			err = place(rd, tmp);
			if (err == -ENOSPC && rd->planned == c->records) {
				if (c->stop_full) {
					c->full = 1;
					break;
				}
				if (!wait0)
					wait0 = now_seconds();
				c->tick(c, wait0);
				usleep(100);
				continue;
			}
			if (err && err != -ENOSPC) {
				rd->err = err;
				sys_error("cannot place records in",
					  resmem_region_get_path(c->m->region),
					  err);
				break;
			}
			if (wait0) {
				resmem_ring_add_wait(
					c->m->ring,
					(uint64_t)((now_seconds() - wait0) *
						   1e9));
				wait0 = 0;
			}
			issue(rd, fd);
		}
		if (rd->busy)
			reap(rd, 1);
		err = commit_ready(rd);
		if (err && !rd->err) {
			rd->err = err;
			sys_error("cannot commit a record to",
				  resmem_region_get_path(c->m->region), err);
		}
		c->tick(c, 0);
	}
	while (rd->busy && !rd->err)
		reap(rd, 1);
	if (!rd->err)
		commit_ready(rd);
	if (wait0)
		resmem_ring_add_wait(c->m->ring,
				     (uint64_t)((now_seconds() - wait0) * 1e9));
}

int capture_direct(struct capture_direct *c)
{
	struct reader rd = { .c = c, .short_at = -1 };
	void **tmp = NULL;
	struct stat sb;
	uint64_t size;
	off_t at;
	int fd = -1, err;

	c->uring_err = -ENOSYS;
	if (can_direct(c, &fd))
		return EXIT_OK;
	at = lseek(c->fd, 0, SEEK_CUR);
	c->file_off = at > 0 ? (uint64_t)at : 0;
	size = 0;
	if (c->file_off % c->recsize) {
		close(fd); /* started mid-record: not aligned as checked */
		return EXIT_OK;
	}
	if (!fstat(fd, &sb) && S_ISREG(sb.st_mode))
		size = (uint64_t)sb.st_size;
	else if ((at = lseek(fd, 0, SEEK_END)) > 0)
		size = (uint64_t)at; /* a block device */
	c->limit = size > c->file_off ? (size - c->file_off) / c->recsize : 0;
	if (c->limit > c->count)
		c->limit = c->count;
	if (!c->limit) {
		close(fd);
		return EXIT_OK;
	}
	err = reader_alloc(&rd, &tmp);
	if (err) {
		reader_free(&rd, tmp);
		close(fd);
		return sys_error("cannot allocate", "read buffers", err);
	}
	c->uring_err = uring_init(&rd.u, rd.depth);
	c->per_read = rd.per_io;
	/* several records per read are vectored: no fixed buffers for them */
	if (!c->uring_err && rd.per_io == 1) {
		c->reg_err = register_ring(&rd);
		if (c->reg_err)
			rd.nbufs = 0; /* plain reads, pinned one at a time */
	}
	c->direct = 1;
	run(&rd, fd, tmp);
	reader_free(&rd, tmp);
	close(fd);
	if (rd.refused)
		snprintf(c->why, sizeof(c->why),
			 "O_DIRECT into the mapping refused: %s",
			 errno_name(-rd.refused));
	else if (rd.short_at >= 0)
		snprintf(c->why, sizeof(c->why),
			 "a short O_DIRECT read at offset %" PRId64
			 " (the file shrank?)",
			 rd.short_at);
	if (lseek(c->fd, (off_t)(c->file_off + c->records * c->recsize),
		  SEEK_SET) < 0 &&
	    !rd.err)
		return sys_error("cannot seek in", c->path, -errno);
	return rd.err ? EXIT_SYSTEM : EXIT_OK;
}

void capture_direct_path(const struct capture_direct *c, char *buf, size_t len)
{
	char io[32], mb[32], cb[32];
	int n;

	resmem_format_size(c->io_size, io, sizeof(io));
	resmem_format_size(c->mapped, mb, sizeof(mb));
	resmem_format_size(c->total_bytes - c->mapped, cb, sizeof(cb));
	if (!c->direct)
		n = snprintf(buf, len, "copy (%s), read()",
			     c->why[0] ? c->why : "nothing but a ragged end");
	else if (c->uring_err)
		n = snprintf(buf, len,
			     "zero-copy O_DIRECT preadv (no io_uring: %s)",
			     errno_name(-c->uring_err));
	else if (c->per_read > 1)
		n = snprintf(
			buf, len,
			"zero-copy io_uring O_DIRECT, vectored reads of %u records; %u x %s in flight",
			c->per_read, c->depth, io);
	else if (c->reg_err)
		n = snprintf(
			buf, len,
			"zero-copy io_uring O_DIRECT (buffers not registered: %s); %u x %s in flight",
			errno_name(-c->reg_err), c->depth, io);
	else
		n = snprintf(
			buf, len,
			"zero-copy io_uring O_DIRECT, registered buffers; %u x %s in flight",
			c->depth, io);
	if (n < 0 || (size_t)n >= len)
		return;
	snprintf(buf + n, len - (size_t)n, "; %s into the mapping, %s copied",
		 mb, cb);
}
