// SPDX-License-Identifier: GPL-2.0
/*
 * v4l2dmabuf: windows of a resmem region as dma-bufs (RESMEM_IOC_EXPORT),
 * given to a V4L2 capture device and mapped by user space.
 *
 *   v4l2dmabuf capture DEV VIDEO BASE STRIDE NBUF FRAMES WIDTH HEIGHT [ro]
 *	set VIDEO to WIDTH x HEIGHT YUYV, fill region bytes [BASE, BASE +
 *	NBUF * STRIDE) with 0x5a through DEV, export NBUF windows at BASE +
 *	i * STRIDE of sizeimage rounded up to the page size, REQBUFS
 *	V4L2_MEMORY_DMABUF, queue them, stream, dequeue FRAMES frames
 *	(requeueing each), stop.  Prints "fmt SIZEIMAGE BYTESPERLINE WINDOW",
 *	one "frame INDEX SEQUENCE BYTESUSED" per dequeued frame and "done".
 *	With "ro" the windows are exported read-only (the capture must fail).
 *
 *   v4l2dmabuf export DEV ro|rw OFFSET LENGTH FLAGS [RESERVED]
 *	RESMEM_IOC_EXPORT through DEV opened read-only or read-write, with
 *	reserved[0] = RESERVED; prints "ok SIZE" (the dma-buf's size, from
 *	lseek) or "errno=NAME"
 *
 *   v4l2dmabuf mmap DEV OFFSET LENGTH SEED
 *	export [OFFSET, OFFSET + LENGTH) read-write, mmap the dma-buf, write
 *	pattern SEED (tests/harness/pattern.py, by region offset) inside
 *	DMA_BUF_IOCTL_SYNC START/END (write), read it back through a new
 *	mapping inside START/END (read); then check what must fail: a
 *	MAP_PRIVATE mapping (EINVAL), a mapping longer than the buffer
 *	(EINVAL), a writable mapping of a read-only export (EACCES).  Prints
 *	"ok ro_read_sync=RESULT" where RESULT is "0" or "errno=NAME" for a
 *	read sync on the read-only export.
 *
 *   v4l2dmabuf hold DEV OFFSET LENGTH SEED GO
 *	export the window read-write, close DEV, write pattern SEED through
 *	an mmap of the dma-buf, print "held" and wait until the file GO
 *	exists (the region is removed meanwhile); then print, one
 *	"key=value" per line, what each use of the buffer got: "sync" (a
 *	read sync), "touch" (the old mapping: SIGBUS or ok), "mmap" (a new
 *	mapping), each "0"/"ok" or an errno name
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/resmem.h>
#include <linux/videodev2.h>

#define PAGE 4096ULL
#define MAXBUF 16

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 0);
}

static const char *ename(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case E2BIG: return "E2BIG";
	case ENOTTY: return "ENOTTY";
	case ENODEV: return "ENODEV";
	case EFAULT: return "EFAULT";
	case ERANGE: return "ERANGE";
	case EIO: return "EIO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "other";
	}
}

static void die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

static int export(int dev, uint64_t off, uint64_t len, uint32_t flags,
		  uint32_t reserved, int *fd)
{
	struct resmem_export e;

	memset(&e, 0, sizeof(e));
	e.size = sizeof(e);
	e.flags = flags;
	e.offset = off;
	e.length = len;
	e.reserved[0] = reserved;
	if (ioctl(dev, RESMEM_IOC_EXPORT, &e))
		return -errno;
	*fd = e.fd;
	return 0;
}

/* A writable export of [off, +len) or the end of the run. */
static int export_rw(int dev, uint64_t off, uint64_t len)
{
	int fd, err = export(dev, off, len, RESMEM_EXPORT_RDWR, 0, &fd);

	if (err) {
		errno = -err;
		die("RESMEM_IOC_EXPORT");
	}
	return fd;
}

