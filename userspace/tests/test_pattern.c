// SPDX-License-Identifier: GPL-2.0
/*
 * Patterns.  The expected values were computed independently in Python
 * (not with this C code):
 *   M = (1 << 64) - 1
 *   def w(S, o):
 *       x = (S ^ o) & M
 *       x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & M
 *       x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M
 *       return x ^ (x >> 31)
 *   def b(S, o): return w(S, o & ~7).to_bytes(8, 'little')[o & 7]
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static const struct { uint64_t seed, off, word; } words[] = {
	{ 0x0000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000000ULL },
	{ 0x0000000000000000ULL, 0x0000000000000008ULL, 0xd56b1fbb9ceba9e8ULL },
	{ 0x0000000000000000ULL, 0x0000000000001000ULL, 0xf06041805d06b780ULL },
	{ 0x0000000000000000ULL, 0x0000000100000000ULL, 0xd820b7e910b0f93fULL },
	{ 0x0000000000000000ULL, 0xfffffffffffffff8ULL, 0x8716bdb3fc667eb7ULL },
	{ 0x0000000000000001ULL, 0x0000000000000000ULL, 0x5692161d100b05e5ULL },
	{ 0x0000000000000001ULL, 0x0000000000000008ULL, 0x826c6abf7fdd5ad7ULL },
	{ 0x0000000000000001ULL, 0x0000000000001000ULL, 0xa91d2b62d93b4a5bULL },
	{ 0x0000000000000001ULL, 0x0000000100000000ULL, 0x106e11b2223f6961ULL },
	{ 0x0000000000000001ULL, 0xfffffffffffffff8ULL, 0xdb9c3218f1acf6f3ULL },
	{ 0x0000000000001234ULL, 0x0000000000000000ULL, 0xbbab031d6fc0f336ULL },
	{ 0x0000000000001234ULL, 0x0000000000000008ULL, 0x5af8d59f1e52e052ULL },
	{ 0x0000000000001234ULL, 0x0000000000001000ULL, 0x00bc30ba1d453dffULL },
	{ 0x0000000000001234ULL, 0x0000000100000000ULL, 0x6c13468bfe9bf336ULL },
	{ 0x0000000000001234ULL, 0xfffffffffffffff8ULL, 0xf0e2948c4a88ea5bULL },
	{ 0xffffffffffffffffULL, 0x0000000000000000ULL, 0xb4d055fcf2cbbd7bULL },
	{ 0xffffffffffffffffULL, 0x0000000000000008ULL, 0xba93d0202b42c05eULL },
	{ 0xffffffffffffffffULL, 0x0000000000001000ULL, 0x845686ed35c646dbULL },
	{ 0xffffffffffffffffULL, 0x0000000100000000ULL, 0xf204b15d98f6f2d6ULL },
	{ 0xffffffffffffffffULL, 0xfffffffffffffff8ULL, 0x12ae30237b17df14ULL },
	{ 0xdeadbeefcafebabeULL, 0x0000000000000000ULL, 0x7ad6664f09ffe52cULL },
	{ 0xdeadbeefcafebabeULL, 0x0000000000000008ULL, 0x96d0afedbab02e0dULL },
	{ 0xdeadbeefcafebabeULL, 0x0000000000001000ULL, 0x206357e4c4a49ab8ULL },
	{ 0xdeadbeefcafebabeULL, 0x0000000100000000ULL, 0x71d338c8df3e8f16ULL },
	{ 0xdeadbeefcafebabeULL, 0xfffffffffffffff8ULL, 0x52015d1a0f9b62d9ULL },
};

/* bytes(b(42, o) for o in range(4093, 4093 + 21)): crosses a page, unaligned */
static const uint8_t seq42_at_4093[21] = {
	0x69, 0x74, 0xfb, 0x1a, 0x5b, 0x1d, 0x9f, 0x39, 0xdc, 0x2d, 0x04,
	0x1a, 0xce, 0x7a, 0xad, 0x94, 0x2e, 0x4f, 0x73, 0x10, 0x47,
};

