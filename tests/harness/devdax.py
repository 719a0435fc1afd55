"""device-dax in an x86_64 guest: a legacy persistent-memory range
(`memmap=SIZE!ADDR`, e820 type 12) turned into /dev/dax0.0 with Debian's ndctl.

    files = devdax.extra_files(k)        # Guest(extra_files=files)
    devdax.setup(g)                      # -> "/dev/dax0.0"

Packs the host's ndctl/daxctl with their shared libraries (hostbin) and the
kernel modules nd_e820, nd_pmem, dax_pmem, device_dax (+ what `modinfo`
says they depend on) from the Debian image; 6.12 ships them as .ko.xz,
which are decompressed on the host into the cache (busybox modprobe loads
plain .ko).  The guest's init runs depmod, so modprobe finds them.
"""
import lzma
import os

from . import hostbin, kernels

MODULES = ("nd_e820", "nd_pmem", "dax_pmem", "device_dax")
DEVICE = "/dev/dax0.0"


def _builtin(k, name):
    try:
        with open(os.path.join(kernels.modules(k), "modules.builtin")) as f:
            return any(os.path.basename(l.strip()) in (name + ".ko",) for l in f)
    except FileNotFoundError:
        return False


def _find(k, name):
    base = os.path.join(kernels.modules(k), "kernel")
    for root, _, names in os.walk(base):
        for n in names:
            # modinfo's depends and the files spell '-' and '_' either way
            if n.replace("-", "_") in (name + ".ko", name + ".ko.xz"):
                return os.path.join(root, n)
    raise FileNotFoundError(f"{name}.ko(.xz) not in {base}: is it built in? check boot/config-*")


def _depends(path):
    import subprocess
    out = subprocess.run(["modinfo", "-F", "depends", path], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip()
    return [d for d in out.split(",") if d]


def _plain(k, path):
    """Host path of an uncompressed copy of a module file."""
    if not path.endswith(".xz"):
        return path
    out = os.path.join(kernels.CACHE, "modules-plain", k.kernelrelease,
                       os.path.relpath(path[:-3], kernels.modules(k)))
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with lzma.open(path) as f:
            data = f.read()
        with open(out + ".tmp", "wb") as f:
            f.write(data)
        os.rename(out + ".tmp", out)
    return out


def module_files(k, names=MODULES):
    """{guest path: host path} for modules `names` and their dependencies."""
    files, todo, seen = {}, list(names), set()
    while todo:
        name = todo.pop().replace("-", "_")
        if name in seen:
            continue
        seen.add(name)
        if _builtin(k, name):
            continue
        path = _find(k, name)
        rel = os.path.relpath(path, kernels.modules(k))
        if rel.endswith(".xz"):
            rel = rel[:-3]
        files[f"/lib/modules/{k.kernelrelease}/{rel}"] = _plain(k, path)
        todo += _depends(path)
    return files


def extra_files(k, modules=MODULES):
    if k.arch != "x86_64":
        raise ValueError("device-dax on a memmap=! range is x86_64 only")
    files = hostbin.closure({"/usr/bin/ndctl": "/usr/bin/ndctl",
                             "/usr/bin/daxctl": "/usr/bin/daxctl"})
    files.update(module_files(k, modules))
    return files


def setup(g, align="2M"):
    """Loads the modules and reconfigures the e820 pmem namespace as devdax
    with `align` pages; returns the device path and ndctl's JSON."""
    g.run("modprobe -a nd_e820 nd_pmem dax_pmem device_dax")
    r = g.run("n=0; while [ ! -e /sys/bus/nd/devices/namespace0.0 ] && [ $n -lt 50 ]; do "
              "sleep 0.1; n=$((n+1)); done; "
              f"ndctl create-namespace --force --reconfig=namespace0.0 --mode=devdax --align={align}"
              f" && n=0; while [ ! -e {DEVICE} ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done;"
              f" test -c {DEVICE}", timeout=300)
    return DEVICE, r.out
