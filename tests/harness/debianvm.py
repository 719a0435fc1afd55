"""A full Debian system in a VM, playing the user's own machine.

The boot tests run the project in busybox guests packed by the harness; a
user's machine is a Debian system with systemd, udev, the distribution's
kernel and headers and compiler.  This makes such a system: a trixie root
file system made by mmdebstrap from Debian's archive with the kernel of a
matrix entry (its `linux-image-*` and matching `linux-headers-*`, so
`make module` builds against /lib/modules/$(uname -r)/build as a user's
does), build-essential, python3-pytest, libfdt-dev, sudo and a user `user`
in group sudo.  It is cached as an ext4 image under .cache/debianvm/, named
by a hash of its recipe: rebuilt only when the recipe changes.

A run boots it under QEMU (the kernel and initrd the image's own Debian
packages installed, the disk in snapshot mode so every run starts from the
same system) with a reservation of boots.py ("standard": memmap=8G$4G on
x86_64, a /reserved-memory node on arm64), shares a run directory with 9p,
and a systemd unit in the image runs the host's script from there and
powers off.  The script unpacks the working tree (what `git ls-files`
lists, as a clone would have it) into ~user/resmem and runs the command
there as `user`; output and exit status come back through the share.

    python3 -m tests.harness.debianvm --arch x86_64 -- 'uname -a; cat /proc/cmdline'
    python3 -m tests.harness.debianvm --arch x86_64 --build-only   # just the image

The kernel .debs the matrix already fetched (.cache/debs) seed apt's
archive cache, and every package downloaded is kept in
.cache/debianvm/debs-<arch>, so neither is downloaded twice.

Compiling under TCG is the dominant cost (x86_64, 2 busy cores: `make
module` from scratch 750 s, `make tools` more than 450 s), so by default
the user's build steps run first in a chroot of the image's own root
(prebuild(): the same gcc-14, headers and paths, natively, ~45-75 s) and
the VM's `make module` / `make tools` find everything up to date (kbuild's
check alone is ~60 s under TCG; make tools 2 s).  Measured on this
project's machine (2 cores shared with other QEMU runs, 2026-12-02):
mmdebstrap 134-450 s (load-dependent; 135 MB downloaded besides the
kernel's 127 MB, ~10 s of it network), mkfs.ext4 -d ~10 s, root 676 MB,
image 813 MB on disk, initrd 10 MB; boot to the command 46-100 s; pytest
collecting the suite inside 33 s.
"""
import argparse
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import namedtuple

from . import boots, dt, kernels, matrix

SUITE = "trixie"
# The matrix kernel each architecture's system runs (trixie's own kernel).
KERNEL = {"x86_64": "qemu-x86_64-6.12", "aarch64": "qemu-aarch64-6.12"}
# What a user's machine has: an init, udev, modprobe, a compiler, the
# project's build and test dependencies (README), sudo; e2fsprogs (on any
# installed Debian) makes and reads the ext4 disk images of the tests that
# run on a loop device (disk.Ext4Disk).
PACKAGES = ["systemd-sysv", "udev", "dbus", "kmod", "procps", "initramfs-tools", "zstd",
            "sudo", "passwd", "build-essential", "python3-pytest", "device-tree-compiler",
            "libfdt-dev", "e2fsprogs"]
# Not installed: documentation nobody reads in a VM (less to unpack and copy).
EXCLUDE = ["/usr/share/man/*", "/usr/share/doc/*", "/usr/share/info/*", "/usr/share/locale/*"]
# ... and, where every program of the root runs through qemu-user, udev's
# hardware database sources: compiling them (udev's postinst, systemd-hwdb
# update) took 51 of arm64's mmdebstrap seconds; the database only names
# devices (vendor strings, keyboard maps), which nothing here reads.
FOREIGN_EXCLUDE = ["/usr/lib/udev/hwdb.d/*"]


def foreign(arch):
    """Whether this machine runs arch's programs only through qemu-user."""
    return arch != os.uname().machine


def exclude(arch):
    return EXCLUDE + (FOREIGN_EXCLUDE if foreign(arch) else [])


