"""`make demo`: the whole path a resmem user takes, in a QEMU guest.

Boots Debian's kernel with memmap=8G$4G, shows the reservation, loads the
module, lists the region, writes a pattern through mmap from a program in
the guest, and has the host read guest physical memory (QEMU pmemsave) at
exactly 4 GiB + offset to confirm the bytes landed there.  The host takes
that address from the reservation it asked the kernel for, not from the
module (whose own address, if wrong, would confirm itself), and stops with
an error if the module reports another.
"""
import sys

from tests.harness import matrix, qemu
from tests.harness.pattern import hexdump, seq

G = 1 << 30
RESERVE_AT, RESERVE_SIZE = 4 * G, 8 * G
CMDLINE = f"memmap={RESERVE_SIZE // G}G${RESERVE_AT // G}G"
SEED = 0x5EED
OFFSET = 5 * G + 0x123000      # anywhere in the region: here past 4 GiB into it
LENGTH = 1 << 20


def step(title):
    print(f"\n\033[1m== {title}\033[0m" if sys.stdout.isatty() else f"\n== {title}", flush=True)


def show(g, cmd):
    print(f"guest# {cmd}")
    r = g.run(cmd, check=False)
    sys.stdout.write(r.out + r.err)
    if r.status:
        raise SystemExit(f"demo: '{cmd}' failed with status {r.status}")
    return r.out


def main():
    k = matrix.DEFAULT
    step(f"Booting Debian {k.kernelrelease} ({k.arch}) under QEMU with {CMDLINE}, 13 GiB RAM")
    with qemu.Guest(k, mem="13G", cmdline=CMDLINE) as g:
        print(f"booted in {g.boot_seconds:.1f} s")
        step("The kernel reserved 8 GiB at 4 GiB")
        if CMDLINE not in show(g, "cat /proc/cmdline").split():
            raise SystemExit(f"demo: the kernel did not get {CMDLINE}")
        show(g, "grep -i -e reserved -e 'System RAM' /proc/iomem")
        step("Load the module: it finds the memmap= region by itself")
        show(g, "modprobe resmem && dmesg | grep 'resmem:'")
        show(g, "resmem list")
        show(g, "resmem list --json")
        step(f"A program writes {LENGTH >> 20} MiB through mmap at region offset {OFFSET:#x}")
        show(g, f"resmem fill region0 seq:{SEED:#x} --offset {OFFSET:#x} --length {LENGTH:#x}")
        reported = int(show(g, "cat /sys/class/resmem/region0/phys_addr").strip(), 16)
        if reported != RESERVE_AT:
            raise SystemExit(f"demo: the module reports region0 at {reported:#x}, but {CMDLINE} "
                             f"reserved {RESERVE_AT:#x}")
        phys = RESERVE_AT + OFFSET
        step(f"The host reads guest physical memory at {phys:#x} (QEMU pmemsave)")
        host = g.pmemsave(phys, LENGTH)
        want = seq(SEED, OFFSET, LENGTH)
        print("host saw:\n" + hexdump(host, phys))
        print("expected (computed on the host):\n" + hexdump(want, phys))
        if host != want:
            bad = next(i for i in range(LENGTH) if host[i] != want[i])
            raise SystemExit(f"demo: MISMATCH at physical {phys + bad:#x}")
        print(f"all {LENGTH} bytes match at physical {phys:#x}..{phys + LENGTH - 1:#x}")
        step("Read back through read() in the guest, a second path")
        show(g, f"resmem verify region0 seq:{SEED:#x} --offset {OFFSET:#x} --length {LENGTH:#x} --via read")
        show(g, "rmmod resmem && echo unloaded")
        probs = g.problems()
    if probs:
        raise SystemExit("demo: kernel problems in the guest log:\n" + "\n".join(probs))
    print("\ndemo: OK, no kernel warnings")


if __name__ == "__main__":
    main()
