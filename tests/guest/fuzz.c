// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz: seeded random syscall sequences on resmem devices, with an oracle.
 *
 *   fuzz [-s SEED] [-t SECONDS] [-n ITERATIONS] [-j PROCS] [-v] DEV...
 *
 * PROCS processes (default 1) each run random open/close/mmap/munmap/mremap/
 * mprotect/madvise/touch/read/write/pread/pwrite/lseek/ioctl/fork operations
 * on the devices until SECONDS (default 10) pass or ITERATIONS operations
 * were done.  Process i draws from a generator seeded with SEED + i; a forked
 * child from SEED + i and its parent's iteration number.  SEED defaults to
 * the time; it is printed first, so a failing run can be repeated with
 * "-s SEED -j PROCS -n ITERATIONS" (the interleaving of processes is up to
 * the scheduler; each process's sequence is the same).
 *
 * The oracle is the documented behaviour (README, module/chardev.c,
 * module/mmap.c, module/ioctl.c, include/uapi/linux/resmem.h): private
 * mappings and windows outside the region fail with EINVAL, shared windows
 * inside succeed, growing mremap fails (EFAULT), shrinking works; read at or
 * past the end is 0, write there ENOSPC, crossing the end is short; lseek
 * accepts 0..size; RESMEM_IOC_INFO/SYNC size rules; unknown commands ENOTTY;
 * a granted mapping never faults where its protection allows access, and a
 * byte written through a mapping reads back through pread().  Writes go
 * only to the process's own slice of each region (or to the shared last
 * slice, which nobody checks), so data checks hold with PROCS > 1; forked
 * children do not write.
 *
 * Output: "fuzz: seed=S procs=P" first, then one summary line
 * "fuzz: seed=S procs=P seconds=T iterations=N failures=F" and per-op
 * counts.  Each broken expectation prints "FAIL seed=S proc=I iter=N ..."
 * on stdout.  Exit status 0 when nothing failed, 1 otherwise, 2 for usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/resmem.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25	/* Linux 6.1; newer than the C library's headers */
#endif

#define MAX_DEVS	8
#define MAX_FDS		8
#define MAX_MAPS	16
#define MAX_CHILDREN	4
#define CHILD_OPS	64
#define MAX_WINDOW	(16u << 20)	/* valid mappings: at most 16 MiB */

enum { OP_OPEN, OP_CLOSE, OP_MMAP, OP_MUNMAP, OP_MREMAP, OP_MPROTECT,
       OP_MADVISE, OP_TOUCH, OP_RW, OP_LSEEK, OP_IOCTL, OP_FORK, OP_NR };
static const char *const op_names[OP_NR] = {
	"open", "close", "mmap", "munmap", "mremap", "mprotect", "madvise",
	"touch", "rw", "lseek", "ioctl", "fork",
};

struct dev {
	const char *path;
	uint64_t size;
};

struct fdent {
	int fd;
	int dev;
	int mode;	/* O_RDONLY, O_WRONLY, O_RDWR */
};

struct map {
	uint8_t *addr;
	uint64_t len;
	uint64_t off;
	int dev;
	int prot;
	int maywrite;
};

static struct dev devs[MAX_DEVS];
static int ndevs, nprocs = 1, verbose;
static uint64_t seed;
static long pg;

/* Per process. */
static int me, is_child;
static uint64_t rs;
static long iter, failures, counts[OP_NR];
static struct fdent fds[MAX_FDS];
static int nfds;
static struct map maps[MAX_MAPS];
static int nmaps;
static pid_t kids[MAX_CHILDREN];
static int nkids;
static sigjmp_buf jb;
static volatile sig_atomic_t sig;

static uint64_t rnd(void)
{
	uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static const char *en(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL seed=%#" PRIx64 " proc=%d%s iter=%ld: ", seed, me,
	       is_child ? " (child)" : "", iter);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	failures++;
}

/* One write() per line, so the lines of forked children never split ours. */
static void trace(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (!verbose)
		return;
	n = snprintf(line, sizeof(line), "[%d%s %ld] ", me, is_child ? "c" : "", iter);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(2, line, (size_t)n) < 0)
		verbose = 0;
}

static void on_sig(int s)
{
	sig = s;
	siglongjmp(jb, 1);
}

