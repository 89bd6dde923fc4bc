#!/usr/bin/env python3
"""Regenerate src/pyvirt/cli/tables/*.py (pyvirt's command table) from the reference virsh.

A development tool, not part of pyvirt: it asks the installed virsh (libvirt-clients 9.0, the
test oracle) what its interface is — ``virsh help``, ``virsh help GROUP``, ``virsh help CMD`` —
and probes what help does not show:

* which non-bool options may be given positionally (virsh's VSH_OFLAG_REQ_OPT is invisible in
  help): parse-only runs against an unreachable default URI, where a data word followed by the
  option named again draws "option --x already seen" exactly when the word filled it;
* which commands need a connection (the same runs: a connecting command says "failed to connect");
* nothing else (virsh prints its blank line after every command; some commands end their own
  output without a newline, which is theirs to reproduce).

What it writes is a fact sheet of virsh's interface (names, option tables, help strings), like the
test:///default fixtures; which pyvirt module implements each command is kept from the current
table (new commands start in ``cmd_unsupported``).  The tests compare the table against the live
virsh, never against these files.

Usage: .venv/bin/python dev/virsh_table.py   (then review ``git diff src/pyvirt/cli/tables``)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "pyvirt" / "cli" / "tables"
BOGUS = {**os.environ, "LIBVIRT_DEFAULT_URI": "pyvirt-unreachable:///nowhere", "LC_ALL": "C"}
TEST = {**os.environ, "LIBVIRT_DEFAULT_URI": "test:///default", "LC_ALL": "C"}

_SYN_TOKEN = re.compile(
    r" (\{\[--(?P<a1>[\w-]+)\] <\w+>\}\.\.\.|\[\[--(?P<a2>[\w-]+)\] <\w+>\]\.\.\.|\[<(?P<a3>[\w-]+)>\]\.\.\."
    r"|\[--(?P<o>[\w-]+) <(?P<ot>\w+)>\]|\[--(?P<b>[\w-]+)\]|<(?P<r>[\w-]+)>)")


def virsh(args: list[str], env: dict[str, str], timeout: float = 10) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["virsh", *args], env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(exc.cmd, -1, str(exc.stdout or ""), "TIMEOUT")


#: virsh 9.0's hidden commands (VSH_CMD_FLAG_HIDDEN, group 'virsh'): they run, 'help' does not list them
HIDDEN = ("self-test", "complete")


def groups() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """[(title, keyword, [(command, summary)])] in virsh's order."""
    out: list[tuple[str, str, list[tuple[str, str]]]] = []
    for line in virsh(["help"], TEST).stdout.splitlines():
        m = re.match(r" (.+) \(help keyword '(\w+)'\):$", line)
        if m:
            out.append((m.group(1), m.group(2), []))
        elif line.startswith("    "):
            name, _, summary = line[4:].partition(" ")
            out[-1][2].append((name, summary.strip()))
    for name in HIDDEN:  # not listed by 'help', but 'help NAME' describes them: the NAME line's summary
        text = virsh(["help", name], TEST).stdout
        m = re.search(rf"^    {re.escape(name)} - (.*)$", text, re.M)
        if m:
            next(g for g in out if g[1] == "virsh")[2].append((name, m.group(1).strip()))
    return out


def parse_help(name: str) -> dict:
    """One command's help: description and options (name, kind, required, help) in table order."""
    text = virsh(["help", name], TEST).stdout
    head, _, rest = text.partition("\n  SYNOPSIS\n    ")
    syn, _, rest = rest.partition("\n")
    desc = ""
    if rest.startswith("\n  DESCRIPTION\n    "):
        body = rest[len("\n  DESCRIPTION\n    "):]
        cut = body.find("\n\n  OPTIONS\n")
        desc = body[:cut] if cut >= 0 else body[: -len("\n\n\n")]
    opts: list[dict] = []
    pos = len(name)
    for m in _SYN_TOKEN.finditer(syn, pos):
        assert m.start() == pos, (name, syn[pos:])
        pos = m.end()
        if m.group("a1") or m.group("a2") or m.group("a3"):
            opts.append({"name": m.group("a1") or m.group("a2") or m.group("a3"), "kind": "ARGV",
                         "req": bool(m.group("a1"))})
        elif m.group("o"):
            opts.append({"name": m.group("o"), "kind": "NUMBER" if m.group("ot") == "number" else "STRING",
                         "req": False})
        elif m.group("b"):
            opts.append({"name": m.group("b"), "kind": "BOOL", "req": False})
        else:
            opts.append({"name": m.group("r"), "kind": "DATA", "req": True})
    assert pos == len(syn), (name, syn[pos:])
    helps: list[str] = []
    if "\n  OPTIONS\n" in text:
        block = text.split("\n  OPTIONS\n", 1)[1].rstrip("\n")
        for line in block.split("\n"):
            if line.startswith("    "):
                left = opts[len(helps)]
                m = re.match(r"    (\S+(?: <\w+>)?)( {2,}(.*))?$", line)
                assert m, (name, line)
                if left["kind"] == "DATA" and m.group(1).endswith("<number>"):
                    left["kind"] = "NUMBER"
                helps.append(m.group(3) or "")
            else:  # a help string with a newline in it
                helps[-1] += "\n" + line
    assert len(helps) == len(opts), name
    for o, h in zip(opts, helps, strict=True):
        o["help"] = h
    return {"name": name, "desc": desc, "opts": opts}


