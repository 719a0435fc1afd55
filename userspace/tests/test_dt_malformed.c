// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed device-tree blobs: truncated at every length, bad magic, bad
 * version, block offsets and sizes pointing outside, a corrupt struct block,
 * every byte of a small blob flipped.  Each must give a clean libfdt error
 * (or, when the corruption happens to leave a valid tree, a normal result):
 * never a crash or an out-of-bounds read (run under valgrind by
 * tests/test_dt_tool.py).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "dt_build.h"
#include "resmem_dt.h"
#include "test.h"

#define RUN(res, ...) run_cli(env, res, (const char *const[]){ "resmem", __VA_ARGS__, NULL })

static const uint64_t mem[][2] = { { 0x40000000, 1ULL << 32 } };
static const uint64_t rsv[][2] = { { 0x41000000, 0x1000 } };
static const struct kid kids[] = {
	{ "a", 0x80000000, 1 << 20, 2, 2, KID_NOMAP | KID_RESMEM, 1 },
	{ "b", 0x90000000, 1 << 20, 1, 1, 0, 0 },
};
static const uint32_t users[] = { 1 };

static int small_tree(uint8_t *buf, int cap)
{
	const struct tree t = { .root_ac = 2, .root_sc = 2, .mem = mem, .n_mem = 1, .rsv = rsv,
				.n_rsv = 1, .parent = 1, .pac = 2, .psc = 2, .ranges = 1,
				.kids = kids, .n_kids = 2, .users = users, .n_users = 1 };

	return build_tree(buf, cap, &t);
}

