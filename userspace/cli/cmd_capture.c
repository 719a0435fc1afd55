// SPDX-License-Identifier: GPL-2.0
/* resmem capture: stream records into the ring of a region through mmap. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const struct cli_usage capture_usage = {
	.usage = "resmem capture NAME [options]",
	.about =
		"Writes a stream into the crash-safe ring of the region, one record per\n"
		"N bytes (default 4096), continuing an existing ring or creating one if\n"
		"the region has none.  The format: ring-format.md in share/doc/resmem.",
	.notes =
		"Rate, fill level and drops are shown on a terminal (also while it waits);\n"
		"a summary line ends it.\n"
		"Exit: 0, 1 another producer has the ring, unread records of an earlier\n"
		"session (or no usable ring), 2 usage, 3 system error.",
};

/* --generate SEED: the pattern seq:SEED */
static int parse_seed(const char *cmd, const struct cli_option *o,
		      const char *arg)
{
	char p[96];

	snprintf(p, sizeof(p), "seq:%s", arg);
	if (resmem_pattern_parse(p, o->value))
		return usage_error(cmd, "bad --generate seed '%s'", arg);
	return 0;
}

static int parse_seconds(const char *cmd, const struct cli_option *o,
			 const char *arg)
{
	double *secs = o->value;
	char *end;

	*secs = strtod(arg, &end);
	if (*end || !(*secs >= 0))
		return usage_error(
			cmd, "bad --duration '%s': seconds, e.g. 600 or 0.5",
			arg);
	return 0;
}

struct source {
	int fd; /* -1: generated */
	struct resmem_pattern pat;
	int eof;
};

