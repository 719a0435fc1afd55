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

#include <linux/errno.h>
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
#define RESMEM_INFO_READONLY	(1U << 0)	/* opening for writing fails (EROFS) */
#define RESMEM_INFO_COHERENT	(1U << 1)	/* DMA into it snoops the CPU caches */

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

/* resmem_sync.direction */
enum resmem_sync_direction {
	/* Before the CPU reads what a device wrote: drop stale cache lines. */
	RESMEM_SYNC_FOR_CPU = 1,
	/* Before a device reads what the CPU wrote: write dirty lines back. */
	RESMEM_SYNC_FOR_DEVICE = 2,
};

/**
 * struct resmem_sync - make CPU caches and memory agree (RESMEM_IOC_SYNC)
 * @size:	in: sizeof(struct resmem_sync) as the caller knows it
 * @direction:	in: enum resmem_sync_direction
 * @offset:	in: first byte of the range, from the start of the region
 * @length:	in: bytes; offset + length must not pass the end of the region
 *
 * For devices that do not snoop the CPU caches (non-coherent DMA) on a
 * write-back region.  Cache lines are whole: the range is widened to
 * them, so a FOR_CPU sync also discards CPU writes to bytes sharing a
 * line with the range that were not synced FOR_DEVICE first.  On
 * coherent regions (RESMEM_INFO_COHERENT: x86, "dma-coherent" in the
 * device tree) and on write-combining or uncached regions it is only a
 * memory barrier.  A length of 0 does nothing.  Long ranges can be
 * interrupted by a fatal signal (EINTR).
 */
struct resmem_sync {
	__u32 size;
	__u32 direction;
	__u64 offset;
	__u64 length;
};

/* resmem_ring_producer.holder */
enum resmem_ring_holder {
	RESMEM_RING_HOLDER_NONE = 0,	/* nobody holds the producer slot */
	RESMEM_RING_HOLDER_FILE = 1,	/* an open file of the device (a program) */
	RESMEM_RING_HOLDER_KERNEL = 2,	/* an in-kernel producer (a driver) */
};

/**
 * struct resmem_ring_producer - claim a region's producer slot
 *				 (RESMEM_IOC_RING_PRODUCER)
 * @size:	in: sizeof(struct resmem_ring_producer) as the caller knows it
 * @holder:	out: enum resmem_ring_holder: FILE (this file) on success;
 *		on EBUSY, who holds the slot
 * @pid:	out: the process that claimed the slot (holder FILE), else 0
 * @reserved:	zero
 * @name:	out: that process's command name, or "DRIVER DEVICE" of the
 *		in-kernel producer; NUL-terminated
 *
 * A region has one producer slot.  An open file of the device claims it
 * (a file opened for writing; claiming it again through the same file
 * succeeds) and holds it until the file is released (its last descriptor
 * closed, also when the process is killed).  While a file holds it, the
 * in-kernel producer API refuses the region (EBUSY); while a driver
 * produces, the claim fails with EBUSY and the out fields name the holder
 * (the only ioctl here that writes its argument on failure).
 */
struct resmem_ring_producer {
	__u32 size;
	__u32 holder;
	__s32 pid;
	__u32 reserved;
	char name[64];
};

/* resmem_export.flags */
#define RESMEM_EXPORT_RDWR	(1U << 0)	/* writable buffer (file open for writing) */
#define RESMEM_EXPORT_CLOEXEC	(1U << 1)	/* the new fd gets FD_CLOEXEC */

/**
 * struct resmem_export - export a window of the region as a dma-buf
 *			  (RESMEM_IOC_EXPORT)
 * @size:	in: sizeof(struct resmem_export) as the caller knows it
 * @flags:	in: RESMEM_EXPORT_*
 * @offset:	in: first byte of the window, from the start of the region;
 *		a multiple of the page size
 * @length:	in: bytes, a multiple of the page size; 0: to the end of the
 *		region
 * @fd:		out: the dma-buf file descriptor
 * @reserved:	zero
 *
 * The dma-buf is the window itself, not a copy: devices it is attached to
 * (V4L2 V4L2_MEMORY_DMABUF, DRM PRIME import, RDMA ibv_reg_dmabuf_mr)
 * read and write the region's memory, and an mmap() of the fd maps the
 * window as an mmap() of the device would (MAP_SHARED only).
 * DMA_BUF_IOCTL_SYNC on it is RESMEM_IOC_SYNC on the window.  Without
 * RESMEM_EXPORT_RDWR the buffer is read-only: devices may only read it,
 * and it cannot be mapped writable; RESMEM_EXPORT_RDWR needs a file open
 * for writing (EBADF).  The buffer keeps the region, and the resmem
 * module, until its last user lets it go.  EINVAL (logged): a window not
 * page-aligned or outside the region, unknown flags, non-zero @reserved.
 */
