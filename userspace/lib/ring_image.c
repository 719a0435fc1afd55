// SPDX-License-Identifier: GPL-2.0
/*
 * Ring images: a ring's committed bytes laid out as a ring file
 * (libresmem.h, "ring image"; resmem drain --image).  This file only plans
 * and accounts; the caller moves the bytes, with whatever I/O it likes.
 */
#include "ring_internal.h"

#define PG RESMEM_RING_IMAGE_ALIGN

static u64 round_down_pg(u64 x)
{
	return x & ~(u64)(PG - 1);
}

static u64 round_up_pg(u64 x)
{
	return round_down_pg(x + PG - 1);
}

/* The smallest data area whose max payload takes @len. */
static u64 data_for_payload(u64 len)
{
	return 2 * (len + RING_REC +
		    resmem_ring_rec_size(sizeof(struct resmem_ring_gap)));
}

/*
 * Walk the record headers of [start, end) (payloads are not read: the
 * CRCs are checked by whoever reads the image).  Returns 0 with the
 * records, their bytes, the largest len (PAD records too) and the sequence
 * number after the last record, or -EBADMSG at the first header that does
 * not fit where it is: a damaged ring, which the image copies as it is.
 */
static int walk(const struct resmem_ring *r, struct resmem_ring_image *img,
		u64 *maxlen)
{
	u64 pos = img->start, room, size;
	struct resmem_ring_rec h;

	*maxlen = 0;
	while (pos != img->end) {
		ring_rec_at(r, &pos, &h, &room);
		if (pos == img->end)
			break; /* head right after an implicit pad */
		size = resmem_ring_rec_size(h.len);
		if (h.len > resmem_ring_max_payload(r->data_size) ||
		    size > room ||
		    size > resmem_ring_distance(r, img->end, pos) ||
		    ((h.flags & RESMEM_REC_F_PAD) && size != room))
			return -EBADMSG;
		if (h.len > *maxlen)
			*maxlen = h.len;
		if (h.flags & RESMEM_REC_F_PAD) {
			pos = resmem_ring_pos_add(r, pos, room);
			continue;
		}
		if (h.flags & RESMEM_REC_F_GAP) {
			img->end_seq = h.seq;
		} else {
			img->records++;
			img->bytes += h.len;
			img->end_seq = h.seq + 1;
		}
		pos = resmem_ring_pos_add(r, pos, size);
	}
	return 0;
}

/*
 * The image's data area size and the image position of img->start.
 * Not wrapped: the bytes start in the image's first page, at start's
 * offset in its page.  Wrapped (the ring's data end lies inside): the
 * image's data size is the ring's plus or minus whole pages, the older
 * part ends at the image's data end (its PAD record or implicit pad stays
 * exactly as long) and the newer part starts at data offset 0, never in a
 * page the older part has (the two are written as whole pages).
 */
static void layout(const struct resmem_ring *r, struct resmem_ring_image *img,
		   u64 len, u64 need, u64 *ds, u64 *img_start)
{
	u64 ds_r = r->data_size, a = resmem_ring_pos_offset(ds_r, img->start);
	u64 newer = a + len > ds_r ? a + len - ds_r : 0;
	int64_t j, j2;

	if (!newer) {
		*img_start = a % PG;
		/* room for a zero record header after head: nothing in flight */
		*ds = round_up_pg(*img_start + len + RING_REC > need ?
					  *img_start + len + RING_REC :
					  need);
		return;
	}
	/* ds = ds_r + j pages: the older part's first page after the newer's last */
	j = ((int64_t)round_up_pg(newer) - (int64_t)round_down_pg(a)) / PG;
	j2 = need > ds_r ? (int64_t)((need - ds_r + PG - 1) / PG) :
			   -(int64_t)((ds_r - need) / PG);
	if (j2 > j)
		j = j2;
	*ds = (u64)((int64_t)ds_r + j * PG);
	*img_start = a + *ds - ds_r;
}

int resmem_ring_image_plan(const struct resmem_ring *r,
			   enum resmem_ring_from from,
			   struct resmem_ring_image *img)
{
	const struct resmem_ring_hdr *live = r->hdr;
	u64 tail, tail_seq, cons, cons_seq, head, head_seq, len, maxlen, need,
		ds, at, older;
	u32 flags;
	struct resmem_ring_hdr *h = &img->hdr;

