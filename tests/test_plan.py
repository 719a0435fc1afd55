"""`resmem plan`'s lines checked against the real parsers that will read them.

Host only (no kernel): the /etc/default/grub line and the grub.d drop-in go
through Debian's own grub-mkconfig and /etc/grub.d/10_linux, in a private
mount namespace (tests/harness/grub.py); the `linux` line it writes, the planner's own
grub.cfg line and the BLS options grubby would write are then parsed by GRUB
itself, in one GRUB-only QEMU boot, which prints every word it would hand to
the kernel.  Expected words are written out by hand below.
"""
import json
import os
import re
import subprocess

import pytest

from tests.harness import grub

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(REPO, "userspace", "tests", "fixtures", "plan")
MAP = os.path.join(FIX, "qemu-pc-13G.memmap")
NEW = "memmap=8G$0x100000000"          # 8 GiB at 4 GiB, written as the planner writes it

# /etc/default/grub files: (text, GRUB words its GRUB_CMDLINE_LINUX_DEFAULT
# should become once the plan is in, in order)
DEFAULT_GRUBS = {
    "debian": ('GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n'
               'GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n'
               'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n',
               ["quiet", NEW]),
    "empty": ("GRUB_TIMEOUT=5\n", [NEW]),
    # an older reservation (escaped right) is replaced; quotes, '!' and '@' survive
    "awkward": ("GRUB_CMDLINE_LINUX_DEFAULT=\"x\"\n"
                "export GRUB_CMDLINE_LINUX_DEFAULT='quiet splash memmap=8G\\$4G memmap=1G@8G "
                "acpi_osi=\"!Windows 2015\" a\\;b'\n",
                ["quiet", "splash", "memmap=1G@8G", "acpi_osi=!Windows 2015", "a;b", NEW]),
    # the server: sh turns memmap=8G$4G into memmap=8GG (8 GiB of RAM, no
    # reservation); the plan's line, and the drop-in, must leave it out
    "eaten": ('GRUB_CMDLINE_LINUX_DEFAULT="quiet memmap=8G$4G"\n', ["quiet", NEW]),
    # unescaped $0...: sh pastes its own path in; a drop-in appending to it before ours
    "eaten-dropin": ('GRUB_CMDLINE_LINUX_DEFAULT="memmap=8G$0x100000000 quiet"\n'
                     'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT splash"\n',
                     ["quiet", "splash", NEW]),
}

CMDLINE = os.path.join(FIX, "debian.cmdline")   # BOOT_IMAGE=... root=UUID=0b1c-22 ro quiet memmap=8G$4G


