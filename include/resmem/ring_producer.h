/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ring producer of docs/ring-format.md, written once for both builds:
 * the module's in-kernel producer (module/ring.c) and libresmem
 * (userspace/lib/ring_produce.c) each include this file in one .c file.
 *
 * It is written in kernel C.  Before including it, the includer provides
 * (module/ring.h in the kernel, userspace/lib/ring_kcompat.h for libresmem,
 * the way tools/include serves perf and libbpf):
 *   - u8, u32, u64, bool, READ_ONCE(), WRITE_ONCE(), smp_load_acquire(),
 *     smp_store_release(), smp_wmb(), memset() and the errno values;
 *   - <linux/resmem.h> (the format and its arithmetic);
 *   - ring_mem_read(dst, ring, len) and ring_mem_write(ring, src, len):
 *     copy out of and into ring memory (8-aligned ring addresses);
 *   - ring_crc32c(crc, buf, len) over ordinary memory and
 *     ring_mem_crc32c(crc, ring, len) over ring memory: CRC32C as the format
 *     defines it (resmem_crc32c(): init and final xor included, 0 to start);
 *   - RING_PRODUCER: the producer's struct type, with the members
 *	struct resmem_ring_hdr *hdr;	the header, in ring memory
 *	u8 *data;			the data area, in ring memory
 *	u64 data_size, pos_mod;		from a checked copy of the header
 *	u32 flags, epoch;		this session's RESMEM_RING_F_*, epoch
 *	u64 head, head_seq, tail, tail_seq;	the producer's own copies
 *	bool/int reserved; u64 rsv_pos; u32 rsv_len;	the reserved record
 *
 * Ordering (docs/ring-format.md, "Producer"): tail moves (then smp_wmb())
 * before old bytes are overwritten; head moves with smp_store_release()
 * only after a record and its CRC are complete; cons is read with
 * smp_load_acquire() before its space is reused.  Ring memory is written
 * and read in whole records through ring_mem_*() only.
 */
#ifndef _RESMEM_RING_PRODUCER_H
#define _RESMEM_RING_PRODUCER_H

#define RING_REC	((u64)sizeof(struct resmem_ring_rec))

/* CRC32C of a ring header's bytes before its geo_crc field. */
static u32 ring_geo_crc(const struct resmem_ring_hdr *h)
{
	return ring_crc32c(0, h, __builtin_offsetof(struct resmem_ring_hdr,
						    geo_crc));
}

/*
 * ring_hdr_read() - copy the header at @base out once and check the copy
 * @base: ring memory, @region_size bytes (at least RESMEM_RING_HDR_SIZE)
 * @h: out: the copy; only it may be used once this returns 0
 *
 * Return: as resmem_ring_hdr_check().
 */
static int ring_hdr_read(const void *base, u64 region_size,
			 struct resmem_ring_hdr *h)
{
	ring_mem_read(h, base, sizeof(*h));
	return resmem_ring_hdr_check(h, region_size, ring_geo_crc(h));
}

/*
 * ring_hdr_create() - write a new, empty ring header at @base
 * @base: ring memory
 * @data_size: data area bytes (checked by the caller: 8-aligned, at least
 *	       RESMEM_RING_MIN_DATA, fits the region)
 * @start_pos: first position (8-aligned, below pos_mod)
 * @start_seq: first sequence number
 * @h: out: what was written
 *
 * The magic goes last, so a reader never sees a new magic with old fields.
 * Data bytes are left alone: nothing before head is ever read again.
 */
