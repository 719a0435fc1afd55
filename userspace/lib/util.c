// SPDX-License-Identifier: GPL-2.0
/* Small string, number, file and directory helpers for the rest of libresmem. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "libresmem.h"
#include "resmem_trace.h"

void rm_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int rm_parse_u64(const char *s, int base, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	int any = 0;

	if (base == 0) {
		base = 10;
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
			base = 16;
			s += 2;
		}
	}
	for (;; s++) {
		int d;

		if (isdigit((unsigned char)*s))
			d = *s - '0';
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = tolower((unsigned char)*s) - 'a' + 10;
		else
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -ERANGE;
		v = v * (uint64_t)base + (uint64_t)d;
		any = 1;
	}
	if (!any)
		return -EINVAL;
	*out = v;
	if (end)
		*end = s;
	return 0;
}

static int slurp(const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(buf);
		return err;
	}
	/* procfs files report size 0: read until EOF instead of trusting stat. */
	for (;;) {
		ssize_t got;

		if (n + 1 >= cap) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int resmem_read_file(const char *path, char **out)
{
	size_t n = 0;
	int err = slurp(path, out, &n);

	if (err)
		resmem_trace("read %s: %s", path, strerror(-err));
	else
		resmem_trace("read %s: %zu bytes", path, n);
	return err;
}

int rm_read_attr(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[512];
	char *text;
	size_t n;
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, attr) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	err = resmem_read_file(path, &text);
	if (err)
		return err;
	n = strlen(text);
	while (n && isspace((unsigned char)text[n - 1]))
		text[--n] = '\0';
	rm_strlcpy(buf, text, len);
	free(text);
	return 0;
}

int rm_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t want;
	void *bigger;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : 16;
	bigger = realloc(*arr, want * elem);
	if (!bigger)
		return -ENOMEM;
	*arr = bigger;
	*cap = want;
	return 0;
}

int rm_read_dir(const char *dir, const struct rm_dir_reader *how, void **out,
		size_t *n)
{
	char *arr = NULL;
	size_t cap = 0, cnt = 0;
	char sub[1024];
	struct dirent *de;
	DIR *d;
	int err = 0;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d) {
		err = errno;
		resmem_trace("directory %s: %s", dir, strerror(err));
		return how->missing_ok && err == ENOENT ? 0 : -err;
	}
	while ((de = readdir(d))) {
		if (!how->want(de->d_name))
			continue;
		err = rm_grow((void **)&arr, &cap, cnt, how->elem);
		if (err)
			break;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		err = how->read(sub, arr + cnt * how->elem);
		if (err)
			break;
		cnt++;
	}
	closedir(d);
	if (err) {
		free(arr);
		return err;
	}
	resmem_trace("directory %s: %zu entries", dir, cnt);
	if (cnt)
		qsort(arr, cnt, how->elem, how->cmp);
	*out = arr;
	*n = cnt;
	return 0;
}
