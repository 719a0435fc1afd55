/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libresmem: user-space access to boot-reserved memory exposed by the resmem
 * driver (/dev/resmem/<name>, /sys/class/resmem/<name>/).
 *
 * Conventions (after libfdt): every function that can fail returns 0 (or a
 * count) on success and a negative errno on failure; nothing here prints,
 * exits or keeps global state.  Strings in structs are always NUL-terminated.
 *
 * ABI (libresmem.so.3, LIBRESMEM_ABI in userspace/lib/abi.mk; exports
 * resmem_* only, in version nodes, see userspace/lib/libresmem.lds):
 * - Handles the library keeps state in are opaque (struct resmem_region):
 *   allocated and freed by the library, read through functions, so they may
 *   grow.
 * - Structs a program allocates or receives (resmem_region_info and the
 *   other records, option structs) are fixed for soname .3 (ring format
 *   version 2 changed the ring structs: .1 is gone; .3 added the struct
 *   pages fields of resmem_region_info): new fields or sizes need a new
 *   soname; new facts come through new functions.
 * - A function is added in a new version node; an existing one never
 *   changes its signature or meaning.
 */
#ifndef LIBRESMEM_H
#define LIBRESMEM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/resmem.h>

#define RESMEM_DEV_DIR "/dev/resmem"
#define RESMEM_SYSFS_ROOT "/sys" /* default for every sysfs_root argument */
/* bytes mapped at once by resmem_walk() */
#define RESMEM_DEFAULT_WINDOW (1ULL << 30)

/*
 * resmem_version - the resmem release this library belongs to, e.g. "1.0":
 * the top-level VERSION file, which also numbers `resmem --version`, the
 * module (MODULE_VERSION) and the packages.
 */
const char *resmem_version(void);

/* ------------------------------------------------------------------ region */

/* What we know about one region, from the ioctl or from sysfs. */
struct resmem_region_info {
	char name[RESMEM_NAME_MAX];
	uint64_t phys_addr;
	uint64_t size; /* bytes */
	char source[24]; /* "cmdline", "param", "devicetree" (or sysfs' word) */
	char cache_mode[24]; /* "write-back", "write-combine", "uncached" */
	int numa_node; /* -1: unknown */
	long mappings; /* live mappings (sysfs only); -1: unknown */
	uint32_t page_size; /* kernel base page size; 0: unknown */
	uint32_t flags; /* RESMEM_INFO_*, and which of them are known: */
	/*
	 * Struct pages (ZONE_DEVICE) for O_DIRECT/io_uring/splice on a mapping:
	 * sysfs "pages" as the module words it, "yes: N pages, up to M KiB of
	 * RAM (...)" or "no: WHY"; "" when not known (no sysfs, a file).
	 */
	char pages[128];
	/* RAM their metadata takes, at most (bytes): 0 without pages, with
	 * pages that cost nothing more (arm64: the boot's own), or unknown */
	uint64_t pages_ram;
};

/*
 * Set in resmem_region_info.flags by the library, never by the kernel: which
 * RESMEM_INFO_* bits are known.  The ioctl tells both; sysfs tells coherent
 * (its "coherent" attribute) but not read-only; a regular file neither.
 */
#define RESMEM_INFO_READONLY_KNOWN (1U << 30)
#define RESMEM_INFO_COHERENT_KNOWN (1U << 31)

/* An open region (opaque): from resmem_open(), freed by resmem_close(). */
struct resmem_region;

/*
 * resmem_dev_path - device node for a region name, or the argument itself
 * when it already looks like a path (contains '/').
 * Returns 0, -EINVAL (empty name), -ENAMETOOLONG.
 */
int resmem_dev_path(const char *name_or_path, char *buf, size_t len);

/*
 * resmem_open - open a region by name ("pmem0") or path and read its info.
 * @writable: open O_RDWR (needed to map PROT_WRITE), else O_RDONLY.
 * A regular file is accepted as a stand-in region (phys_addr 0, source
 * "file", size = file size): saved raw dumps can be verified, and tests can
 * run without the driver.
 * Info comes from RESMEM_IOC_INFO; if the ioctl is not supported it is read
 * from the device's sysfs directory instead.  sysfs extras (mappings) are
 * filled in when available.
 * Returns 0 and *out, or the negative errno of open()/ioctl() (-ENOMEM);
 * -ENOTTY when the file is not a resmem device.  On failure *out is NULL and
 * nothing stays open.
 */
int resmem_open(const char *name_or_path, int writable,
		struct resmem_region **out);

/* resmem_close - close the region's descriptor and free @r (NULL: nothing). */
void resmem_close(struct resmem_region *r);

