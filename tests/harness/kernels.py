"""Kernel provider: fetch, unpack and cache the Debian kernels of the matrix.

Packages come from the Debian archive already configured on this machine,
through a private apt state under the cache directory, so nothing on the
host (architectures, sources) is changed.  A kernel that is already
unpacked is reused without touching the network.

    python3 -m tests.harness.kernels fetch [NAME ...]   # all by default
    python3 -m tests.harness.kernels path NAME [image|headers|modules]
    python3 -m tests.harness.kernels run NAME -- CMD ...   # where k's modules build
"""
import fcntl
import glob
import os
import re
import shutil
import subprocess
import sys

from . import matrix

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.environ.get("RESMEM_CACHE", os.path.join(REPO, ".cache"))
HOST_DEBARCH = "amd64"


# Debian suites the matrix's kernels come from (bookworm: 6.1; trixie and
# its security and backports suites: 6.12, 7.x), and the build root's.
SUITES = ["bookworm", "bookworm-updates", "bookworm-backports", "bookworm-security",
          "trixie", "trixie-updates", "trixie-backports", "trixie-security"]


def _system_sources():
    """(uri, suites, signed_by) of every Debian source this machine has."""
    found = []
    for path in glob.glob("/etc/apt/sources.list.d/*.sources"):
        with open(path) as f:
            for stanza in f.read().split("\n\n"):
                fields = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line:
                        continue
                    key, val = line.split(":", 1)
                    fields[key.strip().lower()] = val.strip()
                if fields.get("types", "deb").split()[0] != "deb" or "uris" not in fields:
                    continue
                found.append((fields["uris"].split()[0], fields.get("suites", "").split(),
                              fields.get("signed-by")))
    lists = ["/etc/apt/sources.list"] + glob.glob("/etc/apt/sources.list.d/*.list")
    for path in lists:
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                line = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
                if len(line) >= 3 and line[0] == "deb":
                    found.append((line[1], [line[2]], None))
    return found


def _debian_sources():
    """{"archive": (uri, signed_by), "security": (uri, signed_by)} from the
    machine's Debian sources (a source is Debian's if it serves a suite of
    SUITES; its security suites come from the one that serves *-security)."""
    out = {}
    for uri, suites, signed in _system_sources():
        names = set(suites) & set(SUITES)
        if not names:
            continue
        kind = "security" if all(n.endswith("-security") for n in names) else "archive"
        out.setdefault(kind, (uri, signed))
    if "archive" not in out:
        sys.exit("kernels: no Debian archive among the apt sources in /etc/apt: cannot fetch kernels")
    return out


def archive_uri():
    return _debian_sources()["archive"][0]


