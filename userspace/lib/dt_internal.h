/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by libresmem's device-tree files (checked blobs only). */
#ifndef RESMEM_DT_INTERNAL_H
#define RESMEM_DT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* fdt_getprop() with *len = -1 and NULL when absent. */
const void *dt_prop(const void *fdt, int node, const char *name, int *len);
/* The property is the NUL-terminated string @want. */
int dt_prop_is(const void *fdt, int node, const char *name, const char *want);
/* First string of a property into @buf ("" when absent), bounded by its length. */
void dt_prop_str(const void *fdt, int node, const char *name, char *buf,
		 size_t size);
/* A one-cell property (#address-cells): @dflt when absent, -1 when not 4 bytes. */
int dt_cells(const void *fdt, int node, const char *name, int dflt);
/* Big-endian value of @cells 32-bit cells (cells <= 2). */
uint64_t dt_read_cells(const uint8_t *p, int cells);
/* status absent, "okay" or "ok". */
int dt_available(const void *fdt, int node);

#endif
