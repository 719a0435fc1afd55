// SPDX-License-Identifier: GPL-2.0
/*
 * Choosing where memmap=SIZE$ADDR goes: inside one run of RAM the firmware
 * calls usable (/sys/firmware/memmap, i.e. before any memmap= edited it),
 * aligned for the largest page size, clear of what the running kernel
 * occupies, lowest address first.  Arithmetic on half-open [s, e) ranges.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "resmem_plan.h"

#define PAGE 4096ULL
#define MiB2 (2ULL << 20)
#define GiB1 (1ULL << 30)

struct span {
	uint64_t s, e; /* [s, e) */
	const char *what;
};

struct spans {
	struct span *v;
	size_t n, cap;
};

uint64_t resmem_plan_default_align(uint64_t size)
{
	if (size >= GiB1)
		return GiB1;
	if (size >= MiB2)
		return MiB2;
	return PAGE;
}

static uint64_t end_of(uint64_t inclusive_end)
{
	return inclusive_end == UINT64_MAX ? UINT64_MAX : inclusive_end + 1;
}

/* Insert keeping the array sorted by start. */
static int spans_add(struct spans *a, uint64_t s, uint64_t e, const char *what)
{
	size_t i;
	int err = rm_grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v));

	if (err)
		return err;
	for (i = a->n; i > 0 && a->v[i - 1].s > s; i--)
		a->v[i] = a->v[i - 1];
	a->v[i] = (struct span){ s, e, what };
	a->n++;
	return 0;
}

/* Firmware System RAM, adjacent or overlapping entries merged. */
static int ram_runs(const struct resmem_fwmap *fw, size_t n, struct spans *runs)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		uint64_t s = fw[i].start, e = end_of(fw[i].end);

		if (strcasecmp(fw[i].type, "System RAM"))
			continue;
		if (runs->n && s <= runs->v[runs->n - 1].e) {
			if (e > runs->v[runs->n - 1].e)
				runs->v[runs->n - 1].e = e;
			continue;
		}
		err = spans_add(runs, s, e, NULL);
		if (err)
			return err;
	}
	return 0;
}

/* x86_64 default CONFIG_PHYSICAL_START */
#define LOAD_PHYSICAL_ADDR 0x1000000ULL

static int kernel_name(const char *name)
{
	return !strcmp(name, "Kernel code") || !strcmp(name, "Kernel rodata") ||
	       !strcmp(name, "Kernel data") || !strcmp(name, "Kernel bss");
}

/* Where the kernel is now and whether it stays there across boots. */
static void find_kernel(const struct resmem_iomem *io, size_t n_io, int kaslr,
			struct resmem_plan *p)
{
	size_t i;

	for (i = 0; i < n_io; i++)
		if (!strcmp(io[i].name, "Kernel code") &&
		    (io[i].start || io[i].end))
			p->kernel_at = io[i].start;
	if (kaslr >= 0)
		p->kernel_randomized = kaslr;
	else
		p->kernel_randomized = p->kernel_at &&
				       p->kernel_at != LOAD_PHYSICAL_ADDR;
}

static int in_use(const struct resmem_iomem *e, const struct resmem_plan *p)
{
	if (!e->start && !e->end) /* non-root: zeros */
		return 0;
	if (!strcmp(e->name, "Crash kernel"))
		return 1;
	return kernel_name(e->name) && !p->kernel_randomized;
}

static int align_up(uint64_t x, uint64_t a, uint64_t *out)
{
	if (x > UINT64_MAX - (a - 1))
		return 0;
	*out = (x + a - 1) & ~(a - 1);
	return 1;
}

/* The first blocked span overlapping [s, e), or NULL. */
static const struct span *blocked_by(const struct spans *b, uint64_t s,
				     uint64_t e)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->v[i].s < e && s < b->v[i].e)
			return &b->v[i];
	return NULL;
}

/* Lowest aligned start in [s, e) whose [start, start + size) is not blocked. */
static int first_fit(uint64_t s, uint64_t e, uint64_t size, uint64_t align,
		     const struct spans *blocked, uint64_t *at)
{
	const struct span *b;
	uint64_t c;

	for (;;) {
		if (!align_up(s, align, &c) || c >= e || e - c < size)
			return 0;
		b = blocked_by(blocked, c, c + size);
		if (!b) {
			*at = c;
			return 1;
		}
		s = b->e;
	}
}

/* Longest stretch from an aligned start in [s, e) that nothing blocked touches. */
static uint64_t largest_free(uint64_t s, uint64_t e, uint64_t align,
			     const struct spans *blocked)
{
	uint64_t best = 0, c, piece_end;
	size_t i;

	while (s < e) {
		piece_end = e;
		for (i = 0; i < blocked->n; i++) {
			if (blocked->v[i].e <= s ||
			    blocked->v[i].s >= piece_end)
				continue;
			if (blocked->v[i].s <= s) {
				s = blocked->v[i].e;
				piece_end = e;
				i = (size_t)-1; /* rescan from the new start */
				if (s >= e)
					return best;
				continue;
			}
			piece_end = blocked->v[i].s;
		}
		if (align_up(s, align, &c) && c < piece_end &&
		    piece_end - c > best)
			best = piece_end -
			       c; /* a region starts aligned, may end anywhere */
		s = piece_end;
	}
	return best;
}

