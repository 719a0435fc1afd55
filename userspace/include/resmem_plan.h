/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libresmem: planning a memmap=SIZE$ADDR reservation and writing it for each
 * boot loader's parser.  Same conventions as libresmem.h: 0 or a negative errno,
 * nothing printed, no global state.
 */
#ifndef RESMEM_PLAN_H
#define RESMEM_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "libresmem.h"

/* ------------------------------------------------------- firmware map text */

/*
 * resmem_fwmap_parse_text - a firmware map from text, one entry per line, in
 * either of two forms (mixed input is fine, other lines are skipped):
 *   "0x100000000 0x37fffffff System RAM"     a saved /sys/firmware/memmap
 *       listing: start end type (inclusive; hex with 0x or decimal)
 *   "[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable"
 *       the kernel log; e820 words become the memmap type names
 *       (usable -> System RAM, reserved -> Reserved, ACPI data -> ACPI Tables,
 *       ACPI NVS -> ACPI Non-volatile Storage, unusable -> Unusable memory,
 *       persistent (type 12) -> Persistent Memory (legacy), soft reserved ->
 *       Soft Reserved, other words kept as they are)
 * Entries come back sorted by start; duplicates (a log with two boots) are
 * dropped.  *out is malloc()ed.
 * Returns 0, -ENODATA (no entry found), -EINVAL (an entry with end < start),
 * -ENOMEM.
 */
int resmem_fwmap_parse_text(const char *text, struct resmem_fwmap **out,
			    size_t *n);

/* --------------------------------------------------------------- planning */

#define RESMEM_PLAN_MAX 16 /* regions one plan can place */
#define RESMEM_PLAN_FLOOR (1ULL << 20) /* never below 1 MiB */

struct resmem_plan_req {
	uint64_t size; /* bytes per region, a multiple of 4 KiB */
	uint64_t align; /* power of two >= 4 KiB; 0: the largest page
					 * size not above size (1 GiB, 2 MiB, 4 KiB) */
	uint64_t above; /* lowest start (raised to 1 MiB) */
	uint64_t below; /* ranges end at or below this; 0: no limit */
	uint64_t at; /* with have_at: exactly here (checked, not searched) */
	int have_at;
	unsigned count; /* regions, 1..RESMEM_PLAN_MAX */
	int kaslr; /* -1: decide from /proc/iomem (below), 0: the kernel
					 * loads at a fixed address (nokaslr), 1: randomised */
};

enum resmem_plan_why {
	RESMEM_PLAN_OK,
	RESMEM_PLAN_NO_FIT, /* no RAM run between above and below holds it */
	RESMEM_PLAN_FEWER, /* only n of count regions fit */
	RESMEM_PLAN_AT_NOT_RAM, /* --at range touches a non-RAM byte */
	RESMEM_PLAN_AT_IN_USE, /* --at range touches the kernel or crash kernel */
	RESMEM_PLAN_AT_UNALIGNED, /* --at not a multiple of the alignment */
	RESMEM_PLAN_AT_OUTSIDE, /* --at range not between above and below */
};

struct resmem_plan_range {
	uint64_t start, size;
	uint64_t run_start,
		run_end; /* the firmware RAM run it lies in (inclusive end) */
};

struct resmem_plan {
	struct resmem_plan_range r[RESMEM_PLAN_MAX];
	unsigned n; /* regions placed */
	uint64_t align; /* alignment used */
	uint64_t fw_ram; /* bytes of System RAM in the firmware map */
	uint64_t largest; /* largest aligned span free between above and below */
	enum resmem_plan_why why;
	uint64_t where; /* AT_*: first offending address */
	char what[64]; /* AT_*: what is there ("Reserved", "Kernel code",
					 * "nothing (no firmware entry)") */
	char avoided[4]
		    [64]; /* iomem entries kept out of the search (kernel...) */
	unsigned n_avoided;
	uint64_t kernel_at; /* "Kernel code" start in /proc/iomem; 0: unknown */
	int kernel_randomized; /* it moves at each boot (KASLR): not avoided */
};

