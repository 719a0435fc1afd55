"""Named boot configurations shared by the tests, per architecture.

`@pytest.mark.guest(boot="standard")` boots the configuration below for the
test's target; `regions(arch, "standard")` says where its reservations are.
"""
import os

G = 1 << 30
M = 1 << 20
DT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "dt")
# QEMU's edu device, for DMA into a region, and its test driver in the guest
# (tests/kmod/resmem_test_edu.c)
EDU = ["-device", "edu,dma_mask=0xffffffffffffffff"]
# The test-only modules (tests/kmod), as a shell word: in the guests'
# initramfs, or where the local target built them ($RESMEM_TESTMODS).
TESTMODS = "${RESMEM_TESTMODS:-/lib/modules/$(uname -r)/testmods}"
EDU_KO = f"{TESTMODS}/resmem_test_edu.ko"

BOOTS = {
    # One 8 GiB memmap= reservation at 4 GiB on x86_64; on arm64 (RAM from
    # 1 GiB) a 1 GiB no-map /reserved-memory node above 4 GiB, which like
    # memmap= takes the range out of the kernel's linear map.
    "standard": {
        "x86_64": dict(mem="13G", cmdline="memmap=8G$4G"),
        "aarch64": dict(mem="6G", reservations=[
            dict(name="resmem", addr=0x140000000, size=1 * G, no_map=True,
                 compatible="resmem,region")]),
    },
}

# x86_64 only: several memmap= reservations at once (RAM above 4 GiB: 4G..10G).
BOOTS["two"] = {"x86_64": dict(mem="9G", cmdline="memmap=1G$4G memmap=1G$6G")}
BOOTS["four"] = {"x86_64": dict(
    mem="9G", cmdline="memmap=512M$4G memmap=512M$5G memmap=512M$6G memmap=512M$7G")}
# arm64 only: an 8 GiB no-map region at 4 GiB (RAM 1 GiB..12 GiB), the size
# the mapping-cost targets are stated for.
BOOTS["eight"] = {"aarch64": dict(mem="11G", reservations=[
    dict(name="region0", addr=4 * G, size=8 * G, no_map=True, compatible="resmem,region")])}
# arm64 only, -m 8G (RAM 0x40000000-0x23fffffff): two /reserved-memory
# regions of their own ("lowmap" mapped, "hi" no-map) and a device node
# owning two more through memory-region (tests/dt/device-two-regions.dtso:
# "dma-a" no-map uncached, "dma-b" mapped read-only), with QEMU's edu device
# to DMA into them.  tests/test_devicetree.py says what each should be.
BOOTS["dt-devices"] = {"aarch64": dict(mem="8G", reservations=[
    dict(name="lowmap", addr=0xC0000000, size=256 * M, compatible="resmem,region",
         label="lowmap", cache="write-back"),
    dict(name="hi", addr=0x180000000, size=512 * M, no_map=True, compatible="resmem,region"),
    dict(overlay=os.path.join(DT, "device-two-regions.dtso")),
], extra_qemu=EDU)}
# O_DIRECT from a mapping with struct pages (tests/test_direct_io.py): x86_64
# the standard memmap= boot (ZONE_DEVICE pages); arm64 a 5 GiB write-back
# /reserved-memory node at 4 GiB WITHOUT no-map (RAM 1 GiB..12 GiB): only a
# range in the linear map can use the boot's struct pages (module/pages.c).
BOOTS["dio"] = {
    "x86_64": BOOTS["standard"]["x86_64"],
    "aarch64": dict(mem="11G", reservations=[
        dict(name="region0", addr=4 * G, size=5 * G, compatible="resmem,region",
             cache="write-back")]),
}
# The GRUB symptom: the '$4G' was eaten, leaving a RAM cap and no reservation.
BOOTS["eaten-dollar"] = {"x86_64": dict(mem="13G", cmdline="memmap=8G")}

