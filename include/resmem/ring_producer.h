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
 *     smp_store_release(), memset() and the errno values;
 *   - ring_wmb(): a write barrier that also orders stores to a
 *     write-combining mapping (x86 WC stores pass smp_wmb(): wmb() there);
 *   - <linux/resmem.h> (the format and its arithmetic);
 *   - ring_mem_read(dst, ring, len) and ring_mem_write(ring, src, len):
 *     copy out of and into ring memory (8-aligned ring addresses);
 *   - ring_crc32c(crc, buf, len) over ordinary memory and
 *     ring_mem_crc32c(crc, ring, len) over ring memory: CRC32C as the format
 *     defines it (resmem_crc32c(): init and final xor included, 0 to start);
 *   - ring_time_ns(): CLOCK_REALTIME in nanoseconds (the records' time_ns:
 *     ktime_get_real_fast_ns() in the kernel, clock_gettime() in libresmem);
 *   - RING_PRODUCER: the producer's struct type, with the members
 *	struct resmem_ring_hdr *hdr;	the header, in ring memory
 *	u8 *data;			the data area, in ring memory
 *	u64 data_size, pos_mod;		from a checked copy of the header
 *	u32 flags, epoch;		this session's RESMEM_RING_F_*, epoch
 *	u64 head, head_seq, tail, tail_seq;	the producer's own copies
 *	u64 refused, overwritten, wait_ns;	counters since reset (own copies)
 *	u64 run_refused, run_overwritten, run_wait_ns;	their values at attach
 *	struct resmem_ring_gap gap;	refused records not yet marked (count 0:
 *					none)
 *	bool/int reserved; u64 rsv_pos; u32 rsv_len;	the reserved record
 *
 * Ordering (docs/ring-format.md, "Producer"): tail moves (then ring_wmb())
 * before old bytes are overwritten; head moves (ring_wmb(), then
 * smp_store_release()) only after a record and its CRC are complete; cons
 * is read with smp_load_acquire() before its space is reused.  Ring memory is written
 * and read in whole records through ring_mem_*() only.
 */
#ifndef _RESMEM_RING_PRODUCER_H
#define _RESMEM_RING_PRODUCER_H

#define RING_REC	((u64)sizeof(struct resmem_ring_rec))
#define RING_GAP_SIZE	resmem_ring_rec_size(sizeof(struct resmem_ring_gap))

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
 * Data bytes are left alone (nothing before head is ever read again) but
 * for the record header at @start_pos, cleared so that stale bytes there
 * never look like a record in flight.  The epoch of a ring that was there
 * (any version) is continued: a stale record never has the current epoch.
 */
static void ring_hdr_create(void *base, u64 data_size, u64 start_pos,
			    u64 start_seq, struct resmem_ring_hdr *h)
{
	struct resmem_ring_hdr *live = base;
	struct resmem_ring_rec zero = { 0 };
	u64 epoch = 0, off = resmem_ring_pos_offset(data_size, start_pos);

	if (READ_ONCE(live->magic) == RESMEM_RING_MAGIC)
		epoch = READ_ONCE(live->epoch);
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
	h->epoch = epoch;
	WRITE_ONCE(live->magic, 0);
	ring_wmb();
	if (data_size - off >= RING_REC)
		ring_mem_write((u8 *)base + RESMEM_RING_HDR_SIZE + off, &zero,
			       RING_REC);
	else
		ring_mem_write((u8 *)base + RESMEM_RING_HDR_SIZE, &zero,
			       RING_REC);
	ring_mem_write((u8 *)base + sizeof(h->magic), (const u8 *)h +
		       sizeof(h->magic), sizeof(*h) - sizeof(h->magic));
	ring_wmb();
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
	r->refused = h->refused;
	r->overwritten = h->overwritten;
	r->wait_ns = h->wait_ns;
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
	r->run_refused = r->refused;
	r->run_overwritten = r->overwritten;
	r->run_wait_ns = r->wait_ns;
	r->gap.count = 0;
	ring_wmb();
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
	u64 cons = smp_load_acquire(&r->hdr->cons), unread, off, room, size;
	struct resmem_ring_rec h;

	/* Bytes from cons to head: a record that far from head or less is unread. */
	unread = ring_distance(r, r->head, r->tail);
	if (resmem_ring_pos_valid(r->pos_mod, cons) &&
	    ring_distance(r, r->head, cons) < unread)
		unread = ring_distance(r, r->head, cons);
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
		/* A seq ahead of tail_seq: refused records (no bytes) between. */
		if (h.seq - r->tail_seq >= (1ULL << 63) ||
		    h.len > RESMEM_RING_MAX_PAYLOAD || size > room ||
		    size > ring_distance(r, r->head, r->tail)) {
			r->tail = r->head;
			r->tail_seq = r->head_seq;
			break;
		}
		r->tail_seq = h.seq;
		if (!(h.flags & (RESMEM_REC_F_PAD | RESMEM_REC_F_GAP))) {
			if (ring_distance(r, r->head, r->tail) <= unread)
				r->overwritten++;
			r->tail_seq++;
		}
		r->tail = ring_add(r, r->tail, size);
	}
	if (r->tail == r->head)
		r->tail_seq = r->head_seq;	/* refused records after the last */
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

