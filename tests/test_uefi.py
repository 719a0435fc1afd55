"""resmem under UEFI firmware, as real machines boot.

x86_64 boots OVMF (the kernel's EFI stub; e820 is the EFI memory map) with
one memmap=1G$5G.  The kernel itself turns RAM that holds EFI tables (here
the BGRT boot logo) into Reserved, which in /proc/iomem looks like the
user's memmap= range: discovery must take only the latter.  arm64 boots
QEMU_EFI, which hands the kernel the device tree with its /reserved-memory
node.  On both the host witnesses the main job: bytes written through a
mapping are at the region's physical address.  Both tests share one boot.
"""
import json
import re

import pytest

from tests.harness import boots, qemu
from tests.harness.guestview import firmware_memmap, iomem, memmap_reservations, sysfs
from tests.harness.pattern import seq
from tests.harness.units import K, M

DEV = "/dev/resmem/region0"

pytestmark = pytest.mark.guest(boot="uefi")


def overlaps(a, b):
    """Whether inclusive ranges a = (start, end) and b overlap."""
    return a[0] <= b[1] and b[0] <= a[1]


def kernel_reserved_ram(g, asked):
    """Top-level Reserved ranges of /proc/iomem above 1 MiB that the firmware
    called RAM and no memmap= word asked for: what the kernel reserved for
    itself (below 1 MiB it reserves the first page on any firmware)."""
    ram = [(a, b) for a, b, kind in firmware_memmap(g) if kind == "System RAM"]
    wanted = [(a, a + n - 1) for a, n in asked]
    return [(a, b) for a, b, name, depth in iomem(g)
            if depth == 0 and name == "Reserved" and a >= M
            and any(r[0] <= a and b <= r[1] for r in ram)
            and not any(overlaps((a, b), w) for w in wanted)]


def regions(g):
    """[(name, phys_addr, size)] of the regions the module made (sysfs)."""
    names = g.run("ls /sys/class/resmem").out.split()
    return [(n, int(sysfs(g, n, "phys_addr"), 16), int(sysfs(g, n, "size"))) for n in names]


def assert_booted_by_uefi(g):
    assert g.run("test -d /sys/firmware/efi/efivars", check=False).ok, \
        "no EFI runtime: not a UEFI boot"


def assert_check_all_good(g):
    """The guest's own `resmem check` finds nothing wrong with the module loaded."""
    r = g.run("resmem check --json", check=False)
    assert r.status == 0 and json.loads(r.out)["problems"] == 0, r


@pytest.mark.archs("x86_64")
def test_only_the_memmap_range_is_a_region(guest, target):
    """Exactly the memmap= range becomes region0; the RAM the kernel reserved
    for EFI tables does not, and the log says why it was not taken."""
    g = guest
    assert_booted_by_uefi(g)
    asked = memmap_reservations(g.run("cat /proc/cmdline").out)
    assert asked == boots.regions("x86_64", "uefi"), asked
    efi = kernel_reserved_ram(g, asked)
    # Without them this boot would prove nothing (SeaBIOS has none).
    assert efi, g.run("cat /proc/iomem").out
    g.run("modprobe resmem dyndbg=+p")
    try:
        assert regions(g) == [("region0", *asked[0])]
        lst = json.loads(g.run("resmem list --json").out)
        assert [(r["name"], r["phys_addr"], r["size"], r["source"]) for r in lst] == \
            [("region0", *asked[0], "cmdline")]
        assert g.run("grep -c ' : resmem: ' /proc/iomem").out.strip() == "1"
        assert_check_all_good(g)
        log = g.run("dmesg").out
        for a, b in efi:
            assert re.search(rf"resmem: \[mem 0x0*{a:x}-0x0*{b:x}\]: .*not by memmap=.*ignored",
                             log), (hex(a), hex(b), log[-3000:])
    finally:
        g.run("rmmod resmem")


def dt_reg(g, path):
    """(addr, size) of a node's reg in the tree the kernel booted with,
    read with its parent's #address-cells and #size-cells."""
    def cells(p):
        raw = g.run(f"od -An -tx1 -v {p}").out.split()
        return [int("".join(raw[i:i + 4]), 16) for i in range(0, len(raw), 4)]

    def number(words):
        return sum(w << (32 * i) for i, w in enumerate(reversed(words)))
    parent = path.rsplit("/", 1)[0]
    ac, = cells(f"{parent}/#address-cells")
    sc, = cells(f"{parent}/#size-cells")
    reg = cells(f"{path}/reg")
    assert len(reg) == ac + sc, reg
    return number(reg[:ac]), number(reg[ac:])


