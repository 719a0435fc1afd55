"""Boot a target guest and run commands in it (for development).

    /usr/bin/python3 -m tests.harness.shell --target qemu-x86_64-6.1 \\
        --mem 13G --append 'memmap=8G$4G' -- 'modprobe resmem' 'resmem list'

Builds the module, tools and helpers for the target first (make module /
tools / guest-helpers), packs the initramfs, boots, runs each command with
sh -c as root, prints status/stdout/stderr, then the kernel problems seen
in the console log, and stops.  --console prints the whole console log.
--reserve NAME:ADDR:SIZE[:no-map] adds an arm64 /reserved-memory node
(compatible "resmem,region").  --uefi boots the target's UEFI firmware
(OVMF on x86_64, QEMU_EFI on arm64) instead of SeaBIOS / the bare kernel.

In the guest: modules at /lib/modules/$(uname -r)/extra/resmem.ko (depmod
has run, so `modprobe resmem` works), tools and helpers in /usr/bin,
test-only modules in /lib/modules/$(uname -r)/testmods/.
Seen in a 6.1 x86_64 guest with memmap=8G$4G -m 13G: /proc/iomem shows
`fffc0000-2ffffffff : Reserved`: the kernel merged the user's reservation
with the BIOS area just below 4 GiB into one Reserved resource, so a
Reserved resource is not the same as a memmap= range.
"""
import argparse
import sys

from . import matrix, qemu


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", default=matrix.DEFAULT.name)
    p.add_argument("--mem")
    p.add_argument("--smp", type=int, default=2)
    p.add_argument("--append", default="")
    p.add_argument("--reserve", action="append", default=[])
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--console", action="store_true")
    p.add_argument("--uefi", action="store_true")
    p.add_argument("commands", nargs="*")
    a = p.parse_args()
    res = []
    for r in a.reserve:
        f = r.split(":")
        res.append(dict(name=f[0], addr=int(f[1], 0), size=int(f[2], 0), no_map="no-map" in f[3:],
                        compatible="resmem,region"))
    k = matrix.by_name(a.target)
    rc = 0
    g = qemu.Guest(k, mem=a.mem, smp=a.smp, cmdline=a.append, reservations=res,
                  firmware="uefi" if a.uefi else "default")
    try:
        g.start()
        print(f"# booted {k.name} in {g.boot_seconds:.1f} s")
        for c in a.commands:
            r = g.run(c, timeout=a.timeout, check=False)
            print(f"$ {c}\n# status {r.status}")
            sys.stdout.write(r.out)
            if r.err:
                sys.stdout.write("# stderr:\n" + r.err)
            rc = rc or r.status
    except qemu.GuestError as e:
        print(f"# GUEST ERROR: {e}")
        rc = 99
    finally:
        console = g.console() if g.dir else getattr(g, "final_console", "")
        g.stop()
    if a.console:
        print("# --- console ---\n" + console)
    probs = [l for l in console.splitlines() if qemu.PROBLEM.search(l)]
    print("# kernel problems: " + ("none" if not probs else "\n" + "\n".join(probs)))
    return rc or (98 if probs else 0)


if __name__ == "__main__":
    sys.exit(main())
