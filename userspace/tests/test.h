/* SPDX-License-Identifier: GPL-2.0 */
/* A tiny test framework: CHECK counts, failures say where and why. */
#ifndef RESMEM_TEST_H
#define RESMEM_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "libresmem.h"

/* Paths the tests need, from the command line. */
struct test_env {
	const char *bin;		/* the resmem CLI under test */
	const char *fixtures;		/* userspace/tests/fixtures */
	const char *tmpdir;		/* scratch directory, removed afterwards */
};

int check_(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
#define CHECK(cond, ...) check_(!!(cond), __FILE__, __LINE__, #cond, " " __VA_ARGS__)  /* " " keeps the format non-empty */

/* Run the CLI with @argv (NULL-terminated, argv[0] ignored); capture output.
 * Returns the exit status, or -1 if it did not exit normally. */
struct cli_result {
	int status;
	char out[65536];
	char err[16384];
};
int run_cli(const struct test_env *env, struct cli_result *res, const char *const *argv);

/* Write @len bytes to a new file @path; 0 or -errno. */
int write_file(const char *path, const void *buf, size_t len);

void test_size(const struct test_env *env);
void test_pattern(const struct test_env *env);
void test_memmap(const struct test_env *env);
void test_region(const struct test_env *env);
void test_cli(const struct test_env *env);
void test_check(const struct test_env *env);
void test_dt(const struct test_env *env);
void test_plan(const struct test_env *env);
void test_ring(const struct test_env *env);

#endif