def initrd_once(arch, kernelrelease):
    """(essential hooks, customize hooks) that make the initrd once, at the
    end: the kernel's postinst makes one and initramfs-tools' trigger makes
    it again after the other packages; through qemu-user each took about
    three minutes.  Until then update-initramfs is a no-op put in place of
    the real one (dpkg-divert).  Native builds keep Debian's own course."""
    if not foreign(arch):
        return [], []
    cmd = "/usr/sbin/update-initramfs"
    divert = "/usr/sbin/update-initramfs.deferred"
    return ([f'chroot "$1" dpkg-divert --quiet --local --rename --divert {divert} --add {cmd} && '
             f'printf "#!/bin/sh\\nexit 0\\n" > "$1{cmd}" && chmod 755 "$1{cmd}"'],
            [f'rm "$1{cmd}" && chroot "$1" dpkg-divert --quiet --local --rename --divert {divert} '
             f'--remove {cmd} && chroot "$1" {cmd} -c -k {kernelrelease}'])
# Modules the initrd needs to find the root disk: initramfs-tools cannot
# guess them in a chroot (MODULES=dep), and "most" makes a large initrd.
INITRD_MODULES = ["virtio_blk", "ext4"]
USER = "user"
IMAGE_SIZE = "6G"       # sparse; room for builds inside
CACHE = os.path.join(kernels.CACHE, "debianvm")

# Runs at boot (resmem-vm-run.service): the host's script from the 9p share
# "host", if there is one, then power off.  Kept generic so that what a run
# does (host-side) can change without rebuilding the image.
RUNNER = """#!/bin/sh
# Runs /run/host/boot.sh from the host's 9p share, then the unit powers off.
mkdir -p /run/host
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 host /run/host || exit 0
exec /bin/sh /run/host/boot.sh
"""
UNIT = """[Unit]
Description=Run the host's command (tests/harness/debianvm.py) and power off
After=multi-user.target
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/resmem-vm-run
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
"""
INITRD_HOOK = """#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
""" + "".join(f"force_load {m}\n" for m in INITRD_MODULES)

def _customize():
    """mmdebstrap customize hooks ($1: the new root): a host name, the root
    disk, the user with sudo, the unit that runs the host's command."""
    q = shlex.quote
    sudoers = f"{USER} ALL=(ALL) NOPASSWD: ALL"
    return [
        'echo debianvm > "$1/etc/hostname"',
        'printf "127.0.0.1 localhost\\n127.0.1.1 debianvm\\n" > "$1/etc/hosts"',
        'printf "/dev/vda / ext4 rw,errors=remount-ro 0 1\\n" > "$1/etc/fstab"',
        f'chroot "$1" /usr/sbin/useradd -m -s /bin/bash -G sudo {USER}',
        f'echo {q(sudoers)} > "$1/etc/sudoers.d/{USER}"',
        f'chmod 440 "$1/etc/sudoers.d/{USER}"',
        f'printf %s {q(RUNNER)} > "$1/usr/local/sbin/resmem-vm-run"',
        'chmod 755 "$1/usr/local/sbin/resmem-vm-run"',
        f'printf %s {q(UNIT)} > "$1/etc/systemd/system/resmem-vm-run.service"',
        'chroot "$1" /usr/bin/systemctl enable resmem-vm-run.service',
        # no password for root on the console (development: interactive use)
        'chroot "$1" /usr/bin/passwd -d root',
        # Every run boots the same snapshot: done here once, not at each
        # boot, what systemd does on a first boot or after an update of
        # /usr (machine id, journal catalog; ConditionNeedsUpdate units).
        'chroot "$1" /usr/bin/systemd-machine-id-setup',
        'chroot "$1" /usr/bin/journalctl --update-catalog',
        'touch "$1/etc/.updated" "$1/var/.updated"',
    ]


Run = namedtuple("Run", "status output seconds boot_seconds command_seconds console")


def kernel_for(arch):
    return matrix.by_name(KERNEL[arch])


