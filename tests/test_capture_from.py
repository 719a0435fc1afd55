"""resmem capture NAME --from FILE (issue 15, "a drain at disk speed", the
other way): the file's whole records read with O_DIRECT io_uring straight
into their payloads in the region's mapping (the region's struct pages;
registered fixed buffers where io_uring takes them, 7.x; plain O_DIRECT
reads from the mapping on 6.1), committed in order; the ragged end and
every fallback through read() and a copy.

One guest (boot "dio", as tests/test_drain_image.py) with an NVMe disk
holding ext4: NVMe takes memory at 4-byte boundaries where virtio-blk
wants 512 (statx dio_mem_align), and record payloads sit at 8-byte
boundaries in the ring.  Witnesses besides the tool's own read-back:
- the host reads the source file out of the disk image (debugfs);
- the host reads the ring out of guest memory (QMP pmemsave) and parses
  it with its own reader (tests/ring_witness.py): every CRC, and the
  payloads are the file's bytes in order;
- the ring the zero-copy path made and the one the copy path (--copy)
  made are the same bytes but for each record's time_ns and CRC.
"""
import re

import pytest

from tests import ring_witness
from tests.harness import disk, matrix
from tests.harness.units import G, M

PHYS = 4 * G             # boot "dio": region0 at 4 GiB on both architectures
HDR = 4096               # RESMEM_RING_HDR_SIZE
MNT = "/mnt/nvme"

DISK = disk.NvmeExt4Disk("capfrom", 256 * M)
pytestmark = [pytest.mark.guest(boot="dio", extra_qemu=DISK.qemu_args(),
                                extra_files_from="capfrom_modules")]


@pytest.fixture
def capfrom_modules(target):
    return DISK.module_files(matrix.by_name(target))


def prepare(g, pages):
    return DISK.fresh_ring(g, MNT, pages)


def host_file(g, name):
    return DISK.host_file(g, MNT, name)


def capture(g, src, reclen, *extra):
    r = g.run(f"resmem capture region0 --from {src} --record-size {reclen} " + " ".join(extra),
              check=False)
    assert r.status == 0, r
    m = re.search(r"^capture region0: path: (.*)$", r.err, re.M)
    assert m, r.err
    return r, m[1]


def host_ring(g):
    """The ring's header and data bytes up to head, from guest memory."""
    h = ring_witness.header(g.pmemsave(PHYS, HDR))
    assert h["tail"] == 0 and h["head"] < h["data_size"], h       # no wrap here
    return h, g.pmemsave(PHYS + HDR, h["head"])


def masked(h, data):
    """The data bytes with each record's time_ns, epoch (a reset continues
    it) and crc zeroed."""
    out = bytearray(data)
    for r in ring_witness.records(h, data, 0, 1 << 30):
        off = r["pos"] % h["data_size"]
        out[off + 16:off + 24] = bytes(8)     # time_ns
        out[off + 24:off + 32] = bytes(8)     # epoch, crc
    return bytes(out)


def check_records(h, data, src, reclen):
    """The ring's records are the file's bytes, reclen at a time, all good."""
    recs = ring_witness.records(h, data, 0, 1 << 30)
    count = (len(src) + reclen - 1) // reclen
    assert [r["seq"] for r in recs] == list(range(count)), (len(recs), count)
    for r in recs:
        assert r["good"], f"record {r['seq']}: CRC mismatch seen from the host"
        assert r["payload"] == src[r["seq"] * reclen:(r["seq"] + 1) * reclen], r["seq"]


def read_back(g, src_path, count):
    """A second path: the records read() out by drain are the file."""
    r = g.run("rm -f /tmp/back; resmem drain region0 --no-consume --to /tmp/back", check=False)
    assert r.status == 0 and f"{count} records" in r.err and "corrupt 0" in r.err, r
    assert g.run("sha256sum < /tmp/back").out.split()[0] == \
        g.run(f"sha256sum < {src_path}").out.split()[0]


