"""Boot-time memmap= reservations in every unsafe place of an x86 machine.

One command line carries them all, each its own case, and one good range
(memmap=2G$6G) that must still work beside them.  The guest boots it under
SeaBIOS and under UEFI (OVMF).  What each should come to is not written
here as a constant: it is derived from the guest's own maps, the
firmware's (/sys/firmware/memmap, before memmap= edited it) and the
kernel's (/proc/iomem), in the order the module applies its rules:

  below 1 MiB (BIOS and kernel data)      -> never a region
  not all System RAM in the firmware map  -> never a region (a hole, the
                                             PCI window, beyond RAM)
  the kernel kept part of it as RAM       -> never a region (its image)
  a busy resource inside (crash kernel)   -> never a region
  otherwise                               -> exactly one region there

Each refusal must be one module log line naming the rule, and `resmem
check` must name the same cause.  Defects caught: a memmap= range past the
end of RAM or in the PCI hole taken as a region (writes to nothing: the
module accepted such a range before the firmware-map rule); a range
straddling the end of low RAM or 4 GiB partly taken; a refusal without a
reason, or a reason the check tool does not share; a good range lost
because of its bad neighbours (host-witnessed write); a stored `resmem
check` fixture (userspace/tests/fixtures/captured: the PCI hole, the kernel
inside the range) that drifted from what this kernel shows, so the unit
tests would pass on a check tool that fails on real machines.
"""
import re

import pytest

from tests.harness import boots, fixtures
from tests.harness.guestview import firmware_memmap, iomem, memmap_reservations
from tests.harness.pattern import seq
from tests.harness.units import K, M

CASES = {
    # name: (memmap=SIZE$ADDR, what the case is meant to hit)
    "isa-vga-hole": ("128K$0xA0000", "the legacy ISA/VGA hole 0xA0000-0xFFFFF"),
    "below-1mib": ("64K$0x10000", "RAM below 1 MiB"),
    "pci-hole": ("256M$0xC8000000", "inside the PCI hole"),
    "pci-hole-high": ("16M$0xE0000000", "inside the PCI hole, nearer 4 GiB"),
    "straddles-end-of-low-ram": ("32M$0xBE000000", "RAM then the hole above low RAM"),
    "straddles-4g": ("512M$0xF0000000", "the hole, the IOAPIC and BIOS area, then RAM at 4 GiB"),
    "beyond-ram": ("1G$20G", "past the end of RAM (13 GiB of RAM: it ends at 14 GiB)"),
    "kernel-image": ("32M$16M", "the kernel image (nokaslr: loaded at 16 MiB)"),
    "crash-kernel": ("128M$480M", "the crash kernel asked for with crashkernel=64M@512M"),
    "good": ("2G$6G", "RAM nothing else uses"),
}
# cases whose scenario a stored `resmem check` fixture was captured from
# (tests/harness/fixtures.py): {case: (scenario, its memmap= word)}
CAPTURED = {"pci-hole": ("pci-hole", "1G$3G"), "kernel-image": ("kernel-inside", "32M$16M")}
CMDLINE = "nokaslr crashkernel=64M@512M " + " ".join(f"memmap={w}" for w, _ in CASES.values())
boots.BOOTS["legacy-holes"] = {"x86_64": dict(mem="13G", cmdline=CMDLINE)}
boots.BOOTS["legacy-holes-uefi"] = {"x86_64": dict(mem="13G", cmdline=CMDLINE, firmware="uefi")}

pytestmark = pytest.mark.archs("x86_64")
FIRMWARE = [pytest.param("seabios", marks=pytest.mark.guest(boot="legacy-holes")),
            pytest.param("uefi", marks=pytest.mark.guest(boot="legacy-holes-uefi"))]

def span(word):
    """[start, end) of SIZE$ADDR, read as the kernel reads a memmap= word."""
    (start, size), = memmap_reservations(f"memmap={word}")
    return start, start + size


