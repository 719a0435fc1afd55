"""What a resmem mapping costs, counted (never timed), on x86_64.

The witness for page sizes is the page tables themselves: the test-only
module tests/kmod/resmem_test_pgwalk walks the helper's own page tables
(PFN maps show up nowhere else: smaps says 4 kB, pagemap has no PFNs) and
reports how many 1 GiB / 2 MiB / 4 KiB leaves cover a range, where they
point and their memory type.  `mapcost` (tests/guest/mapcost.c) maps,
touches every 4 KiB page, and counts the minor faults (getrusage) and the
growth of its page tables (VmPTE).  The host reads guest physical memory
to check that the huge entries point where they should.

Expected, per kernel (the mapping strategy compat.h picks):
  6.12+  huge PFN maps on fault: 1 GiB where offset and address allow,
         2 MiB otherwise, 4 KiB at ragged edges; an 8 GiB mapping costs
         8 faults and no page-table pages of its own (the issue's target
         is <= 64 KiB).
  6.1    everything mapped at mmap() time with 4 KiB entries: no faults,
         2 Mi PTEs, 16 MiB + 32 KiB of page tables for 8 GiB.
A change in either direction fails.
"""
import re

import pytest

from tests.harness.pattern import seq

G = 1 << 30
M = 1 << 20
K = 1 << 10
DEV = "/dev/resmem/region0"
PHYS = 4 * G
BAD_TABLE = re.compile(r"bad p(gd|4d|ud|md|te)\b")

pytestmark = [pytest.mark.archs("x86_64"), pytest.mark.guest(boot="standard")]


def huge_pfnmap(g):
    major, minor = (int(x) for x in g.run("uname -r").out.split(".")[:2])
    return (major, minor) >= (6, 12)


@pytest.fixture
def walker(guest):
    """The standard guest with the page-table walker and resmem (default options)."""
    guest.run("test -e /proc/resmem_pgwalk || "
              "insmod /lib/modules/$(uname -r)/testmods/resmem_test_pgwalk.ko")
    guest.run("lsmod | grep -q '^resmem ' || modprobe resmem")
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


def mapcost(g, args, timeout=600):
    r = g.run(f"mapcost {DEV} {args}", timeout=timeout, check=False)
    assert r.status == 0 and r.out.rstrip().endswith("ok"), r
    return parse(r.out)


def size(text):
    """mapcost's number syntax: 0x.. or decimal, optional K/M/G suffix."""
    unit = {"K": K, "M": M, "G": G}.get(text[-1], 1)
    return int(text[:-1] if unit > 1 else text, 0) * unit


def leaves(walk):
    return int(walk["pud"]), int(walk["pmd"]), int(walk["pte"])


def mapcost_with_thp(g, setting, args):
    """mapcost with the THP sysfs switch set to `setting`, restored after."""
    thp = "/sys/kernel/mm/transparent_hugepage/enabled"
    before = re.search(r"\[(\w+)\]", g.run(f"cat {thp}").out)[1]
    g.run(f"echo {setting} > {thp}")
    try:
        return mapcost(g, args)
    finally:
        g.run(f"echo {before} > {thp}")


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


# ------------------------------------------------------------ the whole region
def test_full_8g_mapping_cost(walker, target):
    g = walker
    m = mapcost(g, "0 8G")
    w = m["walk"]
    assert int(w["none"]) == 0 and w["contiguous"] == "1", m
    assert int(w["phys"], 16) == PHYS, m
    pt = int(m["pt_bytes"])
    if huge_pfnmap(g):
        assert int(m["addr_align"]) == G, m           # get_unmapped_area aligned it
        assert leaves(w) == (8, 0, 0), m
        assert int(m["faults"]) == 8, m
        assert pt <= 64 * K, m                         # the target
        assert pt <= 4 * K, m                          # what 1 GiB entries give
    else:
        assert leaves(w) == (0, 0, 2 * M), m           # 2 Mi 4 KiB entries
        assert int(m["faults"]) == 0, m                # mapped at mmap() time
        assert 16 * M + 32 * K <= pt <= 16 * M + 64 * K, m


