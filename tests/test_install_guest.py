"""Installed like a user installs it, proven in a booted guest of every kernel.

One boot per target (the standard reservation) carries, besides the
harness's own build, the module DKMS built from `make dkms-install` and the
module DKMS built from the source the resmem-dkms package ships, under
their own paths; on x86_64 also the unpacked resmem-tools package and the
host's real systemd-udevd, adduser (perl) and getent with their libraries.

- each module is put where DKMS installs it (the only resmem.ko left under
  /lib/modules), depmod + `modprobe resmem` load it, the build ID the
  kernel reports for the loaded module is the one on the host file, a
  pattern written through the device lands at the region's physical
  address (read by the host), and rmmod unloads it;
- x86_64: with udevd running and the module loaded, installing resmem-tools
  (files + its real postinst) turns /dev/resmem/region0 from 0600 root:root
  into 0660 root:resmem (also when udevd read the rule before the postinst
  created the group); a member of group resmem maps it and fills it with
  the packaged (dynamically linked) CLI, the host sees the bytes; a user
  outside the group (before being added, and nobody) is refused.
"""
import os
import re

import pytest

from tests.harness import boots, build, hostbin, matrix, packages, pattern

STAGE = "/opt/resmem-pkg"


def skip_local(target):
    if target == "local":
        pytest.skip("packs the packages into a QEMU guest (on a machine: install them)")


@pytest.fixture
def packaged_files(target):
    skip_local(target)
    k = matrix.by_name(target)
    files = {f"{STAGE}/dkms/resmem.ko": packages.dkms_module(k),
             f"{STAGE}/deb/resmem.ko": packages.deb_dkms_module(k)}
    if k.arch == "x86_64":
        files.update(udev_install_files())
    return files


def udev_install_files():
    """resmem-tools unpacked under STAGE/tools, plus what its postinst and
    the group test run: udevd, udevadm, getent, adduser/addgroup (perl +
    groupadd/usermod), the CLI's libraries, an nsswitch.conf."""
    root = packages.tools_tree()
    files = {}
    for d, _, fs in os.walk(root):
        for f in fs:
            host = os.path.join(d, f)
            files[f"{STAGE}/tools/{os.path.relpath(host, root)}"] = host
    progs = {p: p for p in ("/bin/udevadm", "/usr/bin/getent", "/usr/bin/perl",
                            "/usr/sbin/groupadd", "/usr/sbin/usermod")}
    progs["/lib/systemd/systemd-udevd"] = "/bin/udevadm"     # udevadm's udevd personality
    progs[f"{STAGE}/libs-of/resmem"] = os.path.join(root, "usr/bin/resmem")
    files.update(hostbin.closure(progs))
    del files[f"{STAGE}/libs-of/resmem"]
    for f in ("/usr/sbin/adduser", "/etc/adduser.conf", "/etc/login.defs",
              "/usr/share/perl5/Debian/AdduserCommon.pm"):
        files[f] = f
    files["/usr/sbin/addgroup"] = "/usr/sbin/adduser"       # adduser acts on its name
    files.update(hostbin.tree("/usr/lib/x86_64-linux-gnu/perl-base/**"))
    nss = os.path.join(packages.tmpdir("etc"), "nsswitch.conf")
    with open(nss, "w") as f:
        f.write("passwd: files\ngroup: files\nshadow: files\n")
    files["/etc/nsswitch.conf"] = nss
    return files


def region(guest, target):
    """(device path, physical address) of the standard boot's region."""
    base = boots.regions(matrix.by_name(target).arch, "standard")[0][0]
    out = guest.run("for d in /sys/class/resmem/*; do echo ${d##*/} $(cat $d/phys_addr); done").out
    for line in out.splitlines():
        name, addr = line.split()
        if int(addr, 0) == base:
            return f"/dev/resmem/{name}", base
    raise AssertionError(f"no region at {base:#x} in the guest: {out!r}")


def install_and_load(guest, k, staged):
    """Makes `staged` the only resmem.ko under /lib/modules (where DKMS puts
    it), loads it with modprobe; returns the loaded module's build ID."""
    guest.run("rmmod resmem 2>/dev/null; krel=$(uname -r); "
              "find /lib/modules/$krel -name 'resmem.ko*' -exec rm -f {} +; "
              "mkdir -p /lib/modules/$krel/updates/dkms && "
              f"cp {staged} /lib/modules/$krel/updates/dkms/resmem.ko && depmod && modprobe resmem")
    found = guest.run("find /lib/modules/$(uname -r) -name 'resmem.ko*'").out.split()
    assert found == [f"/lib/modules/{k.kernelrelease}/updates/dkms/resmem.ko"], found
    # the ELF note of the module the kernel holds: namesz, descsz, type, "GNU\0", ID
    note = bytes.fromhex(guest.run("od -An -v -tx1 /sys/module/resmem/notes/.note.gnu.build-id"
                                   " | tr -d ' \\n'").out.strip())
    descsz = int.from_bytes(note[4:8], "little")
    return note[-descsz:].hex()


