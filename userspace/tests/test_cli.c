// SPDX-License-Identifier: GPL-2.0
/*
 * The CLI end to end on the host: list/info from fixture sysfs trees,
 * fill/verify/dump on a regular file standing in for a region, plan, usage
 * errors and exit codes.  Expected bytes and hexdump text are literals
 * produced by Python and `hexdump -C`, not by this code.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

#define RUN(res, ...) run_cli(env, res, (const char *const[]){ "resmem", __VA_ARGS__, NULL })

static struct cli_result res;

static void test_list_info(const struct test_env *env)
{
	char two[512], none[512], head[512];

	snprintf(two, sizeof(two), "%s/sys/loaded-two-1g", env->fixtures);
	snprintf(head, sizeof(head), "%s/sys/loaded-pages-head", env->fixtures);
	snprintf(none, sizeof(none), "%s/sys/loaded-no-regions", env->fixtures);

	CHECK(RUN(&res, "list", "--json", "--sysfs", two) == 0);
	CHECK(!strcmp(res.out,
		"[\n"
		"  {\"name\": \"hi\", \"phys_addr\": 6442450944, \"size\": 1073741824, \"source\": \"cmdline\", "
		"\"cache_mode\": \"uncached\", \"dev\": \"/dev/resmem/hi\", \"numa_node\": 0, \"mappings\": 0, "
		"\"pages\": false, \"pages_ram\": 0, \"pages_head\": 0},\n"
		"  {\"name\": \"lo\", \"phys_addr\": 4294967296, \"size\": 1073741824, \"source\": \"cmdline\", "
		"\"cache_mode\": \"write-back\", \"dev\": \"/dev/resmem/lo\", \"numa_node\": 0, \"mappings\": 0, "
		"\"pages\": true, \"pages_ram\": 16777216, \"pages_head\": 0}\n"
		"]\n"), "list --json:\n%s", res.out);

	CHECK(RUN(&res, "list", "--sysfs", two) == 0);
	CHECK(strstr(res.out, "hi    0x000180000000-0x0001bfffffff     1.0 GiB  cmdline     uncached       "
			      "/dev/resmem/hi          no pages\n") &&
	      strstr(res.out, "lo    0x000100000000-0x00013fffffff     1.0 GiB  cmdline     write-back     "
			      "/dev/resmem/lo          pages 16.0 MiB\n"),
	      "list:\n%s", res.out);

	/* struct pages in the region's head (pages=region): no RAM, the head's size */
	CHECK(RUN(&res, "list", "--json", "--sysfs", head) == 0);
	CHECK(strstr(res.out, "\"phys_addr\": 4311744512, \"size\": 1056964608, ") &&
	      strstr(res.out, "\"pages\": true, \"pages_ram\": 0, \"pages_head\": 16777216}"),
	      "list --json:\n%s", res.out);
	CHECK(RUN(&res, "list", "--sysfs", head) == 0);
	CHECK(strstr(res.out, "meta  0x000101000000-0x00013fffffff  1008.0 MiB  param       write-back     "
			      "/dev/resmem/meta        pages in region 16.0 MiB\n"),
	      "list:\n%s", res.out);

	CHECK(RUN(&res, "list", "--sysfs", none) == 0 && res.out[0] == '\0');
	CHECK(strstr(res.err, "no resmem regions (is the module loaded? see 'resmem check')"), "%s", res.err);
	CHECK(RUN(&res, "list", "--json", "--sysfs", none) == 0 && !strcmp(res.out, "[]\n"), "%s", res.out);
	CHECK(RUN(&res, "list", "extra") == 2);

	/* /dev/resmem/lo does not exist here: info falls back to sysfs */
	CHECK(RUN(&res, "info", "lo", "--json", "--sysfs", two) == 0, "%s", res.err);
	CHECK(strstr(res.out, "{\"name\": \"lo\", \"phys_addr\": 4294967296, \"size\": 1073741824, ") &&
	      strstr(res.out, "\"numa_node\": 0, \"mappings\": 0, \"pages\": true, \"pages_ram\": 16777216, \"pages_head\": 0, "
			      "\"pages_note\": \"yes: 262144 pages, up to 16384 KiB of RAM (64 B per 4 KiB page)\", "
			      "\"page_size\": ") &&
	      strstr(res.out, "\"readonly\": null, \"coherent\": null}"), "info --json:\n%s", res.out);
	/* sysfs does not say read-only: never claim read-write; coherent it says */
	CHECK(RUN(&res, "info", "hi", "--json", "--sysfs", two) == 0, "%s", res.err);
	CHECK(strstr(res.out, "\"readonly\": null, \"coherent\": false}"), "info --json:\n%s", res.out);
	CHECK(RUN(&res, "info", "hi", "--sysfs", two) == 0);
	CHECK(strstr(res.out, "phys range:  0x180000000-0x1bfffffff\n") &&
	      strstr(res.out, "size:        1.0 GiB (1073741824 bytes)\n") &&
	      strstr(res.out, "cache mode:  uncached\n") &&
	      strstr(res.out, "pages:       no: not write-back (pages need cache=wb)\n") &&
	      strstr(res.out, "access:      unknown (the device could not be opened)\n") &&
	      strstr(res.out, "coherent:    no (DMA bypasses the CPU caches: 'resmem sync' around it)\n") &&
	      !strstr(res.out, "read-write"), "info:\n%s", res.out);
	CHECK(RUN(&res, "info", "nope", "--sysfs", two) == 3);
	CHECK(strstr(res.err, "ENOENT") && strstr(res.err, "regions here: hi lo"), "%s", res.err);
	CHECK(RUN(&res, "info") == 2);
}

