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
	st->refused = rd->refused;
	st->corrupt = rd->corrupt;
	st->scanning = rd->scanning;
	st->pending_refused = rd->pend.count;
	st->pending_first_ns = rd->pend.first_ns;
	st->pending_last_ns = rd->pend.last_ns;
}

void resmem_ring_consume(struct resmem_ring_reader *rd)
{
	struct resmem_ring_hdr *h = rd->ring->hdr;

	if (rd->corrupt != rd->corrupt_told) { /* the consumer line is ours */
		WRITE_ONCE(h->corrupt, READ_ONCE(h->corrupt) + rd->corrupt -
					       rd->corrupt_told);
		rd->corrupt_told = rd->corrupt;
	}
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

/* @n records refused right before where the reader is (@g: when, or NULL). */
static void add_refused(struct resmem_ring_reader *rd, uint64_t n,
			const struct resmem_ring_gap *g)
{
	if (!n)
		return;
	if (g && g->first_ns && (!rd->pend.first_ns || !rd->pend.count))
		rd->pend.first_ns = g->first_ns;
	if (g)
		rd->pend.last_ns = g->last_ns;
	rd->pend.count += n;
	rd->refused += n;
}

/*
 * A good record (or GAP record) with @seq arrived: account for what was
 * skipped before it.  Where the reader followed the records without a jump,
 * a sequence number ahead is records the producer refused (no bytes); after
 * an overrun, lost; past corruption, corrupt.
 */
static void account(struct resmem_ring_reader *rd, uint64_t seq)
{
	uint64_t skipped = seq - rd->seq;

	if (!rd->synced || (rd->resync == FRESH && !rd->scanning)) {
		skipped = 0; /* the first record where the reader started */
	} else if (rd->scanning) {
		if (!skipped)
			skipped = 1; /* something unreadable was there */
		rd->pend_corrupt += skipped;
		rd->corrupt += skipped;
		skipped = 0;
	} else if (!rd->resync) {
		add_refused(rd, skipped, NULL);
		skipped = 0;
	}
	rd->pend_lost += skipped;
	rd->lost += skipped;
	rd->synced = 1;
	rd->resync = 0;
	rd->scanning = 0;
}

/* A GAP record (CRC good): refused records, none of them data. */
static int take_gap(struct resmem_ring_reader *rd,
		    const struct resmem_ring_rec *h,
		    const struct resmem_ring_gap *g)
{
	uint64_t n = g->count;

	if (h->len != sizeof(*g) || !g->count ||
	    g->first_seq + g->count != h->seq)
		return -EBADMSG;
	if (rd->synced && g->first_seq - rd->seq >= (1ULL << 63)) {
		/* partly counted already, at the end of a closed ring */
		n = h->seq - rd->seq < (1ULL << 63) ? h->seq - rd->seq : 0;
	} else {
		account(rd, g->first_seq);
	}
	add_refused(rd, n, g);
	rd->seq = h->seq;
	rd->synced = 1;
	return 0;
}

/*
 * At head of a closed ring: records refused after the last one that had no
 * room left for their GAP record still took their sequence numbers.
 */
static void refused_at_end(struct resmem_ring_reader *rd)
{
	const struct resmem_ring *r = rd->ring;
	uint32_t flags = smp_load_acquire(&r->hdr->flags);
	uint64_t n = READ_ONCE(r->hdr->head_seq) - rd->seq;

	if (!(flags & RESMEM_RING_F_CLOSED) || !rd->synced || rd->scanning ||
	    rd->resync || !n || n >= (1ULL << 63))
		return;
	add_refused(rd, n, NULL);
	rd->seq += n;
}

/* Hand what was missing before the record returned to @ri. */
static void report_missing(struct resmem_ring_reader *rd,
			   struct resmem_ring_recinfo *ri)
{
	ri->lost = rd->pend_lost;
	ri->corrupt = rd->pend_corrupt;
	ri->refused = rd->pend.count;
	ri->refused_first_ns = rd->pend.first_ns;
	ri->refused_last_ns = rd->pend.last_ns;
	rd->pend_lost = rd->pend_corrupt = 0;
	memset(&rd->pend, 0, sizeof(rd->pend));
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
	return seq - rd->seq < (1ULL << 63); /* not behind */
}

/* The flags a record may carry: none (data), PAD or GAP. */
static int flags_ok(uint32_t flags)
{
	return !flags || flags == RESMEM_REC_F_PAD || flags == RESMEM_REC_F_GAP;
}

int resmem_ring_read(struct resmem_ring_reader *rd, void *buf, size_t cap,
		     struct resmem_ring_recinfo *ri)
{
	const struct resmem_ring *r = rd->ring;
	uint64_t head, off, room, size;
	struct resmem_ring_gap g;
	struct resmem_ring_rec h;
	const void *payload;

	memset(ri, 0, sizeof(*ri));
	for (;;) {
		head = smp_load_acquire(&r->hdr->head);
		if (rd->pos == head) {
			refused_at_end(rd);
			return 0;
		}
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
		    ((h.flags & RESMEM_REC_F_PAD) && size != room) ||
		    ((h.flags & RESMEM_REC_F_GAP) && h.len != sizeof(g))) {
			smp_rmb();
			if (!still_there(r, rd->pos))
				jump_to_tail(rd);
			else
				corrupt_here(rd);
			continue;
		}
		if (!h.flags && h.len > cap) {
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
		payload = buf;
		if (h.flags & RESMEM_REC_F_GAP) { /* never copied to @buf */
			ring_mem_read(&g, r->data + off + RING_REC, sizeof(g));
			payload = &g;
		} else if (!h.flags) {
			ring_mem_read(buf, r->data + off + RING_REC, h.len);
		}
		smp_rmb(); /* the copy is done before we look at tail */
		if (!still_there(r, rd->pos)) {
			jump_to_tail(rd);
			continue;
		}
		if (!seq_ok(rd, h.seq) || !flags_ok(h.flags) ||
		    ring_rec_crc(&h, payload) != h.crc) {
			corrupt_here(rd);
			continue;
		}
		if (h.flags &
		    RESMEM_REC_F_PAD) { /* carries the next seq, none of its own */
			rd->pos = resmem_ring_pos_add(r, rd->pos, room);
			continue;
		}
		if (h.flags & RESMEM_REC_F_GAP) {
			if (take_gap(rd, &h, &g))
				corrupt_here(rd);
			else
				rd->pos = resmem_ring_pos_add(r, rd->pos, size);
			continue;
		}
		account(rd, h.seq);
		report_missing(rd, ri);
		ri->seq = h.seq;
		ri->pos = rd->pos;
		ri->len = h.len;
		ri->epoch = h.epoch;
		ri->time_ns = h.time_ns;
		rd->pos = resmem_ring_pos_add(r, rd->pos, size);
		rd->seq = h.seq + 1;
		rd->records++;
		rd->bytes += h.len;
		return 1;
	}
}