def test_huge_entries_point_at_the_right_physical_pages(walker, target):
    """Stamps written through an 8 GiB mapping land at 4 GiB + offset (host witness)."""
    g = walker
    seed = 0x9a9e5
    m = mapcost(g, f"0 8G --stamp {seed:#x}")
    if huge_pfnmap(g):
        assert leaves(m["walk"]) == (8, 0, 0), m
    for off in [0, G - 4 * K, G, 2 * G + 2 * M, 5 * G + 7 * M + 12 * K, 8 * G - 4 * K]:
        assert g.pmemsave(PHYS + off, 8) == seq(seed, off, 8), hex(off)
        # and the bytes after the stamp were not written by it
        assert g.pmemsave(PHYS + off + 8, 8) != seq(seed, off + 8, 8), hex(off)


# ------------------------------------------------------------ windows and edges
WINDOWS = [
    # id, mapcost args, 6.12 leaves (pud, pmd, pte) and faults
    ("1g-aligned-2g", "0x40000000 2G", (2, 0, 0), 2),
    ("2m-aligned-1g", "0x40200000 1G", (0, 512, 0), 512),
    ("ragged-edges", "0x1fe000 0x204000 --stamp 7", (0, 1, 4), 5),
    ("1g-plus-ragged", "0x3ffff000 0x40002000", (1, 0, 2), 3),
    ("misaligned-fixed-address", "0 64M --fixed-misalign", (0, 0, 16384), 16384),
]


@pytest.mark.parametrize("args,huge,faults", [w[1:] for w in WINDOWS],
                         ids=[w[0] for w in WINDOWS])
def test_window_page_sizes(walker, target, args, huge, faults):
    check_window(walker, PHYS, args, huge, faults)


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


def test_thp_never_follows_the_kernels_policy(walker, target):
    """THP "never": 4 KiB entries where the kernel applies the setting to PFN
    maps (6.12.95), huge ones where it says they stay eligible (7.3)."""
    check_thp_never(walker)


MADV_NOHUGEPAGE = 15     # asm-generic/mman-common.h (x86_64 and arm64)


def test_thp_madvise_maps_huge_and_nohugepage_does_not(walker, target):
    """THP "madvise" maps resmem huge (the VMA is marked VM_HUGEPAGE, as
    device-dax marks its own); MADV_NOHUGEPAGE on a mapping gives it 4 KiB
    entries whatever the THP setting."""
    g = walker
    m = mapcost_with_thp(g, "madvise", "0 64M")
    assert leaves(m["walk"]) == ((0, 32, 0) if huge_pfnmap(g) else (0, 0, 16384)), m
    assert thp_policy_says_huge(g, m) == huge_pfnmap(g), m
    m = mapcost(g, f"0 64M --madvise {MADV_NOHUGEPAGE}")
    assert not thp_policy_says_huge(g, m), m
    assert leaves(m["walk"]) == (0, 0, 16384), m
    assert int(m["faults"]) == (16384 if huge_pfnmap(g) else 0), m


def test_populate_and_lock_are_harmless(walker, target):
    g = walker
    m = mapcost(g, "0 1G --populate")
    assert leaves(m["walk"]) == ((1, 0, 0) if huge_pfnmap(g) else (0, 0, 262144)), m


