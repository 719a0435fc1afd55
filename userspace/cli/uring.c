// SPDX-License-Identifier: GPL-2.0
/*
 * The io_uring drain --image and capture --from FILE need, on the raw
 * system calls (no liburing: the tools are static and cross-built): one
 * submission ring, reads and writes (plain, vectored or with registered
 * buffers), completions reaped in any order.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "uring.h"

int uring_init(struct uring *u, unsigned int entries)
{
	struct io_uring_params p;
	unsigned char *sq, *cq;

	memset(u, 0, sizeof(*u));
	memset(&p, 0, sizeof(p));
	u->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
	if (u->fd < 0)
		return -errno;
	u->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	u->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	u->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	u->sq_map = mmap(NULL, u->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 u->fd, IORING_OFF_SQ_RING);
	u->cq_map = mmap(NULL, u->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 u->fd, IORING_OFF_CQ_RING);
	u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       u->fd, IORING_OFF_SQES);
	if (u->sq_map == MAP_FAILED || u->cq_map == MAP_FAILED ||
	    u->sqes == MAP_FAILED) {
		int err = -errno;

		uring_exit(u);
		return err;
	}
	sq = u->sq_map;
	cq = u->cq_map;
	u->sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned int *)(sq + p.sq_off.array);
	u->cq_head = (unsigned int *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

void uring_exit(struct uring *u)
{
	if (u->sqes && u->sqes != MAP_FAILED)
		munmap(u->sqes, u->sqes_len);
	if (u->cq_map && u->cq_map != MAP_FAILED)
		munmap(u->cq_map, u->cq_len);
	if (u->sq_map && u->sq_map != MAP_FAILED)
		munmap(u->sq_map, u->sq_len);
	if (u->fd > 0)
		close(u->fd); /* unregisters (unpins) the buffers too */
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}

int uring_register_buffers(struct uring *u, const struct iovec *iov,
			   unsigned int n)
{
	if (syscall(__NR_io_uring_register, u->fd, IORING_REGISTER_BUFFERS, iov,
		    n))
		return -errno;
	return 0;
}

/* One SQE: @addr/@len are a buffer (or an iovec array and its count). */
static void uring_queue(struct uring *u, uint8_t opcode, int fd,
			const void *addr, unsigned int len, uint64_t off,
			int fixed, uint64_t user_data)
{
	unsigned int tail = *u->sq_tail, idx = tail & *u->sq_mask;
	struct io_uring_sqe *sqe = &u->sqes[idx];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opcode;
	sqe->fd = fd;
	sqe->addr = (uint64_t)(uintptr_t)addr;
	sqe->len = len;
	sqe->off = off;
	sqe->buf_index = (uint16_t)(fixed >= 0 ? fixed : 0);
	sqe->user_data = user_data;
	u->sq_array[idx] = idx;
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
	u->queued++;
}

void uring_write(struct uring *u, int fd, const void *buf, unsigned int len,
		 uint64_t off, int fixed, uint64_t user_data)
{
	uring_queue(u, fixed >= 0 ? IORING_OP_WRITE_FIXED : IORING_OP_WRITE, fd,
		    buf, len, off, fixed, user_data);
}

void uring_read(struct uring *u, int fd, void *buf, unsigned int len,
		uint64_t off, int fixed, uint64_t user_data)
{
	uring_queue(u, fixed >= 0 ? IORING_OP_READ_FIXED : IORING_OP_READ, fd,
		    buf, len, off, fixed, user_data);
}

void uring_readv(struct uring *u, int fd, const struct iovec *iov,
		 unsigned int n, uint64_t off, uint64_t user_data)
{
	uring_queue(u, IORING_OP_READV, fd, iov, n, off, -1, user_data);
}

int uring_submit(struct uring *u, unsigned int wait)
{
	long n;

	do {
		n = syscall(__NR_io_uring_enter, u->fd, u->queued, wait,
			    wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	u->queued -= (unsigned int)n < u->queued ? (unsigned int)n : u->queued;
	return 0;
}

int uring_reap(struct uring *u, uint64_t *user_data, int32_t *res)
{
	unsigned int head = __atomic_load_n(u->cq_head, __ATOMIC_RELAXED);
	const struct io_uring_cqe *cqe;

	if (head == __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE))
		return 0;
	cqe = &u->cqes[head & *u->cq_mask];
	*user_data = cqe->user_data;
	*res = cqe->res;
	__atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
	return 1;
}

int uring_fixed_index(const struct iovec *bufs, unsigned int n, const void *p,
		      size_t len)
{
	const unsigned char *q = p;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const unsigned char *b = bufs[i].iov_base;

		if (q >= b && q + len <= b + bufs[i].iov_len)
			return (int)i;
	}
	return -1;
}
