// SPDX-License-Identifier: GPL-2.0
/* resmem fill: write a pattern into (part of) a region. */
#include <getopt.h>
#include <inttypes.h>

#include "cli.h"

void help_fill(FILE *f)
{
	fprintf(f,
		"usage: resmem fill NAME PATTERN [--offset OFF] [--length LEN] [--via mmap|write]\n"
		"\n"
		"Writes PATTERN into the region through MAP_SHARED windows of 1 GiB, then\n"
		"msync()s each window.  OFF and LEN are region-relative (default: all of it).\n"
		"PATTERN: 0xAB (every byte), zero, or seq:SEED (SEED decimal or 0x-hex):\n"
		"  each 8-byte word at region offset w (w = o & ~7) holds splitmix64's\n"
		"  finaliser of SEED ^ w, little-endian.\n"
		"  --via write   use pwrite() instead of mmap\n"
		"Sizes: 4096, 0x1000, 64K, 8G (K/M/G/T = powers of 1024).\n");
}

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
	static const struct option longopts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "via", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct resmem_walk_opts wo = { .via = RESMEM_VIA_MMAP, .write = 1 };
	struct resmem_pattern pat;
	struct resmem_region r;
	struct progress prog;
	struct fill_ctx ctx = { &pat, &prog };
	uint64_t off = 0, len = 0;
	int have_len = 0, c, err;
	char patname[64], size[32], rate[32];
	double secs;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (parse_size_opt("fill", "--offset", optarg, &off))
				return EXIT_USAGE;
			break;
		case 'l':
			if (parse_size_opt("fill", "--length", optarg, &len))
				return EXIT_USAGE;
			have_len = 1;
			break;
		case 'v':
			if (parse_via_opt("fill", optarg, &wo.via))
				return EXIT_USAGE;
			break;
		case 'h':
			help_fill(stdout);
			return EXIT_OK;
		default:
			return bad_option("fill", c, argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return usage_error("fill", "expected NAME PATTERN");
	err = resmem_pattern_parse(argv[optind + 1], &pat);
	if (err)
		return usage_error(
			"fill", "bad pattern '%s': use 0xAB, zero or seq:SEED",
			argv[optind + 1]);

	err = resmem_open(argv[optind], 1, &r);
	if (err)
		return region_error(argv[optind], NULL, err);
	if (r.info.flags & RESMEM_INFO_READONLY) {
		fprintf(stderr,
			"resmem: region '%s' is read-only: it cannot be filled\n",
			r.info.name);
		resmem_close(&r);
		return EXIT_SYSTEM;
	}
	if (resolve_range("fill", &r.info, have_len, off, &len)) {
		resmem_close(&r);
		return EXIT_USAGE;
	}

	progress_start(&prog, "fill", r.info.name, len);
	err = resmem_walk(&r, off, len, &wo, fill_chunk, &ctx);
	secs = progress_end(&prog);
	if (err) {
		resmem_close(&r);
		return sys_error(wo.via == RESMEM_VIA_MMAP ? "cannot map/sync" :
							     "cannot write",
				 r.path, err);
	}
	resmem_close(&r);
	resmem_format_size(len, size, sizeof(size));
	resmem_format_size(secs > 0 ? (uint64_t)((double)len / secs) : 0, rate,
			   sizeof(rate));
	printf("%s: filled %s at offset 0x%" PRIx64
	       " with %s via %s (%.2f s, %s/s)\n",
	       r.info.name, size, off,
	       resmem_pattern_format(&pat, patname, sizeof(patname)),
	       wo.via == RESMEM_VIA_MMAP ? "mmap" : "write", secs, rate);
	return EXIT_OK;
}
