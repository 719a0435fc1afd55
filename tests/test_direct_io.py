"""O_DIRECT straight from and into a mapping (issue 15).

A write-back region gets struct pages by default (module/pages.c:
ZONE_DEVICE on x86_64, the boot's own on arm64) and its mapping is no
longer VM_PFNMAP|VM_IO, so
get_user_pages()/pin_user_pages() accept it: `tests/guest/dio.c` pwrite()s
a mapping to a virtio-blk disk opened O_DIRECT, or pread()s the disk into
it (on the local target a loop device over the same image file).  Two witnesses outside the guest's view: the host reads the disk's
image file after the guest's fdatasync(), and reads guest physical memory
at the region's address (QMP pmemsave).  With `pages=0` (the user's
way to turn them off) the mapping stays a PFN map: EFAULT both ways and nothing moves, which
proves the fallback.

Windows: across a 2 MiB entry's edge, two whole 2 MiB entries, and past
4 GiB into the region; each plain, from a forked child, mlock()ed, both,
and through io_uring with the window as a registered (fixed) buffer.
Boot "dio" (tests/harness/boots.py): x86_64 the standard memmap=8G$4G;
arm64 a 5 GiB write-back /reserved-memory node at 4 GiB without no-map (a
no-map region has no linear map, so no pages: test_arm64_no_map_has_no_pages
checks that fallback on the standard boot).
"""
import json
import os
import re

import pytest

from tests.harness import boots, disk, matrix
from tests.harness.guestview import sysfs
from tests.harness.loaded import load_resmem
from tests.harness.mapcost import BAD_TABLE, huge_pfnmap, leaves, load_pgwalk, mapcost
from tests.harness.pattern import seq
from tests.harness.units import G, K, M

DEV = "/dev/resmem/region0"
PHYS = 4 * G            # boot "dio": memmap=8G$4G on x86_64, 5 GiB at 4 GiB on arm64
assert all(r[0][0] == PHYS for r in boots.REGIONS["dio"].values())
DISK = disk.Disk("dio", 256 * M)
SLOT = 8 * M            # disk bytes per test case

pytestmark = [pytest.mark.core,
              pytest.mark.guest(boot="dio", extra_qemu=DISK.qemu_args(),
                                extra_files_from="disk_modules")]

WINDOWS = {
    "2M-edge": (2 * M - 8 * K, 16 * K),         # 8 KiB each side of a 2 MiB boundary
    "whole-2M": (4 * M, 4 * M),                 # two whole 2 MiB entries
    "past-4G": (4 * G + 2 * M - 4 * K, 2 * M + 8 * K),   # offsets past 32 bits, ragged both ends
}
# Core-tier kernels run the window that asks the most (past 4 GiB, ragged
# ends), the full-tier ones all three.
CASE_WINDOWS = [pytest.param(w, marks=[] if w == "past-4G" else [pytest.mark.full]) for w in WINDOWS]
# "uring": io_uring with the window registered as a fixed buffer (a
# long-term pin), then one READ_FIXED / WRITE_FIXED (userspace/cli/uring.h)
MODES = {"plain": "", "fork": "--fork", "mlock": "--mlock", "fork+mlock": "--fork --mlock",
         "uring": "--uring"}


@pytest.fixture
def disk_modules(target):
    return disk.module_files(matrix.by_name(target))


def load(g, pages):
    """resmem loaded with pages=N (reloaded if it has the other setting), the
    disk up; returns the disk's device (a loop device on the local target)."""
    load_resmem(g, pages)
    return DISK.setup(g)


def slot(window, mode, direction):
    """A disk area of its own for each case, so no case sees another's bytes."""
    i = (list(WINDOWS).index(window) * len(MODES) + list(MODES).index(mode)) * 2
    return (i + (direction == "read")) * SLOT


def seed_of(window, mode, direction):
    return 0x15D10000 + slot(window, mode, direction) // SLOT


def uring_refuses_file_backed(g):
    """6.1's io_uring refuses a fixed buffer in any file-backed mapping but
    shmem and hugetlbfs (EOPNOTSUPP: io_uring/rsrc.c looks at vm_file);
    later kernels leave the decision to pin_user_pages(FOLL_LONGTERM)."""
    return g.k.series == "6.1"


