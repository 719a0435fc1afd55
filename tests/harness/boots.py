"""Named boot configurations shared by the tests, per architecture.

`@pytest.mark.guest(boot="standard")` boots the configuration below for the
test's target; `regions(arch, "standard")` says where its reservations are.
"""
G = 1 << 30

BOOTS = {
    # One 8 GiB memmap= reservation at 4 GiB on x86_64; on arm64 (RAM from
    # 1 GiB) a 1 GiB no-map /reserved-memory node above 4 GiB, which like
    # memmap= takes the range out of the kernel's linear map.
    "standard": {
        "x86_64": dict(mem="13G", cmdline="memmap=8G$4G"),
        "aarch64": dict(mem="6G", reservations=[
            dict(name="resmem", addr=0x140000000, size=1 * G, no_map=True,
                 compatible="resmem,region")]),
    },
}

# (physical address, size) of each reserved range, in address order.
REGIONS = {
    "standard": {
        "x86_64": [(4 * G, 8 * G)],
        "aarch64": [(0x140000000, 1 * G)],
    },
}


def resolve(arch, kwargs):
    kwargs = dict(kwargs)
    name = kwargs.pop("boot", None)
    if name is None:
        return kwargs
    base = dict(BOOTS[name][arch])
    base.update(kwargs)
    return base


def regions(arch, name):
    return REGIONS[name][arch]
