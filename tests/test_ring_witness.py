"""The host's ring reader (tests/ring_witness.py) against rings libresmem
wrote: the header's numbers as tests/harness/uapi.py compiles them from the
UAPI header, the header fields `resmem ring --json` reports, and every
record intact across wraps (PAD records and implicit pads included).  The
guest tests trust this reader as their independent witness."""
import json
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


# spans in a 61440-byte data area: 128 (no wrap), 1032 (a PAD record at the
# end of every lap), 176 (16 bytes left: an implicit pad), 4024 (a long PAD)
@pytest.mark.parametrize("reclen,count,mode", [(100, 50, "--stop-when-full"),
                                               (1001, 700, "--overwrite"),
                                               (152, 900, "--overwrite"),
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
              "tail_seq", "cons", "cons_seq", "dropped"):
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
