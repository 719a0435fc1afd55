"""The docs show what the binary does (host only, no guest, no root).

Every `resmem ...` command shown in README.md, docs/*.md and the man pages'
EXAMPLES is extracted (code blocks, indented blocks and inline code spans)
and checked against the CLI built from this tree:

- a *template* (placeholders such as NAME or SIZE, `[...]`, `a|b`) names a
  command the CLI has, only options that command's `--help` lists, and no
  more positional arguments than its usage line takes;
- an inline *mention* of a command without its required arguments
  (`resmem capture`, `resmem ring --reset`) gets the same checks;
- every complete *example* is additionally run: each must have an entry in
  RUNS below, which runs it on fixtures (saved sysfs trees, firmware maps,
  scratch ring files, QEMU's dumped virt tree) and checks what the doc shows
  of its output, or in LIVE, which says why it needs a loaded module and runs
  it on a region path that does not exist so that only the parse is judged
  (exit 3 from the open, never 2 = usage error).  An example in neither is
  a failure: none is skipped silently.

Besides: the SYNOPSIS of resmem(1) and the synopsis of docs/cli.md list
every command `resmem help` lists; the exit-status sections name every
command that has an exit status 1; resmem(4) documents every
RESMEM_INFO_* flag in the struct it shows; each doc file a `--help` text
points at is installed by `make install-tools`.
"""
import glob
import json
import os
import re
import shlex
import shutil
import subprocess

import pytest

from tests.harness import fixtures, hostbuild
from tests.harness.kernels import REPO

FIXTURES = os.path.join(REPO, "userspace", "tests", "fixtures")
MD_FILES = ["README.md"] + sorted(os.path.relpath(p, REPO)
                                  for p in glob.glob(os.path.join(REPO, "docs", "*.md")))
MAN_PAGES = ["man/resmem.1", "man/resmem.4"]

# ------------------------------------------------------------ extraction

_CMD_LINE = re.compile(r"^(?:\$ |# )?(?:sudo )?(resmem\s.*)$")


def _shell_part(s):
    """The resmem command of a shell line: up to a pipe, &&, redirection or comment."""
    s = re.split(r"\s+(?:\||&&|>|#)\s", " " + s + " ", maxsplit=1)[0]
    return s.strip()


def md_examples(rel):
    """(text, shown output lines, kind) for each resmem command in a Markdown file."""
    out = []
    text = open(os.path.join(REPO, rel)).read()
    fence = False
    cur = None
    for line in text.splitlines():
        if line.startswith("```"):
            fence, cur = not fence, None
            continue
        block = fence or (line.startswith("    ") and line.strip())
        if not block:
            cur = None
            continue
        s = line.strip()
        m = _CMD_LINE.match(s)
        if m:
            cur = [_shell_part(m.group(1)), [], "code"]
            out.append(cur)
            continue
        # a resmem fed by a pipe or run after &&: `dd ... | resmem capture ...`
        m = re.search(r"(?:\| |&& )(?:sudo )?(resmem\s[^|&#>]*)", s)
        if m:
            cur = [m.group(1).strip(), [], "code"]
            out.append(cur)
        elif s.startswith("$ "):
            cur = None
        elif cur is not None and fence:
            cur[1].append(line)
    for m in re.finditer(r"`(?:sudo )?(resmem [^`\n]*)`", text):
        if not re.match(r"resmem [\w-]+:", m.group(1)):   # a message, not a command
            out.append([m.group(1), [], "inline"])
    return [(t, o, k) for t, o, k in out]


def man_examples(rel):
    """Commands in the .EX blocks of a man page's EXAMPLES section."""
    out, section, ex = [], None, False
    for line in open(os.path.join(REPO, rel)):
        line = line.rstrip("\n")
        if line.startswith(".SH "):
            section = line[4:].strip('"')
        elif line.startswith(".EX"):
            ex = True
        elif line.startswith(".EE"):
            ex = False
        elif ex and section == "EXAMPLES":
            s = line.replace("\\-", "-").replace("\\(aq", "'").replace("\\e", "\\")
            m = _CMD_LINE.match(s.strip())
            if m:
                out.append((_shell_part(m.group(1)), [], "man"))
    return out


def all_examples():
    ex = []
    for rel in MD_FILES:
        ex += [(rel,) + e for e in md_examples(rel)]
    for rel in MAN_PAGES:
        ex += [(rel,) + e for e in man_examples(rel)]
    return ex


EXAMPLES = all_examples()


