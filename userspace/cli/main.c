// SPDX-License-Identifier: GPL-2.0
/* resmem: command-line access to boot-reserved memory.  Dispatch only. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "resmem_trace.h"

static const struct command commands[] = {
	{ "list", "list regions", cmd_list },
	{ "info", "describe one region", cmd_info },
	{ "fill", "write a pattern into a region", cmd_fill },
	{ "verify", "compare a region with a pattern", cmd_verify },
	{ "dump", "show bytes of a region (hexdump -C style or raw)",
	  cmd_dump },
	{ "check", "explain whether memmap= reservations took effect",
	  cmd_check },
	{ "plan", "suggest a memmap= inside usable RAM", cmd_plan },
	{ "dt", "add or check device-tree /reserved-memory regions", cmd_dt },
	{ "sync", "cache maintenance for non-coherent DMA", cmd_sync },
	{ "capture", "stream data into a crash-safe ring in a region",
	  cmd_capture },
	{ "drain", "copy committed ring records out, in order", cmd_drain },
	{ "ring", "show (or reset) the ring header of a region", cmd_ring },
	{ "export", "hand a window of a region to a command as a dma-buf",
	  cmd_export },
};

static void help(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: resmem [-q|-v] COMMAND [ARGS]   (resmem COMMAND --help for details)\n"
		"       resmem --version\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f,
		"\n  -q, --quiet    before COMMAND: no notes, hints or progress on stderr\n"
		"                 (errors, warnings and results are still shown)\n"
		"  -v, --verbose  before COMMAND: on stderr, each file, directory, device\n"
		"                 tree and device node read or opened, and what came of it\n"
		"\nExit status: 0 ok, 1 mismatch or problem found, 2 usage error, 3 system error.\n");
}

/*
 * A fault on mapped memory the driver cannot back arrives as SIGBUS.  Say so
 * and exit with the system-error code instead of dying silently.  Only
 * async-signal-safe calls here.
 */
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	static const char msg1[] = "resmem: SIGBUS at address 0x";
	static const char msg2[] =
		": the driver could not back this page of the mapping (see dmesg)\n";
	char hex[17];
	uintptr_t a = (uintptr_t)si->si_addr;
	int i;

	(void)sig;
	(void)uc;
	for (i = 15; i >= 0; i--, a >>= 4)
		hex[i] = "0123456789abcdef"[a & 15];
	hex[16] = '\n';
	if (write(STDERR_FILENO, msg1, sizeof(msg1) - 1) < 0 ||
	    write(STDERR_FILENO, hex, 16) < 0 ||
	    write(STDERR_FILENO, msg2, sizeof(msg2) - 1) < 0)
		_exit(EXIT_SYSTEM);
	_exit(EXIT_SYSTEM);
}

/*
 * Output that could not be written is an error, whichever command wrote it
 * (`resmem list --json > /dev/full`): flush and close stdout before exiting,
 * as coreutils' close_stdout() does, and turn a failure into a message and
 * EXIT_SYSTEM.  A command that already failed keeps its own exit code.
 */
static int close_stdout(int ret)
{
	int err = 0;

	if (fflush(stdout) || ferror(stdout))
		err = errno ? errno : EIO;
	if (fclose(stdout) && !err)
		err = errno ? errno : EIO;
	if (!err)
		return ret;
	fprintf(stderr, "resmem: cannot write stdout: %s (%s)\n",
		errno_name(err), strerror(err));
	return ret ? ret : EXIT_SYSTEM;
}

/* -v: one line per input the library reads (resmem_trace.h). */
static void verbose_line(const char *line)
{
	fprintf(stderr, "resmem: verbose: %s\n", line);
}

static int run(int argc, char **argv)
{
	static char help_opt[] = "--help";
	const char *name;
	size_t i;

	/* Global options come before the command (as git's do). */
	while (argc > 1 &&
	       (!strcmp(argv[1], "-q") || !strcmp(argv[1], "--quiet") ||
		!strcmp(argv[1], "-v") || !strcmp(argv[1], "--verbose"))) {
		if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--verbose"))
			resmem_trace_to(verbose_line);
		else
			cli_quiet = 1;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (argc < 2) {
		help(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
		help(stdout);
		return EXIT_OK;
	}
	if (!strcmp(name, "--version")) {
		/* --sysfs DIR: a fixture instead of /sys (tests) */
		if (argc == 4 && !strcmp(argv[2], "--sysfs"))
			return show_version(argv[3]);
		if (argc > 2)
			return usage_error(NULL,
					   "--version takes no arguments");
		return show_version(RESMEM_SYSFS_ROOT);
	}
	if (!strcmp(name, "help")) {
		if (argc < 3 || !strcmp(argv[2], "--help") ||
		    !strcmp(argv[2], "-h")) {
			help(stdout);
			return EXIT_OK;
		}
		name = argv[2];
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			if (!strcmp(name, commands[i].name)) {
				char *help_argv[] = { argv[2], help_opt, NULL };

				return commands[i].run(2, help_argv);
			}
		}
		return usage_error(NULL, "no command '%s'", name);
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	return usage_error(NULL, "unknown command '%s'", name);
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	return close_stdout(run(argc, argv));
}
