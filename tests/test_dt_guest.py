"""arm64 guests booted with /reserved-memory regions that `resmem dt add`
wrote into QEMU's own tree (through tests/harness/dt.py), plus the QEMU
overlay dt-overlays/qemu-virt.dtso applied with fdtoverlay.

The guest kernel is the witness: what it shows in /proc/device-tree and
/proc/iomem must be the ranges computed here in Python; then the guest's own
`resmem dt list --live` (the aarch64 build, reading /sys/firmware/fdt) must
find every region usable; `resmem check` reports what the driver made of each.
"""
import json
import os

import pytest

from tests.harness.guestview import iomem
from tests.harness.units import M

OVERLAY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "dt-overlays", "qemu-virt.dtso")

# -m 6G on virt: RAM 0x40000000-0x1bfffffff
REGIONS = [
    # name, addr, size, no_map
    ("frames", 0xC0000000, 256 * M, False),         # mapped, below 4 GiB
    ("hi", 0x140000000, 512 * M, True),             # no-map, above 4 GiB (2-cell reg)
]
OVERLAY_REGION = ("capture", 0x70000000, 256 * M, True)    # from qemu-virt.dtso
ALL = REGIONS + [OVERLAY_REGION]

pytestmark = [
    pytest.mark.archs("aarch64"),
    pytest.mark.guest(mem="6G", reservations=[
        dict(name="frames", addr=0xC0000000, size=256 * M, compatible="resmem,region",
             label="frames", cache="wb"),
        dict(name="hi", addr=0x140000000, size=512 * M, no_map=True, compatible="resmem,region"),
        dict(overlay=OVERLAY),
    ]),
]


def hexbytes(guest, path):
    return "".join(guest.run(f"od -An -tx1 -v {path}").out.split())


def test_device_tree_shows_the_regions(guest, target):
    base = "/proc/device-tree/reserved-memory"
    assert hexbytes(guest, f"{base}/#address-cells") == "00000002"
    assert hexbytes(guest, f"{base}/#size-cells") == "00000002"
    assert guest.run(f"test -e {base}/ranges", check=False).ok
    for name, addr, size, no_map in ALL:
        node = f"{base}/{name}@{addr:x}"
        assert hexbytes(guest, f"{node}/reg") == (addr.to_bytes(8, "big") + size.to_bytes(8, "big")).hex(), node
        assert guest.run(f"test -e {node}/no-map", check=False).ok == no_map, node
        assert guest.run(f"cat {node}/compatible").out == "resmem,region\0", node
    assert guest.run(f"cat {base}/frames@c0000000/resmem,cache").out == "write-back\0"
    assert guest.run(f"cat {base}/frames@c0000000/label").out == "frames\0"
    assert guest.run(f"cat {base}/capture@70000000/label").out == "capture\0"


def test_iomem_shows_the_regions(guest, target):
    res = iomem(guest)
    top = [r for r in res if r[3] == 0]
    for name, addr, size, no_map in ALL:
        end = addr + size - 1
        if no_map:
            # arm64 lists no-map memblock regions as their own top-level "reserved"
            exact = [r for r in top if r[0] == addr and r[1] == end]
            assert exact and exact[0][2] == "reserved", (name, [r for r in top if r[0] <= end and r[1] >= addr])
            ram = [r for r in res if r[2] == "System RAM" and r[0] <= end and r[1] >= addr]
            assert not ram, (name, ram)
        else:
            # a mapped reservation stays System RAM with a "reserved" child covering it
            ram = [r for r in top if r[2] == "System RAM" and r[0] <= addr and r[1] >= end]
            assert ram, (name, [r for r in top if r[0] <= end and r[1] >= addr])
            kids = [r for r in res if r[3] == 1 and r[2] == "reserved" and r[0] <= addr and r[1] >= end
                    and ram[0][0] <= r[0] and r[1] <= ram[0][1]]
            assert kids, (name, [r for r in res if r[0] <= end and r[1] >= addr])


def test_live_list_flags_nothing(guest, target):
    r = guest.run("resmem dt list --live --json", check=False)
    assert r.status == 0, r
    regions = json.loads(r.out)
    got = {x["path"]: (x["addr"], x["size"], "no-map" in x["flags"], x["usable"]) for x in regions}
    want = {f"/reserved-memory/{n}@{a:x}": (a, s, nm, True) for n, a, s, nm in ALL}
    assert got == want
    # the text listing ends with the counts the JSON gives
    text = guest.run("resmem dt list --live").out
    assert text.endswith(f"{len(regions)} reservations, 0 unusable\n"), text
    assert "memory: 0x40000000-0x1bfffffff (6.0 GiB)" in text, text
    # the live blob is what the kernel got: the same bytes under --live and as a file
    assert guest.run("resmem dt list /sys/firmware/fdt --json").out == r.out


def test_check_reports_each_node(guest, target):
    """The guest's own `resmem check` on the live tree: each region's fate, without and with the module."""
    names = {"frames": "frames", "hi": "hi", "capture": "capture"}     # label, else node name
    paths = {f"/reserved-memory/{n}@{a:x}": n for n, a, _, _ in ALL}
    guest.run("rmmod resmem", check=False)
    r = guest.run("resmem check --json", check=False)
    j = json.loads(r.out)
    assert r.status == 1 and j["devicetree"]["path"] == "/sys/firmware/fdt", r
    assert {n["path"]: (n["name"], n["fate"]) for n in j["devicetree"]["nodes"]} == \
        {p: (names[n], "module-not-loaded") for p, n in paths.items()}
    assert j["problems"] == 1 and j["module"]["loaded"] is False     # only the module
    guest.run("modprobe resmem")
    try:
        r = guest.run("resmem check --json", check=False)
        j = json.loads(r.out)
        assert r.status == 0 and j["problems"] == 0, r
        assert {n["path"]: (n["fate"], n["device"]) for n in j["devicetree"]["nodes"]} == \
            {p: ("claimed", f"/dev/resmem/{names[n]}") for p, n in paths.items()}
        text = guest.run("resmem check").out
        for p, n in paths.items():
            assert f"{p}: " in text and f"  ok: claimed as /dev/resmem/{names[n]}\n" in text, text
        assert text.endswith("all good\n"), text
    finally:
        guest.run("rmmod resmem", check=False)