/* Slice of region d this process may write: [lo, hi); the last is shared. */
static void own_slice(int d, uint64_t *lo, uint64_t *hi)
{
	uint64_t s = devs[d].size / (uint64_t)(nprocs + 1) / (uint64_t)pg * (uint64_t)pg;

	*lo = (uint64_t)me * s;
	*hi = *lo + s;
}

static int writable_at(int d, uint64_t off, uint64_t len)
{
	uint64_t lo, hi;
	uint64_t shared = devs[d].size / (uint64_t)(nprocs + 1) / (uint64_t)pg *
			  (uint64_t)pg * (uint64_t)nprocs;

	if (is_child)
		return 0;
	own_slice(d, &lo, &hi);
	return (off >= lo && off + len <= hi) || off >= shared;
}

static int in_shared(int d, uint64_t off)
{
	return off >= devs[d].size / (uint64_t)(nprocs + 1) / (uint64_t)pg *
		      (uint64_t)pg * (uint64_t)nprocs;
}

/* An offset of one of several kinds: inside, edges, outside, absurd. */
static int64_t pick_offset(uint64_t size, int aligned)
{
	uint64_t o;

	switch (below(10)) {
	case 0: o = 0; break;
	case 1: o = size; break;
	case 2: o = size - (uint64_t)pg; break;
	case 3: o = size + (uint64_t)pg * below(4); break;
	case 4: o = 1ULL << (40 + below(23)); break;
	case 5: return -(int64_t)(1 + below(1ULL << 40));
	default: o = below(size); break;
	}
	if (aligned)
		o &= ~((uint64_t)pg - 1);
	return (int64_t)o;
}

static int pick_fd(void)
{
	return nfds ? (int)below((uint64_t)nfds) : -1;
}

static void op_open(void)
{
	static const int modes[] = { O_RDWR, O_RDWR, O_RDONLY, O_WRONLY };
	int d = (int)below((uint64_t)ndevs), mode = modes[below(4)], fd;

	if (nfds == MAX_FDS)
		return;
	if (is_child && mode != O_RDONLY)
		mode = O_RDONLY;
	fd = open(devs[d].path, mode | O_CLOEXEC);
	trace("open %s mode %d -> %d", devs[d].path, mode, fd);
	if (fd < 0) {
		fail("open %s: %s", devs[d].path, en(errno));
		return;
	}
	fds[nfds++] = (struct fdent){ fd, d, mode };
}

static void op_close(void)
{
	int i = pick_fd();

	if (i < 0)
		return;
	trace("close %d", fds[i].fd);
	close(fds[i].fd);
	fds[i] = fds[--nfds];
}

static void op_mmap(void)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE,
				     PROT_READ | PROT_WRITE, PROT_NONE,
				     PROT_READ | PROT_EXEC, PROT_WRITE };
	int i = pick_fd(), prot = prots[below(6)], priv = below(8) == 0;
	uint64_t size, len, off;
	int valid = 1, shape = (int)below(6);
	void *m;
	int e;

	if (i < 0 || nmaps == MAX_MAPS)
		return;
	size = devs[fds[i].dev].size;
	len = (1 + below(MAX_WINDOW / (uint64_t)pg)) * (uint64_t)pg;
	if (below(2))
		len = (1 + below(16)) * (uint64_t)pg;
	if (len > size)
		len = size;
	off = below((size - len) / (uint64_t)pg + 1) * (uint64_t)pg;
	if (shape == 0) {	/* something outside or absurd */
		off = (uint64_t)pick_offset(size, below(4) != 0);
		if (below(2))
			len = (uint64_t)pick_offset(size, 0) & ((1ULL << 36) - 1);
		valid = off % (uint64_t)pg == 0 && len && off <= size &&
			len <= size - off;
	}
	if (is_child && (prot & PROT_WRITE))
		prot = PROT_READ;
	m = mmap(NULL, len, prot, priv ? MAP_PRIVATE : MAP_SHARED, fds[i].fd, (off_t)off);
	e = errno;
	trace("mmap fd %d off %#" PRIx64 " len %#" PRIx64 " prot %d%s -> %p %s",
	      fds[i].fd, off, len, prot, priv ? " private" : "", m,
	      m == MAP_FAILED ? en(e) : "");
	{
		int bad_mode = fds[i].mode == O_WRONLY ||
			       ((prot & PROT_WRITE) && fds[i].mode != O_RDWR);

		if (m != MAP_FAILED) {
			if (priv || !valid || bad_mode) {
				fail("mmap off %#" PRIx64 " len %#" PRIx64 " prot %d%s mode %d succeeded; expected a refusal",
				     off, len, prot, priv ? " private" : "", fds[i].mode);
				munmap(m, len);
				return;
			}
			len = (len + (uint64_t)pg - 1) / (uint64_t)pg * (uint64_t)pg;
			maps[nmaps++] = (struct map){ m, len, off, fds[i].dev, prot,
						      fds[i].mode == O_RDWR };
			return;
		}
		/*
		 * Several reasons may apply; the kernel reports the first it
		 * checks (unaligned or wrapping window, MAP_PRIVATE in
		 * get_unmapped_area, file mode, then our window check).
		 */
		if ((priv && e == EINVAL) || (bad_mode && e == EACCES) ||
		    (!valid && (e == EINVAL || e == EOVERFLOW || e == ENOMEM)))
			return;
		if (priv || bad_mode || !valid)
			fail("refused mmap off %#" PRIx64 " len %#" PRIx64 " prot %d%s mode %d: unexpected %s",
			     off, len, prot, priv ? " private" : "", fds[i].mode, en(e));
		else if (e != ENOMEM)
			fail("valid mmap off %#" PRIx64 " len %#" PRIx64 " prot %d failed: %s",
			     off, len, prot, en(e));
	}
}

