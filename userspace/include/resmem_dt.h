/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libresmem, device-tree part: read, check and extend the /reserved-memory
 * node of a flattened device tree (built on libfdt).
 *
 * Conventions as in libresmem.h: 0 or a negative errno, nothing printed.  When
 * libfdt itself rejects a blob the function returns -EINVAL and stores
 * libfdt's (positive) FDT_ERR_* code in *fdt_err, for fdt_strerror(-code).
 * Every blob is checked with fdt_check_full() against its real length
 * before anything walks it, so truncated or corrupt input is an error, never
 * an out-of-bounds read.
 */
#ifndef RESMEM_DT_H
#define RESMEM_DT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Not installed and not part of libresmem.so's ABI: the CLI and the unit
 * tests link these from libresmem.a, so the shared library keeps them hidden.
 */
#pragma GCC visibility push(hidden)

#define RESMEM_DT_MAX_BLOB (64u << 20) /* larger files are refused (-EFBIG) */
#define RESMEM_DT_COMPATIBLE "resmem,region"
#define RESMEM_DT_LIVE "/sys/firmware/fdt"
#define RESMEM_DT_NAME_MAX 32 /* region names: at most 31 characters */

/*
 * resmem_region_name_ok - the driver's rule for a region (device) name:
 * 1-31 characters from [A-Za-z0-9_.+-], not starting with '.'.
 */
int resmem_region_name_ok(const char *name);

/* What names a /reserved-memory node's region (module/of.c region_name()). */
struct resmem_dt_naming {
	const char *node_name; /* "capture@c0000000" */
	const char *label; /* the node's label, NULL when absent */
	int owned; /* found through another node's memory-region */
	const char *owner_label; /* that node's label, NULL when absent */
	const char *rname; /* its memory-region-names[idx], NULL when absent */
	int idx, count; /* entry idx of its count memory-region entries */
};

/*
 * resmem_dt_region_name - the region name the driver derives, first match:
 * the node's label; for an owned node "<owner label>-<rname>", "<owner
 * label>" (one entry), "<owner label>-<idx>", "<rname>"; else the node name
 * without the unit address.  Writes it to @buf (truncated) and returns 1
 * when the driver accepts it (resmem_region_name_ok()), else 0.
 */
int resmem_dt_region_name(const struct resmem_dt_naming *n, char *buf,
			  size_t len);

/*
 * resmem_dt_check - is [blob, blob + len) a complete, well-formed tree?
 * Returns 0, or -EINVAL with *fdt_err (may be NULL) set.
 */
int resmem_dt_check(const void *blob, size_t len, int *fdt_err);

/*
 * resmem_dt_load - read a .dtb (or /sys/firmware/fdt) into a malloc()ed
 * buffer and resmem_dt_check() it.  Returns 0, -errno of open/read,
 * -EFBIG (over RESMEM_DT_MAX_BLOB), -EINVAL (malformed; *fdt_err set).
 */
int resmem_dt_load(const char *path, void **blob, size_t *len, int *fdt_err);

/* A RAM range from the /memory nodes (merged when adjacent). */
struct resmem_dt_range {
	uint64_t start, size;
	char node[64]; /* the (first) node it came from */
};

/* Region flags: what the node says. */
#define RESMEM_DT_F_NO_MAP (1u << 0) /* no-map */
#define RESMEM_DT_F_REUSABLE (1u << 1) /* reusable (CMA) */
#define RESMEM_DT_F_MEMRESERVE (1u << 2) /* a /memreserve/ entry, not a node */
#define RESMEM_DT_F_DYNAMIC (1u << 3) /* size without reg: placed at boot */
/* compatible = "resmem,region" on the node */
#define RESMEM_DT_F_RESMEM (1u << 4)
/* a resmem,region device node points at it */
#define RESMEM_DT_F_BOUND (1u << 5)