/*
 * A record header whose crc covers only itself (PAD) or nothing yet.  A
 * PAD carries the time it was written, a record's header the time of its
 * reservation until the commit rewrites it.
 */
static void ring_put_rec(RING_PRODUCER *r, u64 off, u32 len, u32 flags)
{
	struct resmem_ring_rec h = { .len = len, .flags = flags,
				     .seq = r->head_seq,
				     .time_ns = ring_time_ns(),
				     .epoch = r->epoch };

	if (flags & RESMEM_REC_F_PAD)
		h.crc = ring_crc32c(0, &h, RESMEM_RING_REC_CRC_LEN);
	ring_mem_write(r->data + off, &h, RING_REC);
}

/* Bytes of padding a record of @size bytes needs at position @pos. */
static u64 ring_pad_at(const RING_PRODUCER *r, u64 pos, u64 size)
{
	u64 room = r->data_size - ring_offset(r, pos);

	return room < size ? room : 0;
}

/*
 * Bytes from head to the end of a record of @size bytes, with the pending
 * GAP record (and PADs) before it.
 */
static u64 ring_span(const RING_PRODUCER *r, u64 size)
{
	u64 pos = r->head, n = 0, pad;

	if (r->gap.count) {
		pad = ring_pad_at(r, pos, RING_GAP_SIZE);
		n = pad + RING_GAP_SIZE;
		pos = ring_add(r, pos, n);
	}
	return n + ring_pad_at(r, pos, size) + size;
}

/* Move tail (then a write barrier) so that @span bytes after head are free. */
static void ring_free_span(RING_PRODUCER *r, u64 span)
{
	u64 old_tail = r->tail, old_over = r->overwritten;

	ring_make_room(r, ring_add(r, r->head, span));
	if (r->tail != old_tail) {
		WRITE_ONCE(r->hdr->tail, r->tail);
		ring_wmb();	/* readers load tail_seq, then tail */
		WRITE_ONCE(r->hdr->tail_seq, r->tail_seq);
		if (r->overwritten != old_over)
			WRITE_ONCE(r->hdr->overwritten, r->overwritten);
		ring_wmb();	/* new tail visible before old bytes change */
	}
}

/* A PAD record (or implicit pad) filling @pad bytes at head. */
static void ring_put_pad(RING_PRODUCER *r, u64 pad)
{
	if (pad >= RING_REC)
		ring_put_rec(r, ring_offset(r, r->head),
			     (u32)(pad - RING_REC), RESMEM_REC_F_PAD);
}

/*
 * Write the pending GAP record at head and publish it (room made by the
 * caller): it consumes no sequence number and carries the next one.
 */
static void ring_put_gap(RING_PRODUCER *r)
{
	struct resmem_ring_rec h = { .len = sizeof(r->gap),
				     .flags = RESMEM_REC_F_GAP,
				     .seq = r->head_seq,
				     .time_ns = ring_time_ns(),
				     .epoch = r->epoch };
	u64 pad = ring_pad_at(r, r->head, RING_GAP_SIZE);
	u8 *at;

	ring_put_pad(r, pad);
	r->head = ring_add(r, r->head, pad);
	at = r->data + ring_offset(r, r->head);
	h.crc = ring_crc32c(ring_crc32c(0, &h, RESMEM_RING_REC_CRC_LEN),
			    &r->gap, sizeof(r->gap));
	ring_mem_write(at + RING_REC, &r->gap, sizeof(r->gap));
	ring_mem_write(at, &h, RING_REC);
	r->head = ring_add(r, r->head, RING_GAP_SIZE);
	r->gap.count = 0;
	ring_wmb();	/* the record first, also through write-combining */
	smp_store_release(&r->hdr->head, r->head);
}

