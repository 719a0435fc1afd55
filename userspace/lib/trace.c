// SPDX-License-Identifier: GPL-2.0
/* The sink behind `resmem -v` (resmem_trace.h). */
#include <stdarg.h>
#include <stdio.h>

#include "resmem_trace.h"

static void (*trace_sink)(const char *line);

void resmem_trace_to(void (*sink)(const char *line))
{
	trace_sink = sink;
}

void resmem_trace(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!trace_sink)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	trace_sink(line);
}
