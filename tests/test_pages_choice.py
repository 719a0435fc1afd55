"""Struct pages chosen per region (issue 15): a regions= entry's
`pages=off|ram` option and the device tree's `resmem,pages` property.

A region turned off keeps the PFN mapping (huge entries, no metadata), says
so and why in sysfs `pages` and its load line, and get_user_pages() refuses
it (O_DIRECT gets EFAULT); the other regions of the same load keep their
pages.  Witnesses beside the guest's word: the host reads the virtio disk's
image and guest physical memory (QMP pmemsave); the page-table walker
(tests/kmod/resmem_test_pgwalk) shows the entries a mapping got.
"""
import json
import re

import pytest

from tests.harness import disk, matrix
from tests.harness.guestview import sysfs
from tests.harness.mapcost import BAD_TABLE, huge_pfnmap, leaves, load_pgwalk, mapcost
from tests.harness.pattern import seq
from tests.harness.units import G, K, M

DISK = disk.Disk("pages-choice", 64 * M)

pytestmark = [pytest.mark.core]


@pytest.fixture
def disk_modules(target):
    return disk.module_files(matrix.by_name(target))


@pytest.fixture
def fresh_load(guest):
    """The guest with resmem unloaded before and after (its boot is shared
    with other tests, which load it their own way)."""
    guest.run("rmmod resmem 2>/dev/null; true")
    DISK.setup(guest)
    yield guest
    guest.run("rmmod resmem", check=False)


def modprobe(g, args):
    """modprobe resmem ARGS; returns what it logged."""
    mark = len(g.console())
    g.run(f"modprobe resmem {args}", timeout=300)
    g.console_sync()
    return g.console()[mark:]


def dio_write(g, name, off, length, doff, seed):
    """`dio write` of a window of /dev/resmem/NAME to the disk (O_DIRECT):
    its output ("ok" or "errno=E...").  The disk's device: set up by
    fresh_load (a loop device on the local target)."""
    return g.run(f"dio write /dev/resmem/{name} {DISK.device(g)} {off:#x} {length:#x} "
                 f"{doff:#x} {seed:#x}", check=False).out.strip()


def check_pfn_and_paged(g, phys_off, phys_on, off_name, on_name, seed):
    """O_DIRECT from region OFF_NAME (pages off) gets EFAULT and moves
    nothing to the disk, while its bytes are in the region; from ON_NAME
    (with pages) it lands on the disk, the same bytes the host finds at
    the region's physical address."""
    r = dio_write(g, off_name, 2 * M, 64 * K, 0, seed)
    assert r == "errno=EFAULT", r
    assert DISK.read(0, 64 * K) == bytes(64 * K)
    assert g.pmemsave(phys_off + 2 * M, 64 * K) == seq(seed, 2 * M, 64 * K)
    r = dio_write(g, on_name, 2 * M, 64 * K, 4 * M, seed + 1)
    assert r == "ok", r
    want = seq(seed + 1, 2 * M, 64 * K)
    assert DISK.read(4 * M, 64 * K) == want
    assert g.pmemsave(phys_on + 2 * M, 64 * K) == want


# ============================================================ x86_64, regions=
# Boot "two": memmap=1G$4G memmap=1G$6G (ZONE_DEVICE pages by default).
X86 = pytest.mark.guest(boot="two", extra_qemu=DISK.qemu_args(), extra_files_from="disk_modules")
PAGED_1G = "yes: 262144 pages, up to 16384 KiB of RAM (64 B per 4 KiB page)"