# Under UEFI firmware (qemu.Guest(firmware="uefi")): x86_64 boots OVMF with
# one memmap= range (RAM above 4 GiB: 4G..9G); arm64 boots QEMU_EFI, which
# passes on the device tree with its /reserved-memory node.
BOOTS["uefi"] = {
    "x86_64": dict(mem="8G", cmdline="memmap=1G$5G", firmware="uefi"),
    "aarch64": dict(mem="6G", firmware="uefi", reservations=[
        dict(name="region0", addr=0x140000000, size=1 * G, no_map=True,
             compatible="resmem,region")]),
}

# Behind an IOMMU, with QEMU's edu device to DMA through it: x86_64 on the
# q35 machine (the one with an Intel IOMMU; RAM below 4 GiB ends at 2 GiB),
# arm64 on virt with an SMMUv3 in front of its PCI bus.  The reservations
# are the standard boot's.
BOOTS["iommu"] = {
    "x86_64": dict(mem="13G", cmdline="memmap=8G$4G intel_iommu=on iommu.strict=1",
                   extra_qemu=["-machine", "q35,kernel-irqchip=split",
                               "-device", "intel-iommu,intremap=on", *EDU]),
    "aarch64": dict(BOOTS["standard"]["aarch64"], cmdline="iommu.strict=1",
                    extra_qemu=["-machine", "iommu=smmuv3", *EDU]),
}

# The standard reservations plus a small one below 4 GiB, for devices with
# a 32-bit DMA mask (V4L2's vivid: tests/test_dmabuf.py).  On x86_64 the
# small one comes first and is region0, the standard one region1.
BOOTS["dmabuf"] = {
    "x86_64": dict(mem="13G", cmdline="memmap=64M$0x30000000 memmap=8G$4G"),
    "aarch64": dict(mem="6G", reservations=[
        dict(name="low", addr=0xB0000000, size=64 * M, no_map=True, compatible="resmem,region"),
        *BOOTS["standard"]["aarch64"]["reservations"]]),
}

# The region name each boot's first reservation gets.
STANDARD_REGION = {"x86_64": "region0", "aarch64": "resmem"}

# arm64 only: the standard region behind a PCI bus offset (its bus address
# is 1 GiB below its physical one: tests/dt/pcie-dma-offset.dtso), with
# "shadow", the reserved and unused GiB below it, where QEMU (which
# translates nothing) puts what a device writes at the translated address.
BOOTS["dma-offset"] = {"aarch64": dict(BOOTS["standard"]["aarch64"], extra_qemu=EDU,
                                       reservations=BOOTS["standard"]["aarch64"]["reservations"] + [
    dict(name="shadow", addr=0x100000000, size=1 * G, no_map=True),
    dict(overlay=os.path.join(DT, "pcie-dma-offset.dtso")),
])}

# (physical address, size) of each reserved range, in address order.
REGIONS = {
    "standard": {
        "x86_64": [(4 * G, 8 * G)],
        "aarch64": [(0x140000000, 1 * G)],
    },
    "two": {"x86_64": [(4 * G, G), (6 * G, G)]},
    "eight": {"aarch64": [(4 * G, 8 * G)]},
    "uefi": {"x86_64": [(5 * G, G)], "aarch64": [(0x140000000, G)]},
    "four": {"x86_64": [(4 * G, G // 2), (5 * G, G // 2), (6 * G, G // 2), (7 * G, G // 2)]},
    "dma-offset": {"aarch64": [(0x140000000, G)]},
    "dio": {"x86_64": [(4 * G, 8 * G)], "aarch64": [(4 * G, 5 * G)]},
}
REGIONS["iommu"] = REGIONS["standard"]
REGIONS["dmabuf"] = {"x86_64": [(0x30000000, 64 * M), (4 * G, 8 * G)],
                     "aarch64": [(0xB0000000, 64 * M), (0x140000000, G)]}


def resolve(arch, kwargs):
    kwargs = dict(kwargs)
    name = kwargs.pop("boot", None)
    if name is None:
        return kwargs
    base = dict(BOOTS[name][arch])
    base.update(kwargs)
    return base


def regions(arch, name):
    return REGIONS[name][arch]
