/* SPDX-License-Identifier: GPL-2.0 */
/* resmem plan: the planned memmap= written for each boot loader. */
#ifndef RESMEM_PLAN_LINES_H
#define RESMEM_PLAN_LINES_H

#include "resmem_plan.h"

struct plan_lines {
	char memmap[RESMEM_PLAN_MAX][64]; /* "8G$0x100000000" per region */
	char *kernel; /* the new parameters: "memmap=8G$0x100000000" */
	char *etc_default_grub; /* GRUB_CMDLINE_LINUX_DEFAULT="..." or NULL (see grub_err) */
	int grub_err; /* why etc_default_grub is NULL: -ENOTSUP, -EINVAL */
	int grub_found; /* /etc/default/grub had the variable */
	char *dropin; /* /etc/default/grub.d/resmem.cfg contents */
	char *grub_cfg; /* linux IMAGE ARGS... for a menu entry */
	char *grub_cfg_args; /* just the new parameters, escaped for grub.cfg */
	char *grubby; /* grubby --update-kernel=ALL --args='...' */
	char *systemd_boot; /* options ... */
	char *uboot; /* setenv bootargs '...' */
	char *dropped; /* old memmap= words replaced ("" if none) */
	char *dropin_dup; /* memmap= words a drop-in would duplicate ("" if none) */
	int memmap_total; /* memmap= regions on the resulting command line */
};

/*
 * @cmdline: the running kernel's command line (/proc/cmdline), or NULL.
 * @grub_default: the text of /etc/default/grub, or NULL (no such file).
 * Returns 0 or -ENOMEM.
 */
int plan_lines_build(const struct resmem_plan *p, const char *cmdline,
		     const char *grub_default, struct plan_lines *out);
void plan_lines_free(struct plan_lines *l);

#endif
