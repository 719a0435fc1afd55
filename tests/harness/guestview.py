"""What a guest shows of its memory: /proc/iomem and resmem's sysfs."""
import re


def iomem(g):
    """[(start, end_inclusive, name, depth)] from the guest's /proc/iomem."""
    out = []
    for line in g.run("cat /proc/iomem").out.splitlines():
        m = re.match(r"(\s*)([0-9a-f]+)-([0-9a-f]+) : (.*)", line)
        out.append((int(m[2], 16), int(m[3], 16), m[4], len(m[1]) // 2))
    return out


def sysfs(g, name, attr):
    """/sys/class/resmem/<name>/<attr>, stripped."""
    return g.run(f"cat /sys/class/resmem/{name}/{attr}").out.strip()


def firmware_memmap(g):
    """[(start, end_inclusive, type)] of /sys/firmware/memmap (x86): the
    firmware's map as it was before memmap= and the kernel edited it."""
    out = g.run("for d in /sys/firmware/memmap/*; do "
                "echo $(cat $d/start) $(cat $d/end) $(cat $d/type); done").out
    rows = [line.split(" ", 2) for line in out.splitlines()]
    return sorted((int(a, 16), int(b, 16), kind) for a, b, kind in rows)


_SUFFIX = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def memmap_reservations(cmdline):
    """[(addr, size)] of every memmap=SIZE$ADDR on a kernel command line, as
    the kernel reads them: comma lists, K/M/G/T suffixes, nothing after
    "--" (init's arguments)."""
    out = []
    for word in cmdline.split():
        if word == "--":
            break
        if not word.startswith("memmap="):
            continue
        for item in word[len("memmap="):].split(","):
            m = re.fullmatch(r"(0x[0-9a-f]+|\d+)([kmgt]?)\$(0x[0-9a-f]+|\d+)([kmgt]?)", item, re.I)
            if m:
                out.append((int(m[3], 0) * _SUFFIX[m[4].lower()],
                            int(m[1], 0) * _SUFFIX[m[2].lower()]))
    return out


def device_node_mode(g):
    """("crw-------", "root") as the driver makes /dev/resmem/* nodes, or what
    an installed udev rule (udev/60-resmem.rules: group resmem, 0660) makes of
    them: a local machine may have resmem installed."""
    rules = g.run("cat /etc/udev/rules.d/*resmem* /lib/udev/rules.d/*resmem* "
                  "/usr/lib/udev/rules.d/*resmem* 2>/dev/null", check=False).out
    mode = re.search(r'\bMODE="0?([0-7]{3})"', rules)
    group = re.search(r'\bGROUP="([^"]+)"', rules)
    bits = int(mode[1], 8) if mode else 0o600
    text = "c" + "".join(c if bits & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
    return text, group[1] if group else "root"
