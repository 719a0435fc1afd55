// SPDX-License-Identifier: GPL-2.0
/*
 * resmem dt on hand-made blobs: what add writes (reg bytes written out by
 * hand here, not by the code under test), what it refuses, what list flags.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "dt_build.h"
#include "resmem_dt.h"
#include "test.h"

#define G (1ULL << 30)
#define M (1ULL << 20)

static uint8_t buf[1 << 16];

static const uint64_t virt_mem[][2] = { { 0x40000000, 6 * G } };	/* -m 6G on virt */

static int mk(const struct tree *t)
{
	int n = build_tree(buf, sizeof(buf), t);

	CHECK(n > 0, "build_tree: %d", n);
	return n;
}

/* The property bytes of @path/@prop in @blob, or NULL. */
static const uint8_t *prop(const void *blob, const char *path, const char *name, int *len)
{
	int node = fdt_path_offset(blob, path);

	if (node < 0)
		return NULL;
	return fdt_getprop(blob, node, name, len);
}

static int add(const void *blob, size_t len, struct resmem_dt_new *n, void **out, size_t *olen,
	       struct resmem_dt_refusal *w)
{
	*out = NULL;
	return resmem_dt_add(blob, len, n, out, olen, w);
}

static void test_add_basic(void)
{
	struct tree t = { .root_ac = 2, .root_sc = 2, .mem = virt_mem, .n_mem = 1 };
	struct resmem_dt_new n = { .name = "capture", .addr = 0xC0000000, .size = G,
				   .compatible = RESMEM_DT_COMPATIBLE, .label = "cap",
				   .cache = "write-back" };
	static const uint8_t want[16] = { 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0 };
	static const uint8_t want_hi[16] = { 0, 0, 0, 1, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0 };
	static const uint8_t two[4] = { 0, 0, 0, 2 };
	struct resmem_dt_refusal w;
	struct resmem_dt_view v;
	void *out, *out2;
	size_t olen, olen2;
	const uint8_t *p;
	int len, blen = mk(&t);

	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == 0, "kind %d", w.kind);
	CHECK(out && olen == fdt_totalsize(out) && !fdt_check_full(out, olen));
	p = prop(out, "/reserved-memory", "#address-cells", &len);
	CHECK(p && len == 4 && !memcmp(p, two, 4));
	p = prop(out, "/reserved-memory", "#size-cells", &len);
	CHECK(p && len == 4 && !memcmp(p, two, 4));
	p = prop(out, "/reserved-memory", "ranges", &len);
	CHECK(p && len == 0, "ranges must be present and empty");
	p = prop(out, "/reserved-memory/capture@c0000000", "reg", &len);
	CHECK(p && len == 16 && !memcmp(p, want, 16), "reg");
	p = prop(out, "/reserved-memory/capture@c0000000", "compatible", &len);
	CHECK(p && len == 14 && !memcmp(p, "resmem,region", 14));
	p = prop(out, "/reserved-memory/capture@c0000000", "label", &len);
	CHECK(p && len == 4 && !memcmp(p, "cap", 4));
	p = prop(out, "/reserved-memory/capture@c0000000", "resmem,cache", &len);
	CHECK(p && len == 11 && !memcmp(p, "write-back", 11));
	CHECK(!prop(out, "/reserved-memory/capture@c0000000", "no-map", &len));

	/* second region above 4 GiB, no-map, into the now existing parent */
	n = (struct resmem_dt_new){ .name = "hi", .addr = 0x140000000, .size = 512 * M, .no_map = 1 };
	CHECK(add(out, olen, &n, &out2, &olen2, &w) == 0, "kind %d", w.kind);
	p = prop(out2, "/reserved-memory/hi@140000000", "reg", &len);
	CHECK(p && len == 16 && !memcmp(p, want_hi, 16), "reg above 4 GiB");
	p = prop(out2, "/reserved-memory/hi@140000000", "no-map", &len);
	CHECK(p && len == 0);

	CHECK(resmem_dt_scan(out2, olen2, &v, NULL) == 0);
	CHECK(v.n_mem == 1 && v.mem[0].start == 0x40000000 && v.mem[0].size == 6 * G);
	CHECK(v.n_reg == 2 && v.ac == 2 && v.sc == 2 && !v.parent_problems);
	for (size_t i = 0; i < v.n_reg; i++) {
		const struct resmem_dt_region *r = &v.reg[i];

		CHECK(!r->problems, "%s problems 0x%x", r->path, r->problems);
		if (!strcmp(r->path, "/reserved-memory/hi@140000000"))
			CHECK(r->addr == 0x140000000 && r->size == 512 * M &&
			      r->flags == RESMEM_DT_F_NO_MAP);
		else
			CHECK(!strcmp(r->path, "/reserved-memory/capture@c0000000") &&
			      r->addr == 0xC0000000 && r->size == G && r->flags == RESMEM_DT_F_RESMEM &&
			      !strcmp(r->label, "cap") && !strcmp(r->cache, "write-back"),
			      "%s", r->path);
	}
	resmem_dt_view_free(&v);

	/* the same name again: refused */
	free(out);
	CHECK(add(out2, olen2, &n, &out, &olen, &w) == -EEXIST && w.kind == RESMEM_DT_EXISTS &&
	      !strcmp(w.other, "/reserved-memory/hi@140000000") && !out, "%s", w.other);
	free(out2);
}

