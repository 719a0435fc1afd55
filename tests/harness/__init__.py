"""resmem's boot-test harness: Debian kernels under QEMU, driven by pytest."""
