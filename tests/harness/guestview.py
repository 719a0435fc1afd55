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
