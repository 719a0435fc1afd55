"""resmem under abuse: bad inputs, boundaries, concurrency and
unload races, a syscall fuzzer, permissions.  x86_64 guests.

Layout of the standard boot (memmap=8G$4G: Reserved 0x100000000-0x2ffffffff)
as these tests use it, with discovery off so only these regions exist:

    mid   1 GiB at 5 GiB   [0x140000000, 0x180000000)  write-back
    tail  256 MiB at 7 GiB [0x1c0000000, 0x1d0000000)  write-combining

The 64 KiB just below and just above each region lie inside the
reservation but in no region: the host fills them with a pattern (through
temporary regions) and checks after each abusive run that not one byte
changed (`pmemsave`).

Tables run in one guest command per table (the `abuse cases` helper prints
one result line per row, module-parameter rows run in one shell loop) and
are reported one pytest item per row.  Every expected value comes from the
documented behaviour: module/params.c (regions= syntax), module/chardev.c
(read/write/lseek), module/mmap.c and README (mmap policy), the UAPI header
and module/ioctl.c (ioctl size rules), and, where the VFS or mm decides
before resmem is asked, from that kernel code (named in the row's comment).

PROT_EXEC: allowed, as /dev/mem and device-dax allow it.  The node is root
only (0600), an exec mapping gives nothing root could not do with anonymous
memory, and executing from /dev is policy for the mount (noexec) or an LSM,
not for the driver.  `exec` rows prove the code really runs.
"""
import os
import re
import shlex
import time

import pytest

from tests.guest_proc import wait_gone, wait_open
from tests.harness import uapi
from tests.harness.guestview import device_node_mode
from tests.harness.pattern import seq
from tests.harness.units import G, K, M

# ioctl argument sizes, commands and sync directions of the UAPI header
INFO, SYNC = uapi.INFO_SIZE, uapi.SYNC_SIZE
IOC_INFO, IOC_SYNC = f"{uapi.IOC_INFO:#x}", f"{uapi.IOC_SYNC:#x}"
FOR_CPU, FOR_DEVICE = uapi.SYNC_FOR_CPU, uapi.SYNC_FOR_DEVICE

MID = ("mid", 5 * G, G)
TAIL = ("tail", 7 * G, 256 * M)
REGIONS_ARG = "discover=0 'regions=mid:1G@5G,tail:256M@0x1c0000000:wc'"
# 64 KiB on each side of each region, and the pattern seed the host put there.
WATCH = 64 * K
NEIGHBOURS = [(MID[1] - WATCH, 0xB1), (MID[1] + MID[2], 0xB2),
              (TAIL[1] - WATCH, 0xB3), (TAIL[1] + TAIL[2], 0xB4)]

FUZZ_SECONDS = float(os.environ.get("RESMEM_FUZZ_SECONDS", "20"))
STRESS_SECONDS = float(os.environ.get("RESMEM_STRESS_SECONDS", "10"))
STRESS_PROCS = int(os.environ.get("RESMEM_STRESS_PROCS", "16"))

pytestmark = [pytest.mark.core, pytest.mark.archs("x86_64"), pytest.mark.guest(boot="standard")]


# ------------------------------------------------------------------ helpers
def unload(g):
    g.run("rmmod resmem 2>/dev/null; true")


def load_regions(g):
    unload(g)
    g.run(f"modprobe resmem {REGIONS_ARG}")
    assert g.run("ls /dev/resmem").out.split() == ["mid", "tail"]


@pytest.fixture
def regions(guest):
    """mid and tail loaded; unloaded afterwards."""
    load_regions(guest)
    yield guest
    unload(guest)


def fill_neighbours(g):
    """Put a known pattern in the pages around both regions (through
    temporary regions, the module unloaded again afterwards)."""
    unload(g)
    spec = ",".join(f"n{i}:64K@{addr:#x}" for i, (addr, _) in enumerate(NEIGHBOURS))
    g.run(f"modprobe resmem discover=0 'regions={spec}'")
    try:
        for i, (_, seed) in enumerate(NEIGHBOURS):
            g.run(f"mapper write /dev/resmem/n{i} 0 {WATCH:#x} {seed:#x}")
    finally:
        unload(g)
    check_neighbours(g)


def check_neighbours(g):
    for addr, seed in NEIGHBOURS:
        got = g.pmemsave(addr, WATCH)
        want = seq(seed, 0, WATCH)
        if got != want:
            bad = next(i for i in range(WATCH) if got[i] != want[i])
            pytest.fail(f"byte {addr + bad:#x} next to a region changed: "
                        f"{want[bad]:#04x} -> {got[bad]:#04x}")


def region_works(g, name, base, size, seed, offset=None):
    """Write a pattern into the region and read it back from the host."""
    off = size - 4 * K if offset is None else offset
    g.run(f"mapper write /dev/resmem/{name} {off:#x} 4096 {seed:#x}")
    assert g.pmemsave(base + off, 4096) == seq(seed, off, 4096), f"{name} at {off:#x}"


_batches = {}


def batch(g, target, key, fn):
    """Run a whole table once per guest boot; rows then look up their result."""
    k = (target, id(g), getattr(g, "boots", 0), key)
    if k not in _batches:
        _batches[k] = fn(g)
    return _batches[k]


# ------------------------------------------------------- module parameters
GOOD = "good:64M@0x180000000"
GOOD_BASE, GOOD_SIZE = 6 * G, 64 * M
X = "0x190000000"          # inside the reservation, clear of good

