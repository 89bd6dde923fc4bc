"""`pyvirt xml` / `pyvirt-xml`: virt-xml's command line.

The XML options are virt-install's (same names, same sub-option grammar, same parsers);
the actions and the flow live in pyvirt.install.virtxml.
"""

from __future__ import annotations

import argparse
import sys

from pyvirt.cli.install import _DEVICES, _GENERAL, _GUEST, VERSION, _print_suboptions


def _parser() -> argparse.ArgumentParser:
    from pyvirt.install.virtxml import OBJECTS
    p = argparse.ArgumentParser(prog="virt-xml",  # prefixes accepted, as argparse does
                                usage="%(prog)s [options]")
    a = p.add_argument
    a("--version", action="version", version=VERSION)
    a("-c", "--connect", dest="connect")
    a("domain", nargs="?")
    a("--edit", nargs="?", default=-1)
    a("--remove-device", action="store_true")
    a("--add-device", action="store_true")
    a("--build-xml", action="store_true")
    a("--update", action="store_true")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--define", action="store_true", default=None)
    g.add_argument("--no-define", dest="define", action="store_false")
    a("--start", action="store_true")
    a("--print-diff", action="store_true")
    a("--print-xml", action="store_true")
    a("--confirm", action="store_true")
    a("--os-variant", "--osinfo", dest="os_variant")
    a("--list-devices", action="store_true")
    a("-q", "--quiet", action="store_true")
    a("-d", "--debug", action="store_true")
    # virt-install's option groups, same spellings (``-w``, ``--security`` ...)
    for flags, _help in _GENERAL + _DEVICES + _GUEST + [(("--boot",), ""), (("--idmap",), "")]:
        canon = next((f for f in flags if f in OBJECTS), flags[0])
        if canon == "--hostdev":
            flags = (*flags, "--host-device")
        a(*flags, action="append", dest=canon[2:].replace("-", "_"))
    return p


def _list_devices(o: argparse.Namespace) -> int:
    """--list-devices: each device of the domain with its option name and index, the
    selectors --edit N / --remove-device take."""
    from pyvirt.install.virtxml import OBJECTS, Domain, _connect, _lookup
    ci = _connect(o.connect)
    info = _lookup(ci.conn, o.domain or "")
    dom = Domain(ci, ci.conn.get_xml(info.name, inactive=True))
    for flag, kind in OBJECTS.items():
        if not kind.many:
            continue
        for i, el in enumerate(dom.objects(kind), 1):
            desc = " ".join(f"{k}={v}" for k, v in el.attrib.items())
            print(f"{flag} {i}: <{el.tag}{' ' + desc if desc else ''}>")
    return 0


def main(argv: list[str] | None = None) -> int:
    from pyvirt.cli.install import _setup_logging
    from pyvirt.install.guest import log
    argv = list(sys.argv[1:] if argv is None else argv)
    o = _parser().parse_args(argv)
    if _print_suboptions(o):
        return 0
    if o.confirm or o.print_xml or o.print_diff or o.build_xml:
        o.quiet = False
    _setup_logging(o.debug, o.quiet, prog="virt-xml")

    def out(msg: str) -> None:
        log.debug("%s", msg)
        if not o.quiet:
            print(msg)

    from pyvirt.cli.install import report_errors
    from pyvirt.install.virtxml import Fail, run
    if o.list_devices:
        return report_errors(lambda: _list_devices(o), Fail)
    return report_errors(lambda: run(o, out), Fail)


if __name__ == "__main__":
    sys.exit(main())
