"""Ring soak (make soak, not make test): `resmem capture` at full speed into
a 256 MiB ring for RESMEM_RING_SOAK_SECONDS while `resmem drain --follow`
consumes it concurrently; the drained stream is checked byte for byte by an
independent guest helper (streamcheck) and the last records by the host
(ring_witness on pmemsave).  Zero lost or corrupt records, every captured
record drained, the ring wrapped many times.  Prints records, wraps, rate."""
import os
import re
import time

import pytest

from tests import ring_witness
from tests.harness import pattern, uapi

pytestmark = [pytest.mark.archs("x86_64")]

SECONDS = float(os.environ.get("RESMEM_RING_SOAK_SECONDS", "0"))
RING = 256 << 20
RECLEN = 4096
BASE = 4 << 30


@pytest.mark.skipif(not SECONDS, reason="soak: set RESMEM_RING_SOAK_SECONDS (make soak)")
@pytest.mark.guest(mem="5G", cmdline="memmap=256M$4G")
def test_ring_soak(guest, target):
    seed = 0x50AC
    guest.run("modprobe resmem && resmem ring region0 --reset --force")
    # the consumer first: it follows the ring until the producer closes it
    guest.run(f"({{ resmem drain region0 --follow 2>/tmp/drain.err; echo $? >/tmp/drain.rc; }}"
              f" | streamcheck {seed:#x} >/tmp/check.out 2>&1; echo $? >/tmp/check.rc) "
              f"</dev/null >/dev/null 2>&1 &")
    t0 = time.monotonic()
    cap = guest.run(f"resmem capture region0 --generate {seed:#x} --record-size {RECLEN} "
                    f"--duration {SECONDS:g}", timeout=int(SECONDS) + 300)
    elapsed = time.monotonic() - t0
    guest.run("i=0; while [ ! -e /tmp/check.rc ] && [ $i -lt 600 ]; do sleep 1; i=$((i+1)); done",
              timeout=700)
    res = guest.run("cat /tmp/drain.rc /tmp/check.rc /tmp/drain.err /tmp/check.out").out
    m = re.search(r"capture region0: (\d+) records, .* waited (\d+)\n.*seq 0\.\.(\d+), epoch 1",
                  cap.err, re.S)
    assert m and int(m[3]) == int(m[1]) - 1, cap.err
    n, waited = int(m[1]), int(m[2])
    drain_rc, check_rc = res.split("\n")[:2]
    assert f"drain region0: {n} records" in res and f"seq 0..{n - 1}, lost 0, refused 0, corrupt 0" in res, res
    assert f"streamcheck: {n * RECLEN} bytes, 0 bad bytes" in res, res
    assert (drain_rc, check_rc) == ("0", "0"), res
    st = ring_witness.header(guest.pmemsave(BASE, uapi.RING_HDR_SIZE))
    assert st["head_seq"] == n and st["cons"] == st["head"], st
    assert st["flags"] & uapi.RING_F_CLOSED, st
    wraps = st["head"] // st["data_size"]
    assert wraps >= 3, f"the ring wrapped only {wraps} times: soak longer"
    # the host reads the oldest records still in the ring on its own
    data = guest.pmemsave(BASE + st["data_off"], st["data_size"])
    recs = ring_witness.records(st, data, st["tail"], 64)
    assert len(recs) == 64
    for r in recs:
        assert r["good"] and r["len"] == RECLEN, r["seq"]
        assert r["payload"] == pattern.seq(seed, r["seq"] * RECLEN, RECLEN), r["seq"]
    mib = n * RECLEN / (1 << 20)
    print(f"\nring soak {target}: {n} records of {RECLEN} bytes ({mib / 1024:.1f} GiB) in "
          f"{SECONDS:g} s of capture ({elapsed:.0f} s wall): {mib / SECONDS:.1f} MiB/s, "
          f"{n / SECONDS:.0f} records/s; {wraps} wraps of a {RING >> 20} MiB ring; "
          f"lost 0, refused 0, corrupt 0, {n * RECLEN} bytes checked by streamcheck; "
          f"capture waited for the drain {waited} times")
