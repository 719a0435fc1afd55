// SPDX-License-Identifier: GPL-2.0
/*
 * revoke: use a resmem region every way at once while the test removes it,
 * and report what each use got afterwards.
 *
 *   revoke DEV READY
 *
 * Opens DEV (a device node) read-write and maps its first MAP_LEN bytes
 * shared, then runs, each in its own thread:
 *   poller     poll(POLLIN) on the fd, blocked until something happens;
 *   remapper   mmap a 64 KiB window, touch it, munmap, over and over;
 *   reader     pread 64 KiB, over and over;
 *   main       reads and writes every page of the mapping, over and over.
 * Once every thread has gone round once it writes "ready" to READY (a
 * FIFO: the open waits for the test to read it) and the test removes the
 * region.  Each thread stops at its first failure (SIGBUS, or an errno);
 * then the main thread tries once more each thing the open fd allows and
 * prints key=value lines:
 *   sigbus=1       the mapping's access ended in SIGBUS
 *   again=SIGBUS   so does the next access
 *   poller=0xN     the revents poll returned (POLLERR | POLLHUP expected)
 *   remapper=E     how the remap loop ended (errno name or SIGBUS)
 *   reader=E       how the read loop ended (errno name, or "short" for a
 *                  short count: a read under way when the region went)
 *   read=E write=E ioctl=E mmap=E   those calls on the still-open fd
 *   reopen=E       opening DEV again
 * Exit status 0 once everything is reported; SIGALRM ends it if nothing
 * failed within 300 s (the region was never removed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/resmem.h>

#define MAP_LEN		(4u << 20)
#define WINDOW		(64u << 10)
#define TIMEOUT_S	300

static int fd;
static long page;
static atomic_int rounds;	/* threads that have gone round once */
static __thread sigjmp_buf jump;
static __thread volatile sig_atomic_t armed;

static void on_sigbus(int sig)
{
	(void)sig;
	if (armed)
		siglongjmp(jump, 1);
	_exit(3);
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

/* Touch every page of [p, p + len): read, then write back + 1. */
static void touch(volatile uint8_t *p, size_t len)
{
	for (size_t off = 0; off < len; off += page)
		p[off] = p[off] + 1;
}

/* 1 if touching [p, p + len) raised SIGBUS, else 0. */
static int touch_sigbus(volatile uint8_t *p, size_t len)
{
	if (sigsetjmp(jump, 1)) {
		armed = 0;
		return 1;
	}
	armed = 1;
	touch(p, len);
	armed = 0;
	return 0;
}

static void *poller(void *arg)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	atomic_fetch_add(&rounds, 1);
	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	*(int *)arg = pfd.revents;
	return NULL;
}

static void *remapper(void *arg)
{
	const char **out = arg;
	size_t off = 0;

	for (int n = 0;; n++) {
		void *m = mmap(NULL, WINDOW, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);

		if (m == MAP_FAILED) {
			*out = errname(errno);
			return NULL;
		}
		if (touch_sigbus(m, WINDOW)) {
			munmap(m, WINDOW);
			*out = "SIGBUS";
			return NULL;
		}
		munmap(m, WINDOW);
		off = (off + WINDOW) % MAP_LEN;
		if (!n)
			atomic_fetch_add(&rounds, 1);
	}
}

static void *reader(void *arg)
{
	const char **out = arg;
	static char buf[WINDOW];

	for (int n = 0;; n++) {
		ssize_t got = pread(fd, buf, sizeof(buf), 0);

		if (got < 0) {
			*out = errname(errno);
			return NULL;
		}
		if (got != sizeof(buf)) {
			*out = "short";
			return NULL;
		}
		if (!n)
			atomic_fetch_add(&rounds, 1);
	}
}

static const char *result(long ret)
{
	return ret < 0 ? errname(errno) : "ok";
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	const char *remapped = "?", *readout = "?";
	pthread_t tp, tm, tr;
	struct resmem_info info = { .size = sizeof(info) };
	int revents = -1, rfd;
	volatile uint8_t *map;
	char c = 0;
	FILE *ready;

	if (argc != 3) {
		fprintf(stderr, "usage: revoke DEV READY\n");
		return 1;
	}
	page = sysconf(_SC_PAGESIZE);
	sigaction(SIGBUS, &sa, NULL);
	alarm(TIMEOUT_S);
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	map = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "mmap: %s\n", strerror(errno));
		return 1;
	}
	touch(map, MAP_LEN);
	if (pthread_create(&tp, NULL, poller, &revents) ||
	    pthread_create(&tm, NULL, remapper, &remapped) ||
	    pthread_create(&tr, NULL, reader, &readout))
		return 1;
	while (atomic_load(&rounds) < 3)
		sched_yield();
	ready = fopen(argv[2], "w");
	if (!ready || fputs("ready\n", ready) < 0 || fclose(ready))
		return 1;

	while (!touch_sigbus(map, MAP_LEN))
		;
	printf("sigbus=1\n");
	printf("again=%s\n", touch_sigbus(map, page) ? "SIGBUS" : "ok");
	pthread_join(tp, NULL);
	pthread_join(tm, NULL);
	pthread_join(tr, NULL);
	printf("poller=%#x\n", revents);
	printf("remapper=%s\n", remapped);
	printf("reader=%s\n", readout);
	printf("read=%s\n", result(pread(fd, &c, 1, 0)));
	printf("write=%s\n", result(pwrite(fd, &c, 1, 0)));
	printf("ioctl=%s\n", result(ioctl(fd, RESMEM_IOC_INFO, &info)));
	printf("mmap=%s\n", mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED ?
	       errname(errno) : "ok");
	rfd = open(argv[1], O_RDWR);
	printf("reopen=%s\n", result(rfd));
	return 0;
}