static void ring_hdr_create(void *base, u64 data_size, u64 start_pos,
			    u64 start_seq, struct resmem_ring_hdr *h)
{
	struct resmem_ring_hdr *live = base;

	memset(h, 0, sizeof(*h));
	h->magic = RESMEM_RING_MAGIC;
	h->version = RESMEM_RING_VERSION;
	h->hdr_size = sizeof(*h);
	h->data_off = RESMEM_RING_HDR_SIZE;
	h->data_size = data_size;
	h->pos_mod = resmem_ring_pos_mod(data_size);
	h->geo_crc = ring_geo_crc(h);
	h->head = start_pos;
	h->tail = start_pos;
	h->cons = start_pos;
	h->head_seq = start_seq;
	h->tail_seq = start_seq;
	h->cons_seq = start_seq;
	WRITE_ONCE(live->magic, 0);
	smp_wmb();
	ring_mem_write((u8 *)base + sizeof(h->magic), (const u8 *)h +
		       sizeof(h->magic), sizeof(*h) - sizeof(h->magic));
	smp_wmb();
	WRITE_ONCE(live->magic, h->magic);
}

/*
 * ring_bind() - producer state for the ring at @base, from a checked copy
 * @r: the producer state to fill in (nothing reserved, no session yet)
 * @base: ring memory
 * @h: the copy ring_hdr_read() checked or ring_hdr_create() wrote
 */
static void ring_bind(RING_PRODUCER *r, void *base,
		      const struct resmem_ring_hdr *h)
{
	memset(r, 0, sizeof(*r));
	r->hdr = base;
	r->data = (u8 *)base + RESMEM_RING_HDR_SIZE;
	r->data_size = h->data_size;
	r->pos_mod = h->pos_mod;
	r->head = h->head;
	r->head_seq = h->head_seq;
	r->tail = h->tail;
	r->tail_seq = h->tail_seq;
	r->epoch = (u32)h->epoch;
}

/*
 * ring_attach() - start a producer session (epoch++) at the bound head
 * @r: bound with ring_bind()
 * @flags: RESMEM_RING_F_* of the session (CLOSED cleared)
 */
static void ring_attach(RING_PRODUCER *r, u32 flags)
{
	struct resmem_ring_hdr *h = r->hdr;
	u64 epoch = READ_ONCE(h->epoch) + 1;

	WRITE_ONCE(h->epoch, epoch);
	WRITE_ONCE(h->flags, flags);
	r->flags = flags;
	r->epoch = (u32)epoch;
	r->reserved = 0;
	smp_wmb();
}

/* ring_close() - end of stream: set RESMEM_RING_F_CLOSED. */
static void ring_close(RING_PRODUCER *r)
{
	smp_wmb();
	WRITE_ONCE(r->hdr->flags, r->flags | RESMEM_RING_F_CLOSED);
}

static u64 ring_add(const RING_PRODUCER *r, u64 pos, u64 n)
{
	return resmem_ring_pos_advance(r->pos_mod, pos, n);
}

static u64 ring_distance(const RING_PRODUCER *r, u64 to, u64 from)
{
	return resmem_ring_pos_distance(r->pos_mod, to, from);
}

static u64 ring_offset(const RING_PRODUCER *r, u64 pos)
{
	return resmem_ring_pos_offset(r->data_size, pos);
}

/*
 * Move tail forward over whole records until [tail, @end) fits the data
 * area.  Records between tail and head are the producer's own, committed;
 * if one does not look like it (a damaged ring), everything old goes.
 */
static void ring_make_room(RING_PRODUCER *r, u64 end)
{
	struct resmem_ring_rec h;
	u64 off, room, size;

	while (ring_distance(r, end, r->tail) > r->data_size) {
		if (r->tail == r->head)
			break;
		off = ring_offset(r, r->tail);
		room = r->data_size - off;
		if (room < RING_REC) {
			r->tail = ring_add(r, r->tail, room);
			continue;
		}
		ring_mem_read(&h, r->data + off, RING_REC);
		size = resmem_ring_rec_size(h.len);
		if (h.seq != r->tail_seq || h.len > RESMEM_RING_MAX_PAYLOAD ||
		    size > room || size > ring_distance(r, r->head, r->tail)) {
			r->tail = r->head;
			r->tail_seq = r->head_seq;
			break;
		}
		r->tail = ring_add(r, r->tail, size);
		if (!(h.flags & RESMEM_REC_F_PAD))
			r->tail_seq++;
	}
}

/*
 * Unread bytes the producer must keep (without F_OVERWRITE).  cons is
 * written by the consumer at any time: it is checked at each use.
 */
