#!/usr/bin/env python3
"""Parity sweep: many argument forms of every virsh command, through the real virsh 9.0 and
through pyvirt, on test:///default; prints how many lines are identical (stdout, stderr, exit).

A development tool for finding general differences, not a test: the lines are generated from
pyvirt's command table (the options virsh 9.0 has), each command with its required arguments
filled by the objects test:///default holds, then varied: nothing, a missing argument, an unknown
name, the domain by ID and UUID and inactive, every bool flag, every valued option as
``--opt value``/``--opt=value``/bad value/missing value, the exclusive-flag pairs, an extra word,
``--help`` and ``help CMD``; every word of an option that takes one of libvirt's enums (its
completer's list: shutdown modes, pool types, file formats, perf events...), and the plain line on
a read-only connection (``-r``: libvirt refuses before the driver is asked).  Each line is one fresh process of each tool (the test driver's state
resets per process).  Values that change from run to run (CPU time, clock-based counters, random
UUIDs and MACs) are masked.  The oracle tests keep the lines fixed with it (tests/e2e).

Usage: .venv/bin/python dev/virsh_sweep.py [-j N] [--only CMD,...] [--lines FILE] [--out DIR]
Writes DIR/same.txt, DIR/diff.txt (each differing line with both answers), DIR/hung.txt (lines
virsh never answered, see RETRIES) and prints the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pyvirt.cli import completion, table  # noqa: E402
from pyvirt.cli.grammar import ARGV, BOOL, DATA  # noqa: E402
from pyvirt.cli.tables import INDEX  # noqa: E402

UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"
NET_UUID = "dd8fe884-6c02-601e-7551-cca97df1c5df"
#: commands that wait for a terminal or for events without end
SKIP = {"console", "connect"}
#: a good value for a required option, by option name and the command's group
GOOD = {
    "domain": "test", "pool": "default-pool", "network": "default", "interface": "eth1", "iface": "eth1",
    "vol": "v1", "snapshotname": "s1", "checkpointname": "c1", "file": "/nonexistent/x.xml",
    "xml": "/nonexistent/x.xml", "device": "vda", "target": "vda", "source": "/tmp/x.img", "name": "n1",
    "capacity": "1M", "type": "dir", "keycode": "KEY_A", "count": "2", "size": "2048", "kilobytes": "2048",
    "vcpulist": "0", "cpulist": "0", "vcpu": "0", "cpumap": "0", "signame": "hup", "pid": "1",
    "mac": "aa:bb:cc:dd:ee:ff", "state": "up", "secret": "11111111-2222-3333-4444-555555555555",
    "nwfilter": "f1", "binding": "tap0", "port": "11111111-2222-3333-4444-555555555555",
    "alias": "ua-x", "format": "qemu-argv", "cmd": "info", "newname": "n2", "new-name": "n2",
    "title": "t", "action": "destroy", "type-arg": "on_poweroff", "bandwidth": "10", "downtime": "10",
    "timeout": "1", "seconds": "1", "path": "/tmp", "dir": "/tmp", "cap": "pci", "emulator": "/usr/bin/qemu",
    "arch": "x86_64", "machine": "pc", "virttype": "qemu", "uri": "test:///default", "desturi": "test:///default",
    "command": "ls", "user": "root", "password": "pw", "keys": "/nonexistent/keys",
    "iothread": "1", "id": "1", "pagesize": "4", "pages": "1", "cellno": "0", "cpu": "0",
    "target-type": "suspend", "duration": "0", "period": "1", "threshold": "100", "pool-type": "dir",
}
BY_CMD = {
    ("domif-setlink", "interface"): "aa:bb:cc:dd:ee:ff", ("domif-getlink", "interface"): "aa:bb:cc:dd:ee:ff",
    ("domifstat", "interface"): "testnet0", ("domiftune", "interface"): "aa:bb:cc:dd:ee:ff",
    ("detach-interface", "type"): "network", ("attach-interface", "type"): "network",
    ("attach-interface", "source"): "default", ("set-lifecycle-action", "type"): "poweroff",
    ("nodedev-dumpxml", "device"): "computer", ("nodedev-info", "device"): "computer",
    ("nodedev-detach", "device"): "computer", ("nodedev-reattach", "device"): "computer",
    ("nodedev-reset", "device"): "computer", ("nodedev-destroy", "device"): "computer",
    ("nodedev-undefine", "device"): "computer", ("nodedev-start", "device"): "computer",
    ("nodedev-autostart", "device"): "computer", ("change-media", "path"): "hda",
    ("send-key", "keycode"): "KEY_A", ("vol-create-as", "name"): "v2", ("pool-create-as", "name"): "p2",
    ("pool-define-as", "name"): "p2", ("net-create-as", "name"): "n2", ("vol-clone", "newname"): "v2",
    ("vol-upload", "file"): "/dev/null", ("vol-download", "file"): "/tmp/pyvirt-sweep-dl",
}
#: what a command needs made first (test:///default has no volume, snapshot or checkpoint)
PREFIX = {"vol": "vol-create-as default-pool v1 1M; ", "snapshotname": "snapshot-create-as test s1; ",
          "checkpointname": "checkpoint-create-as test c1; "}
EXCLUSIVE = ("live", "config", "current", "persistent", "inactive", "all", "name", "uuid", "table",
             "details", "sync", "pretty", "now", "wait", "async", "abort", "pivot")
_MASKS = [
    (re.compile(r"^(CPU time:\s+)[0-9.]+s$", re.M), r"\1Ns"),
    (re.compile(r"^((?:vda (?:rd_req|rd_bytes|wr_req|wr_bytes|errs)| number of [a-z ]+:| error count:)\s+)\d+$",
                re.M), r"\1N"),
    (re.compile(r"(?<![0-9a-f-])(?!6695eb01|dd8fe884)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
     "UUID"),
    (re.compile(r"52:54:00(:[0-9a-f]{2}){3}"), "MAC"),
    (re.compile(r"^(Domain (?:snapshot|checkpoint)) \d{10} created$", re.M), r"\1 TIME created"),  # named by the clock
    (re.compile(r"^(Screenshot saved to test-)[0-9:-]+(\.png)", re.M), r"\1TIME\2"),
    # the test driver's interface counters are derived from the clock (testDomainInterfaceStats),
    # and a snapshot records the second it was taken: read at different instants by each tool
    (re.compile(r"^(\S+ (?:rx|tx)_(?:bytes|packets|errs|drop) )\d+$", re.M), r"\1N"),
    (re.compile(r"<creationTime>\d+</creationTime>"), "<creationTime>N</creationTime>"),
]


#: a line run on a read-only connection (virsh -r) starts so
READONLY = "-r "


def _enum_words(cmd: str, opt: str) -> list[str]:
    """The words of the libvirt enum the option takes, as virsh's completer lists them (none when
    its completer is not an enum's)."""
    kind = completion.COMPLETERS.get(f"{cmd} --{opt}", completion.COMPLETERS.get(f"--{opt}"))
    return list(completion._ENUMS[kind]()) if kind in completion._ENUMS else []