# (id, modprobe arguments, load succeeds, regex the row's kernel log must match,
#  devices that must exist besides good, devices that must not exist)
PARAM_ROWS = [
    # SIZE and ADDR (params.c parse_size)
    ("size-missing", f"regions={GOOD},x:@{X}", True, r"'x:@0x190000000' ignored: missing number", [], ["x"]),
    ("addr-missing", f"regions={GOOD},x:64M@", True, r"'x:64M@' ignored: missing number", [], ["x"]),
    ("size-bad-suffix", f"regions={GOOD},x:64Q@{X}", True, r"'x:64Q@\S+' ignored: bad character in number", [], ["x"]),
    ("size-junk-after-suffix", f"regions={GOOD},x:64MB@{X}", True, r"ignored: junk after the size suffix", [], ["x"]),
    ("addr-junk-after-suffix", f"regions={GOOD},x:64M@6GB", True, r"ignored: junk after the size suffix", [], ["x"]),
    ("hex-prefix-no-digits", f"regions={GOOD},x:0x@{X}", True, r"'x:0x@\S+' ignored: missing number", [], ["x"]),
    ("hex-digit-in-decimal", f"regions={GOOD},x:64abc@{X}", True, r"ignored: bad character in number", [], ["x"]),
    ("negative-size", f"regions={GOOD},x:-64M@{X}", True, r"'x:-64M@\S+' ignored: missing number", [], ["x"]),
    ("size-overflow-decimal", f"regions={GOOD},x:18446744073709551616@{X}", True,
     r"ignored: number does not fit in 64 bits", [], ["x"]),
    ("size-overflow-by-suffix", f"regions={GOOD},x:16777216T@{X}", True,
     r"ignored: number does not fit in 64 bits", [], ["x"]),
    ("addr-overflow-hex", f"regions={GOOD},x:4K@0x10000000000000000", True,
     r"ignored: number does not fit in 64 bits", [], ["x"]),
    # validate.c, in its order
    ("size-u64-max", f"regions={GOOD},x:18446744073709551615@{X}", True,
     r"x \[mem 0x0*190000000, size 0xffffffffffffffff\]: refused: start \+ size overflows 64 bits", [], ["x"]),
    ("start-plus-size-wraps", f"regions={GOOD},x:8K@0xfffffffffffff000", True,
     r"x \[mem 0xfffffffffffff000, size 0x2000\]: refused: start \+ size overflows 64 bits", [], ["x"]),
    ("zero-size", f"regions={GOOD},x:0@{X}", True, r"x \[mem 0x0*190000000, size 0\]: refused: zero size", [], ["x"]),
    ("size-not-page-multiple", f"regions={GOOD},x:4097@{X}", True,
     r"resmem: x \[mem .*\]: refused: start and size must be multiples of the page size", [], ["x"]),
    ("addr-not-page-aligned", f"regions={GOOD},x:4K@0x190000800", True,
     r"resmem: x \[mem .*\]: refused: start and size must be multiples of the page size", [], ["x"]),
    ("beyond-physical-address-bits", f"regions={GOOD},x:4K@0x7ffffffffffff000", True,
     r"resmem: x \[mem .*\]: refused: beyond the \d+ physical address bits", [], ["x"]),
    ("below-1MiB", f"regions={GOOD},x:64K@0x80000", True, r"resmem: x \[mem .*\]: refused: below 1 MiB", [], ["x"]),
    ("system-ram", f"regions={GOOD},x:16M@0x10000000", True, r"resmem: x \[mem .*\]: refused: is System RAM", [], ["x"]),
    ("pci-hole", f"regions={GOOD},x:16M@0xd0000000", True,
     r"resmem: x \[mem .*\]: refused: not in any Reserved range", [], ["x"]),
    ("beyond-installed-ram", f"regions={GOOD},x:1G@0x1000000000", True,
     r"resmem: x \[mem .*\]: refused: not in any Reserved range", [], ["x"]),
    ("straddles-reservation-end", f"regions={GOOD},x:8K@0x2fffff000", True,
     r"resmem: x \[mem .*\]: refused: overlaps System RAM", [], ["x"]),   # RAM follows at 12 GiB
    ("overlaps-good", f"regions={GOOD},x:64M@0x182000000", True,
     r"resmem: x \[mem .*\]: refused: overlaps region good", [], ["x"]),
    ("same-range-as-good", f"regions={GOOD},x:64M@0x180000000", True,
     r"resmem: x \[mem .*\]: refused: overlaps region good", [], ["x"]),
    # 64 unnamed 4 KiB entries (region0..region63) after good: the 65th region is refused.
    ("65-regions", "regions=" + ",".join([GOOD] + [f"4K@{6553600 + 4 * i}K" for i in range(64)]),
     True, r"resmem: region63 \[mem .*\]: refused: more than 64 regions", ["region0", "region62"], ["region63"]),
    # kernel/params.c param_set_charp(): string parameters are at most 1024 characters.
    ("regions-longer-than-1024", "regions=" + ",".join([GOOD] + [f"r{i}:4K@{0x190000000 + i * 4096:#x}" for i in range(64)]),
     False, r"regions: string parameter too long", [], []),
    # separators and fields (params.c parse_entry)
    ("no-separator", f"regions={GOOD},x:64M{X}", True, r"ignored: no SIZE\$ADDR or SIZE@ADDR", [], ["x"]),
    ("two-at-signs", f"regions={GOOD},x:64M@{X}@0x1a0000000", True, r"ignored: bad character in number", [], ["x"]),
    ("dollar-then-at", f"regions={GOOD},x:64M${X}@1G", True, r"ignored: bad character in number", [], ["x"]),
    ("too-many-fields", f"regions={GOOD},x:64M@{X}:wb:pages=off:more", True, r"ignored: too many ':'-separated fields", [], ["x"]),
    ("option-unknown", f"regions={GOOD},x:64M@{X}:wb:more", True, r"ignored: cache mode must be wb, wc or uc", [], ["x"]),
    ("range-in-third-field", f"regions={GOOD},a:b:64M@{X}", True,
     r"ignored: SIZE\$ADDR must be the first or second field", [], ["a", "b"]),
    ("range-then-name", f"regions={GOOD},64M@{X}:x", True, r"ignored: cache mode must be wb, wc or uc", [], ["x", "region0"]),
    ("cache-mode-unknown", f"regions={GOOD},x:64M@{X}:wt", True, r"ignored: cache mode must be wb, wc or uc", [], ["x"]),
    ("cache-mode-empty", f"regions={GOOD},x:64M@{X}:", True, r"ignored: cache mode must be wb, wc or uc", [], ["x"]),
    ("pages-option-unknown", f"regions={GOOD},x:64M@{X}:pages=yes", True,
     r"ignored: pages= must be off, ram or region", [], ["x"]),
    ("pages-option-twice", f"regions={GOOD},x:64M@{X}:pages=off:pages=off", True,
     r"ignored: pages= given twice", [], ["x"]),
    # NAME (params.c resmem_name_ok, region.c duplicate names)
    ("name-empty", f"regions={GOOD},:64M@{X}", True, r"ignored: NAME must be 1-31 characters", [], ["region0"]),
    ("name-32-chars", f"regions={GOOD},{'n' * 32}:64M@{X}", True, r"ignored: NAME must be 1-31 characters", [], ["n" * 32]),
    ("name-with-slash", f"regions={GOOD},a/b:64M@{X}", True, r"'a/b:64M@\S+' ignored: NAME must be", [], ["a"]),
    ("name-dot-dot", f"regions={GOOD},..:64M@{X}", True, r"'\.\.:64M@\S+' ignored: NAME must be", [], []),
    ("name-leading-dot", f"regions={GOOD},.x:64M@{X}", True, r"ignored: NAME must be", [], [".x"]),
    ("name-with-equals", f"regions={GOOD},a=b:64M@{X}", True, r"ignored: NAME must be", [], ["a=b"]),
    ("name-with-dollar", f"regions={GOOD},a$b:64M@{X}", True, r"ignored: cache mode must be wb, wc or uc", [], ["a"]),
    ("name-duplicate", f"regions={GOOD},good:64M@0x1a0000000", True,
     r"'good:64M@0x1a0000000' ignored: name good is already used", [], []),
    # other parameters (params.c resmem_params_init, the kernel's parse_args)
    ("cache-param-unknown", f"cache=xyz regions={GOOD}", False, r"cache=xyz: unknown cache mode; use wb, wc or uc", [], []),
    ("cache-param-empty", f"cache= regions={GOOD}", False, r"cache=: unknown cache mode", [], []),
    ("pages-in-param-unknown", f"pages_in=disk regions={GOOD}", False,
     r"pages_in=disk: not a place for struct pages; use ram or region", [], []),
    ("discover-param-not-bool", f"discover=maybe regions={GOOD}", False, r"invalid for parameter .discover", [], []),
    ("unknown-param", f"bogus=1 regions={GOOD}", True, r"unknown parameter 'bogus' ignored", [], []),
    ("regions-empty", "regions=", True, r"no usable regions", [], ["good"]),
    ("regions-only-commas", "regions=,,,", True, r"no usable regions", [], ["good"]),
    # accepted spellings (controls: the parser does not refuse everything)
    ("ok-lowercase-suffixes", f"regions={GOOD},x:64m@6400m", True, r"resmem: x \[mem 0x0*190000000-0x0*193ffffff\]: /dev/resmem/x", ["x"], []),
    ("ok-uppercase-hex", f"regions={GOOD},x:0X4000000@0X190000000", True, r"/dev/resmem/x, 64 MiB", ["x"], []),
    ("ok-dollar", f"regions={GOOD},x:64M${X}", True, r"/dev/resmem/x, 64 MiB", ["x"], []),
    ("ok-name-31-chars", f"regions={GOOD},{'n' * 31}:64M@{X}", True, r"/dev/resmem/" + "n" * 31, ["n" * 31], []),
    ("ok-cache-uppercase", f"regions={GOOD},x:64M@{X}:WC", True, r"/dev/resmem/x, 64 MiB, write-combine", ["x"], []),
    ("ok-empty-entries", f"regions=,{GOOD},,x:64M@{X},", True, r"/dev/resmem/x", ["x"], []),
]