def _apt_root():
    root = os.path.join(CACHE, "apt")
    lines = []
    srcs = _debian_sources()
    for suite in SUITES:
        kind = "security" if suite.endswith("-security") else "archive"
        if kind not in srcs:
            continue
        uri, signed = srcs[kind]
        opts = "arch=amd64,arm64"
        if signed:
            opts += f" signed-by={signed}"
        lines.append(f"deb [{opts}] {uri} {suite} main")
    for d in ("etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d",
              "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    status = os.path.join(root, "var/lib/dpkg/status")
    open(status, "a").close()
    src = os.path.join(root, "etc/apt/sources.list")
    text = "\n".join(lines) + "\n"
    if not os.path.exists(src) or open(src).read() != text:
        with open(src, "w") as f:
            f.write(text)
        stamp = os.path.join(root, "updated")
        if os.path.exists(stamp):
            os.unlink(stamp)
    return root


def _apt_args(root):
    return ["-o", f"Dir={root}", "-o", f"Dir::State::status={root}/var/lib/dpkg/status",
            "-o", f"Dir::Etc::Parts={root}/etc/apt/apt.conf.d",
            "-o", f"Dir::Etc::PreferencesParts={root}/etc/apt/preferences.d",
            "-o", f"APT::Architecture={HOST_DEBARCH}", "-o", "APT::Architectures=amd64,arm64",
            "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root", "-q"]


def _apt_update(root):
    stamp = os.path.join(root, "updated")
    if not os.path.exists(stamp):
        subprocess.run(["apt-get", *_apt_args(root), "update"], check=True,
                       stdout=subprocess.DEVNULL)
        open(stamp, "w").close()


def download(packages, dest):
    """Download Debian packages ("name:arch") into dest; returns their paths."""
    os.makedirs(dest, exist_ok=True)
    root = _apt_root()
    _apt_update(root)
    subprocess.run(["apt-get", *_apt_args(root), "download", *packages], check=True, cwd=dest,
                   stdout=subprocess.DEVNULL)
    out = []
    for p in packages:
        name, arch = p.split(":")
        hits = glob.glob(os.path.join(dest, f"{name}_*_{arch}.deb")) + \
            glob.glob(os.path.join(dest, f"{name}_*_all.deb"))
        if not hits:
            sys.exit(f"kernels: apt-get download gave no file for {p}")
        out.append(sorted(hits)[-1])
    return out


def _exists(package):
    root = _apt_root()
    _apt_update(root)
    r = subprocess.run(["apt-cache", *_apt_args(root), "show", package],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


def kernel_dir(k):
    return os.path.join(CACHE, "kernels", k.kernelrelease)


def _first(*paths):
    for p in paths:
        if os.path.exists(p):
            return p
    return paths[0]


def image(k):
    """vmlinuz: /boot until 6.12, /usr/lib/modules/<release>/ from 7.x."""
    r = os.path.join(kernel_dir(k), "root")
    return _first(os.path.join(r, "boot", f"vmlinuz-{k.kernelrelease}"),
                  os.path.join(r, "usr", "lib", "modules", k.kernelrelease, "vmlinuz"))


def headers(k):
    return os.path.join(kernel_dir(k), "root", "usr", "src", f"linux-headers-{k.kernelrelease}")


def modules(k):
    r = os.path.join(kernel_dir(k), "root")
    return _first(os.path.join(r, "lib", "modules", k.kernelrelease),
                  os.path.join(r, "usr", "lib", "modules", k.kernelrelease))


def config(k):
    """The kernel's .config (from its headers)."""
    with open(os.path.join(headers(k), ".config")) as f:
        return f.read()


def _fix_headers(k, root):
    """Make the unpacked headers usable where they are, not under /usr/src:
    their Makefile names /usr/src/linux-headers-* (the common part, and from
    7.x KBUILD_OUTPUT) by absolute path."""
    hdr = headers(k)
    mk = os.path.join(hdr, "Makefile")
    text = open(mk).read()
    text = re.sub(r"/usr/src/(linux-headers-[^/\s]+)",
                  lambda m: os.path.join(root, "usr", "src", m.group(1)), text)
    with open(mk, "w") as f:
        f.write(text)
    scripts = os.path.join(hdr, "scripts")
    if not os.path.exists(scripts):
        sys.exit(f"kernels: {scripts} does not resolve; is {k.kbuild} unpacked?")


def fetch(k):
    """The kernel's packages, downloaded and unpacked once.  One fetch at a
    time (the private apt state is shared): make test's background Debian
    VM and the builds fetch at once on a clean machine."""
    kd = kernel_dir(k)
    if os.path.exists(os.path.join(kd, "done")):
        return kd
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, "fetch.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _fetch(k)


def _fetch(k):
    kd = kernel_dir(k)
    done = os.path.join(kd, "done")
    if os.path.exists(done):
        return kd
    if os.path.exists(kd):
        shutil.rmtree(kd)
    debs = os.path.join(CACHE, "debs")
    rel = k.kernelrelease
    pkgs = [f"linux-image-{rel}:{k.debarch}",
            f"linux-headers-{rel}:{k.debarch}",
            f"linux-headers-{k.abi}-common:all",
            f"{k.kbuild}:{HOST_DEBARCH}"]
    # from 7.x linux-image-* is empty and depends on these three
    if _exists(f"linux-binary-{rel}:{k.debarch}"):
        pkgs += [f"linux-{part}-{rel}:{k.debarch}" for part in ("binary", "modules", "base")]
    files = download(pkgs, debs)
    root = os.path.join(kd, "root")
    os.makedirs(root)
    for f in files:
        subprocess.run(["dpkg-deb", "-x", f, root], check=True)
    _fix_headers(k, root)
    if not os.path.exists(image(k)):
        sys.exit(f"kernels: no vmlinuz for {rel} in {', '.join(os.path.basename(f) for f in files)}")
    open(done, "w").close()
    return kd


def busybox(debarch):
    """Path of a static busybox for a Debian architecture."""
    d = os.path.join(CACHE, "busybox", debarch)
    where = [os.path.join(d, "bin", "busybox"), os.path.join(d, "usr", "bin", "busybox")]
    if not any(os.path.exists(p) for p in where):
        f = download([f"busybox-static:{debarch}"], os.path.join(CACHE, "debs"))[0]
        os.makedirs(d, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", f, d], check=True)
    return _first(*where)


def main(argv):
    if len(argv) >= 1 and argv[0] == "fetch":
        names = argv[1:] or [k.name for k in matrix.MATRIX]
        for n in names:
            k = matrix.by_name(n)
            print(fetch(k))
        return 0
    if len(argv) >= 2 and argv[0] == "path":
        k = matrix.by_name(argv[1])
        what = argv[2] if len(argv) > 2 else "headers"
        fetch(k)
        print({"image": image, "headers": headers, "modules": modules}[what](k))
        return 0
    if len(argv) >= 4 and argv[0] == "run" and argv[2] == "--":
        from . import buildroot
        k = matrix.by_name(argv[1])
        fetch(k)
        r = buildroot.run_for(k, argv[3:])
        sys.stdout.write(r.stdout)
        return r.returncode
    if len(argv) == 2 and argv[0] == "busybox":
        print(busybox(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