def check_region_write(guest, target, seed):
    dev, base = region(guest, target)
    off, length = 0x300000 + 8 * seed, 0x10000
    r = guest.run(f"mapper write {dev} {off} {length} {seed}")
    assert "ok" in r.out, r
    want = pattern.seq(seed, off, length)
    got = guest.pmemsave(base + off, length)
    assert got == want, (f"host reads at {base + off:#x}:\n{pattern.hexdump(got, base + off)}\n"
                         f"expected:\n{pattern.hexdump(want, base + off)}")


def distinct_build_ids(k):
    ids = {"harness build": packages.build_id(build.module_path(k)),
           "DKMS": packages.build_id(packages.dkms_module(k)),
           ".deb (DKMS)": packages.build_id(packages.deb_dkms_module(k))}
    assert len(set(ids.values())) == 3, f"builds not tellable apart by build ID: {ids}"
    return ids


@pytest.mark.parametrize("which", ["DKMS", ".deb (DKMS)"], ids=["dkms", "deb"])
@pytest.mark.guest(boot="standard", extra_files_from="packaged_files")
def test_packaged_module_loads_and_maps(guest, target, which):
    skip_local(target)
    k = matrix.by_name(target)
    ids = distinct_build_ids(k)
    staged = f"{STAGE}/dkms/resmem.ko" if which == "DKMS" else f"{STAGE}/deb/resmem.ko"
    loaded = install_and_load(guest, k, staged)
    assert loaded == ids[which], f"loaded build ID {loaded}, built: {ids}"
    check_region_write(guest, target, seed=11 if which == "DKMS" else 12)
    guest.run("rmmod resmem")
    assert not guest.run("test -e /sys/module/resmem", check=False).ok
    assert not guest.run("ls /dev/resmem 2>/dev/null", check=False).out.strip()


def stat(guest, path):
    return guest.run(f"stat -c '%a %U %G' {path}").out.strip()


@pytest.mark.archs("x86_64")
@pytest.mark.guest(boot="standard", extra_files_from="packaged_files")
def test_group_resmem_maps_after_install(guest, target):
    skip_local(target)
    k = matrix.by_name(target)
    dev = "/dev/resmem/region0"
    # before resmem-tools: udevd runs (no resmem rule yet), the packaged module is loaded
    guest.run("pidof systemd-udevd >/dev/null || /lib/systemd/systemd-udevd --daemon")
    install_and_load(guest, k, f"{STAGE}/deb/resmem.ko")
    guest.run("udevadm settle")
    assert stat(guest, dev) == "600 root root"
    assert not guest.run("getent group resmem", check=False).ok
    guest.run("grep -q '^capture:' /etc/passwd || "
              "{ echo 'capture:x:1000:1000:capture service:/tmp:/bin/sh' >> /etc/passwd; "
              "echo 'capture:x:1000:' >> /etc/group; }")

    # install resmem-tools: its files, then its real postinst (configure)
    guest.run(f"cd {STAGE}/tools && for d in *; do [ $d = DEBIAN ] || cp -a $d /; done")
    # a uevent between unpack and configure reads the rule before the group
    # exists (reloaded at once: udevd on its own re-reads changed rules at
    # most every 3 s, which a sleep would have to outwait)
    guest.run("udevadm control --reload; udevadm trigger --subsystem-match=resmem --action=change; "
              "udevadm settle")
    assert stat(guest, dev) == "660 root root"
    r = guest.run(f"{STAGE}/tools/DEBIAN/postinst configure && udevadm settle")
    group = guest.run("getent group resmem").out.strip()
    assert re.fullmatch(r"resmem:x:\d+:", group), group
    assert stat(guest, dev) == "660 root resmem", r

    # the packaged CLI is the one on PATH now (dynamically linked, its libraries packed)
    tools = packages.tools_tree()
    host_sum = packages.run(["sha256sum", os.path.join(tools, "usr/bin/resmem")]).split()[0]
    assert guest.run("sha256sum /usr/bin/resmem").out.split()[0] == host_sum

    # not (yet) in the group: refused, nothing written
    r = guest.run(f"su -s /bin/sh capture -c 'mapper map {dev} 0 4K'", check=False)
    assert r.status != 0 and "Permission denied" in r.err, r
    guest.run("adduser capture resmem")
    assert "resmem" in guest.run("id -nG capture").out.split()

    r = guest.run(f"su -s /bin/sh capture -c 'mapper map {dev} 0 4K'", check=False)
    assert r.ok and r.out.strip() == "ok", r
    off, length, seed = 0x500000, 0x20000, 21
    r = guest.run(f"su -s /bin/sh capture -c "
                  f"'resmem fill region0 seq:{seed} --offset {off} --length {length}'", check=False)
    assert r.ok, r
    base = boots.regions("x86_64", "standard")[0][0]
    assert guest.pmemsave(base + off, length) == pattern.seq(seed, off, length)

    # others: nobody can neither map nor fill (the bytes stay the group member's)
    r = guest.run(f"su -s /bin/sh nobody -c 'mapper map {dev} 0 4K'", check=False)
    assert r.status != 0 and "Permission denied" in r.err, r
    r = guest.run(f"su -s /bin/sh nobody -c "
                  f"'resmem fill region0 seq:99 --offset {off} --length {length}'", check=False)
    assert r.status != 0, r
    assert guest.pmemsave(base + off, length) == pattern.seq(seed, off, length)
    guest.run("rmmod resmem")