struct resmem_export {
	__u32 size;
	__u32 flags;
	__u64 offset;
	__u64 length;
	__s32 fd;
	__u32 reserved[5];
};

/*
 * 0xBE: free in Documentation/userspace-api/ioctl/ioctl-number.rst and in
 * every uapi header up to 7.3 (0xB7, used before, is nsfs's NSIO: the
 * sync number was NS_GET_USERNS).  Each number encodes the direction and
 * the first published size of its struct; a newer, larger struct keeps the
 * number and says its size in its leading size field.
 */
#define RESMEM_IOC_TYPE		0xBE
#define RESMEM_IOC_INFO		_IOWR(RESMEM_IOC_TYPE, 0x00, struct resmem_info)
#define RESMEM_IOC_SYNC		_IOW(RESMEM_IOC_TYPE, 0x01, struct resmem_sync)
/*
 * A program producing into the region's ring committed records (or closed
 * the ring) and found its @waiters set: wake the region's pollers.  No
 * argument; the file must be open for writing (EBADF); the region must
 * hold a valid ring (the resmem_ring_hdr_check() error otherwise).
 */
#define RESMEM_IOC_RING_NOTIFY	_IO(RESMEM_IOC_TYPE, 0x02)
#define RESMEM_IOC_RING_PRODUCER \
	_IOWR(RESMEM_IOC_TYPE, 0x03, struct resmem_ring_producer)
#define RESMEM_IOC_EXPORT	_IOWR(RESMEM_IOC_TYPE, 0x04, struct resmem_export)

/* ===================================================================== ring
 *
 * Ring format (docs/ring-format.md): a crash-safe record ring kept in a
 * region, written by one producer (a program through mmap, or a driver
 * through the in-kernel producer API) and read by any number of readers.
 * Nothing here is interpreted by the ioctl ABI above; the format lives in
 * the memory itself so that it survives a warm reboot.  All fields are
 * little-endian (the byte order of every supported architecture).
 *
 *   region offset 0                 struct resmem_ring_hdr (one 4 KiB page)
 *   region offset data_off          data area, data_size bytes
 *
 * Positions are 64-bit byte counters in [0, pos_mod), pos_mod being the
 * largest multiple of data_size that fits in 64 bits; the data offset of
 * position p is p % data_size, continuous across the wrap of p at pos_mod.
 * Sequence numbers are 64-bit record counters that wrap at 2^64.
 *
 * A record starts at an 8-byte aligned position: struct resmem_ring_rec
 * then @len payload bytes, padded to 8 bytes.  A record never straddles the
 * end of the data area: the producer fills the rest with a PAD record (or,
 * when fewer than sizeof(struct resmem_ring_rec) bytes remain, leaves them
 * as an implicit pad) and puts the record at offset 0.
 */
#define RESMEM_RING_MAGIC	0x474e49524d534552ULL	/* "RESMRING" */
#define RESMEM_RING_VERSION	2
#define RESMEM_RING_HDR_SIZE	4096	/* data_off of every version 2 ring */
#define RESMEM_RING_ALIGN	8	/* records start at multiples of this */
#define RESMEM_RING_MAX_PAYLOAD	(1U << 30)	/* and at most data_size / 2 */

/* resmem_ring_hdr.flags */
#define RESMEM_RING_F_OVERWRITE	(1U << 0)	/* producer overwrites unread records */
#define RESMEM_RING_F_CLOSED	(1U << 1)	/* producer finished: end of stream */
#define RESMEM_RING_F_KERNEL	(1U << 2)	/* producer is a kernel driver */

