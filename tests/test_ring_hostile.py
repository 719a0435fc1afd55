"""A ring header rewritten from user space while the in-kernel producer
attaches and commits (issue 14): the kernel copies the header once and uses
only the checked copy, so whatever a writer of the region does, each attach
either produces inside the region or is refused with the header check's
error, and no byte outside the region changes.  The writer (abuse hdrflip)
cycles the valid header with a giant geometry, impossible positions and
noise.  Witnesses: the host reads guard zones around the region (pmemsave);
the harness fails the test on any WARN or oops."""
import errno
import re

import pytest

from tests.guest_proc import wait_gone
from tests.harness import boots
from tests.harness.pattern import seq
from tests.harness.units import G, K, M

RESERVED = 4 * G                     # the standard boot's memmap=8G$4G
BASE, SIZE = RESERVED + 64 * M, 64 * M
GUARD = 64 * K
GUARDS = [(BASE - GUARD, 0x61), (BASE + SIZE, 0x62)]
ATTACHES = 12
REFUSED = {errno.EBADMSG, errno.ENODATA, errno.EINVAL, errno.EPROTONOSUPPORT}


@pytest.mark.archs("x86_64")
@pytest.mark.guest(boot="standard", extra_qemu=boots.EDU)
def test_kernel_producer_survives_a_rewritten_header(guest):
    g = guest
    g.run("rmmod resmem_test_edu 2>/dev/null; rmmod resmem 2>/dev/null; true")
    # a known pattern just below and above the region, through the whole reservation
    g.run("modprobe resmem")
    for addr, seed in GUARDS:
        g.run(f"mapper write /dev/resmem/region0 {addr - RESERVED:#x} {GUARD:#x} {seed:#x}")
    g.run("rmmod resmem")
    g.run(f"modprobe resmem discover=0 regions=hostile:{SIZE:#x}@{BASE:#x}")
    g.run("resmem ring hostile --reset --force >/dev/null")
    g.run("(abuse hdrflip /dev/resmem/hostile >/tmp/flip.out 2>&1 </dev/null & echo $! >/tmp/flip.pid)")
    pid = g.run("cat /tmp/flip.pid").out.strip()
    mark = g.mark()
    try:
        for i in range(ATTACHES):
            g.run(f"insmod {boots.EDU_KO} region=hostile records=8 len=2048 seed={i} reset={i % 4 == 3:d} "
                  "2>/dev/null; rmmod resmem_test_edu 2>/dev/null; true")
    finally:
        g.run(f"kill -TERM {pid}")
        wait_gone(g, pid)
    assert "hdrflip rounds=" in g.run("cat /tmp/flip.out").out
    g.console_sync()
    log = g.console()[mark:]
    done = re.findall(r"resmem-edu: \d+ records of \d+ bytes DMAed into hostile at bus "
                      r"(0x[0-9a-f]+)-(0x[0-9a-f]+)", log)
    refused = [-int(e) for e in re.findall(r"resmem_producer_get\(hostile\): (-\d+)", log)]
    assert len(done) + len(refused) == ATTACHES, log[-4000:]
    # refusals seen (the flipper ran), attaches done (every 4th one resets)
    print(f"{len(done)} attaches produced, {len(refused)} refused")
    assert done and refused, (len(done), refused)
    assert set(refused) <= REFUSED, refused
    for lo, hi in done:
        assert BASE <= int(lo, 16) <= int(hi, 16) < BASE + SIZE, (lo, hi)
    for addr, seed in GUARDS:
        assert g.pmemsave(addr, GUARD) == seq(seed, addr - RESERVED, GUARD), hex(addr)
    g.run("rmmod resmem")
