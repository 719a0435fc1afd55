/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The io_uring of drain --image, capture --from FILE and the guest test
 * helpers (tests/guest: dio, diowrite), on the raw system calls (no
 * liburing: the tools and helpers are static and cross-built): reads and
 * writes, plain, vectored or with registered ("fixed") buffers, several in
 * flight, completions reaped in any order.  uring.c is built into the CLI
 * and linked into each helper (tests/guest/Makefile).
 */
#ifndef RESMEM_URING_H
#define RESMEM_URING_H

#include <linux/io_uring.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* One ring: reads and writes, plain or with registered ("fixed") buffers. */
struct uring {
	int fd;
	unsigned int queued; /* written to the SQ ring, not yet submitted */
	unsigned int *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	void *sq_map, *cq_map;
	size_t sq_len, cq_len, sqes_len;
};
/* 0 or -errno (ENOSYS, EPERM: io_uring off; the caller writes without it). */
int uring_init(struct uring *u, unsigned int entries);
void uring_exit(struct uring *u);
/* Fixed buffer i is iov[i] (pinned until uring_exit()): 0 or -errno. */
int uring_register_buffers(struct uring *u, const struct iovec *iov,
			   unsigned int n);
/* Queue a write (@fixed: its buffer index, or -1 for a plain write). */
void uring_write(struct uring *u, int fd, const void *buf, unsigned int len,
		 uint64_t off, int fixed, uint64_t user_data);
/* Queue a read into @buf (@fixed as for uring_write()), or into @n iovecs. */
void uring_read(struct uring *u, int fd, void *buf, unsigned int len,
		uint64_t off, int fixed, uint64_t user_data);
void uring_readv(struct uring *u, int fd, const struct iovec *iov,
		 unsigned int n, uint64_t off, uint64_t user_data);
/* The buffer of @bufs[0..n) holding [p, p + len): its index, or -1. */
int uring_fixed_index(const struct iovec *bufs, unsigned int n, const void *p,
		      size_t len);
/* Submit what is queued and wait for @wait completions: 0 or -errno. */
int uring_submit(struct uring *u, unsigned int wait);
/* One completion: 1 (taken), 0 (none yet). */
int uring_reap(struct uring *u, uint64_t *user_data, int32_t *res);

#endif