def _run_param_rows(g):
    """All rows in one guest command: load, list, (reload good), write good,
    unload.  Each row's kernel log is what dmesg gained during the row (the
    log is never cleared: the local target runs on somebody's machine)."""
    unload(g)
    script = []
    for i, (rid, args, _, _, _, _) in enumerate(PARAM_ROWS):
        words = " ".join(shlex.quote(a) for a in args.split(" "))
        script.append(f"""
echo "@@ROW {rid}"
n=$(dmesg | wc -l)
modprobe resmem discover=0 {words} >/dev/null 2>&1; echo "load=$?"
echo "devs=$(ls /dev/resmem 2>/dev/null | tr '\\n' ' ')"
lsmod | grep -q '^resmem ' || echo "loaded=no"
rmmod resmem 2>/dev/null
modprobe resmem discover=0 regions={GOOD}
mapper write /dev/resmem/good {i * 4096:#x} 4096 {0x9000 + i:#x} >/dev/null; echo "good=$?"
rmmod resmem
echo "@@LOG"
dmesg | sed -n "$((n + 1)),\\$p"
""")
    out = g.run("\n".join(script), timeout=600).out
    rows = {}
    for chunk in out.split("@@ROW ")[1:]:
        head, _, log = chunk.partition("@@LOG\n")
        rid = head.split("\n", 1)[0].strip()
        rows[rid] = (head, log)
    host = g.pmemsave(GOOD_BASE, len(PARAM_ROWS) * 4096)
    return rows, host


@pytest.mark.parametrize("row", PARAM_ROWS, ids=[r[0] for r in PARAM_ROWS])
def test_module_parameter(guest, target, row):
    rid, args, loads, expect, present, absent = row
    rows, host = batch(guest, target, "params", _run_param_rows)
    head, log = rows[rid]
    i = [r[0] for r in PARAM_ROWS].index(rid)
    assert ("load=0" in head) == loads, head
    assert re.search(expect, log), f"{rid}: no /{expect}/ in\n{log}"
    devs = re.search(r"devs=(.*)", head)[1].split()
    if loads:
        for name in present + (["good"] if "good" not in absent else []):
            assert name in devs, (name, devs)
    for name in absent:
        assert name not in devs, (name, devs)
    # The good region, loaded again after the row, took this row's pattern.
    assert "good=0" in head, head
    assert host[i * 4096:(i + 1) * 4096] == seq(0x9000 + i, i * 4096, 4096), rid


