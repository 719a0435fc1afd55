// SPDX-License-Identifier: GPL-2.0
/*
 * What the resmem driver refuses in the nodes it binds, judged on a scanned
 * tree (module/of.c, validate.c validate_dt(), registry.c), with the rule
 * said the way the driver's log line says it.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "resmem_dt.h"

static int cache_known(const char *c)
{
	return !strcmp(c, "write-back") || !strcmp(c, "write-combine") ||
	       !strcmp(c, "uncached");
}

void rm_dt_judge_driver(struct resmem_dt_view *v)
{
	size_t i, j;

	for (i = 0; i < v->n_reg; i++) {
		struct resmem_dt_region *r = &v->reg[i];

		if (!(r->flags & (RESMEM_DT_F_RESMEM | RESMEM_DT_F_BOUND)) ||
		    (r->flags & RESMEM_DT_F_MEMRESERVE))
			continue;
		if (r->flags & RESMEM_DT_F_REUSABLE)
			r->problems |= RESMEM_DT_P_REUSABLE;
		if (r->cache[0] && !cache_known(r->cache))
			r->problems |= RESMEM_DT_P_CACHE_BAD;
		else if (r->cache[0] && strcmp(r->cache, "write-back") &&
			 !(r->flags & RESMEM_DT_F_NO_MAP))
			r->problems |= RESMEM_DT_P_CACHE_NEEDS_NO_MAP;
	}
	/* A refused node never takes its name; the first accepted one does. */
	for (i = 0; i < v->n_reg; i++) {
		struct resmem_dt_region *r = &v->reg[i];

		if (!r->name[0] || (r->problems & RESMEM_DT_P_NAME))
			continue;
		for (j = 0; j < i; j++) {
			const struct resmem_dt_region *o = &v->reg[j];

			if (o->problems || strcmp(o->name, r->name))
				continue;
			r->problems |= RESMEM_DT_P_NAME_TAKEN;
			rm_strlcpy(r->name_owner, o->path,
				   sizeof(r->name_owner));
			break;
		}
	}
}

void resmem_dt_driver_why(const struct resmem_dt_region *r, uint32_t bit,
			  char *buf, size_t len)
{
	switch (bit) {
	case RESMEM_DT_P_REUSABLE:
		snprintf(
			buf, len,
			"the driver refuses it: node is 'reusable': the kernel lends that memory to the page allocator (CMA), "
			"so it is not resmem's to hand out; remove 'reusable' from the node");
		break;
	case RESMEM_DT_P_CACHE_NEEDS_NO_MAP:
		snprintf(
			buf, len,
			"the driver refuses it: %s needs no-map: without it the region stays in the kernel's write-back "
			"linear map and a second, %s mapping would alias it; add no-map to the node or use "
			"resmem,cache = \"write-back\"",
			r->cache, r->cache);
		break;
	case RESMEM_DT_P_CACHE_BAD:
		snprintf(
			buf, len,
			"the driver refuses it: resmem,cache = \"%s\" is not \"write-back\", \"write-combine\" or "
			"\"uncached\"",
			r->cache);
		break;
	case RESMEM_DT_P_NAME:
		snprintf(
			buf, len,
			"the driver refuses it: region name '%s' (from label, node name or memory-region-names) is not "
			"1-%d characters from [A-Za-z0-9_.+-] not starting with '.'; set label to such a name",
			r->name, RESMEM_DT_NAME_MAX - 1);
		break;
	case RESMEM_DT_P_NAME_TAKEN:
		snprintf(
			buf, len,
			"the driver refuses it: the name %s is taken by another region (%s); give each region its own "
			"name (label)",
			r->name, r->name_owner);
		break;
	default:
		snprintf(buf, len, "%s", resmem_dt_problem_name(bit));
	}
}
