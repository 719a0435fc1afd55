/* SPDX-License-Identifier: GPL-2.0 */
/*
 * resmem internal definitions.
 *
 * Life of a region: params.c and discover.c produce candidates (struct
 * resmem_region with only the range, name and source filled in), region.c
 * sorts and names them, validate.c accepts or refuses each one, region.c
 * claims and maps the accepted ones, chardev.c gives each a device and
 * registry.c keeps it until the one teardown, unregister_region(), which
 * lifetime.c makes safe while the region is still open, mapped or
 * producing.
 */
#ifndef _RESMEM_PRIVATE_H
#define _RESMEM_PRIVATE_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/ioport.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <uapi/linux/resmem.h>

#define RESMEM_MAX_REGIONS	64

/* Width of "resmem: " plus the longest name, for the /proc/iomem label. */
#define RESMEM_RES_NAME_MAX	(8 + RESMEM_NAME_MAX)

/* What resmem_refuse_as() names: "NAME [mem A-B]", "NAME (/node/path)". */
#define RESMEM_WHAT_MAX		192

struct resmem_producer;
struct dev_pagemap;

/**
 * struct resmem_region - one region of reserved physical memory
 * @node:	entry in a candidate list, then in the registry (registry.c)
 * @name:	device name, NUL-terminated, no '/'
 * @named:	@name was given by the user (regions= name:...)
 * @phys:	first physical byte
 * @size:	length in bytes, a multiple of PAGE_SIZE once validated
 * @source:	enum resmem_source
 * @cache:	enum resmem_cache_mode
 * @cache_set:	@cache was given per region (otherwise cache= applies)
 * @memmap:	discovery found it inside memmap=$ ranges of the command line
 * @linear:	in the kernel's linear map (a device-tree region without
 *		no-map): claimed inside System RAM, mapped write-back only
 * @reusable:	the device tree lends it to the page allocator (refused)
 * @readonly:	opening the device for writing fails (device tree read-only)
 * @coherent:	DMA into it is cache-coherent: RESMEM_IOC_SYNC is a barrier
 * @node_name:	device-tree node it came from, for messages ("" if none)
 * @param:	the regions= entry text this came from, for messages ("" if none)
 * @res_name:	label of @res in /proc/iomem ("resmem: <name>")
 * @res:	our claim in iomem_resource, NULL until claimed
 * @kaddr:	kernel mapping for write-back and write-combining regions
 * @ioaddr:	kernel mapping for uncached regions
 * @minor:	minor number of the device
 * @dev:	class device; its reference count is the region's (lifetime.c):
 *		the last put_device() frees the region
 * @cdev:	character device, a child of @dev (cdev_device_add())
 * @inode:	anonymous inode whose address_space every open file maps
 *		through, so removal can zap every mapping; NULL until the
 *		region gets its device
 * @dead:	removal has begun: every operation fails (lifetime.c)
 * @claim_orphaned: removed while a producer held the claim and the kernel
 *		mapping; resmem_producer_put() releases them.  Under
 *		resmem_regions_lock
 * @mmaps_lock:	protects @mmaps
 * @mmaps:	mms that may be inside an mmap() of the region (kernels whose
 *		->mmap fills page tables, compat.h RESMEM_MMAP_BEFORE_LINK)
 * @opens:	number of open files of the device
 * @mappings:	number of live VMAs mapping this region
 * @producer:	the in-kernel producer (producer.c), NULL if none; under
 *		resmem_regions_lock
 * @ring_wq:	poll() sleepers waiting for ring records (ring_wake.c)
 * @ring_kick:	wakes @ring_wq for a kernel producer that commits with
 *		interrupts off (a wait queue lock sleeps on PREEMPT_RT)
 * @ring_file:	the open file holding the producer slot (ring_claim.c),
 *		NULL if none; under resmem_regions_lock
 * @ring_pid:	the process that claimed it, for messages
 * @ring_comm:	its command name
 * @pgmap:	its ZONE_DEVICE struct pages (pages.c), NULL if it has none
 * @bootpages:	it is mapped with the boot's own struct pages instead
 *		(pages.c, arm64 device-tree ranges in the linear map)
 * @nopages:	why it has none (pages.c), NULL while undecided or if it has
 * @pages_err:	memremap_pages()'s error when that was why, else 0
 * @pages_choice: enum resmem_pages_choice: the region's own (regions= entry
 *		option, device-tree resmem,pages), else RESMEM_PAGES_DEFAULT
 * @head:	bytes at the start of the claimed range that hold the struct
 *		pages (pages.c, RESMEM_PAGES_REGION), else 0.  Once they are
 *		there, @phys, @size and @kaddr describe the usable part after
 *		them; the claim and kernel mapping are of @head more before
 * @head_why:	why struct pages asked to be in the region are in RAM
 *		instead, else NULL
 * @dmabufs:	dma-bufs exported from it that still exist (dmabuf.c); under
 *		resmem_regions_lock
 *
 * A region can be removed while it is open, mapped and producing
 * (lifetime.c); it is freed when the last of them lets it go.
 */