# ------------------------------------------------------------ syscall rows
S = MID[2]
SZ = f"{S:#x}"
# (id, device, abuse case, expected result line (regex, whole line))
SYSCALL_ROWS = [
    # mmap: window rules (mmap.c resmem_mmap / README), the kernel's own checks
    ("mmap-whole-region", "mid", "mmap 0 1G shared rw", "ok"),
    ("mmap-first-page", "mid", "mmap 0 4K shared rw", "ok"),
    ("mmap-last-page", "mid", f"mmap {S - 4096:#x} 4K shared rw", "ok"),
    ("mmap-length-rounded-up-inside", "mid", f"mmap {S - 4096:#x} 100 shared r", "ok"),
    ("mmap-length-rounded-up-past-end", "mid", f"mmap {S - 4096:#x} 4097 shared r", "errno=EINVAL"),
    ("mmap-at-end", "mid", f"mmap {SZ} 4K shared r", "errno=EINVAL"),
    ("mmap-beyond-end", "mid", "mmap 2G 4K shared r", "errno=EINVAL"),
    ("mmap-crossing-end", "mid", f"mmap {S - 4096:#x} 8K shared r", "errno=EINVAL"),
    ("mmap-longer-than-region", "mid", "mmap 0 2G shared r", "errno=EINVAL"),
    ("mmap-offset-2^63", "mid", "mmap 0x8000000000000000 4K shared r", "errno=EINVAL"),
    # mm/mmap.c file_mmap_ok(): offset + length past 2^64
    ("mmap-offset-plus-length-wraps", "mid", "mmap 0xfffffffffffff000 8K shared r", "errno=EOVERFLOW"),
    # arch sys_mmap: offset not page aligned
    ("mmap-unaligned-offset", "mid", "mmap 0x800 4K shared r", "errno=EINVAL"),
    ("mmap-offset-1", "mid", "mmap 1 4K shared r", "errno=EINVAL"),
    # do_mmap: zero length; longer than the address space
    ("mmap-zero-length", "mid", "mmap 0 0 shared r", "errno=EINVAL"),
    ("mmap-length-2^47", "mid", "mmap 0 0x800000000000 shared r", "errno=ENOMEM"),
    ("mmap-private-rw", "mid", "mmap 0 4K private rw", "errno=EINVAL"),
    ("mmap-private-r", "mid", "mmap 0 4K private r", "errno=EINVAL"),
    ("mmap-shared-validate", "mid", "mmap 0 4K validate rw", "ok"),
    ("mmap-prot-none", "mid", "mmap 0 4K shared none", "ok"),
    ("mmap-prot-exec", "mid", "mmap 0 4K shared rx", "ok"),
    ("mmap-prot-rwx", "mid", "mmap 0 4K shared rwx", "ok"),
    ("exec-code-in-region-runs", "mid", "exec 0x2000", "ok ret=42"),
    # mm: a shared writable mapping needs a file open for writing; any mapping needs read
    ("mmap-rw-on-rdonly-open", "mid", "mmap 0 4K shared rw ro", "errno=EACCES"),
    ("mmap-r-on-rdonly-open", "mid", "mmap 0 4K shared r ro", "ok"),
    ("mmap-on-wronly-open", "mid", "mmap 0 4K shared w wo", "errno=EACCES"),
    ("mprotect-write-on-rdonly-open", "mid", "mprotect 0 4K rw ro", "errno=EACCES"),
    ("mprotect-write-on-rdwr-open", "mid", "mprotect 0 4K rw", "ok"),
    ("mprotect-exec", "mid", "mprotect 0 4K rx", "ok"),
    # mremap (mmap.c: VM_DONTEXPAND; mm/mremap.c: no DONTUNMAP on PFN maps)
    ("mremap-grow-in-place", "mid", "mremap 0 8K 16K none", "errno=EFAULT"),
    ("mremap-grow-maymove", "mid", "mremap 0 8K 16K maymove", "errno=EFAULT"),
    ("mremap-grow-last-page", "mid", f"mremap {S - 8192:#x} 8K 12K maymove", "errno=EFAULT"),
    ("mremap-shrink", "mid", "mremap 0 16K 4K none", "ok"),
    ("mremap-move-fixed", "mid", "mremap 0x10000 8K 8K fixed", "ok"),
    ("mremap-dontunmap", "mid", "mremap 0 8K 8K dontunmap", "errno=EINVAL"),
    # madvise on page entries (mid: struct pages, the default for
    # write-back): dropped entries fault back in on the same memory
    # (region_works() after the batch), nothing is paged out of a
    # ZONE_DEVICE region, and MADV_FREE/REMOVE are for anonymous/shmem
    ("madvise-dontneed", "mid", "madvise 0 8K 4", "ok"),
    ("madvise-free", "mid", "madvise 0 8K 8", "errno=EINVAL"),
    ("madvise-remove", "mid", "madvise 0 8K 9", "errno=ENODEV"),
    ("madvise-dontfork", "mid", "madvise 0 8K 10", "ok"),
    ("madvise-cold", "mid", "madvise 0 8K 20", "ok"),
    ("madvise-pageout", "mid", "madvise 0 8K 21", "ok"),
    ("madvise-cold-2m", "mid", "madvise 0 4M 20", "ok"),
    # madvise on a VM_PFNMAP|VM_IO mapping (tail: write-combining, no pages;
    # mm/madvise.c)
    ("madvise-dontneed-pfn", "tail", "madvise 0 8K 4", "errno=EINVAL"),
    ("madvise-dofork-on-io", "tail", "madvise 0 8K 11", "errno=EINVAL"),
    ("madvise-cold-pfn", "tail", "madvise 0 8K 20", "errno=EINVAL"),
    ("madvise-pageout-pfn", "tail", "madvise 0 8K 21", "errno=EINVAL"),
    ("munmap-middle-page", "mid", "munmap-mid 0 64K", "ok"),
    # read/write (chardev.c): EOF, ENOSPC, short at the end
    ("pread-first-page", "mid", "pread 0 4K", "n=4096"),
    ("pread-last-byte", "mid", f"pread {S - 1:#x} 1", "n=1"),
    ("pread-crossing-end", "mid", f"pread {S - 4096:#x} 8K", "n=4096"),
    ("pread-at-end", "mid", f"pread {SZ} 4K", "n=0"),
    ("pread-past-end", "mid", "pread 2G 4K", "n=0"),
    ("pread-zero-length", "mid", "pread 0 0", "n=0"),
    ("pread-huge-offset", "mid", "pread 0x7fffffffffffe000 4K", "n=0"),
    # fs/read_write.c: negative offsets; offset + count past 2^63
    ("pread-negative-offset", "mid", "pread -4096 4K", "errno=EINVAL"),
    ("pread-offset-plus-count-overflows", "mid", "pread 0x7ffffffffffff000 4K", "errno=EINVAL"),
    ("pread-into-short-buffer", "mid", "pread-short 16K", "n=8192"),
    ("pread-into-null", "mid", "pread-null 4K", "errno=EFAULT"),
    ("pwrite-last-byte", "mid", f"pwrite {S - 1:#x} 1", "n=1"),
    ("pwrite-crossing-end", "mid", f"pwrite {S - 4096:#x} 8K", "n=4096"),
    ("pwrite-at-end", "mid", f"pwrite {SZ} 4K", "errno=ENOSPC"),
    ("pwrite-zero-length-at-end", "mid", f"pwrite {SZ} 0", "errno=ENOSPC"),
    ("pwrite-past-end", "mid", "pwrite 2G 4K", "errno=ENOSPC"),
    ("pwrite-huge-offset", "mid", "pwrite 0x7fffffffffffe000 4K", "errno=ENOSPC"),
    ("pwrite-negative-offset", "mid", "pwrite -1 1", "errno=EINVAL"),
    ("pwrite-offset-plus-count-overflows", "mid", "pwrite 0x7ffffffffffff000 4K", "errno=EINVAL"),
    ("pwrite-from-short-buffer", "mid", "pwrite-short 16K", "n=8192"),
    ("pwrite-from-null", "mid", "pwrite-null 4K", "errno=EFAULT"),
    ("read-on-wronly-open", "mid", "read-wo", "errno=EBADF"),
    ("write-on-rdonly-open", "mid", "write-ro", "errno=EBADF"),
    # lseek (chardev.c: fixed_size_llseek, 0..size inclusive)
    ("lseek-set-0", "mid", "lseek 0 0", "pos=0"),
    ("lseek-set-size", "mid", f"lseek 0 {SZ}", f"pos={S}"),
    ("lseek-set-size-plus-1", "mid", f"lseek 0 {S + 1:#x}", "errno=EINVAL"),
    ("lseek-set-negative", "mid", "lseek 0 -1", "errno=EINVAL"),
    ("lseek-set-2^63-1", "mid", "lseek 0 0x7fffffffffffffff", "errno=EINVAL"),
    ("lseek-end-0", "mid", "lseek 2 0", f"pos={S}"),
    ("lseek-end-plus-1", "mid", "lseek 2 1", "errno=EINVAL"),
    ("lseek-end-minus-size", "mid", f"lseek 2 -{SZ}", "pos=0"),
    ("lseek-end-minus-size-minus-1", "mid", f"lseek 2 -{S + 1:#x}", "errno=EINVAL"),
    ("lseek-end-int64-min", "mid", "lseek 2 -0x8000000000000000", "errno=EINVAL"),
    ("lseek-cur-relative", "mid", "lseek 0 4096 1 4096", "pos=8192"),
    ("lseek-cur-negative", "mid", "lseek 1 -1", "errno=EINVAL"),
    ("lseek-cur-overflow", "mid", f"lseek 0 {SZ} 1 0x7fffffffffffffff", "errno=EINVAL"),
    ("lseek-seek-data", "mid", "lseek 3 0", "errno=EINVAL"),
    ("lseek-seek-hole", "mid", "lseek 4 0", "errno=EINVAL"),
    ("lseek-whence-99", "mid", "lseek 99 0", "errno=EINVAL"),
    # RESMEM_IOC_INFO (UAPI header, ioctl.c): size >= sizeof, unknown tail zero, writes <= size
    ("info-exact-size", "mid", f"info {INFO} {INFO} 0", rf"ok size={INFO} len={S} phys=0x140000000 name=mid tail=intact"),
    ("info-garbage-in-out-fields", "mid", f"info {INFO} {INFO} 0xff", rf"ok size={INFO} len={S} phys=0x140000000 name=mid tail=intact"),
    ("info-long-zero-tail", "mid", "info 4096 4096 0", rf"ok size={INFO} len={S} phys=0x140000000 name=mid tail=intact"),
    ("info-64k-zero-tail", "mid", "info 65536 65536 0", rf"ok size={INFO} .* tail=intact"),
    ("info-long-garbage-tail", "mid", f"info {INFO + 8} {INFO + 8} 0xff", "errno=E2BIG"),
    ("info-one-nonzero-tail-byte", "mid", f"info {INFO + 1} {INFO + 1} 1", "errno=E2BIG"),
    ("info-size-0", "mid", f"info {INFO} 0 0", "errno=EINVAL"),
    ("info-size-4", "mid", f"info {INFO} 4 0", "errno=EINVAL"),
    ("info-size-one-short", "mid", f"info {INFO} {INFO - 1} 0", "errno=EINVAL"),
    ("info-size-beyond-buffer", "mid", f"info {INFO} 4096 0", "errno=EFAULT"),
    ("info-size-u32-max", "mid", f"info {INFO} 0xffffffff 0", "errno=EFAULT"),
    ("info-2-byte-buffer", "mid", "info 2 0 0", "errno=EFAULT"),
    ("info-all-zero", "mid", f"ioctl {IOC_INFO} zero", "errno=EINVAL"),
    ("info-null", "mid", f"ioctl {IOC_INFO} null", "errno=EFAULT"),
    ("info-kernel-pointer", "mid", f"ioctl {IOC_INFO} kernel", "errno=EFAULT"),
    ("info-unmapped-pointer", "mid", f"ioctl {IOC_INFO} unmapped", "errno=EFAULT"),
    ("info-on-wc-region", "tail", f"info {INFO} {INFO} 0", rf"ok size={INFO} len={TAIL[2]} phys=0x1c0000000 name=tail tail=intact"),
    # RESMEM_IOC_SYNC (UAPI header, sync.c)
    ("sync-for-cpu", "mid", f"sync {SYNC} {SYNC} 0 {FOR_CPU} 0 4096", "ok"),
    ("sync-for-device", "mid", f"sync {SYNC} {SYNC} 0 {FOR_DEVICE} 0 4096", "ok"),
    ("sync-whole-region", "mid", f"sync {SYNC} {SYNC} 0 {FOR_CPU} 0 {SZ}", "ok"),
    ("sync-zero-length-at-end", "mid", f"sync {SYNC} {SYNC} 0 {FOR_CPU} {SZ} 0", "ok"),
    ("sync-direction-0", "mid", f"sync {SYNC} {SYNC} 0 0 0 4096", "errno=EINVAL"),
    ("sync-direction-3", "mid", f"sync {SYNC} {SYNC} 0 3 0 4096", "errno=EINVAL"),
    ("sync-direction-u32-max", "mid", f"sync {SYNC} {SYNC} 0 0xffffffff 0 4096", "errno=EINVAL"),
    ("sync-offset-past-end", "mid", f"sync {SYNC} {SYNC} 0 {FOR_CPU} {S + 4096:#x} 0", "errno=EINVAL"),
    ("sync-crossing-end", "mid", f"sync {SYNC} {SYNC} 0 {FOR_CPU} {S - 4096:#x} 8K", "errno=EINVAL"),
    ("sync-length-wraps", "mid", f"sync {SYNC} {SYNC} 0 {FOR_CPU} 4096 0xffffffffffffffff", "errno=EINVAL"),
    ("sync-offset-u64-max", "mid", f"sync {SYNC} {SYNC} 0 {FOR_CPU} 0xffffffffffffffff 1", "errno=EINVAL"),
    ("sync-size-0", "mid", f"sync {SYNC} 0 0 {FOR_CPU} 0 4096", "errno=EINVAL"),
    ("sync-size-one-short", "mid", f"sync {SYNC} {SYNC - 1} 0 {FOR_CPU} 0 4096", "errno=EINVAL"),
    ("sync-long-zero-tail", "mid", f"sync {SYNC + 8} {SYNC + 8} 0 {FOR_CPU} 0 4096", "ok"),
    ("sync-long-garbage-tail", "mid", f"sync {SYNC + 8} {SYNC + 8} 0xff {FOR_CPU} 0 4096", "errno=E2BIG"),
    ("sync-size-beyond-buffer", "mid", f"sync {SYNC} 4096 0 {FOR_CPU} 0 4096", "errno=EFAULT"),
    ("sync-short-buffer", "mid", f"sync {SYNC - 8} {SYNC} 0 {FOR_CPU} 0 4096", "errno=EFAULT"),
    ("sync-null", "mid", f"ioctl {IOC_SYNC} null", "errno=EFAULT"),
    ("sync-on-wc-region", "tail", f"sync {SYNC} {SYNC} 0 {FOR_CPU} 0 4096", "ok"),
    # invalidating discards others' dirty lines: only through a writable fd
    ("sync-for-cpu-read-only-fd", "mid", f"sync {SYNC} {SYNC} 0 {FOR_CPU} 0 4096 ro", "errno=EBADF"),
    ("sync-for-device-read-only-fd", "mid", f"sync {SYNC} {SYNC} 0 {FOR_DEVICE} 0 4096 ro", "ok"),
    # unknown commands: ENOTTY (UAPI header)
    ("ioctl-next-number", "mid", f"ioctl {uapi.IOC_RING_PRODUCER + 1:#x} zero", "errno=ENOTTY"),
    ("ioctl-last-number", "mid", f"ioctl {uapi.IOC_TYPE << 8 | 0xff:#x} zero", "errno=ENOTTY"),
    # the commands with other direction or size bits (asm-generic/ioctl.h)
    ("ioctl-info-number-without-size", "mid", f"ioctl {uapi.IOC_INFO & 0xffff:#x} zero", "errno=ENOTTY"),
    ("ioctl-info-number-as-IOR", "mid", f"ioctl {uapi.IOC_INFO & ~(3 << 30) | 2 << 30:#x} zero", "errno=ENOTTY"),
    ("ioctl-sync-number-as-IOWR", "mid", f"ioctl {uapi.IOC_SYNC | 3 << 30:#x} zero", "errno=ENOTTY"),
    ("ioctl-sync-number-other-size", "mid",
     f"ioctl {uapi.IOC_SYNC & ~(0x3fff << 16) | (SYNC + 8) << 16:#x} zero", "errno=ENOTTY"),
    # nsfs's NS_GET_USERNS and NS_GET_PARENT (_IO(0xB7, 1), _IO(0xB7, 2)):
    # resmem's sync and notify numbers before 0xBE
    ("ioctl-nsfs-NS_GET_USERNS", "mid", "ioctl 0xb701 zero", "errno=ENOTTY"),
    ("ioctl-nsfs-NS_GET_PARENT", "mid", "ioctl 0xb702 zero", "errno=ENOTTY"),
    ("ioctl-zero", "mid", "ioctl 0 zero", "errno=ENOTTY"),
    ("ioctl-tty-TCGETS", "mid", "ioctl 0x5401 zero", "errno=ENOTTY"),
    ("ioctl-u32-max", "mid", "ioctl 0xffffffff null", "errno=ENOTTY"),
    ("ioctl-other-type-same-number", "mid", "ioctl 0xb600 zero", "errno=ENOTTY"),
    # the write-combining region's edges
    ("wc-mmap-last-page", "tail", f"mmap {TAIL[2] - 4096:#x} 4K shared rw", "ok"),
    ("wc-mmap-crossing-end", "tail", f"mmap {TAIL[2] - 4096:#x} 8K shared rw", "errno=EINVAL"),
    ("wc-pwrite-crossing-end", "tail", f"pwrite {TAIL[2] - 16:#x} 4K", "n=16"),
    ("wc-pread-at-end", "tail", f"pread {TAIL[2]:#x} 4K", "n=0"),
]


