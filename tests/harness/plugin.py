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

Every test that used a guest fails if the guest's console shows a kernel
WARN, BUG, oops, "Bad page map" or panic during the test; the console log
is attached to the report of every failed test.
"""
import json

import pytest

from . import boots, matrix, qemu
from .local import LocalMachine


def pytest_addoption(parser):
    parser.addoption("--targets", default=",".join(k.name for k in matrix.MATRIX),
                     help="comma-separated: " + ", ".join(k.name for k in matrix.MATRIX) + ", local")


def pytest_configure(config):
    config.addinivalue_line("markers", "guest(**boot): the boot this test needs")
    config.addinivalue_line("markers", "archs(*names): only targets of these architectures")
    config.addinivalue_line("markers", "once: only the first selected target (of those archs): "
                            "for what does not depend on the kernel")
    config._resmem_pool = Pool()


def _targets(config):
    return [t.strip() for t in config.getoption("--targets").split(",") if t.strip()]


def target_arch(name):
    if name == "local":
        import platform
        return platform.machine()
    return matrix.by_name(name).arch


def pytest_generate_tests(metafunc):
    if "target" not in metafunc.fixturenames:
        return
    names = _targets(metafunc.config)
    m = metafunc.definition.get_closest_marker("archs")
    if m:
        names = [n for n in names if target_arch(n) in m.args]
    if metafunc.definition.get_closest_marker("once"):
        names = names[:1]
    metafunc.parametrize("target", names, scope="function")


def _boot_key(item):
    m = item.get_closest_marker("guest")
    if not m:
        return ""
    return json.dumps(m.kwargs, sort_keys=True, default=str)


def pytest_collection_modifyitems(session, config, items):
    order = {n: i for i, n in enumerate(_targets(config))}

    def key(pair):
        i, item = pair
        cs = getattr(item, "callspec", None)
        t = cs.params.get("target") if cs else None
        m = item.get_closest_marker("guest")
        fresh = bool(m and m.kwargs.get("fresh"))
        return (order.get(t, -1), fresh, _boot_key(item) if not fresh else "", i)
    items[:] = [it for _, it in sorted(enumerate(items), key=key)]


class Pool:
    """Keeps the one running guest and hands it to tests that want the same boot."""

    def __init__(self):
        self.key = None
        self.guest = None
        self.boot_times = []    # (target, seconds) of every boot

    def get(self, target, boot):
        if target == "local":
            return LocalMachine()
        boot = dict(boot)
        fresh = boot.pop("fresh", False)
        key = (target, json.dumps(boot, sort_keys=True, default=str))
        if not fresh and self.guest is not None and self.key == key and self.guest.alive():
            return self.guest
        self.drop()
        g = qemu.Guest(matrix.by_name(target), **boot)
        g.start()
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


def pytest_terminal_summary(terminalreporter, config):
    pool = getattr(config, "_resmem_pool", None)
    if not pool or not pool.boot_times:
        return
    terminalreporter.section("guest boots")
    by = {}
    for t, s in pool.boot_times:
        by.setdefault(t, []).append(s)
    for t, times in by.items():
        terminalreporter.write_line(f"{t}: {len(times)} boots, slowest {max(times):.1f} s, "
                                    f"median {sorted(times)[len(times) // 2]:.1f} s (to the agent's READY)")


def pytest_unconfigure(config):
    pool = getattr(config, "_resmem_pool", None)
    if pool:
        pool.drop()


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
    g = pool.get(target, boot)
    request.node._resmem_guest = g
    since = g.mark()
    try:
        yield g
    finally:
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
