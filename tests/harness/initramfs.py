"""Initramfs builder: busybox, the agent, resmem's module and tools, test helpers.

The archive is a gzip'd newc cpio written here with the standard library.
Its name carries a hash of every input, so it is rebuilt only when an
input changed.
"""
import gzip
import hashlib
import io
import os
import stat

from . import kernels

CACHE = kernels.CACHE


def _newc(entries):
    """entries: list of (path, mode, data bytes or symlink target)."""
    out = io.BytesIO()
    ino = 1

    def rec(name, mode, data, nlink=1):
        nonlocal ino
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        ino += 1
        out.write(hdr.encode() + name_b)
        out.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
        out.write(data)
        out.write(b"\0" * ((4 - len(data) % 4) % 4))

    for path, mode, data in entries:
        rec(path.lstrip("/"), mode, data, 2 if stat.S_ISDIR(mode) else 1)
    rec("TRAILER!!!", 0, b"")
    return out.getvalue()


class Builder:
    """Collects files, then writes <cache>/initramfs/<tag>-<hash>.cpio.gz."""

    def __init__(self):
        self.files = {}   # guest path -> (mode, bytes)

    def add_file(self, guest_path, host_path, mode=None):
        with open(host_path, "rb") as f:
            data = f.read()
        if mode is None:
            mode = 0o755 if os.access(host_path, os.X_OK) else 0o644
        self.files[guest_path] = (stat.S_IFREG | mode, data)

    def add_bytes(self, guest_path, data, mode=0o644):
        self.files[guest_path] = (stat.S_IFREG | mode, data)

    def add_symlink(self, guest_path, target):
        self.files[guest_path] = (stat.S_IFLNK | 0o777, target.encode())

    def _entries(self):
        dirs = set()
        for p in self.files:
            parts = p.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/" + "/".join(parts[:i]))
        ents = [(d, stat.S_IFDIR | 0o755, b"") for d in sorted(dirs)]
        ents += [(p, m, d) for p, (m, d) in sorted(self.files.items())]
        return ents

    def write(self, tag):
        h = hashlib.sha256()
        for p, (m, d) in sorted(self.files.items()):
            h.update(p.encode() + b"\0" + str(m).encode() + b"\0" + hashlib.sha256(d).digest())
        outdir = os.path.join(CACHE, "initramfs")
        os.makedirs(outdir, exist_ok=True)
        path = os.path.join(outdir, f"{tag}-{h.hexdigest()[:16]}.cpio.gz")
        if not os.path.exists(path):
            for old in os.listdir(outdir):
                if old.startswith(tag + "-"):
                    os.unlink(os.path.join(outdir, old))
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(gzip.compress(_newc(self._entries()), compresslevel=1, mtime=0))
            os.rename(tmp, path)
        return path