static void test_fill_verify_dump(const struct test_env *env)
{
	/* bytes(b(7, o) for o in range(4095, 4095 + 32)), from Python */
	static const uint8_t seq7_at_4095[32] = {
		0xc5, 0x87, 0xde, 0xdb, 0x52, 0x21, 0xc1, 0xd4, 0x5b, 0xfa, 0x68, 0x2d, 0x2f, 0x91, 0x66, 0xeb,
		0x21, 0xda, 0xd8, 0xaa, 0xeb, 0xdd, 0x0d, 0x12, 0x1b, 0x99, 0xf3, 0xdb, 0x62, 0xd9, 0x10, 0x8b,
	};
	static const uint8_t hd[61] = "Hello, resmem!\n\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
		"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0end\x01\x7f\xff";
	char path[512], hdpath[512], rawpath[512];
	uint8_t buf[64], zero[4096] = { 0 };
	int fd, i;

	snprintf(path, sizeof(path), "%s/r.bin", env->tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	for (i = 0; i < 4; i++)
		CHECK(write(fd, zero, sizeof(zero)) == (ssize_t)sizeof(zero));
	close(fd);

	/* info on a regular file: no made-up /dev/resmem/r.bin, no invented access */
	CHECK(RUN(&res, "info", path) == 0, "%s", res.err);
	CHECK(strstr(res.out, "device:      none (a regular file)\n") && !strstr(res.out, "/dev/resmem") &&
	      strstr(res.out, "access:      unknown (a regular file, not a device)\n"), "info FILE:\n%s", res.out);
	CHECK(RUN(&res, "info", path, "--json") == 0 && strstr(res.out, "\"dev\": null") &&
	      strstr(res.out, "\"readonly\": null"), "info FILE --json:\n%s", res.out);

	/* a regular file is only written with --file: left as it was, exit 2 */
	CHECK(RUN(&res, "fill", path, "0xAB") == 2 && strstr(res.err, "is a regular file, not a resmem region") &&
	      strstr(res.err, "--file"), "%d %s", res.status, res.err);
	fd = open(path, O_RDONLY);
	CHECK(pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) && !memcmp(buf, zero, sizeof(buf)),
	      "fill without --file changed the file");
	close(fd);
	CHECK(RUN(&res, "verify", path, "zero", "--file") == 2, "verify takes no --file");
	CHECK(RUN(&res, "fill", path, "seq:7", "--offset", "4095", "--length", "0x2001", "--file") == 0, "%s",
	      res.err);
	CHECK(strstr(res.out, "filled 8.0 KiB at offset 0xfff with seq:0x7 via mmap"), "%s", res.out);
	fd = open(path, O_RDONLY);
	CHECK(pread(fd, buf, 33, 4094) == 33);
	close(fd);
	CHECK(buf[0] == 0 && !memcmp(buf + 1, seq7_at_4095, 32), "file bytes differ from the Python vector");

	CHECK(RUN(&res, "verify", path, "seq:7", "--offset", "4095", "--length", "0x2001") == 0, "%s%s", res.out, res.err);
	CHECK(RUN(&res, "verify", path, "seq:7", "--offset", "4095", "--length", "0x2001", "--via", "read") == 0);
	CHECK(RUN(&res, "verify", path, "zero", "--length", "4095") == 0);
	CHECK(RUN(&res, "verify", path, "zero", "--length", "4096") == 1);
	CHECK(strstr(res.out, "MISMATCH: 1 of 4096 bytes differ from zero") &&
	      strstr(res.out, "first bad byte: offset 0xfff (phys 0xfff): expected 0x00, actual 0xc5"),
	      "verify mismatch report:\n%s", res.out);

	/* corrupt one byte, find it by both paths */
	fd = open(path, O_RDWR);
	CHECK(pwrite(fd, "\x00", 1, 0x1800) == 1);
	close(fd);
	CHECK(RUN(&res, "verify", path, "seq:7", "--offset", "4095", "--length", "0x2001", "--via", "read") == 1);
	CHECK(strstr(res.out, "first bad byte: offset 0x1800 (phys 0x1800)") &&
	      strstr(res.out, "last bad byte:  offset 0x1800"), "%s", res.out);
	CHECK(RUN(&res, "verify", path, "seq:7", "--offset", "4095", "--length", "0x2001") == 1);
	CHECK(strstr(res.out, "1 of 8193 bytes differ"), "%s", res.out);

	/* fill through pwrite, verify through mmap */
	CHECK(RUN(&res, "fill", path, "0xA5", "--via", "write", "--file") == 0, "%s", res.err);
	CHECK(RUN(&res, "verify", path, "0xa5") == 0, "%s", res.out);

	/* dump: identical to hexdump -C of the same bytes */
	snprintf(hdpath, sizeof(hdpath), "%s/hd.bin", env->tmpdir);
	CHECK(write_file(hdpath, hd, sizeof(hd)) == 0);
	CHECK(RUN(&res, "dump", hdpath, "--length", "61") == 0);
	CHECK(!strcmp(res.out,
		"00000000  48 65 6c 6c 6f 2c 20 72  65 73 6d 65 6d 21 0a 00  |Hello, resmem!..|\n"
		"00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n"
		"*\n"
		"00000030  00 00 00 00 00 00 00 65  6e 64 01 7f ff           |.......end...|\n"
		"0000003d\n"), "dump:\n%s", res.out);
	CHECK(RUN(&res, "dump", hdpath, "--offset", "3", "--length", "50", "--via", "read") == 0);
	CHECK(!strcmp(res.out,
		"00000003  6c 6f 2c 20 72 65 73 6d  65 6d 21 0a 00 00 00 00  |lo, resmem!.....|\n"
		"00000013  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n"
		"*\n"
		"00000033  00 00                                             |..|\n"
		"00000035\n"), "dump --offset 3:\n%s", res.out);
	snprintf(rawpath, sizeof(rawpath), "%s/raw.out", env->tmpdir);
	CHECK(RUN(&res, "dump", hdpath, "--offset", "7", "--length", "7", "--raw") == 0 &&
	      !strcmp(res.out, "resmem!"), "raw: %s", res.out);

	/* usage and range errors */
	CHECK(RUN(&res, "dump", hdpath) == 2 && strstr(res.err, "--length is required"));
	CHECK(RUN(&res, "dump", hdpath, "--offset", "60", "--length", "2") == 2 &&
	      strstr(res.err, "at most 0x1 fits"), "%s", res.err);
	CHECK(RUN(&res, "verify", path, "seq:7", "--offset", "16385") == 2 && strstr(res.err, "beyond the end"));
	CHECK(RUN(&res, "fill", path, "0x100") == 2 && strstr(res.err, "bad pattern"));
	CHECK(RUN(&res, "fill", path, "seq:1", "--length", "8X") == 2 && strstr(res.err, "not a size"));
	CHECK(RUN(&res, "fill", path, "seq:1", "--length", "99999999999999999999") == 2 &&
	      strstr(res.err, "too large"));
	CHECK(RUN(&res, "fill", path, "seq:1", "--via", "carrier-pigeon") == 2);
	CHECK(RUN(&res, "fill", path) == 2);
	CHECK(RUN(&res, "fill", "no-such-region-xyz", "zero") == 3 && strstr(res.err, "ENOENT"), "%s", res.err);
	CHECK(RUN(&res, "verify", "/dev/null", "zero") == 3 && strstr(res.err, "ENOTTY"), "%s", res.err);
}

