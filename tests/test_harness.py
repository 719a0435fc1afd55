"""The harness's own guarantees: the channels, the crash detection, the caches."""
import os
import subprocess
import re
import sys
import time

import pytest

from tests.harness import boots, initramfs, kernels, matrix, qemu

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------------------ host only
def test_kernel_cache_needs_no_network(monkeypatch):
    """A kernel already unpacked is reused without calling apt at all."""
    k = matrix.DEFAULT
    kernels.fetch(k)

    def no_network(*a, **kw):
        raise AssertionError("the kernel provider went to the network for a cached kernel")
    monkeypatch.setattr(kernels, "download", no_network)
    d = kernels.fetch(k)
    assert os.path.exists(kernels.image(k))
    assert os.path.exists(os.path.join(kernels.headers(k), "Makefile"))
    assert d == kernels.kernel_dir(k)


def test_broken_module_build_ends_the_run_at_once(tmp_path):
    """A tree whose module does not build clean fails `pytest` before any
    guest boots, with the compiler's report, in the time of one build (the
    whole suite must fail in minutes, not once per test).  The breakage is a
    warning only W=1 and sparse give (a global function without a
    prototype): the harness builds the module as `make lint-module` checks
    it, so a lint warning is as fatal as a compile error."""
    import subprocess
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, stdout=subprocess.PIPE,
                           check=True).stdout.decode().split("\0")
    tree = tmp_path / "tree"
    for f in filter(None, files):
        dst = tree / f
        dst.parent.mkdir(parents=True, exist_ok=True)
        if os.path.isfile(os.path.join(REPO, f)):
            dst.write_bytes(open(os.path.join(REPO, f), "rb").read())
    main = tree / "module" / "main.c"
    main.write_text(main.read_text() + "\nint resmem_lint_on_purpose(void)\n{\n\treturn 0;\n}\n")
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                        "tests/test_smoke.py", f"--targets={matrix.DEFAULT.name}"],
                       cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=dict(os.environ, RESMEM_CACHE=kernels.CACHE), timeout=600)
    took = time.monotonic() - t0
    assert r.returncode != 0, r.stdout[-3000:]
    assert "build for qemu-x86_64-6.1 failed" in r.stdout, r.stdout[-3000:]
    assert "W=1/sparse warnings" in r.stdout, r.stdout[-3000:]
    assert re.search(r"main\.c:\d+:\d+: warning: no previous prototype for .resmem_lint_on_purpose",
                     r.stdout), r.stdout[-3000:]
    assert "resmem-agent" not in r.stdout and " passed" not in r.stdout, r.stdout[-3000:]
    assert took < 300, f"a broken build took {took:.0f} s to fail"


def test_failed_boot_retried_once_then_fails_fast(monkeypatch):
    """A kernel that does not boot costs two boot attempts (one retry for a
    TCG hiccup), then every later test of it fails at once with the reason."""
    from tests.harness import plugin
    starts = []

    class NeverBoots:
        def __init__(self, k, **boot):
            self.final_console = "Kernel panic - not syncing: VFS: Unable to mount root fs"

        def start(self):
            starts.append(time.monotonic())
            raise qemu.GuestCrashed("guest died while booting")

    monkeypatch.setattr(plugin.qemu, "Guest", NeverBoots)
    pool = plugin.Pool()
    name = matrix.DEFAULT.name
    for _ in range(3):
        with pytest.raises(qemu.GuestError) as e:
            pool.get(name, {"mem": "1G"})
    assert len(starts) == 2, starts
    assert "not booted again" in str(e.value) and "Unable to mount root fs" in str(e.value)
    assert len(pool.retried) == 1 and name in pool.broken


def test_initramfs_rebuilt_only_when_an_input_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(initramfs, "CACHE", str(tmp_path))
    b = initramfs.Builder()
    b.add_bytes("/etc/a", b"one")
    p1 = b.write("t")
    m1 = os.stat(p1).st_mtime_ns
    time.sleep(0.01)
    assert b.write("t") == p1 and os.stat(p1).st_mtime_ns == m1
    b.add_bytes("/etc/a", b"two")
    p2 = b.write("t")
    assert p2 != p1 and not os.path.exists(p1)


