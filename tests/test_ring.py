"""The crash-safe ring in a guest (x86_64): real DMA from QEMU's edu device
through the in-kernel producer API, and records surviving a warm reset and
a panic (on aarch64 too), judged by the host from the memory the crash left.  Witnesses: the guest's own reader (resmem drain +
resmem verify through mmap) and the host, which parses guest physical memory
(pmemsave) with an independent reader (tests/ring_witness.py).  On aarch64
too: the module keeps a ring libresmem wrote (kernel and library CRC32C
agree)."""
import hashlib
import json
import re
import subprocess

import pytest

from tests import ring_witness
from tests.guest_capture import start_fifo_capture, stop_capture, wait_head_past
from tests.harness import boots, build, matrix, pattern, uapi

pytestmark = pytest.mark.archs("x86_64")

G = 1 << 30


def ring_state(guest):
    return json.loads(guest.run("resmem ring region0 --json").out)


def host_check(guest, seed, reclen, count, first_seq=0):
    """The host's reading of the standard x86_64 region's ring (ring_witness)."""
    base = boots.regions("x86_64", "standard")[0][0]
    return ring_witness.check_pattern_ring(guest, base, seed, reclen, count, first_seq)


def drain_and_verify(guest, seed, extra=""):
    """Drain everything from tail in the guest; the output must be exactly the
    pattern stream (records 0..n-1 back to back) and verify through mmap."""
    d = guest.run(f"rm -f /tmp/out; "
                  f"resmem drain region0 --from tail --no-consume --to /tmp/out {extra}",
                  check=False)
    v = guest.run(f"resmem verify /tmp/out seq:{seed:#x}", check=False)
    return d, v


@pytest.mark.core
@pytest.mark.guest(boot="standard", extra_qemu=boots.EDU)
def test_edu_dma_through_producer_api(guest):
    """16 records DMAed by the edu device into the ring above 4 GiB, read back
    by drain (mmap) and checked byte for byte, and by the host."""
    seed, n, reclen = 0x5EED, 16, 2048
    guest.run("modprobe resmem")
    guest.console_sync()
    mark = guest.mark()     # an earlier test on this boot loaded edu too
    guest.run(f"insmod {boots.EDU_KO} "
              f"records={n} len={reclen} seed={seed} reset=1")
    guest.console_sync()
    log = guest.console()[mark:]
    m = re.search(r"resmem-edu: (\d+) records of (\d+) bytes DMAed into region0 at bus "
                  r"(0x[0-9a-f]+)-(0x[0-9a-f]+).*status (-?\d+)", log)
    assert m, log[-3000:]
    assert int(m[1]) == n and int(m[5]) == 0, m[0]
    assert int(m[3], 16) >= 4 * G, "records lie above 4 GiB (bus address = physical, no IOMMU)"
    st = ring_state(guest)
    assert st["head_seq"] == n and st["flags"] & uapi.RING_F_CLOSED, st
    assert st["flags"] & uapi.RING_F_KERNEL, st
    d, v = drain_and_verify(guest, seed)
    assert d.status == 0 and f"{n} records" in d.err and "seq 0..15" in d.err, d.err
    assert v.status == 0 and "match" in v.out, v.out + v.err
    host_check(guest, seed, reclen, n)
    # The device's bytes are what a fresh reader finds, not a CPU copy of them:
    # flip one payload byte in physical memory and the guest must refuse it.
    # (the 8 bytes at data offset 0x100: inside record 0's payload)
    flip = bytes(b ^ 0xFF for b in pattern.seq(seed, 0x100 - uapi.REC_SIZE, 8))
    octal = "".join(f"\\{b:03o}" for b in flip)
    guest.run(f"printf '{octal}' | dd of=/dev/resmem/region0 bs=8 "
              f"seek={(uapi.RING_HDR_SIZE + 0x100) // 8} count=1 conv=notrunc")
    d2 = guest.run("rm -f /tmp/out2; resmem drain region0 --from tail --no-consume --to /tmp/out2",
                   check=False)
    assert d2.status == 1 and "1 corrupt records" in d2.err, d2.err