static void test_plan_misc(const struct test_env *env)
{
	char fw[512];

	snprintf(fw, sizeof(fw), "%s/firmware-memmap", env->fixtures);
	CHECK(RUN(&res, "plan", "8G", "--firmware-memmap", fw) == 0);
	/* the address is written in hex, as /proc/iomem shows it (4G = 0x100000000) */
	CHECK(!strncmp(res.out, "memmap=8G$0x100000000\n", 22) && strstr(res.out, "memmap=8G\\$0x100000000") &&
	      strstr(res.out, "memmap=8G\\\\\\$0x100000000"), "plan:\n%s", res.out);
	CHECK(RUN(&res, "plan", "100M", "--firmware-memmap", fw) == 0 &&
	      !strncmp(res.out, "memmap=100M$0x100000000\n", 24), "%s", res.out);
	CHECK(RUN(&res, "plan", "10G", "--firmware-memmap", fw) == 0 &&
	      !strncmp(res.out, "memmap=10G$0x100000000\n", 23), "%s", res.out);
	CHECK(RUN(&res, "plan", "11G", "--firmware-memmap", fw) == 1, "does not fit: %s", res.out);
	CHECK(RUN(&res, "plan", "1G", "--align", "3G", "--firmware-memmap", fw) == 2);
	CHECK(RUN(&res, "plan", "1G", "--firmware-memmap", "/no/such") == 3);

	CHECK(RUN(&res, "--help") == 0 && strstr(res.out, "verify"));
	CHECK(RUN(&res, "fill", "--help") == 0 && strstr(res.out, "usage: resmem fill"));
	CHECK(RUN(&res, "help", "check") == 0 && strstr(res.out, "--firmware-memmap"));
	CHECK(RUN(&res, "frobnicate") == 2 && strstr(res.err, "unknown command"));
	CHECK(run_cli(env, &res, (const char *const[]){ "resmem", NULL }) == 2);
}

