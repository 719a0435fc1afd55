// SPDX-License-Identifier: GPL-2.0
/*
 * abuse: bad-input cases and a concurrency workload against resmem devices,
 * for tests/test_bad_input.py.
 *
 *   abuse cases DEV      reads one case per line on stdin: "ID OP ARGS...";
 *                        prints "ID RESULT" per case (RESULT: ok, ok KEY=VAL...,
 *                        n=COUNT, pos=OFFSET, errno=NAME, or bad-... when the
 *                        helper itself saw something wrong)
 *   abuse open DEV r|w|rw                    ok or errno=NAME
 *   abuse hdrflip DEV    rewrites the ring header (page 0) until SIGTERM,
 *                        cycling through: the valid header found at start
 *                        (every other write); it with the geometry of a ring
 *                        far larger than the region (geo_crc left alone: a
 *                        reader that checked the valid copy and then read the
 *                        header again would take it); it with head, tail and
 *                        cons unaligned and past pos_mod; random bytes.  Puts
 *                        the valid header back at the end and prints
 *                        "hdrflip rounds=N".
 *   abuse stress SECONDS PROCS DEV...        PROCS workers map/unmap/read/write/
 *                        fork on every DEV until SECONDS pass; each worker owns
 *                        slice i of every region for data checks.  Prints the
 *                        worker pids first ("pids P1 P2 ..."), then "ops=N" and
 *                        "errors=N"; exit 1 on any error.
 *   abuse race SECONDS PROCS MODULE DEV...   PROCS workers open, map one
 *                        page, touch it, unmap and close, as fast as they can,
 *                        while this helper unloads MODULE under them: an open
 *                        that fails with ENOENT, ENXIO or ENODEV counts as
 *                        "gone", any other failure as an error.  The unload is
 *                        a tight delete_module(O_NONBLOCK) loop started once
 *                        every worker has done a round (an rmmod retried every
 *                        50 ms missed every idle window of 8 workers on a
 *                        loaded machine).  A worker stops after its third
 *                        "gone" or when SECONDS pass.  Prints "race running",
 *                        "race unloaded after N tries" (or "race unload
 *                        failed: ERRNO"), then "race ok=N gone=N errors=N
 *                        failed=N"; exit 1 on errors.
 *
 * Case OPs (numbers: decimal or 0x-hex, optional K/M/G/T suffix; negative
 * numbers with a leading '-'):
 *   mmap OFF LEN shared|private|validate r|w|rw|rx|rwx|none [ro]
 *        maps, reads the first and last byte of a readable mapping and
 *        compares them with pread(): "ok"; "ro" opens the device O_RDONLY
 *   exec OFF            writes "mov eax,42; ret" at OFF, maps it PROT_READ|
 *                       PROT_EXEC and calls it (x86_64): "ok ret=42"
 *   mremap OFF LEN NEWLEN maymove|fixed|dontunmap|none   after a successful
 *                       mremap the new range is read and compared with pread()
 *   mprotect OFF LEN PROT [ro]   (PROT as for mmap; map is PROT_READ)
 *   madvise OFF LEN ADVICE       (ADVICE: a MADV_* number)
 *   munmap-mid OFF LEN           unmaps the middle page, reads both ends
 *   pread OFF LEN | pwrite OFF LEN [ro|wo]    into/from a buffer: "n=COUNT"
 *   pread-short LEN | pwrite-short LEN   buffer of LEN/2 bytes followed by an
 *                       unmapped page, at offset 0
 *   pread-null LEN | pwrite-null LEN     NULL buffer
 *   read-wo | write-ro   read() on an O_WRONLY fd / write() on an O_RDONLY fd
 *   lseek WHENCE OFF [WHENCE2 OFF2]      "pos=N" (of the last call) or errno
 *   info BUFSIZE SIZEFIELD FILL          RESMEM_IOC_INFO: buffer of BUFSIZE
 *                       bytes ending at an unmapped page, first u32 SIZEFIELD,
 *                       every other byte FILL; "ok len=LENGTH name=NAME tail=
 *                       intact|written"
 *   sync BUFSIZE SIZEFIELD FILL DIR OFF LEN [ro]   RESMEM_IOC_SYNC likewise,
 *                       the known fields set after the fill; "ro" opens the
 *                       device O_RDONLY
 *   ioctl CMD null|kernel|unmapped|zero   any command; argument NULL, a kernel
 *                       address, an unmapped user page, or 4 KiB of zeros
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/resmem.h>

static long pg;
static const char *dev;
static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_sig;

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static int64_t num(const char *s)
{
	int neg = *s == '-';
	char *end;
	uint64_t v = strtoull(s + neg, &end, 0);

	switch (*end) {
	case 'K': case 'k': v <<= 10; break;
	case 'M': case 'm': v <<= 20; break;
	case 'G': case 'g': v <<= 30; break;
	case 'T': case 't': v <<= 40; break;
	default: break;
	}
	return neg ? -(int64_t)v : (int64_t)v;
}

static int prot_of(const char *s)
{
	int p = 0;

	if (!strcmp(s, "none"))
		return PROT_NONE;
	if (strchr(s, 'r'))
		p |= PROT_READ;
	if (strchr(s, 'w'))
		p |= PROT_WRITE;
	if (strchr(s, 'x'))
		p |= PROT_EXEC;
	return p;
}

static void on_fault(int sig)
{
	fault_sig = sig;
	siglongjmp(fault_jmp, 1);
}

/* Read byte p through the mapping; -1 (and the signal) if it faulted. */
static int peek(volatile const uint8_t *p)
{
	fault_sig = 0;
	if (sigsetjmp(fault_jmp, 1))
		return -1;
	return *p;
}