@pytest.mark.core
@pytest.mark.guest(boot="standard", extra_qemu=boots.EDU)
def test_device_that_cannot_reach_the_region_is_refused_with_the_numbers(guest):
    """A device with a 32-bit DMA mask and a region above 4 GiB: the
    producer refuses it (-ERANGE) with one line naming the region, its bus
    addresses and the device's limit, and leaves the ring as it was.
    Catches mapping it anyway: dma-direct WARNs (with panic_on_warn the
    guest dies) or bounces every record through swiotlb."""
    base, size = boots.regions("x86_64", "standard")[0]
    guest.run("rmmod resmem_test_edu 2>/dev/null; modprobe resmem && "
              "resmem ring region0 --reset --force >/dev/null")
    before = guest.pmemsave(base, uapi.RING_HDR_SIZE)
    guest.console_sync()
    mark = guest.mark()
    guest.run(f"insmod {boots.EDU_KO} records=4 dma_bits=32")
    guest.console_sync()
    log = guest.console()[mark:]
    want = (f"region region0 [mem {base:#x}-{base + size - 1:#x}] is at bus addresses "
            f"{base:#x}-{base + size - 1:#x}, above this device's DMA limit 0xffffffff")
    assert want in log and "resmem_producer_get(region0): -34" in log, log[-3000:]
    assert guest.pmemsave(base, uapi.RING_HDR_SIZE) == before
    guest.run("rmmod resmem_test_edu")


@pytest.mark.core
@pytest.mark.guest(boot="standard", extra_qemu=boots.EDU)
def test_producer_api_with_interrupts_disabled(guest):
    """The producer API says "Context: any": the same 16 DMAed records with
    every reserve and commit run as a cross-CPU call with interrupts disabled
    (the IPI handler, hard IRQ even on PREEMPT_RT, or the idle loop's flush),
    read back by drain and by the host."""
    seed, n, reclen = 0xA70C, 16, 2048
    guest.run("modprobe resmem; rmmod resmem_test_edu 2>/dev/null; true")
    mark = guest.mark()
    guest.run(f"insmod {boots.EDU_KO} "
              f"records={n} len={reclen} seed={seed} reset=1 atomic=1")
    guest.console_sync()
    log = guest.console()[mark:]
    m = re.search(r"resmem-edu: (\d+) reserve/commit calls with interrupts disabled", log)
    assert m and int(m[1]) == 2 * n, log[-3000:]
    m = re.search(r"resmem-edu: (\d+) records of (\d+) bytes DMAed into region0 .*status (-?\d+)", log)
    assert m and int(m[1]) == n and int(m[3]) == 0, log[-3000:]
    d, v = drain_and_verify(guest, seed)
    assert d.status == 0 and f"{n} records" in d.err, d.err
    assert v.status == 0 and "match" in v.out, v.out + v.err
    host_check(guest, seed, reclen, n)


@pytest.mark.core
@pytest.mark.guest(boot="standard", extra_qemu=boots.EDU)
def test_kernel_producer_refuses_and_marks_the_gap(guest):
    """A full ring without overwrite (64 KiB, no consumer): the in-kernel
    producer refuses records (it cannot wait): each takes its sequence
    number and counts in `refused`; once a consumer made room (the test
    driver plays it after 5 refusals) the next record DMAed is preceded by a
    GAP record with exactly their range.  Witnesses: the guest's drain and
    --index, and the host's own reader on pmemsave; time_ns lies within the
    guest's clock readings around the run."""
    seed, n, reclen, refuse = 0x6A9, 45, 2048, 5
    fits = (64 << 10) // uapi.record_span(reclen)          # 31 records of 2080 bytes
    guest.run("modprobe resmem; rmmod resmem_test_edu 2>/dev/null; true")
    guest.run("resmem ring region0 --reset --data-size 64K --force")
    t0 = int(guest.run("date +%s").out) * 10**9
    mark = guest.mark()
    guest.run(f"insmod {boots.EDU_KO} "
              f"records={n} len={reclen} seed={seed} refuse={refuse}")
    t1 = (int(guest.run("date +%s").out) + 1) * 10**9
    guest.console_sync()
    log = guest.console()[mark:]
    assert f"resmem-edu: {refuse} records refused (ring full)" in log, log[-3000:]
    m = re.search(r"resmem-edu: (\d+) records of (\d+) bytes DMAed into region0 .*status (-?\d+)", log)
    assert m and int(m[1]) == n - refuse and int(m[3]) == 0, log[-3000:]
    st = ring_state(guest)
    assert st["refused"] == refuse and st["overwritten"] == 0 and st["head_seq"] == n, st
    assert st["flags"] & uapi.RING_F_KERNEL and st["flags"] & uapi.RING_F_CLOSED, st
    d = guest.run("rm -f /tmp/out /tmp/idx; "
                  "resmem drain region0 --from tail --no-consume --to /tmp/out --index /tmp/idx",
                  check=False)
    assert d.status == 1, d.err
    assert f"gap: {refuse} records refused by the producer (ring full) before seq {fits + refuse}" \
        in d.err, d.err
    assert f"lost 0, refused {refuse}, corrupt 0" in d.err, d.err
    gaps = [ln.split() for ln in guest.run("cat /tmp/idx").out.splitlines() if ln.startswith("gap")]
    assert len(gaps) == 1 and gaps[0][1:5] == [str(fits), str(fits + refuse - 1), str(refuse),
                                               "refused"], gaps
    assert t0 <= int(gaps[0][5]) <= int(gaps[0][6]) <= t1, (t0, gaps, t1)
    # the host reads the same from guest physical memory
    base = boots.regions("x86_64", "standard")[0][0]
    h = ring_witness.header(guest.pmemsave(base, uapi.RING_HDR_SIZE))
    assert h["data_size"] == 64 << 10 and h["refused"] == refuse, h
    hg = []
    recs = ring_witness.records(h, guest.pmemsave(base + h["data_off"], h["data_size"]),
                                h["tail"], n, hg)
    seqs = [r["seq"] for r in recs]
    assert seqs == list(range(seqs[0], fits)) + list(range(fits + refuse, n)), seqs
    for r in recs:
        assert r["good"] and r["payload"] == pattern.seq(seed, r["seq"] * reclen, reclen), r["seq"]
    assert [r["time_ns"] for r in recs] == sorted(r["time_ns"] for r in recs)
    assert t0 <= recs[0]["time_ns"] and recs[-1]["time_ns"] <= t1, (t0, t1)
    assert len(hg) == 1 and hg[0]["good"], hg
    g = hg[0]
    assert (g["first_seq"], g["count"], g["seq"]) == (fits, refuse, fits + refuse), g
    assert str(g["first_ns"]) == gaps[0][5] and str(g["last_ns"]) == gaps[0][6], (g, gaps)
    assert g["last_ns"] <= g["time_ns"] <= t1, g