static void drop_map(int k)
{
	maps[k] = maps[--nmaps];
}

static void op_munmap(void)
{
	int k;
	struct map *mp;
	uint64_t pages, cut;

	if (!nmaps)
		return;
	k = (int)below((uint64_t)nmaps);
	mp = &maps[k];
	pages = mp->len / (uint64_t)pg;
	cut = (1 + below(pages)) * (uint64_t)pg;
	switch (below(3)) {
	case 0:	/* head */
		if (munmap(mp->addr, cut))
			fail("munmap head: %s", en(errno));
		mp->addr += cut;
		mp->off += cut;
		mp->len -= cut;
		break;
	case 1:	/* tail */
		if (munmap(mp->addr + mp->len - cut, cut))
			fail("munmap tail: %s", en(errno));
		mp->len -= cut;
		break;
	default:
		if (munmap(mp->addr, mp->len))
			fail("munmap: %s", en(errno));
		mp->len = 0;
	}
	trace("munmap map %d -> len %#" PRIx64, k, mp->len);
	if (!mp->len)
		drop_map(k);
}

static void op_mremap(void)
{
	int k;
	struct map *mp;
	uint64_t nlen;
	void *r;
	int grow;

	if (!nmaps)
		return;
	k = (int)below((uint64_t)nmaps);
	mp = &maps[k];
	grow = below(2);
	nlen = grow ? mp->len + (1 + below(16)) * (uint64_t)pg :
		      (1 + below(mp->len / (uint64_t)pg)) * (uint64_t)pg;
	r = mremap(mp->addr, mp->len, nlen, below(2) ? MREMAP_MAYMOVE : 0);
	trace("mremap map %d %#" PRIx64 " -> %#" PRIx64 ": %p", k, mp->len, nlen, r);
	if (grow) {
		if (r != MAP_FAILED) {
			fail("mremap grew a mapping from %#" PRIx64 " to %#" PRIx64, mp->len, nlen);
			mp->addr = r;
			mp->len = nlen;
		} else if (errno != EFAULT && errno != ENOMEM) {
			fail("mremap grow: %s, expected EFAULT", en(errno));
		}
		return;
	}
	if (r == MAP_FAILED) {
		fail("mremap shrink to %#" PRIx64 ": %s", nlen, en(errno));
		return;
	}
	mp->addr = r;
	mp->len = nlen;
}

