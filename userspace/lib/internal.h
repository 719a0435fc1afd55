/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by libresmem's files; not part of the public API. */
#ifndef RESMEM_INTERNAL_H
#define RESMEM_INTERNAL_H

#include <stdint.h>
#include <stddef.h>

#include "libresmem.h"

/*
 * Marks what libresmem's files share but no program may call: kept out of
 * libresmem.so's dynamic symbol table even without the version script
 * (libresmem.lds), and resolved inside the library, never interposed.
 * Helpers used by one file only are static instead.
 */
#define RM_HIDDEN __attribute__((visibility("hidden")))

/* <libresmem.h>'s opaque handle: free to change (it is never a program's). */
struct resmem_region {
	int fd;
	int writable; /* opened O_RDWR */
	char path[256]; /* device node that was opened */
	struct resmem_region_info info;
};

/* Copy @src into @dst (size @len), always NUL-terminated. */
RM_HIDDEN void rm_strlcpy(char *dst, const char *src, size_t len);

/* Parse an unsigned number in @base (0: "0x" means hex, else decimal).
 * Consumes digits only; *end points after them.  Returns 0, -EINVAL, -ERANGE. */
RM_HIDDEN int rm_parse_u64(const char *s, int base, uint64_t *out,
			   const char **end);

/* Read a sysfs attribute "<dir>/<attr>" into @buf, trailing newline removed. */
RM_HIDDEN int rm_read_attr(const char *dir, const char *attr, char *buf,
			   size_t len);

/* Grow a malloc()ed array of @elem-byte items so index *n fits. */
RM_HIDDEN int rm_grow(void **arr, size_t *cap, size_t n, size_t elem);

/* How rm_read_dir() turns a sysfs directory into a sorted array. */
struct rm_dir_reader {
	size_t elem; /* bytes per item */
	int (*want)(const char *entry); /* which entries are items */
	int (*read)(const char *path, void *item);
	int (*cmp)(const void *a, const void *b); /* qsort order */
	int missing_ok; /* no such directory: no items, not an error */
};
/* Read the wanted entries of @dir into a malloc()ed, sorted array. */
RM_HIDDEN int rm_read_dir(const char *dir, const struct rm_dir_reader *how,
			  void **out, size_t *n);

#endif