REC_HDR = uapi.REC_SIZE    # sizeof(struct resmem_ring_rec)


@pytest.mark.core
@pytest.mark.archs("x86_64", "aarch64")
@pytest.mark.guest(boot="standard", fresh=True)
def test_module_keeps_a_ring_libresmem_wrote(guest):
    """The module checks the ring header with the kernel's CRC32C (crc32c()
    on 7.x, the built-in __crc32c_le() on 6.1 and 6.12) against what the
    shared ring code in libresmem wrote: a ring from resmem capture is kept
    when the module loads again, with the positions the capture left."""
    name, n, reclen = boots.STANDARD_REGION[guest.k.arch], 100, 4096
    guest.run(f"modprobe resmem && resmem ring {name} --reset --force >/dev/null")
    guest.run(f"resmem capture {name} --generate 5 --record-size {reclen} --count {n}")
    # a reset ring's epoch is 1 only on a region that held none before (a
    # machine's region may have held one: the local target)
    epoch = json.loads(guest.run(f"resmem ring {name} --json").out)["epoch"]
    guest.console_sync()
    mark = guest.mark()
    guest.run("rmmod resmem && modprobe resmem")
    guest.console_sync()
    log = guest.console()[mark:]
    want = (rf"{name} \[mem [^]]*\]: ring kept: epoch {epoch}, next seq {n}, "
            rf"{n * (REC_HDR + reclen)} bytes committed since tail")
    assert re.search(want, log), log[-2000:]
    d = guest.run(f"rm -f /tmp/out; resmem drain {name} --from tail --no-consume --to /tmp/out",
                  check=False)
    assert d.status == 0 and f"seq 0..{n - 1}, lost 0, refused 0, corrupt 0" in d.err, d.err


@pytest.mark.core
@pytest.mark.archs("x86_64", "aarch64")
def test_module_takes_its_crc32c_from_the_kernel(target):
    """A record's payload may be up to 1 GiB and the in-kernel producer
    commits in any context: the CRC over it must be the kernel's own
    (crc32c() on 7.x, __crc32c_le() before: word-at-a-time or the CPU's
    instruction), not a private byte-at-a-time loop, which stalls a CPU
    for seconds.  The built module must import one and define no CRC of
    its own (modversions' __crc_ symbols aside)."""
    ko = build.module_path(matrix.by_name(target))
    undef = subprocess.run(["nm", "-u", ko], capture_output=True, text=True, check=True).stdout.split()
    assert {"crc32c", "__crc32c_le"} & set(undef), undef
    defined = [l.split()[-1] for l in subprocess.run(["nm", "--defined-only", ko], capture_output=True,
                                                     text=True, check=True).stdout.splitlines()]
    own = [s for s in defined if "crc" in s.lower() and not s.startswith("__crc_")]
    assert not own, own