static void op_mprotect(void)
{
	static const int prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
				     PROT_READ | PROT_EXEC };
	int k, prot = prots[below(4)], r;

	if (!nmaps)
		return;
	k = (int)below((uint64_t)nmaps);
	if (is_child && (prot & PROT_WRITE))
		prot = PROT_READ;
	r = mprotect(maps[k].addr, maps[k].len, prot);
	trace("mprotect map %d prot %d -> %d", k, prot, r);
	if ((prot & PROT_WRITE) && !maps[k].maywrite) {
		if (!r || errno != EACCES)
			fail("mprotect PROT_WRITE on a read-only open: %s", r ? en(errno) : "succeeded");
		return;
	}
	if (r) {
		fail("mprotect %d: %s", prot, en(errno));
		return;
	}
	maps[k].prot = prot;
}

static void op_madvise(void)
{
	static const int adv[] = { MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL,
				   MADV_WILLNEED, MADV_DONTNEED, MADV_FREE,
				   MADV_DONTFORK, MADV_DOFORK, MADV_DONTDUMP,
				   MADV_DODUMP, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
				   MADV_COLD, MADV_PAGEOUT, MADV_REMOVE,
				   MADV_MERGEABLE, MADV_POPULATE_READ,
				   MADV_POPULATE_WRITE, MADV_COLLAPSE };
	int k, a;

	if (!nmaps)
		return;
	k = (int)below((uint64_t)nmaps);
	a = adv[below(sizeof(adv) / sizeof(adv[0]))];
	if (is_child && (a == MADV_POPULATE_WRITE || a == MADV_REMOVE))
		a = MADV_NORMAL;
	if (a == MADV_DONTFORK)
		a = MADV_NORMAL;	/* the fork check expects children to see maps */
	trace("madvise map %d advice %d -> %d", k, a,
	      madvise(maps[k].addr, maps[k].len, a));
}

/* Write v (if write) then read the byte at p; -1 if either faulted. */
static int access_byte(volatile uint8_t *p, int write, int read, uint8_t v)
{
	sig = 0;
	if (sigsetjmp(jb, 1))
		return -1;
	if (write)
		*p = v;
	return read ? *p : v;
}

static void op_touch(void)
{
	int k, fd = -1, write, got;
	struct map *mp;
	uint64_t o;
	uint8_t v = (uint8_t)rnd(), b;

	if (!nmaps)
		return;
	k = (int)below((uint64_t)nmaps);
	mp = &maps[k];
	o = below(mp->len);
	write = (mp->prot & PROT_WRITE) && writable_at(mp->dev, mp->off + o, 1);
	if (!(mp->prot & PROT_READ) && !write)
		return;
	trace("touch map %d off %#" PRIx64 " %s", k, mp->off + o, write ? "write" : "read");
	got = access_byte(mp->addr + o, write, mp->prot & PROT_READ, v);
	if (got < 0) {
		fail("signal %d touching a granted mapping (prot %d) at region offset %#" PRIx64,
		     (int)sig, mp->prot, mp->off + o);
		return;
	}
	if (!write || in_shared(mp->dev, mp->off + o))
		return;
	for (int i = 0; i < nfds; i++)
		if (fds[i].dev == mp->dev && fds[i].mode != O_WRONLY)
			fd = fds[i].fd;
	if (fd < 0)
		return;
	if (pread(fd, &b, 1, (off_t)(mp->off + o)) != 1 || b != v || got != v)
		fail("byte written through a mapping at %#" PRIx64 " reads back differently", mp->off + o);
}

