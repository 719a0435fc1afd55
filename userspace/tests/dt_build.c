// SPDX-License-Identifier: GPL-2.0
/* Hand-made device trees for the dt tests, written with fdt_create() & co. */
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "dt_build.h"

static int put_reg(uint8_t *p, uint64_t addr, int ac, uint64_t size, int sc)
{
	int i, n = 0;

	for (i = ac - 1; i >= 0; i--)
		for (int b = 3; b >= 0; b--)
			p[n++] = (uint8_t)(addr >> (32 * i + 8 * b));
	for (i = sc - 1; i >= 0; i--)
		for (int b = 3; b >= 0; b--)
			p[n++] = (uint8_t)(size >> (32 * i + 8 * b));
	return n;
}

#define TRY(x) do { int e_ = (x); if (e_) return e_; } while (0)

int build_tree(void *buf, int cap, const struct tree *t)
{
	char name[64];
	uint8_t reg[32];
	int i, n;

	TRY(fdt_create(buf, cap));
	for (i = 0; i < t->n_rsv; i++)
		TRY(fdt_add_reservemap_entry(buf, t->rsv[i][0], t->rsv[i][1]));
	TRY(fdt_finish_reservemap(buf));
	TRY(fdt_begin_node(buf, ""));
	if (t->root_ac)
		TRY(fdt_property_u32(buf, "#address-cells", (uint32_t)t->root_ac));
	if (t->root_sc)
		TRY(fdt_property_u32(buf, "#size-cells", (uint32_t)t->root_sc));
	TRY(fdt_property_string(buf, "compatible", "resmem,test"));
	for (i = 0; i < t->n_mem; i++) {
		snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)t->mem[i][0]);
		TRY(fdt_begin_node(buf, name));
		TRY(fdt_property_string(buf, "device_type", "memory"));
		n = put_reg(reg, t->mem[i][0], t->root_ac ? t->root_ac : 1, t->mem[i][1],
			    t->root_sc ? t->root_sc : 1);
		TRY(fdt_property(buf, "reg", reg, n));
		TRY(fdt_end_node(buf));
	}
	if (t->parent) {
		TRY(fdt_begin_node(buf, "reserved-memory"));
		if (t->pac)
			TRY(fdt_property_u32(buf, "#address-cells", (uint32_t)t->pac));
		if (t->psc)
			TRY(fdt_property_u32(buf, "#size-cells", (uint32_t)t->psc));
		if (t->ranges)
			TRY(fdt_property(buf, "ranges", NULL, 0));
		for (i = 0; i < t->n_kids; i++) {
			const struct kid *k = &t->kids[i];

			snprintf(name, sizeof(name), "%s@%llx", k->name, (unsigned long long)k->addr);
			TRY(fdt_begin_node(buf, name));
			if (k->ac && !(k->flags & KID_SIZE_PROP)) {
				n = put_reg(reg, k->addr, k->ac, k->size, k->sc);
				TRY(fdt_property(buf, "reg", reg, n));
			}
			if (k->flags & KID_SIZE_PROP) {
				n = put_reg(reg, 0, 0, k->size, k->sc);
				TRY(fdt_property(buf, "size", reg, n));
			}
			if (k->flags & KID_NOMAP)
				TRY(fdt_property(buf, "no-map", NULL, 0));
			if (k->flags & KID_REUSABLE)
				TRY(fdt_property(buf, "reusable", NULL, 0));
			if (k->flags & KID_DISABLED)
				TRY(fdt_property_string(buf, "status", "disabled"));
			if (k->flags & KID_RESMEM)
				TRY(fdt_property_string(buf, "compatible", "resmem,region"));
			if (k->phandle)
				TRY(fdt_property_u32(buf, "phandle", k->phandle));
			TRY(fdt_end_node(buf));
		}
		TRY(fdt_end_node(buf));
	}
	if (t->n_users) {
		uint32_t ph[8];

		for (i = 0; i < t->n_users && i < 8; i++)
			ph[i] = cpu_to_fdt32(t->users[i]);
		TRY(fdt_begin_node(buf, "dev"));
		/* a string list: the binding allows other strings around ours */
		TRY(fdt_property(buf, "compatible", "acme,grabber\0resmem,region", 27));
		TRY(fdt_property(buf, "memory-region", ph, 4 * i));
		TRY(fdt_end_node(buf));
	}
	TRY(fdt_end_node(buf));
	TRY(fdt_finish(buf));
	return (int)fdt_totalsize(buf);
}
