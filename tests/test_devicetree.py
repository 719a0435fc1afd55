"""resmem on arm64 device trees: /reserved-memory regions bound by the module.

Every boot patches QEMU's own tree (tests/harness/dt.py): good nodes with
`resmem dt add`, deliberately bad ones as raw dts, the device node with
memory-region through an overlay (tests/dt/device-two-regions.dtso).
Data claims are witnessed by the host (QMP pmemsave at the exact physical
address) and by a second path in the guest (read() after an mmap write, or
the reverse).  The plugin fails any test whose console shows an oops, WARN
or "Bad page map".
"""
import json
import os
import re

import pytest

from tests.harness import boots, qemu
from tests.harness.guestview import iomem, sysfs
from tests.harness.pattern import seq
from tests.harness.units import G, K, M

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_OVERLAY = os.path.join(HERE, "dt", "shared-region.dtso")

# arm64's core tier: regions bound, mapped and witnessed on every kernel
pytestmark = pytest.mark.core


def parent_of(res, name):
    """The /proc/iomem entry directly containing the one called `name`."""
    i = next(i for i, r in enumerate(res) if r[2] == name)
    depth = res[i][3]
    if depth == 0:
        return None
    return next(r for r in reversed(res[:i]) if r[3] == depth - 1)


def resprobe_info(g, dev):
    out = g.run(f"resprobe info {dev}").out
    return dict(l.split("=", 1) for l in out.split())


def window_lands(g, name, phys, offset, length, seed, via="mmap"):
    """Write through the device, witness on the host, read back another way."""
    dev = f"/dev/resmem/{name}"
    g.run(f"mapper write {dev} {offset:#x} {length:#x} {seed:#x} --via {via}")
    assert g.pmemsave(phys + offset, length) == seq(seed, offset, length)
    g.run(f"mapper check {dev} {offset:#x} {length:#x} {seed:#x} "
          f"--via {'read' if via == 'mmap' else 'mmap'}")


# ============================================================ one 1 GiB region
ONE = dict(mem="6G", reservations=[
    dict(name="capture", addr=0x140000000, size=G, no_map=True, compatible="resmem,region",
         label="capture", cache="write-combine")])
CAPTURE = 0x140000000


