"""Host-side unit tests of libresmem and the resmem CLI (no kernel needed)."""
import os
import re
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_userspace_unit_tests(tmp_path):
    r = subprocess.run(["make", "-s", "-C", os.path.join(REPO, "userspace"), "check",
                        f"OUT={tmp_path}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    m = re.search(r"^(\d+) passed, (\d+) failed", r.stdout, re.M)
    assert m, r.stdout[-4000:]
    assert r.returncode == 0 and int(m[2]) == 0 and int(m[1]) > 0, r.stdout[-4000:]
