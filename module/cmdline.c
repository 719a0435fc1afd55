// SPDX-License-Identifier: GPL-2.0
/*
 * The memmap=SIZE$ADDR reservations of the kernel command line.
 *
 * A range is the user's only if the command line says so: the firmware's
 * own Reserved ranges, and RAM the kernel turned into Reserved for EFI
 * tables (efi_arch_mem_reserve(): ESRT, BGRT, memory attributes...), look
 * exactly like a memmap= range in the kernel's E820 table and /proc/iomem.
 * Modules can read neither saved_command_line (not exported) nor the
 * firmware's E820 table (from 7.x e820__mapped_raw_any() is exported to
 * KVM only), so the command line is read where the kernel publishes it,
 * /proc/cmdline, by the process that loads the module.
 *
 * Words are parsed as the kernel's parse_memmap_opt() parses them:
 * comma-separated entries, numbers through memparse(); only the '$' form
 * reserves for us.  Arguments after "--" belong to init and are skipped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <asm/setup.h>

#include "resmem-private.h"

static struct resmem_memmap memmap;

static void memmap_add(struct resmem_memmap *m, u64 size, u64 start)
{
	u64 end;

	if (!size || check_add_overflow(start, size, &end)) {
		pr_warn("memmap=%#llx$%#llx on the command line: start + size overflows; ignored\n",
			size, start);
		return;
	}
	if (m->n == ARRAY_SIZE(m->span)) {
		pr_warn("more than %zu memmap=SIZE$ADDR entries on the command line; [mem %#018llx-%#018llx] and later ones ignored\n",
			ARRAY_SIZE(m->span), start, end - 1);
		return;
	}
	m->span[m->n].start = start;
	m->span[m->n].end = end;
	m->n++;
}

/* One memmap= value: "SIZE$ADDR[,SIZE$ADDR...]", other forms skipped. */
static void memmap_parse_word(struct resmem_memmap *m, char *p)
{
	while (*p) {
		u64 size = memparse(p, &p), start;

		if (*p == '$') {
			start = memparse(p + 1, &p);
			if (!*p || *p == ',')
				memmap_add(m, size, start);
		}
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
}

static int span_cmp(const void *a, const void *b)
{
	const struct resmem_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort, then merge overlapping and adjacent spans, as the E820 table does. */
static void memmap_merge(struct resmem_memmap *m)
{
	unsigned int i, n = 0;

	sort(m->span, m->n, sizeof(m->span[0]), span_cmp, NULL);
	for (i = 0; i < m->n; i++) {
		if (n && m->span[i].start <= m->span[n - 1].end)
			m->span[n - 1].end = max(m->span[n - 1].end,
						 m->span[i].end);
		else
			m->span[n++] = m->span[i];
	}
	m->n = n;
}

static void memmap_parse(struct resmem_memmap *m, char *line)
{
	char *word;

	while ((word = strsep(&line, " \t\n"))) {
		size_t len;

		if (!strcmp(word, "--"))
			break;
		/* quotes as next_arg() takes them: "memmap=V" or memmap="V" */
		if (*word == '"')
			word++;
		len = strlen(word);
		if (len && word[len - 1] == '"')
			word[len - 1] = '\0';
		if (!strncmp(word, "memmap=", 7))
			memmap_parse_word(m, word + 7 + (word[7] == '"'));
	}
	memmap_merge(m);
}

/**
 * resmem_memmap_load() - read the memmap=$ ranges of the command line
 *
 * Called once at module load, in the loading process's context.  Failing
 * to read /proc/cmdline is not fatal: resmem_memmap() then reports the
 * error and no range counts as reserved by memmap=.
 */
void resmem_memmap_load(void)
{
	const size_t max = COMMAND_LINE_SIZE + 2;
	struct file *f;
	loff_t pos = 0;
	ssize_t n;
	char *buf;

	memset(&memmap, 0, sizeof(memmap));
	buf = kzalloc(max, GFP_KERNEL);
	if (!buf) {
		memmap.err = -ENOMEM;
		return;
	}
	f = filp_open("/proc/cmdline", O_RDONLY, 0);
	if (IS_ERR(f)) {
		memmap.err = PTR_ERR(f);
		goto out;
	}
	n = kernel_read(f, buf, max - 1, &pos);
	filp_close(f, NULL);
	if (n < 0) {
		memmap.err = n;
		goto out;
	}
	buf[n] = '\0';
	memmap_parse(&memmap, buf);
out:
	if (memmap.err)
		pr_warn("cannot read the kernel command line from /proc/cmdline (error %d): memmap= reservations are not recognised; load resmem with /proc mounted\n",
			memmap.err);
	kfree(buf);
}

/**
 * resmem_memmap() - the memmap=$ ranges read by resmem_memmap_load()
 *
 * Return: the ranges, ascending, merged where they touch; @err says why
 * there are none when the command line could not be read.
 */
const struct resmem_memmap *resmem_memmap(void)
{
	return &memmap;
}

/**
 * resmem_memmap_uncovered() - first byte of a range memmap=$ did not reserve
 * @start:	first byte
 * @end:	one past the last byte
 *
 * Return: the lowest address in [@start, @end) outside every memmap=$
 * range of the command line, or U64_MAX if memmap=$ covers all of it.
 */
u64 resmem_memmap_uncovered(u64 start, u64 end)
{
	unsigned int i;

	for (i = 0; i < memmap.n && start < end; i++) {
		if (memmap.span[i].end <= start)
			continue;
		if (memmap.span[i].start > start)
			return start;
		start = memmap.span[i].end;
	}
	return start < end ? start : U64_MAX;
}
