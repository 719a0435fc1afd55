// SPDX-License-Identifier: GPL-2.0
/*
 * resmem-agent: the guest end of the harness's command channel.
 *
 * Runs as PID 1's successor in the test initramfs, on a serial port that is
 * not the console (so kernel messages never interleave with replies).
 * Protocol, one request at a time:
 *   host  -> guest: "RUN <id> <timeout_s> <len>\n" then <len> bytes of sh -c script
 *   guest -> host:  "RES <id> <status> <outlen> <errlen>\n" then stdout, then stderr
 * <status> is the exit code, 128+signal when killed, or 124 on timeout.
 * The agent prints "READY\n" once when it starts listening.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

struct buf {
	char *data;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (!b->data) {
			perror("agent: realloc");
			exit(1);
		}
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_exact(int fd, char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int read_line(int fd, char *line, size_t max)
{
	size_t n = 0;

	while (n + 1 < max) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n') {
			line[n] = 0;
			return 0;
		}
		line[n++] = c;
	}
	return -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How long the pipes are read after the shell exits (see run()). */
#define BACKGROUND_GRACE_S 1.0

/* Runs one script; fills out/err and returns the status as documented above. */
static int run(const char *script, double timeout, struct buf *out, struct buf *err)
{
	int po[2], pe[2], status = 0, done = 0, timed_out = 0;
	double deadline = now() + timeout, done_at = 0;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		return 125;
	pid = fork();
	if (pid < 0)
		return 125;
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setsid();
		dup2(null, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	int open_fds = 2;
	struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };

	while (open_fds || !done) {
		double left = deadline - now();
		int ms = left <= 0 ? 0 : (int)(left * 1000) + 1;

		if (left <= 0 && !timed_out) {
			kill(-pid, SIGKILL);
			timed_out = 1;
		}
		if (open_fds) {
			int r = poll(fds, 2, timed_out ? 100 : (ms > 200 ? 200 : ms));

			if (r < 0 && errno != EINTR)
				break;
			for (int i = 0; i < 2; i++) {
				if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				char tmp[65536];
				ssize_t n = read(fds[i].fd, tmp, sizeof(tmp));

				if (n > 0) {
					buf_add(i ? err : out, tmp, (size_t)n);
				} else if (n == 0 || errno != EINTR) {
					close(fds[i].fd);
					fds[i].fd = -1;
					open_fds--;
				}
			}
		} else {
			usleep(20000);
		}
		if (!done && waitpid(pid, &status, WNOHANG) == pid) {
			done = 1;
			done_at = now();
		}
		if (done && timed_out)
			break;
		/*
		 * The shell exited but a background child it left keeps the
		 * pipes open: what that child prints later is not this
		 * command's output, so wait a moment for the shell's own last
		 * bytes, not for the child (it may run for minutes).
		 */
		if (done && open_fds && now() > done_at + BACKGROUND_GRACE_S)
			break;
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	if (!done)
		waitpid(pid, &status, 0);
	/* Reap orphans re-parented to us (we are the init process's child or init itself). */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (timed_out)
		return 124;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/ttyS1";
	struct termios tio;
	char line[256];
	int fd;

	signal(SIGPIPE, SIG_IGN);
	fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "agent: open %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (tcgetattr(fd, &tio) == 0) {
		cfmakeraw(&tio);
		cfsetispeed(&tio, B115200);
		cfsetospeed(&tio, B115200);
		tio.c_cflag &= ~CRTSCTS;
		tio.c_cflag |= CLOCAL | CREAD;
		tcsetattr(fd, TCSANOW, &tio);
	}
	fprintf(stderr, "resmem-agent: listening on %s\n", dev);
	if (write_all(fd, "READY\n", 6))
		return 1;
	for (;;) {
		unsigned long id, len;
		double timeout;
		struct buf script = { 0 }, out = { 0 }, err = { 0 };

		if (read_line(fd, line, sizeof(line)))
			return 1;
		if (sscanf(line, "RUN %lu %lf %lu", &id, &timeout, &len) != 3) {
			write_all(fd, "ERR bad request\n", 16);
			continue;
		}
		script.data = malloc(len + 1);
		if (!script.data || read_exact(fd, script.data, len))
			return 1;
		script.data[len] = 0;
		int st = run(script.data, timeout, &out, &err);
		char hdr[128];
		int n = snprintf(hdr, sizeof(hdr), "RES %lu %d %zu %zu\n", id, st, out.len, err.len);

		if (write_all(fd, hdr, (size_t)n) || write_all(fd, out.data ? out.data : "", out.len) ||
		    write_all(fd, err.data ? err.data : "", err.len))
			return 1;
		free(script.data);
		free(out.data);
		free(err.data);
	}
}