def test_cpio_archive_is_valid_newc(tmp_path, monkeypatch):
    """The archive unpacks with the real cpio tool to exactly what was added."""
    import gzip
    import subprocess
    monkeypatch.setattr(initramfs, "CACHE", str(tmp_path))
    b = initramfs.Builder()
    b.add_bytes("/usr/bin/x", b"#!/bin/sh\necho x\n", 0o755)
    b.add_bytes("/etc/odd", b"12345")
    b.add_symlink("/bin/y", "../usr/bin/x")
    p = b.write("t")
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["cpio", "-idm", "--quiet"], input=gzip.open(p).read(), cwd=out, check=True)
    assert (out / "usr/bin/x").read_bytes() == b"#!/bin/sh\necho x\n"
    assert os.access(out / "usr/bin/x", os.X_OK)
    assert (out / "etc/odd").read_bytes() == b"12345"
    assert os.readlink(out / "bin/y") == "../usr/bin/x"


def test_uefi_firmware_comes_from_the_deps_step():
    """Each UEFI image the harness boots is a file of a package that
    tests/install-deps.sh installs (CI starts from a clean machine); a
    firmware the harness does not know is refused, not booted as SeaBIOS."""
    import subprocess
    with open(os.path.join(REPO, "tests", "install-deps.sh")) as f:
        words = f.read().split()
    for arch, path in qemu.UEFI_FIRMWARE.items():
        r = subprocess.run(["dpkg", "-S", path], stdout=subprocess.PIPE, text=True)
        assert r.returncode == 0, f"{arch}: {path} belongs to no installed package"
        assert r.stdout.split(":")[0] in words, r.stdout
    with pytest.raises(ValueError):
        qemu.Guest(matrix.DEFAULT, firmware="bios")


class _ScriptedMachine(qemu.Guest):
    """A Guest whose machine is a script: each QMP system_reset starts the
    next scripted boot, which writes its console lines and, if it reaches
    the agent, READY."""

    def __init__(self, tmp_path, boots):
        import socket
        import types
        super().__init__(matrix.DEFAULT, reboot=True)
        self.dir = str(tmp_path)
        open(os.path.join(self.dir, "console.log"), "w").close()
        self.script = list(boots)       # (console text, reaches the agent)
        self._agent, self._machine_end = socket.socketpair()
        self.proc = types.SimpleNamespace(poll=lambda: None)

    def qmp(self, cmd, **args):
        if cmd == "system_reset":
            text, ready = self.script.pop(0)
            with open(os.path.join(self.dir, "console.log"), "a") as f:
                f.write(text)
            if ready:
                self._machine_end.sendall(b"READY\n")
        return {}


INT3 = "[    1.449603] Oops: int3: 0000 [#1] SMP NOPTI\n[    1.45] Kernel panic - not syncing: Fatal exception in interrupt\n"


def test_reboot_dying_of_the_tcg_text_patching_oops_is_reset_once_more(tmp_path, monkeypatch):
    """A warm reboot that dies early with QEMU 7.2 TCG's int3 oops is reset
    again (RAM kept, as by the reset it follows), its lines are not the
    test's problems, and the run's report lists it."""
    monkeypatch.setattr(qemu, "RETRIED_REBOOTS", [])
    g = _ScriptedMachine(tmp_path, [(INT3, False), ("[    1.0] Run /init as init process\n", True)])
    g.reset(timeout=10)
    assert g.script == [] and g.boots == 1
    assert g.problems() == []
    assert qemu.RETRIED_REBOOTS == [(matrix.DEFAULT.name, "[    1.449603] Oops: int3: 0000 [#1] SMP NOPTI")]


@pytest.mark.parametrize("deaths,booted", [([INT3], True), ([INT3, INT3], False),
                                             (["[    1.2] BUG: kernel NULL pointer dereference\n"], False)])
def test_first_boot_dying_of_the_tcg_text_patching_oops_boots_once_more(monkeypatch, deaths, booted):
    """A cold boot gets the same one retry as a warm reboot, for the same
    oops only; anything else, or a second death, fails the start."""
    monkeypatch.setattr(qemu, "RETRIED_REBOOTS", [])
    g = qemu.Guest(matrix.DEFAULT)
    left = list(deaths)

    def _start():
        if left:
            g.final_console = left.pop(0)
            raise qemu.GuestCrashed("guest died while booting")
        return g
    monkeypatch.setattr(g, "_start", _start)
    if booted:
        assert g.start() is g
        assert qemu.RETRIED_REBOOTS == [(matrix.DEFAULT.name, INT3.splitlines()[0])]
    else:
        with pytest.raises(qemu.GuestCrashed):
            g.start()
        assert len(qemu.RETRIED_REBOOTS) == (1 if deaths == [INT3, INT3] else 0)


