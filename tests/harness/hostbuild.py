"""Private host builds of userspace/ (the library, the CLI, the unit tests)
into a test's own directory: build/x86_64 may be in use by a guest build."""
import os
import subprocess

import pytest

from .kernels import REPO

USERSPACE = os.path.join(REPO, "userspace")


def userspace(out, *targets, timeout=600):
    """make -C userspace OUT=out [targets] (paths under out, or phony ones like
    `check`); fails the test with make's output if the build fails.  Returns
    make's output."""
    r = subprocess.run(["make", "-s", "-C", USERSPACE, f"OUT={out}", *map(str, targets)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stdout[-4000:]
    return r.stdout


def resmem(out):
    """Path of the `resmem` CLI built into `out`."""
    path = os.path.join(out, "bin", "resmem")
    userspace(out, path)
    return path


@pytest.fixture(scope="session")
def host_resmem(request, tmp_path_factory):
    """The `resmem` CLI built once per session for the host, for the tests
    that only run it (plan lines, boot loaders).  On the local target the
    host is the machine under test: the tool the run built for it (make
    tools), not a second build (minutes on a slow board)."""
    if request.config.getoption("--targets") == "local":
        from . import build, matrix
        return build.tool_path(matrix.by_name("local"))
    return resmem(str(tmp_path_factory.mktemp("host-resmem")))
