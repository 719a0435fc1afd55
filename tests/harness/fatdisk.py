"""Boot disks for firmware that reads files: one MBR partition (bootable,
type EF, the EFI system partition's) holding a FAT32 file system, written
with mtools, no loop device and no root.  UEFI firmware (OVMF) and U-Boot's
distro boot (`part list ... -bootable`, then `load`) both find their files
there as they would on a machine's disk."""
import os
import struct
import subprocess

SECTOR = 512
START = 2048                     # the first partition at 1 MiB, as fdisk puts it


def make(out, files, size_mb=None):
    """A raw disk image at `out` whose FAT partition holds `files`
    ({path in the file system: host path or bytes}).  The size defaults to
    what the files need plus 32 MiB (FAT32 wants at least 32 MiB)."""
    data = {}
    need = 0
    for dest, src in files.items():
        need += len(src) if isinstance(src, bytes) else os.path.getsize(src)
        data[dest.lstrip("/")] = src
    if size_mb is None:
        size_mb = need // (1 << 20) + 34
    total = size_mb * (1 << 20) // SECTOR
    n = total - START
    mbr = bytearray(SECTOR)
    # status (0x80: bootable), CHS start, type, CHS end (LBA only), first LBA, sectors
    mbr[446:462] = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0xef, b"\xfe\xff\xff", START, n)
    mbr[510:512] = b"\x55\xaa"
    with open(out, "wb") as f:
        f.truncate(total * SECTOR)
        f.write(mbr)
    img = f"{out}@@{START * SECTOR}"
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1", LC_ALL="C")

    def mtools(*argv):
        r = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=120)
        if r.returncode:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{r.stdout}")

    mtools("mformat", "-i", img, "-T", str(n), "-h", "64", "-s", "32", "-F", "-v", "RESMEM", "::")
    dirs = sorted({os.path.dirname(p) for p in data} - {""})
    made = set()
    for d in dirs:
        parts = d.split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if sub not in made:
                mtools("mmd", "-i", img, f"::/{sub}")
                made.add(sub)
    tmp = out + ".file"
    try:
        for dest, src in data.items():
            if isinstance(src, bytes):
                with open(tmp, "wb") as f:
                    f.write(src)
                src = tmp
            mtools("mcopy", "-i", img, src, f"::/{dest}")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out
