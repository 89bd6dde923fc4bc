"""Where pyvirtd's resident memory goes: RSS after each stage of its imports, next to libvirtd.

    python bench/daemon_rss.py [--runs 3] [--libvirt] [--before-src OLD/src] [--pool [--defined N]]

A fresh interpreter imports what pyvirtd imports, stage by stage, in pyvirtd's own order (asyncio,
then aiohttp's server half as pyvirtd imports it; then the daemon's modules; last what pyvirtd
loads only with its first domain (the domain model, the command line's builders, the QMP client)
and lxml, loaded with the first XML it parses or writes), and
prints VmRSS after each stage: what a stage costs is the difference.  Then a real pyvirtd
(session URI, empty private state root) is started and its VmRSS read once it is ready, with a
private session libvirtd's (bench/_rom.py) in the same run.  Medians of --runs; RSS does not
depend on machine load, so a few runs suffice.  `--before-src` starts an older tree's pyvirtd
(PYTHONPATH=OLD/src) in each run too, for a before/after of the fresh figure.  `--pool` adds a
pyvirtd restarted with the ``default`` storage pool defined (what nearly every host has) and
`--defined` idle domains, read at its second restart (the first one writes the pool index).

What the stages show is what a memory cut can aim at: a stage that serving does not need can be
loaded lazily; one it needs can only be replaced.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import PrivateDaemon, compile_pyvirt, median, rss_kib, small_domain_xml  # noqa: E402

#: (label, code run in that stage); each runs after the previous ones in one interpreter
STAGES = [
    ("interpreter", "pass"),
    ("hashlib (OpenSSL's libcrypto)", "import hashlib; hashlib.sha256(b'')"),
    ("ssl (asyncio and qemu.qmp import it)", "import ssl"),
    ("asyncio", "import asyncio"),
    ("aiohttp.web, as pyvirtd imports it", "from pyvirt.daemon.httpstack import import_server; import_server()"),
    ("QEMU driver (pyvirt.daemon.driver)", "import pyvirt.daemon.driver"),
    ("storage driver", "import pyvirt.storage.driver"),
    ("HTTP API, host info, config", "import pyvirt.daemon.http_api, pyvirt.daemon.hostinfo, pyvirt.daemon.config,"
                                    " pyvirt.daemon.tls_listener"),
    ("secrets, QEMU user", "import pyvirt.secret.driver, pyvirt.daemon.qemuuser"),
    ("domain model, QEMU argv, QMP (first domain)", "import pyvirt.xml.domain, pyvirt.xml.defaults, pyvirt.qemu.argv,"
                                                    " pyvirt.qemu.qmp"),
    ("lxml.etree (with the first XML parsed)", "import lxml.etree"),
]

_PROBE = """
import json, sys
def rss():
    with open("/proc/self/status") as fh:
        return int(next(l for l in fh if l.startswith("VmRSS:")).split()[1])
out = []
for label, code in json.loads(sys.argv[1]):
    exec(code)
    out.append(rss())
print(json.dumps(out))
"""


def stage_rss() -> list[int]:
    """VmRSS (KiB) after each stage, in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(STAGES)], capture_output=True, text=True,
                         check=True, env=env, timeout=120).stdout
    return json.loads(out)


def fresh_pyvirtd(top: Path, src: str | None = None) -> int:
    daemon = PrivateDaemon(top / "pyvirtd")
    daemon.start(env={"PYTHONPATH": src} if src else None)
    try:
        time.sleep(0.5)  # start-up allocations settle, as bench/lifecycle.py reads it
        return rss_kib(daemon.pid)
    finally:
        daemon.stop()
        shutil.rmtree(daemon.root, ignore_errors=True)