/* resmem_region_get_fd - the open descriptor (flock, pread); @r owns it. */
int resmem_region_get_fd(const struct resmem_region *r);

/* resmem_region_get_info - what resmem_open() found; valid until close. */
const struct resmem_region_info *
resmem_region_get_info(const struct resmem_region *r);

/* resmem_region_get_path - the device node (or file) that was opened. */
const char *resmem_region_get_path(const struct resmem_region *r);

/*
 * resmem_info_ioctl - RESMEM_IOC_INFO on an open descriptor.
 * Fields the ioctl does not report (mappings) are set to "unknown".
 * Returns 0 or -errno (-ENOTTY: not a resmem device / unknown command).
 */
int resmem_info_ioctl(int fd, struct resmem_region_info *out);

/*
 * resmem_info_sysfs - read <sysfs_root>/class/resmem/<name>/.
 * @sysfs_root: NULL for RESMEM_SYSFS_ROOT.  page_size is left 0.
 * Returns 0, -ENOENT (no such region), -EINVAL (unparsable attribute),
 * or another -errno from reading.
 */
int resmem_info_sysfs(const char *sysfs_root, const char *name,
		      struct resmem_region_info *out);

/* resmem_info_sysfs_dir - the same, given the region's sysfs directory. */
int resmem_info_sysfs_dir(const char *dir, struct resmem_region_info *out);

/*
 * resmem_list - every region under <sysfs_root>/class/resmem, sorted by name.
 * *out is malloc()ed (free() it); *n may be 0, then *out is NULL.
 * A missing class directory (module not loaded) is not an error: *n = 0.
 * Returns 0 or -errno (-ENOMEM, or a region's unreadable attributes).
 */
int resmem_list(const char *sysfs_root, struct resmem_region_info **out,
		size_t *n);

/* Names for the UAPI enums; NULL for values this library does not know. */
const char *resmem_source_name(uint32_t source);
const char *resmem_cache_mode_name(uint32_t cache_mode);

/* ----------------------------------------------------------------- mapping */

/*
 * resmem_map - mmap(MAP_SHARED) bytes [off, off + len) of the region.
 * @off must be a multiple of the page size; the window must lie inside the
 * region; @prot is PROT_READ and/or PROT_WRITE.
 * Returns 0 and *addr, -EINVAL (misaligned, empty or outside), or mmap's -errno.
 */
int resmem_map(const struct resmem_region *r, uint64_t off, uint64_t len,
	       int prot, void **addr);

/* resmem_msync - msync(MS_SYNC) a mapped window.  Returns 0 or -errno. */
int resmem_msync(void *addr, uint64_t len);

/*
 * resmem_dma_sync - RESMEM_IOC_SYNC on bytes [off, off + len) of an open region:
 * @direction RESMEM_SYNC_FOR_DEVICE writes dirty CPU cache lines back before a
 * device reads, RESMEM_SYNC_FOR_CPU drops cached copies before the CPU reads
 * what a device wrote.  Only a barrier on coherent regions (RESMEM_INFO_COHERENT).
 * Returns 0, -EINVAL (bad direction or range), or the ioctl's -errno.
 */
int resmem_dma_sync(const struct resmem_region *r, uint32_t direction,
		    uint64_t off, uint64_t len);

/* resmem_unmap - munmap a window from resmem_map().  Returns 0 or -errno. */
int resmem_unmap(void *addr, uint64_t len);

/*
 * resmem_export - RESMEM_IOC_EXPORT: bytes [off, off + len) of an open region
 * as a dma-buf, for another driver (V4L2 V4L2_MEMORY_DMABUF, DRM PRIME,
 * RDMA ibv_reg_dmabuf_mr) to use the memory itself.  @off and @len are
 * multiples of the page size; @len 0 means to the end of the region.
 * @flags: RESMEM_EXPORT_RDWR (a writable buffer; the region must be open
 * for writing) and/or RESMEM_EXPORT_CLOEXEC.  The buffer keeps the region
 * and the module until its last user closes it.
 * Returns 0 and *fd, -EINVAL (window not page-aligned or outside the
 * region, unknown flags), -EBADF (RDWR on a read-only open), or the
 * ioctl's -errno (ENOTTY: a module without dma-buf export).
 */
int resmem_export(const struct resmem_region *r, uint64_t off, uint64_t len,
		  uint32_t flags, int *fd);

enum resmem_access {
	RESMEM_VIA_MMAP = 0, /* through mapped windows */
	RESMEM_VIA_RW = 1, /* through pread()/pwrite() */
};

