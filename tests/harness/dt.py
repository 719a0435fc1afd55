"""Device-tree patching for arm64 test boots: add /reserved-memory nodes.

Uses dtc from Debian to round-trip the tree QEMU dumped.
"""
import subprocess


def _cells(value, cells):
    parts = [(value >> (32 * i)) & 0xFFFFFFFF for i in reversed(range(cells))]
    return " ".join(f"0x{p:x}" for p in parts)


def reservation_node(r):
    """r: dict(name, addr, size, no_map=False, compatible=None, label=None, extra='')."""
    props = [f"reg = <{_cells(r['addr'], 2)} {_cells(r['size'], 2)}>;"]
    if r.get("no_map"):
        props.append("no-map;")
    if r.get("reusable"):
        props.append("reusable;")
    if r.get("compatible"):
        props.append(f'compatible = "{r["compatible"]}";')
    if r.get("label"):
        props.append(f'label = "{r["label"]}";')
    props.append(r.get("extra", ""))
    body = "\n\t\t\t".join(p for p in props if p)
    return f"\t\t{r['name']}@{r['addr']:x} {{\n\t\t\t{body}\n\t\t}};\n"


def add_reservations(base_dtb, out_dtb, reservations):
    dts = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", base_dtb], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    nodes = "".join(reservation_node(r) for r in reservations)
    block = ("\treserved-memory {\n\t\t#address-cells = <0x02>;\n\t\t#size-cells = <0x02>;\n"
             f"\t\tranges;\n{nodes}\t}};\n")
    # Insert the block as the root node's last child.
    i = dts.rstrip().rfind("};")
    dts = dts[:i] + block + dts[i:]
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out_dtb, "-"], input=dts,
                   check=True, text=True)
