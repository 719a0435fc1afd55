"""Write-combining rings (issue 14): on x86, stores to a WC mapping
(cache=wc) are not ordered by smp_wmb() or smp_store_release(), which are
compiler fences there, so a reader could see head move before the record it
publishes.  Both producers must fence before publishing: sfence (wmb()) in
the module's resmem_kring_commit() and in libresmem's resmem_ring_commit();
dsb st (wmb()) in the arm64 module.  QEMU models no write-combining buffers,
so no guest run could catch a missing fence: the machine code is the
witness."""
import re
import subprocess

import pytest

from tests.harness import build, hostbuild, matrix

FENCE = {"x86_64": (["objdump"], r"\bsfence\b"),
         "aarch64": (["aarch64-linux-gnu-objdump"], r"\bdsb\s+st\b")}


def disassemble(objdump, path, function):
    """@function's machine code, and that of the shared ring_commit() of
    include/resmem/ring_producer.h when the compiler kept it out of line."""
    def one(name):
        return subprocess.run([*objdump, "-d", f"--disassemble={name}", path],
                              stdout=subprocess.PIPE, text=True, check=True).stdout
    out = one(function)
    assert f"<{function}>:" in out, f"{function} not found in {path}"
    if "<ring_commit>" in out.split(f"<{function}>:", 1)[1]:
        out += one("ring_commit")
    return out


@pytest.mark.core
@pytest.mark.archs("x86_64", "aarch64")
def test_module_commit_fences_before_publishing(target):
    k = matrix.by_name(target)
    build.build_all(k)      # done at collection for every selected kernel
    objdump, fence = FENCE[k.arch]
    code = disassemble(objdump, build.module_path(k), "resmem_kring_commit")
    assert re.search(fence, code), code


def test_libresmem_commit_fences_before_publishing(tmp_path):
    lib = tmp_path / "lib" / "libresmem.a"
    hostbuild.userspace(tmp_path, lib)
    code = disassemble(["objdump"], str(lib), "resmem_ring_commit")
    assert re.search(FENCE["x86_64"][1], code), code
