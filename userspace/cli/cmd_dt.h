/* SPDX-License-Identifier: GPL-2.0 */
/* resmem dt: the subcommands of the device-tree tool. */
#ifndef RESMEM_CMD_DT_H
#define RESMEM_CMD_DT_H

#include <stdint.h>
#include <stdio.h>

#include "cli.h"

int cmd_dt_add(int argc, char **argv);
int cmd_dt_list(int argc, char **argv);
extern const struct cli_usage dt_add_usage, dt_list_usage;

/* Message for a blob resmem_dt_load()/resmem_dt_check() refused; -> EXIT_SYSTEM. */
int dt_load_error(const char *path, int err, int fdt_err);
/* "0x40000000-0x7fffffff" (inclusive end) into @buf. */
char *dt_range(uint64_t addr, uint64_t size, char *buf, size_t len);

#endif
