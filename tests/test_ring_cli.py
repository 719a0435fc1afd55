"""No silent destruction of captured data, and numbers a monitor can read
(issue 18), on rings in regular files (--file): host only, no module.

- fill and ring --reset refuse a ring with records no drain has taken out,
  and a region a running capture holds (its flock), unless --force;
- capture refuses to produce into unread records of an earlier session (what
  a crash leaves behind) unless --overwrite-previous;
- drain --to FILE never truncates: a non-empty FILE is refused unless
  --append, which adds the records (and index lines with continuing offsets);
- capture --json / drain --json print one JSON object; --stats N lines are
  JSON objects whose counters add up to it; a terminal shows "waiting for
  consumer" while capture waits on a full ring.

Witnesses: the file's bytes before and after (nothing written), the ring
header as `resmem ring --json` reads it, and `resmem verify` of what a later
drain takes out (the records are still the pattern capture wrote)."""
import fcntl
import json
import os
import re
import subprocess
import tempfile

import pytest

from tests import ring_witness
from tests.harness import hostbuild, pattern, tty

SEED = 0x5AFE
RECLEN = 1000


@pytest.fixture(scope="module")
def resmem(tmp_path_factory):
    # RESMEM_TEST_CLI: run these tests against another build (e.g. an older
    # one, to see them fail there)
    return os.environ.get("RESMEM_TEST_CLI") or hostbuild.resmem(tmp_path_factory.mktemp("cli"))


