// SPDX-License-Identifier: GPL-2.0
/* How a region is printed, so list and info always agree. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

/* The region's device node; "" for a regular file standing in (it has none). */
static void dev_of(const struct resmem_region_info *r, char *buf, size_t len)
{
	if (!strcmp(r->source, "file") || resmem_dev_path(r->name, buf, len))
		buf[0] = '\0';
}

/* A RESMEM_INFO_* flag as JSON: true, false, or null when not known. */
static const char *json_flag(const struct resmem_region_info *r, uint32_t flag,
			     uint32_t known)
{
	if (!(r->flags & known))
		return "null";
	return r->flags & flag ? "true" : "false";
}

/* Struct pages as JSON: true, false, or null when sysfs did not say. */
static const char *json_pages(const struct resmem_region_info *r)
{
	if (!strncmp(r->pages, "yes:", 4))
		return "true";
	return strncmp(r->pages, "no:", 3) ? "null" : "false";
}

/*
 * Bytes at the region's start that hold its struct pages (module option
 * pages=region: "... struct pages in the region's first N MiB ..."), 0 if
 * they are elsewhere or it has none, -1 when sysfs did not say.
 */
static int64_t pages_head(const struct resmem_region_info *r)
{
	const char *at = strstr(r->pages, "region's first ");
	unsigned long long mib;

	if (!strcmp(json_pages(r), "null"))
		return -1;
	if (!strcmp(json_pages(r), "true") && at &&
	    sscanf(at, "region's first %llu MiB", &mib) == 1 &&
	    mib <= (uint64_t)INT64_MAX >> 20)
		return (int64_t)(mib << 20);
	return 0;
}

/* Inclusive last byte; a zero-size region has none, print its start. */
static uint64_t last_byte(const struct resmem_region_info *r)
{
	return r->size ? r->phys_addr + r->size - 1 : r->phys_addr;
}

void show_region_json(FILE *f, const struct resmem_region_info *r, int detail)
{
	char dev[300];

	dev_of(r, dev, sizeof(dev));
	fprintf(f, "{\"name\": ");
	json_string(f, r->name);
	fprintf(f,
		", \"phys_addr\": %" PRIu64 ", \"size\": %" PRIu64
		", \"source\": ",
		r->phys_addr, r->size);
	json_string(f, r->source);
	fprintf(f, ", \"cache_mode\": ");
	json_string(f, r->cache_mode);
	fprintf(f, ", \"dev\": ");
	if (dev[0])
		json_string(f, dev);
	else
		fprintf(f, "null");
	fprintf(f, ", \"numa_node\": %d, \"mappings\": ", r->numa_node);
	if (r->mappings >= 0)
		fprintf(f, "%ld", r->mappings);
	else
		fprintf(f, "null");
	fprintf(f, ", \"pages\": %s, \"pages_ram\": ", json_pages(r));
	if (strcmp(json_pages(r), "null"))
		fprintf(f, "%" PRIu64 ", \"pages_head\": %" PRId64,
			r->pages_ram, pages_head(r));
	else
		fprintf(f, "null, \"pages_head\": null");
	if (detail) {
		fprintf(f, ", \"pages_note\": ");
		json_string(f, r->pages);
		fprintf(f, ", \"page_size\": ");
		if (r->page_size)
			fprintf(f, "%u", r->page_size);
		else
			fprintf(f, "null");
		fprintf(f, ", \"readonly\": %s, \"coherent\": %s",
			json_flag(r, RESMEM_INFO_READONLY,
				  RESMEM_INFO_READONLY_KNOWN),
			json_flag(r, RESMEM_INFO_COHERENT,
				  RESMEM_INFO_COHERENT_KNOWN));
	}
	fprintf(f, "}");
}

void show_region_line(FILE *f, const struct resmem_region_info *r,
		      int name_width)
{
	char size[32], dev[300], ram[32];

	dev_of(r, dev, sizeof(dev));
	resmem_format_size(r->size, size, sizeof(size));
	/* the last column: what the struct pages cost, if the region has them */
	if (r->pages_ram)
		resmem_format_size(r->pages_ram, ram, sizeof(ram));
	fprintf(f,
		"%-*s  0x%012" PRIx64 "-0x%012" PRIx64 "  %10s  %-10s  %-13s  ",
		name_width, r->name, r->phys_addr, last_byte(r), size,
		r->source, r->cache_mode);
	if (r->pages_ram)
		fprintf(f, "%-22s  pages %s\n", dev, ram);
	else if (pages_head(r) > 0) { /* their metadata in the region */
		resmem_format_size((uint64_t)pages_head(r), ram, sizeof(ram));
		fprintf(f, "%-22s  pages in region %s\n", dev, ram);
	} else if (!strcmp(json_pages(r), "true")) /* arm64: the boot's own */
		fprintf(f, "%-22s  pages, no extra RAM\n", dev);
	else if (!strcmp(json_pages(r), "false"))
		fprintf(f, "%-22s  no pages\n", dev);
	else
		fprintf(f, "%s\n", dev);
}

void show_region_detail(FILE *f, const struct resmem_region_info *r)
{
	char size[32], dev[300];

	dev_of(r, dev, sizeof(dev));
	resmem_format_size(r->size, size, sizeof(size));
	fprintf(f, "name:        %s\n", r->name);
	fprintf(f, "device:      %s\n", dev[0] ? dev : "none (a regular file)");
	fprintf(f, "phys range:  0x%" PRIx64 "-0x%" PRIx64 "\n", r->phys_addr,
		last_byte(r));
	fprintf(f, "size:        %s (%" PRIu64 " bytes)\n", size, r->size);
	fprintf(f, "source:      %s\n", r->source);
	fprintf(f, "cache mode:  %s\n", r->cache_mode);
	if (r->numa_node >= 0)
		fprintf(f, "numa node:   %d\n", r->numa_node);
	else
		fprintf(f, "numa node:   unknown\n");
	if (r->mappings >= 0)
		fprintf(f, "mappings:    %ld\n", r->mappings);
	else
		fprintf(f, "mappings:    unknown\n");
	fprintf(f, "pages:       %s\n",
		r->pages[0] ? r->pages : "unknown (no sysfs attribute)");
	if (r->page_size)
		fprintf(f, "page size:   %u\n", r->page_size);
	else
		fprintf(f, "page size:   unknown\n");
	if (!(r->flags & RESMEM_INFO_READONLY_KNOWN))
		fprintf(f, "access:      unknown (%s)\n",
			dev[0] ? "the device could not be opened" :
				 "a regular file, not a device");
	else
		fprintf(f, "access:      %s\n",
			r->flags & RESMEM_INFO_READONLY ? "read-only" :
							  "read-write");
	if (!(r->flags & RESMEM_INFO_COHERENT_KNOWN))
		fprintf(f, "coherent:    unknown\n");
	else if (r->flags & RESMEM_INFO_COHERENT)
		fprintf(f, "coherent:    yes (DMA snoops the CPU caches)\n");
	else
		fprintf(f,
			"coherent:    no (DMA bypasses the CPU caches: 'resmem sync' around it)\n");
}
