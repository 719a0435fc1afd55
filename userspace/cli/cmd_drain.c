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

void help_drain(FILE *f)
{
	fprintf(f,
		"usage: resmem drain NAME [--to FILE|-] [--follow] [--from cons|tail|head]\n"
		"                    [--no-consume] [--index FILE]\n"
		"\n"
		"Copies the payload of every committed record of the region's ring, in\n"
		"order, to FILE (default: stdout), checking each record's sequence number\n"
		"and CRC32C.  Records overwritten before they were read are reported as\n"
		"lost, damaged ones as corrupt (never copied), on stderr.\n"
		"  --follow        keep going: wait for new records until the producer\n"
		"                  closes the ring (end of stream) or SIGINT/SIGTERM\n"
		"  --from WHERE    cons: where the last drain stopped (default); tail: the\n"
		"                  oldest record still there; head: only new records\n"
		"  --no-consume    do not mark records consumed (a second reader)\n"
		"  --index FILE    one line per record: seq offset-in-output length epoch\n"
		"Exit: 0 all records intact, 1 records lost or corrupt (or no ring),\n"
		"2 usage, 3 system error.\n");
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
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
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "follow", no_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 'F' },
		{ "no-consume", no_argument, NULL, 'n' },
		{ "index", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *to = "-", *index_path = NULL, *name;
	enum resmem_ring_from from = RESMEM_RING_FROM_CONS;
	int c, ret, follow = 0, consume = 1, fd = 1,
		    tty = isatty(STDERR_FILENO), n, err;
	struct resmem_ring_reader rd;
	struct resmem_ring_recinfo ri;
	struct ring_map m;
	uint64_t out_off = 0, first = 0, idle = 0;
	double t0, last, now;
	size_t cap = 1 << 20;
	unsigned char *buf;
	FILE *index = NULL;
	char b[32], rate[32];

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			to = optarg;
			break;
		case 'f':
			follow = 1;
			break;
		case 'n':
			consume = 0;
			break;
		case 'i':
			index_path = optarg;
			break;
		case 'F':
			if (!strcmp(optarg, "cons"))
				from = RESMEM_RING_FROM_CONS;
			else if (!strcmp(optarg, "tail"))
				from = RESMEM_RING_FROM_TAIL;
			else if (!strcmp(optarg, "head"))
				from = RESMEM_RING_FROM_HEAD;
			else
				return usage_error(
					"drain",
					"bad --from '%s': cons, tail or head",
					optarg);
			break;
		case 'h':
			help_drain(stdout);
			return EXIT_OK;
		default:
			return bad_option("drain", c, argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return usage_error("drain", "expected NAME");
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
	resmem_ring_reader_init(&rd, &m.ring, from);
	t0 = last = now_seconds();
	ret = EXIT_OK;
	while (!ring_stop) {
		n = resmem_ring_read(&rd, buf, cap, &ri);
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
			if ((__atomic_load_n(&m.ring.hdr->flags,
					     __ATOMIC_ACQUIRE) &
			     RESMEM_RING_F_CLOSED) &&
			    __atomic_load_n(&m.ring.hdr->head,
					    __ATOMIC_ACQUIRE) == rd.pos)
				break;
			usleep(idle++ < 100 ? 50 : 1000);
			continue;
		}
		idle = 0;
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
		if (rd.records == 1)
			first = ri.seq;
		err = write_all(fd, buf, ri.len);
		if (err) {
			ret = sys_error("cannot write", to, err);
			break;
		}
		if (index)
			fprintf(index, "%" PRIu64 " %" PRIu64 " %u %u\n",
				ri.seq, out_off, ri.len, ri.epoch);
		out_off += ri.len;
		if (consume)
			resmem_ring_consume(&rd);
		if (tty && (rd.records & 255) == 0 &&
		    (now = now_seconds()) - last >= 0.5) {
			resmem_format_size(rd.bytes, b, sizeof(b));
			resmem_format_size(
				(uint64_t)((double)rd.bytes / (now - t0)), rate,
				sizeof(rate));
			fprintf(stderr,
				"\rdrain %s: %" PRIu64
				" records, %s, %s/s, lost %" PRIu64
				", corrupt %" PRIu64 "   ",
				name, rd.records, b, rate, rd.lost, rd.corrupt);
			last = now;
		}
	}
	if (rd.scanning) {
		fprintf(stderr,
			"drain %s: corrupt data between the last good record and head (records up to seq %" PRIu64
			"): not copied\n",
			name,
			(uint64_t)__atomic_load_n(&m.ring.hdr->head_seq,
						  __ATOMIC_RELAXED) -
				1);
		rd.corrupt++;
	}
	if (!follow || ring_stop)
		report_inflight(name, &m.ring);
	resmem_format_size(rd.bytes, b, sizeof(b));
	fprintf(stderr, "%sdrain %s: %" PRIu64 " records (%s)", tty ? "\r" : "",
		name, rd.records, b);
	if (rd.records)
		fprintf(stderr, ", seq %" PRIu64 "..%" PRIu64, first,
			rd.seq - 1);
	fprintf(stderr, ", lost %" PRIu64 ", corrupt %" PRIu64 "\n", rd.lost,
		rd.corrupt);
	if (ret == EXIT_OK && (rd.lost || rd.corrupt))
		ret = EXIT_PROBLEM;
	if (index && fclose(index) && ret == EXIT_OK)
		ret = sys_error("cannot write", index_path, -errno);
	if (fd != 1 && close(fd) && ret == EXIT_OK)
		ret = sys_error("cannot write", to, -errno);
	free(buf);
	ring_unmap(&m);
	return ret;
}
