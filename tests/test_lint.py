"""`make lint-userspace` passes clean: cppcheck, clang-tidy and clang-format
on userspace (see the Makefile's lint section for what each checks).  The
module's half of `make lint` (W=1 and sparse on every matrix kernel) runs in
the harness's own build of each kernel (tests/harness/build.py): a warning
fails the run before any guest boots (test_harness.py proves it), and a
second build per kernel would only cost suite time."""
import subprocess

from tests.harness import kernels


def test_make_lint_userspace_clean():
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", kernels.REPO, "lint-userspace"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout[-8000:]