static int capture(char **argv)
{
	uint64_t base = num(argv[4]), stride = num(argv[5]);
	unsigned int nbuf = num(argv[6]), frames = num(argv[7]);
	struct v4l2_requestbuffers req;
	struct v4l2_format fmt;
	struct v4l2_buffer b;
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	int dev, vid, fds[MAXBUF];
	uint64_t window, i;
	static char fill[1 << 16];

	if (nbuf < 1 || nbuf > MAXBUF)
		return fprintf(stderr, "NBUF 1..%d\n", MAXBUF), 2;
	dev = open(argv[2], O_RDWR);
	if (dev < 0)
		die(argv[2]);
	vid = open(argv[3], O_RDWR);
	if (vid < 0)
		die(argv[3]);

	memset(&fmt, 0, sizeof(fmt));
	fmt.type = type;
	fmt.fmt.pix.width = num(argv[8]);
	fmt.fmt.pix.height = num(argv[9]);
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;
	if (ioctl(vid, VIDIOC_S_FMT, &fmt))
		die("VIDIOC_S_FMT");
	if (fmt.fmt.pix.pixelformat != V4L2_PIX_FMT_YUYV)
		return fprintf(stderr, "driver chose another pixel format\n"), 1;
	window = (fmt.fmt.pix.sizeimage + PAGE - 1) & ~(PAGE - 1);
	printf("fmt %u %u %" PRIu64 " %u %u\n", fmt.fmt.pix.sizeimage,
	       fmt.fmt.pix.bytesperline, window, fmt.fmt.pix.width,
	       fmt.fmt.pix.height);
	if (window > stride)
		return fprintf(stderr, "STRIDE below the window\n"), 2;

	/* what the device must not touch outside its windows, and does inside */
	memset(fill, 0x5a, sizeof(fill));
	for (i = 0; i < nbuf * stride; i += sizeof(fill))
		if (pwrite(dev, fill, sizeof(fill), base + i) != sizeof(fill))
			die("pwrite");

	for (i = 0; i < nbuf; i++) {
		int err = export(dev, base + i * stride, window,
				 (argv[10] ? 0 : RESMEM_EXPORT_RDWR) |
					 RESMEM_EXPORT_CLOEXEC,
				 0, &fds[i]);

		if (err) {
			errno = -err;
			die("RESMEM_IOC_EXPORT");
		}
	}

	memset(&req, 0, sizeof(req));
	req.count = nbuf;
	req.type = type;
	req.memory = V4L2_MEMORY_DMABUF;
	if (ioctl(vid, VIDIOC_REQBUFS, &req))
		die("VIDIOC_REQBUFS");
	if (req.count != nbuf)
		return fprintf(stderr, "REQBUFS gave %u buffers, not %u\n",
			       req.count, nbuf), 1;
	for (i = 0; i < nbuf; i++) {
		memset(&b, 0, sizeof(b));
		b.type = type;
		b.memory = V4L2_MEMORY_DMABUF;
		b.index = i;
		b.m.fd = fds[i];
		b.length = window;
		if (ioctl(vid, VIDIOC_QBUF, &b))
			die("VIDIOC_QBUF");
	}
	if (ioctl(vid, VIDIOC_STREAMON, &type))
		die("VIDIOC_STREAMON");
	for (i = 0; i < frames; i++) {
		struct pollfd p = { .fd = vid, .events = POLLIN };

		if (poll(&p, 1, 30000) != 1)
			return fprintf(stderr, "no frame within 30 s\n"), 1;
		memset(&b, 0, sizeof(b));
		b.type = type;
		b.memory = V4L2_MEMORY_DMABUF;
		if (ioctl(vid, VIDIOC_DQBUF, &b))
			die("VIDIOC_DQBUF");
		printf("frame %u %u %u%s\n", b.index, b.sequence, b.bytesused,
		       (b.flags & V4L2_BUF_FLAG_ERROR) ? " error" : "");
		if (i + nbuf < frames) {	/* the last nbuf frames stay */
			b.m.fd = fds[b.index];
			b.length = window;
			if (ioctl(vid, VIDIOC_QBUF, &b))
				die("VIDIOC_QBUF again");
		}
	}
	if (ioctl(vid, VIDIOC_STREAMOFF, &type))
		die("VIDIOC_STREAMOFF");
	memset(&req, 0, sizeof(req));
	req.type = type;
	req.memory = V4L2_MEMORY_DMABUF;
	if (ioctl(vid, VIDIOC_REQBUFS, &req))
		die("VIDIOC_REQBUFS 0");
	close(vid);
	for (i = 0; i < nbuf; i++)
		close(fds[i]);
	close(dev);
	printf("done\n");
	return 0;
}

static int export_cmd(char **argv)
{
	int rw = !strcmp(argv[3], "rw");
	int dev = open(argv[2], rw ? O_RDWR : O_RDONLY), fd, err;

	if (dev < 0)
		die(argv[2]);
	err = export(dev, num(argv[4]), num(argv[5]), num(argv[6]),
		     argv[7] ? num(argv[7]) : 0, &fd);
	if (err) {
		printf("errno=%s\n", ename(-err));
		return 0;
	}
	printf("ok %lld\n", (long long)lseek(fd, 0, SEEK_END));
	close(fd);
	close(dev);
	return 0;
}

