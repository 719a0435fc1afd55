"""The `seq:SEED` test pattern, computed on the host independently of the C code.

For seed S, the little-endian 64-bit word at region offset w (w a multiple
of 8) is splitmix-style mix(S ^ w); byte o of the region is byte (o & 7)
of the word at o & ~7.
"""
import struct

M64 = (1 << 64) - 1


def word(seed, w):
    x = (seed ^ w) & M64
    x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & M64
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M64
    return x ^ (x >> 31)


def seq(seed, offset, length):
    """Expected bytes of region [offset, offset+length) for pattern seq:seed."""
    start = offset & ~7
    end = (offset + length + 7) & ~7
    words = [word(seed, w) for w in range(start, end, 8)]
    data = struct.pack(f"<{len(words)}Q", *words)
    return data[offset - start: offset - start + length]


def hexdump(data, base=0, lines=4):
    out = []
    for i in range(0, min(len(data), 16 * lines), 16):
        chunk = data[i:i + 16]
        out.append(f"{base + i:012x}  {chunk[:8].hex(' ')}  {chunk[8:].hex(' ')}")
    return "\n".join(out)
