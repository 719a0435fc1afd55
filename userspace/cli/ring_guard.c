// SPDX-License-Identifier: GPL-2.0
/*
 * Writers keep their hands off captured data: fill, ring --reset and the new
 * ring capture creates refuse a region a producer holds (capture's flock) or
 * whose ring still has records nobody has drained, and capture refuses to
 * start producing into unread records of an earlier session.  One place for
 * the rule, so every writer says the same thing and --force means the same.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>

#include "cli.h"

/* Records in [cons, head): sequence numbers, cons clamped to tail. */
static uint64_t unread_records(const struct resmem_ring_state *st)
{
	uint64_t from = st->cons_seq - st->tail_seq < (1ULL << 63) ?
				st->cons_seq :
				st->tail_seq;

	return st->head_seq - from < (1ULL << 63) ? st->head_seq - from : 0;
}

int ring_guard_unread(const struct resmem_ring *r, struct ring_unread *u)
{
	struct resmem_ring_reader *rd;
	struct resmem_ring_recinfo ri;
	struct resmem_ring_state st;
	size_t cap = 4096;
	unsigned char *buf = NULL, *nb;
	int n, err;

	resmem_ring_state(r, &st);
	*u = (struct ring_unread){ .bytes = st.unread,
				   .records = unread_records(&st),
				   .epoch = (uint32_t)st.epoch,
				   .last_epoch = (uint32_t)st.epoch };
	if (!st.unread)
		return 0;
	/* the first unread record says which producer session wrote it */
	err = resmem_ring_reader_new(&rd, r, RESMEM_RING_FROM_CONS);
	if (err)
		return err;
	for (;;) {
		nb = realloc(buf, cap);
		if (!nb) {
			err = -ENOMEM;
			break;
		}
		buf = nb;
		n = resmem_ring_read(rd, buf, cap, &ri);
		if (n == -EMSGSIZE && ri.len > cap) {
			cap = ri.len;
			continue;
		}
		if (n == 1) {
			u->first_seq = ri.seq;
			u->epoch = ri.epoch;
			u->have_first = 1;
		}
		break;
	}
	resmem_ring_reader_free(rd);
	free(buf);
	return err;
}

/* How to name @r on a command line: the region's name, or a file's path. */
static const char *cli_name(const struct resmem_region *r)
{
	const struct resmem_region_info *info = resmem_region_get_info(r);

	return strcmp(info->source, "file") ? info->name :
					      resmem_region_get_path(r);
}

/* What to tell the user to do about @u in @r, after "CMD: NAME: ". */
static void print_unread(const struct resmem_region *r,
			 const struct ring_unread *u)
{
	char sz[32];

	resmem_format_size(u->bytes, sz, sizeof(sz));
	fprintf(stderr, "holds a ring with %" PRIu64 " unread records (%s",
		u->records, sz);
	if (u->have_first)
		fprintf(stderr, ", from seq %" PRIu64 ", epoch %u",
			u->first_seq, u->epoch);
	fprintf(stderr,
		"; the ring is at epoch %u) that no drain has consumed.\n"
		"  Take them out first: resmem drain %s --to FILE\n",
		u->last_epoch, cli_name(r));
}

int ring_guard_lock(const char *cmd, const struct resmem_region *r,
		    const char *not_done, int force)
{
	const char *name = resmem_region_get_info(r)->name;

	if (!flock(resmem_region_get_fd(r), LOCK_EX | LOCK_NB))
		return 0;
	if (errno != EWOULDBLOCK)
		return dev_error("cannot lock", resmem_region_get_path(r),
				 -errno);
	if (force) {
		fprintf(stderr,
			"%s: %s: a resmem capture is producing into this region: going on (--force)\n",
			cmd, name);
		return 0;
	}
	fprintf(stderr,
		"%s: %s: a resmem capture is producing into this ring (it holds the region's lock): %s.\n"
		"  Stop the capture first (or add --force to write under it)\n",
		cmd, name, not_done);
	return EXIT_PROBLEM;
}

/* Does [off, off + len) touch the ring's header or data? */
static int overlaps_ring(const struct resmem_ring *r, uint64_t off,
			 uint64_t len)
{
	return len && off < RESMEM_RING_HDR_SIZE + resmem_ring_data_size(r);
}

int ring_guard_ring(const char *cmd, const struct resmem_region *region,
		    const struct resmem_ring *r, const char *not_done,
		    int force, uint64_t off, uint64_t len)
{
	const char *name = resmem_region_get_info(region)->name;
	struct ring_unread u;
	int err;

	if (!r || !overlaps_ring(r, off, len))
		return 0;
	err = ring_guard_unread(r, &u);
	if (err)
		return sys_error("cannot read the ring in", name, err);
	if (!u.records && !u.bytes)
		return 0;
	if (force) {
		fprintf(stderr,
			"%s: %s: %" PRIu64
			" unread ring records destroyed (--force)\n",
			cmd, name, u.records);
		return 0;
	}
	fprintf(stderr, "%s: %s: ", cmd, name);
	print_unread(region, &u);
	fprintf(stderr, "  Nothing was written (%s); --force destroys them\n",
		not_done);
	return EXIT_PROBLEM;
}

int ring_guard_opened(const char *cmd, const struct resmem_region *region,
		      const struct resmem_ring *r, int open_err,
		      const char *not_done, int force, uint64_t off,
		      uint64_t len)
{
	if (open_err == -EPROTONOSUPPORT && !force) {
		fprintf(stderr,
			"%s: %s: holds a ring of another format version: its records cannot be\n"
			"  checked here, so %s.  Drain it with the resmem that wrote it, or --force\n",
			cmd, resmem_region_get_info(region)->name, not_done);
		return EXIT_PROBLEM;
	}
	return ring_guard_ring(cmd, region, r, not_done, force, off, len);
}

int ring_guard_region(const char *cmd, const struct resmem_region *r,
		      const char *not_done, int force, uint64_t off,
		      uint64_t len)
{
	const struct resmem_region_info *info = resmem_region_get_info(r);
	struct resmem_ring *ring = NULL;
	void *base;
	int err, ret;

	ret = ring_guard_lock(cmd, r, not_done, force);
	if (ret || !info->size)
		return ret;
	err = resmem_map(r, 0, info->size, PROT_READ, &base);
	if (err)
		return dev_error("cannot map", resmem_region_get_path(r), err);
	err = resmem_ring_open(&ring, base, info->size);
	ret = ring_guard_opened(cmd, r, err ? NULL : ring, err, not_done, force,
				off, len);
	resmem_ring_free(ring);
	resmem_unmap(base, info->size);
	return ret;
}

int ring_guard_previous(const char *cmd, const struct resmem_region *region,
			const struct resmem_ring *r, int allow)
{
	const char *name = resmem_region_get_info(region)->name;
	struct ring_unread u;
	int err = ring_guard_unread(r, &u);

	if (err)
		return sys_error("cannot read the ring in", name, err);
	if (!u.records && !u.bytes)
		return 0;
	if (allow) {
		fprintf(stderr,
			"%s: %s: continuing after %" PRIu64
			" unread records of epoch %u (--overwrite-previous)\n",
			cmd, name, u.records, u.epoch);
		return 0;
	}
	fprintf(stderr, "%s: %s: ", cmd, name);
	print_unread(region, &u);
	fprintf(stderr,
		"  They may be what a crash left behind: not capturing.  Add\n"
		"  --overwrite-previous to produce after (or, with --overwrite, over) them\n");
	return EXIT_PROBLEM;
}
