"""A device-tree region removed while it is in use (arm64).

An overlay removal or a parent's depopulate unregisters a platform device
whatever its driver thinks; the test module tests/kmod/resmem_test_unplug
does the same to the "resmem-dma" node of the "dt-devices" boot (its
regions dma-a and dma-b), and gives the device back when it is unloaded.

Witnesses: the guest helper `revoke` (tests/guest/revoke.c), which keeps
dma-a open, mapped, polled, read and remapped while the region goes and
reports what each use got afterwards; the edu device's driver producing
into dma-b through the in-kernel producer API, which reports how its
stream ended; the host, which reads the records it left in physical
memory; /proc/iomem and the module's own unload.  The plugin fails any test
whose console shows an oops, WARN or "Bad page map".
"""
import json
import re

import pytest

from tests import ring_witness
from tests.guest_capture import wait_head_past
from tests.harness import boots, uapi
from tests.harness.guestview import iomem, sysfs
from tests.harness.pattern import seq

pytestmark = [pytest.mark.core, pytest.mark.archs("aarch64"),
              pytest.mark.guest(boot="dt-devices")]

TESTMODS = boots.TESTMODS
UNPLUG = f"insmod {TESTMODS}/resmem_test_unplug.ko"
POLLERR, POLLHUP = 0x8, 0x10


def claims(g):
    """Names resmem holds in /proc/iomem."""
    return {r[2][len("resmem: "):] for r in iomem(g) if r[2].startswith("resmem: ")}


def console_since(g, mark):
    g.console_sync()
    return g.console()[mark:]


def replug(g):
    """Give the device back; its regions come back with the driver loaded."""
    mark = g.mark()
    g.run("rmmod resmem_test_unplug")
    log = console_since(g, mark)
    assert "resmem_test_unplug: re-created /resmem-dma" in log, log
    assert {"dma-a", "dma-b"} <= set(g.run("ls /sys/class/resmem").out.split()), log


def test_removed_while_open_mapped_polled_and_read(loaded, target):
    """dma-a goes while a process maps, touches, polls, reads and remaps it:
    the mapping is revoked (SIGBUS), every call on the open fd fails with
    ENODEV, the device node does not open again (ENXIO), and once the
    process exits nothing is left: the claims are gone, the module unloads,
    and the device comes back and works."""
    g = loaded
    phys = int(sysfs(g, "dma-a", "phys_addr"), 16)
    devno = sysfs(g, "dma-a", "dev").replace(":", " ")
    # no ring in the region: poll() waits until something happens
    g.run("dd if=/dev/zero of=/dev/resmem/dma-a bs=4096 count=1 2>/dev/null")
    g.run(f"rm -f /tmp/dma-a /tmp/ready; mknod /tmp/dma-a c {devno}; mkfifo /tmp/ready")
    mark = g.mark()
    r = g.run("revoke /tmp/dma-a /tmp/ready >/tmp/revoke.out 2>&1 </dev/null & pid=$!; "
              f"read x </tmp/ready; {UNPLUG} || kill -9 $pid; wait $pid; echo status=$?; "
              "cat /tmp/revoke.out",
              timeout=300)
    got = dict(ln.split("=", 1) for ln in r.out.split())
    assert got["status"] == "0", r.out
    assert got["sigbus"] == "1" and got["again"] == "SIGBUS", r.out
    assert int(got["poller"], 16) == POLLERR | POLLHUP, r.out
    assert got["remapper"] in ("ENODEV", "SIGBUS"), r.out
    assert got["reader"] in ("ENODEV", "short"), r.out
    assert [got[k] for k in ("read", "write", "ioctl", "mmap")] == ["ENODEV"] * 4, r.out
    assert got["reopen"] == "ENXIO", r.out
    log = console_since(g, mark)
    assert "resmem_test_unplug: removed /resmem-dma" in log, log
    assert re.search(r"dma-a \[mem 0x0*1c0000000-0x0*1c3ffffff\]: removed while in use: "
                     r"1 open files and [12] mappings revoked", log), log
    # the process is gone, so is every trace of both regions
    for d in ("/dev/resmem", "/sys/class/resmem"):
        assert sorted(g.run(f"ls {d}").out.split()) == ["hi", "lowmap"], d
    assert claims(g) == {"hi", "lowmap"}
    replug(g)
    assert claims(g) == {"hi", "lowmap", "dma-a", "dma-b"}
    g.run("mapper write /dev/resmem/dma-a 0x3000 0x5000 0xAB1E")
    assert g.pmemsave(phys + 0x3000, 0x5000) == seq(0xAB1E, 0x3000, 0x5000)
    g.run("mapper check /dev/resmem/dma-a 0x3000 0x5000 0xAB1E --via read")
    g.run("rmmod resmem")
    assert claims(g) == set()
    g.run("modprobe resmem")


def ring(g, name):
    return json.loads(g.run(f"resmem ring {name} --json").out)


def test_removed_while_a_driver_produces(loaded, target):
    """dma-b goes while the edu device's driver streams records into it:
    its next reserve or commit fails with -ENODEV and it stops; the claim
    (and the kernel and DMA mappings) stay until it lets go, and resmem
    cannot be unloaded meanwhile; then the claim goes too.  The records it
    committed are intact in physical memory (host), and the region comes
    back with the ring, which the driver continues."""
    g = loaded
    phys = int(sysfs(g, "dma-b", "phys_addr"), 16)
    g.run("rmmod resmem_test_edu 2>/dev/null; true")
    g.run(f"insmod {TESTMODS}/resmem_test_edu.ko region=dma-b records=0 reset=1 stream=1")
    try:
        wait_head_past(g, "dma-b", 1)
        mark = g.mark()
        g.run(UNPLUG)
        g.run("until dmesg | grep -q 'streaming stopped'; do sleep 0.1; done", timeout=60)
        log = console_since(g, mark)
        m = re.search(r"resmem-edu: streaming stopped after (\d+) records: (-?\d+)", log)
        assert m and int(m[1]) >= 2 and int(m[2]) == -19, log
        assert re.search(r"dma-b \[mem 0x0*a0000000-0x0*a1ffffff\]: removed while "
                         r"resmem_test_edu \S+ produces into it", log), log
        assert "dma-b" not in g.run("ls /sys/class/resmem").out
        assert "dma-b" in claims(g), "the producer keeps the claim"
        assert g.run("rmmod resmem", check=False).status != 0
        mark = g.mark()
    finally:
        g.run("rmmod resmem_test_edu")
    assert "dma-b [mem 0x00000000a0000000-0x00000000a1ffffff]: its producer stopped; " \
        "claim released" in console_since(g, mark)
    assert "dma-b" not in claims(g)
    n = int(m[1])
    h = ring_witness.header(g.pmemsave(phys, uapi.RING_HDR_SIZE))
    assert h["head_seq"] == n and h["flags"] & uapi.RING_F_CLOSED, h
    data = g.pmemsave(phys + h["data_off"], n * uapi.record_span(2048))
    recs = ring_witness.records(h, data, h["tail"], n)
    assert [(r["seq"], r["good"]) for r in recs] == [(i, True) for i in range(n)], recs
    assert all(r["payload"] == seq(1, r["seq"] * 2048, 2048) for r in recs)
    replug(g)
    st = ring(g, "dma-b")
    assert st["head_seq"] == n and st["flags"] & uapi.RING_F_CLOSED, st
    g.run(f"insmod {TESTMODS}/resmem_test_edu.ko region=dma-b records=2")
    g.run("rmmod resmem_test_edu")
    assert ring(g, "dma-b")["head_seq"] == n + 2