def recipe(arch):
    """Everything the image is made from; its hash names the cache entry."""
    k = kernel_for(arch)
    r = {"suite": SUITE, "debarch": k.debarch, "kernel": k.kernelrelease,
         "packages": PACKAGES + [f"linux-image-{k.kernelrelease}", f"linux-headers-{k.kernelrelease}"],
         "exclude": exclude(arch), "user": USER, "size": IMAGE_SIZE, "runner": RUNNER, "unit": UNIT,
         "initrd_hook": INITRD_HOOK, "customize": _customize()}
    once = initrd_once(arch, k.kernelrelease)
    if once[0]:     # (not in the recipe where it changes nothing: same hash as before)
        r["initrd_once"] = once
    return r


def image_dir(arch):
    r = recipe(arch)
    h = hashlib.sha256(json.dumps(r, sort_keys=True).encode()).hexdigest()[:12]
    return os.path.join(CACHE, f"{SUITE}-{r['debarch']}-{h}")


def _sources():
    """apt lines for trixie, its updates and security, from the machine's
    Debian sources (kernels.py finds them)."""
    srcs = kernels._debian_sources()
    lines = []
    for suite in (SUITE, f"{SUITE}-updates", f"{SUITE}-security"):
        kind = "security" if suite.endswith("-security") else "archive"
        if kind in srcs:
            uri, signed = srcs[kind]
            opt = f" [signed-by={signed}]" if signed else ""
            lines.append(f"deb{opt} {uri} {suite} main")
    return lines


def _seed_debs(arch):
    """.debs already on this machine that apt may take instead of
    downloading them: the matrix kernel's (kernels.fetch) and what an
    earlier build of this image downloaded."""
    k = kernel_for(arch)
    kernels.fetch(k)
    debs = os.path.join(kernels.CACHE, "debs")
    seed = [os.path.join(debs, f) for f in sorted(os.listdir(debs))
            if f.endswith((f"_{k.debarch}.deb", "_all.deb")) and
            (k.kernelrelease in f or f.startswith((f"linux-headers-{k.abi}-common_",
                                                   f"{k.kbuild}_")))]
    kept = os.path.join(CACHE, f"debs-{k.debarch}")
    if os.path.isdir(kept):
        seed += [os.path.join(kept, f) for f in sorted(os.listdir(kept)) if f.endswith(".deb")]
    return seed


