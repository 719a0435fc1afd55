// SPDX-License-Identifier: GPL-2.0
/*
 * resmem check on device-tree machines: for each node the resmem driver
 * binds, what became of it.  Evidence: the tree the kernel booted with
 * (/sys/firmware/fdt, judged with dt list's rules), /proc/iomem (did the
 * boot reserve it) and sysfs (did the driver make /dev/resmem/NAME).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check_dt.h"
#include "cli.h"
#include "cmd_dt.h"

int check_dt_load(const char *path, int explicit, struct resmem_dt_view *v)
{
	void *blob;
	size_t len;
	int err, fdt_err = 0;

	err = resmem_dt_load(path, &blob, &len, &fdt_err);
	if (err == -ENOENT && !explicit)
		return 0; /* an x86 PC or an ACPI arm64 server */
	if (err) {
		dt_load_error(path, err, fdt_err);
		return -1;
	}
	err = resmem_dt_scan(blob, len, v, &fdt_err);
	free(blob);
	if (err) {
		dt_load_error(path, err, fdt_err);
		return -1;
	}
	return 1;
}

int check_dt_is_resmem(const struct resmem_dt_region *r)
{
	return (r->flags & (RESMEM_DT_F_RESMEM | RESMEM_DT_F_BOUND)) &&
	       !(r->flags & RESMEM_DT_F_MEMRESERVE);
}

/*
 * Did the boot reserve [start, end]?  A no-map node is a top-level
 * "reserved" entry; a mapped one stays System RAM with a "reserved" child
 * (validate.c's two shapes).  Otherwise @seen names what is there.
 */
static int reserved_at_boot(const struct check_dt_sys *sys, uint64_t start,
			    uint64_t end, int no_map, char *seen, size_t len)
{
	size_t i;

	seen[0] = '\0';
	for (i = 0; i < sys->n_iomem; i++) {
		const struct resmem_iomem *e = &sys->iomem[i];
		int inside = e->start <= start && end <= e->end;

		if (e->depth > 1 || e->end < start || e->start > end)
			continue;
		if (!seen[0] && e->depth == 0)
			snprintf(seen, len, "%s", e->name);
		if (!inside || strcmp(e->name, "reserved"))
			continue;
		if (no_map ? e->depth == 0 : e->depth == 1)
			return 1;
	}
	if (!seen[0])
		snprintf(seen, len, "nothing");
	return 0;
}

void check_dt_judge(const struct resmem_dt_region *r,
		    const struct check_dt_sys *sys, struct check_dt_node *out)
{
	size_t i;
	int fixed;

	memset(out, 0, sizeof(*out));
	out->r = r;
	for (i = 0; i < sys->n_regions; i++)
		if (r->name[0] && !strcmp(sys->regions[i].name, r->name))
			out->region = &sys->regions[i];
	/* a dynamic node (size, no reg) is placed at boot: no range to check */
	fixed = !(r->flags & RESMEM_DT_F_DYNAMIC);
	if (out->region && (!fixed || (out->region->phys_addr == r->addr &&
				       out->region->size == r->size)))
		out->fate = CHECK_DT_CLAIMED;
	else if (r->problems)
		out->fate = CHECK_DT_REFUSED;
	else if (fixed && sys->iomem_zeroed)
		out->fate = CHECK_DT_UNKNOWN;
	else if (fixed && !reserved_at_boot(sys, r->addr, r->addr + r->size - 1,
					    !!(r->flags & RESMEM_DT_F_NO_MAP),
					    out->seen, sizeof(out->seen)))
		out->fate = CHECK_DT_NOT_RESERVED;
	else if (out->region)
		out->fate = CHECK_DT_NAME_ELSEWHERE;
	else if (sys->module_loaded)
		out->fate = CHECK_DT_NOT_BOUND;
	else
		out->fate = CHECK_DT_UNLOADED;
}

int check_dt_is_problem(enum check_dt_fate fate)
{
	return fate != CHECK_DT_CLAIMED && fate != CHECK_DT_UNLOADED;
}

const char *check_dt_fate_word(enum check_dt_fate fate)
{
	static const char *const words[] = {
		[CHECK_DT_CLAIMED] = "claimed",
		[CHECK_DT_REFUSED] = "refused",
		[CHECK_DT_NOT_RESERVED] = "not-reserved",
		[CHECK_DT_NAME_ELSEWHERE] = "name-elsewhere",
		[CHECK_DT_UNLOADED] = "module-not-loaded",
		[CHECK_DT_NOT_BOUND] = "not-bound",
		[CHECK_DT_UNKNOWN] = "unknown",
	};

	return words[fate];
}

