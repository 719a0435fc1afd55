// SPDX-License-Identifier: GPL-2.0
/* resmem drain: copy committed ring records out, in order, reporting gaps. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const struct cli_usage drain_usage = {
	.usage = "resmem drain NAME [options]",
	.about =
		"Copies the payload of every committed record of the region's ring, in\n"
		"order, to FILE (default: stdout), checking each record's sequence number\n"
		"and CRC32C.  Missing records are reported on stderr by kind: lost\n"
		"(overwritten before they were read), refused (the producer's ring was\n"
		"full in a lossy mode: gap records) and corrupt (never copied).",
	.notes =
		"--image FILE writes the ring itself instead: its committed records, as a\n"
		"ring file that resmem drain FILE reads back (checking every CRC), with\n"
		"direct I/O straight from the region's mapping where it has struct pages;\n"
		"cons moves once the image is on the disk (fdatasync).\n"
		"Exit: 0 all records intact, 1 records lost, refused or corrupt (or no\n"
		"ring, or FILE not empty without --append), 2 usage, 3 system error.",
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

/*
 * Open @path to write to, never truncating: an existing regular file that is
 * not empty is refused (exit 1, its size said) unless @append, which writes
 * after its end.  *@size is where our bytes start.  0 or an exit code.
 */
static int open_output(const char *path, int append, int *fd, uint64_t *size)
{
	struct stat sb;
	char sz[32];

	*fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : 0), 0644);
	if (*fd < 0)
		return sys_error("cannot create", path, -errno);
	if (fstat(*fd, &sb)) {
		close(*fd);
		return sys_error("cannot stat", path, -errno);
	}
	*size = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
	if (*size && !append) {
		resmem_format_size(*size, sz, sizeof(sz));
		fprintf(stderr,
			"drain: %s already holds %" PRIu64
			" bytes (%s): not overwritten.\n"
			"  Add --append to add the records after them, or name a new file\n",
			path, *size, sz);
		close(*fd);
		return EXIT_PROBLEM;
	}
	return 0;
}

/* The reader's counts and the ring's fill level into @rep. */
static void drain_counts(struct ring_report *rep, const struct resmem_ring *r,
			 const struct resmem_ring_reader_stats *rs)
{
	struct resmem_ring_state st;

	resmem_ring_state(r, &st);
	rep->total.records = rs->records;
	rep->total.bytes = rs->bytes;
	rep->total.lost = rs->lost;
	rep->total.refused = rs->refused;
	rep->total.corrupt = rs->corrupt;
	rep->unread = st.unread;
	rep->data_size = resmem_ring_data_size(r);
}

/* A --stats line if one is due. */
static void drain_tick(struct ring_report *rep, const struct resmem_ring *r,
		       const struct resmem_ring_reader *rd)
{
	struct resmem_ring_reader_stats rs;
	double now;

	if (rep->every <= 0 || (now = now_seconds()) - rep->last < rep->every)
		return;
	resmem_ring_reader_stats(rd, &rs);
	drain_counts(rep, r, &rs);
	ring_report_tick(rep, now);
}

/* drain --image: checks, the ring mapped, drain_image(). */
static int drain_to_image(const char *name, struct image_args *a,
			  uint64_t depth, enum resmem_ring_from from,
			  int consume, int json, int other)
{
	struct ring_map m;
	unsigned char *buf;
	char path[256];
	int ret;

	if (other)
		return usage_error(
			"drain",
			"--image writes the ring itself: --to, --follow, --index, --append and --stats do not go with it");
	ret = direct_io_check("drain", a->io_size, depth);
	if (ret)
		return ret;
	a->depth = (unsigned int)depth;
	a->from = from;
	a->consume = consume;
	a->json = json;
	/*
	 * Writable even with --no-consume where we may: io_uring registers
	 * only pages it could write (FOLL_WRITE), a read-only mapping's
	 * fixed buffers fail with EFAULT.  cons is left alone all the same.
	 */
	ret = ring_map("drain", name,
		       consume || (!resmem_dev_path(name, path, sizeof(path)) &&
				   !access(path, W_OK)),
		       RING_ATTACH, &m);
	if (ret)
		return ret;
	ret = ring_begin(&m, 1, &buf); /* SIGINT/SIGTERM stop it cleanly */
	if (ret)
		return ret;
	free(buf);
	ret = drain_image(&m, a);
	ring_unmap(&m);
	return ret;
}

