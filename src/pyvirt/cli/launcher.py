"""Write `pyvirt`'s (and `pyvirt-dbus`'s) own launcher over the console script pip generates.

    python -m pyvirt.cli.launcher [--path BIN/pyvirt [--script NAME]]

pip's console script starts the interpreter with ``site`` enabled: it reads every ``.pth`` file
(setuptools' ``distutils-precedence.pth`` imports ``_distutils_hack`` on every start), looks for
a user site and ``sitecustomize``, all to build a ``sys.path`` that is the same on every run:
~2-3 ms of CPU per command, a tenth of ``pyvirt list`` on ``test:///default`` (bench/cli.py).

The launcher this writes runs the same interpreter with ``-S`` (no ``site``) and sets what
``site`` would have set, resolved once here: the path entries it added (site-packages, and an
editable install's source folder from its ``.pth``) and the venv's ``sys.prefix``.  Before using
them it compares the modification times of the site folders and their ``.pth`` files with the
ones recorded here (one ``stat`` each); when any changed (a package installed or removed since),
it runs ``site`` as usual, so an install after this one is never missed.  ``PYTHONPATH`` is
honoured as by any interpreter (its entries come first).  The launcher ends with the script's
entry point (:func:`pyvirt.cli.main.run`, :func:`pyvirt.dbus.main.main`), like pip's script.

The scripts it writes are the ones whose start is waited for: ``pyvirt`` (every command) and
``pyvirt-dbus`` (a D-Bus client that activates it waits for its first answer; ``site`` is ~9 M
instructions of its ~250 M until then).

pip cannot write this itself: it replaces a wheel script's whole ``#!python`` line, options
included, with the bare interpreter path.  So the Makefile's ``venv`` step runs this module
after ``pip install``; a plain ``pip install .`` works without it, one site pass slower.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import sysconfig

NAME = "pyvirt"
#: script name -> (its import, its call): the entry points pip's console scripts run
SCRIPTS = {"pyvirt": ("from pyvirt.cli.main import run", "run()"),
           "pyvirt-dbus": ("from pyvirt.dbus.main import main", "sys.exit(main())")}
#: what marks a file in bin/ as one this module may replace: pip's script for its entry, or ours
OWN_MARK = "# pyvirt launcher: written by python -m pyvirt.cli.launcher"

_PROBE = ("import json, site, sys, pyvirt; "
          "dirs = list(site.getsitepackages()) + ([site.getusersitepackages()] if site.ENABLE_USER_SITE else []); "
          "print(json.dumps({'path': sys.path[1:], 'prefix': sys.prefix, 'exec_prefix': sys.exec_prefix, "
          "'dirs': dirs, 'pyvirt': pyvirt.__file__}))")
#: the same interpreter without site, given the resolved entries: where it finds pyvirt
_CHECK = "import json, sys; sys.path.extend(json.loads(sys.argv[1])); import pyvirt; print(pyvirt.__file__)"

TEMPLATE = '''#!{python} -S
{mark}
# `-S`: no site.py; the sys.path it would build is below, with the stamps that show it is still
# right (see pyvirt/cli/launcher.py).  Re-run that module after installing into this environment
# to refresh them; until then a changed site folder makes this run site.py as usual.
import sys
from posix import stat

STAMPS = {stamps!r}


def fresh():
    for path, mtime in STAMPS:
        try:
            now = stat(path).st_mtime_ns
        except OSError:
            now = None
        if now != mtime:
            return False
    return True


if fresh():
    del sys.path[0]  # this script's folder, as -I would: nothing is imported from bin/
    sys.path.extend({paths!r})
    sys.prefix, sys.exec_prefix = {prefix!r}, {exec_prefix!r}
else:
    import site

    site.main()
{entry}

{call}
'''


def _stamp(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def resolve(python: str) -> dict[str, object]:
    """What site gives `python` (without PYTHONPATH, which every run adds on its own): the
    entries it adds to sys.path, the prefixes, and the stamps of what it read to get them."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONNOUSERSITE")}
    probe = [python, "-c", _PROBE]
    full = json.loads(subprocess.run(probe, env=env, check=True, capture_output=True, text=True, cwd="/").stdout)
    bare = json.loads(subprocess.run([python, "-S", "-c", "import json, sys; print(json.dumps(sys.path[1:]))"],
                                     env=env, check=True, capture_output=True, text=True, cwd="/").stdout)
    added = [p for p in full["path"] if p not in bare]
    found = subprocess.run([python, "-S", "-c", _CHECK, json.dumps(added)], env=env, capture_output=True, cwd="/",
                           text=True).stdout.strip()
    if found != full["pyvirt"]:  # e.g. an editable install through an import hook in a .pth file
        raise SystemExit(f"error: without site.py {python} finds pyvirt at {found or 'no place'}, not at "
                         f"{full['pyvirt']}; the console script is left as pip wrote it")
    stamps: list[tuple[str, int | None]] = []
    for folder in full["dirs"]:
        stamps.append((folder, _stamp(folder)))
        if os.path.isdir(folder):
            stamps += [(os.path.join(folder, f), _stamp(os.path.join(folder, f)))
                       for f in sorted(os.listdir(folder)) if f.endswith(".pth")]
    return {"paths": added, "prefix": full["prefix"], "exec_prefix": full["exec_prefix"], "stamps": stamps}


def render(python: str, resolved: dict[str, object], script: str = NAME) -> str:
    entry, call = SCRIPTS[script]
    return TEMPLATE.format(python=python, mark=OWN_MARK, entry=entry, call=call, **resolved)


def target_path(script: str = NAME) -> str:
    return os.path.join(sysconfig.get_path("scripts"), script)


def install(path: str, python: str, script: str = NAME, resolved: dict[str, object] | None = None) -> None:
    """Replace pip's console script `script` (or an older launcher) at `path` with a fresh launcher."""
    from pyvirt.atomicio import write_atomic

    try:
        with open(path, encoding="utf-8") as fh:
            current = fh.read(4096)
    except FileNotFoundError:
        raise SystemExit(f"error: {path}: no {script} console script to replace (pip install pyvirt first)") from None
    pip_mark = SCRIPTS[script][0].rsplit(" ", 1)[0] + " "  # "from pyvirt.cli.main import "
    if pip_mark not in current and OWN_MARK not in current:
        raise SystemExit(f"error: {path} is not {script}'s console script; left as it is")
    write_atomic(path, render(python, resolved or resolve(python), script), mode=0o755, durable=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pyvirt.cli.launcher", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", default=None, help="the script to replace (default: each of this environment's "
                    f"{', '.join(f'bin/{name}' for name in SCRIPTS)})")
    ap.add_argument("--script", default=NAME, choices=sorted(SCRIPTS), help="whose script --path is")
    args = ap.parse_args(argv)
    targets = [(args.path, args.script)] if args.path else [(target_path(name), name) for name in SCRIPTS]
    resolved = resolve(sys.executable)
    for path, script in targets:
        install(path, sys.executable, script, resolved)
        print(f"{path}: {script}'s launcher (python -S, site's paths resolved)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