/**
 * struct resmem_ring_hdr - state of a ring, at offset 0 of its region
 * @magic:	RESMEM_RING_MAGIC
 * @version:	RESMEM_RING_VERSION
 * @hdr_size:	sizeof(struct resmem_ring_hdr) as written
 * @data_off:	region offset of the data area (RESMEM_RING_HDR_SIZE)
 * @data_size:	bytes in the data area, a multiple of RESMEM_RING_ALIGN
 * @pos_mod:	positions wrap here: data_size * floor((2^64 - 1) / data_size)
 * @geo_crc:	CRC32C of every byte of the header before this field
 * @flags:	RESMEM_RING_F_*, written by the producer when it attaches/closes
 * @epoch:	producer sessions (one per boot for a kernel producer),
 *		continued across a reset; records carry its low 32 bits
 * @head:	producer: end of the last committed record (store-release)
 * @head_seq:	producer: sequence number the next record will get
 * @tail:	producer: start of the oldest record not overwritten; moved
 *		(then a write barrier) before the producer overwrites anything
 * @tail_seq:	producer: sequence number of the record at @tail
 * @refused:	producer: records refused because the ring was full, in a
 *		lossy mode only; each consumed its sequence number
 * @overwritten: producer: records overwritten before the consumer had
 *		consumed them (tail moved over a record at or after @cons)
 * @wait_ns:	producer: nanoseconds producers waited for room (no loss)
 * @cons:	consumer: position up to which records were consumed; the
 *		producer (unless F_OVERWRITE) never overwrites beyond it
 * @cons_seq:	consumer: sequence number expected at @cons
 * @waiters:	consumer side: non-zero while a reader may sleep in poll() on
 *		the device; a producer that finds it set after committing
 *		calls RESMEM_IOC_RING_NOTIFY (docs/ring-format.md, "Wake-ups")
 * @corrupt:	consumer: corrupt records the consumer found
 *
 * @refused, @overwritten, @wait_ns and @corrupt count since the ring was
 * created (reset); a producer's "per run" figures are differences from the
 * values it saw when it attached.  @head_seq, @tail_seq and @cons_seq are
 * informational: a reader takes a record's sequence number from the record
 * itself (checked by its CRC).
 */
struct resmem_ring_hdr {
	__u64 magic;
	__u32 version;
	__u32 hdr_size;
	__u64 data_off;
	__u64 data_size;
	__u64 pos_mod;
	__u32 reserved0;
	__u32 geo_crc;
	/* offset 48: changed only when a producer attaches or closes */
	__u64 epoch;
	__u32 flags;
	__u32 reserved1;
	/* offset 64: written only by the producer */
	__u64 head;
	__u64 head_seq;
	__u64 tail;
	__u64 tail_seq;
	__u64 refused;
	__u64 overwritten;
	__u64 wait_ns;
	__u64 reserved2;
	/* offset 128: written only by the consumer */
	__u64 cons;
	__u64 cons_seq;
	__u32 waiters;
	__u32 reserved3;
	__u64 corrupt;
	__u64 reserved4[4];
};

/* resmem_ring_rec.flags */
#define RESMEM_REC_F_PAD	(1U << 0)	/* filler to the end of the data area */
#define RESMEM_REC_F_GAP	(1U << 1)	/* marks refused records: resmem_ring_gap */

/**
 * struct resmem_ring_rec - header of one record in the data area
 * @len:	payload bytes that follow this header
 * @flags:	RESMEM_REC_F_* (none for a data record)
 * @seq:	sequence number (a PAD or GAP record carries the number of the
 *		record after it and consumes none)
 * @time_ns:	CLOCK_REALTIME nanoseconds when it was committed
 * @epoch:	low 32 bits of resmem_ring_hdr.epoch when it was written
 * @crc:	CRC32C (Castagnoli, reflected, init and final xor 0xffffffff)
 *		of the RESMEM_RING_REC_CRC_LEN bytes @len..@epoch followed by
 *		the @len payload bytes (none for a PAD record)
 */
struct resmem_ring_rec {
	__u32 len;
	__u32 flags;
	__u64 seq;
	__u64 time_ns;
	__u32 epoch;
	__u32 crc;
};

/**
 * struct resmem_ring_gap - payload of a GAP record: records the producer
 * refused (ring full, lossy mode) just before the record after it
 * @first_seq:	sequence number of the first refused record
 * @count:	refused records: @first_seq + @count is the GAP record's seq
 * @first_ns:	CLOCK_REALTIME nanoseconds of the first refusal
 * @last_ns:	and of the last
 */
struct resmem_ring_gap {
	__u64 first_seq;
	__u64 count;
	__u64 first_ns;
	__u64 last_ns;
};

/* Bytes of struct resmem_ring_rec that its @crc covers: those before it. */
#define RESMEM_RING_REC_CRC_LEN	__builtin_offsetof(struct resmem_ring_rec, crc)

