"""virt-install's top-level flow: options -> Guest -> install XML -> print or create.

Mirrors virtinstall.main: convert legacy options, connect, build the guest from explicit
options, pick the install method, resolve the OS, run every option parser, apply
defaults, validate, then --print-xml / --dry-run or define+start through the Connection.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from typing import Any

from pyvirt.install import modelopt
from pyvirt.install import osinfo as osdb
from pyvirt.install.caps import Capabilities, DomCaps
from pyvirt.install.errors import INSTALL_METHODS, Fail
from pyvirt.install.guest import ConnInfo, Guest, log
from pyvirt.install.installer import DistroError, Installer
from pyvirt.install.subopts import CheckError, Spec, SubOptError, parse, yesno
from pyvirt.install.xmltree import to_string

# virt-install runs its parsers in this order (cli.py's registration order): later options
# see what earlier ones built (e.g. --memdev after --memory, --events after devices).
PARSE_ORDER = ["--xml", "--metadata", "--events", "--memory", "--vcpus", "--cpu", "--boot", "--idmap",
               "--features", "--clock", "--sysinfo", "--seclabel", "--launchSecurity", "--disk",
               "--network", "--graphics", "--controller", "--input", "--serial", "--parallel",
               "--channel", "--console", "--hostdev", "--sound", "--audio", "--watchdog", "--video",
               "--smartcard", "--redirdev", "--memballoon", "--tpm", "--rng", "--panic",
               "--filesystem", "--shmem", "--memdev", "--vsock", "--iommu", "--iothreads",
               "--keywrap", "--cputune", "--numatune", "--memtune", "--blkiotune",
               "--memorybacking", "--pm", "--resource", "--qemu-commandline"]
#: virt-install's bare refusal of unknown sub-option names (others get ``Error: --opt STR:``)
UNKNOWN_SUBOPTS = re.compile(r"^Unknown --[\w-]+ options: ")
OSV = Spec("--os-variant", keys=["name", "short-id", "id", "detect", "require"])
LOCATION = Spec("--location", keys=["location", "kernel", "initrd"], positional=("location",))
INSTALL = Spec("--install", keys=["os", "kernel", "initrd", "kernel_args", "kernel_args_overwrite",
                                  "bootdev", "no_install"], positional=("os",))


def _convert(o: argparse.Namespace) -> None:
    if o.cdrom_short:
        if o.cdrom:
            raise Fail("Cannot use -c and --cdrom at the same time")
        if "://" in o.cdrom_short:
            raise Fail("-c specified with what looks like a libvirt URI. Did you mean to use "
                       "--connect? If not, use --cdrom instead")
        o.cdrom = o.cdrom_short
    if o.xmlstep:
        o.xmlonly = o.xmlstep
    if not o.memory and o.oldmemory:
        o.memory = [str(o.oldmemory)]
    if o.cpuset:
        o.vcpus = (o.vcpus or []) + [f"cpuset={o.cpuset}"]
    if o.nodisks and (o.file_paths or o.disk or o.disksize):
        raise Fail("Cannot specify storage and use --nodisks")
    if (o.file_paths or o.disksize or not o.sparse) and o.disk:
        raise Fail("Cannot mix --file, --nonsparse, or --file-size with --disk options. "
                   "Use --disk PATH[,size=SIZE][,sparse=yes|no]")
    if not o.disk:
        if o.nodisks:
            o.disk = ["none"]
        else:
            paths, sizes = list(o.file_paths or []), list(o.disksize or [])
            n = max(len(paths), len(sizes))
            paths += [None] * (n - len(paths))
            sizes += [None] * (n - len(sizes))
            o.disk = []
            for p, s in zip(paths, sizes, strict=False):
                parts = ([f"path={p}"] if p else []) + ([f"size={s}"] if s else [])
                if not o.sparse:
                    parts.append("sparse=no")
                o.disk.append(",".join(parts))
    if o.nonetworks:
        o.network = ["none"]
    if o.bridge and o.network:
        raise Fail("Cannot use --bridge and --network at the same time")
    nets = ["bridge:" + b for b in o.bridge] if o.bridge else list(o.network or [])
    macs = list(o.mac or [])
    n = max(len(macs), 1, len(nets))
    nets += [None] * (n - len(nets))
    macs += [None] * (n - len(macs))
    o.network = []
    for net, mac in zip(nets, macs, strict=False):
        net = net or "default"
        if mac:
            net += f",mac={mac}"
        for prefix in ("network", "bridge"):
            if net.startswith(prefix + ":"):
                net = net.replace(prefix + ":", prefix + "=", 1)
        o.network.append(net)
    if o.graphics and (o.vnc or o.sdl or o.keymap or o.vncport or o.vnclisten):
        raise Fail("Cannot mix --graphics and old style graphical options")
    if sum(bool(x) for x in (o.vnc, o.nographics, o.sdl, o.graphics)) > 1:
        raise Fail("Can't specify more than one of VNC, SDL, --graphics or --nographics")
    if not o.graphics and (o.vnc or o.sdl or o.nographics):
        s = "vnc" if o.vnc else "sdl" if o.sdl else "none"
        if o.vnclisten:
            s += f",listen={o.vnclisten}"
        if o.vncport:
            s += f",port={o.vncport}"
        if o.keymap:
            s += f",keymap={o.keymap}"
        o.graphics = [s]
    if not o.features:
        feats = (["acpi=off"] if o.noacpi else []) + (["apic=off"] if o.noapic else [])
        if feats:
            o.features = [",".join(feats)]
    if o.init:  # virt-install's convert_old_init
        o.boot = list(o.boot or [""])
        o.boot[-1] += f",init={o.init}"
    if o.wait == 0:
        log.warning("Treating --wait 0 as --noautoconsole")
        o.autoconsole, o.wait = "none", None


def _connect(uri: str | None) -> ConnInfo:
    from pyvirt.client import connect
    conn = connect(uri)
    real = conn.get_uri()
    caps = Capabilities.parse(conn.get_capabilities())
    try:
        dc = DomCaps.parse(conn.get_domain_capabilities())
    except Exception:
        dc = DomCaps()
    return ConnInfo(conn=conn, uri=real, caps=caps, domcaps=dc)


def _osvariant(o: argparse.Namespace, install_os: str | None) -> dict[str, Any]:
    raw = o.os_variant or install_os
    data: dict[str, Any] = {"name": None, "id": None, "detect": False, "require": False}
    if raw is None or raw == "auto":
        data.update(detect=True, require="auto")
    elif "=" not in raw:
        if raw == "none":
            data["name"] = "generic"
        elif "://" in raw:
            data["id"] = raw
        else:
            data["name"] = raw
    else:
        d = parse(OSV, raw)
        data["name"] = d.get("name") or d.get("short-id")
        data["id"] = d.get("id")
        if d.get("detect") is not None:
            data["detect"] = yesno(d["detect"], "detect")
        if d.get("require") is not None:
            data["require"] = yesno(d["require"], "require")
    # the sub-option form is looked up by virt-install's option parser, so its refusal
    # carries the parser's prefix; a bare name or ID is looked up later, bare
    prefix = f"Error: --os-variant {raw}: " if raw and "=" in raw else ""
    if data["id"]:
        found = osdb.lookup_id(data["id"])
        if found is None:
            raise Fail(f"{prefix}Unknown libosinfo ID '{data['id']}'")
        data["name"] = found.name
    elif data["name"] and data["name"] != "list" and osdb.lookup(data["name"]) is None:
        raise Fail(f"{prefix}Unknown OS name '{data['name']}'. See `--osinfo list` for valid values.")
    return data


def _set_os(o: argparse.Namespace, g: Guest, inst: Installer, osd: dict[str, Any]) -> None:
    """virt-install's installer_detect_distro: --osinfo's name, else (detect on) the OS the
    install tree names, else the missing-OS error when it is required.  The tree is read
    here (its kernel found, its OS detected); --unattended's requirements, which need the
    OS, are checked before a named OS's tree is fetched (local checks first)."""
    if osd["name"]:
        g.set_os_name(osd["name"])
        _check_unattended(o, g, inst)
    try:
        inst.validate_location(g.arch or "", remote=g.ci.is_remote(), xen=g.is_xenpv())
    except DistroError as exc:
        raise Fail(f"Error validating install location: {exc}") from exc
    except ValueError as exc:
        raise Fail(str(exc)) from exc
    if osd["name"]:
        return
    if osd["detect"] and inst.detected_os and osdb.lookup(inst.detected_os):
        g.set_os_name(inst.detected_os)
    else:
        _fail_require(g, inst, osd)
    _check_unattended(o, g, inst)