@pytest.mark.core
@pytest.mark.guest(boot="standard")
def test_fill_refuses_a_live_ring(guest):
    """fill on the device over a ring with unread records is refused (exit 1)
    and the records stay: the host's reader (pmemsave) and drain + verify in
    the guest find every one.  With nothing unread, a running capture (its
    lock) still keeps fill and ring --reset out."""
    seed, n, reclen = 0xF111, 40, 4096
    guest.run("modprobe resmem && resmem ring region0 --reset --force >/dev/null 2>&1")
    guest.run(f"resmem capture region0 --generate {seed:#x} --record-size {reclen} --count {n}")
    before = ring_state(guest)
    f = guest.run("resmem fill region0 zero", check=False)
    assert f.status == 1 and f"{n} unread records" in f.err and "--force" in f.err, f.err
    assert "resmem drain region0 --to FILE" in f.err, f.err
    assert ring_state(guest) == before
    host_check(guest, seed, reclen, n)
    d, v = drain_and_verify(guest, seed)
    assert d.status == 0 and f"seq 0..{n - 1}, lost 0, refused 0, corrupt 0" in d.err, d.err
    assert v.status == 0, v.out + v.err
    # consume everything: only the lock of a running capture is left to refuse
    guest.run("resmem drain region0 --to /dev/null")
    # a capture that waits for input: only its lock is left to refuse
    start_fifo_capture(guest, "region0", log="/tmp/fill-cap.log")
    try:
        for cmd in ("resmem fill region0 zero --length 64K", "resmem ring region0 --reset"):
            r = guest.run(cmd, check=False)
            assert r.status == 1 and "a resmem capture is producing into this ring" in r.err, r.err
    finally:
        stop_capture(guest)
    host_check(guest, seed, reclen, n)


def _capture_then(guest, seed, crash):
    guest.run("modprobe resmem && resmem ring region0 --reset --force")
    # paced: what is committed before the crash is drained and verified
    # twice after it at TCG speed: unpaced, that took most of the test
    guest.run(f"(resmem capture region0 --generate {seed} --record-size 4096 --rate 8M "
              f">/dev/null 2>/tmp/cap.log &)")
    wait_head_past(guest, "region0", 2000)
    before = ring_state(guest)
    assert before["head_seq"] > 2000, before     # the stream is running
    crash()
    guest.run("modprobe resmem")
    log = guest.run("dmesg").out
    assert re.search(r"region0 .*ring kept: epoch 1", log), log[-2000:]
    after = ring_state(guest)
    n = after["head_seq"]
    assert n >= before["head_seq"] and not after["flags"] & uapi.RING_F_CLOSED, (before, after)
    d, v = drain_and_verify(guest, seed)
    assert d.status == 0, d.err
    assert f"{n} records" in d.err and f"seq 0..{n - 1}, lost 0, refused 0, corrupt 0" in d.err, d.err
    assert d.err.count("in-flight") <= 1, d.err
    assert v.status == 0, v.out + v.err
    host_check(guest, seed, 4096, min(n, 512))
    # a restarted capture must not erase what the crash left: refused while
    # those records are unread (drain above did not consume), the ring untouched
    r = guest.run(f"resmem capture region0 --generate {seed} --record-size 4096 --count 10",
                  check=False)
    assert r.status == 1 and f"{n} unread records" in r.err, r.err
    assert ring_state(guest) == after
    # the next producer session continues the same ring when told to
    guest.run(f"resmem capture region0 --generate {seed} --record-size 4096 --count 10 "
              "--overwrite-previous")
    d, v = drain_and_verify(guest, seed)
    assert d.status == 0 and f"seq 0..{n + 9}" in d.err and v.status == 0, d.err + v.out + v.err
    return after


# One boot per kernel serves every crash test below.  Each begins with a
# ring of its own and ends with the machine reset (RAM kept); a panic halts
# (panic=0) so that the host reads the region before it resets the machine.
CRASH_BOOT = dict(boot="standard", reboot=True, on_panic="halt", extra_qemu=boots.EDU)


@pytest.mark.core
@pytest.mark.guest(**CRASH_BOOT)
def test_ring_survives_warm_reset(guest):
    """QMP system_reset in the middle of a capture: every committed record
    drains intact after the reboot, nothing is lost or wrong."""
    _capture_then(guest, 0x77, guest.reset)