/* The one-line explanation of @n's fate (REFUSED: its first reason). */
static void fate_text(const struct resmem_dt_view *v,
		      const struct check_dt_node *n, char *buf, size_t len)
{
	const struct resmem_dt_region *r = n->r;
	size_t k;

	switch (n->fate) {
	case CHECK_DT_CLAIMED:
		snprintf(buf, len, "claimed as /dev/resmem/%s", r->name);
		break;
	case CHECK_DT_REFUSED:
		for (k = 0; k < dt_n_problem_bits; k++)
			if (r->problems & dt_problem_bits[k])
				break;
		dt_why(v, r, dt_problem_bits[k], buf, len);
		break;
	case CHECK_DT_NOT_RESERVED:
		snprintf(
			buf, len,
			"not reserved at boot: /proc/iomem shows '%s' there, not a %s 'reserved' range; "
			"see the 'OF: reserved mem' lines of 'dmesg' (it overlaps the kernel or another "
			"reservation?)",
			n->seen,
			(r->flags & RESMEM_DT_F_NO_MAP) ? "top-level" :
							  "System RAM child");
		break;
	case CHECK_DT_NAME_ELSEWHERE:
		snprintf(
			buf, len,
			"/dev/resmem/%s is another range (0x%" PRIx64
			", %" PRIu64
			" bytes, %s): this node was refused; see 'dmesg | grep resmem'",
			r->name, n->region->phys_addr, n->region->size,
			n->region->source);
		break;
	case CHECK_DT_UNLOADED:
		snprintf(
			buf, len,
			"not bound: the resmem module is not loaded; it would make /dev/resmem/%s",
			r->name);
		break;
	case CHECK_DT_NOT_BOUND:
		snprintf(
			buf, len,
			"not bound: resmem is loaded but made no /dev/resmem/%s; see 'dmesg | grep resmem' for why",
			r->name);
		break;
	case CHECK_DT_UNKNOWN:
		snprintf(
			buf, len,
			"unknown: /proc/iomem shows zero addresses to non-root users: run 'sudo resmem check' to verify");
		break;
	}
}

int check_dt_report(const char *path, const struct resmem_dt_view *v,
		    const struct check_dt_sys *sys)
{
	char range[48], text[512];
	size_t i, k, nodes = 0, others = 0;
	int problems = 0;

	for (i = 0; i < v->n_reg; i++) {
		if (check_dt_is_resmem(&v->reg[i]))
			nodes++;
		else
			others++;
	}
	printf("device tree (%s): %zu resmem node%s", path, nodes,
	       nodes == 1 ? "" : "s");
	if (others)
		printf(", %zu other reservation%s", others,
		       others == 1 ? "" : "s");
	printf("\n");
	for (i = 0; i < v->n_reg; i++) {
		const struct resmem_dt_region *r = &v->reg[i];
		struct check_dt_node n;
		int bad;

		if (!check_dt_is_resmem(r))
			continue;
		check_dt_judge(r, sys, &n);
		bad = check_dt_is_problem(n.fate);
		printf("%s: %s%s\n", r->path,
		       dt_range(r->addr, r->size, range, sizeof(range)),
		       (r->flags & RESMEM_DT_F_NO_MAP) ? " no-map" : "");
		fate_text(v, &n, text, sizeof(text));
		printf("  %s: %s\n",
		       n.fate == CHECK_DT_CLAIMED ? "ok" :
		       bad			  ? "problem" :
						    "note",
		       text);
		problems += bad;
		/* the rest of a refused node's reasons */
		if (n.fate == CHECK_DT_REFUSED) {
			int first = 1;

			for (k = 0; k < dt_n_problem_bits; k++) {
				if (!(r->problems & dt_problem_bits[k]))
					continue;
				if (first) {
					first = 0;
					continue;
				}
				dt_why(v, r, dt_problem_bits[k], text,
				       sizeof(text));
				printf("  also: %s\n", text);
			}
		}
	}
	return problems;
}

int check_dt_json(FILE *f, const char *path, const struct resmem_dt_view *v,
		  const struct check_dt_sys *sys)
{
	char text[512], dev[64];
	size_t i, k, shown = 0;
	int problems = 0;

	fprintf(f, "\"devicetree\": ");
	if (!v) {
		fprintf(f, "null");
		return 0;
	}
	fprintf(f, "{\"path\": ");
	json_string(f, path);
	fprintf(f, ", \"nodes\": [");
	for (i = 0; i < v->n_reg; i++) {
		const struct resmem_dt_region *r = &v->reg[i];
		struct check_dt_node n;
		size_t w = 0;

		if (!check_dt_is_resmem(r))
			continue;
		check_dt_judge(r, sys, &n);
		problems += check_dt_is_problem(n.fate);
		fprintf(f, "%s{\"path\": ", shown++ ? ", " : "");
		json_string(f, r->path);
		fprintf(f, ", \"addr\": %" PRIu64 ", \"size\": %" PRIu64,
			r->addr, r->size);
		fprintf(f, ", \"name\": ");
		json_string(f, r->name);
		fprintf(f, ", \"fate\": \"%s\", \"device\": ",
			check_dt_fate_word(n.fate));
		if (n.fate == CHECK_DT_CLAIMED) {
			snprintf(dev, sizeof(dev), "/dev/resmem/%s", r->name);
			json_string(f, dev);
		} else {
			fprintf(f, "null");
		}
		fprintf(f, ", \"why\": [");
		if (n.fate == CHECK_DT_REFUSED) {
			for (k = 0; k < dt_n_problem_bits; k++) {
				if (!(r->problems & dt_problem_bits[k]))
					continue;
				dt_why(v, r, dt_problem_bits[k], text,
				       sizeof(text));
				fprintf(f, "%s", w++ ? ", " : "");
				json_string(f, text);
			}
		} else if (n.fate != CHECK_DT_CLAIMED) {
			fate_text(v, &n, text, sizeof(text));
			json_string(f, text);
		}
		fprintf(f, "]}");
	}
	fprintf(f, "]}");
	return problems;
}
