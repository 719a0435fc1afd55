/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libresmem: planning a memmap=SIZE$ADDR reservation and writing it for each
 * boot loader's parser.  Same conventions as libresmem.h: 0 or a negative errno,
 * nothing printed, no global state.  The planner's files are lib/plan_*.c:
 * plan_fwtext.c (firmware map text), plan_place.c (where the ranges go),
 * plan_bootcfg.c (what the boot configuration says now), plan_escape.c
 * (quoting for each parser), plan_lines.c (the lines each boot loader gets).
 */
#ifndef RESMEM_PLAN_H
#define RESMEM_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "libresmem.h"

/*
 * Not installed and not part of libresmem.so's ABI: the CLI and the unit
 * tests link these from libresmem.a, so the shared library keeps them hidden.
 */
#pragma GCC visibility push(hidden)

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
#define RESMEM_PLAN_ABOVE_DEFAULT \
	(4ULL << 30) /* clear of the kernel, initrd and 32-bit DMA */
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
 * resmem_default_grub_var - the value of variable @name (e.g.
 * "GRUB_CMDLINE_LINUX_DEFAULT") once sh has run every `NAME=...` assignment
 * of /etc/default/grub text (and drop-ins appended to it) in order, as
 * grub-mkconfig sources them: quote removal ('...', "..." with \\ \$ \" \`
 * \<newline>, \c), $NAME / ${NAME} (the value so far), and the positional
 * parameters grub-mkconfig has shifted away ($1..$9 empty, $0 its path
 * /usr/sbin/grub-mkconfig, $# 0): `memmap=8G$4G` becomes `memmap=8GG`.
 * *value is malloc()ed; "" when no line assigns it (*found = 0).
 * Returns 0, -EINVAL (unterminated quote), -ENOTSUP (other sh expansion:
 * $OTHER, $(...), `...`: the value cannot be known here), -ENOMEM.
 */
int resmem_default_grub_var(const char *text, const char *name, char **value,
			    int *found);

/* resmem_default_grub_value - resmem_default_grub_var() of GRUB_CMDLINE_LINUX_DEFAULT. */
int resmem_default_grub_value(const char *text, char **value, int *found);

/*
 * resmem_default_grub_lines - the lines of @text that assign @name, each
 * with its newline (malloc()ed, "" if none; NULL: no memory).
 */
char *resmem_default_grub_lines(const char *text, const char *name);

/*
 * resmem_grub_dropins - the text of the drop-ins in @dir that grub-mkconfig
 * sources after /etc/default/grub (*.cfg, in its glob order), but ours
 * (RESMEM_PLAN_DROPIN, which --write replaces): those sorted before ours
 * into *before, those after into *after (malloc()ed; NULL when none, or
 * when @dir does not exist).  Returns 0 or a negative errno.
 */
int resmem_grub_dropins(const char *dir, char **before, char **after);

/*
 * resmem_plan_kaslr - req->kaslr for a running kernel's command line: 0 when
 * it says nokaslr (the kernel loads at a fixed address), else -1 (decide
 * from /proc/iomem).  @cmdline may be NULL (unknown: -1).
 */
int resmem_plan_kaslr(const char *cmdline);

/* ------------------------------------------------- boot configuration out */

/* The x86 boot code keeps a randomised kernel out of the first four memmap= ranges. */
#define RESMEM_PLAN_KASLR_AVOIDS 4
/* Where the GRUB drop-in goes: sourced by grub-mkconfig after /etc/default/grub. */
#define RESMEM_PLAN_GRUB_D "/etc/default/grub.d"
#define RESMEM_PLAN_DROPIN "resmem.cfg"

/* A plan written for each boot loader, each line escaped for its parser. */
struct resmem_plan_lines {
	char memmap[RESMEM_PLAN_MAX][64]; /* "8G$0x100000000" per region */
	char *kernel; /* the new parameters: "memmap=8G$0x100000000" */
	char *etc_default_grub; /* GRUB_CMDLINE_LINUX_DEFAULT="..." or NULL (see grub_err) */
	int grub_err; /* why etc_default_grub is NULL: -ENOTSUP, -EINVAL */
	int grub_found; /* /etc/default/grub had the variable */
	char *dropin; /* RESMEM_PLAN_GRUB_D/RESMEM_PLAN_DROPIN contents */
	char *grub_cfg; /* linux IMAGE ARGS... for a menu entry */
	char *grub_cfg_args; /* just the new parameters, escaped for grub.cfg */
	char *grubby; /* grubby --update-kernel=ALL --args='...' */
	char *systemd_boot; /* options ... */
	char *uboot; /* setenv bootargs '...' */
	char **replaces; /* memmap= words replaced: older SIZE$ADDR reservations,
			  * and words sh or GRUB mangles (memmap=8GG, a bare
			  * SIZE that caps RAM): NULL-terminated, may be empty */
	char *grub_broken; /* of those, the words /etc/default/grub hands the
			    * kernel ("" if none): the drop-in then re-assigns
			    * GRUB_CMDLINE_LINUX_DEFAULT without them */
	char *grub_refuse; /* GRUB_CMDLINE_LINUX_DEFAULT lines that hold memmap=
			    * but cannot be evaluated (grub_err): --write must
			    * not install a drop-in that keeps them ("" if none) */
	int cmdline_known; /* the running command line was given: the grub.cfg,
			    * systemd-boot and U-Boot lines are complete */
	int memmap_total; /* memmap= regions on the line that will boot: the
			   * GRUB one when /etc/default/grub is known, else
			   * the running one, with the plan's */
	int kaslr_safe; /* memmap_total <= RESMEM_PLAN_KASLR_AVOIDS */
};

/*
 * resmem_plan_lines_build - the lines of plan @p for the kernel command line,
 * /etc/default/grub, the grub.d drop-in, grub.cfg, grubby, systemd-boot and
 * U-Boot.  Each keeps what the running configuration says (@cmdline, the
 * text of /proc/cmdline; @grub_default, the text of /etc/default/grub;
 * @grub_dropins, the grub.d drop-ins sh reads after it and before ours,
 * which count for the drop-in and the KASLR figure but not for the
 * /etc/default/grub line; any may be NULL), minus the older
 * memmap= reservations the plan replaces (SIZE$ADDR, or a bare SIZE whose
 * '$' a parser ate) and every memmap= word sh or GRUB mangles.  Arguments
 * for init (after "--") stay last.  Free with
 * resmem_plan_lines_free().  Returns 0 or -ENOMEM.
 */
int resmem_plan_lines_build(const struct resmem_plan *p, const char *cmdline,
			    const char *grub_default, const char *grub_dropins,
			    struct resmem_plan_lines *out);
void resmem_plan_lines_free(struct resmem_plan_lines *l);

/*
 * resmem_format_memparse - @v as people write memmap= sizes: the largest of
 * K/M/G/T that divides it exactly ("8G", "512M"), else decimal below 1024,
 * else 0x-hex.  Returns @buf.
 */
char *resmem_format_memparse(uint64_t v, char *buf, size_t len);

#pragma GCC visibility pop

#endif /* RESMEM_PLAN_H */
