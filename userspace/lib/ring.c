// SPDX-License-Identifier: GPL-2.0
/* Ring header: create, check, positions, state (docs/ring-format.md). */
#include <errno.h>
#include <stddef.h>

#include "libresmem.h"
#include "ring_internal.h"

uint64_t resmem_ring_pos_add(const struct resmem_ring *r, uint64_t pos,
			     uint64_t n)
{
	uint64_t room = r->pos_mod - pos; /* > 0: pos < pos_mod */

	return n >= room ? n - room : pos + n;
}

uint64_t resmem_ring_distance(const struct resmem_ring *r, uint64_t to,
			      uint64_t from)
{
	return to >= from ? to - from : r->pos_mod - from + to;
}

static uint64_t pos_mod_for(uint64_t data_size)
{
	return (UINT64_MAX / data_size) * data_size;
}

static uint32_t geo_crc(const struct resmem_ring_hdr *h)
{
	return resmem_crc32c(0, h, offsetof(struct resmem_ring_hdr, geo_crc));
}

static void bind(struct resmem_ring *r, void *base, uint64_t data_size,
		 uint64_t pos_mod)
{
	memset(r, 0, sizeof(*r));
	r->hdr = base;
	r->data = (unsigned char *)base + RESMEM_RING_HDR_SIZE;
	r->data_size = data_size;
	r->pos_mod = pos_mod;
}

int resmem_ring_init(struct resmem_ring *r, void *base, uint64_t region_size,
		     const struct resmem_ring_opts *o)
{
	struct resmem_ring_opts def = { 0 };
	struct resmem_ring_hdr h;
	uint64_t ds, pm;

	if (!o)
		o = &def;
	if (region_size < RESMEM_RING_HDR_SIZE + 8 * RING_REC)
		return -EINVAL;
	ds = o->data_size ? o->data_size :
			    (region_size - RESMEM_RING_HDR_SIZE) & ~7ULL;
	if (ds % RESMEM_RING_ALIGN || ds < 8 * RING_REC ||
	    ds > region_size - RESMEM_RING_HDR_SIZE)
		return -EINVAL;
	pm = pos_mod_for(ds);
	if (o->start_pos % RESMEM_RING_ALIGN || o->start_pos >= pm)
		return -EINVAL;

	memset(&h, 0, sizeof(h));
	h.magic = RESMEM_RING_MAGIC;
	h.version = RESMEM_RING_VERSION;
	h.hdr_size = sizeof(h);
	h.data_off = RESMEM_RING_HDR_SIZE;
	h.data_size = ds;
	h.pos_mod = pm;
	h.geo_crc = geo_crc(&h);
	h.flags = 0;
	h.head = h.tail = h.cons = o->start_pos;
	h.head_seq = h.tail_seq = h.cons_seq = o->start_seq;
	/* aligned 8-byte stores only; the magic goes last */
	bind(r, base, ds, pm);
	STORE(r->hdr->magic, 0);
	WMB();
	ring_copy_in((unsigned char *)base + 8, (const unsigned char *)&h + 8,
		     sizeof(h) - 8);
	WMB();
	STORE(r->hdr->magic, h.magic);
	return 0;
}

/* Check a header (copied out of the ring) against a region of @size. */
static int check_header(const struct resmem_ring_hdr *h, uint64_t size)
{
	uint64_t pm;

	if (h->magic != RESMEM_RING_MAGIC)
		return -ENODATA;
	if (h->version != RESMEM_RING_VERSION)
		return -EPROTONOSUPPORT;
	if (h->hdr_size != sizeof(*h) || h->data_off != RESMEM_RING_HDR_SIZE ||
	    geo_crc(h) != h->geo_crc || !h->data_size ||
	    h->data_size % RESMEM_RING_ALIGN || h->data_size < 8 * RING_REC)
		return -EBADMSG;
	pm = pos_mod_for(h->data_size);
	if (h->pos_mod != pm)
		return -EBADMSG;
	if (h->data_size > size - RESMEM_RING_HDR_SIZE ||
	    size < RESMEM_RING_HDR_SIZE)
		return -EINVAL;
	if (h->head >= pm || h->tail >= pm || h->cons >= pm ||
	    (h->head | h->tail | h->cons) % RESMEM_RING_ALIGN)
		return -EBADMSG;
	if ((h->head >= h->tail ? h->head - h->tail : pm - h->tail + h->head) >
	    h->data_size)
		return -EBADMSG;
	return 0;
}

int resmem_ring_open(struct resmem_ring *r, void *base, uint64_t region_size)
{
	struct resmem_ring_hdr h;
	int err;

	if (region_size < RESMEM_RING_HDR_SIZE)
		return -EINVAL;
	ring_copy_out(&h, base, sizeof(h));
	err = check_header(&h, region_size);
	if (err)
		return err;
	bind(r, base, h.data_size, h.pos_mod);
	return 0;
}

void resmem_ring_state(const struct resmem_ring *r,
		       struct resmem_ring_state *st)
{
	struct resmem_ring_hdr *h = r->hdr;
	uint64_t t;

	st->epoch = LOAD(h->epoch);
	st->flags = LOAD(h->flags);
	st->cons = LOAD_ACQ(h->cons);
	st->cons_seq = LOAD(h->cons_seq);
	st->tail = LOAD(h->tail);
	st->tail_seq = LOAD(h->tail_seq);
	st->head = LOAD_ACQ(h->head);
	st->head_seq = LOAD(h->head_seq);
	st->dropped = LOAD(h->dropped);
	st->used = resmem_ring_distance(r, st->head, st->tail);
	t = resmem_ring_distance(r, st->head, st->cons);
	st->unread = t > st->used ? st->used : t;
}

void resmem_ring_inflight(const struct resmem_ring *r,
			  struct resmem_ring_inflight *f)
{
	uint64_t pos = LOAD_ACQ(r->hdr->head), seq = LOAD(r->hdr->head_seq),
		 off, room;
	struct resmem_ring_rec h;
	int hop;

	memset(f, 0, sizeof(*f));
	for (hop = 0; hop < 2; hop++) {
		off = pos % r->data_size;
		room = r->data_size - off;
		if (room < RING_REC) {
			pos = resmem_ring_pos_add(r, pos, room);
			continue;
		}
		ring_copy_out(&h, r->data + off, RING_REC);
		if (h.seq != seq)
			return;
		if (h.flags & RESMEM_REC_F_PAD) {
			if (ring_rec_size(h.len) != room)
				return;
			pos = resmem_ring_pos_add(r, pos, room);
			continue;
		}
		f->present = 1;
		f->seq = h.seq;
		f->len = h.len;
		if (h.len <= ring_max_payload(r->data_size) &&
		    ring_rec_size(h.len) <= room)
			f->complete = ring_crc_ring(resmem_crc32c(0, &h, 20),
						    r->data + off + RING_REC,
						    h.len) == h.crc;
		return;
	}
}
