"""`pyvirt install` / `pyvirt-install`: virt-install's command line.

Argument definitions and the top-level flow live here; each option's sub-option grammar
and XML live in pyvirt.install.opts, defaults in pyvirt.install.defaults.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from pyvirt.install.errors import INSTALL_METHODS, Fail  # noqa: F401  (re-exported)
from pyvirt.install.guest import log

VERSION = "4.1.0"  # the virt-install release whose command line this mirrors


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """virt-install's formatter: a help text with newlines keeps its lines (examples)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        if "\n" in text:
            return text.splitlines()
        return super()._split_lines(text, width)


S = argparse.SUPPRESS
# (flags, help) of the append-style sub-option options, per virt-install --help group.
_GENERAL = [
    (("--memory",), "Configure guest memory allocation. Ex:\n--memory 1024 (in MiB)\n"
     "--memory memory=1024,currentMemory=512"),
    (("--vcpus",), "Number of vCPUs to configure for your guest. Ex:\n--vcpus 5\n"
     "--vcpus 5,maxvcpus=10,cpuset=1-4,6,8\n--vcpus sockets=2,cores=4,threads=2"),
    (("--cpu",), "CPU model and features. Ex:\n--cpu coreduo,+x2apic\n"
     "--cpu host-passthrough\n--cpu host"),
    (("--metadata",), "Configure guest metadata. Ex:\n--metadata name=foo,title=\"My pretty "
     "title\",uuid=...\n--metadata description=\"My nice long description\""),
    (("--xml",), "Perform raw XML XPath options on the final XML. Example:\n"
     "--xml ./cpu/@mode=host-passthrough\n--xml ./devices/disk[2]/serial=new-serial\n"
     "--xml xpath.delete=./clock"),
]
_DEVICES = [
    (("--disk",), "Specify storage with various options. Ex.\n--disk size=10 (new 10GiB "
     "image in default location)\n--disk /my/existing/disk,cache=none\n"
     "--disk device=cdrom,bus=scsi\n--disk=?"),
    (("-w", "--network"), "Configure a guest network interface. Ex:\n--network bridge=mybr0\n"
     "--network network=my_libvirt_virtual_net\n--network network=mynet,model=virtio,"
     "mac=00:11...\n--network none\n--network help"),
    (("--graphics",), "Configure guest display settings. Ex:\n--graphics spice\n"
     "--graphics vnc,port=5901,listen=0.0.0.0\n--graphics none"),
    (("--controller",), "Configure a guest controller device. Ex:\n"
     "--controller type=usb,model=qemu-xhci\n--controller type=scsi,model=virtio-scsi"),
    (("--input",), "Configure a guest input device. Ex:\n--input tablet\n"
     "--input keyboard,bus=usb"),
    (("--serial",), "Configure a guest serial device"),
    (("--parallel",), "Configure a guest parallel device"),
    (("--channel",), "Configure a guest communication channel"),
    (("--console",), "Configure a text console connection between the guest and host"),
    (("--hostdev",), "Configure physical USB/PCI/etc host devices to be shared with the guest"),
    (("--filesystem",), "Pass host directory to the guest. Ex: \n"
     "--filesystem /my/source/dir,/dir/in/guest\n--filesystem template_name,/,type=template"),
    (("--sound",), "Configure guest sound device emulation"),
    (("--audio",), "Configure host audio backend for sound devices"),
    (("--watchdog",), "Configure a guest watchdog device"),
    (("--video",), "Configure guest video hardware."),
    (("--smartcard",), "Configure a guest smartcard device. Ex:\n--smartcard mode=passthrough"),
    (("--redirdev",), "Configure a guest redirection device. Ex:\n"
     "--redirdev usb,type=tcp,server=192.168.1.1:4000"),
    (("--memballoon",), "Configure a guest memballoon device. Ex:\n--memballoon model=virtio"),
    (("--tpm",), "Configure a guest TPM device. Ex:\n--tpm /dev/tpm"),
    (("--rng",), "Configure a guest RNG device. Ex:\n--rng /dev/urandom"),
    (("--panic",), "Configure a guest panic device. Ex:\n--panic default"),
    (("--shmem",), "Configure a guest shared memory device. Ex:\n--shmem name=shmem0"),
    (("--memdev",), "Configure a guest memory device. Ex:\n--memdev dimm,target.size=1024"),
    (("--vsock",), "Configure guest vsock sockets. Ex:\n--vsock cid.auto=yes\n"
     "--vsock cid.address=7"),
    (("--iommu",), "Configure an IOMMU device. Ex:\n--iommu model=intel,driver.aw_bits=48"),
]
_GUEST = [
    (("--iothreads",), "Set domain <iothreads> and <iothreadids> configuration."),
    (("--seclabel", "--security"), "Set domain seclabel configuration."),
    (("--keywrap",), "Set guest to perform the S390 cryptographic key management operations."),
    (("--cputune",), "Tune CPU parameters for the domain process."),
    (("--numatune",), "Tune NUMA policy for the domain process."),
    (("--memtune",), "Tune memory policy for the domain process."),
    (("--blkiotune",), "Tune blkio policy for the domain process."),
    (("--memorybacking",), "Set memory backing policy for the domain process. Ex:\n"
     "--memorybacking hugepages=on"),
    (("--features",), "Set domain <features> XML. Ex:\n--features acpi=off\n"
     "--features apic=on,apic.eoi=on"),
    (("--clock",), "Set domain <clock> XML. Ex:\n"
     "--clock offset=localtime,rtc_tickpolicy=catchup"),
    (("--pm",), "Configure VM power management features"),
    (("--events",), "Configure VM lifecycle management policy"),
    (("--resource",), "Configure VM resource partitioning (cgroups)"),
    (("--sysinfo",), "Configure SMBIOS System Information. Ex:\n--sysinfo host\n"
     "--sysinfo bios.vendor=MyVendor,bios.version=1.2.3,..."),
    (("--qemu-commandline",), "Pass arguments directly to the QEMU emulator. Ex:\n"
     "--qemu-commandline='-display gtk,gl=on'\n--qemu-commandline env=DISPLAY=:0.1"),
    (("--launchSecurity", "--launchsecurity"), "Configure VM launch security (e.g. SEV memory "
     "encryption). Ex:\n--launchSecurity sev"),
]
# Every option whose values are sub-option strings (the flow runs a parser for each).
SUBOPT_FLAGS = [f[-1] if f[-1] != "--launchsecurity" else f[0]
                for f, _ in _GENERAL + _DEVICES + _GUEST] + ["--boot", "--idmap"]


