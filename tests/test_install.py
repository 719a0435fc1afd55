"""Installable like a real driver (host side, no guest).

- DKMS (Debian's dkms, in a throwaway tree) builds and installs the module
  for the full-tier kernels of the matrix from the tree `make dkms-install`
  lays out and from the tree resmem-dkms ships; `dpkg -i resmem-dkms` on
  trixie builds it through the package's postinst;
- `make install DESTDIR=` lays out every file, and `make uninstall` removes
  them again;
- `make deb` builds resmem-dkms and resmem-tools, lintian reports no error,
  and the packages install into a throwaway dpkg root;
- the man pages lint clean and document every subcommand the CLI has;
- the top-level VERSION file numbers the CLI, the library, the module (as
  make install, DKMS and resmem-dkms build it) and both packages.
"""
import os
import re
import subprocess

import pytest

from tests.harness import kernels, matrix, packages
from tests.test_userspace_unit import libresmem_abi

REPO = kernels.REPO
run, make, version, dkms_build = packages.run, packages.make, packages.version, packages.dkms_build


def source_version():
    """The one version number, from the file every build reads it from."""
    with open(os.path.join(REPO, "VERSION")) as f:
        return f.read().strip()


def elf_machine(path):
    out = run(["file", "-b", path])
    return "aarch64" if "aarch64" in out else "x86-64" if "x86-64" in out else out


@pytest.mark.parametrize("k", [k for k in matrix.MATRIX if k.tier == "full"], ids=lambda k: k.name)
def test_dkms_builds_for_full_tier_kernels(k):
    """`make dkms-install` then DKMS, for the full-tier kernels: bookworm's
    with the host's gcc, trixie's in the build root.  (The core-tier kernels
    build the same source through the same kbuild in the harness and in
    make lint; a third build per kernel would only cost suite time.)"""
    ko = packages.dkms_module(k)     # shared with test_install_guest.py
    assert elf_machine(ko) == ("x86-64" if k.arch == "x86_64" else "aarch64")
    info = run(["modinfo", "-F", "vermagic", ko])
    assert info.split()[0] == k.kernelrelease, info


INSTALLED = [
    "usr/bin/resmem", "usr/lib/libresmem.a", f"usr/lib/libresmem.so.{libresmem_abi()}", "usr/include/libresmem.h",
    "usr/include/linux/resmem.h", "usr/lib/pkgconfig/resmem.pc",
    "usr/share/man/man1/resmem.1", "usr/share/man/man4/resmem.4",
    "lib/udev/rules.d/60-resmem.rules", "etc/modprobe.d/resmem.conf",
    "usr/share/doc/resmem/cli.md", "usr/share/doc/resmem/reserving-memory.md",
    "usr/share/doc/resmem/ring-format.md",
    "usr/share/bash-completion/completions/resmem",
]


def test_make_install_destdir(tmp_path):
    k = matrix.MATRIX[0]
    kernels.fetch(k)
    dest = str(tmp_path / "root")
    common = [f"DESTDIR={dest}", "PREFIX=/usr", f"KDIR={kernels.headers(k)}"]
    out = make("install", *common)
    # a staging tree: the group is not created on this host, the command is said
    assert "on the target system, create the device group: " in out, out
    assert re.search(r"(addgroup|groupadd) --system resmem", out), out
    for f in INSTALLED:
        assert os.path.isfile(os.path.join(dest, f)), f"{f} not installed"
    mod = os.path.join(dest, "lib/modules", k.kernelrelease, "extra")
    ko = [f for f in os.listdir(mod) if f.startswith("resmem.ko")]
    assert ko, os.listdir(mod)
    assert run(["modinfo", "-F", "version", os.path.join(mod, ko[0])]).strip() == source_version()
    # pkg-config finds the library where it was installed
    pc = os.path.join(dest, "usr/lib/pkgconfig")
    env = dict(os.environ, PKG_CONFIG_PATH=pc, PKG_CONFIG_SYSROOT_DIR=dest)
    libs = run(["pkg-config", "--libs", "--cflags", "resmem"], env=env)
    assert f"-I{dest}/usr/include" in libs and "-lresmem" in libs, libs
    assert run(["pkg-config", "--modversion", "resmem"], env=env).strip() == source_version()
    # and a program built against the installed header and library links
    prog = tmp_path / "p.c"
    prog.write_text('#include <libresmem.h>\n#include <stdio.h>\nint main(void){char b[64];'
                    'printf("%s\\n", resmem_format_size(8ULL<<30, b, sizeof(b)));return 0;}\n')
    run(["sh", "-c", f"cc -o {tmp_path}/p {prog} $(pkg-config --cflags --libs resmem)"], env=env)
    # it links the installed shared library (libresmem.so.N), found where it was installed
    assert run([f"{tmp_path}/p"], env=dict(os.environ, LD_LIBRARY_PATH=f"{dest}/usr/lib")
               ).strip() == "8.0 GiB"
    make("uninstall", *common)
    left = [os.path.join(r, f) for r, _, fs in os.walk(dest) for f in fs]
    assert not left, f"left behind by make uninstall: {left}"