# ------------------------------------------------------------ misuse of huge mappings
@pytest.mark.parametrize("case", ["fork", "mprotect", "munmap", "mremap-shrink", "mremap-move"])
def test_misuse_of_huge_mappings_is_clean(walker, target, case):
    """fork/mprotect/partial munmap/mremap on a 2 GiB mapping made of 1 GiB entries.

    mapcost checks every stamp through what is left; the walker fixture fails the
    test on a 'bad pud' line, the plugin on Bad page map / WARN / oops.
    """
    g = walker
    m = mapcost(g, f"0 2G --stamp 0x51 --misuse {case}")
    if huge_pfnmap(g):
        assert leaves(m["walk"]) == (2, 0, 0), m
        if case == "fork":
            assert leaves(m["child_walk"]) == (2, 0, 0), m   # copied as huge entries
        if case == "mremap-move":
            # moved 2 MiB past a 1 GiB boundary: refaulted with 2 MiB entries
            assert leaves(m["after_touch_walk"]) == (0, 1024, 0), m
            assert m["after_touch_walk"]["phys"] == "0x100000000", m
    assert g.run("cat /sys/class/resmem/region0/mappings").out.strip() == "0"


# ------------------------------------------------------------ memory types
@pytest.mark.parametrize("mode,types", [("wb", "wb"), ("wc", "wc"), ("uc", "uc")])
def test_cache_mode_applies_to_every_entry(guest, target, mode, types):
    """Huge entries carry the region's memory type (PAT bits read from the entries)."""
    g = guest
    g.run("rmmod resmem 2>/dev/null; test -e /proc/resmem_pgwalk || "
          "insmod /lib/modules/$(uname -r)/testmods/resmem_test_pgwalk.ko")
    g.run(f"modprobe resmem cache={mode}")
    try:
        m = mapcost(g, "0x3fe00000 0x40400000 --stamp 0x77")   # 2 MiB + 1 GiB + 2 MiB
        w = m["walk"]
        assert w["types"] == types, m
        assert leaves(w) == ((1, 2, 0) if huge_pfnmap(g) else (0, 0, 263168)), m
        for o in [0x3fe00000, G, 2 * G - 4 * K, 2 * G + 2 * M - 4 * K]:
            assert g.pmemsave(PHYS + o, 8) == seq(0x77, o, 8), hex(o)
    finally:
        g.run("rmmod resmem")


# ------------------------------------------------------------ the bench's baseline
@pytest.fixture
def devdax_files(target):
    from tests.harness import devdax, matrix
    return devdax.extra_files(matrix.by_name(target))


# 64 MiB of resmem at 4 GiB, then a 128 MiB legacy-pmem range for device-dax.
DAX_BOOT = dict(mem="5G", cmdline="memmap=64M$4G memmap=128M!4160M",
                extra_files_from="devdax_files")


@pytest.mark.guest(**DAX_BOOT)
def test_bench_baselines_page_sizes(guest, target):
    """What `make bench` compares is what it claims: device-dax (ndctl, -a 2M)
    maps with 2 MiB entries on both kernels, resmem with 2 MiB entries on 6.12
    and 4 KiB ones on 6.1, both pointing into their own reserved range."""
    from tests.harness import devdax
    g = guest
    g.run("test -e /proc/resmem_pgwalk || "
          "insmod /lib/modules/$(uname -r)/testmods/resmem_test_pgwalk.ko")
    g.run("lsmod | grep -q '^resmem ' || modprobe resmem")
    if not g.run(f"test -c {devdax.DEVICE}", check=False).ok:
        devdax.setup(g)
    r = g.run(f"mapcost {devdax.DEVICE} 0 64M", check=False)
    assert r.status == 0 and r.out.rstrip().endswith("ok"), r
    d = parse(r.out)
    assert leaves(d["walk"]) == (0, 32, 0) and int(d["faults"]) == 32, d
    phys = int(d["walk"]["phys"], 16)
    assert 4 * G + 64 * M <= phys and phys + 64 * M <= 4 * G + 192 * M, d
    m = mapcost(g, "0 64M")
    assert int(m["walk"]["phys"], 16) == PHYS, m
    assert leaves(m["walk"]) == ((0, 32, 0) if huge_pfnmap(g) else (0, 0, 16384)), m
    g.console_sync()
    assert not BAD_TABLE.search(g.console()), g.console()[-3000:]
