// SPDX-License-Identifier: GPL-2.0
/*
 * The reservations of a device tree and whether each can be used: the
 * /memory ranges, the /memreserve/ entries, the children of
 * /reserved-memory, judged as Linux's early code (drivers/of/fdt.c,
 * of_reserved_mem.c) and resmem would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "internal.h"
#include "resmem_dt.h"

/* fdt_getprop() with *len = -1 and NULL when absent. */
static const void *dt_prop(const void *fdt, int node, const char *name,
			   int *len)
{
	const void *p = fdt_getprop(fdt, node, name, len);

	if (!p || *len < 0) {
		*len = -1;
		return NULL;
	}
	return p;
}

/* The property is the NUL-terminated string @want. */
static int dt_prop_is(const void *fdt, int node, const char *name,
		      const char *want)
{
	int len;
	const char *p = dt_prop(fdt, node, name, &len);
	size_t n = strlen(want);

	return p && (size_t)len >= n + 1 && !memcmp(p, want, n + 1);
}

/* First string of a property into @buf ("" when absent), bounded by its length. */
static void dt_prop_str(const void *fdt, int node, const char *name, char *buf,
			size_t size)
{
	int len;
	const char *p = dt_prop(fdt, node, name, &len);
	size_t n = 0;

	if (p)
		while (n < (size_t)len && n + 1 < size && p[n])
			n++;
	if (p && n)
		memcpy(buf, p, n);
	buf[n] = '\0';
}

/* Big-endian value of @cells 32-bit cells (cells <= 2). */
static uint64_t dt_read_cells(const uint8_t *p, int cells)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < cells * 4; i++)
		v = (v << 8) | p[i];
	return v;
}

/* A one-cell property (#address-cells): @dflt when absent, -1 when not 4 bytes. */
static int dt_cells(const void *fdt, int node, const char *name, int dflt)
{
	int len;
	const uint8_t *p = dt_prop(fdt, node, name, &len);

	if (!p)
		return dflt;
	if (len != 4)
		return -1;
	return (int)dt_read_cells(p, 1) > 8 ? 9 : (int)dt_read_cells(p, 1);
}

/* status absent, "okay" or "ok". */
static int dt_available(const void *fdt, int node)
{
	int len;
	const char *s = dt_prop(fdt, node, "status", &len);

	return !s || (len >= 5 && !memcmp(s, "okay", 5)) ||
	       (len >= 3 && !memcmp(s, "ok", 3));
}

static const char *dt_name(const void *fdt, int node)
{
	const char *n = fdt_get_name(fdt, node, NULL);

	return n ? n : "?";
}

