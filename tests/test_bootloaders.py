"""`resmem plan`'s systemd-boot and U-Boot lines read by the real loaders.

One boot each, on the first selected target of the architecture (the loader
does not depend on the kernel version):
  * systemd-boot (Debian's systemd-boot-efi) started by OVMF from an EFI
    system partition, its loader entry's `options` line the planner's
    `systemd_boot` line verbatim (x86_64);
  * U-Boot (Debian's u-boot-qemu, qemu_arm64) as QEMU virt's firmware,
    running a boot.scr whose `setenv bootargs` line is the planner's `uboot`
    line verbatim, then booti (aarch64).
The plan is made on the host from the saved firmware map of QEMU's pc
machine with 13 GiB (the fixture test_grub.py uses) and a running command
line holding the harness's parameters, `quiet`, an older reservation
(memmap=2G$5G) that the plan replaces, and a parameter whose quoted value
holds what shells act on (`;`, `$NAME`, `'`: NOTE).  The guest's
/proc/cmdline must be that line with the old reservation replaced,
character for character.  GRUB's lines go through Debian's grub-mkconfig and
GRUB in test_grub.py and test_plan.py.
"""
import json
import os
import re
import subprocess

import pytest

from tests.harness import guestview, loaders, matrix
from tests.harness.units import G

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAP = os.path.join(REPO, "userspace", "tests", "fixtures", "plan", "qemu-pc-13G.memmap")
MEM = "13G"                      # the machine MAP was captured from (pc, -m 13G)
PLANNED = "memmap=8G$0x100000000"
OLD = "memmap=2G$5G"
# the kernel ignores a parameter of a module it does not have
NOTE = "resmem_test.note=\"a; b $HOME 'x'\""

pytestmark = pytest.mark.once


@pytest.fixture
def k(target):
    if target == "local":
        pytest.skip("boot loaders end to end boot QEMU; no meaning on the local machine")
    return matrix.by_name(target)