struct resmem_region {
	struct list_head node;
	char name[RESMEM_NAME_MAX];
	bool named;
	u64 phys;
	u64 size;
	u32 source;
	u32 cache;
	bool cache_set;
	bool memmap;
	bool linear;
	bool reusable;
	bool readonly;
	bool coherent;
	char node_name[64];
	char param[64];
	char res_name[RESMEM_RES_NAME_MAX];
	struct resource *res;
	void *kaddr;
	void __iomem *ioaddr;
	unsigned int minor;
	struct device dev;
	struct cdev cdev;
	struct inode *inode;
	bool dead;
	bool claim_orphaned;
	struct mutex mmaps_lock;
	struct list_head mmaps;
	atomic_t opens;
	atomic_t mappings;
	struct resmem_producer *producer;
	wait_queue_head_t ring_wq;
	struct irq_work ring_kick;
	struct file *ring_file;
	pid_t ring_pid;
	char ring_comm[TASK_COMM_LEN];
	struct dev_pagemap *pgmap;
	bool bootpages;
	const char *nopages;
	int pages_err;
	u32 pages_choice;
	u64 head;
	const char *head_why;
	unsigned int dmabufs;
};

/* registry.c: the regions with devices */
extern struct mutex resmem_regions_lock;
int resmem_region_add(struct resmem_region *r);
void resmem_region_remove(struct resmem_region *r);
void resmem_regions_remove_all(void);
struct resmem_region *resmem_region_find(const char *name);
bool resmem_regions_empty(void);
int resmem_region_export(struct resmem_region *r);
void resmem_region_unexport(struct resmem_region *r);
void resmem_region_release_orphan(struct resmem_region *r, const char *what);

/**
 * enum resmem_pages_choice - what a region asks for its struct pages
 * @RESMEM_PAGES_DEFAULT:	nothing of its own: module parameters pages=
 *				and pages_in= decide
 * @RESMEM_PAGES_OFF:		none: the PFN mapping (huge entries, no
 *				metadata)
 * @RESMEM_PAGES_RAM:		struct pages, metadata in system RAM
 *				(arm64: the boot's own)
 * @RESMEM_PAGES_REGION:	struct pages, metadata in the region's head
 *				(x86 ZONE_DEVICE; arm64: the boot's own)
 */
enum resmem_pages_choice {
	RESMEM_PAGES_DEFAULT,
	RESMEM_PAGES_OFF,
	RESMEM_PAGES_RAM,
	RESMEM_PAGES_REGION,
};

/* params.c */
extern u32 resmem_default_cache;
extern u32 resmem_default_pages_in;
extern bool resmem_discover_enabled;
int resmem_params_init(void);
int resmem_parse_regions(struct list_head *out);
const char *resmem_cache_name(u32 cache);
bool resmem_name_ok(const char *name);
int resmem_parse_pages(const char *s, u32 *out);
const char *resmem_pages_name(u32 choice);

/* discover.c */
int resmem_discover(struct list_head *out);

/* cmdline.c: the memmap=SIZE$ADDR ranges of the kernel command line */
#define RESMEM_MEMMAP_MAX	64

/* [start, end) */
struct resmem_span {
	u64 start;
	u64 end;
};

/**
 * struct resmem_memmap - memmap=$ ranges, ascending, merged where they touch
 * @n:		number of ranges in @span
 * @span:	the ranges
 * @err:	why it could not be read (negative errno), else 0
 */
struct resmem_memmap {
	unsigned int n;
	struct resmem_span span[RESMEM_MEMMAP_MAX];
	int err;
};

void resmem_memmap_load(void);
const struct resmem_memmap *resmem_memmap(void);
u64 resmem_memmap_uncovered(u64 start, u64 end);

