"""The kernels every test runs against: one line per kernel.

`abi` is Debian's kernel ABI name (the part of the package name between
`linux-image-` and the flavour); pinning it keeps a run reproducible.
`kbuild` names the host-architecture linux-kbuild package whose scripts
build out-of-tree modules for that kernel.  `flavour` is Debian's flavour
(`rt-amd64` for PREEMPT_RT), the Debian architecture by default.

`tier` says how much of the suite a kernel gets (make test stays within its
time budget with seven kernels under TCG): "full" runs every test; "core"
runs the build (W=1), the boot and every test marked `core` (mapping and
host-witness, bad input, ring and capture, the producer with device DMA).
The oldest and newest kernel of each architecture are full.
"""
import os
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Kernel:
    name: str       # target name: qemu-<arch>-<series>[-rt]
    arch: str       # QEMU / userspace architecture: x86_64 or aarch64
    debarch: str    # Debian architecture: amd64 or arm64
    abi: str        # e.g. 6.1.0-56, 7.3.4+deb13
    kbuild: str     # e.g. linux-kbuild-6.1
    tier: str = "full"
    flavour_name: str = ""  # "" = the Debian architecture; "rt-amd64" for PREEMPT_RT

    @property
    def flavour(self):
        return self.flavour_name or self.debarch

    @property
    def kernelrelease(self):
        return f"{self.abi}-{self.flavour}"

    @property
    def series(self):
        return ".".join(self.abi.split(".")[:2])

    @property
    def version(self):
        """(major, minor) of the kernel, e.g. (7, 3)."""
        return tuple(int(x) for x in self.series.split("."))

    @property
    def rt(self):
        return self.flavour.startswith("rt-")


MATRIX = [
    # bookworm (Debian 12), the oldest supported kernel
    Kernel("qemu-x86_64-6.1", "x86_64", "amd64", "6.1.0-56", "linux-kbuild-6.1"),
    # trixie-backports (Debian 13): the newest, and its PREEMPT_RT flavour
    Kernel("qemu-x86_64-7.3", "x86_64", "amd64", "7.3.4+deb13", "linux-kbuild-7.3.4+deb13"),
    # trixie (Debian 13)
    Kernel("qemu-x86_64-6.12", "x86_64", "amd64", "6.12.117+deb13",
           "linux-kbuild-6.12.117+deb13", tier="core"),
    Kernel("qemu-x86_64-7.3-rt", "x86_64", "amd64", "7.3.4+deb13", "linux-kbuild-7.3.4+deb13",
           tier="core", flavour_name="rt-amd64"),
    Kernel("qemu-aarch64-6.1", "aarch64", "arm64", "6.1.0-56", "linux-kbuild-6.1"),
    Kernel("qemu-aarch64-7.3", "aarch64", "arm64", "7.3.4+deb13", "linux-kbuild-7.3.4+deb13"),
    Kernel("qemu-aarch64-6.12", "aarch64", "arm64", "6.12.117+deb13",
           "linux-kbuild-6.12.117+deb13", tier="core"),
]

DEFAULT = MATRIX[0]


@dataclass(frozen=True)
class LocalKernel:
    """The running kernel, for `--targets=local` (the suite on this machine):
    what tests ask of a matrix kernel, read from uname.  Its modules are
    built against /lib/modules/<release>/build (the distribution's headers)."""
    kernelrelease: str
    arch: str
    rt: bool
    name: str = "local"
    tier: str = "full"

    @property
    def debarch(self):
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(self.arch, self.arch)

    @property
    def version(self):
        """(major, minor) of the running kernel, e.g. (6, 12)."""
        return tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", self.kernelrelease).groups())

    @property
    def series(self):
        return "%d.%d" % self.version

    @property
    def headers(self):
        return f"/lib/modules/{self.kernelrelease}/build"


def local_kernel():
    u = os.uname()
    return LocalKernel(u.release, u.machine, "PREEMPT_RT" in u.version)


def by_name(name):
    if name == "local":
        return local_kernel()
    for k in MATRIX:
        if k.name == name:
            return k
    raise KeyError(f"unknown target {name!r}; known: {', '.join(k.name for k in MATRIX)}")
