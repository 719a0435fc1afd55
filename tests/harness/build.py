"""Builds what a target's guest needs and packs its initramfs."""
import glob
import os
import re
import subprocess

import time

from . import buildroot, initramfs, kernels

REPO = kernels.REPO
BUILD = os.path.join(REPO, "build")


class BuildFailed(RuntimeError):
    """Building for a kernel failed; the message carries the compiler output."""


_failed = {}        # kernel name -> BuildFailed: a broken build fails once
_built = set()      # kernel names built in this process
build_seconds = {}  # kernel name -> seconds its first build took


def _make(*args, k=None):
    """make -C REPO args: on the host, or where k's modules are built
    (the trixie build root for kernels made by a newer gcc)."""
    argv = ["make", "-s", "--no-print-directory", "-C", REPO, *args]
    if k is not None:       # kbuild runs its jobs in parallel
        argv.insert(2, f"-j{os.cpu_count() or 1}")
    if k is None or k.name == "local":
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    else:
        r = buildroot.run_for(k, argv)
    if r.returncode:
        where = (" (in the trixie build root)"
                 if k is not None and k.name != "local" and buildroot.needed(k) else "")
        raise BuildFailed(f"make {' '.join(args)}{where} failed:\n{r.stdout}")
    return r.stdout


# The module is built the way `make lint-module` checks it (W=1, sparse):
# one build per kernel serves the guests and the lint, and a warning fails
# the run before any guest boots.
LINT_KBUILD = ["W=1", "C=2"]


def _module_lint_clean(k, out):
    """Raise BuildFailed when the W=1/sparse module build warned."""
    bad = [ln for ln in out.splitlines() if re.search(r"warning:|error:", ln)]
    if bad:
        raise BuildFailed(f"module for {k.name}: W=1/sparse warnings (make lint-module):\n"
                          + "\n".join(bad))


def kbuild_args(k):
    if k.name == "local":       # the running kernel, with its distribution's headers
        return [f"KDIR={k.headers}"]
    args = [f"KDIR={kernels.headers(k)}"]
    if k.arch == "aarch64":
        args += ["ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-"]
    return args


def module_path(k):
    return os.path.join(BUILD, k.kernelrelease, "resmem.ko")


def test_module_path(k, name):
    return os.path.join(BUILD, k.kernelrelease, "testmods", f"{name}.ko")


def tool_path(k, name="resmem"):
    return os.path.join(BUILD, k.arch, "bin", name)


def helper_path(k, name):
    return os.path.join(BUILD, k.arch, "guest", name)


def build_all(k):
    """Module, test modules, tools and guest helpers for kernel k.

    Built once per process; a failure is remembered and raised again at
    once for every later caller, so a broken tree costs one compile per
    kernel, not one per test."""
    if k.name in _failed:
        raise _failed[k.name]
    if k.name in _built:
        return
    t0 = time.monotonic()
    try:
        if k.name == "local":
            if not os.path.isdir(k.headers):
                raise BuildFailed(f"no kernel headers for the running kernel at {k.headers}: "
                                  f"install them (Debian: apt install linux-headers-{k.kernelrelease})")
        else:
            kernels.fetch(k)
        _make("guest-helpers", f"ARCH={k.arch}")
        if k.name == "local":   # the W=1/sparse lint is the matrix builds' job
            _make("module", *kbuild_args(k), k=k)
        elif glob.glob(os.path.join(REPO, "module", "*.c")):
            _module_lint_clean(k, _make("module", *kbuild_args(k), *LINT_KBUILD, k=k))
        _make("test-modules", *kbuild_args(k), k=k)     # after the module: its Module.symvers
        if os.path.exists(os.path.join(REPO, "userspace", "Makefile")):
            _make("tools", f"ARCH={k.arch}")
    except BuildFailed as e:
        _failed[k.name] = e
        raise
    except (RuntimeError, OSError, SystemExit) as e:
        _failed[k.name] = BuildFailed(f"preparing {k.name} failed: {e}")
        raise _failed[k.name] from e
    _built.add(k.name)
    build_seconds[k.name] = time.monotonic() - t0


def initrd(k, extra_files=None):
    """Builds everything for k and returns the initramfs path.

    extra_files: {guest path: host path} packed last, so one can replace a
    standard file (e.g. the module) or add new ones."""
    build_all(k)
    b = initramfs.Builder()
    b.add_file("/bin/busybox", kernels.busybox(k.debarch), 0o755)
    b.add_file("/init", os.path.join(REPO, "tests", "guest", "init"), 0o755)
    b.add_bytes("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                b"nobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n")
    b.add_bytes("/etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    for prog in glob.glob(os.path.join(BUILD, k.arch, "guest", "*")):
        name = os.path.basename(prog)
        dest = "/usr/sbin/resmem-agent" if name == "agent" else f"/usr/bin/{name}"
        b.add_file(dest, prog, 0o755)
    for prog in glob.glob(os.path.join(BUILD, k.arch, "bin", "*")):
        b.add_file(f"/usr/bin/{os.path.basename(prog)}", prog, 0o755)
    mods = f"/lib/modules/{k.kernelrelease}"
    if os.path.exists(module_path(k)):
        b.add_file(f"{mods}/extra/resmem.ko", module_path(k), 0o644)
    for ko in glob.glob(os.path.join(BUILD, k.kernelrelease, "testmods", "*.ko")):
        b.add_file(f"{mods}/testmods/{os.path.basename(ko)}", ko, 0o644)
    for guest_path, host_path in (extra_files or {}).items():
        b.add_file(guest_path, host_path)
    # a separate name so the standard archive is not replaced by this one
    return b.write(f"extra-{k.name}" if extra_files else k.name)
