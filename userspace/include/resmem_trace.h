/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libresmem: what `resmem -v` shows.  The library prints nothing; when a
 * program installs a sink, each input it reads (/proc, sysfs, a device tree,
 * a device node) is described to it in one line: the path and what came of
 * it (bytes read, entries found, or the errno).
 */
#ifndef RESMEM_TRACE_H
#define RESMEM_TRACE_H

/* Not installed, not in libresmem.so's ABI (like resmem_plan.h). */
#pragma GCC visibility push(hidden)

/* @sink gets each line (no newline); NULL (the default) turns tracing off. */
void resmem_trace_to(void (*sink)(const char *line));

/* One line to the sink, if there is one. */
void resmem_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#pragma GCC visibility pop

#endif
