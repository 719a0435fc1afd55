"""make bench: resmem against /dev/mem, device-dax and anonymous THP memory, in one guest per kernel.

    make bench                       x86_64 6.1 and 6.12 under QEMU (TCG)
    make bench TARGET=local          this machine (root; resmem loaded/unloadable,
                                     region0 = the region to measure)
    make bench BENCH_FULL=8G         size of the "whole mapping" runs
    make bench BENCH_DAX=4G          device-dax at another size (host memory)
    make bench BENCH_ROUNDS=41       rounds of the interleaved resmem/device-dax runs

    make bench BENCH_DRAIN=512M      bytes the drain figure writes (0: none)
    python3 -m tests.bench --drain   the drain figure only

Runs tests/guest/bench.c for every kind and size, prints one table (medians,
ratio to anonymous memory), then resmem and device-dax interleaved round by
round (`bench pair`: per-round ratios, so drift of the machine falls on both
alike; this is what the "at least equal to device-dax" targets are read
from), writes build/bench/results.json, regenerates
docs/benchmarks.md and docs/bench.svg (gnuplot).  Timings live here only;
`make test` asserts what is deterministic (tests/test_mapping_cost.py).
"""
import json
import os
import subprocess
import sys

from tests.harness import build, devdax, disk, matrix, qemu, units
from tests.harness.local import LocalMachine
from tests.harness.units import G, M

