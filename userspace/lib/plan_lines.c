// SPDX-License-Identifier: GPL-2.0
/*
 * The planned memmap= parameters written for each boot loader, each escaped
 * for the parser that reads it, keeping what the existing configuration
 * already says (minus older memmap= reservations it replaces).  This is the
 * boot-loader policy: which file each loader reads, and how many times a
 * '$' is unescaped on the way to the kernel.
 */
#include <ctype.h>
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

/*
 * memmap=... that this plan replaces: SIZE$ADDR, a bare SIZE (an eaten '$':
 * it caps RAM), or what the kernel rejects (memmap=8GG, 8Gx100000000: a
 * '$' and what followed, expanded away by sh or GRUB).
 */
static int replaced_word(const char *w)
{
	struct resmem_memmap *m;
	size_t n, i;
	int all = 1;

	if (strncmp(w, "memmap=", 7) || resmem_memmap_parse(w, &m, &n))
		return 0;
	for (i = 0; i < n; i++)
		all &= m[i].kind == RESMEM_MEMMAP_RESERVE ||
		       m[i].kind == RESMEM_MEMMAP_LIMIT ||
		       m[i].kind == RESMEM_MEMMAP_INVALID || m[i].trailing;
	free(m);
	return n && all;
}

/* one word of the replaced list, kept once ('\n'-separated) */
static void add_replaced(struct sb *b, const char *w)
{
	const char *p = b->s;
	size_t len = strlen(w);

	for (; p && *p; p = strchr(p, '\n') + 1)
		if (!strncmp(p, w, len) && p[len] == '\n')
			return;
	sb_add(b, w);
	sb_add(b, "\n");
}

/* the '\n'-separated list as a NULL-terminated array */
static char **split_lines(const char *s, int *err)
{
	char **v;
	size_t n = 0, i = 0;
	const char *p;

	for (p = s; p && *p; p = strchr(p, '\n') + 1)
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v) {
		*err = -ENOMEM;
		return NULL;
	}
	for (p = s; p && *p; p = strchr(p, '\n') + 1) {
		v[i] = strndup(p, (size_t)(strchr(p, '\n') - p));
		if (!v[i++])
			*err = -ENOMEM;
	}
	return v;
}

/*
 * What follows the kernel's own parameters: the text after the first "--"
 * word outside quotes (the kernel hands it to init), or NULL.
 */
static const char *init_args(const char *cmdline)
{
	const char *p = cmdline;

	while (p && *p) {
		const char *start;
		int q = 0;

		while (isspace((unsigned char)*p))
			p++;
		start = p;
		for (; *p && (q || !isspace((unsigned char)*p)); p++)
			if (*p == '"')
				q = !q;
		if (p - start == 2 && !strncmp(start, "--", 2)) {
			while (isspace((unsigned char)*p))
				p++;
			return p;
		}
	}
	return NULL;
}

