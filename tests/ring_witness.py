"""Host-side reader of the ring format (docs/ring-format.md), written
independently of libresmem: parses guest physical memory saved by pmemsave.
The layout (field offsets and sizes, flags, record size) is the UAPI
header's, as the compiler reads it (tests/harness/uapi.py)."""
from tests.harness import pattern, uapi

_T = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _T.append(_c)


def crc32c(data, crc=0):
    c = crc ^ 0xFFFFFFFF
    t = _T
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def fields(raw, struct, at=0):
    """{field: value} of the little-endian `struct resmem_<struct>` at raw[at:]
    (reserved fields left out)."""
    return {f: int.from_bytes(raw[at + off:at + off + size], "little")
            for f, (off, size) in uapi.FIELDS[struct].items() if not f.startswith("reserved")}


def header(raw):
    h = fields(raw, "resmem_ring_hdr")
    assert h["magic"] == uapi.RING_MAGIC, hex(h["magic"])
    assert h["geo_crc"] == crc32c(raw[:uapi.RING_GEO_CRC_LEN]), "geometry CRC"
    assert h["version"] == uapi.RING_VERSION, h["version"]
    assert h["data_off"] == uapi.RING_HDR_SIZE, h["data_off"]
    return h


def records(h, data, start, limit, gaps=None):
    """Data records from position `start` (data holds the data area from
    offset 0 up to what was saved), at most `limit` records or until head.
    GAP records are never data: each is appended to `gaps` (if given) as
    {pos, seq, first_seq, count, first_ns, last_ns, time_ns, good}."""
    pos, out = start, []
    ds = h["data_size"]
    while pos != h["head"] and len(out) < limit:
        off = pos % ds
        if ds - off < uapi.REC_SIZE:        # an implicit pad
            pos += ds - off
            continue
        r = fields(data, "resmem_ring_rec", off)
        pad = r["flags"] & uapi.REC_F_PAD
        body = off + uapi.REC_SIZE
        if r["flags"] & uapi.REC_F_GAP:
            raw_gap = bytes(data[body:body + uapi.GAP_SIZE])
            good = (r["len"] == uapi.GAP_SIZE and crc32c(
                raw_gap, crc32c(bytes(data[off:off + uapi.REC_CRC_LEN]))) == r["crc"])
            g = fields(raw_gap, "resmem_ring_gap")
            if gaps is not None:
                gaps.append(dict(pos=pos, seq=r["seq"], time_ns=r["time_ns"], good=good, **g))
            pos += uapi.record_span(r["len"])
            continue
        payload = b"" if pad else bytes(data[body:body + r["len"]])
        good = crc32c(payload, crc32c(bytes(data[off:off + uapi.REC_CRC_LEN]))) == r["crc"]
        if pad:
            assert good, f"PAD at {pos:#x} has a bad CRC"
            pos += ds - off
            continue
        out.append(dict(pos=pos, seq=r["seq"], len=r["len"], epoch=r["epoch"], good=good,
                        time_ns=r["time_ns"], payload=payload))
        pos += uapi.record_span(r["len"])
    return out


def check_pattern_ring(guest, base, seed, reclen, count, first_seq=0):
    """Read the ring of the region at physical `base` from guest memory
    (pmemsave): the `count` records from tail must be intact, numbered from
    first_seq, and hold pattern seq:seed at stream offset seq * reclen (what
    `resmem capture --generate` and the edu test driver write)."""
    h = header(guest.pmemsave(base, uapi.RING_HDR_SIZE))
    span = min(count, 4096) * uapi.record_span(reclen) + 4096
    data = guest.pmemsave(base + h["data_off"], span)
    recs = records(h, data, h["tail"], count)
    assert len(recs) == count, (len(recs), h)
    for i, r in enumerate(recs):
        assert r["good"], f"record {r['seq']} at {r['pos']:#x}: CRC mismatch seen from the host"
        assert r["seq"] == first_seq + i and r["len"] == reclen
        assert r["payload"] == pattern.seq(seed, r["seq"] * reclen, reclen), f"record {r['seq']}"
    return h
