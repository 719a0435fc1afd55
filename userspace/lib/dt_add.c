// SPDX-License-Identifier: GPL-2.0
/*
 * Add a /reserved-memory child to a device tree, refusing what Linux would
 * refuse or silently get wrong: overlaps, ranges outside RAM, addresses that
 * do not fit the cells, a parent Linux ignores.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "internal.h"
#include "resmem_dt.h"

static int refuse(struct resmem_dt_refusal *why,
		  enum resmem_dt_refusal_kind kind, int err)
{
	why->kind = kind;
	return err;
}

/* Node-name characters of the devicetree spec, at most 31 of them. */
static int valid_name(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 31)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,._+-",
			    s[i]))
			return 0;
	return 1;
}

static int check_request(const struct resmem_dt_new *n,
			 struct resmem_dt_refusal *why)
{
	const char *bad = NULL;

	if (!n->name || !valid_name(n->name))
		bad = "node name: 1-31 characters of a-z A-Z 0-9 , . _ + -";
	else if (!n->size)
		bad = "size 0";
	else if (n->addr + n->size < n->addr && n->addr + n->size != 0)
		bad = "address + size wraps past 2^64";
	else if ((n->addr | n->size) & 4095)
		bad = "address and size must be multiples of 4 KiB (resmem maps whole pages)";
	else if (n->no_map && n->reusable)
		bad = "no-map and reusable exclude each other (Linux refuses the region)";
	if (!bad)
		return 0;
	rm_strlcpy(why->detail, bad, sizeof(why->detail));
	return refuse(why, RESMEM_DT_BAD_REQUEST, -EINVAL);
}

/* The request against the tree: cells, RAM, other reservations, names. */
static int check_tree(const void *fdt, const struct resmem_dt_view *v,
		      const struct resmem_dt_new *n, const char *full, int ac,
		      int sc, struct resmem_dt_refusal *why)
{
	uint64_t last = n->addr + (n->size - 1);
	size_t i;

	why->ac = ac;
	why->sc = sc;
	if (ac < 1 || ac > 2 || sc < 1 || sc > 2)
		return refuse(why, RESMEM_DT_TOO_WIDE, -EOVERFLOW);
	if ((ac == 1 && last > 0xffffffffULL) ||
	    (sc == 1 && n->size > 0xffffffffULL))
		return refuse(why, RESMEM_DT_TOO_WIDE, -EOVERFLOW);
	if (v->parent >= 0 && fdt_subnode_offset(fdt, v->parent, full) >= 0) {
		snprintf(why->other, sizeof(why->other), "/reserved-memory/%s",
			 full);
		return refuse(why, RESMEM_DT_EXISTS, -EEXIST);
	}
	if (!v->n_mem)
		return refuse(why, RESMEM_DT_NO_MEMORY, -ERANGE);
	for (i = 0; i < v->n_mem; i++) {
		uint64_t mlast = v->mem[i].start + (v->mem[i].size - 1);

		if (n->addr >= v->mem[i].start && n->addr <= mlast &&
		    last <= mlast)
			break;
	}
	if (i == v->n_mem) {
		/* name the /memory range the request touches, else the nearest below */
		const struct resmem_dt_range *near = &v->mem[0];

		for (i = 0; i < v->n_mem; i++) {
			uint64_t mlast = v->mem[i].start + (v->mem[i].size - 1);

			if (n->addr <= mlast && v->mem[i].start <= last) {
				near = &v->mem[i];
				break;
			}
			if (v->mem[i].start <= n->addr)
				near = &v->mem[i];
		}
		rm_strlcpy(why->other, near->node, sizeof(why->other));
		why->other_addr = near->start;
		why->other_size = near->size;
		return refuse(why, RESMEM_DT_OUTSIDE, -ERANGE);
	}
	for (i = 0; i < v->n_reg; i++) {
		const struct resmem_dt_region *r = &v->reg[i];

		if (r->problems & (RESMEM_DT_P_NO_REG | RESMEM_DT_P_REG_CELLS |
				   RESMEM_DT_P_SIZE_ZERO | RESMEM_DT_P_WRAPS) ||
		    (r->flags & RESMEM_DT_F_DYNAMIC))
			continue;
		if (n->addr <= r->addr + (r->size - 1) && r->addr <= last) {
			rm_strlcpy(why->other, r->path, sizeof(why->other));
			why->other_addr = r->addr;
			why->other_size = r->size;
			return refuse(why, RESMEM_DT_OVERLAP, -EBUSY);
		}
	}
	return 0;
}

