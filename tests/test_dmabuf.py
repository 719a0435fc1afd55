"""Windows of a region as dma-bufs (RESMEM_IOC_EXPORT, module/dmabuf.c),
proven with an in-tree importer: V4L2's vivid captures frames into them.

`tests/guest/v4l2dmabuf.c` exports NBUF page-aligned windows of the
standard region, queues them on vivid's capture node as
V4L2_MEMORY_DMABUF buffers and streams.  vivid imports them through
videobuf2: with `allocators=0` (vb2-vmalloc) it writes each frame through
the buffer's kernel mapping (dma_buf_vmap()), with `allocators=1`
(vb2-dma-contig) it also maps the buffer for its device
(dma_buf_map_attachment(), the sg_table) and checks it is contiguous.
The witness is the host: QEMU reads guest physical memory at the region's
address (pmemsave) and must find there the frames, byte for byte what the
guest reads back through read() of /dev/resmem/NAME, which look like
vivid's colour-bar test pattern (identical rows below the text overlay,
several colours across), and nothing written outside the windows (the
helper filled the whole span with 0x5a first).

Also: a bad window or request is refused with EINVAL and a log line with
the numbers; a read-only open exports only read-only buffers; the
dma-buf's mmap and DMA_BUF_IOCTL_SYNC work (host witness again); the
module cannot be unloaded while a buffer exists (`resmem export`).
"""
import hashlib
import re

import pytest

from tests.harness import boots, devdax, matrix
from tests.harness.pattern import seq
from tests.harness.units import K, M

# vivid needs its modules and, for dma-contig, a region below 4 GiB: a boot
# of its own, on every kernel (core: an importer's view of the export is
# what a kernel change would break).  The rest needs neither and shares the
# standard boot on every kernel: the dma-buf's mmap goes through a
# different path per kernel (module/compat.h: vfs_mmap()).
VIVID_BOOT = pytest.mark.guest(boot="dmabuf", extra_files_from="vivid_modules")
STANDARD_BOOT = pytest.mark.guest(boot="standard")

VIVID = ("vivid",)
FILL = 0x5A
BASE = 2 * M            # first window's region offset
STRIDE = 128 * K        # windows this far apart: the rest of each stride is a gap
NBUF = 4
FRAMES = 10
WIDTH, HEIGHT = 320, 180        # a size vivid's webcam input offers
# vb2 allocator (vivid's allocators=) -> whether the windows must be below
# 4 GiB: vivid's device has a 32-bit DMA mask, and dma-contig maps the
# buffer for it (resmem refuses a device that cannot reach the window
# rather than let swiotlb bounce it, which the dma-contig case checks too)
ALLOCATORS = {"vmalloc": 0, "dma-contig": 1}
LOW = {"vmalloc": False, "dma-contig": True}


@pytest.fixture
def vivid_modules(target):
    return devdax.module_files(matrix.by_name(target), VIVID)


def region(g, boot="standard", low=False):
    """(name, device, physical address) of the boot's standard region (above
    4 GiB), or of the "dmabuf" boot's small one below 4 GiB (`low`); the
    name from sysfs, by address."""
    phys = boots.regions(g.k.arch, boot)[0 if low else -1][0]
    name = g.run("for d in /sys/class/resmem/*; do [ $(($(cat $d/phys_addr))) = "
                 f"{phys} ] && echo ${{d##*/}}; done; true").out.split()
    assert len(name) == 1, f"no region at {phys:#x}: {name}"
    return name[0], f"/dev/resmem/{name[0]}", phys


def load_resmem(g, boot="standard"):
    """resmem loaded and showing the boot's standard region (reloaded with
    its defaults if another test of a shared boot left it loaded with
    regions= or discover=0 of its own)."""
    phys = boots.regions(g.k.arch, boot)[-1][0]
    g.run("grep -q '^resmem ' /proc/modules && for d in /sys/class/resmem/*; do "
          f"[ $(($(cat $d/phys_addr))) = {phys} ] && exit 0; done; "
          "rmmod resmem 2>/dev/null; modprobe resmem")


def load_vivid(g, allocator):
    """vivid with one capture node using `allocator`; returns its device node."""
    g.run(f"rmmod vivid 2>/dev/null; modprobe vivid n_devs=1 node_types=0x1 num_inputs=1 "
          f"input_types=0 allocators={allocator}", timeout=120)
    return g.run("n=0; while [ ! -e /sys/class/video4linux/video0 ] && [ $n -lt 50 ]; do "
                 "sleep 0.1; n=$((n+1)); done; for d in /sys/class/video4linux/video*; do "
                 "grep -q vivid $d/name && echo /dev/${d##*/}; done").out.split()[0]