/* Read up to @len bytes of the stream (a short count only at EOF). */
static ssize_t source_read(struct source *s, void *buf, size_t len,
			   uint64_t seq)
{
	size_t got = 0;
	ssize_t n;

	if (s->fd < 0) {
		resmem_pattern_fill(&s->pat, buf, seq * len, len);
		return (ssize_t)len;
	}
	while (got < len) {
		n = read(s->fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR) {
			if (ring_stop)
				break;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0) {
			s->eof = 1;
			break;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void show(const char *name, const struct resmem_ring *r,
		 uint64_t records, uint64_t bytes, double t, int final)
{
	struct resmem_ring_counters run;
	struct resmem_ring_state st;
	char b[32], rate[32];

	resmem_ring_state(r, &st);
	resmem_ring_run_counters(r, &run);
	resmem_format_size(bytes, b, sizeof(b));
	resmem_format_size(t > 0 ? (uint64_t)((double)bytes / t) : 0, rate,
			   sizeof(rate));
	fprintf(stderr,
		"%scapture %s: %" PRIu64 " records, %s, %s/s, fill %.1f%%, ",
		final ? "" : "\r", name, records, b, rate,
		100.0 * (double)st.unread / (double)resmem_ring_data_size(r));
	ring_counters_print(stderr, &run);
	fputs(final ? "\n" : "   ", stderr);
}

/*
 * Lossy mode, at the end: give the consumer up to about a second to make
 * room for the GAP record of the last refusals, so that the stream itself
 * says where they were and when.
 */
static void mark_last_gap(struct resmem_ring *r)
{
	int i;

	for (i = 0; i < 10000 && !ring_stop; i++) {
		if (resmem_ring_flush_gap(r) != -ENOSPC)
			return;
		usleep(100);
	}
}

/*
 * --rate: offer records at no more than @rate bytes per second on average
 * since @t0, as a device of fixed bandwidth does.  @offered counts refused
 * records too: the source produced them.  Never sleeps past @duration
 * (< 0: none), which a slow rate and big records would otherwise do.
 */
static void pace(uint64_t rate, double t0, double duration, uint64_t offered)
{
	double now = now_seconds(), ahead;
	struct timespec ts;

	if (!rate)
		return;
	ahead = (double)offered / (double)rate - (now - t0);
	if (duration >= 0 && ahead > t0 + duration - now)
		ahead = t0 + duration - now;
	if (ahead <= 0)
		return;
	ts.tv_sec = (time_t)ahead;
	ts.tv_nsec = (long)((ahead - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL); /* a signal cuts it short: the loop checks */
}

/* What this run did, beside the records: for the report. */
struct capture_run {
	double waiting_since; /* > 0: waiting for room since then */
};

/*
 * The run's counters: the ring's own (since attach), plus the wait going
 * on now, which the ring only gets when it ends.
 */
static void capture_counts(struct ring_report *rep, const struct resmem_ring *r,
			   const struct capture_run *run)
{
	struct resmem_ring_counters c;
	struct resmem_ring_state st;

	resmem_ring_state(r, &st);
	resmem_ring_run_counters(r, &c);
	rep->total.refused = c.refused;
	rep->total.overwritten = c.overwritten;
	rep->total.corrupt = c.corrupt;
	rep->total.wait_ns = c.wait_ns;
	if (run->waiting_since > 0)
		rep->total.wait_ns +=
			(uint64_t)((now_seconds() - run->waiting_since) * 1e9);
	rep->unread = st.unread;
	rep->data_size = resmem_ring_data_size(r);
}

/* Stats lines, and the terminal's progress line (also while it waits). */
static void capture_tick(struct ring_report *rep, const struct resmem_ring *r,
			 const struct capture_run *run, int tty, double *last)
{
	double now = now_seconds();
	int stats_due = rep->every > 0 && now - rep->last >= rep->every;

	if (!stats_due && (!tty || now - *last < 0.5))
		return;
	capture_counts(rep, r, run);
	ring_report_tick(rep, now);
	if (!tty || now - *last < 0.5)
		return;
	show(rep->name, r, rep->total.records, rep->total.bytes, now - rep->t0,
	     0);
	ring_report_waiting(rep, run->waiting_since, now);
	*last = now;
}

/* What capture_direct() calls back with: the loop's own state. */
struct capture_loop {
	struct ring_report *rep;
	struct ring_map *m;
	struct capture_run *run;
	int tty;
	double *last;
	uint64_t records0, bytes0; /* before capture_direct() */
};

static void direct_tick(struct capture_direct *c, double waiting_since)
{
	struct capture_loop *l = c->arg;

	l->rep->total.records = l->records0 + c->records;
	l->rep->total.bytes = l->bytes0 + c->bytes;
	l->run->waiting_since = waiting_since;
	capture_tick(l->rep, l->m->ring, l->run, l->tty, l->last);
}

/*
 * --from FILE: the whole records straight into the ring where it can
 * (capture_direct.c), saying why not where it cannot; the copy loop goes
 * on from where it stopped.  EXIT_OK or an exit code.
 */
static int from_file(struct capture_direct *c, struct capture_loop *l,
		     uint64_t *records, uint64_t *bytes)
{
	int ret;

	c->arg = l;
	c->tick = direct_tick;
	l->records0 = *records;
	l->bytes0 = *bytes;
	ret = capture_direct(c);
	*records += c->records;
	*bytes += c->bytes;
	l->rep->total.records = *records;
	l->rep->total.bytes = *bytes;
	l->run->waiting_since = 0;
	if (c->why[0] && !c->direct)
		fprintf(stderr,
			"%scapture %s: no zero-copy: %s: reading with read() and copying\n",
			l->tty ? "\r" : "", l->m->info.name, c->why);
	else if (c->why[0])
		fprintf(stderr,
			"%scapture %s: zero-copy stopped after %" PRIu64
			" records: %s: the rest with read() and copying\n",
			l->tty ? "\r" : "", l->m->info.name, c->records,
			c->why);
	return ret;
}

/*
 * The ring is full and capture is lossless: wait for the consumer, the
 * progress line and stats lines going on; the time is added to the ring's
 * wait_ns (a wait, not a loss).  Returns what the last write said: 0,
 * -ENOSPC (stopped waiting: --duration or a signal), -errno.
 */
static int wait_for_room(struct ring_map *m, const void *buf, uint32_t n,
			 struct ring_report *rep, struct capture_run *run,
			 int tty, double *last, double t0, double duration)
{
	double now;
	int err;

	run->waiting_since = now_seconds();
	do {
		usleep(100);
		err = resmem_ring_write(m->ring, buf, n);
		now = now_seconds();
		if (err == -ENOSPC)
			capture_tick(rep, m->ring, run, tty, last);
	} while (err == -ENOSPC && !ring_stop &&
		 !(duration >= 0 && now - t0 >= duration));
	/* read the clock again: a stats line above may have counted past @now */
	resmem_ring_add_wait(
		m->ring,
		(uint64_t)((now_seconds() - run->waiting_since) * 1e9));
	run->waiting_since = 0;
	return err;
}

int cmd_capture(int argc, char **argv)
{
	const char *from = "-";
	struct source src = { .fd = 0 };
	uint64_t recsize = 4096, count = UINT64_MAX, records = 0, bytes = 0,
		 refused = 0, seq0, rate = 0;
	double duration = -1, t0, last, now;
	int ret, generate = 0, stop_full = 0, overwrite = 0, drop_full = 0,
		 tty = isatty(STDERR_FILENO) && !cli_quiet, err;
	int force = 0, from_given = 0, previous = 0, json = 0, rate_given = 0;
	double stats = 0;
	struct ring_report rep;
	struct capture_run run = { 0 };
	struct capture_direct cd = { .io_size = 4 << 20 };
	struct capture_loop loop;
	uint64_t depth = 8;
	char path[400];
	uint32_t fl;
	struct resmem_ring_state st;
	struct ring_map m;
	unsigned char *buf;
	ssize_t n;
	const struct cli_option options[] = {
		{ .name = "from",
		  .arg = "FILE|-",
		  .help = "read the stream from FILE or stdin (default: stdin)",
		  .value = &from,
		  .parse = opt_string,
		  .given = &from_given },
		{ .name = "generate",
		  .arg = "SEED",
		  .help = "synthetic stream instead: record seq s holds the bytes of\n"
			  "pattern seq:SEED at stream offset s * N",
		  .value = &src.pat,
		  .parse = parse_seed,
		  .given = &generate },
		OPT_SIZE("record-size", "N", &recsize, NULL,
			 "bytes per record (default 4096)"),
		OPT_CALLBACK("duration", "S", &duration, parse_seconds,
			     "stop after S seconds (decimal fraction allowed)"),
		OPT_SIZE("count", "N", &count, NULL, "stop after N records"),
		OPT_SIZE("rate", "BYTES", &rate, &rate_given,
			 "offer at most BYTES per second (e.g. 64M), refused\n"
			 "records included: a source of fixed bandwidth, as a\n"
			 "device is (default: as fast as it comes)"),
		OPT_FLAG("file", &cli_file_writes,
			 "NAME may be a regular file without a ring: create one\n"
			 "in it (without it, such a file is left alone)"),
		OPT_GROUP(
			"--from FILE, read with O_DIRECT straight into the ring:"),
		OPT_DIRECT_IO("read", &cd.io_size, &depth),
		OPT_FLAG("copy", &cd.copy,
			 "read() and copy even where O_DIRECT could\n"
			 "read straight into the ring (for comparison)"),
		OPT_GROUP(
			"When the ring is full (the consumer, resmem drain, is behind), capture\n"
			"waits for the consumer: nothing is lost.  Or:"),
		OPT_FLAG("stop-when-full", &stop_full, "stop capturing"),
		OPT_FLAG(
			"overwrite", &overwrite,
			"overwrite the oldest records (drain reports them lost)"),
		OPT_FLAG("drop-when-full", &drop_full,
			 "refuse new records while it is full (counted as refused,\n"
			 "marked by a gap record before the next one kept)"),
		OPT_GROUP(
			"One producer at a time: a capture holds an exclusive lock (flock) on the\n"
			"region while it runs, and refuses a ring a kernel driver has open:"),
		OPT_FLAG("force", &force,
			 "take over a ring left open by a kernel producer that\n"
			 "is gone (the machine went down while it produced)"),
		OPT_GROUP(
			"A ring with records no drain has taken out (what a crash left behind)\n"
			"is refused, so that a restarted capture cannot erase them:"),
		OPT_FLAG("overwrite-previous", &previous,
			 "capture even so: new records follow them (with --overwrite,\n"
			 "they may be overwritten)"),
		OPT_GROUP("Numbers for monitors:"),
		OPT_FLAG("json", &json,
			 "print the summary as one JSON object on stdout"),
		OPT_CALLBACK(
			"stats", "N", &stats, parse_stats_seconds,
			"every N seconds one line on stdout (with --json, a JSON\n"
			"object) with what this interval added: the lines add\n"
			"up to the summary"),
		OPT_END(),
	};

	ret = parse_options("capture", &capture_usage, options, argc, argv);
	if (ret != GO_ON)
		return ret;
	if (argc - optind != 1)
		return usage_error("capture", "expected NAME");
	if (stop_full + overwrite + drop_full > 1)
		return usage_error(
			"capture",
			"--stop-when-full, --overwrite and --drop-when-full exclude each other");
	if (generate && from_given)
		return usage_error("capture",
				   "--from and --generate exclude each other");
	if (rate_given && !rate)
		return usage_error("capture",
				   "--rate must be at least 1 byte per second");
	if (!recsize || recsize > RESMEM_RING_MAX_PAYLOAD)
		return usage_error("capture", "--record-size must be 1 .. 1G");
	ret = direct_io_check("capture", cd.io_size, depth);
	if (ret)
		return ret;
	if (generate) {
		src.fd = -1;
	} else if (strcmp(from, "-")) {
		src.fd = open(from, O_RDONLY);
		if (src.fd < 0)
			return sys_error("cannot open", from, -errno);
	}
	ret = ring_map("capture", argv[optind], 1, RING_CREATE, &m);
	if (ret)
		return ret;
	/* the lock goes with the open file: released when capture exits, even killed */
	if (flock(resmem_region_get_fd(m.region), LOCK_EX | LOCK_NB)) {
		err = errno;
		ring_unmap(&m);
		if (err == EWOULDBLOCK) {
			fprintf(stderr,
				"capture: %s: another resmem capture is producing into this ring: one producer at a time\n",
				argv[optind]);
			return EXIT_PROBLEM;
		}
		return dev_error("cannot lock", argv[optind], -err);
	}
	ret = ring_claim_producer("capture", &m);
	if (ret) {
		ring_unmap(&m);
		return ret;
	}
	resmem_ring_state(m.ring, &st);
	fl = st.flags;
	if ((fl & RESMEM_RING_F_KERNEL) && !(fl & RESMEM_RING_F_CLOSED) &&
	    !force) {
		fprintf(stderr,
			"capture: %s: a kernel driver has this ring open as its producer (or had, when the machine went down): stop the driver, or use --force if it is gone\n",
			argv[optind]);
		ring_unmap(&m);
		return EXIT_PROBLEM;
	}
	ret = ring_guard_previous("capture", m.region, m.ring, previous);
	if (ret) {
		ring_unmap(&m);
		return ret;
	}
	if (recsize > resmem_ring_max_payload(resmem_ring_data_size(m.ring))) {
		ring_unmap(&m);
		return usage_error("capture",
				   "--record-size %" PRIu64
				   " is more than this ring takes (%" PRIu64
				   ")",
				   recsize,
				   (uint64_t)resmem_ring_max_payload(
					   resmem_ring_data_size(m.ring)));
	}
	ret = ring_begin(&m, recsize, &buf);
	if (ret)
		return ret;
	err = resmem_ring_attach(m.ring,
				 overwrite ? RESMEM_RING_F_OVERWRITE : 0);
	if (err) {
		fprintf(stderr, "capture: %s: %s\n", m.info.name,
			ring_strerror(err));
		free(buf);
		ring_unmap(&m);
		return EXIT_PROBLEM;
	}
	seq0 = resmem_ring_next_seq(m.ring);
	ring_report_start(&rep, "capture", m.info.name, stdout, json, stats);
	rep.have = RING_HAVE_REFUSED | RING_HAVE_OVERWRITTEN | RING_HAVE_WAIT |
		   RING_HAVE_CORRUPT;
	t0 = last = now_seconds();
	ret = EXIT_OK;
	if (src.fd > 0) {
		cd.m = &m;
		cd.path = from;
		cd.fd = src.fd;
		cd.recsize = (uint32_t)recsize;
		cd.count = count;
		cd.depth = (unsigned int)depth;
		cd.stop_full = stop_full;
		cd.lossy =
			drop_full ?
				"--drop-when-full refuses records one at a time" :
			rate ? "--rate paces record by record" :
			       NULL;
		cd.t0 = t0;
		cd.duration = duration;
		loop = (struct capture_loop){ .rep = &rep,
					      .m = &m,
					      .run = &run,
					      .tty = tty,
					      .last = &last };
		ret = from_file(&cd, &loop, &records, &bytes);
		if (cd.full)
			fprintf(stderr,
				"%scapture %s: ring full after %" PRIu64
				" records: stopped\n",
				tty ? "\n" : "", m.info.name, records);
	}
	while (ret == EXIT_OK && !cd.full && !ring_stop &&
	       records + refused < count && !src.eof) {
		now = now_seconds();
		if (duration >= 0 && now - t0 >= duration)
			break;
		capture_tick(&rep, m.ring, &run, tty, &last);
		pace(rate, t0, duration, bytes + refused * recsize);
		if (duration >= 0 && now_seconds() - t0 >= duration)
			break;
		n = source_read(&src, buf, recsize,
				resmem_ring_next_seq(m.ring));
		if (n < 0) {
			ret = sys_error("cannot read", from, (int)n);
			break;
		}
		if (n == 0)
			break;
		err = resmem_ring_write(m.ring, buf, (uint32_t)n);
		if (err == -ENOSPC && drop_full) {
			if (!resmem_ring_refuse(m.ring)) {
				refused++;
				continue;
			}
		} else if (err == -ENOSPC && !stop_full) {
			err = wait_for_room(&m, buf, (uint32_t)n, &rep, &run,
					    tty, &last, t0, duration);
		}
		if (err == -ENOSPC) {
			if (stop_full)
				fprintf(stderr,
					"%scapture %s: ring full after %" PRIu64
					" records: stopped\n",
					tty ? "\n" : "", m.info.name, records);
			break;
		}
		if (err) {
			ret = sys_error("cannot write a record to",
					resmem_region_get_path(m.region), err);
			break;
		}
		records++;
		bytes += (uint64_t)n;
		rep.total.records = records;
		rep.total.bytes = bytes;
		resmem_ring_notify(m.region, m.ring);
	}
	if (drop_full)
		mark_last_gap(m.ring);
	resmem_ring_close(m.ring);
	resmem_ring_notify(m.region, m.ring);
	resmem_ring_state(m.ring, &st);
	if (tty)
		fprintf(stderr, "\r");
	capture_counts(&rep, m.ring, &run);
	rep.first_seq = seq0;
	rep.last_seq = resmem_ring_next_seq(m.ring) - 1;
	rep.have_seq = records + refused > 0;
	rep.epoch = (uint32_t)st.epoch;
	rep.have_epoch = 1;
	ring_report_end(&rep, now_seconds());
	if (!json) {
		show(m.info.name, m.ring, records, bytes, now_seconds() - t0,
		     1);
		fprintf(stderr,
			"capture %s: seq %" PRIu64 "..%" PRIu64 " (%" PRIu64
			" refused), epoch %u\n",
			m.info.name, seq0, resmem_ring_next_seq(m.ring) - 1,
			refused, (uint32_t)st.epoch);
		ring_counters_summary(stderr, "capture", m.info.name, m.ring);
		if (src.fd > 0) {
			cd.total_bytes = bytes;
			capture_direct_path(&cd, path, sizeof(path));
			fprintf(stderr, "capture %s: path: %s\n", m.info.name,
				path);
		}
	}
	free(buf);
	ring_unmap(&m);
	if (src.fd > 0)
		close(src.fd);
	return ret;
}