def is_template(text):
    return bool(re.search(r"\[|\s\|\s|\b[A-Z][A-Z0-9_.]*[A-Z]\b|\boptions\b|\w\|\w", text))


# ------------------------------------------------------------ the CLI's own description

@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    # laid out as the top Makefile's BUILD/<arch>, so `make install-tools
    # BUILD=...` below reuses it instead of touching build/
    out = tmp_path_factory.mktemp("userspace") / "build" / os.uname().machine
    out.mkdir(parents=True)
    return Cli(hostbuild.resmem(str(out)))


class Cli:
    def __init__(self, path):
        self.path = path
        self._help = {}
        self._commands = None

    def run(self, *args, cwd=None, input=None):
        return subprocess.run([self.path, *map(str, args)], capture_output=True, text=True,
                              timeout=60, cwd=cwd, input=input)

    def commands(self):
        """The commands `resmem help` lists."""
        if self._commands is None:
            r = self.run("help")
            assert r.returncode == 0, r.stderr
            self._commands = re.findall(r"^  ([a-z]+)\s{2,}", r.stdout, re.M)
        return self._commands

    def help(self, words):
        """`resmem WORDS --help` (stdout); None if the command does not exist."""
        key = tuple(words)
        if key not in self._help:
            r = self.run(*words, "--help")
            self._help[key] = r.stdout if r.returncode == 0 else None
        return self._help[key]

    def options(self, words):
        """{option name: takes an argument} from the option table in --help."""
        opts = {}
        for m in re.finditer(r"^\s+(?:-\w, )?--([a-z][a-z-]*)(\[=[^\]]*\])?( [^\s]+)?(?:\s{2,}|$)",
                             self.help(words), re.M):
            opts[m.group(1)] = bool(m.group(3))
        return opts

    def usage(self, words):
        """The usage line(s) of WORDS (`resmem dt add IN.dtb ...`)."""
        lines = [l.split("resmem", 1)[1] for l in self.help(words).splitlines()
                 if re.match(r"^(usage:)?\s+resmem ", l) or l.startswith("usage: resmem")]
        return [l for l in lines if l.split()[:len(words)] == list(words)]


def command_words(cli, tokens):
    """The command words at the start of tokens: ('plan',) or ('dt', 'add')."""
    if not tokens or tokens[0] not in cli.commands():
        return None
    if tokens[0] == "dt" and len(tokens) > 1 and tokens[1] in ("add", "list"):
        return tuple(tokens[:2])
    return tuple(tokens[:1])


def template_tokens(text):
    t = re.sub(r"\s\|\s", " ", text.replace("[", " ").replace("]", " "))
    return t.split()


def own(tokens):
    """The tokens resmem parses: up to a bare `--`, after which they are
    another program's (`resmem export NAME -- COMMAND ARGS`)."""
    return tokens[:tokens.index("--")] if "--" in tokens else tokens


def positionals(tokens, opts):
    """Positional arguments in tokens, skipping options and their arguments."""
    pos, skip = [], False
    for t in own(tokens):
        if skip:
            skip = False
        elif t.startswith("--") and len(t) > 2:
            name = t[2:].split("=", 1)[0]
            skip = opts.get(name, False) and "=" not in t
        elif t not in ("options", "...", "-h"):
            pos.append(t)
    return pos


def check_against_help(cli, text):
    """Problems of one example or template against the CLI's --help."""
    tokens = template_tokens(text) if is_template(text) else shlex.split(text)
    assert tokens[0] == "resmem"
    tokens = tokens[1:]
    if not tokens or tokens[0] in ("--version", "help", "COMMAND"):
        return []
    words = command_words(cli, tokens)
    if words is None:
        return [f"`{text}`: no command {tokens[0]!r} in `resmem help`"]
    if tokens[0] == "dt" and words == ("dt",):
        return []                         # `resmem dt add|list`: the group itself
    opts = cli.options(words)
    probs = []
    for t in own(tokens[len(words):]):
        for alt in t.split("|"):              # --for-cpu|--for-device: either
            if alt.startswith("--") and len(alt) > 2:
                name = alt[2:].split("=", 1)[0]
                if name not in opts:
                    probs.append(f"`{text}`: `resmem {' '.join(words)} --help` has no --{name}")
    usage_max = max(len(positionals(template_tokens(u)[len(words):], opts))
                    for u in cli.usage(words))
    got = positionals(tokens[len(words):], opts)
    if len(got) > usage_max:
        probs.append(f"`{text}`: {len(got)} positional argument(s) {got}, but the usage is "
                     f"{cli.usage(words)} (an old or wrong form)")
    return probs