/* Root 2/1 (Raspberry Pi 4) and 1/1 (32-bit boards): the new parent copies them. */
static void test_add_cells(void)
{
	static const uint64_t mem[][2] = { { 0, 0x3b400000 }, { 0x40000000, 0xbc000000 } };
	struct tree t = { .root_ac = 2, .root_sc = 1, .mem = mem, .n_mem = 2 };
	struct resmem_dt_new n = { .name = "r", .addr = 0xC0000000, .size = 256 * M };
	static const uint8_t want[12] = { 0, 0, 0, 0, 0xc0, 0, 0, 0, 0x10, 0, 0, 0 };
	struct resmem_dt_refusal w;
	void *out;
	size_t olen;
	const uint8_t *p;
	int len, blen = mk(&t);

	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == 0, "kind %d", w.kind);
	p = prop(out, "/reserved-memory/r@c0000000", "reg", &len);
	CHECK(p && len == 12 && !memcmp(p, want, 12), "2/1 reg is %d bytes", len);
	p = prop(out, "/reserved-memory", "#size-cells", &len);
	CHECK(p && len == 4 && p[3] == 1);
	free(out);
	/* 4 GiB does not fit one size cell */
	n.addr = 0x40000000;
	n.size = 4 * G;
	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == -EOVERFLOW && w.kind == RESMEM_DT_TOO_WIDE);

	t.root_ac = 1;
	t.root_sc = 1;
	static const uint64_t mem32[][2] = { { 0x80000000, 0x7ffff000 } };
	t.mem = mem32;
	t.n_mem = 1;
	blen = mk(&t);
	n.addr = 0x90000000;
	n.size = 16 * M;
	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == 0, "kind %d", w.kind);
	p = prop(out, "/reserved-memory/r@90000000", "reg", &len);
	CHECK(p && len == 8 && p[0] == 0x90 && p[4] == 0x01 && p[5] == 0);
	free(out);
}