@pytest.mark.archs("aarch64")
def test_devicetree_node_reaches_the_kernel_through_uefi(guest, target):
    """The firmware passes on the tree with the /reserved-memory node (the
    EFI stub's /chosen entries show the tree came through it); the node's
    range is the only region, and the firmware's own reserved ranges are not."""
    g = guest
    assert_booted_by_uefi(g)
    base = "/sys/firmware/devicetree/base"
    assert g.run(f"test -e {base}/chosen/linux,uefi-system-table", check=False).ok
    addr, size = boots.regions("aarch64", "uefi")[0]
    assert dt_reg(g, f"{base}/reserved-memory/region0@{addr:x}") == (addr, size)
    others = [(a, b) for a, b, name, depth in iomem(g)
              if depth == 0 and name == "reserved" and (a, b) != (addr, addr + size - 1)]
    assert others, g.run("cat /proc/iomem").out
    g.run("modprobe resmem")
    try:
        assert regions(g) == [("region0", addr, size)]
        assert not [r for r in others if overlaps(r, (addr, addr + size - 1))]
        assert g.run("grep -c ' : resmem: ' /proc/iomem").out.strip() == "1"
        assert_check_all_good(g)
    finally:
        g.run("rmmod resmem")


@pytest.mark.archs("aarch64")
def test_node_over_firmware_runtime_memory_is_refused(guest, target):
    """UEFI keeps runtime services code and data in RAM while the machine
    runs, and places them without regard to /reserved-memory; /proc/iomem
    shows them as top-level "reserved", like a no-map node.  A node covering
    one (found in this boot, then booted with the node added) must be
    refused naming the firmware memory, and the good node beside it still
    works (host-witnessed).  Catches resmem handing out the firmware's
    runtime memory (accepted before the EFI memory map was consulted)."""
    addr, size = boots.regions("aarch64", "uefi")[0]
    fw = sorted((a, b) for a, b, name, depth in iomem(guest)
                if depth == 0 and name == "reserved" and a >= 0x40000000
                and not overlaps((a, b), (addr, addr + size - 1)))
    assert fw, guest.run("cat /proc/iomem").out
    start, last = fw[0]
    kw = boots.resolve("aarch64", dict(boot="uefi"))
    kw["reservations"] = kw["reservations"] + [dict(
        name="fwrt", addr=start, size=(last + 1 - start + 0xFFF) & ~0xFFF, no_map=True,
        compatible="resmem,region")]
    g = qemu.Guest(guest.k, **kw)
    g.start()
    try:
        assert_booted_by_uefi(g)
        assert [r for r in iomem(g) if r[0] == start and r[3] == 0], g.run("cat /proc/iomem").out
        g.run("modprobe resmem")
        log = g.run("dmesg | grep 'resmem: '").out
        assert re.search(r"resmem: fwrt \[mem .*\]: refused: \[mem .*\] inside it is UEFI firmware "
                         r"memory \(EFI memory type \d+, runtime", log), log
        assert [n for n, _, _ in regions(g)] == ["region0"], log
        g.run(f"mapper write {DEV} 0x1000 0x1000 0x77")
        assert g.pmemsave(addr + 0x1000, 0x1000) == seq(0x77, 0x1000, 0x1000)
        assert not g.problems(), g.problems()
    finally:
        g.stop()


def test_mapping_lands_at_the_physical_address(loaded, target):
    """Written through an mmap of the region, read by the host at the address
    the boot reserved (not the one the module reports), and read back in the
    guest through read()."""
    g = loaded
    phys, size = boots.regions(g.k.arch, "uefi")[0]
    for offset, length, seed in ((0, 2 * M, 1), (size // 2 + 12 * K, 64 * K, 2),
                                 (size - 4 * K, 4 * K, 3)):
        g.run(f"mapper write {DEV} {offset:#x} {length:#x} {seed} --via mmap")
        assert g.pmemsave(phys + offset, length) == seq(seed, offset, length), hex(offset)
        g.run(f"mapper check {DEV} {offset:#x} {length:#x} {seed} --via read")
    # and nothing past the region's end was written
    assert g.pmemsave(phys + size, 8) != seq(3, size, 8)
