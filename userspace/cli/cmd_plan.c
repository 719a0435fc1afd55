// SPDX-License-Identifier: GPL-2.0
/*
 * resmem plan: suggest a memmap=SIZE$ADDR that lies inside usable RAM
 * according to the firmware, with the escaping each boot loader file needs.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <strings.h>

#include "cli.h"

#define GiB		(1ULL << 30)
#define LOW_FLOOR	(256ULL << 20)	/* below: kernel image, initrd, DMA zones */

void help_plan(FILE *f)
{
	fprintf(f,
		"usage: resmem plan SIZE [--align A] [--firmware-memmap DIR]\n"
		"\n"
		"Suggests memmap=SIZE$ADDR inside a System RAM range of the firmware map\n"
		"(x86: /sys/firmware/memmap), preferring the lowest address at or above\n"
		"4 GiB, aligned to A (default: 1G, or SIZE rounded down to a power of two\n"
		"when smaller), and prints it for the command line, grub.cfg and\n"
		"/etc/default/grub.  Exit 0 with a suggestion, 1 if nothing fits.\n");
}

static uint64_t default_align(uint64_t size)
{
	uint64_t a = GiB;

	while (a > 4096 && a > size)
		a >>= 1;
	return a;
}

/* Lowest A-aligned start >= floor inside a RAM entry that fits @size. */
static int find(const struct resmem_fwmap *fw, size_t n, uint64_t size, uint64_t align,
		uint64_t floor, uint64_t *addr, size_t *which)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t s = fw[i].start > floor ? fw[i].start : floor;

		if (strcasecmp(fw[i].type, "System RAM") || fw[i].end < s)
			continue;
		if (s > UINT64_MAX - align)
			continue;
		s = (s + align - 1) / align * align;
		if (s < fw[i].start || s > fw[i].end || fw[i].end - s < size - 1)
			continue;
		*addr = s;
		*which = i;
		return 1;
	}
	return 0;
}

int cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "align", required_argument, NULL, 'a' },
		{ "firmware-memmap", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *fw_dir = "/sys/firmware/memmap";
	struct resmem_fwmap *fw;
	uint64_t size, align = 0, addr, ram = 0, largest = 0;
	size_t n, i, which;
	char sz[32], ad[32], human[32];
	int c, err, low = 0;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (parse_size_opt("plan", "--align", optarg, &align))
				return EXIT_USAGE;
			if (!align || (align & (align - 1)))
				return usage_error("plan", "--align %s: use a power of two", optarg);
			break;
		case 'f': fw_dir = optarg; break;
		case 'h': help_plan(stdout); return EXIT_OK;
		default: return bad_option("plan", c, argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return usage_error("plan", "expected SIZE (e.g. 8G)");
	if (parse_size_opt("plan", "SIZE", argv[optind], &size))
		return EXIT_USAGE;
	if (size < 4096 || size % 4096)
		return usage_error("plan", "SIZE %s: use a nonzero multiple of 4K", argv[optind]);
	if (!align)
		align = default_align(size);

	err = resmem_fwmap_read(fw_dir, &fw, &n);
	if (err == -ENOENT) {
		fprintf(stderr, "resmem: no firmware memory map at %s: memmap= planning needs x86; "
			"elsewhere use a /reserved-memory devicetree node or the module's regions= parameter\n",
			fw_dir);
		return EXIT_SYSTEM;
	}
	if (err)
		return sys_error("cannot read", fw_dir, err);

	for (i = 0; i < n; i++) {
		if (strcasecmp(fw[i].type, "System RAM"))
			continue;
		ram += fw[i].end - fw[i].start + 1;
		if (fw[i].end - fw[i].start + 1 > largest)
			largest = fw[i].end - fw[i].start + 1;
	}
	if (!find(fw, n, size, align, 4 * GiB, &addr, &which)) {
		low = 1;
		if (!find(fw, n, size, align, LOW_FLOOR, &addr, &which)) {
			resmem_format_size(largest, human, sizeof(human));
			printf("no System RAM range in the firmware map fits %s aligned to 0x%" PRIx64
			       " (largest: %s): use a smaller SIZE or --align\n", argv[optind], align, human);
			free(fw);
			return EXIT_PROBLEM;
		}
	}
	format_memparse(size, sz, sizeof(sz));
	format_memparse(addr, ad, sizeof(ad));
	printf("memmap=%s$%s\n", sz, ad);
	resmem_format_size(fw[which].end - fw[which].start + 1, human, sizeof(human));
	printf("  range 0x%" PRIx64 "-0x%" PRIx64 ", inside firmware System RAM 0x%" PRIx64 "-0x%" PRIx64 " (%s)\n",
	       addr, addr + size - 1, fw[which].start, fw[which].end, human);
	printf("  kernel command line:  memmap=%s$%s\n", sz, ad);
	printf("  grub.cfg:             memmap=%s\\$%s\n", sz, ad);
	printf("  /etc/default/grub:    memmap=%s\\\\\\$%s   (in GRUB_CMDLINE_LINUX, then update-grub)\n", sz, ad);
	resmem_format_size(ram > size ? ram - size : 0, human, sizeof(human));
	printf("  leaves %s of firmware RAM to the system\n", human);
	if (low)
		printf("note: below 4 GiB: make sure the boot loader does not put the initrd there\n");
	printf("note: keep it among the first four memmap= entries: KASLR keeps the kernel out of those only\n");
	free(fw);
	return EXIT_OK;
}