/*
 * resmem_walk_fn - called by resmem_walk() for consecutive pieces of a range.
 * @buf: the bytes for region offset @off (mapped memory, or a bounce buffer
 *       that was just read / will be written after the call).
 * Return 0 to go on; any other value stops the walk and is returned by it
 * (use positive values to tell them apart from the library's -errno).
 */
typedef int (*resmem_walk_fn)(void *buf, uint64_t off, size_t len, void *ctx);

struct resmem_walk_opts {
	enum resmem_access via;
	int write; /* the callback produces data */
	uint64_t window; /* bytes mapped at once; 0: RESMEM_DEFAULT_WINDOW */
	size_t chunk; /* bytes per callback; 0: 64 MiB (mmap), 4 MiB (rw) */
};

/*
 * resmem_walk - visit [off, off + len) of the region in chunks.  Any @off and
 * @len inside the region are fine: windows are aligned internally.
 * With write set and mmap, each window is msync()ed before it is unmapped.
 * Returns 0, the callback's nonzero value, -EINVAL (outside the region),
 * -EIO (short read/write), or -errno from mmap/msync/pread/pwrite.
 */
int resmem_walk(const struct resmem_region *r, uint64_t off, uint64_t len,
		const struct resmem_walk_opts *opts, resmem_walk_fn fn,
		void *ctx);

/* -------------------------------------------------------------------- size */

/*
 * resmem_parse_size - "4096", "0x100000000", "8G", "512k": decimal or 0x-hex
 * with an optional K/M/G/T suffix (case-insensitive, powers of 1024).
 * No sign, spaces or other trailing characters.  A leading 0 is decimal.
 * Returns 0, -EINVAL (syntax), -ERANGE (does not fit in 64 bits).
 */
int resmem_parse_size(const char *s, uint64_t *out);

/*
 * resmem_format_size - human-readable size: "512 B", "4.0 KiB", "8.0 GiB".
 * Returns @buf (truncated to @len).
 */
char *resmem_format_size(uint64_t bytes, char *buf, size_t len);

/* ----------------------------------------------------------------- pattern */

enum resmem_pattern_kind {
	RESMEM_PATTERN_BYTE, /* every byte the same ("0xAB", "zero") */
	RESMEM_PATTERN_SEQ, /* position-dependent ("seq:SEED") */
};

struct resmem_pattern {
	enum resmem_pattern_kind kind;
	uint8_t byte;
	uint64_t seed;
};

/*
 * resmem_pattern_parse - "0xAB" (one byte, hex), "zero", "seq:SEED" (SEED a
 * decimal or 0x-hex u64).  Returns 0, -EINVAL, -ERANGE.
 */
int resmem_pattern_parse(const char *s, struct resmem_pattern *p);

/* resmem_pattern_format - canonical text ("0xab", "zero", "seq:0x1f"). */
char *resmem_pattern_format(const struct resmem_pattern *p, char *buf,
			    size_t len);

/*
 * resmem_seq_word - the 8 bytes of "seq:seed" at region offset @word_off
 * (a multiple of 8), as a native integer whose little-endian bytes are the
 * memory contents: splitmix64's finaliser applied to seed ^ word_off.
 */
uint64_t resmem_seq_word(uint64_t seed, uint64_t word_off);

/* resmem_pattern_byte - the expected byte at region offset @off. */
uint8_t resmem_pattern_byte(const struct resmem_pattern *p, uint64_t off);

/*
 * resmem_pattern_fill - write the pattern into @buf, which holds region
 * offsets [off, off + len).  Uses aligned 8-byte stores only (never memset:
 * it may use cache-zeroing instructions that fault on uncached mappings).
 */
void resmem_pattern_fill(const struct resmem_pattern *p, void *buf,
			 uint64_t off, size_t len);

/* Result of comparisons, accumulated over calls. */
struct resmem_mismatch {
	uint64_t bad_bytes; /* bytes that differ */
	uint64_t first_off; /* region offset of the first bad byte */
	uint8_t expected; /* ... what it should have been */
	uint8_t actual; /* ... and what it was */
	uint64_t last_off; /* region offset of the last bad byte */
};

/*
 * resmem_pattern_compare - compare @buf (region offsets [off, off + len))
 * with the pattern and add to @m (zero it before the first call; calls must
 * go in increasing offset order for first_off to be the first).
 * Returns the number of bad bytes found in this call.
 */
uint64_t resmem_pattern_compare(const struct resmem_pattern *p, const void *buf,
				uint64_t off, size_t len,
				struct resmem_mismatch *m);

/* ------------------------------------------------------ boot configuration */

