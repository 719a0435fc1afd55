// SPDX-License-Identifier: GPL-2.0
/* capture's claim on a region device's producer slot: one producer at a
 * time, a kernel driver or a program (docs/ring-format.md, "Producer"). */
#include <errno.h>

#include "cli.h"

int ring_claim_producer(const char *cmd, const struct ring_map *m)
{
	struct resmem_ring_owner who;
	int err = resmem_ring_claim(m->region, &who);

	if (!err || err == -ENOTTY) /* a regular file: flock() suffices */
		return EXIT_OK;
	if (err != -EBUSY)
		return dev_error("cannot claim the ring producer slot of",
				 resmem_region_get_path(m->region), err);
	if (who.kernel)
		fprintf(stderr,
			"%s: %s: the in-kernel producer %s is producing into this ring: one producer at a time (stop the driver first)\n",
			cmd, m->info.name, who.name);
	else
		fprintf(stderr,
			"%s: %s: process %s[%d] is producing into this ring: one producer at a time\n",
			cmd, m->info.name, who.name, (int)who.pid);
	return EXIT_PROBLEM;
}
