// SPDX-License-Identifier: GPL-2.0
/*
 * streamcheck: checks a byte stream on stdin against pattern seq:SEED from
 * stream offset 0 (docs/cli.md "Patterns"), written independently of
 * libresmem, so `resmem drain --follow | streamcheck SEED` proves every
 * drained byte without storing the stream.
 *   streamcheck SEED
 * Prints "streamcheck: BYTES bytes, BAD bad bytes[, first bad at OFF]";
 * exit 0 when every byte matched, 1 otherwise, 2 on a read error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t word(uint64_t seed, uint64_t w)
{
	uint64_t x = seed ^ w;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

int main(int argc, char **argv)
{
	static unsigned char buf[1 << 20];
	uint64_t seed, off = 0, bad = 0, first_bad = UINT64_MAX, w;
	size_t have = 0, i;
	ssize_t n;
	int eof = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: streamcheck SEED\n");
		return 2;
	}
	seed = strtoull(argv[1], NULL, 0);
	while (!eof) {
		n = read(0, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("streamcheck: read");
			return 2;
		}
		if (n == 0)
			eof = 1;
		have += (size_t)n;
		/* whole words; at EOF the partial last word too */
		for (i = 0; i + 8 <= have || (eof && i < have); i += 8) {
			size_t k, m = have - i < 8 ? have - i : 8;

			w = word(seed, off + i);
			for (k = 0; k < m; k++) {
				if (buf[i + k] != (unsigned char)(w >> (8 * k))) {
					bad++;
					if (first_bad == UINT64_MAX)
						first_bad = off + i + k;
				}
			}
		}
		if (i > have)
			i = have;
		off += i;
		memmove(buf, buf + i, have - i);
		have -= i;
	}
	printf("streamcheck: %" PRIu64 " bytes, %" PRIu64 " bad bytes", off, bad);
	if (bad)
		printf(", first bad at %" PRIu64, first_bad);
	printf("\n");
	return bad || !off ? 1 : 0;
}
