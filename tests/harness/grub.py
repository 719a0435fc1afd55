"""Real GRUB for the tests: grub.cfg made the way grub-mkconfig makes it,
grub-mkrescue images, and guests booted from them (x86_64, BIOS, -cdrom).

How grub-mkconfig turns /etc/default/grub into a `linux` line (Debian's
grub-common 2.06, read from /usr/sbin/grub-mkconfig and /etc/grub.d/10_linux):
  * grub-mkconfig sources /etc/default/grub, then /etc/default/grub.d/*.cfg,
    with sh (`. ${sysconfdir}/default/grub`), and exports the variables;
  * 10_linux calls linux_entry ... "${GRUB_CMDLINE_LINUX} ${GRUB_CMDLINE_LINUX_DEFAULT}"
    and writes `linux ${rel_dirname}/${basename} root=... ro ${args}` through
    an unquoted here-document: the value is pasted into grub.cfg as it is,
    with no quoting of its own, and GRUB's script lexer reads it again.
mkconfig_linux_line() does exactly those two steps with /bin/sh.
"""
import os
import shutil
import subprocess
import tempfile

from . import build, qemu

GRUB_PREAMBLE = """serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
"""

# the part of grub-mkconfig + 10_linux that matters here, as sh
_MKCONFIG = r"""
if test -f "$RESMEM_DEFAULT_GRUB" ; then
  . "$RESMEM_DEFAULT_GRUB"
fi
for x in "$RESMEM_DEFAULT_GRUB_D"/*.cfg ; do
  if [ -e "${x}" ]; then
    . "${x}"
  fi
done
args="${GRUB_CMDLINE_LINUX} ${GRUB_CMDLINE_LINUX_DEFAULT}"
cat << EOF
	linux	/boot/vmlinuz root=/dev/ram0 ro ${args}
EOF
"""


def have_grub():
    """None, or why GRUB end-to-end tests cannot run here."""
    for tool in ("grub-mkrescue", "xorriso", "mformat", "qemu-system-x86_64"):
        if not shutil.which(tool):
            return f"{tool} not found (tests/install-deps.sh installs grub-pc-bin xorriso mtools)"
    if not os.path.isdir("/usr/lib/grub/i386-pc"):
        return "GRUB's i386-pc modules are missing (grub-pc-bin)"
    return None


def mkconfig_linux_line(default_grub, dropins=(), workdir=None):
    """The `linux` line grub-mkconfig writes for /etc/default/grub text
    `default_grub` (plus grub.d drop-in texts).  Returns (line, dollar0):
    sh's $0 while sourcing, which an unescaped `$0...` expands to (as it
    would to /usr/sbin/grub-mkconfig on a real system)."""
    d = tempfile.mkdtemp(prefix="resmem-mkconfig-", dir=workdir)
    try:
        with open(os.path.join(d, "grub"), "w") as f:
            f.write(default_grub)
        os.mkdir(os.path.join(d, "grub.d"))
        for i, text in enumerate(dropins):
            with open(os.path.join(d, "grub.d", f"{i:02d}.cfg"), "w") as f:
                f.write(text)
        script = os.path.join(d, "grub-mkconfig")
        with open(script, "w") as f:
            f.write(_MKCONFIG)
        env = {"PATH": "/usr/bin:/bin", "RESMEM_DEFAULT_GRUB": os.path.join(d, "grub"),
               "RESMEM_DEFAULT_GRUB_D": os.path.join(d, "grub.d")}
        r = subprocess.run(["/bin/sh", script], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        if r.returncode:
            raise RuntimeError(f"sourcing /etc/default/grub failed: {r.stderr}")
        return r.stdout.rstrip("\n"), script
    finally:
        shutil.rmtree(d, ignore_errors=True)


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
