// SPDX-License-Identifier: GPL-2.0
/* resmem dump: bytes of a region, as `hexdump -C` would show them, or raw. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define DUMP_CHUNK (1u << 20)

static const struct cli_usage dump_usage = {
	.usage = "resmem dump NAME --length LEN [options]",
	.about =
		"Shows LEN bytes from region offset OFF (default 0) like `hexdump -C`, with\n"
		"region-relative addresses and '*' for repeated lines.",
};

struct dump_ctx {
	int raw;
	unsigned char *bounce; /* DUMP_CHUNK bytes */
	unsigned char line[16], prev[16];
	size_t nline;
	uint64_t line_off;
	int have_prev, starred;
	int werr;
};

/*
 * Copy out of a possibly uncached mapping with aligned loads only (memcpy
 * may issue unaligned ones, which fault on device memory).
 */
static void copy_out(unsigned char *dst, const void *src, size_t len)
{
	const volatile unsigned char *s = src;
	size_t i = 0;

	while (i < len && ((uintptr_t)(s + i) & 7))
		dst[i] = s[i], i++;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = *(const volatile uint64_t *)(s + i);

		memcpy(dst + i, &w, 8);
	}
	for (; i < len; i++)
		dst[i] = s[i];
}

static void print_line(const unsigned char *b, size_t n, uint64_t off)
{
	size_t i;

	printf("%08" PRIx64 " ", off);
	for (i = 0; i < 16; i++) {
		if (i == 8)
			putchar(' ');
		if (i < n)
			printf(" %02x", b[i]);
		else
			printf("   ");
	}
	printf("  |");
	for (i = 0; i < n; i++)
		putchar(b[i] >= 0x20 && b[i] < 0x7f ? b[i] : '.');
	printf("|\n");
}

static void flush_line(struct dump_ctx *c)
{
	if (c->nline == 16 && c->have_prev && !memcmp(c->line, c->prev, 16)) {
		if (!c->starred)
			printf("*\n");
		c->starred = 1;
	} else {
		print_line(c->line, c->nline, c->line_off);
		c->starred = 0;
	}
	memcpy(c->prev, c->line, 16);
	c->have_prev = c->nline == 16;
	c->line_off += c->nline;
	c->nline = 0;
}

static int dump_chunk(void *buf, uint64_t off, size_t len, void *arg)
{
	struct dump_ctx *c = arg;
	size_t i;

	(void)off;
	copy_out(c->bounce, buf, len);
	if (c->raw) {
		if (fwrite(c->bounce, 1, len, stdout) != len) {
			c->werr = errno ? errno : EIO;
			return 1;
		}
		return 0;
	}
	for (i = 0; i < len; i++) {
		c->line[c->nline++] = c->bounce[i];
		if (c->nline == 16)
			flush_line(c);
	}
	return 0;
}

int cmd_dump(int argc, char **argv)
{
	struct resmem_walk_opts wo = { .chunk = DUMP_CHUNK };
	struct window_args w = { .via = RESMEM_VIA_MMAP };
	int force = 0;
	const struct cli_option options[] = {
		WINDOW_OPTIONS(&w.off, &w.len, &w.have_len),
		OPT_FLAG("raw", &w.raw, "write the bytes themselves to stdout"),
		OPT_FLAG(
			"force", &force,
			"--raw even when stdout is a terminal (refused without)"),
		OPT_VIA("mmap|read", &w.via,
			"read: use pread() instead of mmap (default mmap)"),
		OPT_END(),
	};
	struct resmem_region *r;
	struct dump_ctx ctx;
	int ret, err;

	ret = parse_options("dump", &dump_usage, options, argc, argv);
	if (ret == GO_ON)
		ret = window_operands("dump", 0, argc, argv, &w);
	if (ret != GO_ON)
		return ret;
	wo.via = w.via;
	memset(&ctx, 0, sizeof(ctx));
	ctx.raw = w.raw;
	if (!w.have_len)
		return usage_error("dump",
				   "--length is required (e.g. --length 256)");
	if (w.raw && !force && refuse_binary_tty("dump", STDOUT_FILENO))
		return EXIT_USAGE;

	err = resmem_open(w.name, 0, &r);
	if (err)
		return region_error(w.name, NULL, err);
	if (resolve_range("dump", resmem_region_get_info(r), 1, w.off,
			  &w.len)) {
		resmem_close(r);
		return EXIT_USAGE;
	}
	ctx.bounce = malloc(DUMP_CHUNK);
	if (!ctx.bounce) {
		resmem_close(r);
		return sys_error("cannot allocate", "a buffer", -ENOMEM);
	}
	ctx.line_off = w.off;
	err = resmem_walk(r, w.off, w.len, &wo, dump_chunk, &ctx);
	free(ctx.bounce);
	if (err == 1)
		err = sys_error("cannot write", "stdout", -ctx.werr);
	else if (err)
		err = walk_error(r, &wo, err);
	resmem_close(r);
	if (err)
		return err;
	if (!ctx.raw && w.len) {
		if (ctx.nline)
			flush_line(&ctx);
		printf("%08" PRIx64 "\n", w.off + w.len);
	}
	if (fflush(stdout))
		return sys_error("cannot write", "stdout", -errno);
	return EXIT_OK;
}