static void test_add_refusals(void)
{
	/* RAM 1 GiB..3 GiB and 4 GiB..6 GiB, 6 GiB..7 GiB (adjacent: merged) */
	static const uint64_t mem[][2] = { { G, 2 * G }, { 4 * G, 2 * G }, { 6 * G, G } };
	static const uint64_t rsv[][2] = { { 0x48000000, 0x100000 } };
	static const struct kid kids[] = {
		{ "a", 0x80000000, 256 * M, 2, 2, 0, 0 },
		{ "dyn", 0, 64 * M, 2, 2, KID_SIZE_PROP, 0 },
	};
	struct tree t = { .root_ac = 2, .root_sc = 2, .mem = mem, .n_mem = 3, .rsv = rsv, .n_rsv = 1,
			  .parent = 1, .pac = 2, .psc = 2, .ranges = 1, .kids = kids, .n_kids = 2 };
	struct resmem_dt_refusal w;
	struct resmem_dt_new n = { .name = "x" };
	void *out;
	size_t olen;
	int blen = mk(&t);
	static const struct {
		uint64_t addr, size;
		int err;
		enum resmem_dt_refusal_kind kind;
		const char *other;
	} cases[] = {
		{ 0x80000000 - 4096, 8192, -EBUSY, RESMEM_DT_OVERLAP, "/reserved-memory/a@80000000" },
		{ 0x90000000 - 4096, 8192, -EBUSY, RESMEM_DT_OVERLAP, "/reserved-memory/a@80000000" },
		{ 0x80000000 - 4096, 4096, 0, RESMEM_DT_OK, NULL },		/* touches, below */
		{ 0x90000000, 4096, 0, RESMEM_DT_OK, NULL },			/* touches, above */
		{ 0x48000000 + 0xff000, 4096, -EBUSY, RESMEM_DT_OVERLAP, "/memreserve/" },
		{ 0x48100000, 4096, 0, RESMEM_DT_OK, NULL },
		{ G - 4096, 8192, -ERANGE, RESMEM_DT_OUTSIDE, "memory@40000000" },	/* below RAM */
		{ 3 * G - 4096, 4096, 0, RESMEM_DT_OK, NULL },		/* last page of bank 0 */
		{ 3 * G - 4096, 8192, -ERANGE, RESMEM_DT_OUTSIDE, "memory@40000000" },	/* crosses its end */
		{ 3 * G + 4096, 4096, -ERANGE, RESMEM_DT_OUTSIDE, "memory@40000000" },	/* in the hole */
		{ 5 * G, 2 * G, 0, RESMEM_DT_OK, NULL },			/* spans two adjacent banks */
		{ 7 * G - 4096, 8192, -ERANGE, RESMEM_DT_OUTSIDE, "memory@100000000" },
		{ 16 * G, 4096, -ERANGE, RESMEM_DT_OUTSIDE, "memory@100000000" },
		{ 0xFFFFFFFFFFFFF000ULL, 4096, -ERANGE, RESMEM_DT_OUTSIDE, "memory@100000000" },
		{ 0x40000000, 0, -EINVAL, RESMEM_DT_BAD_REQUEST, NULL },	/* size 0 */
		{ 0x40000800, 4096, -EINVAL, RESMEM_DT_BAD_REQUEST, NULL },	/* unaligned */
		{ 0xFFFFFFFFFFFFF000ULL, 8192, -EINVAL, RESMEM_DT_BAD_REQUEST, NULL },	/* wraps */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err;

		n.addr = cases[i].addr;
		n.size = cases[i].size;
		err = add(buf, (size_t)blen, &n, &out, &olen, &w);
		CHECK(err == cases[i].err && w.kind == cases[i].kind &&
		      (!cases[i].other || !strcmp(w.other, cases[i].other)),
		      "case %zu (0x%llx+0x%llx): err %d kind %d other '%s'", i,
		      (unsigned long long)n.addr, (unsigned long long)n.size, err, w.kind, w.other);
		free(out);
	}
	n = (struct resmem_dt_new){ .name = "x", .addr = 0xA0000000, .size = 4096, .no_map = 1, .reusable = 1 };
	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == -EINVAL && w.kind == RESMEM_DT_BAD_REQUEST &&
	      strstr(w.detail, "no-map and reusable"));
	n.reusable = 0;
	n.name = "bad name";
	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == -EINVAL && w.kind == RESMEM_DT_BAD_REQUEST);
	n.name = "abcdefghijabcdefghijabcdefghijab";	/* 32 characters */
	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == -EINVAL && w.kind == RESMEM_DT_BAD_REQUEST);

	/* no /memory node at all */
	t.n_mem = 0;
	blen = mk(&t);
	n.name = "x";
	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == -ERANGE && w.kind == RESMEM_DT_NO_MEMORY);

	/* an existing parent Linux ignores: cells not the root's, or no ranges */
	t.n_mem = 3;
	t.pac = 1;
	t.psc = 1;
	blen = mk(&t);
	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == -ENOTSUP && w.kind == RESMEM_DT_BAD_PARENT &&
	      w.ac == 1 && w.sc == 1 && (w.parent_problems & RESMEM_DT_PP_CELLS));
	t.pac = t.psc = 2;
	t.ranges = 0;
	blen = mk(&t);
	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == -ENOTSUP &&
	      w.parent_problems == RESMEM_DT_PP_NO_RANGES);
}