def required(cli, words):
    """(number of positional arguments, options) the usage line requires."""
    opts = cli.options(words)
    best = None
    for u in cli.usage(words):
        bare = re.sub(r"\[[^\[\]]*(?:\[[^\]]*\][^\[\]]*)*\]", " ", u).split()[len(words):]
        req = (len(positionals(bare, opts)),
               {t[2:] for t in bare if t.startswith("--") and "|" not in t})
        best = req if best is None or req[0] < best[0] else best
    return best


def is_mention(cli, text):
    """An inline reference to a command, not a complete command line: it lacks
    an argument or option the usage requires (`resmem ring --reset`,
    `resmem plan --write`)."""
    tokens = shlex.split(text)[1:]
    words = command_words(cli, tokens)
    if words is None:
        return False
    if words == ("dt",):
        return True
    npos, ropts = required(cli, words)
    rest = tokens[len(words):]
    have = {t[2:].split("=", 1)[0] for t in rest if t.startswith("--")}
    return len(positionals(rest, cli.options(words))) < npos or not ropts <= have


# ------------------------------------------------------------ fixtures the examples run on

MISSING = "/nonexistent-resmem-docs-test"   # a region path that cannot exist


class Env:
    """Scratch files standing in for the live system."""

    def __init__(self, cli, tmp):
        self.cli, self.tmp = cli, tmp
        self.sys = os.path.join(tmp, "sys")
        shutil.copytree(os.path.join(FIXTURES, "sys", "loaded-8g-at-4g"), self.sys)
        self.fwmap = os.path.join(FIXTURES, "firmware-memmap")
        self.check_args = ["--cmdline", os.path.join(FIXTURES, "cmdline", "reserve-8g-at-4g"),
                           "--iomem", os.path.join(FIXTURES, "iomem", "reserved-8g-at-4g"),
                           "--firmware-memmap", self.fwmap, "--sysfs", self.sys]

    def ring_file(self, records=200):
        """A region file holding a closed ring with `records` records of 4 KiB."""
        path = os.path.join(self.tmp, "ring.bin")
        with open(path, "wb") as f:
            f.truncate(16 << 20)
        r = self.cli.run("capture", path, "--file", "--generate", 7, "--record-size", 4096,
                         "--count", records)
        assert r.returncode == 0, r.stderr
        return path

    def virt_dtb(self):
        """QEMU's virt tree as the doc says to dump it."""
        cmd = dumpdtb_command()
        out = os.path.join(self.tmp, "virt.dtb")
        r = subprocess.run(cmd[:-1] + [f"dumpdtb={out}"], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0 and os.path.isfile(out), r.stderr
        return out


def dumpdtb_command():
    """The qemu-system-aarch64 ... dumpdtb=virt.dtb line docs/cli.md shows."""
    text = open(os.path.join(REPO, "docs", "cli.md")).read()
    m = re.search(r"^(?:\$ )?(qemu-system-aarch64 .*-machine dumpdtb=virt\.dtb)$", text, re.M)
    assert m, "docs/cli.md does not say how virt.dtb (the dt add example's input) is made"
    return shlex.split(m.group(1))


def ok(r):
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}{r.stdout}"
    return r


def shown(out_lines):
    return [l for l in out_lines if l.strip()]


def shape(line, name):
    """A line with the region name, sizes and numbers made generic."""
    line = line.strip().replace(name, "NAME")
    line = re.sub(r"\d+(?:\.\d+)? (?:[KMGTP]iB|bytes)", "SIZE", line)
    line = re.sub(r"0x[0-9a-f]+|\d+(?:\.\d+)?", "N", line)
    return " ".join(line.split())


def same_shape(doc_line, doc_name, actual, actual_name):
    """doc_line and actual agree but for numbers, sizes and the region name."""
    assert shape(doc_line, doc_name) == shape(actual, actual_name), \
        f"doc shows\n  {doc_line}\nthe CLI prints\n  {actual}"


def run_list(env, doc_out):
    r = ok(env.cli.run("list", "--sysfs", env.sys))
    assert "/dev/resmem/region0" in r.stdout


def run_check(env, doc_out):
    r = ok(env.cli.run("check", *env.check_args))
    assert r.stdout.splitlines()[-1] == "all good", r.stdout
    assert "region0" in r.stdout            # the region that claims the reservation