/* " -- ARGS" with each word escaped by @esc (NULL: as it is) */
static void sb_init_args(struct sb *b, const char *args,
			 int (*esc)(const char *, char *, size_t))
{
	char *copy, *w, *save = NULL;

	if (!args)
		return;
	sb_word(b, "--");
	copy = strdup(args);
	if (!copy) {
		b->err = -ENOMEM;
		return;
	}
	for (w = strtok_r(copy, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save)) {
		sb_add(b, " ");
		if (esc)
			sb_esc(b, esc, w);
		else
			sb_add(b, w);
	}
	free(copy);
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

/* the new memmap= words, each escaped with @esc, appended to @b */
static void sb_new_words(struct sb *b, const struct resmem_plan_lines *l,
			 unsigned n, int (*esc)(const char *, char *, size_t))
{
	char word[80];
	unsigned k;

	for (k = 0; k < n; k++) {
		snprintf(word, sizeof(word), "memmap=%s", l->memmap[k]);
		if (b->n)
			sb_add(b, " ");
		if (esc)
			sb_esc(b, esc, word);
		else
			sb_add(b, word);
	}
}

/*
 * The running command line: what the grub.cfg, systemd-boot and U-Boot
 * lines keep.  @gone collects the words replaced there (for grubby).
 */
static int build_from_cmdline(const struct resmem_plan *p, const char *cmdline,
			      struct resmem_plan_lines *l, struct sb *replaced,
			      struct sb *gone, int *memmaps)
{
	struct sb kern = { 0 }, grub = { 0 }, line = { 0 }, sd = { 0 },
		  ub = { 0 }, gb = { 0 };
	const char *image = "/boot/vmlinuz", *tail = init_args(cmdline);
	char **w = NULL;
	size_t n = 0, i;
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
			add_replaced(replaced, w[i]);
			if (gone->n)
				sb_add(gone, " ");
			sb_esc(gone, resmem_escape_grub, w[i]);
			continue;
		}
		*memmaps += count_memmap(w[i]);
		sb_kernel_word(&kern, w[i]);
		if (grub.n)
			sb_add(&grub, " ");
		sb_esc(&grub, resmem_escape_grub, w[i]);
	}
	sb_new_words(&kern, l, p->n, NULL);
	sb_new_words(&grub, l, p->n, resmem_escape_grub);
	sb_new_words(&gb, l, p->n, resmem_escape_grub);
	*memmaps += (int)p->n;
	sb_init_args(&kern, tail, NULL);
	sb_init_args(&grub, tail, resmem_escape_grub);

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

/*
 * Variable @name's new value, as GRUB script (what sh must leave), into
 * @val: the words grub-mkconfig gets from @text but the replaced and
 * mangled memmap= ones (into @broken), then, with @plan, the plan's.
 * @gerr is set when the value cannot be known (-ENOTSUP, -EINVAL).
 * Returns 0 or -ENOMEM.
 */
static int eval_grub(const struct resmem_plan *p, const char *text,
		     const char *name, int plan, struct resmem_plan_lines *l,
		     struct sb *replaced, struct sb *val, struct sb *broken,
		     int *memmaps, int *gerr)
{
	char **verb = NULL, **dec = NULL, *old;
	size_t n, i;
	int err, found;

	err = resmem_default_grub_var(text, name, &old, &found);
	if (!err) {
		err = resmem_grub_words(old, &verb, &dec, &n);
		free(old);
	}
	if (err) {
		*gerr = err == -ENOMEM ? 0 : err;
		return err == -ENOMEM ? err : 0;
	}
	if (plan)
		l->grub_found |= found;
	for (i = 0; i < n; i++) {
		if (replaced_word(dec[i])) {
			add_replaced(replaced, dec[i]);
			sb_word(broken, dec[i]);
			continue;
		}
		*memmaps += count_memmap(dec[i]);
		sb_word(val, verb[i]);
	}
	if (plan) {
		sb_new_words(val, l, p->n, resmem_escape_grub);
		*memmaps += (int)p->n;
	}
	resmem_strv_free(verb);
	resmem_strv_free(dec);
	return val->err ? val->err : broken->err;
}

/* keep the lines of @s (each ending in '\n') that hold a memmap= word */
static void keep_memmap_lines(char *s)
{
	char *in = s, *out = s;

	while (*in) {
		char *nl = strchr(in, '\n');
		size_t len = nl ? (size_t)(nl - in) + 1 : strlen(in);
		char c = in[len];

		in[len] = '\0';
		if (strstr(in, "memmap=")) {
			memmove(out, in, len);
			out += len;
		}
		in[len] = c;
		in += len;
	}
	*out = '\0';
}

/* the assignments of @name in @text that hold memmap=, added to @b */
static void add_refused_lines(struct sb *b, const char *text, const char *name)
{
	char *lines = resmem_default_grub_lines(text, name);

	if (!lines) {
		b->err = -ENOMEM;
		return;
	}
	keep_memmap_lines(lines);
	sb_add(b, lines);
	free(lines);
}

