// SPDX-License-Identifier: GPL-2.0
/*
 * The planned memmap= parameters written for each boot loader, each escaped
 * for the parser that reads it, keeping what the existing configuration
 * already says (minus older memmap= reservations it replaces).  This is the
 * boot-loader policy: which file each loader reads, and how many times a
 * '$' is unescaped on the way to the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resmem_plan.h"

char *resmem_format_memparse(uint64_t v, char *buf, size_t len)
{
	static const char suffix[] = "KMGT";
	int i;

	/* the largest unit that divides exactly, as people write memmap= */
	for (i = 3; i >= 0; i--) {
		uint64_t unit = 1ULL << (10 * (i + 1));

		if (v && v % unit == 0) {
			snprintf(buf, len, "%llu%c",
				 (unsigned long long)(v / unit), suffix[i]);
			return buf;
		}
	}
	snprintf(buf, len, v < 1024 ? "%llu" : "0x%llx", (unsigned long long)v);
	return buf;
}

/* A growing string; the first error sticks and is reported by sb_done(). */
struct sb {
	char *s;
	size_t n, cap;
	int err;
};

static void sb_add(struct sb *b, const char *s)
{
	size_t len = strlen(s);

	if (b->err)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t cap = (b->n + len + 1) * 2;
		char *bigger = realloc(b->s, cap);

		if (!bigger) {
			b->err = -ENOMEM;
			return;
		}
		b->s = bigger;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, len + 1);
	b->n += len;
}

/* a word of a space-separated list */
static void sb_word(struct sb *b, const char *s)
{
	if (b->n)
		sb_add(b, " ");
	sb_add(b, s);
}

/* escaped with @esc (which may need up to 4x + 3 bytes) */
static void sb_esc(struct sb *b, int (*esc)(const char *, char *, size_t),
		   const char *s)
{
	size_t len = strlen(s) * 4 + 3;
	char *tmp = malloc(len);

	if (!tmp) {
		b->err = -ENOMEM;
		return;
	}
	if (esc(s, tmp, len))
		b->err = -ENOMEM;
	else
		sb_add(b, tmp);
	free(tmp);
}

static char *sb_done(struct sb *b, int *err)
{
	if (!b->s && !b->err)
		sb_add(b, "");
	if (b->err) {
		free(b->s);
		*err = b->err;
		return NULL;
	}
	return b->s;
}

/* memmap=... that this plan replaces: SIZE$ADDR, or a bare SIZE (an eaten $) */
static int replaced_word(const char *w)
{
	struct resmem_memmap *m;
	size_t n, i;
	int all = 1;

	if (strncmp(w, "memmap=", 7) || resmem_memmap_parse(w, &m, &n))
		return 0;
	for (i = 0; i < n; i++)
		all &= m[i].kind == RESMEM_MEMMAP_RESERVE ||
		       m[i].kind == RESMEM_MEMMAP_LIMIT;
	free(m);
	return n && all;
}

static int count_memmap(const char *w)
{
	struct resmem_memmap *m;
	size_t n;

	if (strncmp(w, "memmap=", 7) || resmem_memmap_parse(w, &m, &n))
		return 0;
	free(m);
	return (int)n;
}

/* a kernel parameter as the kernel reads it: quote values with spaces */
static void sb_kernel_word(struct sb *b, const char *w)
{
	const char *eq = strchr(w, '=');

	if (!strpbrk(w, " \t")) {
		sb_word(b, w);
		return;
	}
	if (b->n)
		sb_add(b, " ");
	if (eq) {
		char *name = strndup(w, (size_t)(eq - w) + 1);

		if (!name) {
			b->err = -ENOMEM;
			return;
		}
		sb_add(b, name);
		free(name);
		sb_add(b, "\"");
		sb_add(b, eq + 1);
	} else {
		sb_add(b, "\"");
		sb_add(b, w);
	}
	sb_add(b, "\"");
}

/* the running command line: what every loader line keeps */
static int build_from_cmdline(const struct resmem_plan *p, const char *cmdline,
			      struct resmem_plan_lines *l, struct sb *dropped)
{
	struct sb kern = { 0 }, grub = { 0 }, line = { 0 }, sd = { 0 },
		  ub = { 0 }, gb = { 0 };
	const char *image = "/boot/vmlinuz";
	char **w = NULL;
	size_t n = 0, i;
	unsigned k;
	int err = 0;

	if (cmdline) {
		err = resmem_cmdline_split(cmdline, &w, &n);
		if (err)
			return err;
	}
	for (i = 0; i < n; i++) {
		if (!strncmp(w[i], "BOOT_IMAGE=", 11)) {
			image = w[i] + 11;
			continue;
		}
		if (!strncmp(w[i], "initrd=", 7))
			continue;
		if (replaced_word(w[i])) {
			sb_word(dropped, w[i]);
			continue;
		}
		l->memmap_total += count_memmap(w[i]);
		sb_kernel_word(&kern, w[i]);
		if (grub.n)
			sb_add(&grub, " ");
		sb_esc(&grub, resmem_escape_grub, w[i]);
	}
	for (k = 0; k < p->n; k++) {
		char word[80];

		snprintf(word, sizeof(word), "memmap=%s", l->memmap[k]);
		sb_word(&kern, word);
		if (grub.n)
			sb_add(&grub, " ");
		sb_esc(&grub, resmem_escape_grub, word);
		if (gb.n)
			sb_add(&gb, " ");
		sb_esc(&gb, resmem_escape_grub, word);
		l->memmap_total++;
	}
	sb_add(&line, "linux ");
	sb_esc(&line, resmem_escape_grub, image);
	sb_add(&line, " ");
	sb_add(&line, grub.s ? grub.s : "");
	l->grub_cfg = sb_done(&line, &err);
	l->grub_cfg_args = sb_done(&gb, &err);

