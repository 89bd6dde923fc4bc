"""`pyvirt clone` / `pyvirt-clone`: virt-clone's command line (the work is in
pyvirt.install.clone)."""

from __future__ import annotations

import argparse
import sys

from pyvirt.cli.install import VERSION


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="virt-clone",  # prefixes accepted, as argparse does
                                usage="%(prog)s --original [NAME] ...")
    a = p.add_argument
    a("--version", action="version", version=VERSION)
    a("-c", "--connect", dest="connect")
    a("-o", "--original", dest="original_guest")
    a("--original-xml")
    a("--auto-clone", action="store_true")
    a("-n", "--name", dest="new_name")
    a("-u", "--uuid", dest="new_uuid")
    a("--reflink", action="store_true")
    a("-f", "--file", dest="new_diskfile", action="append")
    a("--force-copy", dest="target", action="append")
    a("--skip-copy", action="append")
    a("--nonsparse", action="store_false", dest="sparse", default=True)
    a("--preserve-data", "--preserve", action="store_false", dest="preserve", default=True)
    a("--nvram", dest="new_nvram")
    a("-m", "--mac", dest="new_mac", action="append")
    a("--clone-running", action="store_true", help=argparse.SUPPRESS)
    a("--check", action="append")
    a("--print-xml", action="store_true", dest="xmlonly")
    a("--__test-nodry", action="store_true", dest="test_nodry", help=argparse.SUPPRESS)
    a("--replace", action="store_true")
    a("--prompt", action="store_true")
    a("--force", action="store_true")
    a("-q", "--quiet", action="store_true")
    a("-d", "--debug", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    from pyvirt.cli.install import _setup_logging
    argv = list(sys.argv[1:] if argv is None else argv)
    o = _parser().parse_args(argv)
    o.quiet = o.quiet or o.xmlonly
    _setup_logging(o.debug, o.quiet, prog="virt-clone")
    from pyvirt.cli.install import report_errors
    from pyvirt.install.clone import CloneError
    from pyvirt.install.clone_flow import run
    return report_errors(lambda: run(o), CloneError)


if __name__ == "__main__":
    sys.exit(main())
