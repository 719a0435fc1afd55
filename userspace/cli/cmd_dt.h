/* SPDX-License-Identifier: GPL-2.0 */
/* resmem dt: the subcommands of the device-tree tool. */
#ifndef RESMEM_CMD_DT_H
#define RESMEM_CMD_DT_H

#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "resmem_dt.h"

int cmd_dt_add(int argc, char **argv);
int cmd_dt_list(int argc, char **argv);
extern const struct cli_usage dt_add_usage, dt_list_usage;

/* Message for a blob resmem_dt_load()/resmem_dt_check() refused; -> EXIT_SYSTEM. */
int dt_load_error(const char *path, int err, int fdt_err);
/* "0x40000000-0x7fffffff" (inclusive end) into @buf. */
char *dt_range(uint64_t addr, uint64_t size, char *buf, size_t len);
extern const uint32_t dt_problem_bits[];
extern const size_t dt_n_problem_bits;
/* Why @r has the problem @bit (one RESMEM_DT_P_*), for list and check. */
void dt_why(const struct resmem_dt_view *v, const struct resmem_dt_region *r,
	    uint32_t bit, char *buf, size_t len);
/*
 * The device node resmem makes of @r ("/dev/resmem/NAME" in @buf), or NULL
 * with *@none saying why there is none.
 */
const char *dt_device_of(const struct resmem_dt_region *r, char *buf,
			 size_t len, const char **none);

#endif