static uint8_t pattern_byte(uint64_t seed, uint64_t o)
{
	uint64_t x = seed ^ (o & ~(uint64_t)7);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (uint8_t)(x >> (8 * (o & 7)));
}

static void sync_or_die(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &s))
		die("DMA_BUF_IOCTL_SYNC");
}

static int mmap_cmd(char **argv)
{
	uint64_t off = num(argv[3]), len = num(argv[4]), seed = num(argv[5]);
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	int dev = open(argv[2], O_RDWR), ro, fd, rofd, err;
	const char *ro_sync = "0";
	uint8_t *p;
	uint64_t i;

	if (dev < 0)
		die(argv[2]);
	fd = export_rw(dev, off, len);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap dma-buf");
	sync_or_die(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	for (i = 0; i < len; i++)
		p[i] = pattern_byte(seed, off + i);
	sync_or_die(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	munmap(p, len);

	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap dma-buf again");
	sync_or_die(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0; i < len; i++)
		if (p[i] != pattern_byte(seed, off + i))
			return fprintf(stderr, "read back: region offset %#" PRIx64
				       " holds %#x\n", off + i, p[i]), 1;
	sync_or_die(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(p, len);

	if (mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) != MAP_FAILED ||
	    errno != EINVAL)
		return fprintf(stderr, "MAP_PRIVATE: not EINVAL (%s)\n",
			       strerror(errno)), 1;
	if (mmap(NULL, len + PAGE, PROT_READ, MAP_SHARED, fd, 0) != MAP_FAILED ||
	    errno != EINVAL)
		return fprintf(stderr, "past the buffer: not EINVAL (%s)\n",
			       strerror(errno)), 1;
	close(fd);

	ro = open(argv[2], O_RDONLY);
	if (ro < 0)
		die("open read-only");
	err = export(ro, off, len, 0, 0, &rofd);
	if (err) {
		errno = -err;
		die("RESMEM_IOC_EXPORT read-only");
	}
	if (mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, rofd, 0) !=
	    MAP_FAILED || errno != EACCES)
		return fprintf(stderr, "writable map of a read-only buffer: not EACCES (%s)\n",
			       strerror(errno)), 1;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, rofd, 0);
	if (p == MAP_FAILED)
		die("mmap read-only dma-buf");
	if (ioctl(rofd, DMA_BUF_IOCTL_SYNC, &s))
		ro_sync = ename(errno);
	for (i = 0; i < len; i++)
		if (p[i] != pattern_byte(seed, off + i))
			return fprintf(stderr, "read-only map: region offset %#" PRIx64
				       " holds %#x\n", off + i, p[i]), 1;
	munmap(p, len);
	close(rofd);
	close(ro);
	close(dev);
	printf("ok ro_read_sync=%s%s\n", strcmp(ro_sync, "0") ? "errno=" : "",
	       ro_sync);
	return 0;
}

static sigjmp_buf bus_jmp;

static void on_bus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

static int hold_cmd(char **argv)
{
	uint64_t off = num(argv[3]), len = num(argv[4]), seed = num(argv[5]);
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	volatile uint8_t *p;
	void *q;
	int dev = open(argv[2], O_RDWR), fd;
	uint64_t i;

	if (dev < 0)
		die(argv[2]);
	fd = export_rw(dev, off, len);
	close(dev);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap dma-buf");
	for (i = 0; i < len; i++)
		p[i] = pattern_byte(seed, off + i);
	printf("held\n");
	while (access(argv[6], F_OK))
		usleep(20000);

	printf("sync=%s\n", ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? ename(errno) : "0");
	signal(SIGBUS, on_bus);
	if (sigsetjmp(bus_jmp, 1))
		printf("touch=SIGBUS\n");
	else
		printf("touch=%s\n", p[0] == pattern_byte(seed, off) ? "ok" : "changed");
	q = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	printf("mmap=%s\n", q == MAP_FAILED ? ename(errno) : "0");
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((argc == 10 || (argc == 11 && !strcmp(argv[10], "ro"))) &&
	    !strcmp(argv[1], "capture"))
		return capture(argv);
	if ((argc == 7 || argc == 8) && !strcmp(argv[1], "export"))
		return export_cmd(argv);
	if (argc == 6 && !strcmp(argv[1], "mmap"))
		return mmap_cmd(argv);
	if (argc == 7 && !strcmp(argv[1], "hold"))
		return hold_cmd(argv);
	fprintf(stderr, "usage: see the top of v4l2dmabuf.c\n");
	return 2;
}
