// SPDX-License-Identifier: GPL-2.0
/*
 * The driver's naming rules in userspace: which names a region may have
 * (module/params.c resmem_name_ok()) and which name a /reserved-memory node
 * gets (module/of.c region_name()), so `dt add`, `dt list` and `check`
 * predict the /dev/resmem/NAME the driver makes, or its refusal.
 */
#include <stdio.h>
#include <string.h>

#include "resmem_dt.h"

int resmem_region_name_ok(const char *name)
{
	const char *p;

	if (!*name || *name == '.' || strlen(name) >= RESMEM_DT_NAME_MAX)
		return 0;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_.+-", *p)))
			return 0;
	return 1;
}

int resmem_dt_region_name(const struct resmem_dt_naming *n, char *buf,
			  size_t len)
{
	const char *node = n->node_name;
	size_t base = strcspn(node, "@");
	int w;

	if (n->label)
		w = snprintf(buf, len, "%s", n->label);
	else if (n->owned && n->owner_label && n->rname)
		w = snprintf(buf, len, "%s-%s", n->owner_label, n->rname);
	else if (n->owned && n->owner_label && n->count == 1)
		w = snprintf(buf, len, "%s", n->owner_label);
	else if (n->owned && n->owner_label)
		w = snprintf(buf, len, "%s-%d", n->owner_label, n->idx);
	else if (n->owned && n->rname)
		w = snprintf(buf, len, "%s", n->rname);
	else
		w = snprintf(buf, len, "%.*s", (int)base, node);
	return w >= 0 && (size_t)w < len && resmem_region_name_ok(buf);
}
