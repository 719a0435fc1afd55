"""Real GRUB for the tests: grub.cfg from Debian's own grub-mkconfig,
grub-mkrescue images, and guests booted from them (x86_64, BIOS, -cdrom).

mkconfig() runs the host's /usr/sbin/grub-mkconfig with its own /etc/grub.d
scripts (grub-common), in a private mount namespace where /etc/default (the
test's /etc/default/grub and grub.d/*.cfg) and /boot (an empty kernel and
initrd named like Debian's) are the test's own directories: nothing on the
host changes.  So the test's /etc/default/grub text is sourced by sh and
pasted into the `linux` line by 10_linux exactly as on a Debian machine, and
GRUB reads that line again at boot.

The harness pins only what grub-mkconfig would otherwise take from the host:
the root device (GRUB_DEVICE=/dev/ram0, which /etc/default/grub may override,
with GRUB_DISABLE_LINUX_UUID=true so root= is that device), prepended to the
test's text.  The image path in the `linux` line is the bind mount's source
path, and the device-access lines around it (search, set root, insmod)
describe the host's disks: linux_line() takes the generated `linux` line of
the first 10_linux entry and points its image at the boot image's
/boot/vmlinuz; every argument stays as grub-mkconfig wrote it.
"""
import os
import re
import shutil
import subprocess
import tempfile

from . import build, qemu

GRUB_PREAMBLE = """serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
"""

# what grub-mkconfig would otherwise take from the host (see above)
_PINNED = "GRUB_DEVICE=/dev/ram0\nGRUB_DISABLE_LINUX_UUID=true\n"

# a Debian kernel release: 10_linux lists /boot/vmlinuz-<release>
_RELEASE = "6.1.0-56-amd64"


def _mkconfig_path():
    return shutil.which("grub-mkconfig", path="/usr/sbin:/sbin:/usr/bin:/bin")


def have_grub():
    """None, or why GRUB end-to-end tests cannot run here."""
    for tool in ("grub-mkrescue", "xorriso", "mformat", "qemu-system-x86_64", "unshare"):
        if not shutil.which(tool):
            return (f"{tool} not found (tests/install-deps.sh installs grub-common grub-pc-bin "
                    "xorriso mtools util-linux)")
    if not _mkconfig_path() or not os.path.isfile("/etc/grub.d/10_linux"):
        return "grub-mkconfig or /etc/grub.d/10_linux is missing (grub-common)"
    if not os.path.isdir("/usr/lib/grub/i386-pc"):
        return "GRUB's i386-pc modules are missing (grub-pc-bin)"
    return None