static int open_dev(const char *mode)
{
	int fl = O_RDWR;

	if (mode && !strcmp(mode, "ro"))
		fl = O_RDONLY;
	else if (mode && !strcmp(mode, "wo"))
		fl = O_WRONLY;
	return open(dev, fl | O_CLOEXEC);
}

/* A buffer of len bytes that ends exactly at a PROT_NONE page. */
static uint8_t *guarded(size_t len)
{
	size_t span = (len + pg - 1) / pg * pg;
	uint8_t *m = mmap(NULL, span + pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	mprotect(m + span, pg, PROT_NONE);
	return m + span - len;
}

static void unguard(uint8_t *p, size_t len)
{
	size_t span = (len + pg - 1) / pg * pg;

	munmap(p + len - span, span + pg);
}

/* Compare the first and last byte of [m, m + len) with pread() of off. */
static const char *check_ends(int fd, const uint8_t *m, uint64_t off,
			      size_t len)
{
	uint8_t b;
	int v;

	if (!len)
		return NULL;
	v = peek(m);
	if (v < 0)
		return fault_sig == SIGBUS ? "bad-sigbus-first" : "bad-sigsegv-first";
	if (pread(fd, &b, 1, (off_t)off) != 1 || b != v)
		return "bad-mismatch-first";
	v = peek(m + len - 1);
	if (v < 0)
		return fault_sig == SIGBUS ? "bad-sigbus-last" : "bad-sigsegv-last";
	if (pread(fd, &b, 1, (off_t)(off + len - 1)) != 1 || b != v)
		return "bad-mismatch-last";
	return NULL;
}

static void result_errno(const char *id)
{
	printf("%s errno=%s\n", id, ename(errno));
}

static void do_mmap(const char *id, char **a, int n)
{
	uint64_t off, len;
	int flags, prot, fd;
	const char *bad = NULL;
	uint8_t *m;

	if (n < 4) {
		printf("%s bad-usage\n", id);
		return;
	}
	off = (uint64_t)num(a[0]);
	len = (uint64_t)num(a[1]);
	flags = !strcmp(a[2], "private") ? MAP_PRIVATE :
		!strcmp(a[2], "validate") ? MAP_SHARED_VALIDATE : MAP_SHARED;
	prot = prot_of(a[3]);
	fd = open_dev(n > 4 ? a[4] : NULL);
	if (fd < 0) {
		result_errno(id);
		return;
	}
	m = mmap(NULL, len, prot, flags, fd, (off_t)off);
	if (m == MAP_FAILED) {
		result_errno(id);
		close(fd);
		return;
	}
	if (prot & PROT_READ)
		bad = check_ends(fd, m, off, (len + pg - 1) / pg * pg);
	munmap(m, len);
	close(fd);
	printf("%s %s\n", id, bad ? bad : "ok");
}

static void do_exec(const char *id, char **a, int n)
{
#if defined(__x86_64__)
	static const uint8_t code[] = { 0xb8, 42, 0, 0, 0, 0xc3 };
	uint64_t off = n > 0 ? (uint64_t)num(a[0]) : 0;
	int fd = open_dev(NULL);
	void *m;
	int r;

	if (fd < 0 || pwrite(fd, code, sizeof(code), (off_t)off) != sizeof(code)) {
		result_errno(id);
		return;
	}
	m = mmap(NULL, pg, PROT_READ | PROT_EXEC, MAP_SHARED, fd, (off_t)off);
	if (m == MAP_FAILED) {
		result_errno(id);
		close(fd);
		return;
	}
	fault_sig = 0;
	if (sigsetjmp(fault_jmp, 1)) {
		printf("%s bad-signal-%d\n", id, (int)fault_sig);
	} else {
		r = ((int (*)(void))m)();
		printf("%s ok ret=%d\n", id, r);
	}
	munmap(m, pg);
	close(fd);
#else
	(void)a;
	(void)n;
	printf("%s skip-not-x86_64\n", id);
#endif
}

static void do_mremap(const char *id, char **a, int n)
{
	uint64_t off, len, nlen;
	int fd, fl = 0;
	uint8_t *m, *r, *hole = NULL;
	const char *bad;

	if (n < 4) {
		printf("%s bad-usage\n", id);
		return;
	}
	off = (uint64_t)num(a[0]);
	len = (uint64_t)num(a[1]);
	nlen = (uint64_t)num(a[2]);
	fd = open_dev(NULL);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	if (m == MAP_FAILED) {
		printf("%s bad-map-%s\n", id, ename(errno));
		close(fd);
		return;
	}
	if (!strcmp(a[3], "maymove"))
		fl = MREMAP_MAYMOVE;
	else if (!strcmp(a[3], "dontunmap"))
		fl = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
	else if (!strcmp(a[3], "fixed")) {
		fl = MREMAP_MAYMOVE | MREMAP_FIXED;
		hole = mmap(NULL, nlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	r = mremap(m, len, nlen, fl, hole);
	if (r == MAP_FAILED) {
		result_errno(id);
		munmap(m, len);
		if (hole && hole != MAP_FAILED)
			munmap(hole, nlen);
		close(fd);
		return;
	}
	bad = check_ends(fd, r, off, nlen);
	munmap(r, nlen);
	if (r != m && !(fl & MREMAP_DONTUNMAP))
		munmap(m, len);	/* nothing should be left there; harmless */
	close(fd);
	printf("%s %s\n", id, bad ? bad : "ok");
}

static void do_mprotect(const char *id, char **a, int n)
{
	uint64_t off, len;
	int fd;
	uint8_t *m;

	if (n < 3) {
		printf("%s bad-usage\n", id);
		return;
	}
	off = (uint64_t)num(a[0]);
	len = (uint64_t)num(a[1]);
	fd = open_dev(n > 3 ? a[3] : NULL);
	m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
	if (m == MAP_FAILED) {
		printf("%s bad-map-%s\n", id, ename(errno));
		close(fd);
		return;
	}
	if (mprotect(m, len, prot_of(a[2])))
		result_errno(id);
	else
		printf("%s ok\n", id);
	munmap(m, len);
	close(fd);
}

static void do_madvise(const char *id, char **a, int n)
{
	uint64_t off, len;
	int fd;
	uint8_t *m;
	const char *bad;

	if (n < 3) {
		printf("%s bad-usage\n", id);
		return;
	}
	off = (uint64_t)num(a[0]);
	len = (uint64_t)num(a[1]);
	fd = open_dev(NULL);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	if (m == MAP_FAILED) {
		printf("%s bad-map-%s\n", id, ename(errno));
		close(fd);
		return;
	}
	if (madvise(m, len, (int)num(a[2]))) {
		result_errno(id);
	} else {
		/* Whatever the advice, the mapping still shows the memory. */
		bad = check_ends(fd, m, off, len);
		printf("%s %s\n", id, bad ? bad : "ok");
	}
	munmap(m, len);
	close(fd);
}

static void do_munmap_mid(const char *id, char **a, int n)
{
	uint64_t off, len;
	int fd;
	uint8_t *m;
	const char *bad;

	if (n < 2) {
		printf("%s bad-usage\n", id);
		return;
	}
	off = (uint64_t)num(a[0]);
	len = (uint64_t)num(a[1]);
	fd = open_dev(NULL);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	if (m == MAP_FAILED) {
		printf("%s bad-map-%s\n", id, ename(errno));
		close(fd);
		return;
	}
	if (munmap(m + len / 2 / pg * pg, pg)) {
		result_errno(id);
	} else {
		bad = check_ends(fd, m, off, pg);
		if (!bad)
			bad = check_ends(fd, m + len - pg, off + len - pg, pg);
		if (!bad && peek(m + len / 2 / pg * pg) >= 0)
			bad = "bad-hole-readable";
		printf("%s %s\n", id, bad ? bad : "ok");
	}
	munmap(m, len);
	close(fd);
}

static void do_rw(const char *id, const char *op, char **a, int n)
{
	int wr = strstr(op, "write") != NULL;
	uint64_t off = 0, len;
	size_t blen;
	uint8_t *buf;
	ssize_t r;
	int fd;

	if (!strcmp(op, "read-wo") || !strcmp(op, "write-ro")) {
		char c = 0;

		fd = open_dev(wr ? "ro" : "wo");
		r = wr ? write(fd, &c, 1) : read(fd, &c, 1);
		if (r < 0)
			result_errno(id);
		else
			printf("%s n=%zd\n", id, r);
		close(fd);
		return;
	}
	if (strstr(op, "-short") || strstr(op, "-null")) {
		len = n > 0 ? (uint64_t)num(a[0]) : (uint64_t)pg;
	} else {
		if (n < 2) {
			printf("%s bad-usage\n", id);
			return;
		}
		off = (uint64_t)num(a[0]);
		len = (uint64_t)num(a[1]);
	}
	fd = open_dev(n > 2 ? a[2] : NULL);
	if (fd < 0) {
		result_errno(id);
		return;
	}
	blen = strstr(op, "-short") ? len / 2 : len;
	buf = strstr(op, "-null") ? NULL : guarded(blen ? blen : 1);
	if (buf)
		memset(buf, 0x5a, blen);
	if (wr)
		r = pwrite(fd, buf, len, (off_t)off);
	else
		r = pread(fd, buf, len, (off_t)off);
	if (r < 0)
		result_errno(id);
	else
		printf("%s n=%zd\n", id, r);
	if (buf)
		unguard(buf, blen ? blen : 1);
	close(fd);
}

static void do_lseek(const char *id, char **a, int n)
{
	int fd = open_dev(NULL);
	off_t r = 0;

	for (int i = 0; i + 1 < n; i += 2) {
		r = lseek(fd, (off_t)num(a[i + 1]), (int)num(a[i]));
		if (r < 0)
			break;
	}
	if (r < 0)
		result_errno(id);
	else
		printf("%s pos=%jd\n", id, (intmax_t)r);
	close(fd);
}

static void do_info(const char *id, char **a, int n)
{
	size_t bsz;
	uint32_t sz;
	int fill, fd;
	uint8_t *b;
	struct resmem_info ri;
	int tail = 0;

	if (n < 3) {
		printf("%s bad-usage\n", id);
		return;
	}
	bsz = (size_t)num(a[0]);
	sz = (uint32_t)num(a[1]);
	fill = (int)num(a[2]);
	b = guarded(bsz < 4 ? 4 : bsz);
	if (bsz < 4)
		b += 4 - bsz;	/* the size word itself runs into the guard */
	memset(b, fill, bsz);
	if (bsz >= 4)
		memcpy(b, &sz, 4);
	fd = open_dev(NULL);
	if (ioctl(fd, RESMEM_IOC_INFO, b)) {
		result_errno(id);
	} else {
		memset(&ri, 0, sizeof(ri));
		memcpy(&ri, b, bsz < sizeof(ri) ? bsz : sizeof(ri));
		for (size_t i = sizeof(ri); i < bsz; i++)
			if (b[i] != (uint8_t)fill)
				tail = 1;
		printf("%s ok size=%u len=%" PRIu64 " phys=%#" PRIx64 " name=%.*s tail=%s\n",
		       id, ri.size, (uint64_t)ri.length, (uint64_t)ri.phys_addr,
		       RESMEM_NAME_MAX, ri.name, tail ? "written" : "intact");
	}
	close(fd);
	unguard(bsz < 4 ? b - (4 - bsz) : b, bsz < 4 ? 4 : bsz);
}

static void do_sync(const char *id, char **a, int n)
{
	size_t bsz;
	uint32_t sz;
	int fill, fd;
	uint8_t *b;
	struct resmem_sync s;

	if (n < 6) {
		printf("%s bad-usage\n", id);
		return;
	}
	bsz = (size_t)num(a[0]);
	sz = (uint32_t)num(a[1]);
	fill = (int)num(a[2]);
	b = guarded(bsz < sizeof(s) ? sizeof(s) : bsz);
	memset(b, fill, bsz < sizeof(s) ? sizeof(s) : bsz);
	s.size = sz;
	s.direction = (uint32_t)num(a[3]);
	s.offset = (uint64_t)num(a[4]);
	s.length = (uint64_t)num(a[5]);
	if (bsz < sizeof(s)) {
		/* A short buffer: the struct's fields that fit, at the page end. */
		unguard(b, sizeof(s));
		b = guarded(bsz < 4 ? 4 : bsz);
		memcpy(b, &s, bsz < 4 ? 4 : bsz);
	} else {
		memcpy(b, &s, sizeof(s));
	}
	fd = open_dev(n > 6 ? a[6] : NULL);
	if (ioctl(fd, RESMEM_IOC_SYNC, b))
		result_errno(id);
	else
		printf("%s ok\n", id);
	close(fd);
}

static void do_ioctl(const char *id, char **a, int n)
{
	unsigned long cmd;
	void *arg = NULL;
	uint8_t *zero = NULL;
	int fd;

	if (n < 2) {
		printf("%s bad-usage\n", id);
		return;
	}
	cmd = (unsigned long)num(a[0]);
	if (!strcmp(a[1], "kernel"))
		arg = (void *)0xffffffff81000000UL;
	else if (!strcmp(a[1], "unmapped"))
		arg = guarded(1) + 1;	/* the guard page itself */
	else if (!strcmp(a[1], "zero"))
		arg = zero = calloc(1, 4096);
	fd = open_dev(NULL);
	if (ioctl(fd, cmd, arg))
		result_errno(id);
	else
		printf("%s ok\n", id);
	close(fd);
	free(zero);
}

static int cases(void)
{
	char line[512];

	while (fgets(line, sizeof(line), stdin)) {
		char *w[12];
		int n = 0;
		char *save, *t;

		for (t = strtok_r(line, " \t\n", &save); t && n < 12;
		     t = strtok_r(NULL, " \t\n", &save))
			w[n++] = t;
		if (n < 2)
			continue;
		if (!strcmp(w[1], "mmap"))
			do_mmap(w[0], w + 2, n - 2);
		else if (!strcmp(w[1], "exec"))
			do_exec(w[0], w + 2, n - 2);
		else if (!strcmp(w[1], "mremap"))
			do_mremap(w[0], w + 2, n - 2);
		else if (!strcmp(w[1], "mprotect"))
			do_mprotect(w[0], w + 2, n - 2);
		else if (!strcmp(w[1], "madvise"))
			do_madvise(w[0], w + 2, n - 2);
		else if (!strcmp(w[1], "munmap-mid"))
			do_munmap_mid(w[0], w + 2, n - 2);
		else if (!strncmp(w[1], "pread", 5) || !strncmp(w[1], "pwrite", 6) ||
			 !strcmp(w[1], "read-wo") || !strcmp(w[1], "write-ro"))
			do_rw(w[0], w[1], w + 2, n - 2);
		else if (!strcmp(w[1], "lseek"))
			do_lseek(w[0], w + 2, n - 2);
		else if (!strcmp(w[1], "info"))
			do_info(w[0], w + 2, n - 2);
		else if (!strcmp(w[1], "sync"))
			do_sync(w[0], w + 2, n - 2);
		else if (!strcmp(w[1], "ioctl"))
			do_ioctl(w[0], w + 2, n - 2);
		else
			printf("%s bad-op\n", w[0]);
		fflush(stdout);
	}
	return 0;
}

/* ------------------------------------------------------------ stress */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct region {
	const char *path;
	uint64_t size;
};

/*
 * One worker: its slice of each region is [i * slice, (i + 1) * slice).
 * Writes go only there (through a mapping or pwrite) and are read back the
 * other way; reads and mappings may go anywhere in the region.
 */
static int worker(int i, int procs, struct region *rg, int nr, double end)
{
	long ops = 0, errors = 0;
	uint8_t buf[8192];

	rng_state = 0x5eed0000ULL + (uint64_t)i;
	while (now() < end) {
		struct region *r = &rg[rnd() % (uint64_t)nr];
		uint64_t slice = r->size / (uint64_t)procs / (uint64_t)pg * (uint64_t)pg;
		uint64_t base = (uint64_t)i * slice;
		uint64_t pages = 1 + rnd() % 256;
		uint64_t len = pages * (uint64_t)pg;
		uint64_t off;
		int fd = open(r->path, O_RDWR | O_CLOEXEC);
		uint8_t *m;
		uint8_t v = (uint8_t)rnd();
		uint8_t nv = (uint8_t)(v ^ 0xff);

		if (fd < 0) {
			fprintf(stderr, "worker %d: open %s: %s\n", i, r->path, strerror(errno));
			errors++;
			break;
		}
		if (len > slice)
			len = slice;
		off = base + (rnd() % ((slice - len) / (uint64_t)pg + 1)) * (uint64_t)pg;
		switch (rnd() % 4) {
		case 0:	/* write through a mapping, read back with pread */
			m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
			if (m == MAP_FAILED) {
				fprintf(stderr, "worker %d: mmap: %s\n", i, strerror(errno));
				errors++;
				break;
			}
			m[0] = v;
			m[len - 1] = nv;
			if (pread(fd, buf, 1, (off_t)off) != 1 || buf[0] != v ||
			    pread(fd, buf, 1, (off_t)(off + len - 1)) != 1 || buf[0] != nv) {
				fprintf(stderr, "worker %d: mapping and pread disagree at %#" PRIx64 "\n",
					i, off);
				errors++;
			}
			munmap(m, len);
			break;
		case 1:	/* pwrite, then read back through a mapping */
			memset(buf, v, sizeof(buf));
			if (pwrite(fd, buf, sizeof(buf) < len ? sizeof(buf) : len, (off_t)off) < 0) {
				errors++;
				break;
			}
			m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
			if (m == MAP_FAILED || m[0] != v) {
				fprintf(stderr, "worker %d: pwrite not seen through mmap\n", i);
				errors++;
			}
			if (m != MAP_FAILED)
				munmap(m, len);
			break;
		case 2: {	/* fork with a mapping; the child writes, exits or is killed */
			pid_t c;
			int st;

			m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
			if (m == MAP_FAILED) {
				errors++;
				break;
			}
			c = fork();
			if (c == 0) {
				m[len / 2] = v;
				_exit(0);
			}
			if (c > 0 && waitpid(c, &st, 0) == c && m[len / 2] != v) {
				fprintf(stderr, "worker %d: child's write not seen\n", i);
				errors++;
			}
			if (rnd() % 2)
				munmap(m + (len / 2 / pg) * pg, (size_t)pg);	/* split */
			munmap(m, len);
			break;
		}
		default: {	/* read anywhere, map anywhere read-only, then partial unmap */
			uint64_t any = (rnd() % ((r->size - len) / (uint64_t)pg + 1)) * (uint64_t)pg;

			if (pread(fd, buf, sizeof(buf), (off_t)any) < 0)
				errors++;
			m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)any);
			if (m == MAP_FAILED) {
				errors++;
				break;
			}
			(void)*(volatile uint8_t *)(m + len - 1);
			munmap(m, len);
			break;
		}
		}
		close(fd);
		ops++;
	}
	printf("worker %d ops=%ld errors=%ld\n", i, ops, errors);
	return errors ? 1 : 0;
}

static int stress(int argc, char **argv)
{
	double secs = atof(argv[2]);
	int procs = atoi(argv[3]), nr = argc - 4, bad = 0;
	struct region rg[8];
	pid_t pids[256];

	if (nr < 1 || nr > 8 || procs < 1 || procs > 256)
		return 2;
	for (int k = 0; k < nr; k++) {
		int fd = open(argv[4 + k], O_RDONLY);

		rg[k].path = argv[4 + k];
		rg[k].size = fd < 0 ? 0 : (uint64_t)lseek(fd, 0, SEEK_END);
		if (fd < 0 || !rg[k].size) {
			fprintf(stderr, "abuse stress: %s: %s\n", argv[4 + k], strerror(errno));
			return 2;
		}
		close(fd);
	}
	double end = now() + secs;

	fflush(stdout);
	for (int i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(worker(i, procs, rg, nr, end));
	}
	printf("pids");
	for (int i = 0; i < procs; i++)
		printf(" %d", (int)pids[i]);
	printf("\n");
	fflush(stdout);
	for (int i = 0; i < procs; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	printf("workers=%d failed=%d\n", procs, bad);
	return bad ? 1 : 0;
}

/* delete_module(O_NONBLOCK) until it succeeds: the number of tries, or -errno */
static long unload_module(const char *name, double end)
{
	long tries = 0;

	for (;;) {
		tries++;
		if (!syscall(SYS_delete_module, name, O_NONBLOCK))
			return tries;
		if (errno != EWOULDBLOCK && errno != EAGAIN)
			return -errno;
		if (now() >= end)
			return -ETIMEDOUT;
		sched_yield();
	}
}

static int race(int argc, char **argv)
{
	double end = now() + atof(argv[2]);
	int procs = atoi(argv[3]), ndev = argc - 5, bad = 0;
	const char *module = argv[4];
	long tot[3] = { 0, 0, 0 }, tries;
	int p[2], started[2];
	char c1;

	if (procs < 1 || procs > 64 || ndev < 1 || pipe(p) || pipe(started))
		return 2;
	for (int i = 0; i < procs; i++) {
		if (fork() == 0) {
			long ok = 0, gone = 0, err = 0;

			close(p[0]);
			close(started[0]);
			for (long n = 0; now() < end && gone < 3; n++) {
				/* after the first round: the unload starts only once
				 * every worker is in its loop ("race running") */
				if (n == 1 && write(started[1], "s", 1) != 1)
					err++;
				const char *path = argv[5 + n % ndev];
				int fd = open(path, O_RDWR | O_CLOEXEC);
				uint8_t *m;

				if (fd < 0) {
					if (errno == ENOENT || errno == ENXIO || errno == ENODEV) {
						gone++;
					} else {
						fprintf(stderr, "race: open %s: %s\n", path, strerror(errno));
						err++;
					}
					continue;
				}
				m = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
					 (off_t)(pg * (i + 1)));
				if (m == MAP_FAILED) {
					fprintf(stderr, "race: mmap %s: %s\n", path, strerror(errno));
					err++;
				} else {
					m[0] = (uint8_t)n;
					munmap(m, (size_t)pg);
					ok++;
				}
				close(fd);
				usleep(200 + (useconds_t)(n * 7919 % 800));	/* let the unload in */
			}
			dprintf(p[1], "%ld %ld %ld\n", ok, gone, err);
			_exit(err ? 1 : 0);
		}
	}
	close(p[1]);
	close(started[1]);
	for (int i = 0; i < procs && read(started[0], &c1, 1) == 1; i++)
		;
	close(started[0]);
	printf("race running\n");
	fflush(stdout);
	tries = unload_module(module, end);
	if (tries > 0)
		printf("race unloaded after %ld tries\n", tries);
	else
		printf("race unload failed: %s\n", strerror((int)-tries));
	fflush(stdout);
	FILE *f = fdopen(p[0], "r");
	long a, b, c;

	while (f && fscanf(f, "%ld %ld %ld", &a, &b, &c) == 3) {
		tot[0] += a;
		tot[1] += b;
		tot[2] += c;
	}
	for (int i = 0; i < procs; i++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	printf("race ok=%ld gone=%ld errors=%ld failed=%d\n", tot[0], tot[1], tot[2], bad);
	return bad || tot[2] || tries < 0 ? 1 : 0;
}

static volatile sig_atomic_t flip_stop;

static void on_term(int sig)
{
	(void)sig;
	flip_stop = 1;
}

/* Every word stored, in order: the compiler may drop no store. */
static void put_hdr(void *dst, const struct resmem_ring_hdr *h)
{
	volatile uint64_t *d = dst;
	const uint64_t *w = (const uint64_t *)h;

	for (size_t i = 0; i < sizeof(*h) / 8; i++)
		d[i] = w[i];
}

static int hdrflip(const char *path)
{
	struct resmem_ring_hdr valid, big, pos, noise;
	struct sigaction sa = { .sa_handler = on_term };
	int fd = open(path, O_RDWR);
	unsigned long rounds = 0;
	void *hdr;

	if (fd < 0)
		return perror(path), 1;
	hdr = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (hdr == MAP_FAILED)
		return perror("mmap"), 1;
	sigaction(SIGTERM, &sa, NULL);
	memcpy(&valid, hdr, sizeof(valid));
	big = valid;
	big.data_size = 1ULL << 62;
	big.pos_mod = 1ULL << 62;
	pos = valid;
	pos.head = valid.pos_mod + 3;
	pos.tail = ~0ULL - 4;
	pos.cons = valid.pos_mod * 2 + 1;
	srand(1);
	for (size_t i = 0; i < sizeof(noise); i++)
		((unsigned char *)&noise)[i] = (unsigned char)rand();
	while (!flip_stop) {
		const struct resmem_ring_hdr *bad[] = { &big, &pos, &noise };

		put_hdr(hdr, &valid);
		put_hdr(hdr, bad[rounds % 3]);
		rounds++;
	}
	put_hdr(hdr, &valid);
	printf("hdrflip rounds=%lu\n", rounds);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_fault };

	pg = sysconf(_SC_PAGESIZE);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "cases")) {
		dev = argv[2];
		return cases();
	}
	if (argc == 4 && !strcmp(argv[1], "open")) {
		int fl = !strcmp(argv[3], "r") ? O_RDONLY :
			 !strcmp(argv[3], "w") ? O_WRONLY : O_RDWR;
		int fd = open(argv[2], fl);

		if (fd < 0)
			printf("errno=%s\n", ename(errno));
		else
			printf("ok\n");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "hdrflip"))
		return hdrflip(argv[2]);
	if (argc >= 5 && !strcmp(argv[1], "stress"))
		return stress(argc, argv);
	if (argc >= 6 && !strcmp(argv[1], "race"))
		return race(argc, argv);
	fprintf(stderr, "usage: abuse cases DEV < CASES | abuse open DEV r|w|rw | abuse hdrflip DEV | abuse stress SECONDS PROCS DEV... | abuse race SECONDS PROCS MODULE DEV...\n");
	return 2;
}