def run_plan_8g(env, doc_out):
    r = ok(env.cli.run("plan", "--size", "8G", "--firmware-memmap", env.fwmap))
    assert r.stdout.splitlines()[0] == "memmap=8G$0x100000000", r.stdout
    for key in ("GRUB_CMDLINE_LINUX_DEFAULT=", "grubby", "setenv bootargs"):
        assert key in r.stdout, f"plan prints no {key} line:\n{r.stdout}"


def run_plan_write(env, doc_out):
    grub_d = os.path.join(env.tmp, "grub.d")
    os.mkdir(grub_d)
    grub = os.path.join(FIXTURES, "plan", "debian.grub")
    r = ok(env.cli.run("plan", "--size", "8G", "--write", "--firmware-memmap", env.fwmap,
                       "--grub-d", grub_d, "--grub-default", grub,
                       "--cmdline", os.path.join(FIXTURES, "plan", "debian.cmdline"),
                       "--iomem", os.path.join(FIXTURES, "plan", "qemu-pc-13G.iomem")))
    assert "update-grub" in r.stdout + r.stderr
    assert "memmap=8G" in open(os.path.join(grub_d, "resmem.cfg")).read()


def run_verify_saved(env, doc_out):
    saved = os.path.join(env.tmp, "saved.bin")
    with open(saved, "wb") as f:
        f.truncate(1 << 20)
    ok(env.cli.run("fill", saved, "seq:1", "--file"))
    r = ok(env.cli.run("verify", "./saved.bin", "seq:1", cwd=env.tmp))
    assert "match seq:0x1" in r.stdout


def run_region_file(*argv, file_flag=False):
    """fill/verify/dump examples on region0: on a 64 MiB file instead."""
    def run(env, doc_out):
        path = os.path.join(env.tmp, "region0.bin")
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.truncate(64 << 20)
            ok(env.cli.run("fill", path, "seq:1", "--file"))
        args = [path if a == "region0" else a for a in argv] + (["--file"] if file_flag else [])
        r = ok(env.cli.run(*args))
        return r
    return run


def run_dump(env, doc_out):
    r = run_region_file("dump", "region0", "--length", "256")(env, doc_out)
    assert r.stdout.splitlines()[-1] == "00000100", r.stdout


def run_ring(env, doc_out):
    ring = env.ring_file()
    r = ok(env.cli.run("ring", ring))
    out = r.stdout.splitlines()
    doc = shown(doc_out)
    # the header line has the doc's fields; each labelled line the doc shows
    # (head, tail, cons, fill; `in flight` only after a crash) is printed
    assert re.match(r"\S+: ring v2, data .* at offset \d+, epoch \d+, (open|closed)", out[0]), out
    assert re.match(r"region0: ring v2, data .* at offset \d+, epoch \d+, (open|closed)", doc[0])
    labels = lambda lines: [l.split()[0] for l in lines[1:] if not l.strip().startswith("in")]
    assert labels(out) == labels(doc), (out, doc)


def run_drain_to(env, doc_out):
    ring = env.ring_file(200)
    dest = os.path.join(env.tmp, "run1.bin")
    r = ok(env.cli.run("drain", ring, "--to", dest))
    assert os.path.getsize(dest) == 200 * 4096
    summary = r.stderr.strip().splitlines()[-1]
    doc = [l for l in shown(doc_out) if l.startswith("drain ")]
    assert doc, "docs/cli.md shows no drain summary"
    same_shape(doc[0], "region0", summary, os.path.basename(ring))


def run_drain_json(env, doc_out):
    """The summary object: the keys the doc shows, the numbers of this ring."""
    ring = env.ring_file(200)
    dest = os.path.join(env.tmp, "run2.bin")
    r = ok(env.cli.run("drain", ring, "--to", dest, "--json"))
    got = json.loads(r.stdout)
    doc = json.loads(shown(doc_out)[0])
    assert list(got) == list(doc), (got, doc)
    for k in ("type", "command", "records", "bytes", "lost", "corrupt", "first_seq", "last_seq"):
        assert got[k] == doc[k], k
    assert os.path.getsize(dest) == got["bytes"]