def mkconfig(default_grub, dropins=(), workdir=None):
    """The grub.cfg Debian's grub-mkconfig writes for /etc/default/grub text
    `default_grub` plus /etc/default/grub.d drop-in texts (sourced in the
    order given).  Returns (grub.cfg text, grub-mkconfig's path: sh's $0
    while it sources those files, what an unescaped `$0...` expands to)."""
    mkconfig_bin = _mkconfig_path()
    d = tempfile.mkdtemp(prefix="resmem-mkconfig-", dir=workdir)
    try:
        etc, boot = os.path.join(d, "default"), os.path.join(d, "boot")
        os.makedirs(os.path.join(etc, "grub.d"))
        os.makedirs(os.path.join(boot, "grub"))
        with open(os.path.join(etc, "grub"), "w") as f:
            f.write(_PINNED + default_grub)
        for i, text in enumerate(dropins):
            with open(os.path.join(etc, "grub.d", f"{i:02d}.cfg"), "w") as f:
                f.write(text)
        for name in (f"vmlinuz-{_RELEASE}", f"initrd.img-{_RELEASE}"):
            open(os.path.join(boot, name), "w").close()
        ns = (["unshare", "--mount", "--propagation", "private"] if os.geteuid() == 0 else
              ["unshare", "--user", "--map-root-user", "--mount"])
        script = 'mount --bind "$1" /etc/default && mount --bind "$2" /boot && exec "$3"'
        r = subprocess.run(ns + ["/bin/sh", "-c", script, "sh", etc, boot, mkconfig_bin],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                           env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"})
        if r.returncode:
            raise RuntimeError(f"grub-mkconfig failed ({r.returncode}):\n{r.stderr}")
        return r.stdout, mkconfig_bin
    finally:
        shutil.rmtree(d, ignore_errors=True)


def linux_line(cfg):
    """The `linux` line of the first menu entry 10_linux wrote in grub.cfg
    text `cfg`, its image pointed at /boot/vmlinuz (the boot image's)."""
    m = re.search(r"(?s)### BEGIN /etc/grub\.d/10_linux ###\n(.*?)"
                  r"### END /etc/grub\.d/10_linux ###", cfg)
    assert m, f"grub-mkconfig wrote no 10_linux section:\n{cfg}"
    line = re.search(r"(?m)^\s*linux\s.*$", m[1])
    assert line, f"10_linux wrote no linux line:\n{m[1]}"
    path = f"/vmlinuz-{_RELEASE}"
    assert path in line[0].split(None, 2)[1], line[0]
    return re.sub(r"^(\s*linux\s+)\S+", lambda x: x[1] + "/boot/vmlinuz", line[0])


def mkconfig_linux_line(default_grub, dropins=(), workdir=None):
    """(the `linux` line grub-mkconfig writes for these files, as linux_line()
    gives it; grub-mkconfig's path, sh's $0)."""
    cfg, dollar0 = mkconfig(default_grub, dropins, workdir)
    return linux_line(cfg), dollar0


def make_iso(out, grub_cfg, files=()):
    """grub-mkrescue image at `out` whose /boot/grub/grub.cfg is `grub_cfg`;
    `files` are (path in image, host path) pairs."""
    d = tempfile.mkdtemp(prefix="resmem-iso-")
    try:
        os.makedirs(os.path.join(d, "boot", "grub"))
        with open(os.path.join(d, "boot", "grub", "grub.cfg"), "w") as f:
            f.write(grub_cfg)
        for dest, src in files:
            shutil.copyfile(src, os.path.join(d, dest.lstrip("/")))
        r = subprocess.run(["grub-mkrescue", "-o", out, d], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=300)
        if r.returncode:
            raise RuntimeError(f"grub-mkrescue failed:\n{r.stdout}")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return out


def run_grub_script(body, timeout=60):
    """Boot GRUB alone (no kernel) with `body` after the serial preamble and
    return what it printed to the serial console.  GRUB parses `body` with
    its own lexer: this is the witness for grub.cfg quoting.  `body` should
    end with `halt` (then QEMU exits; -no-reboot keeps it from looping)."""
    d = tempfile.mkdtemp(prefix="resmem-grubrun-")
    try:
        iso = make_iso(os.path.join(d, "g.iso"), GRUB_PREAMBLE + body)
        log = os.path.join(d, "serial.log")
        subprocess.run(["qemu-system-x86_64", "-accel", "tcg", "-machine", "pc", "-m", "128M",
                        "-display", "none", "-monitor", "none", "-nodefaults", "-no-reboot",
                        "-cdrom", iso, "-serial", f"file:{log}"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
        with open(log, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\r", "")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def boot_iso(k, linux_line, out):
    """An image that boots target k's kernel and test initramfs with
    `linux_line` (a grub.cfg `linux` command) as the only menu entry."""
    cfg = (GRUB_PREAMBLE + "menuentry 'resmem test' {\n" + linux_line + "\n"
           "\tinitrd\t/boot/initrd.gz\n}\n")
    return make_iso(out, cfg, [("/boot/vmlinuz", build.kernels.image(k)),
                               ("/boot/initrd.gz", build.initrd(k))])


class GrubGuest(qemu.Guest):
    """A harness guest booted by GRUB from an ISO instead of -kernel: the
    command line is whatever GRUB made of grub.cfg.  It must carry the
    harness's own parameters (HARNESS_CMDLINE) for the agent to start."""

    HARNESS_CMDLINE = ("console=ttyS0 resmem_test.agent=/dev/ttyS1 panic=-1 panic_on_warn=1 "
                       "oops=panic loglevel=7 ignore_loglevel")

    def __init__(self, kernel, iso, **kw):
        if kernel.arch != "x86_64":
            raise ValueError("GRUB images here are i386-pc (BIOS): x86_64 targets only")
        super().__init__(kernel, **kw)
        self.iso = iso

    def qemu_argv(self):
        d = self.dir
        argv = ["qemu-system-x86_64", "-machine", "pc", "-cpu", "max", "-accel", "tcg",
                "-m", self.mem, "-smp", str(self.smp), "-display", "none", "-monitor", "none",
                "-nodefaults", "-cdrom", self.iso, "-boot", "d",
                "-chardev", f"file,id=con,path={d}/console.log",
                "-chardev", f"socket,id=agent,path={d}/agent.sock,server=on,wait=off",
                "-qmp", f"unix:{d}/qmp.sock,server=on,wait=off",
                "-serial", "chardev:con", "-serial", "chardev:agent"]
        if not self.reboot:
            argv.append("-no-reboot")
        return argv + self.extra_qemu
