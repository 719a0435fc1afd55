// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/firmware/memmap: the firmware's (e820) map as it was before the
 * kernel applied memmap=, so it tells user reservations from holes.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "resmem.h"

static int by_start(const void *a, const void *b)
{
	const struct resmem_fwmap *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int read_entry(const char *dir, struct resmem_fwmap *e)
{
	char buf[64];
	const char *end;
	int err;

	err = rm_read_attr(dir, "start", buf, sizeof(buf));
	if (!err)
		err = rm_parse_u64(buf, 0, &e->start, &end);
	if (!err && *end)
		err = -EINVAL;
	if (!err)
		err = rm_read_attr(dir, "end", buf, sizeof(buf));
	if (!err)
		err = rm_parse_u64(buf, 0, &e->end, &end);
	if (!err && *end)
		err = -EINVAL;
	if (!err)
		err = rm_read_attr(dir, "type", e->type, sizeof(e->type));
	return err;
}

int resmem_fwmap_read(const char *dir, struct resmem_fwmap **out, size_t *n)
{
	struct resmem_fwmap *arr = NULL;
	size_t cap = 0, cnt = 0;
	char sub[1024];
	struct dirent *de;
	DIR *d;
	int err = 0;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		err = rm_grow((void **)&arr, &cap, cnt, sizeof(*arr));
		if (err)
			break;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		err = read_entry(sub, &arr[cnt]);
		if (err)
			break;
		cnt++;
	}
	closedir(d);
	if (err) {
		free(arr);
		return err;
	}
	if (cnt)
		qsort(arr, cnt, sizeof(*arr), by_start);
	*out = arr;
	*n = cnt;
	return 0;
}
