// SPDX-License-Identifier: GPL-2.0
/*
 * Quoting a string for the parser that will read it: GRUB's script lexer
 * (grub.cfg, BLS options read by blscfg), sh (/etc/default/grub is sourced
 * by grub-mkconfig), U-Boot's hush (setenv bootargs ...).
 */
#include <errno.h>
#include <string.h>

#include "resmem_plan.h"

struct out {
	char *buf;
	size_t len, n;
	int full;
};

static void put(struct out *o, const char *s)
{
	for (; *s; s++) {
		if (o->n + 1 >= o->len) {
			o->full = 1;
			return;
		}
		o->buf[o->n++] = *s;
	}
}

static void putc_(struct out *o, char c)
{
	char s[2] = { c, '\0' };

	put(o, s);
}

static int done(struct out *o)
{
	if (o->len)
		o->buf[o->n < o->len ? o->n : o->len - 1] = '\0';
	return o->full || !o->len ? -ENOSPC : 0;
}

static int grub_safe(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("_.,:/=+-", c));
}

int resmem_escape_grub(const char *s, char *buf, size_t len)
{
	struct out o = { buf, len, 0, 0 };

	for (; *s; s++) {
		if (!grub_safe(*s))
			putc_(&o, '\\');
		putc_(&o, *s);
	}
	return done(&o);
}

int resmem_escape_sh_dq(const char *s, char *buf, size_t len)
{
	struct out o = { buf, len, 0, 0 };

	for (; *s; s++) {
		if (strchr("\\$\"`", *s))
			putc_(&o, '\\');
		putc_(&o, *s);
	}
	return done(&o);
}

/* sh and hush agree: nothing is special inside '...', and ' cannot appear */
static int single_quote(const char *s, char *buf, size_t len)
{
	struct out o = { buf, len, 0, 0 };

	putc_(&o, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			put(&o, "'\\''");
		else
			putc_(&o, *s);
	}
	putc_(&o, '\'');
	return done(&o);
}

int resmem_escape_sh_sq(const char *s, char *buf, size_t len)
{
	return single_quote(s, buf, len);
}

int resmem_escape_hush(const char *s, char *buf, size_t len)
{
	return single_quote(s, buf, len);
}
