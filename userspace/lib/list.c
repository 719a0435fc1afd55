// SPDX-License-Identifier: GPL-2.0
/* Enumerating regions through /sys/class/resmem (works without privileges). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "resmem.h"

static int by_name(const void *a, const void *b)
{
	const struct resmem_region_info *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int resmem_list(const char *sysfs_root, struct resmem_region_info **out,
		size_t *n)
{
	char dir[512], sub[1024];
	struct resmem_region_info *arr = NULL;
	size_t cap = 0, cnt = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	*out = NULL;
	*n = 0;
	snprintf(dir, sizeof(dir), "%s/class/resmem",
		 sysfs_root ? sysfs_root : RESMEM_SYSFS_ROOT);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		err = rm_grow((void **)&arr, &cap, cnt, sizeof(*arr));
		if (err)
			break;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		err = resmem_info_sysfs_dir(sub, &arr[cnt]);
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
		qsort(arr, cnt, sizeof(*arr), by_name);
	*out = arr;
	*n = cnt;
	return 0;
}