static u64 ring_unread(const RING_PRODUCER *r)
{
	u64 cons = smp_load_acquire(&r->hdr->cons);
	u64 used = ring_distance(r, r->head, r->tail), u;

	if (!resmem_ring_pos_valid(r->pos_mod, cons))
		return used;
	u = ring_distance(r, r->head, cons);
	return u > used ? used : u;
}

/* A record header whose crc covers only itself (PAD) or nothing yet. */
static void ring_put_rec(RING_PRODUCER *r, u64 off, u32 len, u32 flags)
{
	struct resmem_ring_rec h = { .len = len, .flags = flags,
				     .seq = r->head_seq, .epoch = r->epoch };

	if (flags & RESMEM_REC_F_PAD)
		h.crc = ring_crc32c(0, &h, RESMEM_RING_REC_CRC_LEN);
	ring_mem_write(r->data + off, &h, RING_REC);
}

/*
 * ring_reserve() - reserve the next record
 * @r: attached
 * @len: payload bytes
 * @data_off: out: data-area offset of the payload
 *
 * Return: 0, -EMSGSIZE (too big for this ring), -EBUSY (already one
 * reserved), -ENOSPC (full and not overwriting; counted as dropped).
 */
static int ring_reserve(RING_PRODUCER *r, u32 len, u64 *data_off)
{
	u64 size = resmem_ring_rec_size(len), off, pad = 0, old_tail;

	if (r->reserved)
		return -EBUSY;
	if (len > resmem_ring_max_payload(r->data_size))
		return -EMSGSIZE;
	off = ring_offset(r, r->head);
	if (r->data_size - off < size)
		pad = r->data_size - off;
	if (!(r->flags & RESMEM_RING_F_OVERWRITE) &&
	    ring_unread(r) + pad + size > r->data_size) {
		WRITE_ONCE(r->hdr->dropped, READ_ONCE(r->hdr->dropped) + 1);
		return -ENOSPC;
	}
	old_tail = r->tail;
	ring_make_room(r, ring_add(r, r->head, pad + size));
	if (r->tail != old_tail) {
		WRITE_ONCE(r->hdr->tail, r->tail);
		smp_wmb();	/* readers load tail_seq, then tail */
		WRITE_ONCE(r->hdr->tail_seq, r->tail_seq);
		smp_wmb();	/* new tail visible before old bytes change */
	}
	if (pad >= RING_REC)
		ring_put_rec(r, off, (u32)(pad - RING_REC), RESMEM_REC_F_PAD);
	r->rsv_pos = ring_add(r, r->head, pad);
	r->rsv_len = len;
	r->reserved = 1;
	off = ring_offset(r, r->rsv_pos);
	ring_put_rec(r, off, len, 0);
	*data_off = off + RING_REC;
	return 0;
}

/*
 * ring_commit() - publish the reserved record
 * @r: with a record reserved
 * @len: payload bytes written, at most the reserved length
 *
 * Return: 0, or -EINVAL if nothing is reserved or @len is too big.
 */
static int ring_commit(RING_PRODUCER *r, u32 len)
{
	struct resmem_ring_rec h;
	u8 *at;

	if (!r->reserved || len > r->rsv_len)
		return -EINVAL;
	at = r->data + ring_offset(r, r->rsv_pos);
	h = (struct resmem_ring_rec){ .len = len, .seq = r->head_seq,
				      .epoch = r->epoch };
	h.crc = ring_mem_crc32c(ring_crc32c(0, &h, RESMEM_RING_REC_CRC_LEN),
				at + RING_REC, len);
	ring_mem_write(at, &h, RING_REC);
	r->head_seq++;
	r->head = ring_add(r, r->rsv_pos, resmem_ring_rec_size(len));
	r->reserved = 0;
	WRITE_ONCE(r->hdr->head_seq, r->head_seq);
	smp_store_release(&r->hdr->head, r->head);	/* the record first */
	return 0;
}

#endif /* _RESMEM_RING_PRODUCER_H */
