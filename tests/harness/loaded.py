"""resmem loaded in a guest: the `loaded` fixture (through tests/conftest.py)
and the helper tests call when they load it themselves."""
import pytest


def load_resmem(g):
    """modprobe resmem (default options) unless it is loaded already."""
    g.run("lsmod | grep -q '^resmem ' || modprobe resmem")


@pytest.fixture
def loaded(guest):
    """The guest with resmem loaded (and unloaded afterwards)."""
    load_resmem(guest)
    yield guest
    guest.run("rmmod resmem", check=False)
