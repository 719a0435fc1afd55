"""This host's (Debian amd64) programs, packed into an x86_64 guest with the
shared libraries they load, for tests that need a real tool the busybox
initramfs lacks (systemd-udevd, adduser, getent, a dynamically linked CLI)."""
import glob
import os
import re
import subprocess


def closure(programs):
    """{guest path: host path} for `programs` ({guest path: host path}) and
    every shared library ldd says they load, at the path the loader uses."""
    files = dict(programs)
    for host in programs.values():
        out = subprocess.run(["ldd", host], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True).stdout
        if "not a dynamic executable" in out:
            continue
        for m in re.finditer(r"(?:=>\s*)?(/\S+)\s+\(0x", out):
            files[m[1]] = os.path.realpath(m[1])
        missing = re.findall(r"(\S+) => not found", out)
        if missing:
            raise RuntimeError(f"{host}: libraries not found on the host: {missing}")
    return files


def tree(pattern):
    """{path: path} for every regular file under a host glob (recursive **)."""
    return {f: f for f in glob.glob(pattern, recursive=True) if os.path.isfile(f)}
