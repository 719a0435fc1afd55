// SPDX-License-Identifier: GPL-2.0
/*
 * memmap= entries of a kernel command line, read the way the kernel reads
 * them (arch/x86/kernel/e820.c: parse_memmap_opt/parse_memmap_one and
 * lib/cmdline.c: memparse), so we report what the kernel actually did.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "libresmem.h"

/* simple_strtoull(base 0) + memparse suffixes.  Returns chars consumed,
 * 0 if there was no number, -1 on overflow (the kernel would wrap). */
static int memparse(const char *s, uint64_t *out)
{
	const char *p = s, *end;
	uint64_t v;
	unsigned shift = 0;
	int base = 10;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    strchr("0123456789abcdefABCDEF", p[2]) && p[2]) {
		base = 16;
		p += 2;
	} else if (p[0] == '0') {
		base = 8;
	}
	if (base == 8) {
		/* rm_parse_u64 knows 10 and 16 only: octal by hand */
		v = 0;
		for (end = p; *end >= '0' && *end <= '7'; end++) {
			if (v >> 61)
				return -1;
			v = v * 8 + (uint64_t)(*end - '0');
		}
	} else {
		int err = rm_parse_u64(p, base, &v, &end);

		if (err == -ERANGE)
			return -1;
		if (err)
			return 0;
	}
	switch (*end) {
	case 'E':
	case 'e':
		shift = 60;
		break;
	case 'P':
	case 'p':
		shift = 50;
		break;
	case 'T':
	case 't':
		shift = 40;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'K':
	case 'k':
		shift = 10;
		break;
	}
	if (shift) {
		if (v > (UINT64_MAX >> shift))
			return -1;
		v <<= shift;
		end++;
	}
	*out = v;
	return (int)(end - s);
}

static void parse_one(const char *text, struct resmem_memmap *m)
{
	const char *p = text;
	int n;

	memset(m, 0, sizeof(*m));
	rm_strlcpy(m->text, text, sizeof(m->text));
	m->kind = RESMEM_MEMMAP_INVALID;
	if (!strncmp(p, "exactmap", 8)) {
		m->kind = RESMEM_MEMMAP_EXACTMAP;
		return;
	}
	n = memparse(p, &m->size);
	if (n <= 0)
		return;
	p += n;
	switch (*p) {
	case '@':
		m->kind = RESMEM_MEMMAP_RAM;
		break;
	case '#':
		m->kind = RESMEM_MEMMAP_ACPI;
		break;
	case '$':
		m->kind = RESMEM_MEMMAP_RESERVE;
		break;
	case '!':
		m->kind = RESMEM_MEMMAP_PERSIST;
		break;
	case '%':
		m->kind = RESMEM_MEMMAP_CONVERT;
		return;
	default:
		/* anything else: the kernel caps RAM, then complains about junk */
		m->kind = RESMEM_MEMMAP_LIMIT;
		m->trailing = *p != '\0';
		return;
	}
	p++;
	n = memparse(p, &m->addr);
	if (n <= 0) {
		m->kind = RESMEM_MEMMAP_INVALID;
		return;
	}
	m->trailing = p[n] != '\0';
}

/* Next command-line word (quotes group, as the kernel's next_arg()).
 * Copies it without quotes into @buf; returns the position after it. */
static const char *next_word(const char *s, char *buf, size_t len)
{
	size_t n = 0;
	int quoted = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	for (; *s; s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		if (!quoted && (*s == ' ' || *s == '\t' || *s == '\n'))
			break;
		if (n + 1 < len)
			buf[n++] = *s;
	}
	buf[n] = '\0';
	return s;
}

int resmem_memmap_parse(const char *cmdline, struct resmem_memmap **out,
			size_t *n)
{
	struct resmem_memmap *arr = NULL;
	size_t cap = 0, cnt = 0;
	char word[1024];
	const char *s = cmdline;

	*out = NULL;
	*n = 0;
	while (*s) {
		char *item, *next;

		s = next_word(s, word, sizeof(word));
		if (!strcmp(word, "--"))
			break; /* the rest belongs to init, not the kernel */
		if (strncmp(word, "memmap=", 7))
			continue;
		for (item = word + 7; item; item = next) {
			next = strchr(item, ',');
			if (next)
				*next++ = '\0';
			if (rm_grow((void **)&arr, &cap, cnt, sizeof(*arr))) {
				free(arr);
				return -ENOMEM;
			}
			parse_one(item, &arr[cnt++]);
		}
	}
	*out = arr;
	*n = cnt;
	return 0;
}
