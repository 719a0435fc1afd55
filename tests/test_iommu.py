"""DMA into a region through an IOMMU, as on real machines.

The "iommu" boot puts QEMU's edu device behind an Intel IOMMU (x86_64, q35,
intel_iommu=on) or an SMMUv3 (arm64 virt), in strict mode.  The in-kernel
producer maps the region for the device through the DMA API, so the device
gets an I/O virtual address, not the physical one; its DMA must still land
at the region's physical address.  Witnesses: the host parses the ring from
guest physical memory (pmemsave) with its own reader, and the guest's drain
and verify read it back.  Catches a producer that hands the device the
physical address (the IOMMU faults the DMA: nothing lands) or maps the
wrong range.
"""
import re

import pytest

from tests import ring_witness
from tests.harness import boots

pytestmark = pytest.mark.guest(boot="iommu")
REGION = {"x86_64": "region0", "aarch64": "resmem"}
EDU_KO = "/lib/modules/$(uname -r)/testmods/resmem_test_edu.ko"


def test_device_dma_through_the_iommu_lands_at_the_physical_address(guest, target):
    g = guest
    name = REGION[g.k.arch]
    base = boots.regions(g.k.arch, "iommu")[0][0]
    seed, n, reclen = 0x10AA, 16, 2048
    g.run(f"modprobe resmem && resmem ring {name} --reset --force >/dev/null")
    try:
        g.run(f"insmod {EDU_KO} region={name} records={n} len={reclen} seed={seed:#x}")
        # the edu device (1234:11e8) is in an IOMMU group (on 6.1 arm64 it
        # joins one when its driver binds): translation is on
        group = g.run("for d in /sys/bus/pci/devices/*; do [ $(cat $d/vendor):$(cat $d/device) = "
                      "0x1234:0x11e8 ] && readlink $d/iommu_group; done; true").out.strip()
        assert group, g.run("dmesg | grep -i -e iommu -e dmar -e smmu").out
        log = g.run("dmesg | grep 'resmem'").out
        m = re.search(rf"producing into {name} \(.*dma (0x[0-9a-f]+)\)", log)
        assert m, log
        assert int(m[1], 16) != base, f"the device got the physical address {m[1]}: no IOMMU mapping"
        ring_witness.check_pattern_ring(g, base, seed, reclen, n)
        d = g.run(f"rm -f /tmp/out; resmem drain {name} --from tail --no-consume --to /tmp/out")
        assert f"seq 0..{n - 1}, lost 0, refused 0, corrupt 0" in d.err, d.err
        g.run(f"resmem verify /tmp/out seq:{seed:#x}")
    finally:
        g.run("rmmod resmem_test_edu 2>/dev/null; rmmod resmem")
