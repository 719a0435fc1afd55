// SPDX-License-Identifier: GPL-2.0
/*
 * A firmware memory map from text: a saved /sys/firmware/memmap listing
 * ("start end type" per line) or the kernel log's "BIOS-e820:" lines, for
 * planning on another machine's map or where /sys/firmware/memmap is absent.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "resmem_plan.h"

/* e820 words (arch/x86/kernel/e820.c: e820_print_type) -> memmap type names */
static const char *const e820_names[][2] = {
	{ "usable", "System RAM" },
	{ "reserved", "Reserved" },
	{ "ACPI data", "ACPI Tables" },
	{ "ACPI NVS", "ACPI Non-volatile Storage" },
	{ "unusable", "Unusable memory" },
	{ "persistent (type 12)", "Persistent Memory (legacy)" },
	{ "persistent", "Persistent Memory" },
	{ "soft reserved", "Soft Reserved" },
};

static void trim_copy(char *dst, size_t len, const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* "... BIOS-e820: [mem 0x...-0x...] usable" */
static int parse_e820(const char *line, size_t len, struct resmem_fwmap *e)
{
	static const char tag[] = "BIOS-e820: [mem ";
	const char *p = strstr(line, tag), *end;
	char word[48];
	size_t i;

	if (!p || (size_t)(p - line) >= len)
		return 0;
	p += sizeof(tag) - 1;
	if (rm_parse_u64(p, 0, &e->start, &end) || *end != '-')
		return 0;
	if (rm_parse_u64(end + 1, 0, &e->end, &end) || *end != ']')
		return 0;
	end++;
	trim_copy(word, sizeof(word), end, len - (size_t)(end - line));
	rm_strlcpy(e->type, word, sizeof(e->type));
	for (i = 0; i < sizeof(e820_names) / sizeof(e820_names[0]); i++)
		if (!strcmp(word, e820_names[i][0])) {
			rm_strlcpy(e->type, e820_names[i][1], sizeof(e->type));
			break;
		}
	return 1;
}

/* "0x100000000 0x37fffffff System RAM" */
static int parse_listing(const char *line, size_t len, struct resmem_fwmap *e)
{
	const char *p = line, *end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (rm_parse_u64(p, 0, &e->start, &end) ||
	    (*end != ' ' && *end != '\t'))
		return 0;
	p = end;
	while (*p == ' ' || *p == '\t')
		p++;
	if (rm_parse_u64(p, 0, &e->end, &end) || (*end != ' ' && *end != '\t'))
		return 0;
	if ((size_t)(end - line) >= len)
		return 0;
	trim_copy(e->type, sizeof(e->type), end, len - (size_t)(end - line));
	return e->type[0] != '\0';
}

static int cmp(const void *a, const void *b)
{
	const struct resmem_fwmap *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->type, y->type);
}

int resmem_fwmap_parse_text(const char *text, struct resmem_fwmap **out,
			    size_t *n)
{
	struct resmem_fwmap *arr = NULL, e;
	size_t cap = 0, cnt = 0, i, k;
	const char *line = text;

	*out = NULL;
	*n = 0;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		memset(&e, 0, sizeof(e));
		if (parse_e820(line, len, &e) || parse_listing(line, len, &e)) {
			if (e.end < e.start) {
				free(arr);
				return -EINVAL;
			}
			if (rm_grow((void **)&arr, &cap, cnt, sizeof(*arr))) {
				free(arr);
				return -ENOMEM;
			}
			arr[cnt++] = e;
		}
		line += len + (nl ? 1 : 0);
	}
	if (!cnt)
		return -ENODATA;
	qsort(arr, cnt, sizeof(*arr), cmp);
	for (i = k = 0; i < cnt; i++) /* the same log twice: drop repeats */
		if (!k || cmp(&arr[k - 1], &arr[i]))
			arr[k++] = arr[i];
	*out = arr;
	*n = k;
	return 0;
}