def _fail_require(g: Guest, inst: Installer, osd: dict[str, Any]) -> None:
    msg = "--os-variant/--osinfo OS name is required, but no value was\nset or detected."
    if osd["require"] is True:
        raise Fail(msg)
    if osd["require"] != "auto" or not g.is_hvm():
        return
    text = msg + "\n\n" + ("This is now a fatal error. Specifying an OS name is required\n"
                           "for modern, performant, and secure virtual machine defaults.\n")
    if inst.location or inst.cdrom:
        text += ("\nIf you expected virt-install to detect an OS name from the\n"
                 "install media, you can set a fallback OS name with:\n\n"
                 "  --osinfo detect=on,name=OSNAME\n")
    text += "\nYou can see a full list of possible OS name values with:\n\n   virt-install --osinfo list\n"
    generic = [n for n in reversed(osdb.all_short_ids()) if osdb.OsVariant(name=n).is_linux_generic()]
    if generic:
        text += ("\nIf your Linux distro is not listed, try one of generic values\n"
                 f"such as: {', '.join(generic)}\n")
    text += ("\nIf you just need to get the old behavior back, you can use:\n\n"
             "  --osinfo detect=on,require=off\n\nOr export VIRTINSTALL_OSINFO_DISABLE_REQUIRE=1\n")
    text = "\n" + text
    if "VIRTINSTALL_OSINFO_DISABLE_REQUIRE" in os.environ:
        log.warning("%s", text)
        log.warning("VIRTINSTALL_OSINFO_DISABLE_REQUIRE set. Skipping fatal error.")
        return
    raise Fail(text)


