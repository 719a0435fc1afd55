"""DMA into a region through an IOMMU, as on real machines.

The "iommu" boot puts QEMU's edu device behind an Intel IOMMU (x86_64, q35,
intel_iommu=on) or an SMMUv3 (arm64 virt), in strict mode.  The in-kernel
producer maps the region for the device through the DMA API, so the device
gets an I/O virtual address, not the physical one; its DMA must still land
at the region's physical address.  Witnesses: the host parses the ring from
guest physical memory (pmemsave) with its own reader, and the guest's drain
and verify read it back.  Catches a producer that hands the device the
physical address (the IOMMU faults the DMA: nothing lands), maps the
wrong range, or maps the region as MMIO (dma_map_resource: device memory
type behind an SMMU, not snooped).  On x86_64 kernels before 6.18 (no
dma_map_phys(), and a memmap= region has no struct pages by default) the
device must be refused, with the way out named; with pages=1 it is then
mapped through its struct pages (dma_map_page).
"""
import re

import pytest

from tests import ring_witness
from tests.harness import boots, uapi

pytestmark = pytest.mark.guest(boot="iommu")


def _no_memory_dma_api_for(g):
    """A kernel without dma_map_phys() (before 6.18) maps memory for DMA
    only through struct pages, which an x86 memmap= region loaded with
    pages=0 does not have: the producer must refuse such a device rather
    than map the region as MMIO (dma_map_resource)."""
    has_phys = g.run("grep -qw dma_map_phys /proc/kallsyms", check=False).status == 0
    return g.k.arch == "x86_64" and not has_phys


def test_device_dma_through_the_iommu_lands_at_the_physical_address(guest, target):
    g = guest
    name = boots.STANDARD_REGION[g.k.arch]
    base = boots.regions(g.k.arch, "iommu")[0][0]
    seed, n, reclen = 0x10AA, 16, 2048
    edu = f"insmod {boots.EDU_KO} region={name} records={n} len={reclen} seed={seed:#x}"
    refuse = _no_memory_dma_api_for(g)
    # pages=0 takes the struct pages away: what a user who turned them off gets
    g.run(f"modprobe resmem{' pages=0' if refuse else ''} && "
          f"resmem ring {name} --reset --force >/dev/null")
    try:
        if refuse:
            g.console_sync()
            mark = g.mark()
            g.run(edu)
            g.console_sync()
            log = g.console()[mark:]
            assert ("has no struct pages and this device reaches memory through an IOMMU" in log
                    and "load resmem with pages=1" in log
                    and f"resmem_producer_get({name}): -95" in log), log[-3000:]
            assert ring_witness.header(g.pmemsave(base, uapi.RING_HDR_SIZE))["head_seq"] == 0
            # the way out it names: struct pages, then dma_map_page()
            g.run("rmmod resmem_test_edu && rmmod resmem && modprobe resmem pages=1")
        g.run(edu)
        # the edu device (1234:11e8) is in an IOMMU group (on 6.1 arm64 it
        # joins one when its driver binds): translation is on
        group = g.run("for d in /sys/bus/pci/devices/*; do [ $(cat $d/vendor):$(cat $d/device) = "
                      "0x1234:0x11e8 ] && readlink $d/iommu_group; done; true").out.strip()
        assert group, g.run("dmesg | grep -i -e iommu -e dmar -e smmu").out
        log = g.run("dmesg | grep 'resmem'").out
        m = re.findall(rf"producing into {name} \(.*dma (0x[0-9a-f]+) by (\w+)\)", log)
        assert m, log
        dma, how = m[-1]
        assert int(dma, 16) != base, f"the device got the physical address {dma}: no IOMMU mapping"
        assert how != "dma_map_resource", f"mapped as MMIO, not as memory: {how}"
        ring_witness.check_pattern_ring(g, base, seed, reclen, n)
        d = g.run(f"rm -f /tmp/out; resmem drain {name} --from tail --no-consume --to /tmp/out")
        assert f"seq 0..{n - 1}, lost 0, refused 0, corrupt 0" in d.err, d.err
        g.run(f"resmem verify /tmp/out seq:{seed:#x}")
    finally:
        g.run("rmmod resmem_test_edu 2>/dev/null; rmmod resmem")