def run_drain_image(env, doc_out):
    """The three lines drain --image prints, shaped as the doc shows them
    (the path line up to its first word: which path a host's kernel and
    file system allow varies; tests/test_drain_image.py asserts it in a
    guest); the image reads back as the ring's records."""
    ring = env.ring_file(200)
    img = os.path.join(env.tmp, "run3.img")
    r = ok(env.cli.run("drain", ring, "--image", img))
    got = r.stderr.strip().splitlines()
    doc = [l for l in shown(doc_out) if l.startswith("drain ")]
    assert len(doc) == 3 and len(got) >= 3, (doc, got)
    name = os.path.basename(ring)
    img_doc = "/data/run3.img"
    same_shape(doc[0].replace(img_doc, "IMG"), "region0", got[-3].replace(img, "IMG"), name)
    assert got[-2].startswith(f"drain {name}: path: ") and doc[1].startswith(
        "drain region0: path: zero-copy io_uring O_DIRECT"), (got, doc)
    assert re.search(r"; \S+ \S+ from the mapping, \S+ \S+ through bounce buffers$", got[-2])
    same_shape(doc[2], "region0", got[-1], name)
    return img


def run_drain_image_back(env, doc_out):
    ring = env.ring_file(200)
    img = os.path.join(env.tmp, "run3.img")
    ok(env.cli.run("drain", ring, "--image", img, "--no-consume"))
    back, direct = os.path.join(env.tmp, "run3.bin"), os.path.join(env.tmp, "direct.bin")
    r = ok(env.cli.run("drain", img, "--no-consume", "--to", back))
    assert "200 records" in r.stderr and "corrupt 0" in r.stderr, r.stderr
    ok(env.cli.run("drain", ring, "--to", direct))
    assert open(back, "rb").read() == open(direct, "rb").read()


