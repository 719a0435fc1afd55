"""What a resmem mapping costs on arm64, counted (never timed).

Same witnesses as tests/test_mapping_cost.py (page-table walker module,
minor-fault counts, VmPTE growth, host pmemsave), on an 8 GiB no-map
/reserved-memory region at 4 GiB.  Every touch here is a store: the
harness's Cortex-A57 has no hardware dirty-bit management (like the
Cortex-A53/A72 of ZynqMP and the Raspberry Pi 4), so a writable entry
installed clean costs one more fault at its first store.

Expected, per kernel (the mapping strategy compat.h picks):
  6.12  huge PFN maps on fault with 2 MiB entries (arm64 has no 1 GiB PFN
        maps in 6.12), 4 KiB at ragged edges; one fault per entry, stores
        included; 8 GiB costs 8 PMD table pages (32 KiB, target <= 64 KiB).
  6.1   everything mapped at mmap() time with 4 KiB entries installed
        dirty: no fault at all, stores included; 16 MiB + 32 KiB of tables.
"""
import pytest

from tests.harness.mapcost import (MADV_NOHUGEPAGE, check_thp_never, check_window,
                                   huge_pfnmap, leaves, load_pgwalk, mapcost, mapcost_with_thp)
from tests.harness.pattern import seq
from tests.harness.units import G, K, M

PHYS = 4 * G

pytestmark = [pytest.mark.archs("aarch64"), pytest.mark.guest(boot="eight")]


def test_full_8g_mapping_cost(walker, target):
    g = walker
    seed = 0xa64
    m = mapcost(g, f"0 8G --stamp {seed:#x}")
    w = m["walk"]
    assert int(w["none"]) == 0 and w["contiguous"] == "1", m
    assert int(w["phys"], 16) == PHYS, m
    assert w["types"] == "attr0", m                    # MT_NORMAL: write-back
    pt = int(m["pt_bytes"])
    if huge_pfnmap(g):
        assert int(m["addr_align"]) >= 2 * M, m       # get_unmapped_area aligned it
        assert leaves(w) == (0, 4096, 0), m
        assert int(m["faults"]) == 4096, m             # one per entry, stores included
        assert pt <= 64 * K, m                         # target: <= 64 KiB for 8 GiB
        assert 32 * K <= pt <= 36 * K, m               # 8 PMD table pages
    else:
        assert leaves(w) == (0, 0, 2 * M), m
        assert int(m["faults"]) == 0, m                # dirty from mmap(): no store faults
        assert 16 * M + 32 * K <= pt <= 16 * M + 40 * K, m
    for off in [0, 2 * M - 4 * K, G, 5 * G + 7 * M + 12 * K, 8 * G - 4 * K]:
        assert g.pmemsave(PHYS + off, 8) == seq(seed, off, 8), hex(off)


WINDOWS = [
    # id, mapcost offset and length, 6.12 leaves (pud, pmd, pte) and faults
    ("2m-aligned-1g", "0x40200000 1G", (0, 512, 0), 512),
    ("ragged-edges", "0x1fe000 0x204000", (0, 1, 4), 5),
    ("1g-plus-ragged", "0x3ffff000 0x40002000", (0, 512, 2), 514),
    ("misaligned-fixed-address", "0 64M --fixed-misalign", (0, 0, 16384), 16384),
]


@pytest.mark.parametrize("args,huge,faults", [w[1:] for w in WINDOWS],
                         ids=[w[0] for w in WINDOWS])
def test_window_page_sizes(walker, target, args, huge, faults):
    """Entry sizes and store-fault counts of windows; 4 KiB entries take one
    fault each on 6.12 (installed dirty on a write fault), none on 6.1."""
    check_window(walker, PHYS, f"{args} --stamp 7", huge, faults)


def test_thp_never_follows_the_kernels_policy(walker, target):
    check_thp_never(walker, "--stamp 3")


def test_thp_madvise_maps_huge_and_nohugepage_does_not(walker, target):
    g = walker
    m = mapcost_with_thp(g, "madvise", "0 64M --stamp 5")
    assert leaves(m["walk"]) == ((0, 32, 0) if huge_pfnmap(g) else (0, 0, 16384)), m
    m = mapcost(g, f"0 64M --stamp 6 --madvise {MADV_NOHUGEPAGE}")
    assert leaves(m["walk"]) == (0, 0, 16384), m
    assert int(m["faults"]) == (16384 if huge_pfnmap(g) else 0), m


@pytest.mark.parametrize("case", ["fork", "mprotect", "munmap", "mremap-shrink", "mremap-move"])
def test_misuse_of_huge_mappings_is_clean(walker, target, case):
    """fork/mprotect/partial munmap/mremap on 512 MiB of 2 MiB (6.12) or dirty
    4 KiB (6.1) entries; mapcost checks every stamp through what is left, and
    (mprotect) that a read-only hole faults on a store and is writable again
    after mprotect(PROT_WRITE)."""
    g = walker
    m = mapcost(g, f"0 512M --stamp 0x51 --misuse {case}")
    expect = (0, 256, 0) if huge_pfnmap(g) else (0, 0, 131072)
    assert leaves(m["walk"]) == expect, m
    if case == "fork":
        assert leaves(m["child_walk"]) == expect, m
    assert g.run("cat /sys/class/resmem/region0/mappings").out.strip() == "0"


@pytest.mark.parametrize("mode,attr", [("wb", "attr0"), ("wc", "attr2"), ("uc", "attr2")])
def test_cache_mode_applies_to_every_entry(guest, target, mode, attr):
    """Every entry carries the region's memory type: AttrIndx 0 (MT_NORMAL)
    for write-back, 2 (MT_NORMAL_NC) for write-combine and uncached."""
    g = guest
    g.run("rmmod resmem 2>/dev/null; true")
    load_pgwalk(g)
    g.run(f"modprobe resmem pages=0 cache={mode}")
    try:
        m = mapcost(g, "0x1fe000 0x404000 --stamp 0x77")   # 8 KiB + 2 x 2 MiB + 8 KiB
        w = m["walk"]
        assert w["types"] == attr, m
        assert leaves(w) == ((0, 2, 4) if huge_pfnmap(g) else (0, 0, 1028)), m
        for o in [0x1fe000, 0x200000, 0x5fe000, 0x601000]:
            assert g.pmemsave(PHYS + o, 8) == seq(0x77, o, 8), hex(o)
    finally:
        g.run("rmmod resmem")