int cmd_drain(int argc, char **argv)
{
	const char *to = "-", *index_path = NULL, *name;
	struct image_args img = { .io_size = 4 << 20 };
	uint64_t depth = 8;
	int to_given = 0;
	enum resmem_ring_from from = RESMEM_RING_FROM_CONS;
	int ret, follow = 0, consume = 1, fd = 1,
		 tty = isatty(STDERR_FILENO) && !cli_quiet, n, err, force = 0;
	struct resmem_ring_reader *rd;
	struct resmem_ring_reader_stats rs = { 0 };
	struct resmem_ring_state st;
	struct resmem_ring_recinfo ri;
	struct ring_map m;
	uint64_t out_off = 0, first = 0, last_seq = 0;
	double t0, last, now;
	size_t cap = 1 << 20;
	unsigned char *buf;
	FILE *index = NULL;
	int append = 0, json = 0, index_fd;
	uint64_t index_size;
	double stats = 0;
	struct ring_report rep;
	char b[32], rate[32];
	struct drain_gaps gaps = { .tty = tty };
	const struct cli_option options[] = {
		{ .name = "to",
		  .arg = "FILE|-",
		  .help = "write the payloads to FILE (default -: stdout)",
		  .value = &to,
		  .parse = opt_string,
		  .given = &to_given },
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
			"one line per record: seq offset-in-output length epoch\n"
			"time_ns; one per gap: gap first last count kind first_ns\n"
			"last_ns"),
		OPT_FLAG("force", &force,
			 "write to stdout even when it is a terminal (refused\n"
			 "without: the payloads are binary)"),
		OPT_FLAG("append", &append,
			 "add to FILE (and the --index file) when it is not empty:\n"
			 "without it such a file is refused, never truncated"),
		OPT_GROUP("The ring itself to a disk, as a ring file:"),
		OPT_STRING(
			"image", "FILE", &img.path,
			"write the committed records as a ring file FILE (new or\n"
			"empty): O_DIRECT io_uring writes from the mapping"),
		OPT_DIRECT_IO("write", &img.io_size, &depth),
		OPT_FLAG("copy", &img.copy,
			 "copy through bounce buffers even where the mapping\n"
			 "could be written directly (for comparison)"),
		OPT_GROUP(
			"Numbers for monitors (on stdout; on stderr when the records go there):"),
		OPT_FLAG("json", &json, "print the summary as one JSON object"),
		OPT_CALLBACK(
			"stats", "N", &stats, parse_stats_seconds,
			"every N seconds one line (with --json, a JSON object)\n"
			"with what this interval added: the lines add up to the\n"
			"summary"),
		OPT_END(),
	};

	ret = parse_options("drain", &drain_usage, options, argc, argv);
	if (ret != GO_ON)
		return ret;
	if (argc - optind != 1)
		return usage_error("drain", "expected NAME");
	if (img.path)
		return drain_to_image(argv[optind], &img, depth, from, consume,
				      json,
				      to_given || follow || index_path ||
					      append || stats > 0);
	if (!strcmp(to, "-") && !force &&
	    refuse_binary_tty("drain", STDOUT_FILENO))
		return EXIT_USAGE;
	ret = ring_map("drain", argv[optind], consume, RING_ATTACH, &m);
	if (ret)
		return ret;
	name = m.info.name;
	if (strcmp(to, "-")) {
		ret = open_output(to, append, &fd, &out_off);
		if (ret) {
			ring_unmap(&m);
			return ret;
		}
	}
	if (index_path) {
		ret = open_output(index_path, append, &index_fd, &index_size);
		if (!ret) {
			index = fdopen(index_fd, "a");
			if (!index) {
				close(index_fd);
				ret = sys_error("cannot open", index_path,
						-errno);
			}
		}
		if (ret) {
			if (fd != 1)
				close(fd);
			ring_unmap(&m);
			return ret;
		}
	}
	gaps.name = name;
	gaps.index = index;
	/* the records may be what goes to stdout: the numbers go aside then */
	ring_report_start(&rep, "drain", name,
			  strcmp(to, "-") ? stdout : stderr, json, stats);
	rep.have = RING_HAVE_LOST | RING_HAVE_REFUSED | RING_HAVE_CORRUPT;
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
			drain_tick(&rep, m.ring, rd);
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
		drain_gaps_before(&gaps, &ri);
		if (rs.records == 1)
			first = ri.seq;
		last_seq = ri.seq;
		err = resmem_write_all(fd, buf, ri.len);
		if (err) {
			ret = sys_error("cannot write", to, err);
			break;
		}
		if (index)
			fprintf(index,
				"%" PRIu64 " %" PRIu64 " %u %u %" PRIu64 "\n",
				ri.seq, out_off, ri.len, ri.epoch, ri.time_ns);
		out_off += ri.len;
		if (consume)
			resmem_ring_consume(rd);
		drain_tick(&rep, m.ring, rd);
		if (tty && (rs.records & 255) == 0 &&
		    (now = now_seconds()) - last >= 0.5) {
			resmem_format_size(rs.bytes, b, sizeof(b));
			resmem_format_size(
				(uint64_t)((double)rs.bytes / (now - t0)), rate,
				sizeof(rate));
			fprintf(stderr,
				"\rdrain %s: %" PRIu64
				" records, %s, %s/s, lost %" PRIu64
				", refused %" PRIu64 ", corrupt %" PRIu64 "   ",
				name, rs.records, b, rate, rs.lost, rs.refused,
				rs.corrupt);
			last = now;
		}
	}
	resmem_ring_reader_stats(rd, &rs);
	drain_gaps_end(&gaps, &rs);
	if (consume && !rs.scanning) /* a GAP record or refusals at the end */
		resmem_ring_consume(rd);
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
	drain_counts(&rep, m.ring, &rs);
	rep.first_seq = first;
	rep.last_seq = rs.seq - 1;
	rep.have_seq = rs.records > 0;
	if (tty && json)
		fprintf(stderr, "\r");
	ring_report_end(&rep, now_seconds());
	resmem_format_size(rs.bytes, b, sizeof(b));
	if (!json) {
		fprintf(stderr, "%sdrain %s: %" PRIu64 " records (%s)",
			tty ? "\r" : "", name, rs.records, b);
		if (rs.records)
			fprintf(stderr, ", seq %" PRIu64 "..%" PRIu64, first,
				last_seq);
		fprintf(stderr,
			", lost %" PRIu64 ", refused %" PRIu64
			", corrupt %" PRIu64 "\n",
			rs.lost, rs.refused, rs.corrupt);
	}
	if (ret == EXIT_OK && (rs.lost || rs.refused || rs.corrupt))
		ret = EXIT_PROBLEM;
	if (index && fclose(index) && ret == EXIT_OK)
		ret = sys_error("cannot write", index_path, -errno);
	if (fd != 1 && close(fd) && ret == EXIT_OK)
		ret = sys_error("cannot write", to, -errno);
	free(buf);
	ring_unmap(&m);
	return ret;
}
