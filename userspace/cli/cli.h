/* SPDX-License-Identifier: GPL-2.0 */
/* The resmem CLI: one file per subcommand, shared helpers declared here. */
#ifndef RESMEM_CLI_H
#define RESMEM_CLI_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "libresmem.h"

/* Exit codes (documented in docs/cli.md). */
enum {
	EXIT_OK = 0,
	EXIT_PROBLEM =
		1, /* verification mismatch, check/plan found a problem */
	EXIT_USAGE = 2, /* bad command line */
	EXIT_SYSTEM = 3, /* open/ioctl/mmap/read failed */
};
/* From a shared option parser: parsed, the command goes on (not an exit code). */
#define GO_ON (-1)

/* A subcommand: argv[0] is its name, options follow (getopt_long style). */
struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
	void (*help)(FILE *f);
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
void help_list(FILE *f);
void help_info(FILE *f);
void help_fill(FILE *f);
void help_verify(FILE *f);
void help_dump(FILE *f);
void help_check(FILE *f);
void help_plan(FILE *f);
void help_dt(FILE *f);
void help_sync(FILE *f);
void help_capture(FILE *f);
void help_drain(FILE *f);
void help_ring(FILE *f);

/* report.c: messages and exit codes */
const char *errno_name(int err); /* "EACCES"; err positive */
int sys_error(const char *what, const char *object,
	      int neg_err); /* -> EXIT_SYSTEM */
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
/* sys_error() for a failed resmem_walk() of @r with options @wo. */
int walk_error(const struct resmem_region *r, const struct resmem_walk_opts *wo,
	       int err);
int bad_option(const char *cmd, int opt,
	       const char *arg); /* getopt '?' / ':' */

/* options.c: values shared by the commands */
int parse_size_opt(const char *cmd, const char *opt, const char *val,
		   uint64_t *out);
int parse_via_opt(const char *cmd, const char *val, enum resmem_access *via);
/* "8G", "512M", "0x1234": the shortest exact memparse spelling of @v. */
char *format_memparse(uint64_t v, char *buf, size_t len);
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
/* GO_ON, or the exit code after showing help or saying what is wrong. */
int parse_window_args(const char *cmd, void (*help)(FILE *f), int argc,
		      char **argv, struct window_args *w);

/* The options of list and info: --json, --sysfs DIR (arguments left to them). */
struct show_args {
	int json;
	const char *sysfs;
};
/* GO_ON, or the exit code after showing help or saying what is wrong. */
int parse_show_args(const char *cmd, void (*help)(FILE *f), int argc,
		    char **argv, struct show_args *a);

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
	struct resmem_ring ring;
};
/* Returns EXIT_OK, or an exit code after saying why on stderr. */
int ring_map(const char *cmd, const char *name, int writable, int create,
	     struct ring_map *m);
void ring_unmap(struct ring_map *m);
/* Set by SIGINT/SIGTERM once ring_begin() ran: capture and drain stop cleanly. */
extern volatile sig_atomic_t ring_stop;
/*
 * What capture and drain need before their loop: a record buffer of @len
 * bytes and the stop signals caught.  EXIT_OK, or EXIT_SYSTEM after
 * unmapping @m.
 */
int ring_begin(struct ring_map *m, size_t len, unsigned char **buf);
const char *ring_strerror(int err);
double now_seconds(void); /* CLOCK_MONOTONIC */

#endif
