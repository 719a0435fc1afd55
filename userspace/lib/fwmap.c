// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/firmware/memmap: the firmware's (e820) map as it was before the
 * kernel applied memmap=, so it tells user reservations from holes.
 */
#include <errno.h>

#include "internal.h"
#include "libresmem.h"

static int by_start(const void *a, const void *b)
{
	const struct resmem_fwmap *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int read_entry(const char *dir, void *item)
{
	struct resmem_fwmap *e = item;
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

/* Entries are named 0, 1, 2, ... */
static int is_entry(const char *name)
{
	return name[0] >= '0' && name[0] <= '9';
}

int resmem_fwmap_read(const char *dir, struct resmem_fwmap **out, size_t *n)
{
	static const struct rm_dir_reader how = {
		.elem = sizeof(struct resmem_fwmap),
		.want = is_entry,
		.read = read_entry,
		.cmp = by_start,
	};
	void *arr;
	int err = rm_read_dir(dir, &how, &arr, n);

	*out = arr;
	return err;
}