def pooled_pyvirtd(top: Path, src: str | None = None, defined: int = 0) -> int:
    """RSS of a pyvirtd whose state holds the ``default`` pool and `defined` idle domains, at its
    second restart (a listing answered first, as the fresh figure's daemon has)."""
    daemon = PrivateDaemon(top / "pyvirtd-pool")
    env = {"PYTHONPATH": src} if src else None
    try:
        for start in range(3):
            daemon.start(env=env)
            conn = daemon.connect()
            if start == 0:
                if conn.list_pools() == []:  # the first storage call makes the default pool
                    raise RuntimeError("no default pool")
                for i in range(defined):
                    conn.define_xml(small_domain_xml(f"rss-idle-{i:04}"))
            if len(conn.list_domains()) != defined:
                raise RuntimeError("a defined domain went missing")
            time.sleep(0.5)
            rss = rss_kib(daemon.pid)
            daemon.stop()
        return rss
    finally:
        daemon.stop()
        shutil.rmtree(daemon.root, ignore_errors=True)


def fresh_libvirtd() -> int | None:
    from _rom import SessionLibvirtd

    why = SessionLibvirtd.available()
    if why is not None:
        print(f"libvirt left out: {why}", file=sys.stderr)
        return None
    lv = SessionLibvirtd(Path(tempfile.mkdtemp(prefix="pvlv-", dir="/tmp")))
    try:
        lv.start()
        lv.virsh("list", "--all")  # answered once, as pyvirtd's figure is taken once it serves
        time.sleep(0.5)
        return rss_kib(lv.pid())
    finally:
        lv.stop()
        shutil.rmtree(lv.root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--libvirt", action="store_true", help="a private session libvirtd's fresh RSS, same run")
    ap.add_argument("--before-src", default=None, help="an older tree's src/: its fresh pyvirtd too, same runs")
    ap.add_argument("--pool", action="store_true", help="a pyvirtd restarted with the default pool too")
    ap.add_argument("--defined", type=int, default=0, help="with --pool: that many idle domains defined too")
    args = ap.parse_args(argv)
    compile_pyvirt()
    before_src = str(Path(args.before_src).resolve()) if args.before_src else None
    if before_src:
        compile_pyvirt(before_src)
    stages: list[list[int]] = []
    daemons: list[int] = []
    olds: list[int] = []
    pooled: list[int] = []
    old_pooled: list[int] = []
    libvirt: list[int] = []
    top = Path(tempfile.mkdtemp(prefix="pyvirt-bench-rss-"))
    try:
        for _ in range(args.runs):
            stages.append(stage_rss())
            daemons.append(fresh_pyvirtd(top))
            if before_src:
                olds.append(fresh_pyvirtd(top, before_src))
            if args.pool:
                pooled.append(pooled_pyvirtd(top, defined=args.defined))
                if before_src:
                    old_pooled.append(pooled_pyvirtd(top, before_src, args.defined))
            if args.libvirt:
                got = fresh_libvirtd()
                if got is not None:
                    libvirt.append(got)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print(f"pyvirtd resident memory by import stage, medians of {args.runs} (MiB)")
    print(f"{'stage':44} {'RSS after':>10} {'stage adds':>11}")
    before = 0.0
    for i, (label, _code) in enumerate(STAGES):
        after = median([run[i] for run in stages]) / 1024
        print(f"{label:44} {after:10.1f} {after - before if i else after:+11.1f}")
        before = after
    print(f"{'pyvirtd, fresh (session, nothing defined)':44} {median(daemons) / 1024:10.1f}"
          f"  (min {min(daemons) / 1024:.1f}, max {max(daemons) / 1024:.1f})")
    if olds:
        print(f"{'pyvirtd of --before-src, fresh':44} {median(olds) / 1024:10.1f}"
              f"  (min {min(olds) / 1024:.1f}, max {max(olds) / 1024:.1f})")
    with_what = f"default pool + {args.defined} idle" if args.defined else "the default pool"
    for label, got in ((f"pyvirtd restarted, {with_what}", pooled),
                       ("same, pyvirtd of --before-src", old_pooled)):
        if got:
            print(f"{label:44} {median(got) / 1024:10.1f}  (min {min(got) / 1024:.1f}, max {max(got) / 1024:.1f})")
    if libvirt:
        print(f"{'libvirtd 9.0, fresh (private session)':44} {median(libvirt) / 1024:10.1f}"
              f"  (min {min(libvirt) / 1024:.1f}, max {max(libvirt) / 1024:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
