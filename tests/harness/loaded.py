"""resmem loaded in a guest: the `loaded` fixture (through tests/conftest.py)
and the helper tests call when they load it themselves."""
import pytest


def load_resmem(g, pages=None):
    """modprobe resmem unless it is loaded already: with its defaults, or
    with pages=0/1 when @pages is given (reloaded if it has the other
    setting: boots are shared between tests)."""
    have = g.run("cat /sys/module/resmem/parameters/pages 2>/dev/null", check=False).out.strip()
    if have and (pages is None or have == "YN"[not pages]):
        return
    opt = "" if pages is None else f" pages={int(pages)}"
    g.run(f"rmmod resmem 2>/dev/null; modprobe resmem{opt}", timeout=300)


@pytest.fixture
def loaded(guest):
    """The guest with resmem loaded (and unloaded afterwards)."""
    load_resmem(guest)
    yield guest
    guest.run("rmmod resmem", check=False)