/* Every problem list must flag, each on a node made for it. */
static void test_scan_problems(void)
{
	static const struct kid kids[] = {
		{ "ok", 0x80000000, 16 * M, 2, 2, KID_RESMEM, 7 },		/* 0 */
		{ "noreg", 0x81000000, 16 * M, 0, 0, 0, 0 },			/* 1 */
		{ "onecell", 0x82000000, 16 * M, 1, 1, 0, 0 },			/* 2 */
		{ "zero", 0x83000000, 0, 2, 2, 0, 0 },				/* 3 */
		{ "outside", 0x10000, 4096, 2, 2, 0, 0 },			/* 4 */
		{ "ov1", 0x90000000, 2 * M, 2, 2, 0, 0 },			/* 5 */
		{ "ov2", 0x90100000, 2 * M, 2, 2, 0, 0 },			/* 6 */
		{ "both", 0x91000000, 16 * M, 2, 2, KID_NOMAP | KID_REUSABLE, 0 },	/* 7 */
		{ "off", 0x92000000, 16 * M, 2, 2, KID_DISABLED, 0 },		/* 8 */
		{ "dyn", 0, 32 * M, 2, 2, KID_SIZE_PROP | KID_REUSABLE, 9 },	/* 9 */
		{ "odd", 0x93000800, 4096, 2, 2, 0, 0 },			/* 10 */
		{ "edge", 0x1bffff000, 8192, 2, 2, 0, 0 },			/* 11 */
		{ "wrap", 0xfffffffffffff000ULL, 0x2000, 2, 2, 0, 0 },		/* 12 */
	};
	static const uint32_t want[] = {
		0, RESMEM_DT_P_NO_REG, RESMEM_DT_P_REG_CELLS, RESMEM_DT_P_SIZE_ZERO,
		RESMEM_DT_P_OUTSIDE, RESMEM_DT_P_OVERLAP, RESMEM_DT_P_OVERLAP,
		RESMEM_DT_P_NOMAP_REUSABLE, RESMEM_DT_P_DISABLED,
		RESMEM_DT_P_REUSABLE, /* a resmem user points at it: the driver refuses */
		RESMEM_DT_P_UNALIGNED,
		RESMEM_DT_P_OUTSIDE, RESMEM_DT_P_WRAPS,
	};
	static const uint64_t rsv[][2] = { { 0x80000000, 4096 } };
	static const uint32_t users[] = { 7, 9 };
	struct tree t = { .root_ac = 2, .root_sc = 2, .mem = virt_mem, .n_mem = 1,
			  .parent = 1, .pac = 2, .psc = 2, .ranges = 1,
			  .kids = kids, .n_kids = 13, .users = users, .n_users = 2 };
	struct resmem_dt_view v;
	int blen = mk(&t);
	size_t i;

	CHECK(resmem_dt_scan(buf, (size_t)blen, &v, NULL) == 0);
	CHECK(v.n_reg == 13, "%zu", v.n_reg);
	for (i = 0; i < v.n_reg && i < 13; i++)
		CHECK(v.reg[i].problems == want[i], "%s: problems 0x%x, want 0x%x", v.reg[i].path,
		      v.reg[i].problems, want[i]);
	CHECK(v.reg[2].reg_len == 8);
	CHECK(v.reg[5].overlap == 6 && v.reg[6].overlap == 5);
	CHECK(v.reg[9].flags == (RESMEM_DT_F_DYNAMIC | RESMEM_DT_F_REUSABLE | RESMEM_DT_F_BOUND) &&
	      v.reg[9].size == 32 * M && !strcmp(v.reg[9].user, "/dev"), "flags 0x%x", v.reg[9].flags);
	CHECK(v.reg[0].flags == (RESMEM_DT_F_RESMEM | RESMEM_DT_F_BOUND), "0x%x", v.reg[0].flags);
	resmem_dt_view_free(&v);

	/* a /memreserve/ entry overlapping "ok" flags both */
	t.rsv = rsv;
	t.n_rsv = 1;
	blen = mk(&t);
	CHECK(resmem_dt_scan(buf, (size_t)blen, &v, NULL) == 0);
	CHECK(v.n_reg == 14 && v.reg[0].flags == RESMEM_DT_F_MEMRESERVE &&
	      v.reg[0].problems == RESMEM_DT_P_OVERLAP && v.reg[1].problems == RESMEM_DT_P_OVERLAP &&
	      v.reg[1].overlap == 0);
	resmem_dt_view_free(&v);

	/* parent cells not the root's: every child flagged */
	t.pac = 1;
	blen = mk(&t);
	CHECK(resmem_dt_scan(buf, (size_t)blen, &v, NULL) == 0);
	CHECK(v.parent_problems == RESMEM_DT_PP_CELLS);
	for (i = 0; i < v.n_reg; i++)
		if (!(v.reg[i].flags & RESMEM_DT_F_MEMRESERVE))
			CHECK(v.reg[i].problems & RESMEM_DT_P_PARENT, "%s", v.reg[i].path);
	resmem_dt_view_free(&v);
}

