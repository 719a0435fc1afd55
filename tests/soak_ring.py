"""Ring soak (make soak, not make test): `resmem capture` at full speed into
a 256 MiB ring for RESMEM_RING_SOAK_SECONDS while `resmem drain --follow`
consumes it concurrently, in the two ways a long capture goes wrong:

- lossless (the default) under a slow consumer (streamcheck --rate): the
  producer waits, nothing is lost, every byte drained is checked;
- lossy (--drop-when-full, a source paced at 8 MiB/s into a 32 MiB ring)
  under a consumer that is stopped (SIGSTOP) for 10 s of every 30, and
  keeps up in between: the refusals the capture counts are exactly the gaps
  drain reports and the holes an independent checker (streamcheck --record)
  finds in the drained bytes, and the ring header (read by the host with
  pmemsave) says the same.

Each run prints records, bytes, wraps, rate, waits and losses: the figures
docs/testing.md records."""
import json
import os
import re
import time

import pytest

from tests import ring_witness
from tests.harness import pattern, uapi

pytestmark = [pytest.mark.core, pytest.mark.archs("x86_64")]

SECONDS = float(os.environ.get("RESMEM_RING_SOAK_SECONDS", "0"))
RECLEN = 4096
BASE = 4 << 30
SLOW = 16 << 20         # the slow consumer's bytes per second
LOSSY_RING, LOSSY_RATE = 32 << 20, 8 << 20  # a stall of 10 s overfills it
STALL_EVERY, STALL_FOR = 30, 10
soak = pytest.mark.skipif(not SECONDS, reason="soak: set RESMEM_RING_SOAK_SECONDS (make soak)")
boot = pytest.mark.guest(mem="5G", cmdline="memmap=256M$4G", fresh=True)


def json_lines(text):
    return [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]


def start_consumer(guest, check_args, ring_args=""):
    """A fresh ring; drain --follow (its pid in /tmp/drain.pid) piped into
    streamcheck; both exit codes land in files when the producer has closed
    the ring."""
    guest.run("rm -f /tmp/drain.* /tmp/check.*; modprobe resmem && "
              f"resmem ring region0 --reset --force {ring_args} >/dev/null")
    guest.run("({ resmem drain region0 --follow --json 2>/tmp/drain.err & echo $! >/tmp/drain.pid; "
              "wait $!; echo $? >/tmp/drain.rc; } "
              f"| streamcheck {check_args} >/tmp/check.out 2>&1; echo $? >/tmp/check.rc) "
              "</dev/null >/dev/null 2>&1 &")
    guest.run("until [ -s /tmp/drain.pid ]; do sleep 0.1; done", timeout=60)


def capture(guest, seed, extra):
    t0 = time.monotonic()
    cap = guest.run(f"resmem capture region0 --generate {seed:#x} --record-size {RECLEN} "
                    f"--duration {SECONDS:g} --json --stats 60 {extra}",
                    timeout=int(SECONDS) + 300)
    lines = json_lines(cap.out)
    summary = lines[-1]
    assert summary["type"] == "summary", cap.out
    stats = [s for s in lines if s["type"] == "stats"]
    # the --stats lines are intervals: they add up to the summary
    for key in ("records", "bytes", "refused", "overwritten", "wait_ns"):
        assert sum(s[key] for s in stats) == summary[key], (key, cap.out)
    return summary, time.monotonic() - t0


def consumer_result(guest):
    guest.run("until [ -s /tmp/check.rc ]; do sleep 1; done", timeout=900)
    rc = guest.run("cat /tmp/drain.rc /tmp/check.rc").out.split()
    err = guest.run("cat /tmp/drain.err").out
    check = guest.run("cat /tmp/check.out").out
    return int(rc[0]), int(rc[1]), err, json_lines(err)[-1], check


def host_header(guest):
    h = ring_witness.header(guest.pmemsave(BASE, uapi.RING_HDR_SIZE))
    assert h["flags"] & uapi.RING_F_CLOSED, h
    assert h["cons"] == h["head"], h        # the consumer took everything
    return h


def host_oldest_records(guest, h, seed):
    """The host reads the oldest records still in the ring on its own."""
    data = guest.pmemsave(BASE + h["data_off"], h["data_size"])
    recs = ring_witness.records(h, data, h["tail"], 64)
    assert len(recs) == 64
    for r in recs:
        assert r["good"] and r["len"] == RECLEN, r["seq"]
        assert r["payload"] == pattern.seq(seed, r["seq"] * RECLEN, RECLEN), r["seq"]


def report(target, mode, s, h, elapsed, extra):
    mib = s["bytes"] / (1 << 20)
    wraps = h["head"] // h["data_size"]
    print(f"\nring soak {target} {mode}: {s['records']} records of {RECLEN} bytes "
          f"({mib / 1024:.2f} GiB) in {SECONDS:g} s of capture ({elapsed:.0f} s wall), "
          f"{mib / SECONDS:.1f} MiB/s; {wraps} wraps of a {h['data_size'] >> 20} MiB ring; "
          f"refused {s['refused']}, overwritten {s['overwritten']}, waited "
          f"{s['waited_seconds']:.1f} s; {extra}")
    return wraps