/* Problems: why Linux or resmem cannot use a region (several may be set). */
#define RESMEM_DT_P_NO_REG (1u << 0) /* neither reg nor size */
/* reg length does not fit the parent's cells */
#define RESMEM_DT_P_REG_CELLS (1u << 1)
#define RESMEM_DT_P_SIZE_ZERO (1u << 2)
#define RESMEM_DT_P_WRAPS (1u << 3) /* addr + size beyond 2^64 */
#define RESMEM_DT_P_OUTSIDE (1u << 4) /* not wholly inside one /memory range */
#define RESMEM_DT_P_OVERLAP (1u << 5) /* overlaps another reservation */
#define RESMEM_DT_P_NOMAP_REUSABLE (1u << 6) /* both no-map and reusable */
#define RESMEM_DT_P_PARENT (1u << 7) /* /reserved-memory is ignored by Linux */
#define RESMEM_DT_P_UNALIGNED (1u << 8) /* address or size not 4 KiB aligned */
#define RESMEM_DT_P_DISABLED (1u << 9) /* status is not "okay" */
/*
 * What the resmem driver refuses in a node it binds (module/of.c,
 * validate.c, registry.c); set only on resmem nodes (RESMEM_DT_F_RESMEM or
 * RESMEM_DT_F_BOUND).
 */
#define RESMEM_DT_P_REUSABLE (1u << 10) /* reusable: the kernel lends it out */
/* resmem,cache write-combine/uncached without no-map */
#define RESMEM_DT_P_CACHE_NEEDS_NO_MAP (1u << 11)
#define RESMEM_DT_P_CACHE_BAD (1u << 12) /* resmem,cache not a known mode */
#define RESMEM_DT_P_NAME (1u << 13) /* region name not a valid name */
#define RESMEM_DT_P_NAME_TAKEN \
	(1u << 14) /* another node gets that name first */
#define RESMEM_DT_P_DRIVER                                       \
	(RESMEM_DT_P_REUSABLE | RESMEM_DT_P_CACHE_NEEDS_NO_MAP | \
	 RESMEM_DT_P_CACHE_BAD | RESMEM_DT_P_NAME | RESMEM_DT_P_NAME_TAKEN)

/* Problems of the /reserved-memory node itself (struct resmem_dt_view.parent_problems). */
/* #address/#size-cells missing or not the root's */
#define RESMEM_DT_PP_CELLS (1u << 0)
#define RESMEM_DT_PP_NO_RANGES (1u << 1) /* no ranges property */
/* cells beyond 2: not representable here */
#define RESMEM_DT_PP_BIG_CELLS (1u << 2)

struct resmem_dt_region {
	char path[192]; /* "/reserved-memory/capture@c0000000" or "/memreserve/" */
	uint64_t addr, size; /* first reg entry (or the memreserve entry) */
	int reg_len; /* bytes of reg; -1: no reg property */
	int nreg; /* complete reg entries */
	uint32_t flags; /* RESMEM_DT_F_* */
	uint32_t problems; /* RESMEM_DT_P_* */
	int overlap; /* index of a region it overlaps, or -1 */
	char compatible[64]; /* first compatible string, or "" */
	char label[64];
	char cache[24]; /* resmem,cache, or "" */
	char user[192]; /* a resmem,region device node using it, or "" */
	/* resmem nodes: the region name the driver gives it ("" if none) */
	char name[RESMEM_DT_NAME_MAX + 16];
	char name_owner[192]; /* NAME_TAKEN: the node that gets the name first */
};

struct resmem_dt_view {
	int root_ac, root_sc; /* the root's #address-cells / #size-cells */
	int parent; /* /reserved-memory offset, or -1 */
	int ac, sc; /* its cells, when parent >= 0 */
	uint32_t parent_problems; /* RESMEM_DT_PP_* */
	struct resmem_dt_range *mem; /* sorted, merged */
	size_t n_mem;
	struct resmem_dt_region *reg; /* /memreserve/ entries first, then nodes */
	size_t n_reg;
};

