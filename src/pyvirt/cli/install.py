"""`pyvirt install` / `pyvirt-install`: virt-install's command line.

Argument definitions and the top-level flow live here; each option's sub-option grammar
and XML live in pyvirt.install.opts, defaults in pyvirt.install.defaults.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pyvirt.install.guest import log

INSTALL_METHODS = "--location URL, --cdrom CD/ISO, --pxe, --import, --boot hd|cdrom|..."
DEVICE_OPTS = ["--disk", "--network", "--graphics", "--video", "--console", "--serial",
               "--parallel", "--channel", "--controller", "--input", "--rng", "--tpm",
               "--memballoon", "--watchdog", "--sound", "--filesystem", "--panic",
               "--redirdev", "--smartcard", "--vsock", "--host-device"]
GUEST_OPTS = ["--memory", "--vcpus", "--cpu", "--features", "--clock", "--events",
              "--sysinfo", "--seclabel", "--launchSecurity", "--memdev", "--xml", "--iothreads",
              "--numatune", "--memtune", "--blkiotune", "--memorybacking", "--resource",
              "--cputune", "--keywrap", "--idmap", "--qemu-commandline", "--iommu", "--shmem",
              "--hostdev", "--audio", "--mdev"]


class Fail(Exception):
    """A virt-install fatal error: printed as 'ERROR    msg', exit 1."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="virt-install", allow_abbrev=False,
                                usage="%(prog)s --name NAME --memory MB STORAGE INSTALL [options]")
    a = p.add_argument
    a("--connect", dest="connect")
    a("-n", "--name")
    a("--memory", action="append")
    a("-r", "--ram", type=int, dest="oldmemory")
    a("--vcpus", action="append")
    a("--cpu", action="append")
    a("--cpuset")
    a("--metadata", action="append")
    a("--xml", action="append")
    a("-u", "--uuid")
    a("--description")
    a("-c", dest="cdrom_short")
    a("--cdrom")
    a("-l", "--location")
    a("--pxe", action="store_true")
    a("--import", action="store_true", dest="import_install")
    a("--livecd", action="store_true")
    a("-x", "--extra-args", action="append")
    a("--initrd-inject", action="append")
    a("--unattended", nargs="?", const=1)
    a("--install")
    a("--reinstall")
    a("--cloud-init", nargs="?", const=1)
    a("--test-media-detection")
    a("--test-stub-command", action="store_true")
    a("--boot", action="append")
    a("--init")
    a("--os-variant", "--osinfo", dest="os_variant")
    a("--os-type", dest="old_os_type")
    for opt in DEVICE_OPTS + GUEST_OPTS:
        if opt in ("--memory", "--vcpus", "--cpu", "--xml"):
            continue
        a(opt, action="append", nargs="?" if opt == "--sound" else None,
          const=None if opt != "--sound" else "default")
    a("--hostdev2", help=argparse.SUPPRESS)
    a("-f", "--file", dest="file_paths", action="append")
    a("-s", "--file-size", type=float, action="append", dest="disksize")
    a("--nonsparse", action="store_false", default=True, dest="sparse")
    a("--nodisks", action="store_true")
    a("--nonetworks", action="store_true")
    a("-b", "--bridge", action="append")
    a("-m", "--mac", action="append")
    a("--vnc", action="store_true")
    a("--vncport", type=int)
    a("--vnclisten")
    a("-k", "--keymap")
    a("--sdl", action="store_true")
    a("--nographics", action="store_true")
    g = p.add_mutually_exclusive_group()
    g.add_argument("-v", "--hvm", action="store_const", const="hvm", dest="os_type")
    g.add_argument("-p", "--paravirt", action="store_const", const="xen", dest="os_type")
    g.add_argument("--container", action="store_const", const="exe", dest="os_type")
    a("--virt-type")
    a("--arch")
    a("--machine")
    a("--accelerate", action="store_true")
    a("--noapic", action="store_true")
    a("--noacpi", action="store_true")
    a("--autostart", action="store_true")
    a("--transient", action="store_true")
    a("--destroy-on-exit", action="store_true")
    a("--wait", type=int, const=-1, nargs="?")
    a("--autoconsole")
    a("--noautoconsole", action="store_const", const="none", dest="autoconsole")
    a("--noreboot", action="store_true")
    a("--print-xml", nargs="?", const="all", dest="xmlonly")
    a("--print-step", dest="xmlstep")
    a("--dry-run", action="store_true", dest="dry")
    a("--check", action="append")
    a("-q", "--quiet", action="store_true")
    a("-d", "--debug", action="store_true")
    a("--prompt", action="store_true")
    a("--force", action="store_true")
    return p


def _help_request(argv: list[str]) -> str | None:
    """``--disk=?`` / ``--disk help`` / ``--disk ?``: the option whose sub-options to list."""
    for i, arg in enumerate(argv):
        if arg.endswith("=?") or arg.endswith("=help"):
            return arg.split("=", 1)[0]
        if arg.startswith("--") and i + 1 < len(argv) and argv[i + 1] in ("?", "help"):
            return arg
    return None


def _print_suboptions(argv: list[str]) -> bool:
    from pyvirt.install.opts import registry
    specs, _ = registry()
    shown = False
    for i, arg in enumerate(argv):
        flag = None
        if arg.endswith("=?") or arg.endswith("=help"):
            flag = arg.split("=", 1)[0]
        elif arg.startswith("--") and i + 1 < len(argv) and argv[i + 1] in ("?", "help"):
            flag = arg
        if flag is None:
            continue
        spec = specs.get(flag)
        if flag == "--check":
            print("--check options:")
            for k in ("all", "disk_size", "mac_in_use", "path_exists", "path_in_use"):
                print(f"  {k}")
            print("")
            shown = True
            continue
        if spec is None:
            continue
        print(f"{flag} options:")
        for k in spec.listing():
            print(f"  {k}")
        print("")
        shown = True
    return shown


def _setup_logging(debug: bool, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if debug:
        fmt = "[%(asctime)s virt-install %(process)d] %(levelname)s (%(module)s:%(lineno)d) %(message)s"
        handler.setFormatter(logging.Formatter(fmt, "%a, %d %b %Y %H:%M:%S"))
        level = logging.DEBUG
    else:
        handler.setFormatter(logging.Formatter("%(levelname)-8s %(message)s"))
        level = logging.ERROR if quiet else logging.WARNING
    handler.setLevel(level)
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG)
    log.propagate = False


QUIET = False


def out(msg: str, force: bool = False) -> None:
    """virt-install's print_stdout: suppressed by --quiet, always logged at debug."""
    log.debug("%s", msg)
    if force or not QUIET:
        print(msg)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if _help_request(argv) and _print_suboptions(argv):
        return 0
    opts = _parser().parse_args(argv)
    global QUIET
    QUIET = opts.quiet or bool(opts.xmlonly or opts.xmlstep)
    _setup_logging(opts.debug, QUIET)
    try:
        from pyvirt.install.flow import run
        return run(opts, out)
    except Fail as exc:
        log.error("%s", exc)
        return 1
    except (ValueError, RuntimeError) as exc:
        log.debug("", exc_info=True)
        log.error("%s", exc)
        return 1
    except Exception as exc:  # libvirt-style errors from the connection
        from pyvirt.api import PyvirtError
        if isinstance(exc, PyvirtError):
            log.error("%s", exc)
            return 1
        raise


if __name__ == "__main__":
    # Run through the package module, so flow's `Fail` is the class main() catches.
    from pyvirt.cli.install import main as _main
    sys.exit(_main())