@soak
@boot
def test_ring_soak_lossless_slow_consumer(guest, target):
    """The default mode against a consumer slower than the producer: the
    producer waits (wait_ns, not a loss), nothing is refused, overwritten,
    lost or corrupt, and every byte of every record arrives in order."""
    seed = 0x50AC
    start_consumer(guest, f"{seed:#x} --record {RECLEN} --rate {SLOW}")
    s, elapsed = capture(guest, seed, "")
    drain_rc, check_rc, err, d, check = consumer_result(guest)
    n = s["records"]
    assert (s["first_seq"], s["last_seq"]) == (0, n - 1), s
    assert s["refused"] == s["overwritten"] == s["corrupt"] == 0, s
    assert s["wait_ns"] > 0, "the consumer never held the producer back: no wait to count"
    assert (d["records"], d["first_seq"], d["last_seq"]) == (n, 0, n - 1), d
    assert d["lost"] == d["refused"] == d["corrupt"] == 0, err
    assert f"streamcheck: {n * RECLEN} bytes, 0 bad bytes, {n} records, 0 gaps" in check, check
    assert (drain_rc, check_rc) == (0, 0), err + check
    h = host_header(guest)
    assert h["head_seq"] == n and h["refused"] == h["overwritten"] == 0, h
    assert h["wait_ns"] == s["wait_ns"], h
    host_oldest_records(guest, h, seed)
    wraps = report(target, "lossless, consumer at 16 MiB/s", s, h, elapsed,
                   f"drained {n} records, lost 0, refused 0, corrupt 0, "
                   f"{n * RECLEN} bytes checked by streamcheck")
    assert wraps >= 3, f"the ring wrapped only {wraps} times: soak longer"


@soak
@boot
def test_ring_soak_lossy_stalled_consumer(guest, target):
    """--drop-when-full against a consumer stopped for 10 s of every 30: the
    run's refused counter equals the sum of drain's gap lines, each of which
    is a hole streamcheck finds in the bytes on its own (same seq range), and
    the ring header the host reads; nothing else is lost."""
    seed = 0x10557
    stalls = max(1, int(SECONDS - STALL_EVERY) // STALL_EVERY)
    start_consumer(guest, f"{seed:#x} --record {RECLEN}", f"--data-size {LOSSY_RING}")
    # the stalls end a period before the capture does: no refusal at the very end
    guest.run(f"(for i in $(seq {stalls}); do sleep {STALL_EVERY - STALL_FOR}; "
              f"kill -STOP $(cat /tmp/drain.pid); sleep {STALL_FOR}; "
              f"kill -CONT $(cat /tmp/drain.pid); done; touch /tmp/stall.done) "
              "</dev/null >/dev/null 2>&1 &")
    s, elapsed = capture(guest, seed, f"--drop-when-full --rate {LOSSY_RATE}")
    guest.run("until [ -e /tmp/stall.done ]; do sleep 1; done; kill -CONT $(cat /tmp/drain.pid)",
              timeout=120, check=False)
    drain_rc, check_rc, err, d, check = consumer_result(guest)
    n, refused = s["records"], s["refused"]
    assert refused > 0, "the stalls never filled the ring: nothing refused to check"
    assert (s["first_seq"], s["last_seq"]) == (0, n + refused - 1), s
    assert s["overwritten"] == s["corrupt"] == s["wait_ns"] == 0, s
    assert (d["records"], d["refused"], d["lost"], d["corrupt"]) == (n, refused, 0, 0), err
    # drain's gaps, from the ring's seq numbers and GAP records
    drained = [(int(b) - int(c), int(b) - 1) for c, b in re.findall(
        r"gap: (\d+) records refused by the producer \(ring full\) before seq (\d+)", err)]
    assert sum(b - a + 1 for a, b in drained) == refused, err
    # streamcheck's gaps, from the bytes alone
    found = [(int(a), int(b)) for a, b in re.findall(r"gap seq (\d+)\.\.(\d+)", check)]
    assert found == drained, (found, drained)
    assert (f"streamcheck: {n * RECLEN} bytes, 0 bad bytes, {n} records, {len(found)} gaps, "
            f"{refused} skipped") in check, check
    assert (drain_rc, check_rc) == (1, 0), err + check   # drain exits 1 on a gap
    h = host_header(guest)
    assert (h["head_seq"], h["refused"], h["overwritten"]) == (n + refused, refused, 0), h
    host_oldest_records(guest, h, seed)
    report(target, f"lossy, source at {LOSSY_RATE >> 20} MiB/s, consumer stopped {stalls} "
           f"times for {STALL_FOR} s", s, h, elapsed,
           f"{len(found)} gaps, {refused} records refused: drain, streamcheck and the "
           f"ring header agree; drained {n} records, lost 0, corrupt 0")
