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
         8 faults and no page-table pages of its own (the target: page
         tables for 8 GiB <= 64 KiB).
  6.1    everything mapped at mmap() time with 4 KiB entries: no faults,
         2 Mi PTEs, 16 MiB + 32 KiB of page tables for 8 GiB.
A change in either direction fails.  These are PFN maps (what uc/wc
regions get, and any region with pages=0): resmem is loaded with pages=0.
A region with struct pages (the default for write-back) maps 2 MiB at
most (no 1 GiB entries): test_direct_io.py::test_pages_mapping_cost.
"""
import pytest

from tests.harness.loaded import load_resmem
from tests.harness.mapcost import (BAD_TABLE, MADV_NOHUGEPAGE, check_thp_never, check_window,
                                   huge_pfnmap, leaves, load_pgwalk, mapcost, mapcost_with_thp,
                                   thp_policy_says_huge)
from tests.harness.pattern import seq
from tests.harness.units import G, K, M

PHYS = 4 * G

pytestmark = [pytest.mark.archs("x86_64"), pytest.mark.guest(boot="standard")]


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
        assert pt <= 64 * K, m                         # target: <= 64 KiB for 8 GiB
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


def test_thp_never_follows_the_kernels_policy(walker, target):
    """THP "never": 4 KiB entries where the kernel applies the setting to PFN
    maps (6.12.95), huge ones where it says they stay eligible (7.3)."""
    check_thp_never(walker)


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
    g.run("rmmod resmem 2>/dev/null; true")
    load_pgwalk(g)
    g.run(f"modprobe resmem pages=0 cache={mode}")   # the PFN map (module docstring)
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
    load_pgwalk(g)
    load_resmem(g)
    if not g.run(f"test -c {devdax.DEVICE}", check=False).ok:
        devdax.setup(g)
    d = mapcost(g, "0 64M", dev=devdax.DEVICE)
    assert leaves(d["walk"]) == (0, 32, 0) and int(d["faults"]) == 32, d
    phys = int(d["walk"]["phys"], 16)
    assert 4 * G + 64 * M <= phys and phys + 64 * M <= 4 * G + 192 * M, d
    m = mapcost(g, "0 64M")
    assert int(m["walk"]["phys"], 16) == PHYS, m
    assert leaves(m["walk"]) == ((0, 32, 0) if huge_pfnmap(g) else (0, 0, 16384)), m
    g.console_sync()
    assert not BAD_TABLE.search(g.console()), g.console()[-3000:]
