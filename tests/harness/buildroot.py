"""A Debian trixie build root for kernels made by a newer compiler than the host's.

trixie's kernels (6.12, and 7.x from trixie-backports) are built with gcc-14
and their headers pass it flags that the host's bookworm gcc-12 rejects
(`-fmin-function-alignment=16`).  A trixie user builds resmem with trixie's
own gcc-14 through DKMS or `make module`; the harness does the same inside a
minimal trixie system made once by mmdebstrap from Debian's archive and
cached under .cache/buildroot/ (about 45 s, 800 MB).

Commands run there through `run()`: a private mount namespace binds the
repository, the cache and the temporary directory at the same paths inside
the root, so every path (KDIR, M=, DKMS trees) means the same file on both
sides and the results land where the host expects them.

A kernel needs the build root when its headers name a gcc newer than the
host's (`needed()`): a feature of the kernel, not a list to keep.
"""
import os
import re
import shlex
import shutil
import subprocess
import tempfile

from . import kernels

SUITE = "trixie"
# what `make module`, `make test-modules`, `make lint-module` and DKMS use
PACKAGES = ["make", "gcc-14", "libc6-dev", "bc", "kmod", "libelf-dev", "xz-utils",
            "gcc-14-aarch64-linux-gnu", "sparse", "dkms", "dwarves", "python3"]


def path():
    return os.path.join(kernels.CACHE, "buildroot", SUITE)


def _stamp():
    return path() + ".done"


def _gcc_major(text):
    m = re.search(r"(\d+)\.\d+", text)
    return int(m.group(1)) if m else 0


def host_gcc_major():
    r = subprocess.run(["gcc", "-dumpfullversion"], stdout=subprocess.PIPE, text=True)
    return _gcc_major(r.stdout)


def kernel_gcc_major(k):
    """gcc major version the kernel was built with (from its headers' .config)."""
    cfg = os.path.join(kernels.headers(k), ".config")
    with open(cfg) as f:
        for line in f:
            if line.startswith("CONFIG_GCC_VERSION="):
                return int(line.split("=", 1)[1]) // 10000
    return 0


def needed(k):
    """Does building modules for k need the trixie build root?"""
    return kernel_gcc_major(k) > host_gcc_major()


def ensure():
    """Makes the build root once; returns its path."""
    root = path()
    want = " ".join(PACKAGES)
    if os.path.exists(_stamp()) and open(_stamp()).read() == want:
        return root
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(os.path.dirname(root), exist_ok=True)
    uri = kernels.archive_uri()
    r = subprocess.run(["mmdebstrap", "--variant=apt", "--mode=root", "-q",
                        "--include=" + ",".join(PACKAGES), SUITE, root,
                        f"deb {uri} {SUITE} main"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        raise RuntimeError(f"mmdebstrap {SUITE} failed ({r.returncode}):\n{r.stdout[-6000:]}")
    with open(_stamp(), "w") as f:
        f.write(want)
    return root


def _binds():
    seen = []
    for p in (kernels.REPO, kernels.CACHE, tempfile.gettempdir()):
        p = os.path.realpath(p)
        if not any(p == s or p.startswith(s + "/") for s in seen):
            seen.append(p)
    return seen


def run(argv, cwd=None, env=None):
    """Runs argv inside the build root; returns the CompletedProcess
    (stdout and stderr together, text)."""
    root = ensure()
    script = ["set -e"]
    for p in _binds():
        inside = root + p
        script.append(f"mkdir -p {shlex.quote(inside)}")
        script.append(f"mount --bind {shlex.quote(p)} {shlex.quote(inside)}")
    script.append(f"mount -t proc proc {shlex.quote(root)}/proc")
    envs = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root", "LC_ALL": "C.UTF-8", **(env or {})}
    inner = " ".join(shlex.quote(a) for a in argv)
    if cwd:
        inner = f"cd {shlex.quote(cwd)} && {inner}"
    envargs = " ".join(shlex.quote(f"{k}={v}") for k, v in envs.items())
    script.append(f"exec chroot {shlex.quote(root)} /usr/bin/env -i {envargs} "
                  f"/bin/sh -c {shlex.quote(inner)}")
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "--",
                           "/bin/sh", "-c", "\n".join(script)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_for(k, argv, cwd=None, env=None):
    """Runs a kernel-build command for k where a user of k would: on the host,
    or inside the build root when k's compiler is newer than the host's."""
    if needed(k):
        return run(argv, cwd=cwd, env=env)
    return subprocess.run(argv, cwd=cwd, env=None if env is None else {**os.environ, **env},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
