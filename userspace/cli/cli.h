/* SPDX-License-Identifier: GPL-2.0 */
/* The resmem CLI: one file per subcommand, shared helpers declared here. */
#ifndef RESMEM_CLI_H
#define RESMEM_CLI_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "libresmem.h"
#include "resmem_plan.h"

/* Exit codes (documented in docs/cli.md). */
enum {
	EXIT_OK = 0,
	EXIT_PROBLEM =
		1, /* verification mismatch, check/plan found a problem */
	EXIT_USAGE = 2, /* bad command line */
	EXIT_SYSTEM = 3, /* open/ioctl/mmap/read failed */
};
/*
 * A subcommand: argv[0] is its name, options follow (getopt_long style).
 * `resmem help NAME` runs it as `NAME --help`.
 */
struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_fill(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_dt(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_drain(int argc, char **argv);
int cmd_ring(int argc, char **argv);
int cmd_export(int argc, char **argv);

/*
 * version.c: `resmem --version`: the tools' version, the loaded module's
 * (@sysfs_root/module/resmem/version) and a warning when they differ.
 */
int show_version(const char *sysfs_root);

/* report.c: messages and exit codes */
/*
 * Set by -q/--quiet (before the command): notes, hints and progress meters
 * are left out.  Errors, warnings and what a command reports are not.
 */
extern int cli_quiet;
const char *errno_name(int err); /* "EACCES"; err positive */
/*
 * "resmem: WHAT OBJECT: EACCES (Permission denied)" and a hint that fits:
 * sys_error() for files (inputs, outputs, sysfs, /proc), dev_error() for
 * a resmem device (module, group, driver hints).  Both -> EXIT_SYSTEM.
 */
int sys_error(const char *what, const char *object, int neg_err);
int dev_error(const char *what, const char *object, int neg_err);
int region_error(const char *name, const char *sysfs_root,
		 int neg_err); /* open failed */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Set by --file: a command may write to a regular file named as its region
 * (fill, capture or ring --reset on a scratch file or a saved image).
 * Without it such writes are refused: a path typed by mistake must not be
 * overwritten.
 */
extern int cli_file_writes;
/* 0, or EXIT_USAGE after saying why when r is a regular file and !--file. */
int refuse_file_write(const char *cmd, const struct resmem_region *r,
		      const char *what);
/*
 * 0, or EXIT_USAGE after saying why when @fd is a terminal: binary output
 * (dump --raw, drain to stdout) is refused there unless --force, as gzip
 * refuses to write compressed data to one.
 */
int refuse_binary_tty(const char *cmd, int fd);
/* sys_error() for a failed resmem_walk() of @r with options @wo. */
int walk_error(const struct resmem_region *r, const struct resmem_walk_opts *wo,
	       int err);
int bad_option(const char *cmd, int opt,
	       const char *arg); /* getopt '?' / ':' */

/*
 * options.c: each command describes its options in a table (as daxctl's
 * BASE_OPTIONS() does), parse_options() parses argv by it (getopt_long:
 * --name VALUE, --name=VALUE, unambiguous prefixes) and --help prints a usage
 * generated from the same table.
 *
 * The one parser-return convention, for parse_options() and every parser
 * built on it: GO_ON (parsed, the command goes on; its operands are
 * argv[optind..]), or the exit code the command returns at once: EXIT_OK
 * after --help, EXIT_USAGE after saying what is wrong.
 */
#define GO_ON (-1)

struct cli_option;
/*
 * Store @arg (NULL for an option without a value) in o->value: 0, or
 * EXIT_USAGE after saying why.
 */
typedef int cli_opt_parse(const char *cmd, const struct cli_option *o,
			  const char *arg);

struct cli_option {
	/* without "--"; "" for a heading (OPT_GROUP), NULL ends the table */
	const char *name;
	/* what the value is ("SIZE", "mmap|write"); NULL: the option takes none */
	const char *arg;
	const char *help; /* one or more lines */
	void *value; /* where @parse stores it */
	cli_opt_parse *parse;
	int *given; /* set to 1 once the option is parsed; may be NULL */
	int optional; /* --name[=ARG]: the value may be left out */
	intptr_t data; /* for @parse: the value OPT_SET_INT stores */
};

cli_opt_parse opt_set_int, opt_string, opt_size, opt_via;

/* Set *(int *)v to @val. */
#define OPT_SET_INT(n, v, val, h)                                             \
	{                                                                     \
		.name = (n), .help = (h), .value = (v), .parse = opt_set_int, \
		.data = (val)                                                 \
	}
#define OPT_FLAG(n, v, h) OPT_SET_INT(n, v, 1, h)
/* *(const char **)v = the value as given. */
#define OPT_STRING(n, a, v, h)                                      \
	{                                                           \
		.name = (n), .arg = (a), .help = (h), .value = (v), \
		.parse = opt_string                                 \
	}
/* *(uint64_t *)v = a size (4096, 0x1000, 64K, 8G); *g = 1 (g may be NULL). */
#define OPT_SIZE(n, a, v, g, h)                                     \
	{                                                           \
		.name = (n), .arg = (a), .help = (h), .value = (v), \
		.parse = opt_size, .given = (g)                     \
	}
/* @cb(cmd, option, value) does the storing and checking. */
#define OPT_CALLBACK(n, a, v, cb, h)                                \
	{                                                           \
		.name = (n), .arg = (a), .help = (h), .value = (v), \
		.parse = (cb)                                       \
	}
/* *(enum resmem_access *)v from mmap or the word after it in @a ("mmap|read"). */
#define OPT_VIA(a, v, h) OPT_CALLBACK("via", a, v, opt_via, h)
/* A heading above the options that follow it in the help. */
#define OPT_GROUP(h)                    \
	{                               \
		.name = "", .help = (h) \
	}
#define OPT_END()            \
	{                    \
		.name = NULL \
	}

/* --offset and --length: a window of a region (fill, verify, dump, sync). */
#define WINDOW_OPTIONS(off, len, have_len)                 \
	OPT_SIZE("offset", "OFF", off, NULL,               \
		 "region offset to start at (default 0)"), \
		OPT_SIZE("length", "LEN", len, have_len,   \
			 "bytes from OFF (default: to the end of the region)")

/* The help of a command, around its generated option list. */
struct cli_usage {
	/* after "usage: "; more lines are indented to match */
	const char *usage;
	/* what the command does: printed before the options */
	const char *about;
	/* after the options (formats, exit status); may be NULL */
	const char *notes;
};

/* GO_ON, EXIT_OK after --help, or EXIT_USAGE: see above. */
int parse_options(const char *cmd, const struct cli_usage *u,
		  const struct cli_option *opts, int argc, char **argv);
void usage_with_options(FILE *f, const struct cli_usage *u,
			const struct cli_option *opts);

int parse_size_opt(const char *cmd, const char *opt, const char *val,
		   uint64_t *out);
/* Check --offset/--length against the region; default length = rest. */
int resolve_range(const char *cmd, const struct resmem_region_info *info,
		  int have_len, uint64_t off, uint64_t *len);

/* The command line of fill and verify (NAME PATTERN) and dump (NAME, --raw). */
struct window_args {
	const char *name;
	struct resmem_pattern pat; /* fill, verify */
	uint64_t off, len;
	int have_len;
	int raw; /* dump */
	enum resmem_access via;
};
/* The operands NAME and, with @pattern, PATTERN: GO_ON or EXIT_USAGE. */
int window_operands(const char *cmd, int pattern, int argc, char **argv,
		    struct window_args *w);

/* The options of list and info: --json, --sysfs DIR. */
struct show_args {
	int json;
	const char *sysfs;
};

/* json.c */
void json_string(FILE *f, const char *s);

/* show.c: region output shared by list and info */
void show_region_json(FILE *f, const struct resmem_region_info *r, int detail);
void show_region_line(FILE *f, const struct resmem_region_info *r,
		      int name_width);
void show_region_detail(FILE *f, const struct resmem_region_info *r);

/* progress.c: progress and rate on a terminal for long operations */
struct progress {
	const char *verb;
	const char *name;
	uint64_t total, done;
	int on;
	struct timespec start, last;
};
void progress_start(struct progress *p, const char *verb, const char *name,
		    uint64_t total);
void progress_add(struct progress *p, uint64_t n);
double progress_end(struct progress *p); /* returns elapsed seconds */

/* ring_map.c: a whole region mapped, with its ring (capture, drain, ring) */
struct ring_map {
	struct resmem_region *region;
	struct resmem_region_info info; /* a copy: outlives ring_unmap() */
	void *base;
	uint64_t size;
	struct resmem_ring *ring;
	int open_err; /* RING_ANY: why ring is NULL (0: it is not) */
};
enum ring_map_mode {
	RING_ATTACH, /* a valid ring or an error */
	RING_CREATE, /* no valid ring: create one (under the capture lock) */
	RING_ANY, /* no valid ring: ring is NULL, open_err says why */
};
/* Returns EXIT_OK, or an exit code after saying why on stderr. */
int ring_map(const char *cmd, const char *name, int writable,
	     enum ring_map_mode mode, struct ring_map *m);
void ring_unmap(struct ring_map *m);
/*
 * ring_guard.c: no silent destruction of captured data.  Each returns 0 (go
 * on), or an exit code after saying on stderr what is there and what to do
 * (EXIT_PROBLEM for a refusal).  @not_done completes "...: NOT_DONE" ("not
 * filled").  @force turns a refusal into a note.
 */
/* What a ring holds that no consumer has taken out yet. */
struct ring_unread {
	uint64_t records, bytes; /* in [cons, head), cons clamped to tail */
	uint64_t first_seq; /* the first of them (when have_first) */
	uint32_t epoch; /* the producer session that wrote it */
	uint32_t last_epoch; /* the header's: the latest session */
	int have_first;
};
/* 0 or -errno (-ENOMEM). */
int ring_guard_unread(const struct resmem_ring *r, struct ring_unread *u);
/*
 * Take the region's producer lock (capture's flock, LOCK_EX | LOCK_NB) and
 * keep it with @r's descriptor: refused while a capture runs.
 */
int ring_guard_lock(const char *cmd, const struct resmem_region *r,
		    const char *not_done, int force);
/* Refuse writing [off, off + len) of @r's ring while it has unread records. */
int ring_guard_ring(const char *cmd, const struct resmem_region *region,
		    const struct resmem_ring *r, const char *not_done,
		    int force, uint64_t off, uint64_t len);
/*
 * ring_guard_ring() for what resmem_ring_open() gave: @r, or NULL and
 * @open_err (a ring of another format version is refused too).
 */
int ring_guard_opened(const char *cmd, const struct resmem_region *region,
		      const struct resmem_ring *r, int open_err,
		      const char *not_done, int force, uint64_t off,
		      uint64_t len);
/*
 * Everything a region writer (fill) checks: ring_guard_lock(), then the ring
 * in the region, if any (one of another format version is refused too).
 */
int ring_guard_region(const char *cmd, const struct resmem_region *r,
		      const char *not_done, int force, uint64_t off,
		      uint64_t len);
/*
 * A producer about to attach: refuse unread records of an earlier session
 * (what a crash left behind) unless @allow (--overwrite-previous).
 */
int ring_guard_previous(const char *cmd, const struct resmem_region *region,
			const struct resmem_ring *r, int allow);
/*
 * ring_report.c: capture's and drain's numbers for monitors.  The command
 * keeps @total (and @unread, @data_size for the fill level) up to date and
 * calls ring_report_tick() now and then; the formatting is all here.
 */
struct ring_counts {
	uint64_t records,
		bytes; /* records copied in (capture) or out (drain) */
	uint64_t refused; /* refused by a full ring (lossy modes only) */
	uint64_t overwritten; /* overwritten before the consumer read them */
	uint64_t lost; /* a reader's gap: gone before it got there */
	uint64_t corrupt; /* failed their checks */
	uint64_t wait_ns; /* time spent waiting for room: not a loss */
};
/* Which counters a command knows (only those are printed). */
enum {
	RING_HAVE_REFUSED = 1 << 0,
	RING_HAVE_OVERWRITTEN = 1 << 1,
	RING_HAVE_LOST = 1 << 2,
	RING_HAVE_CORRUPT = 1 << 3,
	RING_HAVE_WAIT = 1 << 4,
};
struct ring_report {
	const char *cmd, *name;
	FILE *out; /* stats lines and the JSON summary */
	int json;
	double every; /* --stats N; 0: no stats lines */
	unsigned int have; /* RING_HAVE_* */
	struct ring_counts total; /* this run so far */
	struct ring_counts at_last; /* total at the last stats line */
	uint64_t data_size, unread; /* the ring's, for the fill level */
	uint64_t first_seq, last_seq; /* with have_seq */
	uint32_t epoch; /* with have_epoch */
	int have_seq, have_epoch;
	double t0, last; /* now_seconds() at start and last stats line */
};
void ring_report_start(struct ring_report *rep, const char *cmd,
		       const char *name, FILE *out, int json, double every);
/* A stats line if one is due at @now: returns 1 if printed. */
int ring_report_tick(struct ring_report *rep, double now);
/*
 * After a progress line on a terminal: "waiting for consumer 3.2 s" when
 * @since > 0 (when the wait began), then clear to the end of the line.
 */
void ring_report_waiting(const struct ring_report *rep, double since,
			 double now);
/*
 * The last (partial) stats interval, then with --json the summary object:
 * the run's totals over the whole run.
 */
void ring_report_end(struct ring_report *rep, double now);
/* --stats N: N seconds > 0 (a decimal fraction allowed). */
cli_opt_parse parse_stats_seconds;
/* Set by SIGINT/SIGTERM once ring_begin() ran: capture and drain stop cleanly. */
extern volatile sig_atomic_t ring_stop;
/*
 * What capture and drain need before their loop: a record buffer of @len
 * bytes and the stop signals caught.  EXIT_OK, or EXIT_SYSTEM after
 * unmapping @m.
 */
int ring_begin(struct ring_map *m, size_t len, unsigned char **buf);
const char *ring_strerror(int err);
/* ring_counters.c: refused, overwritten unread, waited, corrupt */
void ring_counters_print(FILE *f, const struct resmem_ring_counters *c);
/* Two lines: the producer's run, then since reset. */
void ring_counters_summary(FILE *f, const char *cmd, const char *name,
			   const struct resmem_ring *r);
/* drain_gaps.c: what drain found missing, on stderr and in --index */
struct drain_gaps {
	const char *name;
	FILE *index; /* NULL: no --index */
	int tty;
	uint64_t prev_ns; /* time_ns of the last record copied */
};
void drain_gaps_before(struct drain_gaps *g,
		       const struct resmem_ring_recinfo *ri);
void drain_gaps_end(struct drain_gaps *g,
		    const struct resmem_ring_reader_stats *rs);
#include "uring.h"

/*
 * capture_direct.c: capture --from FILE, the whole records read with
 * O_DIRECT straight into their payloads in the ring (several reads in
 * flight), committed in order once complete.  The caller's read()+copy
 * loop goes on from the file offset it leaves: the ragged end, what the
 * file gained, everything after a refusal (why says it).
 */
struct capture_direct {
	struct ring_map *m;
	const char *path;
	int fd; /* FILE open for read(): left at the first record not taken */
	uint32_t recsize;
	uint64_t count; /* records at most */
	uint64_t io_size; /* bytes per read */
	unsigned int depth; /* reads in flight */
	int copy, stop_full;
	const char *lossy; /* an option that rules it out, as the reason */
	double t0, duration; /* duration < 0: none */
	/* the progress line and stats; waiting_since > 0: waiting for room */
	void (*tick)(struct capture_direct *c, double waiting_since);
	void *arg;
	/* what happened */
	int direct; /* it ran (else why says why not, or it is empty) */
	int full; /* stopped: the ring is full (stop_full) */
	int uring_err, reg_err; /* -errno: no io_uring, no fixed buffers */
	unsigned int per_read; /* records per read (> 1: vectored, not fixed) */
	uint64_t records, bytes, mapped, file_off, limit;
	uint64_t total_bytes; /* the caller's, for the path text */
	char why[320]; /* not (or no longer) zero-copy: why */
};
/* EXIT_OK (also when it did not run) or an exit code (said). */
int capture_direct(struct capture_direct *c);
void capture_direct_path(const struct capture_direct *c, char *buf, size_t len);

/*
 * direct_io.c: --io-size and --io-depth of drain --image and capture
 * --from FILE, @op "write" or "read"; direct_io_check() says what is wrong
 * (usage_error()) or returns 0.
 */
#define OPT_DIRECT_IO(op, size, depth)                          \
	OPT_SIZE("io-size", "N", size, NULL,                    \
		 "bytes per " op                                \
		 " (default 4M; multiple of 4K, at most 64M)"), \
		OPT_SIZE("io-depth", "N", depth, NULL,          \
			 op "s in flight (default 8, at most 64)")
int direct_io_check(const char *cmd, uint64_t io_size, uint64_t depth);

/* drain_image.c: resmem drain --image (the ring as a ring file, at disk speed) */
struct image_args {
	const char *path;
	enum resmem_ring_from from;
	uint64_t io_size; /* bytes per write */
	unsigned int depth; /* writes in flight */
	int copy; /* --copy: bounce buffers even where zero-copy works */
	int consume, json;
};
/* Exit code; the region is mapped writable when a->consume. */
int drain_image(struct ring_map *m, const struct image_args *a);
/* ring_claim.c: EXIT_OK (claimed, or a regular file), else says who holds it. */
int ring_claim_producer(const char *cmd, const struct ring_map *m);
double now_seconds(void); /* CLOCK_MONOTONIC */

#endif
