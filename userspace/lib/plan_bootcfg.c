// SPDX-License-Identifier: GPL-2.0
/*
 * Reading what a boot configuration already says: the kernel command line
 * split the way the kernel splits it, a GRUB argument string split the way
 * GRUB splits it, and the GRUB_CMDLINE_LINUX_DEFAULT value of
 * /etc/default/grub after sh's quote removal.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "resmem_plan.h"

void resmem_strv_free(char **v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

struct strv {
	char **v;
	size_t n, cap;
};

static int strv_add(struct strv *s, const char *p, size_t len)
{
	char *copy;

	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **bigger = realloc(s->v, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		s->v = bigger;
		s->cap = cap;
		s->v[s->n] = NULL; /* terminated even if the copy below fails */
	}
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, p, len);
	copy[len] = '\0';
	s->v[s->n++] = copy;
	s->v[s->n] = NULL;
	return 0;
}

static int strv_finish(struct strv *s, char ***out, size_t *n)
{
	if (!s->v) {
		s->v = calloc(1, sizeof(*s->v));
		if (!s->v)
			return -ENOMEM;
	}
	*out = s->v;
	if (n)
		*n = s->n;
	return 0;
}

int resmem_cmdline_split(const char *cmdline, char ***out, size_t *n)
{
	struct strv s = { 0 };
	const char *p = cmdline;
	char *word = malloc(strlen(cmdline) + 1);
	int err = 0;

	if (!word)
		return -ENOMEM;
	for (;;) {
		size_t w = 0;
		int q = 0;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		for (; *p && (q || !isspace((unsigned char)*p)); p++) {
			if (*p == '"')
				q = !q;
			else
				word[w++] = *p;
		}
		word[w] = '\0';
		if (!strcmp(word, "--"))
			break;
		err = strv_add(&s, word, w);
		if (err)
			break;
	}
	free(word);
	if (!err)
		err = strv_finish(&s, out, n);
	if (err)
		resmem_strv_free(s.v);
	return err;
}

int resmem_grub_words(const char *str, char ***verbatim, char ***decoded,
		      size_t *n)
{
	struct strv vs = { 0 }, ds = { 0 };
	const char *p = str;
	char *dec = malloc(strlen(str) + 1);
	int err = 0;

	if (!dec)
		return -ENOMEM;
	for (;;) {
		const char *start;
		size_t d = 0;
		char q = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		start = p;
		for (; *p && (q || (*p != ' ' && *p != '\t' && *p != '\n'));
		     p++) {
			if (q == '\'') {
				if (*p == '\'')
					q = 0;
				else
					dec[d++] = *p;
			} else if (*p == '\\' && p[1]) {
				if (q == '"' && !strchr("\\$\"\n", p[1]))
					dec[d++] = '\\';
				dec[d++] = *++p;
			} else if (*p == '"' || (!q && *p == '\'')) {
				q = q ? 0 : *p;
			} else {
				dec[d++] = *p;
			}
		}
		if (q) {
			err = -EINVAL;
			break;
		}
		err = strv_add(&vs, start, (size_t)(p - start));
		if (!err)
			err = strv_add(&ds, dec, d);
		if (err)
			break;
	}
	free(dec);
	if (!err)
		err = strv_finish(&vs, verbatim, n);
	if (!err)
		err = strv_finish(&ds, decoded, NULL);
	if (err) {
		resmem_strv_free(vs.v);
		resmem_strv_free(ds.v);
		*verbatim = *decoded = NULL;
	}
	return err;
}

/* Would sh expand this '$'?  Names, ${...}, $(...), and special parameters. */
static int sh_expands(const char *p)
{
	return p[1] &&
	       (isalnum((unsigned char)p[1]) || strchr("_{(@*#?$!-", p[1]));
}

/* The sh word at @p (an assignment's right-hand side) after quote removal. */
static int sh_word(const char *p, char *out)
{
	size_t o = 0;
	char q = 0;

	for (; *p; p++) {
		if (q == '\'') {
			if (*p == '\'')
				q = 0;
			else
				out[o++] = *p;
		} else if (*p == '\\') {
			if (!p[1])
				break;
			p++;
			if (*p == '\n')
				continue; /* line continuation */
			if (q == '"' && !strchr("\\$\"`", *p))
				out[o++] = '\\';
			out[o++] = *p;
		} else if (*p == '"') {
			q = q ? 0 : '"';
		} else if (!q && *p == '\'') {
			q = '\'';
		} else if (*p == '`' || (*p == '$' && sh_expands(p))) {
			return -ENOTSUP;
		} else if (!q && (isspace((unsigned char)*p) || *p == ';' ||
				  *p == '&' || *p == '|')) {
			break;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return q ? -EINVAL : 0;
}

int resmem_default_grub_value(const char *text, char **value, int *found)
{
	static const char key[] = "GRUB_CMDLINE_LINUX_DEFAULT=";
	const char *line = text, *last = NULL;
	char *v;
	int err;

	*value = NULL;
	*found = 0;
	while (*line) {
		const char *p = line, *nl = strchr(line, '\n');

		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, "export", 6) && (p[6] == ' ' || p[6] == '\t')) {
			p += 6;
			while (*p == ' ' || *p == '\t')
				p++;
		}
		if (!strncmp(p, key, sizeof(key) - 1))
			last = p + sizeof(key) - 1;
		if (!nl)
			break;
		line = nl + 1;
	}
	v = malloc(last ? strlen(last) + 1 : 1);
	if (!v)
		return -ENOMEM;
	v[0] = '\0';
	if (last) {
		err = sh_word(last, v);
		if (err) {
			free(v);
			return err;
		}
		*found = 1;
	}
	*value = v;
	return 0;
}

int resmem_plan_kaslr(const char *cmdline)
{
	char **w;
	size_t n, i;
	int nokaslr = 0;

	if (!cmdline || resmem_cmdline_split(cmdline, &w, &n))
		return -1;
	for (i = 0; i < n; i++)
		nokaslr |= !strcmp(w[i], "nokaslr");
	resmem_strv_free(w);
	return nokaslr ? 0 : -1;
}