/*
 * resmem_dt_scan - the /memory ranges and every reservation of a checked
 * blob, each judged the way Linux's early reserved-memory code and resmem
 * would.  Returns 0, -ENOMEM, -EINVAL (*fdt_err set).  Free with
 * resmem_dt_view_free().
 */
int resmem_dt_scan(const void *blob, size_t len, struct resmem_dt_view *v,
		   int *fdt_err);
void resmem_dt_view_free(struct resmem_dt_view *v);
/* resmem_dt_scan()'s last step: the RESMEM_DT_P_DRIVER problems (dt_driver.c). */
void rm_dt_judge_driver(struct resmem_dt_view *v);

/* A reservation to add. */
struct resmem_dt_new {
	const char *name; /* node name without unit address, e.g. "capture" */
	uint64_t addr, size;
	int no_map, reusable;
	const char *compatible; /* NULL: none */
	const char *label; /* NULL: none */
	const char *cache; /* "write-back", "write-combine", "uncached", NULL */
};

enum resmem_dt_refusal_kind {
	RESMEM_DT_OK = 0,
	RESMEM_DT_MALFORMED, /* libfdt error: fdt_err */
	RESMEM_DT_BAD_REQUEST, /* size 0, wraps, unaligned, bad name, no-map+reusable */
	RESMEM_DT_BAD_PARENT, /* existing /reserved-memory is unusable: parent_problems */
	RESMEM_DT_TOO_WIDE, /* addr/size do not fit in the parent's cells: ac, sc */
	RESMEM_DT_NO_MEMORY, /* the tree has no /memory node */
	RESMEM_DT_OUTSIDE, /* not inside one /memory range: other = nearest range */
	RESMEM_DT_OVERLAP, /* other = the reservation it overlaps */
	RESMEM_DT_EXISTS, /* a node of that name exists: other */
	RESMEM_DT_DRIVER, /* resmem would refuse the node: node.problems */
};

struct resmem_dt_refusal {
	enum resmem_dt_refusal_kind kind;
	int fdt_err;
	uint32_t parent_problems;
	int ac, sc;
	char other[192];
	uint64_t other_addr, other_size;
	char detail[96]; /* BAD_REQUEST: what is wrong */
	struct resmem_dt_region
		node; /* DRIVER: the new node as dt list judges it */
};

/*
 * resmem_dt_add - a copy of @blob with a /reserved-memory child for @n
 * (named "<name>@<addr in hex>"), creating /reserved-memory with the root's
 * #address-cells/#size-cells and an empty ranges when it is missing (Linux
 * ignores it otherwise).  The result is packed into a malloc()ed *out.
 * Refused (with @why filled in) when the range overlaps another reservation
 * or a /memreserve/ entry, is not wholly inside one /memory range, does not
 * fit the cells, or the request itself is bad; and, for a node with
 * compatible "resmem,region", when the resmem driver would refuse it
 * (RESMEM_DT_P_DRIVER, judged by resmem_dt_scan() on the result).
 * Returns 0, -EINVAL (malformed blob or bad request), -EEXIST, -EBUSY
 * (overlap), -ERANGE (outside /memory or no /memory), -EOVERFLOW (cells),
 * -ENOTSUP (unusable existing parent), -EPERM (driver would refuse), -ENOMEM.
 */
int resmem_dt_add(const void *blob, size_t len, const struct resmem_dt_new *n,
		  void **out, size_t *out_len, struct resmem_dt_refusal *why);

/*
 * resmem_dt_driver_why - for one RESMEM_DT_P_DRIVER bit of @r, the rule as
 * the driver's log line says it, then "; " and what to do, into @buf.
 */
void resmem_dt_driver_why(const struct resmem_dt_region *r, uint32_t bit,
			  char *buf, size_t len);

/* Short English reason for one RESMEM_DT_P_* bit ("size 0", ...). */
const char *resmem_dt_problem_name(uint32_t bit);

/* libfdt's text for a positive FDT_ERR_* code (fdt_strerror). */
const char *resmem_dt_strerror(int fdt_err);

#pragma GCC visibility pop

#endif /* RESMEM_DT_H */
