"""A full Debian system in a VM plays the user's machine (issue 16, prototype).

The busybox guests of the other tests get a module the harness built on the
host.  Here the module is built where a user builds it: inside a trixie
system made by mmdebstrap (tests/harness/debianvm.py: systemd, udev, trixie's
kernel and its linux-headers, build-essential), booted with the standard
reservation (memmap=8G$4G), by an unprivileged user in a copy of the working
tree, with the README's `make module` against /lib/modules/$(uname -r)/build
and `sudo insmod`.  The region must then be /dev/resmem/<name>, a character
device whose size (sysfs and lseek) and address are the reservation's.

Compiling under TCG costs 10+ minutes on a busy host, so the same steps run
first in a chroot of the VM's own root file system, natively
(debianvm.prebuild: same gcc, headers and paths); inside the VM `make module`
then runs kbuild, which finds the module up to date and only copies it.

Once, on the first x86_64 target: the VM runs its own kernel (trixie's, from
the matrix: debianvm.KERNEL), not the target's.  Not yet in `make test`
(2.5-7 min more, the image made from Debian's archive on a clean machine):
`make test-debian-vm` runs it.
"""
import re

import pytest

from tests.harness import boots, debianvm
from tests.harness.plugin import target_arch

pytestmark = [pytest.mark.archs("x86_64"), pytest.mark.once, pytest.mark.debian_vm]

# boot (~1.5 min under TCG on a busy host) + make module (~1 min) + margin
TIMEOUT = 900


def test_module_built_and_loaded_in_a_debian_vm(target):
    if target == "local":
        pytest.skip("the Debian VM plays the local machine; inside one it has no meaning")
    arch = target_arch(target)
    name = boots.STANDARD_REGION[arch]
    addr, size = boots.regions(arch, "standard")[0]
    dev = f"/dev/resmem/{name}"
    script = f"""set -e
TIMEFORMAT="make-module-seconds: %R"
time make module KDIR=/lib/modules/$(uname -r)/build
sudo insmod build/$(uname -r)/resmem.ko
udevadm settle
echo "kernel: $(uname -r)"
echo "node: $(stat -c %F {dev})"
echo "size: $(cat /sys/class/resmem/{name}/size)"
echo "phys: $(cat /sys/class/resmem/{name}/phys_addr)"
echo "end: $(sudo python3 -c 'import os; print(os.lseek(os.open("{dev}", os.O_RDONLY), 0, os.SEEK_END))')"
"""
    r = debianvm.run(arch, script, timeout=TIMEOUT)
    where = f"--- output ---\n{r.output[-4000:]}\n--- console ---\n{r.console[-4000:]}"
    assert r.status == 0, f"the command in the Debian VM ended with status {r.status}\n{where}"
    got = dict(re.findall(r"(?m)^(kernel|node|size|phys|end|make-module-seconds): (.*)$",
                          r.output))
    assert f"built /home/{debianvm.USER}/resmem/build/{got.get('kernel')}/resmem.ko" in r.output, where
    assert got.get("kernel") == debianvm.kernel_for(arch).kernelrelease, where
    assert got.get("node") == "character special file", where
    assert int(got.get("size", -1)) == size, where
    assert int(got.get("phys", "-1"), 16) == addr, where
    assert int(got.get("end", -1)) == size, where
    print(f"Debian VM ({got['kernel']}, {arch}): {dev} {size >> 30} GiB at {addr:#x}; "
          f"{r.seconds:.0f} s in all, {r.boot_seconds:.0f} s to the command, "
          f"{r.command_seconds:.0f} s in it (make module {got['make-module-seconds']} s)")