/* The blob grows as needed: 300 adds into a tree packed tight each time. */
static void test_add_grows(void)
{
	struct tree t = { .root_ac = 2, .root_sc = 2, .mem = virt_mem, .n_mem = 1 };
	struct resmem_dt_new n = { .name = "r", .size = 4096, .compatible = "vendor,thing",
				   .label = "a-rather-long-label-to-need-room" };
	struct resmem_dt_refusal w;
	struct resmem_dt_view v;
	void *cur, *next;
	size_t len, nlen;
	int i, ok = 1, blen = mk(&t);

	cur = malloc((size_t)blen);
	memcpy(cur, buf, (size_t)blen);
	len = (size_t)blen;
	for (i = 0; i < 300 && ok; i++) {
		n.addr = 0x40000000 + (uint64_t)i * 8192;
		ok = add(cur, len, &n, &next, &nlen, &w) == 0;
		if (ok) {
			free(cur);
			cur = next;
			len = nlen;
		}
	}
	CHECK(ok, "add %d failed: kind %d fdt_err %d", i, w.kind, w.fdt_err);
	CHECK(resmem_dt_scan(cur, len, &v, NULL) == 0 && v.n_reg == 300, "%zu", v.n_reg);
	for (size_t k = 0; k < v.n_reg; k++)
		if (v.reg[k].problems)
			CHECK(0, "%s: 0x%x", v.reg[k].path, v.reg[k].problems);
	resmem_dt_view_free(&v);
	free(cur);
}