/* Everything the library does with a blob; returns 0 when it was accepted. */
static int exercise(const void *blob, size_t len, int *fdt_err)
{
	struct resmem_dt_new n = { .name = "x", .addr = 0xA0000000, .size = 4096 };
	struct resmem_dt_refusal w;
	struct resmem_dt_view v;
	void *out = NULL;
	size_t olen;
	int err, err2;

	err = resmem_dt_scan(blob, len, &v, fdt_err);
	if (!err)
		resmem_dt_view_free(&v);
	err2 = resmem_dt_add(blob, len, &n, &out, &olen, &w);
	if (!err2) {
		/* what add wrote must itself be a valid tree */
		CHECK(resmem_dt_check(out, olen, NULL) == 0);
		free(out);
	}
	/* add refuses a malformed blob exactly when scan does */
	CHECK((err == -EINVAL) == (err2 == -EINVAL && w.kind == RESMEM_DT_MALFORMED),
	      "scan %d, add %d kind %d", err, err2, w.kind);
	return err;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void test_dt_malformed(const struct test_env *env)
{
	uint8_t good[4096], *b;
	struct cli_result res;
	char path[512];
	int len = small_tree(good, sizeof(good)), fdt_err, i, bad = 0, accepted = 0;

	CHECK(len > 100 && exercise(good, (size_t)len, &fdt_err) == 0, "len %d", len);

	/* truncated at every length: a fresh heap buffer of exactly that size,
	 * so valgrind sees any read past it */
	for (i = 0; i < len; i++) {
		b = malloc((size_t)i + 1);
		memcpy(b, good, (size_t)i);
		if (exercise(b, (size_t)i, &fdt_err) != -EINVAL || !fdt_err)
			bad++;
		/* the same, with the header's totalsize claiming only what is there */
		if (i >= (int)sizeof(struct fdt_header)) {
			put32(b + 4, (uint32_t)i);
			if (exercise(b, (size_t)i, &fdt_err) != -EINVAL || !fdt_err)
				bad++;
		}
		free(b);
	}
	CHECK(!bad, "%d truncations were accepted", bad);

	/* every byte flipped, one at a time; remember which flips must fail:
	 * magic, totalsize, last_comp_version, and every byte of every struct-block token
	 * (found by walking the good blob) */
	{
		char must[4096] = { 0 };
		int off = 0, next, tag, tokens = 0, missed = 0;

		for (i = 0; i < 8; i++)
			must[i] = 1;
		for (i = 24; i < 28; i++)	/* last_comp_version (newer versions are fine) */
			must[i] = 1;
		do {
			tag = fdt_next_tag(good, off, &next);
			for (int k = 0; k < 4; k++)
				must[fdt_off_dt_struct(good) + (uint32_t)off + (uint32_t)k] = 1;
			tokens++;
			off = next;
		} while (tag != FDT_END && next > 0);
		CHECK(tag == FDT_END && tokens > 20, "%d tokens", tokens);
		for (i = 0; i < len; i++) {
			b = malloc((size_t)len);
			memcpy(b, good, (size_t)len);
			b[i] ^= 0xff;
			if (exercise(b, (size_t)len, &fdt_err) == 0) {
				accepted++;
				if (must[i]) {
					missed++;
					fprintf(stderr, "flip at %d (struct+%d) accepted\n", i,
						i - (int)fdt_off_dt_struct(good));
				}
			}
			free(b);
		}
		CHECK(!missed, "%d flips of header fields or struct tokens accepted", missed);
		CHECK(accepted < len, "every flip accepted?");
	}

	b = malloc((size_t)len);
#define CORRUPT(off, val, want_err) do { \
		memcpy(b, good, (size_t)len); put32(b + (off), (val)); \
		CHECK(exercise(b, (size_t)len, &fdt_err) == -EINVAL && fdt_err == (want_err), \
		      "header+%d = 0x%x: fdt_err %d (%s)", (off), (unsigned)(val), fdt_err, \
		      fdt_err ? resmem_dt_strerror(fdt_err) : "accepted"); } while (0)
	CORRUPT(0, 0xd00dfeee, FDT_ERR_BADMAGIC);			/* magic */
	CORRUPT(4, (uint32_t)len + 8, FDT_ERR_TRUNCATED);		/* totalsize */
	CORRUPT(8, (uint32_t)len + 4096, FDT_ERR_TRUNCATED);		/* off_dt_struct */
	CORRUPT(12, 0xfffffff0, FDT_ERR_TRUNCATED);			/* off_dt_strings */
	CORRUPT(20, 1, FDT_ERR_BADVERSION);				/* version 1 */
	CORRUPT(24, 99, FDT_ERR_BADVERSION);				/* last_comp_version */
	CORRUPT(32, 0x7ffffff0, FDT_ERR_TRUNCATED);			/* size_dt_strings */
	CORRUPT(36, 0x7ffffff0, FDT_ERR_TRUNCATED);			/* size_dt_struct */
	/* the struct block's first token: not FDT_BEGIN_NODE */
	memcpy(b, good, (size_t)len);
	put32(b + fdt_off_dt_struct(good), 0x0badc0de);
	CHECK(exercise(b, (size_t)len, &fdt_err) == -EINVAL && fdt_err, "bad token: %d", fdt_err);
	/* a property length running past the struct block: the first FDT_PROP */
	memcpy(b, good, (size_t)len);
	for (i = (int)fdt_off_dt_struct(good); i + 8 < len; i += 4)
		if (b[i] == 0 && b[i + 1] == 0 && b[i + 2] == 0 && b[i + 3] == FDT_PROP) {
			put32(b + i + 4, 0x00ffff00);
			break;
		}
	CHECK(exercise(b, (size_t)len, &fdt_err) == -EINVAL && fdt_err, "bad prop len: %d", fdt_err);
	/* a property name offset outside the strings block */
	memcpy(b, good, (size_t)len);
	put32(b + i + 8, 0x7fff0000);
	CHECK(exercise(b, (size_t)len, &fdt_err) == -EINVAL && fdt_err, "bad nameoff: %d", fdt_err);
	/* FDT_END missing: the last token overwritten */
	memcpy(b, good, (size_t)len);
	put32(b + fdt_off_dt_struct(good) + fdt_size_dt_struct(good) - 4, FDT_NOP);
	CHECK(exercise(b, (size_t)len, &fdt_err) == -EINVAL && fdt_err, "no FDT_END: %d", fdt_err);

	/* the CLI: exit 3 and libfdt's words, for list and add */
	snprintf(path, sizeof(path), "%s/bad.dtb", env->tmpdir);
	memcpy(b, good, (size_t)len);
	put32(b, 0x12345678);
	write_file(path, b, (size_t)len);
	CHECK(RUN(&res, "dt", "list", path) == 3 && strstr(res.err, "FDT_ERR_BADMAGIC") &&
	      strstr(res.err, "is not a usable device tree blob"), "%s", res.err);
	CHECK(RUN(&res, "dt", "add", path, "/dev/null", "--name", "x", "--size", "4K", "--addr",
		  "0xA0000000") == 3 && strstr(res.err, "FDT_ERR_BADMAGIC"), "%s", res.err);
	write_file(path, good, (size_t)len - 1);
	CHECK(RUN(&res, "dt", "list", path) == 3 && strstr(res.err, "FDT_ERR_TRUNCATED"), "%s", res.err);
	write_file(path, good, 0);
	CHECK(RUN(&res, "dt", "list", path) == 3 && strstr(res.err, "FDT_ERR_TRUNCATED"), "%s", res.err);
	CHECK(RUN(&res, "dt", "list", "/nonexistent.dtb") == 3 && strstr(res.err, "ENOENT"), "%s", res.err);
	free(b);
}
