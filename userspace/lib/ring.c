// SPDX-License-Identifier: GPL-2.0
/* Ring positions, state and the record in flight (docs/ring-format.md). */
#include "ring_internal.h"

uint64_t resmem_ring_pos_add(const struct resmem_ring *r, uint64_t pos,
			     uint64_t n)
{
	return resmem_ring_pos_advance(r->pos_mod, pos, n);
}

uint64_t resmem_ring_distance(const struct resmem_ring *r, uint64_t to,
			      uint64_t from)
{
	return resmem_ring_pos_distance(r->pos_mod, to, from);
}

uint64_t resmem_ring_data_size(const struct resmem_ring *r)
{
	return r->data_size;
}

uint64_t resmem_ring_next_seq(const struct resmem_ring *r)
{
	return r->head_seq;
}

void resmem_ring_state(const struct resmem_ring *r,
		       struct resmem_ring_state *st)
{
	struct resmem_ring_hdr *h = r->hdr;
	uint64_t t;

	st->epoch = READ_ONCE(h->epoch);
	st->flags = smp_load_acquire(&h->flags); /* before head, below */
	st->cons = smp_load_acquire(&h->cons);
	st->cons_seq = READ_ONCE(h->cons_seq);
	st->tail = READ_ONCE(h->tail);
	st->tail_seq = READ_ONCE(h->tail_seq);
	st->head = smp_load_acquire(&h->head);
	st->head_seq = READ_ONCE(h->head_seq);
	st->refused = READ_ONCE(h->refused);
	st->overwritten = READ_ONCE(h->overwritten);
	st->wait_ns = READ_ONCE(h->wait_ns);
	st->corrupt = READ_ONCE(h->corrupt);
	st->used = resmem_ring_distance(r, st->head, st->tail);
	t = resmem_ring_distance(r, st->head, st->cons);
	st->unread = t > st->used ? st->used : t;
}

void resmem_ring_counters(const struct resmem_ring *r,
			  struct resmem_ring_counters *c)
{
	c->refused = READ_ONCE(r->hdr->refused);
	c->overwritten = READ_ONCE(r->hdr->overwritten);
	c->wait_ns = READ_ONCE(r->hdr->wait_ns);
	c->corrupt = READ_ONCE(r->hdr->corrupt);
}

/*
 * Only a header the current session wrote (its epoch, never 0: records are
 * written after an attach) with the next sequence number is in flight:
 * stale bytes of an earlier session at head are not.
 */
void resmem_ring_inflight(const struct resmem_ring *r,
			  struct resmem_ring_inflight *f)
{
	uint32_t epoch = (uint32_t)READ_ONCE(r->hdr->epoch);
	uint64_t pos = smp_load_acquire(&r->hdr->head),
		 seq = READ_ONCE(r->hdr->head_seq), off, room;
	struct resmem_ring_rec h;
	int hop;

	memset(f, 0, sizeof(*f));
	if (!epoch)
		return;
	for (hop = 0; hop < 2; hop++) {
		ring_rec_at(r, &pos, &h, &room);
		off = r->data_size - room;
		if (h.seq != seq || h.epoch != epoch)
			return;
		if (h.flags & RESMEM_REC_F_PAD) {
			if (resmem_ring_rec_size(h.len) != room)
				return;
			pos = resmem_ring_pos_add(r, pos, room);
			continue;
		}
		if (h.flags)
			return;
		f->present = 1;
		f->seq = h.seq;
		f->len = h.len;
		f->time_ns = h.time_ns;
		if (h.len <= resmem_ring_max_payload(r->data_size) &&
		    resmem_ring_rec_size(h.len) <= room)
			f->complete =
				ring_mem_crc32c(
					resmem_crc32c(0, &h,
						      RESMEM_RING_REC_CRC_LEN),
					r->data + off + RING_REC,
					h.len) == h.crc;
		return;
	}
}