/*
 * The /etc/default/grub line from the file alone (@file), and what the
 * drop-in must do from the file and the drop-ins sourced before ours
 * (@all): *value and *grub_linux are the values of GRUB_CMDLINE_LINUX_DEFAULT
 * and GRUB_CMDLINE_LINUX it assigns when they hold words to take out
 * (l->grub_broken; else it appends to the first).  *memmaps counts the
 * memmap= ranges of the GRUB line, -1 when it cannot be known.
 */
static int build_default_grub(const struct resmem_plan *p, const char *file,
			      const char *all, struct resmem_plan_lines *l,
			      struct sb *replaced, char **value,
			      char **grub_linux, int *memmaps)
{
	struct sb val = { 0 }, broken = { 0 }, line = { 0 }, lin = { 0 },
		  refuse = { 0 };
	int err, gerr = 0, lerr = 0, unused = 0;
	size_t in_default;

	*value = *grub_linux = NULL;
	err = eval_grub(p, file, "GRUB_CMDLINE_LINUX_DEFAULT", 1, l, replaced,
			&val, &refuse, &unused, &gerr);
	l->grub_err = gerr;
	if (!err && !gerr) {
		sb_add(&line, "GRUB_CMDLINE_LINUX_DEFAULT=\"");
		sb_esc(&line, resmem_escape_sh_dq, val.s ? val.s : "");
		sb_add(&line, "\"");
		l->etc_default_grub = sb_done(&line, &err);
	}
	if (!all)
		all = file;
	free(val.s);
	free(refuse.s); /* the file's own broken words: counted again below */
	memset(&val, 0, sizeof(val));
	memset(&refuse, 0, sizeof(refuse));
	gerr = 0;
	if (!err)
		err = eval_grub(p, all, "GRUB_CMDLINE_LINUX_DEFAULT", 1, l,
				replaced, &val, &broken, memmaps, &gerr);
	in_default = broken.n;
	if (!err)
		err = eval_grub(p, all, "GRUB_CMDLINE_LINUX", 0, l, replaced,
				&lin, &broken, memmaps, &lerr);
	sb_add(&refuse, "");
	if (gerr)
		add_refused_lines(&refuse, all, "GRUB_CMDLINE_LINUX_DEFAULT");
	if (lerr)
		add_refused_lines(&refuse, all, "GRUB_CMDLINE_LINUX");
	if (gerr || lerr)
		*memmaps = -1;
	/* each variable that held a word to take out is re-assigned whole */
	if (broken.n > in_default)
		*grub_linux = sb_done(&lin, &err);
	else
		free(lin.s);
	if (in_default)
		*value = sb_done(&val, &err);
	else
		free(val.s);
	l->grub_refuse = sb_done(&refuse, &err);
	l->grub_broken = sb_done(&broken, &err);
	return err;
}

/*
 * The drop-in: appends the plan to GRUB_CMDLINE_LINUX_DEFAULT, or, when
 * it holds a memmap= word to take out, assigns it whole without that word
 * (@value); GRUB_CMDLINE_LINUX likewise (@grub_linux, NULL: left alone).
 */
static int build_dropin(const struct resmem_plan *p,
			struct resmem_plan_lines *l, const char *value,
			const char *grub_linux)
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
	}
	if (value || grub_linux) {
		sb_add(&d,
		       "\n# Assigns the whole value, without the memmap= words this reservation\n"
		       "# replaces (or sh and GRUB mangle) that it had so far: ");
		sb_add(&d, l->grub_broken);
	}
	if (grub_linux) {
		sb_add(&d, "\nGRUB_CMDLINE_LINUX=\"");
		sb_esc(&d, resmem_escape_sh_dq, grub_linux);
		sb_add(&d, "\"");
	}
	if (value) {
		sb_add(&d, "\nGRUB_CMDLINE_LINUX_DEFAULT=\"");
		sb_esc(&d, resmem_escape_sh_dq, value);
	} else {
		sb_new_words(&grub, l, p->n, resmem_escape_grub);
		sb_add(&d,
		       "\nGRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT ");
		sb_esc(&d, resmem_escape_sh_dq, grub.s ? grub.s : "");
	}
	sb_add(&d, "\"\n");
	l->dropin = sb_done(&d, &err);
	free(grub.s);
	return err;
}

