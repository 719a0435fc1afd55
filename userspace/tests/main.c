// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for libresmem and the resmem CLI (no kernel needed).
 * usage: resmem-unit-tests PATH/TO/resmem PATH/TO/fixtures
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static int passed, failed;

int check_(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return 1;
	}
	failed++;
	fprintf(stderr, "FAIL %s:%d: %s", file, line, expr);
	if (fmt[1]) {
		fprintf(stderr, ": ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt + 1, ap);
		va_end(ap);
	}
	fprintf(stderr, "\n");
	return 0;
}

int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static void slurp(int fd, char *buf, size_t len)
{
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

int run_cli(const struct test_env *env, struct cli_result *res, const char *const *argv)
{
	char out_path[512], err_path[512];
	int out, err, st;
	pid_t pid;
	size_t n;
	const char *args[64];

	snprintf(out_path, sizeof(out_path), "%s/stdout", env->tmpdir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", env->tmpdir);
	out = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	err = open(err_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	args[0] = env->bin;
	for (n = 1; argv[n] && n < 63; n++)
		args[n] = argv[n];
	args[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		execv(env->bin, (char *const *)args);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	slurp(out, res->out, sizeof(res->out));
	slurp(err, res->err, sizeof(res->err));
	res->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return res->status;
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/resmem-tests.XXXXXX";
	struct test_env env;
	char cmd[600];

	if (argc != 3) {
		fprintf(stderr, "usage: %s PATH/TO/resmem PATH/TO/fixtures\n", argv[0]);
		return 2;
	}
	env.bin = argv[1];
	env.fixtures = argv[2];
	env.tmpdir = mkdtemp(tmpl);
	if (!env.tmpdir) {
		perror("mkdtemp");
		return 2;
	}

	/* RESMEM_TESTS=dt,size runs only those suites (e.g. under valgrind) */
#define SUITE(name) if (!getenv("RESMEM_TESTS") || strstr(getenv("RESMEM_TESTS"), #name)) test_##name(&env)
	SUITE(size);
	SUITE(pattern);
	SUITE(memmap);
	SUITE(region);
	SUITE(check);
	SUITE(dt);
	SUITE(cli);
	SUITE(plan);
	SUITE(ring);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", env.tmpdir);
	if (system(cmd))
		fprintf(stderr, "warning: could not remove %s\n", env.tmpdir);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
