"""One small parser per virt-install option.

Each parser module exposes `SPECS` (flag -> subopts.Spec) and `APPLY` (flag -> function
``(guest, optstr)``); `registry()` merges them for the CLI and for ``--OPTION=?``, adds the
sub-options that are plain XML locations (optmap, applied by generic.with_paths) to every
option, and gives options made only of such locations a table-driven parser.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from pyvirt.install.subopts import Spec

#: virtinst's parsers with ``stub_none = False`` (or their own "none" handling): for them
#: ``--OPT none`` means "no such device" (no disk, no network, no default console...); every
#: other option's parser takes ``none`` as nothing given at all (VirtCLIParser.parse)
NONE_MEANS_SOMETHING = frozenset(("--cpu", "--cputune", "--disk", "--network", "--graphics", "--redirdev",
                                  "--tpm", "--rng", "--memballoon", "--vsock", "--sound", "--console",
                                  "--channel", "--serial", "--parallel"))


def _none_is_nothing(handler: Callable) -> Callable:
    def apply(g: object, optstr: str) -> None:
        if optstr != "none":
            handler(g, optstr)
    return apply


@cache
def registry() -> tuple[dict[str, Spec], dict[str, Callable]]:
    from pyvirt.install import modelopt, optmap
    from pyvirt.install.opts import devices, disk, domain, generic, network, xmlopt

    specs: dict[str, Spec] = {}
    apply: dict[str, Callable] = {}
    for mod in (domain, disk, network, devices):
        specs.update(mod.SPECS)
        apply.update(mod.APPLY)
    for flag in list(specs):
        keys = generic.table_keys(flag)
        if keys:
            specs[flag].add_keys(keys)
            apply[flag] = generic.with_paths(flag, apply[flag], specs[flag])
    handled = {generic.table_flag(f) for f in specs}
    for flag in optmap.PATHS:
        if flag not in handled:
            specs[flag] = generic.table_spec(flag)
            apply[flag] = modelopt.table_model(flag, specs[flag])
    from pyvirt.install.introspect import XML_OPTIONS
    for flag in XML_OPTIONS:
        if flag in apply:
            apply[flag] = generic.xml_option(flag, apply[flag], specs[flag])
            if flag not in NONE_MEANS_SOMETHING:
                apply[flag] = _none_is_nothing(apply[flag])
    apply["--xml"] = xmlopt.apply_xml
    return specs, apply
