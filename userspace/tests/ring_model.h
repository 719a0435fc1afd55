/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the ring tests: deterministic record contents and ring setup. */
#ifndef RESMEM_RING_MODEL_H
#define RESMEM_RING_MODEL_H

#include <stdint.h>
#include <string.h>

#include "libresmem.h"

/* Length of record @seq in a stream with at most @max payload bytes. */
static inline uint32_t model_len(uint64_t seed, uint64_t seq, uint32_t max)
{
	return (uint32_t)(resmem_seq_word(seed ^ 0x5eed, seq * 8) % (max + 1ULL));
}

/* Payload of record @seq: the seq:(seed+seq) pattern from offset 0. */
static inline void model_fill(uint64_t seed, uint64_t seq, void *buf, uint32_t len)
{
	struct resmem_pattern p = { .kind = RESMEM_PATTERN_SEQ, .seed = seed + seq };

	resmem_pattern_fill(&p, buf, 0, len);
}

static inline int model_check(uint64_t seed, uint64_t seq, const void *buf, uint32_t len,
			      uint32_t max)
{
	unsigned char want[4096];

	if (len != model_len(seed, seq, max) || len > sizeof(want))
		return 0;
	model_fill(seed, seq, want, len);
	return !memcmp(want, buf, len);
}

/* Produce record @seq of the model stream.  Returns the library's result. */
static inline int model_produce(struct resmem_ring *r, uint64_t seed, uint64_t seq, uint32_t max)
{
	unsigned char buf[4096];
	uint32_t len = model_len(seed, seq, max);

	model_fill(seed, seq, buf, len);
	return resmem_ring_write(r, buf, len);
}

#endif
