"""End to end with real GRUB: the planner's /etc/default/grub line, made into
grub.cfg by Debian's own grub-mkconfig (tests/harness/grub.py runs it with
the test's /etc/default in a private mount namespace), booted from a
grub-mkrescue image.

Three boots, on the first x86_64 QEMU target only (the GRUB part does not
depend on the kernel version):
  * the planned line: /proc/cmdline holds memmap=8G$0x100000000, /proc/iomem
    shows 100000000-2ffffffff Reserved, `resmem check` passes, and the planner
    run inside the guest on its live firmware map agrees with the host's plan
    from the saved map of the same QEMU machine;
  * the naive line (the parameter pasted unescaped): sh expands $0, the
    kernel gets memmap=8G<junk>, nothing is reserved, RAM is capped at 8 GiB
    and `resmem check` names the cause;
  * the naive line already in /etc/default/grub (memmap=8G$4G) plus the
    drop-in `plan --write` installs: the planned reservation boots, the
    mangled word is gone and the RAM left is what the plan said.
"""
import json
import os
import re
import subprocess

import pytest

from tests.harness import grub, matrix

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAP = os.path.join(REPO, "userspace", "tests", "fixtures", "plan", "qemu-pc-13G.memmap")
MEM = "13G"                      # the machine MAP was captured from (pc, -m 13G)
G = 1 << 30

DEFAULT_GRUB = ('GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n'
                'GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n'
                'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
                f'GRUB_CMDLINE_LINUX="{grub.GrubGuest.HARNESS_CMDLINE}"\n')


# The GRUB part does not depend on the kernel: one x86_64 target is enough.
pytestmark = [pytest.mark.archs("x86_64"), pytest.mark.once]


@pytest.fixture
def k(target):
    if target == "local":
        pytest.skip("GRUB end to end boots QEMU; it has no meaning on the local machine")
    reason = grub.have_grub()
    if reason:
        pytest.fail(reason)
    return matrix.by_name(target)


@pytest.fixture(scope="module")
def host_plan(host_resmem, tmp_path_factory):
    resmem = host_resmem
    f = tmp_path_factory.mktemp("plan") / "default-grub"
    f.write_text(DEFAULT_GRUB)
    r = subprocess.run([resmem, "plan", "--size", "8G", "--from", MAP,
                        "--grub-default", str(f), "--json"],
                       stdout=subprocess.PIPE, text=True, check=True, timeout=60)
    return json.loads(r.stdout)


def covered_by(iomem, start, end):
    """Name of the top-level /proc/iomem entry holding [start, end], or None."""
    for m in re.finditer(r"(?m)^([0-9a-f]+)-([0-9a-f]+) : (.*)$", iomem):
        if int(m[1], 16) <= start and end <= int(m[2], 16):
            return m[3]
    return None


def with_line(line):
    return re.sub(r'(?m)^GRUB_CMDLINE_LINUX_DEFAULT=.*$', lambda _: line, DEFAULT_GRUB)


def boot(k, tmp_path, default_grub):
    linux, dollar0 = grub.mkconfig_linux_line(default_grub)
    iso = grub.boot_iso(k, linux, str(tmp_path / "boot.iso"))
    return grub.GrubGuest(k, iso, mem=MEM), linux, dollar0


def check_console(g):
    probs = g.problems()
    assert not probs, "kernel problems on the console:\n" + "\n".join(probs)


@pytest.mark.archs("x86_64")
def test_grub_boots_the_planned_line(k, host_plan, tmp_path):
    """The planned /etc/default/grub line, through Debian's grub-mkconfig and
    GRUB, gives the kernel memmap=8G$0x100000000 with its `$`, and 4..12 GiB
    is Reserved.

    Catches: a line escaped one level short for the two parsers (sh, then
    GRUB: `\\$` or `$` instead of `\\\\\\$` and the kernel gets
    memmap=8Gx100000000 or sh's $0 pasted in: RAM capped, nothing reserved,
    `resmem check` fails); a line that drops what /etc/default/grub had
    (`quiet`); a plan that is not what the planner finds on the booted
    machine's own firmware map."""
    assert host_plan["memmap"] == "8G$0x100000000"
    g, linux, _ = boot(k, tmp_path, with_line(host_plan["etc_default_grub"]))
    assert "memmap=8G\\$0x100000000" in linux      # what grub.cfg holds (GRUB escaping)
    with g:
        cmdline = g.run("cat /proc/cmdline").out.split()
        assert "memmap=8G$0x100000000" in cmdline, cmdline
        assert "quiet" in cmdline                   # what /etc/default/grub had is kept
        iomem = g.run("cat /proc/iomem").out
        # 8 GiB from 4 GiB: 0x100000000 .. 0x100000000 + 0x200000000 - 1, inside one
        # top-level Reserved entry (the kernel merges it with the BIOS area below
        # 4 GiB: fffc0000-2ffffffff), and RAM again right after it
        assert covered_by(iomem, 0x100000000, 0x2ffffffff) == "Reserved", iomem
        assert covered_by(iomem, 0x300000000, 0x300000000) == "System RAM", iomem
        g.run("modprobe resmem")
        r = g.run("resmem check", check=False)
        assert r.status == 0 and "ok: reserved" in r.out and "all good" in r.out, r
        # the planner on the guest's live firmware map agrees with the host's
        # plan from the saved map of the same machine
        live = json.loads(g.run("resmem plan --size 8G --json").out)
        assert live["memmap"] == host_plan["memmap"]
        check_console(g)


