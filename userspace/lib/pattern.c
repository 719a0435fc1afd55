// SPDX-License-Identifier: GPL-2.0
/*
 * Test patterns.  "seq:SEED" gives every 8-byte word of the region its own
 * value (splitmix64's finaliser of SEED ^ word offset), so misplaced,
 * aliased or stale data is caught, and a second program (the tests'
 * Python) can compute the expected bytes from the physical offset alone.
 *
 * Mapped device memory may be uncached: only naturally aligned accesses
 * through volatile pointers touch it here, never memset/memcmp (which may
 * use unaligned or cache-zeroing instructions that fault on such memory).
 */
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "libresmem.h"

int resmem_pattern_parse(const char *s, struct resmem_pattern *p)
{
	const char *end;
	uint64_t v;
	int err;

	if (!s)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	if (!strcasecmp(s, "zero")) {
		p->kind = RESMEM_PATTERN_BYTE;
		return 0;
	}
	if (!strncasecmp(s, "seq:", 4)) {
		if (!isdigit((unsigned char)s[4]))
			return -EINVAL;
		err = rm_parse_u64(s + 4, 0, &v, &end);
		if (err)
			return err;
		if (*end)
			return -EINVAL;
		p->kind = RESMEM_PATTERN_SEQ;
		p->seed = v;
		return 0;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
	    isxdigit((unsigned char)s[2])) {
		err = rm_parse_u64(s + 2, 16, &v, &end);
		if (err)
			return err;
		if (*end)
			return -EINVAL;
		if (v > 0xff)
			return -ERANGE;
		p->kind = RESMEM_PATTERN_BYTE;
		p->byte = (uint8_t)v;
		return 0;
	}
	return -EINVAL;
}

char *resmem_pattern_format(const struct resmem_pattern *p, char *buf,
			    size_t len)
{
	if (p->kind == RESMEM_PATTERN_SEQ)
		snprintf(buf, len, "seq:0x%llx", (unsigned long long)p->seed);
	else if (p->byte == 0)
		snprintf(buf, len, "zero");
	else
		snprintf(buf, len, "0x%02x", p->byte);
	return buf;
}

uint64_t resmem_seq_word(uint64_t seed, uint64_t word_off)
{
	uint64_t x = seed ^ word_off;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint8_t resmem_pattern_byte(const struct resmem_pattern *p, uint64_t off)
{
	if (p->kind == RESMEM_PATTERN_BYTE)
		return p->byte;
	return (uint8_t)(resmem_seq_word(p->seed, off & ~7ULL) >>
			 (8 * (off & 7)));
}

/* The 8 bytes at region offset @off (a multiple of 8), in memory order. */
static uint64_t pattern_word(const struct resmem_pattern *p, uint64_t off)
{
	if (p->kind == RESMEM_PATTERN_BYTE)
		return 0x0101010101010101ULL * p->byte;
	return htole64(resmem_seq_word(p->seed, off));
}

/* Bytes before the first aligned word; all of them if buffer and offset
 * disagree on alignment (words would straddle then). */
static size_t head_bytes(const void *buf, uint64_t off, size_t len)
{
	size_t head;

	if (((uintptr_t)buf ^ off) & 7)
		return len;
	head = (8 - (off & 7)) & 7;
	return head < len ? head : len;
}

void resmem_pattern_fill(const struct resmem_pattern *p, void *buf,
			 uint64_t off, size_t len)
{
	volatile uint8_t *b = buf;
	volatile uint64_t *w;
	size_t i, head = head_bytes(buf, off, len);

	for (i = 0; i < head; i++)
		b[i] = resmem_pattern_byte(p, off + i);
	w = (volatile uint64_t *)(b + i);
	if (p->kind == RESMEM_PATTERN_BYTE) {
		uint64_t v = pattern_word(p, 0);

		for (; i + 8 <= len; i += 8)
			*w++ = v;
	} else {
		for (; i + 8 <= len; i += 8)
			*w++ = pattern_word(p, off + i);
	}
	for (; i < len; i++)
		b[i] = resmem_pattern_byte(p, off + i);
}

static void note_bad(struct resmem_mismatch *m, uint64_t off, uint8_t exp,
		     uint8_t act)
{
	if (!m->bad_bytes) {
		m->first_off = off;
		m->expected = exp;
		m->actual = act;
	}
	m->last_off = off;
	m->bad_bytes++;
}

uint64_t resmem_pattern_compare(const struct resmem_pattern *p, const void *buf,
				uint64_t off, size_t len,
				struct resmem_mismatch *m)
{
	const volatile uint8_t *b = buf;
	const volatile uint64_t *w;
	uint64_t before = m->bad_bytes;
	size_t i, head = head_bytes(buf, off, len);

	for (i = 0; i < head; i++) {
		uint8_t e = resmem_pattern_byte(p, off + i), a = b[i];

		if (a != e)
			note_bad(m, off + i, e, a);
	}
	w = (const volatile uint64_t *)(b + i);
	for (; i + 8 <= len; i += 8) {
		uint64_t a = *w++, e = pattern_word(p, off + i);

		if (a != e) {
			/* look at the word's bytes in memory order */
			uint8_t ab[8], eb[8];
			int k;

			memcpy(ab, &a, 8);
			memcpy(eb, &e, 8);
			for (k = 0; k < 8; k++)
				if (ab[k] != eb[k])
					note_bad(m, off + i + k, eb[k], ab[k]);
		}
	}
	for (; i < len; i++) {
		uint8_t e = resmem_pattern_byte(p, off + i), a = b[i];

		if (a != e)
			note_bad(m, off + i, e, a);
	}
	return m->bad_bytes - before;
}
