"""pytest plugin: targets, shared guest boots, kernel-problem checks.

Tests ask for the `guest` fixture and describe the boot they need with
    @pytest.mark.guest(mem="13G", cmdline="memmap=8G$4G")            # x86_64
    @pytest.mark.guest(mem="6G", reservations=[dict(...)])           # arm64
`extra_files_from="fixture"` adds the {guest path: host path} files that
fixture returns for the test's target (built during the session, e.g. a
DKMS-built module) to the boot's extra_files.
A guest is shared by consecutive tests that ask for the same boot (tests
are ordered so that they are consecutive); `fresh=True` gives a test its
own boot (for tests that reboot or crash the guest).  `@pytest.mark.archs
("x86_64")` limits a test to targets of those architectures, and
`@pytest.mark.once` to the first of them, for what does not depend on the
kernel (the test is then not generated for the others, rather than skipped).
`@pytest.mark.core` (or `pytestmark = pytest.mark.core` in a module) puts a
test in the core tier, which every kernel runs; kernels of tier "core" in
the matrix run only those (the test is not generated for them otherwise).

Before any test runs, the module, test modules, tools and helpers are built
for every kernel a collected test runs on; a failed build ends the run at once with the
compiler's output (a broken tree fails in the time of one build per kernel).
A boot that does not reach the agent is retried once (TCG hiccups), and so
is a warm reboot that dies of QEMU's TCG text-patching oops (Guest.reset); if the
retry fails too, every later test of that kernel fails at once with the
cached reason instead of waiting for its own timeout.

Every test that used a guest fails if the guest's console shows a kernel
WARN, BUG, oops, "Bad page map" or panic during the test; the console log
is attached to the report of every failed test.
"""
import json
import os
import time

import pytest

from . import beside, boots, build, debianvm, local, matrix, qemu
from .local import LocalMachine


def pytest_addoption(parser):
    parser.addoption("--targets", default=",".join(k.name for k in matrix.MATRIX),
                     help="comma-separated: " + ", ".join(k.name for k in matrix.MATRIX) + ", local")
    parser.addoption("--debian-vm", default=",".join(debianvm.KERNEL), metavar="ARCHS",
                     help="comma-separated architectures whose full-Debian-VM proof "
                     "(tests/test_debian_vm.py) runs, in the background beside the other tests "
                     "(default: " + ",".join(debianvm.KERNEL) + ")")
    parser.addoption("--no-debian-vm", action="store_true", help="no Debian VM proof at all")
    parser.addoption("--no-beside", action="store_true",
                     help="run the host's own tests in this pytest, not in a second one beside "
                     "the guests (tests/harness/beside.py)")
    parser.addoption("--destructive", action="store_true",
                     help="local target: let tests write regions that hold data")


def pytest_configure(config):
    config.addinivalue_line("markers", "guest(**boot): the boot this test needs (qemu_only=why: "
                            "one no machine can be booted as, skipped by the local target)")
    config.addinivalue_line("markers", "archs(*names): only targets of these architectures")
    config.addinivalue_line("markers", "once: only the first selected target (of those archs): "
                            "for what does not depend on the kernel")
    config.addinivalue_line("markers", "core: runs on every kernel, including the matrix's "
                            "core-tier kernels")
    config.addinivalue_line("markers", "debian_vm: checks the full-Debian-VM proof of its "
                            "target's architecture (debianvm.KERNEL: the kernels the VMs run)")
    config.addinivalue_line("markers", "beside: the check of the host tests run beside the "
                            "guests (tests/harness/beside.py)")
    config.addinivalue_line("markers", "once_per_arch: runs on the newest full-tier kernel "
                            "of each architecture selected (what it checks does not differ "
                            "between kernels)")
    config.addinivalue_line("markers", "full: this case of a core test (a pytest.param mark) "
                            "runs on full-tier kernels only")
    config._resmem_pool = Pool()
    config._resmem_beside_ids = beside.take_child_ids()
    config._resmem_times = {}    # target -> seconds spent in its tests (incl. boots)
    config._resmem_file_times = {}    # (test file, target or "host") -> seconds


def _targets(config):
    return [t.strip() for t in config.getoption("--targets").split(",") if t.strip()]


def target_arch(name):
    if name == "local":
        import platform
        return platform.machine()
    return matrix.by_name(name).arch


def target_tier(name):
    return "full" if name == "local" else matrix.by_name(name).tier