static void op_rw(void)
{
	static uint8_t buf[65536];
	int i = pick_fd(), wr = below(2), r;
	uint64_t size;
	int64_t off;
	size_t len = below(sizeof(buf) + 1);
	int64_t expect;

	if (i < 0)
		return;
	size = devs[fds[i].dev].size;
	off = pick_offset(size, 0);
	if (below(3) == 0)
		off = (int64_t)size - (int64_t)below(2 * len + 1);
	if (wr && (is_child || (off >= 0 && (uint64_t)off < size &&
				!writable_at(fds[i].dev, (uint64_t)off, len))))
		wr = 0;
	memset(buf, 0xa5, len);
	r = (int)(wr ? pwrite(fds[i].fd, buf, len, off) : pread(fds[i].fd, buf, len, off));
	trace("p%s fd %d off %" PRId64 " len %zu -> %d %s", wr ? "write" : "read",
	      fds[i].fd, off, len, r, r < 0 ? en(errno) : "");
	if (off < 0) {
		if (r >= 0 || errno != EINVAL)
			fail("p%s at %" PRId64 ": expected EINVAL", wr ? "write" : "read", off);
		return;
	}
	if ((wr && fds[i].mode == O_RDONLY) || (!wr && fds[i].mode == O_WRONLY)) {
		if (r >= 0 || errno != EBADF)
			fail("p%s on a mode %d fd: %s, expected EBADF", wr ? "write" : "read",
			     fds[i].mode, r < 0 ? en(errno) : "succeeded");
		return;
	}
	if ((uint64_t)off >= size)
		expect = wr ? -ENOSPC : 0;	/* even for 0 bytes: chardev.c */
	else if (!len)
		expect = 0;
	else
		expect = (int64_t)((uint64_t)len < size - (uint64_t)off ? len : size - (uint64_t)off);
	if ((expect < 0 && (r >= 0 || errno != -expect)) || (expect >= 0 && r != expect))
		fail("p%s off %" PRId64 " len %zu (size %#" PRIx64 "): got %d%s%s, expected %" PRId64,
		     wr ? "write" : "read", off, len, size, r, r < 0 ? " " : "",
		     r < 0 ? en(errno) : "", expect);
}

static void op_lseek(void)
{
	int i = pick_fd(), whence = (int)below(5);
	uint64_t size;
	int64_t off, cur, base, want;
	off_t r;

	if (i < 0)
		return;
	size = devs[fds[i].dev].size;
	off = below(3) ? pick_offset(size, 0) - (int64_t)below(2) * (int64_t)size : (int64_t)below(size);
	cur = lseek(fds[i].fd, 0, SEEK_CUR);
	r = lseek(fds[i].fd, (off_t)off, whence);
	trace("lseek fd %d off %" PRId64 " whence %d -> %jd", fds[i].fd, off, whence, (intmax_t)r);
	if (whence > SEEK_END) {
		if (r >= 0 || errno != EINVAL)
			fail("lseek whence %d: expected EINVAL", whence);
		return;
	}
	base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? cur : (int64_t)size;
	if (__builtin_add_overflow(base, off, &want))
		want = -1;
	if (want < 0 || (uint64_t)want > size) {
		if (r >= 0 || errno != EINVAL)
			fail("lseek %" PRId64 " whence %d (size %#" PRIx64 "): got %jd, expected EINVAL",
			     off, whence, size, (intmax_t)r);
	} else if (r != want) {
		fail("lseek %" PRId64 " whence %d: got %jd, expected %" PRId64, off, whence,
		     (intmax_t)r, want);
	}
}

