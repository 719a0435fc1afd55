// SPDX-License-Identifier: GPL-2.0
/*
 * ringwake: the ring's wake-ups seen from outside libresmem (raw syscalls
 * and the UAPI header only).
 *   ringwake poll DEV
 *	poll() once without waiting; prints "revents in=0|1 hup=0|1" and the
 *	header's head, cons and waiters.
 *   ringwake follow DEV N
 *	sleeps in poll() (no timeout) and, each time it is woken, consumes
 *	everything (cons = head) until N more records were committed; prints
 *	"follow: N records, W wake-ups".  A lost wake-up hangs it.
 *   ringwake claim DEV SECONDS
 *	RESMEM_IOC_RING_PRODUCER on DEV opened O_RDWR, then holds the claim
 *	for SECONDS; prints "claim 0" or "claim -ERRNO holder H pid P name N".
 *   ringwake latency N -- CAPTURE... -- DRAIN...
 *	runs CAPTURE (stdin from us, record size 8) and DRAIN (stdout to us,
 *	following from the consumer position, so nothing committed before it
 *	has mapped the region is missed), sends one record through unmeasured
 *	(both are up then), then N times: wait 20 ms (DRAIN asleep), write a
 *	CLOCK_MONOTONIC stamp to CAPTURE, read it back from DRAIN; prints
 *	"latency us: min M median D p90 P max X" (from commit request to
 *	delivery: capture's read, commit, notify, drain's wake-up and write).
 * Exit 0, or 1 on an error (said on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/resmem.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static int do_poll(const char *dev)
{
	struct pollfd p = { .events = POLLIN };
	const struct resmem_ring_hdr *h;
	void *m;

	p.fd = open(dev, O_RDONLY);
	if (p.fd < 0) {
		perror(dev);
		return 1;
	}
	if (poll(&p, 1, 0) < 0) {
		perror("poll");
		return 1;
	}
	m = mmap(NULL, RESMEM_RING_HDR_SIZE, PROT_READ, MAP_SHARED, p.fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	h = m;
	printf("revents in=%d hup=%d head %llu cons %llu waiters %u\n",
	       !!(p.revents & POLLIN), !!(p.revents & POLLHUP),
	       (unsigned long long)h->head, (unsigned long long)h->cons,
	       h->waiters);
	return 0;
}

static int do_follow(const char *dev, int n)
{
	struct pollfd p = { .events = POLLIN };
	volatile struct resmem_ring_hdr *h;
	uint64_t start, head_seq;
	int wakes = 0;
	void *m;

	p.fd = open(dev, O_RDWR);
	if (p.fd < 0) {
		perror(dev);
		return 1;
	}
	m = mmap(NULL, RESMEM_RING_HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 p.fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	h = m;
	start = h->head_seq;
	for (;;) {
		head_seq = __atomic_load_n(&h->head_seq, __ATOMIC_ACQUIRE);
		h->cons_seq = head_seq;
		__atomic_store_n(&h->cons, __atomic_load_n(&h->head, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
		if (head_seq - start >= (uint64_t)n)
			break;
		if (poll(&p, 1, -1) < 0) {
			perror("poll");
			return 1;
		}
		if (p.revents & POLLHUP) {
			fprintf(stderr, "ringwake: ring closed after %llu records\n",
				(unsigned long long)(head_seq - start));
			return 1;
		}
		wakes++;
	}
	printf("follow: %llu records, %d wake-ups\n",
	       (unsigned long long)(head_seq - start), wakes);
	return 0;
}

static int do_claim(const char *dev, const char *secs)
{
	struct resmem_ring_producer p = { .size = sizeof(p) };
	int fd = open(dev, O_RDWR), ret;

	if (fd < 0) {
		perror(dev);
		return 1;
	}
	ret = ioctl(fd, RESMEM_IOC_RING_PRODUCER, &p) ? -errno : 0;
	printf("claim %d holder %u pid %d name %s\n", ret, p.holder, p.pid,
	       p.name);
	fflush(stdout);
	sleep((unsigned int)atoi(secs));
	return 0;
}

static pid_t spawn(char **argv, int in, int out)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (in >= 0)
		dup2(in, 0);
	if (out >= 0)
		dup2(out, 1);
	execvp(argv[0], argv);
	perror(argv[0]);
	_exit(127);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int do_latency(int n, char **capture, char **drain)
{
	int to_cap[2], from_drain[2], i;
	uint64_t *lat = calloc((size_t)n, sizeof(*lat)), stamp, back;
	struct timespec gap = { 0, 20 * 1000000L };
	pid_t c, d;

	/* close-on-exec: a child keeping the other ends would never see EOF */
	if (!lat || pipe2(to_cap, O_CLOEXEC) || pipe2(from_drain, O_CLOEXEC))
		return 1;
	/* capture first: drain --follow ends at once on a closed ring */
	c = spawn(capture, to_cap[0], -1);
	close(to_cap[0]);
	sleep(1);
	d = spawn(drain, -1, from_drain[1]);
	close(from_drain[1]);
	/*
	 * Record -1 is not timed: it waits for DRAIN to start (mapping a big
	 * region eagerly takes a second on 6.1 under TCG), not for a wake-up.
	 */
	for (i = -1; i < n; i++) {
		nanosleep(&gap, NULL);
		stamp = now_ns();
		if (write(to_cap[1], &stamp, sizeof(stamp)) != sizeof(stamp) ||
		    read_full(from_drain[0], &back, sizeof(back)) ||
		    back != stamp) {
			fprintf(stderr, "ringwake: record %d did not come back\n", i);
			return 1;
		}
		if (i >= 0)
			lat[i] = now_ns() - stamp;
	}
	close(to_cap[1]);		/* capture ends: closes the ring */
	waitpid(c, NULL, 0);
	waitpid(d, NULL, 0);		/* drain --follow ends at the close */
	qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
	printf("latency us: min %llu median %llu p90 %llu max %llu (%d records)\n",
	       (unsigned long long)lat[0] / 1000,
	       (unsigned long long)lat[n / 2] / 1000,
	       (unsigned long long)lat[n * 9 / 10] / 1000,
	       (unsigned long long)lat[n - 1] / 1000, n);
	return 0;
}

int main(int argc, char **argv)
{
	int i, sep;

	if (argc == 3 && !strcmp(argv[1], "poll"))
		return do_poll(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "follow"))
		return do_follow(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "claim"))
		return do_claim(argv[2], argv[3]);
	if (argc > 5 && !strcmp(argv[1], "latency") && !strcmp(argv[3], "--")) {
		for (sep = 0, i = 4; i < argc && !sep; i++)
			if (!strcmp(argv[i], "--"))
				sep = i;
		if (sep && sep + 1 < argc && atoi(argv[2]) > 0) {
			argv[sep] = NULL;
			return do_latency(atoi(argv[2]), argv + 4, argv + sep + 1);
		}
	}
	fprintf(stderr, "usage: ringwake poll DEV | follow DEV N | claim DEV SECONDS | latency N -- CAPTURE... -- DRAIN...\n");
	return 2;
}
