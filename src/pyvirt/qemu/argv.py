"""Domain model + host capabilities -> the QEMU command line (pure; no I/O).

``build_argv(domain, caps=None, runtime=None)`` returns the argv for qemu-system-x86_64 7.2+ in
libvirt 9.0's modern syntax (-blockdev/-device/-netdev/-object/-audiodev as JSON; the few k=v
options through :func:`pyvirt.qemu.escape.kv_option`).  With ``runtime=None`` the output is
libvirt's test-mode debug command line (monitor ``fd=1729``, state under ``/tmp/lib/...``).

Anything in the model that cannot be translated faithfully raises ``XMLUnsupportedError``:
refusing beats starting a different machine.  ``python -m pyvirt.qemu.argv DOMAIN.xml`` prints
the ``.args`` layout.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

from pyvirt.api import PyvirtError
from pyvirt.xml.aliases import dev_index, device_aliases
from pyvirt.xml.defaults import needs_start_defaults, with_start_defaults
from pyvirt.xml.errors import XMLError
from pyvirt.xml.pciaddr import is_q35

from . import (
    argv_chardev,
    argv_controllers,
    argv_devices,
    argv_disks,
    argv_machine,
    argv_memory,
    argv_namespace,
)
from .argv_common import (
    DEFAULT_QEMU_VERSION,
    Argv,
    Ctx,
    RuntimePaths,
    auto_placement,
    check_acpi_indexes,
    check_virtio_options,
    collect_acpi_indexes,
    unsupported,
)
from .argv_format import format_args

__all__ = ["RuntimePaths", "build_argv", "build_env", "format_args", "main", "passthrough_env"]

DEFAULT_BINARY = "/usr/bin/qemu-system-x86_64"

#: the x86 machine types of QEMU 7.2 (``-M help``), which the argv builder checks a domain
#: against when it has no probed capabilities (libvirt's test harness uses QEMU 7.2's)
QEMU_7_2_X86_MACHINES = frozenset(
    ["pc", "q35", "isapc", "microvm", "none"]
    + [f"pc-i440fx-{v}" for v in ("1.4", "1.5", "1.6", "1.7", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6",
                                  "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "3.0", "3.1", "4.0", "4.1",
                                  "4.2", "5.0", "5.1", "5.2", "6.0", "6.1", "6.2", "7.0", "7.1", "7.2")]
    + [f"pc-q35-{v}" for v in ("2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "3.0", "3.1",
                               "4.0", "4.0.1", "4.1", "4.2", "5.0", "5.1", "5.2", "6.0", "6.1", "6.2", "7.0",
                               "7.1", "7.2")])


def libvirt_disk_order(disks: list[Any]) -> list[Any]:
    """The order libvirt keeps disks in (virDomainDiskInsert: grouped by bus, by target within
    a bus); ``<boot dev='hd'>`` means the first disk in this order."""
    out: list[Any] = []
    for disk in disks:
        at = -1
        for i in range(len(out) - 1, -1, -1):
            if out[i].target_bus == disk.target_bus:
                if dev_index(out[i].target_dev or "") > dev_index(disk.target_dev or ""):
                    at = i
                elif at == -1:
                    at = i + 1
        out.insert(at if at != -1 else len(out), disk)
    return out


def _boot_indexes(domain: Any) -> dict[int, int]:
    """Per-device bootindex: <boot order=> on devices, else <os><boot dev=> mapped like libvirt."""
    devs = domain.devices
    explicit = {id(d): d.boot_order for d in [*devs.disks, *devs.interfaces, *devs.filesystems,
                                               *devs.hostdevs] if getattr(d, "boot_order", None)}
    os_boot = domain.os.boot_devs if domain.os else []
    if explicit:  # never beside <os><boot> (refused at define: pyvirt.xml.define_rules)
        return explicit
    # libvirt's qemuProcessPrepareDeviceBootorder: each <boot dev> kind keeps the position of its
    # last mention, and goes to the first disk of that kind in libvirt's disk order (a 'lun' is a
    # disk) or to the first interface.
    position = {dev: n for n, dev in enumerate(os_boot, start=1)}
    out: dict[int, int] = {}
    kinds = {"hd": ("disk", "lun"), "cdrom": ("cdrom",), "fd": ("floppy",)}
    for dev, n in position.items():
        if dev == "network":
            target = devs.interfaces[0] if devs.interfaces else None
        else:
            target = next((d for d in libvirt_disk_order(devs.disks) if (d.device or "disk") in kinds[dev]),
                          None)
        if target is not None:
            out[id(target)] = n
    return out


def _version(caps: Any) -> tuple[int, int, int]:
    v = getattr(caps, "version", None)
    return tuple(v) if v else DEFAULT_QEMU_VERSION  # type: ignore[return-value]


def _check_domain(domain: Any, caps: Any) -> None:
    if domain.type not in ("kvm", "qemu"):
        raise unsupported(f"domain type {domain.type!r}")
    if domain.os is None or domain.os.type != "hvm":
        raise unsupported("a non-hvm OS type")
    if (domain.os.arch or "x86_64") not in ("x86_64", "i686"):
        raise unsupported(f"arch {domain.os.arch!r}")
    if not domain.os.machine:
        raise unsupported("a domain without a machine type (run fill_defaults first)")
    # the loader's and boot order's rules are define-time ones: pyvirt.xml.define_rules; the
    # wish for NVRAM is checked at start, as qemuFirmwareFillDomain does
    from .firmware import check_nvram_permitted

    check_nvram_permitted(domain.os)
    if domain.os.smbios_mode == "host":
        raise unsupported("<smbios mode='host'> (it copies the host's DMI tables, which pyvirt does not "
                          "read; use mode='sysinfo' with a <sysinfo type='smbios'> instead)")
    machine = domain.os.machine
    if not (machine in ("pc", "q35") or machine.startswith(("pc-i440fx-", "pc-q35-", "pc-"))):
        raise unsupported(f"machine type {machine!r}")
    if caps is not None and getattr(caps, "machines", None) and caps.machine(machine) is None:
        raise unsupported(f"machine type {machine!r} (not offered by {getattr(caps, 'binary', 'QEMU')})")
    if caps is None and machine not in QEMU_7_2_X86_MACHINES:  # libvirt's test capabilities: QEMU 7.2
        emulator = domain.devices.emulator or DEFAULT_BINARY
        raise XMLError(f"Emulator '{emulator}' does not support machine type '{machine}'", domain.os.line)


def build_env(domain: Any, runtime: RuntimePaths | None = None) -> dict[str, str]:
    """The environment libvirt gives QEMU (HOME and XDG dirs in the private domain dir)."""
    rt = runtime or RuntimePaths.debug(domain.name or "guest")
    base = rt.domain_dir or "/tmp"
    env = {"LC_ALL": "C", "PATH": "/bin" if rt.test_mode else "/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": base}
    if rt.test_mode:
        env.update({"USER": "test", "LOGNAME": "test"})
    env.update({"XDG_DATA_HOME": f"{base}/.local/share", "XDG_CACHE_HOME": f"{base}/.cache",
                "XDG_CONFIG_HOME": f"{base}/.config"})
    if domain.clock is not None and domain.clock.offset == "timezone":
        env["TZ"] = domain.clock.timezone or ""
    for audio in domain.devices.audios:  # qemuBuildAudioCommandLineEnv: SDL picks its driver from it
        if audio.type == "sdl" and audio.driver:
            env["SDL_AUDIODRIVER"] = audio.driver
    for g in domain.devices.graphics:  # qemuBuildGraphicsSDLCommandLine: where SDL draws
        if g.type == "sdl":
            env.update({k: v for k, v in (("XAUTHORITY", g.xauth), ("DISPLAY", g.display)) if v})
    for name, value in passthrough_env(domain).items():
        env.pop(name, None)  # libvirt's virCommandAddEnvPair: a later pair replaces, moved last
        env[name] = value
    return env


def passthrough_env(domain: Any) -> dict[str, str]:
    """``<qemu:commandline><qemu:env>`` in document order (a repeated name: the last one wins),
    an absent value as the empty string: what libvirt adds to QEMU's environment, unchecked."""
    return {env.name: env.value or "" for env in getattr(domain, "qemu_envs", ())}


