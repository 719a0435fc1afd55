// SPDX-License-Identifier: GPL-2.0
/*
 * The CLI's refusals to destroy captured data (cli/ring_guard.c) and its
 * numbers (cli/ring_report.c), run here too so that the sanitizer and
 * valgrind builds go through them: fill over unread records of 100000 bytes
 * (bigger than the guard's first read buffer) is refused, capture into them
 * is refused, drain --append continues the index, --json is one object.
 * tests/test_ring_cli.py holds the full host tests.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libresmem.h"

#include "test.h"

static long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : (long)sb.st_size;
}

void test_ring_guard(const struct test_env *env)
{
	struct cli_result *res = malloc(sizeof(*res));
	char region[512], outp[512], idxp[512];
	int fd;

	if (!CHECK(res))
		return;
	snprintf(region, sizeof(region), "%s/guard-region", env->tmpdir);
	snprintf(outp, sizeof(outp), "%s/guard-out", env->tmpdir);
	snprintf(idxp, sizeof(idxp), "%s/guard-idx", env->tmpdir);
	fd = open(region, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (!CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0)) {
		free(res);
		return;
	}
	close(fd);
	run_cli(env, res, (const char *[]){ "", "capture", region, "--file", "--generate", "5", "--count", "3",
					    "--record-size", "100000", NULL });
	CHECK(res->status == 0, "capture: %s", res->err);

	run_cli(env, res, (const char *[]){ "", "fill", region, "zero", "--file", NULL });
	CHECK(res->status == 1 && strstr(res->err, "3 unread records") && strstr(res->err, "from seq 0, epoch 1"),
	      "fill over unread records: %d %s", res->status, res->err);
	run_cli(env, res, (const char *[]){ "", "capture", region, "--generate", "5", "--count", "1", NULL });
	CHECK(res->status == 1 && strstr(res->err, "--overwrite-previous"), "capture: %d %s", res->status,
	      res->err);

	CHECK(write_file(outp, "old", 3) == 0 && write_file(idxp, "", 0) == 0);
	run_cli(env, res, (const char *[]){ "", "drain", region, "--to", outp, "--index", idxp, NULL });
	CHECK(res->status == 1 && strstr(res->err, "already holds 3 bytes"), "drain: %d %s", res->status,
	      res->err);
	run_cli(env, res, (const char *[]){ "", "drain", region, "--to", outp, "--index", idxp, "--append",
					    "--json", "--stats", "1000", NULL });
	CHECK(res->status == 0 && strstr(res->out, "{\"type\": \"stats\"") &&
	      strstr(res->out, "\n{\"type\": \"summary\", \"command\": \"drain\"") &&
	      strstr(res->out, "\"records\": 3, \"bytes\": 300000,"),
	      "drain --append --json: %d %s %s", res->status, res->out, res->err);
	CHECK(file_size(outp) == 300003, "appended: %ld bytes", file_size(outp));
	run_cli(env, res, (const char *[]){ "", "fill", region, "zero", "--file", NULL });
	CHECK(res->status == 0, "fill once drained: %d %s", res->status, res->err);
	free(res);
}
