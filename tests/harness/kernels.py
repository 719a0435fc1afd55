"""Kernel provider: fetch, unpack and cache the Debian kernels of the matrix.

Packages come from the Debian archive already configured on this machine,
through a private apt state under the cache directory, so nothing on the
host (architectures, sources) is changed.  A kernel that is already
unpacked is reused without touching the network.

    python3 -m tests.harness.kernels fetch [NAME ...]   # all by default
    python3 -m tests.harness.kernels path NAME [image|headers|modules]
"""
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


def _os_codename():
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"')
    return "bookworm"


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


def _apt_root():
    root = os.path.join(CACHE, "apt")
    code = _os_codename()
    lines = []
    for uri, suites, signed in _system_sources():
        opts = "arch=amd64,arm64"
        if signed:
            opts += f" signed-by={signed}"
        if code in suites:
            for s in (code, f"{code}-updates", f"{code}-backports"):
                lines.append(f"deb [{opts}] {uri} {s} main")
        elif f"{code}-security" in suites:
            lines.append(f"deb [{opts}] {uri} {code}-security main")
    if not lines:
        sys.exit("kernels: no Debian source for %s in /etc/apt: cannot fetch kernels" % code)
    for d in ("etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d",
              "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    status = os.path.join(root, "var/lib/dpkg/status")
    open(status, "a").close()
    src = os.path.join(root, "etc/apt/sources.list")
    text = "\n".join(sorted(set(lines))) + "\n"
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


def download(packages, dest):
    """Download Debian packages ("name:arch") into dest; returns their paths."""
    os.makedirs(dest, exist_ok=True)
    root = _apt_root()
    args = _apt_args(root)
    stamp = os.path.join(root, "updated")
    if not os.path.exists(stamp):
        subprocess.run(["apt-get", *args, "update"], check=True, stdout=subprocess.DEVNULL)
        open(stamp, "w").close()
    subprocess.run(["apt-get", *args, "download", *packages], check=True, cwd=dest,
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


def kernel_dir(k):
    return os.path.join(CACHE, "kernels", f"{k.abi}-{k.debarch}")


def image(k):
    return os.path.join(kernel_dir(k), "root", "boot", f"vmlinuz-{k.kernelrelease}")


def headers(k):
    return os.path.join(kernel_dir(k), "root", "usr", "src", f"linux-headers-{k.kernelrelease}")


def modules(k):
    return os.path.join(kernel_dir(k), "root", "lib", "modules", k.kernelrelease)


def _fix_headers(k, root):
    """Make the unpacked headers usable where they are, not under /usr/src."""
    hdr = headers(k)
    common = os.path.join(root, "usr", "src", f"linux-headers-{k.abi}-common")
    mk = os.path.join(hdr, "Makefile")
    text = open(mk).read()
    text = re.sub(r"/usr/src/linux-headers-[^/\s]+-common", common, text)
    with open(mk, "w") as f:
        f.write(text)
    scripts = os.path.join(hdr, "scripts")
    if not os.path.exists(scripts):
        sys.exit(f"kernels: {scripts} does not resolve; is {k.kbuild} unpacked?")


def fetch(k):
    kd = kernel_dir(k)
    done = os.path.join(kd, "done")
    if os.path.exists(done):
        return kd
    if os.path.exists(kd):
        shutil.rmtree(kd)
    debs = os.path.join(CACHE, "debs")
    pkgs = [f"linux-image-{k.kernelrelease}:{k.debarch}",
            f"linux-headers-{k.kernelrelease}:{k.debarch}",
            f"linux-headers-{k.abi}-common:all",
            f"{k.kbuild}:{HOST_DEBARCH}"]
    files = download(pkgs, debs)
    root = os.path.join(kd, "root")
    os.makedirs(root)
    for f in files:
        subprocess.run(["dpkg-deb", "-x", f, root], check=True)
    _fix_headers(k, root)
    open(done, "w").close()
    return kd


def busybox(debarch):
    """Path of a static busybox for a Debian architecture."""
    d = os.path.join(CACHE, "busybox", debarch)
    bb = os.path.join(d, "bin", "busybox")
    if not os.path.exists(bb):
        f = download([f"busybox-static:{debarch}"], os.path.join(CACHE, "debs"))[0]
        os.makedirs(d, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", f, d], check=True)
    return bb


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
    if len(argv) == 2 and argv[0] == "busybox":
        print(busybox(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
