// SPDX-License-Identifier: GPL-2.0
/* Ring readers (docs/ring-format.md, "Readers"): copy, then check, then trust. */
#include <stdlib.h>

#include "ring_internal.h"

/*
 * A reader from tail has no position of its own yet (resync == FRESH): the
 * first good record found where it starts gives the sequence number, so a
 * tail_seq read while the producer moves tail cannot make it count records
 * as lost.  tail_seq only counts corrupt records when the first record is
 * bad (the producer stores tail, a write barrier, then tail_seq: loaded in
 * the other order, tail_seq is never newer than the tail that follows).
 */
#define FRESH 2

static void start_at_tail(struct resmem_ring_reader *rd)
{
	const struct resmem_ring *r = rd->ring;

	rd->seq = READ_ONCE(r->hdr->tail_seq);
	smp_rmb();
	rd->pos = smp_load_acquire(&r->hdr->tail);
	rd->synced = 1;
	rd->resync = FRESH;
	rd->scanning = 0;
}

int resmem_ring_reader_new(struct resmem_ring_reader **rdp,
			   const struct resmem_ring *r,
			   enum resmem_ring_from from)
{
	struct resmem_ring_reader *rd = calloc(1, sizeof(*rd));

	*rdp = rd;
	if (!rd)
		return -ENOMEM;
	rd->ring = r;
	switch (from) {
	case RESMEM_RING_FROM_CONS:
		rd->seq = READ_ONCE(r->hdr->cons_seq);
		rd->pos = smp_load_acquire(&r->hdr->cons);
		rd->synced = 1;
		if (!resmem_ring_pos_valid(r->pos_mod, rd->pos)) {
			rd->pos = READ_ONCE(r->hdr->tail);
			rd->resync = 1;
		}
		break;
	case RESMEM_RING_FROM_HEAD:
		rd->pos = smp_load_acquire(&r->hdr->head);
		break;
	default:
		start_at_tail(rd);
		break;
	}
	return 0;
}

void resmem_ring_reader_free(struct resmem_ring_reader *rd)
{
	free(rd);
}

void resmem_ring_reader_stats(const struct resmem_ring_reader *rd,
			      struct resmem_ring_reader_stats *st)
{
	st->pos = rd->pos;
	st->seq = rd->seq;
	st->records = rd->records;
	st->bytes = rd->bytes;
	st->lost = rd->lost;
	st->corrupt = rd->corrupt;
	st->scanning = rd->scanning;
}

void resmem_ring_consume(const struct resmem_ring_reader *rd)
{
	struct resmem_ring_hdr *h = rd->ring->hdr;

	WRITE_ONCE(h->cons_seq, rd->seq);
	smp_store_release(
		&h->cons,
		rd->pos); /* our reads are done before space is freed */
}

/* Is @pos still inside [tail, head]?  Loads tail, then head (head >= tail). */
static int still_there(const struct resmem_ring *r, uint64_t pos)
{
	uint64_t tail = READ_ONCE(r->hdr->tail);
	uint64_t head = smp_load_acquire(&r->hdr->head);

	return resmem_ring_distance(r, head, pos) <=
	       resmem_ring_distance(r, head, tail);
}

/* Overrun: the producer passed us.  Jump to tail, count what we missed later. */
static void jump_to_tail(struct resmem_ring_reader *rd)
{
	if (rd->resync ==
	    FRESH) { /* nothing read yet: start again at the new tail */
		start_at_tail(rd);
		return;
	}
	rd->pos = READ_ONCE(rd->ring->hdr->tail);
	rd->resync = 1;
	rd->scanning = 0;
}

/* A good record with @seq arrived: account for what was skipped before it. */
static void account(struct resmem_ring_reader *rd, uint64_t seq,
		    struct resmem_ring_recinfo *ri)
{
	uint64_t skipped = seq - rd->seq;

