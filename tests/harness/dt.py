"""Device-tree patching for arm64 test boots: add /reserved-memory nodes.

`add_reservations(base_dtb, out_dtb, reservations)` edits the tree QEMU
dumped with the project's own tool, `resmem dt add` (the host build,
build/x86_64/bin/resmem, made by `make tools ARCH=x86_64`), so every test
boot also exercises the tool.  Each reservation is a dict:

    name, addr, size          node "<name>@<addr hex>", reg = <addr size>
    no_map, reusable          empty properties
    compatible                "resmem,region" (or any string)
    label                     label property
    cache                     resmem,cache: "wb" | "wc" | "uc" (or the long names)

The tool refuses what Linux would refuse (overlaps, ranges outside /memory,
size 0, no-map with reusable, ...).  Tests that need such deliberately bad
trees mark the dict `raw=True`; raw entries (and any with `extra`, `cells`
or `no_reg`) are written as dts text and compiled with dtc after the tool's
edits, without any checking:

    extra                     dts text added inside the node
    cells=(ac, sc)            encode reg with these cells (e.g. (1, 1) on a 2-cell parent)
    no_reg=True               leave reg out

A dict `overlay=PATH` (a .dtso or compiled .dtbo) is applied with
fdtoverlay at that point of the list.
"""
import os
import shutil
import subprocess
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(REPO, "build", "x86_64", "bin", "resmem")
RAW_KEYS = ("raw", "extra", "cells", "no_reg")


class DtError(Exception):
    """The tool (or dtc/fdtoverlay) refused an edit; the message says why."""


def host_tool():
    """Path of the host `resmem`, built if needed (make is a no-op when up to date)."""
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", REPO, "tools", "ARCH=x86_64"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        raise DtError(f"make tools ARCH=x86_64 failed:\n{r.stdout}")
    return TOOL


def tool_args(r):
    """`resmem dt add` options for one reservation dict."""
    args = ["--name", r["name"], "--addr", hex(r["addr"]), "--size", hex(r["size"])]
    if r.get("no_map"):
        args.append("--no-map")
    if r.get("reusable"):
        args.append("--reusable")
    if r.get("compatible"):
        c = r["compatible"]
        args.append("--compatible" if c == "resmem,region" else f"--compatible={c}")
    else:
        args.append("--no-compatible")      # the tool makes a resmem region by default
    if r.get("label"):
        args += ["--label", r["label"]]
    if r.get("cache"):
        args += ["--cache", r["cache"]]
    return args


def _cells(value, cells):
    parts = [(value >> (32 * i)) & 0xFFFFFFFF for i in reversed(range(cells))]
    return " ".join(f"0x{p:x}" for p in parts)


def reservation_node(r):
    """dts text of one raw reservation node."""
    ac, sc = r.get("cells", (2, 2))
    props = []
    if not r.get("no_reg"):
        props.append(f"reg = <{_cells(r['addr'], ac)} {_cells(r['size'], sc)}>;")
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


def _add_raw(cur, out, raws):
    """Append raw nodes as a second root block (dtc merges it with the tree)."""
    dts = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", cur], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    have_parent = subprocess.run(["fdtget", "-l", cur, "/reserved-memory"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    head = "" if have_parent else "\t\t#address-cells = <0x02>;\n\t\t#size-cells = <0x02>;\n\t\tranges;\n"
    nodes = "".join(reservation_node(r) for r in raws)
    dts += f"\n/ {{\n\treserved-memory {{\n{head}{nodes}\t}};\n}};\n"
    r = subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out, "-"], input=dts,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        raise DtError(f"dtc refused the raw nodes:\n{r.stdout}")


def compile_overlay(src, out):
    """dtc -@ a .dtso into a .dtbo."""
    r = subprocess.run(["dtc", "-q", "-@", "-I", "dts", "-O", "dtb", "-o", out, src],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        raise DtError(f"dtc -@ {src} failed:\n{r.stdout}")
    return out


def apply_overlay(base, overlay, out, workdir=None):
    """fdtoverlay a .dtso/.dtbo onto base; returns out."""
    if overlay.endswith(".dtso") or overlay.endswith(".dts"):
        dtbo = os.path.join(workdir or os.path.dirname(out),
                            os.path.basename(overlay).rsplit(".", 1)[0] + ".dtbo")
        overlay = compile_overlay(overlay, dtbo)
    r = subprocess.run(["fdtoverlay", "-i", base, "-o", out, overlay],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        raise DtError(f"fdtoverlay -i {base} {overlay} failed:\n{r.stdout}")
    return out


def tool_add(tool, cur, out, r):
    p = subprocess.run([tool, "dt", "add", cur, out, *tool_args(r)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        raise DtError(f"resmem dt add refused {r} (exit {p.returncode}):\n{p.stderr}"
                      "(a deliberately bad tree needs raw=True)")


def add_reservations(base_dtb, out_dtb, reservations):
    tool = host_tool()
    work = tempfile.mkdtemp(prefix="resmem-dt-", dir=os.path.dirname(os.path.abspath(out_dtb)))
    try:
        cur = base_dtb
        raws = []
        for i, r in enumerate(reservations):
            nxt = os.path.join(work, f"step{i}.dtb")
            if r.get("overlay"):
                cur = apply_overlay(cur, r["overlay"], nxt, work)
            elif any(r.get(k) for k in RAW_KEYS):
                raws.append(r)
            else:
                tool_add(tool, cur, nxt, r)
                cur = nxt
        if raws:
            nxt = os.path.join(work, "raw.dtb")
            _add_raw(cur, nxt, raws)
            cur = nxt
        shutil.copyfile(cur, out_dtb)
    finally:
        shutil.rmtree(work, ignore_errors=True)