/* One memmap= entry (one item of a comma-separated list). */
enum resmem_memmap_kind {
	RESMEM_MEMMAP_LIMIT, /* "SIZE": caps usable RAM at SIZE */
	RESMEM_MEMMAP_RAM, /* "SIZE@ADDR" */
	RESMEM_MEMMAP_ACPI, /* "SIZE#ADDR" */
	RESMEM_MEMMAP_RESERVE, /* "SIZE$ADDR" */
	RESMEM_MEMMAP_PERSIST, /* "SIZE!ADDR" */
	RESMEM_MEMMAP_CONVERT, /* "SIZE%ADDR-OLD+NEW": type conversion */
	RESMEM_MEMMAP_EXACTMAP, /* "exactmap" */
	RESMEM_MEMMAP_INVALID, /* the kernel rejects it */
};

struct resmem_memmap {
	char text[96]; /* the entry as written, e.g. "8G$4G" */
	enum resmem_memmap_kind kind;
	uint64_t size;
	uint64_t addr; /* start, for kinds with an address */
	int trailing; /* junk after the entry (kernel: -EINVAL after acting) */
};

/*
 * resmem_memmap_parse - every memmap= entry of a kernel command line, parsed
 * like arch/x86/kernel/e820.c does (memparse: base 0, K/M/G/T/P/E suffixes).
 * *out is malloc()ed (free() it).  Returns 0 or -ENOMEM.
 */
int resmem_memmap_parse(const char *cmdline, struct resmem_memmap **out,
			size_t *n);

/* One line of /proc/iomem. */
struct resmem_iomem {
	uint64_t start, end; /* inclusive */
	int depth; /* nesting: 0 top level */
	char name[64];
};

/*
 * resmem_iomem_parse - parse /proc/iomem text.  *zeroed is set when every
 * address is 0 (what non-root readers see).  *out is malloc()ed.
 * Returns 0, -ENOMEM, -EINVAL (not iomem-shaped).
 */
int resmem_iomem_parse(const char *text, struct resmem_iomem **out, size_t *n,
		       int *zeroed);

/* One entry of /sys/firmware/memmap/N/{start,end,type}. */
struct resmem_fwmap {
	uint64_t start, end; /* inclusive */
	char type[48]; /* "System RAM", "Reserved", ... */
};

/*
 * resmem_fwmap_read - every entry under @dir (/sys/firmware/memmap), sorted
 * by start.  *out is malloc()ed.  Returns 0, -ENOENT (no such directory:
 * e.g. arm64), -EINVAL (unparsable entry), -errno.
 */
int resmem_fwmap_read(const char *dir, struct resmem_fwmap **out, size_t *n);

/*
 * resmem_read_file - read a whole (small, possibly procfs) file into a
 * malloc()ed NUL-terminated string.  Returns 0 or -errno.
 */
int resmem_read_file(const char *path, char **out);

/*
 * resmem_write_file - replace @path with @len bytes of @buf atomically: a
 * temporary file beside it is written, fsync()ed and renamed over it, so a
 * reader (or a crash) sees the old contents or the new, never a part.
 * Created 0644 (less the umask).  Returns 0 or -errno (-ENAMETOOLONG).
 */
int resmem_write_file(const char *path, const void *buf, size_t len);

/*
 * resmem_write_all - write all @len bytes of @buf to @fd, retrying short
 * writes and EINTR.  Returns 0 or -errno.
 */
int resmem_write_all(int fd, const void *buf, size_t len);

/* Verdict on one memmap= entry, given the kernel's and the firmware's maps. */
enum resmem_verdict {
	RESMEM_VERDICT_OK, /* took effect as asked */
	RESMEM_VERDICT_NO_ADDRESS, /* bare SIZE: caps RAM, reserves nothing */
	RESMEM_VERDICT_NOT_RAM, /* firmware does not call the range RAM */
	RESMEM_VERDICT_NOT_APPLIED, /* /proc/iomem does not show it */
	RESMEM_VERDICT_KERNEL_INSIDE, /* the kernel image lies in the range */
	RESMEM_VERDICT_UNKNOWN, /* /proc/iomem zeroed (not root) */
	RESMEM_VERDICT_INVALID, /* the kernel cannot parse it */
	RESMEM_VERDICT_NOT_CHECKED, /* exactmap, %: not judged */
	RESMEM_VERDICT_BELOW_1M, /* starts below 1 MiB: never a region */
};

struct resmem_sysview {
	const struct resmem_iomem *iomem;
	size_t n_iomem;
	int iomem_zeroed;
	const struct resmem_fwmap *fw; /* NULL when unavailable */
	size_t n_fw;
};