@pytest.mark.archs("x86_64")
@X86
def test_regions_entry_turns_pages_off_for_its_region(fresh_load, target):
    """regions=raw:1G@4G:pages=off,paged:1G@6G: raw has no pages and says
    which entry turned them off (sysfs, load line, resmem list --json), its
    mapping is a PFN map (O_DIRECT EFAULT; on kernels with huge PFN maps a
    single 1 GiB entry, where the paged region gets 512 2 MiB entries; on
    the others every 4 KiB entry made at mmap() time, no faults); paged, in
    the same load, keeps its ZONE_DEVICE pages.  Catches the option
    ignored, applied to every region, or reported without its reason."""
    g = fresh_load
    entry = "raw:1G@4G:pages=off"
    log = modprobe(g, f"regions={entry},paged:1G@6G")
    why = f"no: off (regions= entry '{entry}')"
    assert sysfs(g, "raw", "pages") == why
    assert sysfs(g, "paged", "pages") == PAGED_1G
    assert re.search(r"raw \[mem 0x0000000100000000-0x000000013fffffff\]: /dev/resmem/raw, "
                     r"1024 MiB, write-back, from regions=; struct pages: " + re.escape(why), log), log
    listed = {e["name"]: e for e in json.loads(g.run("resmem list --json").out)}
    assert listed["raw"]["pages"] is False and listed["raw"]["pages_ram"] == 0, listed
    assert listed["paged"]["pages"] is True and listed["paged"]["pages_ram"] == 16 * M, listed
    check_pfn_and_paged(g, 4 * G, 6 * G, "raw", "paged", 0x1501)

    load_pgwalk(g)
    mark = len(g.console())
    k = matrix.by_name(target)
    if huge_pfnmap(g) and not k.rt:
        m = mapcost(g, "0 1G", dev="/dev/resmem/raw")
        assert leaves(m["walk"]) == (1, 0, 0) and int(m["faults"]) == 1, m
        m = mapcost(g, "0 1G", dev="/dev/resmem/paged")
        assert leaves(m["walk"]) == (0, 512, 0) and int(m["faults"]) == 512, m
    else:
        m = mapcost(g, "0 64M", dev="/dev/resmem/raw")
        assert leaves(m["walk"]) == (0, 0, 16384) and int(m["faults"]) == 0, m
        m = mapcost(g, "0 64M", dev="/dev/resmem/paged")
        assert leaves(m["walk"]) == (0, 0, 16384) and int(m["faults"]) == 16384, m
    assert int(m["walk"]["phys"], 16) == 6 * G, m
    g.console_sync()
    assert not BAD_TABLE.search(g.console()[mark:]), g.console()[mark:][-3000:]


@pytest.mark.archs("x86_64")
@X86
def test_regions_entry_pages_ram_wins_over_pages_0(fresh_load, target):
    """pages=0 turns pages off for the regions without a choice of their
    own; an entry's pages=ram still gets them, with the cache option
    beside it in either order.  Catches the global switch overriding the
    region's own choice, and an option order the parser refuses."""
    g = fresh_load
    modprobe(g, "pages=0 regions=io:1G@4G:pages=ram:wb")
    assert sysfs(g, "io", "pages") == PAGED_1G
    assert sysfs(g, "region0", "pages") == "no: off (module parameter pages=0)"
    check_pfn_and_paged(g, 6 * G, 4 * G, "region0", "io", 0x1511)
    g.run("rmmod resmem")
    modprobe(g, "pages=0 regions=io:1G@4G:wb:pages=ram")
    assert sysfs(g, "io", "pages") == PAGED_1G
    assert sysfs(g, "io", "cache_mode") == "write-back"


# Each malformed entry, and the reason its error line must give.
MALFORMED = {
    "bad1:1G@4G:pages=on": "pages= must be off, ram or region",
    "bad2:1G@4G:pages=": "pages= must be off, ram or region",
    "bad3:1G@4G:pages=OFF": "pages= must be off, ram or region",
    "bad4:1G@4G:pages=off:pages=ram": "pages= given twice",
    "bad5:1G@4G:wb:wc": "cache mode given twice",
    "bad6:1G@4G:pages": ("cache mode must be wb, wc or uc (the other option after SIZE$ADDR is "
              "pages=off|ram|region)"),
    "bad7:1G@4G:wb:pages=off:uc": "too many ':'-separated fields",
    "1G@4G:pages=off:wb:pages=ram": "too many ':'-separated fields",
}
SYNTAX = "expected [NAME:]SIZE$ADDR[:wb|wc|uc][:pages=off|ram|region] or the same with '@'"


