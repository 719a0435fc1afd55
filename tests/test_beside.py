"""The host's own tests, run by a second pytest beside the guests
(tests/harness/beside.py): this test waits for it and fails with each of
its failures.  Its full output: build/beside/log.txt; JUnit: report.xml."""
import pytest

from tests.harness import beside

pytestmark = pytest.mark.beside


def test_host_tests_beside_the_guests(request):
    started = getattr(request.config, "_resmem_beside", None)
    if started is None:
        pytest.skip("the host tests ran in this session itself (no guest test was selected, "
                    "or --no-beside)")
    rc, counts, failed, tail = beside.wait(started)
    assert counts, f"the host tests left no report (status {rc}):\n{tail}"
    lines = "\n".join(f"  {node}: {msg}" for node, msg in failed)
    assert rc == 0 and not failed, (f"the host tests beside the guests: status {rc}, "
                                    f"{counts}\n{lines}\n--- output (build/beside/log.txt) ---\n{tail}")
    assert counts["tests"] == request.config._resmem_beside_n, \
        f"the host tests: {request.config._resmem_beside_n} given to the second pytest, {counts} ran"
    ran = counts["tests"] - counts["skipped"]
    print(f"host tests beside the guests: {ran} passed, {counts['skipped']} skipped")
