// SPDX-License-Identifier: GPL-2.0
/*
 * Did a memmap= entry take effect?  The firmware map says what the memory
 * was, /proc/iomem what the kernel made of it: a user reservation is RAM in
 * the first and Reserved in the second.
 */
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "libresmem.h"

const char *resmem_memmap_type_name(enum resmem_memmap_kind kind)
{
	switch (kind) {
	case RESMEM_MEMMAP_RAM:
		return "System RAM";
	case RESMEM_MEMMAP_ACPI:
		return "ACPI Tables";
	case RESMEM_MEMMAP_RESERVE:
		return "Reserved";
	case RESMEM_MEMMAP_PERSIST:
		return "Persistent Memory (legacy)";
	default:
		return NULL;
	}
}

/* Does an iomem name mean what @kind asked for?  Case differs by arch. */
static int iomem_is(const char *name, enum resmem_memmap_kind kind)
{
	if (kind == RESMEM_MEMMAP_PERSIST)
		return !strncasecmp(name, "Persistent Memory", 17);
	return !strcasecmp(name, resmem_memmap_type_name(kind));
}

/* Entry @i of a map: its range, and whether it is of @kind. */
typedef int (*span_fn)(const struct resmem_sysview *v, size_t i,
		       enum resmem_memmap_kind kind, uint64_t *start,
		       uint64_t *end);

static int iomem_span(const struct resmem_sysview *v, size_t i,
		      enum resmem_memmap_kind kind, uint64_t *start,
		      uint64_t *end)
{
	*start = v->iomem[i].start;
	*end = v->iomem[i].end;
	return iomem_is(v->iomem[i].name, kind);
}

/* The firmware map is only asked where the RAM was. */
static int fw_ram_span(const struct resmem_sysview *v, size_t i,
		       enum resmem_memmap_kind kind, uint64_t *start,
		       uint64_t *end)
{
	(void)kind;
	*start = v->fw[i].start;
	*end = v->fw[i].end;
	return !strcasecmp(v->fw[i].type, "System RAM");
}

/*
 * First address in [start, end] not covered by the @n entries of @kind,
 * or 0 with *covered = 1.  Entries may be split and nested, so follow the
 * union from @start onwards.
 */
static uint64_t first_gap(const struct resmem_sysview *v, size_t n,
			  span_fn span, enum resmem_memmap_kind kind,
			  uint64_t start, uint64_t end, int *covered)
{
	uint64_t cur = start, s, e;
	size_t i;
	int moved = 1;

	while (moved) {
		moved = 0;
		for (i = 0; i < n; i++) {
			if (!span(v, i, kind, &s, &e) || s > cur || e < cur)
				continue;
			if (e >= end) {
				*covered = 1;
				return 0;
			}
			cur = e + 1;
			moved = 1;
		}
	}
	*covered = 0;
	return cur;
}

static void explain_iomem(const struct resmem_sysview *v, uint64_t at,
			  struct resmem_evidence *ev)
{
	size_t i;
	int best = -1;

	/* the outermost entry says most: "System RAM", "PCI Bus 0000:00" */
	for (i = 0; i < v->n_iomem; i++)
		if (v->iomem[i].start <= at && at <= v->iomem[i].end &&
		    (best < 0 || v->iomem[i].depth < v->iomem[best].depth))
			best = (int)i;
	rm_strlcpy(ev->iomem, best >= 0 ? v->iomem[best].name : "nothing",
		   sizeof(ev->iomem));
}

static void explain_fw(const struct resmem_sysview *v, uint64_t at,
		       struct resmem_evidence *ev)
{
	size_t i;

	rm_strlcpy(ev->fw, "no entry (a hole)", sizeof(ev->fw));
	for (i = 0; i < v->n_fw; i++)
		if (v->fw[i].start <= at && at <= v->fw[i].end)
			rm_strlcpy(ev->fw, v->fw[i].type, sizeof(ev->fw));
}

enum resmem_verdict resmem_memmap_judge(const struct resmem_memmap *m,
					const struct resmem_sysview *v,
					struct resmem_evidence *evp)
{
	struct resmem_evidence dummy = { 0 };
	struct resmem_evidence *ev = evp ? evp : &dummy;
	uint64_t start = m->addr, end, at;
	int covered;
	size_t i;

	memset(ev, 0, sizeof(*ev));
	ev->fw_known = v->fw != NULL;
	switch (m->kind) {
	case RESMEM_MEMMAP_LIMIT:
		return RESMEM_VERDICT_NO_ADDRESS;
	case RESMEM_MEMMAP_EXACTMAP:
	case RESMEM_MEMMAP_CONVERT:
		return RESMEM_VERDICT_NOT_CHECKED;
	case RESMEM_MEMMAP_INVALID:
		return RESMEM_VERDICT_INVALID;
	default:
		break;
	}
	if (!m->size || m->addr + m->size - 1 < m->addr)
		return RESMEM_VERDICT_INVALID;
	end = m->addr + m->size - 1;

	/* The module's rule, checked first as it does (BIOS and kernel data). */
	if (m->kind == RESMEM_MEMMAP_RESERVE && start < 0x100000) {
		ev->where = start;
		return RESMEM_VERDICT_BELOW_1M;
	}

	/* Reserving or pmem-ing memory the firmware does not have is futile. */
	if (v->fw && (m->kind == RESMEM_MEMMAP_RESERVE ||
		      m->kind == RESMEM_MEMMAP_PERSIST)) {
		at = first_gap(v, v->n_fw, fw_ram_span, RESMEM_MEMMAP_RAM,
			       start, end, &covered);
		if (!covered) {
			ev->where = at;
			explain_fw(v, at, ev);
			explain_iomem(v, at, ev);
			return RESMEM_VERDICT_NOT_RAM;
		}
	}
	if (v->iomem_zeroed)
		return RESMEM_VERDICT_UNKNOWN;

	/* KASLR may have put the kernel there before memmap= was read. */
	if (m->kind == RESMEM_MEMMAP_RESERVE ||
	    m->kind == RESMEM_MEMMAP_PERSIST) {
		for (i = 0; i < v->n_iomem; i++) {
			const struct resmem_iomem *e = &v->iomem[i];

			if (!strncmp(e->name, "Kernel ", 7) &&
			    e->start <= end && e->end >= start) {
				ev->where = e->start > start ? e->start : start;
				rm_strlcpy(ev->iomem, e->name,
					   sizeof(ev->iomem));
				return RESMEM_VERDICT_KERNEL_INSIDE;
			}
		}
	}

	at = first_gap(v, v->n_iomem, iomem_span, m->kind, start, end,
		       &covered);
	if (!covered) {
		ev->where = at;
		explain_iomem(v, at, ev);
		if (v->fw)
			explain_fw(v, at, ev);
		return RESMEM_VERDICT_NOT_APPLIED;
	}
	return RESMEM_VERDICT_OK;
}