def _installer(o: argparse.Namespace, g: Guest,
               out: Callable[..., None] = lambda *a, **k: None) -> Installer:
    inst = Installer()
    idata = parse(INSTALL, o.install) if o.install else {}
    extra = list(o.extra_args or [])
    if idata.get("kernel_args"):
        if idata.get("kernel_args_overwrite") and yesno(idata["kernel_args_overwrite"], "kernel_args_overwrite"):
            inst.kernel_args = idata["kernel_args"]
            inst.kernel_args_overwrite = True
        else:
            extra = [idata["kernel_args"]]
    inst.kernel, inst.initrd = idata.get("kernel"), idata.get("initrd")
    inst.bootdev = idata.get("bootdev")
    if idata.get("no_install") is not None:
        inst.no_install = yesno(idata["no_install"], "no_install")
    if idata.get("os"):
        osv = osdb.lookup(idata["os"])
        if osv is None:
            raise Fail(f"Unknown OS name '{idata['os']}'. See `--osinfo list` for valid values.")
        if not osv.has_trees():
            raise Fail(f"OS '{osv.name}' does not have a URL location")
        data = _unattended_data(o)
        url = osv.tree_url(g.arch or "", data.profile if data else None)
        if not url:
            raise Fail(f"OS '{osv.name}' does not have a URL location for the architecture '{g.arch}'")
        out(f"Using {idata['os']} --location {url}")
        inst.location = url
    elif o.location:
        loc = parse(LOCATION, o.location)
        inst.location = loc.get("location")
        if (loc.get("kernel") or loc.get("initrd")) and not inst.location:
            raise Fail("location kernel/initrd may only be specified with a location URL/path")
        if bool(loc.get("kernel")) != bool(loc.get("initrd")):
            raise Fail("location kernel/initrd must be be specified as a pair")
        if inst.location:
            _check_media_exists(g, inst.location)
        inst.location_kernel, inst.location_initrd = loc.get("kernel"), loc.get("initrd")
    elif o.cdrom:
        _check_media_exists(g, o.cdrom)
        inst.cdrom = o.cdrom
        inst.bootdev = "cdrom"
        if o.livecd:
            inst.no_install = True
    elif o.pxe:
        inst.bootdev = "network"
    elif idata:
        pass
    elif o.import_install or o.xmlonly or o.cloud_init or o.unattended:
        # virt-install 4.1 also lists options.boot here, but has consumed (cleared) --boot
        # by then (_build_options_guest), so --boot alone is no install method there
        inst.no_install = True
    if extra and not (inst.location or inst.kernel):
        raise Fail("Kernel arguments are only supported with location or kernel installs.")
    if o.initrd_inject and not (inst.location or inst.kernel or o.location):
        raise Fail("Install method does not support initrd injections.")
    if extra:
        inst.kernel_args = " ".join(extra)
    inst.unattended = _unattended_data(o)
    inst.initrd_inject = list(o.initrd_inject or [])
    if o.cloud_init and o.cloud_init != "none":
        from pyvirt.install.media import CloudInit
        try:
            inst.cloudinit = CloudInit.parse(o.cloud_init)
        except SubOptError as exc:
            raise Fail(str(exc)) from exc
    return inst


def _check_media_exists(g: Guest, path: str) -> None:
    """virtinst's InstallerTreeMedia.validate_path, for --cdrom, --location and
    --test-media-detection alike: a path that is not a URL must exist on the host or be a
    volume the connection knows (a remote connection's paths are not checked); it is
    refused when the install media are gathered, before any OS detection, so without
    'Error validating install location'."""
    from pyvirt.install.opts.disk import _find_volume, path_is_url
    if path_is_url(path) or os.path.exists(path) or g.ci.is_remote():
        return
    if _find_volume(g.ci.conn, path)[1] is not None:
        return
    if path.startswith("nfs:"):
        log.warning("NFS URL installs are no longer supported. Access your install media over "
                    "an alternate transport like HTTP, or manually mount the NFS share and "
                    "install from the local directory mount point.")
    raise Fail(f"Validating install media '{path}' failed: Must specify storage creation "
               f"parameters for non-existent path '{os.path.abspath(path)}'.")


