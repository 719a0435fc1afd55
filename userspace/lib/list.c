// SPDX-License-Identifier: GPL-2.0
/* Enumerating regions through /sys/class/resmem (works without privileges). */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "libresmem.h"

static int by_name(const void *a, const void *b)
{
	const struct resmem_region_info *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int is_region(const char *name)
{
	return name[0] != '.';
}

static int read_region(const char *path, void *item)
{
	return resmem_info_sysfs_dir(path, item);
}

int resmem_list(const char *sysfs_root, struct resmem_region_info **out,
		size_t *n)
{
	static const struct rm_dir_reader how = {
		.elem = sizeof(struct resmem_region_info),
		.want = is_region,
		.read = read_region,
		.cmp = by_name,
		.missing_ok = 1, /* no class/resmem: the module is not loaded */
	};
	char dir[512];
	void *arr;
	int err;

	snprintf(dir, sizeof(dir), "%s/class/resmem",
		 sysfs_root ? sysfs_root : RESMEM_SYSFS_ROOT);
	err = rm_read_dir(dir, &how, &arr, n);
	*out = arr;
	return err;
}
