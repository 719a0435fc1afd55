/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel names for userspace builds of code written once for the module
 * and libresmem (include/resmem/), as tools/include provides them for perf
 * and libbpf.  Header fields are accessed with atomic builtins: the
 * barriers of docs/ring-format.md.
 */
#ifndef RESMEM_KCOMPAT_H
#define RESMEM_KCOMPAT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;

#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define smp_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
/* Earlier stores before later stores (and loads). */
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
/* Earlier loads before later loads. */
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)

#endif
