// SPDX-License-Identifier: GPL-2.0
/*
 * The ring format of docs/ring-format.md, producer side, in the kernel.
 * The same algorithm as userspace/lib/ring_produce.c: tail moves (then
 * smp_wmb()) before old bytes are overwritten; head moves with
 * smp_store_release() only after a record and its CRC are complete;
 * cons is read with smp_load_acquire() before its space is reused.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/string.h>

#include "ring.h"

#define REC		((u64)sizeof(struct resmem_ring_rec))

static u32 crc32c_table[256];
static bool crc32c_ready;

static void crc32c_init(void)
{
	u32 i, c;
	int k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78 & -(c & 1));
		crc32c_table[i] = c;
	}
	smp_store_release(&crc32c_ready, true);
}

/**
 * resmem_crc32c() - CRC32C (Castagnoli) as the ring format defines it
 * @crc: CRC of the bytes before, 0 to start
 * @buf: bytes
 * @len: their number
 *
 * Return: the CRC of everything so far (init and final xor 0xffffffff).
 */
u32 resmem_crc32c(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;
	u32 c = ~crc;

	if (!smp_load_acquire(&crc32c_ready))
		crc32c_init();
	while (len--)
		c = crc32c_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static u64 pos_add(const struct resmem_kring *k, u64 pos, u64 n)
{
	u64 room = k->pos_mod - pos;

	return n >= room ? n - room : pos + n;
}

static u64 distance(const struct resmem_kring *k, u64 to, u64 from)
{
	return to >= from ? to - from : k->pos_mod - from + to;
}

static u64 offset_of(const struct resmem_kring *k, u64 pos)
{
	u64 rem;

	div64_u64_rem(pos, k->data_size, &rem);
	return rem;
}

static u64 rec_size(u64 len)
{
	return ALIGN(REC + len, RESMEM_RING_ALIGN);
}

static u64 max_payload(u64 data_size)
{
	return min_t(u64, data_size / 2 - REC, RESMEM_RING_MAX_PAYLOAD);
}

static u64 pos_mod_for(u64 data_size)
{
	return div64_u64(U64_MAX, data_size) * data_size;
}

static u32 geo_crc(const struct resmem_ring_hdr *h)
{
	return resmem_crc32c(0, h, offsetof(struct resmem_ring_hdr, geo_crc));
}

/**
 * resmem_kring_check() - is there a valid ring header?
 * @h: the header (in the region)
 * @region_size: bytes in the region
 *
 * Return: 0, -ENODATA (no ring), -EPROTONOSUPPORT (other version),
 * -EBADMSG (damaged), -EINVAL (does not fit the region).
 */
int resmem_kring_check(const struct resmem_ring_hdr *h, u64 region_size)
{
	u64 pm, head = READ_ONCE(h->head), tail = READ_ONCE(h->tail);
	u64 cons = READ_ONCE(h->cons), ds = h->data_size;

	if (h->magic != RESMEM_RING_MAGIC)
		return -ENODATA;
	if (h->version != RESMEM_RING_VERSION)
		return -EPROTONOSUPPORT;
	if (h->hdr_size != sizeof(*h) || h->data_off != RESMEM_RING_HDR_SIZE ||
	    geo_crc(h) != h->geo_crc || !ds || ds % RESMEM_RING_ALIGN ||
	    ds < 8 * REC)
		return -EBADMSG;
	pm = pos_mod_for(ds);
	if (h->pos_mod != pm)
		return -EBADMSG;
	if (region_size < RESMEM_RING_HDR_SIZE ||
	    ds > region_size - RESMEM_RING_HDR_SIZE)
		return -EINVAL;
	if (head >= pm || tail >= pm || cons >= pm ||
	    (head | tail | cons) % RESMEM_RING_ALIGN)
		return -EBADMSG;
	if ((head >= tail ? head - tail : pm - tail + head) > ds)
		return -EBADMSG;
	return 0;
}

static void ring_init(struct resmem_ring_hdr *h, u64 region_size)
{
	u64 ds = (region_size - RESMEM_RING_HDR_SIZE) & ~7ULL;

	WRITE_ONCE(h->magic, 0);
	smp_wmb();
	memset((u8 *)h + 8, 0, sizeof(*h) - 8);
	h->version = RESMEM_RING_VERSION;
	h->hdr_size = sizeof(*h);
	h->data_off = RESMEM_RING_HDR_SIZE;
	h->data_size = ds;
	h->pos_mod = pos_mod_for(ds);
	h->magic = RESMEM_RING_MAGIC;
	h->geo_crc = geo_crc(h);
	WRITE_ONCE(h->magic, 0);
	smp_wmb();
	WRITE_ONCE(h->magic, RESMEM_RING_MAGIC);
}

/**
 * resmem_kring_open() - keep the ring found at @base, or create one
 * @k: producer state to fill in
 * @base: kernel mapping of the region
 * @region_size: its size
 * @reset: create an empty ring even if a valid one is there
 *
 * Nothing but the header is written when a ring is created.
 *
 * Return: 1 if an existing ring was kept, 0 if one was created, -EINVAL if
 * the region is too small for a ring.
 */
int resmem_kring_open(struct resmem_kring *k, void *base, u64 region_size,
		      bool reset)
{
	struct resmem_ring_hdr *h = base;
	int kept = 1;

	if (region_size < RESMEM_RING_HDR_SIZE + 8 * REC)
		return -EINVAL;
	if (reset || resmem_kring_check(h, region_size)) {
		ring_init(h, region_size);
		kept = 0;
	}
	memset(k, 0, sizeof(*k));
	k->hdr = h;
	k->data = (u8 *)base + RESMEM_RING_HDR_SIZE;
	k->data_size = h->data_size;
	k->pos_mod = h->pos_mod;
	return kept;
}

/**
 * resmem_kring_attach() - start a producer session (epoch++)
 * @k: the ring
 * @flags: RESMEM_RING_F_OVERWRITE and/or RESMEM_RING_F_KERNEL
 */
void resmem_kring_attach(struct resmem_kring *k, u32 flags)
{
	struct resmem_ring_hdr *h = k->hdr;
	u64 epoch = READ_ONCE(h->epoch) + 1;

	WRITE_ONCE(h->epoch, epoch);
	WRITE_ONCE(h->flags, flags);
	k->flags = flags;
	k->epoch = (u32)epoch;
	k->head = READ_ONCE(h->head);
	k->head_seq = READ_ONCE(h->head_seq);
	k->tail = READ_ONCE(h->tail);
	k->tail_seq = READ_ONCE(h->tail_seq);
	k->reserved = false;
	smp_wmb();
}

/**
 * resmem_kring_close() - end of stream: set RESMEM_RING_F_CLOSED
 * @k: the ring
 */
void resmem_kring_close(struct resmem_kring *k)
{
	smp_wmb();
	WRITE_ONCE(k->hdr->flags, k->flags | RESMEM_RING_F_CLOSED);
}

static void make_room(struct resmem_kring *k, u64 end)
{
	struct resmem_ring_rec h;
	u64 off, room, size;

	while (distance(k, end, k->tail) > k->data_size) {
		if (k->tail == k->head)
			break;
		off = offset_of(k, k->tail);
		room = k->data_size - off;
		if (room < REC) {
			k->tail = pos_add(k, k->tail, room);
			continue;
		}
		memcpy(&h, k->data + off, REC);
		size = rec_size(h.len);
		if (h.seq != k->tail_seq || h.len > RESMEM_RING_MAX_PAYLOAD ||
		    size > room || size > distance(k, k->head, k->tail)) {
			k->tail = k->head;
			k->tail_seq = k->head_seq;
			break;
		}
		k->tail = pos_add(k, k->tail, size);
		if (!(h.flags & RESMEM_REC_F_PAD))
			k->tail_seq++;
	}
}

static u64 unread(const struct resmem_kring *k)
{
	u64 cons = smp_load_acquire(&k->hdr->cons);
	u64 used = distance(k, k->head, k->tail), u;

	if (cons >= k->pos_mod || cons % RESMEM_RING_ALIGN)
		return used;
	u = distance(k, k->head, cons);
	return min(u, used);
}

/**
 * resmem_kring_reserve() - reserve the next record
 * @k: the ring
 * @len: payload bytes
 * @data_off: out: data-area offset of the payload
 *
 * Return: 0, -EMSGSIZE (too big for this ring), -EBUSY (already one
 * reserved), -ENOSPC (full and not overwriting; counted as dropped).
 */
int resmem_kring_reserve(struct resmem_kring *k, u32 len, u64 *data_off)
{
	u64 size = rec_size(len), off, pad = 0, old_tail;
	struct resmem_ring_rec h;

	if (k->reserved)
		return -EBUSY;
	if (len > max_payload(k->data_size))
		return -EMSGSIZE;
	off = offset_of(k, k->head);
	if (k->data_size - off < size)
		pad = k->data_size - off;
	if (!(k->flags & RESMEM_RING_F_OVERWRITE) &&
	    unread(k) + pad + size > k->data_size) {
		WRITE_ONCE(k->hdr->dropped, READ_ONCE(k->hdr->dropped) + 1);
		return -ENOSPC;
	}
	old_tail = k->tail;
	make_room(k, pos_add(k, k->head, pad + size));
	if (k->tail != old_tail) {
		WRITE_ONCE(k->hdr->tail, k->tail);
		smp_wmb();	/* readers load tail_seq, then tail */
		WRITE_ONCE(k->hdr->tail_seq, k->tail_seq);
		smp_wmb();	/* new tail visible before old bytes change */
	}
	if (pad >= REC) {
		h = (struct resmem_ring_rec){ .len = pad - REC,
			.flags = RESMEM_REC_F_PAD, .seq = k->head_seq,
			.epoch = k->epoch };
		h.crc = resmem_crc32c(0, &h, 20);
		memcpy(k->data + off, &h, REC);
	}
	k->rsv_pos = pos_add(k, k->head, pad);
	k->rsv_len = len;
	k->reserved = true;
	off = offset_of(k, k->rsv_pos);
	h = (struct resmem_ring_rec){ .len = len, .seq = k->head_seq,
		.epoch = k->epoch };
	memcpy(k->data + off, &h, REC);
	*data_off = off + REC;
	return 0;
}

/**
 * resmem_kring_commit() - publish the reserved record
 * @k: the ring
 * @len: payload bytes written, at most the reserved length
 *
 * Return: 0, or -EINVAL if nothing is reserved or @len is too big.
 */
int resmem_kring_commit(struct resmem_kring *k, u32 len)
{
	struct resmem_ring_rec h;
	u8 *at;

	if (!k->reserved || len > k->rsv_len)
		return -EINVAL;
	at = k->data + offset_of(k, k->rsv_pos);
	h = (struct resmem_ring_rec){ .len = len, .seq = k->head_seq,
		.epoch = k->epoch };
	h.crc = resmem_crc32c(resmem_crc32c(0, &h, 20), at + REC, len);
	memcpy(at, &h, REC);
	k->head_seq++;
	k->head = pos_add(k, k->rsv_pos, rec_size(len));
	k->reserved = false;
	WRITE_ONCE(k->hdr->head_seq, k->head_seq);
	smp_store_release(&k->hdr->head, k->head);
	return 0;
}
