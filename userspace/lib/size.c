// SPDX-License-Identifier: GPL-2.0
/* Sizes as people write them ("8G", "0x100000000") and as we print them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "internal.h"
#include "libresmem.h"

int resmem_parse_size(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	unsigned shift = 0;
	int err;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL; /* rejects "", " 1", "-1", "+1" */
	err = rm_parse_u64(s, 0, &v, &end);
	if (err)
		return err;
	switch (tolower((unsigned char)*end)) {
	case 'k':
		shift = 10;
		end++;
		break;
	case 'm':
		shift = 20;
		end++;
		break;
	case 'g':
		shift = 30;
		end++;
		break;
	case 't':
		shift = 40;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

char *resmem_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB",
					    "TiB", "PiB", "EiB" };
	int u = -1;
	uint64_t scale = 1;

	while (u < 5 && bytes / scale >= 1024) {
		scale <<= 10;
		u++;
	}
	if (u < 0) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	} else {
		/* one decimal, rounded, in integers: rem * 10 cannot overflow */
		uint64_t whole = bytes / scale, rem = bytes % scale;
		uint64_t tenth = (rem * 10 + scale / 2) / scale;

		if (tenth == 10) {
			whole++;
			tenth = 0;
		}
		/* 1023.96 KiB reads better as 1.0 MiB */
		if (whole == 1024 && u < 5) {
			whole = 1;
			u++;
		}
		snprintf(buf, len, "%llu.%llu %s", (unsigned long long)whole,
			 (unsigned long long)tenth, unit[u]);
	}
	return buf;
}