@pytest.mark.archs("x86_64")
def test_grub_naive_line_caps_ram(k, host_plan, tmp_path):
    """The control: the parameter pasted into /etc/default/grub unescaped.
    grub-mkconfig's sh replaces `$0` with its own path, the kernel gets
    memmap=8G/usr/sbin/grub-mkconfigx100000000, caps RAM at 8 GiB and
    reserves nothing, and `resmem check` names that cause.

    Catches: a harness whose grub.cfg does not come from a parser that eats
    `$` (then the planned-line test would prove nothing), and a `check`
    that misses the eaten dollar."""
    naive = f'GRUB_CMDLINE_LINUX_DEFAULT="quiet memmap={host_plan["memmap"]}"'
    g, linux, dollar0 = boot(k, tmp_path, with_line(naive))
    # sh expanded $0: grub-mkconfig's own path, as on a real system
    eaten = f"memmap=8G{dollar0}x100000000"
    assert eaten in linux.split()
    with g:
        cmdline = g.run("cat /proc/cmdline").out.split()
        assert eaten in cmdline and not any("$" in w for w in cmdline), cmdline
        iomem = g.run("cat /proc/iomem").out
        assert covered_by(iomem, 0x100000000, 0x100000000) != "Reserved", iomem
        # memmap=8G caps RAM at 8 GiB of address space (13 GiB otherwise)
        kb = int(re.search(r"MemTotal:\s+(\d+) kB", g.run("cat /proc/meminfo").out)[1])
        assert kb * 1024 < 8 * G, kb
        g.run("modprobe resmem")
        r = g.run("resmem check", check=False)
        assert r.status == 1, r
        assert f"{eaten} has no address: this caps usable RAM at 8G and reserves nothing" in r.out, r.out
        assert "grub-mkconfig, expanded" in r.out
        check_console(g)


@pytest.mark.archs("x86_64")
def test_grub_write_takes_out_the_eaten_word(k, host_resmem, tmp_path):
    """The issue's server: /etc/default/grub holds memmap=8G$4G (sh makes it
    memmap=8GG: RAM capped, nothing reserved).  `plan --write`'s drop-in,
    through grub-mkconfig and GRUB, boots the planned reservation without it,
    and the plan's figures are those of that boot."""
    default_grub = DEFAULT_GRUB.replace('"quiet"', '"quiet memmap=8G$4G"')
    f = tmp_path / "default-grub"
    f.write_text(default_grub)
    d = tmp_path / "grub.d"
    resmem = host_resmem
    r = subprocess.run([resmem, "plan", "--size", "8G", "--from", MAP, "--grub-default", str(f),
                        "--grub-d", str(d), "--write", "--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["replaces"] == ["memmap=8GG"] and j["kaslr"]["memmap_entries"] == 1
    linux, _ = grub.mkconfig_linux_line(default_grub, [(d / "resmem.cfg").read_text()])
    iso = grub.boot_iso(k, linux, str(tmp_path / "boot.iso"))
    with grub.GrubGuest(k, iso, mem=MEM) as g:
        cmdline = g.run("cat /proc/cmdline").out.split()
        assert "memmap=8G$0x100000000" in cmdline and "quiet" in cmdline, cmdline
        assert not [w for w in cmdline if w.startswith("memmap=") and w != "memmap=8G$0x100000000"], cmdline
        iomem = g.run("cat /proc/iomem").out
        assert covered_by(iomem, 0x100000000, 0x2ffffffff) == "Reserved", iomem
        assert covered_by(iomem, 0x300000000, 0x300000000) == "System RAM", iomem
        # after_reboot: the RAM left is what the kernel has (MemTotal is a little less)
        kb = int(re.search(r"MemTotal:\s+(\d+) kB", g.run("cat /proc/meminfo").out)[1])
        left = j["after_reboot"]["ram_left"]
        assert 0.9 * left < kb * 1024 <= left, (kb, left)
        g.run("modprobe resmem")
        r = g.run("resmem check", check=False)
        assert r.status == 0 and "all good" in r.out, r
        check_console(g)
