// SPDX-License-Identifier: GPL-2.0
/* The direct I/O options drain --image and capture --from FILE share. */
#include "cli.h"

int direct_io_check(const char *cmd, uint64_t io_size, uint64_t depth)
{
	if (!io_size || io_size % 4096 || io_size > (64 << 20))
		return usage_error(
			cmd,
			"--io-size must be a multiple of 4 KiB, at most 64 MiB");
	if (!depth || depth > 64)
		return usage_error(cmd, "--io-depth must be 1 .. 64");
	return 0;
}