def _good(cmd: str, opt: str) -> str:
    return BY_CMD.get((cmd, opt), GOOD.get(opt, "x"))


def lines_for(name: str) -> list[str]:
    """The argument forms of one command (see the module docstring)."""
    cmd = table.lookup(name)
    if cmd is None or name in SKIP:
        return []
    req = [o for o in cmd.opts if o.req and o.kind != BOOL]
    prefix = "".join(sorted({PREFIX[o.name] for o in req if o.name in PREFIX}))
    base = " ".join([name, *[_good(name, o.name) for o in req]])
    out = [name, f"{name} --help", f"help {name}", prefix + base, f"{prefix}{base} extra"]
    if req:
        out.append(" ".join([name, *[f"--{o.name}={_good(name, o.name)}" for o in req]]))
        out.append(" ".join([name, *[f"--{o.name} {_good(name, o.name)}" for o in reversed(req)]]))
        for i in range(len(req)):
            words = [_good(name, r.name) for r in req]
            words[i] = "nosuch"
            out.append(" ".join([name, *words]))
        if req[0].name == "domain":
            rest = base[len(name) + len(" test"):]
            out += [f"{name} 1{rest}", f"{name} {UUID}{rest}", f"{name} 7{rest}", f"destroy test; {base}",
                    f"suspend test; {base}"]
        if req[0].name == "network":
            out.append(base.replace(" default", " " + NET_UUID, 1))
    for o in cmd.opts:
        if o.req and o.kind != BOOL:
            continue
        if o.kind == BOOL:
            out.append(f"{prefix}{base} --{o.name}")
        elif o.kind == ARGV:
            out += [f"{prefix}{base} --{o.name} a", f"{prefix}{base} a b"]
        else:
            out += [f"{prefix}{base} --{o.name} 1", f"{prefix}{base} --{o.name}=x", f"{prefix}{base} --{o.name}",
                    f"{prefix}{base} --{o.name}=", f"{prefix}{base} --{o.name} -5"]
            if o.kind == DATA:
                out.append(f"{prefix}{base} {_good(name, o.name)}")
            # the event commands wait for events without end unless told when to stop
            wait = " --timeout 1" if name.endswith("event") and cmd.opt("timeout") else ""
            out += [f"{prefix}{base} --{o.name} {word}{wait}" for word in _enum_words(name, o.name)]
    out.append(f"{READONLY}{prefix}{base}")
    flags = [o.name for o in cmd.opts if o.kind == BOOL and o.name in EXCLUSIVE]
    for i, a in enumerate(flags):
        for b in flags[i + 1:]:
            out.append(f"{prefix}{base} --{a} --{b}")
    return list(dict.fromkeys(out))