static const char *fw_type_at(const struct resmem_fwmap *fw, size_t n,
			      uint64_t a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fw[i].start <= a && a <= fw[i].end &&
		    strcasecmp(fw[i].type, "System RAM"))
			return fw[i].type;
	return "nothing (no firmware entry: a hole, or beyond installed RAM)";
}

static void place(struct resmem_plan *p, const struct spans *runs, uint64_t at,
		  uint64_t size)
{
	struct resmem_plan_range *r = &p->r[p->n++];
	size_t i;

	r->start = at;
	r->size = size;
	for (i = 0; i < runs->n; i++)
		if (runs->v[i].s <= at && at < runs->v[i].e) {
			r->run_start = runs->v[i].s;
			r->run_end = runs->v[i].e - 1;
		}
}

static int check_at(const struct resmem_fwmap *fw, size_t n_fw,
		    const struct spans *runs, const struct spans *blocked,
		    const struct resmem_plan_req *req, uint64_t lo, uint64_t hi,
		    struct resmem_plan *p)
{
	uint64_t s = req->at, e = req->at + req->size, cur = s;
	const struct span *b;
	size_t i;

	if (req->at & (p->align - 1)) {
		p->why = RESMEM_PLAN_AT_UNALIGNED;
		p->where = req->at;
		return -ENOSPC;
	}
	if (e < s || s < lo || e > hi) {
		p->why = RESMEM_PLAN_AT_OUTSIDE;
		p->where = s < lo ? s : hi;
		return -ENOSPC;
	}
	/* every byte in firmware RAM: walk the (sorted, merged) runs */
	for (i = 0; i < runs->n && cur < e; i++)
		if (runs->v[i].s <= cur && cur < runs->v[i].e)
			cur = runs->v[i].e;
	if (cur < e) {
		p->why = RESMEM_PLAN_AT_NOT_RAM;
		p->where = cur;
		rm_strlcpy(p->what, fw_type_at(fw, n_fw, cur), sizeof(p->what));
		return -ENOSPC;
	}
	b = blocked_by(blocked, s, e);
	if (b) {
		p->why = RESMEM_PLAN_AT_IN_USE;
		p->where = b->s > s ? b->s : s;
		rm_strlcpy(p->what, b->what, sizeof(p->what));
		return -ENOSPC;
	}
	place(p, runs, s, req->size);
	return 0;
}

int resmem_plan_make(const struct resmem_fwmap *fw, size_t n_fw,
		     const struct resmem_iomem *io, size_t n_io,
		     const struct resmem_plan_req *req, struct resmem_plan *p)
{
	struct spans runs = { 0 }, blocked = { 0 };
	uint64_t lo, hi, at;
	size_t i;
	int err = 0;

	memset(p, 0, sizeof(*p));
	if (!req->size || req->size % PAGE || !req->count ||
	    req->count > RESMEM_PLAN_MAX)
		return -EINVAL;
	if (req->align &&
	    (req->align < PAGE || (req->align & (req->align - 1))))
		return -EINVAL;
	p->align = req->align ? req->align :
				resmem_plan_default_align(req->size);
	lo = req->above > RESMEM_PLAN_FLOOR ? req->above : RESMEM_PLAN_FLOOR;
	hi = req->below ? req->below : UINT64_MAX;

	for (i = 0; i < n_fw; i++)
		if (!strcasecmp(fw[i].type, "System RAM"))
			p->fw_ram += fw[i].end - fw[i].start + 1;
	err = ram_runs(fw, n_fw, &runs);
	find_kernel(io, n_io, req->kaslr, p);
	for (i = 0; !err && i < n_io; i++) {
		if (!in_use(&io[i], p))
			continue;
		err = spans_add(&blocked, io[i].start, end_of(io[i].end),
				io[i].name);
		if (!err && p->n_avoided < 4)
			rm_strlcpy(p->avoided[p->n_avoided++], io[i].name,
				   sizeof(p->avoided[0]));
	}
	if (err)
		goto out;

	if (req->have_at) {
		err = check_at(fw, n_fw, &runs, &blocked, req, lo, hi, p);
		goto out;
	}
	while (p->n < req->count) {
		int found = 0;

		for (i = 0; i < runs.n && !found; i++) {
			uint64_t s = runs.v[i].s > lo ? runs.v[i].s : lo;
			uint64_t e = runs.v[i].e < hi ? runs.v[i].e : hi;

			found = s < e && first_fit(s, e, req->size, p->align,
						   &blocked, &at);
		}
		if (!found)
			break;
		place(p, &runs, at, req->size);
		/* keep the next region one page away so the two do not merge */
		err = spans_add(&blocked, at >= PAGE ? at - PAGE : 0,
				at + req->size <= UINT64_MAX - PAGE ?
					at + req->size + PAGE :
					UINT64_MAX,
				"another planned region");
		if (err)
			goto out;
	}
	for (i = 0; i < runs.n; i++) {
		uint64_t s = runs.v[i].s > lo ? runs.v[i].s : lo;
		uint64_t e = runs.v[i].e < hi ? runs.v[i].e : hi;
		uint64_t l = s < e ? largest_free(s, e, p->align, &blocked) : 0;

		if (l > p->largest)
			p->largest = l;
	}
	if (p->n < req->count) {
		p->why = p->n ? RESMEM_PLAN_FEWER : RESMEM_PLAN_NO_FIT;
		err = -ENOSPC;
	}
out:
	free(runs.v);
	free(blocked.v);
	return err;
}
