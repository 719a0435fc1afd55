"""`resmem dt` on the host: the tool against QEMU's own tree, dtc-made trees,
malformed blobs, the board overlays, the binding's examples, and the C unit
tests under valgrind.  No guest boots here.

Independent witnesses: dtc's `fdtget` reads what the tool wrote; expected reg
bytes and ranges are computed here in Python.
"""
import json
import os
import re
import struct
import subprocess

import pytest

from tests.harness import dt, hostbuild

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OVERLAYS = os.path.join(REPO, "dt-overlays")
G = 1 << 30
M = 1 << 20


@pytest.fixture(scope="module")
def tool():
    return dt.host_tool()


def run(*argv, **kw):
    return subprocess.run([str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


def dtc(tmp_path, name, text):
    src = tmp_path / f"{name}.dts"
    src.write_text(text)
    out = tmp_path / f"{name}.dtb"
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(out), str(src)], check=True)
    return out


def fdtget_cells(dtb, node, prop):
    r = run("fdtget", "-t", "x", dtb, node, prop)
    assert r.returncode == 0, r.stderr
    return [int(x, 16) for x in r.stdout.split()]


def cells(v, n):
    return [(v >> (32 * i)) & 0xFFFFFFFF for i in reversed(range(n))]


def listing(tool, dtb):
    r = run(tool, "dt", "list", dtb, "--json")
    return r.returncode, json.loads(r.stdout), r


