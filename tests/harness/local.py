"""The `local` target: the suite on real hardware, as root, module installed.

Commands run directly on this machine.  What only QEMU can do (read guest
physical memory from outside, reboot, boot with another command line)
is not available and the tests that need it skip with that reason.
"""
import subprocess

import pytest

from .qemu import CommandFailed, Result


class LocalMachine:
    local = True
    boots = 1

    def __init__(self):
        self.k = None

    def run(self, script, timeout=120, check=True):
        r = subprocess.run(["sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, text=True, stdin=subprocess.DEVNULL)
        res = Result(script, r.returncode, r.stdout, r.stderr)
        if check and r.returncode:
            raise CommandFailed(f"command failed (status {r.returncode}): {script}\n{r.stdout}\n{r.stderr}")
        return res

    def pmemsave(self, addr, size):
        pytest.skip("the host witness (QMP pmemsave) exists only under QEMU")

    def reset(self):
        pytest.skip("warm reboot is driven from the host only under QEMU")

    def console(self):
        return self.run("dmesg", check=False).out

    def mark(self):
        self.log_mark = len(self.console())
        return self.log_mark

    def problems(self, since=0):
        from .qemu import PROBLEM
        return [l for l in self.console()[since:].splitlines() if PROBLEM.search(l)]

    def alive(self):
        return True

    def stop(self):
        pass