def _run_syscall_rows(g):
    load_regions(g)
    try:
        res = {}
        for dev in ("mid", "tail"):
            lines = "\n".join(f"{rid} {case}" for rid, d, case, _ in SYSCALL_ROWS if d == dev)
            out = g.run(f"abuse cases /dev/resmem/{dev} <<'EOF'\n{lines}\nEOF", timeout=300).out
            for line in out.splitlines():
                rid, _, result = line.partition(" ")
                res[rid] = result
        # Afterwards both regions still work and count no mapping.
        region_works(g, "mid", MID[1], MID[2], 0xA1, offset=0x100000)
        region_works(g, "tail", TAIL[1], TAIL[2], 0xA2, offset=0x100000)
        maps = g.run("cat /sys/class/resmem/mid/mappings /sys/class/resmem/tail/mappings").out.split()
        assert maps == ["0", "0"], maps
        return res
    finally:
        unload(g)


@pytest.mark.parametrize("row", SYSCALL_ROWS, ids=[r[0] for r in SYSCALL_ROWS])
def test_syscall(guest, target, row):
    rid, _, case, expect = row
    res = batch(guest, target, "syscalls", _run_syscall_rows)
    assert rid in res, f"{rid}: no result line (helper crashed?): {sorted(res)[:5]}"
    assert re.fullmatch(expect, res[rid]), f"{rid} ({case}): got {res[rid]!r}, expected {expect!r}"


