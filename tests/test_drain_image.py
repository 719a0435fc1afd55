"""resmem drain --image (issue 15, "drain at disk speed"): the ring's
committed records written to a real disk as a ring file, with O_DIRECT
io_uring writes straight from the region's mapping (its struct pages
registered as fixed buffers), and cons moved only once the image is durable.

One guest (boot "dio": x86_64 memmap=8G$4G, arm64 a 5 GiB write-back
/reserved-memory node without no-map, both with struct pages) with a
virtio-blk disk holding an ext4 file system (made on the host, no journal,
so what the guest's fdatasync wrote is in place).  Witnesses besides the
tool's own read-back (`resmem drain IMAGE`, which checks every CRC):
- the host reads the image file out of the disk image (e2fsprogs' debugfs)
  and parses it with its own ring reader (tests/ring_witness.py): every
  record's CRC, sequence number and the payload --generate wrote;
- the image's bytes between tail and head are the bytes QEMU reads at the
  region's physical address (pmemsave), the rest of the image is zeros;
- the ring header before and after (cons moves to head, nothing else).
The fallbacks (no struct pages, a file system without O_DIRECT) and a
failing write (a full file system: nothing consumed, no file left) too.
No timing is asserted here: tests/bench.py measures.
"""
import hashlib
import json
import re

import pytest

from tests import ring_witness
from tests.harness import disk, matrix
from tests.harness.pattern import seq
from tests.harness.units import G, K, M

PHYS = 4 * G             # boot "dio": region0 at 4 GiB on both architectures
HDR = 4096               # RESMEM_RING_HDR_SIZE
MNT = "/mnt/disk"
SEED = 0xD1A1


DISK = disk.Ext4Disk("drain", 256 * M)
pytestmark = [pytest.mark.guest(boot="dio", extra_qemu=DISK.qemu_args(),
                                extra_files_from="drain_modules")]


@pytest.fixture
def drain_modules(target):
    return DISK.module_files(matrix.by_name(target))


def prepare(g, pages):
    """resmem with pages=0/1, the disk mounted at MNT, a fresh empty ring."""
    return DISK.fresh_ring(g, MNT, pages)


def ring(g, name="region0"):
    return json.loads(g.run(f"resmem ring {name} --json").out)


def capture(g, count, reclen, *extra):
    g.run(f"resmem capture region0 --generate {SEED:#x} --count {count} --record-size {reclen} "
          + " ".join(extra) + " 2>/dev/null")


def payloads(first, count, reclen):
    return b"".join(seq(SEED, s * reclen, reclen) for s in range(first, first + count))


def read_back(g, image, first, count, reclen):
    """The tool's consistency check: the image read as a ring (every CRC
    checked); its records are the generator's, compared by digest."""
    r = g.run(f"rm -f /tmp/back; resmem drain {image} --no-consume --to /tmp/back", check=False)
    assert r.status == 0, r
    assert f"{count} records" in r.err and "lost 0, refused 0, corrupt 0" in r.err, r.err
    if count:
        assert f"seq {first}..{first + count - 1}," in r.err, r.err
    digest = g.run("sha256sum /tmp/back").out.split()[0]
    assert digest == hashlib.sha256(payloads(first, count, reclen)).hexdigest()


def host_image(g, name):
    """The image file as the host finds it on the disk."""
    return DISK.host_file(g, MNT, name)


def check_image(g, img, before, first, count, reclen):
    """The image, read by the host: a ring file whose records are intact and
    the generator's, whose bytes from tail to head are the region's at the
    same positions (QEMU reads guest memory), and zeros elsewhere."""
    h = ring_witness.header(img)
    ds, dr = h["data_size"], before["data_size"]
    assert len(img) == HDR + ds, (len(img), ds)
    assert h["flags"] == 2 and h["cons"] == h["tail"], h          # CLOSED: a snapshot
    assert (h["tail_seq"], h["head_seq"]) == (first, first + count), h
    length = h["head"] - h["tail"]
    assert length == before["head"] - (before["tail"] if first == before["tail_seq"]
                                       else before["cons"]), (h, before)
    recs = ring_witness.records(h, img[HDR:], h["tail"], count + 1)
    assert [r["seq"] for r in recs] == list(range(first, first + count))
    for r in recs:
        assert r["good"] and r["len"] == reclen, r["seq"]
        assert r["payload"] == seq(SEED, r["seq"] * reclen, reclen), r["seq"]
    start = before["head"] - length
    rest = bytearray(img[HDR:])
    p = 0
    while p < length:           # segments crossing neither data end
        ro, io = (start + p) % dr, (h["tail"] + p) % ds
        n = min(length - p, dr - ro, ds - io)
        assert img[HDR + io:HDR + io + n] == g.pmemsave(PHYS + HDR + ro, n), (p, ro, io)
        rest[io:io + n] = bytes(n)
        p += n
    assert rest == bytes(ds), "the image holds bytes outside tail..head"
    assert img[192:HDR] == bytes(HDR - 192)
    return h