def _with_firmware(domain: Any, caps: Any, rt: RuntimePaths) -> Any:
    """*domain* with ``<os firmware>`` resolved and a read-only UEFI loader's NVRAM named
    (:func:`pyvirt.qemu.firmware.fill_domain`, on a copy): from libvirt's test-harness
    descriptors in test mode, else from the host's (pyvirtd resolved it already at start)."""
    from . import firmware

    if not firmware.needs_fill(domain):
        return domain
    domain = copy.deepcopy(domain)
    machine = domain.os.machine
    if caps is not None and hasattr(caps, "canonical_machine"):
        machine = caps.canonical_machine(machine)
    elif machine in ("pc", "q35"):  # no probed QEMU: the alias of the QEMU assumed (DEFAULT_QEMU_VERSION)
        major, minor = DEFAULT_QEMU_VERSION[:2]
        machine = f"{'pc-i440fx' if machine == 'pc' else 'pc-q35'}-{major}.{minor}"
    found = firmware.TEST_DESCRIPTORS if rt.test_mode else firmware.descriptors()
    try:
        firmware.fill_domain(domain, found, rt.nvram_dir, check_files=not rt.test_mode, machine=machine)
    except PyvirtError as exc:
        raise XMLError(exc.message, domain.os.line) from None
    return domain


