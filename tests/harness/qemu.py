"""QEMU runner: boots a target kernel and talks to it.

Two channels into a running guest:
  * the command agent on a serial port that is not the console
    (`Guest.run`: a shell script in, exit status, stdout and stderr out);
  * QMP for what only the host can do (`pmemsave`, `system_reset`, `quit`).

Every boot uses panic=-1 panic_on_warn=1 oops=panic, and -no-reboot unless
the caller asks to survive a reset, so a kernel WARN, oops or BUG ends the
guest; the test that caused it fails with the console log attached.  A guest
made with on_panic="halt" (panic=0) stops in a panic instead, for the host to
look at its memory and reset it (Guest.crash).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from . import build, dt

BOOT_TIMEOUT = float(os.environ.get("RESMEM_BOOT_TIMEOUT", "120"))

# A line matching any of these in the console log is a kernel problem.
PROBLEM = re.compile(
    r"------------\[ cut here \]------------|WARNING: CPU|\bBUG:|Oops|Bad page map|"
    r"Kernel panic|general protection fault|Unable to handle kernel|Internal error:|"
    r"soft lockup|blocked for more than|UBSAN:|KASAN:|list_add corruption|"
    r"conflicting memory types|Corrupted page table|: bad p[4gum]d |Bad rss-counter")

# QEMU 7.2's TCG and cross-CPU code modification: now and then an x86_64
# 7.3 kernel meets a breakpoint its text patching had already removed, early
# in boot, long before anything of resmem runs.  A warm reboot that dies
# this way before the agent starts is reset once more (RAM is kept, as in
# the reset it follows); every such retry is listed in the run's report.
TCG_TEXT_PATCH_OOPS = re.compile(r"Oops: int3\b")
RETRIED_REBOOTS = []    # (target, first problem line) of each boot or reboot retried

# The kernel's panic= for each on_panic: "exit" reboots at once (and with
# -no-reboot QEMU then exits); "halt" stops the CPUs in the panic.
PANIC_ARG = {"exit": "panic=-1", "halt": "panic=0"}
SYSRQ_CRASH = "sysrq triggered crash"

# UEFI firmware images from Debian's `ovmf` and `qemu-efi-aarch64` packages
# (tests/install-deps.sh installs them).  Both boot the -kernel image through
# its EFI stub; without one, x86_64 boots SeaBIOS and arm64 the bare kernel.
UEFI_FIRMWARE = {
    "x86_64": "/usr/share/ovmf/OVMF.fd",
    "aarch64": "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd",
}
FIRMWARES = ("default", "uefi")


class GuestError(Exception):
    """The guest could not do what was asked; the message carries its log."""


class GuestCrashed(GuestError):
    """The guest kernel died (panic, WARN with panic_on_warn, oops) or hung."""


class CommandFailed(GuestError):
    """A command in the guest exited non-zero and the caller said check=True."""


class Result:
    def __init__(self, script, status, out, err):
        self.script, self.status, self.out, self.err = script, status, out, err

    @property
    def ok(self):
        return self.status == 0

    def __repr__(self):
        return f"Result(status={self.status}, out={self.out[-2000:]!r}, err={self.err[-2000:]!r})"


def log_tail(text, lines=120):
    return "\n".join(text.splitlines()[-lines:])


class Guest:
    """One QEMU guest.  Use as a context manager or call start()/stop()."""

    def __init__(self, kernel, mem=None, smp=2, cmdline="", reservations=(),
                 reboot=False, extra_qemu=(), on_panic="exit", extra_files=None,
                 firmware="default"):
        if firmware not in FIRMWARES:
            raise ValueError(f"firmware={firmware!r}: one of {', '.join(FIRMWARES)}")
        if on_panic not in PANIC_ARG:
            raise ValueError(f"on_panic={on_panic!r}: one of {', '.join(PANIC_ARG)}")
        self.k = kernel
        self.firmware = firmware
        self.mem = mem or ("4G" if kernel.arch == "x86_64" else "3G")
        self.smp = smp
        self.cmdline = cmdline
        self.reservations = list(reservations)   # arm64: /reserved-memory nodes
        self.reboot = reboot
        self.on_panic = on_panic
        self.extra_qemu = list(extra_qemu)
        self.extra_files = dict(extra_files or {})   # {guest path: host path}
        self.proc = None
        self.dir = None
        self._agent = None
        self._abuf = b""
        self._qmp = None
        self._qbuf = b""
        self._id = 0
        self.boots = 0
        self.boot_seconds = None
        self.log_mark = 0
        self.excused = []     # console spans of a retried reboot: not the test's
        self.crashes = []     # console spans of a panic asked for by crash()

    # ----------------------------------------------------------- lifecycle
    def qemu_argv(self):
        k = self.k
        common = f"{PANIC_ARG[self.on_panic]} panic_on_warn=1 oops=panic loglevel=7 {self.cmdline}".strip()
        d = self.dir
        argv_common = [
            "-accel", "tcg", "-m", self.mem, "-smp", str(self.smp),
            "-display", "none", "-monitor", "none", "-nodefaults",
            "-kernel", build.kernels.image(k), "-initrd", self.initrd,
            "-chardev", f"file,id=con,path={d}/console.log",
            "-chardev", f"socket,id=agent,path={d}/agent.sock,server=on,wait=off",
            "-qmp", f"unix:{d}/qmp.sock,server=on,wait=off",
        ]
        if not self.reboot:
            argv_common.append("-no-reboot")
        argv_common += self._firmware_argv()
        if k.arch == "x86_64":
            argv = ["qemu-system-x86_64", "-machine", "pc", "-cpu", "max", *argv_common,
                    "-serial", "chardev:con", "-serial", "chardev:agent",
                    "-append", f"console=ttyS0 resmem_test.agent=/dev/ttyS1 {common}"]
        else:
            # Under UEFI, ACPI off: the firmware then hands the kernel the
            # device tree QEMU gave it (-dtb, with our /reserved-memory
            # nodes) instead of ACPI tables, as a DT board's UEFI does.
            machine = "virt,acpi=off" if self.firmware == "uefi" else "virt"
            argv = ["qemu-system-aarch64", "-machine", machine, "-cpu", "cortex-a57",
                    *argv_common, "-serial", "chardev:con",
                    "-device", "pci-serial,chardev=agent",
                    "-append", f"console=ttyAMA0 resmem_test.agent=/dev/ttyS0 {common}"]
            if self.reservations:
                # the tree QEMU makes for exactly this machine (an SMMU
                # added by extra_qemu's -machine options is in it)
                argv += ["-dtb", self._arm_dtb(argv + self.extra_qemu)]
        return argv + self.extra_qemu

    def _firmware_argv(self):
        if self.firmware != "uefi":
            return []
        argv = ["-bios", UEFI_FIRMWARE[self.k.arch]]
        if self.k.arch == "x86_64":
            # A display, as real machines have: OVMF shows its boot logo and
            # publishes it (ACPI BGRT), and the kernel reserves the logo's RAM
            # for it, Reserved in /proc/iomem like a memmap= range.
            argv += ["-device", "VGA"]
        return argv

    def _arm_dtb(self, argv):
        base = os.path.join(self.dir, "virt.dtb")
        subprocess.run(argv + ["-machine", f"dumpdtb={base}"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = os.path.join(self.dir, "patched.dtb")
        dt.add_reservations(base, out, self.reservations)
        return out

    def start(self):
        """Boots the guest and waits for its agent.  A first boot that dies of
        TCG's text-patching breakpoint (TCG_TEXT_PATCH_OOPS) before the agent
        starts is booted once more, and listed as a warm reboot's would be."""
        try:
            return self._start()
        except GuestCrashed:
            text = getattr(self, "final_console", "")    # _start() stopped QEMU
            first = next((l for l in text.splitlines() if TCG_TEXT_PATCH_OOPS.search(l)), None)
            if first is None:
                raise
        RETRIED_REBOOTS.append((self.k.name, first.strip()))
        return self._start()

    def _start(self):
        self.initrd = build.initrd(self.k, self.extra_files)
        self.dir = tempfile.mkdtemp(prefix="resmem-")
        argv = self.qemu_argv()
        with open(os.path.join(self.dir, "cmd"), "w") as f:
            f.write(" ".join(argv) + "\n")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.dir, "qemu.out"), "wb"),
                                     stderr=subprocess.STDOUT)
        try:
            self._agent = self._connect("agent.sock")
            self._qmp = self._connect("qmp.sock")
            self._qmp_handshake()
            self._wait_ready(BOOT_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        self.boot_seconds = time.monotonic() - t0
        self.boots = 1
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.qmp("quit")
            except Exception:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for s in (self._agent, self._qmp):
            if s:
                s.close()
        self._agent = self._qmp = None
        self.final_console = self.console()
        self.proc = None
        if self.dir and not os.environ.get("RESMEM_KEEP_RUNDIR"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def _connect(self, name):
        path = os.path.join(self.dir, name)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise GuestCrashed(self._death_report("QEMU exited before its sockets opened"))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                return s
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise GuestError(f"no QEMU socket {path} after 30 s")
                time.sleep(0.05)

    # ------------------------------------------------------------- console
    def console(self):
        if self.dir is None:
            return getattr(self, "final_console", "")
        try:
            with open(os.path.join(self.dir, "console.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def _qemu_out(self):
        try:
            with open(os.path.join(self.dir, "qemu.out"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (FileNotFoundError, TypeError):
            return ""

    def _death_report(self, why):
        time.sleep(0.2)
        said = self._qemu_out()
        if len(said) > 2000:
            # QEMU's reason (e.g. "hardware error: EDU: DMA range ...") comes
            # first; a CPU register dump after it would push it out of a tail.
            said = said[:1000] + "\n[...]\n" + said[-1000:]
        return (f"{why} ({self.k.name}, -m {self.mem}, cmdline {self.cmdline!r})\n"
                f"--- QEMU said ---\n{said}\n"
                f"--- guest console (last lines) ---\n{log_tail(self.console())}")

    def _wait_exit(self):
        """The sockets closed: QEMU is exiting; give it a moment to finish."""
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def problems(self, since=0):
        """Kernel problem lines in the console log after offset `since`,
        except a retried reboot's and the panic line of a crash() asked for."""
        found, at = [], since
        for line in self.console()[since:].splitlines(keepends=True):
            start, at = at, at + len(line)
            if not PROBLEM.search(line):
                continue
            if any(a <= start < b for a, b in self.excused):
                continue
            if SYSRQ_CRASH in line and any(a <= start < b for a, b in self.crashes):
                continue
            found.append(line.rstrip("\r\n"))
        return found

    def console_sync(self, timeout=30):
        """Wait until the console log holds everything the kernel logged so
        far.  Newer kernels print to the serial console from a thread, after
        the command that logged has returned; a marker written to /dev/kmsg
        shows up only once what came before it is out."""
        if not self.alive():
            return
        self._id += 1
        token = f"resmem-console-sync-{os.getpid()}-{self._id}"
        self.run(f"echo {token} > /dev/kmsg", check=False)
        deadline = time.monotonic() + timeout
        while token not in self.console()[-65536:]:
            if time.monotonic() > deadline or not self.alive():
                return
            time.sleep(0.02)

    def mark(self):
        """Remember where the console log is now (for problems(since=...))."""
        self.log_mark = len(self.console())
        return self.log_mark

    # --------------------------------------------------------------- agent
    def _recv_until(self, pred, deadline, what):
        while True:
            got = pred()
            if got is not None:
                return got
            left = deadline - time.monotonic()
            if self.proc.poll() is not None:
                raise GuestCrashed(self._death_report(f"guest died while {what}"))
            if left <= 0:
                raise GuestCrashed(self._death_report(f"timed out while {what}"))
            self._agent.settimeout(min(left, 0.5))
            try:
                data = self._agent.recv(1 << 20)
            except socket.timeout:
                continue
            except ConnectionError:
                # QEMU exited with bytes we sent still unread (ECONNRESET)
                data = b""
            if not data:
                # QEMU closes the chardev when it exits; let poll() see it.
                self._wait_exit()
                raise GuestCrashed(self._death_report(f"guest died while {what}"))
            self._abuf += data

    def _take_ready(self):
        """True (and consumed) once the agent has said READY."""
        i = self._abuf.find(b"READY\n")
        if i < 0:
            return None
        self._abuf = self._abuf[i + 6:]
        return True

    def _wait_ready(self, timeout):
        self._recv_until(self._take_ready, time.monotonic() + timeout, "booting")

    def run(self, script, timeout=120, check=True):
        """Runs `script` with sh -c in the guest as root; returns a Result."""
        if not self.alive():
            raise GuestCrashed(self._death_report("guest is not running"))
        self._id += 1
        body = script.encode()
        try:
            self._agent.sendall(f"RUN {self._id} {timeout} {len(body)}\n".encode() + body)
        except ConnectionError:
            self._wait_exit()
            raise GuestCrashed(self._death_report(f"guest died before running {script[:200]!r}"))
        hdr = {}

        def header():
            i = self._abuf.find(b"\n")
            if i < 0:
                return None
            line = self._abuf[:i].decode(errors="replace")
            m = re.match(r"RES (\d+) (-?\d+) (\d+) (\d+)$", line)
            if not m:
                raise GuestError(f"agent protocol error: {line!r}")
            hdr.update(id=int(m[1]), status=int(m[2]), out=int(m[3]), err=int(m[4]))
            self._abuf = self._abuf[i + 1:]
            return True

        deadline = time.monotonic() + timeout + 30
        self._recv_until(header, deadline, f"running {script[:200]!r}")
        n = hdr["out"] + hdr["err"]

        def payload():
            if len(self._abuf) < n:
                return None
            data, self._abuf = self._abuf[:n], self._abuf[n:]
            return data
        data = self._recv_until(payload, deadline, f"reading output of {script[:200]!r}")
        res = Result(script, hdr["status"],
                     data[:hdr["out"]].decode("utf-8", "replace"),
                     data[hdr["out"]:].decode("utf-8", "replace"))
        if hdr["status"] == 124:
            raise GuestError(f"command timed out after {timeout} s in the guest: {script!r}\n{res}")
        if check and res.status != 0:
            raise CommandFailed(f"guest command failed (status {res.status}): {script}\n"
                                f"--- stdout ---\n{res.out[-4000:]}\n--- stderr ---\n{res.err[-4000:]}")
        return res

    # ----------------------------------------------------------------- QMP
    def _qmp_recv(self, deadline):
        while b"\n" not in self._qbuf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError("QMP did not answer")
            self._qmp.settimeout(left)
            try:
                data = self._qmp.recv(65536)
            except ConnectionError:
                data = b""
            if not data:
                self._wait_exit()
                raise GuestCrashed(self._death_report("QMP closed"))
            self._qbuf += data
        line, self._qbuf = self._qbuf.split(b"\n", 1)
        return json.loads(line)

    def _qmp_handshake(self):
        deadline = time.monotonic() + 30
        self._qmp_recv(deadline)                    # greeting
        self.qmp("qmp_capabilities")

    def qmp(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        try:
            self._qmp.sendall(json.dumps(msg).encode() + b"\n")
        except ConnectionError:
            self._wait_exit()
            raise GuestCrashed(self._death_report(f"QMP closed before {cmd}"))
        deadline = time.monotonic() + 120
        while True:
            r = self._qmp_recv(deadline)
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise GuestError(f"QMP {cmd} {args}: {r['error']}")

    def pmemsave(self, addr, size):
        """Guest physical memory [addr, addr+size) read by QEMU on the host."""
        path = os.path.join(self.dir, f"pmem-{addr:x}-{size:x}")
        self.qmp("pmemsave", val=addr, size=size, filename=path)
        with open(path, "rb") as f:
            data = f.read()
        os.unlink(path)
        if len(data) != size:
            raise GuestError(f"pmemsave returned {len(data)} bytes, wanted {size}")
        return data

    def pause(self):
        """Stop the guest's CPUs (QMP stop): memory holds still for pmemsave."""
        self.qmp("stop")
        self.paused = True

    def reset(self, timeout=BOOT_TIMEOUT):
        """Warm reboot (QMP system_reset; RAM is kept) and wait for the agent.
        A paused guest (or one halted in a panic) is reset where it stopped."""
        if not self.reboot:
            raise GuestError("reset() needs Guest(reboot=True): -no-reboot turns a reset into an exit")
        deadline = time.monotonic() + timeout
        began = self._system_reset()

        def ready_or_tcg_death():
            if self._take_ready():
                return "ready"
            if TCG_TEXT_PATCH_OOPS.search(self.console()[began:]):
                return "tcg"
            return None
        if self._recv_until(ready_or_tcg_death, deadline, "rebooting") == "tcg":
            time.sleep(1)   # the dying kernel's last lines, for the report
            text = self.console()
            self.excused.append((began, len(text)))
            first = next(l for l in text[began:].splitlines() if TCG_TEXT_PATCH_OOPS.search(l))
            RETRIED_REBOOTS.append((self.k.name, first.strip()))
            self._system_reset()
            self._recv_until(self._take_ready, deadline, "rebooting")
        self.boots += 1

    def _system_reset(self):
        """QMP system_reset (and cont if stopped); the console offset where
        the new boot's lines begin."""
        self._abuf = b""
        began = len(self.console())
        self.qmp("system_reset")
        if getattr(self, "paused", False):
            self.qmp("cont")
            self.paused = False
        return began

    def crash(self, timeout=60):
        """Panic the kernel on purpose (sysrq c) and wait until the panic is
        over: with on_panic="halt" its CPUs then stand still, the region as
        the crash left it, until the host resets the machine."""
        if self.on_panic != "halt":
            raise GuestError('crash() needs Guest(on_panic="halt")')
        began = len(self.console())
        # sent, not run(): the panic can come before the agent could answer
        self._id += 1
        body = b"echo c > /proc/sysrq-trigger"
        self._agent.sendall(f"RUN {self._id} 60 {len(body)}\n".encode() + body)
        end = f"---[ end Kernel panic - not syncing: {SYSRQ_CRASH}"
        deadline = time.monotonic() + timeout
        while end not in self.console()[began:]:
            if not self.alive() or time.monotonic() > deadline:
                raise GuestCrashed(self._death_report("the asked-for panic did not end"))
            time.sleep(0.05)
        self.crashes.append((began, len(self.console())))