/*
 * Clear the record header where the next record would go, if that space
 * is free: stale bytes there must not look like a record in flight.
 */
static void ring_clear_next(RING_PRODUCER *r)
{
	struct resmem_ring_rec zero = { 0 };
	u64 pad = ring_pad_at(r, r->head, RING_REC);

	if (ring_distance(r, r->head, r->tail) + pad + RING_REC <=
	    r->data_size)
		ring_mem_write(r->data + ring_offset(r, ring_add(r, r->head,
								 pad)),
			       &zero, RING_REC);
}

/*
 * ring_flush_gap() - write the pending GAP record now, if there is one
 * @r: attached, nothing reserved
 *
 * Return: 0 (written, or none pending), -ENOSPC (no room without
 * overwriting unread records: try again once the consumer moved).
 */
static int ring_flush_gap(RING_PRODUCER *r)
{
	u64 span;

	if (!r->gap.count)
		return 0;
	span = ring_span(r, 0);
	if (!(r->flags & RESMEM_RING_F_OVERWRITE) &&
	    ring_unread(r) + span > r->data_size)
		return -ENOSPC;
	ring_free_span(r, span);
	ring_put_gap(r);
	return 0;
}

/*
 * ring_close() - end of stream: mark refused records if the GAP record
 * fits without overwriting unread records, set RESMEM_RING_F_CLOSED.
 */
static void ring_close(RING_PRODUCER *r)
{
	if (!r->reserved)
		ring_flush_gap(r);
	ring_clear_next(r);
	ring_wmb();
	WRITE_ONCE(r->hdr->flags, r->flags | RESMEM_RING_F_CLOSED);
}

/*
 * ring_refuse() - give up the record the last ring_reserve() refused with
 * -ENOSPC: it consumes its sequence number, counts as refused and joins
 * the GAP record written before the next record accepted.  A producer
 * that waits and retries instead does not call this: nothing was lost.
 */
static inline void ring_refuse(RING_PRODUCER *r)
{
	u64 now = ring_time_ns();

	if (!r->gap.count) {
		r->gap.first_seq = r->head_seq;
		r->gap.first_ns = now;
	}
	r->gap.count++;
	r->gap.last_ns = now;
	r->refused++;
	r->head_seq++;
	WRITE_ONCE(r->hdr->refused, r->refused);
	WRITE_ONCE(r->hdr->head_seq, r->head_seq);
}

/* ring_add_wait() - @ns nanoseconds spent waiting for room (no loss). */
static inline void ring_add_wait(RING_PRODUCER *r, u64 ns)
{
	r->wait_ns += ns;
	WRITE_ONCE(r->hdr->wait_ns, r->wait_ns);
}

/*
 * ring_reserve() - reserve the next record
 * @r: attached
 * @len: payload bytes
 * @data_off: out: data-area offset of the payload
 *
 * A pending GAP record is written (and published) first.
 *
 * Return: 0, -EMSGSIZE (too big for this ring), -EBUSY (already one
 * reserved), -ENOSPC (full and not overwriting: nothing counted; the
 * caller waits and retries, or gives the record up with ring_refuse()).
 */
static int ring_reserve(RING_PRODUCER *r, u32 len, u64 *data_off)
{
	u64 size = resmem_ring_rec_size(len), off, pad, span;

	if (r->reserved)
		return -EBUSY;
	if (len > resmem_ring_max_payload(r->data_size))
		return -EMSGSIZE;
	span = ring_span(r, size);
	if (!(r->flags & RESMEM_RING_F_OVERWRITE) &&
	    ring_unread(r) + span > r->data_size)
		return -ENOSPC;
	ring_free_span(r, span);
	if (r->gap.count)
		ring_put_gap(r);
	pad = ring_pad_at(r, r->head, size);
	ring_put_pad(r, pad);
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
				      .time_ns = ring_time_ns(),
				      .epoch = r->epoch };
	h.crc = ring_mem_crc32c(ring_crc32c(0, &h, RESMEM_RING_REC_CRC_LEN),
				at + RING_REC, len);
	ring_mem_write(at, &h, RING_REC);
	r->head_seq++;
	r->head = ring_add(r, r->rsv_pos, resmem_ring_rec_size(len));
	r->reserved = 0;
	WRITE_ONCE(r->hdr->head_seq, r->head_seq);
	ring_wmb();	/* the record first, also through write-combining */
	smp_store_release(&r->hdr->head, r->head);
	return 0;
}

#endif /* _RESMEM_RING_PRODUCER_H */