static int cmp_range(const void *a, const void *b)
{
	const struct resmem_dt_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* RAM as Linux sees it: root children with device_type "memory", root cells. */
static int scan_memory(const void *fdt, struct resmem_dt_view *v)
{
	size_t cap = 0, i, j;
	int node, ent = (v->root_ac + v->root_sc) * 4;

	if (v->root_ac < 1 || v->root_ac > 2 || v->root_sc < 1 ||
	    v->root_sc > 2)
		return 0; /* not representable in 64 bits: treat as no RAM known */
	fdt_for_each_subnode(node, fdt, 0)
	{
		const uint8_t *reg;
		int len, k;

		if (!dt_prop_is(fdt, node, "device_type", "memory") ||
		    !dt_available(fdt, node))
			continue;
		reg = dt_prop(fdt, node, "linux,usable-memory", &len);
		if (!reg)
			reg = dt_prop(fdt, node, "reg", &len);
		if (!reg)
			continue;
		for (k = 0; k + ent <= len; k += ent) {
			struct resmem_dt_range *r;
			uint64_t a = dt_read_cells(reg + k, v->root_ac);
			uint64_t s = dt_read_cells(reg + k + 4 * v->root_ac,
						   v->root_sc);

			if (!s)
				continue;
			if (a + s < a)
				s = -a; /* clamp at the top of the address space */
			if (rm_grow((void **)&v->mem, &cap, v->n_mem,
				    sizeof(*v->mem)))
				return -ENOMEM;
			r = &v->mem[v->n_mem++];
			r->start = a;
			r->size = s;
			rm_strlcpy(r->node, dt_name(fdt, node),
				   sizeof(r->node));
		}
	}
	if (!v->n_mem)
		return 0;
	qsort(v->mem, v->n_mem, sizeof(*v->mem), cmp_range);
	for (i = 1, j = 0; i < v->n_mem; i++) {
		struct resmem_dt_range *a = &v->mem[j], *b = &v->mem[i];
		uint64_t aend = a->start + a->size; /* may be 0 at 2^64 */

		if (aend == 0 || b->start <= aend) {
			uint64_t bend = b->start + b->size;

			if (aend != 0 && (bend == 0 || bend > aend))
				a->size = bend - a->start;
		} else {
			v->mem[++j] = *b;
		}
	}
	v->n_mem = j + 1;
	return 0;
}

static struct resmem_dt_region *new_region(struct resmem_dt_view *v,
					   size_t *cap)
{
	struct resmem_dt_region *r;

	if (rm_grow((void **)&v->reg, cap, v->n_reg, sizeof(*v->reg)))
		return NULL;
	r = &v->reg[v->n_reg++];
	memset(r, 0, sizeof(*r));
	r->overlap = -1;
	r->reg_len = -1;
	return r;
}

static void node_path(const void *fdt, int node, char *buf, size_t len)
{
	if (fdt_get_path(fdt, node, buf, (int)len) < 0)
		rm_strlcpy(buf, dt_name(fdt, node), len);
}

/* A child's path from its parent's, found once: fdt_get_path() walks the
 * tree from its start, so calling it per child made a scan quadratic. */
static void child_path(const void *fdt, const char *parent, int node, char *buf,
		       size_t len)
{
	const char *name = dt_name(fdt, node);

	if (!parent || snprintf(buf, len, "%s/%s", parent, name) >= (int)len)
		node_path(fdt, node, buf, len);
}

static int scan_memreserve(const void *fdt, struct resmem_dt_view *v,
			   size_t *cap, int *fdt_err)
{
	int i, n = fdt_num_mem_rsv(fdt);

	if (n < 0) {
		*fdt_err = -n;
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		struct resmem_dt_region *r;
		uint64_t a, s;
		int err = fdt_get_mem_rsv(fdt, i, &a, &s);

		if (err) {
			*fdt_err = -err;
			return -EINVAL;
		}
		r = new_region(v, cap);
		if (!r)
			return -ENOMEM;
		rm_strlcpy(r->path, "/memreserve/", sizeof(r->path));
		r->addr = a;
		r->size = s;
		r->nreg = 1;
		r->flags = RESMEM_DT_F_MEMRESERVE;
		if (!s)
			r->problems |= RESMEM_DT_P_SIZE_ZERO;
		else if (a + s < a && a + s != 0)
			r->problems |= RESMEM_DT_P_WRAPS;
	}
	return 0;
}

static void judge_reg(struct resmem_dt_view *v, struct resmem_dt_region *r,
		      const uint8_t *reg)
{
	int ent = (v->ac + v->sc) * 4;
	size_t i;

	if (v->parent_problems &
		    (RESMEM_DT_PP_CELLS | RESMEM_DT_PP_BIG_CELLS) ||
	    v->ac < 1 || v->sc < 1) {
		r->problems |= RESMEM_DT_P_PARENT;
		return;
	}
	if (r->reg_len < ent || r->reg_len % ent) {
		r->problems |= RESMEM_DT_P_REG_CELLS;
		return;
	}
	r->nreg = r->reg_len / ent;
	r->addr = dt_read_cells(reg, v->ac);
	r->size = dt_read_cells(reg + 4 * v->ac, v->sc);
	if (!r->size) {
		r->problems |= RESMEM_DT_P_SIZE_ZERO;
		return;
	}
	if (r->addr + r->size < r->addr && r->addr + r->size != 0) {
		r->problems |= RESMEM_DT_P_WRAPS;
		return;
	}
	if ((r->addr | r->size) & 4095)
		r->problems |= RESMEM_DT_P_UNALIGNED;
	if (!v->n_mem)
		return; /* RAM unknown (e.g. UEFI): cannot judge */
	for (i = 0; i < v->n_mem; i++) {
		uint64_t mend = v->mem[i].start + v->mem[i].size - 1;

		if (r->addr >= v->mem[i].start && r->addr <= mend &&
		    r->size - 1 <= mend - r->addr)
			return;
	}
	r->problems |= RESMEM_DT_P_OUTSIDE;
}

/*
 * The region name the driver gives the /reserved-memory child @node, found
 * itself (@owner NULL) or through entry @idx of @count of @owner's
 * memory-region; a child the driver cannot name gets RESMEM_DT_P_NAME.
 */
static void name_region(const void *fdt, int node, struct resmem_dt_region *r,
			const struct resmem_dt_naming *owner)
{
	struct resmem_dt_naming n = { .node_name = dt_name(fdt, node) };
	char label[RESMEM_DT_NAME_MAX + 16];
	int len;

	if (owner)
		n = *owner;
	n.node_name = dt_name(fdt, node);
	n.label = NULL;
	if (dt_prop(fdt, node, "label", &len)) {
		dt_prop_str(fdt, node, "label", label, sizeof(label));
		n.label = label;
	}
	if (!resmem_dt_region_name(&n, r->name, sizeof(r->name)))
		r->problems |= RESMEM_DT_P_NAME;
}

static int scan_children(const void *fdt, struct resmem_dt_view *v, size_t *cap,
			 int *fdt_err)
{
	char parent[sizeof(v->reg[0].path)];
	int node, has_parent_path;

	has_parent_path =
		fdt_get_path(fdt, v->parent, parent, sizeof(parent)) == 0;
	fdt_for_each_subnode(node, fdt, v->parent)
	{
		struct resmem_dt_region *r = new_region(v, cap);
		const uint8_t *reg;
		int len;

		if (!r)
			return -ENOMEM;
		child_path(fdt, has_parent_path ? parent : NULL, node, r->path,
			   sizeof(r->path));
		dt_prop_str(fdt, node, "compatible", r->compatible,
			    sizeof(r->compatible));
		dt_prop_str(fdt, node, "label", r->label, sizeof(r->label));
		dt_prop_str(fdt, node, "resmem,cache", r->cache,
			    sizeof(r->cache));
		if (dt_prop(fdt, node, "no-map", &len))
			r->flags |= RESMEM_DT_F_NO_MAP;
		if (dt_prop(fdt, node, "reusable", &len))
			r->flags |= RESMEM_DT_F_REUSABLE;
		reg = dt_prop(fdt, node, "compatible", &len);
		if (reg && fdt_stringlist_contains((const char *)reg, len,
						   RESMEM_DT_COMPATIBLE))
			r->flags |= RESMEM_DT_F_RESMEM;
		if ((r->flags & RESMEM_DT_F_NO_MAP) &&
		    (r->flags & RESMEM_DT_F_REUSABLE))
			r->problems |= RESMEM_DT_P_NOMAP_REUSABLE;
		if (!dt_available(fdt, node))
			r->problems |= RESMEM_DT_P_DISABLED;
		if (r->flags & RESMEM_DT_F_RESMEM)
			name_region(fdt, node, r, NULL);
		reg = dt_prop(fdt, node, "reg", &r->reg_len);
		if (reg) {
			judge_reg(v, r, reg);
		} else if (dt_prop(fdt, node, "size", &len)) {
			r->flags |= RESMEM_DT_F_DYNAMIC;
			if (len == 4 * v->sc && v->sc >= 1 && v->sc <= 2)
				r->size = dt_read_cells(dt_prop(fdt, node,
								"size", &len),
							v->sc);
		} else {
			r->problems |= RESMEM_DT_P_NO_REG;
		}
		if (v->parent_problems)
			r->problems |= RESMEM_DT_P_PARENT;
	}
	if (node < 0 && node != -FDT_ERR_NOTFOUND) {
		*fdt_err = -node;
		return -EINVAL;
	}
	return 0;
}

/* Usable fixed ranges overlapping each other: mark both. */
static void find_overlaps(struct resmem_dt_view *v)
{
	const uint32_t bad = RESMEM_DT_P_NO_REG | RESMEM_DT_P_REG_CELLS |
			     RESMEM_DT_P_SIZE_ZERO | RESMEM_DT_P_WRAPS |
			     RESMEM_DT_P_PARENT;
	size_t i, j;

	for (i = 0; i < v->n_reg; i++) {
		struct resmem_dt_region *a = &v->reg[i];

		if ((a->problems & bad) || (a->flags & RESMEM_DT_F_DYNAMIC))
			continue;
		for (j = 0; j < v->n_reg; j++) {
			struct resmem_dt_region *b = &v->reg[j];

			if (i == j || (b->problems & bad) ||
			    (b->flags & RESMEM_DT_F_DYNAMIC))
				continue;
			if (a->addr <= b->addr + (b->size - 1) &&
			    b->addr <= a->addr + (a->size - 1)) {
				a->problems |= RESMEM_DT_P_OVERLAP;
				if (a->overlap < 0)
					a->overlap = (int)j;
			}
		}
	}
}

/* Device nodes with compatible "resmem,region" and memory-region phandles. */
static void find_users(const void *fdt, struct resmem_dt_view *v)
{
	int node = -1, depth = 0;

	while ((node = fdt_next_node(fdt, node, &depth)) >= 0) {
		struct resmem_dt_naming owner = { 0 };
		char label[RESMEM_DT_NAME_MAX + 16], cache[24];
		const uint8_t *ph;
		int len, k;
		const char *c = dt_prop(fdt, node, "compatible", &len);

		if (!c ||
		    !fdt_stringlist_contains(c, len, RESMEM_DT_COMPATIBLE))
			continue;
		ph = dt_prop(fdt, node, "memory-region", &len);
		dt_prop_str(fdt, node, "label", label, sizeof(label));
		dt_prop_str(fdt, node, "resmem,cache", cache, sizeof(cache));
		owner.owned = 1;
		owner.owner_label = dt_prop(fdt, node, "label", &k) ? label :
								      NULL;
		owner.count = len / 4;
		for (k = 0; ph && k + 4 <= len; k += 4) {
			uint32_t want = (uint32_t)dt_read_cells(ph + k, 1);
			size_t i;

			for (i = 0; i < v->n_reg; i++) {
				struct resmem_dt_region *r = &v->reg[i];
				int target;

				if (r->flags & RESMEM_DT_F_MEMRESERVE)
					continue;
				target = fdt_path_offset(fdt, r->path);
				if (target < 0 ||
				    fdt_get_phandle(fdt, target) != want ||
				    !want)
					continue;
				r->flags |= RESMEM_DT_F_BOUND;
				if (r->user[0])
					continue;
				node_path(fdt, node, r->user, sizeof(r->user));
				/* the child's own cache mode wins */
				if (!r->cache[0])
					rm_strlcpy(r->cache, cache,
						   sizeof(r->cache));
				if (r->flags & RESMEM_DT_F_RESMEM)
					continue; /* named as itself */
				owner.idx = k / 4;
				owner.rname = fdt_stringlist_get(
					fdt, node, "memory-region-names",
					owner.idx, NULL);
				name_region(fdt, target, r, &owner);
			}
		}
	}
}

int resmem_dt_scan(const void *blob, size_t len, struct resmem_dt_view *v,
		   int *fdt_err)
{
	size_t cap = 0;
	int err, dummy;

	if (!fdt_err)
		fdt_err = &dummy;
	memset(v, 0, sizeof(*v));
	v->parent = -1;
	err = resmem_dt_check(blob, len, fdt_err);
	if (err)
		return err;
	/* Linux's defaults when the root does not say (OF_ROOT_NODE_*_CELLS_DEFAULT) */
	v->root_ac = dt_cells(blob, 0, "#address-cells", 1);
	v->root_sc = dt_cells(blob, 0, "#size-cells", 1);
	err = scan_memory(blob, v);
	if (!err)
		err = scan_memreserve(blob, v, &cap, fdt_err);
	if (err)
		goto fail;
	v->parent = fdt_path_offset(blob, "/reserved-memory");
	if (v->parent >= 0) {
		v->ac = dt_cells(blob, v->parent, "#address-cells", -1);
		v->sc = dt_cells(blob, v->parent, "#size-cells", -1);
		if (v->ac != v->root_ac || v->sc != v->root_sc)
			v->parent_problems |= RESMEM_DT_PP_CELLS;
		if (v->ac > 2 || v->sc > 2)
			v->parent_problems |= RESMEM_DT_PP_BIG_CELLS;
		if (!dt_prop(blob, v->parent, "ranges", &dummy))
			v->parent_problems |= RESMEM_DT_PP_NO_RANGES;
		err = scan_children(blob, v, &cap, fdt_err);
		if (err)
			goto fail;
	} else {
		v->parent = -1;
	}
	find_overlaps(v);
	find_users(blob, v);
	rm_dt_judge_driver(v);
	return 0;
fail:
	resmem_dt_view_free(v);
	return err;
}

void resmem_dt_view_free(struct resmem_dt_view *v)
{
	free(v->mem);
	free(v->reg);
	v->mem = NULL;
	v->reg = NULL;
	v->n_mem = v->n_reg = 0;
}

const char *resmem_dt_problem_name(uint32_t bit)
{
	switch (bit) {
	case RESMEM_DT_P_NO_REG:
		return "missing reg";
	case RESMEM_DT_P_REG_CELLS:
		return "reg does not match the parent's cells";
	case RESMEM_DT_P_SIZE_ZERO:
		return "size 0";
	case RESMEM_DT_P_WRAPS:
		return "wraps past 2^64";
	case RESMEM_DT_P_OUTSIDE:
		return "outside /memory";
	case RESMEM_DT_P_OVERLAP:
		return "overlaps another reservation";
	case RESMEM_DT_P_NOMAP_REUSABLE:
		return "no-map and reusable together";
	case RESMEM_DT_P_PARENT:
		return "/reserved-memory is ignored";
	case RESMEM_DT_P_UNALIGNED:
		return "not 4 KiB aligned";
	case RESMEM_DT_P_DISABLED:
		return "disabled";
	case RESMEM_DT_P_REUSABLE:
		return "reusable";
	case RESMEM_DT_P_CACHE_NEEDS_NO_MAP:
		return "cache mode needs no-map";
	case RESMEM_DT_P_CACHE_BAD:
		return "unknown resmem,cache";
	case RESMEM_DT_P_NAME:
		return "invalid region name";
	case RESMEM_DT_P_NAME_TAKEN:
		return "region name taken";
	}
	return "unknown problem";
}
