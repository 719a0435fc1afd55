"""`make lint` passes clean: the module with W=1 and sparse on every matrix
kernel, cppcheck, clang-tidy and clang-format on userspace (see the Makefile's
lint section for what each checks)."""
import subprocess

from tests.harness import kernels


def test_make_lint_clean():
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", kernels.REPO, "lint"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0 and "lint: clean" in r.stdout, r.stdout[-8000:]
