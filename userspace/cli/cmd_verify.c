// SPDX-License-Identifier: GPL-2.0
/* resmem verify: compare (part of) a region with a pattern. */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"

void help_verify(FILE *f)
{
	fprintf(f,
		"usage: resmem verify NAME PATTERN [--offset OFF] [--length LEN] [--via mmap|read]\n"
		"\n"
		"Compares the region with PATTERN (see 'resmem fill --help') and counts every\n"
		"bad byte.  On a mismatch prints the first bad byte's region offset and\n"
		"physical address, expected and actual value, the number of bad bytes, and\n"
		"exits 1.\n"
		"  --via read    use pread() instead of mmap (a second path to the memory)\n");
}

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
	static const struct option longopts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "via", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct resmem_walk_opts wo = { .via = RESMEM_VIA_MMAP };
	struct resmem_pattern pat;
	struct resmem_region r;
	struct progress prog;
	struct verify_ctx ctx;
	uint64_t off = 0, len = 0;
	int have_len = 0, c, err;
	char patname[64], size[32];
	const char *via;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (parse_size_opt("verify", "--offset", optarg, &off))
				return EXIT_USAGE;
			break;
		case 'l':
			if (parse_size_opt("verify", "--length", optarg, &len))
				return EXIT_USAGE;
			have_len = 1;
			break;
		case 'v':
			if (parse_via_opt("verify", optarg, &wo.via))
				return EXIT_USAGE;
			break;
		case 'h':
			help_verify(stdout);
			return EXIT_OK;
		default:
			return bad_option("verify", c, argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return usage_error("verify", "expected NAME PATTERN");
	err = resmem_pattern_parse(argv[optind + 1], &pat);
	if (err)
		return usage_error(
			"verify",
			"bad pattern '%s': use 0xAB, zero or seq:SEED",
			argv[optind + 1]);
	via = wo.via == RESMEM_VIA_MMAP ? "mmap" : "read";

	err = resmem_open(argv[optind], 0, &r);
	if (err)
		return region_error(argv[optind], NULL, err);
	if (resolve_range("verify", &r.info, have_len, off, &len)) {
		resmem_close(&r);
		return EXIT_USAGE;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.pat = &pat;
	ctx.prog = &prog;
	progress_start(&prog, "verify", r.info.name, len);
	err = resmem_walk(&r, off, len, &wo, verify_chunk, &ctx);
	progress_end(&prog);
	resmem_close(&r);
	if (err)
		return sys_error(wo.via == RESMEM_VIA_MMAP ? "cannot map" :
							     "cannot read",
				 r.path, err);

	resmem_pattern_format(&pat, patname, sizeof(patname));
	resmem_format_size(len, size, sizeof(size));
	if (!ctx.mm.bad_bytes) {
		printf("%s: %s at offset 0x%" PRIx64 " match %s (via %s)\n",
		       r.info.name, size, off, patname, via);
		return EXIT_OK;
	}
	printf("%s: MISMATCH: %" PRIu64 " of %" PRIu64
	       " bytes differ from %s (via %s)\n",
	       r.info.name, ctx.mm.bad_bytes, len, patname, via);
	printf("  first bad byte: offset 0x%" PRIx64 " (phys 0x%" PRIx64
	       "): expected 0x%02x, actual 0x%02x\n",
	       ctx.mm.first_off, r.info.phys_addr + ctx.mm.first_off,
	       ctx.mm.expected, ctx.mm.actual);
	printf("  last bad byte:  offset 0x%" PRIx64 " (phys 0x%" PRIx64 ")\n",
	       ctx.mm.last_off, r.info.phys_addr + ctx.mm.last_off);
	return EXIT_PROBLEM;
}
