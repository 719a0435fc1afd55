// SPDX-License-Identifier: GPL-2.0
/* resmem fill: write a pattern into (part of) a region. */
#include <inttypes.h>

#include "cli.h"

static const struct cli_usage fill_usage = {
	.usage = "resmem fill NAME PATTERN [options]",
	.about =
		"Writes PATTERN into the region through MAP_SHARED windows of 1 GiB, then\n"
		"msync()s each window.  OFF and LEN are region-relative (default: all of it).\n"
		"PATTERN: 0xAB (every byte), zero, or seq:SEED (SEED decimal or 0x-hex):\n"
		"  each 8-byte word at region offset w (w = o & ~7) holds splitmix64's\n"
		"  finaliser of SEED ^ w, little-endian.",
	.notes =
		"Sizes: 4096, 0x1000, 64K, 8G (K/M/G/T = powers of 1024).\n"
		"Exit: 0, 1 refused (a ring with unread records, or a running capture),\n"
		"2 usage, 3 system error.",
};

struct fill_ctx {
	const struct resmem_pattern *pat;
	struct progress *prog;
};

static int fill_chunk(void *buf, uint64_t off, size_t len, void *arg)
{
	struct fill_ctx *c = arg;

	resmem_pattern_fill(c->pat, buf, off, len);
	progress_add(c->prog, len);
	return 0;
}

int cmd_fill(int argc, char **argv)
{
	struct resmem_walk_opts wo = { .write = 1 };
	struct window_args w = { .via = RESMEM_VIA_MMAP };
	int force = 0;
	const struct cli_option options[] = {
		WINDOW_OPTIONS(&w.off, &w.len, &w.have_len),
		OPT_VIA("mmap|write", &w.via,
			"write: use pwrite() instead of mmap (default mmap)"),
		OPT_FLAG("file", &cli_file_writes,
			 "NAME may be a regular file (a scratch file standing in for a\n"
			 "region): without it, fill refuses to overwrite one"),
		OPT_FLAG(
			"force", &force,
			"fill even a ring with records no drain has taken out, or\n"
			"a region a resmem capture is producing into (refused without)"),
		OPT_END(),
	};
	struct resmem_region *r;
	struct resmem_region_info info;
	struct progress prog;
	struct fill_ctx ctx = { &w.pat, &prog };
	int ret, err;
	char patname[64], size[32], rate[32];
	double secs;

	ret = parse_options("fill", &fill_usage, options, argc, argv);
	if (ret == GO_ON)
		ret = window_operands("fill", 1, argc, argv, &w);
	if (ret != GO_ON)
		return ret;
	wo.via = w.via;

	err = resmem_open(w.name, 1, &r);
	if (err)
		return region_error(w.name, NULL, err);
	info = *resmem_region_get_info(r);
	ret = refuse_file_write("fill", r, "fill");
	if (ret) {
		resmem_close(r);
		return ret;
	}
	if (info.flags & RESMEM_INFO_READONLY) {
		fprintf(stderr,
			"resmem: region '%s' is read-only: it cannot be filled\n",
			info.name);
		resmem_close(r);
		return EXIT_SYSTEM;
	}
	if (resolve_range("fill", &info, w.have_len, w.off, &w.len)) {
		resmem_close(r);
		return EXIT_USAGE;
	}
	/* the lock it takes stays with r: no capture starts mid-fill */
	ret = ring_guard_region("fill", r, "not filled", force, w.off, w.len);
	if (ret) {
		resmem_close(r);
		return ret;
	}

	progress_start(&prog, "fill", info.name, w.len);
	err = resmem_walk(r, w.off, w.len, &wo, fill_chunk, &ctx);
	secs = progress_end(&prog);
	if (err) {
		err = walk_error(r, &wo, err);
		resmem_close(r);
		return err;
	}
	resmem_close(r);
	resmem_format_size(w.len, size, sizeof(size));
	resmem_format_size(secs > 0 ? (uint64_t)((double)w.len / secs) : 0,
			   rate, sizeof(rate));
	printf("%s: filled %s at offset 0x%" PRIx64
	       " with %s via %s (%.2f s, %s/s)\n",
	       info.name, size, w.off,
	       resmem_pattern_format(&w.pat, patname, sizeof(patname)),
	       wo.via == RESMEM_VIA_MMAP ? "mmap" : "write", secs, rate);
	return EXIT_OK;
}
