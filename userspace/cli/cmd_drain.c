// SPDX-License-Identifier: GPL-2.0
/* resmem drain: copy committed ring records out, in order, reporting gaps. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct cli_usage drain_usage = {
	.usage = "resmem drain NAME [options]",
	.about =
		"Copies the payload of every committed record of the region's ring, in\n"
		"order, to FILE (default: stdout), checking each record's sequence number\n"
		"and CRC32C.  Records overwritten before they were read are reported as\n"
		"lost, damaged ones as corrupt (never copied), on stderr.",
	.notes =
		"Exit: 0 all records intact, 1 records lost or corrupt (or no ring),\n"
		"2 usage, 3 system error.",
};

static int parse_from(const char *cmd, const struct cli_option *o,
		      const char *arg)
{
	enum resmem_ring_from *from = o->value;

	if (!strcmp(arg, "cons"))
		*from = RESMEM_RING_FROM_CONS;
	else if (!strcmp(arg, "tail"))
		*from = RESMEM_RING_FROM_TAIL;
	else if (!strcmp(arg, "head"))
		*from = RESMEM_RING_FROM_HEAD;
	else
		return usage_error(cmd, "bad --from '%s': cons, tail or head",
				   arg);
	return 0;
}

static void report_inflight(const char *name, const struct resmem_ring *r)
{
	struct resmem_ring_inflight f;

	resmem_ring_inflight(r, &f);
	if (f.present)
		fprintf(stderr,
			"drain %s: in-flight record seq %" PRIu64
			" at head was not committed (%s): not copied\n",
			name, f.seq, f.complete ? "complete" : "torn");
}

int cmd_drain(int argc, char **argv)
{
	const char *to = "-", *index_path = NULL, *name;
	enum resmem_ring_from from = RESMEM_RING_FROM_CONS;
	int ret, follow = 0, consume = 1, fd = 1,
		 tty = isatty(STDERR_FILENO) && !cli_quiet, n, err, force = 0;
	struct resmem_ring_reader *rd;
	struct resmem_ring_reader_stats rs = { 0 };
	struct resmem_ring_state st;
	struct resmem_ring_recinfo ri;
	struct ring_map m;
	uint64_t out_off = 0, first = 0;
	double t0, last, now;
	size_t cap = 1 << 20;
	unsigned char *buf;
	FILE *index = NULL;
	char b[32], rate[32];
	const struct cli_option options[] = {
		OPT_STRING("to", "FILE|-", &to,
			   "write the payloads to FILE (default -: stdout)"),
		OPT_FLAG("follow", &follow,
			 "keep going: wait for new records until the producer\n"
			 "closes the ring (end of stream) or SIGINT/SIGTERM"),
		OPT_CALLBACK(
			"from", "cons|tail|head", &from, parse_from,
			"cons: where the last drain stopped (default); tail: the\n"
			"oldest record still there; head: only new records"),
		OPT_SET_INT("no-consume", &consume, 0,
			    "do not mark records consumed (a second reader)"),
		OPT_STRING(
			"index", "FILE", &index_path,
			"one line per record: seq offset-in-output length epoch"),
		OPT_FLAG("force", &force,
			 "write to stdout even when it is a terminal (refused\n"
			 "without: the payloads are binary)"),
		OPT_END(),
	};

	ret = parse_options("drain", &drain_usage, options, argc, argv);
	if (ret != GO_ON)
		return ret;
	if (argc - optind != 1)
		return usage_error("drain", "expected NAME");
	if (!strcmp(to, "-") && !force &&
	    refuse_binary_tty("drain", STDOUT_FILENO))
		return EXIT_USAGE;
	ret = ring_map("drain", argv[optind], consume, 0, &m);
	if (ret)
		return ret;
	name = m.info.name;
	if (strcmp(to, "-")) {
		fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			ring_unmap(&m);
			return sys_error("cannot create", to, -errno);
		}
	}
	if (index_path) {
		index = fopen(index_path, "w");
		if (!index) {
			ring_unmap(&m);
			return sys_error("cannot create", index_path, -errno);
		}
	}
	ret = ring_begin(&m, cap, &buf);
	if (ret)
		return ret;
	err = resmem_ring_reader_new(&rd, m.ring, from);
	if (err) {
		free(buf);
		ring_unmap(&m);
		return sys_error("cannot allocate", "ring reader", err);
	}
	t0 = last = now_seconds();
	ret = EXIT_OK;
	while (!ring_stop) {
		n = resmem_ring_read(rd, buf, cap, &ri);
		if (n == -EMSGSIZE) {
			unsigned char *nb = realloc(buf, ri.len);

			if (!nb) {
				ret = sys_error("cannot allocate",
						"record buffer", -ENOMEM);
				break;
			}
			buf = nb;
			cap = ri.len;
			continue;
		}
		if (n == 0) {
			if (!follow)
				break;
			resmem_ring_state(m.ring, &st);
			resmem_ring_reader_stats(rd, &rs);
			if ((st.flags & RESMEM_RING_F_CLOSED) &&
			    st.head == rs.pos)
				break;
			/* sleeps in poll() until a commit; 1 s bounds a missed SIGINT */
			err = resmem_ring_wait(m.region, rd, 1000);
			if (err < 0 && err != -EINTR) {
				ret = dev_error(
					"cannot wait on",
					resmem_region_get_path(m.region), err);
				break;
			}
			continue;
		}
		resmem_ring_reader_stats(rd, &rs);
		if (ri.lost)
			fprintf(stderr,
				"%sdrain %s: gap: %" PRIu64
				" records lost (overwritten before they were read) before seq %" PRIu64
				"\n",
				tty ? "\r" : "", name, ri.lost, ri.seq);
		if (ri.corrupt)
			fprintf(stderr,
				"%sdrain %s: %" PRIu64
				" corrupt records (bad CRC or sequence) before seq %" PRIu64
				": not copied\n",
				tty ? "\r" : "", name, ri.corrupt, ri.seq);
		if (rs.records == 1)
			first = ri.seq;
		err = resmem_write_all(fd, buf, ri.len);
		if (err) {
			ret = sys_error("cannot write", to, err);
			break;
		}
		if (index)
			fprintf(index, "%" PRIu64 " %" PRIu64 " %u %u\n",
				ri.seq, out_off, ri.len, ri.epoch);
		out_off += ri.len;
		if (consume)
			resmem_ring_consume(rd);
		if (tty && (rs.records & 255) == 0 &&
		    (now = now_seconds()) - last >= 0.5) {
			resmem_format_size(rs.bytes, b, sizeof(b));
			resmem_format_size(
				(uint64_t)((double)rs.bytes / (now - t0)), rate,
				sizeof(rate));
			fprintf(stderr,
				"\rdrain %s: %" PRIu64
				" records, %s, %s/s, lost %" PRIu64
				", corrupt %" PRIu64 "   ",
				name, rs.records, b, rate, rs.lost, rs.corrupt);
			last = now;
		}
	}
	resmem_ring_reader_stats(rd, &rs);
	resmem_ring_reader_free(rd);
	if (rs.scanning) {
		resmem_ring_state(m.ring, &st);
		fprintf(stderr,
			"drain %s: corrupt data between the last good record and head (records up to seq %" PRIu64
			"): not copied\n",
			name, st.head_seq - 1);
		rs.corrupt++;
	}
	if (!follow || ring_stop)
		report_inflight(name, m.ring);
	resmem_format_size(rs.bytes, b, sizeof(b));
	fprintf(stderr, "%sdrain %s: %" PRIu64 " records (%s)", tty ? "\r" : "",
		name, rs.records, b);
	if (rs.records)
		fprintf(stderr, ", seq %" PRIu64 "..%" PRIu64, first,
			rs.seq - 1);
	fprintf(stderr, ", lost %" PRIu64 ", corrupt %" PRIu64 "\n", rs.lost,
		rs.corrupt);
	if (ret == EXIT_OK && (rs.lost || rs.corrupt))
		ret = EXIT_PROBLEM;
	if (index && fclose(index) && ret == EXIT_OK)
		ret = sys_error("cannot write", index_path, -errno);
	if (fd != 1 && close(fd) && ret == EXIT_OK)
		ret = sys_error("cannot write", to, -errno);
	free(buf);
	ring_unmap(&m);
	return ret;
}
