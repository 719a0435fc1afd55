"""Ring wake-ups and producer exclusion in a guest (docs/ring-format.md,
"Wake-ups" and "Producer").  Witnesses outside libresmem: tests/guest/ringwake.c
(raw poll(), the UAPI header, its own mapping of the header) and
/proc/PID/stat for the CPU an idle follower uses."""
import re

import pytest

from tests.guest_capture import start_fifo_capture, stop_capture, wait_committed
from tests.guest_proc import wait_asleep, wait_gone
from tests.harness import boots

pytestmark = [pytest.mark.core]



def poll_state(guest, name):
    """(POLLIN, POLLHUP) of a poll() without waiting, from ringwake."""
    out = guest.run(f"ringwake poll /dev/resmem/{name}").out
    m = re.search(r"revents in=(\d) hup=(\d)", out)
    assert m, out
    return int(m[1]), int(m[2])


def follow_pid(guest, name, out, asleep_in):
    """A drain --follow, returned once it is asleep in the kernel function
    @asleep_in (its /proc wchan): what it spent starting (mapping 8 GiB at
    mmap() on 6.1 is a second of CPU) is not counted as idle."""
    guest.run(f"rm -f {out}; (resmem drain {name} --follow --to {out} "
              f"</dev/null >/dev/null 2>{out}.log & "
              f"echo $! >{out}.pid)")
    pid = guest.run(f"cat {out}.pid").out.strip()
    guest.run(f"until grep -q {asleep_in} /proc/{pid}/wchan; do sleep 0.1; done", timeout=120)
    return pid


def wakeups(out):
    return int(re.search(r"(\d+) wake-ups", out)[1])


def sleeps(guest, pid):
    """How often @pid went to sleep: its voluntary context switches.  Not
    its CPU ticks: under TCG on a loaded host a vCPU thread descheduled
    while the process runs charges the process whole ticks (CI's Debian VM
    charged an idle follower more than 2 in 5 s)."""
    out = guest.run(f"cat /proc/{pid}/status").out
    return int(re.search(r"^voluntary_ctxt_switches:\s*(\d+)", out, re.M)[1])


@pytest.mark.archs("x86_64", "aarch64")
@pytest.mark.guest(boot="standard")
def test_poll_reports_unconsumed_records(guest):
    """poll() on the device: POLLIN exactly while committed records are not
    consumed, POLLHUP once the producer closed the ring; nothing without a
    ring.  (Before wake-ups the device had no poll(): always readable.)"""
    name = boots.STANDARD_REGION[guest.k.arch]
    guest.run("modprobe resmem")
    guest.run(f"dd if=/dev/zero of=/dev/resmem/{name} bs=4096 count=1 2>/dev/null")
    assert poll_state(guest, name) == (0, 0), "no ring: not readable"
    guest.run(f"resmem ring {name} --reset --force >/dev/null")
    assert poll_state(guest, name) == (0, 0), "empty ring"
    start_fifo_capture(guest, name)
    try:
        assert poll_state(guest, name) == (0, 0), "attached, nothing committed"
        guest.run("printf 12345678 >/tmp/cap.in")
        wait_committed(guest, name, 1)
        assert poll_state(guest, name) == (1, 0), "one committed record"
        d = guest.run(f"rm -f /tmp/d1; resmem drain {name} --to /tmp/d1", check=False)
        assert d.status == 0 and "1 records" in d.err, d.err
        assert poll_state(guest, name) == (0, 0), "consumed"
        guest.run("printf abcdefgh >/tmp/cap.in")
        wait_committed(guest, name, 2)
        assert poll_state(guest, name) == (1, 0)
        d = guest.run(f"rm -f /tmp/d2; resmem drain {name} --from tail --no-consume --to /tmp/d2",
                      check=False)
        assert d.status == 0 and "2 records" in d.err, d.err
        assert poll_state(guest, name) == (1, 0), "a reader that does not consume"
    finally:
        stop_capture(guest)
    assert poll_state(guest, name) == (1, 1), "closed with an unconsumed record"
    guest.run(f"rm -f /tmp/d3; resmem drain {name} --to /tmp/d3")
    assert poll_state(guest, name) == (0, 1), "closed, all consumed"