def dmesg_since(g, mark):
    g.console_sync()
    return g.console()[mark:]


def colour_bars(frame, bpl, height):
    """True if a YUYV frame looks like vivid's default picture, the eight
    vertical bars of a colour-bar pattern with text drawn over rows near
    the top: the first row and the bottom eighth of the frame are one row
    repeated, with eight different luma values across it."""
    rows = [frame[y * bpl:(y + 1) * bpl] for y in [0, *range(height - height // 8, height)]]
    return all(r == rows[0] for r in rows) and len(set(rows[0][0::2])) == 8


def capture(g, dev, video, ro=False):
    """Runs the capture helper on `dev`'s windows (exported read-only with
    `ro`); returns its Result."""
    return g.run(f"v4l2dmabuf capture {dev} {video} {BASE:#x} {STRIDE:#x} {NBUF} {FRAMES} "
                 f"{WIDTH} {HEIGHT}{' ro' if ro else ''}", timeout=300, check=False)


@pytest.mark.core
@VIVID_BOOT
@pytest.mark.parametrize("alloc", ALLOCATORS)
def test_vivid_captures_frames_into_the_region(guest, target, alloc):
    """vivid fills dma-bufs exported from the region: the frames are at the
    windows' physical addresses.  Catches a vmap or sg_table pointing at
    other memory (the host would find 0x5a there), the wrong window offset
    or a window mapped shorter than asked (frames at the wrong place, or the
    importer refusing a short buffer), writes outside the windows (the gap
    bytes change), an sg_table the dma-contig importer does not take as one
    contiguous range (QBUF fails), and frames that are not vivid's picture.
    With dma-contig, also: a window above vivid's 32-bit DMA mask is not
    mapped for its device: QBUF fails, the log says why with the numbers,
    and nothing lands there (swiotlb would have taken the frames elsewhere
    while the importer believed them in the region).  And read-only
    buffers are not mapped for the device to write: QBUF fails, the log
    says why, the windows keep their bytes.  (vb2-vmalloc writes through
    dma_buf_vmap(), which an exporter cannot refuse: not checked there.)"""
    g = guest
    load_resmem(g, "dmabuf")
    video = load_vivid(g, ALLOCATORS[alloc])
    name, dev, phys = region(g, "dmabuf", low=LOW[alloc])
    r = capture(g, dev, video)
    assert r.status == 0 and r.out.rstrip().endswith("done"), r
    fmt = re.search(r"^fmt (\d+) (\d+) (\d+) (\d+) (\d+)$", r.out, re.M)
    sizeimage, bpl, window, width, height = map(int, fmt.groups())
    assert (width, height) == (WIDTH, HEIGHT) and bpl == 2 * WIDTH, r.out
    assert sizeimage == bpl * height and window == -(-sizeimage // (4 * K)) * 4 * K, r.out
    frames = [tuple(map(int, m.groups())) for m in
              re.finditer(r"^frame (\d+) (\d+) (\d+)$", r.out, re.M)]
    assert len(frames) == FRAMES, r.out     # none flagged " error"
    assert all(used == sizeimage for _, _, used in frames), r.out
    assert [s for _, s, _ in frames] == sorted(set(s for _, s, _ in frames)), r.out
    assert {i for i, _, _ in frames} == set(range(NBUF)), r.out

    sums = g.run(" ; ".join(f"dd if={dev} bs=4096 skip={(BASE + i * STRIDE) // 4096} "
                            f"count={window // 4096} 2>/dev/null | head -c {sizeimage} | sha256sum"
                            for i in range(NBUF))).out.split()[0::2]
    for i in range(NBUF):
        host = g.pmemsave(phys + BASE + i * STRIDE, STRIDE)
        frame = host[:sizeimage]
        assert host[sizeimage:] == bytes([FILL]) * (STRIDE - sizeimage), \
            f"buffer {i}: bytes past the frame changed (window and gap must keep 0x{FILL:x})"
        assert frame.count(FILL) < sizeimage // 2, f"buffer {i}: no frame at its window"
        assert colour_bars(frame, bpl, height), f"buffer {i}: not vivid's colour bars"
        assert hashlib.sha256(frame).hexdigest() == sums[i], \
            f"buffer {i}: read() of {dev} and the host disagree"

    if alloc == "dma-contig":
        _, high, hphys = region(g, "dmabuf")
        mark = g.mark()
        r = capture(g, high, video)
        assert r.status == 1 and "VIDIOC_QBUF: Invalid argument" in r.err, r
        log = dmesg_since(g, mark)
        assert re.search(rf"resmem: region \S+ \[mem {hphys + BASE:#x}-\S+\] is at bus "
                         r"addresses \S+, above this device's DMA limit 0xffffffff", log), log[-2000:]
        assert g.pmemsave(hphys + BASE, STRIDE) == bytes([FILL]) * STRIDE

        mark = g.mark()
        r = capture(g, dev, video, ro=True)
        assert r.status == 1 and "VIDIOC_QBUF: " in r.err, r
        log = dmesg_since(g, mark)
        assert "read-only buffer mapped for the device to write" in log, log[-2000:]
        assert g.pmemsave(phys + BASE, NBUF * STRIDE) == bytes([FILL]) * NBUF * STRIDE
    g.run("rmmod vivid")


# name: (open mode, offset, length, flags, reserved, errno, what the log line says)
BAD = {
    "offset-unaligned": ("rw", 0x800, 0x1000, 1, 0, "EINVAL", "export offset 0x800"),
    "length-unaligned": ("rw", 0x1000, 0x1800, 1, 0, "EINVAL", "offset 0x1000, length 0x1800"),
    "offset-at-end": ("rw", "size", 0x1000, 1, 0, "EINVAL", "export offset {size:#x}"),
    "past-the-end": ("rw", "last", 0x2000, 1, 0, "EINVAL", "offset {last:#x}, length 0x2000"),
    "wraps": ("rw", 0x1000, 0xFFFFFFFFFFFFF000, 1, 0, "EINVAL",
              "offset 0x1000, length 0xfffffffffffff000"),
    "unknown-flag": ("rw", 0, 0x1000, 0x4, 0, "EINVAL", "flags 0x4 has unknown bits 0x4"),
    "reserved-set": ("rw", 0, 0x1000, 1, 7, "EINVAL", "reserved fields must be zero"),
    "rdwr-from-read-only-open": ("ro", 0, 0x1000, 1, 0, "EBADF",
                                 "RESMEM_EXPORT_RDWR through a file not open for writing"),
}


@STANDARD_BOOT
@pytest.mark.core
def test_bad_exports_refused_read_only_exported(guest, target):
    """Each bad request fails with its errno and a log line naming the
    numbers, while good ones through the same files succeed (so each
    refusal is about its bad field); through a read-only open a read-only
    export works, and length 0 means to the end of the region (the
    dma-buf's size says so)."""
    g = guest
    load_resmem(g)
    name, dev, _ = region(g)
    size = int(g.run(f"cat /sys/class/resmem/{name}/size").out.split()[0], 0)
    for case, (mode, off, length, flags, reserved, err, words) in BAD.items():
        off = {"size": size, "last": size - 4096}.get(off, off)
        mark = g.mark()
        r = g.run(f"v4l2dmabuf export {dev} {mode} {off:#x} {length:#x} {flags:#x} {reserved}")
        assert r.out.strip() == f"errno={err}", (case, r)
        log = dmesg_since(g, mark)
        assert words.format(size=size, last=size - 4096) in log, (case, log[-2000:])
    assert g.run(f"v4l2dmabuf export {dev} rw 0x1000 0x2000 1 0").out.strip() == "ok 8192"
    assert g.run(f"v4l2dmabuf export {dev} ro 0x3000 0x5000 0 0").out.strip() == "ok 20480"
    assert g.run(f"v4l2dmabuf export {dev} ro 0x3000 0 0 0").out.strip() == f"ok {size - 0x3000}"


@STANDARD_BOOT
@pytest.mark.core
def test_dmabuf_mmap_and_cpu_sync(guest, target):
    """A pattern written through an mmap of the dma-buf between
    DMA_BUF_IOCTL_SYNC start and end lands at the window's physical
    address (host witness) and reads back; MAP_PRIVATE, a mapping past the
    buffer and a writable mapping of a read-only export fail.  A read
    sync on a read-only export of a writable region is EBADF: it would
    invalidate cache lines others may still have dirty (module/sync.c)."""
    g = guest
    load_resmem(g)
    _, dev, phys = region(g)
    off, length, seed = 3 * M + 8 * K, 64 * K, 0xD3AB0F
    r = g.run(f"v4l2dmabuf mmap {dev} {off:#x} {length:#x} {seed:#x}", check=False)
    assert (r.status, r.out.strip()) == (0, "ok ro_read_sync=errno=EBADF"), r
    assert g.pmemsave(phys + off, length) == seq(seed, off, length)


@STANDARD_BOOT
@pytest.mark.core
def test_unload_refused_while_exported(guest, target):
    """`resmem export` runs a command holding the dma-buf: the fd it names
    is a dma-buf of the resmem exporter with the window's size, and rmmod
    resmem fails while it exists; once the command is gone it succeeds."""
    g = guest
    load_resmem(g)
    name, _, _ = region(g)
    r = g.run(f"resmem export {name} --offset 1M --length 64K -- sh -c "
              "'cat /proc/self/fdinfo/$RESMEM_DMABUF_FD; echo size=$RESMEM_DMABUF_SIZE; "
              "rmmod resmem; echo rmmod=$?'", check=False)
    assert r.status == 0, r
    assert re.search(r"^size:\s+65536$", r.out, re.M), r.out
    assert re.search(r"^exp_name:\s+resmem$", r.out, re.M), r.out
    assert "size=65536" in r.out, r.out
    assert re.search(r"^rmmod=[1-9]", r.out, re.M), r.out
    assert g.run("grep -c '^resmem ' /proc/modules").out.strip() == "1"
    g.run("rmmod resmem")
    assert g.run("grep -c '^resmem ' /proc/modules", check=False).out.strip() == "0"
    g.run("modprobe resmem")


UNPLUG = "insmod /lib/modules/$(uname -r)/testmods/resmem_test_unplug.ko"


@pytest.mark.core
@pytest.mark.archs("aarch64")
@pytest.mark.guest(boot="dt-devices")
def test_region_removed_while_exported(guest, target):
    """A device-tree region (dma-a of the "dt-devices" boot, which
    tests/kmod/resmem_test_unplug removes as an overlay removal would)
    goes while a process holds a dma-buf of it, mapped and written: the
    removal says a buffer exists, the claim stays while it does (a device
    may still be writing), the buffer's mapping is revoked (SIGBUS) and a
    new one and a sync fail with ENODEV; once the process exits the claim
    is released, and the device comes back.  Catches a buffer whose
    mappings removal cannot see (not in the region's address_space), a
    claim released under a live buffer, and any oops on the way."""
    g = guest
    g.run("grep -q '^resmem ' /proc/modules || modprobe resmem")
    phys = int(g.run("cat /sys/class/resmem/dma-a/phys_addr").out, 16)
    off, length, seed = 0x4000, 0x8000, 0xD7A5
    mark = g.mark()
    r = g.run(f"rm -f /tmp/go; v4l2dmabuf hold /dev/resmem/dma-a {off:#x} {length:#x} {seed:#x} "
              "/tmp/go >/tmp/hold.out 2>&1 </dev/null & pid=$!; n=0; "
              "while ! grep -q held /tmp/hold.out && [ $n -lt 300 ]; do sleep 0.1; n=$((n+1)); done; "
              f"{UNPLUG} || kill -9 $pid; grep -c 'resmem: dma-a' /proc/iomem; touch /tmp/go; "
              "wait $pid; echo status=$?; cat /tmp/hold.out; grep -c 'resmem: dma-a' /proc/iomem",
              timeout=300, check=False)
    lines = r.out.split()
    assert lines[0] == "1", f"claim released under a live dma-buf: {r.out}"
    assert lines[-1] == "0", f"claim kept after the last dma-buf went: {r.out}"
    got = dict(ln.split("=", 1) for ln in lines[1:-1] if "=" in ln)
    assert got == {"status": "0", "sync": "ENODEV", "touch": "SIGBUS", "mmap": "ENODEV"}, r
    assert g.pmemsave(phys + off, length) == seq(seed, off, length)
    log = dmesg_since(g, mark)
    assert re.search(r"dma-a \[mem \S+\]: removed while 1 dma-bufs exported from it exist", log), log
    assert re.search(r"dma-a \[mem \S+\]: its last dma-buf is gone; claim released", log), log
    g.run("rmmod resmem_test_unplug")
    assert "dma-a" in g.run("ls /sys/class/resmem").out
