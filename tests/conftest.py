# The harness is a pytest plugin (tests/harness/plugin.py), loaded by pytest.ini.
# Tests import it as `tests.harness`, so run pytest from the repository root.
#
# Fixtures several test files use live in tests/harness, one module per job;
# naming them here makes pytest offer them to every test file.
from tests.harness.hostbuild import host_resmem  # noqa: F401
from tests.harness.loaded import loaded  # noqa: F401
from tests.harness.mapcost import walker  # noqa: F401