@pytest.fixture(scope="module")
def virt_dtb(tmp_path_factory):
    """The tree QEMU's virt machine gives a 6 GiB arm64 guest (RAM 1 GiB..7 GiB)."""
    d = tmp_path_factory.mktemp("virt")
    out = d / "virt.dtb"
    subprocess.run(["qemu-system-aarch64", "-machine", "virt", "-cpu", "cortex-a57", "-m", "6G",
                    "-nodefaults", "-display", "none", "-machine", f"dumpdtb={out}"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


MINI = """/dts-v1/;
{memreserve}
/ {{
\t#address-cells = <2>;
\t#size-cells = <2>;
\tmemory@40000000 {{ device_type = "memory"; reg = <0x0 0x40000000 0x0 0x80000000>; }};
\tmemory@100000000 {{ device_type = "memory"; reg = <0x1 0x00000000 0x0 0x40000000>; }};
{extra}
}};
"""


def test_add_on_qemu_virt_tree(tool, virt_dtb, tmp_path):
    a, b = tmp_path / "a.dtb", tmp_path / "b.dtb"
    r = run(tool, "dt", "add", virt_dtb, a, "--name", "capture", "--size", "256M", "--addr",
            "0xC0000000", "--label", "cap", "--cache", "wb")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (f"added /reserved-memory/capture@c0000000: 0xc0000000-0xcfffffff (256.0 MiB) to {a}\n"
                        "becomes /dev/resmem/cap\n")
    r = run(tool, "dt", "add", a, b, "--name", "hi", "--size", "512M", "--addr", "0x140000000",
            "--no-map", "--no-compatible")
    assert r.returncode == 0, r.stderr
    # read back with dtc's fdtget, not with our code
    assert fdtget_cells(b, "/reserved-memory", "#address-cells") == [2]
    assert fdtget_cells(b, "/reserved-memory", "#size-cells") == [2]
    assert run("fdtget", b, "/reserved-memory", "ranges").returncode == 0
    assert fdtget_cells(b, "/reserved-memory/capture@c0000000", "reg") == cells(0xC0000000, 2) + cells(256 * M, 2)
    assert fdtget_cells(b, "/reserved-memory/hi@140000000", "reg") == [1, 0x40000000, 0, 0x20000000]
    assert run("fdtget", b, "/reserved-memory/capture@c0000000", "compatible").stdout == "resmem,region\n"
    assert run("fdtget", b, "/reserved-memory/capture@c0000000", "resmem,cache").stdout == "write-back\n"
    assert run("fdtget", b, "/reserved-memory/hi@140000000", "compatible").returncode != 0
    assert run("fdtget", b, "/reserved-memory/capture@c0000000", "label").stdout == "cap\n"
    assert run("fdtget", b, "/reserved-memory/hi@140000000", "no-map").returncode == 0
    assert run("fdtget", b, "/reserved-memory/capture@c0000000", "no-map").returncode != 0
    # the rest of QEMU's tree is untouched
    before = run("dtc", "-q", "-I", "dtb", "-O", "dts", virt_dtb).stdout
    after = run("dtc", "-q", "-I", "dtb", "-O", "dts", b).stdout
    strip = re.compile(r"\treserved-memory \{.*?\n\t\};\n\n?", re.S)
    assert strip.sub("", after) == before
    rc, regions, _ = listing(tool, b)
    assert rc == 0
    got = {x["path"]: (x["addr"], x["size"], x["usable"], x["flags"]) for x in regions}
    assert got == {"/reserved-memory/capture@c0000000": (0xC0000000, 256 * M, True, ["map", "resmem"]),
                   "/reserved-memory/hi@140000000": (0x140000000, 512 * M, True, ["no-map"])}


@pytest.mark.parametrize("addr,size,why", [
    (0x80000000 - 0x1000, 0x2000, "overlaps /reserved-memory/a@80000000 (0x80000000-0x8fffffff)"),
    (0x8ffff000, 0x2000, "overlaps /reserved-memory/a@80000000"),
    (0x48000000, 0x1000, "overlaps /memreserve/ (0x48000000-0x480fffff)"),
    (0x3ffff000, 0x2000, "is not wholly inside a /memory range; nearest is memory@40000000 0x40000000-0xbfffffff"),
    (0xbffff000, 0x2000, "is not wholly inside a /memory range"),          # crosses the end of bank 0
    (0xc0000000, 0x1000, "is not wholly inside a /memory range"),          # in the hole
    (0x13ffff000, 0x2000, "nearest is memory@100000000 0x100000000-0x13fffffff"),
])
def test_add_refusals(tool, tmp_path, addr, size, why):
    base = dtc(tmp_path, "mini", MINI.format(
        memreserve="/memreserve/ 0x48000000 0x100000;",
        extra="\treserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;\n"
              "\t\ta@80000000 { reg = <0x0 0x80000000 0x0 0x10000000>; }; };"))
    out = tmp_path / "out.dtb"
    r = run(tool, "dt", "add", base, out, "--name", "x", "--addr", hex(addr), "--size", hex(size))
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert why in r.stderr and f"{addr:#x}-{addr + size - 1:#x}" in r.stderr, r.stderr
    assert not out.exists()


def test_add_edges_accepted(tool, tmp_path):
    """Touching a reservation or a bank's last page is fine, above 4 GiB too."""
    base = dtc(tmp_path, "mini", MINI.format(memreserve="", extra=""))
    cur = base
    for i, (addr, size) in enumerate([(0x40000000, 0x1000), (0x40001000, 0x1000),
                                      (0xbffff000, 0x1000), (0x13ffff000, 0x1000)]):
        nxt = tmp_path / f"s{i}.dtb"
        r = run(tool, "dt", "add", cur, nxt, "--name", f"r{i}", "--addr", hex(addr), "--size", hex(size))
        assert r.returncode == 0, r.stderr
        cur = nxt
    assert fdtget_cells(cur, "/reserved-memory/r3@13ffff000", "reg") == [1, 0x3ffff000, 0, 0x1000]
    assert listing(tool, cur)[0] == 0


def test_add_usage_errors(tool, virt_dtb, tmp_path):
    out = tmp_path / "o.dtb"
    for args, msg in [(["--size", "0", "--addr", "0x80000000"], "size 0"),
                      (["--size", "4K", "--addr", "0x80000800"], "multiples of 4 KiB"),
                      (["--size", "4K", "--addr", "0x80000000", "--no-map", "--reusable"],
                       "no-map and reusable"),
                      (["--size", "4K", "--addr", "0x80000000", "--cache", "fast"], "--cache fast"),
                      (["--size", "4K"], "required")]:
        r = run(tool, "dt", "add", virt_dtb, out, "--name", "x", *args)
        assert r.returncode == 2 and msg in r.stderr, (args, r.stderr)


def test_add_respects_existing_parent(tool, tmp_path):
    """A 2/1 root (Raspberry Pi) gets 3-cell reg; a parent Linux ignores is refused."""
    base = dtc(tmp_path, "pi", open(os.path.join(OVERLAYS, "bases", "rpi4-b-4g.dts")).read())
    out = tmp_path / "o.dtb"
    r = run(tool, "dt", "add", base, out, "--name", "x", "--addr", "0xc0000000", "--size", "16M")
    assert r.returncode == 0, r.stderr
    assert fdtget_cells(out, "/reserved-memory/x@c0000000", "reg") == [0, 0xC0000000, 16 * M]
    r = run(tool, "dt", "add", base, out, "--name", "x", "--addr", "0x40000000", "--size", "4G")
    assert r.returncode == 1 and "does not fit #address-cells=2 #size-cells=1" in r.stderr
    bad = dtc(tmp_path, "badparent", MINI.format(memreserve="", extra=(
        "\treserved-memory { #address-cells = <1>; #size-cells = <1>; ranges; };")))
    r = run(tool, "dt", "add", bad, out, "--name", "x", "--addr", "0x80000000", "--size", "4K")
    assert r.returncode == 1 and "Linux ignores a /reserved-memory whose cells differ" in r.stderr


def test_list_flags_bad_trees(tool, tmp_path):
    """Every unusable kind, each on its own node, with the reason list gives."""
    base = dtc(tmp_path, "bad", MINI.format(memreserve="", extra="""
\treserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;
\t\tgood@80000000 { reg = <0x0 0x80000000 0x0 0x100000>; no-map; };
\t\tnoreg@81000000 { no-map; };
\t\tonecell@82000000 { reg = <0x82000000 0x100000>; };
\t\tzero@83000000 { reg = <0x0 0x83000000 0x0 0x0>; };
\t\toutside@10000 { reg = <0x0 0x10000 0x0 0x1000>; };
\t\tov1@90000000 { reg = <0x0 0x90000000 0x0 0x200000>; };
\t\tov2@90100000 { reg = <0x0 0x90100000 0x0 0x200000>; };
\t\tboth@91000000 { reg = <0x0 0x91000000 0x0 0x100000>; no-map; reusable; };
\t};"""))
    rc, regions, r = listing(tool, base)
    assert rc == 1
    why = {x["path"].split("/")[-1]: [p["why"] for p in x["problems"]] for x in regions}
    assert why == {
        "good@80000000": [],
        "noreg@81000000": ["no reg (and no size): Linux skips the node"],
        "onecell@82000000": ["reg is 8 bytes but #address-cells=2 + #size-cells=2 need a multiple of 16 "
                             "(a 1-cell reg on a 2-cell parent?)"],
        "zero@83000000": ["size 0"],
        "outside@10000": ["not wholly inside one /memory range (RAM: 0x40000000-0xbfffffff "
                          "0x100000000-0x13fffffff)"],
        "ov1@90000000": ["overlaps /reserved-memory/ov2@90100000 (0x90100000-0x902fffff)"],
        "ov2@90100000": ["overlaps /reserved-memory/ov1@90000000 (0x90000000-0x901fffff)"],
        "both@91000000": ["no-map and reusable together: Linux refuses the region"],
    }
    # the text listing ends with the counts the JSON gives
    unusable = sum(not x["usable"] for x in regions)
    assert (len(regions), unusable) == (8, 7)
    text = run(tool, "dt", "list", base)
    assert text.returncode == 1
    assert text.stdout.endswith(f"{len(regions)} reservations, {unusable} unusable\n"), text.stdout
    assert "    why: size 0\n" in text.stdout


def malformed_variants(good):
    yield "empty", b""
    for n in range(1, len(good)):
        yield f"truncated-{n}", good[:n]
    for n in range(40, len(good), 7):       # totalsize rewritten to match the cut
        yield f"cut-{n}", good[:4] + struct.pack(">I", n) + good[8:n]
    yield "bad-magic", b"\xde\xad\xbe\xef" + good[4:]
    yield "off-struct", good[:8] + struct.pack(">I", len(good) + 64) + good[12:]
    yield "off-strings", good[:12] + struct.pack(">I", 0xFFFFFFF0) + good[16:]
    yield "size-struct", good[:36] + struct.pack(">I", 0x7FFFFFF0) + good[40:]
    off = struct.unpack(">I", good[8:12])[0]
    yield "bad-token", good[:off] + b"\x0b\xad\xc0\xde" + good[off + 4:]
    yield "garbage", bytes((i * 37 + 11) & 0xFF for i in range(len(good)))


def test_malformed_blobs_clean_errors(tool, tmp_path):
    """Exit 3 with libfdt's words for every malformed blob; never a signal."""
    good = dtc(tmp_path, "small", MINI.format(memreserve="/memreserve/ 0x48000000 0x1000;", extra=(
        "\treserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;\n"
        "\t\ta@80000000 { reg = <0x0 0x80000000 0x0 0x100000>; compatible = \"resmem,region\"; }; };"
    ))).read_bytes()
    f = tmp_path / "m.dtb"
    seen = set()
    for name, blob in malformed_variants(good):
        f.write_bytes(blob)
        for argv in (["dt", "list", f], ["dt", "add", f, tmp_path / "o.dtb", "--name", "x",
                                         "--size", "4K", "--addr", "0xa0000000"]):
            r = run(tool, *argv)
            assert r.returncode == 3, (name, argv, r.returncode, r.stderr)
            m = re.search(r"is not a usable device tree blob: (FDT_ERR_\w+)", r.stderr)
            assert m, (name, r.stderr)
            seen.add(m[1])
    assert {"FDT_ERR_TRUNCATED", "FDT_ERR_BADMAGIC"} <= seen, seen
    assert not (tmp_path / "o.dtb").exists()


def _unit_tests(tmp_path):
    out = tmp_path / "build"
    hostbuild.userspace(out, out / "bin" / "resmem-unit-tests", out / "bin" / "resmem")
    return out / "bin"


def test_dt_unit_tests_under_valgrind(tmp_path):
    """The C dt suite (hand-made and malformed blobs) with valgrind memcheck."""
    b = _unit_tests(tmp_path)
    r = subprocess.run(["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                        "--errors-for-leak-kinds=definite", str(b / "resmem-unit-tests"),
                        str(b / "resmem"), os.path.join(REPO, "userspace", "tests", "fixtures")],
                       env=dict(os.environ, RESMEM_TESTS="dt"), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=900)
    m = re.search(r"^(\d+) passed, (\d+) failed", r.stdout, re.M)
    assert m and r.returncode == 0 and m[2] == "0" and int(m[1]) > 1000, r.stdout[-6000:]


BOARDS = [
    # overlay, base, expected {path: (addr, size, flags)}, device node using them
    ("rpi4", "rpi4-b-4g", {"/reserved-memory/frames@60000000": (0x60000000, 512 * M, ["no-map", "resmem-user"])},
     "/resmem"),
    ("zynqmp", "zynqmp-zcu102", {"/reserved-memory/dma-lo@60000000": (0x60000000, 256 * M, ["no-map", "resmem-user"]),
                                 "/reserved-memory/dma-hi@840000000": (0x840000000, G, ["no-map", "resmem-user"])},
     "/resmem-pl-dma"),
]


@pytest.mark.parametrize("overlay,base,want,user", BOARDS, ids=[b[0] for b in BOARDS])
def test_board_overlay(tool, tmp_path, overlay, base, want, user):
    dtbo = dt.compile_overlay(os.path.join(OVERLAYS, f"{overlay}.dtso"), str(tmp_path / "o.dtbo"))
    assert run("fdtget", dtbo, "/__symbols__", "resmem_" + ("frames" if overlay == "rpi4" else "lo")).returncode == 0, \
        "compiled without -@?"
    b = dtc(tmp_path, base, open(os.path.join(OVERLAYS, "bases", f"{base}.dts")).read())
    out = dt.apply_overlay(str(b), dtbo, str(tmp_path / "out.dtb"))
    rc, regions, r = listing(tool, out)
    assert rc == 0, r.stdout
    got = {x["path"]: (x["addr"], x["size"], x["flags"]) for x in regions if x["path"] in want}
    assert got == want
    assert all(x["usable"] for x in regions)
    # the device node's memory-region phandles point at exactly these nodes (fdtget, not our code)
    ph = fdtget_cells(out, user, "memory-region")
    targets = [fdtget_cells(out, p, "phandle")[0] for p in want]
    assert sorted(ph) == sorted(targets)
    assert "resmem,region" in run("fdtget", out, user, "compatible").stdout
    # the regions' reg read with fdtget in the board's cells
    for p, (addr, size, _) in want.items():
        sc = fdtget_cells(out, "/reserved-memory", "#size-cells")[0]
        assert fdtget_cells(out, p, "reg") == cells(addr, 2) + cells(size, sc)


def test_rpi4_overlay_on_1g_board_is_flagged(tool, tmp_path):
    dtbo = dt.compile_overlay(os.path.join(OVERLAYS, "rpi4.dtso"), str(tmp_path / "o.dtbo"))
    b = dtc(tmp_path, "pi1g", open(os.path.join(OVERLAYS, "bases", "rpi4-b-1g.dts")).read())
    out = dt.apply_overlay(str(b), dtbo, str(tmp_path / "out.dtb"))
    rc, regions, _ = listing(tool, out)
    assert rc == 1
    bad = [x for x in regions if not x["usable"]]
    assert [x["path"] for x in bad] == ["/reserved-memory/frames@60000000"]
    assert bad[0]["problems"][0]["why"] == "not wholly inside one /memory range (RAM: 0x0-0x3b3fffff)"


def test_qemu_overlay_on_virt_tree(tool, virt_dtb, tmp_path):
    out = dt.apply_overlay(str(virt_dtb), os.path.join(OVERLAYS, "qemu-virt.dtso"), str(tmp_path / "o.dtb"))
    rc, regions, _ = listing(tool, out)
    assert rc == 0
    assert [(x["path"], x["addr"], x["size"], x["flags"], x["label"]) for x in regions] == \
        [("/reserved-memory/capture@70000000", 0x70000000, 256 * M, ["no-map", "resmem"], "capture")]
    # and the tool can add next to it, respecting it
    r = run(tool, "dt", "add", out, tmp_path / "p.dtb", "--name", "y", "--addr", "0x7ffff000", "--size", "8K")
    assert r.returncode == 1 and "overlaps /reserved-memory/capture@70000000" in r.stderr


def test_binding_examples_pass_list(tool, tmp_path):
    """Each example of docs/devicetree/resmem.yaml compiles and every region is usable."""
    text = open(os.path.join(REPO, "docs", "devicetree", "resmem.yaml")).read()
    examples = re.findall(r"  - \|\n((?:    .*\n|\n)+)", text.split("examples:", 1)[1])
    assert len(examples) == 2
    for i, ex in enumerate(examples):
        body = "\n".join(line[4:] for line in ex.splitlines())
        # RAM 1 GiB .. 34 GiB covers both examples' regions
        b = dtc(tmp_path, f"ex{i}", "/dts-v1/;\n/ {\n#address-cells = <2>;\n#size-cells = <2>;\n"
                "memory@40000000 { device_type = \"memory\"; reg = <0x0 0x40000000 0x8 0x40000000>; };\n"
                f"{body}\n}};\n")
        rc, regions, r = listing(tool, b)
        assert rc == 0 and regions and all(x["usable"] for x in regions), r.stdout
        assert all("resmem" in x["flags"] or "resmem-user" in x["flags"] for x in regions)


def test_harness_uses_the_tool_and_keeps_a_raw_path(tool, virt_dtb, tmp_path):
    out = tmp_path / "h.dtb"
    dt.add_reservations(str(virt_dtb), str(out), [
        dict(name="resmem", addr=0x140000000, size=G, no_map=True, compatible="resmem,region")])
    assert fdtget_cells(out, "/reserved-memory/resmem@140000000", "reg") == [1, 0x40000000, 0, 0x40000000]
    with pytest.raises(dt.DtError, match="overlaps /reserved-memory/a@140000000"):
        dt.add_reservations(str(virt_dtb), str(out), [
            dict(name="a", addr=0x140000000, size=G), dict(name="b", addr=0x150000000, size=G)])
    dt.add_reservations(str(virt_dtb), str(out), [
        dict(name="good", addr=0x140000000, size=G, no_map=True),
        dict(name="one", addr=0x80000000, size=0x100000, cells=(1, 1)),
        dict(name="z", addr=0x90000000, size=0, raw=True)])
    rc, regions, _ = listing(tool, out)
    assert rc == 1
    assert {x["path"]: x["usable"] for x in regions} == {
        "/reserved-memory/good@140000000": True, "/reserved-memory/one@80000000": False,
        "/reserved-memory/z@90000000": False}


def _elf_info(path):
    with open(path, "rb") as f:
        h = f.read(64)
        assert h[:4] == b"\x7fELF" and h[4] == 2 and h[5] == 1
        machine = struct.unpack("<H", h[18:20])[0]
        phoff, = struct.unpack("<Q", h[32:40])
        phentsize, phnum = struct.unpack("<HH", h[54:58])
        f.seek(phoff)
        types = [struct.unpack("<I", f.read(phentsize)[:4])[0] for _ in range(phnum)]
    return machine, 3 in types      # PT_INTERP: dynamically linked


def test_static_builds_both_arches():
    for arch, machine in (("x86_64", 62), ("aarch64", 183)):
        r = subprocess.run(["make", "-s", "-C", REPO, "tools", f"ARCH={arch}"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert r.returncode == 0, r.stdout
        m, dynamic = _elf_info(os.path.join(REPO, "build", arch, "bin", "resmem"))
        assert m == machine and not dynamic, (arch, m, dynamic)
    assert os.path.exists(os.path.join(REPO, ".cache", "libfdt", "aarch64", "usr", "lib",
                                       "aarch64-linux-gnu", "libfdt.a"))


# ============================================= the resmem driver's own rules

def test_add_makes_a_resmem_region_by_default(tool, tmp_path):
    """Without options the node is one resmem binds; --no-compatible is a plain reservation."""
    base = dtc(tmp_path, "mini", MINI.format(memreserve="", extra=""))
    a, b = tmp_path / "a.dtb", tmp_path / "b.dtb"
    r = run(tool, "dt", "add", base, a, "--name", "capture", "--addr", "0x80000000", "--size", "16M")
    assert r.returncode == 0, r.stderr
    assert "becomes /dev/resmem/capture\n" in r.stdout
    assert run("fdtget", a, "/reserved-memory/capture@80000000", "compatible").stdout == "resmem,region\n"
    r = run(tool, "dt", "add", a, b, "--name", "plain", "--addr", "0x90000000", "--size", "16M",
            "--no-compatible", "--reusable")
    assert r.returncode == 0, r.stderr
    assert "no /dev/resmem node" in r.stdout
    assert run("fdtget", b, "/reserved-memory/plain@90000000", "compatible").returncode != 0
    r = run(tool, "dt", "add", a, b, "--name", "x", "--addr", "0x90000000", "--size", "16M",
            "--no-compatible", "--compatible")
    assert r.returncode == 2 and "exclude each other" in r.stderr


DRIVER_REFUSALS = [
    # extra options, the driver's rule as its log line words it
    (["--reusable"], "node is 'reusable': the kernel lends that memory to the page allocator (CMA)"),
    (["--cache", "wc"], "write-combine needs no-map: without it the region stays in the kernel's write-back linear map"),
    (["--cache", "uc"], "uncached needs no-map"),
    (["--label", "bad name!"], "region name 'bad name!' (from label, node name or memory-region-names) is not 1-31 "
                               "characters from [A-Za-z0-9_.+-] not starting with '.'; set label to such a name"),
    (["--label", "." + "x"], "region name '.x'"),
    (["--label", "a" * 32], "region name '" + "a" * 31),
    (["--name", "vendor,cap"], "region name 'vendor,cap'"),          # a valid node name, not a region name
    (["--label", "first"], "the name first is taken by another region (/reserved-memory/first@80000000); "
                           "give each region its own name (label)"),
    (["--name", "first"], "the name first is taken by another region"),
]


@pytest.mark.parametrize("extra,rule", DRIVER_REFUSALS, ids=[" ".join(e) for e, _ in DRIVER_REFUSALS])
def test_add_refuses_what_the_driver_refuses(tool, tmp_path, extra, rule):
    base = dtc(tmp_path, "mini", MINI.format(memreserve="", extra=(
        "\treserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;\n"
        "\t\tfirst@80000000 { compatible = \"resmem,region\"; reg = <0x0 0x80000000 0x0 0x100000>; }; };")))
    out = tmp_path / "out.dtb"
    args = ["--name", "second", *extra] if "--name" not in extra else extra
    r = run(tool, "dt", "add", base, out, *args, "--addr", "0x90000000", "--size", "16M")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert rule in r.stderr and "resmem dt add: refused: /reserved-memory/" in r.stderr, r.stderr
    assert "--no-compatible" in r.stderr
    assert not out.exists()


def test_add_accepts_the_driver_rules_fixes(tool, tmp_path):
    """What each refusal tells the user to do is accepted."""
    base = dtc(tmp_path, "mini", MINI.format(memreserve="", extra=""))
    for i, extra in enumerate([["--cache", "wc", "--no-map"], ["--cache", "uc", "--no-map"], ["--cache", "wb"],
                               ["--label", "good.name+1_x-y"], ["--reusable", "--no-compatible"]]):
        out = tmp_path / f"o{i}.dtb"
        r = run(tool, "dt", "add", base, out, "--name", "r", "--addr", "0x90000000", "--size", "16M", *extra)
        assert r.returncode == 0, (extra, r.stderr)
        assert listing(tool, out)[0] == 0


DRIVER_TREE = """
\treserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;
\t\tgood@80000000 { compatible = "resmem,region"; reg = <0x0 0x80000000 0x0 0x100000>; };
\t\treuse@81000000 { compatible = "resmem,region"; reg = <0x0 0x81000000 0x0 0x100000>; reusable; };
\t\twc@82000000 { compatible = "resmem,region"; reg = <0x0 0x82000000 0x0 0x100000>; resmem,cache = "write-combine"; };
\t\tbad@83000000 { compatible = "resmem,region"; reg = <0x0 0x83000000 0x0 0x100000>; label = "bad name!"; };
\t\tdup@84000000 { compatible = "resmem,region"; reg = <0x0 0x84000000 0x0 0x100000>; label = "good"; };
\t\tplain@85000000 { reg = <0x0 0x85000000 0x0 0x100000>; reusable; };
\t\tfast@86000000 { compatible = "resmem,region"; reg = <0x0 0x86000000 0x0 0x100000>; no-map; resmem,cache = "fast"; };
\t\ta: a@87000000 { reg = <0x0 0x87000000 0x0 0x100000>; no-map; };
\t\tb: b@88000000 { reg = <0x0 0x88000000 0x0 0x100000>; no-map; };
\t\tc: c@89000000 { reg = <0x0 0x89000000 0x0 0x100000>; };
\t};
\tcam { compatible = "resmem,region"; label = "cam"; memory-region = <&a &b>; memory-region-names = "rx", "tx";
\t\tresmem,cache = "uncached"; };
\tdsp { compatible = "resmem,region"; memory-region = <&c>; resmem,cache = "write-combine"; };
"""


def test_list_applies_the_driver_rules(tool, tmp_path):
    """Each resmem node: the /dev/resmem name it becomes, or the driver's refusal; others say why none."""
    base = dtc(tmp_path, "drv", MINI.format(memreserve="/memreserve/ 0x48000000 0x100000;", extra=DRIVER_TREE))
    rc, regions, _ = listing(tool, base)
    assert rc == 1
    got = {x["path"].split("/")[-1]: (x["usable"], x["device"], [p["problem"] for p in x["problems"]])
           for x in regions}
    assert got == {
        "": (True, None, []),       # /memreserve/
        "good@80000000": (True, "/dev/resmem/good", []),
        "reuse@81000000": (False, None, ["reusable"]),
        "wc@82000000": (False, None, ["cache mode needs no-map"]),
        "bad@83000000": (False, None, ["invalid region name"]),
        "dup@84000000": (False, None, ["region name taken"]),
        "plain@85000000": (True, None, []),        # CMA, not resmem's: fine, but no device
        "fast@86000000": (False, None, ["unknown resmem,cache"]),
        "a@87000000": (True, "/dev/resmem/cam-rx", []),
        "b@88000000": (True, "/dev/resmem/cam-tx", []),
        "c@89000000": (False, None, ["cache mode needs no-map"]),   # the user's write-combine, mapped
    }
    why = {x["path"]: x["no_device_why"] for x in regions}
    assert why["/memreserve/"].startswith("a /memreserve/ entry")
    assert why["/reserved-memory/plain@85000000"].startswith('not compatible "resmem,region"')
    assert why["/reserved-memory/reuse@81000000"] == "resmem refuses the node (see why)"
    assert why["/reserved-memory/good@80000000"] is None
    text = run(tool, "dt", "list", base).stdout
    assert "    becomes /dev/resmem/good\n" in text
    assert "    becomes /dev/resmem/cam-tx\n" in text
    assert ("    why: the driver refuses it: the name good is taken by another region (/reserved-memory/good@80000000); "
            "give each region its own name (label)\n") in text
    assert text.endswith("11 reservations, 6 unusable\n"), text


def test_list_live_without_a_device_tree(tool):
    """On a machine without /sys/firmware/fdt (an x86 PC) list says so, not a raw ENOENT."""
    r = run(tool, "dt", "list")
    if os.path.exists("/sys/firmware/fdt"):
        assert r.returncode in (0, 1) and "reservation" in r.stdout, r.stderr
    else:
        assert r.returncode == 3
        assert r.stderr.startswith("resmem dt list: no device tree on this machine"), r.stderr
        assert "No such file" not in r.stderr
    # a missing FILE stays a plain read error naming the file
    r = run(tool, "dt", "list", "/nonexistent/x.dtb")
    assert r.returncode == 3 and "/nonexistent/x.dtb" in r.stderr and "no device tree" not in r.stderr


def test_add_in_place_keeps_mode_and_symlink(tool, tmp_path):
    base = dtc(tmp_path, "mini", MINI.format(memreserve="", extra=""))
    real = tmp_path / "boot" / "board.dtb"
    real.parent.mkdir()
    real.write_bytes(base.read_bytes())
    os.chmod(real, 0o600)
    link = tmp_path / "current.dtb"
    link.symlink_to(real)
    r = run(tool, "dt", "add", link, link, "--name", "cap", "--addr", "0x80000000", "--size", "16M")
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert os.stat(real).st_mode & 0o7777 == 0o600
    assert run("fdtget", real, "/reserved-memory/cap@80000000", "compatible").stdout == "resmem,region\n"
    os.chmod(real, 0o640)
    r = run(tool, "dt", "add", real, real, "--name", "two", "--addr", "0x90000000", "--size", "16M")
    assert r.returncode == 0, r.stderr
    assert os.stat(real).st_mode & 0o7777 == 0o640
    assert sorted(os.listdir(real.parent)) == ["board.dtb"]      # no temporary left behind


# ================================================= resmem check on arm64 trees

FIX = os.path.join(REPO, "userspace", "tests", "fixtures")


def check(tool, fdt, sysfs, *extra, iomem="arm64-virt", cmdline="arm64"):
    return run(tool, "check", "--fdt", fdt, "--iomem", os.path.join(FIX, "iomem", iomem),
               "--sysfs", os.path.join(FIX, "sys", sysfs), "--cmdline", os.path.join(FIX, "cmdline", cmdline),
               "--firmware-memmap", "/nonexistent", *extra)


@pytest.fixture(scope="module")
def arm64_virt(tmp_path_factory):
    out = tmp_path_factory.mktemp("check") / "arm64-virt.dtb"
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(out),
                    os.path.join(FIX, "dt", "arm64-virt.dts")], check=True)
    return out


def test_check_reports_each_resmem_node(tool, arm64_virt):
    """Claimed, refused by the driver, not reserved at boot, not bound; the CMA node is not resmem's."""
    r = check(tool, arm64_virt, "arm64-loaded")
    assert r.returncode == 1, r.stderr
    out = r.stdout
    assert "device tree (%s): 5 resmem nodes, 1 other reservation\n" % arm64_virt in out
    assert "/reserved-memory/capture@70000000: 0x70000000-0x7fffffff no-map\n  ok: claimed as /dev/resmem/capture\n" in out
    assert "/reserved-memory/frames@c0000000: 0xc0000000-0xc0ffffff\n  ok: claimed as /dev/resmem/frames\n" in out
    assert ("/reserved-memory/reuse@d0000000: 0xd0000000-0xd0ffffff\n  problem: the driver refuses it: node is 'reusable'"
            in out)
    assert ("/reserved-memory/lost@e0000000: 0xe0000000-0xe0ffffff no-map\n  problem: not reserved at boot: "
            "/proc/iomem shows 'System RAM' there") in out
    assert ("/reserved-memory/spare@f0000000: 0xf0000000-0xf0ffffff no-map\n  problem: not bound: resmem is loaded "
            "but made no /dev/resmem/spare; see 'dmesg | grep resmem'") in out
    assert "cma@" not in out
    assert "nothing is reserved for resmem" not in out
    assert out.endswith("3 problems found\n"), out
    # without the module every good node is "not bound", a note, not a problem of its own
    r = check(tool, arm64_virt, "unloaded")
    assert "  note: not bound: the resmem module is not loaded; it would make /dev/resmem/capture\n" in r.stdout
    assert "  note: not bound: the resmem module is not loaded; it would make /dev/resmem/spare\n" in r.stdout
    assert r.stdout.endswith("3 problems found\n"), r.stdout      # reuse, lost, the module


def test_check_json_on_arm64(tool, arm64_virt):
    r = check(tool, arm64_virt, "arm64-loaded", "--json")
    assert r.returncode == 1, r.stderr
    j = json.loads(r.stdout)
    assert j["memmap"] == [] and j["module"]["loaded"] is True and j["problems"] == 3
    fate = {n["path"].split("/")[-1]: (n["name"], n["fate"], n["device"]) for n in j["devicetree"]["nodes"]}
    assert fate == {
        "capture@70000000": ("capture", "claimed", "/dev/resmem/capture"),
        "frames@c0000000": ("frames", "claimed", "/dev/resmem/frames"),
        "reuse@d0000000": ("reuse", "refused", None),
        "lost@e0000000": ("lost", "not-reserved", None),
        "spare@f0000000": ("spare", "not-bound", None),
    }
    why = {n["name"]: n["why"] for n in j["devicetree"]["nodes"]}
    assert why["capture"] == [] and why["reuse"][0].startswith("the driver refuses it: node is 'reusable'")
    assert [m["name"] for m in j["module"]["regions"]] == ["capture", "frames"]
    j = json.loads(check(tool, arm64_virt, "unloaded", "--json").stdout)
    assert {n["name"]: n["fate"] for n in j["devicetree"]["nodes"]}["capture"] == "module-not-loaded"
    assert j["problems"] == 3


def test_check_non_root_iomem_is_unknown(tool, arm64_virt, tmp_path):
    zero = tmp_path / "iomem"
    zero.write_text("".join(re.sub(r"^(\s*)[0-9a-f]+-[0-9a-f]+", r"\g<1>00000000-00000000", line)
                            for line in open(os.path.join(FIX, "iomem", "arm64-virt")).readlines()))
    r = run(tool, "check", "--fdt", arm64_virt, "--iomem", zero, "--sysfs", os.path.join(FIX, "sys", "unloaded"),
            "--cmdline", os.path.join(FIX, "cmdline", "arm64"), "--firmware-memmap", "/nonexistent")
    assert "/reserved-memory/lost@e0000000: 0xe0000000-0xe0ffffff no-map\n  problem: unknown: /proc/iomem shows zero" \
        in r.stdout, r.stdout


def test_check_json_counts_what_the_text_counts(tool):
    """Every saved x86 scenario: --json's problems equal the text's 'N problems found'."""
    n = 0
    for cmdline in sorted(os.listdir(os.path.join(FIX, "cmdline"))):
        for iomem in sorted(os.listdir(os.path.join(FIX, "iomem"))):
            for sysfs in ("loaded-two-1g", "loaded-no-regions", "unloaded"):
                args = [tool, "check", "--cmdline", os.path.join(FIX, "cmdline", cmdline),
                        "--iomem", os.path.join(FIX, "iomem", iomem), "--sysfs", os.path.join(FIX, "sys", sysfs),
                        "--firmware-memmap", os.path.join(FIX, "firmware-memmap")]
                text, js = run(*args), run(*args, "--json")
                m = re.search(r"^(\d+) problems? found$|^all good$", text.stdout, re.M)
                assert m, text.stdout
                j = json.loads(js.stdout)
                assert j["problems"] == int(m[1] or 0), (cmdline, iomem, sysfs, text.stdout, js.stdout)
                assert js.returncode == text.returncode
                assert j["devicetree"] is None          # a saved iomem never mixes with the live tree
                n += 1
    assert n >= 100


def test_check_fdt_unreadable(tool, tmp_path):
    bad = tmp_path / "bad.dtb"
    bad.write_bytes(b"\xd0\x0d\xfe\xed" + b"\0" * 60)
    r = check(tool, bad, "unloaded")
    assert r.returncode == 3 and "is not a usable device tree blob" in r.stderr
    r = check(tool, tmp_path / "missing.dtb", "unloaded")
    assert r.returncode == 3 and "missing.dtb" in r.stderr
