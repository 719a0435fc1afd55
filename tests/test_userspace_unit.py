"""Host-side unit tests of libresmem and the resmem CLI (no kernel needed)."""
import os
import re
import subprocess

import pytest

from tests.harness import tty

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def libresmem_abi():
    """LIBRESMEM_ABI of userspace/lib/abi.mk: the soname's major version."""
    with open(os.path.join(REPO, "userspace", "lib", "abi.mk")) as f:
        return int(re.search(r"^LIBRESMEM_ABI := (\d+)$", f.read(), re.M)[1])


SONAME = f"libresmem.so.{libresmem_abi()}"


def test_userspace_unit_tests(tmp_path):
    r = subprocess.run(["make", "-s", "-C", os.path.join(REPO, "userspace"), "check",
                        f"OUT={tmp_path}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    m = re.search(r"^(\d+) passed, (\d+) failed", r.stdout, re.M)
    assert m, r.stdout[-4000:]
    assert r.returncode == 0 and int(m[2]) == 0 and int(m[1]) > 0, r.stdout[-4000:]


@pytest.fixture(scope="module")
def libso(tmp_path_factory):
    """A private build of the shared library; returns its build directory."""
    from tests.harness import hostbuild
    out = tmp_path_factory.mktemp("libso")
    hostbuild.userspace(out, out / "lib" / SONAME)
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
    """libresmem.so.N's dynamic symbols are the resmem_* API, each bound to the
    LIBRESMEM_N.0 version node, or the later node it was added in
    (userspace/lib/libresmem.lds, N from abi.mk): no
    internal helper
    becomes ABI by accident.  And the exports are exactly the functions the
    installed <libresmem.h> declares: the script hides no API, and nothing
    without an installed header (resmem_plan.h, resmem_dt.h) becomes ABI."""
    out = subprocess.run(["nm", "-D", "--defined-only", "--with-symbol-versions",
                          f"{libso}/lib/{SONAME}"], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    exported, nodes = {}, set()
    for line in out.splitlines():
        _, kind, sym = line.split()
        if kind == "A":         # a version node's own definition
            nodes.add(sym)
            continue
        name, _, node = sym.partition("@@")
        exported[name] = node
    abi = libresmem_abi()
    # soname .3 started over in LIBRESMEM_3.0; the ring images came in 3.1,
    # resmem_ring_reserve_ahead (capture --from FILE) in 3.2
    assert nodes == {f"LIBRESMEM_{abi}.0", f"LIBRESMEM_{abi}.1", f"LIBRESMEM_{abi}.2"}, nodes
    assert exported.get("resmem_export") == f"LIBRESMEM_{abi}.0", exported.get("resmem_export")
    for name in ("resmem_ring_image_plan", "resmem_ring_image_settle",
                 "resmem_ring_image_consume"):
        assert exported.get(name) == f"LIBRESMEM_{abi}.1", (name, exported.get(name))
    assert exported.get("resmem_ring_reserve_ahead") == f"LIBRESMEM_{abi}.2", \
        exported.get("resmem_ring_reserve_ahead")
    stray = sorted(n for n in exported if not n.startswith("resmem_"))
    assert not stray, f"{SONAME} exports internals: {stray}"
    unversioned = sorted(n for n, node in exported.items() if node not in nodes)
    assert not unversioned, f"exported without a LIBRESMEM_ version node: {unversioned}"
    api = header_functions(os.path.join(REPO, "userspace", "include", "libresmem.h"))
    assert len(api) > 30, api
    hidden = sorted(api - set(exported))
    assert not hidden, f"declared in <libresmem.h> but not exported: {hidden}"
    headerless = sorted(set(exported) - api)
    assert not headerless, f"exported without a declaration in <libresmem.h>: {headerless}"


def test_shared_library_links_and_runs(libso, tmp_path):
    """A program linked against libresmem.so.N (not the archive) runs and agrees
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
    assert f"{SONAME} => {out}/lib/{SONAME}" in ldd, ldd
    r = subprocess.run([str(tmp_path / "p")], env=env, stdout=subprocess.PIPE, text=True,
                       check=True).stdout.split()
    with open(os.path.join(REPO, "VERSION")) as f:
        assert r == [str(8 << 30), str(word(0x5eed, 4096)), f.read().strip()]


# --- CLI conventions (issue 19): the built CLI on the host, no module needed ---

FIXTURES = os.path.join(REPO, "userspace", "tests", "fixtures")
TWO = os.path.join(FIXTURES, "sys", "loaded-two-1g")


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    from tests.harness import hostbuild
    return hostbuild.resmem(tmp_path_factory.mktemp("cli"))


def run(cli, *argv, **kw):
    return subprocess.run([cli, *map(str, argv)], stdout=kw.pop("stdout", subprocess.PIPE),
                          stderr=subprocess.PIPE, text=True, timeout=60, **kw)


@pytest.fixture(scope="module")
def ring_file(cli, tmp_path_factory):
    """A regular file holding a ring with a few records (capture --file)."""
    path = tmp_path_factory.mktemp("ring") / "ring.bin"
    path.write_bytes(b"\0" * (1 << 20))
    r = run(cli, "capture", path, "--file", "--generate", "7", "--count", "3",
            "--record-size", "100")
    assert r.returncode == 0, r.stderr
    return path


@pytest.fixture(scope="module")
def dtb(tmp_path_factory):
    d = tmp_path_factory.mktemp("dtb")
    src = d / "t.dts"
    src.write_text('/dts-v1/;\n/ { #address-cells = <2>; #size-cells = <2>;\n'
                   '  memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x40000000>; };\n'
                   '};\n')
    subprocess.run(["dtc", "-I", "dts", "-O", "dtb", "-o", str(d / "t.dtb"), str(src)],
                   check=True, stderr=subprocess.PIPE)
    return d / "t.dtb"


def full_commands(ring_file, dtb):
    plan = os.path.join(FIXTURES, "plan")
    return [
        ["list", "--json", "--sysfs", TWO],
        ["list", "--sysfs", TWO],
        ["info", "lo", "--sysfs", TWO],
        ["--help"],
        ["help", "list"],
        ["list", "--help"],
        ["--version"],
        ["ring", ring_file, "--json"],
        ["ring", ring_file],
        ["plan", "--size", "8G", "--from", os.path.join(plan, "qemu-pc-13G.memmap"),
         "--cmdline", os.path.join(plan, "debian.cmdline")],
        ["dt", "list", dtb],
        ["dump", ring_file, "--length", "64"],
    ]


def test_output_errors_exit_nonzero(cli, ring_file, dtb):
    """Output that could not be written (stdout on /dev/full) is an error for
    every command: exit status 3 and a message, never exit 0 in silence.
    Each command here succeeds with stdout on /dev/null."""
    for argv in full_commands(ring_file, dtb):
        with open(os.devnull, "w") as null:
            ok = run(cli, *argv, stdout=null)
        assert ok.returncode in (0, 1), (argv, ok.stderr)
        with open("/dev/full", "w") as full:
            r = run(cli, *argv, stdout=full)
        assert r.returncode == 3, (argv, r.returncode, r.stderr)
        assert "cannot write stdout: ENOSPC" in r.stderr, (argv, r.stderr)


def test_version_reports_module(cli, tmp_path):
    """--version names the tools' version (VERSION) and the loaded module's;
    a mismatch is warned about on stderr."""
    version = open(os.path.join(REPO, "VERSION")).read().strip()
    sysfs = tmp_path / "sys"
    r = run(cli, "--version", "--sysfs", sysfs)
    assert r.returncode == 0 and r.stdout == f"resmem {version}\nmodule: not loaded\n", r
    (sysfs / "module" / "resmem").mkdir(parents=True)
    (sysfs / "module" / "resmem" / "version").write_text(version + "\n")
    r = run(cli, "--version", "--sysfs", sysfs)
    assert r.returncode == 0 and r.stdout == f"resmem {version}\nmodule: {version}\n", r
    assert r.stderr == ""
    (sysfs / "module" / "resmem" / "version").write_text("0.9\n")
    r = run(cli, "--version", "--sysfs", sysfs)
    assert r.returncode == 0 and r.stdout.endswith("module: 0.9\n"), r
    assert f"the loaded module is version 0.9, these tools are {version}\n" in r.stderr, r.stderr
    assert run(cli, "--version", "extra").returncode == 2


def test_help_help(cli):
    r = run(cli, "help", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: resmem [-q|-v] COMMAND"), r


def test_hints_fit_the_command(cli, ring_file, tmp_path):
    """A missing output file or input file is not a missing module: no hint
    to run 'resmem check' (least of all inside check), a hint about the path."""
    r = run(cli, "drain", ring_file, "--no-consume", "--to", "/nonexistent/x")
    assert r.returncode == 3 and "cannot create /nonexistent/x: ENOENT" in r.stderr, r.stderr
    assert "resmem check" not in r.stderr and "check the path" in r.stderr, r.stderr
    r = run(cli, "check", "--cmdline", tmp_path / "missing", "--sysfs", TWO)
    assert r.returncode == 3 and "ENOENT" in r.stderr, r
    assert "resmem check" not in r.stderr, r.stderr
    r = run(cli, "capture", ring_file, "--file", "--from", tmp_path / "missing")
    assert r.returncode == 3 and "resmem check" not in r.stderr, r.stderr
    # a missing region still gets the device advice
    r = run(cli, "dump", "/dev/resmem/nope", "--length", "1")
    assert r.returncode == 3 and "'resmem check'" in r.stderr, r.stderr


def test_list_natural_order(cli, tmp_path):
    """region2 before region10, as `ls -v` sorts (and as the module numbers them)."""
    names = ["region10", "region2", "region1", "region02x", "a"]
    for i, n in enumerate(names):
        d = tmp_path / "class" / "resmem" / n
        d.mkdir(parents=True)
        for f, v in (("phys_addr", hex(0x100000000 + i * 0x1000)), ("size", "0x1000"),
                     ("source", "cmdline"), ("cache_mode", "write-back"),
                     ("numa_node", "0"), ("mappings", "0")):
            (d / f).write_text(v + "\n")
    r = run(cli, "list", "--json", "--sysfs", tmp_path)
    assert r.returncode == 0, r.stderr
    import json
    assert [x["name"] for x in json.loads(r.stdout)] == \
        ["a", "region1", "region2", "region02x", "region10"], r.stdout


def test_refused_combinations(cli, ring_file, tmp_path):
    """fill writes: --via read is refused; capture reads one source: --from
    with --generate is refused.  Neither touches the file."""
    f = tmp_path / "f.bin"
    f.write_bytes(b"\0" * 4096)
    r = run(cli, "fill", f, "0xab", "--file", "--via", "read")
    assert r.returncode == 2 and "--via read: use mmap or write" in r.stderr, r
    assert f.read_bytes() == b"\0" * 4096
    assert run(cli, "verify", f, "zero", "--via", "write").returncode == 2
    assert run(cli, "fill", f, "0xab", "--file", "--via", "write").returncode == 0
    assert f.read_bytes() == b"\xab" * 4096
    before = ring_file.read_bytes()
    r = run(cli, "capture", ring_file, "--file", "--from", f, "--generate", "1", "--count", "1")
    assert r.returncode == 2 and "--from and --generate exclude each other" in r.stderr, r
    assert ring_file.read_bytes() == before


def run_on_tty(cli, *argv):
    """Run with stdout on a pseudo-terminal: (exit status, what reached it, stderr)."""
    return tty.run([cli, *argv])


def test_binary_refused_on_a_terminal(cli, ring_file):
    """dump --raw and drain to stdout write binary: refused on a terminal
    (exit 2, nothing written) unless --force, as gzip does; the hexdump is fine."""
    rc, out, err = run_on_tty(cli, "dump", ring_file, "--length", "64", "--raw")
    assert rc == 2 and out == b"" and "binary data not written to a terminal" in err, (rc, out, err)
    assert "--force" in err
    rc, out, err = run_on_tty(cli, "drain", ring_file, "--no-consume")
    assert rc == 2 and out == b"" and "binary data not written to a terminal" in err, (rc, out, err)
    rc, out, err = run_on_tty(cli, "dump", ring_file, "--length", "64", "--raw", "--force")
    assert rc == 0 and len(out) >= 64, (rc, out, err)
    rc, out, err = run_on_tty(cli, "dump", ring_file, "--length", "16")
    assert rc == 0 and out.startswith(b"00000000  "), (rc, out, err)
    # not a terminal: no refusal
    r = subprocess.run([cli, "dump", str(ring_file), "--length", "64", "--raw"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 0 and len(r.stdout) == 64


def make_top(*args, user=None):
    pre = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if user else []
    return subprocess.run([*pre, "make", "-s", "--no-print-directory", "-C", REPO, *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)


def test_install_creates_group(tmp_path):
    """make install creates the udev rule's group `resmem` as the .deb's
    postinst does (addgroup --system) when root installs into this system,
    and otherwise says exactly what to run.  GETENT/ADDGROUP stand in for
    the real ones so the host's groups are left alone."""
    missing, there = "GETENT=false", "GETENT=true"
    r = make_top("install-group", missing, "ADDGROUP=echo addgroup --system")
    assert r.returncode == 0 and r.stdout.splitlines()[-1] == "addgroup --system resmem", r.stdout
    r = make_top("install-group", there, "ADDGROUP=echo addgroup --system")
    assert r.returncode == 0 and r.stdout == "", r.stdout
    r = make_top("install-group", missing, f"DESTDIR={tmp_path}")
    assert r.returncode == 0 and "on the target system, create the device group: " in r.stdout
    assert re.search(r": (addgroup|groupadd) --system resmem$", r.stdout.strip()), r.stdout
    if os.getuid() == 0:    # as an ordinary user (nobody): the command to run
        r = make_top("install-group", missing, user="nobody")
        assert r.returncode == 0 and re.search(
            r"not root: create the device group with: sudo (addgroup|groupadd) --system resmem",
            r.stdout), r.stdout
    # the rule names the same group
    assert 'GROUP="resmem"' in open(os.path.join(REPO, "udev", "60-resmem.rules")).read()


def test_tools_build_natively(tmp_path):
    """make tools without ARCH builds for the machine's architecture with its
    own gcc and libfdt: on an arm64 board (HOST_ARCH=aarch64 stands in for
    uname -m) no cross compiler and no fetched libfdt; ARCH= another one
    cross-builds."""
    def tools_line(*args):
        r = make_top("-n", "tools", *args)
        return next(l for l in r.stdout.splitlines() if "-C userspace" in l)
    assert "CC=gcc ARCH=aarch64" in tools_line("HOST_ARCH=aarch64")
    assert "CC=gcc ARCH=x86_64" in tools_line("HOST_ARCH=x86_64")
    assert "CC=aarch64-linux-gnu-gcc ARCH=aarch64" in tools_line("HOST_ARCH=x86_64", "ARCH=arm64")
    assert "CC=x86_64-linux-gnu-gcc ARCH=x86_64" in tools_line("HOST_ARCH=aarch64", "ARCH=x86_64")

    def fdt_root(*args):
        r = subprocess.run(["make", "-s", "--no-print-directory", "-C",
                            os.path.join(REPO, "userspace"), *args,
                            "--eval=fdt-root:\n\t@echo [$(FDT_ROOT)]", "fdt-root"],
                           stdout=subprocess.PIPE, text=True, check=True)
        return r.stdout.strip()
    assert fdt_root("HOST_ARCH=aarch64", "ARCH=aarch64") == "[]"
    assert fdt_root("HOST_ARCH=x86_64", "ARCH=aarch64").endswith("/.cache/libfdt/aarch64]")


COMPLETION = os.path.join(REPO, "completion", "resmem.bash")


def complete(cli, *words):
    """What the bash completion offers for `resmem WORDS...` (the last word
    being completed)."""
    script = (f'source {COMPLETION}\nCOMP_WORDS=(resmem {" ".join(repr(w) for w in words)})\n'
              f'COMP_CWORD={len(words)}\n_resmem\nprintf "%s\\n" "${{COMPREPLY[@]}}"\n')
    env = dict(os.environ, PATH=os.path.dirname(cli) + ":" + os.environ["PATH"])
    r = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=env, cwd="/", timeout=60)
    assert r.returncode == 0 and not r.stderr, r
    return r.stdout.split()


def test_bash_completion(cli):
    """The completion offers the CLI's commands and, for each, exactly the
    options its parser accepts (it reads them from the help generated from
    the option tables), and the values of --via/--from."""
    assert subprocess.run(["shellcheck", COMPLETION]).returncode == 0
    cmds = complete(cli, "")
    assert cmds[:13] == ["list", "info", "fill", "verify", "dump", "check", "plan", "dt", "sync",
                         "capture", "drain", "ring", "export"] and \
        cmds[13:] == ["help", "--help", "--version", "-q", "--quiet", "-v", "--verbose"]
    assert complete(cli, "fill", "--") == ["--offset", "--length", "--via", "--file", "--force",
                                          "--help"]
    assert complete(cli, "fill", "r", "0", "--via", "") == ["mmap", "write"]
    assert complete(cli, "verify", "r", "0", "--via", "") == ["mmap", "read"]
    assert complete(cli, "drain", "r", "--from", "") == ["cons", "tail", "head"]
    assert complete(cli, "dt", "") == ["add", "list"]
    assert complete(cli, "-q", "dt", "list", "--j") == ["--json"]
    assert complete(cli, "--quiet", "") == cmds
    assert complete(cli, "-v", "-q", "") == cmds
    assert "--json" in complete(cli, "dt", "list", "--")
    assert complete(cli, "help", "") == cmds[:13]
    # every option offered is one the command's parser knows: given (with a
    # value when it takes one), the parser goes on to the next word
    for cmd in [[c] for c in cmds[:13] if c != "dt"] + [["dt", "add"], ["dt", "list"]]:
        script = f'source {COMPLETION}\n_resmem_options {cli} {" ".join(cmd)}\n'
        table = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE, text=True,
                               check=True).stdout.split("\n")[:-1]
        names = [line.split()[0] for line in table]
        assert names == complete(cli, *cmd, "--") and "--help" in names and len(names) > 1, cmd
        for name, arg in (line.split() for line in table if not line.startswith("--help ")):
            value = [] if arg == "-" else [arg.split("|")[0] if re.fullmatch(r"[a-z|]+", arg)
                                           else "64K"]
            r = run(cli, *cmd, name, *value, "--zzz-unknown")
            # on to the next word, or a complaint about this option's value
            assert r.returncode == 2 and f"unknown option '{name}" not in r.stderr and \
                ("unknown option '--zzz-unknown'" in r.stderr or f"{name} " in r.stderr), \
                (cmd, name, r.stderr)


def test_verbose(cli, tmp_path):
    """-v/--verbose before the command names on stderr each input the
    command read by itself and what came of it; the sizes are the files'
    own (os.stat is the witness), and results and exit codes do not change."""
    cmdline = os.path.join(FIXTURES, "cmdline", "reserve-8g-at-4g")
    iomem = os.path.join(FIXTURES, "iomem", "reserved-8g-at-4g")
    fw = os.path.join(FIXTURES, "firmware-memmap")
    args = ["check", "--cmdline", cmdline, "--iomem", iomem, "--firmware-memmap", fw,
            "--sysfs", os.path.join(FIXTURES, "sys", "loaded-8g-at-4g")]
    plain, loud = run(cli, *args), run(cli, "-v", *args)
    assert plain.returncode == loud.returncode == 0 and plain.stdout == loud.stdout
    assert "verbose" not in plain.stderr
    lines = loud.stderr.splitlines()
    for path in (cmdline, iomem):
        assert f"resmem: verbose: read {path}: {os.path.getsize(path)} bytes" in lines, lines
    entries = len([e for e in os.listdir(fw) if e.isdigit()])
    assert f"resmem: verbose: directory {fw}: {entries} entries" in lines, lines
    # a device node that is not there, and the errno that stopped it
    r = run(cli, "--verbose", "info", "nope", "--sysfs", TWO)
    assert r.returncode == 3
    assert "resmem: verbose: open /dev/resmem/nope read-only: No such file or directory" in \
        r.stderr.splitlines(), r.stderr
    # a device tree blob, with its size
    dts = tmp_path / "one.dts"
    dts.write_text("/dts-v1/;\n/ { #address-cells = <2>; #size-cells = <2>; };\n")
    dtb = tmp_path / "one.dtb"
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(dtb), str(dts)], check=True)
    r = run(cli, "-v", "-q", "dt", "list", str(dtb))
    assert f"resmem: verbose: device tree {dtb}: {dtb.stat().st_size} bytes" in \
        r.stderr.splitlines(), r.stderr
    # --version reads the module's version file
    r = run(cli, "-v", "--version", "--sysfs", TWO)
    want = os.path.join(TWO, "module", "resmem", "version")
    assert f"resmem: verbose: read {want}: No such file or directory" in r.stderr, r.stderr


def test_quiet(cli):
    """-q/--quiet before the command leaves out notes and hints, not errors
    or results (and exit codes stay)."""
    loud = run(cli, "info", "nope", "--sysfs", TWO)
    quiet = run(cli, "-q", "info", "nope", "--sysfs", TWO)
    assert loud.returncode == quiet.returncode == 3
    assert "hint: regions here: hi lo" in loud.stderr, loud.stderr
    assert quiet.stderr == "resmem: cannot open /dev/resmem/nope: ENOENT (No such file or directory)\n"
    loud = run(cli, "info", "lo", "--sysfs", TWO)
    quiet = run(cli, "--quiet", "info", "lo", "--sysfs", TWO)
    assert "note: cannot open /dev/resmem/lo" in loud.stderr
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == loud.stdout
    r = run(cli, "-q", "drain", "/nonexistent/x")
    assert r.returncode == 3 and "ENOENT" in r.stderr and "hint" not in r.stderr, r.stderr
    assert run(cli, "-q").returncode == 2