static void put_cells(uint8_t *p, uint64_t v, int cells)
{
	int i;

	for (i = cells * 4 - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The edit itself, on a tree opened with room; libfdt error or 0. */
static int edit(void *fdt, const struct resmem_dt_new *n, const char *full,
		int ac, int sc)
{
	uint8_t reg[16];
	int parent, node, err;

	parent = fdt_path_offset(fdt, "/reserved-memory");
	if (parent == -FDT_ERR_NOTFOUND) {
		parent = fdt_add_subnode(fdt, 0, "reserved-memory");
		if (parent < 0)
			return parent;
		err = fdt_setprop_u32(fdt, parent, "#address-cells",
				      (uint32_t)ac);
		if (!err)
			err = fdt_setprop_u32(fdt, parent, "#size-cells",
					      (uint32_t)sc);
		if (!err)
			err = fdt_setprop(fdt, parent, "ranges", NULL, 0);
		if (err)
			return err;
	} else if (parent < 0) {
		return parent;
	}
	node = fdt_add_subnode(fdt, parent, full);
	if (node < 0)
		return node;
	put_cells(reg, n->addr, ac);
	put_cells(reg + 4 * ac, n->size, sc);
	err = fdt_setprop(fdt, node, "reg", reg, 4 * (ac + sc));
	if (!err && n->no_map)
		err = fdt_setprop(fdt, node, "no-map", NULL, 0);
	if (!err && n->reusable)
		err = fdt_setprop(fdt, node, "reusable", NULL, 0);
	if (!err && n->compatible)
		err = fdt_setprop_string(fdt, node, "compatible",
					 n->compatible);
	if (!err && n->label)
		err = fdt_setprop_string(fdt, node, "label", n->label);
	if (!err && n->cache)
		err = fdt_setprop_string(fdt, node, "resmem,cache", n->cache);
	return err;
}

/* The new node @full of @fdt as resmem_dt_scan() judges it: driver rules. */
static int check_driver(const void *fdt, size_t len, const char *full,
			struct resmem_dt_refusal *why)
{
	struct resmem_dt_view v;
	char path[192];
	size_t i;
	int err;

	err = resmem_dt_scan(fdt, len, &v, &why->fdt_err);
	if (err)
		return refuse(why, RESMEM_DT_MALFORMED, err);
	snprintf(path, sizeof(path), "/reserved-memory/%s", full);
	for (i = 0; i < v.n_reg && !err; i++) {
		const struct resmem_dt_region *r = &v.reg[i];

		if (!strcmp(r->path, path) &&
		    (r->problems & RESMEM_DT_P_DRIVER)) {
			why->node = *r;
			err = refuse(why, RESMEM_DT_DRIVER, -EPERM);
		}
	}
	/* The new node comes first: it would take an existing node's name. */
	for (i = 0; i < v.n_reg && !err; i++) {
		const struct resmem_dt_region *r = &v.reg[i];

		if (!(r->problems & RESMEM_DT_P_NAME_TAKEN) ||
		    strcmp(r->name_owner, path))
			continue;
		why->node.problems = RESMEM_DT_P_NAME_TAKEN;
		rm_strlcpy(why->node.path, path, sizeof(why->node.path));
		rm_strlcpy(why->node.name, r->name, sizeof(why->node.name));
		rm_strlcpy(why->node.name_owner, r->path,
			   sizeof(why->node.name_owner));
		err = refuse(why, RESMEM_DT_DRIVER, -EPERM);
	}
	resmem_dt_view_free(&v);
	return err;
}

int resmem_dt_add(const void *blob, size_t len, const struct resmem_dt_new *n,
		  void **out, size_t *out_len, struct resmem_dt_refusal *why)
{
	struct resmem_dt_view v;
	char full[64];
	size_t room;
	int err, ac, sc, tries;

	memset(why, 0, sizeof(*why));
	err = check_request(n, why);
	if (err)
		return err;
	err = resmem_dt_scan(blob, len, &v, &why->fdt_err);
	if (err)
		return refuse(why,
			      err == -EINVAL ? RESMEM_DT_MALFORMED :
					       RESMEM_DT_OK,
			      err);
	if (v.parent >= 0 && v.parent_problems) {
		why->parent_problems = v.parent_problems;
		why->ac = v.ac;
		why->sc = v.sc;
		resmem_dt_view_free(&v);
		return refuse(why, RESMEM_DT_BAD_PARENT, -ENOTSUP);
	}
	/* A new parent copies the root's cells: Linux ignores it otherwise. */
	ac = v.parent >= 0 ? v.ac : v.root_ac;
	sc = v.parent >= 0 ? v.sc : v.root_sc;
	snprintf(full, sizeof(full), "%s@%llx", n->name,
		 (unsigned long long)n->addr);
	err = check_tree(blob, &v, n, full, ac, sc, why);
	resmem_dt_view_free(&v);
	if (err)
		return err;

	room = len + 512 + strlen(full) +
	       (n->compatible ? strlen(n->compatible) : 0) +
	       (n->label ? strlen(n->label) : 0);
	for (tries = 0; tries < 8; tries++, room *= 2) {
		void *buf = malloc(room);

		if (!buf)
			return -ENOMEM;
		err = fdt_open_into(blob, buf, (int)room);
		if (!err)
			err = edit(buf, n, full, ac, sc);
		if (!err)
			err = fdt_pack(buf);
		if (!err) {
			err = check_driver(buf, fdt_totalsize(buf), full, why);
			if (err) {
				free(buf);
				return err;
			}
			*out = buf;
			*out_len = fdt_totalsize(buf);
			return 0;
		}
		free(buf);
		if (err != -FDT_ERR_NOSPACE)
			break;
	}
	why->fdt_err = -err;
	return refuse(why, RESMEM_DT_MALFORMED, -EINVAL);
}
