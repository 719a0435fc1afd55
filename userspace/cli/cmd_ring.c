// SPDX-License-Identifier: GPL-2.0
/* resmem ring: the state of a region's ring header, or reset it. */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"

static const struct cli_usage ring_usage = {
	.usage =
		"resmem ring NAME [--reset [--data-size N] [--file] [--force]] [--json]",
	.about =
		"Shows the ring kept in the region: geometry, epoch, producer flags,\n"
		"head/tail/consumer positions and sequence numbers, fill level, the loss\n"
		"and wait counters since the last reset (refused, overwritten unread,\n"
		"waited, corrupt) and the in-flight record a crash left at head, if any.  The format:\n"
		"ring-format.md in share/doc/resmem.",
	.notes =
		"Exit: 0, 1 no (valid) ring or --reset refused, 2 usage, 3 system error.",
};

static void flags_text(uint32_t fl, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s",
		 fl & RESMEM_RING_F_OVERWRITE ? "overwrite " : "",
		 fl & RESMEM_RING_F_CLOSED ? "closed " : "open ",
		 fl & RESMEM_RING_F_KERNEL ? "kernel " : "", "");
	if (*buf)
		buf[strlen(buf) - 1] = '\0';
}

static void show_counters(const struct resmem_ring *r)
{
	struct resmem_ring_counters c;

	resmem_ring_counters(r, &c);
	fputs("  since reset: ", stdout);
	ring_counters_print(stdout, &c);
	fputc('\n', stdout);
}

int cmd_ring(int argc, char **argv)
{
	struct resmem_ring_state st;
	struct resmem_ring_inflight f;
	struct ring_map m;
	struct resmem_ring_opts o = { 0 };
	int ret, reset = 0, json = 0, err, ds_given = 0, force = 0;
	char fl[64], sz[32];
	const struct cli_option options[] = {
		OPT_FLAG(
			"reset", &reset,
			"start an empty ring (the old records are gone); refused while\n"
			"a resmem capture produces into it or records are unread"),
		OPT_SIZE("data-size", "N", &o.data_size, &ds_given,
			 "with --reset: a data area of N bytes (a multiple of 8;\n"
			 "default: the whole region after the header)"),
		OPT_FLAG(
			"force", &force,
			"with --reset: reset even so (unread records are destroyed)"),
		OPT_FLAG(
			"file", &cli_file_writes,
			"with --reset: NAME may be a regular file (overwritten)"),
		OPT_FLAG("json", &json, "one JSON object"),
		OPT_END(),
	};

	ret = parse_options("ring", &ring_usage, options, argc, argv);
	if (ret != GO_ON)
		return ret;
	if (argc - optind != 1)
		return usage_error("ring", "expected NAME");
	if (ds_given && !reset)
		return usage_error("ring", "--data-size goes with --reset");
	if (reset) {
		ret = ring_map("ring", argv[optind], 1, RING_ANY, &m);
		if (ret)
			return ret;
		ret = refuse_file_write("ring", m.region, "--reset");
		if (ret) {
			ring_unmap(&m);
			return ret;
		}
		ret = ring_guard_lock("ring", m.region, "not reset", force);
		if (!ret)
			ret = ring_guard_opened("ring", m.region, m.ring,
						m.open_err, "not reset", force,
						0, m.size);
		if (ret) {
			ring_unmap(&m);
			return ret;
		}
		resmem_ring_free(m.ring);
		err = resmem_ring_init(&m.ring, m.base, m.size, &o);
		if (err == -EINVAL && ds_given) {
			ring_unmap(&m);
			return usage_error(
				"ring",
				"--data-size %" PRIu64
				" does not fit: a multiple of 8, at least %u, at most %" PRIu64
				" here (the region's size less the 4 KiB header)",
				o.data_size, (unsigned int)RESMEM_RING_MIN_DATA,
				m.size > RESMEM_RING_HDR_SIZE ?
					(m.size - RESMEM_RING_HDR_SIZE) &
						~(uint64_t)7 :
					(uint64_t)0);
		}
		if (err) {
			ret = sys_error("cannot create a ring in",
					resmem_region_get_path(m.region), err);
			ring_unmap(&m);
			return ret;
		}
		if (!json)
			printf("%s: ring reset: empty, %" PRIu64
			       " bytes of data\n",
			       m.info.name, resmem_ring_data_size(m.ring));
	} else {
		ret = ring_map("ring", argv[optind], 0, RING_ATTACH, &m);
		if (ret)
			return ret;
	}
	resmem_ring_state(m.ring, &st);
	resmem_ring_inflight(m.ring, &f);
	flags_text(st.flags, fl, sizeof(fl));
	if (json) {
		printf("{\"name\": ");
		json_string(stdout, m.info.name);
		printf(", \"data_offset\": %d, \"data_size\": %" PRIu64
		       ", \"pos_mod\": %" PRIu64 ", \"epoch\": %" PRIu64
		       ", \"flags\": %u, \"head\": %" PRIu64
		       ", \"head_seq\": %" PRIu64 ", \"tail\": %" PRIu64
		       ", \"tail_seq\": %" PRIu64 ", \"cons\": %" PRIu64
		       ", \"cons_seq\": %" PRIu64 ", \"used\": %" PRIu64
		       ", \"unread\": %" PRIu64 ", \"refused\": %" PRIu64
		       ", \"overwritten\": %" PRIu64 ", \"wait_ns\": %" PRIu64
		       ", \"corrupt\": %" PRIu64
		       ", \"inflight\": %s, \"inflight_seq\": %" PRIu64
		       ", \"inflight_complete\": %s}\n",
		       RESMEM_RING_HDR_SIZE, resmem_ring_data_size(m.ring),
		       (uint64_t)resmem_ring_pos_mod(
			       resmem_ring_data_size(m.ring)),
		       st.epoch, st.flags, st.head, st.head_seq, st.tail,
		       st.tail_seq, st.cons, st.cons_seq, st.used, st.unread,
		       st.refused, st.overwritten, st.wait_ns, st.corrupt,
		       f.present ? "true" : "false", f.seq,
		       f.complete ? "true" : "false");
	} else if (!reset) {
		resmem_format_size(resmem_ring_data_size(m.ring), sz,
				   sizeof(sz));
		printf("%s: ring v%d, data %s at offset %d, epoch %" PRIu64
		       ", %s\n",
		       m.info.name, RESMEM_RING_VERSION, sz,
		       RESMEM_RING_HDR_SIZE, st.epoch, fl);
		printf("  head  0x%016" PRIx64 "  next seq %" PRIu64 "\n",
		       st.head, st.head_seq);
		printf("  tail  0x%016" PRIx64 "  seq %" PRIu64 "\n", st.tail,
		       st.tail_seq);
		printf("  cons  0x%016" PRIx64 "  seq %" PRIu64 "\n", st.cons,
		       st.cons_seq);
		printf("  fill  %.1f%% unread (%" PRIu64 " bytes), %" PRIu64
		       " bytes kept\n",
		       100.0 * (double)st.unread /
			       (double)resmem_ring_data_size(m.ring),
		       st.unread, st.used);
		show_counters(m.ring);
		if (f.present)
			printf("  in flight: seq %" PRIu64
			       ", %u bytes, %s (not committed)\n",
			       f.seq, f.len, f.complete ? "complete" : "torn");
	}
	ring_unmap(&m);
	return EXIT_OK;
}