@pytest.mark.archs("x86_64", "aarch64")
@pytest.mark.guest(boot="standard")
def test_capture_commit_wakes_a_sleeping_poller(guest):
    """ringwake follow sleeps in poll() with no timeout and consumes on each
    wake-up: every record resmem capture commits must wake it (a lost
    wake-up hangs it and the command times out)."""
    name = boots.STANDARD_REGION[guest.k.arch]
    guest.run(f"modprobe resmem && resmem ring {name} --reset --force >/dev/null")
    start_fifo_capture(guest, name)
    try:
        guest.run(f"rm -f /tmp/rw.rc; (ringwake follow /dev/resmem/{name} 5 >/tmp/rw.out 2>&1; "
                  f"echo $? >/tmp/rw.rc) </dev/null >/dev/null 2>&1 &")
        wait_asleep(guest, "ringwake", "poll")
        for i in range(5):
            guest.run(f"printf 'rec{i}abcd' >/tmp/cap.in; sleep 0.3")
        r = guest.run("while [ ! -s /tmp/rw.rc ]; do sleep 0.1; done; "
                      "cat /tmp/rw.rc /tmp/rw.out", timeout=60)
        assert r.out.startswith("0\n") and "follow: 5 records" in r.out, r.out
        # one wake-up per commit (a spare one at most): not a busy loop,
        # which is what a device without poll() (always readable) gives
        assert wakeups(r.out) <= 10, r.out
    finally:
        stop_capture(guest)


@pytest.mark.archs("x86_64")
@pytest.mark.guest(boot="standard")
def test_idle_drain_follow_sleeps(guest):
    """An idle `drain --follow` on the device sleeps in poll() until a
    commit: at most one wake-up per second (its 1 s timeout bounds a missed
    SIGINT) plus a spare, 7 in 5 s, and a commit still reaches it.  The
    control: the same follower on a ring in a regular file, which can only
    poll (what drain --follow did on devices too before wake-ups), wakes up
    hundreds of times."""
    guest.run("modprobe resmem && resmem ring region0 --reset --force >/dev/null")
    start_fifo_capture(guest, "region0")
    pid = ""
    try:
        pid = follow_pid(guest, "region0", "/tmp/f", "poll")
        t0 = sleeps(guest, pid)
        guest.run("sleep 5")
        idle = sleeps(guest, pid) - t0
        print(f"idle follower: {idle} wake-ups in 5 s")
        guest.run("printf wakeup!! >/tmp/cap.in")
        got = guest.run("for i in $(seq 100); do [ -s /tmp/f ] && break; sleep 0.1; done; "
                        "cat /tmp/f").out
        assert got == "wakeup!!", got
        assert idle <= 7, f"idle drain --follow woke up {idle} times in 5 s"
    finally:
        stop_capture(guest)
        guest.run(f"kill {pid} 2>/dev/null; true")
        wait_gone(guest, pid)
    # control: a ring in a regular file is followed by polling
    guest.run("rm -f /tmp/ring.bin; truncate -s 1M /tmp/ring.bin; "
              "resmem ring /tmp/ring.bin --reset --file >/dev/null")
    pid = follow_pid(guest, "/tmp/ring.bin", "/tmp/g", "nanosleep")
    t0 = sleeps(guest, pid)
    guest.run("sleep 5")
    polling = sleeps(guest, pid) - t0
    print(f"polling follower: {polling} wake-ups in 5 s")
    guest.run(f"kill {pid}; true")
    assert polling > 100, f"the polling control woke up only {polling} times: the measure sees nothing"