# -------------------------------------------------------------- boundaries
EDGE_CASES = """\
e1 pwrite-short 16K
e2 pwrite {last} 1
e3 pwrite {near} 8K
e4 pwrite {size} 4K
e5 mmap {near} 4K shared rw
e6 sync {sync} {sync} 0 {for_device} 0 {size}
e7 sync {sync} {sync} 0 {for_cpu} 0 {size}
e8 mremap {near2} 8K 16K maymove
e9 madvise {near} 4K 9
"""


def test_no_byte_outside_regions_changes(guest, target):
    """Writes at and across both edges of both regions, full-range syncs, a
    whole-region mapping written at both ends: the 64 KiB around each region,
    watched from the host, keep their pattern; the regions' own edge bytes
    show what was written (the witness sees writes at all)."""
    g = guest
    fill_neighbours(g)
    load_regions(g)
    try:
        for name, base, size in (MID, TAIL):
            dev = f"/dev/resmem/{name}"
            cases = EDGE_CASES.format(last=f"{size - 1:#x}", near=f"{size - 4096:#x}",
                                      near2=f"{size - 8192:#x}", size=f"{size:#x}",
                                      sync=SYNC, for_cpu=FOR_CPU, for_device=FOR_DEVICE)
            out = g.run(f"abuse cases {dev} <<'EOF'\n{cases}EOF").out
            assert "bad-" not in out, out
            # Through mmap, first and last page of the region; then through write().
            g.run(f"mapper write {dev} 0 4096 0xE1 && mapper write {dev} {size - 4096:#x} 4096 0xE2")
            assert g.pmemsave(base, 4096) == seq(0xE1, 0, 4096)
            assert g.pmemsave(base + size - 4096, 4096) == seq(0xE2, size - 4096, 4096)
            g.run(f"mapper write {dev} {size - 8192:#x} 8192 0xE3 --via write")
            assert g.pmemsave(base + size - 8192, 8192) == seq(0xE3, size - 8192, 8192)
            # dd past the end stops at the end.
            r = g.run(f"dd if=/dev/zero of={dev} bs=4096 seek={size // 4096 - 1} count=4", check=False)
            assert r.status != 0 and "No space left" in r.err, r
            assert g.pmemsave(base + size - 4096, 4096) == bytes(4096)
        check_neighbours(g)
    finally:
        unload(g)


@pytest.mark.parametrize("name,base,size", [MID, TAIL], ids=["wb", "wc"])
def test_short_write_changes_only_what_it_reports(regions, target, name, base, size):
    """write() from a buffer that ends at an unmapped page returns a short
    count (chardev.c); the region bytes beyond that count keep their old
    contents: a failed copy must not leave zeros (or anything) behind."""
    g = regions
    g.run(f"mapper write /dev/resmem/{name} 0 16384 0x5E")
    out = g.run(f"abuse cases /dev/resmem/{name} <<'EOF'\nw pwrite-short 16K\nEOF").out.strip()
    assert out == "w n=8192", out
    got = g.pmemsave(base, 16384)
    assert got[:8192] == b"\x5a" * 8192
    assert got[8192:] == seq(0x5E, 8192, 8192), "bytes past the reported count changed"


# ------------------------------------------------- concurrency and lifetime
def snapshot(g):
    """Kernel memory counters that leak if mappings, VMAs or devices leak."""
    # Shrinking every cache flushes SLUB's per-CPU slabs, whose objects
    # /proc/slabinfo would otherwise count as active.  Objects freed after
    # an RCU grace period go a little later: wait until the slab total
    # holds still (two readings within 64 KiB), not for a fixed time.
    slab = "awk 'NR>2 {s += $2 * $4} END {print s}' /proc/slabinfo"
    out = g.run("sync; echo 3 > /proc/sys/vm/drop_caches; prev=; "
                f"for i in $(seq 50); do cur=$({slab}); "
                "[ -n \"$prev\" ] && [ $((cur - prev)) -le 65536 ] && [ $((prev - cur)) -le 65536 ] "
                "&& break; prev=$cur; sleep 0.1; done; "
                "for f in /sys/kernel/slab/*/shrink; do echo 1 > $f; done 2>/dev/null; "
                "grep -E '^(PageTables|VmallocUsed):' /proc/meminfo; "
                "echo vmalloc_ioremap=$(grep -cE 'ioremap|memremap' /proc/vmallocinfo); "
                "awk 'NR>2 {s += $2 * $4} $1 == \"vm_area_struct\" {print \"vma=\" $2} "
                "END {print \"slab=\" s}' /proc/slabinfo").out
    snap = {}
    for line in out.splitlines():
        m = re.match(r"(\w+):\s+(\d+) kB", line) or re.match(r"(\w+)=(\d+)", line)
        if m:
            snap[m[1]] = int(m[2])
    assert {"PageTables", "vmalloc_ioremap", "vma", "slab"} <= set(snap), out
    return snap


def leaks(before, after):
    """What grew past its bound between two snapshots."""
    bounds = {"vmalloc_ioremap": 0, "PageTables": 1024, "vma": 200, "slab": 4 * M}   # kB, count
    return {k: (before[k], after[k]) for k, b in bounds.items() if after[k] - before[k] > b}