SCRATCH = tempfile.mkdtemp(prefix="virsh-sweep-")


#: virsh 9.0 hangs at random in the commands it runs in a watched worker thread (migrate, save,
#: dump, managedsave: virshWatchJob's main loop can miss the worker's quit when the call fails
#: at once); such a line answers in well under a second when it does not hang, so a try that
#: outlives TRY_TIMEOUT is run again, up to RETRIES times, before the line is set aside as a
#: virsh hang (reported on its own, not counted as a difference)
RETRIES = 10
FIRST_TIMEOUT = 8  # a loaded host: the first try of any line gets longer
TRY_TIMEOUT = 4
HUNG = ("TIMEOUT", "", -1)


def run(tool: list[str], line: str) -> tuple[str, str, int]:
    env = {**os.environ, "LC_ALL": "C", "EDITOR": "cat", "VISUAL": "cat"}
    for attempt in range(RETRIES):
        try:  # in a scratch folder: screenshot, save, dump... write files named by the line's words
            options = ["-c", "test:///default"] + (["-r"] if line.startswith(READONLY) else [])
            proc = subprocess.run([*tool, *options, line.removeprefix(READONLY)], capture_output=True, text=True,
                                  errors="replace", timeout=FIRST_TIMEOUT if attempt == 0 else TRY_TIMEOUT,
                                  env=env, stdin=subprocess.DEVNULL, cwd=SCRATCH)
            out, err, rc = proc.stdout, proc.stderr, proc.returncode
            break
        except subprocess.TimeoutExpired:
            continue
    else:
        return HUNG
    for rx, rep in _MASKS:
        out, err = rx.sub(rep, out), rx.sub(rep, err)
    return out, err, rc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default="/tmp/virsh-sweep")
    ap.add_argument("--lines", help="a file of command lines to run instead of the generated ones")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(INDEX)
    if args.lines:
        lines = Path(args.lines).read_text().splitlines()
    else:
        lines = [ln for n in names for ln in lines_for(n)]
    virsh = [shutil.which("virsh") or "virsh"]
    pyvirt = [sys.executable, "-m", "pyvirt.cli.main"]

    def both(line: str) -> tuple[str, tuple, tuple]:
        return line, run(virsh, line), run(pyvirt, line)

    with ThreadPoolExecutor(args.j) as pool:
        results = list(pool.map(both, lines))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    hung = [ln for ln, a, b in results if a == HUNG and b != HUNG]
    same = [ln for ln, a, b in results if a == b]
    differ = [(ln, a, b) for ln, a, b in results if a != b and a != HUNG]
    with open(out / "same.txt", "w") as f:
        f.write("\n".join(same) + "\n")
    with open(out / "hung.txt", "w") as f:
        f.write("".join(f"{ln}\n" for ln in hung))
    with open(out / "diff.txt", "w") as f:
        for ln, a, b in differ:
            f.write(f"=== {ln}\n--- virsh rc={a[2]}\n{a[0]}{a[1]}--- pyvirt rc={b[2]}\n{b[0]}{b[1]}\n")
    shutil.rmtree(SCRATCH, ignore_errors=True)
    cmds = {ln.split()[0] for ln, _, _ in differ}
    print(f"lines {len(results)}, identical {len(same)}, differing {len(differ)} (in {len(cmds)} commands), "
          f"virsh hung on every try {len(hung)} (hung.txt; not counted as differences)")


if __name__ == "__main__":
    main()
