// SPDX-License-Identifier: GPL-2.0
/*
 * resmem capture / drain / ring on a regular file standing in for a region:
 * a file streamed in comes back byte for byte; overwritten records are
 * reported as a gap of exactly that many; a damaged record is reported
 * corrupt and not copied; --reset empties the ring.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "libresmem.h"

#include "test.h"

static int read_whole(const char *path, unsigned char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap);
	close(fd);
	if (n < 0)
		return -1;
	*len = (size_t)n;
	return 0;
}

void test_ring_cli(const struct test_env *env)
{
	static unsigned char in[300001], out[400000];
	char region[512], inp[512], outp[512];
	struct cli_result *res = malloc(sizeof(*res));
	size_t i, len = 0;
	int fd;

	if (!CHECK(res))
		return;
	snprintf(region, sizeof(region), "%s/ring-region", env->tmpdir);
	snprintf(inp, sizeof(inp), "%s/ring-in", env->tmpdir);
	snprintf(outp, sizeof(outp), "%s/ring-out", env->tmpdir);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(resmem_seq_word(3, i & ~7ULL) >> (8 * (i & 7)));
	fd = open(region, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (!CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0))
		return;
	close(fd);
	CHECK(write_file(inp, in, sizeof(in)) == 0);

	/* a regular file without a ring is only written with --file */
	run_cli(env, res, (const char *[]){ "", "capture", region, "--from", inp, NULL });
	CHECK(res->status == 2 && strstr(res->err, "is a regular file, not a resmem region"),
	      "capture into a plain file without --file: %d %s", res->status, res->err);
	run_cli(env, res, (const char *[]){ "", "ring", region, "--reset", NULL });
	CHECK(res->status == 2, "ring --reset of a plain file without --file: %d %s", res->status, res->err);
	run_cli(env, res, (const char *[]){ "", "capture", region, "--from", inp, "--record-size", "1000",
					    "--file", NULL });
	CHECK(res->status == 0 && strstr(res->err, "created an empty one") &&
	      strstr(res->err, "301 records"), "capture: %d %s", res->status, res->err);
	run_cli(env, res, (const char *[]){ "", "ring", region, NULL });
	CHECK(res->status == 0 && strstr(res->out, "next seq 301") && strstr(res->out, "closed"),
	      "ring: %s", res->out);
	run_cli(env, res, (const char *[]){ "", "drain", region, "--to", outp, NULL });
	CHECK(res->status == 0 && strstr(res->err, "301 records") &&
	      strstr(res->err, "lost 0, refused 0, corrupt 0"),
	      "drain: %d %s", res->status, res->err);
	CHECK(read_whole(outp, out, sizeof(out), &len) == 0 && len == sizeof(in) &&
	      !memcmp(in, out, len), "drained bytes differ from the captured file");
	unlink(outp); /* drain --to never overwrites a file that is not empty */
	run_cli(env, res, (const char *[]){ "", "drain", region, "--to", outp, NULL });
	CHECK(res->status == 0 && strstr(res->err, "0 records"), "second drain finds nothing new");

	/* overwrite 3000 records of 1000 bytes into a 1 MiB ring: a counted gap */
	run_cli(env, res, (const char *[]){ "", "capture", region, "--generate", "9", "--count", "3000",
					    "--record-size", "1000", "--overwrite", NULL });
	CHECK(res->status == 0, "capture --overwrite: %s", res->err);
	run_cli(env, res, (const char *[]){ "", "ring", region, "--json", NULL });
	CHECK(strstr(res->out, "\"head_seq\": 3301") && strstr(res->out, "\"epoch\": 2"), "%s", res->out);
	unlink(outp);
	run_cli(env, res, (const char *[]){ "", "drain", region, "--to", outp, "--from", "tail",
					    "--no-consume", NULL });
	CHECK(res->status == 0 && strstr(res->err, "lost 0, refused 0, corrupt 0"), "peek from tail: %s",
	      res->err);
	unlink(outp);
	run_cli(env, res, (const char *[]){ "", "drain", region, "--to", outp, NULL });
	CHECK(res->status == 1 && strstr(res->err, "gap: ") && strstr(res->err, "read) before seq"),
	      "overrun reported as a gap: %d %s", res->status, res->err);

	/* stop-when-full: the ring takes what fits, then capture stops */
	run_cli(env, res, (const char *[]){ "", "ring", region, "--reset", "--file", NULL });
	CHECK(res->status == 0 && strstr(res->out, "ring reset"), "%s", res->out);
	run_cli(env, res, (const char *[]){ "", "capture", region, "--generate", "9", "--count", "5000",
					    "--record-size", "1000", "--stop-when-full", NULL });
	CHECK(res->status == 0 && strstr(res->err, "ring full after") &&
	      strstr(res->err, "this run: refused 0, overwritten unread 0"),
	      "stop-when-full: %s", res->err);

	/* --drop-when-full into a 64 KiB ring: 31 records of 2048 bytes fit, the
	 * other 9 are refused; the GAP record for them fits at close; drain says
	 * so once (a second drain does not count them again), --index has the
	 * gap line with the exact range */
	run_cli(env, res, (const char *[]){ "", "ring", region, "--reset", "--file", "--data-size", "64K",
					    "--force", NULL });
	CHECK(res->status == 0 && strstr(res->out, "65536 bytes of data"), "%s", res->out);
	run_cli(env, res, (const char *[]){ "", "capture", region, "--generate", "3", "--count", "40",
					    "--record-size", "2048", "--drop-when-full", NULL });
	CHECK(res->status == 0 && strstr(res->err, "31 records") &&
	      strstr(res->err, "seq 0..39 (9 refused)") &&
	      strstr(res->err, "this run: refused 9, overwritten unread 0, waited 0.000 s, corrupt 0"),
	      "drop-when-full: %s", res->err);
	snprintf(inp, sizeof(inp), "%s/ring-index", env->tmpdir);
	unlink(outp);
	run_cli(env, res, (const char *[]){ "", "drain", region, "--to", outp, "--index", inp, NULL });
	CHECK(res->status == 1 && strstr(res->err, "9 records refused by the producer") &&
	      strstr(res->err, "seq 0..30, lost 0, refused 9, corrupt 0"), "lossy drain: %s", res->err);
	CHECK(read_whole(inp, out, sizeof(out) - 1, &len) == 0 && (out[len] = 0, 1) &&
	      strstr((char *)out, "\ngap 31 39 9 refused "), "index: %s", (char *)out);
	run_cli(env, res, (const char *[]){ "", "capture", region, "--generate", "3", "--count", "5",
					    "--record-size", "2048", "--drop-when-full", NULL });
	unlink(outp);
	run_cli(env, res, (const char *[]){ "", "drain", region, "--to", outp, NULL });
	CHECK(res->status == 0 && strstr(res->err, "seq 40..44, lost 0, refused 0, corrupt 0"),
	      "the refused records are counted once: %s", res->err);
	run_cli(env, res, (const char *[]){ "", "ring", region, NULL });
	CHECK(strstr(res->out, "since reset: refused 9, overwritten unread 0"), "ring: %s", res->out);
	snprintf(inp, sizeof(inp), "%s/ring-in", env->tmpdir);

	/* a damaged committed record: reported, not copied, the rest drains */
	run_cli(env, res, (const char *[]){ "", "ring", region, "--reset", "--file", "--force", NULL });
	run_cli(env, res, (const char *[]){ "", "capture", region, "--from", inp, "--record-size", "1000", NULL });
	fd = open(region, O_RDWR);
	if (CHECK(fd >= 0)) {
		unsigned char b;

		CHECK(pread(fd, &b, 1, 4096 + 5 * 1032 + 500) == 1);
		b ^= 1;
		CHECK(pwrite(fd, &b, 1, 4096 + 5 * 1032 + 500) == 1);
		close(fd);
	}
	unlink(outp);
	run_cli(env, res, (const char *[]){ "", "drain", region, "--to", outp, NULL });
	CHECK(res->status == 1 && strstr(res->err, "1 corrupt records") &&
	      strstr(res->err, "300 records"), "corrupt record: %d %s", res->status, res->err);
	CHECK(read_whole(outp, out, sizeof(out), &len) == 0 && len == sizeof(in) - 1000 &&
	      !memcmp(in, out, 5000) && !memcmp(in + 6000, out + 5000, len - 5000),
	      "everything but record 5 drained intact (%zu bytes)", len);

	/* one producer at a time: a running capture (its flock) keeps out another and --reset */
	fd = open(region, O_RDWR);
	if (CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)) {
		run_cli(env, res, (const char *[]){ "", "capture", region, "--generate", "9", "--count", "1", NULL });
		CHECK(res->status == 1 && strstr(res->err, "another resmem capture is producing"),
		      "second producer: %d %s", res->status, res->err);
		run_cli(env, res, (const char *[]){ "", "ring", region, "--reset", "--file", NULL });
		CHECK(res->status == 1 && strstr(res->err, "not reset"), "reset under a capture: %d %s",
		      res->status, res->err);
		run_cli(env, res, (const char *[]){ "", "ring", region, "--json", NULL });
		CHECK(res->status == 0 && strstr(res->out, "\"head_seq\": 301,"), "ring untouched: %s", res->out);
		close(fd);	/* the lock goes with it */
	}
	/* a ring a kernel producer has open: refused unless --force */
	fd = open(region, O_RDWR);
	if (CHECK(fd >= 0)) {
		uint32_t fl = RESMEM_RING_F_KERNEL;

		CHECK(pwrite(fd, &fl, 4, 56) == 4);
		close(fd);
	}
	run_cli(env, res, (const char *[]){ "", "capture", region, "--generate", "9", "--count", "1", NULL });
	CHECK(res->status == 1 && strstr(res->err, "a kernel driver has this ring open"),
	      "kernel producer's ring: %d %s", res->status, res->err);
	run_cli(env, res, (const char *[]){ "", "capture", region, "--generate", "9", "--count", "1",
					    "--force", NULL });
	CHECK(res->status == 0 && strstr(res->err, "seq 301..301"), "--force: %d %s", res->status, res->err);
	free(res);
}