def _parser() -> argparse.ArgumentParser:
    """virt-install 4.1's argument parser: the same options, groups, help and destinations;
    unambiguous prefixes are accepted as argparse (and so virt-install) accepts them."""
    p = argparse.ArgumentParser(
        prog="virt-install", formatter_class=_HelpFormatter,
        usage="%(prog)s --name NAME --memory MB STORAGE INSTALL [options]",
        description="Create a new virtual machine from specified install media.",
        epilog="Use '--option=?' or '--option help' to see available suboptions\n"
               "See man page for examples and full option syntax.")
    p.add_argument("--version", action="version", version=VERSION)
    p.add_argument("--connect", metavar="URI", help="Connect to hypervisor with libvirt URI")

    def subopts(grp: argparse._ArgumentGroup, table: list) -> None:
        for flags, text in table:
            kw: dict = {"action": "append", "help": text}
            if flags[-1] == "--launchsecurity":
                kw["dest"] = "launchSecurity"
            if flags[0] == "--sound":  # once a boolean option
                kw.update(nargs="?", const="default")
            grp.add_argument(*flags, **kw)

    geng = p.add_argument_group("General Options")
    geng.add_argument("-n", "--name", help="Name of the guest instance")
    subopts(geng, _GENERAL[:3])
    geng.add_argument("-r", "--ram", type=int, dest="oldmemory", help=S)
    geng.add_argument("--check-cpu", action="store_true", help=S)
    geng.add_argument("--cpuset", help=S)
    subopts(geng, _GENERAL[3:])
    geng.add_argument("-u", "--uuid", help=S)
    geng.add_argument("--description", help=S)

    insg = p.add_argument_group("Installation Method Options")
    a = insg.add_argument
    a("-c", dest="cdrom_short", help=S)
    a("--cdrom", help="CD-ROM installation media")
    a("-l", "--location", help="Distro install URL, eg. https://host/path. See man page for "
      "specific distro examples.")
    a("--pxe", action="store_true", help="Boot from the network using the PXE protocol")
    a("--import", action="store_true", dest="import_install",
      help="Build guest around an existing disk image")
    a("--livecd", action="store_true", help=S)
    a("-x", "--extra-args", action="append",
      help="Additional arguments to pass to the install kernel booted from --location")
    a("--initrd-inject", action="append", help="Add given file to root of initrd from --location")
    a("--unattended", nargs="?", const=1, help="Perform an unattended installation")
    a("--install", help="Specify fine grained install options")
    a("--reinstall", metavar="DOMAIN", help="Reinstall existing VM. Only install options are "
      "applied, all other VM configuration options are ignored.")
    a("--cloud-init", nargs="?", const=1,
      help="Perform a cloud image installation, configuring cloud-init")
    a("--test-media-detection", help=S)
    a("--test-stub-command", action="store_true", help=S)
    a("--boot", action="append", help="Configure guest boot settings. Ex:\n"
      "--boot hd,cdrom,menu=on\n--boot init=/sbin/init (for containers)")
    a("--idmap", action="append", help="Enable user namespace for LXC container. Ex:\n"
      "--idmap uid.start=0,uid.target=1000,uid.count=10")
    a("--init", help=S)

    osg = p.add_argument_group("OS options")
    osg.add_argument("--os-variant", "--osinfo", dest="os_variant",
                     help="The OS being installed in the guest.\nThis is used for deciding "
                     "optimal defaults like VirtIO.\nExample values: fedora29, rhel7.0, win10, "
                     "...\nUse '--osinfo list' to see a full list.")
    osg.add_argument("--os-type", dest="old_os_type", help=S)

    devg = p.add_argument_group("Device Options")
    subopts(devg, _DEVICES)
    a = devg.add_argument
    a("--host-device", action="append", dest="hostdev", help=S)
    a("--soundhw", action="append", dest="sound", help=S)
    a("-f", "--file", dest="file_paths", action="append", help=S)
    a("-s", "--file-size", type=float, action="append", dest="disksize", help=S)
    a("--nonsparse", action="store_false", default=True, dest="sparse", help=S)
    a("--nodisks", action="store_true", help=S)
    a("--nonetworks", action="store_true", help=S)
    a("-b", "--bridge", action="append", help=S)
    a("-m", "--mac", action="append", help=S)
    a("--vnc", action="store_true", help=S)
    a("--vncport", type=int, help=S)
    a("--vnclisten", help=S)
    a("-k", "--keymap", help=S)
    a("--sdl", action="store_true", help=S)
    a("--nographics", action="store_true", help=S)

    gxmlg = p.add_argument_group("Guest Configuration Options")
    subopts(gxmlg, _GUEST)

    virg = p.add_argument_group("Virtualization Platform Options")
    ostype = virg.add_mutually_exclusive_group()
    ostype.add_argument("-v", "--hvm", action="store_const", const="hvm", dest="os_type",
                        help="This guest should be a fully virtualized guest")
    ostype.add_argument("-p", "--paravirt", action="store_const", const="xen", dest="os_type",
                        help="This guest should be a paravirtualized guest")
    ostype.add_argument("--container", action="store_const", const="exe", dest="os_type",
                        help="This guest should be a container guest")
    a = virg.add_argument
    a("--virt-type", help="Hypervisor name to use (kvm, qemu, xen, ...)")
    a("--arch", help="The CPU architecture to simulate")
    a("--machine", help="The machine type to emulate")
    a("--accelerate", action="store_true", help=S)
    a("--noapic", action="store_true", help=S)
    a("--noacpi", action="store_true", help=S)

    misc = p.add_argument_group("Miscellaneous Options")
    a = misc.add_argument
    a("--autostart", action="store_true", help="Have domain autostart on host boot up.")
    a("--transient", action="store_true", help="Create a transient domain.")
    a("--destroy-on-exit", action="store_true",
      help="Force power off the domain when the console viewer is closed.")
    a("--wait", type=int, const=-1, nargs="?", help="Minutes to wait for install to complete.")
    a("--prompt", action="store_true", help=S)
    a("--force", action="store_true", help=S)
    a("--autoconsole", help="Configure guest console auto connect. Example:\n"
      "--autoconsole text\n--autoconsole graphical\n--autoconsole none")
    a("--noautoconsole", action="store_const", const="none", dest="autoconsole",
      help="Don't automatically try to connect to the guest console")
    a("--noreboot", action="store_true", help="Don't boot guest after completing install.")
    a("--print-xml", nargs="?", const="all", dest="xmlonly",
      help="Print the generated domain XML rather than create the guest.")
    a("--print-step", dest="xmlstep", help=S)
    a("--dry-run", action="store_true", dest="dry",
      help="Run through install process, but do not create devices or define the guest.")
    a("--check", action="append", help="Enable or disable validation checks. Example:\n"
      "--check path_in_use=off\n--check all=off")
    a("-q", "--quiet", action="store_true", help="Suppress non-error output")
    a("-d", "--debug", action="store_true", help="Print debugging information")
    return p