def _test_media_detection(o: argparse.Namespace, ci: Any, out: Callable[..., None]) -> int:
    """virt-install --test-media-detection TREE: the OS the install tree or ISO holds, as
    detect_distro names it ('None' when it names none); nothing is defined."""
    g = Guest(ci)
    if o.arch:
        g.set_os_type(arch=o.arch)
    if o.os_type:
        g.set_os_type(os_type=o.os_type)
    g.set_capabilities_defaults()
    _check_media_exists(g, o.test_media_detection)
    inst = Installer(location=o.test_media_detection)
    try:
        inst.validate_location(g.arch or "", remote=g.ci.is_remote(), xen=g.is_xenpv())
    except ValueError as exc:
        raise Fail(str(exc)) from exc
    found = inst.detected_os if inst.detected_os and osdb.lookup(inst.detected_os) else None
    out(str(found), force=True)
    return 0


def _stub_options(o: argparse.Namespace) -> None:
    """--test-stub-command: fill what an otherwise bare command line needs to succeed
    (virt-install's aid for trying one new option in isolation)."""
    if not o.test_stub_command:
        return
    o.import_install = True
    o.connect = o.connect or "test:///default"
    o.name = o.name or "test-stub-command"
    o.memory = o.memory or ["256"]
    o.disk = o.disk or ["none"]
    o.graphics = o.graphics or ["none"]
    o.os_variant = o.os_variant or "fedora27"


def run(o: argparse.Namespace, ui: Frontend) -> int:
    """virt-install: `o` its parsed options, `ui` the terminal's side (cli/install.py)."""
    out = ui.out
    _stub_options(o)
    _convert(o)
    from pyvirt.install.opts import registry
    specs, apply = registry()
    osd = _osvariant(o, None)
    if osd["name"] == "list":
        osdb.print_list()
        return 0
    if o.os_variant is None and o.install and "=" not in o.install.split(",")[0]:
        osd = _osvariant(o, o.install.split(",")[0])
    ci = _connect(o.connect)
    if o.test_media_detection:
        return _test_media_detection(o, ci, out)
    g = Guest(ci)
    # virt-install's convert_old_force: --force means --check all=off unless --check is given
    g.flags.extra["checks"] = _checks(o.check or (["all=off"] if o.force else []))
    if o.reinstall:
        return _reinstall(o, g, ui)
    if o.name:
        modelopt.set_domain_value(g, "name", o.name)
    if o.uuid:
        modelopt.set_domain_value(g, "uuid", o.uuid)
    if o.description:
        modelopt.set_domain_value(g, "description", o.description)
    if o.os_type:
        g.set_os_type(os_type=o.os_type)
    if o.virt_type:
        g.set_type(o.virt_type)
    if o.arch:
        g.set_os_type(arch=o.arch)
    if o.machine:
        g.set_os_type(machine=o.machine)
    try:
        for s in o.boot or []:
            _apply(apply, "--boot", g, s)
        for s in o.metadata or []:
            _apply(apply, "--metadata", g, s)
        g.set_capabilities_defaults()
    except SubOptError as exc:
        raise Fail(str(exc)) from exc
    try:
        inst = _installer(o, g, ui.out)
    except ValueError as exc:
        raise Fail(str(exc)) from exc
    _set_os(o, g, inst, osd)
    if not g.name:
        name = g.generate_name()
        out(f"Using default --name {name}")
        modelopt.set_domain_value(g, "name", name)
    try:
        for flag in PARSE_ORDER:
            if flag in ("--boot", "--metadata"):
                continue
            for s in getattr(o, flag[2:].replace("-", "_"), None) or []:
                if flag in apply:
                    _apply(apply, flag, g, s)
    except SubOptError as exc:
        raise Fail(str(exc)) from exc
    _cli_defaults(o, g, out)
    inst.set_install_defaults(g)
    _check_devices(g)
    _validate(o, g, inst)
    _warnings(o, g)
    return _finish(o, g, inst, ui)


def _load_domain(g: Guest, ref: str) -> None:
    """virt-install's get_domain_and_guest: the domain by name, else by ID or UUID; its
    inactive definition becomes the guest."""
    from pyvirt.xml.safe import safe_parse
    conn = g.ci.conn
    try:
        info = conn.lookup_domain(ref)
        xml = conn.get_xml(info.name, inactive=True)
    except Exception as exc:
        raise Fail(f"Could not find domain '{ref}': {exc}") from exc
    from pyvirt.install.virtxml import _strip
    g.root = _strip(safe_parse(xml.encode()))


