"""Binary size units and the size syntax of the tools' command lines."""
K = 1 << 10
M = 1 << 20
G = 1 << 30


def size(text):
    """0x.. or decimal, optional K/M/G suffix (as mapcost and resmem read them)."""
    unit = {"K": K, "M": M, "G": G}.get(text[-1], 1)
    return int(text[:-1] if unit > 1 else text, 0) * unit
