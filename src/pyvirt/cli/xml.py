"""`pyvirt xml` / `pyvirt-xml`: virt-xml's command line.

The XML options are virt-install's (same names, same sub-option grammar, same parsers);
the actions and the flow live in pyvirt.install.virtxml.
"""

from __future__ import annotations

import argparse
import sys

from pyvirt.cli.install import _DEVICES, _GENERAL, _GUEST, VERSION, _print_suboptions

# virt-xml's examples where they differ from virt-install's (virtinst's editexample=True)
_EDIT_EXAMPLES = {"--disk": "\n--disk cache=  (unset cache)",
                  "--cpu": ("--cpu host", "--cpu host-model,clearxml=yes")}
_BOOT = (("--boot",), "Configure guest boot settings. Ex:\n--boot hd,cdrom,menu=on\n"
         "--boot init=/sbin/init (for containers)")
_IDMAP = (("--idmap",), "Enable user namespace for LXC container. Ex:\n"
          "--idmap uid.start=0,uid.target=1000,uid.count=10")


def _xml_options() -> list[tuple[tuple[str, ...], str]]:
    """virt-install's XML options in virt-xml's --help order (its add_*_options calls):
    disk, network, graphics, the general ones, the guest ones, boot, idmap, then the other
    devices."""
    general = sorted(_GENERAL, key=lambda row: row[0] != ("--metadata",))  # metadata first
    table = [*_DEVICES[:3], *general, *_GUEST, _BOOT, _IDMAP, *_DEVICES[3:]]
    out = []
    for flags, text in table:
        extra = _EDIT_EXAMPLES.get(flags[-1])
        if isinstance(extra, tuple) and text.endswith(extra[0]):
            text = text[:-len(extra[0])] + extra[1]
        elif isinstance(extra, str):
            text += extra
        out.append((flags, text))
    return out


def _parser() -> argparse.ArgumentParser:
    """virt-xml 4.1's argument parser: its groups, help texts and destinations."""
    from pyvirt.cli.install import _HelpFormatter
    from pyvirt.install.virtxml import OBJECTS
    p = argparse.ArgumentParser(  # prefixes accepted, as argparse does
        prog="virt-xml", usage="%(prog)s [options]", formatter_class=_HelpFormatter,
        description="Edit libvirt XML using command line options.",
        epilog="Use '--option=?' or '--option help' to see available suboptions\n"
               "See man page for examples and full option syntax.")
    a = p.add_argument
    a("domain", nargs="?", help="Domain name, id, or uuid")
    a("--version", action="version", version=VERSION)
    a("-c", "--connect", dest="connect", metavar="URI",
      help="Connect to hypervisor with libvirt URI")
    act = p.add_argument_group("XML actions")
    act.add_argument("--edit", nargs="?", default=-1, help=(
        "Edit VM XML. Examples:\n--edit --disk ...     (edit first disk device)\n"
        "--edit 2 --disk ...   (edit second disk device)\n"
        "--edit all --disk ... (edit all disk devices)\n"
        "--edit target=hda --disk ... (edit disk 'hda')"))
    act.add_argument("--remove-device", action="store_true", help=(
        "Remove specified device. Examples:\n--remove-device --disk 1 (remove first disk)\n"
        "--remove-device --disk all (remove all disks)\n--remove-device --disk /some/path"))
    act.add_argument("--add-device", action="store_true",
                     help="Add specified device. Example:\n--add-device --disk ...")
    act.add_argument("--build-xml", action="store_true", help="Output built device XML. Domain "
                     "is optional but recommended to ensure optimal defaults.")
    out = p.add_argument_group("Output options")
    out.add_argument("--update", action="store_true", help=(
        "Apply changes to the running VM.\nWith --add-device, this is a hotplug operation.\n"
        "With --remove-device, this is a hotunplug operation.\n"
        "With --edit, this is an update device operation."))
    g = out.add_mutually_exclusive_group()
    g.add_argument("--define", action="store_true", default=None, help="Force defining the "
                   "domain. Only required if a --print option was specified.")
    g.add_argument("--no-define", dest="define", action="store_false",
                   help="Force not defining the domain.")
    out.add_argument("--start", action="store_true", help="Start the domain.")
    out.add_argument("--print-diff", action="store_true",
                     help="Only print the requested change, in diff format")
    out.add_argument("--print-xml", action="store_true",
                     help="Only print the requested change, in full XML format")
    out.add_argument("--confirm", action="store_true",
                     help="Require confirmation before saving any results.")
    osg = p.add_argument_group("OS options")
    osg.add_argument("--os-variant", "--osinfo", dest="os_variant", help=(
        "The OS installed in the guest.\nThis is used for deciding optimal defaults like "
        "VirtIO.\nExample values: fedora29, rhel7.0, win10, ...\n"
        "Use '--osinfo list' to see a full list."))
    xml = p.add_argument_group("XML options")
    for flags, text in _xml_options():
        canon = next((f for f in flags if f in OBJECTS), flags[0])
        xml.add_argument(*flags, action="append", dest=canon[2:].replace("-", "_"), help=text)
        if canon == "--hostdev":
            xml.add_argument("--host-device", action="append", dest="hostdev",
                             help=argparse.SUPPRESS)
    misc = p.add_argument_group("Miscellaneous Options")
    misc.add_argument("--list-devices", action="store_true", help=argparse.SUPPRESS)
    misc.add_argument("-q", "--quiet", action="store_true", help="Suppress non-error output")
    misc.add_argument("-d", "--debug", action="store_true", help="Print debugging information")
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