int resmem_plan_lines_build(const struct resmem_plan *p, const char *cmdline,
			    const char *grub_default, const char *grub_dropins,
			    struct resmem_plan_lines *l)
{
	char *all = NULL;
	int all_given = grub_dropins && grub_dropins[0];
	struct sb kern = { 0 }, gb = { 0 }, replaced = { 0 }, gone = { 0 },
		  g = { 0 };
	char sz[32], *value = NULL, *grub_linux = NULL;
	unsigned k;
	int err = 0, run_memmaps = 0, grub_memmaps = 0;

	memset(l, 0, sizeof(*l));
	l->cmdline_known = cmdline != NULL;
	for (k = 0; k < p->n; k++) {
		resmem_format_memparse(p->r[k].size, sz, sizeof(sz));
		snprintf(l->memmap[k], sizeof(l->memmap[k]), "%s$0x%llx", sz,
			 (unsigned long long)p->r[k].start);
	}
	sb_new_words(&kern, l, p->n, NULL);
	sb_new_words(&gb, l, p->n, resmem_escape_grub);
	l->kernel = sb_done(&kern, &err);
	if (!err)
		err = build_from_cmdline(p, cmdline, l, &replaced, &gone,
					 &run_memmaps);
	if (!err && all_given) {
		/* sh reads them after the file: a file without a final newline too */
		all = malloc(strlen(grub_default ? grub_default : "") +
			     strlen(grub_dropins) + 2);
		if (!all)
			err = -ENOMEM;
		else
			sprintf(all, "%s\n%s", grub_default ? grub_default : "",
				grub_dropins);
	}
	if (!err)
		err = build_default_grub(p, grub_default ? grub_default : "",
					 all, l, &replaced, &value, &grub_linux,
					 &grub_memmaps);
	free(all);
	if (!err)
		err = build_dropin(p, l, value, grub_linux);
	if (!err) {
		/* grubby edits the BLS entries: out with what the plan replaces */
		sb_add(&g, "grubby --update-kernel=ALL");
		if (gone.n) {
			sb_add(&g, " --remove-args=");
			sb_esc(&g, resmem_escape_sh_sq, gone.s);
		}
		sb_add(&g, " --args=");
		sb_esc(&g, resmem_escape_sh_sq, gb.s ? gb.s : "");
		l->grubby = sb_done(&g, &err);
	}
	free(gb.s);
	free(gone.s);
	free(value);
	free(grub_linux);
	if (!err)
		l->replaces = split_lines(replaced.s, &err);
	free(replaced.s);
	if (!l->grub_broken && !err)
		l->grub_broken = strdup("");
	if (!l->grub_refuse && !err)
		l->grub_refuse = strdup("");
	if (!err && (!l->grub_broken || !l->grub_refuse))
		err = -ENOMEM;
	/* the line that boots: GRUB's when /etc/default/grub is known */
	l->memmap_total = (grub_default || all_given) && grub_memmaps >= 0 ?
				  grub_memmaps :
				  run_memmaps;
	l->kaslr_safe = l->memmap_total <= RESMEM_PLAN_KASLR_AVOIDS;
	if (err)
		resmem_plan_lines_free(l);
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
	resmem_strv_free(l->replaces);
	free(l->grub_broken);
	free(l->grub_refuse);
	memset(l, 0, sizeof(*l));
}
