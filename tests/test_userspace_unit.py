"""Host-side unit tests of libresmem and the resmem CLI (no kernel needed)."""
import os
import re
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_userspace_unit_tests(tmp_path):
    r = subprocess.run(["make", "-s", "-C", os.path.join(REPO, "userspace"), "check",
                        f"OUT={tmp_path}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    m = re.search(r"^(\d+) passed, (\d+) failed", r.stdout, re.M)
    assert m, r.stdout[-4000:]
    assert r.returncode == 0 and int(m[2]) == 0 and int(m[1]) > 0, r.stdout[-4000:]


def test_shared_library_links_and_runs(tmp_path):
    """A program linked against libresmem.so.1 (not the archive) runs and agrees
    with the host's own computation of the pattern."""
    from tests.harness import hostbuild
    from tests.harness.pattern import word
    out = tmp_path / "out"
    hostbuild.userspace(out, out / "lib" / "libresmem.so.1")
    prog = tmp_path / "p.c"
    prog.write_text('#include <libresmem.h>\n#include <inttypes.h>\n#include <stdio.h>\n'
                    'int main(void){uint64_t v; if (resmem_parse_size("8G", &v)) return 1;'
                    'printf("%" PRIu64 " %" PRIu64 "\\n", v, resmem_seq_word(0x5eed, 4096));'
                    'return 0;}\n')
    subprocess.run(["cc", "-o", str(tmp_path / "p"), str(prog),
                    f"-I{REPO}/userspace/include", f"-I{REPO}/include/uapi",
                    f"-L{out}/lib", "-lresmem"], check=True)
    env = dict(os.environ, LD_LIBRARY_PATH=f"{out}/lib")
    ldd = subprocess.run(["ldd", str(tmp_path / "p")], env=env, stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    assert f"libresmem.so.1 => {out}/lib/libresmem.so.1" in ldd, ldd
    r = subprocess.run([str(tmp_path / "p")], env=env, stdout=subprocess.PIPE, text=True,
                       check=True).stdout.split()
    assert r == [str(8 << 30), str(word(0x5eed, 4096))]
