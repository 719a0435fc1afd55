"""A region behind a bus offset (arm64 device tree `dma-ranges`), as on
boards whose devices address memory at other addresses than the CPU.

The "dma-offset" boot gives the PCI bus a dma-ranges under which the
"resmem" region (CPU 0x140000000) is at bus 0x100000000, and keeps the GiB
below the region ("shadow") reserved and unused.  QEMU translates nothing:
a device told the right bus address for the region writes into "shadow".
The expected bus address comes from the overlay's numbers (OFFSET below),
not from the module.  Witness: the host reads both ranges (pmemsave).
"""
import re

import pytest

from tests import ring_witness
from tests.harness import boots, pattern, uapi

pytestmark = [pytest.mark.archs("aarch64"), pytest.mark.guest(boot="dma-offset")]

# tests/dt/pcie-dma-offset.dtso: the region's bus address is 1 GiB below
# its CPU address
OFFSET = 1 << 30


def test_device_gets_the_translated_bus_address(guest):
    """The in-kernel producer maps the region for the edu device through
    the DMA API for memory, so the device is given the region's bus
    address: its records land where that bus address leads (in "shadow",
    under QEMU), payload for payload, and nothing lands in the region.
    Catches dma_map_resource() on RAM (it returns the physical address
    untranslated: the device would write into the region itself, which on
    a real board is the wrong memory) and any mapping that loses the
    offset."""
    g = guest
    base, size = boots.regions("aarch64", "dma-offset")[0]
    shadow = base - OFFSET
    seed, n, reclen = 0x0FF5, 4, 2048
    g.run("rmmod resmem_test_edu 2>/dev/null; modprobe resmem && "
          "resmem ring resmem --reset --force >/dev/null")
    g.console_sync()
    mark = g.mark()
    g.run(f"insmod {boots.EDU_KO} region=resmem records={n} len={reclen} seed={seed:#x}")
    g.console_sync()
    log = g.console()[mark:]
    m = re.search(r"producing into resmem \(.*dma (0x[0-9a-f]+) by (\w+)\)", log)
    assert m, log[-3000:]
    assert int(m[1], 16) == base - OFFSET, f"bus address {m[1]}, want {base - OFFSET:#x}"
    assert m[2] in ("dma_map_page", "dma_map_phys"), m[0]
    h = ring_witness.header(g.pmemsave(base, uapi.RING_HDR_SIZE))
    assert h["head_seq"] == n, h
    for s in range(n):
        at = h["data_off"] + s * uapi.record_span(reclen) + uapi.REC_SIZE
        want = pattern.seq(seed, s * reclen, reclen)
        assert g.pmemsave(shadow + at, reclen) == want, f"record {s} not at its bus address"
        assert g.pmemsave(base + at, reclen) != want, f"record {s} in the region: untranslated"
    g.run("rmmod resmem_test_edu")
