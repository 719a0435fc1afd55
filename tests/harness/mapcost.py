"""What a mapping costs, from the guest's own witnesses: `mapcost`
(tests/guest/mapcost.c: maps, touches, counts minor faults and page-table
growth) and the page-table walker module tests/kmod/resmem_test_pgwalk
(1 GiB / 2 MiB / 4 KiB leaves, where they point, their memory type).
Shared by tests/test_mapping_cost.py (x86_64) and
tests/test_mapping_cost_arm64.py; the `walker` fixture reaches the tests
through tests/conftest.py."""
import re

import pytest

from . import boots
from .loaded import load_resmem
from .pattern import seq
from .units import K, M, size

DEV = "/dev/resmem/region0"
BAD_TABLE = re.compile(r"bad p(gd|4d|ud|md|te)\b")
MADV_NOHUGEPAGE = 15     # asm-generic/mman-common.h (x86_64 and arm64)
THP = "/sys/kernel/mm/transparent_hugepage/enabled"


def load_pgwalk(g):
    """Insert the page-table walker module unless it is in already."""
    g.run("test -e /proc/resmem_pgwalk || "
          f"insmod {boots.TESTMODS}/resmem_test_pgwalk.ko")


def huge_pfnmap(g):
    """Whether the guest's kernel maps resmem with huge PFN entries on fault
    (6.12 and later); 6.1 maps 4 KiB entries at mmap() time."""
    major, minor = (int(x) for x in g.run("uname -r").out.split(".")[:2])
    return (major, minor) >= (6, 12)


@pytest.fixture
def walker(guest):
    """The guest with the page-table walker and resmem mapping regions by
    PFN (pages=0: what uc/wc regions and pages=0 get); a 'bad pXd' line on
    the console during the test fails it."""
    load_pgwalk(guest)
    load_resmem(guest, pages=False)
    mark = len(guest.console())
    yield guest
    guest.console_sync()
    assert not BAD_TABLE.search(guest.console()[mark:]), guest.console()[mark:][-3000:]
    guest.run("rmmod resmem", check=False)


def parse(out):
    """mapcost's key=value lines; walk lines become dicts."""
    res = {}
    for line in out.splitlines():
        if "=" not in line:
            continue
        key, val = line.split("=", 1)
        if "walk" in key:
            res[key] = dict(f.split("=", 1) for f in val.split())
        else:
            res[key] = val
    return res


def mapcost(g, args, timeout=600, dev=DEV):
    r = g.run(f"mapcost {dev} {args}", timeout=timeout, check=False)
    assert r.status == 0 and r.out.rstrip().endswith("ok"), r
    return parse(r.out)


def leaves(walk):
    """(1 GiB, 2 MiB, 4 KiB) leaf counts of a walk."""
    return int(walk["pud"]), int(walk["pmd"]), int(walk["pte"])


def mapcost_with_thp(g, setting, args):
    """mapcost with the THP sysfs switch set to `setting`, restored after."""
    before = re.search(r"\[(\w+)\]", g.run(f"cat {THP}").out)[1]
    g.run(f"echo {setting} > {THP}")
    try:
        return mapcost(g, args)
    finally:
        g.run(f"echo {before} > {THP}")


def check_window(g, phys, args, huge, faults):
    """Map the window in mapcost's `args` (offset length [options]), check
    where it points and, on 6.12, its leaves and faults (6.1 maps 4 KiB
    entries up front).  With --stamp SEED, the host finds the stamps at the
    window's edges."""
    m = mapcost(g, args)
    stamp = re.search(r"--stamp (\w+)", args)
    stamp = int(stamp[1], 0) if stamp else None
    w = m["walk"]
    off, length = (size(a) for a in args.split()[:2])
    assert int(w["phys"], 16) == phys + off and w["contiguous"] == "1", m
    assert int(w["none"]) == 0, m
    if huge_pfnmap(g):
        assert leaves(w) == huge, m
        assert int(m["faults"]) == faults, m
    else:
        assert leaves(w) == (0, 0, length // (4 * K)), m
        assert int(m["faults"]) == 0, m
    if stamp is not None:
        for o in [off, off + 4 * K, (off + 2 * M - 1) & ~(2 * M - 1), off + length - 4 * K]:
            assert g.pmemsave(phys + o, 8) == seq(stamp, o, 8), hex(o)


def thp_policy_says_huge(g, m):
    """Whether the kernel's THP policy lets this mapping have huge entries:
    its own word in smaps (THPeligible).  6.12.95 applied the THP sysfs
    setting to huge PFN maps; later 6.12.y and 7.x do not ("huge PFN mappings
    are uncompactable so the policy doesn't apply"), MADV_NOHUGEPAGE still."""
    return huge_pfnmap(g) and m["thp_eligible"] == "1"


def check_thp_never(g, touch=""):
    """64 MiB at offset 0 under THP "never": 4 KiB entries where the kernel
    applies the setting to PFN maps, 2 MiB ones where it says they stay
    eligible; then huge again once THP is back.  `touch`: extra mapcost
    options (arm64 touches with --stamp, so stores are counted too)."""
    m = mapcost_with_thp(g, "never", f"0 64M {touch}".strip())
    if thp_policy_says_huge(g, m):
        assert leaves(m["walk"]) == (0, 32, 0) and int(m["faults"]) == 32, m
    else:
        assert leaves(m["walk"]) == (0, 0, 16384), m
        assert int(m["faults"]) == (16384 if huge_pfnmap(g) else 0), m
    m = mapcost(g, f"0 64M {touch}".strip())
    assert leaves(m["walk"]) == ((0, 32, 0) if huge_pfnmap(g) else (0, 0, 16384)), m
