"""resmem's ioctl numbers mean nothing to another driver (issue 14): on a
namespace descriptor (nsfs, whose NSIO type 0xB7 resmem used before) every
RESMEM_IOC_* fails with ENOTTY.  Host only: the host kernel's nsfs is the
witness, the numbers come from the UAPI header as the compiler reads it."""
import os
import subprocess

from tests.harness.kernels import REPO

PROBE = r"""
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/resmem.h>

static void try(int fd, const char *name, unsigned long cmd)
{
	unsigned int buf[1024] = { sizeof(struct resmem_info) };
	int ret = ioctl(fd, cmd, buf);

	printf("%s %d %s\n", name, ret, ret < 0 ? strerror(errno) : "-");
	if (ret > 2)
		close(ret);	/* NS_GET_USERNS hands out a descriptor */
}

int main(void)
{
	int fd = open("/proc/self/ns/user", O_RDONLY);

	if (fd < 0)
		return perror("/proc/self/ns/user"), 2;
	try(fd, "INFO", RESMEM_IOC_INFO);
	try(fd, "SYNC", RESMEM_IOC_SYNC);
	try(fd, "RING_NOTIFY", RESMEM_IOC_RING_NOTIFY);
	try(fd, "RING_PRODUCER", RESMEM_IOC_RING_PRODUCER);
	try(fd, "EXPORT", RESMEM_IOC_EXPORT);
	return 0;
}
"""


def test_resmem_ioctls_are_unknown_to_nsfs(tmp_path):
    src, exe = tmp_path / "probe.c", tmp_path / "probe"
    src.write_text(PROBE)
    subprocess.run(["gcc", "-Wall", "-Werror", "-I", os.path.join(REPO, "include", "uapi"),
                    "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], stdout=subprocess.PIPE, text=True, check=True).stdout
    lines = out.split("\n")[:5]
    assert [ln.split()[0] for ln in lines] == ["INFO", "SYNC", "RING_NOTIFY", "RING_PRODUCER",
                                               "EXPORT"], out
    for ln in lines:
        assert ln.endswith(" -1 Inappropriate ioctl for device"), out
