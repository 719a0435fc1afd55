"""The host's own tests, run beside the guests.

The guest tests keep one core busy (one QEMU at a time, TCG); the tests that
use no guest (lint, unit tests, packaging, the docs' examples, the host
tools: about 10 minutes, mostly compilers) need none of it.  make test
therefore runs them in a second pytest, started once the session's builds
are done, and checks its result in one test at the end
(tests/test_beside.py): the suite's time is the longer of the two instead of
their sum.

The child is the same pytest on the same tree and targets, told through
$RESMEM_BESIDE which node ids are its own; it builds nothing (the parent
built for every kernel before starting it), writes JUnit XML and its whole
output under build/beside/, and never starts a child or a Debian VM itself.
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

from . import build, packages

DIR = os.path.join(build.BUILD, "beside")
ENV = "RESMEM_BESIDE"
# the whole host side took 10-12 minutes alone; on a loaded machine, more
TIMEOUT = 60 * 60


def take_child_ids():
    """The node ids this pytest runs as the child (None: it is not one).
    The variable is removed: a pytest that a test starts is not a child."""
    path = os.environ.pop(ENV, None)
    if not path:
        return None
    with open(path) as f:
        return set(f.read().split("\n")) - {""}


def uses_guest(item):
    return "guest" in item.fixturenames


def start(config, items):
    """Starts the child for @items; returns (Popen, paths)."""
    os.makedirs(DIR, exist_ok=True)
    ids = os.path.join(DIR, "ids.txt")
    with open(ids, "w") as f:
        f.write("".join(it.nodeid + "\n" for it in items))
    paths = {"xml": os.path.join(DIR, "report.xml"), "log": os.path.join(DIR, "log.txt")}
    for p in paths.values():
        if os.path.exists(p):
            os.unlink(p)
    argv = [sys.executable, "-m", "pytest", "tests", "-p", "no:cacheprovider", "-q", "-rfE",
            "--durations=10", f"--targets={config.getoption('--targets')}", "--no-debian-vm",
            f"--junitxml={paths['xml']}"]
    log = open(paths["log"], "w")
    # the packaged-module builds are shared with the child (packages.py)
    env = dict(os.environ, **{ENV: ids, packages.ENV: packages.shared_dir()})
    p = subprocess.Popen(argv, cwd=build.REPO, env=env, stdin=subprocess.DEVNULL,
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    return p, paths


def wait(started, timeout=TIMEOUT):
    """The child's outcome: (returncode, counts, failures, log tail).
    counts: tests, failures, errors, skipped from its JUnit XML; failures:
    (node, message) of each failed test."""
    p, paths = started
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        rc = p.wait()
    with open(paths["log"], errors="replace") as f:
        tail = f.read()[-6000:]
    counts, failed = {}, []
    try:
        root = ET.parse(paths["xml"]).getroot()
    except (OSError, ET.ParseError):
        return rc, counts, failed, tail
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    for case in suite.iter("testcase"):
        for bad in list(case.findall("failure")) + list(case.findall("error")):
            node = f"{case.get('classname')}::{case.get('name')}"
            failed.append((node, (bad.get("message") or "")[:300]))
    return rc, counts, failed, tail


def stop(started):
    p, _ = started
    if p.poll() is None:
        os.killpg(p.pid, 9)
        p.wait()