@pytest.mark.archs("x86_64")
@X86
def test_malformed_pages_option_refused(fresh_load, target):
    """Every malformed pages option gets one error line naming the entry,
    what is wrong and the expected syntax, and makes no region; the
    discovered reservation it would have named stays as it was, with its
    pages; a good entry in the same load (pages=off and uc, either order)
    is used.  Catches a bad value taken as a default, a half-parsed entry,
    and a refusal that drops the discovered region."""
    g = fresh_load
    log = modprobe(g, "'regions=" + ",".join(MALFORMED) + ",good:1G@6G:pages=off:uc'")
    for entry, why in MALFORMED.items():
        line = f"regions= entry '{entry}' ignored: {why}; {SYNTAX}"
        assert log.count(line) == 1, (line, log)
    names = sorted(g.run("ls /sys/class/resmem").out.split())
    assert names == ["good", "region0"], names
    assert sysfs(g, "region0", "phys_addr") == hex(4 * G)
    assert sysfs(g, "region0", "pages") == PAGED_1G
    assert sysfs(g, "good", "cache_mode") == "uncached"
    assert sysfs(g, "good", "pages") == "no: off (regions= entry 'good:1G@6G:pages=off:uc')"
    g.run("rmmod resmem")
    modprobe(g, "regions=good:1G@6G:uc:pages=off")
    assert sysfs(g, "good", "cache_mode") == "uncached"
    assert sysfs(g, "good", "pages") == "no: off (regions= entry 'good:1G@6G:uc:pages=off')"


# ================================================= x86_64, metadata in the region
HEAD = 16 * M           # struct pages of 1 GiB: 262144 * 64 B
IN_REGION = ("yes: 258048 pages, struct pages in the region's first 16 MiB "
             "[mem 0x100000000-0x100ffffff] (no RAM)")


