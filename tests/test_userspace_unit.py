"""Host-side unit tests of libresmem and the resmem CLI (no kernel needed)."""
import os
import re
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_userspace_unit_tests(tmp_path):
    r = subprocess.run(["make", "-s", "-C", os.path.join(REPO, "userspace"), "check",
                        f"OUT={tmp_path}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    m = re.search(r"^(\d+) passed, (\d+) failed", r.stdout, re.M)
    assert m, r.stdout[-4000:]
    assert r.returncode == 0 and int(m[2]) == 0 and int(m[1]) > 0, r.stdout[-4000:]


@pytest.fixture(scope="module")
def libso(tmp_path_factory):
    """A private build of libresmem.so.1; returns its build directory."""
    from tests.harness import hostbuild
    out = tmp_path_factory.mktemp("libso")
    hostbuild.userspace(out, out / "lib" / "libresmem.so.1")
    return out


def header_functions(header):
    """The functions a header declares for the library to define (not static
    inline helpers, not function-pointer typedefs)."""
    text = re.sub(r"/\*.*?\*/", "", open(header).read(), flags=re.S)
    text = re.sub(r"^\s*#(?:.*\\\n)*.*$", "", text, flags=re.M)
    names = set()
    for stmt in re.split(r"[;{}]", text):
        stmt = stmt.strip()
        if stmt.startswith(("static", "typedef", "return")):
            continue
        m = re.match(r"[\w\s*]+?\b(resmem_\w+)\s*\(", stmt)
        if m:
            names.add(m[1])
    return names


def test_shared_library_exports_only_the_api(libso):
    """libresmem.so.1's dynamic symbols are the resmem_* API, each bound to a
    LIBRESMEM_ version node (userspace/lib/libresmem.lds): no internal helper
    becomes ABI by accident.  And the exports are exactly the functions the
    installed <libresmem.h> declares: the script hides no API, and nothing
    without an installed header (resmem_plan.h, resmem_dt.h) becomes ABI."""
    out = subprocess.run(["nm", "-D", "--defined-only", "--with-symbol-versions",
                          f"{libso}/lib/libresmem.so.1"], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    exported, nodes = {}, set()
    for line in out.splitlines():
        _, kind, sym = line.split()
        if kind == "A":         # a version node's own definition
            nodes.add(sym)
            continue
        name, _, node = sym.partition("@@")
        exported[name] = node
    assert nodes and all(n.startswith("LIBRESMEM_") for n in nodes), nodes
    stray = sorted(n for n in exported if not n.startswith("resmem_"))
    assert not stray, f"libresmem.so.1 exports internals: {stray}"
    unversioned = sorted(n for n, node in exported.items() if node not in nodes)
    assert not unversioned, f"exported without a LIBRESMEM_ version node: {unversioned}"
    api = header_functions(os.path.join(REPO, "userspace", "include", "libresmem.h"))
    assert len(api) > 30, api
    hidden = sorted(api - set(exported))
    assert not hidden, f"declared in <libresmem.h> but not exported: {hidden}"
    headerless = sorted(set(exported) - api)
    assert not headerless, f"exported without a declaration in <libresmem.h>: {headerless}"


def test_shared_library_links_and_runs(libso, tmp_path):
    """A program linked against libresmem.so.1 (not the archive) runs and agrees
    with the host's own computation of the pattern, and the library says the
    version in the top-level VERSION file."""
    from tests.harness.pattern import word
    out = libso
    prog = tmp_path / "p.c"
    prog.write_text('#include <libresmem.h>\n#include <inttypes.h>\n#include <stdio.h>\n'
                    'int main(void){uint64_t v; if (resmem_parse_size("8G", &v)) return 1;'
                    'printf("%" PRIu64 " %" PRIu64 " %s\\n", v, resmem_seq_word(0x5eed, 4096),'
                    'resmem_version());'
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
    with open(os.path.join(REPO, "VERSION")) as f:
        assert r == [str(8 << 30), str(word(0x5eed, 4096)), f.read().strip()]
