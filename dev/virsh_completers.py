#!/usr/bin/env python3
"""Compare pyvirt's completion with the reference virsh's, option by option (a development tool).

For every non-bool option of every command it asks both tools' hidden ``complete`` what they
offer for an empty value of that option (``complete -- CMD [--domain D --pool P --network N]
--OPT ''``), on test:///default and on a node file given as the first argument (domains in every
state, several pools, volumes...), and prints each line that differs (stdout compared sorted:
libvirt's test driver lists several objects in hash order).  This is how
pyvirt.cli.completion.COMPLETERS was found and is checked.

Usage: .venv/bin/python dev/virsh_completers.py [NODE.xml DOMAIN POOL NETWORK]
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pyvirt.cli import table  # noqa: E402
from pyvirt.cli.grammar import BOOL  # noqa: E402

PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]


def jobs(uri: str, ctx: dict[str, str]) -> list[tuple[str, list[str]]]:
    out = []
    for c in table.COMMANDS:
        if c.hidden:
            continue
        names = [o.name for o in c.opts]
        for o in c.opts:
            if o.kind == BOOL:
                continue
            pre = [w for k in ("domain", "pool", "network") if k in names and k != o.name for w in (f"--{k}", ctx[k])]
            out.append((uri, [c.name, *pre, f"--{o.name}", ""]))
    return out


def run(tool: list[str], uri: str, words: list[str]) -> tuple[list[str], str, int]:
    try:
        p = subprocess.run([*tool, "-c", uri, "complete", "--", *words], capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return [], "TIMEOUT", -1
    return sorted(p.stdout.splitlines()), p.stderr, p.returncode


def main() -> int:
    todo = jobs("test:///default", {"domain": "test", "pool": "default-pool", "network": "default"})
    if len(sys.argv) == 5:
        node, dom, pool, net = sys.argv[1:]
        todo += jobs(f"test://{Path(node).resolve()}", {"domain": dom, "pool": pool, "network": net})

    def both(job: tuple[str, list[str]]) -> tuple[tuple[str, list[str]], object, object]:
        return job, run(["virsh"], *job), run(PYVIRT, *job)

    with ThreadPoolExecutor(4) as ex:
        results = list(ex.map(both, todo))
    differ = [r for r in results if r[1] != r[2]]
    for (uri, words), theirs, ours in differ:
        print(uri, " ".join(w or "''" for w in words))
        print("   virsh: ", theirs)
        print("   pyvirt:", ours)
    print(f"{len(results) - len(differ)}/{len(results)} identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
