/* SPDX-License-Identifier: GPL-2.0 */
/* Hand-made device trees for the dt tests (libfdt's sequential-write API). */
#ifndef RESMEM_TEST_DT_BUILD_H
#define RESMEM_TEST_DT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#define KID_NOMAP	(1u << 0)
#define KID_REUSABLE	(1u << 1)
#define KID_DISABLED	(1u << 2)
#define KID_SIZE_PROP	(1u << 3)	/* "size" instead of "reg" (dynamic) */
#define KID_RESMEM	(1u << 4)	/* compatible = "resmem,region" */

struct kid {
	const char *name;
	uint64_t addr, size;
	int ac, sc;			/* cells used to encode reg; 0: no reg at all */
	unsigned flags;
	uint32_t phandle;		/* 0: none */
};

struct tree {
	int root_ac, root_sc;		/* 0: property left out */
	const uint64_t (*mem)[2];	/* one /memory node per entry, root cells */
	int n_mem;
	const uint64_t (*rsv)[2];	/* /memreserve/ entries */
	int n_rsv;
	int parent;			/* a /reserved-memory node */
	int pac, psc;			/* its cells (0: left out) */
	int ranges;
	const struct kid *kids;
	int n_kids;
	const uint32_t *users;		/* a resmem,region device node /dev with memory-region */
	int n_users;
};

struct test_env;
/* test_dt_malformed.c: truncated and corrupt blobs, through the library and the CLI. */
void test_dt_malformed(const struct test_env *env);

/* Builds the tree into @buf; returns its size, or a negative libfdt error. */
int build_tree(void *buf, int cap, const struct tree *t);

#endif
