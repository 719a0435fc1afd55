// SPDX-License-Identifier: GPL-2.0
/* resmem verify: compare (part of) a region with a pattern. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

static const struct cli_usage verify_usage = {
	.usage = "resmem verify NAME PATTERN [options]",
	.about =
		"Compares the region with PATTERN (see 'resmem fill --help') and counts every\n"
		"bad byte.  On a mismatch prints the first bad byte's region offset and\n"
		"physical address, expected and actual value, the number of bad bytes, and\n"
		"exits 1.",
};

struct verify_ctx {
	const struct resmem_pattern *pat;
	struct resmem_mismatch mm;
	struct progress *prog;
};

static int verify_chunk(void *buf, uint64_t off, size_t len, void *arg)
{
	struct verify_ctx *c = arg;

	resmem_pattern_compare(c->pat, buf, off, len, &c->mm);
	progress_add(c->prog, len);
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	struct resmem_walk_opts wo = { 0 };
	struct window_args w = { .via = RESMEM_VIA_MMAP };
	const struct cli_option options[] = {
		WINDOW_OPTIONS(&w.off, &w.len, &w.have_len),
		OPT_VIA("mmap|read", &w.via,
			"read: use pread() instead of mmap (a second path to the\n"
			"memory; default mmap)"),
		OPT_END(),
	};
	struct resmem_region *r;
	struct resmem_region_info info;
	struct progress prog;
	struct verify_ctx ctx;
	int ret, err;
	char patname[64], size[32];
	const char *via;

	ret = parse_options("verify", &verify_usage, options, argc, argv);
	if (ret == GO_ON)
		ret = window_operands("verify", 1, argc, argv, &w);
	if (ret != GO_ON)
		return ret;
	wo.via = w.via;
	via = wo.via == RESMEM_VIA_MMAP ? "mmap" : "read";

	err = resmem_open(w.name, 0, &r);
	if (err)
		return region_error(w.name, NULL, err);
	info = *resmem_region_get_info(r);
	if (resolve_range("verify", &info, w.have_len, w.off, &w.len)) {
		resmem_close(r);
		return EXIT_USAGE;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.pat = &w.pat;
	ctx.prog = &prog;
	progress_start(&prog, "verify", info.name, w.len);
	err = resmem_walk(r, w.off, w.len, &wo, verify_chunk, &ctx);
	progress_end(&prog);
	if (err)
		err = walk_error(r, &wo, err);
	resmem_close(r);
	if (err)
		return err;

	resmem_pattern_format(&w.pat, patname, sizeof(patname));
	resmem_format_size(w.len, size, sizeof(size));
	if (!ctx.mm.bad_bytes) {
		printf("%s: %s at offset 0x%" PRIx64 " match %s (via %s)\n",
		       info.name, size, w.off, patname, via);
		return EXIT_OK;
	}
	printf("%s: MISMATCH: %" PRIu64 " of %" PRIu64
	       " bytes differ from %s (via %s)\n",
	       info.name, ctx.mm.bad_bytes, w.len, patname, via);
	printf("  first bad byte: offset 0x%" PRIx64 " (phys 0x%" PRIx64
	       "): expected 0x%02x, actual 0x%02x\n",
	       ctx.mm.first_off, info.phys_addr + ctx.mm.first_off,
	       ctx.mm.expected, ctx.mm.actual);
	printf("  last bad byte:  offset 0x%" PRIx64 " (phys 0x%" PRIx64 ")\n",
	       ctx.mm.last_off, info.phys_addr + ctx.mm.last_off);
	return EXIT_PROBLEM;
}