@pytest.mark.archs("x86_64")
@X86
def test_struct_pages_in_the_region_head(fresh_load, target):
    """regions=meta:1G@4G:pages=region: the struct pages take the
    region's first 16 MiB instead of RAM, and everything user space sees
    is the rest.  Witnesses: the host reads the head (QMP pmemsave): a
    pattern written there while the whole region was visible survives a
    load with pages=ram and is overwritten in every 2 MiB of the head (and
    nowhere after it) by a load with pages=region.  (MemFree is no
    witness here: the per-CPU page lists move it by megabytes between
    loads; measured, a pages=ram load of 1 GiB took 0 to 4 MiB of it.)
    Then sysfs and RESMEM_IOC_INFO say size 1 GiB - 16
    MiB at 4 GiB + 16 MiB, offset 0 of the mapping and of write() is
    physical 4 GiB + 16 MiB, O_DIRECT from offset 0 works (the pages are
    real), the mapping keeps 2 MiB entries where the kernel makes them,
    neither read() nor mmap() reach past the end, and the claim in
    /proc/iomem is still the whole GiB.  Unload and reload are clean (the
    harness fails any WARN, e.g. an altmap not freed).  Catches metadata
    in RAM while the region is shrunk, metadata written over user data,
    user offsets not shifted, the head reachable."""
    g = fresh_load
    modprobe(g, "regions=meta:1G@4G:pages=off")
    g.run(f"mapper write /dev/resmem/meta 0 {HEAD + 4 * M:#x} 0x2c")
    want = seq(0x2c, 0, HEAD + 4 * M)
    assert g.pmemsave(4 * G, HEAD + 4 * M) == want
    g.run("rmmod resmem")
    modprobe(g, "regions=meta:1G@4G:pages=ram")
    assert sysfs(g, "meta", "pages") == PAGED_1G
    assert g.pmemsave(4 * G, HEAD + 4 * M) == want        # the memmap is elsewhere
    g.run("rmmod resmem")
    modprobe(g, "regions=meta:1G@4G:pages=region")
    text = sysfs(g, "meta", "pages")
    if text == PAGED_1G[:-1] + "; not in the region: the boot made them already)":
        assert g.pmemsave(4 * G, HEAD + 4 * M) == want and sysfs(g, "meta", "size") == str(G)
        pytest.skip("this kernel made the struct pages at boot: nothing to put in the region")
    assert text == IN_REGION
    now = g.pmemsave(4 * G, HEAD + 4 * M)
    for i in range(0, HEAD, 2 * M):
        assert now[i:i + 2 * M] != want[i:i + 2 * M], hex(i)      # struct pages there
    assert now[HEAD:] == want[HEAD:]                                 # and not past the head
    assert sysfs(g, "meta", "size") == str(G - HEAD)
    assert sysfs(g, "meta", "phys_addr") == hex(4 * G + HEAD)
    info = g.run("mapper info /dev/resmem/meta").out
    assert f"phys_addr={4 * G + HEAD:#x}\nlength={G - HEAD}\n" in info, info
    assert "100000000-13fffffff : resmem: meta" in g.run("cat /proc/iomem").out
    (entry,) = [e for e in json.loads(g.run("resmem list --json").out) if e["name"] == "meta"]
    assert (entry["phys_addr"], entry["size"], entry["pages"], entry["pages_ram"],
            entry["pages_head"]) == (4 * G + HEAD, G - HEAD, True, 0, HEAD), entry

    g.run("mapper write /dev/resmem/meta 0 2M 0x2a")
    assert g.pmemsave(4 * G + HEAD, 2 * M) == seq(0x2a, 0, 2 * M)
    # (the head's struct pages change as pages get mapped: not compared whole)
    assert g.pmemsave(4 * G, 2 * M) != seq(0x2a, 0, 2 * M)
    g.run(f"mapper write /dev/resmem/meta {G - HEAD - 4 * K:#x} 4K 0x2b --via write")
    assert g.pmemsave(5 * G - 4 * K, 4 * K) == seq(0x2b, G - HEAD - 4 * K, 4 * K)
    assert g.run(f"mapper pread /dev/resmem/meta {G - HEAD:#x} 4K").out.strip() == "0"
    assert g.run(f"mapper map /dev/resmem/meta {G - HEAD - 4 * K:#x} 8K",
                 check=False).out.strip().startswith("errno=")
    r = dio_write(g, "meta", 0, 64 * K, 8 * M, 0x1531)
    assert r == "ok", r
    assert DISK.read(8 * M, 64 * K) == seq(0x1531, 0, 64 * K) == g.pmemsave(4 * G + HEAD, 64 * K)

    load_pgwalk(g)
    m = mapcost(g, "0 64M", dev="/dev/resmem/meta")
    k = matrix.by_name(target)
    assert leaves(m["walk"]) == ((0, 32, 0) if huge_pfnmap(g) and not k.rt else (0, 0, 16384)), m
    assert int(m["walk"]["phys"], 16) == 4 * G + HEAD, m
    g.run("rmmod resmem")
    assert "resmem" not in g.run("cat /proc/iomem").out
    modprobe(g, "pages_in=region")
    assert sysfs(g, "region1", "pages") == IN_REGION.replace("0x100", "0x180")
    assert sysfs(g, "region1", "phys_addr") == hex(6 * G + HEAD)


@pytest.mark.archs("x86_64")
@X86
def test_struct_pages_in_region_fall_back_and_refusals(fresh_load, target):
    """Struct pages asked to be in a region that cannot hold them (not
    128 MiB aligned: the kernel fills partial memory sections from RAM)
    go to RAM and say why; the region stays whole.  pages_in= other than
    ram or region fails the load with one line saying what to use."""
    g = fresh_load
    modprobe(g, "regions=odd:960M@0x104000000:pages=region")
    assert sysfs(g, "odd", "pages") == ("yes: 245760 pages, up to 15360 KiB of RAM (64 B per 4 KiB "
                                        "page; not in the region: address or size not 128 MiB aligned)")
    assert sysfs(g, "odd", "size") == str(960 * M)
    assert sysfs(g, "odd", "phys_addr") == hex(0x104000000)
    g.run("rmmod resmem")
    mark = len(g.console())
    for bad in ["off", "yes", ""]:
        assert g.run(f"modprobe resmem pages_in={bad}", check=False).status != 0
    g.console_sync()
    log = g.console()[mark:]
    assert ("resmem: pages_in=off: not a place for struct pages; use ram or region "
            "(pages=0 turns them off)") in log, log
    assert "resmem: pages_in=yes: not a place for struct pages" in log, log
    assert g.run("test -e /sys/module/resmem", check=False).status != 0


