"""Waiting on guest processes by what they have done, not by the clock:
a sleep long enough on an idle machine is too short on a loaded one."""


def wait_gone(guest, pids):
    """Until each process has exited (a zombie counts: its files are closed,
    its mappings, lock and producer slot released)."""
    for pid in pids.split():
        guest.run(f"while [ -d /proc/{pid} ] && [ \"$(cut -d' ' -f3 /proc/{pid}/stat)\" != Z ]; "
                  f"do sleep 0.05; done", timeout=60)


def wait_open(guest, pid, path):
    """Until process pid has path open (one of its /proc fd links)."""
    guest.run(f"until ls -l /proc/{pid}/fd 2>/dev/null | grep -q ' -> {path}$'; "
              f"do sleep 0.05; done", timeout=60)


def wait_asleep(guest, program, in_function):
    """Until the one running `program` sleeps in the kernel function
    in_function (its /proc wchan): it has started and is waiting."""
    guest.run(f"until p=$(pidof {program}) && grep -q {in_function} /proc/$p/wchan; "
              f"do sleep 0.05; done", timeout=120)