def dio_case(g, direction, window, mode):
    """Run one dio case with pages=1; returns (window offset, length, disk
    offset, the pattern both witnesses must show), or None where the
    kernel's io_uring refuses any file-backed fixed buffer, after checking
    that it did exactly that and moved nothing."""
    blk = load(g, True)
    off, length = WINDOWS[window]
    doff, seed = slot(window, mode, direction), seed_of(window, mode, direction)
    r = g.run(f"dio {direction} {DEV} {blk} {off:#x} {length:#x} {doff:#x} {seed:#x} "
              f"{MODES[mode]}", check=False)
    if mode == "uring" and uring_refuses_file_backed(g):
        assert (r.status, r.out.strip()) == (0, "errno=EOPNOTSUPP"), r
        assert r.err.startswith("IORING_REGISTER_BUFFERS:"), r
        if direction == "write":
            assert DISK.read(doff, length) == bytes(length)
        else:
            assert g.pmemsave(PHYS + off, length) == seq(seed + 1, off, length)
        return None
    assert (r.status, r.out.strip()) == (0, "ok"), r
    return off, length, doff, seq(seed, off, length)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("window", CASE_WINDOWS)
def test_o_direct_write_from_mapping(guest, target, window, mode):
    """pwrite(O_DIRECT) from a mapping lands on the disk: the bytes the
    host reads in the image are the ones the host reads at the region's
    physical address.  Catches a mapping get_user_pages() still refuses
    (EFAULT: VM_PFNMAP|VM_IO left on, or no struct pages), struct pages that
    point at other physical memory (the image would hold other bytes), an
    offset truncated to 32 bits (past-4G), entries that GUP mis-walks at a
    2 MiB edge or inside a 2 MiB entry, pins lost across fork or mlock, and
    pages io_uring cannot pin long-term as a fixed buffer (FOLL_LONGTERM
    refuses ZONE_DEVICE pages it must not pin, "uring")."""
    g = guest
    case = dio_case(g, "write", window, mode)
    if case is None:
        return
    off, length, doff, want = case
    assert g.pmemsave(PHYS + off, length) == want
    assert DISK.read(doff, length) == want
    # nothing beyond the window went to the disk (dio zeroed the slot first)
    assert DISK.read(doff + length, 4 * K) == bytes(4 * K)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("window", CASE_WINDOWS)
def test_o_direct_read_into_mapping(guest, target, window, mode):
    """pread(O_DIRECT) into a mapping lands at the region's physical
    address: the host finds in guest memory exactly the bytes it finds in
    the disk image, and the guest sees them through the mapping.  Catches
    EFAULT (no pages / PFN map), a DMA into other memory than the region
    (pmemsave would show the old pattern), a read running past the window,
    and the same edge, 32-bit and fork/mlock defects as the write."""
    g = guest
    case = dio_case(g, "read", window, mode)
    if case is None:
        return
    off, length, doff, want = case
    assert DISK.read(doff, length) == want
    assert g.pmemsave(PHYS + off, length) == want
    # dio filled the window with another pattern first; nothing past it changed
    assert g.pmemsave(PHYS + off + length, 64) != seq(seed_of(window, mode, "read"),
                                                       off + length, 64)


# (sysfs `pages`, the load line's source) per architecture, for boot "dio"
PAGES_TEXT = {
    # x86_64: ZONE_DEVICE, 8 GiB is 2097152 pages, at most 128 MiB of RAM
    "x86_64": ("yes: 2097152 pages, up to 131072 KiB of RAM (64 B per 4 KiB page)",
               r"8192 MiB, write-back, from memmap="),
    # arm64: the boot's struct pages of 5 GiB, which cost nothing more
    "aarch64": ("yes: 1310720 pages, the boot's own (no extra RAM; 4 KiB entries)",
                r"5120 MiB, write-back, from the device tree"),
}