/* What the maps say about the range, to explain a verdict. */
struct resmem_evidence {
	char iomem[64]; /* iomem entry at the first uncovered byte, or "" */
	char fw[48]; /* firmware type at the first non-RAM byte, or "" */
	uint64_t where; /* that byte's address */
	int fw_known; /* a firmware map was available */
};

/* resmem_memmap_judge - the verdict on @m; @ev (may be NULL) says why. */
enum resmem_verdict resmem_memmap_judge(const struct resmem_memmap *m,
					const struct resmem_sysview *v,
					struct resmem_evidence *ev);

/* resmem_memmap_type_name - what /proc/iomem calls a kind ("Reserved", ...). */
const char *resmem_memmap_type_name(enum resmem_memmap_kind kind);

/* -------------------------------------------------------------------- ring */
/*
 * A crash-safe record ring in a mapped region (docs/ring-format.md): one
 * producer, any number of readers, lock-free.  The ring memory is touched
 * with naturally aligned accesses only (safe on uncached mappings).  A ring
 * also works on any other shared mapping (a file, anonymous memory).
 */

/*
 * resmem_crc32c - CRC32C (Castagnoli) of @len bytes, continuing from @crc
 * (0 to start): resmem_crc32c(resmem_crc32c(0, a, n), b, m) is the CRC of
 * a followed by b.  resmem_crc32c(0, "123456789", 9) == 0xe3069283.
 */
uint32_t resmem_crc32c(uint32_t crc, const void *buf, size_t len);

/*
 * A ring on mapped memory, opaque: made by resmem_ring_init() or
 * resmem_ring_open(), released with resmem_ring_free().
 */
struct resmem_ring;

/* Options for resmem_ring_init(); all zero: defaults. */
struct resmem_ring_opts {
	uint64_t data_size; /* 0: all of the region after the header */
	uint64_t start_pos; /* first position (tests: near 2^32, 2^64) */
	uint64_t start_seq; /* first sequence number */
};

/*
 * resmem_ring_init - write a new, empty ring header at @base (a mapping of
 * @region_size bytes, at least RESMEM_RING_HDR_SIZE + RESMEM_RING_MIN_DATA)
 * and make *@r a ring on it.  Old data bytes are left alone (never read
 * again).  @o may be NULL.
 * Returns 0, -EINVAL (too small, data_size too big or not a multiple of 8,
 * start_pos not 8-aligned), -ENOMEM.
 */
int resmem_ring_init(struct resmem_ring **r, void *base, uint64_t region_size,
		     const struct resmem_ring_opts *o);

/*
 * resmem_ring_open - make *@r the ring already at @base, after checking its
 * header (magic, version, geometry, CRC, positions).
 * Returns 0, -ENODATA (no ring: wrong magic), -EPROTONOSUPPORT (other
 * version), -EBADMSG (damaged header), -EINVAL (does not fit @region_size),
 * -ENOMEM.
 */
int resmem_ring_open(struct resmem_ring **r, void *base, uint64_t region_size);

/*
 * resmem_ring_free - release @r (NULL: nothing).  The ring memory is left
 * as it is: a producer calls resmem_ring_close() first, the caller unmaps.
 */
void resmem_ring_free(struct resmem_ring *r);

/* Bytes in the ring's data area (pos_mod is resmem_ring_pos_mod() of it). */
uint64_t resmem_ring_data_size(const struct resmem_ring *r);

/* Producer: the sequence number the next record gets. */
uint64_t resmem_ring_next_seq(const struct resmem_ring *r);

/* Position arithmetic modulo pos_mod (see docs/ring-format.md). */
uint64_t resmem_ring_pos_add(const struct resmem_ring *r, uint64_t pos,
			     uint64_t n);
uint64_t resmem_ring_distance(const struct resmem_ring *r, uint64_t to,
			      uint64_t from);

/*
 * Loss and wait counters (docs/ring-format.md, "Counters").  In the ring
 * header they count since the ring was created (reset); a producer's
 * per-run figures are the differences from the values at its attach.
 */
struct resmem_ring_counters {
	uint64_t refused; /* records refused: ring full, lossy mode */
	uint64_t overwritten; /* records overwritten before being consumed */
	uint64_t wait_ns; /* nanoseconds producers waited for room (no loss) */
	uint64_t corrupt; /* corrupt records the consumer found */
};

/* resmem_ring_counters - the header's counters: since the last reset. */
void resmem_ring_counters(const struct resmem_ring *r,
			  struct resmem_ring_counters *since_reset);

/*
 * resmem_ring_run_counters - producer: the counters of this run (since
 * resmem_ring_attach()).  corrupt is what consumers reported meanwhile.
 */
