/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The smallest io_uring a test needs, on the raw system calls (the guests
 * have no liburing): one ring, one registered ("fixed") buffer, one read
 * or write at a time.  Registering the buffer pins its pages for as long
 * as the ring lives (pin_user_pages(FOLL_LONGTERM)), which is what a
 * program draining a capture with fixed buffers does to the region.
 */
#ifndef RESMEM_TEST_URING_H
#define RESMEM_TEST_URING_H

#include <errno.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

struct uring {
	int fd;
	unsigned int *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

/* @entries submission slots: 0, or -errno of the step that failed */
static inline int uring_init_n(struct uring *u, unsigned int entries)
{
	struct io_uring_params p;
	uint8_t *sq, *cq;

	memset(&p, 0, sizeof(p));
	u->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
	if (u->fd < 0)
		return -errno;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned int),
		  PROT_READ | PROT_WRITE, MAP_SHARED, u->fd, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED, u->fd, IORING_OFF_CQ_RING);
	u->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
		       PROT_READ | PROT_WRITE, MAP_SHARED, u->fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || u->sqes == MAP_FAILED)
		return -errno;
	u->sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned int *)(sq + p.sq_off.array);
	u->cq_head = (unsigned int *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

static inline int uring_init(struct uring *u)
{
	return uring_init_n(u, 4);
}

/* Register [buf, buf + len) as fixed buffer 0: 0 or -errno. */
static inline int uring_register(struct uring *u, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	if (syscall(__NR_io_uring_register, u->fd, IORING_REGISTER_BUFFERS, &iov, 1))
		return -errno;
	return 0;
}

/*
 * One IORING_OP_READ_FIXED or IORING_OP_WRITE_FIXED of fixed buffer 0's
 * [buf, buf + len) at file offset off; returns the completion's result
 * (bytes moved, or -errno).
 */
static inline long uring_rw_fixed(struct uring *u, int opcode, int fd, void *buf,
			   unsigned int len, uint64_t off)
{
	unsigned int tail = *u->sq_tail, idx = tail & *u->sq_mask, head;
	struct io_uring_sqe *sqe = &u->sqes[idx];
	long res;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = (uint8_t)opcode;
	sqe->fd = fd;
	sqe->addr = (uint64_t)(uintptr_t)buf;
	sqe->len = len;
	sqe->off = off;
	sqe->buf_index = 0;
	u->sq_array[idx] = idx;
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, u->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -errno;
	head = __atomic_load_n(u->cq_head, __ATOMIC_ACQUIRE);
	if (head == __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	res = u->cqes[head & *u->cq_mask].res;
	__atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

/*
 * Several in flight (tests/guest/diowrite.c): queue a WRITE_FIXED of fixed
 * buffer @idx without entering the kernel; uring_enter() submits @n queued
 * and waits for @wait completions; uring_reap() takes one (1) or none (0).
 */
static inline void uring_queue_write_fixed(struct uring *u, int fd,
					   const void *buf, unsigned int len,
					   uint64_t off, unsigned int idx,
					   uint64_t user_data)
{
	unsigned int tail = *u->sq_tail, i = tail & *u->sq_mask;
	struct io_uring_sqe *sqe = &u->sqes[i];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_WRITE_FIXED;
	sqe->fd = fd;
	sqe->addr = (uint64_t)(uintptr_t)buf;
	sqe->len = len;
	sqe->off = off;
	sqe->buf_index = (uint16_t)idx;
	sqe->user_data = user_data;
	u->sq_array[i] = i;
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

static inline int uring_enter(struct uring *u, unsigned int n, unsigned int wait)
{
	if (syscall(__NR_io_uring_enter, u->fd, n, wait,
		    wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0) < 0)
		return -errno;
	return 0;
}

static inline int uring_reap(struct uring *u, int32_t *res)
{
	unsigned int head = __atomic_load_n(u->cq_head, __ATOMIC_RELAXED);

	if (head == __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE))
		return 0;
	*res = u->cqes[head & *u->cq_mask].res;
	__atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
	return 1;
}

#endif
