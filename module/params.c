// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters.
 *
 * regions=ENTRY[,ENTRY...]
 *	ENTRY is [NAME:]SIZE$ADDR[:OPTION][:OPTION] or the same with '@'.
 *	'$' and '@' mean the same here ("SIZE at ADDR"); '@' survives GRUB,
 *	which eats '$' unless it is escaped.  SIZE and ADDR are decimal or
 *	0x-hex with an optional K, M, G or T suffix (any case, powers of
 *	1024).  NAME is 1-31 characters from [A-Za-z0-9_.+-], not starting
 *	with '.'; without it the region gets the next free "regionN".
 *	An OPTION, each at most once, in any order:
 *	  wb, wc or uc	the cache mode, overriding cache= for this region;
 *	  pages=off|ram|region
 *			struct pages for this region (pages.c), overriding
 *			the module parameters pages= and pages_in=: off
 *			keeps the PFN mapping (huge entries, no metadata),
 *			ram gives pages with their metadata in system RAM,
 *			region with it in the region's first bytes (x86).
 *	Examples:  regions=8G$4G   regions=dma:1G@0x100000000:wc,log:64M@5G
 *		   regions=raw:2G@4G:pages=off,io:1G@6G
 *	An explicit entry that is accepted replaces any discovered region it
 *	overlaps; one equal to a discovered range just names it.  A refused
 *	entry replaces nothing: the discovered regions stay.
 *
 * cache=wb|wc|uc
 *	Cache mode for regions without their own CACHE (default wb).
 *
 * pages_in=ram|region
 *	Where the struct pages of regions without their own pages= option
 *	keep their metadata (pages.c; default ram).
 *
 * discover=Y|N
 *	Find memmap=SIZE$ADDR reservations by themselves (default Y, x86).
 *
 * A malformed entry gets one error line and is skipped; the others are
 * still used.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "resmem-private.h"

static char *regions;
/*
 * Physical addresses: a hardware parameter, which a kernel in lockdown
 * (integrity or confidentiality) refuses, as it refuses /dev/mem.
 */
module_param_hw(regions, charp, iomem, 0444);
MODULE_PARM_DESC(regions,
	"Regions to expose: [NAME:]SIZE$ADDR[:wb|wc|uc][:pages=off|ram|region] or [NAME:]SIZE@ADDR[:...], comma-separated, e.g. data:8G@4G:pages=off");

static char *cache = "wb";
module_param(cache, charp, 0444);
MODULE_PARM_DESC(cache, "Default cache mode: wb (default), wc or uc");

static char *pages_in = "ram";
module_param(pages_in, charp, 0444);
MODULE_PARM_DESC(pages_in,
	"Where struct pages keep their metadata (x86, 64 B per 4 KiB page): ram (default) or region (its first bytes, which user space then does not see: no RAM used)");

bool resmem_discover_enabled = true;
module_param_named(discover, resmem_discover_enabled, bool, 0444);
MODULE_PARM_DESC(discover,
	"Find memmap=SIZE$ADDR reservations automatically (default Y)");

u32 resmem_default_cache = RESMEM_CACHE_WB;
u32 resmem_default_pages_in = RESMEM_PAGES_RAM;

#define RESMEM_ENTRY_SYNTAX "expected [NAME:]SIZE$ADDR[:wb|wc|uc][:pages=off|ram|region] or the same with '@', e.g. data:8G@0x100000000:pages=off"

static const char * const cache_names[] = {
	[RESMEM_CACHE_WB] = "write-back",
	[RESMEM_CACHE_WC] = "write-combine",
	[RESMEM_CACHE_UC] = "uncached",
};

/**
 * resmem_cache_name() - sysfs spelling of a cache mode
 * @cache: enum resmem_cache_mode
 *
 * Return: "write-back", "write-combine", "uncached" or "unknown".
 */
const char *resmem_cache_name(u32 cache)
{
	if (cache < ARRAY_SIZE(cache_names))
		return cache_names[cache];
	return "unknown";
}