void resmem_ring_run_counters(const struct resmem_ring *r,
			      struct resmem_ring_counters *run);

/* A snapshot of the header's moving fields. */
struct resmem_ring_state {
	uint64_t epoch;
	uint32_t flags;
	uint64_t head, head_seq, tail, tail_seq, cons, cons_seq;
	uint64_t refused, overwritten, wait_ns, corrupt; /* since reset */
	uint64_t used; /* bytes in [tail, head) */
	uint64_t unread; /* bytes in [cons, head) (cons clamped to tail) */
};
void resmem_ring_state(const struct resmem_ring *r,
		       struct resmem_ring_state *st);

/*
 * The record being written when the producer stopped (at head): a header
 * of the current epoch with seq == head_seq.
 */
struct resmem_ring_inflight {
	int present; /* such a record header is there */
	int complete; /* its CRC is good (written, not committed) */
	uint64_t seq;
	uint32_t len;
	uint64_t time_ns; /* CLOCK_REALTIME when reserved or written */
};
void resmem_ring_inflight(const struct resmem_ring *r,
			  struct resmem_ring_inflight *f);

/*
 * resmem_ring_attach - become the ring's (only) producer: epoch++, flags
 * set to @flags (RESMEM_RING_F_OVERWRITE), CLOSED cleared.  Continues at
 * head.  Returns 0, -EINVAL (unknown flags).
 */
int resmem_ring_attach(struct resmem_ring *r, uint32_t flags);

/* resmem_ring_close - end of stream: set RESMEM_RING_F_CLOSED. */
void resmem_ring_close(struct resmem_ring *r);

/*
 * resmem_ring_reserve - reserve a record of @len payload bytes; *payload
 * points at them in the ring (8-byte aligned).  Without F_OVERWRITE a full
 * ring says -ENOSPC and counts nothing: wait and retry (lossless; add the
 * time with resmem_ring_add_wait()) or give the record up with
 * resmem_ring_refuse() (lossy).  With F_OVERWRITE the oldest records go
 * (counted as overwritten if not consumed yet).  A GAP record for refused
 * records goes before the record.
 * Returns 0, -ENOSPC (full), -EMSGSIZE (@len too big for this ring),
 * -EBUSY (a record is already reserved), -EPERM (not attached).
 */
int resmem_ring_reserve(struct resmem_ring *r, uint32_t len, void **payload);

/*
 * resmem_ring_refuse - give up the next record (the ring is full): it takes
 * its sequence number, counts as refused and is marked by the GAP record
 * written before the next record accepted (or at close, if it fits).
 * Returns 0, -EBUSY (a record is reserved), -EPERM (not attached).
 */
int resmem_ring_refuse(struct resmem_ring *r);

/*
 * resmem_ring_flush_gap - write the GAP record for refused records now
 * instead of before the next record (resmem_ring_close() tries it too).
 * Returns 0 (written, or none pending), -ENOSPC (no room yet: the consumer
 * is behind), -EBUSY (a record is reserved), -EPERM (not attached).
 */
int resmem_ring_flush_gap(struct resmem_ring *r);

/* resmem_ring_add_wait - the producer waited @ns nanoseconds for room. */
void resmem_ring_add_wait(struct resmem_ring *r, uint64_t ns);

/*
 * resmem_ring_commit - publish the reserved record with @len (<= reserved)
 * payload bytes: CRC, then head (store-release).  Returns 0, -EINVAL.
 */
int resmem_ring_commit(struct resmem_ring *r, uint32_t len);

/* resmem_ring_write - reserve, copy @len bytes from @buf, commit. */
int resmem_ring_write(struct resmem_ring *r, const void *buf, uint32_t len);

/*
 * resmem_ring_reserve_ahead (LIBRESMEM_3.2) - for a producer that fills
 * payloads before it reserves them (direct I/O into the ring, several in
 * flight): room for the next *@n records of @len payload bytes each, made
 * now (tail moves as their reservations would move it: without
 * F_OVERWRITE only over consumed records), and in @payload[i] where
 * resmem_ring_reserve() will put the i-th of them if they are reserved
 * and committed in order with this @len and nothing is refused between.
 * The bytes there are free until then: readers stop at head.  *@n is
 * lowered to the records that fit now.  Call it again with all records
 * not yet reserved to extend the batch (it always starts at head).
 * Returns 0, -ENOSPC (not one fits: the consumer is behind), -EMSGSIZE
 * (@len too big for this ring), -EBUSY (a record is reserved), -EPERM
 * (not attached), -EINVAL (*@n is 0).
 */