/*
 * Ring arithmetic, shared by every producer and reader (the module's and
 * libresmem's).  Pure functions of their arguments: callers pass values
 * they have already read from the ring (a header is checked as a copy).
 * Both supported architectures are 64-bit, so 64-bit division is plain.
 */

/* pos_mod of a ring whose data area is @data_size (> 0) bytes. */
static __inline__ __u64 resmem_ring_pos_mod(__u64 data_size)
{
	return (~(__u64)0 / data_size) * data_size;
}

/* Position @n bytes after @pos (< @pos_mod), wrapping at @pos_mod. */
static __inline__ __u64 resmem_ring_pos_advance(__u64 pos_mod, __u64 pos,
						__u64 n)
{
	__u64 room = pos_mod - pos;

	return n >= room ? n - room : pos + n;
}

/* Bytes from position @from forward to position @to. */
static __inline__ __u64 resmem_ring_pos_distance(__u64 pos_mod, __u64 to,
						 __u64 from)
{
	return to >= from ? to - from : pos_mod - from + to;
}

/* Data-area offset of position @pos. */
static __inline__ __u64 resmem_ring_pos_offset(__u64 data_size, __u64 pos)
{
	return pos % data_size;
}

/* Bytes a record with @len payload bytes takes in the data area. */
static __inline__ __u64 resmem_ring_rec_size(__u64 len)
{
	return (sizeof(struct resmem_ring_rec) + len + RESMEM_RING_ALIGN - 1) &
	       ~(__u64)(RESMEM_RING_ALIGN - 1);
}

/*
 * Largest payload a ring of @data_size bytes takes: with a GAP record and
 * a PAD before it, a record always fits an empty ring.
 */
static __inline__ __u64 resmem_ring_max_payload(__u64 data_size)
{
	__u64 m = data_size / 2 - sizeof(struct resmem_ring_rec) -
		  resmem_ring_rec_size(sizeof(struct resmem_ring_gap));

	return m > RESMEM_RING_MAX_PAYLOAD ? RESMEM_RING_MAX_PAYLOAD : m;
}

/* Smallest data area a ring may have. */
#define RESMEM_RING_MIN_DATA	(8 * sizeof(struct resmem_ring_rec))

/*
 * Is @pos a position a ring with this @pos_mod can hold?  (Below pos_mod,
 * 8-aligned.)
 */
static __inline__ int resmem_ring_pos_valid(__u64 pos_mod, __u64 pos)
{
	return pos < pos_mod && !(pos % RESMEM_RING_ALIGN);
}

/*
 * resmem_ring_hdr_check - is @h (a copy of a ring header, taken once) a
 * valid ring for a region of @region_size bytes?  @geo_crc is the CRC32C
 * of the bytes of *@h before its geo_crc field, computed by the caller.
 * Returns 0, -ENODATA (no ring), -EPROTONOSUPPORT (other version),
 * -EBADMSG (damaged), -EINVAL (does not fit the region).  Once it returns
 * 0, data_size and pos_mod of the copy are safe to index and divide with.
 */
static __inline__ int resmem_ring_hdr_check(const struct resmem_ring_hdr *h,
					    __u64 region_size, __u32 geo_crc)
{
	__u64 ds = h->data_size, pm;

	if (h->magic != RESMEM_RING_MAGIC)
		return -ENODATA;
	if (h->version != RESMEM_RING_VERSION)
		return -EPROTONOSUPPORT;
	if (h->hdr_size != sizeof(*h) || h->data_off != RESMEM_RING_HDR_SIZE ||
	    geo_crc != h->geo_crc || ds % RESMEM_RING_ALIGN ||
	    ds < RESMEM_RING_MIN_DATA)
		return -EBADMSG;
	pm = resmem_ring_pos_mod(ds);
	if (h->pos_mod != pm)
		return -EBADMSG;
	if (region_size < RESMEM_RING_HDR_SIZE ||
	    ds > region_size - RESMEM_RING_HDR_SIZE)
		return -EINVAL;
	if (!resmem_ring_pos_valid(pm, h->head) ||
	    !resmem_ring_pos_valid(pm, h->tail) ||
	    !resmem_ring_pos_valid(pm, h->cons))
		return -EBADMSG;
	if (resmem_ring_pos_distance(pm, h->head, h->tail) > ds)
		return -EBADMSG;
	return 0;
}

#endif /* _UAPI_LINUX_RESMEM_H */
