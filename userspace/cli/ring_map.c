// SPDX-License-Identifier: GPL-2.0
/* Map a whole region and attach to (or create) the ring in it: shared by
 * capture, drain and ring; and what capture and drain set up before their
 * loop. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cli.h"

const char *ring_strerror(int err)
{
	switch (err) {
	case -ENODATA:
		return "no ring in this region (resmem capture or resmem ring --reset creates one)";
	case -EPROTONOSUPPORT:
		return "a ring of another format version";
	case -EBADMSG:
		return "damaged ring header (resmem ring --reset starts over)";
	case -EINVAL:
		return "the ring does not fit this region";
	default:
		return "cannot open the ring";
	}
}

int ring_map(const char *cmd, const char *name, int writable,
	     enum ring_map_mode mode, struct ring_map *m)
{
	int create = mode == RING_CREATE;
	int err;

	memset(m, 0, sizeof(*m));
	err = resmem_open(name, writable, &m->region);
	if (err)
		return region_error(name, NULL, err);
	m->info = *resmem_region_get_info(m->region);
	m->size = m->info.size;
	err = resmem_map(m->region, 0, m->size,
			 writable ? PROT_READ | PROT_WRITE : PROT_READ,
			 &m->base);
	if (err) {
		err = dev_error("cannot map", resmem_region_get_path(m->region),
				err);
		resmem_close(m->region);
		m->region = NULL;
		return err;
	}
	err = resmem_ring_open(&m->ring, m->base, m->size);
	if (err && mode == RING_ANY) {
		m->ring = NULL;
		m->open_err = err;
		return EXIT_OK;
	}
	if (err && create && err != -EPROTONOSUPPORT &&
	    refuse_file_write(cmd, m->region, "creating a ring")) {
		ring_unmap(m);
		return EXIT_USAGE;
	}
	if (err && create && err != -EPROTONOSUPPORT &&
	    ring_guard_lock(cmd, m->region, "no ring created", 0)) {
		ring_unmap(m);
		return EXIT_PROBLEM;
	}
	if (err && create && err != -EPROTONOSUPPORT) {
		err = resmem_ring_init(&m->ring, m->base, m->size, NULL);
		if (!err)
			fprintf(stderr,
				"%s: %s: no valid ring: created an empty one (%" PRIu64
				" bytes of data)\n",
				cmd, m->info.name,
				resmem_ring_data_size(m->ring));
	}
	if (err) {
		fprintf(stderr, "%s: %s: %s\n", cmd, m->info.name,
			ring_strerror(err));
		ring_unmap(m);
		return EXIT_PROBLEM;
	}
	return EXIT_OK;
}

void ring_unmap(struct ring_map *m)
{
	if (m->base) {
		resmem_msync(m->base, m->size);
		resmem_unmap(m->base, m->size);
	}
	m->base = NULL;
	resmem_ring_free(m->ring);
	m->ring = NULL;
	resmem_close(m->region);
	m->region = NULL;
}

volatile sig_atomic_t ring_stop;

static void on_stop(int sig)
{
	(void)sig;
	ring_stop = 1;
}

int ring_begin(struct ring_map *m, size_t len, unsigned char **buf)
{
	struct sigaction sa;

	*buf = malloc(len);
	if (!*buf) {
		ring_unmap(m);
		return sys_error("cannot allocate", "record buffer", -ENOMEM);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return EXIT_OK;
}

double now_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
