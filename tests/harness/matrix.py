"""The kernels every test runs against: one line per kernel.

`abi` is Debian's kernel ABI name (the part of the package name between
`linux-image-` and the flavour); pinning it keeps a run reproducible.
`kbuild` names the host-architecture linux-kbuild package whose scripts
build out-of-tree modules for that kernel.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Kernel:
    name: str       # target name: qemu-<arch>-<series>
    arch: str       # QEMU / userspace architecture: x86_64 or aarch64
    debarch: str    # Debian architecture: amd64 or arm64
    abi: str        # e.g. 6.1.0-56
    kbuild: str     # e.g. linux-kbuild-6.1

    @property
    def flavour(self):
        return self.debarch

    @property
    def kernelrelease(self):
        return f"{self.abi}-{self.flavour}"

    @property
    def series(self):
        return ".".join(self.abi.split(".")[:2])


MATRIX = [
    Kernel("qemu-x86_64-6.1", "x86_64", "amd64", "6.1.0-56", "linux-kbuild-6.1"),
    Kernel("qemu-x86_64-6.12", "x86_64", "amd64", "6.12.95+deb12", "linux-kbuild-6.12.95+deb12"),
    Kernel("qemu-aarch64-6.1", "aarch64", "arm64", "6.1.0-56", "linux-kbuild-6.1"),
    Kernel("qemu-aarch64-6.12", "aarch64", "arm64", "6.12.95+deb12", "linux-kbuild-6.12.95+deb12"),
]

DEFAULT = MATRIX[0]


def by_name(name):
    for k in MATRIX:
        if k.name == name:
            return k
    raise KeyError(f"unknown target {name!r}; known: {', '.join(k.name for k in MATRIX)}")
