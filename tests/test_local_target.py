"""The local target's own rules, host-only: which tests a machine's boot
allows, the kernel log read without clearing it, commands that would clear
it refused, and the modprobe wrapper that loads this run's module."""
import os
import subprocess

import pytest

from tests.harness import boots, disk, local

G = 1 << 30


@pytest.mark.parametrize("arch,boot,facts,why", [
    ("x86_64", "standard", (["ro", "memmap=8G$4G", "quiet"], [], False), None),
    ("x86_64", "standard", (["ro", "memmap=8G"], [], False), "missing: memmap=8G$4G"),
    ("x86_64", "two", (["memmap=1G$4G"], [], False), "memmap=1G$4G memmap=1G$6G (missing: memmap=1G$6G)"),
    ("x86_64", "uefi", (["memmap=1G$5G"], [], False), "booted through UEFI"),
    ("x86_64", "uefi", (["memmap=1G$5G"], [], True), None),
    ("x86_64", "iommu", (["memmap=8G$4G", "intel_iommu=on", "iommu.strict=1"], [], False),
     "needs a QEMU device"),
    ("aarch64", "standard", ([], [(0x140000000, G, "resmem,region", "resmem", True)], False), None),
    ("aarch64", "standard", ([], [(0x140000000, G, "", "resmem", True)], False),
     'node resmem@140000000 of 0x40000000 bytes, compatible "resmem,region", no-map'),
    # the same range under another name is another device; without no-map, other pages
    ("aarch64", "standard", ([], [(0x140000000, G, "resmem,region", "capture", True)], False),
     "node resmem@140000000"),
    ("aarch64", "standard", ([], [(0x140000000, G, "resmem,region", "resmem", False)], False),
     "node resmem@140000000"),
    ("aarch64", "dt-devices", ([], [], False), "needs a QEMU device"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_boot_mismatch_names_what_is_missing(arch, boot, facts, why):
    got = local.boot_mismatch(boots.resolve(arch, {"boot": boot}), facts)
    if why is None:
        assert got is None
    else:
        assert got and why in got, got


def test_qemu_only_boot_never_matches_a_machine():
    """guest(qemu_only=why): skipped on every machine, with the why, even one
    booted exactly as the rest of the marker asks (and not given to the
    Debian VM: plugin._runs_in_debian_vm)."""
    boot = boots.resolve("aarch64", {"boot": "standard", "qemu_only": "boots a second machine"})
    facts = ([], [(0x140000000, G, "resmem,region", "resmem", True)], False)
    assert local.boot_mismatch(boot, facts) == "QEMU only: boots a second machine"


@pytest.mark.parametrize("kind,why", [
    ("virtio", None),
    ("virtio+virtio", None),
    ("edu", "needs a QEMU device or machine option: -device edu"),
    ("nvme", "needs a QEMU device or machine option: -drive file="),
    ("virtio+edu", "needs a QEMU device or machine option: -drive file="),
])
def test_boot_mismatch_takes_virtio_disks_as_loop_devices(tmp_path, monkeypatch, kind, why):
    """A virtio-blk disk (disk.Disk) is a loop device over the same image on
    this machine: its tests run.  QEMU's edu device and an NVMe disk
    (whose tests need NVMe's 4-byte DMA alignment, which a loop device
    lacks) still skip, with the QEMU arguments they need."""
    monkeypatch.setattr(disk, "DIR", str(tmp_path))
    args = {"virtio": disk.Disk("a", 1 << 20).qemu_args(), "edu": boots.EDU,
            "nvme": disk.NvmeExt4Disk("n", 8 << 20).qemu_args()}
    extra = [a for part in kind.split("+") for a in args[part]]
    assert any(a.startswith("file=") for a in args["virtio"]) and "if=virtio" in args["virtio"][1]
    facts = (["memmap=8G$4G"], [], False)
    got = local.boot_mismatch(boots.resolve("x86_64", {"boot": "dio", "extra_qemu": extra}), facts)
    if why is None:
        assert got is None
    else:
        assert got and got.startswith(why) and " ".join(extra) in got, got
    # the disk does not lift the rest of the comparison: a missing reservation still counts
    if kind == "virtio":
        assert "missing: memmap=8G$4G" in local.boot_mismatch(
            boots.resolve("x86_64", {"boot": "dio", "extra_qemu": extra}), ([], [], False))


@pytest.mark.parametrize("cmd,clears", [
    ("dmesg -c", True), ("dmesg -C", True), ("dmesg --clear", True),
    ("dmesg -c > /dev/null; modprobe resmem", True), ("x=1; dmesg --read-clear", True),
    ("dmesg", False), ("dmesg | grep -c resmem", False), ("dmesg | tail -n 5", False),
    ("dmesg --level=err", False),
])
def test_commands_that_clear_the_log_are_known(cmd, clears):
    assert bool(local.CLEARS_LOG.search(cmd)) == clears


@pytest.mark.skipif(not os.access("/dev/kmsg", os.W_OK), reason="needs root (writes /dev/kmsg)")
def test_kernel_log_starts_where_it_was_opened():
    """What was logged before the run is not the run's (a WARN from last
    week must not fail a test); what comes after is, in order."""
    tag = os.urandom(4).hex()
    with open("/dev/kmsg", "w") as f:
        f.write(f"resmem-test {tag} before\n")
    log = local.KernelLog()
    with open("/dev/kmsg", "w") as f:
        f.write(f"resmem-test {tag} after-1\n")
    with open("/dev/kmsg", "w") as f:
        f.write(f"resmem-test {tag} after-2\n")
    text = log.read()
    assert f"{tag} before" not in text, text[-2000:]
    assert text.index(f"{tag} after-1") < text.index(f"{tag} after-2"), text[-2000:]
    # read again: nothing lost, nothing doubled
    assert log.read().count(f"{tag} after-1") == 1


def test_modprobe_wrapper_loads_the_built_module(tmp_path):
    """modprobe resmem ARGS becomes insmod $RESMEM_KO ARGS (quoting kept),
    after the module's dependencies; other modules go to the real modprobe;
    an already loaded resmem is left alone."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "modprobe"
    wrapper.write_text(local.MODPROBE)
    wrapper.chmod(0o755)
    calls = tmp_path / "calls"
    for name, body in {
        "insmod": f'echo "insmod $*" >> {calls}; for a; do echo "arg<$a>" >> {calls}; done',
        "modinfo": 'echo "dep_a,dep_b"',
        "realmodprobe": f'echo "real $*" >> {calls}',
    }.items():
        (bindir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bindir / name).chmod(0o755)
    script = local.MODPROBE.replace('real=$(PATH=/usr/sbin:/sbin:/usr/bin:/bin command -v modprobe)',
                                    f'real={bindir}/realmodprobe')
    assert script != local.MODPROBE
    script = script.replace("/proc/modules", str(tmp_path / "modules"))
    wrapper.write_text(script)
    (tmp_path / "modules").write_text("")
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", RESMEM_KO="/build/resmem.ko")

    def modprobe(*args):
        calls.write_text("")
        subprocess.run([str(wrapper), *args], env=env, check=True)
        return calls.read_text().splitlines()

    got = modprobe("-q", "resmem", "discover=0", "regions=mid:1G@5G,tail:256M@7G:wc")
    assert got == ["real dep_a", "real dep_b", "insmod /build/resmem.ko discover=0 regions=mid:1G@5G,tail:256M@7G:wc",
                   "arg</build/resmem.ko>", "arg<discover=0>", "arg<regions=mid:1G@5G,tail:256M@7G:wc>"], got
    assert modprobe("virtio_blk") == ["real virtio_blk"]
    (tmp_path / "modules").write_text("resmem 16384 0 - Live 0x0\n")
    assert modprobe("resmem", "pages=0") == []


@pytest.mark.parametrize("at", [None, 0, (16 << 20) - 1, 16 << 20, (40 << 20) - 1])
def test_first_data_finds_the_first_nonzero_byte(tmp_path, at):
    """The guard's zero check: whole chunks, a chunk boundary, the last byte
    of a file whose size is not a multiple of the chunk."""
    path = tmp_path / "region"
    path.write_bytes(bytes(40 << 20))
    if at is not None:
        with open(path, "r+b") as f:
            f.seek(at)
            f.write(b"\x5a")
    why = local.first_data(str(path))
    if at is None:
        assert why is None
    else:
        assert why == f"byte {at:#x} is 0x5a, not zero"
