/* SPDX-License-Identifier: GPL-2.0 */
/* resmem check, device-tree part: what became of each resmem node. */
#ifndef RESMEM_CHECK_DT_H
#define RESMEM_CHECK_DT_H

#include <stddef.h>
#include <stdio.h>

#include "libresmem.h"
#include "resmem_dt.h"

enum check_dt_fate {
	CHECK_DT_CLAIMED, /* /dev/resmem/NAME exists for exactly this range */
	CHECK_DT_REFUSED, /* Linux or the resmem driver refuses the node */
	CHECK_DT_NOT_RESERVED, /* /proc/iomem shows no reservation there */
	CHECK_DT_NAME_ELSEWHERE, /* /dev/resmem/NAME is another range */
	CHECK_DT_UNLOADED, /* fine, but the module is not loaded */
	CHECK_DT_NOT_BOUND, /* loaded, fine, yet no /dev/resmem/NAME */
	CHECK_DT_UNKNOWN, /* /proc/iomem shows zeros (not root) */
};

/* What check knows of the running system. */
struct check_dt_sys {
	const struct resmem_iomem *iomem;
	size_t n_iomem;
	int iomem_zeroed;
	const struct resmem_region_info *regions;
	size_t n_regions;
	int module_loaded;
};

/* One resmem node's fate and the evidence for it. */
struct check_dt_node {
	const struct resmem_dt_region *r;
	enum check_dt_fate fate;
	const struct resmem_region_info *region; /* CLAIMED, NAME_ELSEWHERE */
	char seen[64]; /* NOT_RESERVED: the /proc/iomem entry there, or "" */
};

/*
 * check_dt_load - read and scan the device tree at @path into @v.  Returns
 * 1 with the tree, 0 when there is none (@path missing and not @explicit),
 * -1 (message printed) when it cannot be read.
 */
int check_dt_load(const char *path, int explicit, struct resmem_dt_view *v);

/* Is @r a node the resmem driver binds? */
int check_dt_is_resmem(const struct resmem_dt_region *r);

/* The fate of the resmem node @r on @sys. */
void check_dt_judge(const struct resmem_dt_region *r,
		    const struct check_dt_sys *sys, struct check_dt_node *out);

/* Is that fate a problem (counted in check's total)? */
int check_dt_is_problem(enum check_dt_fate fate);

/* The fate as a JSON word ("claimed", "refused", ...). */
const char *check_dt_fate_word(enum check_dt_fate fate);

/* Text report of every resmem node of @v; returns the problems found. */
int check_dt_report(const char *path, const struct resmem_dt_view *v,
		    const struct check_dt_sys *sys);

/* "devicetree": {...} member of check --json (@v NULL: no tree). */
int check_dt_json(FILE *f, const char *path, const struct resmem_dt_view *v,
		  const struct check_dt_sys *sys);

#endif
