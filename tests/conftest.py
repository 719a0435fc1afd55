# The harness is a pytest plugin (tests/harness/plugin.py), loaded by pytest.ini.
# Tests import it as `tests.harness`, so run pytest from the repository root.