/*
 * Help is generated from each command's option table; every --option the
 * help names anywhere (synopsis and prose too) must be one the command
 * accepts, so the text cannot drift from the parser.
 */
static void test_help_names_real_options(const struct test_env *env)
{
	static const char *const cmds[][2] = {
		{ "list" }, { "info" },	   { "fill" },	{ "verify" },
		{ "dump" }, { "check" },   { "plan" },	{ "sync" },
		{ "capture" }, { "drain" }, { "ring" }, { "dt", "add" },
		{ "dt", "list" },
	};
	char opt[64];
	size_t i, n;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *c0 = cmds[i][0], *c1 = cmds[i][1];
		struct cli_result help;
		const char *p;
		int options = 0;

		if (!CHECK((c1 ? run_cli(env, &help, (const char *const[]){ "resmem", c0, c1, "--help", NULL }) :
				 run_cli(env, &help, (const char *const[]){ "resmem", "help", c0, NULL })) == 0 &&
			   strstr(help.out, "usage: resmem ") && strstr(help.out, "  -h, --help "),
			   "%s %s: %s", c0, c1 ? c1 : "", help.err))
			continue;
		for (p = strstr(help.out, "--"); p; p = strstr(p + 2, "--")) {
			for (n = 2; n < sizeof(opt) - 1 && (islower((unsigned char)p[n]) || p[n] == '-'); n++)
				;
			if (n == 2 || (p > help.out && (isalnum((unsigned char)p[-1]) || p[-1] == '-')))
				continue;
			memcpy(opt, p, n);
			opt[n] = '\0';
			options++;
			if (c1)
				run_cli(env, &res, (const char *const[]){ "resmem", c0, c1, opt, NULL });
			else
				run_cli(env, &res, (const char *const[]){ "resmem", c0, opt, NULL });
			CHECK(!strstr(res.err, "unknown option"), "%s %s: help names %s: %s", c0, c1 ? c1 : "", opt,
			      res.err);
		}
		CHECK(options > 0, "%s: help names no option", c0);
	}
}

void test_cli(const struct test_env *env)
{
	test_list_info(env);
	test_fill_verify_dump(env);
	test_plan_misc(env);
	test_help_names_real_options(env);
}