int resmem_ring_reserve_ahead(struct resmem_ring *r, uint32_t len,
			      unsigned int *n, void **payload);

/* Where a new reader starts. */
enum resmem_ring_from {
	RESMEM_RING_FROM_TAIL, /* the oldest record still there */
	RESMEM_RING_FROM_CONS, /* where the consumer left off */
	RESMEM_RING_FROM_HEAD, /* only records committed from now on */
};

/*
 * A reader of a ring, opaque: made by resmem_ring_reader_new(), released
 * with resmem_ring_reader_free() (before the ring is).
 */
struct resmem_ring_reader;

/* What a reader has done so far (resmem_ring_reader_stats()). */
struct resmem_ring_reader_stats {
	uint64_t pos; /* next record's position */
	uint64_t seq; /* its expected sequence number */
	uint64_t records, bytes; /* good records returned */
	uint64_t lost; /* records overwritten before they were read */
	uint64_t refused; /* records the producer refused (ring full) */
	uint64_t corrupt; /* records that failed their checks */
	int scanning; /* searching past corruption for a good record */
	/* refused records after the last record returned (a GAP at the end):
	 * seq - pending_refused .. seq - 1, refused between these times */
	uint64_t pending_refused, pending_first_ns, pending_last_ns;
};

/*
 * What resmem_ring_read() found (in addition to the payload).  Missing
 * right before the record, in this order: lost records, then refused ones
 * (seq - refused .. seq - 1); corrupt ones were somewhere before it.
 */
struct resmem_ring_recinfo {
	uint64_t seq;
	uint64_t pos;
	uint32_t len; /* payload bytes (or needed, with -EMSGSIZE) */
	uint32_t epoch;
	uint64_t time_ns; /* CLOCK_REALTIME nanoseconds at commit */
	uint64_t lost; /* records overwritten before this reader got them */
	uint64_t refused; /* records the producer refused just before */
	uint64_t refused_first_ns,
		refused_last_ns; /* when (GAP record), or 0 */
	uint64_t corrupt; /* records corrupt just before this one */
};

/* resmem_ring_reader_new - start a reader of @r.  Returns 0, -ENOMEM. */
int resmem_ring_reader_new(struct resmem_ring_reader **rd,
			   const struct resmem_ring *r,
			   enum resmem_ring_from from);

/* resmem_ring_reader_free - release @rd (NULL: nothing). */
void resmem_ring_reader_free(struct resmem_ring_reader *rd);

void resmem_ring_reader_stats(const struct resmem_ring_reader *rd,
			      struct resmem_ring_reader_stats *st);

/*
 * resmem_ring_read - the next good record, copied to @buf (capacity @cap)
 * and checked there, so what is returned is exactly what the CRC checked.
 * Lost and corrupt records on the way are skipped and counted (in @ri and
 * the reader).  Returns 1 (a record), 0 (none committed yet; the reader may
 * be scanning past corruption: resmem_ring_reader_stats()), -EMSGSIZE
 * (@cap too small: ri->len says how much is needed; nothing consumed).
 */
int resmem_ring_read(struct resmem_ring_reader *rd, void *buf, size_t cap,
		     struct resmem_ring_recinfo *ri);

/*
 * resmem_ring_consume - as the consumer, release everything this reader
 * has read (cons = its position, store-release), freeing space for a producer
 * that does not overwrite, and add the corrupt records it found since the
 * last call to the header's corrupt counter.  Needs a writable mapping.
 */
void resmem_ring_consume(struct resmem_ring_reader *rd);

/*
 * Wake-ups (docs/ring-format.md, "Wake-ups") for a ring in @region, the
 * region it was mapped from.
 *
 * resmem_ring_wait - sleep until @rd has a record to read or the producer
 * closed the ring, at most @timeout_ms (-1: no limit).  On a region device
 * it sleeps in poll(), woken by the producer's commit; a ring in a regular
 * file, or a reader ahead of the consumer (cons), is only looked at again
 * after a short sleep (1 ms).  Returns 1 (a record or the end of the
 * stream), 0 (timeout, or woken with nothing for @rd: call again), -EINTR
 * (a signal), -errno.
 */
int resmem_ring_wait(const struct resmem_region *region,
		     const struct resmem_ring_reader *rd, int timeout_ms);

/*
 * resmem_ring_notify - as the producer, after resmem_ring_commit() (or
 * resmem_ring_write(), resmem_ring_close()): wake readers sleeping in
 * resmem_ring_wait() if the ring says there are any (one barrier and one
 * load otherwise).  Returns 0 (also on a regular file), -errno.
 */
int resmem_ring_notify(const struct resmem_region *region,
		       const struct resmem_ring *r);

