"""resmem as a user installs it: the DKMS-built module, the Debian packages.

Each result is built once per `make test`: host tests and guest tests share
it, also across the two pytest processes (beside.py's child gets the
directory through $RESMEM_PKG_DIR; a lock per result makes the second one
wait for the first one's build instead of repeating it: each DKMS build is
about a minute of a core the guests need).  The directory is removed at the
exit of the process that made it:

  debs()               make deb -> {"resmem-dkms": path, "resmem-tools": path}
  dkms_module(k)       `make dkms-install` into a throwaway DKMS tree for kernel k
  deb_dkms_module(k)   DKMS run on the source tree resmem-dkms ships (what the
                       package's postinst has DKMS build), for kernel k
  tools_tree()         resmem-tools unpacked (dpkg-deb -x) and its control
                       files (dpkg-deb -e) in <root>/DEBIAN
  build_id(ko)         the GNU build ID ld wrote into a module (hex)
"""
import atexit
import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile

from . import buildroot, kernels

REPO = kernels.REPO
ENV = "RESMEM_PKG_DIR"
_memo = {}
_tmp = None


def run(argv, **kw):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode:
        raise AssertionError(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stdout[-6000:]}")
    return r.stdout


def make(*args):
    return run(["make", "-s", "--no-print-directory", "-C", REPO, *args])


def run_for(k, argv):
    """run(), where a user of kernel k builds modules: the host, or the trixie
    build root for kernels made by a newer gcc (as DKMS on a trixie machine)."""
    r = buildroot.run_for(k, argv)
    if r.returncode:
        raise AssertionError(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stdout[-6000:]}")
    return r.stdout


def shared_dir():
    """The directory of this make test's results: the one the parent pytest
    passed down, else a new one (removed when this process exits)."""
    global _tmp
    if _tmp is None:
        inherited = os.environ.get(ENV)
        if inherited and os.path.isdir(inherited):
            _tmp = inherited
        else:
            _tmp = tempfile.mkdtemp(prefix="resmem-pkg-")
            atexit.register(shutil.rmtree, _tmp, True)
            os.environ[ENV] = _tmp
    return _tmp


def tmpdir(name):
    d = os.path.join(shared_dir(), name)
    os.makedirs(d, exist_ok=True)
    return d


def _once(key, fn):
    """fn() once per make test: in this process, or read from what the other
    pytest stored (JSON: paths and strings) after waiting for its lock."""
    if key not in _memo:
        name = "-".join(key) if isinstance(key, tuple) else key
        done = os.path.join(shared_dir(), f"{name}.json")
        with open(os.path.join(shared_dir(), f"{name}.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if os.path.exists(done):
                with open(done) as f:
                    _memo[key] = json.load(f)
            else:
                _memo[key] = fn()
                with open(done + ".tmp", "w") as f:
                    json.dump(_memo[key], f)
                os.replace(done + ".tmp", done)
    return _memo[key]


def version():
    return _once("version", lambda: make(
        "-f", "Makefile", "--eval=print-version:\n\t@echo $(VERSION)", "print-version").strip())


def dkms_build(k, tree, src_tree=None, make_source=True):
    """DKMS add/build/install for kernel k in the throwaway tree `tree`;
    returns the installed module (decompressed if the kernel compresses
    modules).  make_source: lay the source out with `make dkms-install`;
    otherwise src_tree already holds resmem-<version>/ (e.g. from the deb)."""
    kernels.fetch(k)
    dk, srcs, inst = (os.path.join(tree, d) for d in ("dkms", "src", "root/lib/modules"))
    src_tree = src_tree or srcs
    os.makedirs(os.path.join(inst, k.kernelrelease), exist_ok=True)
    os.makedirs(dk, exist_ok=True)
    os.makedirs(src_tree, exist_ok=True)
    args = (f"--dkmstree {dk} --sourcetree {src_tree} --installtree {inst} --no-depmod "
            f"-k {k.kernelrelease} -a {k.arch} --kernelsourcedir {kernels.headers(k)}")
    if make_source:
        run_for(k, ["make", "-s", "--no-print-directory", "-C", REPO, "dkms-install",
                    f"DKMS_SRCTREE={src_tree}", f"DKMS_ARGS={args}"])
    else:
        v = version()
        for step in ("add", "install"):
            if step == "add" and run_for(k, ["dkms", "status", "-m", "resmem", "-v", v,
                                             *args.split()]).strip():
                continue
            run_for(k, ["dkms", step, "-m", "resmem", "-v", v, *args.split()])
    d = os.path.join(inst, k.kernelrelease, "updates", "dkms")
    files = [f for f in os.listdir(d) if f.startswith("resmem.ko")]
    assert len(files) == 1, files
    ko = os.path.join(d, files[0])
    if ko.endswith(".xz"):
        plain = ko[:-3]
        with open(plain, "wb") as f:
            subprocess.run(["xz", "-dc", ko], stdout=f, check=True)
        ko = plain
    # depmod on the throwaway root sees it where DKMS put it
    run(["depmod", "-b", os.path.join(tree, "root"), k.kernelrelease])
    dep = open(os.path.join(inst, k.kernelrelease, "modules.dep")).read()
    assert "updates/dkms/resmem.ko" in dep, dep
    return ko


def debs():
    def build():
        make("deb")
        d = os.path.join(REPO, "build", "deb")
        out = {}
        for f in os.listdir(d):
            m = re.match(r"(resmem-(?:dkms|tools))_([^_]+)_(\w+)\.deb$", f)
            if m:
                out[m[1]] = os.path.join(d, f)
        assert set(out) == {"resmem-dkms", "resmem-tools"}, os.listdir(d)
        # keep private copies: build/deb is rebuilt by anyone's `make deb`
        keep = tmpdir("debs")
        for name, path in out.items():
            shutil.copy2(path, keep)
            out[name] = os.path.join(keep, os.path.basename(path))
        return out
    return _once("debs", build)


def dkms_module(k):
    return _once(("dkms", k.name), lambda: dkms_build(k, tmpdir(f"dkms-{k.name}")))


def deb_dkms_module(k):
    def build():
        tree = tmpdir(f"deb-dkms-{k.name}")
        x = os.path.join(tree, "x")
        run(["dpkg-deb", "-x", debs()["resmem-dkms"], x])
        return dkms_build(k, tree, src_tree=os.path.join(x, "usr/src"), make_source=False)
    return _once(("deb-dkms", k.name), build)


def tools_tree():
    def unpack():
        root = tmpdir("tools-root")
        run(["dpkg-deb", "-x", debs()["resmem-tools"], root])
        run(["dpkg-deb", "-e", debs()["resmem-tools"], os.path.join(root, "DEBIAN")])
        return root
    return _once("tools", unpack)


def build_id(ko):
    m = re.search(r"Build ID: ([0-9a-f]+)", run(["readelf", "-n", ko]))
    assert m, f"{ko} has no GNU build ID note"
    return m[1]
