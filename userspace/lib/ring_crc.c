// SPDX-License-Identifier: GPL-2.0
/* CRC32C (Castagnoli), slice-by-8 with static tables; no global state. */
#include <string.h>

#include "libresmem.h"
#include "ring_crc_table.h"
#include "ring_internal.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the ring format and these tables are little-endian");

static uint32_t crc_bytes(uint32_t c, const unsigned char *p, size_t len)
{
	while (len--)
		c = crc32c_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

/* Eight bytes as a little-endian word (the tables assume that order). */
static uint32_t crc_word(uint32_t c, uint64_t w)
{
	uint32_t lo, hi;

	lo = (uint32_t)w ^ c;
	hi = (uint32_t)(w >> 32);
	return crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
	       crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
	       crc32c_table[3][hi & 0xff] ^ crc32c_table[2][(hi >> 8) & 0xff] ^
	       crc32c_table[1][(hi >> 16) & 0xff] ^ crc32c_table[0][hi >> 24];
}

uint32_t resmem_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t c = ~crc;
	uint64_t w;

	while (len && ((uintptr_t)p & 7)) {
		c = crc_bytes(c, p++, 1);
		len--;
	}
	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8);
		c = crc_word(c, w);
	}
	return ~crc_bytes(c, p, len);
}

uint32_t ring_mem_crc32c(uint32_t crc, const void *p, uint64_t len)
{
	const volatile uint64_t *s = (const volatile uint64_t *)p;
	uint32_t c = ~crc;
	uint64_t w;

	for (; len >= 8; len -= 8)
		c = crc_word(c, *s++);
	if (len) {
		w = *s;
		c = crc_bytes(c, (const unsigned char *)&w, len);
	}
	return ~c;
}