def _reinstall(o: argparse.Namespace, g: Guest, ui: Frontend) -> int:
    """--reinstall DOMAIN: only the install options apply.  The domain boots once from its
    own definition plus the install media (virt-install's install XML), and keeps the
    definition it had (the final XML is the one read)."""
    _load_domain(g, o.reinstall)
    try:
        inst = _installer(o, g, ui.out)
    except ValueError as exc:
        raise Fail(str(exc)) from exc
    osd = _osvariant(o, o.install.split(",")[0] if o.install and "=" not in
                     o.install.split(",")[0] and o.os_variant is None else None)
    had_metadata = g.root.find("metadata") is not None
    _set_os(o, g, inst, osd)
    g.set_metadata_osinfo()
    meta = g.root.find("metadata")
    if meta is not None and not had_metadata:
        g.root.append(meta)  # added to a parsed domain: virtinst writes it last
    inst.set_reinstall_defaults(g)
    # the domain keeps its definition, with the media just added (virtinst's
    # _pre_reinstall_xml is read after the install defaults)
    inst.reinstall_xml = to_string(g.root)
    _validate(o, g, inst)
    _warnings(o, g)
    return _finish(o, g, inst, ui)


CHECK = Spec("--check", keys=["all", "disk_size", "mac_in_use", "path_exists", "path_in_use"])


def _checks(values: list[str]) -> dict[str, bool]:
    """--check all=off,path_in_use=on: which of virt-install's safety checks stay fatal."""
    from pyvirt.install.subopts import check_unknown
    out: dict[str, bool] = {}
    try:
        for v in values:
            d = parse(CHECK, v)
            check_unknown(CHECK, d)
            for k, val in d.items():
                out[k] = yesno(val or "on", k)
    except SubOptError as exc:
        raise Fail(str(exc)) from exc
    return out


def _apply(apply: dict[str, Callable[..., None]], flag: str, g: Guest, optstr: str) -> None:
    """Run one option parser, wording its refusal as virt-install does: ``Error: --disk
    OPTSTR: reason``; unknown sub-options are reported bare, as virt-install reports them."""
    try:
        apply[flag](g, optstr)
    except SubOptError as exc:
        msg = str(exc)
        if isinstance(exc, CheckError) or UNKNOWN_SUBOPTS.match(msg) or msg.startswith("Error: "):
            raise
        prefix = f"{flag}: "
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
        raise Fail(f"Error: {flag} {optstr}: {msg}") from exc


def _memory_specified(g: Guest) -> bool:
    """virt-install's memory_specified: <memory>, <currentMemory> or NUMA cells (whose
    sizes libvirt adds up), each tested for truth as virtinst does: a size of 0 is none."""
    dom = g.view("currentMemory", "memory", "cpu")

    def given(value: object) -> bool:
        try:
            return value is not None and int(value) != 0  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return True
    return given(dom.current_memory) or given(dom.memory) or bool(dom.cpu and dom.cpu.numa_cells)


