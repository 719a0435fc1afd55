// SPDX-License-Identifier: GPL-2.0
/* Which resmem release this library is: the top-level VERSION file. */
#include "libresmem.h"

#ifndef RESMEM_VERSION
#error "RESMEM_VERSION comes from the top-level VERSION file (userspace/Makefile)"
#endif

const char *resmem_version(void)
{
	return RESMEM_VERSION;
}