def run_drain_follow(env, doc_out):
    ring = env.ring_file(10)
    r = subprocess.run([env.cli.path, "drain", ring, "--follow"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr          # the ring is closed: --follow ends
    assert len(r.stdout) == 10 * 4096


def run_dt_add(env, doc_out):
    dtb = env.virt_dtb()
    out = os.path.join(env.tmp, "out.dtb")
    r = ok(env.cli.run("dt", "add", dtb, out, "--name", "capture", "--size", "1G",
                       "--addr", "0x140000000", "--no-map"))
    doc = shown(doc_out)
    assert doc, "no output shown for dt add"
    assert [l.strip() for l in r.stdout.strip().splitlines()] == \
        [l.strip().replace("out.dtb", out) for l in doc], (r.stdout, doc)
    r = env.cli.run("dt", "list", out)
    assert r.returncode == 0 and "capture@140000000" in r.stdout, r.stdout + r.stderr


# Complete examples run on fixtures: text as the doc shows it -> runner.
RUNS = {
    "resmem list": run_list,
    "resmem check": run_check,
    "resmem plan --size 8G": run_plan_8g,
    "resmem plan --size 8G --write": run_plan_write,
    "resmem verify ./saved.bin seq:1": run_verify_saved,
    "resmem fill region0 seq:1 --length 64M": run_region_file(
        "fill", "region0", "seq:1", "--length", "64M", file_flag=True),
    "resmem verify region0 seq:1 --length 64M --via read": run_region_file(
        "verify", "region0", "seq:1", "--length", "64M", "--via", "read"),
    "resmem dump region0 --length 256": run_dump,
    "resmem ring region0": run_ring,
    "resmem drain region0 --to /data/run1.bin": run_drain_to,
    "resmem drain region0 --follow": run_drain_follow,
    "resmem drain region0 --image /data/run3.img": run_drain_image,
    "resmem drain /data/run3.img --no-consume --to /data/run3.bin": run_drain_image_back,
    "resmem drain region0 --to /data/run2.bin --json": run_drain_json,
    "resmem dt add virt.dtb out.dtb --name capture --size 1G --addr 0x140000000 --no-map":
        run_dt_add,
    "resmem --version": lambda env, out: ok(env.cli.run("--version")),
}

# Complete examples that need a loaded module (or a real device): why, and
# they are run with the region replaced by a path that does not exist.
LIVE = {
    "resmem capture region0 --generate 7 --record-size 4096 --duration 600":
        "streams for ten minutes into a live region (capture on a file: RUNS' ring fixture)",
    "resmem capture region0 --record-size 1M --overwrite":
        "reads a device (/dev/adc) on stdin",
    "resmem dt list":
        "reads the running system's tree, /sys/firmware/fdt (dt list FILE: RUNS' dt add example)",
    "resmem export region0 --offset 2M --length 4M --fd 3 -- my-capture-tool --dmabuf-fd 3":
        "exports a live region's window as a dma-buf (tests/test_dmabuf.py runs export in a guest)",
}


@pytest.fixture
def env(cli, tmp_path):
    return Env(cli, str(tmp_path))


def _ids(examples):
    return [f"{rel}:{text}" for rel, text, _, _ in examples]


@pytest.mark.parametrize("rel,text,out,kind", EXAMPLES, ids=_ids(EXAMPLES))
def test_example_matches_help(cli, rel, text, out, kind):
    """Command, options and positional arguments exist as `--help` shows them."""
    probs = check_against_help(cli, text)
    assert not probs, f"{rel}: " + "\n".join(probs)


COMMANDS = [e for e in EXAMPLES if not is_template(e[1])]


@pytest.mark.parametrize("rel,text,out,kind", COMMANDS, ids=_ids(COMMANDS))
def test_example_runs(cli, env, rel, text, out, kind):
    """Each complete example runs on fixtures (RUNS) or, needing a live
    module, at least parses (LIVE); an inline mention is one the CLI too
    calls incomplete."""
    if kind == "inline" and is_mention(cli, text):
        r = cli.run(*shlex.split(text)[1:], input="")
        assert r.returncode == 2, \
            f"{rel}: `{text}` was taken for a mention, but exit {r.returncode}"
        return
    if text in LIVE:
        args = [MISSING + "/region0" if a == "region0" else a for a in shlex.split(text)[1:]]
        r = cli.run(*args, input="")
        assert r.returncode != 2 and "usage" not in r.stderr.lower(), \
            f"{rel}: `{text}` ({LIVE[text]}): exit {r.returncode}: {r.stderr}"
        if "region0" in text:
            assert r.returncode == 3 and MISSING in r.stderr, r.stderr
        return
    assert text in RUNS, (f"{rel}: `{text}` is a command no test runs: add it to RUNS "
                          f"(on fixtures) or LIVE (with the reason) in {__file__}")
    RUNS[text](env, out)


def test_every_example_found():
    """The extraction sees the examples (a broken extractor would pass everything)."""
    texts = {t for _, t, _, _ in EXAMPLES}
    for t in ("resmem ring region0", "resmem drain region0 --follow", "resmem check"):
        assert t in texts, t
    assert any(rel == "man/resmem.1" for rel, *_ in EXAMPLES)


def test_runs_and_live_are_all_shown():
    """No stale entry: every RUNS/LIVE key is an example some doc shows."""
    texts = {t for _, t, _, _ in EXAMPLES}
    stale = sorted(set(RUNS) - texts) + sorted(set(LIVE) - texts)
    assert not stale, f"not shown in any doc any more: {stale}"


# ------------------------------------------------------------ sample output shown without a command

def cli_md():
    return open(os.path.join(REPO, "docs", "cli.md")).read()


def test_regions_named_as_the_module_names_them():
    """The module names unnamed regions region0, region1, ...: so do the docs."""
    src = open(os.path.join(REPO, "module", "region.c")).read()
    assert '"region%u"' in src
    for rel in MD_FILES + MAN_PAGES:
        text = open(os.path.join(REPO, rel)).read()
        bad = sorted(set(re.findall(r"\bram\d+\b", text)))
        assert not bad, f"{rel} names regions {bad}; the module says region0"


def test_list_sample_is_what_list_prints(env):
    """The sample under `resmem list` is the output on the region0 fixture."""
    m = re.search(r"### `resmem list.*?\n```\n(.*?)```", cli_md(), re.S)
    assert m, "docs/cli.md: no list sample"
    r = ok(env.cli.run("list", "--sysfs", env.sys))
    assert m.group(1).splitlines() == r.stdout.splitlines(), (m.group(1), r.stdout)


def test_verify_samples_are_what_verify_prints(env):
    """verify's success line and mismatch report, as cli.md shows them, on a
    file: 8193 bytes of seq:7 with the byte at 0x1800 zeroed, read back
    --via read; the success line after fill seq:1."""
    text = cli_md()
    success = re.search(r"On success: `([^`]*)`", text).group(1)
    block = re.search(r"```\n(\S+: MISMATCH: .*?)```", text, re.S).group(1).splitlines()
    path = os.path.join(env.tmp, "region0")
    with open(path, "wb") as f:
        f.truncate(1 << 20)
    ok(env.cli.run("fill", path, "seq:1", "--file"))
    r = ok(env.cli.run("verify", path, "seq:1"))
    same_shape(success, "region0", r.stdout.strip(), "region0")
    ok(env.cli.run("fill", path, "seq:7", "--file", "--length", "8193"))
    with open(path, "r+b") as f:
        f.seek(0x1800)
        f.write(b"\0")
    r = env.cli.run("verify", path, "seq:7", "--length", "8193", "--via", "read")
    assert r.returncode == 1, r.stderr
    got = r.stdout.splitlines()
    assert len(got) == len(block), (got, block)
    for d, a in zip(block, got):
        same_shape(d, "region0", a, "region0")


def test_capture_sample_is_what_capture_prints(env):
    """The summary cli.md shows under the (LIVE) ten-minute capture example is
    what the same capture prints on a ring file, --count for --duration."""
    live = "resmem capture region0 --generate 7 --record-size 4096 --duration 600"
    doc = [shown(o) for _, t, o, _ in EXAMPLES if t == live]
    assert doc and doc[0], f"docs/cli.md shows no output for `{live}`"
    path = os.path.join(env.tmp, "region0")
    with open(path, "wb") as f:
        f.truncate(16 << 20)
    r = ok(env.cli.run("capture", path, "--file", "--generate", 7, "--record-size", 4096,
                       "--count", 100))
    got = [l for l in r.stderr.splitlines() if l.startswith("capture region0:")]
    assert len(got) == len(doc[0]), (got, doc[0])
    for d, a in zip(doc[0], got):
        same_shape(d, "region0", a, "region0")


# the tree behind the `dt list` sample of docs/cli.md: 6 GiB at 1 GiB, a good
# no-map node and one whose 1-cell reg does not fit the 2-cell parent
DT_LIST_SAMPLE_DTS = """/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	memory@40000000 {
		device_type = "memory";
		reg = <0x0 0x40000000 0x1 0x80000000>;
	};
	reserved-memory {
		#address-cells = <2>;
		#size-cells = <2>;
		ranges;
		hi@140000000 {
			compatible = "resmem,region";
			reg = <0x1 0x40000000 0x0 0x20000000>;
			no-map;
		};
		onecell@82000000 {
			reg = <0x82000000 0x1000000>;
		};
	};
};
"""


def test_dt_list_sample_is_what_dt_list_prints(env):
    m = re.search(r"```\n(memory: .*?)```", cli_md(), re.S)
    assert m, "docs/cli.md: no dt list sample"
    dts = os.path.join(env.tmp, "sample.dts")
    dtb = os.path.join(env.tmp, "sample.dtb")
    with open(dts, "w") as f:
        f.write(DT_LIST_SAMPLE_DTS)
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", dtb, dts], check=True)
    r = env.cli.run("dt", "list", dtb)
    assert r.returncode == 1, r.stderr          # one node is unusable
    doc = m.group(1).splitlines()
    assert [" ".join(l.split()) for l in r.stdout.splitlines()] == \
        [" ".join(l.split()) for l in doc], f"doc shows\n{m.group(1)}\nthe CLI prints\n{r.stdout}"


# ------------------------------------------------------------ commands the CLI itself suggests

@pytest.mark.parametrize("inputs", [
    ("captured", "eaten-dollar", "loaded"), ("captured", "pci-hole", "loaded"),
    ("captured", "kernel-inside", "unloaded"),
    ("beyond-ram", "no-reservation", None), ("none", "no-reservation", "unloaded"),
    ("reserve-8g-at-4g", "non-root", None),
], ids=lambda inputs: "-".join(x for x in inputs if x))
def test_check_hints_name_commands_as_help_does(cli, env, inputs):
    """A `resmem ...` command that check's output suggests is in its current form."""
    if inputs[0] == "captured":
        args = fixtures.check_args(inputs[1], inputs[2])
    else:
        cmdline, iomem, sysfs = inputs
        args = ["--cmdline", os.path.join(FIXTURES, "cmdline", cmdline),
                "--iomem", os.path.join(FIXTURES, "iomem", iomem), "--firmware-memmap", env.fwmap,
                "--sysfs", os.path.join(FIXTURES, "sys", sysfs) if sysfs else env.sys]
    r = cli.run("check", *args)
    assert r.returncode == 1, r.stdout + r.stderr
    probs = []
    for m in re.finditer(r"[`'](resmem [^`']*)[`']", r.stdout + r.stderr):
        probs += check_against_help(cli, m.group(1))
    assert not probs, "\n".join(probs) + "\n" + r.stdout


# ------------------------------------------------------------ synopses, exit status, flags

def man_section(rel, name):
    text = open(os.path.join(REPO, rel)).read()
    m = re.search(rf"^\.SH {name}\n(.*?)(?=^\.SH )", text, re.M | re.S)
    assert m, f"{rel} has no {name} section"
    return m.group(1).replace("\\-", "-")


def cli_md_synopsis():
    text = open(os.path.join(REPO, "docs", "cli.md")).read()
    block = re.search(r"^```\n(resmem list.*?)^```", text, re.M | re.S)
    assert block, "docs/cli.md: no synopsis block"
    return block.group(1)


def test_synopses_list_every_command(cli):
    man = man_section("man/resmem.1", "SYNOPSIS")
    man_cmds = set(re.findall(r"^\.B resmem ([a-z]+)", man, re.M))
    md_cmds = set(re.findall(r"^resmem ([a-z]+)", cli_md_synopsis(), re.M))
    for c in cli.commands():
        assert c in man_cmds, f"resmem(1) SYNOPSIS omits `resmem {c}`"
        assert c in md_cmds, f"docs/cli.md synopsis omits `resmem {c}`"


def test_man_synopsis_forms_match_usage(cli):
    """Each SYNOPSIS entry of resmem(1), read as a template, fits --help."""
    man = man_section("man/resmem.1", "SYNOPSIS")
    probs = []
    for entry in re.split(r"^\.br\n", man, flags=re.M):
        words = []
        for line in entry.splitlines():
            if line.startswith("."):
                parts = line.split(None, 1)
                if len(parts) > 1:
                    arg = re.sub(r"\\f[BIRP]", "", parts[1]).strip()
                    if len(parts[0]) == 3:      # .BR, .RB, .IR ...: fonts alternate, no spaces
                        arg = "".join(shlex.split(arg))
                    words.append(arg)
            elif line.strip():
                words.append(line.strip())
        text = " ".join(words)
        if text.startswith("resmem ") and not text.startswith("resmem help"):
            # .RB [ --x ] and .IR A ] leave spaced brackets: fine for a template
            probs += check_against_help(cli, text + " [options]")
    assert not probs, "\n".join(probs)


EXIT_1 = ["verify", "fill", "check", "plan", "dt add", "dt list", "capture", "drain", "ring"]


def test_exit_status_sections_name_every_exit_1(cli):
    """Every command with an exit status 1 of its own is in both exit-status sections."""
    for c in EXIT_1:
        assert cli.help(c.split()) is not None, c
    man = man_section("man/resmem.1", "EXIT STATUS")
    one = re.search(r"^\.B 1\n(.*?)^\.TP", man, re.M | re.S).group(1)
    md = open(os.path.join(REPO, "docs", "cli.md")).read()
    row = re.search(r"^\| 1 \|(.*)$", md, re.M).group(1)
    for c in EXIT_1:
        assert re.search(rf"\.BR? \"?{c}\"?", one), f"resmem(1) EXIT STATUS 1 omits {c}"
        assert f"`{c}`" in row, f"docs/cli.md exit status 1 omits {c}"


def test_resmem4_documents_every_info_flag():
    uapi = open(os.path.join(REPO, "include", "uapi", "linux", "resmem.h")).read()
    flags = re.findall(r"#define\s+(RESMEM_INFO_[A-Z_]+)\s", uapi)
    assert "RESMEM_INFO_COHERENT" in flags
    man = open(os.path.join(REPO, "man", "resmem.4")).read()
    flags_line = re.search(r"^\s+__u32 flags;.*$", man, re.M).group(0)
    for f in flags:
        assert f in flags_line.replace("\\-", "-"), f"resmem(4) struct resmem_info omits {f}"


def test_help_points_only_at_installed_docs(cli, tmp_path):
    """A doc a --help text names is installed by make install-tools."""
    dest = tmp_path / "root"
    build = os.path.dirname(os.path.dirname(os.path.dirname(cli.path)))
    r = subprocess.run(["make", "-s", "-C", REPO, "install-tools", f"DESTDIR={dest}",
                        "PREFIX=/usr", f"BUILD={build}"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    named = set()
    for c in cli.commands() + ["dt add", "dt list"]:
        h = cli.help(c.split())
        assert "docs/" not in h, f"`resmem {c} --help` names a source-tree path:\n{h}"
        named |= set(re.findall(r"([\w-]+\.md)\b", h))
    assert named, "no --help names a doc: update this test"
    for doc in named:
        assert (dest / "usr/share/doc/resmem" / doc).is_file(), f"{doc} is not installed"