def test_pages_stated_in_sysfs_and_log(guest, target):
    """sysfs `pages` and the load line say whether the region has struct
    pages and what they cost (x86_64: ZONE_DEVICE metadata taken from RAM;
    arm64: the boot's own, nothing more); with pages=0, no and why.  Loaded
    without options (what a user who configured nothing gets), the region
    has them.  Catches a region silently left on the PFN map (or given
    pages it does not report)."""
    g = guest
    want, line = PAGES_TEXT[matrix.by_name(target).arch]
    g.run("rmmod resmem 2>/dev/null; true")
    mark = len(g.console())
    g.run("modprobe resmem")
    text = sysfs(g, "region0", "pages")
    assert text == want, text
    g.console_sync()
    assert re.search(rf"region0 .*: /dev/resmem/region0, {line}; struct pages: "
                     + re.escape(want), g.console()[mark:]), g.console()[mark:]
    # resmem list / info: the cost a user reads there (x86_64: 64 B of RAM per 4 KiB page)
    size = int(sysfs(g, "region0", "size"))
    cost = size // 4096 * 64 if g.k.arch == "x86_64" else 0
    (entry,) = json.loads(g.run("resmem list --json").out)
    assert entry["pages"] is True and entry["pages_ram"] == cost, entry
    listed = r"pages 128\.0 MiB$" if cost else r"pages, no extra RAM$"
    assert re.search(r"/dev/resmem/region0\s+" + listed, g.run("resmem list").out, re.M)
    assert f"pages:       {text}\n" in g.run("resmem info region0").out
    load(g, False)
    assert sysfs(g, "region0", "pages") == "no: off (module parameter pages=0)"
    (entry,) = json.loads(g.run("resmem list --json").out)
    assert entry["pages"] is False and entry["pages_ram"] == 0, entry
    assert "pages:       no: off (module parameter pages=0)\n" in g.run("resmem info region0").out


def test_pages_off_refuses_o_direct_and_moves_nothing(guest, target):
    """With pages=0 the mapping is the PFN map of before: O_DIRECT gets
    EFAULT both ways, the disk keeps the zeros dio put there and the region
    keeps the bytes written through the mapping.  Proves the fallback, and
    that the data tests above pass because of the pages (this one fails if
    a PFN mapping somehow let get_user_pages() through)."""
    g = guest
    blk = load(g, False)
    off, length = 4 * M, 4 * M
    doff = len(WINDOWS) * len(MODES) * 2 * SLOT
    r = g.run(f"dio write {DEV} {blk} {off:#x} {length:#x} {doff:#x} 0x51", check=False)
    assert r.out.strip() == "errno=EFAULT", r
    assert DISK.read(doff, length) == bytes(length)
    assert g.pmemsave(PHYS + off, length) == seq(0x51, off, length)
    # io_uring cannot register it as a fixed buffer either (no long-term pin)
    r = g.run(f"dio write {DEV} {blk} {off:#x} {length:#x} {doff:#x} 0x54 --uring",
              check=False)
    assert r.out.strip() == "errno=EFAULT", r
    assert DISK.read(doff, length) == bytes(length)
    r = g.run(f"dio read {DEV} {blk} {off:#x} {length:#x} {doff + SLOT:#x} 0x52",
              check=False)
    assert r.out.strip() == "errno=EFAULT", r
    assert DISK.read(doff + SLOT, length) == seq(0x52, off, length)
    assert g.pmemsave(PHYS + off, length) == seq(0x53, off, length)   # dio's SEED + 1 fill


def test_pages_keep_the_mapping_rules(guest, target):
    """A region with pages keeps resmem's guarantees: MAP_PRIVATE refused,
    the unload refused while a mapping exists, read() and the mapping
    agreeing, and the unload clean once it is gone (no page still
    referenced: no warning, memunmap_pages() on x86_64, the claim
    released)."""
    g = guest
    load(g, True)
    assert g.run(f"mapper map {DEV} 0 4K --private", check=False).out.strip() == "errno=EINVAL"
    g.run(f"mapper write {DEV} 0x12345000 0x3000 0x77")
    g.run(f"mapper check {DEV} 0x12345000 0x3000 0x77 --via read")
    assert g.pmemsave(PHYS + 0x12345000, 0x3000) == seq(0x77, 0x12345000, 0x3000)
    g.run(f"resprobe hold {DEV} 1M 600 > /tmp/hold.out 2>&1 < /dev/null & echo $! > /tmp/hold.pid")
    wait = ("for i in $(seq 300); do [ $(cat /sys/class/resmem/region0/mappings) = {} ] "
            "&& exit 0; sleep 0.1; done; exit 1")
    assert g.run(wait.format(1), check=False).status == 0, g.run("cat /tmp/hold.out").out
    assert g.run("rmmod resmem", check=False).status != 0
    g.run("kill $(cat /tmp/hold.pid)")
    assert g.run(wait.format(0), check=False).status == 0
    mark = len(g.console())
    g.run("rmmod resmem", timeout=300)
    assert g.run("grep -c 'resmem' /proc/iomem", check=False).out.strip() == "0"
    g.console_sync()
    assert "still in use" not in g.console()[mark:]