def pytest_generate_tests(metafunc):
    if "target" not in metafunc.fixturenames:
        return
    names = _targets(metafunc.config)
    m = metafunc.definition.get_closest_marker("archs")
    if m:
        names = [n for n in names if target_arch(n) in m.args]
    if metafunc.definition.get_closest_marker("once"):
        names = names[:1]
    if metafunc.definition.get_closest_marker("once_per_arch"):
        newest = {}
        for n in names:
            if n != "local" and target_tier(n) == "full":
                a, v = target_arch(n), matrix.by_name(n).version
                if a not in newest or v > matrix.by_name(newest[a]).version:
                    newest[a] = n
        names = [n for n in names if n == "local" or n in newest.values()]
    if metafunc.definition.get_closest_marker("debian_vm"):
        # (not on local: the VM plays a local machine, inside one it has no meaning)
        archs = metafunc.config.getoption("--debian-vm").split(",")
        names = [n for n in names if n in [debianvm.KERNEL.get(a) for a in archs]]
    elif not metafunc.definition.get_closest_marker("core"):
        names = [n for n in names if target_tier(n) == "full"]
    metafunc.parametrize("target", names, scope="function")


def _runs_in_debian_vm(item):
    """The local run inside the Debian VM runs this test (its boot is the
    VM's as booted, local.boot_mismatch)."""
    if "guest" not in item.fixturenames:
        return False
    m = item.get_closest_marker("guest")
    kw = {k: v for k, v in (m.kwargs if m else {}).items() if k not in ("fresh", "extra_files_from")}
    arch = target_arch(item.callspec.params["target"])
    return local.boot_mismatch(boots.resolve(arch, kw), debianvm.facts(arch)) is None


def _boot_key(item):
    m = item.get_closest_marker("guest")
    if not m:
        return ""
    return json.dumps(m.kwargs, sort_keys=True, default=str)


def pytest_collection_modifyitems(session, config, items):
    # A test with no target left (its archs or tier not selected) is not
    # collected at all, rather than reported as skipped.
    empty = [it for it in items if any(m.name == "skip" and "empty parameter set" in
                                       str(m.kwargs.get("reason", "")) for m in it.iter_markers())]
    vm = [it for it in items if it.get_closest_marker("debian_vm")]
    if config.getoption("--no-debian-vm"):
        empty += vm
    else:
        # the Debian VM of a kernel runs its standard-boot core tests (as
        # the local target, on a full system): not again in a busybox guest
        vm_targets = {it.callspec.params.get("target") for it in vm if hasattr(it, "callspec")}
        vm_targets &= set(debianvm.KERNEL.values())
        given = [it for it in items if it not in vm and hasattr(it, "callspec")
                 and it.callspec.params.get("target") in vm_targets
                 and it.get_closest_marker("core") and _runs_in_debian_vm(it)]
        empty += given
        # test_debian_vm.py checks that each of them passed in the VM
        config._resmem_vm_given = {}
        for it in given:
            config._resmem_vm_given.setdefault(it.callspec.params["target"], []).append(it.nodeid)
    # cases of core tests marked full: not on the core-tier kernels
    empty += [it for it in items if it.get_closest_marker("full") and hasattr(it, "callspec")
              and target_tier(it.callspec.params.get("target", "local")) != "full"]
    if _targets(config) == ["local"]:
        # a run on this machine tests the machine: the source tree's own
        # checks (lint, packaging, unit tests) are make test's job
        empty += [it for it in items if "target" not in getattr(getattr(it, "callspec", None),
                                                                  "params", {})]
    own = config._resmem_beside_ids
    if own is not None:
        # the second pytest: only the host tests the first one gave it
        empty += [it for it in items if it.nodeid not in own]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [it for it in items if it not in empty]
    order = {n: i for i, n in enumerate(_targets(config))}

    def key(pair):
        i, item = pair
        cs = getattr(item, "callspec", None)
        t = cs.params.get("target") if cs else None
        m = item.get_closest_marker("guest")
        fresh = bool(m and m.kwargs.get("fresh"))
        # the VM proofs run in the background from the start: checked last
        last = (bool(item.get_closest_marker("beside")), bool(item.get_closest_marker("debian_vm")))
        return (last, order.get(t, -1), fresh, _boot_key(item) if not fresh else "", i)
    items[:] = [it for _, it in sorted(enumerate(items), key=key)]


def pytest_collection_finish(session):
    """Build for every kernel a collected test runs on, first: a broken tree
    fails here, once, with the compiler's output, before any guest boots."""
    if session.config.option.collectonly or session.config._resmem_beside_ids is not None:
        return
    # the Debian VM proofs first: they take the core the guests leave idle
    archs = []
    for item in session.items:
        if item.get_closest_marker("debian_vm") and hasattr(item, "callspec"):
            t = item.callspec.params.get("target")
            if t != "local" and target_arch(t) not in archs:
                archs.append(target_arch(t))
    session.config._resmem_debianvm = debianvm.start_proofs(archs) if archs else {}
    used = set()
    for item in session.items:
        cs = getattr(item, "callspec", None)
        if cs and "target" in cs.params:
            used.add(cs.params["target"])
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    for name in _targets(session.config):
        if name not in used:
            continue
        k = matrix.by_name(name)
        t0 = time.monotonic()
        try:
            build.build_all(k)
        except build.BuildFailed as e:
            pytest.exit(f"build for {name} failed; no test can run on a broken build:\n{e}",
                        returncode=1)
        if tr:
            tr.write_line(f"resmem: built for {name} ({k.kernelrelease}) in "
                          f"{time.monotonic() - t0:.0f} s")
    _split_host_tests(session, tr)