/* -------------------------------------------------------------- ring image */
/*
 * A ring image (LIBRESMEM_3.1): the committed bytes [start, end) of a ring
 * laid out as a ring file, which resmem_ring_open() and every reader take
 * like any other (resmem drain --image; docs/ring-format.md, "Images").
 * The bytes are copied unchanged, so the records keep their CRCs and
 * reading the image back checks every one.  The caller moves them:
 *
 *   file offset 0            img.hdr, then zeros to RESMEM_RING_HDR_SIZE
 *   ext[i].file_off          ext[i].len bytes from region offset ext[i].region_off
 *   img.size                 the end of the file (ftruncate)
 *
 * ext[i].file_off and ext[i].region_off are equal modulo
 * RESMEM_RING_IMAGE_ALIGN, so direct I/O (O_DIRECT, io_uring) moves whole
 * pages straight from a mapping of the region: the image leaves out the
 * ring's free space in whole pages and keeps the wrap (two extents, the
 * older one ending at the image's data end, its PAD record intact).
 * Bytes of the image outside the extents are never read: a writer may
 * leave them as holes or zero them.
 *
 * A consumer: plan, write the extents, resmem_ring_image_settle(), write
 * img.hdr, make the file durable (fdatasync, and the directory's entry),
 * then resmem_ring_image_consume().  A crash anywhere before that loses
 * nothing: the ring still holds the records.
 */
#define RESMEM_RING_IMAGE_ALIGN 4096

struct resmem_ring_image_extent {
	uint64_t region_off; /* from the ring's base (region offset 0) */
	uint64_t file_off; /* == region_off mod RESMEM_RING_IMAGE_ALIGN */
	uint64_t len;
};

struct resmem_ring_image {
	uint64_t start, end; /* positions in the ring */
	uint64_t start_seq; /* sequence number expected at start */
	uint64_t end_seq; /* and after the last record */
	uint64_t records,
		bytes; /* data records, payload bytes (headers only) */
	uint64_t lost; /* FROM_CONS: records overwritten before cons */
	uint64_t overrun; /* bytes overwritten while copying (settle) */
	int damaged; /* a record header in [start, end) does not fit */
	uint64_t size; /* bytes of the image file */
	unsigned int extents; /* 0 (empty), 1, or 2 (wrapped) */
	struct resmem_ring_image_extent ext[2];
	struct resmem_ring_hdr hdr; /* the image's header */
};

/*
 * resmem_ring_image_plan - take the ring's committed bytes from @from
 * (tail, cons, head) to head and lay them out as an image in *@img.
 * Record headers are walked to count records and size the image's data
 * area (big enough for the largest record); payloads are not read.
 * A damaged header stops the count (img->damaged) and the bytes are
 * imaged as they are.  The image's header says CLOSED (a snapshot).
 * Returns 0, -EBADMSG (the live header's positions make no sense).
 */
int resmem_ring_image_plan(const struct resmem_ring *r,
			   enum resmem_ring_from from,
			   struct resmem_ring_image *img);

/*
 * resmem_ring_image_settle - after the extents are copied and before
 * img->hdr is written: an overwriting producer may have passed start while
 * the copy ran; the image then starts at the ring's tail (img->hdr, start,
 * start_seq move; img->overrun counts the bytes, records is stale).
 * Returns 0 (nothing overwritten), 1 (moved), -ESTALE (all of it
 * overwritten: the image is worthless).
 */
int resmem_ring_image_settle(const struct resmem_ring *r,
			     struct resmem_ring_image *img);

/*
 * resmem_ring_image_consume - as the consumer, mark [.., img->end)
 * consumed (cons = end, store-release): only once the image is durable.
 * Needs a writable mapping.  Returns 0, -EINVAL.
 */
int resmem_ring_image_consume(struct resmem_ring *r,
			      const struct resmem_ring_image *img);

/* Who holds a region's producer slot (resmem_ring_claim()). */
struct resmem_ring_owner {
	int kernel; /* an in-kernel producer: name is "DRIVER DEVICE" */
	int32_t pid; /* else the process that claimed it; name its command */
	char name[64];
};

/*
 * resmem_ring_claim - become the one producer of @region's ring: the slot
 * is held until the region is closed (also when the process dies), and
 * while it is held the module's in-kernel producer API refuses the region.
 * Returns 0, -EBUSY (*@who says who holds it), -ENOTTY (a regular file: no
 * slot, use flock()), -EBADF (opened read-only), -errno.
 */
int resmem_ring_claim(const struct resmem_region *region,
		      struct resmem_ring_owner *who);

#endif /* LIBRESMEM_H */