static void op_ioctl(void)
{
	static uint8_t buf[256];
	int i = pick_fd(), r, kind = (int)below(4), nonzero_tail = 0;
	uint32_t usize = (uint32_t)below(sizeof(buf) + 1);
	uint8_t fill = below(2) ? 0 : (uint8_t)rnd();
	uint64_t size;

	if (i < 0)
		return;
	size = devs[fds[i].dev].size;
	memset(buf, fill, sizeof(buf));
	memcpy(buf, &usize, 4);
	if (kind == 0) {
		for (size_t k = sizeof(struct resmem_info); k < usize; k++)
			nonzero_tail |= buf[k] != 0;
		r = ioctl(fds[i].fd, RESMEM_IOC_INFO, buf);
		trace("ioctl INFO size %u fill %u -> %d", usize, fill, r);
		if (usize < sizeof(struct resmem_info)) {
			if (!r || errno != EINVAL)
				fail("INFO size %u: expected EINVAL", usize);
		} else if (nonzero_tail) {
			if (!r || errno != E2BIG)
				fail("INFO size %u with a non-zero tail: expected E2BIG", usize);
		} else if (r) {
			fail("INFO size %u: %s", usize, en(errno));
		} else if (((struct resmem_info *)buf)->length != size) {
			fail("INFO length %" PRIu64 " != size %" PRIu64,
			     (uint64_t)((struct resmem_info *)buf)->length, size);
		}
	} else if (kind == 1) {
		struct resmem_sync s = { .size = usize, .direction = (uint32_t)below(4),
					 .offset = (uint64_t)pick_offset(size, below(2)),
					 .length = below(2) ? below(1u << 20) : rnd() };
		int ok_range = s.offset <= size && s.length <= size - s.offset;

		if (usize >= sizeof(s))
			memcpy(buf, &s, sizeof(s));
		for (size_t k = sizeof(s); k < usize; k++)
			nonzero_tail |= buf[k] != 0;
		r = ioctl(fds[i].fd, RESMEM_IOC_SYNC, buf);
		trace("ioctl SYNC size %u dir %u off %#" PRIx64 " len %#" PRIx64 " -> %d",
		      usize, s.direction, s.offset, s.length, r);
		if (usize < sizeof(s)) {
			if (!r || errno != EINVAL)
				fail("SYNC size %u: expected EINVAL", usize);
		} else if (nonzero_tail) {
			if (!r || errno != E2BIG)
				fail("SYNC size %u with a non-zero tail: expected E2BIG", usize);
		} else if (s.direction != RESMEM_SYNC_FOR_CPU &&
			   s.direction != RESMEM_SYNC_FOR_DEVICE) {
			if (!r || errno != EINVAL)
				fail("SYNC direction %u: expected EINVAL", s.direction);
		} else if (!ok_range) {
			if (!r || errno != EINVAL)
				fail("SYNC off %#" PRIx64 " len %#" PRIx64 ": expected EINVAL",
				     s.offset, s.length);
		} else if (s.direction == RESMEM_SYNC_FOR_CPU && fds[i].mode == O_RDONLY) {
			/* invalidating discards others' dirty lines: writers only */
			if (!r || errno != EBADF)
				fail("SYNC for the CPU through an O_RDONLY fd: %s, expected EBADF",
				     r ? en(errno) : "succeeded");
		} else if (r) {
			fail("SYNC off %#" PRIx64 " len %#" PRIx64 ": %s", s.offset, s.length,
			     en(errno));
		}
	} else if (kind == 2) {
		/* Our type, a number or direction/size we do not know. */
		unsigned long cmd;

		do {
			cmd = _IOC(below(4), RESMEM_IOC_TYPE, 2 + below(254),
				   below(1u << 14));
			if (below(2))
				cmd = _IOC(1 + below(3), RESMEM_IOC_TYPE, below(4),
					   below(1u << 14));
		} while (cmd == RESMEM_IOC_INFO || cmd == RESMEM_IOC_SYNC ||
			 cmd == RESMEM_IOC_RING_NOTIFY ||
			 cmd == RESMEM_IOC_RING_PRODUCER);
		r = ioctl(fds[i].fd, cmd, buf);
		trace("ioctl %#lx -> %d", cmd, r);
		if (!r || errno != ENOTTY)
			fail("ioctl %#lx: %s, expected ENOTTY", cmd, r ? en(errno) : "succeeded");
	} else {
		/* INFO or SYNC with a pointer that is not user memory. */
		void *bad[] = { NULL, (void *)0xffffffff81000000UL, (void *)1,
				(void *)(uintptr_t)(1ULL << 47) };

		r = ioctl(fds[i].fd, below(2) ? RESMEM_IOC_INFO : RESMEM_IOC_SYNC,
			  bad[below(4)]);
		if (!r || errno != EFAULT)
			fail("ioctl with a bad pointer: %s, expected EFAULT", r ? en(errno) : "succeeded");
	}
}

static void run(long max_iter, double end);

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void reap(int block)
{
	for (int k = 0; k < nkids; k++) {
		int st;
		pid_t p = waitpid(kids[k], &st, block ? 0 : WNOHANG);

		if (p != kids[k])
			continue;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail("forked child %d ended with status %#x (see its FAIL line)", (int)p, st);
		kids[k--] = kids[--nkids];
	}
}

static void op_fork(void)
{
	pid_t p;

	if (is_child)
		return;
	if (nkids == MAX_CHILDREN)
		reap(1);	/* wait, rather than skip: keeps the sequence seed-determined */
	fflush(stdout);
	p = fork();
	if (p < 0) {
		fail("fork: %s", en(errno));
		return;
	}
	if (p == 0) {
		is_child = 1;
		for (int k = 0; k < nfds; k++)
			close(fds[k].fd);	/* shared f_pos would race with lseek */
		nfds = 0;
		rs = seed + (uint64_t)me + ((uint64_t)iter << 20);
		nkids = 0;
		failures = 0;
		run(CHILD_OPS, now() + 30);
		_exit(failures ? 1 : 0);
	}
	trace("fork -> %d", (int)p);
	kids[nkids++] = p;
}