# ============================================================ arm64, device tree
# -m 4G on virt: RAM 0x40000000-0x13fffffff.  Three write-back nodes
# without no-map (the kind that has the boot's struct pages): one turned
# off, one asking for them, one with a value resmem does not know.
def node(name, addr, size, pages):
    return dict(name=name, addr=addr, size=size, raw=True, compatible="resmem,region",
                label=name, extra=f'resmem,pages = "{pages}";')


DT_PFN, DT_RAM, DT_BAD = 0xC0000000, 0x100000000, 0x110000000
ARM64 = pytest.mark.guest(mem="4G", extra_qemu=DISK.qemu_args(), extra_files_from="disk_modules",
                          reservations=[node("pfn", DT_PFN, 256 * M, "off"),
                                        node("ram", DT_RAM, 256 * M, "ram"),
                                        node("bogus", DT_BAD, 64 * M, "yes")])


@pytest.mark.archs("aarch64")
@ARM64
def test_dt_pages_off_keeps_pfn_mapping(fresh_load, target):
    """resmem,pages = "off" on a node that could have the boot's struct
    pages: no pages, the property named as the reason (sysfs, load line),
    O_DIRECT from the mapping gets EFAULT; resmem,pages = "ram" beside it
    has the boot's own and O_DIRECT from it lands on the disk.  On kernels
    with huge PFN maps the off region's 64 MiB get 32 2 MiB entries where
    the boot's pages give 16384 4 KiB ones.  Catches the property ignored
    or applied to the wrong node."""
    g = fresh_load
    log = modprobe(g, "")
    why = 'no: off (device tree resmem,pages = "off")'
    assert sysfs(g, "pfn", "pages") == why
    assert sysfs(g, "ram", "pages") == "yes: 65536 pages, the boot's own (no extra RAM; 4 KiB entries)"
    assert re.search(r"pfn \[mem 0x00000000c0000000-0x00000000cfffffff\]: /dev/resmem/pfn, 256 MiB, "
                     r"write-back, from the device tree; struct pages: " + re.escape(why), log), log
    check_pfn_and_paged(g, DT_PFN, DT_RAM, "pfn", "ram", 0x1521)

    load_pgwalk(g)
    mark = len(g.console())
    pfn = mapcost(g, "0 64M --stamp 0x1f", dev="/dev/resmem/pfn")
    paged = mapcost(g, "0 64M --stamp 0x1e", dev="/dev/resmem/ram")
    assert leaves(paged["walk"]) == (0, 0, 16384), paged
    assert leaves(pfn["walk"]) == ((0, 32, 0) if huge_pfnmap(g) else (0, 0, 16384)), pfn
    assert int(pfn["walk"]["phys"], 16) == DT_PFN and int(paged["walk"]["phys"], 16) == DT_RAM
    for off in [0, 2 * M, 64 * M - 4 * K]:     # where --stamp writes: page starts
        assert g.pmemsave(DT_PFN + off, 8) == seq(0x1f, off, 8), hex(off)
    g.console_sync()
    assert not BAD_TABLE.search(g.console()[mark:]), g.console()[mark:][-3000:]


@pytest.mark.archs("aarch64")
@ARM64
def test_dt_pages_unknown_value_refused(fresh_load, target):
    """resmem,pages = "yes" refuses the region with one line that names
    the node, the value and the values it takes; no device appears and
    the other regions are unaffected.  Catches an unknown value taken as
    a default."""
    g = fresh_load
    log = modprobe(g, "")
    line = ('bogus (/reserved-memory/bogus@110000000): refused: resmem,pages = "yes" is not '
            '"off", "ram" or "region"; ')
    assert log.count(line) == 1, log
    assert sorted(g.run("ls /sys/class/resmem").out.split()) == ["pfn", "ram"]
