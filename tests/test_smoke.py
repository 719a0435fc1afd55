"""Smoke tests of the harness on every kernel of the matrix.

Each boots with a reservation, checks the guest sees it, loads the module
built for that kernel, and proves the host-side witness: bytes the guest
writes at a physical address above 4 GiB are what QEMU's pmemsave reads at
exactly that address.
"""
import os

import pytest

from tests.harness import boots
from tests.harness.guestview import iomem

pytestmark = [pytest.mark.core, pytest.mark.guest(boot="standard")]


def test_reservation_visible(guest, target):
    arch = guest.k.arch
    for addr, size in boots.regions(arch, "standard"):
        res = iomem(guest)
        top = [r for r in res if r[3] == 0]
        covering = [r for r in top if r[0] <= addr and r[1] >= addr + size - 1]
        assert covering, f"no top-level /proc/iomem entry covers {addr:#x}+{size:#x}: {top}"
        assert covering[0][2].lower() == "reserved", covering
        ram = [r for r in res if r[2] == "System RAM" and r[0] < addr + size and r[1] >= addr]
        assert not ram, f"System RAM overlaps the reservation: {ram}"
        if arch == "aarch64":
            node = f"/proc/device-tree/reserved-memory/resmem@{addr:x}/reg"
            reg = guest.run(f"od -An -tx1 -v {node}").out.split()
            want = (addr.to_bytes(8, "big") + size.to_bytes(8, "big")).hex()
            assert "".join(reg) == want


def test_module_loads(guest, target):
    guest.run("modprobe resmem")
    assert guest.run("cat /sys/module/resmem/initstate").out.strip() == "live"
    guest.run("rmmod resmem")
    assert guest.run("test -e /sys/module/resmem", check=False).status != 0


def test_host_witness(guest, target):
    """A pattern written by the guest above 4 GiB is on the host at that address."""
    addr, size = boots.regions(guest.k.arch, "standard")[0]
    assert addr >= 1 << 32
    where = addr + size // 2 + 0x1238   # odd offset inside, 8-byte aligned
    data = os.urandom(64)
    before = guest.pmemsave(where, 64)
    assert before != data
    guest.run(f"physpoke write {where:#x} {data.hex()}")
    assert guest.pmemsave(where, 64) == data
    # The bytes are where we said, not one word off.
    assert guest.pmemsave(where + 8, 64)[:56] == data[8:]
    # And the guest reads back through a second path what the host saw.
    assert guest.run(f"physpoke read {where:#x} 64").out.strip() == data.hex()
