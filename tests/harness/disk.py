"""A virtio-blk disk for a test guest, backed by a raw image file the host
reads afterwards as an independent witness.

    DISK = disk.Disk("dio", 256 * M)
    @pytest.mark.guest(boot="standard", extra_qemu=DISK.qemu_args(),
                       extra_files_from="disk_modules")
    dev = DISK.setup(g)             # the disk's device, e.g. "/dev/vda"
    DISK.read(offset, length)       # bytes of the image, after the guest flushed

The image lives in this tree's build/disks/ (sparse; made when the marker
is built, at collection, since QEMU opens it at boot).  In the guest the
disk is /dev/vda once `setup(g)` has loaded virtio_blk: the Debian
kernels build it as a module (6.1 also virtio and virtio_pci), which
`module_files(k)` packs from the kernel's image, as devdax.py packs its
modules; the guest's init runs depmod.  On the local target it is a loop
device over the same image file (LocalMachine.loop()): there /dev/vda
may be the machine's own root disk, so a test takes its device from
setup() or device(), never a fixed name.
"""
import os
import shutil
import subprocess
import tempfile

from . import devdax
from .loaded import load_resmem

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIR = os.path.join(REPO, "build", "disks")
GUEST_DEV = "/dev/vda"
MODULES = ("virtio_pci", "virtio_blk")


class Disk:
    GUEST_DEV = GUEST_DEV
    MODULES = MODULES

    def __init__(self, name, size):
        self.path = os.path.join(DIR, f"{name}.img")
        self.size = size

    def device(self, g):
        """The disk's device in g, nothing loaded: the guest's GUEST_DEV,
        or on the local machine the loop device over the image."""
        return g.loop(self.path) if getattr(g, "local", False) else self.GUEST_DEV

    def setup(self, g):
        """The disk ready in g (its driver loaded); returns its device."""
        return setup(g, self.GUEST_DEV, self.MODULES, self.path)

    def qemu_args(self):
        """QEMU arguments attaching the image as a virtio-blk disk (made here,
        empty: what a test finds on it was written in this run)."""
        os.makedirs(DIR, exist_ok=True)
        with open(self.path, "wb") as f:
            f.truncate(self.size)
        return ["-drive", f"file={self.path},format=raw,if=virtio,cache=writeback"]

    def read(self, offset, length):
        with open(self.path, "rb") as f:
            f.seek(offset)
            return f.read(length)


class Ext4Disk(Disk):
    """A disk holding an ext4 file system (no journal: what the guest's
    fdatasync() wrote is in place, not in a journal the host would have
    to replay) on the whole device, made on the host; the host reads files
    out of it with e2fsprogs' debugfs (after the guest unmounted it)."""

    def qemu_args(self):
        args = super().qemu_args()
        # made at collection, where the tests that boot with it may not run
        # at all (the local target skips them): without e2fsprogs the image
        # stays empty and only their mount fails, saying so
        mkfs = shutil.which("mkfs.ext4", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
        if mkfs:
            subprocess.run([mkfs, "-q", "-F", "-b", "4096", "-O", "^has_journal",
                            self.path], check=True, stdout=subprocess.DEVNULL)
        return args

    def mount(self, g, mnt):
        """Mounted at mnt in g; returns its device."""
        return mount_ext4(g, mnt, self.GUEST_DEV, self.MODULES, self.path)

    def module_files(self, k):
        return ext4_module_files(k, self.MODULES)

    def fresh_ring(self, g, mnt, pages):
        """resmem loaded with pages=0/1, this disk mounted at mnt (emptied at
        a boot's first mount: one disk image serves every target's boot in
        a run, what an earlier kernel's tests left is not this boot's), a
        fresh empty ring in region0."""
        load_resmem(g, pages)
        fresh = g.run(f"grep -q ' {mnt} ' /proc/mounts", check=False).status != 0
        self.mount(g, mnt)
        if fresh:
            g.run(f"rm -rf {mnt}/*")
        g.run("resmem ring region0 --reset --force >/dev/null")
        return g

    def host_file(self, g, mnt, name):
        """File name as the host finds it in the image (unmounted meanwhile)."""
        g.run(f"umount {mnt}")
        try:
            return self.file(name)
        finally:
            g.run(f"mount -t ext4 {self.device(g)} {mnt}")

    def file(self, name):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "f")
            r = subprocess.run(["debugfs", "-R", f"dump /{name} {out}", self.path],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            assert os.path.exists(out), r.stdout
            with open(out, "rb") as f:
                return f.read()


def ext4_module_files(k, modules=MODULES):
    """module_files() and ext4; before 7.x ext4 asks the crypto API for
    crc32c at mount (no module dependency: mount fails with ENOENT)."""
    crc = ("crc32c_generic",) if k.version < (7, 0) else ()
    return devdax.module_files(k, modules + ("ext4",) + crc)


def mount_ext4(g, mnt, dev=GUEST_DEV, modules=MODULES, image=None):
    """The Ext4Disk mounted at mnt in guest g (its driver loaded first);
    returns its device (on the local machine a loop device over image)."""
    dev = setup(g, dev, modules, image)
    assert shutil.which("mkfs.ext4", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"), \
        "the host has no mkfs.ext4 (e2fsprogs) to make the guest's ext4 disk"
    g.run(f"modprobe -q crc32c_generic; modprobe ext4; mkdir -p {mnt}; "
          f"grep -q ' {mnt} ' /proc/mounts || mount -t ext4 {dev} {mnt}")
    return dev


def module_files(k):
    """{guest path: host path} of the modules the disk needs on kernel k."""
    return devdax.module_files(k, MODULES)


def setup(g, dev=GUEST_DEV, modules=MODULES, image=None):
    """Loads the disk's driver (virtio_blk) in guest g and waits for the
    disk; returns its path.  On the local machine nothing is loaded: the
    disk is a loop device over the image file (attached once per run),
    never dev, which may be one of the machine's own disks."""
    if getattr(g, "local", False):
        assert image, "the local machine's disks are loop devices over an image: pass image"
        return g.loop(image)
    g.run(f"modprobe -a {' '.join(modules)}; n=0; while [ ! -b {dev} ] && [ $n -lt 100 ]; do "
          f"sleep 0.1; n=$((n+1)); done; test -b {dev}", timeout=60)
    return dev


class NvmeExt4Disk(Ext4Disk):
    """The Ext4Disk on QEMU's NVMe controller instead of virtio-blk: NVMe
    queues take memory at any 4-byte boundary (the kernel's dma_alignment
    3; statx dio_mem_align 4) where virtio-blk wants 512, so O_DIRECT can
    read into the 8-byte aligned payloads of ring records.  The guest's
    /dev/nvme0n1 once `mount(g, mnt)` has loaded nvme."""

    GUEST_DEV = "/dev/nvme0n1"
    MODULES = ("nvme",)

    def qemu_args(self):
        super().qemu_args()     # the image and its file system
        return ["-drive", f"file={self.path},format=raw,if=none,id=nvme0,cache=writeback",
                "-device", "nvme,drive=nvme0,serial=resmem0"]
