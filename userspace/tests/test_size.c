// SPDX-License-Identifier: GPL-2.0
/* resmem_parse_size / resmem_format_size: syntax, suffixes, overflow. */
#include <errno.h>
#include <string.h>

#include "test.h"

void test_size(const struct test_env *env)
{
	static const struct {
		const char *in;
		int err;
		uint64_t out;
	} cases[] = {
		{ "4096", 0, 4096 },
		{ "0", 0, 0 },
		{ "010", 0, 10 },			/* decimal, not octal */
		{ "0x100000000", 0, 0x100000000ULL },
		{ "0X1F", 0, 0x1f },
		{ "8G", 0, 8ULL << 30 },
		{ "8g", 0, 8ULL << 30 },
		{ "512k", 0, 512ULL << 10 },
		{ "512K", 0, 512ULL << 10 },
		{ "3m", 0, 3ULL << 20 },
		{ "1T", 0, 1ULL << 40 },
		{ "0x1g", 0, 1ULL << 30 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "0xffffffffffffffff", 0, UINT64_MAX },
		{ "16777215T", 0, 16777215ULL << 40 },
		{ "17179869183G", 0, 17179869183ULL << 30 },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "0x10000000000000000", -ERANGE, 0 },
		{ "16777216T", -ERANGE, 0 },		/* exactly 2^64 */
		{ "17179869184G", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "G", -EINVAL, 0 },
		{ "8GB", -EINVAL, 0 },
		{ "8GiB", -EINVAL, 0 },
		{ "8P", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 },
		{ "0x", -EINVAL, 0 },
		{ "0xg", -EINVAL, 0 },
		{ "1.5G", -EINVAL, 0 },
		{ "12abc", -EINVAL, 0 },
	};
	static const struct {
		uint64_t in;
		const char *out;
	} human[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.0 KiB" }, { 1536, "1.5 KiB" },
		{ 4096, "4.0 KiB" }, { 8ULL << 30, "8.0 GiB" }, { (8ULL << 30) + (1ULL << 29), "8.5 GiB" },
		{ 1048575, "1.0 MiB" }, { 1ULL << 40, "1.0 TiB" }, { UINT64_MAX, "16.0 EiB" },
	};
	size_t i;
	char buf[32];

	(void)env;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0xdead;
		int err = resmem_parse_size(cases[i].in, &v);

		CHECK(err == cases[i].err, "parse_size(\"%s\") = %d, want %d", cases[i].in, err, cases[i].err);
		if (!cases[i].err)
			CHECK(v == cases[i].out, "parse_size(\"%s\") = %llu, want %llu", cases[i].in,
			      (unsigned long long)v, (unsigned long long)cases[i].out);
		else
			CHECK(v == 0xdead, "parse_size(\"%s\") wrote its output on failure", cases[i].in);
	}
	CHECK(resmem_parse_size(NULL, &(uint64_t){0}) == -EINVAL);
	for (i = 0; i < sizeof(human) / sizeof(human[0]); i++) {
		resmem_format_size(human[i].in, buf, sizeof(buf));
		CHECK(!strcmp(buf, human[i].out), "format_size(%llu) = \"%s\", want \"%s\"",
		      (unsigned long long)human[i].in, buf, human[i].out);
	}
}
