// SPDX-License-Identifier: GPL-2.0
/*
 * Option tables: parsing argv by a command's table, the usage generated from
 * it, and the option values several commands share (sizes, --via, windows).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Options one table may hold (getopt_long needs its own array of them). */
#define MAX_OPTIONS 32
/* getopt_long returns OPT_BASE + i for opts[i]: clear of '?', ':' and 'h'. */
#define OPT_BASE 256

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

int opt_set_int(const char *cmd, const struct cli_option *o, const char *arg)
{
	(void)cmd;
	(void)arg;
	*(int *)o->value = (int)o->data;
	return 0;
}

int opt_string(const char *cmd, const struct cli_option *o, const char *arg)
{
	(void)cmd;
	*(const char **)o->value = arg;
	return 0;
}

int opt_size(const char *cmd, const struct cli_option *o, const char *arg)
{
	char opt[64];

	snprintf(opt, sizeof(opt), "--%s", o->name);
	return parse_size_opt(cmd, opt, arg, o->value) ? EXIT_USAGE : 0;
}

int opt_via(const char *cmd, const struct cli_option *o, const char *arg)
{
	enum resmem_access *via = o->value;
	const char *bar = strchr(o->arg, '|');

	/* Only the two ways @o->arg names: fill writes, so not "read". */
	if (!strcmp(arg, "mmap"))
		*via = RESMEM_VIA_MMAP;
	else if (!strcmp(arg, bar + 1))
		*via = RESMEM_VIA_RW;
	else
		return usage_error(cmd, "--via %s: use %.*s or %s", arg,
				   (int)(bar - o->arg), o->arg, bar + 1);
	return 0;
}

/* "--name ARG", "--name[=ARG]" or "--name" into @buf. */
static int option_words(const struct cli_option *o, char *buf, size_t len)
{
	if (!o->arg)
		return snprintf(buf, len, "--%s", o->name);
	return snprintf(buf, len, o->optional ? "--%s[=%s]" : "--%s %s",
			o->name, o->arg);
}

/* @text line by line, each line after the first indented by @indent. */
static void print_lines(FILE *f, const char *text, int indent)
{
	const char *nl;

	while ((nl = strchr(text, '\n'))) {
		fprintf(f, "%.*s\n%*s", (int)(nl - text), text, indent, "");
		text = nl + 1;
	}
	fprintf(f, "%s\n", text);
}

void usage_with_options(FILE *f, const struct cli_usage *u,
			const struct cli_option *opts)
{
	static const char help_words[] = "-h, --help";
	const struct cli_option *o;
	char words[64];
	int width = (int)sizeof(help_words) - 1;

	for (o = opts; o->name; o++)
		if (o->name[0] && option_words(o, words, sizeof(words)) > width)
			width = option_words(o, words, sizeof(words));
	fprintf(f, "usage: ");
	print_lines(f, u->usage, 7);
	fprintf(f, "\n%s\n\n", u->about);
	for (o = opts; o->name; o++) {
		if (!o->name[0]) { /* a heading */
			fprintf(f, "\n");
			print_lines(f, o->help, 0);
			continue;
		}
		option_words(o, words, sizeof(words));
		fprintf(f, "  %-*s  ", width, words);
		print_lines(f, o->help, width + 4);
	}
	fprintf(f, "  %-*s  show this help\n", width, help_words);
	if (u->notes)
		fprintf(f, "\n%s\n", u->notes);
}

int parse_options(const char *cmd, const struct cli_usage *u,
		  const struct cli_option *opts, int argc, char **argv)
{
	struct option longopts[MAX_OPTIONS + 2];
	const struct cli_option *o;
	int n = 0, c, ret;

	for (o = opts; o->name; o++) {
		if (!o->name[0])
			continue;
		if (n ==
		    MAX_OPTIONS) /* a table too long: a bug, not a user error */
			return usage_error(cmd, "too many options (max %d)",
					   MAX_OPTIONS);
		longopts[n] = (struct option){ o->name,
					       !o->arg	   ? no_argument :
					       o->optional ? optional_argument :
							     required_argument,
					       NULL,
					       OPT_BASE + (int)(o - opts) };
		n++;
	}
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ 0 };

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage_with_options(stdout, u, opts);
			return EXIT_OK;
		}
		if (c == '?' || c == ':')
			return bad_option(cmd, c, argv[optind - 1]);
		o = &opts[c - OPT_BASE];
		ret = o->parse(cmd, o, optarg);
		if (ret)
			return ret;
		if (o->given)
			*o->given = 1;
	}
	return GO_ON;
}

int window_operands(const char *cmd, int pattern, int argc, char **argv,
		    struct window_args *w)
{
	if (!pattern) {
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
