"""resmem core on x86_64: memmap= regions found, validated, claimed, mapped.

Every data claim is checked by an independent witness: the host reads guest
physical memory (QMP pmemsave) and a second path in the guest (read() or a
second mapping) reads what the first wrote.
"""
import re

import pytest

from tests.harness import boots, fixtures, uapi
from tests.harness.guestview import device_node_mode, sysfs
from tests.harness.pattern import seq
from tests.harness.units import G, K, M

DEV = "/dev/resmem/region0"

pytestmark = [pytest.mark.core, pytest.mark.archs("x86_64"), pytest.mark.guest(boot="standard")]


def dmesg_since(g, mark):
    g.console_sync()
    return g.console()[mark:]


# ---------------------------------------------------------------- discovery
def test_discovers_memmap_region(loaded, target):
    g = loaded
    assert sysfs(g, "region0", "phys_addr") == "0x100000000"
    assert int(sysfs(g, "region0", "size")) == 8 * G
    assert sysfs(g, "region0", "source") == "cmdline"
    assert sysfs(g, "region0", "cache_mode") == "write-back"
    assert sysfs(g, "region0", "mappings") == "0"
    assert re.fullmatch(r"-?\d+", sysfs(g, "region0", "numa_node"))
    ls = g.run(f"ls -l {DEV}").out
    mode, group = device_node_mode(g)
    assert ls.startswith(mode) and re.search(rf"\sroot\s+{group}\s", ls), ls
    iomem = g.run("cat /proc/iomem").out
    assert re.search(r"^  100000000-2ffffffff : resmem: region0$", iomem, re.M), iomem


def test_ioctl_info(loaded, target):
    out = loaded.run(f"resprobe info {DEV}").out
    f = dict(l.split("=", 1) for l in out.split())
    assert f["phys_addr"] == "0x100000000" and int(f["length"]) == 8 * G
    assert f["name"] == "region0" and f["cache_mode"] == "0" and f["source"] == "0"
    assert f["page_size"] == "4096"
    # A larger struct from a newer caller: zero tail accepted, written no further than sizeof.
    assert "phys_addr=0x100000000" in loaded.run(f"resprobe info {DEV} 128").out
    # Non-zero bytes the kernel does not know, a too-short struct, an unknown command.
    assert loaded.run(f"resprobe info {DEV} 128 0xff").out.strip() == "errno=E2BIG"
    assert loaded.run(f"resprobe info {DEV} 8").out.strip() == "errno=EINVAL"
    assert loaded.run(f"resprobe ioctl {DEV} {uapi.IOC_TYPE << 8 | 0xff:#x}").out.strip() == "errno=ENOTTY"
    assert loaded.run(f"resprobe ioctl {DEV} 0x5401").out.strip() == "errno=ENOTTY"


def test_coherent_in_sysfs_and_info(loaded, target):
    """x86 DMA snoops the caches: sysfs `coherent` says 1, the ioctl flag
    agrees (RESMEM_INFO_COHERENT), and resmem info shows it both from the
    device (root) and from sysfs alone (an ordinary user), where the
    read-only flag is unknown rather than claimed."""
    import json
    g = loaded
    assert sysfs(g, "region0", "coherent") == "1"
    f = dict(l.split("=", 1) for l in g.run(f"resprobe info {DEV}").out.split())
    assert int(f["flags"], 0) & 2
    info = json.loads(g.run("resmem info region0 --json").out)
    assert info["coherent"] is True and info["readonly"] is False
    text = g.run("resmem info region0").out
    assert "coherent:    yes" in text and "access:      read-write" in text, text
    # as nobody: the device is 0600 root, sysfs tells the rest
    out = g.run("su -s /bin/sh nobody -c 'resmem info region0 --json 2>/dev/null'").out
    info = json.loads(out)
    assert info["coherent"] is True and info["readonly"] is None, out


def test_cli_list_json_matches_sysfs(loaded, target):
    import json
    lst = json.loads(loaded.run("resmem list --json").out)
    assert [r["name"] for r in lst] == ["region0"]
    r = lst[0]
    assert r["phys_addr"] == 4 * G and r["size"] == 8 * G
    assert r["source"] == "cmdline" and r["cache_mode"] == "write-back"
    assert r["dev"] == DEV


# ---------------------------------------------------------------- mmap
def test_map_whole_region_at_once(loaded, target):
    assert loaded.run(f"mapper map {DEV} 0 8G", timeout=300).out.strip() == "ok"
    assert sysfs(loaded, "region0", "mappings") == "0"