def _wrapped_crash_judged_by_host(g, data_size, reclen, seed, produce, panic):
    """Run produce() (a lossy producer into a ring of data_size bytes) until
    the ring has wrapped three times; then either stop the CPUs (QMP stop) or
    panic the kernel (sysrq c; it halts) and stop them; read the header and
    every record with the host's own parser; reset the machine where it
    stopped.  After the reboot the guest's drain must return exactly the
    records the host saw committed, byte for byte (sha256), from the first
    to the last."""
    name = boots.STANDARD_REGION[g.k.arch]
    base = boots.regions(g.k.arch, "standard")[0][0]
    lap = data_size // uapi.record_span(reclen)
    g.run(f"modprobe resmem && resmem ring {name} --reset --force --data-size {data_size}")
    produce(name)
    wait_head_past(g, name, 3 * lap + 4, timeout=180)
    if panic:
        g.crash()
    g.pause()     # after a panic too: a DMA the device had queued stays out
    h = ring_witness.header(g.pmemsave(base, uapi.RING_HDR_SIZE))
    data = g.pmemsave(base + h["data_off"], h["data_size"])
    seen = [r for r in ring_witness.records(h, data, h["tail"], 1 << 20) if r["good"]]
    assert h["head_seq"] > 3 * lap and h["data_size"] == data_size, h
    assert len(seen) >= lap - 2 and seen[-1]["seq"] == h["head_seq"] - 1, (len(seen), h)
    for r in seen:      # the host's parse is right, not merely self-consistent
        assert r["len"] == reclen and r["payload"] == pattern.seq(seed, r["seq"] * reclen, reclen)
    assert [r["seq"] for r in seen] == list(range(seen[0]["seq"], seen[-1]["seq"] + 1))
    g.reset()
    g.run("modprobe resmem")
    after = ring_witness.header(g.pmemsave(base, uapi.RING_HDR_SIZE))
    assert (after["head"], after["head_seq"]) == (h["head"], h["head_seq"]), (h, after)
    d = g.run(f"rm -f /tmp/out; resmem drain {name} --from tail --no-consume --to /tmp/out",
              check=False)
    assert d.status == 0, d.err
    m = re.search(r"seq (\d+)\.\.(\d+), lost \d+, refused \d+, corrupt (\d+)", d.err)
    assert m and (int(m[1]), int(m[2])) == (seen[0]["seq"], seen[-1]["seq"]), (d.err, seen[0]["seq"])
    want = b"".join(r["payload"] for r in seen)
    got = g.run("stat -c %s /tmp/out; sha256sum /tmp/out").out.split()
    assert int(got[0]) == len(want) and got[1] == hashlib.sha256(want).hexdigest(), d.err


CRASHES = [pytest.param(False, id="reset"), pytest.param(True, id="panic")]


@pytest.mark.core
@pytest.mark.archs("x86_64", "aarch64")
@pytest.mark.guest(**CRASH_BOOT)
@pytest.mark.parametrize("panic", CRASHES)
def test_wrapped_ring_survives_crash_as_the_host_saw_it(guest, panic):
    """resmem capture --overwrite (userspace producer) into a 4 MiB ring,
    then a warm reset, or a kernel panic and a reset.  Catches a recovery
    that rolls head back past commits (records missing), one that publishes
    the in-flight record or moves head forward (records the host never saw
    committed), and wrap arithmetic that loses the oldest laps' positions
    (a wrong first record or a corrupt one)."""
    seed, reclen = 0x3A9, 4096

    def capture(name):
        guest.run(f"(resmem capture {name} --generate {seed} --record-size {reclen} --rate 8M "
                  f"--overwrite </dev/null >/dev/null 2>/tmp/cap.log &)")
    _wrapped_crash_judged_by_host(guest, 4 << 20, reclen, seed, capture, panic)


@pytest.mark.archs("x86_64", "aarch64")
@pytest.mark.guest(**CRASH_BOOT)
@pytest.mark.parametrize("panic", CRASHES)
def test_wrapped_kernel_ring_survives_crash_as_the_host_saw_it(guest, panic):
    """The same with the in-kernel producer: QEMU's edu device DMAs every
    record into a 64 KiB ring (resmem_test_edu stream=1, overwriting),
    so the ring the crash interrupts is the kernel's commit path's.  Also
    catches a producer that commits a record before its DMA has landed
    (the host would see a committed record with the wrong payload)."""
    seed, reclen = 0xED0, 2048

    def edu(name):
        guest.run(f"insmod {boots.EDU_KO} region={name} records=1 len={reclen} seed={seed:#x} stream=1")
    _wrapped_crash_judged_by_host(guest, 64 << 10, reclen, seed, edu, panic)
