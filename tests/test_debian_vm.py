"""A full Debian system in a VM plays the user's machine (issue 16).

The busybox guests of the other tests get a module the harness built on the
host.  Here everything happens as on a lab's machine: a trixie system made
by mmdebstrap (tests/harness/debianvm.py: systemd, udev, trixie's kernel
and its linux-headers, build-essential) booted with the standard
reservation (memmap=8G$4G on x86_64, a /reserved-memory node on arm64); an
unprivileged user in a copy of the working tree runs the README's
`make module`, loads it, and then `make test TARGETS=local` twice
(debianvm.proof_script):

 1. with a capture in the region holding unread records: a default run must
    skip every test that would write it and leave the capture as it was;
 2. naming the region (RESMEM_TEST_REGION): the core tier, which must pass.

The proof of each architecture starts in the background before the first
guest boots (plugin.pytest_collection_finish: the busybox guests keep one
core busy, the VM takes the other) and these tests, ordered last, read its
result.  The VM runs trixie's kernel, the matrix's 6.12 (debianvm.KERNEL),
so these tests belong to that target, and its standard-boot core tests run
only here, not again in a busybox guest.

Compiling under TCG costs 10+ minutes, so the user's build steps run first
in a chroot of the VM's own root (natively on x86_64, through qemu-user on
arm64): same compiler, headers and paths, and inside the VM kbuild finds
everything up to date.
"""
import json
import re

import pytest

from tests.harness import boots, debianvm
from tests.harness.plugin import debian_vm_proof, target_arch

pytestmark = [pytest.mark.debian_vm, pytest.mark.core]

SUMMARY = re.compile(r"local target \(([^,]+), (\w+)\): (\d+) passed, (\d+) skipped, (\d+) failed")


class Proof:
    def __init__(self, arch, res):
        self.arch = arch
        self.res = res
        self.out = res.get("output", "")
        self.sections = dict(re.findall(r"(?ms)^=== (.+?)\n(.*?)(?=^=== |\Z)", self.out))

    def where(self):
        return (f"--- output ---\n{self.out[-6000:]}\n"
                f"--- console ---\n{self.res.get('console', '')[-4000:]}")

    def value(self, key):
        m = re.search(rf"(?m)^{re.escape(key)}: (.*)$", self.out)
        assert m, f"no '{key}:' line in the VM's output\n{self.where()}"
        return m.group(1).strip()

    def summary(self, section):
        m = SUMMARY.search(self.sections.get(section, ""))
        assert m, f"no local-target summary line in the {section}\n{self.where()}"
        return m.group(1), m.group(2), *map(int, m.groups()[2:])


def junit_id(nodeid, target):
    """The JUnit name (classname::name) the local run in the VM gives the
    test @nodeid of @target: the target's id is "local" there."""
    path, *rest = nodeid.split("::")
    *classes, name = rest
    mod = path.removesuffix(".py").replace("/", ".")
    return ".".join([mod, *classes]) + "::" + name.replace(target, "local", 1)


@pytest.fixture
def proof(request, target):
    arch = target_arch(target)
    res = debian_vm_proof(request.config, arch)
    assert "error" not in res, f"the Debian VM proof ({arch}) did not run: {res['error']}"
    p = Proof(arch, res)
    assert res.get("status") is not None, \
        f"the VM ended (or timed out) before the command did\n{p.where()}"
    return p