def plan(host_resmem, tmp_path, arch):
    """The planner's --json for 8 GiB on the fixture machine whose running
    command line is the harness's (for `arch`) plus `quiet`, NOTE and OLD."""
    running = tmp_path / "cmdline"
    running.write_text(f"{loaders.HARNESS_CMDLINE[arch]} quiet {NOTE} {OLD}\n")
    r = subprocess.run([host_resmem, "plan", "--size", "8G", "--from", MAP,
                        "--cmdline", str(running), "--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["memmap"] == PLANNED[len("memmap="):] and j["replaces"] == [OLD] and j["complete"], j
    return j


def expected(arch):
    """The command line the kernel must get: the running one, OLD replaced."""
    return f"{loaders.HARNESS_CMDLINE[arch]} quiet {NOTE} {PLANNED}"


def top_level(entries, addr):
    """Name of the top-level /proc/iomem entry holding addr, or None."""
    for start, end, name, depth in entries:
        if depth == 0 and start <= addr <= end:
            return name
    return None


@pytest.mark.archs("x86_64")
def test_systemd_boot_boots_the_planned_entry(k, host_resmem, tmp_path):
    """systemd-boot reads the planned `options` line and the kernel reserves
    8 GiB at 4 GiB.

    Catches: a `systemd_boot` line escaped or quoted for some other parser
    (`\\$` as for GRUB, `\\\\\\$` as for /etc/default/grub, sh or hush
    quotes around NOTE: systemd-boot expands and unescapes nothing, so the
    kernel would get the backslashes, reading memmap=8G\\... as a bare
    memmap=8G, capping RAM at 8 GiB and reserving nothing); an entry line
    that is not `options ...` (systemd-boot boots the kernel with no
    parameters: no console, no agent, the boot times out); the running
    line's older reservation left in (a second memmap= word); a range that
    is not RAM under UEFI firmware (not Reserved in /proc/iomem, `resmem
    check` fails)."""
    reason = loaders.have_systemd_boot()
    if reason:
        pytest.fail(reason)      # tests/install-deps.sh installs it: missing is a failure
    j = plan(host_resmem, tmp_path, "x86_64")
    disk = loaders.systemd_boot_disk(k, j["systemd_boot"], str(tmp_path / "esp.img"))
    with loaders.SystemdBootGuest(k, disk, mem=MEM) as g:
        cmdline = g.run("cat /proc/cmdline").out.strip()
        # systemd-boot puts the initrd it loaded first (initrd=\initrd.gz)
        assert re.sub(r"^(initrd=\S+ )+", "", cmdline) == expected("x86_64"), cmdline
        entries = guestview.iomem(g)
        assert top_level(entries, 4 * G) == "Reserved", entries
        assert top_level(entries, 12 * G - 1) == "Reserved", entries
        assert top_level(entries, 12 * G) == "System RAM", entries
        g.run("modprobe resmem")
        r = g.run("resmem check", check=False)
        assert r.status == 0 and "all good" in r.out, r
        probs = g.problems()
        assert not probs, "kernel problems on the console:\n" + "\n".join(probs)


def controls(want):
    """boot.scr lines echoing what U-Boot's hush makes of the command line
    `want` without the planner's single quotes: bare and in double quotes."""
    return {"unquoted": f"echo CONTROL-unquoted {want}",
            "double": f'echo "CONTROL-double {want}"'}


@pytest.mark.archs("aarch64")
def test_uboot_runs_the_planned_bootargs(k, host_resmem, tmp_path):
    """U-Boot runs the planned `setenv bootargs '...'` line from boot.scr and
    boots the kernel with it: /proc/cmdline holds memmap=8G$0x100000000 with
    its `$`, the rest of the running line and not the replaced reservation.
    The line is meant for x86 U-Boot, where that word reserves; hush, the
    shell that parses it, is the same U-Boot code on every architecture, and
    an arm64 kernel passes the word through untouched (what reserves on
    arm64 is a /reserved-memory node: test_devicetree.py).

    Catches: the line not in hush single quotes, or a `'` in it not written
    as `'\\''`: bare, hush expands NOTE's `$HOME` and strips its double
    quotes (the kernel would see `b`, `x`... as words of their own); in
    double quotes, NOTE's `"` ends the quote and hush runs what follows the
    `;` as a command, so the kernel gets a truncated line.  The same boot.scr
    echoes the line both ways first and the test checks that this U-Boot
    does mangle them, so the planner's quoting is what keeps the line.
    (Debian's U-Boot 2023.01 leaves `$` before a digit alone: unquoted,
    memmap=8G$0x100000000 itself would survive; its other words would not.)
    Also: a line that is not a `setenv bootargs` command (U-Boot boots
    without the harness's parameters: no agent, the boot times out); the
    older reservation kept."""
    reason = loaders.have_uboot()
    if reason:
        pytest.fail(reason)
    j = plan(host_resmem, tmp_path, "aarch64")
    want = expected("aarch64")
    ctl = controls(want)
    disk = loaders.uboot_disk(k, j["uboot"], str(tmp_path / "uboot.img"), before=ctl.values())
    with loaders.UbootGuest(k, disk) as g:
        cmdline = g.run("cat /proc/cmdline").out.strip()
        assert cmdline == want, cmdline
        # U-Boot handed it over in the device tree's /chosen, as it does on boards
        chosen = g.run("tr -d '\\0' < /proc/device-tree/chosen/bootargs").out.strip()
        assert chosen == cmdline, (chosen, cmdline)
        console = g.console().replace("\r", "")
        for name in ctl:
            m = re.search(rf"(?m)^CONTROL-{name} (.*)$", console)
            assert m, f"U-Boot did not echo the {name} control:\n{console[:4000]}"
            assert m[1] != want, (name, m[1])
        probs = g.problems()
        assert not probs, "kernel problems on the console:\n" + "\n".join(probs)
