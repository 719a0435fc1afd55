"""Run a program with stdout or stderr on a pseudo-terminal, for what the CLI
does only on a terminal (progress lines, refusing binary output)."""
import os
import pty
import subprocess


def run(argv, on="stdout", timeout=60):
    """Run argv with `on` ("stdout" or "stderr") on a pty, the other stream
    piped; returns (exit status, bytes that reached the terminal, the other
    stream as text)."""
    master, slave = pty.openpty()
    other = "stderr" if on == "stdout" else "stdout"
    try:
        p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                             **{on: slave, other: subprocess.PIPE})
        os.close(slave)
        got = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:       # EIO: every writer of the terminal is gone
                break
            if not chunk:
                break
            got += chunk
        rest = getattr(p, other).read().decode()
        return p.wait(timeout=timeout), got, rest
    finally:
        os.close(master)