@pytest.mark.archs("x86_64")
@pytest.mark.guest(boot="standard", extra_qemu=boots.EDU)
def test_kernel_producer_wakes_and_excludes(guest):
    """The edu driver's commits (in-kernel producer API) wake a poller; while
    the driver holds the region, capture (even --force) and the producer-slot
    ioctl are refused, naming the driver; its removal frees the slot."""
    guest.run("modprobe resmem; rmmod resmem_test_edu 2>/dev/null; "
              "resmem ring region0 --reset --force >/dev/null")
    guest.run("rm -f /tmp/rw.rc; (ringwake follow /dev/resmem/region0 4 >/tmp/rw.out 2>&1; "
              "echo $? >/tmp/rw.rc) </dev/null >/dev/null 2>&1 &")
    wait_asleep(guest, "ringwake", "poll")
    guest.run(f"insmod {boots.EDU_KO} records=4 len=2048 seed=7 hold=1")
    r = guest.run("while [ ! -s /tmp/rw.rc ]; do sleep 0.1; done; cat /tmp/rw.rc /tmp/rw.out",
                  timeout=60)
    assert r.out.startswith("0\n") and "follow: 4 records" in r.out, r.out
    assert wakeups(r.out) <= 8, r.out
    try:
        c = guest.run("resmem capture region0 --force --generate 1 --count 1", check=False)
        assert c.status == 1, c.out + c.err
        assert re.search(r"in-kernel producer resmem_test_edu \S+ is producing into this ring",
                         c.err), c.err
        cl = guest.run("ringwake claim /dev/resmem/region0 0").out
        assert re.search(r"claim -16 holder 2 pid 0 name resmem_test_edu ", cl), cl
    finally:
        guest.run("rmmod resmem_test_edu")
    assert poll_state(guest, "region0")[1] == 1, "the driver closed the ring"
    assert "claim 0 " in guest.run("ringwake claim /dev/resmem/region0 0").out


@pytest.mark.archs("x86_64")
@pytest.mark.guest(boot="standard", extra_qemu=boots.EDU)
def test_capture_excludes_kernel_producer_until_killed(guest):
    """While resmem capture produces into the region, resmem_producer_get()
    fails with -EBUSY (the edu driver says so, the module names the process);
    SIGKILL of the capture releases the slot and the driver then gets it."""
    guest.run("modprobe resmem; rmmod resmem_test_edu 2>/dev/null; "
              "resmem ring region0 --reset --force >/dev/null")
    pid = start_fifo_capture(guest, "region0")
    try:
        mark = guest.mark()
        guest.run(f"insmod {boots.EDU_KO} records=2 len=2048 seed=3")
        guest.console_sync()
        log = guest.console()[mark:]
        assert "resmem_producer_get(region0): -16" in log, log[-3000:]
        assert re.search(rf"region region0: process resmem\[{pid}\] is producing into its ring",
                         log), log[-3000:]
        cl = guest.run("ringwake claim /dev/resmem/region0 0").out
        assert f"claim -16 holder 1 pid {pid} name resmem" in cl, cl
    finally:
        stop_capture(guest, "KILL")
        guest.run("rmmod resmem_test_edu 2>/dev/null; true")
    mark = guest.mark()
    guest.run(f"insmod {boots.EDU_KO} records=2 len=2048 seed=3 reset=1")
    guest.console_sync()
    log = guest.console()[mark:]
    assert re.search(r"resmem-edu: 2 records of 2048 bytes DMAed into region0 .*status 0", log), \
        log[-3000:]
    guest.run("rmmod resmem_test_edu")


@pytest.mark.archs("x86_64", "aarch64")
@pytest.mark.guest(boot="standard")
def test_wake_latency_measured(guest):
    """Every one of 50 records written to a running capture comes back out of
    a sleeping drain --follow; the time from the write to its delivery is
    measured and printed for docs/benchmarks.md, never asserted."""
    name = boots.STANDARD_REGION[guest.k.arch]
    guest.run(f"modprobe resmem && resmem ring {name} --reset --force >/dev/null")
    r = guest.run(f"ringwake latency 50 -- resmem capture {name} --record-size 8 "
                  f"-- resmem drain {name} --follow 2>/dev/null", timeout=300)
    assert "(50 records)" in r.out, r.out + r.err
    print(f"{guest.k.name}: {r.out.strip()}")