def test_readme_build_loads_in_a_debian_vm(proof):
    """`make module` as the user, `sudo insmod`: the reservation is the
    region, a character device of its size at its address."""
    arch = proof.arch
    name = boots.STANDARD_REGION[arch]
    addr, size = boots.regions(arch, "standard")[0]
    kernel = proof.value("kernel")
    assert kernel == debianvm.kernel_for(arch).kernelrelease, proof.where()
    assert f"built /home/{debianvm.USER}/resmem/build/{kernel}/resmem.ko" in proof.out, proof.where()
    assert proof.value("node") == "character special file", proof.where()
    assert int(proof.value("size")) == size, proof.where()
    assert int(proof.value("phys"), 16) == addr, proof.where()
    assert int(proof.value("end")) == size, proof.where()
    print(f"Debian VM ({kernel}, {arch}): /dev/resmem/{name} {size >> 20} MiB at {addr:#x}; "
          f"make module {proof.value('make-module-seconds')} s; whole proof "
          f"{proof.res['wall_seconds']:.0f} s (image, build, {proof.res['boot_seconds']:.0f} s "
          f"to the command, {proof.res['command_seconds']:.0f} s in it)")


def test_default_local_run_leaves_a_capture_alone(proof):
    """A region holding a ring with unread records: the default local run
    skips every test (naming the region and how to proceed) and the ring's
    bytes, header and records are what they were; drain still gets them."""
    name = boots.STANDARD_REGION[proof.arch]
    _, _, passed, skipped, failed = proof.summary("default run")
    assert failed == 0, proof.where()
    assert proof.value("default-run-status") == "0", proof.where()
    guarded = sum(int(n) for n in re.findall(
        rf"(?m)^SKIPPED \[(\d+)\] .*these hold data: {name} \(byte 0x0 is ", proof.sections["default run"]))
    # every test the named run passes and that writes the region was held
    # off here: those that pass in both runs are the ones that do not
    named = proof.summary("named run")[2]
    assert guarded > 0 and passed + guarded >= named, \
        (f"{guarded} tests held off by the guard, {passed} passed by the default run, "
         f"{named} by the named run\n{proof.where()}")
    before, after = proof.sections["capture before"], proof.sections["capture after"]
    digest, ring = (before.split("\n", 1) + [""])[:2]
    assert re.fullmatch(r"[0-9a-f]{64}", digest), proof.where()
    ring = json.loads(ring)
    assert (ring["cons_seq"], ring["head_seq"]) == (0, debianvm.PROOF_RECORDS), proof.where()
    assert ring["unread"] >= debianvm.PROOF_RECORDS * 4096, proof.where()
    assert after == before, f"the default run changed the capture\n{proof.where()}"
    assert int(proof.value("drained-bytes")) == debianvm.PROOF_RECORDS * 4096, proof.where()


def test_local_target_passes_in_a_debian_vm(request, target, proof):
    """The core tier, run by the user naming the region: nothing fails, and
    every core test the suite gave up on this kernel's busybox guest because
    the VM's boot is its boot (plugin._runs_in_debian_vm) passed in the VM;
    what needs another boot is skipped, with the reason."""
    kernel, arch, passed, skipped, failed = proof.summary("named run")
    assert failed == 0, proof.where()
    assert proof.value("named-run-status") == "0", proof.where()
    assert kernel == debianvm.kernel_for(proof.arch).kernelrelease and arch == proof.arch
    results = dict(reversed(line.split(" ", 1)) for line in
                   proof.sections.get("results", "").splitlines() if " " in line)
    assert sum(v == "passed" for v in results.values()) == passed, \
        f"the JUnit results and the summary disagree\n{proof.where()}"
    given = getattr(request.config, "_resmem_vm_given", {}).get(target, [])
    assert given, (f"no core test of {target} was given to the VM: collect the suite with it "
                   "(pytest tests -m debian_vm, as make test-debian-vm does)")
    missed = [f"{results.get(junit_id(n, target), 'not run')}: {n}" for n in given
              if results.get(junit_id(n, target)) != "passed"]
    assert not missed, (f"{len(missed)} of the {len(given)} core tests left to the VM did not pass "
                        "there:\n  " + "\n  ".join(missed) + f"\n{proof.where()}")
    print(f"local target in a Debian VM ({kernel}, {arch}): {passed} passed, {skipped} skipped, "
          f"{failed} failed ({len(given)} of them given up by the busybox guest of {target})")