	if (!rd->synced || (rd->resync == FRESH && !rd->scanning)) {
		skipped = 0; /* the first record where the reader started */
	} else if (rd->scanning) {
		if (!skipped)
			skipped = 1; /* something unreadable was there */
		ri->corrupt += skipped;
		rd->corrupt += skipped;
		skipped = 0;
	}
	ri->lost += skipped;
	rd->lost += skipped;
	rd->synced = 1;
	rd->resync = 0;
	rd->scanning = 0;
}

/* The record at rd->pos failed its checks while still inside the window. */
static void corrupt_here(struct resmem_ring_reader *rd)
{
	if (!rd->synced) { /* nothing to count against yet: just look further */
		rd->pos = resmem_ring_pos_add(rd->ring, rd->pos,
					      RESMEM_RING_ALIGN);
		return;
	}
	rd->scanning = 1;
	rd->pos = resmem_ring_pos_add(rd->ring, rd->pos, RESMEM_RING_ALIGN);
}

/* Is @seq acceptable where the reader is? */
static int seq_ok(const struct resmem_ring_reader *rd, uint64_t seq)
{
	if (!rd->synced || (rd->resync == FRESH && !rd->scanning))
		return 1;
	if (rd->resync || rd->scanning)
		return seq - rd->seq < (1ULL << 63);
	return seq == rd->seq;
}

int resmem_ring_read(struct resmem_ring_reader *rd, void *buf, size_t cap,
		     struct resmem_ring_recinfo *ri)
{
	const struct resmem_ring *r = rd->ring;
	uint64_t head, off, room, size;
	struct resmem_ring_rec h;

	memset(ri, 0, sizeof(*ri));
	for (;;) {
		head = smp_load_acquire(&r->hdr->head);
		if (rd->pos == head)
			return 0;
		if (!still_there(r, rd->pos)) {
			jump_to_tail(rd);
			continue;
		}
		off = resmem_ring_pos_offset(r->data_size, rd->pos);
		room = r->data_size - off;
		if (room < RING_REC) { /* implicit pad */
			rd->pos = resmem_ring_pos_add(r, rd->pos, room);
			continue;
		}
		ring_mem_read(&h, r->data + off, RING_REC);
		size = resmem_ring_rec_size(h.len);
		if (h.len > resmem_ring_max_payload(r->data_size) ||
		    size > room ||
		    size > resmem_ring_distance(r, head, rd->pos) ||
		    ((h.flags & RESMEM_REC_F_PAD) && size != room)) {
			smp_rmb();
			if (!still_there(r, rd->pos))
				jump_to_tail(rd);
			else
				corrupt_here(rd);
			continue;
		}
		if (!(h.flags & RESMEM_REC_F_PAD) && h.len > cap) {
			/* A torn header the producer is overwriting is not a
			 * record too big for @buf: check it is still there. */
			smp_rmb();
			if (!still_there(r, rd->pos)) {
				jump_to_tail(rd);
				continue;
			}
			ri->len = h.len;
			return -EMSGSIZE;
		}
		if (!(h.flags & RESMEM_REC_F_PAD))
			ring_mem_read(buf, r->data + off + RING_REC, h.len);
		smp_rmb(); /* the copy is done before we look at tail */
		if (!still_there(r, rd->pos)) {
			jump_to_tail(rd);
			continue;
		}
		if (!seq_ok(rd, h.seq) || h.flags & ~RESMEM_REC_F_PAD ||
		    ring_rec_crc(&h, buf) != h.crc) {
			corrupt_here(rd);
			continue;
		}
		if (h.flags &
		    RESMEM_REC_F_PAD) { /* carries the next seq, none of its own */
			rd->pos = resmem_ring_pos_add(r, rd->pos, room);
			continue;
		}
		account(rd, h.seq, ri);
		ri->seq = h.seq;
		ri->pos = rd->pos;
		ri->len = h.len;
		ri->epoch = h.epoch;
		rd->pos = resmem_ring_pos_add(r, rd->pos, size);
		rd->seq = h.seq + 1;
		rd->records++;
		rd->bytes += h.len;
		return 1;
	}
}