/* efi.c: memory the UEFI firmware keeps using after boot */
/**
 * struct resmem_efi_range - one EFI memory descriptor's range
 * @start:	first byte
 * @end:	one past the last byte
 * @type:	EFI memory type (EFI_RUNTIME_SERVICES_DATA, ...)
 * @runtime:	it has the EFI_MEMORY_RUNTIME attribute
 */
struct resmem_efi_range {
	u64 start;
	u64 end;
	u32 type;
	bool runtime;
};

#ifdef CONFIG_EFI
bool resmem_efi_in_use(u64 start, u64 end, struct resmem_efi_range *found);
#else
static inline bool resmem_efi_in_use(u64 start, u64 end,
				     struct resmem_efi_range *found)
{
	return false;
}
#endif

/* fwmap.c: the firmware's memory map (/sys/firmware/memmap) */
#define RESMEM_FWMAP_MAX	128

/**
 * struct resmem_fwmap_entry - one entry of the firmware's memory map
 * @start:	first byte
 * @end:	one past the last byte (U64_MAX if it reaches the end)
 * @type:	"System RAM", "Reserved", "ACPI Tables", ...
 */
struct resmem_fwmap_entry {
	u64 start;
	u64 end;
	char type[32];
};

/**
 * struct resmem_fwmap - the firmware's memory map, ascending
 * @n:		number of entries in @entry
 * @entry:	the entries
 * @err:	why it could not be read (negative errno), else 0
 */
struct resmem_fwmap {
	unsigned int n;
	struct resmem_fwmap_entry entry[RESMEM_FWMAP_MAX];
	int err;
};

void resmem_fwmap_load(void);
const struct resmem_fwmap *resmem_fwmap(void);
u64 resmem_fwmap_not_ram(u64 start, u64 end, const char **what);

/* validate.c */
int resmem_validate(struct resmem_region *r, struct list_head *accepted);
__printf(2, 3) void resmem_refuse(const struct resmem_region *r,
				  const char *fmt, ...);
__printf(2, 3) void resmem_refuse_as(const char *what, const char *fmt, ...);

/* region.c */
struct resmem_region *resmem_region_alloc(u64 phys, u64 size, u32 source);
void resmem_region_free(struct resmem_region *r);
void resmem_free_list(struct list_head *list);
int resmem_merge_candidates(struct list_head *discovered,
			    struct list_head *explicit, struct list_head *out);
int resmem_region_claim(struct resmem_region *r);
void resmem_region_release(struct resmem_region *r);

/* lifetime.c: references, removal while in use */
int resmem_lifetime_init(struct resmem_region *r);
void resmem_lifetime_exit(struct resmem_region *r);
void resmem_lifetime_open(struct resmem_region *r, struct file *file);
int resmem_read_lock(void) __acquires(resmem_srcu);
void resmem_read_unlock(int idx) __releases(resmem_srcu);
int resmem_track_mmap(struct resmem_region *r);
void resmem_region_kill(struct resmem_region *r);

/* chardev.c */
int resmem_chardev_init(void);
void resmem_chardev_exit(void);
int resmem_chardev_add(struct resmem_region *r);
void resmem_chardev_del(struct resmem_region *r);
void resmem_chardev_release(struct resmem_region *r);

/* mmap.c: ->mmap_prepare where the kernel has it, else ->mmap (compat.h) */
struct vm_area_desc;
int resmem_mmap(struct file *file, struct vm_area_struct *vma);
int resmem_mmap_prepare(struct vm_area_desc *desc);
unsigned long resmem_get_unmapped_area(struct file *file, unsigned long addr,
				       unsigned long len, unsigned long pgoff,
				       unsigned long flags);
int resmem_map_vma(struct resmem_region *r, struct vm_area_struct *vma,
		   u64 offset);

/* sync.c */
int resmem_cache_sync(struct resmem_region *r, u32 direction, u64 offset,
		      u64 length, bool writer);

/* ioctl.c */
long resmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* dma.c: a region's bus address for a device (the producer's mapping) */
enum resmem_dma_how {
	RESMEM_DMA_PHYS,
	RESMEM_DMA_PAGE,
	RESMEM_DMA_RESOURCE,
};

/**
 * struct resmem_dma - a region mapped for one device
 * @addr:	the range's first byte as the device addresses it
 * @how:	the DMA API call that made @addr (undone in kind)
 * @attrs:	the DMA_ATTR_* it was made with
 * @phys:	the range's first physical byte
 * @size:	its length in bytes
 */
struct resmem_dma {
	dma_addr_t addr;
	enum resmem_dma_how how;
	unsigned long attrs;
	phys_addr_t phys;
	u64 size;
};