def device_context(domain: Any, caps: Any = None, runtime: RuntimePaths | None = None) -> Ctx:
    """What the device builders need (aliases, boot indexes, USB ports) for *domain*: the whole
    command line is built with it, and so is one device hot-plugged into a running guest.

    Pure: *domain* is never changed.  A definition without its start-time defaults (USB ports,
    set by the daemon at start as libvirt does) is completed on a copy: ``ctx.domain``."""
    if needs_start_defaults(domain):
        domain = with_start_defaults(domain)
    rt = runtime or RuntimePaths.debug(domain.name or "guest")
    ctx = Ctx(domain=domain, caps=caps, runtime=rt, q35=is_q35(domain), version=_version(caps))
    ctx.aliases = device_aliases(domain)
    ctx.boot_index = _boot_indexes(domain)
    collect_acpi_indexes(ctx)
    return ctx


def build_argv(domain: Any, caps: Any = None, *, runtime: RuntimePaths | None = None) -> list[str]:
    """The complete argv (binary first) for *domain*, which should have gone through fill_defaults."""
    _check_domain(domain, caps)
    runtime = runtime or RuntimePaths.debug(domain.name or "guest")
    if auto_placement(domain) and runtime.auto_nodeset is None:
        raise unsupported("placement='auto' of <vcpu> or <numatune><memory> without numad's advice "
                          "(install numad, or name the nodes with cpuset/nodeset)")
    ctx = device_context(_with_firmware(domain, caps, runtime), caps, runtime)
    domain = ctx.domain
    rt = ctx.runtime
    a = Argv(domain.devices.emulator or getattr(caps, "binary", None) or DEFAULT_BINARY)
    a.overrides = argv_namespace.override_values(domain)
    argv_namespace.check_capabilities(domain)
    a.kv("-name", None, [("guest", domain.name), ("debug-threads", True)])
    argv_namespace.compat_opt(a, domain)
    a.opt("-S")
    argv_machine.machine_opts(a, ctx)
    if ctx.version >= (8, 0, 0) and (domain.features is None or not domain.features.acpi):
        a.args[a.args.index("-machine") + 1] += ",acpi=off"
    argv_machine.cpu_opts(a, ctx)
    argv_machine.firmware_opts(a, ctx)
    argv_memory.memory_opts(a, ctx)
    argv_machine.smp_opts(a, ctx)
    argv_machine.iothread_opts(a, ctx)
    argv_memory.numa_opts(a, ctx)
    argv_memory.memory_device_opts(a, ctx)
    if domain.uuid:
        a.opt("-uuid", domain.uuid)
    argv_machine.smbios_opts(a, ctx)
    argv_machine.fw_cfg_opts(a, ctx)
    argv_machine.genid_opts(a, ctx)
    if not domain.devices.graphics:
        a.opt("-display", "none")
    a.opt("-no-user-config")
    a.opt("-nodefaults")
    a.kv("-chardev", "socket", [("id", "charmonitor"), ("fd", rt.monitor_fd), ("server", True),
                                ("wait", False)])
    a.kv("-mon", None, [("chardev", "charmonitor"), ("id", "monitor"), ("mode", "control")])
    env: dict[str, str] = {}
    argv_machine.rtc_opts(a, ctx, env)
    a.opt("-no-shutdown")
    argv_machine.pm_opts(a, ctx)
    argv_machine.boot_opts(a, ctx)
    argv_devices.iommu_opts(a, ctx)
    argv_machine.pcihole64_opts(a, ctx)
    floppies = [d for d in domain.devices.disks if d.target_bus == "fdc"]
    fd_boot = {("A", "B")[(d.address.unit or 0) if d.address else 0]: ctx.boot_index[id(d)]
               for d in floppies if id(d) in ctx.boot_index}
    if floppies and ctx.q35:
        props: dict[str, Any] = {"driver": "isa-fdc"}
        props.update({f"bootindex{k}": v for k, v in fd_boot.items()})
        a.device(props)
    elif fd_boot:
        for k, v in fd_boot.items():
            a.opt("-global", f"isa-fdc.bootindex{k}={v}")
    argv_controllers.controller_opts(a, ctx)
    argv_devices.hub_opts(a, ctx)
    argv_disks.disk_opts(a, ctx)
    argv_devices.fs_opts(a, ctx)
    argv_devices.net_opts(a, ctx)
    argv_devices.smartcard_opts(a, ctx)
    argv_chardev.serial_opts(a, ctx)
    argv_chardev.parallel_opts(a, ctx)
    argv_chardev.channel_opts(a, ctx)
    argv_chardev.console_opts(a, ctx)
    argv_devices.tpm_opts(a, ctx)
    argv_devices.input_opts(a, ctx)
    argv_devices.audio_opts(a, ctx)
    argv_devices.graphics_opts(a, ctx)
    argv_devices.video_opts(a, ctx)
    argv_devices.sound_opts(a, ctx)
    argv_devices.watchdog_opts(a, ctx)
    argv_devices.redirdev_opts(a, ctx)
    argv_devices.hostdev_opts(a, ctx)
    argv_devices.balloon_opts(a, ctx)
    argv_devices.rng_opts(a, ctx)
    argv_devices.vmcoreinfo_opts(a, ctx)
    argv_devices.panic_opts(a, ctx)
    argv_devices.shmem_opts(a, ctx)
    argv_devices.vsock_opts(a, ctx)
    check_virtio_options(ctx)
    check_acpi_indexes(ctx)
    if rt.pidfile:
        a.opt("-pidfile", rt.pidfile)
    # <qemu:commandline> words, verbatim and in order, after the devices and before -sandbox/-msg
    # (where libvirt 9.0 puts them); the daemon logs that they taint the domain
    a.args.extend(arg.value for arg in domain.qemu_args)
    a.kv("-sandbox", "on", [("obsolete", "deny"), ("elevateprivileges", "deny"), ("spawn", "deny"),
                            ("resourcecontrol", "deny")])
    a.kv("-msg", None, [("timestamp", True)])
    return a.args


def main(argv: list[str] | None = None) -> int:
    """``python -m pyvirt.qemu.argv DOMAIN.xml``: parse, fill defaults, print the .args layout."""
    from pyvirt.xml import fill_defaults, parse_domain
    from pyvirt.xml.errors import XMLError

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m pyvirt.qemu.argv DOMAIN.xml", file=sys.stderr)
        return 2
    try:
        with open(args[0], "rb") as fh:
            dom = parse_domain(fh.read())
        filled = fill_defaults(dom)
        dom = filled if filled is not None else dom
        out = build_argv(dom)
    except XMLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(format_args(out, build_env(dom)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