def image(g, name, *extra, status=0):
    r = g.run(f"resmem drain region0 --image {MNT}/{name} " + " ".join(extra), check=False)
    assert r.status == status, r
    return r


def path_line(r):
    m = re.search(r"^drain region0: path: (.*)$", r.err, re.M)
    assert m, r.err
    return m[1]


def test_image_zero_copy_then_read_back(guest, target):
    """2000 records of 4000 bytes (a ragged end in every page) drained to
    an image on the disk: the summary says zero-copy io_uring O_DIRECT
    (registered fixed buffers; 6.1's io_uring registers no buffer of a
    file-backed mapping but shmem: plain O_DIRECT writes from the mapping
    there) and that at most the two ragged pages and the header went
    through a bounce buffer; cons moved to head and nothing else in the
    header; the image reads back as the 2000 records, on the guest
    (resmem drain IMAGE) and on the host.  A second drain finds nothing
    and writes an empty image that is still a valid ring.  Catches an image
    readers refuse, a rebased position off by a page, bytes from the wrong
    region offset (pmemsave differs), cons moved early or not at all, and
    a silent fallback to copying."""
    g = prepare(guest, True)
    count, reclen = 2000, 4000
    capture(g, count, reclen)
    before = ring(g)
    assert (before["cons"], before["cons_seq"], before["head_seq"]) == (0, 0, count), before
    r = image(g, "a.img")
    path = path_line(r)
    if g.k.series == "6.1":
        assert path.startswith("zero-copy io_uring O_DIRECT (buffers not registered: "
                               "EOPNOTSUPP)"), path
    else:
        assert path.startswith("zero-copy io_uring O_DIRECT, registered buffers; 8 x 4.0 MiB"
                               " in flight; "), path
    m = re.search(r"in flight; (\S+) (\S+) from the mapping, (\S+) (\S+) through bounce", path)
    assert m and m[4] == "KiB" and float(m[3]) <= 12.0, path      # 2 ragged pages + header
    assert f"{count} records" in r.err and "consumed up to seq 1999" in r.err, r.err
    after = ring(g)
    assert (after["cons"], after["cons_seq"]) == (before["head"], count), after
    assert {k: v for k, v in after.items() if k not in ("cons", "cons_seq", "unread")} == \
        {k: v for k, v in before.items() if k not in ("cons", "cons_seq", "unread")}
    read_back(g, f"{MNT}/a.img", 0, count, reclen)
    check_image(g, host_image(g, "a.img"), before, 0, count, reclen)
    # nothing left to drain: an empty image, still a ring file
    r = image(g, "empty.img", "--json")
    j = json.loads(r.out)
    assert (j["records"], j["consumed"], j["bytes"]) == (0, True, 4096), j   # the header
    read_back(g, f"{MNT}/empty.img", 0, 0, reclen)


def test_image_of_a_wrapped_ring(guest, target):
    """A ring of 1 MiB + 4 KiB + 8 bytes (its data end inside a page),
    overwritten three times over by 1000-byte records, so that tail is in
    the middle and head has wrapped: the image keeps the wrap (the older
    part ends at the image's data end with the same PAD record, the newer
    starts at data offset 0), every record from tail reads back, on the
    guest and on the host, and the image's bytes are the region's.
    Catches the wrap: a lost or misplaced second extent, a PAD record that
    no longer ends at the data end, a page written by both extents."""
    g = prepare(guest, True)
    g.run(f"resmem ring region0 --reset --force --data-size {M + 4 * K + 8} >/dev/null")
    count, reclen = 3000, 1000
    capture(g, count, reclen, "--overwrite")
    before = ring(g)
    dr = before["data_size"]
    # wrapped (this count fills it exactly: head and tail in one page, the
    # image's data area grows by a page so the two extents share none)
    assert before["head"] % dr <= before["tail"] % dr < before["head"], before
    first = before["tail_seq"]
    r = image(g, "w.img", "--from", "tail")
    assert path_line(r).startswith("zero-copy io_uring O_DIRECT"), r.err
    after = ring(g)
    assert (after["cons"], after["cons_seq"]) == (before["head"], count), after
    read_back(g, f"{MNT}/w.img", first, count - first, reclen)
    h = check_image(g, host_image(g, "w.img"), before, first, count - first, reclen)
    assert h["head"] > h["data_size"] > h["tail"], h                  # wrapped there too
    assert (h["data_size"] - dr) % 4096 == 0, h                       # same offsets mod 4 KiB