/*
 * resmem_plan_make - choose @req->count ranges of @req->size bytes, each
 * inside one run of firmware System RAM (adjacent RAM entries form one
 * run), aligned to the alignment, at or above req->above, ending at or
 * below req->below, clear of what /proc/iomem says is in use (Crash kernel;
 * Kernel code/rodata/data/bss when the kernel loads at a fixed address),
 * lowest address first.  A randomised kernel (KASLR: req->kaslr 1, or -1
 * and "Kernel code" not at the default 16 MiB load address) is not avoided:
 * it will be elsewhere next boot, and the x86 boot code keeps it out of the
 * first four memmap= ranges.  Consecutive
 * regions keep at least a 4 KiB gap: adjacent memmap= ranges would merge
 * into one Reserved range (and one resmem region).
 * @io may be NULL (n_io 0).
 * Returns 0 (p->why OK), -ENOSPC (nothing or not all fit, or the --at
 * range is refused: p->why, p->where, p->what, p->largest say why),
 * -EINVAL (bad request: size 0 or not 4 KiB multiple, align not a power
 * of two >= 4 KiB, count 0 or > RESMEM_PLAN_MAX), -ENOMEM.
 */
int resmem_plan_make(const struct resmem_fwmap *fw, size_t n_fw,
		     const struct resmem_iomem *io, size_t n_io,
		     const struct resmem_plan_req *req, struct resmem_plan *p);

/* resmem_plan_default_align - 1 GiB, 2 MiB or 4 KiB: the largest <= size. */
uint64_t resmem_plan_default_align(uint64_t size);

/* ------------------------------------------------------------- escaping */

/*
 * Each function writes @s escaped for one parser into @buf (size @len,
 * always NUL-terminated) and returns 0, or -ENOSPC when it does not fit.
 *
 * resmem_escape_grub   - one word of a grub.cfg command: every character but
 *                        [A-Za-z0-9_.,:/=+-] gets a backslash (GRUB's
 *                        lexer reads "\c" as c outside quotes).
 * resmem_escape_sh_dq  - the inside of a sh "...": \ $ " ` get a backslash.
 * resmem_escape_sh_sq  - a whole sh '...' word (' written as '\'').
 * resmem_escape_hush   - a whole U-Boot hush '...' word (the same rule).
 */
int resmem_escape_grub(const char *s, char *buf, size_t len);
int resmem_escape_sh_dq(const char *s, char *buf, size_t len);
int resmem_escape_sh_sq(const char *s, char *buf, size_t len);
int resmem_escape_hush(const char *s, char *buf, size_t len);

/* -------------------------------------------------- boot configuration in */

/*
 * resmem_cmdline_split - the parameters of a kernel command line, as the
 * kernel's next_arg() splits them: whitespace separates, double quotes
 * group (and are removed: `foo="a b"` gives `foo=a b`).  Stops at "--".
 * *out is a malloc()ed NULL-terminated array of malloc()ed strings; free it
 * with resmem_strv_free().  Returns 0 or -ENOMEM.
 */
int resmem_cmdline_split(const char *cmdline, char ***out, size_t *n);

/*
 * resmem_grub_words - split a GRUB-script argument string (the value of
 * GRUB_CMDLINE_LINUX_DEFAULT after sh) into words as GRUB would, each word
 * kept verbatim (quotes and backslashes included) and also decoded
 * (what GRUB passes on).  Both arrays as for resmem_cmdline_split.
 * Returns 0, -EINVAL (unterminated quote), -ENOMEM.
 */
int resmem_grub_words(const char *s, char ***verbatim, char ***decoded,
		      size_t *n);

/* resmem_strv_free - free an array from the functions above (NULL is fine). */
void resmem_strv_free(char **v);

/*
 * resmem_default_grub_value - the value of the last
 * `GRUB_CMDLINE_LINUX_DEFAULT=...` assignment in /etc/default/grub text,
 * after sh quote removal ('...', "..." with \\ \$ \" \` \<newline>, \c).
 * *value is malloc()ed; "" when the file has no such line (*found = 0).
 * Returns 0, -EINVAL (unterminated quote), -ENOTSUP (the value uses sh
 * expansion: $VAR, $(...), `...`: it cannot be kept exactly), -ENOMEM.
 */
int resmem_default_grub_value(const char *text, char **value, int *found);

#endif /* RESMEM_PLAN_H */