def _run_parse(name: str, words: list[str]) -> str:
    """stderr of a run with the default URI unreachable: parse errors, or "failed to connect"."""
    return virsh([name, *words], BOGUS).stderr


def probe(cmd: dict) -> None:
    """Fill in each option's `named` (only --name sets it) and the command's `noconnect`.

    A data word fills the first open positional slot; naming that option afterwards makes virsh
    say "option --x already seen".  So, with every earlier option named, ``y --x v`` tells
    whether x is positional."""
    name, opts = cmd["name"], cmd["opts"]
    required = [w for o in opts if o["req"] for w in (f"--{o['name']}", "x")]
    cmd["noconnect"] = "failed to connect" not in _run_parse(name, required)
    candidates = [o for o in opts if o["kind"] not in ("BOOL", "ARGV")]
    for i, o in enumerate(candidates):
        before = [w for p in candidates[:i] for w in (f"--{p['name']}", "x")]
        others = [w for p in opts if p["req"] and p is not o and p not in candidates[:i]
                  for w in (f"--{p['name']}", "x")]
        o["named"] = "already seen" not in _run_parse(name, [*before, *others, "y", f"--{o['name']}", "x"])
    probe_ctypes(cmd)


#: the test objects that let a command reach its numeric options on test:///default
_FILL = {"domain": "test", "pool": "default-pool", "network": "default", "interface": "eth1",
         "desturi": "test:///default"}
#: which of 2^31, 2^32, 2^63, 2^64 and -1 virsh calls malformed -> the C type it reads the option
#: as (vshCommandOptInt, ...UInt, ...UIntWrap, ...LongLong, ...ULongLong, ...ULongLongWrap;
#: pyvirt.cli.grammar.C_RANGES).  Other patterns (a command that fails before reading the option)
#: leave the type unknown: pyvirt then checks 64 bits only.
_CTYPES = {(True, True, True, True, False): "int", (True, True, True, True, True): "int",
           (False, True, True, True, True): "uint", (False, True, True, True, False): "uintwrap",
           (False, False, True, True, False): "llong", (False, False, False, True, True): "ullong",
           (False, False, False, True, False): "ullongwrap"}


def probe_ctypes(cmd: dict) -> None:
    """Fill in each number option's `ctype` by giving it the first value past each C type."""
    name, opts = cmd["name"], cmd["opts"]
    for o in opts:
        if o["kind"] != "NUMBER":
            continue
        base = [w for p in opts if p["req"] and p is not o
                for w in (f"--{p['name']}", "1" if p["kind"] == "NUMBER" else _FILL.get(p["name"], "x"))]
        refused = []
        for value in ("2147483648", "4294967296", "9223372036854775808", "18446744073709551616", "-1"):
            for _ in range(10):  # virsh 9.0 hangs now and then in commands it runs in a watched job (migrate)
                err = virsh(["-q", "-c", "test:///default", name, *base, f"--{o['name']}", value], TEST,
                            timeout=5).stderr
                if err != "TIMEOUT":
                    break
            refused.append(f"error: Numeric value '{value}' for <{o['name']}> option is malformed" in err)
        if tuple(refused) in _CTYPES:
            o["ctype"] = _CTYPES[tuple(refused)]


def current_modules() -> dict[str, str]:
    """command -> implementing module, read from the current table's source (no import: the
    table may be mid-change)."""
    found: dict[str, str] = {}
    cli = ROOT / "src" / "pyvirt" / "cli"
    for path in [*cli.glob("table*.py"), *OUT.glob("*.py")]:
        for m in re.finditer(r'Cmd\("([\w-]+)", \w+, "(\w+)"', path.read_text()):
            if m.group(2) != "cmd_unsupported":
                found[m.group(1)] = m.group(2)
    return found


def _q(s: str) -> str:
    return repr(s) if '"' in s else '"' + s.replace("\\", "\\\\").replace("\n", "\\n") + '"'