def _print_suboptions(opts: argparse.Namespace) -> bool:
    """``--disk=?`` / ``--disk help``: the sub-option names of every option asked, as
    virt-install prints them (pyvirt.install.introspect); False when none was asked."""
    from pyvirt.install import introspect
    if not introspect.requested(opts):
        return False
    from pyvirt.install import flow, media, unattended
    from pyvirt.install.opts import registry
    specs, _ = registry()
    specs.update({s.flag: s for s in (flow.OSV, flow.INSTALL, flow.LOCATION, media.CLOUDINIT,
                                      unattended.UNATTENDED)})
    return introspect.print_requested(opts, specs)


def _setup_logging(debug: bool, quiet: bool, prog: str = "virt-install") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if debug:
        fmt = f"[%(asctime)s {prog} %(process)d] %(levelname)s (%(module)s:%(lineno)d) %(message)s"
        handler.setFormatter(logging.Formatter(fmt, "%a, %d %b %Y %H:%M:%S"))
        level = logging.DEBUG
    else:
        handler.setFormatter(logging.Formatter("%(levelname)-8s %(message)s"))
        level = logging.ERROR if quiet else logging.WARNING
    handler.setLevel(level)
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG)
    log.propagate = False


def report_errors(run: Callable[[], int], *known: type[BaseException]) -> int:
    """Run a virt-install family command: an expected error (its own `known` kinds, option
    errors, libvirt-style errors) is printed as virt-install prints it, exit status 1."""
    from pyvirt.api import PyvirtError
    from pyvirt.install.subopts import SubOptError
    try:
        return run()
    except (*known, SubOptError, ValueError, RuntimeError, OSError, PyvirtError) as exc:
        log.debug("", exc_info=True)
        log.error("%s", exc)
        return 1