@pytest.mark.parametrize("boots,left", [
    ([(INT3, False), (INT3, False)], "Oops: int3"),           # retried once, not twice
    ([("[    1.2] BUG: kernel NULL pointer dereference\n", False), ("", True)], "BUG: kernel NULL"),
])
def test_reboot_dying_otherwise_is_not_retried(tmp_path, monkeypatch, boots, left):
    """Only the known TCG oops buys a second reset, and only one: a second
    one, or any other death before the agent, fails with the guest's log."""
    monkeypatch.setattr(qemu, "RETRIED_REBOOTS", [])
    g = _ScriptedMachine(tmp_path, boots)
    with pytest.raises(qemu.GuestCrashed) as e:
        g.reset(timeout=3)
    assert "timed out while rebooting" in str(e.value) and left in str(e.value)
    assert any(left in p for p in g.problems())


def test_only_the_asked_for_panic_is_excused(tmp_path):
    """Guest.crash()'s own panic line is not a problem; anything else the
    kernel said in the same span is."""
    g = _ScriptedMachine(tmp_path, [])
    with open(os.path.join(g.dir, "console.log"), "w") as f:
        f.write("[  6.3] sysrq: Trigger a crash\n"
                "[  6.3] Kernel panic - not syncing: sysrq triggered crash\n"
                "[  6.3] WARNING: CPU: 1 PID: 7 at kernel/x.c:1 f+0x1/0x2\n"
                "[  6.4] ---[ end Kernel panic - not syncing: sysrq triggered crash ]---\n")
    g.crashes.append((0, len(g.console())))
    assert g.problems() == ["[  6.3] WARNING: CPU: 1 PID: 7 at kernel/x.c:1 f+0x1/0x2"]
    g.crashes.clear()
    assert len(g.problems()) == 3


@pytest.mark.parametrize("line,problem", [
    ("[    2.2] WARNING: CPU: 1 PID: 102 at mm/memory.c:12 f+0x11/0x1000", True),
    ("[    2.2] BUG: Bad page map in process x  pte:8000000100000227 pmd:1234", True),
    ("[    2.2] BUG: unable to handle page fault for address: ffffc90000000000", True),
    ("[    2.2] Kernel panic - not syncing: Fatal exception", True),
    ("[    2.2] mm/pgtable-generic.c:54: bad pud 000000002a(80000001000000e7)", True),
    ("[    2.2] x86/PAT: mapper:99 conflicting memory types 100000000-100001000 uncached<->write-back", True),
    ("[    2.2] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [mapper:88]", True),
    ("[    2.2] Internal error: Oops: 96000004 [#1] SMP", True),
    ("[    2.2] resmem: region0 [mem 0x100000000-0x2ffffffff]: /dev/resmem/region0, 8192 MiB", False),
    ("[    2.2] resmem: hole [mem 0xd0000000-0xdfffffff]: refused: inside the PCI window", False),
    ("[    2.2] Freeing unused kernel image (text/rodata gap) memory: 2040K", False),
])
def test_problem_patterns(line, problem):
    assert bool(qemu.PROBLEM.search(line)) == problem


# --------------------------------------------------------------- in a guest
def test_command_channel(guest, target):
    r = guest.run("echo out; echo err >&2; exit 7", check=False)
    assert (r.status, r.out, r.err) == (7, "out\n", "err\n")
    with pytest.raises(qemu.CommandFailed):
        guest.run("false")
    big = guest.run("head -c 1048576 /dev/zero | tr '\\0' 'z'").out
    assert big == "z" * 1048576
    raw = guest.run("printf 'a\\nRES 1 0 0 0\\nb'").out
    assert raw == "a\nRES 1 0 0 0\nb"


def test_command_timeout_leaves_guest_usable(guest, target):
    with pytest.raises(qemu.GuestError, match="timed out"):
        guest.run("sleep 30 & sleep 30; echo never", timeout=2)
    assert guest.run("echo still-here").out == "still-here\n"


def test_background_child_does_not_hold_the_command(guest, target):
    """A command that leaves a child running with the agent's pipes (no
    redirection) returns when its shell exits, with the shell's output, while
    the child still runs; its later output is not the command's.  (The agent
    used to wait for the pipes until the timeout: 120 s per such command.)"""
    r = guest.run("rm -f /tmp/late; (sleep 30; echo late; touch /tmp/late) & echo now",
                  timeout=120)
    assert r.status == 0 and r.out == "now\n", r
    assert guest.run("ls /tmp/late", check=False).status != 0, \
        "the command returned only after its child's 30 s: the agent waited for it"
    assert guest.run("echo still-here").out == "still-here\n"


