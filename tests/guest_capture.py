"""A resmem capture running in the background of a guest, for the ring
tests: started once it has attached, stopped once it is gone, never
synchronised by a sleep."""
import json

from tests.guest_proc import wait_gone


def epoch(guest, name):
    return json.loads(guest.run(f"resmem ring {name} --json").out)["epoch"]


def start_fifo_capture(guest, name, log="/tmp/cap.log"):
    """A capture that commits one 8-byte record per `printf` into /tmp/cap.in
    and stays attached in between (a sleeping writer holds the FIFO open).
    Returns once it has attached (the epoch went up), which is after it took
    the lock and the producer slot: mapping a big region takes a while on
    6.1, where the whole mapping is made at mmap()."""
    e = epoch(guest, name)
    guest.run("rm -f /tmp/cap.in; mkfifo /tmp/cap.in; "
              "(sleep 600 >/tmp/cap.in 2>/dev/null </dev/null & echo $! >/tmp/hold.pid)")
    guest.run(f"(resmem capture {name} --record-size 8 </tmp/cap.in >/dev/null 2>{log} & "
              f"echo $! >/tmp/cap.pid)")
    guest.run(f"until resmem ring {name} --json | grep -q '\"epoch\": {e + 1},'; "
              f"do sleep 0.1; done", timeout=120)
    return guest.run("cat /tmp/cap.pid").out.strip()


def wait_committed(guest, name, n):
    """Until the ring's head_seq is n (no clock: a loaded host is slow)."""
    guest.run(f"until resmem ring {name} --json | grep -q '\"head_seq\": {n},'; "
              f"do sleep 0.1; done", timeout=120)


def wait_head_past(guest, name, n, timeout=120):
    """Until the ring's head_seq is above n (a producer is running)."""
    guest.run(f"until [ \"$(resmem ring {name} --json | "
              f"sed -n 's/.*\"head_seq\": \\([0-9]*\\).*/\\1/p')\" -gt {n} ] 2>/dev/null; "
              f"do sleep 0.1; done", timeout=timeout)


def stop_capture(guest, signal="TERM"):
    """Signal the capture and its FIFO holder; return once both are gone."""
    pids = guest.run("cat /tmp/cap.pid /tmp/hold.pid").out
    guest.run(f"kill -{signal} {' '.join(pids.split())} 2>/dev/null; true")
    wait_gone(guest, pids)