static void test_parse(void)
{
	static const struct {
		const char *in;
		int err;
		enum resmem_pattern_kind kind;
		uint8_t byte;
		uint64_t seed;
		const char *canon;
	} cases[] = {
		{ "0xAB", 0, RESMEM_PATTERN_BYTE, 0xab, 0, "0xab" },
		{ "0xab", 0, RESMEM_PATTERN_BYTE, 0xab, 0, "0xab" },
		{ "0x5", 0, RESMEM_PATTERN_BYTE, 0x05, 0, "0x05" },
		{ "0xff", 0, RESMEM_PATTERN_BYTE, 0xff, 0, "0xff" },
		{ "0x00", 0, RESMEM_PATTERN_BYTE, 0, 0, "zero" },
		{ "zero", 0, RESMEM_PATTERN_BYTE, 0, 0, "zero" },
		{ "ZERO", 0, RESMEM_PATTERN_BYTE, 0, 0, "zero" },
		{ "seq:1", 0, RESMEM_PATTERN_SEQ, 0, 1, "seq:0x1" },
		{ "seq:0x10", 0, RESMEM_PATTERN_SEQ, 0, 16, "seq:0x10" },
		{ "seq:18446744073709551615", 0, RESMEM_PATTERN_SEQ, 0, UINT64_MAX, "seq:0xffffffffffffffff" },
		{ "seq:0xdeadbeefcafebabe", 0, RESMEM_PATTERN_SEQ, 0, 0xdeadbeefcafebabeULL, "seq:0xdeadbeefcafebabe" },
		{ "seq:18446744073709551616", -ERANGE, 0, 0, 0, NULL },
		{ "seq:0x10000000000000000", -ERANGE, 0, 0, 0, NULL },
		{ "0x100", -ERANGE, 0, 0, 0, NULL },
		{ "seq:", -EINVAL, 0, 0, 0, NULL },
		{ "seq:x", -EINVAL, 0, 0, 0, NULL },
		{ "seq:1x", -EINVAL, 0, 0, 0, NULL },
		{ "seq:-1", -EINVAL, 0, 0, 0, NULL },
		{ "0x", -EINVAL, 0, 0, 0, NULL },
		{ "0xZZ", -EINVAL, 0, 0, 0, NULL },
		{ "AB", -EINVAL, 0, 0, 0, NULL },
		{ "171", -EINVAL, 0, 0, 0, NULL },
		{ "", -EINVAL, 0, 0, 0, NULL },
		{ "zeros", -EINVAL, 0, 0, 0, NULL },
	};
	struct resmem_pattern p;
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = resmem_pattern_parse(cases[i].in, &p);

		CHECK(err == cases[i].err, "pattern_parse(\"%s\") = %d, want %d", cases[i].in, err, cases[i].err);
		if (err || cases[i].err)
			continue;
		CHECK(p.kind == cases[i].kind, "\"%s\"", cases[i].in);
		if (p.kind == RESMEM_PATTERN_BYTE)
			CHECK(p.byte == cases[i].byte, "\"%s\" byte 0x%02x", cases[i].in, p.byte);
		else
			CHECK(p.seed == cases[i].seed, "\"%s\"", cases[i].in);
		resmem_pattern_format(&p, buf, sizeof(buf));
		CHECK(!strcmp(buf, cases[i].canon), "format(\"%s\") = \"%s\"", cases[i].in, buf);
	}
}

static void test_known_answers(void)
{
	struct resmem_pattern p = { .kind = RESMEM_PATTERN_SEQ };
	size_t i;
	int k;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		uint64_t got = resmem_seq_word(words[i].seed, words[i].off);

		CHECK(got == words[i].word, "seq_word(0x%llx, 0x%llx) = 0x%016llx, want 0x%016llx",
		      (unsigned long long)words[i].seed, (unsigned long long)words[i].off,
		      (unsigned long long)got, (unsigned long long)words[i].word);
		/* byte k of the word, little-endian, at every offset inside it */
		p.seed = words[i].seed;
		for (k = 0; k < 8; k++)
			CHECK(resmem_pattern_byte(&p, words[i].off + (uint64_t)k) ==
			      (uint8_t)(words[i].word >> (8 * k)), "byte %d of case %zu", k, i);
	}
	p.seed = 42;
	for (i = 0; i < sizeof(seq42_at_4093); i++)
		CHECK(resmem_pattern_byte(&p, 4093 + i) == seq42_at_4093[i], "seq:42 byte at %zu", 4093 + i);
}

/* The fast word path must give the same bytes as the per-byte definition,
 * for every alignment of buffer and region offset. */
