// SPDX-License-Identifier: GPL-2.0
/* Option values several commands share: sizes, offsets, access paths. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int parse_size_opt(const char *cmd, const char *opt, const char *val,
		   uint64_t *out)
{
	int err = resmem_parse_size(val, out);

	if (err == -ERANGE)
		return usage_error(cmd, "%s %s: too large for 64 bits", opt,
				   val);
	if (err)
		return usage_error(
			cmd,
			"%s %s: not a size (use e.g. 4096, 0x1000, 64K, 8G)",
			opt, val);
	return 0;
}

int parse_via_opt(const char *cmd, const char *val, enum resmem_access *via)
{
	if (!strcmp(val, "mmap"))
		*via = RESMEM_VIA_MMAP;
	else if (!strcmp(val, "read") || !strcmp(val, "write") ||
		 !strcmp(val, "rw"))
		*via = RESMEM_VIA_RW;
	else
		return usage_error(cmd, "--via %s: use mmap or %s", val,
				   strcmp(cmd, "fill") ? "read" : "write");
	return 0;
}

int resolve_range(const char *cmd, const struct resmem_region_info *info,
		  int have_len, uint64_t off, uint64_t *len)
{
	char sz[32];

	resmem_format_size(info->size, sz, sizeof(sz));
	if (off > info->size)
		return usage_error(
			cmd,
			"--offset 0x%llx is beyond the end of region '%s' (size 0x%llx, %s)",
			(unsigned long long)off, info->name,
			(unsigned long long)info->size, sz);
	if (!have_len)
		*len = info->size - off;
	else if (*len > info->size - off)
		return usage_error(
			cmd,
			"--offset 0x%llx --length 0x%llx ends beyond region '%s' (size 0x%llx, %s): at most 0x%llx fits",
			(unsigned long long)off, (unsigned long long)*len,
			info->name, (unsigned long long)info->size, sz,
			(unsigned long long)(info->size - off));
	return 0;
}

char *format_memparse(uint64_t v, char *buf, size_t len)
{
	static const char suffix[] = "KMGT";
	int i;

	/* the largest unit that divides exactly, as people write memmap= */
	for (i = 3; i >= 0; i--) {
		uint64_t unit = 1ULL << (10 * (i + 1));

		if (v && v % unit == 0) {
			snprintf(buf, len, "%llu%c",
				 (unsigned long long)(v / unit), suffix[i]);
			return buf;
		}
	}
	snprintf(buf, len, v < 1024 ? "%llu" : "0x%llx", (unsigned long long)v);
	return buf;
}