static void run(long max_iter, double end)
{
	static void (*const ops[OP_NR])(void) = {
		op_open, op_close, op_mmap, op_munmap, op_mremap, op_mprotect,
		op_madvise, op_touch, op_rw, op_lseek, op_ioctl, op_fork,
	};
	static const int weight[OP_NR] = { 6, 4, 14, 8, 6, 5, 5, 16, 12, 8, 12, 2 };
	long n = 0;

	while ((!max_iter || n < max_iter) && ((n & 15) || now() < end)) {
		uint64_t w = below(100), acc = 0;
		int op = 0;

		for (op = 0; op < OP_NR - 1; op++) {
			acc += (uint64_t)weight[op];
			if (w < acc)
				break;
		}
		if (!nfds)
			op = OP_OPEN;
		iter = is_child ? iter : n;
		counts[op]++;
		ops[op]();
		n++;
		if (!is_child && (n & 63) == 0)
			reap(0);
	}
	if (!is_child)
		iter = n;
	reap(1);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sig };
	double secs = 10, t0;
	long max_iter = 0, total = 0;
	int opt, bad = 0;
	pid_t pids[64];

	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((opt = getopt(argc, argv, "s:t:n:j:v")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': secs = atof(optarg); break;
		case 'n': max_iter = atol(optarg); break;
		case 'j': nprocs = atoi(optarg); break;
		case 'v': verbose = 1; break;
		default: goto usage;
		}
	}
	if (optind >= argc || argc - optind > MAX_DEVS || nprocs < 1 || nprocs > 32)
		goto usage;
	pg = sysconf(_SC_PAGESIZE);
	for (int i = optind; i < argc; i++) {
		struct resmem_info ri = { .size = sizeof(ri) };
		int fd = open(argv[i], O_RDONLY);

		if (fd < 0 || ioctl(fd, RESMEM_IOC_INFO, &ri)) {
			fprintf(stderr, "fuzz: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		close(fd);
		devs[ndevs++] = (struct dev){ argv[i], ri.length };
	}
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("fuzz: seed=%#" PRIx64 " procs=%d devices=%d\n", seed, nprocs, ndevs);
	fflush(stdout);
	t0 = now();
	for (int i = 0; i < nprocs; i++) {
		int p[2];

		if (pipe(p))
			return 2;
		pids[i] = fork();
		if (pids[i] == 0) {
			close(p[0]);
			me = i;
			rs = seed + (uint64_t)i;
			run(max_iter, t0 + secs);
			for (int k = 0; k < OP_NR; k++)
				dprintf(p[1], "%ld ", counts[k]);
			dprintf(p[1], "%ld\n", iter);
			_exit(failures ? 1 : 0);
		}
		close(p[1]);
		pids[i + 32] = p[0];	/* pipes after the pids */
	}
	for (int i = 0; i < nprocs; i++) {
		char line[512] = "";
		FILE *f = fdopen(pids[i + 32], "r");
		int st;

		if (f && fgets(line, sizeof(line), f)) {
			char *s = line;

			for (int k = 0; k < OP_NR; k++)
				counts[k] += strtol(s, &s, 10);
			total += strtol(s, &s, 10);
		}
		if (f)
			fclose(f);
		if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	printf("fuzz: seed=%#" PRIx64 " procs=%d seconds=%.1f iterations=%ld failures=%d\n",
	       seed, nprocs, now() - t0, total, bad);
	printf("fuzz: ops");
	for (int k = 0; k < OP_NR; k++)
		printf(" %s=%ld", op_names[k], counts[k]);
	printf("\n");
	if (bad)
		printf("fuzz: reproduce with: fuzz -s %#" PRIx64 " -j %d -n %ld %s...\n",
		       seed, nprocs, total / nprocs + 1, argv[optind]);
	return bad ? 1 : 0;
usage:
	fprintf(stderr, "usage: fuzz [-s SEED] [-t SECONDS] [-n ITERATIONS] [-j PROCS 1-32] [-v] DEV...\n");
	return 2;
}