	memset(img, 0, sizeof(*img));
	flags = smp_load_acquire(&live->flags); /* CLOSED: head_seq is final */
	tail_seq = READ_ONCE(live->tail_seq);
	smp_rmb();
	tail = smp_load_acquire(&live->tail);
	cons = smp_load_acquire(&live->cons);
	cons_seq = READ_ONCE(live->cons_seq);
	head = smp_load_acquire(&live->head);
	head_seq = READ_ONCE(live->head_seq);
	if (!resmem_ring_pos_valid(r->pos_mod, tail) ||
	    !resmem_ring_pos_valid(r->pos_mod, head) ||
	    resmem_ring_distance(r, head, tail) > r->data_size)
		return -EBADMSG;
	img->start = tail;
	img->start_seq = tail_seq;
	if (from == RESMEM_RING_FROM_HEAD) {
		img->start = head;
		img->start_seq = head_seq;
	} else if (from == RESMEM_RING_FROM_CONS) {
		if (resmem_ring_pos_valid(r->pos_mod, cons) &&
		    resmem_ring_distance(r, head, cons) <=
			    resmem_ring_distance(r, head, tail)) {
			img->start = cons;
			img->start_seq = cons_seq;
		} else { /* the producer overwrote past cons */
			img->lost = tail_seq - cons_seq < (1ULL << 63) ?
					    tail_seq - cons_seq :
					    0;
		}
	}
	img->end = head;
	img->end_seq = img->start_seq;
	len = resmem_ring_distance(r, head, img->start);
	if (walk(r, img, &maxlen)) {
		img->damaged = 1;
		img->end_seq = head_seq;
		maxlen = len;
	}
	if (flags & RESMEM_RING_F_CLOSED)
		img->end_seq =
			head_seq; /* refusals after the last record too */
	need = data_for_payload(maxlen);
	if (need > r->data_size)
		need = r->data_size; /* what the producer wrote fits this */
	if (need < RESMEM_RING_MIN_DATA)
		need = RESMEM_RING_MIN_DATA;
	layout(r, img, len, need, &ds, &at);

	older = r->data_size - resmem_ring_pos_offset(r->data_size, img->start);
	if (len) {
		img->ext[0].region_off =
			RESMEM_RING_HDR_SIZE +
			resmem_ring_pos_offset(r->data_size, img->start);
		img->ext[0].file_off = RESMEM_RING_HDR_SIZE + at;
		img->ext[0].len = len < older ? len : older;
		img->extents = 1;
	}
	if (len > older) {
		img->ext[1].region_off = RESMEM_RING_HDR_SIZE;
		img->ext[1].file_off = RESMEM_RING_HDR_SIZE;
		img->ext[1].len = len - older;
		img->extents = 2;
	}
	img->size = RESMEM_RING_HDR_SIZE + ds;

	h->magic = RESMEM_RING_MAGIC;
	h->version = RESMEM_RING_VERSION;
	h->hdr_size = sizeof(*h);
	h->data_off = RESMEM_RING_HDR_SIZE;
	h->data_size = ds;
	h->pos_mod = resmem_ring_pos_mod(ds);
	h->geo_crc =
		resmem_crc32c(0, h, offsetof(struct resmem_ring_hdr, geo_crc));
	h->epoch = READ_ONCE(live->epoch);
	h->flags = RESMEM_RING_F_CLOSED; /* a snapshot: nothing follows */
	h->tail = at;
	h->tail_seq = img->start_seq;
	h->cons = at;
	h->cons_seq = img->start_seq;
	h->head = at + len;
	h->head_seq = img->end_seq;
	h->refused = READ_ONCE(live->refused);
	h->overwritten = READ_ONCE(live->overwritten);
	h->wait_ns = READ_ONCE(live->wait_ns);
	h->corrupt = READ_ONCE(live->corrupt);
	return resmem_ring_hdr_check(h, img->size, h->geo_crc) ? -EBADMSG : 0;
}

int resmem_ring_image_settle(const struct resmem_ring *r,
			     struct resmem_ring_image *img)
{
	u64 tail, tail_seq, head, skip;
	struct resmem_ring_hdr *h = &img->hdr;

	tail_seq = READ_ONCE(r->hdr->tail_seq);
	smp_rmb();
	tail = smp_load_acquire(&r->hdr->tail);
	head = smp_load_acquire(&r->hdr->head);
	if (resmem_ring_distance(r, head, img->start) <=
	    resmem_ring_distance(r, head, tail))
		return 0; /* tail never passed start: nothing was overwritten */
	skip = resmem_ring_distance(r, tail, img->start);
	if (skip >= resmem_ring_distance(r, img->end, img->start))
		return -ESTALE;
	img->overrun += skip;
	img->start = tail;
	img->start_seq = tail_seq;
	h->tail = h->tail + skip;
	h->tail_seq = tail_seq;
	h->cons = h->tail;
	h->cons_seq = tail_seq;
	return 1;
}

int resmem_ring_image_consume(struct resmem_ring *r,
			      const struct resmem_ring_image *img)
{
	struct resmem_ring_hdr *h = r->hdr;

	if (!resmem_ring_pos_valid(r->pos_mod, img->end))
		return -EINVAL;
	WRITE_ONCE(h->cons_seq, img->end_seq);
	smp_store_release(&h->cons, img->end);
	return 0;
}