def assert_no_leak(g, before, tries=5):
    """A leak stays; the rest of a full system (the local target: journald,
    udev, timers) allocates and frees VMAs and slab meanwhile, so a growth
    must be there in each of a few snapshots a second apart to count."""
    for i in range(tries):
        grown = leaks(before, snapshot(g))
        if not grown:
            return
        if i + 1 < tries:
            time.sleep(1)
    assert not grown, f"grown past their bounds (before, after): {grown}"


def _stress(g, seconds, kill_after=None):
    """STRESS_PROCS workers on both regions while rmmod is tried every 0.1 s.

    A holder process keeps both devices open for the whole run (the workers
    open and close theirs all the time), so every rmmod attempt must be
    refused.  With kill_after, the workers and their parent get SIGKILL in
    the middle of their work."""
    g.run("rm -f /tmp/stop /tmp/stop2 /tmp/rmmod.log /tmp/rmmod.done /tmp/stress.out")
    holder = g.run("(exec 3</dev/resmem/mid 4</dev/resmem/tail; while [ ! -e /tmp/stop2 ]; "
                   "do sleep 0.1; done) </dev/null >/dev/null 2>&1 & echo $!").out.strip()
    # the first rmmod must already meet an open device
    wait_open(g, holder, "/dev/resmem/tail")
    g.run("(while [ ! -e /tmp/stop ]; do if rmmod resmem 2>/dev/null; then echo UNLOADED; "
          "else echo refused; fi; sleep 0.1; done > /tmp/rmmod.log; touch /tmp/rmmod.done) "
          ">/dev/null 2>&1 &")
    g.run(f"abuse stress {seconds} {STRESS_PROCS} /dev/resmem/mid /dev/resmem/tail "
          "> /tmp/stress.out 2>&1 & echo $! > /tmp/stress.pid")
    # the rmmod loop has made its last try before the holder lets go
    stop_loop = "touch /tmp/stop; until [ -e /tmp/rmmod.done ]; do sleep 0.05; done"
    if kill_after is None:
        # (kill -0 would see the finished helper as a zombie: init adopted it.)
        out = g.run(f"until grep -q '^workers=' /tmp/stress.out; do sleep 0.5; done; "
                    f"{stop_loop}; cat /tmp/stress.out", timeout=seconds + 120).out
        assert f"workers={STRESS_PROCS} failed=0" in out, out[-3000:]
        ops = sum(int(x) for x in re.findall(r"ops=(\d+)", out))
        assert ops >= STRESS_PROCS * 10, out[-3000:]
    else:
        # kill_after seconds into the workers' run (they have forked: "pids ...")
        g.run(f"until grep -q '^pids ' /tmp/stress.out; do sleep 0.05; done; sleep {kill_after}; "
              f"{stop_loop}; kill -9 $(cat /tmp/stress.pid) $(sed -n 's/^pids //p' /tmp/stress.out)",
              timeout=kill_after + 60)
        out = g.run("cat /tmp/stress.out").out
        assert out.startswith("pids "), out
        assert "workers=" not in out, "the workers finished before they were killed"
        wait_gone(g, g.run("cat /tmp/stress.pid").out + " " + out.split("\n")[0][len("pids "):])
    g.run("touch /tmp/stop2")
    wait_gone(g, holder)
    log = g.run("cat /tmp/rmmod.log").out.split()
    assert "UNLOADED" not in log, "rmmod succeeded while the regions were open or mapped"
    # several tries met the workers (one a few tenths of a second under
    # the busybox guests; a full system under TCG runs rmmod in ~1 s)
    assert len(log) >= 3, log
    return len(log)


@pytest.mark.parametrize("how", ["run-to-end", "sigkill-mid-run"])
def test_concurrent_use_and_unload(guest, target, how):
    g = guest
    unload(g)
    before = snapshot(g)
    load_regions(g)
    # The counters see the module's objects: its two kernel mappings of the
    # regions are ioremap areas while it is loaded (so a leaked one would show).
    assert snapshot(g)["vmalloc_ioremap"] >= before["vmalloc_ioremap"] + 2
    try:
        if how == "run-to-end":
            _stress(g, STRESS_SECONDS)
        else:
            _stress(g, STRESS_SECONDS + 60, kill_after=min(4, STRESS_SECONDS))
        # Everything is gone: the mapping counters are back to 0 and unload works.
        r = g.run("for i in $(seq 50); do m=$(cat /sys/class/resmem/*/mappings | tr -d '\\n'); "
                  "[ \"$m\" = 00 ] && break; sleep 0.2; done; echo $m", timeout=60)
        assert r.out.strip() == "00", r
        g.run("for i in $(seq 50); do rmmod resmem 2>/dev/null && exit 0; sleep 0.2; done; exit 1",
              timeout=60)
        assert g.run("test -e /sys/module/resmem", check=False).status != 0
        assert "resmem" not in g.run("cat /proc/iomem").out
    finally:
        unload(g)
    assert_no_leak(g, before)
    # And it loads and works again.
    load_regions(g)
    try:
        region_works(g, "mid", MID[1], MID[2], 0xC1)
    finally:
        unload(g)


def test_unload_refused_while_open_or_mapped(guest, target):
    g = guest
    load_regions(g)
    try:
        # Open only (a shell holding the fd), then mapped only (fd closed).
        h1 = g.run("(exec 3</dev/resmem/tail; sleep 30) </dev/null >/dev/null 2>&1 & echo $!").out.strip()
        wait_open(g, h1, "/dev/resmem/tail")
        assert g.run("rmmod resmem", check=False).status != 0
        g.run(f"kill {h1}")
        wait_gone(g, h1)
        g.run("resprobe hold /dev/resmem/mid 1M 30 >/dev/null 2>&1 & echo $! > /tmp/h2")
        r = g.run("for i in $(seq 50); do [ $(cat /sys/class/resmem/mid/mappings) = 1 ] && break; "
                  "sleep 0.2; done; cat /sys/class/resmem/mid/mappings")
        assert r.out.strip() == "1", r
        assert g.run("rmmod resmem", check=False).status != 0
        g.run("kill -9 $(cat /tmp/h2)")
        wait_gone(g, g.run("cat /tmp/h2").out)
        g.run("rmmod resmem")
    finally:
        unload(g)


def test_unload_racing_open_and_mmap(guest, target):
    """Nothing holds the devices: 8 workers open, map a page, write it, unmap
    and close in a loop while the helper unloads the module under them
    (delete_module, non-blocking, in a tight loop).  The unload wins between
    two rounds; from then on opens fail cleanly (ENOENT: node gone; ENXIO:
    module going), never otherwise; nothing leaks; it loads again."""
    g = guest
    unload(g)
    before = snapshot(g)
    load_regions(g)
    try:
        r = g.run("abuse race 60 8 resmem /dev/resmem/mid /dev/resmem/tail",
                  timeout=120, check=False)
        print(r.out)
        assert "race unloaded after" in r.out, r.out
        m = re.search(r"race ok=(\d+) gone=(\d+) errors=(\d+) failed=(\d+)", r.out)
        assert r.status == 0 and m and m[3] == "0" and m[4] == "0", r.out
        assert int(m[1]) > 0 and int(m[2]) > 0, f"the unload did not happen while the workers ran: {r.out}"
        assert g.run("test -e /sys/module/resmem", check=False).status != 0
    finally:
        unload(g)
    assert_no_leak(g, before)
    load_regions(g)
    try:
        region_works(g, "mid", MID[1], MID[2], 0xC2)
    finally:
        unload(g)


