// SPDX-License-Identifier: GPL-2.0
/*
 * Reading what a boot configuration already says: the kernel command line
 * split the way the kernel splits it, a GRUB argument string split the way
 * GRUB splits it, and the GRUB_CMDLINE_LINUX_DEFAULT value of
 * /etc/default/grub after sh's quote removal.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
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

/*
 * Bytes of the GRUB variable reference at @p ('$'), 0 if none: $NAME,
 * $DIGITS, $? $# $* $@, ${...}.  GRUB expands it (to nothing here: no
 * kernel parameter means a GRUB variable on purpose).
 */
static size_t grub_var_len(const char *p)
{
	size_t n = 1;

	if (p[1] == '{') {
		const char *end = strchr(p, '}');

		return end ? (size_t)(end - p) + 1 : 0;
	}
	if (isdigit((unsigned char)p[1])) {
		while (isdigit((unsigned char)p[n]))
			n++;
		return n;
	}
	if (isalpha((unsigned char)p[1]) || p[1] == '_') {
		while (isalnum((unsigned char)p[n]) || p[n] == '_')
			n++;
		return n;
	}
	return p[1] && strchr("?#*@", p[1]) ? 2 : 0;
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
			} else if (*p == '$' && grub_var_len(p)) {
				p += grub_var_len(p) - 1;
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

/* grub-mkconfig sources the file after shifting its options away (Debian's path). */
#define SH_DOLLAR0 "/usr/sbin/grub-mkconfig"

/*
 * What sh puts in place of the expansion at @p ('$'): set *len to the text
 * consumed and return the expansion (static or @self), "" for an empty one,
 * NULL for one that cannot be known here ($OTHER, $(...), ${x:-y}, $$...).
 * A '$' that does not start an expansion returns "$" and consumes one byte.
 */
static const char *sh_expansion(const char *p, const char *self,
				const char *name, size_t *len)
{
	size_t nl = strlen(name);
	int brace = p[1] == '{';
	const char *q = p + 1 + brace;

	*len = 1;
	if (!*q || (!isalnum((unsigned char)*q) && !strchr("_{(@*#?$!-", *q)))
		return "$";
	if (brace || isalpha((unsigned char)*q) || *q == '_') {
		size_t n = 0;

		while (isalnum((unsigned char)q[n]) || q[n] == '_')
			n++;
		if (brace && (q[n] != '}' || !n))
			return NULL;
		*len = 1 + brace + n + brace;
		if (n == nl && !strncmp(q, name, n))
			return self; /* NULL when the earlier value was unknown */
		return n == 1 && isdigit((unsigned char)*q) ?
			       (*q == '0' ? SH_DOLLAR0 : "") :
			       NULL;
	}
	*len = 2;
	if (isdigit((unsigned char)*q)) /* the positional parameters are gone */
		return *q == '0' ? SH_DOLLAR0 : "";
	if (*q == '#' || *q == '?')
		return "0";
	if (*q == '@' || *q == '*')
		return "";
	return NULL;
}

/* a growable string for sh_word() */
struct buf {
	char *s;
	size_t n, cap;
};

static int buf_put(struct buf *b, const char *s, size_t len)
{
	if (b->n + len + 1 > b->cap) {
		size_t cap = (b->n + len + 1) * 2;
		char *bigger = realloc(b->s, cap);

		if (!bigger)
			return -ENOMEM;
		b->s = bigger;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, len);
	b->n += len;
	b->s[b->n] = '\0';
	return 0;
}

/*
 * The sh word at @p (an assignment's right-hand side) after expansion and
 * quote removal, into *out (malloc()ed).  @self is the variable's value so
 * far (NULL: unknown), what $@name expands to.
 */
static int sh_word(const char *p, const char *name, const char *self,
		   char **out)
{
	struct buf b = { 0 };
	char q = 0;
	int err = buf_put(&b, "", 0);

	for (; *p && !err; p++) {
		if (q == '\'') {
			if (*p == '\'')
				q = 0;
			else
				err = buf_put(&b, p, 1);
		} else if (*p == '\\') {
			if (!p[1])
				break;
			p++;
			if (*p == '\n')
				continue; /* line continuation */
			if (q == '"' && !strchr("\\$\"`", *p))
				err = buf_put(&b, "\\", 1);
			if (!err)
				err = buf_put(&b, p, 1);
		} else if (*p == '"') {
			q = q ? 0 : '"';
		} else if (!q && *p == '\'') {
			q = '\'';
		} else if (*p == '`') {
			err = -ENOTSUP;
		} else if (*p == '$') {
			size_t len;
			const char *v = sh_expansion(p, self, name, &len);

			if (!v)
				err = -ENOTSUP;
			else
				err = buf_put(&b, v, strlen(v));
			p += len - 1;
		} else if (!q && (isspace((unsigned char)*p) || *p == ';' ||
				  *p == '&' || *p == '|')) {
			break;
		} else {
			err = buf_put(&b, p, 1);
		}
	}
	if (!err && q)
		err = -EINVAL;
	if (err) {
		free(b.s);
		return err;
	}
	*out = b.s;
	return 0;
}

/* the assignment's right-hand side if @line assigns @name (export allowed) */
static const char *assigns(const char *line, const char *name)
{
	const char *p = line;
	size_t n = strlen(name);

	while (*p == ' ' || *p == '\t')
		p++;
	if (!strncmp(p, "export", 6) && (p[6] == ' ' || p[6] == '\t')) {
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	return !strncmp(p, name, n) && p[n] == '=' ? p + n + 1 : NULL;
}

int resmem_default_grub_var(const char *text, const char *name, char **value,
			    int *found)
{
	const char *line = text;
	char *v = NULL;
	int err = 0;

	*value = NULL;
	*found = 0;
	while (*line) {
		const char *rhs = assigns(line, name), *nl = strchr(line, '\n');

		if (rhs) {
			char *next = NULL;
			int e = sh_word(rhs, name, err ? NULL : (v ? v : ""),
					&next);

			if (e == -ENOMEM) {
				free(v);
				return e;
			}
			free(v);
			v = next;
			err = e;
			*found = 1;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	if (err)
		return err;
	if (!v) {
		v = strdup("");
		if (!v)
			return -ENOMEM;
	}
	*value = v;
	return 0;
}

int resmem_default_grub_value(const char *text, char **value, int *found)
{
	return resmem_default_grub_var(text, "GRUB_CMDLINE_LINUX_DEFAULT",
				       value, found);
}

char *resmem_default_grub_lines(const char *text, const char *name)
{
	struct buf b = { 0 };
	const char *line = text;

	if (buf_put(&b, "", 0))
		return NULL;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (assigns(line, name) && buf_put(&b, line, len + !!nl)) {
			free(b.s);
			return NULL;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return b.s;
}

static int is_cfg(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && !strcmp(d->d_name + n - 4, ".cfg") &&
	       strcmp(d->d_name, RESMEM_PLAN_DROPIN);
}

/* @path's text appended to @b, with a newline */
static int buf_add_file(struct buf *b, const char *path)
{
	char *text;
	int err = resmem_read_file(path, &text);

	if (err)
		return err;
	err = buf_put(b, text, strlen(text));
	if (!err)
		err = buf_put(b, "\n", 1);
	free(text);
	return err;
}

int resmem_grub_dropins(const char *dir, char **before, char **after)
{
	struct buf side[2] = { { 0 }, { 0 } };
	struct dirent **names;
	int n, i, err = 0;

	*before = *after = NULL;
	n = scandir(dir, &names, is_cfg, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	for (i = 0; i < n; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (!err)
			err = buf_add_file(
				&side[strcoll(names[i]->d_name,
					      RESMEM_PLAN_DROPIN) > 0],
				path);
		free(names[i]);
	}
	free(names);
	if (err) {
		free(side[0].s);
		free(side[1].s);
		return err;
	}
	*before = side[0].s;
	*after = side[1].s;
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