def test_pages_mapping_cost(guest, target):
    """What a mapping with pages costs, from the page tables themselves
    (tests/kmod/resmem_test_pgwalk): on x86_64 where ->huge_fault is
    reached (6.12 and later, not PREEMPT_RT) the whole 8 GiB takes 4096
    faults and 4096 2 MiB entries, 32 KiB of page tables (no 1 GiB entries:
    they would need 1 GiB folios); on 6.1 and PREEMPT_RT 4 KiB entries, one
    fault each (1 GiB measured there: 262144 entries, 2 MiB of page
    tables).  arm64 maps the boot's order-0 pages: 4 KiB entries on every
    kernel (the PFN map of a no-map region has 2 MiB ones from 6.12,
    tests/test_mapping_cost_arm64.py); touched by stores, one fault per
    page where a write fault installs the entry dirty
    (vmf_insert_page_mkwrite(), 6.15 and later), two before
    (vm_insert_page() installs it clean, and the harness's Cortex-A57 has
    no hardware dirty bit: the first store faults again).  Catches huge
    faults lost (4 KiB everywhere), 1 GiB PFN entries left in a page
    mapping, and entries pointing elsewhere than the region."""
    g = guest
    load(g, True)
    load_pgwalk(g)
    mark = len(g.console())
    k = matrix.by_name(target)
    if k.arch == "aarch64":
        m = mapcost(g, "0 1G --stamp 0x15c")
        assert leaves(m["walk"]) == (0, 0, 262144), m
        assert int(m["faults"]) == (262144 if k.version >= (6, 15) else 2 * 262144), m
        assert 2 * M <= int(m["pt_bytes"]) <= 2 * M + 64 * K, m
        for off in [0, 2 * M - 4 * K, G - 4 * K]:
            assert g.pmemsave(PHYS + off, 8) == seq(0x15c, off, 8), hex(off)
    elif huge_pfnmap(g) and not k.rt:
        m = mapcost(g, "0 8G")
        assert leaves(m["walk"]) == (0, 4096, 0), m
        assert int(m["faults"]) == 4096, m
        assert 32 * K <= int(m["pt_bytes"]) <= 40 * K, m
    else:
        m = mapcost(g, "0 1G")
        assert leaves(m["walk"]) == (0, 0, 262144), m
        assert int(m["faults"]) == 262144, m
        assert 2 * M <= int(m["pt_bytes"]) <= 2 * M + 64 * K, m
    assert int(m["walk"]["phys"], 16) == PHYS and m["walk"]["contiguous"] == "1", m
    g.console_sync()
    assert not BAD_TABLE.search(g.console()[mark:]), g.console()[mark:][-3000:]


@pytest.mark.archs("aarch64")
def test_fuzz_with_pages(guest, target, capsys):
    """The syscall fuzzer (tests/guest/fuzz.c: mmap, munmap, mremap,
    mprotect, madvise incl. MADV_COLD/PAGEOUT, fork, touch, read/write)
    against a region with pages, 20 s, 3 processes: its oracle holds and
    the kernel says nothing (a devmap PMD that 6.1's madvise walks as a bad
    pmd, a "Bad page map", a refcount warning at unload all fail it).
    arm64 only: x86's run is test_bad_input.py::test_fuzz, whose mid region
    has pages by default."""
    g = guest
    load(g, True)
    seed = int.from_bytes(os.urandom(4), "little")
    r = g.run(f"fuzz -s {seed:#x} -t 20 -j 3 {DEV}", timeout=200, check=False)
    with capsys.disabled():
        print(f"\n[{target}] " + "\n".join(l for l in r.out.splitlines() if l.startswith("fuzz: ")))
    assert r.status == 0, r.out[-6000:] + r.err[-2000:]
    assert re.search(r"iterations=(\d+) failures=0", r.out), r.out[-2000:]
    assert sysfs(g, "region0", "mappings") == "0"
    mark = len(g.console())
    g.run("rmmod resmem", timeout=300)
    g.console_sync()
    assert "still in use" not in g.console()[mark:]


