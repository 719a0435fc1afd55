// SPDX-License-Identifier: GPL-2.0
/* Option values several commands share: sizes, offsets, access paths, and
 * the options of fill, verify and dump, and of list and info. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int parse_size_opt(const char *cmd, const char *opt, const char *val,
		   uint64_t *out)
{
	int err = resmem_parse_size(val, out);

	if (err == -ERANGE)
		return usage_error(cmd, "%s %s: too large for 64 bits", opt,
				   val);
	if (err)
		return usage_error(
			cmd,
			"%s %s: not a size (use e.g. 4096, 0x1000, 64K, 8G)",
			opt, val);
	return 0;
}

int parse_via_opt(const char *cmd, const char *val, enum resmem_access *via)
{
	if (!strcmp(val, "mmap"))
		*via = RESMEM_VIA_MMAP;
	else if (!strcmp(val, "read") || !strcmp(val, "write") ||
		 !strcmp(val, "rw"))
		*via = RESMEM_VIA_RW;
	else
		return usage_error(cmd, "--via %s: use mmap or %s", val,
				   strcmp(cmd, "fill") ? "read" : "write");
	return 0;
}

int resolve_range(const char *cmd, const struct resmem_region_info *info,
		  int have_len, uint64_t off, uint64_t *len)
{
	char sz[32];

	resmem_format_size(info->size, sz, sizeof(sz));
	if (off > info->size)
		return usage_error(
			cmd,
			"--offset 0x%llx is beyond the end of region '%s' (size 0x%llx, %s)",
			(unsigned long long)off, info->name,
			(unsigned long long)info->size, sz);
	if (!have_len)
		*len = info->size - off;
	else if (*len > info->size - off)
		return usage_error(
			cmd,
			"--offset 0x%llx --length 0x%llx ends beyond region '%s' (size 0x%llx, %s): at most 0x%llx fits",
			(unsigned long long)off, (unsigned long long)*len,
			info->name, (unsigned long long)info->size, sz,
			(unsigned long long)(info->size - off));
	return 0;
}

/* How the parsers below end their switch: --help, or a bad option. */
static int help_or_bad_option(const char *cmd, void (*help)(FILE *f), int c,
			      char **argv)
{
	if (c == 'h') {
		help(stdout);
		return EXIT_OK;
	}
	return bad_option(cmd, c, argv[optind - 1]);
}

int parse_window_args(const char *cmd, void (*help)(FILE *f), int argc,
		      char **argv, struct window_args *w)
{
	static const struct option pattern_opts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "via", required_argument, NULL, 'v' },
		{ "file", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* dump: no PATTERN, but --raw (its own table, so fill has no --raw) */
	static const struct option dump_opts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "raw", no_argument, NULL, 'r' },
		{ "via", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int dump = !strcmp(cmd, "dump"), c;

	memset(w, 0, sizeof(*w));
	w->via = RESMEM_VIA_MMAP;
	while ((c = getopt_long(argc, argv, ":h",
				dump ? dump_opts : pattern_opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (parse_size_opt(cmd, "--offset", optarg, &w->off))
				return EXIT_USAGE;
			break;
		case 'l':
			if (parse_size_opt(cmd, "--length", optarg, &w->len))
				return EXIT_USAGE;
			w->have_len = 1;
			break;
		case 'r':
			w->raw = 1;
			break;
		case 'W':
			if (strcmp(cmd, "fill")) /* verify never writes */
				return bad_option(cmd, '?', argv[optind - 1]);
			cli_file_writes = 1;
			break;
		case 'v':
			if (parse_via_opt(cmd, optarg, &w->via))
				return EXIT_USAGE;
			break;
		default:
			return help_or_bad_option(cmd, help, c, argv);
		}
	}
	if (dump) {
		if (argc - optind != 1)
			return usage_error(cmd, "expected one region NAME");
	} else {
		if (argc - optind != 2)
			return usage_error(cmd, "expected NAME PATTERN");
		if (resmem_pattern_parse(argv[optind + 1], &w->pat))
			return usage_error(
				cmd,
				"bad pattern '%s': use 0xAB, zero or seq:SEED",
				argv[optind + 1]);
	}
	w->name = argv[optind];
	return GO_ON;
}

int parse_show_args(const char *cmd, void (*help)(FILE *f), int argc,
		    char **argv, struct show_args *a)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	a->json = 0;
	a->sysfs = NULL;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = 1;
			break;
		case 's':
			a->sysfs = optarg;
			break;
		default:
			return help_or_bad_option(cmd, help, c, argv);
		}
	}
	return GO_ON;
}
