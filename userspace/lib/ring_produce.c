// SPDX-License-Identifier: GPL-2.0
/* Ring producer: attach, reserve, commit (docs/ring-format.md, "Producer"). */
#include <errno.h>

#include "libresmem.h"
#include "ring_internal.h"

int resmem_ring_attach(struct resmem_ring *r, uint32_t flags)
{
	struct resmem_ring_hdr *h = r->hdr;
	uint64_t epoch;

	if (flags & ~RESMEM_RING_F_OVERWRITE)
		return -EINVAL;
	epoch = LOAD(h->epoch) + 1;
	STORE(h->epoch, epoch);
	STORE(h->flags, flags);
	r->producing = 1;
	r->flags = flags;
	r->epoch = (uint32_t)epoch;
	r->head = LOAD(h->head);
	r->head_seq = LOAD(h->head_seq);
	r->tail = LOAD(h->tail);
	r->tail_seq = LOAD(h->tail_seq);
	r->reserved = 0;
	WMB();
	return 0;
}

void resmem_ring_close(struct resmem_ring *r)
{
	WMB();
	STORE(r->hdr->flags, r->flags | RESMEM_RING_F_CLOSED);
	r->producing = 0;
}

/*
 * Move tail forward over whole records until [tail, @end) fits the data
 * area.  Records between tail and head are the producer's own, committed;
 * if one does not look like it (a damaged ring), everything old goes.
 */
static void make_room(struct resmem_ring *r, uint64_t end)
{
	uint64_t off, room, size;
	struct resmem_ring_rec h;

	while (resmem_ring_distance(r, end, r->tail) > r->data_size) {
		if (r->tail == r->head)
			break;
		off = r->tail % r->data_size;
		room = r->data_size - off;
		if (room < RING_REC) {
			r->tail = resmem_ring_pos_add(r, r->tail, room);
			continue;
		}
		ring_copy_out(&h, r->data + off, RING_REC);
		size = ring_rec_size(h.len);
		if (h.seq != r->tail_seq || h.len > RESMEM_RING_MAX_PAYLOAD ||
		    size > room ||
		    size > resmem_ring_distance(r, r->head, r->tail)) {
			r->tail = r->head;
			r->tail_seq = r->head_seq;
			break;
		}
		r->tail = resmem_ring_pos_add(r, r->tail, size);
		if (!(h.flags & RESMEM_REC_F_PAD))
			r->tail_seq++;
	}
}

/* Unread bytes the producer must keep (without F_OVERWRITE). */
static uint64_t unread(const struct resmem_ring *r)
{
	uint64_t cons = LOAD_ACQ(r->hdr->cons);
	uint64_t used = resmem_ring_distance(r, r->head, r->tail);
	uint64_t u;

	if (cons >= r->pos_mod || cons % RESMEM_RING_ALIGN)
		return used;
	u = resmem_ring_distance(r, r->head, cons);
	return u > used ? used : u;
}

static void put_header(unsigned char *at, const struct resmem_ring_rec *h)
{
	ring_copy_in(at, h, RING_REC);
}

int resmem_ring_reserve(struct resmem_ring *r, uint32_t len, void **payload)
{
	uint64_t size = ring_rec_size(len), off, pad = 0, old_tail;
	struct resmem_ring_rec h;

	if (!r->producing)
		return -EPERM;
	if (r->reserved)
		return -EBUSY;
	if (len > ring_max_payload(r->data_size))
		return -EMSGSIZE;
	off = r->head % r->data_size;
	if (r->data_size - off < size)
		pad = r->data_size - off;
	if (!(r->flags & RESMEM_RING_F_OVERWRITE) &&
	    unread(r) + pad + size > r->data_size) {
		STORE(r->hdr->dropped, LOAD(r->hdr->dropped) + 1);
		return -ENOSPC;
	}
	old_tail = r->tail;
	make_room(r, resmem_ring_pos_add(r, r->head, pad + size));
	if (r->tail != old_tail) {
		STORE(r->hdr->tail, r->tail);
		WMB(); /* a reader loading tail_seq, then tail, never gets a seq
				 * newer than its tail's */
		STORE(r->hdr->tail_seq, r->tail_seq);
		WMB(); /* new tail visible before old bytes change */
	}
	if (pad >= RING_REC) {
		h = (struct resmem_ring_rec){ .len = (uint32_t)(pad - RING_REC),
					      .flags = RESMEM_REC_F_PAD,
					      .seq = r->head_seq,
					      .epoch = r->epoch };
		h.crc = ring_rec_crc(&h, NULL);
		put_header(r->data + off, &h);
	}
	r->rsv_pos = resmem_ring_pos_add(r, r->head, pad);
	r->rsv_len = len;
	r->reserved = 1;
	off = r->rsv_pos % r->data_size;
	h = (struct resmem_ring_rec){ .len = len,
				      .seq = r->head_seq,
				      .epoch = r->epoch };
	put_header(r->data + off, &h);
	*payload = r->data + off + RING_REC;
	return 0;
}

int resmem_ring_commit(struct resmem_ring *r, uint32_t len)
{
	unsigned char *at;
	struct resmem_ring_rec h;

	if (!r->reserved || len > r->rsv_len)
		return -EINVAL;
	at = r->data + r->rsv_pos % r->data_size;
	h = (struct resmem_ring_rec){ .len = len,
				      .seq = r->head_seq,
				      .epoch = r->epoch };
	h.crc = ring_crc_ring(resmem_crc32c(0, &h, 20), at + RING_REC, len);
	put_header(at, &h);
	r->head_seq++;
	r->head = resmem_ring_pos_add(r, r->rsv_pos, ring_rec_size(len));
	r->reserved = 0;
	STORE(r->hdr->head_seq, r->head_seq);
	STORE_REL(r->hdr->head,
		  r->head); /* the record is complete before head moves */
	return 0;
}

int resmem_ring_write(struct resmem_ring *r, const void *buf, uint32_t len)
{
	void *p;
	int err = resmem_ring_reserve(r, len, &p);

	if (err)
		return err;
	ring_copy_in(p, buf, len);
	return resmem_ring_commit(r, len);
}
