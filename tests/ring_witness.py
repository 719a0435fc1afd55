"""Host-side reader of the ring format (docs/ring-format.md), written
independently of libresmem: parses guest physical memory saved by pmemsave.
The layout (field offsets and sizes, flags, record size) is the UAPI
header's, as the compiler reads it (tests/harness/uapi.py)."""
from tests.harness import uapi

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


def records(h, data, start, limit):
    """Records from position `start` (data holds the data area from offset 0
    up to what was saved), at most `limit` records or until head."""
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
        payload = b"" if pad else bytes(data[body:body + r["len"]])
        good = crc32c(payload, crc32c(bytes(data[off:off + uapi.REC_CRC_LEN]))) == r["crc"]
        if pad:
            assert good, f"PAD at {pos:#x} has a bad CRC"
            pos += ds - off
            continue
        out.append(dict(pos=pos, seq=r["seq"], len=r["len"], epoch=r["epoch"], good=good,
                        payload=payload))
        pos += uapi.record_span(r["len"])
    return out
