// SPDX-License-Identifier: GPL-2.0
/* Enumerating regions through /sys/class/resmem (works without privileges). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "libresmem.h"

/*
 * Natural order, as `ls -v` sorts: runs of digits compare by their value,
 * so region2 comes before region10.
 */
static int natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *ea = a, *eb = b;
			size_t la, lb;
			int c;

			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			for (ea = a; isdigit((unsigned char)*ea); ea++)
				;
			for (eb = b; isdigit((unsigned char)*eb); eb++)
				;
			la = (size_t)(ea - a);
			lb = (size_t)(eb - b);
			if (la != lb)
				return la < lb ? -1 : 1;
			c = strncmp(a, b, la);
			if (c)
				return c;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int by_name(const void *a, const void *b)
{
	const struct resmem_region_info *x = a, *y = b;
	int c = natural_cmp(x->name, y->name);

	/* names that differ only in leading zeros: still a total order */
	return c ? c : strcmp(x->name, y->name);
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
