"""The `local` target: the suite on this machine (real hardware), as root.

What the tests need is built for the running kernel against its
distribution's headers (build.build_all) and used from where it was built:
programs through PATH, resmem and the test modules through a `modprobe`
wrapper and $RESMEM_TESTMODS.  Nothing is installed into the system.

The kernel log is read from /dev/kmsg, from the record that was newest when
the run started: the log is never cleared, and a WARN, oops or "Bad page
map" after a test started fails it as under QEMU.  Commands that would clear
the log are refused.

At the end, resmem is put back as it was found: unloaded, or loaded again
with the parameters it had.  What only QEMU can do (reboot, boot another
command line) skips with that reason.  A test's virtio-blk disk (disk.py)
is a loop device over the same image file here: the machine's own disks
are never a test's.
"""
import errno
import os
import re
import shlex
import shutil
import subprocess
import tempfile

import pytest

from . import build
from .qemu import PROBLEM, CommandFailed, Result

MODPROBE = """#!/bin/sh
# modprobe for the local target: resmem as built for this run (insmod after
# its dependencies), everything else from the system.
real=$(PATH=/usr/sbin:/sbin:/usr/bin:/bin command -v modprobe)
name= remove=
for a; do
    case $a in -r|--remove) remove=1 ;; -*) ;; *) [ -z "$name" ] && name=$a ;; esac
done
[ "$name" = resmem ] || exec "$real" "$@"
[ -n "$remove" ] && exec rmmod resmem
grep -q '^resmem ' /proc/modules && exit 0
found=
for a; do
    shift
    if [ -n "$found" ]; then set -- "$@" "$a"; elif [ "$a" = resmem ]; then found=1; fi
done
for d in $(modinfo -F depends "$RESMEM_KO" | tr , ' '); do "$real" "$d" || exit 1; done
exec insmod "$RESMEM_KO" "$@"
"""

# A command that would clear the kernel log: the local run leaves it alone.
CLEARS_LOG = re.compile(r"\bdmesg\b[^|;&\n]*\s-(c|C|-clear|-read-clear)\b")


class KernelLog:
    """/dev/kmsg from the record that was newest when it was opened."""

    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)
        self.text = ""

    def read(self):
        while True:
            try:
                rec = os.read(self.fd, 8192).decode(errors="replace")
            except BlockingIOError:
                return self.text
            except OSError as e:
                if e.errno != errno.EPIPE:
                    raise
                # overwritten before we read them: say so, it may have held a problem
                self.text += "[resmem-local] kernel log records were lost before they were read\n"
                continue
            head, _, msg = rec.partition(";")
            fields = head.split(",")
            usec = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else 0
            lines = msg.rstrip("\n").split("\n")
            # continuation lines (" KEY=value" dictionary entries) are not log text
            self.text += f"[{usec / 1e6:12.6f}] {lines[0]}\n"


ZERO_CHUNK = bytes(16 << 20)


def first_data(path):
    """None when the device reads as zeros to its end, else where the first
    other byte is.  Whole chunks compared at memcmp speed: cmp(1) byte by
    byte took 4 minutes over 8 GiB in a VM under TCG."""
    buf = bytearray(len(ZERO_CHUNK))
    off = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                return None
            full = n == len(buf)
            if (buf if full else buf[:n]) != (ZERO_CHUNK if full else ZERO_CHUNK[:n]):
                at = off + next(i for i in range(n) if buf[i])
                return f"byte {at:#x} is {buf[at - off]:#04x}, not zero"
            off += n


