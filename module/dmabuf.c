// SPDX-License-Identifier: GPL-2.0
/*
 * RESMEM_IOC_EXPORT: a page-aligned window of a region as a dma-buf, the
 * kernel's way to hand memory to other drivers (V4L2, DRM, RDMA).
 *
 * The buffer is the window itself; every operation goes through what the
 * region's own device uses:
 *  - map_dma_buf: the window mapped for the importer's device by dma.c
 *    (dma_map_phys(), dma_map_page() or, where its answer is right,
 *    dma_map_resource(); refused with the reason otherwise), one
 *    contiguous range given as an sg_table of DMA addresses only: the
 *    importer must not use struct pages (dma-buf's rule), and a no-map
 *    region has none mapped in the kernel to use.  The DMA API's cache
 *    maintenance is skipped, as for the producer (dma.c);
 *  - begin/end_cpu_access (DMA_BUF_IOCTL_SYNC, kernel importers): the
 *    region's cache maintenance on the window (sync.c);
 *  - vmap: resmem's kernel mapping of the region, at the window;
 *  - mmap: the region's mmap (mmap.c) through the exporting file, as
 *    dma-buf wants exporters to: the VMA is moved to that file
 *    (vma_set_file()) at the window's page offset, so it is an ordinary
 *    mapping of the region that region removal can zap (lifetime.c).
 *
 * A read-only buffer (no RESMEM_EXPORT_RDWR) is mapped for devices only
 * to be read (DMA_TO_DEVICE) and for user space only read-only (the
 * dma-buf file's mode).  A kernel importer's vmap cannot be limited so:
 * it is resmem's own writable mapping, and the dma-buf core does not let
 * vmap fail (it WARNs), so a driver that writes through it (vb2-vmalloc
 * capture) can write a read-only buffer.
 *
 * Lifetime: the buffer holds the exporting file, hence the region and the
 * module (its file_operations owner), and the dma-buf core holds the
 * module too (exp_info.owner), so resmem cannot be unloaded while a buffer
 * exists.  A device-tree region can still be removed: from then on new
 * device mappings and syncs fail with -ENODEV, user mappings are zapped,
 * and the claim and kernel mapping stay until the last buffer goes
 * (registry.c), since an importer's device (or a vmap) may still be
 * writing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "resmem-private.h"

MODULE_IMPORT_NS("DMA_BUF");

/* The first published struct resmem_export; never changes. */
#define RESMEM_EXPORT_SIZE_V1	48
static_assert(sizeof(struct resmem_export) == RESMEM_EXPORT_SIZE_V1);

#define RESMEM_EXPORT_FLAGS	(RESMEM_EXPORT_RDWR | RESMEM_EXPORT_CLOEXEC)

/* sg_dma_len() is an unsigned int: the window in segments of this. */
#define RESMEM_SG_SEGMENT	SZ_1G

/**
 * struct resmem_dmabuf - one exported window
 * @region:	the region
 * @file:	the open file of the region it was exported through
 * @offset:	first byte of the window, from the start of @region
 * @length:	bytes in the window
 * @writable:	exported with RESMEM_EXPORT_RDWR
 */
struct resmem_dmabuf {
	struct resmem_region *region;
	struct file *file;
	u64 offset;
	u64 length;
	bool writable;
};

/* An sg_table handed to one importer, and the mapping behind it. */
struct resmem_dmabuf_map {
	struct sg_table sgt;
	struct resmem_dma dma;
};