def _cli_defaults(o: argparse.Namespace, g: Guest, out: Callable[..., None]) -> None:
    if g.is_container():
        if not _memory_specified(g):
            out("Using container default --memory 1024")
            modelopt.set_domain_value(g, "currentMemory", 1024 * 1024)
        return
    arch = g.arch or ""
    if _unattended_data(o) is not None and g.osinfo.is_windows():
        # the drivers an unattended Windows install preloads make virtio devices usable
        # (virtinst's Guest.add_extra_drivers)
        import dataclasses
        ids = frozenset(d.get("id", "") for drv in g.osinfo.pre_installable_drivers(arch)
                        for d in drv.findall("device"))
        if ids:
            g.osinfo = dataclasses.replace(g.osinfo, extra_device_ids=ids)
    ram = g.osinfo.recommended("ram", arch)
    if ram and not _memory_specified(g):
        mb = str(ram / (1024 * 1024)).rstrip("0").rstrip(".")
        out(f"Using {g.osinfo.name} default --memory {mb}")
        modelopt.set_domain_value(g, "currentMemory", ram // 1024)
    ncpus = g.osinfo.recommended("n-cpus", arch)
    if ncpus and (g.root.find("vcpu") is None or g.flags.extra.get("vcpu_placeholder")):
        from pyvirt.install.defaults import sync_vcpus
        if g.root.find("cpu/topology") is None:
            g.flags.extra.pop("vcpu_placeholder", None)
            modelopt.set_domain_value(g, "vcpu", ncpus)
        sync_vcpus(g, ncpus)
    storage = g.osinfo.recommended("storage", arch)
    if storage and not (o.disk or o.filesystem):
        diskstr = f"size={storage // (1024 ** 3)}"
        out(f"Using {g.osinfo.name} default --disk {diskstr}")
        o.disk = [diskstr]
        from pyvirt.install.opts.disk import apply_disk
        apply_disk(g, diskstr)


def _check_devices(g: Guest) -> None:
    """virt-install's checks once every option is parsed: each disk's (paths other guests
    use, new volumes that may outgrow their pool), then MAC addresses other guests use
    (mac_in_use)."""
    from pyvirt.install.opts.disk import check_disks
    from pyvirt.install.subopts import CheckError
    try:
        check_disks(g)
    except CheckError as exc:
        raise Fail(str(exc)) from exc
    macs = [m.get("address") for m in g.root.iterfind("devices/interface/mac") if m.get("address")]
    if not macs:
        return
    used = _macs_in_use(g)
    checks = g.flags.extra.get("checks", {})
    for mac in macs:
        if mac.lower() not in used:
            continue
        msg = f"The MAC address '{mac}' is in use by another virtual machine."
        if checks.get("mac_in_use", checks.get("all", True)):
            raise Fail(f"{msg} (Use --check mac_in_use=off or --check all=off to override)")
        log.warning("%s", msg)


def _macs_in_use(g: Guest) -> set[str]:
    """Lower-cased MAC addresses of every other guest the connection defines."""
    from pyvirt.xml.safe import safe_parse
    conn = g.ci.conn
    try:
        doms = conn.list_domain_names()
    except Exception:
        return set()
    used: set[str] = set()
    for dom in doms:
        if dom.name == g.name:
            continue
        try:
            root = safe_parse(conn.get_xml(dom.name).encode())
        except Exception:
            continue
        used |= {m.get("address", "").lower() for m in root.iterfind("devices/interface/mac")}
    return used


def _validate(o: argparse.Namespace, g: Guest, inst: Installer) -> None:
    # virt-install checks launch security while setting the guest's defaults, before it
    # gathers the missing required options (validate_required_options); a reinstall
    # skips Guest.set_defaults and with it this check
    if not o.reinstall:
        _validate_launch_security(g)
    msg = ""
    if not o.reinstall:
        if not _memory_specified(g):
            msg += "\n--memory amount in MiB is required"
        if not (g.is_container() or o.disk or o.filesystem):
            msg += "\n--disk storage must be specified (override with --disk none)"
    if not g.is_container() and not inst.options_specified():
        msg += f"\nAn install method must be specified\n({INSTALL_METHODS})"
    if msg:
        raise Fail(msg)


def _validate_launch_security(g: Guest) -> None:
    """virt-install's DomainLaunchSecurity.validate: SEV needs a Q35 machine booting UEFI."""
    ls = g.root.find("launchSecurity")
    if ls is None or ls.get("type") != "sev":
        return
    os_ = g.root.find("os")
    uefi = os_ is not None and (os_.get("firmware") == "efi" or os_.find("loader") is not None)
    if not (g.is_q35() and uefi):
        raise Fail("SEV launch security requires a Q35 UEFI machine")


def _supports_pxe(g: Guest) -> bool:
    """virt-install's supports_pxe: the first NIC other than usermode networking decides;
    a virtual network PXE-boots when it forwards other than by NAT or its DHCP names a
    boot file (Network.can_pxe); when in doubt, yes."""
    from pyvirt.xml.safe import safe_parse
    for nic in g.devs("interface"):
        if nic.get("type") == "user":
            continue
        if nic.get("type") != "network":
            return True
        src = nic.find("source")
        try:
            net = safe_parse(g.ci.conn.get_network_xml(src.get("network") if src is not None
                                                       else "").encode())
        except Exception:
            return True
        mode = net.find("forward").get("mode") if net.find("forward") is not None else None
        if mode and mode != "nat":
            return True
        return any(b.get("file") for b in net.iterfind("ip/dhcp/bootp"))
    return False


def _warnings(o: argparse.Namespace, g: Guest) -> None:
    if o.pxe and not _supports_pxe(g):
        log.warning("The guest's network configuration may not support PXE")
    if g.osinfo.is_generic() and g.is_hvm():
        log.warning("Using --osinfo %s, VM performance may suffer. Specify an accurate OS "
                    "for optimal results.", g.osinfo.name)
    cur = g.root.findtext("currentMemory")
    if cur:
        rammb = int(cur) // 1024
        minram = g.osinfo.minimum("ram", g.arch or "") or 0
        if minram:
            if minram // 1024 > int(cur):
                log.warning("Requested memory %s MiB is less than the recommended %s MiB for OS %s",
                            rammb, minram // (1024 * 1024), g.osinfo.name)
        elif rammb < 17:
            log.warning("Requested memory %s MiB is abnormally low. Were you trying to specify GiB?",
                        rammb)


def _check_unattended(o: argparse.Namespace, g: Guest, inst: Installer) -> None:
    """What virt-install refuses about --unattended that depends only on the OS and the
    sub-options (profile, user-login, required passwords), checked as soon as the OS is
    known so nothing is fetched for an install that cannot run; the scripts are rendered
    later, when the install media are prepared."""
    data = _unattended_data(o)
    if data is None:
        return
    from pyvirt.install import unattended
    try:
        unattended.check(g.osinfo, data, "initrd" if inst.is_treemedia() else "cdrom")
    except unattended.UnattendedError as exc:
        raise Fail(str(exc)) from exc


def _unattended_data(o: argparse.Namespace) -> Any:
    """--unattended's sub-options; None without it or for 'none' (no unattended install)."""
    if not o.unattended or o.unattended == "none":
        return None
    from pyvirt.install.unattended import UnattendedData
    try:
        return UnattendedData.parse(o.unattended)
    except SubOptError as exc:
        raise Fail(str(exc)) from exc


def _finish(o: argparse.Namespace, g: Guest, inst: Installer, ui: Frontend) -> int:
    out = ui.out
    # virt-install prepares the install media on --dry-run too (Installer.start_install runs
    # _prepare whatever `dry` says): the tree is read, the unattended scripts rendered and
    # logged, the initrd/ISO built, then removed again; only storage is left unbuilt.
    inst.prepare(g)
    if o.xmlonly and not o.dry and not inst.reinstall_xml:
        # virt-install's --print-xml creates the storage the guest needs (its man page: "By
        # default this WILL do storage creation (can be disabled with --dry-run)"):
        # start_install builds it before it returns the XML
        try:
            inst.build_storage(g)
        except Exception as exc:
            inst.cleanup_install_media(g)
            raise Fail(str(exc)) from exc
    try:
        start_xml, final_xml = inst.build_xml(g)
    except BaseException:
        inst.cleanup_install_media(g)
        raise
    if o.xmlonly or o.dry:
        inst.cleanup_install_media(g)
        first, second = (start_xml, final_xml) if start_xml else (final_xml, None)
        if o.dry and not o.xmlonly:
            out("Dry run completed successfully")
            return 0
        if o.xmlonly not in ("1", "2", "all"):
            raise Fail(f"Unknown XML step request '{o.xmlonly}', must be 1, 2, or all")
        if o.xmlonly == "1":
            text = first
        elif o.xmlonly == "2":
            if not second:
                raise Fail("Requested installation does not have XML step 2")
            text = second
        else:
            text = first + (second or "")
        print(text, end="")
        return 0
    try:
        return _create(o, g, inst, start_xml, final_xml, ui)
    finally:
        inst.cleanup_install_media(g)


def _autoconsole(o: argparse.Namespace, g: Guest, inst: Installer) -> tuple[str | None, bool]:
    """(console kind or None, whether it was the default) as virt-install picks it."""
    ac = o.autoconsole or "default"
    if ac not in ("none", "default", "text", "graphical"):
        raise Fail(f"Unknown autoconsole type '{ac}'")
    if ac != "default":
        return (None if ac == "none" else ac), False
    if inst.cloudinit:
        return "text", True
    gfx = g.devs("graphics")
    if not gfx:
        return "text", True
    if gfx[0].get("type") not in ("default", "vnc", "spice"):
        return None, True
    if not testsuite():
        import shutil
        if not shutil.which("virt-viewer"):
            log.warning("Unable to connect to graphical console: virt-viewer not installed. "
                        "Please install the 'virt-viewer' package.")
            return None, True
        if not os.environ.get("DISPLAY"):
            log.warning("Graphics requested but DISPLAY is not set. Not running virt-viewer.")
            return None, True
    return "graphical", True


def testsuite() -> bool:
    return bool(os.environ.get("VIRTINST_TEST_SUITE"))


class Frontend:
    """What a run needs from the terminal it runs in: messages, the guest's console, a pause.

    The install flow decides *whether* a console is wanted and which kind (virt-install's
    policy); starting a viewer or reading the keyboard is the command line's business
    (``cli/install.py``).  This default shows nothing and starts nothing."""

    def out(self, msg: str, force: bool = False) -> None:
        pass

    def console(self, kind: str, uri: str, name: str, wait: bool) -> None:
        """Run the `kind` ('text' or 'graphical') console of `name`, waiting for it with `wait`."""

    def pause(self, seconds: float) -> None:
        """Give the user `seconds` to read something (the generated root password)."""


def _create(o: argparse.Namespace, g: Guest, inst: Installer, start_xml: str | None,
            final_xml: str, ui: Frontend) -> int:
    """Define/start as virt-install's start_install + _process_domain: console, waiting,
    and the reboot into the final XML after an install phase."""
    out = ui.out
    from pyvirt.api import DomainState, ShutoffReason
    conn = g.ci.conn
    name = g.name or ""
    try:
        conn.lookup_domain(name)
        if not inst.reinstall_xml:
            raise Fail(f"Guest name '{name}' is already in use.")
    except Fail:
        raise
    except Exception:
        pass
    console, ac_default = _autoconsole(o, g, inst)
    if inst.cdrom and console == "text":
        log.warning("CDROM media does not print to the text console by default, so you likely "
                    "will not see text install output. You might want to use --location. See "
                    "the man page for examples of using --location with CDROM media")
    if o.wait is None and console is None and ac_default:
        log.warning("No console to launch for the guest, defaulting to --wait -1")
        o.wait = -1
    out("\nStarting install...")
    if inst.generated_password:
        out(f"Password for first root login is: {inst.generated_password}", force=True)
        ui.pause(10)
    needs_boot = (not o.noreboot) or bool(start_xml)
    if o.transient and g.type == "vz" and not inst.reinstall_xml:
        raise Fail("Domain type 'vz' doesn't support transient installs.\n"
                   "Domain installation does not appear to have been successful.")
    try:
        if not inst.reinstall_xml:
            inst.build_storage(g)
        if o.transient or needs_boot:
            conn.create_xml(start_xml or final_xml)
        if not o.transient:
            conn.define_xml(final_xml)
        if o.autostart:
            conn.set_autostart(name, True)
    except Exception as exc:
        inst.cleanup_created(g)
        raise Fail(f"{exc}\nDomain installation does not appear to have been successful.\n"
                   "If it was, you can restart your domain by running:\n"
                   f"  virsh --connect {g.ci.uri} start {name}\n"
                   "otherwise, please restart your installation.") from exc
    inst.cleanup_install_media(g)
    if not (o.transient or needs_boot):
        out("Domain creation completed.")
        out(f"You can restart your domain by running:\n  virsh --connect {g.ci.uri} start {name}")
        return 0

    def state() -> tuple[int, int] | None:
        try:
            return conn.get_state(name)
        except Exception:
            return None  # a transient guest that shut down is gone

    def inactive() -> bool:
        st = state()
        if st is not None and st[0] == DomainState.CRASHED:
            raise Fail("Domain has crashed.")
        return st is None or st[0] == DomainState.SHUTOFF

    def destroy_on_exit() -> None:
        if o.destroy_on_exit and not inactive():
            conn.destroy(name)

    if console:
        ui.console(console, g.ci.uri, name, wait=o.wait is None)
        destroy_on_exit()
    if os.environ.get("VIRTINST_TESTSUITE_HACK_DESTROY"):
        conn.destroy(name)
    if not inactive():
        if console and not testsuite():
            import time
            time.sleep(2)
        if not inactive():
            msg = "\nDomain is still running. Installation may be in progress."
            if o.wait is None:
                if not inst.has_install_phase():
                    out("Domain creation completed.")
                    return 0
                out(msg + "\nYou can reconnect to the console to complete the installation process.")
                return 0
            out(msg)
            out("Waiting for the installation to complete." if o.wait < 0 else
                f"Waiting {o.wait} minute{'s' if o.wait != 1 else ''} for the installation to complete.")
            if not _wait(o.wait, inactive):
                out("Installation has exceeded specified time limit. Exiting application.")
                destroy_on_exit()
                return 1
            out("Domain has shutdown. Continuing.")
    out("Domain creation completed.")
    if o.transient:
        destroy_on_exit()
        return 0
    st = state()
    if st is not None and st[0] != DomainState.SHUTOFF:
        destroy_on_exit()
        return 0
    if o.noreboot or not inst.has_install_phase():
        out(f"You can restart your domain by running:\n  virsh --connect {g.ci.uri} start {name}")
        return 0
    if (st is not None and st[1] in (ShutoffReason.DESTROYED, ShutoffReason.SAVED)
            and not o.destroy_on_exit):
        out("User stopped the VM. Not rebooting.")
        return 0
    out("Restarting guest.")
    conn.start(name)
    if console:
        ui.console(console, g.ci.uri, name, wait=True)
    destroy_on_exit()
    return 0


def _wait(minutes: int, inactive: Callable[[], bool]) -> bool:
    """Poll once a second until the guest is off (True) or --wait's minutes pass (False);
    the test suite never waits."""
    import time
    start = time.monotonic()
    while True:
        if testsuite():
            return False
        time.sleep(1)
        if inactive():
            return True
        if minutes >= 0 and time.monotonic() - start >= minutes * 60:
            return False
