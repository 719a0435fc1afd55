"""The host's ring reader (tests/ring_witness.py) against rings libresmem
wrote: the header's numbers as tests/harness/uapi.py compiles them from the
UAPI header, the header fields `resmem ring --json` reports, and every
record intact across wraps (PAD records and implicit pads included).  The
guest tests trust this reader as their independent witness."""
import json
import re
import subprocess

import pytest

from tests import ring_witness
from tests.harness import hostbuild, pattern, uapi

RING_BYTES = 64 << 10        # a small ring file: many wraps in a few hundred records


@pytest.fixture(scope="module")
def resmem(tmp_path_factory):
    return hostbuild.resmem(tmp_path_factory.mktemp("userspace"))


def run(*argv):
    r = subprocess.run([str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_uapi_numbers_are_the_formats():
    """What the probe read agrees with docs/ring-format.md's fixed points."""
    assert uapi.RING_HDR_STRUCT_SIZE <= uapi.RING_HDR_SIZE
    assert uapi.REC_SIZE % uapi.RING_ALIGN == 0
    assert uapi.REC_CRC_LEN + 4 == uapi.REC_SIZE       # @crc is the last field
    assert uapi.RING_MAGIC.to_bytes(8, "little") == b"RESMRING"
    assert uapi.record_span(0) == uapi.REC_SIZE
    assert uapi.record_span(1) == uapi.REC_SIZE + uapi.RING_ALIGN
    # version 2's fixed offsets (docs/ring-format.md): each line written by one side
    assert uapi.RING_VERSION == 2 and uapi.RING_HDR_STRUCT_SIZE == 192 and uapi.REC_SIZE == 32
    hdr = {f: off for f, (off, _) in uapi.FIELDS["resmem_ring_hdr"].items()}
    assert [hdr[f] for f in ("head", "head_seq", "tail", "tail_seq", "refused", "overwritten",
                             "wait_ns", "cons", "cons_seq", "waiters", "corrupt")] == \
        [64, 72, 80, 88, 96, 104, 112, 128, 136, 144, 152]
    rec = {f: off for f, (off, _) in uapi.FIELDS["resmem_ring_rec"].items()}
    assert [rec[f] for f in ("len", "flags", "seq", "time_ns", "epoch", "crc")] == \
        [0, 4, 8, 16, 24, 28]
    assert uapi.REC_F_GAP == 2 and uapi.GAP_SIZE == 32


# spans in a 61440-byte data area: 136 (no wrap), 1040 (a PAD record at the
# end of every lap), 176 (16 bytes left: an implicit pad), 4032 (a long PAD)
@pytest.mark.parametrize("reclen,count,mode", [(100, 50, "--stop-when-full"),
                                               (1001, 700, "--overwrite"),
                                               (144, 900, "--overwrite"),
                                               (4000, 97, "--overwrite")])
def test_witness_reads_what_libresmem_wrote(resmem, tmp_path, reclen, count, mode):
    seed = 0x1234 + reclen
    f = tmp_path / "ring.bin"
    f.write_bytes(bytes(RING_BYTES))
    run(resmem, "ring", f, "--reset", "--file")
    run(resmem, "capture", f, "--generate", hex(seed), "--record-size", reclen,
        "--count", count, mode, "--file")
    state = json.loads(run(resmem, "ring", f, "--json"))
    raw = f.read_bytes()
    h = ring_witness.header(raw)
    assert h["data_off"] == state["data_offset"] == uapi.RING_HDR_SIZE
    assert h["hdr_size"] == uapi.RING_HDR_STRUCT_SIZE
    assert h["version"] == uapi.RING_VERSION
    for k in ("data_size", "pos_mod", "epoch", "flags", "head", "head_seq", "tail",
              "tail_seq", "cons", "cons_seq", "refused", "overwritten", "wait_ns", "corrupt"):
        assert h[k] == state[k], k
    assert h["flags"] & uapi.RING_F_CLOSED and not h["flags"] & uapi.RING_F_KERNEL, h
    assert h["head_seq"] == count, h
    recs = ring_witness.records(h, raw[h["data_off"]:], h["tail"], count)
    assert recs and recs[-1]["seq"] == count - 1, h
    assert [r["seq"] for r in recs] == list(range(h["tail_seq"], count))
    for r in recs:
        assert r["good"] and r["len"] == reclen and r["epoch"] == h["epoch"], r["seq"]
        assert r["payload"] == pattern.seq(seed, r["seq"] * reclen, reclen), r["seq"]
    assert h["data_size"] == RING_BYTES - uapi.RING_HDR_SIZE
    if mode == "--overwrite":
        assert h["head"] > 2 * h["data_size"], "the ring should have wrapped twice"


def parse_index(path):
    """drain --index: ({seq: (offset, len, epoch, time_ns)}, [gap dicts])."""
    recs, gaps = {}, []
    for line in path.read_text().splitlines():
        w = line.split()
        if w[0] == "gap":
            gaps.append(dict(first=int(w[1]), last=int(w[2]), count=int(w[3]), kind=w[4],
                             first_ns=int(w[5]), last_ns=int(w[6])))
        else:
            recs[int(w[0])] = tuple(int(x) for x in w[1:])
    return recs, gaps


def test_lossy_capture_counters_equal_the_gaps(resmem, tmp_path):
    """capture --drop-when-full against a concurrent drain --follow: every
    sequence number of the run is either a record drained intact (the pattern
    at its index offset) or inside a refused gap line of the index, exactly
    once; the refused gaps add up to the run's refused counter, which `ring`
    shows since the reset; nothing is counted lost, overwritten or waited;
    time_ns never goes back and lies inside the run (the test's own clock)."""
    import time
    seed, reclen, count = 0x77, 1000, 20000
    f, out, idx = tmp_path / "ring.bin", tmp_path / "out.bin", tmp_path / "idx"
    f.write_bytes(bytes(256 << 10))
    run(resmem, "ring", f, "--reset", "--file")
    t0 = time.time_ns()
    # drain's stderr (a line per gap) to a file: a pipe nobody reads until
    # the end fills up and stalls the consumer, which is not this test
    derr_f = tmp_path / "drain.err"
    drain = subprocess.Popen([str(resmem), "drain", str(f), "--follow", "--to", str(out),
                              "--index", str(idx)], stderr=open(derr_f, "w"))
    cap = subprocess.run([str(resmem), "capture", str(f), "--generate", hex(seed),
                          "--record-size", str(reclen), "--count", str(count),
                          "--drop-when-full"], stderr=subprocess.PIPE, text=True, timeout=300)
    drain.wait(timeout=300)
    derr = derr_f.read_text()
    t1 = time.time_ns()
    assert cap.returncode == 0, cap.stderr
    m = re.search(r"this run: refused (\d+), overwritten unread (\d+), waited ([\d.]+) s", cap.stderr)
    assert m, cap.stderr
    refused = int(m[1])
    assert int(m[2]) == 0 and float(m[3]) == 0, cap.stderr
    assert refused > 0, "the consumer never fell behind: no refusal to check"
    state = json.loads(run(resmem, "ring", f, "--json"))
    assert state["refused"] == refused and state["overwritten"] == 0, state
    assert state["head_seq"] == count, state
    recs, gaps = parse_index(idx)
    assert all(g["kind"] == "refused" for g in gaps), gaps
    assert sum(g["count"] for g in gaps) == refused, gaps
    assert f", lost 0, refused {refused}, corrupt 0" in derr, derr
    covered = sorted(list(recs) + [s for g in gaps for s in range(g["first"], g["last"] + 1)])
    assert covered == list(range(count)), "records and gaps do not partition the run"
    data = out.read_bytes()
    last = 0
    for seq in sorted(recs):
        off, ln, _epoch, tns = recs[seq]
        assert ln == reclen and data[off:off + ln] == pattern.seq(seed, seq * reclen, reclen), seq
        assert t0 <= tns <= t1 and tns >= last, seq
        last = tns
    for g in gaps:
        if g is gaps[-1] and g["last_ns"] == 0:
            # the refusals at the very end, when the consumer made no room
            # for their GAP record within capture's last second: bounded
            # by the record before (or 0), the end unknown (said as 0);
            # the range and count are exact
            assert g["last"] == count - 1, g
            assert g["first_ns"] == 0 or t0 <= g["first_ns"] <= t1, g
            continue
        assert t0 <= g["first_ns"] <= g["last_ns"] <= t1, g


def test_lossless_capture_with_a_slow_consumer_loses_nothing(resmem, tmp_path):
    """The default (lossless) capture into a ring much smaller than the
    stream, drained concurrently: the run counts nothing refused or
    overwritten, drain reports nothing lost, refused or corrupt, and the
    drained bytes are the generated stream (the host's own pattern)."""
    seed, reclen, count = 0x99, 4000, 3000
    f, out = tmp_path / "ring.bin", tmp_path / "out.bin"
    f.write_bytes(bytes(128 << 10))
    run(resmem, "ring", f, "--reset", "--file")
    drain = subprocess.Popen([str(resmem), "drain", str(f), "--follow", "--to", str(out)],
                             stderr=subprocess.PIPE, text=True)
    cap = subprocess.run([str(resmem), "capture", str(f), "--generate", hex(seed),
                          "--record-size", str(reclen), "--count", str(count)],
                         stderr=subprocess.PIPE, text=True, timeout=300)
    derr = drain.communicate(timeout=300)[1]
    assert cap.returncode == 0 and drain.returncode == 0, (cap.stderr, derr)
    assert "this run: refused 0, overwritten unread 0, waited" in cap.stderr, cap.stderr
    assert f"{count} records" in derr and ", lost 0, refused 0, corrupt 0" in derr, derr
    assert out.read_bytes() == pattern.seq(seed, 0, reclen * count)
    state = json.loads(run(resmem, "ring", f, "--json"))
    assert state["refused"] == state["overwritten"] == state["corrupt"] == 0, state


def test_overwritten_counts_exactly_what_the_consumer_lost(resmem, tmp_path):
    """An overwriting capture with no consumer: every record the producer
    overwrote was unread, so `overwritten` equals tail_seq (the records gone,
    read off the header by the host's own reader) and the lost records drain
    reports; a second run counts again per run, and since reset adds up."""
    f = tmp_path / "ring.bin"
    f.write_bytes(bytes(RING_BYTES))
    run(resmem, "ring", f, "--reset", "--file")
    cap = subprocess.run([str(resmem), "capture", str(f), "--generate", "5", "--record-size",
                          "1000", "--count", "700", "--overwrite"], stderr=subprocess.PIPE,
                         text=True, timeout=120)
    h = ring_witness.header(f.read_bytes())
    assert h["tail_seq"] > 600 and h["overwritten"] == h["tail_seq"], h
    assert f"this run: refused 0, overwritten unread {h['tail_seq']}," in cap.stderr, cap.stderr
    d = subprocess.run([str(resmem), "drain", str(f), "--to", str(tmp_path / "o")],
                       stderr=subprocess.PIPE, text=True, timeout=120)
    assert d.returncode == 1 and f"lost {h['tail_seq']}, refused 0, corrupt 0" in d.stderr, d.stderr
    first = h["tail_seq"]
    cap = subprocess.run([str(resmem), "capture", str(f), "--generate", "5", "--record-size",
                          "1000", "--count", "100", "--overwrite"], stderr=subprocess.PIPE,
                         text=True, timeout=120)
    h = ring_witness.header(f.read_bytes())
    # the drain consumed everything: only records of this run that did not fit were unread
    assert f"this run: refused 0, overwritten unread {h['overwritten'] - first}," in cap.stderr
    assert h["overwritten"] - first == 100 - 59, h     # 59 records of 1040 bytes fit 61440