def _split_host_tests(session, tr):
    """The host's own tests go to a second pytest beside the guests
    (beside.py), checked by tests/test_beside.py at the end; without guest
    tests, or with --no-beside, they run here and that check is dropped."""
    config = session.config
    check = [it for it in session.items if it.get_closest_marker("beside")]
    host = [it for it in session.items if not beside.uses_guest(it) and it not in check
            and not it.get_closest_marker("debian_vm")]
    split = (check and host and len(host) < len(session.items) - len(check)
             and not config.getoption("--no-beside") and _targets(config) != ["local"])
    if not split:
        if check:
            config.hook.pytest_deselected(items=check)
            session.items[:] = [it for it in session.items if it not in check]
        return
    config._resmem_beside = beside.start(config, host)
    config._resmem_beside_n = len(host)
    session.items[:] = [it for it in session.items if it not in host]
    if tr:
        tr.write_line(f"resmem: {len(host)} host tests run beside the guests, in a second pytest "
                      f"(output: {beside.DIR}/log.txt)")


class Pool:
    """Keeps the one running guest and hands it to tests that want the same boot."""

    def __init__(self):
        self.key = None
        self.guest = None
        self.boot_times = []    # (target, seconds) of every boot
        self.broken = {}        # target -> why its boots fail (after a retry)
        self.retried = []       # (target, why) of boots that needed a second try
        self.local = None       # the LocalMachine of --targets=local, made once

    def _start(self, target, boot):
        if target in self.broken:
            raise qemu.GuestError(f"{target}: not booted again, its boots failed earlier "
                                  f"(first boot and one retry):\n{self.broken[target]}")
        for attempt in (1, 2):
            g = qemu.Guest(matrix.by_name(target), **boot)
            try:
                g.start()
                return g
            except (qemu.GuestError, OSError) as e:
                why = f"{e}\n{qemu.log_tail(getattr(g, 'final_console', '') or '', 60)}"
                if attempt == 2:
                    self.broken[target] = why
                    raise
                self.retried.append((target, why))

    def get(self, target, boot):
        if target == "local":
            if self.local is None:
                self.local = LocalMachine(matrix.by_name("local"))
            return self.local
        boot = dict(boot)
        fresh = boot.pop("fresh", False)
        boot.pop("qemu_only", None)     # (local.boot_mismatch's)
        key = (target, json.dumps(boot, sort_keys=True, default=str))
        if not fresh and self.guest is not None and self.key == key and self.guest.alive():
            return self.guest
        self.drop()
        g = self._start(target, boot)
        self.boot_times.append((target, g.boot_seconds))
        if fresh:
            return g
        self.key, self.guest = key, g
        return g

    def release(self, g, broken):
        if g is not self.guest or broken:
            g.stop()
            if g is self.guest:
                self.key = self.guest = None

    def drop(self):
        if self.guest is not None:
            self.guest.stop()
        self.key = self.guest = None

    def finish(self):
        """The end of the run: no guest left, the local machine as it was found."""
        self.drop()
        if self.local is not None:
            self.local.restore()


LOCAL_REPORT = os.path.join(build.BUILD, "local", "report.txt")