def expected(g, start, end):
    """(verdict, module log words, check words) from the guest's own maps."""
    if start < M:
        return "refused", "below 1 MiB", ("starts below 1 MiB",)
    ram = [(a, b + 1) for a, b, kind in firmware_memmap(g) if kind == "System RAM"]
    at = start
    for a, b in sorted(ram):
        if a <= at < b:
            at = b
    if at < end:
        return "refused", "is not RAM in the firmware's memory map", ("is not RAM according to firmware",)
    res = iomem(g)
    if any(name == "System RAM" and depth == 0 and a < end and b >= start
           for a, b, name, depth in res):
        # check names the image when it lies inside, else the RAM it sees
        return "refused", "kept part of it as System RAM", ("the kernel image", "did not take effect")
    busy = [name for a, b, name, depth in res if depth > 0 and a < end and b >= start
            and not name.startswith("resmem")]
    if busy:
        return "refused", "inside it is in use", None
    return "region", None, None


def regions(g):
    """{name: (start, end)} of the loaded module's regions."""
    out = g.run("for d in /sys/class/resmem/*; do echo ${d##*/} $(cat $d/phys_addr) "
                "$(cat $d/size); done").out
    return {n: (int(a, 16), int(a, 16) + int(s)) for n, a, s in (l.split() for l in out.splitlines())}


def check_report(g, word):
    """The lines `resmem check` prints for memmap=word."""
    out = g.run("resmem check", check=False).out
    m = re.search(rf"(?ms)^memmap={re.escape(word)}:.*?(?=^memmap=|^module:)", out)
    assert m, out
    return m[0]


@pytest.mark.parametrize("firmware", FIRMWARE)
@pytest.mark.parametrize("case", list(CASES))
def test_boot_reservation_is_judged_by_the_firmware_map(guest, target, firmware, case,
                                                        host_resmem):
    g = guest
    word, meant = CASES[case]
    start, end = span(word)
    assert f"memmap={word}" in g.run("cat /proc/cmdline").out.split()
    g.run("modprobe resmem")
    verdict, log_words, check_words = expected(g, start, end)
    log = g.run("dmesg | grep 'resmem: '").out
    got = {n: r for n, r in regions(g).items() if r[0] < end and r[1] > start}
    report = check_report(g, word)
    if case == "crash-kernel":
        # memmap= is applied first: the kernel gives up the crash kernel
        # rather than overlap it, and says so; the range is then fine.
        crash = [r for r in iomem(g) if r[2] == "Crash kernel"]
        if not crash:
            assert "crashkernel reservation failed" in g.run("dmesg").out
    if verdict == "region":
        assert list(got.values()) == [(start, end)], (meant, got, log)
        assert "ok: claimed by resmem region" in report, report
        name = next(iter(got))
        off = (end - start) - 8 * K
        g.run(f"mapper write /dev/resmem/{name} {off:#x} 0x2000 {start:#x}")
        assert g.pmemsave(start + off, 0x2000) == seq(start, off, 0x2000)
        return
    assert not got, f"{case} ({meant}) became a region: {got}\n{log}"
    lines = [ln for ln in log.splitlines()
             if re.search(rf"memmap={'0x%x' % (end - start)}\${'0x%x' % start} \[mem", ln)
             or (re.search(r"\[mem 0x0*([0-9a-f]+)-", ln)
                 and start <= int(re.search(r"\[mem 0x0*([0-9a-f]+)-", ln)[1], 16) < end
                 and "refused" in ln)]
    assert lines, f"no log line for {case} ({meant}):\n{log}"
    assert any(log_words in ln for ln in lines), (log_words, lines)
    if check_words:
        assert any(w in report for w in check_words), (check_words, report)
    else:
        assert "problem:" in report, report
    if firmware == "seabios" and case in CAPTURED:
        # The stored fixture of this scenario (captured under SeaBIOS) must
        # still say what this kernel's own check says: same verdict and
        # cause lines, numbers aside (the words may differ: 1G$3G there).
        name, stored_word = CAPTURED[case]
        same = stored_word == word
        stored = fixtures.stored_check(host_resmem, name)
        assert fixtures.verdict_lines(report, header=same) == \
            fixtures.verdict_lines(stored, stored_word, header=same), \
            f"live:\n{report}\nstored ({name}):\n{stored}"