	sb_add(&sd, "options ");
	sb_add(&sd, kern.s ? kern.s : "");
	l->systemd_boot = sb_done(&sd, &err);

	sb_add(&ub, "setenv bootargs ");
	sb_esc(&ub, resmem_escape_hush, kern.s ? kern.s : "");
	l->uboot = sb_done(&ub, &err);

	free(grub.s);
	free(kern.s);
	resmem_strv_free(w);
	return err;
}

/* GRUB_CMDLINE_LINUX_DEFAULT="..." keeping the file's other words */
static int build_default_grub(const struct resmem_plan *p, const char *text,
			      struct resmem_plan_lines *l, struct sb *dropped,
			      struct sb *dup)
{
	struct sb val = { 0 }, line = { 0 };
	char **verb = NULL, **dec = NULL, *value;
	size_t n, i;
	unsigned k;
	int err;

	err = resmem_default_grub_value(text ? text : "", &value,
					&l->grub_found);
	if (err) {
		l->grub_err = err;
		return err == -ENOMEM ? err : 0;
	}
	err = resmem_grub_words(value, &verb, &dec, &n);
	free(value);
	if (err) {
		l->grub_err = err;
		return err == -ENOMEM ? err : 0;
	}
	for (i = 0; i < n; i++) {
		if (replaced_word(dec[i])) {
			sb_word(dropped, dec[i]);
			sb_word(dup, dec[i]);
			continue;
		}
		sb_word(&val, verb[i]);
	}
	for (k = 0; k < p->n; k++) {
		char word[80];

		snprintf(word, sizeof(word), "memmap=%s", l->memmap[k]);
		if (val.n)
			sb_add(&val, " ");
		sb_esc(&val, resmem_escape_grub, word);
	}
	sb_add(&line, "GRUB_CMDLINE_LINUX_DEFAULT=\"");
	sb_esc(&line, resmem_escape_sh_dq, val.s ? val.s : "");
	sb_add(&line, "\"");
	l->etc_default_grub = sb_done(&line, &err);
	free(val.s);
	resmem_strv_free(verb);
	resmem_strv_free(dec);
	return err;
}

static int build_dropin(const struct resmem_plan *p,
			struct resmem_plan_lines *l)
{
	struct sb d = { 0 }, grub = { 0 };
	char word[80];
	unsigned k;
	int err = 0;

	sb_add(&d,
	       "# Written by `resmem plan --write`: reserves memory for the resmem driver.\n"
	       "# grub-mkconfig (update-grub) sources this file with sh after /etc/default/grub\n"
	       "# and copies the value into grub.cfg, where GRUB parses it again: the '$' of\n"
	       "# memmap= is written \\\\\\$ here (sh makes it \\$, GRUB makes it $).\n"
	       "# See docs/reserving-memory.md.  Remove this file to drop the reservation.\n"
	       "#   kernel command line:");
	for (k = 0; k < p->n; k++) {
		snprintf(word, sizeof(word), " memmap=%s", l->memmap[k]);
		sb_add(&d, word);
		snprintf(word, sizeof(word), "memmap=%s", l->memmap[k]);
		sb_add(&grub, " ");
		sb_esc(&grub, resmem_escape_grub, word);
	}
	sb_add(&d,
	       "\nGRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT");
	sb_esc(&d, resmem_escape_sh_dq, grub.s ? grub.s : "");
	sb_add(&d, "\"\n");
	l->dropin = sb_done(&d, &err);
	free(grub.s);
	return err;
}

int resmem_plan_lines_build(const struct resmem_plan *p, const char *cmdline,
			    const char *grub_default,
			    struct resmem_plan_lines *l)
{
	struct sb kern = { 0 }, gb = { 0 }, dropped = { 0 }, dup = { 0 },
		  unused = { 0 };
	char sz[32], word[80];
	unsigned k;
	int err = 0;

	memset(l, 0, sizeof(*l));
	for (k = 0; k < p->n; k++) {
		resmem_format_memparse(p->r[k].size, sz, sizeof(sz));
		snprintf(l->memmap[k], sizeof(l->memmap[k]), "%s$0x%llx", sz,
			 (unsigned long long)p->r[k].start);
		snprintf(word, sizeof(word), "memmap=%s", l->memmap[k]);
		sb_word(&kern, word);
		if (gb.n)
			sb_add(&gb, " ");
		sb_esc(&gb, resmem_escape_grub, word);
	}
	l->kernel = sb_done(&kern, &err);
	if (!err)
		err = build_from_cmdline(p, cmdline, l, &dropped);
	if (!err)
		err = build_default_grub(p, grub_default, l, &unused, &dup);
	if (!err)
		err = build_dropin(p, l);
	if (!err) {
		struct sb g = { 0 };

		sb_add(&g, "grubby --update-kernel=ALL --args=");
		sb_esc(&g, resmem_escape_sh_sq, gb.s ? gb.s : "");
		l->grubby = sb_done(&g, &err);
	}
	free(gb.s);
	free(unused.s);
	l->dropped = sb_done(&dropped, &err);
	l->dropin_dup = sb_done(&dup, &err);
	l->kaslr_safe = l->memmap_total <= RESMEM_PLAN_KASLR_AVOIDS;
	return err;
}

void resmem_plan_lines_free(struct resmem_plan_lines *l)
{
	free(l->kernel);
	free(l->etc_default_grub);
	free(l->dropin);
	free(l->grub_cfg);
	free(l->grub_cfg_args);
	free(l->grubby);
	free(l->systemd_boot);
	free(l->uboot);
	free(l->dropped);
	free(l->dropin_dup);
	memset(l, 0, sizeof(*l));
}