def run(resmem, *argv, **kw):
    return subprocess.run([resmem, *map(str, argv)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60, **kw)


def ring_json(resmem, f):
    r = run(resmem, "ring", f, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture
def ring(resmem, tmp_path):
    """A 1 MiB ring file holding 20 unread records of seq:SEED (epoch 1)."""
    f = tmp_path / "ring.bin"
    f.write_bytes(b"\0" * (1 << 20))
    r = run(resmem, "capture", f, "--file", "--generate", hex(SEED), "--count", 20,
            "--record-size", RECLEN)
    assert r.returncode == 0, r.stderr
    return f


def drained_intact(resmem, f, tmp_path, n):
    """Drain (consuming) to a new file: n records, the pattern capture wrote."""
    out = tmp_path / f"out{n}-{os.urandom(4).hex()}.bin"
    d = run(resmem, "drain", f, "--to", out)
    assert d.returncode == 0 and f"{n} records" in d.stderr, d.stderr
    v = run(resmem, "verify", out, f"seq:{SEED:#x}")
    assert v.returncode == 0, v.stdout + v.stderr
    return out


def test_fill_refuses_a_ring_with_unread_records(resmem, ring, tmp_path):
    """fill over a ring nobody drained: exit 1, says what is there (how many
    records, which epoch) and how to go on; not one byte changes."""
    before = ring.read_bytes()
    r = run(resmem, "fill", ring, "zero", "--file", "--offset", "64K")
    assert r.returncode == 1, r
    assert "20 unread records" in r.stderr and "epoch 1" in r.stderr, r.stderr
    assert f"resmem drain {ring} --to FILE" in r.stderr and "--force" in r.stderr, r.stderr
    assert ring.read_bytes() == before
    drained_intact(resmem, ring, tmp_path, 20)
    # drained: nothing unread, fill goes ahead
    r = run(resmem, "fill", ring, "zero", "--file", "--offset", "64K")
    assert r.returncode == 0, r.stderr
    assert ring.read_bytes()[64 << 10:] == b"\0" * ((1 << 20) - (64 << 10))


def test_fill_force_destroys_and_says_so(resmem, ring):
    r = run(resmem, "fill", ring, "0xab", "--file", "--force")
    assert r.returncode == 0 and "20 unread ring records destroyed (--force)" in r.stderr, r
    assert ring.read_bytes() == b"\xab" * (1 << 20)


def test_ring_reset_refuses_unread_records(resmem, ring):
    before = ring.read_bytes()
    r = run(resmem, "ring", ring, "--reset", "--file")
    assert r.returncode == 1 and "20 unread records" in r.stderr and "not reset" in r.stderr, r
    assert ring.read_bytes() == before
    r = run(resmem, "ring", ring, "--reset", "--file", "--force")
    assert r.returncode == 0 and "ring reset" in r.stdout, r
    assert ring_json(resmem, ring)["head_seq"] == 0


def test_writers_refuse_a_region_a_capture_holds(resmem, tmp_path):
    """A capture waiting for input holds the region's lock: fill (even of a
    file without a ring yet) and ring --reset are refused, the capture's
    records all arrive."""
    f = tmp_path / "ring.bin"
    f.write_bytes(b"\0" * (1 << 20))
    cap = subprocess.Popen([resmem, "capture", str(f), "--file", "--record-size", "8"],
                           stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # wait (no clock) until the capture holds the lock: it creates the
        # ring under it.  (Probing with flock could itself make the capture's
        # LOCK_NB fail.)
        while run(resmem, "ring", f, "--json").returncode != 0:
            assert cap.poll() is None, cap.stderr.read()
        cap.stdin.write(b"A" * 16)
        cap.stdin.flush()
        for argv in (["fill", f, "zero", "--file", "--offset", "512K"],
                     ["ring", f, "--reset", "--file"]):
            r = run(resmem, *argv)
            assert r.returncode == 1, r
            assert "a resmem capture is producing into this ring" in r.stderr, r.stderr
            assert "Stop the capture first" in r.stderr, r.stderr
        assert f.read_bytes()[512 << 10:] == b"\0" * (512 << 10)
    finally:
        cap.stdin.close()
        err = cap.stderr.read().decode()
        assert cap.wait(timeout=60) == 0, err
    assert "2 records" in err, err
    st = ring_json(resmem, f)
    assert st["head_seq"] == 2 and st["epoch"] == 1, st


def test_ring_reset_force_goes_on_under_a_lock_without_a_ring(resmem, tmp_path):
    """A region holding no valid ring (zeroed) while a producer holds its
    lock: ring --reset refuses, --reset --force creates the ring and says it
    went on under the lock (it used to refuse even with --force)."""
    f = tmp_path / "ring.bin"
    f.write_bytes(b"\0" * (1 << 20))
    with open(f, "rb") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        r = run(resmem, "ring", f, "--reset", "--file")
        assert r.returncode == 1 and "Stop the capture first" in r.stderr, r
        assert "not reset" in r.stderr, r.stderr
        assert f.read_bytes() == b"\0" * (1 << 20)
        r = run(resmem, "ring", f, "--reset", "--file", "--force")
        assert r.returncode == 0 and "ring reset" in r.stdout, r
        assert "going on (--force)" in r.stderr, r.stderr
    st = ring_json(resmem, f)
    assert st["head_seq"] == 0 and st["data_size"] == (1 << 20) - st["data_offset"], st


def test_capture_keeps_what_an_earlier_session_left(resmem, ring, tmp_path):
    """A restarted capture must not erase a crash's evidence: refused while
    records of the earlier session are unread, the ring untouched."""
    before = ring.read_bytes()
    for mode in ([], ["--overwrite"]):
        r = run(resmem, "capture", ring, "--generate", "1", "--count", 3000,
                "--record-size", RECLEN, *mode)
        assert r.returncode == 1, r
        assert "20 unread records" in r.stderr and "from seq 0, epoch 1" in r.stderr, r.stderr
        assert f"resmem drain {ring} --to FILE" in r.stderr, r.stderr
        assert "--overwrite-previous" in r.stderr, r.stderr
        assert ring.read_bytes() == before
    # a crash: a capture killed while it produced leaves unread records of epoch 2
    r = run(resmem, "capture", ring, "--generate", hex(SEED), "--count", 5,
            "--record-size", RECLEN, "--overwrite-previous")
    assert r.returncode == 0 and "continuing after 20 unread records of epoch 1" in r.stderr, r
    assert ring_json(resmem, ring)["head_seq"] == 25
    out = drained_intact(resmem, ring, tmp_path, 25)
    assert out.stat().st_size == 25 * RECLEN
    # nothing unread: a new session needs no flag
    r = run(resmem, "capture", ring, "--generate", hex(SEED), "--count", 1,
            "--record-size", RECLEN)
    assert r.returncode == 0, r.stderr


def test_capture_refuses_unread_records_of_a_killed_capture(resmem, tmp_path):
    """A capture killed with SIGKILL (no close): its records stay unread and
    the next capture is refused, naming its epoch."""
    f = tmp_path / "ring.bin"
    f.write_bytes(b"\0" * (1 << 20))
    cap = subprocess.Popen([resmem, "capture", str(f), "--file", "--record-size", "4"],
                           stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    cap.stdin.write(b"x" * 12)
    cap.stdin.flush()
    def head_seq():         # -1 until capture has written the ring header
        r = run(resmem, "ring", f, "--json")
        return json.loads(r.stdout)["head_seq"] if r.returncode == 0 else -1
    while head_seq() < 3:
        assert cap.poll() is None, cap.stderr.read()
    cap.kill()
    cap.wait(timeout=60)
    st = ring_json(resmem, f)
    assert not st["flags"] & 2, st      # not closed: it went down producing
    r = run(resmem, "capture", f, "--generate", "1", "--count", 1)
    assert r.returncode == 1 and "3 unread records" in r.stderr and "epoch 1" in r.stderr, r
    assert ring_json(resmem, f) == st


def test_drain_never_truncates(resmem, ring, tmp_path):
    """drain --to FILE refuses a non-empty FILE (its size said), the ring
    unconsumed; --append adds the records and continues the --index offsets
    from the file's size."""
    out, idx = tmp_path / "run.bin", tmp_path / "run.idx"
    out.write_bytes(b"earlier run")
    idx.write_text("0 0 11 1\n")
    r = run(resmem, "drain", ring, "--to", out, "--index", idx)
    assert r.returncode == 1 and f"{out} already holds 11 bytes" in r.stderr, r
    assert "--append" in r.stderr
    assert out.read_bytes() == b"earlier run" and idx.read_text() == "0 0 11 1\n"
    assert ring_json(resmem, ring)["cons_seq"] == 0        # nothing consumed
    # a non-empty index alone is refused too
    r = run(resmem, "drain", ring, "--to", tmp_path / "new.bin", "--index", idx)
    assert r.returncode == 1 and f"{idx} already holds 9 bytes" in r.stderr, r
    assert ring_json(resmem, ring)["cons_seq"] == 0
    r = run(resmem, "drain", ring, "--to", out, "--index", idx, "--append")
    assert r.returncode == 0 and "20 records" in r.stderr, r.stderr
    data = out.read_bytes()
    assert data[:11] == b"earlier run" and len(data) == 11 + 20 * RECLEN
    lines = idx.read_text().splitlines()
    assert lines[0] == "0 0 11 1" and len(lines) == 21
    for i, ln in enumerate(lines[1:]):
        seq, off, length, epoch, time_ns = map(int, ln.split())
        assert (seq, off, length, epoch) == (i, 11 + i * RECLEN, RECLEN, 1), ln
    tail = tmp_path / "appended.bin"
    tail.write_bytes(data[11:])
    v = run(resmem, "verify", tail, f"seq:{SEED:#x}")
    assert v.returncode == 0, v.stdout + v.stderr
    # an empty existing file is fine without --append
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    r = run(resmem, "drain", ring, "--to", empty)
    assert r.returncode == 0 and "0 records" in r.stderr, r


def json_lines(text):
    objs = [json.loads(ln) for ln in text.splitlines()]
    assert objs and objs[-1]["type"] == "summary", text
    assert all(o["type"] == "stats" for o in objs[:-1]), text
    return objs[:-1], objs[-1]


def assert_adds_up(stats, summary, keys):
    assert stats, "at least the last interval's line"
    for k in keys:
        assert sum(s[k] for s in stats) == summary[k], (k, stats, summary)
    assert abs(sum(s["seconds"] for s in stats) - summary["seconds"]) < 0.01, (stats, summary)


CAPTURE_KEYS = ("records", "bytes", "refused", "overwritten", "wait_ns")


def test_capture_json_and_stats_add_up(resmem, tmp_path):
    """Lossless into a 64 KiB ring with no consumer: it fills, then waits;
    every stdout line is JSON, the stats lines add up to the summary, and the
    summary's wait is real (no records refused or overwritten)."""
    f = tmp_path / "ring.bin"
    f.write_bytes(b"\0" * (64 << 10))
    r = run(resmem, "capture", f, "--file", "--generate", "3", "--record-size", 1000,
            "--duration", 0.6, "--json", "--stats", 0.1)
    assert r.returncode == 0, r.stderr
    stats, summary = json_lines(r.stdout)
    assert_adds_up(stats, summary, CAPTURE_KEYS)
    st = ring_json(resmem, f)
    assert summary["records"] == st["head_seq"] and summary["bytes"] == 1000 * st["head_seq"]
    assert summary["refused"] == 0 and summary["overwritten"] == 0, summary
    assert summary["wait_ns"] > 0 and summary["waited_seconds"] == pytest.approx(
        summary["wait_ns"] / 1e9, abs=1e-3)
    assert summary["fill"] > 90 and summary["first_seq"] == 0, summary
    assert summary["last_seq"] == st["head_seq"] - 1 and summary["epoch"] == 1, summary
    assert "capture ring.bin:" not in r.stderr, r.stderr     # --json replaces the text summary


def test_stats_lines_never_count_a_wait_twice(resmem, tmp_path):
    """A stats line every loop turn while the run ends waiting on a full ring:
    the last line was written after the turn read its clock, so the wait the
    ring keeps must not be shorter than the lines already said (else the
    final interval's wait_ns is negative, shown as 2^64 - x)."""
    f = tmp_path / "ring.bin"
    f.write_bytes(b"\0" * (64 << 10))
    r = run(resmem, "capture", f, "--file", "--generate", "3", "--record-size", 1000,
            "--duration", 0.3, "--json", "--stats", 0.00001)
    assert r.returncode == 0, r.stderr
    stats, summary = json_lines(r.stdout)
    assert len(stats) > 100, "a line per turn of the wait loop"
    assert all(0 <= s["wait_ns"] < 1 << 63 for s in stats), [s["wait_ns"] for s in stats[-3:]]
    for k in CAPTURE_KEYS:      # (each line's seconds are rounded to 0.000 here)
        assert sum(s[k] for s in stats) == summary[k], k
    assert summary["wait_ns"] == ring_json(resmem, f)["wait_ns"], summary


def test_capture_rate_paces_the_source(resmem, tmp_path):
    """--rate 100000: 50 records of 1000 bytes are offered 10 ms apart, so their
    commit times (drain --index time_ns) span at least 0.49 s; lower bounds
    only, which no slow machine can break.  --rate 0 is a usage error."""
    f, idx = tmp_path / "ring.bin", tmp_path / "idx"
    f.write_bytes(b"\0" * (1 << 20))
    r = run(resmem, "capture", f, "--file", "--generate", "3", "--record-size", 1000,
            "--count", 50, "--rate", 100000, "--json")
    assert r.returncode == 0, r.stderr
    _, summary = json_lines(r.stdout)
    assert summary["records"] == 50 and summary["seconds"] >= 0.49, summary
    d = run(resmem, "drain", f, "--to", "/dev/null", "--index", idx)
    assert d.returncode == 0, d.stderr
    times = [int(ln.split()[4]) for ln in idx.read_text().splitlines()]
    assert len(times) == 50 and times[-1] - times[0] >= 0.49e9, times
    bad = run(resmem, "capture", f, "--file", "--generate", "3", "--rate", "0")
    assert bad.returncode == 2 and "--rate" in bad.stderr, bad.stderr
    # --duration still ends it when the rate would wait longer (1 byte/s,
    # 4 KiB records: the second record is due after 68 min; run() gives 60 s)
    r = run(resmem, "capture", f, "--file", "--generate", "3", "--rate", 1,
            "--duration", 0.5, "--overwrite-previous", "--json")
    assert r.returncode == 0, r.stderr
    _, summary = json_lines(r.stdout)
    assert summary["records"] == 1, summary


def test_capture_overwrite_counts_add_up(resmem, tmp_path):
    f = tmp_path / "ring.bin"
    f.write_bytes(b"\0" * (64 << 10))
    r = run(resmem, "capture", f, "--file", "--generate", "3", "--record-size", 1000,
            "--count", 500, "--overwrite", "--json", "--stats", 1000)
    assert r.returncode == 0, r.stderr
    stats, summary = json_lines(r.stdout)
    assert len(stats) == 1
    assert_adds_up(stats, summary, CAPTURE_KEYS)
    st = ring_json(resmem, f)
    # every record before tail was overwritten unread: the ring's own count
    assert summary["overwritten"] == st["tail_seq"] > 0, (summary, st)
    assert summary["records"] == 500 and summary["wait_ns"] == 0, summary


def test_drain_json_and_stats_add_up(resmem, ring, tmp_path):
    out = tmp_path / "out.bin"
    r = run(resmem, "drain", ring, "--to", out, "--json", "--stats", 1000)
    assert r.returncode == 0, r.stderr
    stats, summary = json_lines(r.stdout)
    assert_adds_up(stats, summary, ("records", "bytes", "lost", "corrupt"))
    assert summary["records"] == 20 and summary["bytes"] == 20 * RECLEN == out.stat().st_size
    assert summary["lost"] == 0 and summary["corrupt"] == 0 and summary["fill"] == 0, summary
    assert (summary["first_seq"], summary["last_seq"]) == (0, 19), summary
    # records on stdout: the numbers go to stderr
    r = subprocess.run([resmem, "drain", str(ring), "--from", "tail", "--no-consume", "--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0 and len(r.stdout) == 20 * RECLEN
    assert json.loads(r.stderr.decode().splitlines()[-1])["records"] == 20


def test_stats_text_lines(resmem, ring, tmp_path):
    r = run(resmem, "drain", ring, "--to", tmp_path / "o.bin", "--stats", 1000)
    assert r.returncode == 0, r.stderr
    line = r.stdout.splitlines()[-1]
    assert line.startswith(f"drain {ring.name}: 20 records, 19.5 KiB in ") and "lost 0" in line


def test_progress_moves_while_waiting_on_a_terminal(resmem, tmp_path):
    """stderr on a terminal, a full ring and no consumer: the progress line
    keeps being redrawn, saying how long capture has waited."""
    f = tmp_path / "ring.bin"
    f.write_bytes(b"\0" * (64 << 10))
    rc, err, _ = tty.run([resmem, "capture", f, "--file", "--generate", "3",
                          "--record-size", "1000", "--duration", "1.6"], on="stderr")
    assert rc == 0, err
    text = err.decode()
    assert "waiting for consumer" in text, text
    assert text.count("\r") >= 2, text


# drain --image on rings in regular files (the guest test, tests/test_drain_image.py,
# drains a region to a disk).  (file bytes, --data-size, record size, count):
# not wrapped; wrapped with a PAD record, with an implicit pad, with the ring's
# data end inside a page; exactly full (head and tail in one page).
IMAGE_RINGS = [(1 << 20, None, 3000, 100), (1 << 20, None, 3000, 1000),
               (64 << 10, None, 1001, 700), (64 << 10, None, 144, 900),
               (80 << 10, (64 << 10) + 8 + 4096, 4000, 97), (1 << 20, None, 8192, 517)]


def image_window(img, ring, h, r):
    """Bytes tail..head of the image equal the ring file's at the same
    positions (from ring header r), and the image holds zeros elsewhere."""
    ds, dr = h["data_size"], r["data_size"]
    rest, p, length = bytearray(img[4096:]), 0, h["head"] - h["tail"]
    start = r["head"] - length
    while p < length:
        ro, io = (start + p) % dr, (h["tail"] + p) % ds
        n = min(length - p, dr - ro, ds - io)
        assert img[4096 + io:4096 + io + n] == ring[4096 + ro:4096 + ro + n], (p, ro, io)
        rest[io:io + n] = bytes(n)
        p += n
    assert rest == bytes(ds)


@pytest.mark.parametrize("size,data,reclen,count", IMAGE_RINGS)
def test_drain_image_geometries(resmem, tmp_path, size, data, reclen, count):
    """drain --image of a ring file, wrapped or not: the image reads back as
    the records from tail (drain, and the host's own reader: CRCs, sequence
    numbers, the generator's payloads), its bytes are the ring's, its data
    offsets congruent to the ring's mod 4 KiB; cons moves to head; --copy
    writes the same image."""
    f = tmp_path / "ring.bin"
    f.write_bytes(bytes(size))
    if data:
        assert run(resmem, "ring", f, "--reset", "--file", "--data-size", data).returncode == 0
    r = run(resmem, "capture", f, "--file", "--generate", hex(SEED), "--count", count,
            "--record-size", reclen, "--overwrite")
    assert r.returncode == 0, r.stderr
    before, ring = ring_json(resmem, f), f.read_bytes()
    first = before["tail_seq"]
    imgs = []
    for name, extra in (("a.img", ["--no-consume"]), ("b.img", ["--copy"])):
        r = run(resmem, "drain", f, "--image", tmp_path / name, "--from", "tail", *extra)
        assert r.returncode == 0, r.stderr
        path = re.search(r"path: (.*)", r.stderr)[1]
        assert path.startswith("copy (asked for (--copy))" if extra == ["--copy"] else "zero-copy"), path
        imgs.append((tmp_path / name).read_bytes())
    assert imgs[0] == imgs[1]
    img = imgs[0]
    h = ring_witness.header(img)
    assert (h["tail_seq"], h["head_seq"], h["flags"]) == (first, count, 2), h
    assert (h["data_size"] - before["data_size"]) % 4096 == 0 or h["head"] <= h["data_size"]
    recs = ring_witness.records(h, img[4096:], h["tail"], count)
    assert [x["seq"] for x in recs] == list(range(first, count))
    assert all(x["good"] and x["payload"] == pattern.seq(SEED, x["seq"] * reclen, reclen)
               for x in recs)
    image_window(img, ring, h, before)
    after = ring_json(resmem, f)
    assert (after["cons"], after["cons_seq"]) == (before["head"], count), after
    back = tmp_path / "back.bin"
    r = run(resmem, "drain", tmp_path / "a.img", "--to", back)
    assert r.returncode == 0 and f"{count - first} records" in r.stderr, r.stderr
    assert back.read_bytes() == b"".join(pattern.seq(SEED, s * reclen, reclen)
                                         for s in range(first, count))


def test_ring_reset_data_size_that_does_not_fit(resmem, tmp_path):
    """--data-size beyond the file: a usage error with the largest that
    fits (it crashed once, naming the region after unmapping it)."""
    f = tmp_path / "ring.bin"
    f.write_bytes(bytes(72 << 10))
    r = run(resmem, "ring", f, "--reset", "--file", "--data-size", (68 << 10) + 8)
    assert r.returncode == 2 and "at most 69632 here" in r.stderr, r
    assert f.read_bytes() == bytes(72 << 10)


def test_drain_image_from_cons_and_refusals(resmem, ring, tmp_path):
    """From cons (the default) after a partial drain: the image starts
    mid-page (a ragged first page, zeros before it).  An existing non-empty
    image file and --image with --to are refused, nothing consumed."""
    r = subprocess.run([resmem, "drain", str(ring), "--to", str(tmp_path / "part")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0
    r = run(resmem, "capture", ring, "--generate", hex(SEED), "--count", 7,
            "--record-size", RECLEN)
    assert r.returncode == 0, r.stderr
    before = ring_json(resmem, ring)
    assert before["cons_seq"] == 20 and before["cons"] % 4096, before
    taken = tmp_path / "taken.img"
    taken.write_bytes(b"x")
    r = run(resmem, "drain", ring, "--image", taken)
    assert r.returncode == 1 and "already holds data" in r.stderr, r
    r = run(resmem, "drain", ring, "--image", tmp_path / "i.img", "--to", tmp_path / "o")
    assert r.returncode == 2 and "--image writes the ring itself" in r.stderr, r
    assert ring_json(resmem, ring) == before and not (tmp_path / "i.img").exists()
    r = run(resmem, "drain", ring, "--image", tmp_path / "i.img", "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert (j["records"], j["first_seq"], j["end_seq"], j["consumed"]) == (7, 20, 27, True), j
    img = (tmp_path / "i.img").read_bytes()
    h = ring_witness.header(img)
    assert h["tail"] == before["cons"] % 4096 and h["tail_seq"] == 20, h
    image_window(img, ring.read_bytes(), h, before)
    recs = ring_witness.records(h, img[4096:], h["tail"], 10)
    assert [x["seq"] for x in recs] == list(range(20, 27)) and all(x["good"] for x in recs)


# capture --from FILE on the host: a file on tmpfs, which takes O_DIRECT
# (from 6.6; without statx's DIOALIGN, so any alignment) and so runs the
# direct path into a ring file's shared mapping; the guest test on a real
# disk is tests/test_capture_from.py.
SHM = "/dev/shm"


def ring_bytes_masked(f):
    """A ring file's header and data bytes, the time_ns, epoch and crc of
    every record header from tail to head (PAD records too) zeroed."""
    raw = f.read_bytes()
    h = ring_witness.header(raw)
    ds = h["data_size"]
    data = bytearray(raw[h["data_off"]:h["data_off"] + ds])
    pos = h["tail"]
    while pos != h["head"]:
        off = pos % ds
        if ds - off < 32:                       # an implicit pad
            pos += ds - off
            continue
        r = ring_witness.fields(data, "resmem_ring_rec", off)
        data[off + 16:off + 32] = bytes(16)     # time_ns, epoch, crc
        pos += ds - off if r["flags"] & 1 else (32 + r["len"] + 7) // 8 * 8
    return h, bytes(data)


@pytest.mark.parametrize("size,reclen,extra", [
    (3000 * 4096 + 1234, 4096, ()),                 # ragged end
    (2 * 1024 * 1024 + 5, 300000, ("--io-size", "64K")),   # records in chunks
    (5000 * 1000, 1000, ("--io-size", "4K", "--io-depth", "3")),
    (700 * 4096, 4096, ("--overwrite",)),           # wraps the 1 MiB ring
])
def test_capture_from_file_direct_same_as_copy(resmem, tmp_path, size, reclen, extra):
    """The ring capture --from FILE makes straight from the file (O_DIRECT
    into the mapping, when the file's file system takes it) is the ring
    --copy makes, byte for byte but for time_ns, epoch and crc, and its
    records are the file's bytes in order, the ragged end included.
    Catches a record committed before its read completed, a misplaced or
    reordered record, a lost ragged end."""
    if not os.path.isdir(SHM):
        pytest.skip("no /dev/shm")
    data = os.urandom(size)
    fd, name = tempfile.mkstemp(dir=SHM)
    try:
        os.write(fd, data)
        os.close(fd)
        rings, paths = [], []
        for mode in ((), ("--copy",)):
            f = tmp_path / f"ring{len(rings)}.bin"
            ring_size = (1 << 20) if "--overwrite" in extra else 64 << 20
            f.write_bytes(b"\0" * ring_size)
            r = run(resmem, "capture", f, "--file", "--from", name, "--record-size", reclen,
                    *extra, *mode)
            assert r.returncode == 0, r.stderr
            m = re.search(r"^capture \S+: path: (.*)$", r.stderr, re.M)
            assert m, r.stderr
            paths.append(m[1])
            rings.append(ring_bytes_masked(f))
            if not extra or "--overwrite" not in extra:
                out = tmp_path / f"out{len(rings)}"
                d = run(resmem, "drain", f, "--to", out)
                assert d.returncode == 0, d.stderr
                assert out.read_bytes() == data
        assert paths[1].startswith("copy (asked for (--copy)), read()"), paths
        if not paths[0].startswith("zero-copy"):
            pytest.skip(f"this kernel's tmpfs takes no O_DIRECT: {paths[0]}")
        (h0, d0), (h1, d1) = rings
        assert (h0["head"], h0["tail"], h0["head_seq"]) == (h1["head"], h1["tail"], h1["head_seq"])
        assert d0 == d1, "the direct and the copied ring differ"
    finally:
        os.unlink(name)