/* A mistake of the importing driver, named by its device. */
#define resmem_importer_err(x, dev, fmt, ...)				\
	dev_warn_ratelimited(dev, "resmem: dma-buf of %s [%#llx+%#llx]: " fmt "\n", \
			     (x)->region->name, (x)->offset, (x)->length,	\
			     ##__VA_ARGS__)

static struct sg_table *resmem_dmabuf_map(struct dma_buf_attachment *at,
					  enum dma_data_direction dir)
{
	struct resmem_dmabuf *x = at->dmabuf->priv;
	struct resmem_region *r = x->region;
	struct resmem_dmabuf_map *m;
	struct scatterlist *sg;
	unsigned int nents, i;
	int ret, idx;

	if (!x->writable && dir != DMA_TO_DEVICE) {
		resmem_importer_err(x, at->dev, "read-only buffer mapped for the device to write (direction %d); export it with RESMEM_EXPORT_RDWR",
				    dir);
		return ERR_PTR(-EACCES);
	}
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	nents = DIV_ROUND_UP_ULL(x->length, RESMEM_SG_SEGMENT);
	ret = sg_alloc_table(&m->sgt, nents, GFP_KERNEL);
	if (ret)
		goto free_map;

	idx = resmem_read_lock();
	ret = resmem_region_alive(r) ?
	      resmem_dma_map_range(r, at->dev, x->offset, x->length, &m->dma) :
	      -ENODEV;
	resmem_read_unlock(idx);
	if (ret)
		goto free_table;

	/* DMA addresses only; no page links (see the top of this file). */
	for_each_sgtable_sg(&m->sgt, sg, i) {
		u64 done = (u64)i * RESMEM_SG_SEGMENT;

		sg_dma_address(sg) = m->dma.addr + done;
		sg_dma_len(sg) = min_t(u64, x->length - done,
				       RESMEM_SG_SEGMENT);
	}
	m->sgt.nents = nents;
	return &m->sgt;

free_table:
	sg_free_table(&m->sgt);
free_map:
	kfree(m);
	return ERR_PTR(ret);
}

static void resmem_dmabuf_unmap(struct dma_buf_attachment *at,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct resmem_dmabuf *x = at->dmabuf->priv;
	struct resmem_dmabuf_map *m = container_of(sgt, struct resmem_dmabuf_map,
						   sgt);

	resmem_dma_unmap(x->region, at->dev, &m->dma);
	sg_free_table(&m->sgt);
	kfree(m);
}

/*
 * The CPU is about to read what a device wrote (FROM_DEVICE,
 * BIDIRECTIONAL): invalidate the window.  Nothing to do before it only
 * writes.  Both fail with -ENODEV once the region is being removed (a
 * barrier-only region would not notice otherwise).
 */
static int resmem_dmabuf_begin_cpu(struct dma_buf *dmabuf,
				   enum dma_data_direction dir)
{
	struct resmem_dmabuf *x = dmabuf->priv;

	if (!resmem_region_alive(x->region))
		return -ENODEV;
	if (dir == DMA_TO_DEVICE)
		return 0;
	return resmem_cache_sync(x->region, RESMEM_SYNC_FOR_CPU, x->offset,
				 x->length, x->writable);
}

/* The CPU wrote (TO_DEVICE, BIDIRECTIONAL): clean the window for devices. */
static int resmem_dmabuf_end_cpu(struct dma_buf *dmabuf,
				 enum dma_data_direction dir)
{
	struct resmem_dmabuf *x = dmabuf->priv;

	if (!resmem_region_alive(x->region))
		return -ENODEV;
	if (dir == DMA_FROM_DEVICE)
		return 0;
	return resmem_cache_sync(x->region, RESMEM_SYNC_FOR_DEVICE, x->offset,
				 x->length, x->writable);
}

/*
 * The region's own mmap, through the exporting file: the VMA becomes a
 * mapping of that file at the window's offset (the dma-buf core has
 * checked that it fits the buffer).  MAP_PRIVATE is refused there.
 */
static int resmem_dmabuf_mmap(struct dma_buf *dmabuf,
			      struct vm_area_struct *vma)
{
	struct resmem_dmabuf *x = dmabuf->priv;

	vma->vm_pgoff += x->offset >> PAGE_SHIFT;
	vma_set_file(vma, x->file);
	return vfs_mmap(x->file, vma);
}

/*
 * Never fails: the dma-buf core WARNs when an exporter's vmap does.  The
 * claim and the kernel mapping stay while the buffer exists (registry.c),
 * also after the region's removal.
 */
static int resmem_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct resmem_dmabuf *x = dmabuf->priv;
	struct resmem_region *r = x->region;

	if (r->ioaddr)
		iosys_map_set_vaddr_iomem(map, r->ioaddr + x->offset);
	else
		iosys_map_set_vaddr(map, r->kaddr + x->offset);
	return 0;
}

static void resmem_dmabuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
}

static void resmem_dmabuf_release(struct dma_buf *dmabuf)
{
	struct resmem_dmabuf *x = dmabuf->priv;

	resmem_region_unexport(x->region);
	fput(x->file);
	kfree(x);
}