def render(title: str, keyword: str, cmds: list[dict], modules: dict[str, str]) -> str:
    lines = [f'"""virsh 9.0\'s "{title}" commands (help keyword \'{keyword}\'): options and help text.',
             "",
             "Generated by dev/virsh_table.py from the reference virsh; edit `module` to bind a command to",
             "its implementation (``cmd_<name>`` in pyvirt.cli.<module>), regenerate for anything else.",
             '"""', "",
             "from pyvirt.cli.grammar import "
             + ", ".join([*sorted({o["kind"] for c in cmds for o in c["opts"]}), "Cmd", *(["Opt"] if any(
                 c["opts"] for c in cmds) else [])]), "",
             f"GROUP = ({_q(title)}, {_q(keyword)})", "_G = GROUP[0]", "",
             "COMMANDS = ("]
    for c in cmds:
        flags = ""
        if c["noconnect"]:
            flags += ", noconnect=True"
        if c["name"] in HIDDEN:
            flags += ", hidden=True"
        module = modules.get(c["name"], "cmd_unsupported")
        lines.append(f"    Cmd({_q(c['name'])}, _G, {_q(module)}, {_q(c['summary'])},")
        # options as a function: Cmd builds them when the command is parsed (pyvirt.cli.grammar.Cmd.opts)
        lines.append(f"        {_q(c['desc'])}, lambda: (" if c["opts"] else f"        {_q(c['desc'])}{flags}),")
        if not c["opts"]:
            continue
        for o in c["opts"]:
            extra = ((", req=True" if o["req"] else "") + (", named=True" if o.get("named") else "")
                     + (f", ctype={_q(o['ctype'])}" if o.get("ctype") else ""))
            lines.append(f"            Opt({_q(o['name'])}, {o['kind']}, {_q(o['help'])}{extra}),")
        lines.append(f"        ){flags}),")
    lines.append(")")
    return "\n".join(lines) + "\n"


def render_index(order: list[str], index: dict[str, str]) -> str:
    """tables/__init__.py: the group order and command -> group index, so that pyvirt.cli.table
    imports only the group module of the command it runs.  The index is one text (" name:group"
    per command), read by its group_of: as a dict literal its ~250 keys were interned and hashed
    at every command's start (~0.5M instructions); ``INDEX``, the dict, is made from the text
    when something asks for it (help, tests)."""
    lines = ['"""virsh 9.0\'s command table, one module per help group (generated by dev/virsh_table.py).',
             "",
             "Only this index is loaded at start-up: pyvirt.cli.table imports a group's module when one of its",
             'commands is looked up, so `pyvirt list` builds one group\'s option tables, not all fifteen."""',
             "",
             "#: the group modules, in virsh's help order",
             "ORDER = (",]
    lines += [f'    "{k}",' for k in order]
    lines += [")", "",
              "#: command -> the group module that defines it: \" name:group\" per command, in help order, a",
              "#: space after the last (a text: see group_of)",
              "_INDEX = ("]
    for keyword in order:
        row = ""
        for name in (n for n, k in index.items() if k == keyword):
            item = f" {name}:{keyword}"
            if row and len(row) + len(item) > 100:
                lines.append(f'    "{row}"')
                row = ""
            row += item
        lines.append(f'    "{row}"')
    lines += ['    " "', ")", "", "",
              "def group_of(name: str) -> str | None:",
              '    """The group module of command `name` (None: no such command), read off the text."""',
              '    if not name or " " in name or ":" in name:',
              "        return None",
              '    at = _INDEX.find(f" {name}:")',
              "    if at < 0:",
              "        return None",
              "    start = at + len(name) + 2",
              '    return _INDEX[start:_INDEX.index(" ", start)]',
              "", "",
              "def __getattr__(attr: str) -> dict[str, str]:",
              '    """``INDEX``, command -> group as a dict (help, tests), made from the text on first use."""',
              '    if attr != "INDEX":',
              '        raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")',
              '    index = globals()["INDEX"] = dict(item.split(":") for item in _INDEX.split())',
              "    return index",
              ""]
    return "\n".join(lines)


def main() -> int:
    modules = current_modules()
    grouped = groups()
    cmds = {name: {"summary": summary} for _, _, members in grouped for name, summary in members}
    with ThreadPoolExecutor(8) as pool:
        for info in pool.map(parse_help, cmds):
            cmds[info["name"]].update(info)
        list(pool.map(probe, cmds.values()))
    OUT.mkdir(exist_ok=True)
    order = []
    for title, keyword, members in grouped:
        (OUT / f"{keyword}.py").write_text(render(title, keyword, [cmds[n] for n, _ in members], modules))
        order.append(keyword)
    index = {n: keyword for (_, keyword, members) in grouped for n, _ in members}
    (OUT / "__init__.py").write_text(render_index(order, index))
    print(f"{len(cmds)} commands in {len(grouped)} groups written to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
