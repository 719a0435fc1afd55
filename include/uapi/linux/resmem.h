/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * resmem: boot-reserved physical memory exposed to user space.
 *
 * Device nodes: /dev/resmem/<name>; sysfs: /sys/class/resmem/<name>/.
 *
 * Every ioctl argument begins with a __u32 @size that the caller sets to
 * sizeof() of the struct it was compiled with.  The kernel accepts any size
 * from the first published version upwards: bytes it does not know must be
 * zero on input, and it writes back at most @size bytes.  Unknown commands
 * fail with ENOTTY.
 */
#ifndef _UAPI_LINUX_RESMEM_H
#define _UAPI_LINUX_RESMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define RESMEM_NAME_MAX		32	/* including the terminating NUL */

/* Where a region came from. */
enum resmem_source {
	RESMEM_SOURCE_CMDLINE = 0,	/* memmap=SIZE$ADDR on the command line */
	RESMEM_SOURCE_PARAM = 1,	/* the module's regions= parameter */
	RESMEM_SOURCE_DEVICETREE = 2,	/* a /reserved-memory node */
};

/* How the kernel and every user mapping cache the region. */
enum resmem_cache_mode {
	RESMEM_CACHE_WB = 0,		/* write-back (default) */
	RESMEM_CACHE_WC = 1,		/* write-combining */
	RESMEM_CACHE_UC = 2,		/* uncached */
};

/* resmem_info.flags */
#define RESMEM_INFO_READONLY	(1U << 0)

/**
 * struct resmem_info - description of one region (RESMEM_IOC_INFO)
 * @size:	in: sizeof(struct resmem_info) as the caller knows it
 * @flags:	out: RESMEM_INFO_*
 * @phys_addr:	out: first physical byte of the region
 * @length:	out: size of the region in bytes (a multiple of the page size)
 * @cache_mode:	out: enum resmem_cache_mode
 * @source:	out: enum resmem_source
 * @numa_node:	out: NUMA node of the memory, -1 if unknown
 * @page_size:	out: the kernel's base page size in bytes
 * @name:	out: NUL-terminated region name
 */
struct resmem_info {
	__u32 size;
	__u32 flags;
	__u64 phys_addr;
	__u64 length;
	__u32 cache_mode;
	__u32 source;
	__s32 numa_node;
	__u32 page_size;
	char name[RESMEM_NAME_MAX];
};

#define RESMEM_IOC_TYPE		0xB7
#define RESMEM_IOC_INFO		_IO(RESMEM_IOC_TYPE, 0x00)

#endif /* _UAPI_LINUX_RESMEM_H */