@pytest.mark.parametrize("offset,length", [(0, 2 * M), (4 * G, 1 * M), (6 * G, 64 * K),
                                           (8 * G - 4 * K, 4 * K)])
def test_window_lands_at_its_physical_address(loaded, target, offset, length):
    g = loaded
    seed = 0xC0FFEE ^ offset
    g.run(f"mapper write {DEV} {offset:#x} {length:#x} {seed:#x}")
    assert g.pmemsave(4 * G + offset, length) == seq(seed, offset, length)
    # The neighbouring bytes outside the window were not written by it.
    if offset + length < 8 * G:
        assert g.pmemsave(4 * G + offset + length, 8) != seq(seed, offset + length, 8)
    g.run(f"mapper check {DEV} {offset:#x} {length:#x} {seed:#x} --via read")
    g.run(f"mapper check {DEV} {offset:#x} {length:#x} {seed:#x} --via mmap")


@pytest.mark.parametrize("offset,length", [(0x12345000, 0x3000), (4 * G - 0x800, 0x1000),
                                           (4 * G + 0x12345000, 0x3000), (8 * G - 4 * K, 4 * K),
                                           (8 * G - 100, 100)])
def test_write_through_write_read_through_mmap(loaded, target, offset, length):
    """pwrite() lands at region start + offset, also past 4 GiB, across it and
    at the region's last bytes: catches a 32-bit truncation of the offset
    (the bytes would land at offset mod 4 GiB, checked untouched) or a
    wrong base address."""
    g = loaded
    seed = 77 * (1 + offset // 4096)   # seq XORs the offset in: seed ^ offset must differ too
    g.run(f"mapper write {DEV} {offset:#x} {length:#x} {seed:#x} --via write")
    assert g.pmemsave(4 * G + offset, length) == seq(seed, offset, length)
    if offset >= 4 * G:
        low = offset % (4 * G)
        assert g.pmemsave(4 * G + low, length) != seq(seed, offset, length)
    g.run(f"mapper check {DEV} {offset:#x} {length:#x} {seed:#x} --via mmap")


BAD_MAPPINGS = [
    ("0 8G --private", "EINVAL"),           # MAP_PRIVATE
    ("8G 4K", "EINVAL"),                    # starts at the end
    ("0x1fffff000 8K", "EINVAL"),           # crosses the end by a page
    ("0x800 4K", "EINVAL"),                 # unaligned offset (the kernel's check)
    ("0 0", "EINVAL"),                      # zero length (the kernel's check)
    ("0xfffffffffffff000 8K", "EOVERFLOW"),  # offset + length wraps 2^64 (the kernel's check)
]


@pytest.mark.parametrize("args,errno", BAD_MAPPINGS)
def test_bad_mappings_fail_at_mmap_time(loaded, target, args, errno):
    out = loaded.run(f"mapper map {DEV} {args}", check=False).out.strip()
    assert out == f"errno={errno}", out
    assert sysfs(loaded, "region0", "mappings") == "0"


def test_private_mapping_explains_itself(loaded, target):
    mark = len(loaded.console())
    assert loaded.run(f"mapper map {DEV} 0 4K --private", check=False).out.strip() == "errno=EINVAL"
    assert "MAP_SHARED" in dmesg_since(loaded, mark)


@pytest.mark.parametrize("case", ["fork", "mprotect", "munmap-partial", "mremap-grow",
                                  "mremap-shrink", "mremap-move", "madvise", "mlock"])
def test_mapping_misuse_is_clean(loaded, target, case):
    r = loaded.run(f"mapper misuse {DEV} {case}", check=False)
    assert r.status == 0, r
    assert sysfs(loaded, "region0", "mappings") == "0"


@pytest.mark.parametrize("flags", ["--lock", "--populate", "--lock --populate"])
def test_locked_and_populated_mappings(loaded, target, flags):
    assert loaded.run(f"mapper map {DEV} 0 64M {flags}").out.strip() == "ok"


# ---------------------------------------------------------------- read/write
def test_dd_and_lseek(loaded, target):
    g = loaded
    g.run(f"mapper write {DEV} {3 * G:#x} 8192 5")
    got = g.run(f"dd if={DEV} bs=4096 skip={3 * G // 4096} count=2 2>/dev/null | od -An -tx1 -v").out
    assert bytes.fromhex("".join(got.split())) == seq(5, 3 * G, 8192)
    # Write with dd, witness on the host.
    g.run(f"head -c 4096 /dev/urandom > /tmp/r && dd if=/tmp/r of={DEV} bs=4096 seek={G // 4096}"
          " conv=notrunc 2>/dev/null")
    host = g.pmemsave(4 * G + G, 4096)
    assert g.run("od -An -tx1 -v /tmp/r").out.split() == [f"{b:02x}" for b in host]
    # At the end: read gives EOF, write gives ENOSPC.
    assert g.run(f"dd if={DEV} bs=4096 skip={8 * G // 4096} count=1 2>/dev/null | wc -c").out.strip() == "0"
    r = g.run(f"dd if=/tmp/r of={DEV} bs=4096 seek={8 * G // 4096} conv=notrunc", check=False)
    assert r.status != 0 and "No space left" in r.err


# ---------------------------------------------------------------- boundaries and lifetime
def test_dev_mem_refused_on_claimed_region(guest, target):
    guest.run("rmmod resmem 2>/dev/null; true")
    assert guest.run("physpoke read 0x100000000 8", check=False).status == 0
    guest.run("modprobe resmem")
    try:
        r = guest.run("physpoke read 0x100000000 8", check=False)
        assert r.status != 0 and "Operation not permitted" in r.err, r
    finally:
        guest.run("rmmod resmem")


def test_unprivileged_user_gets_eacces(loaded, target):
    r = loaded.run(f"su -s /bin/sh nobody -c 'mapper map {DEV} 0 4K'", check=False)
    assert "Permission denied" in r.err or "errno=EACCES" in r.out, r
    assert loaded.run("su -s /bin/sh nobody -c id").out.startswith("uid=65534")


def test_unload_refused_while_mapped(loaded, target):
    g = loaded
    # the holder gets no pipe of the agent's (which would wait for it to exit)
    g.run(f"resprobe hold {DEV} 1M 600 > /tmp/hold.out 2>&1 < /dev/null & echo $! > /tmp/hold.pid")
    wait_mappings = ("for i in $(seq 300); do [ $(cat /sys/class/resmem/region0/mappings) = {} ] "
                     "&& exit 0; sleep 0.1; done; exit 1")
    assert g.run(wait_mappings.format(1), check=False).status == 0, g.run("cat /tmp/hold.out").out
    assert g.run("rmmod resmem", check=False).status != 0
    assert g.run("test -e /sys/module/resmem").status == 0
    g.run("kill $(cat /tmp/hold.pid)")
    assert g.run(wait_mappings.format(0), check=False).status == 0
    g.run("rmmod resmem")
    assert g.run("grep -c 'resmem' /proc/iomem", check=False).out.strip() == "0"


# ---------------------------------------------------------------- several regions
@pytest.mark.guest(boot="two")
def test_two_regions(guest, target):
    guest.run("modprobe resmem")
    try:
        for i, (addr, size) in enumerate(boots.regions("x86_64", "two")):
            assert int(sysfs(guest, f"region{i}", "phys_addr"), 16) == addr
            assert int(sysfs(guest, f"region{i}", "size")) == size
            guest.run(f"mapper write /dev/resmem/region{i} 0x1000 0x1000 {i + 1}")
            assert guest.pmemsave(addr + 0x1000, 0x1000) == seq(i + 1, 0x1000, 0x1000)
    finally:
        guest.run("rmmod resmem")


@pytest.mark.guest(boot="four")
def test_four_named_regions(guest, target):
    guest.run("modprobe resmem 'regions=alpha:512M$4G,beta:512M$5G,gamma:512M@6G,delta:512M@7G'")
    try:
        names = guest.run("ls /dev/resmem").out.split()
        assert sorted(names) == ["alpha", "beta", "delta", "gamma"]
        for name, (addr, size) in zip(["alpha", "beta", "gamma", "delta"],
                                      boots.regions("x86_64", "four")):
            assert int(sysfs(guest, name, "phys_addr"), 16) == addr
            assert sysfs(guest, name, "source") == "param"
            guest.run(f"mapper write /dev/resmem/{name} {size - 4096:#x} 4096 9")
            assert guest.pmemsave(addr + size - 4096, 4096) == seq(9, size - 4096, 4096)
    finally:
        guest.run("rmmod resmem")


# ------------------------------------------------- discovery from the command line
# Every form the kernel's memmap= parser takes: a comma list, a separate word
# adjacent to one of its ranges (E820 merges them: one region), a word over
# the PCI hole (nothing to reserve there), and a word after "--", which is
# init's argument and which the kernel does not apply.
CMDLINE_FORMS = ("memmap=512M$4G,256M$0x160000000 memmap=256M$0x150000000 "
                 "memmap=256M$0xd0000000 -- memmap=1G$7G")
FW_RESERVED = 0xbffe0000    # "device reserved" in QEMU pc's e820, top-level Reserved in iomem


@pytest.mark.guest(mem="9G", cmdline=CMDLINE_FORMS)
def test_discovery_takes_exactly_the_memmap_words(guest, target):
    """Regions are what memmap=SIZE$ADDR words reserved, read from the
    command line: not a firmware (or EFI) Reserved range, not init's
    arguments; a word the kernel could not apply is reported; regions= on a
    firmware Reserved range is refused.  Catches discovery that takes every
    Reserved range, ignores comma lists or "--", or misplaces a region."""
    g = guest
    iomem = g.run("cat /proc/iomem").out
    assert re.search(rf"(?m)^\s*[0-9a-f]*{FW_RESERVED:x}-[0-9a-f]+ : Reserved", iomem), iomem
    mark = g.mark()
    g.run("modprobe resmem")
    try:
        names = g.run("ls /sys/class/resmem").out.split()
        got = [(int(sysfs(g, n, "phys_addr"), 16), int(sysfs(g, n, "size"))) for n in names]
        assert names == ["region0", "region1"], names
        assert got == [(4 * G, 512 * M), (0x150000000, 512 * M)], [(hex(a), hex(b)) for a, b in got]
        # the word after "--" reserved nothing: 7 GiB is still the kernel's RAM
        top = [(int(a, 16), int(b, 16), n) for a, b, n in
               re.findall(r"(?m)^([0-9a-f]+)-([0-9a-f]+) : (.*)$", iomem)]
        assert [n for a, b, n in top if a <= 7 * G <= b] == ["System RAM"], iomem
        assert g.run("grep -c ' : resmem: ' /proc/iomem").out.strip() == "2"
        g.console_sync()
        log = g.console()[mark:]
        assert re.search(r"memmap=0x10000000\$0xd0000000 \[mem .*\]: refused: the kernel reserved "
                         r"0 of its 262144 KiB: 0xd0000000 is not RAM in the firmware's memory map", log), log
        # the host sees region1's bytes at 0x150000000 + offset
        g.run(f"mapper write /dev/resmem/region1 {384 * M:#x} 4096 9")
        assert g.pmemsave(0x150000000 + 384 * M, 4096) == seq(9, 384 * M, 4096)
    finally:
        g.run("rmmod resmem")
    mark = g.mark()
    g.run(f"modprobe resmem 'regions=fw:128K${FW_RESERVED:#x}'")
    try:
        g.console_sync()
        log = g.console()[mark:]
        assert re.search(r"resmem: fw \[mem .*\]: refused: page at 0xbffe0000 is not in a "
                         r"memmap=SIZE\$ADDR range", log), log
        assert g.run("test -e /dev/resmem/fw", check=False).status != 0
    finally:
        g.run("rmmod resmem")


# ---------------------------------------------------------------- refusals
REFUSALS = [
    ("pci-hole", "hole:256M$0xd0000000"),
    ("below-1M", "low:64K$0x80000"),
    ("system-ram", "ram:16M$0x10000000"),
    ("zero-size", "zero:0$5G"),
    ("unaligned", "odd:1M$0x100000800"),
    ("beyond-ram", "far:1G$64G"),
    ("one-page-past-end", "past:0x40001000$0x2c0000000"),
    ("one-page-before-start", "before:1G$0xfffff000"),
]


@pytest.mark.parametrize("why,entry", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_bad_region_refused_good_kept(guest, target, why, entry):
    name = entry.split(":")[0]
    mark = len(guest.console())
    guest.run(f"modprobe resmem 'regions={entry}'")
    try:
        guest.console_sync()
        log = guest.console()[mark:]
        assert re.search(rf"resmem: {name}\b.*refused: ", log) or \
            re.search(rf"resmem: .*'{re.escape(entry)}'.*(refused|ignored)", log), log
        assert guest.run(f"test -e /dev/resmem/{name}", check=False).status != 0
        # The memmap= region is still there and works.
        guest.run(f"mapper write {DEV} 0 4096 3")
        assert guest.pmemsave(4 * G, 4096) == seq(3, 0, 4096)
    finally:
        guest.run("rmmod resmem")


def test_overlapping_regions_second_refused(guest, target):
    mark = len(guest.console())
    guest.run("modprobe resmem 'regions=first:2G$4G,second:2G$5G'")
    try:
        guest.console_sync()
        log = guest.console()[mark:]
        assert re.search(r"resmem: second\b.*refused: .*overlap", log), log
        assert guest.run("ls /dev/resmem").out.split() == ["first", "region0"] or \
            "second" not in guest.run("ls /dev/resmem").out
        assert guest.run("test -e /dev/resmem/first").status == 0
    finally:
        guest.run("rmmod resmem")


@pytest.mark.guest(boot="eaten-dollar")
def test_eaten_dollar_is_explained(guest, target):
    """memmap=8G without '$': RAM capped, nothing reserved; the tools say why."""
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", guest.run("cat /proc/meminfo").out)[1])
    assert mem_kb < 8 * 1024 * 1024
    guest.run("modprobe resmem")
    try:
        assert guest.run("ls /dev/resmem 2>/dev/null | wc -l").out.strip() == "0"
        r = guest.run("resmem check", check=False)
        assert r.status == 1
        assert "memmap=8G" in r.out + r.err and "\\$" in r.out + r.err
    finally:
        guest.run("rmmod resmem")


@pytest.mark.guest(boot="eaten-dollar")
def test_captured_eaten_dollar_still_matches_the_kernel(guest, target, host_resmem):
    """`resmem check` on this kernel's own eaten-dollar boot (memmap=8G, -m
    13G) and on the fixture captured from such a boot
    (userspace/tests/fixtures/captured/eaten-dollar) give the same verdict,
    cause and module lines, with the module unloaded and loaded.  Defect
    caught: a fixture that drifted from what kernels show (the way the
    hand-written ones could: a /proc/iomem or firmware map no kernel makes),
    so the unit tests pass on a check tool that fails on real machines."""
    assert fixtures.SCENARIOS["eaten-dollar"][1] in guest.run("cat /proc/cmdline").out.split()
    for state in ("unloaded", "loaded"):
        if state == "loaded":
            guest.run("modprobe resmem")
        live = guest.run("resmem check", check=False).out
        stored = fixtures.stored_check(host_resmem, "eaten-dollar", state)
        assert fixtures.verdict_lines(live) == fixtures.verdict_lines(stored), \
            f"{state}: live\n{live}\nstored\n{stored}"
    guest.run("rmmod resmem")


# ---------------------------------------------------------------- cache modes and check
@pytest.mark.parametrize("mode,sysfs_name,pat", [("wc", "write-combine", "write-combining"),
                                                 ("uc", "uncached", "uncached")])
def test_cache_mode_applies_to_kernel_and_user_mappings(guest, target, mode, sysfs_name, pat):
    """The region's memory type is the same for the kernel and user space (no PAT conflict)."""
    guest.run(f"modprobe resmem cache={mode}")
    try:
        assert sysfs(guest, "region0", "cache_mode") == sysfs_name
        guest.run(f"mapper write {DEV} 0x200000 0x10000 {mode == 'wc' and 11 or 12}")
        assert guest.pmemsave(4 * G + 0x200000, 0x10000) == seq(mode == "wc" and 11 or 12,
                                                                 0x200000, 0x10000)
        types = guest.run("cat /sys/kernel/debug/x86/pat_memtype_list").out
        ours = [l for l in types.splitlines() if "0x0000000100000000" in l]
        assert ours and all(l.endswith("] " + pat) for l in ours), types[-3000:]
    finally:
        guest.run("rmmod resmem")


def test_check_passes_when_all_is_well(loaded, target):
    r = loaded.run("resmem check", check=False)
    assert r.status == 0, r
    assert "8G$4G" in r.out or "memmap=8G" in r.out


def test_captured_good_reservation_still_matches_the_kernel(loaded, target, host_resmem):
    """`resmem check` on this kernel's standard boot (memmap=8G$4G, -m 13G,
    module loaded) and on the fixture captured from such a boot
    (userspace/tests/fixtures/captured/reserve-8g-at-4g) give the same
    verdict, claim and module lines.  Defect caught: a fixture that drifted
    from what kernels show (e.g. how the module's claim appears in
    /proc/iomem, or its sysfs attributes), so the unit tests pass on a check
    tool that fails on real machines."""
    assert fixtures.SCENARIOS["reserve-8g-at-4g"][1] in loaded.run("cat /proc/cmdline").out.split()
    live = loaded.run("resmem check", check=False).out
    stored = fixtures.stored_check(host_resmem, "reserve-8g-at-4g")
    assert fixtures.verdict_lines(live) == fixtures.verdict_lines(stored), \
        f"live\n{live}\nstored\n{stored}"
