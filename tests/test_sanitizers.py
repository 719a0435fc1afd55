"""Userspace under AddressSanitizer + UBSan (`make asan`) and the CLI's main
paths under valgrind memcheck (`make valgrind`).  Host only, no guest.

A sanitizer report aborts the unit-test binary (-fno-sanitize-recover=all,
halt_on_error), so the summary line is missing and the exit status non-zero;
memcheck errors (including definite/indirect/possible leaks) make valgrind
exit 99 where the command's documented status was expected.
"""
import os
import re
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _make(*args, timeout=900):
    return subprocess.run(["make", "-s", "-C", REPO, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)


def test_unit_tests_under_asan_and_ubsan(tmp_path):
    r = _make("asan", f"ASAN_OUT={tmp_path}/asan")
    m = re.search(r"^(\d+) passed, (\d+) failed", r.stdout, re.M)
    assert r.returncode == 0 and m and int(m[2]) == 0 and int(m[1]) > 0, r.stdout[-6000:]
    assert "runtime error" not in r.stdout and "AddressSanitizer" not in r.stdout, r.stdout[-6000:]
    # The binary really is instrumented (the test would prove nothing otherwise).
    nm = subprocess.run(["nm", f"{tmp_path}/asan/bin/resmem-unit-tests"], stdout=subprocess.PIPE,
                        text=True).stdout
    assert "__asan_init" in nm and "__ubsan_handle" in nm


def test_cli_main_paths_under_valgrind(tmp_path):
    r = _make("valgrind", f"VG_OUT={tmp_path}/vg")
    assert r.returncode == 0 and "valgrind: clean" in r.stdout, r.stdout[-6000:]
    assert len(re.findall(r"^valgrind: resmem ", r.stdout, re.M)) >= 14, r.stdout


def test_valgrind_catches_an_error(tmp_path):
    """The witness works: memcheck flags a read of uninitialised memory."""
    src = tmp_path / "bad.c"
    src.write_text("#include <stdlib.h>\nint main(void){int *p=malloc(8);int r=p[1]>0;return r*0;}\n")
    subprocess.run(["gcc", "-O0", "-g", "-o", str(tmp_path / "bad"), str(src)], check=True)
    r = subprocess.run(["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                        "--errors-for-leak-kinds=definite,indirect,possible", str(tmp_path / "bad")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 99, r.stdout