def plan(host_resmem, *args, tmp=None):
    r = subprocess.run([host_resmem, "plan", "--size", "8G", "--from", MAP, "--json", *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def replace_line(text, line):
    """/etc/default/grub with its GRUB_CMDLINE_LINUX_DEFAULT assignment(s)
    replaced by `line` (what the user is told to do)."""
    out = [l for l in text.splitlines()
           if not re.match(r"\s*(export\s+)?GRUB_CMDLINE_LINUX_DEFAULT=", l)]
    return "\n".join(out + [line]) + "\n"


def linux_args(linux_line):
    """GRUB script text after `linux /boot/vmlinuz`."""
    m = re.match(r"\s*linux\s+/boot/vmlinuz\s+(.*)$", linux_line)
    assert m, linux_line
    return m[1]


@pytest.fixture(scope="module")
def cases(host_resmem, tmp_path_factory):
    """name -> (GRUB script text of the arguments, expected words); all parsed
    by one GRUB boot in `parsed`."""
    reason = grub.have_grub()
    if reason:
        pytest.fail(reason)     # tests/install-deps.sh installs it: missing is a failure
    tmp = tmp_path_factory.mktemp("plan")
    c = {}
    for name, (text, want) in DEFAULT_GRUBS.items():
        f = tmp / f"{name}.grub"
        f.write_text(text)
        j = plan(host_resmem, "--grub-default", str(f))
        line, _ = grub.mkconfig_linux_line(replace_line(text, j["etc_default_grub"]))
        c[f"default-{name}"] = (linux_args(line), ["root=/dev/ram0", "ro"] + want)
        # the drop-in, added to the untouched file: the same words (it re-assigns
        # the variable when the file holds a memmap= word the plan replaces)
        line2, _ = grub.mkconfig_linux_line(text, [j["grub_d_dropin"]])
        c[f"dropin-{name}"] = (linux_args(line2), ["root=/dev/ram0", "ro"] + want)
    # the mangled word in GRUB_CMDLINE_LINUX: the drop-in re-assigns that one too
    linux_eaten = ('GRUB_CMDLINE_LINUX="console=ttyS0 memmap=8G$4G"\n'
                   'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n')
    f = tmp / "linux-eaten.grub"
    f.write_text(linux_eaten)
    j = plan(host_resmem, "--grub-default", str(f))
    line, _ = grub.mkconfig_linux_line(linux_eaten, [j["grub_d_dropin"]])
    c["dropin-linux-eaten"] = (linux_args(line), ["root=/dev/ram0", "ro", "console=ttyS0", "quiet", NEW])
    j = plan(host_resmem, "--cmdline", CMDLINE)
    assert j["grub_cfg"].startswith("linux ")
    c["grub_cfg"] = (j["grub_cfg"][len("linux "):],
                     ["/boot/vmlinuz-6.1.0-18-amd64", "root=UUID=0b1c-22", "ro", "quiet", NEW])
    c["grub_cfg_args"] = (j["grub_cfg_args"], [NEW])
    # grubby: sh parses the command, grubby stores --args verbatim in the BLS
    # entry's options line, and GRUB's blscfg expands that line as GRUB script
    r = subprocess.run(["/bin/sh", "-c", 'grubby() { for a; do printf "%s\\n" "$a"; done; }; '
                        + j["grubby"]], stdout=subprocess.PIPE, text=True, check=True)
    args = [a for a in r.stdout.splitlines() if a.startswith("--args=")]
    assert len(args) == 1, r.stdout
    c["grubby"] = (args[0][len("--args="):], [NEW])
    # ... and --remove-args names the running line's old reservation as blscfg reads it
    rm = [a for a in r.stdout.splitlines() if a.startswith("--remove-args=")]
    assert len(rm) == 1, r.stdout
    c["grubby-remove"] = (rm[0][len("--remove-args="):], ["memmap=8G$4G"])
    # several regions
    j = plan(host_resmem, "--size", "2G", "--count", "2", "--grub-default", str(tmp / "debian.grub"))
    line, _ = grub.mkconfig_linux_line(replace_line(DEFAULT_GRUBS["debian"][0], j["etc_default_grub"]))
    c["count-2"] = (linux_args(line), ["root=/dev/ram0", "ro", "quiet", "memmap=2G$0x100000000",
                                       "memmap=2G$0x1c0000000"])
    # the documented snippets in grub/
    with open(os.path.join(REPO, "grub", "resmem.cfg.example")) as f:
        example = f.read()
    line, _ = grub.mkconfig_linux_line(DEFAULT_GRUBS["debian"][0], [example])
    c["example-dropin"] = (linux_args(line), ["root=/dev/ram0", "ro", "quiet", NEW])
    with open(os.path.join(REPO, "grub", "40_custom.example")) as f:
        entry = [l for l in f.read().splitlines() if l.strip().startswith("linux")]
    assert len(entry) == 1
    c["example-40_custom"] = (entry[0].strip()[len("linux"):],
                              ["/boot/vmlinuz", "root=/dev/sda1", "ro", NEW])
    # controls: the parameter pasted into grub.cfg without escaping
    c["naive-grub-cfg"] = (NEW, ["memmap=8Gx100000000"])     # GRUB: $0 is empty
    c["naive-4g"] = ("memmap=8G$4G", ["memmap=8GG"])           # GRUB: $4 is empty
    return c


@pytest.fixture(scope="module")
def parsed(cases):
    body = "function words {\n  for w in \"$@\"; do echo \"<$w>\"; done\n}\n"
    for name, (args, _) in cases.items():
        body += f"echo \"CASE {name}\"\nwords {args}\n"
    body += "echo \"CASE end\"\nhalt\n"
    out = grub.run_grub_script(body)
    got, cur = {}, None
    for line in out.splitlines():
        m = re.search(r"CASE (\S+)$", line)
        if m:
            cur = m[1]
            got[cur] = []
        elif cur and line.startswith("<") and line.endswith(">"):
            got[cur].append(line[1:-1])
    assert "end" in got, f"GRUB did not get through the script:\n{out[-3000:]}"
    return got


@pytest.mark.parametrize("name", ["default-debian", "default-empty", "default-awkward",
                                  "default-eaten", "default-eaten-dropin",
                                  "dropin-debian", "dropin-empty", "dropin-awkward",
                                  "dropin-eaten", "dropin-eaten-dropin", "dropin-linux-eaten",
                                  "grub_cfg", "grub_cfg_args", "grubby", "grubby-remove", "count-2",
                                  "example-dropin", "example-40_custom"])
def test_grub_reads_the_plan(name, cases, parsed):
    """What GRUB hands the kernel is the intended memmap= (with a literal $)
    and every word the configuration already had."""
    assert parsed[name] == cases[name][1], f"GRUB script: {cases[name][0]!r}"


def test_sh_keeps_one_backslash_for_grub(host_resmem, tmp_path):
    """sh turns the /etc/default/grub value's \\\\\\$ into \\$: the text grub.cfg gets."""
    f = tmp_path / "grub"
    f.write_text(DEFAULT_GRUBS["debian"][0])
    j = plan(host_resmem, "--grub-default", str(f))
    assert j["etc_default_grub"] == 'GRUB_CMDLINE_LINUX_DEFAULT="quiet memmap=8G\\\\\\$0x100000000"'
    r = subprocess.run(["/bin/sh", "-c", j["etc_default_grub"] + '; printf %s "$GRUB_CMDLINE_LINUX_DEFAULT"'],
                       stdout=subprocess.PIPE, text=True, check=True)
    assert r.stdout == "quiet memmap=8G\\$0x100000000"


def test_naive_lines_lose_the_address(parsed):
    """The control, from the same GRUB run: unescaped, GRUB expands $0 / $4
    (positional parameters, empty) and the address is gone."""
    assert parsed["naive-grub-cfg"] == ["memmap=8Gx100000000"]
    assert parsed["naive-4g"] == ["memmap=8GG"]



def test_example_dropin_is_what_write_installs(host_resmem, tmp_path):
    """grub/resmem.cfg.example's assignment is the one `plan --write` writes
    for 8G on the QEMU pc 13G machine."""
    r = subprocess.run([host_resmem, "plan", "--size", "8G", "--from", MAP, "--write",
                        "--grub-d", str(tmp_path)], stdout=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0 and "update-grub" in r.stdout
    written = (tmp_path / "resmem.cfg").read_text()
    with open(os.path.join(REPO, "grub", "resmem.cfg.example")) as f:
        example = f.read()
    pick = lambda t: [l for l in t.splitlines() if l.startswith("GRUB_CMDLINE_LINUX_DEFAULT=")]
    assert pick(written) == pick(example) and len(pick(example)) == 1


def test_eaten_word_is_named_and_counted(host_resmem, tmp_path):
    """The issue's case: --json gives the real /etc/default/grub line, the
    mangled word in `replaces` (an array), and counts the memmap= ranges
    of the GRUB line that will boot, not of the running one."""
    f = tmp_path / "grub"
    f.write_text(DEFAULT_GRUBS["eaten"][0])
    j = plan(host_resmem, "--grub-default", str(f))
    assert j["etc_default_grub"] == 'GRUB_CMDLINE_LINUX_DEFAULT="quiet memmap=8G\\\\\\$0x100000000"'
    assert j["replaces"] == ["memmap=8GG"]
    assert j["kaslr"]["memmap_entries"] == 1
    assert j["complete"] is False          # no --cmdline: no root= in the loader lines
    three = os.path.join(FIX, "three-memmap.cmdline")
    j = plan(host_resmem, "--grub-default", str(f), "--cmdline", three)
    assert j["kaslr"]["memmap_entries"] == 1 and j["complete"] is True
    assert j["replaces"] == ["memmap=1G$0x400000000", "memmap=8GG"]


def test_write_refuses_what_it_cannot_take_out(host_resmem, tmp_path):
    """A memmap= word behind sh expansion: no drop-in, exit 1, the line to
    remove on stderr, nothing on stdout."""
    f = tmp_path / "grub"
    f.write_text('GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="$EXTRA memmap=8G$4G"\n')
    r = subprocess.run([host_resmem, "plan", "--size", "8G", "--from", MAP, "--grub-default", str(f),
                        "--write", "--grub-d", str(tmp_path / "d")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'GRUB_CMDLINE_LINUX_DEFAULT="$EXTRA memmap=8G$4G"\n' in r.stderr
    assert not (tmp_path / "d" / "resmem.cfg").exists()


def test_refusal_on_stderr(host_resmem):
    r = subprocess.run([host_resmem, "plan", "--size", "11G", "--from", MAP],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 1 and r.stdout == "" and "refused: 11.0 GiB does not fit" in r.stderr


def test_write_reads_the_other_dropins(host_resmem, tmp_path):
    """grub.d drop-ins sourced before ours count (the mangled word one of them
    adds is taken out, as GRUB will read it); one sourced after ours that also
    sets memmap= is named on stderr."""
    f = tmp_path / "grub"
    f.write_text(DEFAULT_GRUBS["debian"][0])
    d = tmp_path / "grub.d"
    d.mkdir()
    early = 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT memmap=8G$4G splash"\n'
    late = 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT memmap=1M!0x500000000"\n'
    (d / "50-vendor.cfg").write_text(early)
    (d / "zz-late.cfg").write_text(late)
    r = subprocess.run([host_resmem, "plan", "--size", "8G", "--from", MAP, "--grub-default", str(f),
                        "--grub-d", str(d), "--write"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "memmap=8GG" in r.stdout and late in r.stderr
    # /etc/default/grub's own line does not take in the drop-in's words
    assert 'GRUB_CMDLINE_LINUX_DEFAULT="quiet memmap=8G\\\\\\$0x100000000"' in r.stdout
    files = [(d / n).read_text() for n in sorted(os.listdir(d))]
    line, _ = grub.mkconfig_linux_line(DEFAULT_GRUBS["debian"][0], files)
    assert "8GG" not in line and "splash" in line, line