static void test_fill_paths(void)
{
	struct resmem_pattern seq = { .kind = RESMEM_PATTERN_SEQ, .seed = 0xdeadbeefcafebabeULL };
	struct resmem_pattern ab = { .kind = RESMEM_PATTERN_BYTE, .byte = 0xab };
	uint8_t *mem = aligned_alloc(64, 4096);
	uint8_t got[21];
	unsigned boff, head, bad = 0;
	size_t len, i;

	for (boff = 0; boff < 8; boff++) {
		for (head = 0; head < 8; head++) {
			uint64_t off = 0x100000000ULL + head;

			for (len = 0; len <= 70; len += 7) {
				memset(mem, 0x5a, 4096);
				resmem_pattern_fill(&seq, mem + boff, off, len);
				for (i = 0; i < len; i++)
					bad += mem[boff + i] != resmem_pattern_byte(&seq, off + i);
				/* nothing outside [boff, boff + len) */
				for (i = 0; i < boff; i++)
					bad += mem[i] != 0x5a;
				bad += mem[boff + len] != 0x5a;
			}
		}
	}
	CHECK(bad == 0, "%u bytes wrong across alignments", bad);

	/* against the Python vector, through the fill path */
	memset(mem, 0, 4096);
	seq.seed = 42;
	resmem_pattern_fill(&seq, mem + 3, 4093, sizeof(got));
	memcpy(got, mem + 3, sizeof(got));
	CHECK(!memcmp(got, seq42_at_4093, sizeof(got)), "fill at 4093 differs from the Python vector");

	memset(mem, 0, 4096);
	resmem_pattern_fill(&ab, mem + 1, 7, 100);
	for (i = 0, bad = 0; i < 100; i++)
		bad += mem[1 + i] != 0xab;
	CHECK(bad == 0 && mem[0] == 0 && mem[101] == 0, "0xab fill");
	free(mem);
}

static void test_compare(void)
{
	struct resmem_pattern seq = { .kind = RESMEM_PATTERN_SEQ, .seed = 7 };
	struct resmem_pattern z = { .kind = RESMEM_PATTERN_BYTE, .byte = 0 };
	struct resmem_mismatch m;
	uint8_t *mem = aligned_alloc(64, 8192);
	uint64_t base = 0x2000;		/* region offset of mem[0] */

	resmem_pattern_fill(&seq, mem, base, 8192);
	memset(&m, 0, sizeof(m));
	CHECK(resmem_pattern_compare(&seq, mem, base, 8192, &m) == 0 && m.bad_bytes == 0);

	/* the same bytes at the wrong offset must not match */
	memset(&m, 0, sizeof(m));
	CHECK(resmem_pattern_compare(&seq, mem, base + 8, 64, &m) > 0, "shifted data matched");

	mem[100] ^= 0x01;
	mem[101] ^= 0xff;
	mem[8000] = (uint8_t)(resmem_pattern_byte(&seq, base + 8000) + 1);
	memset(&m, 0, sizeof(m));
	/* two calls, split in the middle of a word, accumulate */
	CHECK(resmem_pattern_compare(&seq, mem, base, 101, &m) == 1);
	CHECK(resmem_pattern_compare(&seq, mem + 101, base + 101, 8192 - 101, &m) == 2);
	CHECK(m.bad_bytes == 3, "bad_bytes %llu", (unsigned long long)m.bad_bytes);
	CHECK(m.first_off == base + 100, "first_off 0x%llx", (unsigned long long)m.first_off);
	CHECK(m.expected == resmem_pattern_byte(&seq, base + 100) && m.actual == (m.expected ^ 0x01));
	CHECK(m.last_off == base + 8000, "last_off 0x%llx", (unsigned long long)m.last_off);

	/* unaligned buffer vs offset takes the byte path: same answer */
	memset(&m, 0, sizeof(m));
	CHECK(resmem_pattern_compare(&seq, mem + 1, base + 1, 200, &m) == 2 && m.first_off == base + 100);

	memset(mem, 0, 64);
	mem[63] = 0x80;
	memset(&m, 0, sizeof(m));
	CHECK(resmem_pattern_compare(&z, mem, 0, 64, &m) == 1 && m.first_off == 63 &&
	      m.expected == 0 && m.actual == 0x80);
	free(mem);
}

void test_pattern(const struct test_env *env)
{
	(void)env;
	test_parse();
	test_known_answers();
	test_fill_paths();
	test_compare();
}