static int parse_cache(const char *s, u32 *out)
{
	if (!strcasecmp(s, "wb"))
		*out = RESMEM_CACHE_WB;
	else if (!strcasecmp(s, "wc"))
		*out = RESMEM_CACHE_WC;
	else if (!strcasecmp(s, "uc"))
		*out = RESMEM_CACHE_UC;
	else
		return -EINVAL;
	return 0;
}

static const char * const pages_names[] = {
	[RESMEM_PAGES_DEFAULT] = "default",
	[RESMEM_PAGES_OFF] = "off",
	[RESMEM_PAGES_RAM] = "ram",
	[RESMEM_PAGES_REGION] = "region",
};

/**
 * resmem_parse_pages() - a region's struct-pages choice from its spelling
 * @s:		"off", "ram" or "region" (regions= pages=..., device-tree
 *		resmem,pages, pages_in=)
 * @out:	enum resmem_pages_choice
 *
 * Return: 0, or -EINVAL for anything else (@out untouched).
 */
int resmem_parse_pages(const char *s, u32 *out)
{
	u32 i;

	for (i = RESMEM_PAGES_OFF; i < ARRAY_SIZE(pages_names); i++) {
		if (!strcmp(s, pages_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

/**
 * resmem_pages_name() - spelling of a struct-pages choice
 * @choice: enum resmem_pages_choice
 *
 * Return: "default", "off", "ram", "region", or "unknown".
 */
const char *resmem_pages_name(u32 choice)
{
	if (choice < ARRAY_SIZE(pages_names))
		return pages_names[choice];
	return "unknown";
}

/**
 * resmem_params_init() - check the scalar parameters
 *
 * Return: 0, or -EINVAL if cache= is not wb, wc or uc or pages_in= not
 * ram or region.
 */
int resmem_params_init(void)
{
	u32 in = RESMEM_PAGES_DEFAULT;

	if (parse_cache(cache ? cache : "wb", &resmem_default_cache)) {
		pr_err("cache=%s: unknown cache mode; use wb, wc or uc\n",
		       cache);
		return -EINVAL;
	}
	if (resmem_parse_pages(pages_in ? pages_in : "ram", &in) ||
	    in == RESMEM_PAGES_OFF) {
		pr_err("pages_in=%s: not a place for struct pages; use ram or region (pages=0 turns them off)\n",
		       pages_in);
		return -EINVAL;
	}
	resmem_default_pages_in = in;
	return 0;
}

/*
 * Parse a whole string as an unsigned number: decimal or 0x-hex, then an
 * optional K/M/G/T suffix.  Unlike memparse() it refuses overflow and junk.
 */
static int parse_size(const char *s, u64 *out, const char **why)
{
	unsigned int base = 10, shift = 0, digits = 0;
	u64 v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++) {
		unsigned int d;

		if (isdigit(*s))
			d = *s - '0';
		else if (base == 16 && isxdigit(*s))
			d = tolower(*s) - 'a' + 10;
		else
			break;
		if (check_mul_overflow(v, (u64)base, &v) ||
		    check_add_overflow(v, (u64)d, &v)) {
			*why = "number does not fit in 64 bits";
			return -ERANGE;
		}
		digits++;
	}
	if (!digits) {
		*why = "missing number";
		return -EINVAL;
	}
	switch (tolower(*s)) {
	case 't':
		shift = 40;
		break;
	case 'g':
		shift = 30;
		break;
	case 'm':
		shift = 20;
		break;
	case 'k':
		shift = 10;
		break;
	case '\0':
		break;
	default:
		*why = "bad character in number (suffixes: K, M, G, T)";
		return -EINVAL;
	}
	if (shift && *++s) {
		*why = "junk after the size suffix";
		return -EINVAL;
	}
	if (shift && v > (U64_MAX >> shift)) {
		*why = "number does not fit in 64 bits";
		return -ERANGE;
	}
	*out = v << shift;
	return 0;
}

/**
 * resmem_name_ok() - is this a valid region (device) name?
 * @name: NUL-terminated candidate
 *
 * Return: true for 1-31 characters from [A-Za-z0-9_.+-], not starting
 * with '.'.
 */
bool resmem_name_ok(const char *name)
{
	const char *p;

	if (!*name || *name == '.' || strlen(name) >= RESMEM_NAME_MAX)
		return false;
	for (p = name; *p; p++)
		if (!isalnum(*p) && !strchr("_.+-", *p))
			return false;
	return true;
}

/*
 * One OPTION after SIZE$ADDR: a cache mode or pages=..., each at most once
 * (@cache_set, @pages_choice say which were seen).
 */
static int parse_option(const char *opt, u32 *cache, bool *cache_set,
			u32 *pages_choice, const char **why)
{
	u32 c;

	if (!strncmp(opt, "pages=", 6)) {
		if (*pages_choice != RESMEM_PAGES_DEFAULT) {
			*why = "pages= given twice";
			return -EINVAL;
		}
		if (resmem_parse_pages(opt + 6, pages_choice)) {
			*why = "pages= must be off, ram or region";
			return -EINVAL;
		}
		return 0;
	}
	if (parse_cache(opt, &c)) {
		*why = "cache mode must be wb, wc or uc (the other option after SIZE$ADDR is pages=off|ram|region)";
		return -EINVAL;
	}
	if (*cache_set) {
		*why = "cache mode given twice";
		return -EINVAL;
	}
	*cache = c;
	*cache_set = true;
	return 0;
}

static struct resmem_region *parse_entry(char *entry, const char **why)
{
	char *tok[4] = {};
	char *name = NULL, *range = NULL, *sep, *s = entry;
	struct resmem_region *r;
	u32 c = 0, pages_choice = RESMEM_PAGES_DEFAULT;
	bool cache_set = false;
	u64 size, addr;
	unsigned int n = 0, i, j;

	while (s && n < ARRAY_SIZE(tok))
		tok[n++] = strsep(&s, ":");
	if (s) {
		*why = "too many ':'-separated fields";
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (strpbrk(tok[i], "$@")) {
			range = tok[i];
			break;
		}
	}
	if (!range) {
		*why = "no SIZE$ADDR or SIZE@ADDR";
		return NULL;
	}
	if (i > 1) {
		*why = "SIZE$ADDR must be the first or second field";
		return NULL;
	}
	if (i == 1)
		name = tok[0];
	if (i + 3 < n) {
		*why = "too many ':'-separated fields";
		return NULL;
	}
	if (name && !resmem_name_ok(name)) {
		*why = "NAME must be 1-31 characters from [A-Za-z0-9_.+-], not starting with '.'";
		return NULL;
	}
	for (j = i + 1; j < n; j++)
		if (parse_option(tok[j], &c, &cache_set, &pages_choice, why))
			return NULL;
	sep = strpbrk(range, "$@");
	*sep = '\0';
	if (parse_size(range, &size, why) || parse_size(sep + 1, &addr, why))
		return NULL;

	r = resmem_region_alloc(addr, size, RESMEM_SOURCE_PARAM);
	if (!r) {
		*why = "out of memory";
		return NULL;
	}
	if (name) {
		strscpy(r->name, name, sizeof(r->name));
		r->named = true;
	}
	if (cache_set) {
		r->cache = c;
		r->cache_set = true;
	}
	r->pages_choice = pages_choice;
	return r;
}

/**
 * resmem_parse_regions() - turn regions= into candidate regions
 * @out: list to append struct resmem_region candidates to, in
 *	 parameter order
 *
 * Malformed entries are logged once each and skipped.
 *
 * Return: 0, or -ENOMEM if the parameter could not even be copied.
 */
int resmem_parse_regions(struct list_head *out)
{
	char *buf, *s, *entry;

	if (!regions || !*regions)
		return 0;
	buf = kstrdup(regions, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	s = buf;
	while ((entry = strsep(&s, ",")) != NULL) {
		struct resmem_region *r;
		char orig[sizeof(r->param)];
		const char *why = "";

		entry = strim(entry);
		if (!*entry)
			continue;
		strscpy(orig, entry, sizeof(orig));
		r = parse_entry(entry, &why);
		if (!r) {
			pr_err("regions= entry '%s' ignored: %s; %s\n",
			       orig, why, RESMEM_ENTRY_SYNTAX);
			continue;
		}
		strscpy(r->param, orig, sizeof(r->param));
		list_add_tail(&r->node, out);
	}
	kfree(buf);
	return 0;
}
