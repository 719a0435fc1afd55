// SPDX-License-Identifier: GPL-2.0
/* resmem dt list: the reservations of a blob or of the running system. */
#include <errno.h>
#include <getopt.h> /* optind */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_dt.h"
#include "resmem_dt.h"

const struct cli_usage dt_list_usage = {
	.usage = "resmem dt list [FILE.dtb | --live] [--json]",
	.about =
		"Lists the /memreserve/ entries and /reserved-memory children of FILE.dtb,\n"
		"or with --live (the default) of the running system (" RESMEM_DT_LIVE
		"),\n"
		"one line each: path, physical range, size, flags, ok or UNUSABLE; then the\n"
		"/dev/resmem/NAME the resmem driver makes of it, or why none; then one 'why:'\n"
		"line per problem (outside /memory, overlap, size 0, missing reg, reg not\n"
		"matching the parent's cells, no-map with reusable, unaligned, disabled, a\n"
		"/reserved-memory Linux ignores; and for resmem nodes what the driver refuses:\n"
		"reusable, write-combine/uncached without no-map, an unknown resmem,cache, a\n"
		"region name that is not valid or that another node gets first).",
	.notes =
		"Exit 0: every region usable, 1: some region unusable (resmem nodes: also by\n"
		"the driver's rules), 3: unreadable or malformed blob, or no device tree on\n"
		"this machine (an x86 PC has no " RESMEM_DT_LIVE ").",
};

static void flag_words(const struct resmem_dt_region *r, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
#define ADD(cond, word)                                                 \
	do {                                                            \
		if ((cond) && n < len)                                  \
			n += (size_t)snprintf(buf + n, len - n, "%s%s", \
					      n ? "," : "", word);      \
	} while (0)
	ADD(r->flags & RESMEM_DT_F_MEMRESERVE, "memreserve");
	ADD(!(r->flags & RESMEM_DT_F_MEMRESERVE) &&
		    !(r->flags & RESMEM_DT_F_NO_MAP),
	    "map");
	ADD(r->flags & RESMEM_DT_F_NO_MAP, "no-map");
	ADD(r->flags & RESMEM_DT_F_REUSABLE, "reusable");
	ADD(r->flags & RESMEM_DT_F_DYNAMIC, "dynamic");
	ADD(r->flags & RESMEM_DT_F_RESMEM, "resmem");
	ADD(r->flags & RESMEM_DT_F_BOUND, "resmem-user");
#undef ADD
}

static int has_range(const struct resmem_dt_region *r)
{
	return !(r->problems & (RESMEM_DT_P_NO_REG | RESMEM_DT_P_REG_CELLS |
				RESMEM_DT_P_PARENT)) &&
	       !(r->flags & RESMEM_DT_F_DYNAMIC);
}

static void show_json(const struct resmem_dt_view *v)
{
	char text[512], flags[128], devbuf[64], *tok, *save;
	const char *dev, *none;
	size_t i, k, shown;

	printf("[");
	for (i = 0; i < v->n_reg; i++) {
		const struct resmem_dt_region *r = &v->reg[i];

		printf("%s\n  {\"path\": ", i ? "," : "");
		json_string(stdout, r->path);
		if (has_range(r))
			printf(", \"addr\": %llu", (unsigned long long)r->addr);
		else
			printf(", \"addr\": null");
		printf(", \"size\": %llu, \"flags\": [",
		       (unsigned long long)r->size);
		flag_words(r, flags, sizeof(flags));
		for (tok = strtok_r(flags, ",", &save), k = 0; tok;
		     tok = strtok_r(NULL, ",", &save), k++) {
			printf("%s", k ? ", " : "");
			json_string(stdout, tok);
		}
		printf("], \"compatible\": ");
		json_string(stdout, r->compatible);
		printf(", \"label\": ");
		json_string(stdout, r->label);
		printf(", \"cache\": ");
		json_string(stdout, r->cache);
		printf(", \"user\": ");
		json_string(stdout, r->user);
		dev = dt_device_of(r, devbuf, sizeof(devbuf), &none);
		printf(", \"device\": ");
		if (dev)
			json_string(stdout, dev);
		else
			printf("null");
		printf(", \"no_device_why\": ");
		if (none)
			json_string(stdout, none);
		else
			printf("null");
		printf(", \"usable\": %s, \"problems\": [",
		       r->problems ? "false" : "true");
		for (k = 0, shown = 0; k < dt_n_problem_bits; k++) {
			if (!(r->problems & dt_problem_bits[k]))
				continue;
			dt_why(v, r, dt_problem_bits[k], text, sizeof(text));
			printf("%s{\"problem\": ", shown++ ? ", " : "");
			json_string(stdout,
				    resmem_dt_problem_name(dt_problem_bits[k]));
			printf(", \"why\": ");
			json_string(stdout, text);
			printf("}");
		}
		printf("]}");
	}
	printf("%s]\n", v->n_reg ? "\n" : "");
}

