// SPDX-License-Identifier: GPL-2.0
/*
 * Ring producer: create, open, attach, reserve, commit (docs/ring-format.md,
 * "Producer").  The algorithm is include/resmem/ring_producer.h, the code
 * the module's in-kernel producer runs too; this file adapts it to the
 * library's API (struct resmem_ring, payload pointers, -EPERM when not
 * attached).
 */
#include <stdlib.h>

#include "ring_internal.h"

#define RING_PRODUCER struct resmem_ring
#include <resmem/ring_producer.h>

int resmem_ring_init(struct resmem_ring **rp, void *base, uint64_t region_size,
		     const struct resmem_ring_opts *o)
{
	struct resmem_ring_opts def = { 0 };
	struct resmem_ring_hdr h;
	struct resmem_ring *r;
	uint64_t ds;

	*rp = NULL;
	if (!o)
		o = &def;
	if (region_size < RESMEM_RING_HDR_SIZE + RESMEM_RING_MIN_DATA)
		return -EINVAL;
	ds = o->data_size ? o->data_size :
			    (region_size - RESMEM_RING_HDR_SIZE) &
				    ~(uint64_t)(RESMEM_RING_ALIGN - 1);
	if (ds % RESMEM_RING_ALIGN || ds < RESMEM_RING_MIN_DATA ||
	    ds > region_size - RESMEM_RING_HDR_SIZE)
		return -EINVAL;
	if (!resmem_ring_pos_valid(resmem_ring_pos_mod(ds), o->start_pos))
		return -EINVAL;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	ring_hdr_create(base, ds, o->start_pos, o->start_seq, &h);
	ring_bind(r, base, &h);
	*rp = r;
	return 0;
}

int resmem_ring_open(struct resmem_ring **rp, void *base, uint64_t region_size)
{
	struct resmem_ring_hdr h;
	struct resmem_ring *r;
	int err;

	*rp = NULL;
	if (region_size < RESMEM_RING_HDR_SIZE)
		return -EINVAL;
	err = ring_hdr_read(base, region_size, &h);
	if (err)
		return err;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	ring_bind(r, base, &h);
	*rp = r;
	return 0;
}

void resmem_ring_free(struct resmem_ring *r)
{
	free(r);
}

int resmem_ring_attach(struct resmem_ring *r, uint32_t flags)
{
	struct resmem_ring_hdr h;
	int err;

	if (flags & ~RESMEM_RING_F_OVERWRITE)
		return -EINVAL;
	/* Continue where the ring is now, not where it was at open. */
	err = ring_hdr_read(r->hdr, RESMEM_RING_HDR_SIZE + r->data_size, &h);
	if (err)
		return err;
	if (h.data_size != r->data_size)
		return -EBADMSG;
	ring_bind(r, r->hdr, &h);
	ring_attach(r, flags);
	r->run_corrupt = READ_ONCE(r->hdr->corrupt);
	r->producing = 1;
	return 0;
}

void resmem_ring_close(struct resmem_ring *r)
{
	ring_close(r);
	r->producing = 0;
}

int resmem_ring_reserve(struct resmem_ring *r, uint32_t len, void **payload)
{
	uint64_t off;
	int err;

	if (!r->producing)
		return -EPERM;
	err = ring_reserve(r, len, &off);
	if (err)
		return err;
	*payload = r->data + off;
	return 0;
}

int resmem_ring_commit(struct resmem_ring *r, uint32_t len)
{
	return ring_commit(r, len);
}

/*
 * The positions ring_reserve() will take for up to *@n records of @size
 * bytes from head (the pending GAP record first, PADs where a record does
 * not fit before the data end), as many as fit in @room bytes: payload
 * offsets in @payload, *@n lowered to them.  Returns their span from head.
 */
static u64 ring_plan_ahead(const struct resmem_ring *r, u64 size, u64 room,
			   unsigned int *n, void **payload)
{
	u64 pos = r->head, span = 0, pad;
	unsigned int i;

	if (r->gap.count) {
		pad = ring_pad_at(r, pos, RING_GAP_SIZE);
		span = pad + RING_GAP_SIZE;
		pos = ring_add(r, pos, span);
	}
	for (i = 0; i < *n; i++) {
		pad = ring_pad_at(r, pos, size);
		if (span + pad + size > room)
			break;
		pos = ring_add(r, pos, pad);
		payload[i] = r->data + ring_offset(r, pos) + RING_REC;
		pos = ring_add(r, pos, size);
		span += pad + size;
	}
	*n = i;
	return span;
}

int resmem_ring_reserve_ahead(struct resmem_ring *r, uint32_t len,
			      unsigned int *n, void **payload)
{
	u64 room, span;

	if (!r->producing)
		return -EPERM;
	if (r->reserved)
		return -EBUSY;
	if (!*n)
		return -EINVAL;
	if (len > resmem_ring_max_payload(r->data_size))
		return -EMSGSIZE;
	room = r->data_size;
	if (!(r->flags & RESMEM_RING_F_OVERWRITE))
		room -= ring_unread(r);
	span = ring_plan_ahead(r, resmem_ring_rec_size(len), room, n, payload);
	if (!*n)
		return -ENOSPC;
	ring_free_span(r, span);
	return 0;
}

int resmem_ring_write(struct resmem_ring *r, const void *buf, uint32_t len)
{
	void *p;
	int err = resmem_ring_reserve(r, len, &p);

	if (err)
		return err;
	ring_mem_write(p, buf, len);
	return resmem_ring_commit(r, len);
}

int resmem_ring_refuse(struct resmem_ring *r)
{
	if (!r->producing)
		return -EPERM;
	if (r->reserved)
		return -EBUSY;
	ring_refuse(r);
	return 0;
}

int resmem_ring_flush_gap(struct resmem_ring *r)
{
	if (!r->producing)
		return -EPERM;
	if (r->reserved)
		return -EBUSY;
	return ring_flush_gap(r);
}

void resmem_ring_add_wait(struct resmem_ring *r, uint64_t ns)
{
	if (r->producing)
		ring_add_wait(r, ns);
}

void resmem_ring_run_counters(const struct resmem_ring *r,
			      struct resmem_ring_counters *c)
{
	c->refused = r->refused - r->run_refused;
	c->overwritten = r->overwritten - r->run_overwritten;
	c->wait_ns = r->wait_ns - r->run_wait_ns;
	c->corrupt = READ_ONCE(r->hdr->corrupt) - r->run_corrupt;
}