@pytest.mark.archs("aarch64")
@pytest.mark.guest(**ONE)
class TestOneRegion:
    def test_region_from_devicetree(self, loaded, target):
        g = loaded
        assert sysfs(g, "capture", "phys_addr") == "0x140000000"
        assert int(sysfs(g, "capture", "size")) == G
        assert sysfs(g, "capture", "source") == "devicetree"
        assert sysfs(g, "capture", "cache_mode") == "write-combine"
        assert g.run("ls -l /dev/resmem/capture").out.startswith("crw-------")
        info = resprobe_info(g, "/dev/resmem/capture")
        assert info["source"] == "2" and info["name"] == "capture"
        assert info["phys_addr"] == "0x140000000" and int(info["length"]) == G
        assert info["flags"] == "0"      # neither read-only nor coherent
        # Claimed directly inside the top-level "reserved" entry of the no-map range.
        res = iomem(g)
        mine = [r for r in res if r[2] == "resmem: capture"]
        assert mine and mine[0][:2] == (CAPTURE, CAPTURE + G - 1), mine
        assert parent_of(res, "resmem: capture")[2] == "reserved"
        assert parent_of(res, "resmem: capture")[3] == 0
        lst = json.loads(g.run("resmem list --json").out)
        assert [(r["name"], r["source"]) for r in lst] == [("capture", "devicetree")]

    @pytest.mark.parametrize("offset,length", [(0, 2 * M), (G // 2 + 12 * K, 64 * K),
                                               (G - 4 * K, 4 * K)])
    def test_window_lands_at_its_physical_address(self, loaded, target, offset, length):
        window_lands(loaded, "capture", CAPTURE, offset, length, 0xD7 ^ offset)

    def test_write_then_mmap(self, loaded, target):
        window_lands(loaded, "capture", CAPTURE, 0x3000000, 0x5000, 0x5151, via="write")

    def test_whole_region_maps(self, loaded, target):
        assert loaded.run("mapper map /dev/resmem/capture 0 1G", timeout=300).out.strip() == "ok"
        assert sysfs(loaded, "capture", "mappings") == "0"

    def test_memset_on_write_combining_mapping(self, loaded, target):
        """The C library's memset (DC ZVA, unaligned stores) works on the mapping."""
        g = loaded
        assert g.run("resprobe memset /dev/resmem/capture 0x100003 0x20001 0xa5").out.strip() == "ok"
        assert g.pmemsave(CAPTURE + 0x100003, 0x20001) == b"\xa5" * 0x20001

    def test_sync_on_no_map_write_combining(self, loaded, target):
        """WC has no cached lines: sync is a barrier, and it never touches the linear map."""
        g = loaded
        g.run("mapper write /dev/resmem/capture 0x200000 0x10000 0x99")
        g.run("resmem sync capture --offset 0x200000 --length 0x10000 --for-device")
        assert g.pmemsave(CAPTURE + 0x200000, 0x10000) == seq(0x99, 0x200000, 0x10000)
        g.run("resmem sync capture --for-cpu")        # the whole region
        g.run("mapper check /dev/resmem/capture 0x200000 0x10000 0x99 --via mmap")


# ======================================== two regions + a device node with two more
# The "dt-devices" boot (tests/harness/boots.py), -m 8G: RAM 0x40000000-0x23fffffff.
LOWMAP = (0xC0000000, 256 * M)      # not no-map, below 4 GiB
HI = (0x180000000, 512 * M)         # no-map, above 4 GiB (2-cell reg)
DMA_A = (0x1C0000000, 64 * M)       # from the overlay: no-map, uncached
DMA_B = (0xA0000000, 32 * M)        # from the overlay: mapped, read-only
REGIONS = {"lowmap": LOWMAP, "hi": HI, "dma-a": DMA_A, "dma-b": DMA_B}


@pytest.mark.archs("aarch64")
@pytest.mark.guest(boot="dt-devices")
class TestRegions:
    def test_all_four_regions(self, loaded, target):
        g = loaded
        got = {}
        for name in g.run("ls /sys/class/resmem").out.split():
            got[name] = (int(sysfs(g, name, "phys_addr"), 16), int(sysfs(g, name, "size")),
                         sysfs(g, name, "source"), sysfs(g, name, "cache_mode"))
        assert got == {
            "lowmap": (*LOWMAP, "devicetree", "write-back"),
            "hi": (*HI, "devicetree", "write-back"),
            "dma-a": (*DMA_A, "devicetree", "uncached"),
            "dma-b": (*DMA_B, "devicetree", "write-back"),
        }

    def test_claims_in_proc_iomem(self, loaded, target):
        res = iomem(loaded)
        for name, (addr, size) in REGIONS.items():
            mine = [r for r in res if r[2] == f"resmem: {name}"]
            assert mine and mine[0][:2] == (addr, addr + size - 1), (name, mine)
        # no-map: directly in the top-level "reserved" entry; mapped: inside System RAM.
        for name in ("hi", "dma-a"):
            p = parent_of(res, f"resmem: {name}")
            assert p[2] == "reserved" and p[3] == 0, (name, p)
        for name in ("lowmap", "dma-b"):
            p = parent_of(res, f"resmem: {name}")
            top = p if p[3] == 0 else next(r for r in res if r[3] == 0 and r[0] <= p[0] <= r[1])
            assert top[2] == "System RAM", (name, p, top)

    @pytest.mark.parametrize("name", ["lowmap", "hi", "dma-a"])
    def test_windows_land(self, loaded, target, name):
        addr, size = REGIONS[name]
        for i, (off, ln) in enumerate([(0, 64 * K), (size // 2 + 8 * K, 128 * K),
                                       (size - 8 * K, 8 * K)]):
            window_lands(loaded, name, addr, off, ln, 0x1000 + i * 7 + len(name))
        window_lands(loaded, name, addr, 0x40000, 0x3000, 0xBEEF, via="write")

    def test_whole_regions_map(self, loaded, target):
        for name, (addr, size) in REGIONS.items():
            if name == "dma-b":
                continue        # read-only: see test_read_only_region
            assert loaded.run(f"mapper map /dev/resmem/{name} 0 {size:#x}",
                              timeout=300).out.strip() == "ok"

    def test_read_only_region(self, loaded, target):
        g = loaded
        assert g.run("ls -l /dev/resmem/dma-b").out.startswith("cr--------")
        # Even root (who ignores the mode) cannot open it for writing.
        assert g.run("resprobe info /dev/resmem/dma-b").out.strip() == "errno=EROFS"
        info = json.loads(g.run("resmem info dma-b --json").out)
        assert info["readonly"] is True
        # The bytes are there to read: the host writes nothing, so compare with pmemsave.
        host = loaded.pmemsave(DMA_B[0] + 0x1000, 4096)
        got = g.run("dd if=/dev/resmem/dma-b bs=4096 skip=1 count=1 2>/dev/null"
                    " | od -An -tx1 -v").out
        assert bytes.fromhex("".join(got.split())) == host
        assert g.run("mapper write /dev/resmem/dma-b 0 4096 1", check=False).status != 0

    def test_coherence_flag(self, loaded, target):
        # dma-coherent on the device node: both its regions; not the others.
        g = loaded
        assert int(resprobe_info(g, "/dev/resmem/dma-a")["flags"]) == 2
        assert int(resprobe_info(g, "/dev/resmem/lowmap")["flags"]) == 0
        assert int(resprobe_info(g, "/dev/resmem/hi")["flags"]) == 0
        # sysfs says the same (for users without access to the device)
        assert [sysfs(g, n, "coherent") for n in ("dma-a", "lowmap", "hi")] == ["1", "0", "0"]

    def test_uncached_memset(self, loaded, target):
        """uncached is Normal-NC on arm64: the C library's memset does not fault."""
        g = loaded
        assert g.run("resprobe memset /dev/resmem/dma-a 0x7 0x10003 0x3c").out.strip() == "ok"
        assert g.pmemsave(DMA_A[0] + 7, 0x10003) == b"\x3c" * 0x10003

    @pytest.mark.parametrize("name", ["lowmap", "hi", "dma-a"])
    def test_sync_both_directions(self, loaded, target, name):
        """CPU writes through mmap, sync for device, the host sees them; sync for cpu keeps them."""
        g = loaded
        addr, size = REGIONS[name]
        off, ln = size // 4 + 0x1000, 0x21000
        seed = 0x5EED ^ off
        g.run(f"mapper write /dev/resmem/{name} {off:#x} {ln:#x} {seed:#x}")
        g.run(f"resmem sync {name} --offset {off:#x} --length {ln:#x} --for-device")
        assert g.pmemsave(addr + off, ln) == seq(seed, off, ln)
        g.run(f"resmem sync {name} --offset {off:#x} --length {ln:#x} --for-cpu")
        g.run(f"mapper check /dev/resmem/{name} {off:#x} {ln:#x} {seed:#x} --via mmap")
        g.run(f"mapper check /dev/resmem/{name} {off:#x} {ln:#x} {seed:#x} --via read")
        # Whole region, both ways, unaligned edges: no oops (the plugin checks), data intact.
        g.run(f"resmem sync {name} --for-device", timeout=300)
        g.run(f"resmem sync {name} --offset 0x3 --length {size - 0x10:#x} --for-cpu", timeout=300)
        assert g.pmemsave(addr + off, ln) == seq(seed, off, ln)

    @pytest.mark.parametrize("name,maintained", [("lowmap", True), ("hi", True), ("dma-a", False)])
    def test_sync_maintains_exactly_the_range(self, loaded, target, name, maintained):
        """QEMU models no caches, so data alone cannot tell a sync that does
        nothing: kprobes on the kernel's arm64 cache maintenance
        (arch_wb_cache_pmem cleans, arch_invalidate_pmem invalidates) count
        what sync really does.  Write-back regions: for-device cleans and
        for-cpu invalidates exactly the bytes asked for, in one contiguous
        run of calls; an uncached region needs none.  Catches a no-op sync,
        the wrong direction, a wrong or partial length."""
        g = loaded
        off, ln = 0x3000, 0x25000
        g.run("[ -e /sys/kernel/tracing/trace ] || mount -t tracefs nodev /sys/kernel/tracing")
        t = "/sys/kernel/tracing"
        g.run(f"echo 0 > {t}/tracing_on; echo > {t}/kprobe_events; "
              f"echo 'p:rm_clean arch_wb_cache_pmem addr=%x0 size=%x1' >> {t}/kprobe_events; "
              f"echo 'p:rm_inval arch_invalidate_pmem addr=%x0 size=%x1' >> {t}/kprobe_events; "
              f"echo 1 > {t}/events/kprobes/enable")

        def calls(cmd):
            g.run(f"echo > {t}/trace; echo 1 > {t}/tracing_on; {cmd}; echo 0 > {t}/tracing_on")
            out = g.run(f"cat {t}/trace").out
            got = {"rm_clean": [], "rm_inval": []}
            for kind, addr, size in re.findall(r"(rm_clean|rm_inval): \([^)]*\) addr=(0x[0-9a-f]+) "
                                               r"size=(0x[0-9a-f]+)", out):
                got[kind].append((int(addr, 16), int(size, 16)))
            return got

        def contiguous_total(runs):
            for (a, n), (b, _) in zip(runs, runs[1:]):
                assert b == a + n, runs
            return sum(n for _, n in runs)

        try:
            dev = calls(f"resmem sync {name} --offset {off:#x} --length {ln:#x} --for-device")
            cpu = calls(f"resmem sync {name} --offset {off:#x} --length {ln:#x} --for-cpu")
        finally:
            g.run(f"echo 0 > {t}/events/kprobes/enable; echo > {t}/kprobe_events")
        if maintained:
            assert contiguous_total(dev["rm_clean"]) == ln and not dev["rm_inval"], dev
            assert contiguous_total(cpu["rm_inval"]) == ln and not cpu["rm_clean"], cpu
            assert dev["rm_clean"][0][0] == cpu["rm_inval"][0][0], (dev, cpu)
        else:
            assert dev == cpu == {"rm_clean": [], "rm_inval": []}, (dev, cpu)

    def test_sync_on_read_only_region(self, loaded, target):
        loaded.run("resmem sync dma-b --for-cpu")

    def test_sync_ioctl_abi(self, loaded, target):
        g = loaded
        dev = "/dev/resmem/hi"

        def probe(args):
            return g.run(f"resprobe sync {dev} {args}").out.strip()
        assert probe("1 0 4096") == "ok"                    # FOR_CPU
        assert probe("2 0 4096") == "ok"                    # FOR_DEVICE
        assert probe(f"2 {HI[1] - 1:#x} 1") == "ok"         # last byte
        assert probe("2 0 0") == "ok"                       # nothing to do
        assert probe("0 0 4096") == "errno=EINVAL"          # no direction
        assert probe("3 0 4096") == "errno=EINVAL"
        assert probe(f"1 {HI[1]:#x} 1") == "errno=EINVAL"   # past the end
        assert probe(f"1 {HI[1] - 4096:#x} 8192") == "errno=EINVAL"
        assert probe("1 0xfffffffffffff000 0x2000") == "errno=EINVAL"   # wraps
        assert probe("1 0 4096 8") == "errno=EINVAL"        # struct too short
        assert probe("1 0 4096 64") == "ok"                 # newer caller, zero tail
        assert probe("1 0 4096 64 0xff") == "errno=E2BIG"   # unknown non-zero fields
        r = g.run("resmem sync hi --for-cpu --offset 1G", check=False)
        assert r.status == 2 and "beyond the end" in r.err
        assert g.run("resmem sync hi", check=False).status == 2

    def test_unload_and_reload(self, loaded, target):
        g = loaded
        g.run("rmmod resmem")
        assert g.run("ls /dev/resmem 2>/dev/null | wc -l").out.strip() == "0"
        assert "resmem" not in g.run("cat /proc/iomem").out
        # The platform devices resmem made for /reserved-memory children are gone too.
        assert g.run("ls /sys/bus/platform/devices | grep -c 'lowmap\\|\\.hi$'",
                     check=False).out.strip() == "0"
        g.run("modprobe resmem")
        assert sorted(g.run("ls /sys/class/resmem").out.split()) == sorted(REGIONS)
        g.run("mapper check /dev/resmem/hi 0x40000 0x3000 0xbeef --via read")


# ================================================================= bad trees
# -m 6G: RAM 0x40000000-0x1bfffffff; the kernel image is loaded at 0x40200000.
def raw(name, addr, size, **kw):
    return dict(name=name, addr=addr, size=size, raw=True, compatible="resmem,region", **kw)


BAD = dict(mem="6G", reservations=[
    dict(name="good", addr=0x130000000, size=64 * M, no_map=True, compatible="resmem,region"),
    raw("kimg", 0x40000000, 8 * M),                         # map, over the kernel image
    raw("kimgnomap", 0x40800000, 8 * M, no_map=True),       # no-map, over the kernel image
    raw("ovla", 0x100000000, 64 * M, no_map=True),           # these two overlap
    raw("ovlb", 0x102000000, 64 * M, no_map=True),
    raw("outside", 0x200000000, 64 * M, no_map=True),       # beyond RAM
    raw("outsidemap", 0x210000000, 64 * M),
    raw("zero", 0x110000000, 0, no_map=True),               # size 0
    raw("noreg", 0x118000000, 64 * M, no_reg=True),         # no reg at all
    raw("onecell", 0x60000000, 16 * M, cells=(1, 1)),       # 1-cell reg, 2-cell parent
    raw("reuse", 0x120000000, 64 * M, no_map=True, reusable=True),
    raw("badcache", 0x128000000, 16 * M, no_map=True, extra='resmem,cache = "fast";'),
    raw("wcmap", 0x12c000000, 16 * M, extra='resmem,cache = "write-combine";'),
    dict(overlay=SHARED_OVERLAY),                           # another driver's memory-region
    # a firmware carve-out (TF-A's secure monitor, OP-TEE's core) as boards
    # describe it: a no-map node of its own, no compatible; a region over it
    dict(name="secmon", addr=0x150000000, size=32 * M, no_map=True, raw=True),
    raw("onfw", 0x151000000, 32 * M, no_map=True),
])

REFUSALS = {
    "kimg": r"kimg \[mem 0x0000000040000000-0x00000000407fffff\]: refused: cannot claim it, "
            r"a resource in /proc/iomem overlaps it partly \(the kernel image",
    "kimgnomap": r"kimgnomap \[mem 0x0000000040800000-0x0000000040ffffff\]: refused: node "
                 r"\S+ says no-map but the range is System RAM",
    "ovla": r"ovla \[mem 0x0000000100000000-0x0000000103ffffff\]: refused: node \S+ overlaps "
            r"/reserved-memory node /reserved-memory/ovlb@102000000",
    "ovlb": r"ovlb \[mem 0x0000000102000000-0x0000000105ffffff\]: refused: node \S+ overlaps "
            r"/reserved-memory node /reserved-memory/ovla@100000000",
    "outside": r"outside \[mem 0x0000000200000000-0x0000000203ffffff\]: refused: node \S+: "
               r"not inside the memory the /memory nodes describe",
    "outsidemap": r"outsidemap \[mem 0x0000000210000000-0x0000000213ffffff\]: refused: node \S+: "
                  r"not inside System RAM",
    "zero": r"zero .*refused: .*(zero size|size 0)",
    "noreg": r"noreg \(/reserved-memory/noreg@118000000\): refused: no reg property",
    "onecell": r"onecell \(/reserved-memory/onecell@60000000\): refused: reg is 8 bytes, not a "
               r"whole number of 16-byte entries",
    "reuse": r"reuse \[mem 0x0000000120000000-0x0000000123ffffff\]: refused: node \S+ is "
             r"'reusable'.*contradict",
    "badcache": r"badcache \(/reserved-memory/badcache@128000000\): refused: "
                r"resmem,cache = \"fast\"",
    "wcmap": r"wcmap \[mem 0x000000012c000000-0x000000012cffffff\]: refused: node \S+: "
             r"write-combine needs no-map",
    "onfw": r"onfw \[mem 0x0000000151000000-0x0000000152ffffff\]: refused: node \S+ overlaps "
            r"/reserved-memory node /reserved-memory/secmon@150000000",
    "shared": r"shared \[mem 0x0000000134000000-0x0000000134ffffff\]: refused: node \S+ is also "
              r"the memory-region of /framebuffer-other",
}


@pytest.mark.archs("aarch64")
@pytest.mark.guest(**BAD)
class TestBadTrees:
    def test_boot_log_of_the_kernel(self, guest, target):
        """What Linux itself says about the bad nodes at boot (our module is not loaded)."""
        con = guest.console()
        assert "OVERLAP DETECTED" in con            # ovla/ovlb, the kernel's own check
        # 6.1 and 6.12 name the one-cell reg; 7.x lists every node it reserved
        # ("OF: reserved mem: <range> ... <node>") and simply leaves it out
        assert re.search(r"invalid reg property in 'onecell@60000000'", con) or \
            ("OF: reserved mem: 0x" in con and "onecell@60000000" not in con), con[-6000:]
        assert re.search(r"failed to reserve memory for node 'kimgnomap@40800000'", con)

    @pytest.mark.parametrize("name", sorted(REFUSALS))
    def test_refused_with_a_clear_message(self, guest, target, name):
        g = guest
        mark = len(g.console())
        g.run("modprobe resmem")
        try:
            g.console_sync()
            log = g.console()[mark:]
            assert re.search(REFUSALS[name], log), log
            assert g.run(f"test -e /dev/resmem/{name}", check=False).status != 0
            # One bad node never stops a good one.
            assert g.run("ls /sys/class/resmem").out.split() == ["good"]
            window_lands(g, "good", 0x130000000, 0x1000, 0x2000, 0x600D)
        finally:
            g.run("rmmod resmem")


# A region (without no-map) that contains the whole kernel image.
KERNEL_INSIDE = dict(mem="6G", reservations=[
    dict(name="good", addr=0x130000000, size=64 * M, no_map=True, compatible="resmem,region"),
    raw("kimgall", 0x40000000, 128 * M),
])


@pytest.mark.archs("aarch64")
@pytest.mark.guest(**KERNEL_INSIDE)
def test_region_containing_the_kernel_is_refused(guest, target):
    g = guest
    mark = len(g.console())
    g.run("modprobe resmem")
    try:
        g.console_sync()
        log = g.console()[mark:]
        # The kernel frees its init sections after boot: the page check sees those
        # first; the claim's check of what the range contains is the backstop.
        assert re.search(r"kimgall \[mem 0x0000000040000000-0x0000000047ffffff\]: refused: node "
                         r"/reserved-memory/kimgall@40000000(: page at 0x4[0-9a-f]+ belongs to the "
                         r"page allocator .*the kernel freed it after boot| contains .*'Kernel code')",
                         log), log
        assert g.run("ls /sys/class/resmem").out.split() == ["good"]
        assert "resmem: kimgall" not in g.run("cat /proc/iomem").out
    finally:
        g.run("rmmod resmem")


@pytest.mark.archs("aarch64")
@pytest.mark.guest(**KERNEL_INSIDE)
def test_non_coherent_producer_is_refused_on_write_back(guest, target):
    """A device that does not snoop the caches (a platform device with no
    dma-coherent, the arm64 default) asks to produce into the write-back
    region "good": refused with -EOPNOTSUPP and a log line saying why and
    what to do.  The same device described as coherent is accepted, so the
    refusal is the coherence rule.  Catches a producer accepted on a cached
    region whose device writes would bypass the CPU's view (record headers
    and CRCs read through stale cache lines)."""
    g = guest
    ko = f"{boots.TESTMODS}/resmem_test_nc.ko"
    g.run("modprobe resmem")
    try:
        assert g.run("cat /sys/class/resmem/good/cache_mode").out.strip() == "write-back"
        r = g.run(f"insmod {ko} region=good", check=False)
        assert r.status != 0 and "Operation not supported" in r.err, r
        log = g.run("dmesg | grep resmem-test-nc").out
        assert re.search(r"resmem: region good is write-back and this device is not DMA-coherent: "
                         r".*map the region write-combining", log), log
        g.run(f"insmod {ko} region=good coherent=1")
        assert "producing into good" in g.run("dmesg | tail -5").out
        g.run("rmmod resmem_test_nc")
    finally:
        g.run("rmmod resmem_test_nc 2>/dev/null; rmmod resmem")


@pytest.mark.archs("aarch64")
@pytest.mark.guest(boot="standard", qemu_only="boots a second machine, with a reservation over "
                   "this one's kernel code")
def test_refused_claim_gives_back_what_it_adopted(guest, target):
    """A region (without no-map) from the page before "Kernel code" to its
    end: every page is reserved, so only the claim refuses it, after
    insert_resource() adopted "Kernel code" and the boot's "reserved" page as
    children.  Undoing the claim must hand them back: /proc/iomem is the
    same before modprobe and after the refusal (release_resource() dropped
    "Kernel code" for the rest of the boot)."""
    code = [(s, e) for s, e, name, _ in iomem(guest) if name == "Kernel code"]
    assert len(code) == 1, code
    start, end = code[0][0] - 4 * K, code[0][1] + 1
    g = qemu.Guest(guest.k, mem="3G", reservations=[raw("kcode", start, end - start)])
    g.start()
    try:
        before = g.run("cat /proc/iomem").out
        assert re.search(rf"(?m)^  {start:08x}-{start + 4 * K - 1:08x} : reserved$", before), before
        mark = len(g.console())
        g.run("modprobe resmem")
        g.console_sync()
        log = g.console()[mark:]
        assert re.search(r"kcode \[mem .*\]: refused: node \S+ contains .*'Kernel code'", log), log
        assert g.run("cat /proc/iomem").out == before
        assert not g.problems(), g.problems()
    finally:
        g.stop()
