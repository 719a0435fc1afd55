// SPDX-License-Identifier: GPL-2.0
/* /proc/iomem: the kernel's view of physical memory after memmap= applied. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "libresmem.h"

/* "  00100000-bffdffff : System RAM" -> one entry; returns -EINVAL if not */
static int parse_line(const char *line, size_t len, struct resmem_iomem *e)
{
	char buf[256];
	const char *p, *end;
	size_t spaces = 0;
	int err;

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	while (buf[spaces] == ' ')
		spaces++;
	e->depth = (int)(spaces / 2);
	err = rm_parse_u64(buf + spaces, 16, &e->start, &end);
	if (err || *end != '-')
		return -EINVAL;
	err = rm_parse_u64(end + 1, 16, &e->end, &end);
	if (err)
		return -EINVAL;
	p = end;
	while (*p == ' ')
		p++;
	if (*p != ':')
		return -EINVAL;
	p++;
	while (*p == ' ')
		p++;
	rm_strlcpy(e->name, p, sizeof(e->name));
	return 0;
}

int resmem_iomem_parse(const char *text, struct resmem_iomem **out, size_t *n,
		       int *zeroed)
{
	struct resmem_iomem *arr = NULL;
	size_t cap = 0, cnt = 0;
	const char *line = text;
	int nonzero = 0;

	*out = NULL;
	*n = 0;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		int blank = 1;
		size_t i;

		for (i = 0; i < len; i++)
			blank &= isspace((unsigned char)line[i]) != 0;
		if (!blank) {
			if (rm_grow((void **)&arr, &cap, cnt, sizeof(*arr))) {
				free(arr);
				return -ENOMEM;
			}
			if (parse_line(line, len, &arr[cnt])) {
				free(arr);
				return -EINVAL;
			}
			nonzero |= arr[cnt].start || arr[cnt].end;
			cnt++;
		}
		line += len + (nl ? 1 : 0);
	}
	*out = arr;
	*n = cnt;
	*zeroed = cnt && !nonzero;
	return 0;
}