int resmem_dma_map(const struct resmem_region *r, struct device *dev,
		   struct resmem_dma *map);
int resmem_dma_map_range(const struct resmem_region *r, struct device *dev,
			 u64 offset, u64 size, struct resmem_dma *map);
void resmem_dma_unmap(const struct resmem_region *r, struct device *dev,
		      const struct resmem_dma *map);
const char *resmem_dma_how(enum resmem_dma_how how);

/* dmabuf.c: RESMEM_IOC_EXPORT */
#ifdef CONFIG_DMA_SHARED_BUFFER
long resmem_ioctl_export(struct resmem_region *r, struct file *file,
			 void __user *uarg);
#else
static inline long resmem_ioctl_export(struct resmem_region *r,
				       struct file *file, void __user *uarg)
{
	return -EOPNOTSUPP;
}
#endif

/* producer.c */
void resmem_producer_log_ring(const struct resmem_region *r);
void resmem_producer_describe(const struct resmem_producer *p, char *buf,
			      size_t len);

/* ring_wake.c: poll() on a region's ring, woken by its producers */
void resmem_ring_wake_init(struct resmem_region *r);
void resmem_ring_wake_exit(struct resmem_region *r);
__poll_t resmem_ring_poll(struct file *file, struct poll_table_struct *wait);
void resmem_ring_kick(struct resmem_region *r);
long resmem_ioctl_ring_notify(struct resmem_region *r, struct file *file);

/* ring_claim.c: one producer per region, a driver or an open file */
long resmem_ioctl_ring_producer(struct resmem_region *r, struct file *file,
				void __user *uarg);
void resmem_ring_unclaim(struct resmem_region *r, struct file *file);
bool resmem_ring_claimed_by_file(const struct resmem_region *r,
				 struct device *dev);

/*
 * of.c: /reserved-memory nodes.  x86 Debian kernels are built without
 * CONFIG_OF: of.c is not compiled (Kbuild) and these stubs stand in.
 */
#ifdef CONFIG_OF
int resmem_of_init(void);
void resmem_of_exit(void);
#else
static inline int resmem_of_init(void)
{
	return 0;
}

static inline void resmem_of_exit(void)
{
}
#endif

/* pages.c: struct pages for write-back regions (pages=1) */
void resmem_pages_init(struct resmem_region *r);
bool resmem_pages_exit(struct resmem_region *r);
int resmem_pages_describe(const struct resmem_region *r, char *buf,
			  size_t len);

/* Is @r mapped with page entries (ZONE_DEVICE or the boot's pages)? */
static inline bool resmem_has_pages(const struct resmem_region *r)
{
	return r->pgmap || r->bootpages;
}

/* sysfs.c */
extern const struct attribute_group *resmem_groups[];

/* Log prefix for a region: "region1 [mem 0x...-0x...]". */
#define resmem_region_fmt		"%s [mem %#018llx-%#018llx]"
#define resmem_region_arg(r)		(r)->name, (r)->phys, \
					(r)->phys + (r)->size - 1

/**
 * resmem_ranges_overlap() - do [@a, @a + @asize) and [@b, @b + @bsize) meet?
 * @a:		first byte of one range
 * @asize:	its length
 * @b:		first byte of the other
 * @bsize:	its length
 *
 * Safe on unvalidated candidates: nothing is added, so nothing wraps; an
 * empty range meets only a range starting at the same byte.
 *
 * Return: true if they share a byte (or start together).
 */
static inline bool resmem_ranges_overlap(u64 a, u64 asize, u64 b, u64 bsize)
{
	if (!asize || !bsize)
		return a == b;
	return a - b < bsize || b - a < asize;
}

/**
 * resmem_region_alive() - is the region not being removed?
 * @r: the region
 *
 * Inside resmem_read_lock(), true means removal waits (lifetime.c).
 *
 * Return: false once removal has begun.
 */
static inline bool resmem_region_alive(const struct resmem_region *r)
{
	return !READ_ONCE(r->dead);
}

/*
 * A mistake of the calling process on region @r (bad mmap window,
 * MAP_PRIVATE, bad ioctl argument): one rate-limited line on the device,
 * naming the process.
 */
#define resmem_user_err(r, fmt, ...)					\
	dev_info_ratelimited(&(r)->dev, "%s[%d]: " fmt "\n",		\
			     current->comm, task_pid_nr(current),	\
			     ##__VA_ARGS__)

#endif /* _RESMEM_PRIVATE_H */