def test_capture_from_zero_copy_same_ring_as_copy(guest, target):
    """A file of 3000 records of 4 KiB and a ragged 1234 bytes captured
    twice into a fresh ring: straight into the mapping (the path line says
    zero-copy, vectored reads of 1024 records), then with --copy.  Both rings hold the
    file's bytes as the host reads them, every CRC good, and are the same
    bytes but for time_ns, epoch and crc.  Catches a record committed before its
    read completed (zeros or stale bytes in a payload), records out of
    order, a placement that differs from the producer's, a lost ragged
    end, a silent fallback to copying.  Then records of 256 KiB, one a
    read, from the ring registered as fixed buffers (6.1's io_uring
    registers no buffer of the mapping: plain O_DIRECT reads into it)."""
    g = prepare(guest, True)
    reclen, size = 4096, 3000 * 4096 + 1234
    src = f"{MNT}/src.bin"
    g.run(f"head -c {size} /dev/urandom > {src}; sync")
    r, path = capture(g, src, reclen)
    # 1024 records a read: vectored (IORING_OP_READV), no fixed buffers
    assert path == ("zero-copy io_uring O_DIRECT, vectored reads of 1024 records; 8 x 4.0 MiB "
                    "in flight; 11.7 MiB into the mapping, 1.2 KiB copied"), path
    assert "no zero-copy" not in r.err and "3001 records" in r.err, r.err
    h1, d1 = host_ring(g)
    assert h1["head_seq"] == 3001, h1
    read_back(g, src, 3001)
    g.run("resmem ring region0 --reset --force >/dev/null")
    r, path = capture(g, src, reclen, "--copy")
    assert "no zero-copy: asked for (--copy): reading with read() and copying" in r.err, r.err
    assert path == "copy (asked for (--copy)), read(); 0 B into the mapping, 11.7 MiB copied", path
    h2, d2 = host_ring(g)
    assert h2["head"] == h1["head"] and h2["head_seq"] == h1["head_seq"], (h1, h2)
    assert masked(h1, d1) == masked(h2, d2), "zero-copy and copy rings differ"
    data = host_file(g, "src.bin")
    assert len(data) == size
    check_records(h1, d1, data, reclen)
    # a record a read: from the registered ring (READ_FIXED), 6.1 excepted
    g.run("resmem ring region0 --reset --force >/dev/null")
    r, path = capture(g, src, 256 * 1024, "--io-size", "256K")
    if g.k.series == "6.1":
        assert path.startswith("zero-copy io_uring O_DIRECT (buffers not registered: "
                               "EOPNOTSUPP); 8 x 256.0 KiB in flight; "), path
    else:
        assert path.startswith("zero-copy io_uring O_DIRECT, registered buffers; "
                               "8 x 256.0 KiB in flight; "), path
    assert path.endswith("; 11.5 MiB into the mapping, 225.2 KiB copied"), path
    h3, d3 = host_ring(g)
    check_records(h3, d3, data, 256 * 1024)


def test_capture_from_fallbacks(guest, target):
    """Where the records cannot go straight into the ring, capture says why
    and copies, with the same result: records that do not start at
    multiples of the disk's 512-byte blocks in the file (statx), a file
    system without O_DIRECT (ramfs), a region without struct pages
    (pages=0).  Catches a fallback that drops or reorders bytes, an
    O_DIRECT attempt that fails half-way, a reason not said."""
    g = prepare(guest, True)
    src = f"{MNT}/fb.bin"
    size = 700 * 1000 + 17
    g.run(f"head -c {size} /dev/urandom > {src}; sync")
    r, path = capture(g, src, 1000)
    assert "no zero-copy: records do not start at multiples of 512 bytes in the file " \
           f"(statx dio_offset_align of {src})" in r.err, r.err
    assert path.startswith("copy (records do not start"), path
    h, d = host_ring(g)
    check_records(h, d, host_file(g, "fb.bin"), 1000)
    g.run("mkdir -p /mnt/ram && (grep -q ' /mnt/ram ' /proc/mounts || "
          "mount -t ramfs ramfs /mnt/ram)")
    g.run(f"cp {src} /mnt/ram/fb.bin; resmem ring region0 --reset --force >/dev/null")
    r, path = capture(g, "/mnt/ram/fb.bin", 4096)
    assert "no zero-copy: /mnt/ram/fb.bin's file system does not take O_DIRECT: EINVAL" \
        in r.err, r.err
    read_back(g, "/mnt/ram/fb.bin", (size + 4095) // 4096)
    g = prepare(guest, False)
    r, path = capture(g, src, 4096)
    assert "no zero-copy: the region has no struct pages (sysfs pages: no" in r.err, r.err
    read_back(g, src, (size + 4095) // 4096)
    g.run("umount /mnt/ram")


def test_capture_from_killed_midway(guest, target):
    """capture --from FILE killed with SIGKILL while reads are in flight
    (16 KiB reads of 4 records each, 4 at a time, so that they complete
    out of order): every record the ring committed is complete and the
    file's, as the host reads guest memory, and none after head was
    published; a drain takes them out.  Catches head moved past a record
    whose read had not completed (zeros or stale bytes with a CRC computed
    over them would still pass the CRC: the host compares the bytes)."""
    g = prepare(guest, True)
    reclen, count = 4096, 16000
    src = f"{MNT}/kill.bin"
    g.run(f"head -c {count * reclen} /dev/urandom > {src}; sync; echo 3 > /proc/sys/vm/drop_caches")
    r = g.run(f"resmem capture region0 --from {src} --io-size 16K --io-depth 4 2>/tmp/k.err & "
              f"pid=$!; n=0; while [ $n -lt 2000 ]; do "
              f"s=$(resmem ring region0 --json | sed -n 's/.*\"head_seq\": \\([0-9]*\\).*/\\1/p'); "
              f"[ \"${{s:-0}}\" -ge 1000 ] && break; n=$((n+1)); done; "
              f"kill -9 $pid; wait $pid; echo status $?", timeout=300)
    assert r.out.split()[-1] == "137", (r, g.run("cat /tmp/k.err").out)
    h, d = host_ring(g)
    assert 1000 <= h["head_seq"] < count, h
    assert not h["flags"] & 2, h                  # not closed: it was killed
    data = host_file(g, "kill.bin")
    check_records(h, d, data[:h["head_seq"] * reclen], reclen)
    r = g.run("resmem drain region0 --to /tmp/k.out", check=False)
    assert r.status == 0 and f"{h['head_seq']} records" in r.err, r
    assert g.run("sha256sum < /tmp/k.out").out.split()[0] == \
        g.run(f"head -c {h['head_seq'] * reclen} {src} | sha256sum").out.split()[0]
    g.run(f"rm {src}")