static void show_text(const struct resmem_dt_view *v)
{
	char a[48], sz[32], flags[128], text[512], devbuf[64];
	const char *dev, *none;
	size_t i, k, w = 8;

	for (i = 0; i < v->n_mem; i++)
		printf("memory: %s (%s) %s\n",
		       dt_range(v->mem[i].start, v->mem[i].size, a, sizeof(a)),
		       resmem_format_size(v->mem[i].size, sz, sizeof(sz)),
		       v->mem[i].node);
	if (!v->n_mem)
		printf("note: no /memory node: ranges cannot be checked against RAM\n");
	if (v->parent < 0)
		printf("note: no /reserved-memory node\n");
	else
		printf("reserved-memory: #address-cells=%d #size-cells=%d%s\n",
		       v->ac, v->sc,
		       (v->parent_problems & RESMEM_DT_PP_NO_RANGES) ?
			       ", no ranges" :
			       ", ranges");
	for (i = 0; i < v->n_reg; i++)
		if (strlen(v->reg[i].path) > w)
			w = strlen(v->reg[i].path);
	for (i = 0; i < v->n_reg; i++) {
		const struct resmem_dt_region *r = &v->reg[i];

		if (has_range(r))
			dt_range(r->addr, r->size, a, sizeof(a));
		else
			snprintf(a, sizeof(a), "-");
		flag_words(r, flags, sizeof(flags));
		printf("%-*s  %-35s %11s  %-24s %s\n", (int)w, r->path, a,
		       (r->size || has_range(r)) ?
			       resmem_format_size(r->size, sz, sizeof(sz)) :
			       "-",
		       flags, r->problems ? "UNUSABLE" : "ok");
		if (r->label[0] || r->cache[0] || r->user[0])
			printf("    %s%s%s%s%s%s\n",
			       r->label[0] ? "label " : "", r->label,
			       r->cache[0] ?
				       (r->label[0] ? ", cache " : "cache ") :
				       "",
			       r->cache,
			       r->user[0] ? ((r->label[0] || r->cache[0]) ?
						     ", used by " :
						     "used by ") :
					    "",
			       r->user);
		dev = dt_device_of(r, devbuf, sizeof(devbuf), &none);
		if (dev)
			printf("    becomes %s\n", dev);
		else
			printf("    no /dev/resmem: %s\n", none);
		for (k = 0; k < dt_n_problem_bits; k++) {
			if (!(r->problems & dt_problem_bits[k]))
				continue;
			dt_why(v, r, dt_problem_bits[k], text, sizeof(text));
			printf("    why: %s\n", text);
		}
	}
}

int cmd_dt_list(int argc, char **argv)
{
	const char *path = RESMEM_DT_LIVE;
	struct resmem_dt_view v;
	int err, fdt_err, live = 0, json = 0;
	size_t i, bad = 0;
	void *blob;
	size_t len;
	const struct cli_option options[] = {
		OPT_FLAG("live", &live,
			 "the running system's device tree (the default)"),
		OPT_FLAG("json", &json,
			 "a JSON array, one object per reservation"),
		OPT_END(),
	};

	err = parse_options("dt list", &dt_list_usage, options, argc, argv);
	if (err != GO_ON)
		return err;
	if (argc - optind > 1 || (live && argc - optind == 1))
		return usage_error("dt list", "give one FILE.dtb or --live");
	if (argc - optind == 1)
		path = argv[optind];
	err = resmem_dt_load(path, &blob, &len, &fdt_err);
	if (err == -ENOENT && !strcmp(path, RESMEM_DT_LIVE)) {
		fprintf(stderr,
			"resmem dt list: no device tree on this machine (%s does not exist: it booted with "
			"ACPI or without a flattened tree); give a FILE.dtb to list\n",
			RESMEM_DT_LIVE);
		return EXIT_SYSTEM;
	}
	if (err)
		return dt_load_error(path, err, fdt_err);
	err = resmem_dt_scan(blob, len, &v, &fdt_err);
	free(blob);
	if (err)
		return dt_load_error(path, err, fdt_err);
	if (json)
		show_json(&v);
	else
		show_text(&v);
	for (i = 0; i < v.n_reg; i++)
		bad += v.reg[i].problems != 0;
	if (!json)
		printf("%zu reservation%s, %zu unusable\n", v.n_reg,
		       v.n_reg == 1 ? "" : "s", bad);
	resmem_dt_view_free(&v);
	return bad ? EXIT_PROBLEM : EXIT_OK;
}