def _sh(script):
    return subprocess.run(["/bin/sh", "-c", script], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def foreign_exec(arch):
    """Makes this machine run the arch's programs (mmdebstrap configures a
    foreign root, prebuild() compiles in it): Debian's qemu-user-static
    handler (/usr/lib/binfmt.d), registered in binfmt_misc if it is not
    yet.  What systemd-binfmt does at boot on a machine with systemd."""
    debarch = kernel_for(arch).debarch
    if not foreign(arch) or \
            subprocess.run(["arch-test", debarch], capture_output=True).returncode == 0:
        return
    misc = "/proc/sys/fs/binfmt_misc"
    if not os.path.exists(os.path.join(misc, "register")):
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", misc], capture_output=True)
    conf = f"/usr/lib/binfmt.d/qemu-{arch}.conf"
    try:
        with open(conf) as f:
            line = f.read().strip()
        with open(os.path.join(misc, "register"), "w") as f:
            f.write(line)
    except OSError as e:
        raise RuntimeError(f"cannot run {arch} programs on this machine ({e}): the {arch} Debian "
                           f"VM needs qemu-user-static ({conf}) registered in {misc}") from e
    if subprocess.run(["arch-test", debarch], capture_output=True).returncode:
        raise RuntimeError(f"{conf} registered, but arch-test still cannot run {debarch} programs")


def build(arch, log=print):
    """Makes the image once (mmdebstrap, then mkfs.ext4 -d); returns its
    directory (root.img, vmlinuz, initrd.img, stats.json)."""
    d = image_dir(arch)
    if os.path.exists(os.path.join(d, "done")):
        return d
    r = recipe(arch)
    k = kernel_for(arch)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    kept = os.path.join(CACHE, f"debs-{k.debarch}")
    os.makedirs(kept, exist_ok=True)
    foreign_exec(arch)
    seed = _seed_debs(arch)
    root = os.path.join(d, "root")
    q = shlex.quote
    argv = ["mmdebstrap", "--variant=apt", "--mode=root", "--arch=" + r["debarch"],
            "--include=" + ",".join(r["packages"]), "--skip=essential/unlink",
            # dpkg's fsync per file is most of the time on a busy disk; the
            # tree is copied into an image afterwards anyway
            "--dpkgopt=force-unsafe-io", *[f"--dpkgopt=path-exclude={x}" for x in r["exclude"]],
            "--aptopt=Acquire::Retries \"3\"",
            "--setup-hook=mkdir -p \"$1/var/cache/apt/archives\"",
            "--setup-hook=" + " ".join(["copy-in", *map(q, seed), "/var/cache/apt/archives/"])
            if seed else "--setup-hook=true",
            "--essential-hook=mkdir -p \"$1/etc/initramfs-tools/conf.d\" "
            "\"$1/etc/initramfs-tools/hooks\"",
            "--essential-hook=echo MODULES=list > \"$1/etc/initramfs-tools/conf.d/resmem-vm\"",
            f"--essential-hook=printf %s {q(INITRD_HOOK)} > \"$1/etc/initramfs-tools/hooks/resmem-vm\" "
            "&& chmod 755 \"$1/etc/initramfs-tools/hooks/resmem-vm\"",
            *[f"--essential-hook={c}" for c in r.get("initrd_once", ([], []))[0]],
            f"--customize-hook=sync-out /var/cache/apt/archives {q(kept)}",
            *[f"--customize-hook={c}" for c in r.get("initrd_once", ([], []))[1]],
            *[f"--customize-hook={c}" for c in r["customize"]],
            SUITE, root, *_sources()]
    seeded = {os.path.basename(s) for s in seed}
    log(f"debianvm: mmdebstrap {SUITE} {r['debarch']} ({len(seed)} .debs seeded) ...")
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t_strap = time.monotonic() - t0
    if p.returncode:
        raise RuntimeError(f"mmdebstrap failed ({p.returncode}):\n{p.stdout[-6000:]}")
    fetched = [f for f in os.listdir(kept) if f.endswith(".deb") and f not in seeded]
    got = sum(os.path.getsize(os.path.join(kept, f)) for f in fetched)
    allsize = sum(os.path.getsize(os.path.join(kept, f)) for f in os.listdir(kept)
                  if f.endswith(".deb"))
    boot = os.path.join(root, "boot")
    for name, prefix in (("vmlinuz", "vmlinuz-"), ("initrd.img", "initrd.img-")):
        shutil.copy(os.path.join(boot, prefix + k.kernelrelease), os.path.join(d, name))
    t1 = time.monotonic()
    img = os.path.join(d, "root.img")
    p = subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "debianvm", "-d", root, img, r["size"]],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode:
        raise RuntimeError(f"mkfs.ext4 -d failed:\n{p.stdout[-4000:]}")
    t_mkfs = time.monotonic() - t1
    used = int(_sh(f"du -sb {q(root)} | cut -f1").stdout.split()[0])
    # root/ stays: prebuild() runs the user's build steps in it, natively
    stats = {"mmdebstrap_s": round(t_strap, 1), "mkfs_s": round(t_mkfs, 1),
             "packages_fetched": len(fetched), "bytes_fetched": got,
             "bytes_all_debs": allsize, "seeded": len(seed),
             "root_bytes": used, "image_bytes_on_disk": os.stat(img).st_blocks * 512,
             "initrd_bytes": os.path.getsize(os.path.join(d, "initrd.img"))}
    with open(os.path.join(d, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    open(os.path.join(d, "done"), "w").close()
    # an image of an older recipe is never used again (1.5 GB each)
    prefix = f"{SUITE}-{r['debarch']}-"
    for old in os.listdir(CACHE):
        if old.startswith(prefix) and os.path.join(CACHE, old) != d:
            shutil.rmtree(os.path.join(CACHE, old), ignore_errors=True)
    log(f"debianvm: image made: {json.dumps(stats)}")
    return d


def _tree_copy(dest):
    """The working tree as a clone has it (tracked and untracked, not
    ignored files: no build/, no .cache), copied to dest."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=kernels.REPO, stdout=subprocess.PIPE, check=True).stdout
    names = [n for n in files.decode().split("\0")
             if n and os.path.lexists(os.path.join(kernels.REPO, n))]
    os.makedirs(dest)
    tar = subprocess.Popen(["tar", "-C", kernels.REPO, "--null", "-T", "-", "-cf", "-"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    untar = subprocess.Popen(["tar", "-C", dest, "-xf", "-"], stdin=tar.stdout)
    tar.stdout.close()
    tar.stdin.write("\0".join(names).encode())
    tar.stdin.close()
    if tar.wait() or untar.wait():
        raise RuntimeError("copying the working tree failed")


def _uid(root, user):
    with open(os.path.join(root, "etc", "passwd")) as f:
        for line in f:
            p = line.split(":")
            if p[0] == user:
                return int(p[2]), int(p[3])
    raise RuntimeError(f"no user {user} in {root}/etc/passwd")


def cross_steps(arch):
    """What the host builds in the tree itself, before the chroot: for
    another architecture, the userspace (`make tools`, `make
    guest-helpers`) with the cross compiler the matrix's guests use, at
    native speed instead of through qemu-user (on arm64 about 7 of the
    chroot's 11 minutes).  Those rules are driven by timestamps, so in the
    VM they are up to date; kbuild records each command line and would
    rebuild, so the modules are built in the chroot.  None: all in there."""
    if not foreign(arch):
        return None
    return f"make -j2 tools ARCH={arch} && make -j2 guest-helpers ARCH={arch}"


def prebuild_steps(arch):
    """The README's build steps, with the VM kernel's release spelt out
    (uname -r in a chroot names the host's kernel)."""
    k = kernel_for(arch)
    kdir = f"KDIR=/lib/modules/{k.kernelrelease}/build"
    # and what `make test TARGETS=local` builds besides (tests/harness/build.py)
    kbuild = f"make -j2 module {kdir} && make -j2 test-modules {kdir}"
    if cross_steps(arch):
        # what a cross build leaves out: the shared libresmem (userspace/Makefile)
        return f"{kbuild} && make -j2 tools ARCH={arch}"
    return f"{kbuild} && make -j2 tools ARCH={arch} && make -j2 guest-helpers ARCH={arch}"


def prebuild(arch, tree, steps=None):
    """Runs the user's build steps on `tree` in a chroot of the VM's own root
    file system, at native speed: the same compiler, headers and paths
    (~user/resmem, /lib/modules/<release>/build) as inside the VM, so that
    there `make module` and `make tools` find everything up to date instead
    of compiling under TCG (minutes per file on a busy host).  Returns the
    CompletedProcess (output text)."""
    root = os.path.join(build(arch), "root")
    foreign_exec(arch)
    if steps is None and cross_steps(arch):
        p = subprocess.run(["/bin/sh", "-c", cross_steps(arch)], cwd=tree, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode:
            return p
    uid, gid = _uid(root, USER)
    subprocess.run(["chown", "-R", f"{uid}:{gid}", tree], check=True)
    q = shlex.quote
    inside = f"{root}/home/{USER}/resmem"
    script = "\n".join([
        "set -e",
        f"mkdir -p {q(inside)}",
        f"mount --bind {q(tree)} {q(inside)}",
        f"mount -t proc proc {q(root)}/proc",
        f"mount -t tmpfs tmpfs {q(root)}/tmp",
        f"mount --rbind /dev {q(root)}/dev",
        f"exec chroot {q(root)} /usr/sbin/runuser -u {USER} -- /usr/bin/env -i "
        f"PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/{USER} LC_ALL=C.UTF-8 "
        f"/bin/sh -c {q('cd ~/resmem && ' + (steps or prebuild_steps(arch)))}"])
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "--",
                           "/bin/sh", "-c", script],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


BOOT_SH = """#!/bin/sh
# written by tests/harness/debianvm.py: unpack the tree, run the command as the user
H=/run/host
cut -d' ' -f1 /proc/uptime > $H/booted
U={user}
D=/home/$U/resmem
mkdir -p $D && tar -C $D -xf $H/src.tar && chown -R $U: $D
cut -d' ' -f1 /proc/uptime > $H/started
cd $D && runuser -u $U -- /bin/bash -c "$(cat $H/cmd)" > $H/out 2>&1
echo $? > $H/status
cut -d' ' -f1 /proc/uptime > $H/ended
sync
"""


# The VM's own command line: its root, and the 9p transport loaded early
# by systemd-modules-load, not by udev as the device turns up: the run's
# mount of the share once failed with "9pnet_virtio: no channels available
# for device host" (udev's load of the module still under way).
BASE_CMDLINE = "root=/dev/vda rw panic=-1 modules_load=9pnet_virtio"


def qemu_argv(arch, d, run_dir, mem=None, cmdline="", reservations=(), smp=2):
    """The VM: the image's own kernel and initrd, the disk in snapshot mode,
    the run directory shared as 9p tag "host"."""
    common = ["-accel", "tcg", "-m", mem, "-smp", str(smp), "-nodefaults", "-display", "none",
              "-monitor", "none", "-no-reboot",
              "-kernel", os.path.join(d, "vmlinuz"), "-initrd", os.path.join(d, "initrd.img"),
              "-drive", f"file={os.path.join(d, 'root.img')},format=raw,if=virtio,snapshot=on",
              "-virtfs", f"local,path={run_dir},mount_tag=host,security_model=none",
              "-chardev", f"file,id=con,path={run_dir}/console.log", "-serial", "chardev:con"]
    append = f"{BASE_CMDLINE} {cmdline}".strip()
    if arch == "x86_64":
        argv = ["qemu-system-x86_64", "-machine", "pc", "-cpu", "max", *common,
                "-append", f"console=ttyS0 {append}"]
    else:
        argv = ["qemu-system-aarch64", "-machine", "virt", "-cpu", "cortex-a57", *common,
                "-append", f"console=ttyAMA0 {append}"]
        if reservations:
            base = os.path.join(run_dir, "virt.dtb")
            subprocess.run(argv + ["-machine", f"dumpdtb={base}"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            dt.host_tool()
            out = os.path.join(run_dir, "patched.dtb")
            dt.add_reservations(base, out, list(reservations))
            argv += ["-dtb", out]
    return argv


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def run(arch, command, timeout=1800, boot="standard", prebuilt=True, log=print):
    """Boots the system with the `boot` reservation, runs `command` with
    bash as the user in ~/resmem (the working tree), powers off.  Returns a
    Run: exit status (None: the VM ended or timed out before the command
    did), output, seconds from QEMU's start to its exit, seconds to the
    command's start (boot and unpack) and in the command, and the console.
    prebuilt: the tree comes with the README's build done by prebuild()."""
    d = build(arch, log=log)
    cfg = boots.resolve(arch, {"boot": boot}) if boot else {}
    run_dir = tempfile.mkdtemp(prefix="resmem-debianvm-")
    try:
        tree = os.path.join(run_dir, "tree")
        _tree_copy(tree)
        if prebuilt:
            t0 = time.monotonic()
            p = prebuild(arch, tree)
            if p.returncode:
                raise RuntimeError(f"the build in the VM's root (chroot) failed:\n{p.stdout[-6000:]}")
            log(f"debianvm: built in the VM's root file system (chroot) in {time.monotonic() - t0:.0f} s")
        subprocess.run(["tar", "-C", tree, "-cf", os.path.join(run_dir, "src.tar"), "."], check=True)
        shutil.rmtree(tree)
        with open(os.path.join(run_dir, "cmd"), "w") as f:
            f.write(command)
        with open(os.path.join(run_dir, "boot.sh"), "w") as f:
            f.write(BOOT_SH.format(user=USER))
        argv = qemu_argv(arch, d, run_dir, mem=cfg.get("mem", "4G"),
                         cmdline=cfg.get("cmdline", ""), reservations=cfg.get("reservations", ()))
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        try:
            qout = p.communicate(timeout=timeout)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            p.kill()
            qout = p.communicate()[0].decode(errors="replace") + f"\n(killed after {timeout} s)"
        seconds = time.monotonic() - t0
        status = _read(os.path.join(run_dir, "status"))
        out = _read(os.path.join(run_dir, "out")) or ""
        console = (_read(os.path.join(run_dir, "console.log")) or "") + qout
        up = {n: _read(os.path.join(run_dir, n)) for n in ("booted", "started", "ended")}
        boot_s = float(up["started"]) if up["started"] else None
        cmd_s = float(up["ended"]) - float(up["started"]) if up["ended"] and up["started"] else None
        return Run(int(status) if status else None, out, seconds, boot_s, cmd_s, console)
    finally:
        if not os.environ.get("RESMEM_KEEP_RUNDIR"):
            shutil.rmtree(run_dir, ignore_errors=True)


# ------------------------------------------------------------ the proof run
# What the VM's local run selects: the core tier (what every kernel of the
# matrix runs), as a lab would run it before a capture.
PROOF_SELECT = "-m core"
# Records of the capture a default run must leave alone, and how many bytes
# of the region hold them (ring header + records, rounded up).
PROOF_RECORDS, PROOF_SPAN = 64, 4 << 20
PROOF_DIR = os.path.join(kernels.REPO, "build", "debianvm")


def facts(arch, boot="standard"):
    """local.machine_facts() as the VM booted with `boot` will find them."""
    cfg = boots.resolve(arch, {"boot": boot})
    return ((f"{BASE_CMDLINE} {cfg.get('cmdline', '')}").split(),
            [(r["addr"], r["size"], r.get("compatible", ""), r["name"], bool(r.get("no_map")))
             for r in cfg.get("reservations", [])],
            False)


def proof_script(arch, select=PROOF_SELECT):
    """What a user does on a fresh machine booted with the reservation: the
    README's build, a capture holding unread records, a default local run
    (which must not touch it), then a run naming the region."""
    name = boots.STANDARD_REGION[arch]
    dev = f"/dev/resmem/{name}"
    q = shlex.quote
    run = f"sudo make test TARGETS=local PYTEST_ARGS={q(select)}"
    snap = (f"sudo dd if={dev} bs=1M count={PROOF_SPAN >> 20} status=none | sha256sum | cut -c1-64; "
            f"sudo $R ring {name} --json")
    return f"""set -e
TIMEFORMAT="make-module-seconds: %R"
time make module KDIR=/lib/modules/$(uname -r)/build
R=build/{arch}/bin/resmem
sudo insmod build/$(uname -r)/resmem.ko
udevadm settle
echo "kernel: $(uname -r)"
echo "node: $(stat -c %F {dev})"
echo "size: $(cat /sys/class/resmem/{name}/size)"
echo "phys: $(cat /sys/class/resmem/{name}/phys_addr)"
echo "end: $(sudo python3 -c 'import os; print(os.lseek(os.open("{dev}", os.O_RDONLY), 0, os.SEEK_END))')"
sudo $R capture {name} --generate 7 --count {PROOF_RECORDS}
echo "=== capture before"; {snap}
sudo rmmod resmem
set +e
echo "=== default run"
{run}
echo "default-run-status: $?"
set -e
sudo insmod build/$(uname -r)/resmem.ko
udevadm settle
echo "=== capture after"; {snap}
echo "=== drained"; sudo $R drain {name} --to /tmp/drained
echo "drained-bytes: $(stat -c %s /tmp/drained)"
sudo rmmod resmem
set +e
echo "=== named run"
sudo RESMEM_TEST_REGION={name} make test TARGETS=local PYTEST_ARGS={q(select)}
echo "named-run-status: $?"
echo "=== report"
cat build/local/report.txt
echo "=== results"
python3 -c '
import xml.etree.ElementTree as E
for c in E.parse("build/local/report.xml").iter("testcase"):
    k = [x.tag for x in c if x.tag in ("failure", "error", "skipped")]
    print(k[0] if k else "passed", c.get("classname") + "::" + c.get("name"))'
"""


def proof(arch, out, select=PROOF_SELECT, log=print):
    """Runs proof_script() in the VM; writes the Run to @out (JSON)."""
    t0 = time.monotonic()
    try:
        r = run(arch, proof_script(arch, select), timeout=PROOF_TIMEOUT, log=log)
        # the whole output beside the result: failures' reports come before
        # the summary, and a guest console is attached to each
        with open(out.removesuffix(".json") + ".out.txt", "w") as f:
            f.write(r.output)
        res = dict(r._asdict(), console=r.console[-20000:], output=r.output[-200000:])
    except Exception as e:    # the image or the chroot build failed: the test says so
        res = {"error": f"{type(e).__name__}: {e}"}
    res["wall_seconds"] = round(time.monotonic() - t0, 1)
    with open(out + ".tmp", "w") as f:
        json.dump(res, f)
    os.replace(out + ".tmp", out)
    return res


# minutes the whole proof may take: image (cold 5-7 min x86_64, more for
# arm64 under qemu-user), build in the chroot, boot, two local runs
PROOF_TIMEOUT = 60 * 60


def start_proofs(archs):
    """Starts proof() of each arch in the background, one after the other
    (together they would not leave the suite's guests the memory and the
    core they need), at low priority (the suite's own guests come first);
    returns {arch: (Popen, result path)}.  make test starts them before its
    first boot so that they run on the core the guests leave."""
    os.makedirs(PROOF_DIR, exist_ok=True)
    outs, steps = {}, []
    for arch in archs:
        out = outs[arch] = os.path.join(PROOF_DIR, f"{arch}.json")
        for f in (out, out + ".tmp"):
            if os.path.exists(f):
                os.unlink(f)
        steps.append(f"{shlex.quote(sys.executable)} -m tests.harness.debianvm --arch {arch} "
                     f"--proof {shlex.quote(out)} > {shlex.quote(os.path.join(PROOF_DIR, arch + '.log'))} 2>&1")
    p = subprocess.Popen(["nice", "-n", "10", "/bin/sh", "-c", "; ".join(steps)], cwd=kernels.REPO,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    return {arch: (p, out) for arch, out in outs.items()}


def wait_proof(started, timeout=2 * PROOF_TIMEOUT + 600):
    """The result of a start_proofs() entry: its JSON, or {"error": why}."""
    p, out = started
    end = time.monotonic() + timeout
    while not os.path.exists(out) and p.poll() is None:
        if time.monotonic() > end:
            os.killpg(p.pid, 9)
            p.wait()
            return {"error": f"the proof run did not end within {timeout} s"}
        time.sleep(2)
    try:
        with open(out) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        log = _read(out.replace(".json", ".log")) or ""
        return {"error": f"no result from the proof run (status {p.poll()}, {e}):\n{log[-4000:]}"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="x86_64", choices=sorted(KERNEL))
    p.add_argument("--boot", default="standard", help="a boot of boots.py ('' for none)")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--no-prebuild", action="store_true",
                   help="no build in a chroot of the VM's root first: the VM compiles everything")
    p.add_argument("--build-only", action="store_true")
    p.add_argument("--console", action="store_true", help="print the console log")
    p.add_argument("--proof", metavar="OUT", help="run the proof (proof_script) and write its result "
                   "to OUT (JSON), as make test does in the background")
    p.add_argument("--select", default=PROOF_SELECT, help="with --proof: what the local runs select")
    p.add_argument("command", nargs="*")
    a = p.parse_args()
    if a.proof:
        res = proof(a.arch, a.proof, a.select)
        print(res.get("error") or res["output"][-3000:])
        return 0 if res.get("status") == 0 else 1
    if a.build_only:
        d = build(a.arch)
        print(d)
        print(open(os.path.join(d, "stats.json")).read())
        return 0
    r = run(a.arch, " ".join(a.command) or "uname -a", timeout=a.timeout, boot=a.boot,
            prebuilt=not a.no_prebuild)
    if a.console or r.status is None:
        print(r.console)
    print(r.output, end="")
    print(f"--- status {r.status}; {r.seconds:.1f} s in all, "
          f"{r.boot_seconds} s to the command (guest uptime), {r.command_seconds} s in it")
    return 0 if r.status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