/* The driver's naming rule (module/params.c) and its name derivation (of.c). */
static void test_region_names(void)
{
	static const char *const good[] = { "a", "region0", "cam-rx", "x_1.2+3",
					    "abcdefghijabcdefghijabcdefghij1" };
	static const char *const bad[] = { "", ".hidden", "bad name!", "a,b", "a/b",
					   "abcdefghijabcdefghijabcdefghij12" };
	struct resmem_dt_naming n = { .node_name = "capture@c0000000" };
	char name[48];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(resmem_region_name_ok(good[i]), "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!resmem_region_name_ok(bad[i]), "%s", bad[i]);
	CHECK(resmem_dt_region_name(&n, name, sizeof(name)) && !strcmp(name, "capture"));
	n.owned = 1;
	n.owner_label = "cam";
	n.count = 2;
	n.idx = 1;
	CHECK(resmem_dt_region_name(&n, name, sizeof(name)) && !strcmp(name, "cam-1"));
	n.rname = "tx";
	CHECK(resmem_dt_region_name(&n, name, sizeof(name)) && !strcmp(name, "cam-tx"));
	n.count = 1;
	n.rname = NULL;
	CHECK(resmem_dt_region_name(&n, name, sizeof(name)) && !strcmp(name, "cam"));
	n.owner_label = NULL;
	n.rname = "rx";
	CHECK(resmem_dt_region_name(&n, name, sizeof(name)) && !strcmp(name, "rx"));
	n.label = "own";
	CHECK(resmem_dt_region_name(&n, name, sizeof(name)) && !strcmp(name, "own"));
	n.label = "bad name!";
	CHECK(!resmem_dt_region_name(&n, name, sizeof(name)) && !strcmp(name, "bad name!"));
	n.label = NULL;
	n.owned = 0;
	n.node_name = "a,b@1000";
	CHECK(!resmem_dt_region_name(&n, name, sizeof(name)) && !strcmp(name, "a,b"));
}

/* resmem_dt_add() refuses a resmem node the driver would refuse. */
static void test_add_driver_rules(void)
{
	struct tree t = { .root_ac = 2, .root_sc = 2, .mem = virt_mem, .n_mem = 1 };
	struct resmem_dt_new n = { .name = "cap", .addr = 0xC0000000, .size = M,
				   .compatible = RESMEM_DT_COMPATIBLE };
	struct resmem_dt_refusal w;
	void *out = NULL, *out2 = NULL;
	size_t olen, olen2;
	int blen = mk(&t);

	n.reusable = 1;
	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == -EPERM && w.kind == RESMEM_DT_DRIVER &&
	      w.node.problems == RESMEM_DT_P_REUSABLE, "kind %d problems 0x%x", w.kind, w.node.problems);
	n.compatible = NULL; /* a plain CMA reservation is fine */
	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == 0, "kind %d", w.kind);
	free(out);
	n.compatible = RESMEM_DT_COMPATIBLE;
	n.reusable = 0;
	n.cache = "uncached";
	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == -EPERM &&
	      w.node.problems == RESMEM_DT_P_CACHE_NEEDS_NO_MAP);
	n.no_map = 1;
	CHECK(add(buf, (size_t)blen, &n, &out, &olen, &w) == 0, "kind %d", w.kind);
	n.label = "bad name!";
	CHECK(add(buf, (size_t)blen, &n, &out2, &olen2, &w) == -EPERM &&
	      w.node.problems == RESMEM_DT_P_NAME && !strcmp(w.node.name, "bad name!"));
	/* a second node named "cap": the label, or the node name */
	n.label = "cap";
	n.addr = 0xD0000000;
	n.name = "other";
	CHECK(add(out, olen, &n, &out2, &olen2, &w) == -EPERM &&
	      w.node.problems == RESMEM_DT_P_NAME_TAKEN &&
	      !strcmp(w.node.name_owner, "/reserved-memory/cap@c0000000"),
	      "problems 0x%x owner %s", w.node.problems, w.node.name_owner);
	n.label = NULL;
	n.name = "cap";
	CHECK(add(out, olen, &n, &out2, &olen2, &w) == -EPERM &&
	      w.node.problems == RESMEM_DT_P_NAME_TAKEN);
	n.name = "cap2";
	CHECK(add(out, olen, &n, &out2, &olen2, &w) == 0, "kind %d", w.kind);
	free(out2);
	free(out);
}

void test_dt(const struct test_env *env)
{
	test_region_names();
	test_add_driver_rules();
	test_add_basic();
	test_add_cells();
	test_add_refusals();
	test_scan_problems();
	test_add_grows();
	test_dt_malformed(env);
}