@pytest.fixture(scope="module")
def debs():
    return packages.debs()


def test_deb_lintian_clean(debs):
    changes = [f for f in os.listdir(os.path.dirname(debs["resmem-tools"])) if f.endswith(".changes")]
    out = run(["lintian", "--fail-on", "error", *sorted(debs.values())])
    assert not re.search(r"^E: ", out, re.M), out


def test_deb_contents(debs, tmp_path):
    tools = run(["dpkg-deb", "-c", debs["resmem-tools"]])
    for f in ("./usr/bin/resmem", "./usr/include/libresmem.h", "./usr/include/linux/resmem.h",
              "./lib/udev/rules.d/60-resmem.rules", "./etc/modprobe.d/resmem.conf",
              "./usr/share/man/man1/resmem.1.gz", "./usr/share/man/man4/resmem.4.gz",
              "./usr/share/doc/resmem/ring-format.md", "./usr/share/doc/resmem/cli.md",
              "./usr/share/bash-completion/completions/resmem"):
        assert f in tools, f"{f} missing from resmem-tools:\n{tools}"
    assert re.search(r"\./usr/lib/[^/]+/libresmem\.a", tools)
    assert re.search(r"\./usr/lib/[^/]+/pkgconfig/resmem\.pc", tools)
    dkms = run(["dpkg-deb", "-c", debs["resmem-dkms"]])
    v = version()
    for f in ("dkms.conf", "Kbuild", "VERSION", "main.c", "compat.h", "include/uapi/linux/resmem.h",
              "include/resmem/ring_producer.h"):
        assert f"./usr/src/resmem-{v}/{f}" in dkms, f"{f} missing from resmem-dkms"
    assert "addgroup --system resmem" in run(["dpkg-deb", "-I", debs["resmem-tools"], "postinst"])
    assert "dkms" in run(["dpkg-deb", "-I", debs["resmem-dkms"], "postinst"])


def test_one_version_number_everywhere(debs, tmp_path):
    """VERSION is the only place the version is written: the Makefile's
    $(VERSION), `resmem --version` (a private build, and the packaged CLI),
    both packages' Version, the dkms.conf resmem-dkms ships, and the
    MODULE_VERSION of the module DKMS builds from the tree `make
    dkms-install` lays out and from resmem-dkms all say the same.  (make
    install's module and pkg-config file: test_make_install_destdir; the
    library's resmem_version(): test_userspace_unit.py.)"""
    v = source_version()
    assert re.fullmatch(r"\d+(\.\d+)+", v), v
    assert version() == v
    run(["make", "-s", "-C", os.path.join(REPO, "userspace"), f"OUT={tmp_path}"])
    assert run([str(tmp_path / "bin" / "resmem"), "--version"]).splitlines()[0] == f"resmem {v}"
    tools = packages.tools_tree()
    assert run([os.path.join(tools, "usr/bin/resmem"), "--version"]).splitlines()[0] == f"resmem {v}"
    for name, deb in debs.items():
        assert run(["dpkg-deb", "-f", deb, "Version"]).strip() == v, name
    x = str(tmp_path / "dkms")
    run(["dpkg-deb", "-x", debs["resmem-dkms"], x])
    with open(os.path.join(x, f"usr/src/resmem-{v}/dkms.conf")) as f:
        conf = f.read()
    assert re.search(rf'^PACKAGE_VERSION="{re.escape(v)}"$', conf, re.M), conf
    k = next(k for k in matrix.MATRIX if k.tier == "full" and k.arch == "x86_64" and not k.rt)
    for ko in (packages.dkms_module(k), packages.deb_dkms_module(k)):
        assert run(["modinfo", "-F", "version", ko]).strip() == v, ko


def test_deb_installs_into_a_dpkg_root(debs, tmp_path):
    """dpkg --root installs both packages (maintainer scripts skipped: they
    need the root's own adduser/dkms; the guest test runs postinst)."""
    root = str(tmp_path / "root")
    os.makedirs(os.path.join(root, "var/lib/dpkg/info"))
    os.makedirs(os.path.join(root, "var/lib/dpkg/updates"))
    open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
    run(["dpkg", f"--root={root}", "--force-depends", "--force-script-chrootless",
         "--no-triggers", "--unpack", debs["resmem-tools"], debs["resmem-dkms"]])
    st = run(["dpkg", f"--root={root}", "-l"])
    assert re.search(r"^iU\s+resmem-tools", st, re.M) and re.search(r"^iU\s+resmem-dkms", st, re.M), st
    assert os.path.isfile(os.path.join(root, "usr/bin/resmem"))
    assert os.path.isfile(os.path.join(root, f"usr/src/resmem-{version()}/dkms.conf"))
    run(["dpkg", f"--root={root}", "--force-depends", "--force-script-chrootless", "--remove",
         "resmem-tools", "resmem-dkms"])
    assert not os.path.exists(os.path.join(root, "usr/bin/resmem"))


