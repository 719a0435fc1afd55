"""`resmem check` fixtures captured from real boots of the harness guest.

    /usr/bin/python3 -m tests.harness.fixtures capture [NAME...] [--target T] [--out DIR]
    /usr/bin/python3 -m tests.harness.fixtures list

boots the x86_64 guest (SeaBIOS, QEMU's pc machine) once per scenario and
writes exactly what `resmem check` reads instead of the live system, into
userspace/tests/fixtures/captured/NAME/ (or DIR/NAME/):

    cmdline                /proc/cmdline, verbatim (the harness's words too)
    firmware-memmap/N/     /sys/firmware/memmap/N/{start,end,type}
    unloaded/iomem         /proc/iomem as root, before the module is loaded
    unloaded/sys/          the --sysfs root then: nothing of resmem in it
    loaded/iomem           /proc/iomem after `modprobe resmem` (its claims)
    loaded/sys/            module/resmem/initstate and, per region,
                           class/resmem/NAME/<attribute> for every attribute
                           docs/ABI/sysfs-class-resmem documents
    SOURCE                 the command, target, kernel release and boot

    resmem check --cmdline D/cmdline --iomem D/loaded/iomem \\
        --firmware-memmap D/firmware-memmap --sysfs D/loaded/sys

then judges that boot as the guest's own `resmem check` did.  Every boot
has `nokaslr`, so a second capture on the same target writes the same
bytes (the kernel's own lines in /proc/iomem would move otherwise).  The
tests read the scenarios through `check_args()` and compare the verdict
lines of a live check with the stored one's through `verdict_lines()`.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

from .kernels import REPO

CAPTURED = os.path.join(REPO, "userspace", "tests", "fixtures", "captured")
ABI_DOC = os.path.join(REPO, "docs", "ABI", "sysfs-class-resmem")
TARGET = "qemu-x86_64-7.3"

# name: (-m, the scenario's own kernel parameters, what it is)
SCENARIOS = {
    "reserve-8g-at-4g": ("13G", "memmap=8G$4G", "the good case: 8 GiB at 4 GiB, all RAM"),
    "eaten-dollar": ("13G", "memmap=8G",
                     "what GRUB leaves of an unescaped memmap=8G$4G: a RAM cap, nothing reserved"),
    "pci-hole": ("13G", "memmap=1G$3G", "1 GiB at 3 GiB: the PCI hole, no RAM there"),
    "kernel-inside": ("13G", "memmap=32M$16M",
                      "over the kernel image (nokaslr: loaded at 16 MiB), kept as RAM"),
}
# The capture's own word: the same kernel image at the same place every boot.
FIXED = "nokaslr"


def sysfs_attributes():
    """The region attributes docs/ABI/sysfs-class-resmem documents."""
    with open(ABI_DOC) as f:
        return re.findall(r"^What:\s+/sys/class/resmem/<name>/(\w+)$", f.read(), re.M)


def boot_cmdline(name):
    return f"{FIXED} {SCENARIOS[name][1]}"


def _cat(g, path):
    r = g.run(f"cat {path}")
    return r.out


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def _sysfs(g, root):
    """resmem's part of the guest's sysfs, under root as --sysfs reads it."""
    os.makedirs(root, exist_ok=True)
    if g.run("test -d /sys/module/resmem", check=False).ok:
        _write(os.path.join(root, "module", "resmem", "initstate"),
               _cat(g, "/sys/module/resmem/initstate"))
    names = g.run("ls /sys/class/resmem 2>/dev/null", check=False).out.split()
    for n in names:
        for attr in sysfs_attributes():
            path = f"/sys/class/resmem/{n}/{attr}"
            if g.run(f"test -f {path}", check=False).ok:
                _write(os.path.join(root, "class", "resmem", n, attr), _cat(g, path))
    if not os.listdir(root):
        # git keeps no empty directory; check reads a missing one the same
        _write(os.path.join(root, ".keep"), "")


def capture(k, name, out):
    """Boots scenario `name` on kernel k and writes its files into out/name."""
    from . import qemu

    mem, _, what = SCENARIOS[name]
    tmp = tempfile.mkdtemp(prefix=f"{name}.", dir=out)
    for attempt in (1, 2):
        # a boot that dies before the agent (QEMU 7.2 TCG's early int3 oops
        # on 7.3, see qemu.py) is retried once, as the test plugin does
        g = qemu.Guest(k, mem=mem, cmdline=boot_cmdline(name))
        try:
            g.start()
            break
        except qemu.GuestCrashed as e:
            if attempt == 2:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            print(f"{name}: boot died, retrying once: {str(e).splitlines()[0]}", file=sys.stderr)
    try:
        _write(os.path.join(tmp, "cmdline"), _cat(g, "/proc/cmdline"))
        for n in g.run("ls /sys/firmware/memmap").out.split():
            for f in ("start", "end", "type"):
                _write(os.path.join(tmp, "firmware-memmap", n, f),
                       _cat(g, f"/sys/firmware/memmap/{n}/{f}"))
        assert not g.run("test -d /sys/module/resmem", check=False).ok, "resmem loaded at boot"
        _write(os.path.join(tmp, "unloaded", "iomem"), _cat(g, "/proc/iomem"))
        _sysfs(g, os.path.join(tmp, "unloaded", "sys"))
        g.run("modprobe resmem")
        _write(os.path.join(tmp, "loaded", "iomem"), _cat(g, "/proc/iomem"))
        _sysfs(g, os.path.join(tmp, "loaded", "sys"))
        g.run("rmmod resmem")
        release = g.run("uname -r").out.strip()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        g.stop()
    _write(os.path.join(tmp, "SOURCE"),
           f"command: python3 -m tests.harness.fixtures capture {name}"
           f"{'' if k.name == TARGET else ' --target ' + k.name}\n"
           f"target: {k.name} (kernel {release})\n"
           f"boot: qemu-system-x86_64 -machine pc -cpu max -m {mem}, SeaBIOS; "
           f"scenario words: {boot_cmdline(name)}\n"
           f"scenario: {what}\n")
    dest = os.path.join(out, name)
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)
    return dest


def check_args(name, state="loaded", root=CAPTURED):
    """`resmem check` options that read captured scenario `name` in `state`
    ("loaded" or "unloaded") instead of the live system."""
    d = os.path.join(root, name)
    return ["--cmdline", os.path.join(d, "cmdline"), "--iomem", os.path.join(d, state, "iomem"),
            "--firmware-memmap", os.path.join(d, "firmware-memmap"),
            "--sysfs", os.path.join(d, state, "sys")]


def stored_check(cli, name, state="loaded"):
    """stdout of `resmem check` (the CLI at path cli) on captured scenario
    `name` in `state`."""
    r = subprocess.run([cli, "check", *check_args(name, state)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    assert r.returncode in (0, 1), r.stdout
    return r.stdout


# numbers that legitimately differ between two boots of one scenario:
# addresses, sizes (8G, 1.0 GiB, 256M), counts
_NUMBER = re.compile(r"\b(0x[0-9a-fA-F]+|\d+(\.\d+)?( [KMGT]iB|[KMGT]\b)?)")


def verdict_lines(out, word=None, header=True):
    """The verdict and cause lines of `resmem check` text output, numbers
    replaced by '#'.  word: only the lines of that memmap= entry (as it is
    written on the command line); header=False: without the entry's own
    `memmap=...` line, to compare the causes of two entries of one kind."""
    lines = out.splitlines()
    if word is not None:
        start = next(i for i, ln in enumerate(lines)
                     if ln == f"memmap={word}" or ln.startswith(f"memmap={word}:"))
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].startswith(("memmap=", "module:"))), len(lines))
        lines = lines[start:end]
    keep = [ln for ln in lines if re.match(r"\s*(ok|problem|note|hint|unknown):|module:", ln)
            or (header and ln.startswith("memmap="))
            or re.match(r"(\d+ problems? found|all good)$", ln)]
    # where sysfs is: /sys live, a directory of the fixture stored
    keep = [re.sub(r"\(\S+/module/resmem missing\)", "(module/resmem missing)", ln) for ln in keep]
    return [_NUMBER.sub("#", ln) for ln in keep]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture", help="boot each scenario and write its files")
    c.add_argument("names", nargs="*", help=f"scenarios (default: all of {', '.join(SCENARIOS)})")
    c.add_argument("--target", default=TARGET)
    c.add_argument("--out", default=CAPTURED, help="directory of the scenarios (default %(default)s)")
    sub.add_parser("list", help="the scenarios and their boots")
    a = p.parse_args()
    if a.cmd == "list":
        for n, (mem, words, what) in SCENARIOS.items():
            print(f"{n}: -m {mem} '{FIXED} {words}': {what}")
        return 0
    from . import matrix

    k = matrix.by_name(a.target)
    if k.arch != "x86_64":
        p.error("the scenarios are x86 memmap= boots: pick an x86_64 target")
    unknown = [n for n in a.names if n not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    os.makedirs(a.out, exist_ok=True)
    for n in a.names or SCENARIOS:
        print(f"{n}: {capture(k, n, a.out)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