static const struct dma_buf_ops resmem_dmabuf_ops = {
	.map_dma_buf	= resmem_dmabuf_map,
	.unmap_dma_buf	= resmem_dmabuf_unmap,
	.release	= resmem_dmabuf_release,
	.begin_cpu_access = resmem_dmabuf_begin_cpu,
	.end_cpu_access	= resmem_dmabuf_end_cpu,
	.mmap		= resmem_dmabuf_mmap,
	.vmap		= resmem_dmabuf_vmap,
	.vunmap		= resmem_dmabuf_vunmap,
};

/* Check the request; fill in @x's window.  Errors are logged. */
static int resmem_export_check(struct resmem_region *r, struct file *file,
			       const struct resmem_export *e,
			       struct resmem_dmabuf *x)
{
	u64 length = e->length;

	if (e->flags & ~RESMEM_EXPORT_FLAGS) {
		resmem_user_err(r, "export flags %#x has unknown bits %#x",
				e->flags, e->flags & ~RESMEM_EXPORT_FLAGS);
		return -EINVAL;
	}
	if (memchr_inv(e->reserved, 0, sizeof(e->reserved))) {
		resmem_user_err(r, "export: reserved fields must be zero");
		return -EINVAL;
	}
	if ((e->flags & RESMEM_EXPORT_RDWR) && !(file->f_mode & FMODE_WRITE)) {
		resmem_user_err(r, "export RESMEM_EXPORT_RDWR through a file not open for writing; open the device O_RDWR");
		return -EBADF;
	}
	if (e->offset >= r->size || !PAGE_ALIGNED(e->offset)) {
		resmem_user_err(r, "export offset %#llx is not a page-aligned offset inside the region (size %#llx, page size %#lx)",
				e->offset, r->size, PAGE_SIZE);
		return -EINVAL;
	}
	if (!length)
		length = r->size - e->offset;
	if (length > r->size - e->offset || !PAGE_ALIGNED(length)) {
		resmem_user_err(r, "export window offset %#llx, length %#llx is not page-aligned inside the region (size %#llx, page size %#lx)",
				e->offset, e->length, r->size, PAGE_SIZE);
		return -EINVAL;
	}
	x->offset = e->offset;
	x->length = length;
	x->writable = e->flags & RESMEM_EXPORT_RDWR;
	return 0;
}

/**
 * resmem_ioctl_export() - RESMEM_IOC_EXPORT
 * @r:		the region, alive
 * @file:	the open file of the region the ioctl came through
 * @uarg:	user pointer to a struct resmem_export
 *
 * Return: 0 with the new fd in the struct, or a negative errno: -EINVAL
 * (logged), -EBADF (RESMEM_EXPORT_RDWR through a read-only file),
 * -E2BIG, -EFAULT, -ENOMEM, -EMFILE, -ENODEV (region being removed).
 */
long resmem_ioctl_export(struct resmem_region *r, struct file *file,
			 void __user *uarg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct resmem_export e;
	struct resmem_dmabuf *x;
	struct dma_buf *dmabuf;
	u32 usize;
	int ret, fd;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < RESMEM_EXPORT_SIZE_V1)
		return -EINVAL;
	ret = copy_struct_from_user(&e, sizeof(e), uarg, usize);
	if (ret)
		return ret;
	x = kzalloc(sizeof(*x), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	ret = resmem_export_check(r, file, &e, x);
	if (ret)
		goto free_x;
	ret = resmem_region_export(r);
	if (ret)
		goto free_x;
	x->region = r;
	x->file = get_file(file);

	exp_info.ops = &resmem_dmabuf_ops;
	exp_info.owner = THIS_MODULE;
	exp_info.size = x->length;
	exp_info.flags = x->writable ? O_RDWR : O_RDONLY;
	exp_info.priv = x;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto put_file;
	}
	/* From here on the buffer's release undoes the rest. */
	fd = get_unused_fd_flags((e.flags & RESMEM_EXPORT_CLOEXEC) ?
				 O_CLOEXEC : 0);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	e.fd = fd;
	if (copy_to_user(uarg, &e, min_t(size_t, usize, sizeof(e)))) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	fd_install(fd, dmabuf->file);	/* the fd takes the export's reference */
	return 0;

put_file:
	fput(x->file);
	resmem_region_unexport(r);
free_x:
	kfree(x);
	return ret;
}