# -------------------------------------------------------------------- fuzz
def test_fuzz(guest, target, capsys):
    """The seeded syscall fuzzer (tests/guest/fuzz.c) against both ways of
    mapping at once: mid has struct pages (page entries, as by default) and
    tail, write-combining, keeps the PFN map."""
    g = guest
    fill_neighbours(g)
    load_regions(g)
    try:
        pages = g.run("cat /sys/class/resmem/mid/pages /sys/class/resmem/tail/pages").out.splitlines()
        assert pages[0].startswith("yes: ") and pages[1].startswith("no: not write-back"), pages
        seed = int.from_bytes(os.urandom(4), "little")
        r = g.run(f"fuzz -s {seed:#x} -t {FUZZ_SECONDS} -j 3 /dev/resmem/mid /dev/resmem/tail",
                  timeout=FUZZ_SECONDS + 180, check=False)
        summary = [l for l in r.out.splitlines() if l.startswith("fuzz: ")]
        with capsys.disabled():
            print(f"\n[{target}] " + "\n".join(summary))
        assert r.status == 0, r.out[-6000:] + r.err[-2000:]
        m = re.search(r"seconds=([\d.]+) iterations=(\d+) failures=0", r.out)
        assert m and int(m[2]) > 100, r.out[-2000:]
        maps = g.run("cat /sys/class/resmem/mid/mappings /sys/class/resmem/tail/mappings").out.split()
        assert maps == ["0", "0"], maps
        region_works(g, "mid", MID[1], MID[2], 0xF1, offset=0)
        region_works(g, "tail", TAIL[1], TAIL[2], 0xF2, offset=0)
        check_neighbours(g)
    finally:
        unload(g)


def test_fuzz_seed_reproduces(regions, target):
    """The same seed gives the same operation sequence (addresses aside); another seed does not."""
    g = regions

    def trace(seed):
        r = g.run(f"fuzz -s {seed} -n 400 -t 60 -v /dev/resmem/mid 2>&1 >/dev/null | "
                  "grep -v '^\\[[0-9]*c ' | sed -E 's/0x[0-9a-f]{8,}|\\(nil\\)|-> [0-9]+$/X/g'", timeout=120)
        lines = r.out.splitlines()
        assert len(lines) >= 200, r.out[-2000:]
        return lines

    a, b, c = trace(0x1234), trace(0x1234), trace(0x1235)
    assert a == b, next(f"{x!r} != {y!r}" for x, y in zip(a, b) if x != y)
    assert a != c


# ------------------------------------------------------------- permissions
KADDR = re.compile(r"\b(0x)?ffff[0-9a-f]{12}\b", re.I)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_no_kernel_addresses_in_module_source():
    """No %px and no pointer cast to an integer in a message format's arguments."""
    bad = []
    for name in sorted(os.listdir(os.path.join(REPO, "module"))):
        if not name.endswith((".c", ".h")):
            continue
        text = open(os.path.join(REPO, "module", name)).read()
        for m in re.finditer(r"%px|%pK|\(u(nsigned )?long( long)?\)\s*\(?\w+->(kaddr|ioaddr|vaddr)", text):
            bad.append(f"{name}: {text[max(0, m.start() - 60):m.end() + 20]!r}")
    assert not bad, bad


def test_permissions(regions, target):
    g = regions
    ls = g.run("ls -l /dev/resmem/").out
    nodes = [l for l in ls.splitlines() if l.startswith("c")]
    mode, group = device_node_mode(g)
    assert len(nodes) == 2 and all(l.startswith(mode + " ") and re.search(rf"\sroot\s+{group}\s", l)
                                   for l in nodes), ls
    for dev in ("mid", "tail"):
        for mode in ("r", "w", "rw"):
            out = g.run(f"su -s /bin/sh nobody -c 'abuse open /dev/resmem/{dev} {mode}'").out.strip()
            assert out == "errno=EACCES", (dev, mode, out)
        r = g.run(f"su -s /bin/sh nobody -c 'dd if=/dev/resmem/{dev} bs=4096 count=1 of=/dev/null'", check=False)
        assert r.status != 0 and "Permission denied" in r.err, r
        r = g.run(f"su -s /bin/sh nobody -c 'mapper map /dev/resmem/{dev} 0 4K'", check=False)
        assert "Permission denied" in r.err or "errno=EACCES" in r.out, r
    # sysfs: every attribute read-only, for root too; uevent root-only writable.
    attrs = g.run("cd /sys/class/resmem/mid/ && for f in phys_addr size source cache_mode numa_node mappings coherent; "
                  "do stat -c '%A %n' $f; done").out.split("\n")
    attrs = [a for a in attrs if a]
    assert len(attrs) == 7 and all(a.startswith("-r--r--r-- ") for a in attrs), attrs
    for attr in ("size", "phys_addr", "mappings", "cache_mode", "coherent"):
        r = g.run(f"su -s /bin/sh nobody -c 'echo 0 > /sys/class/resmem/mid/{attr}'", check=False)
        assert r.status != 0, r
        r = g.run(f"echo 0 > /sys/class/resmem/mid/{attr}", check=False)
        assert r.status != 0, r
    r = g.run("su -s /bin/sh nobody -c 'echo add > /sys/class/resmem/mid/uevent'", check=False)
    assert r.status != 0 and "Permission denied" in r.err, r
    assert g.run("cat /sys/class/resmem/mid/size").out.strip() == str(G)
    assert g.run("cat /sys/class/resmem/mid/phys_addr").out.strip() == "0x140000000"
    # The memory itself is untouched by all that and still works.
    region_works(g, "mid", MID[1], MID[2], 0xD1)


def test_no_kernel_addresses_in_sysfs_or_log(guest, target):
    g = guest
    unload(g)
    mark = g.mark()
    load_regions(g)
    try:
        # Exercise every message path a user can reach without choosing the numbers printed.
        g.run("mapper map /dev/resmem/mid 0 4K --private; mapper map /dev/resmem/mid 1G 4K; "
              "resprobe sync /dev/resmem/mid 7 0 4096; resprobe info /dev/resmem/mid; "
              "mapper write /dev/resmem/mid 0 4096 1", check=False)
        sysfs = g.run("for f in /sys/class/resmem/*/* /sys/module/resmem/parameters/*; do "
                      "[ -f \"$f\" ] && [ -r \"$f\" ] && echo \"$f: $(cat $f 2>/dev/null)\"; done").out
        assert "/sys/class/resmem/mid/phys_addr: 0x140000000" in sysfs, sysfs
        g.console_sync()
        log = g.console()[mark:]
        ours = [l for l in log.splitlines() if "resmem" in l]
        assert any("MAP_PRIVATE" in l for l in ours) and any("mid" in l for l in ours), ours
        for text in (sysfs, "\n".join(ours), g.run("resmem list; resmem info mid", check=False).out):
            assert not KADDR.search(text), KADDR.search(text)[0] + "\n" + text
    finally:
        unload(g)
