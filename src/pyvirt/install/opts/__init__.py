"""One small parser per virt-install option.

Each parser module exposes `SPECS` (flag -> subopts.Spec) and `APPLY` (flag -> function
``(guest, optstr)``); `registry()` merges them for the CLI and for ``--OPTION=?``.
"""

from __future__ import annotations

from collections.abc import Callable

from pyvirt.install.subopts import Spec


def registry() -> tuple[dict[str, Spec], dict[str, Callable]]:
    from pyvirt.install.opts import devices, disk, domain, network, xmlopt

    specs: dict[str, Spec] = {}
    apply: dict[str, Callable] = {}
    for mod in (domain, disk, network, devices):
        specs.update(mod.SPECS)
        apply.update(mod.APPLY)
    apply["--xml"] = xmlopt.apply_xml
    return specs, apply