def pytest_terminal_summary(terminalreporter, config):
    if "local" in _targets(config):
        summary = local.write_report(terminalreporter.stats, LOCAL_REPORT)
        terminalreporter.section("local target")
        terminalreporter.write_line(summary)
        terminalreporter.write_line(f"report for a bug report: {LOCAL_REPORT}"
                                    + (" and report.xml (JUnit) beside it"
                                       if config.getoption("xmlpath", None) else ""))
    pool = getattr(config, "_resmem_pool", None)
    times = getattr(config, "_resmem_times", {})
    if times:
        terminalreporter.section("time per kernel")
        for t, secs in times.items():
            b = build.build_seconds.get(t)
            extra = f" (+ {b:.0f} s build)" if b is not None else ""
            tier = target_tier(t) if t in [k.name for k in matrix.MATRIX] else ""
            terminalreporter.write_line(f"{t}: {secs / 60:.1f} min in tests{extra}"
                                        + (f", tier {tier}" if tier else ""))
    per_file = getattr(config, "_resmem_file_times", {})
    if sum(per_file.values()) > 300:
        # where the suite's time goes, to keep it inside its budget
        terminalreporter.section("costliest test files")
        for (f, t), secs in sorted(per_file.items(), key=lambda kv: -kv[1])[:20]:
            terminalreporter.write_line(f"{secs / 60:5.1f} min  {f} [{t}]")
    if not pool or not pool.boot_times:
        return
    terminalreporter.section("guest boots")
    by = {}
    for t, s in pool.boot_times:
        by.setdefault(t, []).append(s)
    for t, times in by.items():
        terminalreporter.write_line(f"{t}: {len(times)} boots, slowest {max(times):.1f} s, "
                                    f"median {sorted(times)[len(times) // 2]:.1f} s (to the agent's READY)")
    for t, why in pool.retried:
        lines = why.splitlines()
        prob = next((l for l in lines if qemu.PROBLEM.search(l)), "")
        terminalreporter.write_line(f"{t}: a boot was retried: {lines[0][:200]}"
                                    + (f"; first kernel problem: {prob.strip()[:200]}" if prob else ""))
    for t, line in qemu.RETRIED_REBOOTS:
        terminalreporter.write_line(f"{t}: a boot or warm reboot was booted again: it died before the agent "
                                    f"with QEMU's TCG text-patching oops: {line[:200]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    cs = getattr(item, "callspec", None)
    t = cs.params.get("target") if cs else None
    t0 = time.monotonic()
    yield
    secs = time.monotonic() - t0
    if t:
        times = item.config._resmem_times
        times[t] = times.get(t, 0.0) + secs
    per_file = item.config._resmem_file_times
    key = (item.location[0], t or "host")
    per_file[key] = per_file.get(key, 0.0) + secs


def debian_vm_proof(config, arch):
    """The result of the arch's Debian VM proof (debianvm.proof), started by
    pytest_collection_finish (or now, when the test runs alone)."""
    started = getattr(config, "_resmem_debianvm", {})
    done = config.__dict__.setdefault("_resmem_debianvm_done", {})
    if arch not in done:
        done[arch] = debianvm.wait_proof(started.get(arch) or debianvm.start_proofs([arch])[arch])
    return done[arch]


def pytest_unconfigure(config):
    if getattr(config, "_resmem_beside", None):
        beside.stop(config._resmem_beside)
    for p in {p for p, _ in getattr(config, "_resmem_debianvm", {}).values()}:
        if p.poll() is None:    # the run was cut short: no VM outlives it
            os.killpg(p.pid, 9)
            p.wait()
    pool = getattr(config, "_resmem_pool", None)
    if pool:
        pool.finish()


@pytest.fixture
def guest(request, target):
    """A booted guest (or the local machine) configured per @pytest.mark.guest."""
    m = request.node.get_closest_marker("guest")
    kwargs = dict(m.kwargs) if m else {}
    extra_from = kwargs.pop("extra_files_from", None)
    boot = boots.resolve(target_arch(target), kwargs)
    if extra_from and target != "local":
        # files that exist only once the session built them (per target)
        boot["extra_files"] = {**boot.get("extra_files", {}), **request.getfixturevalue(extra_from)}
    pool = request.config._resmem_pool
    if target == "local":
        why = local.boot_mismatch(boot)
        if why:
            pytest.skip(f"this machine is not booted as the test needs: {why}")
    g = pool.get(target, boot)
    if target == "local":
        named = [n for n in os.environ.get("RESMEM_TEST_REGION", "").split(",") if n]
        why = g.guard(request.config.getoption("--destructive"), named)
        if why:
            pytest.skip(why)
    request.node._resmem_guest = g
    if target == "local":
        g.witnesses = set()
    since = g.mark()
    try:
        yield g
    finally:
        alive = g.alive()
        if alive and hasattr(g, "console_sync"):
            try:
                g.console_sync()
            except Exception:
                pass
        alive = g.alive()
        probs = g.problems(since)
        if not alive and not probs:
            probs = ["the guest stopped running"]
        request.node._resmem_console = g.console()
        pool.release(g, broken=bool(probs))
    call = getattr(request.node, "_resmem_rep_call", None)
    if probs and not (call and call.failed):   # a failed test already reports it
        pytest.fail("kernel problems in the guest log during this test:\n" + "\n".join(probs),
                    pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"_resmem_rep_{rep.when}", rep)
    g = getattr(item, "_resmem_guest", None)
    if rep.when == "call" and getattr(g, "local", False) and g.witnesses:
        # in the report and the JUnit XML: what stood in for the host's pmemsave
        prop = ("witness", ", ".join(sorted(g.witnesses)))
        item.user_properties.append(prop)
        rep.user_properties.append(prop)
    if rep.failed:
        g = getattr(item, "_resmem_guest", None)
        log = getattr(item, "_resmem_console", None)
        if log is None and g is not None:
            try:
                log = g.console()
            except Exception:
                log = None
        if log:
            rep.sections.append(("guest console", qemu.log_tail(log, 400)))
