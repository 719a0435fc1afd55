"""make bench: resmem against /dev/mem and anonymous THP memory, in one guest per kernel.

    make bench                       x86_64 6.1 and 6.12 under QEMU (TCG)
    make bench TARGET=local          this machine (root; resmem loaded/unloadable,
                                     region0 = the region to measure)
    make bench BENCH_FULL=8G         size of the "whole mapping" runs

Runs tests/guest/bench.c for every kind and size, prints one table (medians,
ratio to anonymous memory), writes build/bench/results.json, regenerates
docs/benchmarks.md and docs/bench.svg (gnuplot).  Timings live here only;
`make test` asserts what is deterministic (tests/test_mapping_cost.py).
"""
import json
import os
import subprocess
import sys

from tests.harness import build, matrix, qemu
from tests.harness.local import LocalMachine

REPO = build.REPO
G, M = 1 << 30, 1 << 20
FULL = os.environ.get("BENCH_FULL", "4G")
WINDOW = "64M"
REPS = int(os.environ.get("BENCH_REPS", "3"))
# Bytes the bandwidth/random loops cover in the full-size runs (TCG is slow).
BW = os.environ.get("BENCH_BW", "512M")
DAX_REASON = ("device-dax not measured: it needs ndctl and its shared libraries in the "
              "initramfs plus the nd_e820/dax_pmem modules from the Debian image; "
              "that harness work is not done yet")
METRICS = [("mmap_us", "mmap µs", False), ("touch_ms", "touch ms", False),
           ("pt_kb", "PT KiB", False), ("write_gbs", "wr GB/s", True),
           ("read_gbs", "rd GB/s", True), ("copy_gbs", "cp GB/s", True),
           ("rand_mops", "rand M/s", True), ("munmap_us", "munmap µs", False)]


def size_bytes(s):
    return int(s[:-1]) * {"K": 1 << 10, "M": M, "G": G}[s[-1]] if s[-1] in "KMG" else int(s)


def run_target(name):
    full = size_bytes(FULL)
    runs = [("resmem", 0, FULL, BW), ("resmem", 0, WINDOW, WINDOW)]
    if name == "local":
        g = LocalMachine()
        phys = int(g.run("cat /sys/class/resmem/region0/phys_addr").out, 16)
        kernel = g.run("uname -r").out.strip()
    else:
        k = matrix.by_name(name)
        mem = f"{(2 * full + 2 * G) // G}G"
        g = qemu.Guest(k, mem=mem, cmdline=f"memmap={FULL}$4G")
        g.start()
        phys = 4 * G
        kernel = k.kernelrelease
    results = []
    try:
        g.run("lsmod | grep -q '^resmem ' || modprobe resmem")
        for kind, off, size, bw in runs:
            results.append(bench(g, kind, off, size, bw))
        g.run("rmmod resmem")
        for kind in ("devmem", "devmem-sync"):
            results.append(bench(g, kind, phys, FULL, BW))
            results.append(bench(g, kind, phys, WINDOW, WINDOW))
        results.append(bench(g, "anon", 0, FULL, BW))
        results.append(bench(g, "anon", 0, WINDOW, WINDOW))
        if name == "local":
            g.run("modprobe resmem")
    finally:
        g.stop()
    return {"target": name, "kernel": kernel, "results": results}


def bench(g, kind, off, size, bw):
    r = g.run(f"bench {kind} {off:#x} {size} {REPS} {bw}", timeout=3600)
    return json.loads(r.out.strip().splitlines()[-1])


def table(runs):
    lines = []
    for run in runs:
        lines.append(f"\n{run['target']} ({run['kernel']}), medians of {REPS} runs; "
                     "ratio = value / anonymous THP value (for times, >1 is slower)\n")
        lines.append("| kind | size | " + " | ".join(h for _, h, _ in METRICS) + " |")
        lines.append("|" + " --- |" * (len(METRICS) + 2))
        anon = {r["size"]: r for r in run["results"] if r["kind"] == "anon"}
        for r in run["results"]:
            a = anon.get(r["size"])
            cells = []
            for key, _, _ in METRICS:
                val = r[key]
                ratio = ""
                if a and r["kind"] != "anon" and a[key] > 0:
                    ratio = f" ({val / a[key]:.2g}×)"
                cells.append(f"{val:.4g}{ratio}")
            lines.append(f"| {r['kind']} | {r['size'] >> 20} MiB | " + " | ".join(cells) + " |")
        lines.append("| device-dax | — | " + DAX_REASON + " |" + " |" * (len(METRICS) - 1))
    return "\n".join(lines)


def plot(runs, out):
    """Bar chart: mmap and munmap latency of the whole mapping, log scale."""
    dat = out + ".dat"
    with open(dat, "w") as f:
        for run in runs:
            for r in run["results"]:
                if r["size"] == size_bytes(FULL):
                    f.write(f"\"{run['target'].replace('qemu-', '')}\\n{r['kind']}\" "
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


def main():
    targets = os.environ.get("TARGET") or "qemu-x86_64-6.1,qemu-x86_64-6.12"
    runs = [run_target(t.strip()) for t in targets.split(",") if t.strip()]
    outdir = os.path.join(REPO, "build", "bench")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(runs, f, indent=1)
    tab = table(runs)
    print(tab)
    print("\n" + DAX_REASON)
    plot(runs, os.path.join(REPO, "docs", "bench.svg"))
    doc = os.path.join(REPO, "docs", "benchmarks.md")
    head = open(doc).read().split("<!-- results -->")[0] if os.path.exists(doc) else "# Benchmarks\n\n"
    with open(doc, "w") as f:
        f.write(head + "<!-- results -->\n" + f"Full size: {FULL} (bandwidth and random "
                f"loops over the first {BW} of it); window: {WINDOW}.\n" + tab +
                "\n\n![latency](bench.svg)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
