// SPDX-License-Identifier: GPL-2.0
/*
 * physpoke: writes or reads bytes at a physical address through /dev/mem,
 * with aligned 64-bit accesses (safe on uncached arm64 mappings), so the
 * harness can prove its host-side witness without resmem loaded.
 *   physpoke write ADDR HEXBYTES     (length a multiple of 8, ADDR 8-aligned)
 *   physpoke read ADDR LEN           (prints hex)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "write") && strcmp(argv[1], "read"))) {
		fprintf(stderr, "usage: physpoke write ADDR HEXBYTES | physpoke read ADDR LEN\n");
		return 2;
	}
	int wr = !strcmp(argv[1], "write");
	uint64_t addr = strtoull(argv[2], NULL, 0);
	size_t len = wr ? strlen(argv[3]) / 2 : strtoull(argv[3], NULL, 0);
	long pg = sysconf(_SC_PAGESIZE);

	if (addr % 8 || len % 8 || !len) {
		fprintf(stderr, "physpoke: address and length must be 8-byte aligned and non-zero\n");
		return 2;
	}
	int fd = open("/dev/mem", O_RDWR | O_SYNC);

	if (fd < 0) {
		fprintf(stderr, "physpoke: open /dev/mem: %s\n", strerror(errno));
		return 1;
	}
	uint64_t base = addr & ~(uint64_t)(pg - 1);
	size_t maplen = (size_t)(addr - base) + len;
	void *p = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)base);

	if (p == MAP_FAILED) {
		fprintf(stderr, "physpoke: mmap /dev/mem at 0x%llx: %s\n", (unsigned long long)base,
			strerror(errno));
		return 1;
	}
	volatile uint64_t *w = (volatile uint64_t *)((char *)p + (addr - base));

	for (size_t i = 0; i < len / 8; i++) {
		uint64_t v = 0;

		if (wr) {
			for (int b = 7; b >= 0; b--) {
				int hi = hexval(argv[3][(i * 8 + b) * 2]);
				int lo = hexval(argv[3][(i * 8 + b) * 2 + 1]);

				if (hi < 0 || lo < 0) {
					fprintf(stderr, "physpoke: bad hex\n");
					return 2;
				}
				v = v << 8 | (uint64_t)(hi << 4 | lo);
			}
			w[i] = v;
		} else {
			v = w[i];
			for (int b = 0; b < 8; b++)
				printf("%02x", (unsigned)(v >> (8 * b)) & 0xff);
		}
	}
	if (!wr)
		printf("\n");
	munmap(p, maplen);
	close(fd);
	return 0;
}