QUIET = False


def out(msg: str, force: bool = False) -> None:
    """virt-install's print_stdout: suppressed by --quiet, always logged at debug."""
    log.debug("%s", msg)
    if force or not QUIET:
        print(msg)


class Terminal:
    """The install flow's front end here (install.flow.Frontend): prints, starts the console
    viewer (pyvirt's own ``console`` for text, virt-viewer for graphics) and pauses for the user."""

    def out(self, msg: str, force: bool = False) -> None:
        out(msg, force)

    def console(self, kind: str, uri: str, name: str, wait: bool) -> None:
        """Start the console viewer, waiting for it unless --wait counts time instead; under
        the test suite nothing is run, as virt-install runs /bin/test there."""
        import shlex
        import subprocess

        from pyvirt.install.flow import testsuite

        if kind == "text":
            shown = ["virsh", "--connect", uri, "console", name]
            argv = [sys.executable, "-m", "pyvirt.cli.main", "--connect", uri, "console", name]
            out(f"Running text console command: {shlex.join(shown)}")
        else:
            argv = ["virt-viewer", "--connect", uri, "--wait", name]
            out(f"Running graphical console command: {shlex.join(argv)}")
        if testsuite():
            argv = ["/bin/test"]
        try:
            child = subprocess.Popen(argv)
        except OSError as exc:
            log.warning("Console command failed: %s", exc)
            return
        if wait and child.wait():
            log.warning("Console command returned failure.")

    def pause(self, seconds: float) -> None:
        from pyvirt.install.flow import testsuite

        if testsuite() or sys.stdin.isatty():
            sys.stdout.write(f"Installation will continue in {seconds:g} seconds (press Enter to skip)...")
            sys.stdout.flush()
            if not testsuite():
                import select
                select.select([sys.stdin], [], [], seconds)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    opts = _parser().parse_args(argv)
    if _print_suboptions(opts):
        return 0
    global QUIET
    QUIET = opts.quiet or bool(opts.xmlonly or opts.xmlstep or opts.test_media_detection)
    _setup_logging(opts.debug, QUIET)
    try:
        from pyvirt.install.flow import run
        return run(opts, Terminal())
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