@pytest.mark.parametrize("k", [k for k in matrix.MATRIX if k.tier == "full"], ids=lambda k: k.name)
def test_deb_dkms_source_builds(debs, k):
    """The module source shipped in resmem-dkms builds with DKMS for the
    full-tier kernels, bookworm's and trixie's (the trixie ones inside the
    build root, as a trixie machine's DKMS would); test_install_guest.py
    boots these modules.  The same source, laid out by `make dkms-install`,
    is built with DKMS for the same kernels above."""
    ko = packages.deb_dkms_module(k)
    assert elf_machine(ko) == ("x86-64" if k.arch == "x86_64" else "aarch64")
    info = run(["modinfo", "-F", "vermagic", ko])
    assert info.split()[0] == k.kernelrelease, info


def test_deb_dpkg_install_builds_on_trixie(debs, tmp_path):
    """`dpkg -i resmem-dkms` on a trixie system with the newest kernel's
    headers (the build root stands in for one): the package's own postinst
    has DKMS build and install the module with trixie's gcc-14; `dpkg
    --purge` removes it again."""
    from tests.harness import buildroot
    k = max((k for k in matrix.MATRIX if k.arch == "x86_64" and not k.rt and buildroot.needed(k)),
            key=lambda k: k.version)
    kernels.fetch(k)
    rel, out = k.kernelrelease, str(tmp_path)
    r = buildroot.run(["sh", "-c", f"""set -e
        mkdir -p /lib/modules/{rel} && ln -sfn {kernels.headers(k)} /lib/modules/{rel}/build
        trap 'dpkg --purge resmem-dkms >/dev/null 2>&1; rm -rf /lib/modules/{rel}' EXIT
        dpkg -i {debs["resmem-dkms"]}
        cp /lib/modules/{rel}/updates/dkms/resmem.ko* {out}/
        dkms status -m resmem
        dpkg --purge resmem-dkms
        echo "after purge: $(dkms status -m resmem | wc -l) dkms entries," \
             "$(ls /lib/modules/{rel}/updates/dkms 2>/dev/null | wc -l) modules"
        """])
    assert r.returncode == 0, r.stdout[-6000:]
    assert f"resmem/{version()}, {rel}, x86_64: installed" in r.stdout, r.stdout[-3000:]
    assert "after purge: 0 dkms entries, 0 modules" in r.stdout, r.stdout[-3000:]
    ko = [f for f in os.listdir(out) if f.startswith("resmem.ko")]
    assert len(ko) == 1, ko
    info = run(["modinfo", "-F", "vermagic", os.path.join(out, ko[0])])
    assert info.split()[0] == rel, info


@pytest.mark.parametrize("page", ["resmem.1", "resmem.4"])
def test_man_page_lint(page):
    path = os.path.join(REPO, "man", page)
    run(["mandoc", "-T", "lint", "-W", "warning", path])
    r = subprocess.run(["man", "--warnings", "-l", "-Tutf8", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, env=dict(os.environ, MANWIDTH="80"))
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def test_man_page_documents_every_subcommand(tmp_path):
    # a private build: build/x86_64/bin/resmem may be busy in a running guest build
    run(["make", "-s", "-C", os.path.join(REPO, "userspace"), f"OUT={tmp_path}"])
    helptext = run([str(tmp_path / "bin" / "resmem"), "help"])
    cmds = re.findall(r"^  (\w+)\s{2,}", helptext, re.M)
    assert len(cmds) >= 7, helptext
    page = open(os.path.join(REPO, "man", "resmem.1")).read()
    for c in cmds:
        assert re.search(rf"^\.TP\n\.B {c}\b", page, re.M), f"resmem(1) has no entry for '{c}'"


def test_man4_documents_the_abi():
    page = open(os.path.join(REPO, "man", "resmem.4")).read()
    abi = open(os.path.join(REPO, "docs", "ABI", "sysfs-class-resmem")).read()
    for attr in re.findall(r"^What:\s+/sys/class/resmem/<name>/(\w+)", abi, re.M):
        assert re.search(rf"^\.I {attr}$", page, re.M), f"resmem(4) misses sysfs {attr}"
    uapi = open(os.path.join(REPO, "include", "uapi", "linux", "resmem.h")).read()
    for ioc in re.findall(r"#define (RESMEM_IOC_[A-Z_]+)\s+_IO", uapi):
        assert ioc in page, f"resmem(4) misses {ioc}"


def test_compat_holds_every_version_check():
    mod = os.path.join(REPO, "module")
    for f in os.listdir(mod):
        if f == "compat.h":
            continue
        text = open(os.path.join(mod, f)).read()
        assert "LINUX_VERSION_CODE" not in text and "KERNEL_VERSION(" not in text, \
            f"module/{f} tests the kernel version outside compat.h"
    compat = open(os.path.join(mod, "compat.h")).read()
    m = re.search(r"#if LINUX_VERSION_CODE < KERNEL_VERSION\((\d+), (\d+), 0\)\n#error", compat)
    assert m, "compat.h declares no minimum kernel (#error below it)"
    lowest = min(tuple(int(x) for x in k.series.split(".")) for k in matrix.MATRIX)
    assert (int(m[1]), int(m[2])) <= lowest