@pytest.mark.guest(boot="dio", extra_qemu=DISK.qemu_args(), extra_files_from="disk_modules",
                   fresh=True, qemu_only="leaves region0 claimed until the machine reboots "
                   "(the kept claim it checks)")
def test_unload_keeps_pages_a_pipe_still_holds(guest, target):
    """Pages referenced after their mapping is gone are not freed under
    their user: a pipe holds 64 KiB of the region through vmsplice() (which
    also proves splice works on the mapping), the mapping and the device
    are closed, and rmmod succeeds but keeps the claim on the range (and
    on x86_64 the ZONE_DEVICE struct pages), saying so (the resource stays
    in /proc/iomem, so a reload can neither memremap_pages() the range a
    second time, which would WARN, nor hand the memory out again under the
    pipe).  The pipe's bytes read back intact afterwards, through the
    kernel's mapping of the pages (arm64: the linear map).  Catches
    memunmap_pages() run while pages are referenced (a use after free of
    the memmap the harness would see as a BUG or a bad page state) and a
    claim dropped under a user."""
    g = guest
    load(g, True)
    g.run("rm -f /tmp/release; "
          f"dio hold {DEV} 0x200000 0x10000 0x5EED /tmp/release > /tmp/hold.out 2>&1 < /dev/null &")
    g.run("for i in $(seq 300); do grep -q held /tmp/hold.out && exit 0; sleep 0.1; done; "
          "cat /tmp/hold.out; exit 1")
    assert sysfs(g, "region0", "mappings") == "0"
    mark = len(g.console())
    g.run("rmmod resmem", timeout=300)
    g.console_sync()
    log = g.console()[mark:]
    kept = "its struct pages and its claim" if g.k.arch == "x86_64" else "its claim"
    assert re.search(rf"region0 .*: \d+ of its pages are still in use .*keeping {kept} on the range",
                     log), log
    assert "resmem: region0 (struct pages still in use)" in g.run("cat /proc/iomem").out
    g.run("touch /tmp/release; for i in $(seq 300); do grep -q '^ok' /tmp/hold.out && exit 0; "
          "sleep 0.1; done; cat /tmp/hold.out; exit 1")
    # The kept claim: region0 is refused on reload, nothing warns.
    g.run("modprobe resmem pages=1")
    assert g.run(f"test -e {DEV}", check=False).status != 0
    g.run("rmmod resmem")


@pytest.mark.archs("aarch64")
@pytest.mark.guest(boot="standard", extra_qemu=DISK.qemu_args(), extra_files_from="disk_modules")
def test_arm64_no_map_has_no_pages(guest, target):
    """A no-map region (the standard arm64 boot's) keeps the PFN mapping
    even with pages=1, and says so: its struct pages exist but the linear
    map does not cover them, and kernel users of pinned pages reach the
    bytes through it (module/resmem-arch.h).  O_DIRECT from the mapping
    gets EFAULT (the fallback, not a half-made page mapping) and nothing
    reaches the disk."""
    g = guest
    blk = load(g, True)
    name = boots.STANDARD_REGION["aarch64"]
    assert sysfs(g, name, "pages") == ("no: no-map range: not in the kernel's linear map, which "
                                       "kernel users of pinned pages need (drop no-map for pages)")
    doff = len(WINDOWS) * len(MODES) * 2 * SLOT     # as the pages=0 case: dio zeroes it first
    r = g.run(f"dio write /dev/resmem/{name} {blk} 0 0x10000 {doff:#x} 0x61",
              check=False)
    assert r.out.strip() == "errno=EFAULT", r
    assert DISK.read(doff, 0x10000) == bytes(0x10000)
