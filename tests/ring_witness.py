"""Host-side reader of the ring format (docs/ring-format.md), written
independently of libresmem: parses guest physical memory saved by pmemsave."""
import struct

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


HDR = struct.Struct("<QIIQQQII QII QQQQQ")


def header(raw):
    f = HDR.unpack_from(raw, 0)
    h = dict(zip(("magic", "version", "hdr_size", "data_off", "data_size", "pos_mod",
                  "reserved0", "geo_crc", "epoch", "flags", "reserved1", "head", "head_seq",
                  "tail", "tail_seq", "dropped"), f))
    h["cons"], h["cons_seq"] = struct.unpack_from("<QQ", raw, 128)
    assert h["magic"] == 0x474E49524D534552, hex(h["magic"])
    assert h["geo_crc"] == crc32c(raw[:44]), "geometry CRC"
    return h


def records(h, data, start, limit):
    """Records from position `start` (data holds the data area from offset 0
    up to what was saved), at most `limit` records or until head."""
    pos, out = start, []
    ds = h["data_size"]
    while pos != h["head"] and len(out) < limit:
        off = pos % ds
        if ds - off < 24:
            pos += ds - off
            continue
        ln, fl, seq, ep, crc = struct.unpack_from("<IIQII", data, off)
        size = (24 + ln + 7) & ~7
        payload = b"" if fl & 1 else bytes(data[off + 24:off + 24 + ln])
        good = crc32c(payload, crc32c(bytes(data[off:off + 20]))) == crc
        if fl & 1:
            assert good, f"PAD at {pos:#x} has a bad CRC"
            pos += ds - off
            continue
        out.append(dict(pos=pos, seq=seq, len=ln, epoch=ep, good=good, payload=payload))
        pos += size
    return out