REPO = build.REPO
FULL = os.environ.get("BENCH_FULL", "8G")
WINDOW = "64M"
REPS = int(os.environ.get("BENCH_REPS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "41"))
# Bytes the bandwidth/random loops cover in the full-size runs (TCG is slow).
BW = os.environ.get("BENCH_BW", "512M")
# device-dax size (default: FULL); its memmap=! region adds room for the
# namespace's metadata (struct pages, 64 bytes per 4 KiB page, + alignment).
DAX = os.environ.get("BENCH_DAX", FULL)
METRICS = [("mmap_us", "mmap µs", False), ("touch_ms", "touch ms", False),
           ("pt_kb", "PT KiB", False), ("write_gbs", "wr GB/s", True),
           ("read_gbs", "rd GB/s", True), ("copy_gbs", "cp GB/s", True),
           ("rand_mops", "rand M/s", True), ("munmap_us", "munmap µs", False)]


# drain --image against the disk's own speed (run_drain_target)
DRAIN = os.environ.get("BENCH_DRAIN", "512M")
DRAIN_REPS = int(os.environ.get("BENCH_DRAIN_REPS", "5"))
DRAIN_TARGET = os.environ.get("BENCH_DRAIN_TARGET", "qemu-x86_64-7.3")
DRAIN_IO, DRAIN_DEPTH = 4 * M, 8         # drain --image's defaults
DRAIN_REC = M - 32                       # a record per 1 MiB (payload + header)

ORDER = ["resmem", "devmem", "devmem-sync", "devdax", "anon"]
LABEL = {"devdax": "device-dax", "anon": "anon THP"}


def dax_region_mib(dax):
    return (dax + dax // 32) // M + 64


def host_rss(g):
    with open(f"/proc/{g.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) << 10
    return 0


def release_guest_free_memory(g, expect):
    """Loads virtio_balloon (free page reporting): the guest hands the pages
    the anonymous runs freed back to the host, so resmem + device-dax + anon
    need not all be resident on the host at once.  Waits for QEMU's RSS to
    drop by `expect` bytes (or 180 s)."""
    import time
    before = host_rss(g)
    g.run("modprobe virtio_pci 2>/dev/null; modprobe virtio_balloon")   # 6.1: modules; no udev
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and host_rss(g) > before - expect:
        time.sleep(1)
    print(f"# QEMU RSS {before >> 20} MiB -> {host_rss(g) >> 20} MiB after free page reporting",
          flush=True)


def run_target(name):
    full = units.size(FULL)
    dax = units.size(DAX)
    runs = [("resmem", 0, FULL, BW), ("resmem", 0, WINDOW, WINDOW)]
    have_dax = True
    if name == "local":
        g = LocalMachine()
        phys = int(g.run("cat /sys/class/resmem/region0/phys_addr").out, 16)
        kernel = g.run("uname -r").out.strip()
        have_dax = g.run("test -c /dev/dax0.0", check=False).ok
    else:
        k = matrix.by_name(name)
        daxmib = dax_region_mib(dax)
        # QEMU's pc machine puts 3 GiB of RAM below 4 GiB and the rest from
        # 4 GiB up: the resmem ($) range, the device-dax (!) range right
        # after it, then FULL - 1 GiB of System RAM, so the guest has
        # FULL + 2 GiB for the anonymous runs and itself.  Guest RAM is not
        # reserved on the host (reserve=off): -m may exceed host RAM; what
        # is resident is what the guest touched (free page reporting below).
        mib = (3 * G + full + full - G) // M + daxmib
        cmdline = f"memmap={FULL}$4G memmap={daxmib}M!{(4 * G + full) // M}M"
        g = qemu.Guest(k, mem=f"{mib}M", cmdline=cmdline,
                       extra_files=devdax.extra_files(k, devdax.MODULES + ("virtio_pci", "virtio_balloon")),
                       extra_qemu=["-object", f"memory-backend-ram,id=ram0,size={mib}M,reserve=off",
                                   "-machine", "memory-backend=ram0",
                                   "-device", "virtio-balloon-pci,free-page-reporting=on"])
        g.start()
        phys = 4 * G
        kernel = k.kernelrelease
    results = []
    try:
        # anonymous memory first: its pages are then given back to the host
        results.append(bench(g, "anon", 0, FULL, BW))
        results.append(bench(g, "anon", 0, WINDOW, WINDOW))
        if name != "local":
            release_guest_free_memory(g, full * 3 // 4)
        g.run("lsmod | grep -q '^resmem ' || modprobe resmem")
        for kind, off, size, bw in runs:
            results.append(bench(g, kind, off, size, bw))
        g.run("rmmod resmem")
        for kind in ("devmem", "devmem-sync"):
            results.append(bench(g, kind, phys, FULL, BW))
            results.append(bench(g, kind, phys, WINDOW, WINDOW))
        if have_dax:
            if name != "local":
                devdax.setup(g)
            results.append(bench(g, "devdax", 0, DAX, min(units.size(BW), dax)))
            results.append(bench(g, "devdax", 0, WINDOW, WINDOW))
        g.run("modprobe resmem")
        if have_dax and dax == full:
            results.append(pair(g, "resmem", "devdax", FULL, BW))
    finally:
        g.stop()
    return {"target": name, "kernel": kernel, "results": results}


def bench(g, kind, off, size, bw):
    r = g.run(f"bench {kind} {off:#x} {size} {REPS} {bw}", timeout=3600)
    return json.loads(r.out.strip().splitlines()[-1])


def pair(g, a, b, size, bw):
    """a and b at offset 0, interleaved round by round: per-round ratios a/b."""
    r = g.run(f"bench pair {a}:0 {b}:0 {size} {ROUNDS} {bw}", timeout=3600)
    return json.loads(r.out.strip().splitlines()[-1])


def pair_table(runs):
    lines = []
    for run in runs:
        for p in (r for r in run["results"] if r["kind"] == "pair"):
            if not lines:
                lines.append("\nInterleaved (A B, B A, ...): per-round ratio A/B, median "
                             "(smallest–largest) of rounds 2..N, and rounds where A did better\n")
                lines.append("| target | A / B | size | rounds | " +
                             " | ".join(h for _, h, _ in METRICS) + " |")
                lines.append("|" + " --- |" * (len(METRICS) + 4))
            cells = [f"{p[k + '_ratio']:.3g} ({p[k + '_ratio_min']:.3g}–{p[k + '_ratio_max']:.3g}); "
                     f"{p[k + '_wins']}/{p['rounds'] - 1}" for k, _, _ in METRICS]
            lines.append(f"| {run['target']} | {LABEL.get(p['a'], p['a'])} / {LABEL.get(p['b'], p['b'])} | "
                         f"{p['size'] >> 20} MiB | {p['rounds']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sign_test_p(wins, n):
    """Two-sided sign test: the chance of a split at least this uneven if
    neither kind were faster."""
    from math import comb
    k = min(wins, n - wins)
    return min(1.0, 2 * sum(comb(n, i) for i in range(k + 1)) / 2 ** n)


def table(runs):
    lines = []
    for run in runs:
        lines.append(f"\n{run['target']} ({run['kernel']}), medians of {run['results'][0]['reps']} runs; "
                     "ratio = value / anonymous THP value (for times, >1 is slower)\n")
        lines.append("| kind | size | " + " | ".join(h for _, h, _ in METRICS) + " |")
        lines.append("|" + " --- |" * (len(METRICS) + 2))
        anon = {r["size"]: r for r in run["results"] if r["kind"] == "anon"}
        for r in sorted((r for r in run["results"] if r["kind"] in ORDER),
                        key=lambda r: (ORDER.index(r["kind"]), -r["size"])):
            a = anon.get(r["size"])
            cells = []
            for key, _, _ in METRICS:
                val = r[key]
                ratio = ""
                if a and r["kind"] != "anon" and a[key] > 0:
                    ratio = f" ({val / a[key]:.2g}×)"
                cells.append(f"{val:.4g}{ratio}")
            lines.append(f"| {LABEL.get(r['kind'], r['kind'])} | {r['size'] >> 20} MiB | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _find(run, kind, size):
    for r in run["results"]:
        if r["kind"] == kind and r["size"] == size:
            return r
    return None


def _v(r, key):
    """'median (min–max of the warm runs)' when the spread is known."""
    if f"{key}_min" in r:
        return f"{r[key]:.4g} ({r[key + '_min']:.4g}–{r[key + '_max']:.4g})"
    return f"{r[key]:.4g}"


def _overlap(a, b, key):
    return (f"{key}_min" in a and f"{key}_min" in b and
            a[key + "_min"] <= b[key + "_max"] and b[key + "_min"] <= a[key + "_max"])


def targets_met(runs):
    """Each performance target (8G mmap against /dev/mem, page tables, first
    touch and sequential write against anonymous THP and device-dax, munmap),
    met or not, with the numbers (whole mapping):
    medians, with the smallest–largest value of the repetitions."""
    full, dax = units.size(FULL), units.size(DAX)
    out = []
    for run in runs:
        t = run["target"]
        res, dm = _find(run, "resmem", full), _find(run, "devmem", full)
        an, dx = _find(run, "anon", full), _find(run, "devdax", dax)
        if not res:
            continue
        new = not run["kernel"].startswith("6.1.")

        def line(ok, text, a=None, b=None, key=None):
            if a is not None and _overlap(a, b, key):
                text += "; the ranges of the runs overlap: a difference within run-to-run noise"
            out.append(f"| {t} | {'met' if ok else '**not met**'} | {text} |")
        if dm:
            if new:
                line(dm["mmap_us"] >= 1000 * res["mmap_us"],
                     f"{FULL} mmap ≥1000× faster than /dev/mem: {_v(res, 'mmap_us')} µs vs "
                     f"{_v(dm, 'mmap_us')} µs: {dm['mmap_us'] / res['mmap_us']:.3g}× faster")
            else:
                line(res["mmap_us"] <= dm["mmap_us"],
                     f"{FULL} mmap no slower than /dev/mem: {_v(res, 'mmap_us')} µs vs "
                     f"{_v(dm, 'mmap_us')} µs: {dm['mmap_us'] / res['mmap_us']:.3g}× faster",
                     res, dm, "mmap_us")
        if new:
            line(res["pt_kb"] <= 64, f"page tables for {FULL} ≤ 64 KiB: {_v(res, 'pt_kb')} KiB")
        if an:
            line(res["touch_ms"] <= an["touch_ms"] / 0.95,
                 f"first touch ≥0.95× anon THP speed: {_v(res, 'touch_ms')} ms vs "
                 f"{_v(an, 'touch_ms')} ms: {an['touch_ms'] / res['touch_ms']:.3g}× as fast",
                 res, an, "touch_ms")
            line(res["write_gbs"] >= 0.95 * an["write_gbs"],
                 f"sequential write ≥0.95× anon THP: {_v(res, 'write_gbs')} vs "
                 f"{_v(an, 'write_gbs')} GB/s: {res['write_gbs'] / an['write_gbs']:.3g}×",
                 res, an, "write_gbs")
        pr = next((r for r in run["results"] if r["kind"] == "pair" and r["b"] == "devdax"), None)
        if pr:
            # read from the interleaved runs: the ratio of each round's pair
            for key, what, more in (("touch_ms", "first touch", False),
                                    ("write_gbs", "sequential write", True)):
                ratio = pr[f"{key}_ratio"]
                speed = ratio if more else 1 / ratio          # >1: resmem faster
                n, wins = pr["rounds"] - 1, pr[f"{key}_wins"]
                p = sign_test_p(wins, n)
                text = (f"{what} ≥ device-dax (interleaved): resmem/device-dax speed "
                        f"{speed:.3g}× (per-round {key} ratio {ratio:.4g}, "
                        f"{pr[key + '_ratio_min']:.4g}–{pr[key + '_ratio_max']:.4g}); "
                        f"resmem faster in {wins} of {n} rounds (sign test p = {p:.2g})")
                if speed >= 1:
                    out.append(f"| {t} | met | {text} |")
                elif p >= 0.05:
                    out.append(f"| {t} | **tie** | {text}: below 1 but not distinguishable "
                               "from noise in this run |")
                else:
                    out.append(f"| {t} | **not met** | {text} |")
        elif dx:
            # per-byte comparison when device-dax was measured at another size
            scale = full / dax
            line(res["touch_ms"] <= dx["touch_ms"] * scale,
                 f"first touch ≥ device-dax: {_v(res, 'touch_ms')} ms vs {_v(dx, 'touch_ms')} ms"
                 + (f" for {DAX} (scaled ×{scale:g})" if dax != full else "")
                 + f": {dx['touch_ms'] * scale / res['touch_ms']:.3g}× as fast",
                 res, dx, "touch_ms")
            line(res["write_gbs"] >= dx["write_gbs"],
                 f"sequential write ≥ device-dax: {_v(res, 'write_gbs')} vs "
                 f"{_v(dx, 'write_gbs')} GB/s: {res['write_gbs'] / dx['write_gbs']:.3g}×",
                 res, dx, "write_gbs")
        if new:
            line(res["munmap_us"] < 1000, f"{FULL} munmap < 1 ms: {_v(res, 'munmap_us')} µs")
    return "| target | status | measured: median (smallest–largest of runs 2..N) |\n" \
        "| --- | --- | --- |\n" + "\n".join(out)


def plot(runs, out):
    """Bar chart: mmap and munmap latency of the whole mapping, log scale."""
    dat = out + ".dat"
    with open(dat, "w") as f:
        for run in runs:
            for r in run["results"]:
                if r["kind"] in ORDER and r["size"] == units.size(DAX if r["kind"] == "devdax" else FULL):
                    f.write(f"\"{run['target'].replace('qemu-', '')}\\n{LABEL.get(r['kind'], r['kind'])}\" "
                            f"{max(r['mmap_us'], 0.1)} {max(r['munmap_us'], 0.1)} "
                            f"{max(r['touch_ms'] * 1000, 0.1)}\n")
    script = f"""set terminal svg size 1100,500 font 'sans,10'
set output '{out}'
set title 'Whole {FULL} mapping: latency (log scale, lower is better)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel 'microseconds'
set xtics rotate by -30 font 'sans,8'
set key top left
plot '{dat}' using 2:xtic(1) title 'mmap', '' using 3 title 'munmap', '' using 4 title 'first touch'
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.unlink(dat)


def run_drain_target(name):
    """In one guest with a virtio-blk disk (ext4, no journal): DRAIN bytes of
    records captured into region0 (struct pages, the default), then, round
    by round, the disk's speed from anonymous memory (tests/guest/diowrite:
    io_uring O_DIRECT, fixed buffers, the same write size and depth),
    `drain --image` (zero-copy) and `drain --image --copy` of the same
    records; each program times its writes up to fdatasync and reports its
    own CPU time (getrusage: user + system)."""
    k = matrix.by_name(name)
    size = units.size(DRAIN)
    count = size // M
    dsk = disk.Ext4Disk("bench-drain", 2 * size + 512 * M)
    g = qemu.Guest(k, mem="13G", cmdline="memmap=8G$4G", extra_qemu=dsk.qemu_args(),
                   extra_files=disk.ext4_module_files(k))
    g.start()
    rounds = []
    try:
        g.run("modprobe resmem")
        disk.mount_ext4(g, "/mnt/disk")
        g.run("resmem ring region0 --reset --force >/dev/null")
        g.run(f"resmem capture region0 --generate 1 --record-size {DRAIN_REC} --count {count}",
              timeout=3600)
        # the host allocates the sparse disk image's blocks on first write:
        # one unrecorded round writes where the rounds will write
        for i in range(DRAIN_REPS + 1):
            row = {}
            row["raw"] = json.loads(g.run(
                f"diowrite /mnt/disk/raw.bin {count * M} {DRAIN_IO} {DRAIN_DEPTH}; "
                "rm -f /mnt/disk/raw.bin", timeout=3600).out)
            for kind, extra in (("zero-copy", ""), ("copy", " --copy")):
                r = g.run(f"resmem drain region0 --image /mnt/disk/i.img --no-consume --json"
                          f"{extra}; rm -f /mnt/disk/i.img", timeout=3600)
                row[kind] = json.loads(r.out)
            assert row["zero-copy"]["zero_copy"] and not row["copy"]["zero_copy"], row
            print(f"# drain round {i}{' (warm-up, not counted)' if not i else ''}: " + ", ".join(
                f"{kd} {v['mib_s']:.1f} MiB/s" for kd, v in row.items()), flush=True)
            if i:
                rounds.append(row)
    finally:
        g.stop()
    return {"target": name, "kernel": k.kernelrelease, "bytes": count * M, "rounds": rounds,
            "path": rounds[0]["zero-copy"]["path"] if rounds else ""}


def _median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def drain_table(d):
    """Medians over the rounds; ratios to the disk's own speed per round."""
    rs = d["rounds"]
    lines = [f"{d['target']} ({d['kernel']}), {d['bytes'] >> 20} MiB per run, "
             f"{len(rs)} rounds after a warm-up round (raw, zero-copy, copy in turn), medians; "
             f"ratio = per-round "
             f"bandwidth / the raw write's in the same round\n",
             "| writer | MiB/s | ratio to raw | CPU s/GiB | bytes through bounce buffers |",
             "| --- | --- | --- | --- | --- |"]
    for kind, label in (("raw", "O_DIRECT from anonymous memory (diowrite)"),
                        ("zero-copy", "`drain --image` (zero-copy)"),
                        ("copy", "`drain --image --copy`")):
        bw = _median([r[kind]["mib_s"] for r in rs])
        ratio = _median([r[kind]["mib_s"] / r["raw"]["mib_s"] for r in rs])
        cpu = _median([r[kind]["cpu_s_per_gib"] for r in rs])
        bounced = rs[0][kind].get("bounced_bytes", "")
        lines.append(f"| {label} | {bw:.1f} | {ratio:.3f} | {cpu:.3f} | {bounced} |")
    lines.append(f"\nzero-copy path: {d['path']}")
    return "\n".join(lines)


def write_drain_doc(d):
    doc = os.path.join(REPO, "docs", "benchmarks.md")
    text = open(doc).read()
    a, b = text.index("<!-- drain -->"), text.index("<!-- /drain -->")
    with open(doc, "w") as f:
        f.write(text[:a] + "<!-- drain -->\n" + drain_table(d) + "\n" + text[b:])


def main(argv):
    """`python3 -m tests.bench --render results.json` redoes the table, the
    targets, the plot and docs/benchmarks.md from a saved run (no guest)."""
    outdir = os.path.join(REPO, "build", "bench")
    if argv[:1] == ["--drain"] or (argv[:1] != ["--render"] and units.size(DRAIN or "0")):
        d = run_drain_target(DRAIN_TARGET)
        os.makedirs(outdir, exist_ok=True)
        with open(os.path.join(outdir, "drain.json"), "w") as f:
            json.dump(d, f, indent=1)
        print(drain_table(d))
        write_drain_doc(d)
        if argv[:1] == ["--drain"]:
            return 0
    if argv[:1] == ["--render"]:
        with open(argv[1]) as f:
            runs = json.load(f)
    else:
        targets = os.environ.get("TARGET") or "qemu-x86_64-6.1,qemu-x86_64-6.12"
        runs = [run_target(t.strip()) for t in targets.split(",") if t.strip()]
        os.makedirs(outdir, exist_ok=True)
        with open(os.path.join(outdir, "results.json"), "w") as f:
            json.dump(runs, f, indent=1)
    tab = table(runs) + "\n" + pair_table(runs)
    print(tab)
    tgt = targets_met(runs)
    print(tgt)
    plot(runs, os.path.join(REPO, "docs", "bench.svg"))
    doc = os.path.join(REPO, "docs", "benchmarks.md")
    head = open(doc).read().split("<!-- results -->")[0] if os.path.exists(doc) else "# Benchmarks\n\n"
    with open(doc, "w") as f:
        f.write(head + "<!-- results -->\n" + f"Full size: {FULL} (bandwidth and random "
                f"loops over the first {BW} of it); device-dax: {DAX}; window: {WINDOW}.\n" + tab +
                "\n\n![latency](bench.svg)\n\n## Performance targets\n\n"
                "Whole mapping; medians, and in parentheses the smallest and largest value "
                "of the repetitions after the first (which pays QEMU's host first touch).\n\n"
                + tgt + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