class LocalMachine:
    local = True
    boots = 1

    def __init__(self, k):
        self.k = k
        build.build_all(k)
        # copies, readable by all: tests run some programs as nobody, who
        # cannot reach a tree in a home directory (0700 on Debian 13)
        self.dir = tempfile.mkdtemp(prefix="resmem-local-")
        os.chmod(self.dir, 0o755)
        bindir = os.path.join(self.dir, "bin")
        os.mkdir(bindir, 0o755)
        guest = os.path.dirname(build.helper_path(k, "mapper"))
        for name in os.listdir(guest):
            shutil.copy(os.path.join(guest, name), os.path.join(bindir, name))
        shutil.copy(build.tool_path(k), os.path.join(bindir, "resmem"))
        with open(os.path.join(bindir, "modprobe"), "w") as f:
            f.write(MODPROBE)
        os.chmod(os.path.join(bindir, "modprobe"), 0o755)
        self.env = dict(os.environ,
                        PATH=f"{bindir}:{os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}",
                        RESMEM_KO=build.module_path(k),
                        RESMEM_TESTMODS=os.path.dirname(build.test_module_path(k, "x")))
        self.found = self._module_state()
        if self.found is not None:
            # the run tests the module it built; restore() loads this one again
            r = subprocess.run(["rmmod", "resmem"], capture_output=True, text=True)
            if r.returncode:
                raise RuntimeError(f"resmem is loaded and in use ({r.stderr.strip()}): the local "
                                   "run needs it unloaded; stop its users (lsof /dev/resmem/*)")
        self.log = KernelLog()
        self.log_mark = 0
        self.blocked = None     # guard(): regions holding data no test may write
        self.zeroed = []        # regions found all-zero, zeroed again at the end
        self.witnesses = set()  # what pmemsave() read through, per test (plugin)
        self.loops = {}         # image file -> the loop device loop() attached over it

    def _module_state(self):
        """None when resmem is not loaded, else its parameters as a modprobe line."""
        p = "/sys/module/resmem/parameters"
        if not os.path.isdir("/sys/module/resmem"):
            return None
        params = []
        for name in sorted(os.listdir(p)) if os.path.isdir(p) else []:
            try:
                with open(os.path.join(p, name)) as f:
                    v = f.read().strip()
            except OSError:
                continue
            if v and v != "(null)":
                params.append(f"{name}={shlex.quote(v)}")
        return " ".join(params)

    def run(self, script, timeout=120, check=True):
        if CLEARS_LOG.search(script):
            raise CommandFailed(f"the local target never clears the kernel log: {script}")
        # Output through files, not pipes: a command that leaves a process
        # running in the background (`resmem capture ... &`) is done when
        # the shell exits, as with the guest agent, not when that process
        # closes its copy of stdout.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.Popen(["sh", "-c", script], stdout=out, stderr=err,
                                 stdin=subprocess.DEVNULL, env=self.env)
            try:
                status = p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                raise
            text = []
            for f in (out, err):
                f.seek(0)
                text.append(f.read().decode(errors="replace"))
        res = Result(script, status, *text)
        if check and status:
            raise CommandFailed(f"command failed (status {status}): {script}\n{text[0]}\n{text[1]}")
        return res

    def guard(self, destructive, named):
        """Why no test may write this machine's regions (None: they may).
        A region holding anything but zeros is somebody's data unless named
        in @named (RESMEM_TEST_REGION) or @destructive; regions found
        all-zero are zeroed again at the end (restore())."""
        if self.blocked is None:
            self.run("modprobe resmem")
            self.blocked, self.zeroed = {}, []
            for name in self.run("ls /dev/resmem").out.split():
                why = first_data(f"/dev/resmem/{name}")
                if why is None:
                    self.zeroed.append(name)
                elif not destructive and name not in named:
                    self.blocked[name] = why
            self.run("rmmod resmem")
        if self.blocked:
            return ("the run writes regions, and these hold data: "
                    + "; ".join(f"{n} ({why})" for n, why in self.blocked.items())
                    + ": save it (resmem drain NAME --to FILE, or dd), then name the region in "
                    "RESMEM_TEST_REGION=NAME[,NAME] or pass --destructive")
        return None

    def pmemsave(self, addr, size):
        """Physical memory by a path other than the test's: /dev/mem where
        the kernel lets it read the range (unclaimed: resmem not loaded),
        else read() of the resmem device that holds it (tests write through
        mappings).  Which one was used is kept for the report."""
        try:
            fd = os.open("/dev/mem", os.O_RDONLY)
            try:
                data = os.pread(fd, size, addr)
            finally:
                os.close(fd)
            if len(data) == size:
                self.witnesses.add("/dev/mem")
                return data
        except OSError:
            pass
        for name in os.listdir("/sys/class/resmem") if os.path.isdir("/sys/class/resmem") else []:
            with open(f"/sys/class/resmem/{name}/phys_addr") as f:
                phys = int(f.read(), 16)
            with open(f"/sys/class/resmem/{name}/size") as f:
                rsize = int(f.read())
            if phys <= addr and addr + size <= phys + rsize:
                with open(f"/dev/resmem/{name}", "rb", buffering=0) as f:
                    data = os.pread(f.fileno(), size, addr - phys)
                self.witnesses.add(f"read() of /dev/resmem/{name}")
                return data
        # read() of /dev/mem needs the range in the linear map, which arm64
        # refuses for no-map memory; a mapping of it (physpoke: aligned
        # 64-bit loads, as uncached arm64 memory needs) does not
        if addr % 8 == 0 and size % 8 == 0 and size <= 16 << 20:
            r = self.run(f"physpoke read {addr:#x} {size:#x}", check=False)
            if r.status == 0 and len(r.out.strip()) == 2 * size:
                self.witnesses.add("a mapping of /dev/mem (physpoke)")
                return bytes.fromhex(r.out.strip())
        pytest.skip(f"no witness for [{addr:#x}, +{size:#x}) on this machine: /dev/mem refuses to "
                    "read or map it and no resmem region holds it")

    def loop(self, path):
        """The loop device over the image file at @path (a test's disk,
        disk.py), attached at first use and kept for the run: what a QEMU
        guest sees as /dev/vda, which here may be the machine's root disk."""
        if path not in self.loops:
            self.loops[path] = self.run(f"losetup --find --show {shlex.quote(path)}").out.strip()
        return self.loops[path]

    def _detach_loops(self):
        """Every loop device loop() attached detached again, its mounts
        (a test's ext4, disk.Ext4Disk) unmounted first."""
        for dev in self.loops.values():
            with open("/proc/mounts") as f:
                mounts = [l.split()[1] for l in f if l.split()[0] == dev]
            for mnt in reversed(mounts):
                subprocess.run(["umount", mnt], capture_output=True)
            subprocess.run(["losetup", "-d", dev], capture_output=True)
        self.loops = {}

    def reset(self):
        pytest.skip("warm reboot is driven from the host only under QEMU")

    def console(self):
        return self.log.read()

    def console_sync(self):
        self.log.read()

    def mark(self):
        self.log_mark = len(self.console())
        return self.log_mark

    def problems(self, since=0):
        return [l for l in self.console()[since:].splitlines() if PROBLEM.search(l)]

    def alive(self):
        return True

    def stop(self):
        pass

    def restore(self):
        """The test disks' loop devices detached, regions found all-zero
        zeroed again, resmem as it was found, the temporary tree removed."""
        self._detach_loops()
        if self.zeroed:
            self.run("rmmod resmem 2>/dev/null; modprobe resmem", check=False)
            for name in self.zeroed:
                self.run(f"resmem fill {name} zero --force", timeout=600, check=False)
        if self._module_state() is not None or self.found is not None:
            subprocess.run(["rmmod", "resmem"], capture_output=True)
            if self.found is not None:    # the system's own module, not this run's
                subprocess.run(["sh", "-c", f"modprobe resmem {self.found}"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


# ------------------------------------------------------------ which tests apply
def _dt_reservations():
    """(address, size, compatible, name, no-map) of each /reserved-memory
    child of the running tree: what a test's boot asks of a region (its
    name is the device's, no-map decides whether it gets struct pages)."""
    base = "/proc/device-tree/reserved-memory"
    out = []
    for node in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        try:
            with open(os.path.join(base, node, "reg"), "rb") as f:
                reg = f.read()
        except OSError:
            continue
        try:
            with open(os.path.join(base, node, "compatible"), "rb") as f:
                compat = f.read().split(b"\0")[0].decode()
        except OSError:
            compat = ""
        if len(reg) == 16:      # the harness's trees: two cells each
            out.append((int.from_bytes(reg[:8], "big"), int.from_bytes(reg[8:], "big"), compat,
                        node.split("@")[0], os.path.exists(os.path.join(base, node, "no-map"))))
    return out


def machine_facts():
    """What boot_mismatch() compares: this machine's command line words, its
    /reserved-memory nodes, whether it booted through UEFI."""
    with open("/proc/cmdline") as f:
        cmdline = f.read().split()
    return cmdline, _dt_reservations(), os.path.isdir("/sys/firmware/efi")


def _virtio_disks(extra_qemu):
    """The image files of QEMU arguments made only of virtio-blk disks
    (`-drive file=IMG,...,if=virtio`, disk.Disk), which this machine has as
    loop devices over the same files; None for anything else.  Not NVMe's
    (`if=none` + `-device nvme`): its tests need NVMe's 4-byte DMA
    alignment, which a loop device does not give."""
    if not extra_qemu or len(extra_qemu) % 2:
        return None
    files = []
    for opt, value in zip(extra_qemu[::2], extra_qemu[1::2]):
        kv = dict(p.partition("=")[::2] for p in value.split(","))
        if opt != "-drive" or kv.get("if") != "virtio" or not kv.get("file"):
            return None
        files.append(kv["file"])
    return files


def boot_mismatch(boot, facts=None):
    """Why this machine, as booted, is not the boot a test asks for (None: it is).
    The reason says what would make it one."""
    have, got, efi = facts or machine_facts()
    if boot.get("qemu_only"):   # guest(qemu_only="why"): what no machine can be booted as
        return f"QEMU only: {boot['qemu_only']}"
    if boot.get("extra_qemu") and not _virtio_disks(boot["extra_qemu"]):
        return "needs a QEMU device or machine option: " + " ".join(boot["extra_qemu"])
    if boot.get("firmware") == "uefi" and not efi:
        return "needs a machine booted through UEFI"
    want = boot.get("cmdline", "").split()
    missing = [w for w in want if w not in have]
    if missing:
        return f"needs the kernel command line to hold: {' '.join(want)} (missing: {' '.join(missing)})"
    res = [r for r in boot.get("reservations", []) if "overlay" not in r]
    if any("overlay" in r for r in boot.get("reservations", [])):
        return "needs a device-tree overlay of the test harness (tests/dt)"
    for r in res:
        if (r["addr"], r["size"], r.get("compatible", ""), r["name"], bool(r.get("no_map"))) not in got:
            return (f"needs a /reserved-memory node {r['name']}@{r['addr']:x} of {r['size']:#x} bytes"
                    + (f", compatible \"{r['compatible']}\"" if r.get("compatible") else "")
                    + (", no-map" if r.get("no_map") else "") + " (resmem dt add, docs/devicetree)")
    return None


# ------------------------------------------------------------ the report
def _reason(rep):
    lr = rep.longrepr
    return (lr[2] if isinstance(lr, tuple) else str(lr)).removeprefix("Skipped: ")


def write_report(stats, path):
    """The one-page text report of a local run, for a bug report; returns
    its summary line."""
    k = __import__("tests.harness.matrix", fromlist=["x"]).local_kernel()
    # a kernel problem found after a test fails it in teardown: every phase counts
    n = {w: len([r for r in stats.get(w, []) if w != "passed" or getattr(r, "when", "") == "call"])
         for w in ("passed", "skipped", "failed", "error")}
    summary = (f"local target ({k.kernelrelease}, {k.arch}): {n['passed']} passed, {n['skipped']} skipped, "
               f"{n['failed'] + n['error']} failed")
    with open("/proc/cmdline") as f:
        cmdline = f.read().strip()
    lines = ["resmem: the test suite on this machine", "",
             f"kernel:       {' '.join(os.uname())}",
             f"command line: {cmdline}",
             "reserved (device tree): " + (", ".join(f"{n}@{a:x} +{s:#x} {c}{' no-map' if nm else ''}"
                                                   for a, s, c, n, nm in _dt_reservations())
                                         or "none"),
             "", summary, ""]
    bad = [r for w in ("failed", "error") for r in stats.get(w, [])]
    if bad:
        lines.append("failed:")
        for r in bad:
            first = str(r.longrepr).strip().splitlines()[-1:] or [""]
            lines.append(f"  {r.nodeid}: {first[0][:200]}")
        lines.append("")
    reasons = {}
    for r in stats.get("skipped", []):
        reasons[_reason(r)] = reasons.get(_reason(r), 0) + 1
    if reasons:
        lines.append("skipped, by reason:")
        for why, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {count:4d} x {why[:300]}")
        lines.append("")
    witnesses = {}
    for r in stats.get("passed", []):
        for key, value in getattr(r, "user_properties", []):
            if key == "witness":
                witnesses[value] = witnesses.get(value, 0) + 1
    if witnesses:
        lines.append("physical-memory witness (in place of QEMU's pmemsave), tests per kind:")
        lines += [f"  {c:4d} x {w}" for w, c in sorted(witnesses.items())]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return summary