def _warn_test(pytester, target, monkeypatch, mode):
    monkeypatch.setenv("PYTHONPATH", REPO)
    pytester.makepyfile(test_w=f"""
        def test_w(guest):
            guest.run("insmod {boots.TESTMODS}/resmem_test_warn.ko mode={mode}",
                      check=False)
    """)
    return pytester.runpytest_subprocess("-p", "tests.harness.plugin", f"--targets={target}",
                                         "-p", "no:cacheprovider", timeout=600)


# The harness's reading of the console, not the kernel's behaviour: the
# WARN and "Bad page map" lines have one format on every kernel of the matrix.
@pytest.mark.once_per_arch
def test_kernel_warn_fails_the_test_with_its_log(pytester, target, monkeypatch):
    """A WARN in the guest fails the test that caused it, with the console in the report."""
    r = _warn_test(pytester, target, monkeypatch, "warn")
    out = r.stdout.str()
    assert r.ret == 1, out[-3000:]
    r.assert_outcomes(failed=1)
    assert "deliberate warning requested by the test suite" in out
    assert "Kernel panic - not syncing" in out
    assert "guest console" in out


@pytest.mark.once_per_arch
def test_problem_in_log_fails_a_passing_test(pytester, target, monkeypatch):
    """A 'Bad page map' line fails the test even when the guest lives on and the test passed."""
    r = _warn_test(pytester, target, monkeypatch, "log")
    out = r.stdout.str()
    assert r.ret == 1, out[-3000:]
    assert "kernel problems in the guest log during this test" in out
    assert "Bad page map in process resmem-test" in out


@pytest.mark.guest(fresh=True, reboot=True, boot="standard")
def test_system_reset_keeps_ram(guest, target):
    """QMP system_reset reboots the guest and leaves reserved memory as it was."""
    from tests.harness import boots
    addr, size = boots.regions(guest.k.arch, "standard")[0]
    where = addr + size - 4096
    data = os.urandom(256)
    guest.run(f"physpoke write {where:#x} {data.hex()}")
    boot_id = guest.run("cat /proc/sys/kernel/random/boot_id").out
    guest.reset()
    assert guest.run("cat /proc/sys/kernel/random/boot_id").out != boot_id
    assert guest.pmemsave(where, 256) == data
    assert guest.run(f"physpoke read {where:#x} 256").out.strip() == data.hex()




def test_qemu_dying_with_unread_input_is_a_guest_crash(target):
    """QEMU exiting while bytes we sent are still unread gives ECONNRESET on
    the agent socket: the harness must report it as GuestCrashed with the
    death report, not as a bare ConnectionResetError."""
    import signal
    import threading
    if target == "local":
        pytest.skip("needs QEMU")
    g = qemu.Guest(matrix.by_name(target))
    g.start()
    try:
        g.qmp("stop")       # the vCPUs stop: nothing reads the agent's serial port
        threading.Timer(1.5, os.kill, (g.proc.pid, signal.SIGKILL)).start()
        with pytest.raises(qemu.GuestCrashed, match="guest died"):
            g.run("echo " + "x" * 8192, timeout=10)
    finally:
        g.stop()


def test_package_builds_shared_across_pytest_processes(tmp_path):
    """packages._once: the main pytest and the one beside it (beside.py
    passes $RESMEM_PKG_DIR down) build a DKMS module once between them; the
    second waits for the first's lock and reads its result."""
    shared = tmp_path / "pkg"
    shared.mkdir()
    count = tmp_path / "builds"
    prog = f"""
import os, sys, time
sys.path.insert(0, {kernels.REPO!r})
from tests.harness import packages
def build():
    with open({str(count)!r}, "a") as f:
        f.write("x")
    time.sleep(1)
    return {{"ko": os.path.join(packages.tmpdir("dkms-k"), "resmem.ko")}}
print(packages._once(("dkms", "k"), build)["ko"])
"""
    env = dict(os.environ, RESMEM_PKG_DIR=str(shared))
    procs = [subprocess.Popen([sys.executable, "-c", prog], env=env, stdout=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outs == [str(shared / "dkms-k" / "resmem.ko")] * 2, outs
    assert count.read_text() == "x", "both processes built it"
