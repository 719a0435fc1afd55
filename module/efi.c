// SPDX-License-Identifier: GPL-2.0
/*
 * Memory the UEFI firmware keeps using after boot.
 *
 * Runtime services code and data, ACPI NVS, firmware-reserved and MMIO
 * ranges stay the firmware's while the machine runs: the kernel calls into
 * them (the RTC, variables, reset).  On arm64 they show in /proc/iomem as
 * top-level "reserved" entries, exactly like a no-map /reserved-memory
 * region, and a device tree node may well cover one (the firmware does
 * not honour /reserved-memory when it places them).  The EFI memory map,
 * which the kernel keeps after boot, is the one place that tells.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/efi.h>

#include "resmem-private.h"

/* Types that are ordinary RAM once the kernel runs (unless runtime). */
static bool efi_type_is_free_ram(u32 type)
{
	switch (type) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
	case EFI_CONVENTIONAL_MEMORY:
		return true;
	default:
		return false;
	}
}

/**
 * resmem_efi_in_use() - find firmware memory inside a range
 * @start:	first byte
 * @end:	one past the last byte
 * @found:	set to the first EFI memory descriptor inside that the
 *		firmware keeps (runtime, or not RAM)
 *
 * Return: true if there is one; false when none is, or the kernel keeps
 * no EFI memory map (not booted through UEFI).
 */
bool resmem_efi_in_use(u64 start, u64 end, struct resmem_efi_range *found)
{
	efi_memory_desc_t *md;

	if (!efi_enabled(EFI_MEMMAP))
		return false;
	for_each_efi_memory_desc(md) {
		u64 s = md->phys_addr, e = s + (md->num_pages << EFI_PAGE_SHIFT);

		if (e <= start || s >= end)
			continue;
		if (!(md->attribute & EFI_MEMORY_RUNTIME) &&
		    efi_type_is_free_ram(md->type))
			continue;
		found->start = s;
		found->end = e;
		found->type = md->type;
		found->runtime = md->attribute & EFI_MEMORY_RUNTIME;
		return true;
	}
	return false;
}