def test_image_fallbacks_and_failures(guest, target):
    """Where zero-copy cannot be, the image is still right and the reason
    is said: a file system without O_DIRECT (ramfs), a region without
    struct pages (pages=0, the PFN mapping get_user_pages() refuses).  A
    write that fails (a full tmpfs) removes the image and consumes
    nothing: the ring header is unchanged, and a drain afterwards still
    gets every record.  Catches a fallback that corrupts or drops bytes, a
    crash-unsafe cons (moved before the image was complete), a partial
    image left behind."""
    g = prepare(guest, True)
    count, reclen = 300, 4000
    capture(g, count, reclen)
    before = ring(g)
    # a full file system: fails clearly, nothing consumed, nothing left
    g.run("mkdir -p /mnt/full && mount -t tmpfs -o size=256k tmpfs /mnt/full")
    r = g.run("resmem drain region0 --image /mnt/full/x.img", check=False)
    assert r.status == 3 and "ENOSPC" in r.err, r
    assert "/mnt/full/x.img removed: nothing was consumed" in r.err, r.err
    assert g.run("ls /mnt/full").out.strip() == ""
    assert ring(g) == before
    # ramfs takes no O_DIRECT: copied, said, right
    g.run("mkdir -p /mnt/ram && mount -t ramfs ramfs /mnt/ram")
    r = g.run("resmem drain region0 --image /mnt/ram/r.img --no-consume", check=False)
    assert r.status == 0, r
    assert "no zero-copy: /mnt/ram/r.img's file system does not take O_DIRECT: EINVAL" in r.err
    assert path_line(r).startswith("copy (/mnt/ram/r.img's file system does not take "
                                   "O_DIRECT: EINVAL), io_uring; "), r.err
    assert ring(g) == before                                       # --no-consume
    read_back(g, "/mnt/ram/r.img", 0, count, reclen)
    # no struct pages: copied through bounce buffers, O_DIRECT to the disk
    g.run("umount /mnt/full /mnt/ram")
    g = prepare(guest, False)
    capture(g, count, reclen)
    before = ring(g)
    r = image(g, "p.img")
    reason = ("the region has no struct pages (sysfs pages: no: off (module parameter "
              "pages=0))")
    assert f"no zero-copy: {reason}" in r.err, r.err
    assert path_line(r).startswith(f"copy ({reason}), io_uring O_DIRECT; "), r.err
    assert ring(g)["cons"] == before["head"]
    read_back(g, f"{MNT}/p.img", 0, count, reclen)
    check_image(g, host_image(g, "p.img"), before, 0, count, reclen)


def test_image_killed_midway(guest, target):
    """A drain --image killed with SIGKILL while the image grows (64 MB of
    records written 4 KiB at a time, one write in flight, so that it is
    slow enough to catch on TCG; still zero-copy from the mapping) consumes
    nothing: the ring header is unchanged, and the partial file has no
    ring header (written last) so no reader takes it, only pages that are
    the region's or holes.  A second drain --image then writes every
    record once, as the host reads them (debugfs, pmemsave).  Catches cons
    moved before the image is durable, a header written before the data,
    pinned pages or io_uring state that a killed drain leaves behind so
    that the next one fails."""
    g = prepare(guest, True)
    count, reclen = 16000, 4000
    g.run(f"rm -f {MNT}/k1.img {MNT}/k2.img")
    capture(g, count, reclen)
    before = ring(g)
    r = g.run(f"resmem drain region0 --image {MNT}/k1.img --io-size 4K --io-depth 1 "
              f"2>/tmp/k1.err & pid=$!; n=0; "
              f"while [ $(stat -c %s {MNT}/k1.img 2>/dev/null || echo 0) -lt {16 * M} ] "
              f"&& [ $n -lt 20000 ]; do n=$((n+1)); done; "
              f"kill -9 $pid; wait $pid; echo status $?; stat -c %s {MNT}/k1.img",
              timeout=300)
    status, size = r.out.split()[1], int(r.out.split()[2])
    assert status == "137", (r, g.run("cat /tmp/k1.err").out)   # killed, not finished
    assert 16 * M <= size < HDR + before["data_size"], size
    assert ring(g) == before, "a killed drain moved cons (or anything else)"
    r = g.run(f"resmem drain {MNT}/k1.img --no-consume --to /dev/null", check=False)
    assert r.status != 0 and "no ring" in r.err, r
    part = host_image(g, "k1.img")
    assert part[:HDR] == bytes(HDR), "the header was written before the data"
    region = g.pmemsave(PHYS + HDR, len(part) - HDR)
    same = 0
    for p in range(HDR, len(part) - len(part) % 4096, 4096):
        page = part[p:p + 4096]
        if page == region[p - HDR:p - HDR + 4096]:
            same += 1
        else:
            assert page == bytes(4096), f"image page at {p} is neither the region's nor a hole"
    assert same >= 16 * M // 4096 - 2, same
    # the next drain gets every record, once; cons moves only now
    g.run(f"rm {MNT}/k1.img")
    r = image(g, "k2.img")
    assert f"{count} records" in r.err and f"consumed up to seq {count - 1}" in r.err, r.err
    after = ring(g)
    assert (after["cons"], after["cons_seq"]) == (before["head"], count), after
    read_back(g, f"{MNT}/k2.img", 0, count, reclen)
    check_image(g, host_image(g, "k2.img"), before, 0, count, reclen)
    g.run(f"rm {MNT}/k2.img")
