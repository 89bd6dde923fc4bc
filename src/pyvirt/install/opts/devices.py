"""Other device options: graphics, video, consoles and channels, controllers, input, rng,
tpm, memballoon, watchdog, sound, filesystem, panic, redirdev, smartcard, vsock."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pyvirt.install import modelopt
from pyvirt.install.guest import Guest
from pyvirt.install.modelopt import set_value
from pyvirt.install.opts.charsource import Sources, host_port
from pyvirt.install.subopts import Spec, SubOptError, check_unknown, parse
from pyvirt.xml import domain as xd
from pyvirt.xml.fields import Verbatim, VerbatimSize
from pyvirt.xml.safe import safe_parse

if TYPE_CHECKING:  # node devices' XML, read only
    from lxml.etree import _Element as Element

GRAPHICS = Spec("--graphics", keys=["type", "port", "tlsPort", "listen", "keymap"],
                positional=("type",), aliases={"tlsport": "tlsPort"})
VIDEO = Spec("--video", keys=["model"], positional=("model",), aliases={"model.type": "model"})
# The names beyond optmap's plain locations (see _char).
CHAR_KEYS = ["type", "path", "mode", "host", "bind_host", "source.host", "source.bind_host",
             "source.connect_host", "source.bind_service", "source.connect_service",
             "source.mode", "source.path", "target.address"]
_CHAR_ALIASES = {"char_type": "type", "target_address": "target.address"}
CONSOLE = Spec("--console", keys=CHAR_KEYS, positional=("type",), aliases=_CHAR_ALIASES)
SERIAL = Spec("--serial", keys=CHAR_KEYS, positional=("type",), aliases=_CHAR_ALIASES)
PARALLEL = Spec("--parallel", keys=CHAR_KEYS, positional=("type",), aliases=_CHAR_ALIASES)
CHANNEL = Spec("--channel", keys=CHAR_KEYS, positional=("type",), aliases=_CHAR_ALIASES)
CONTROLLER = Spec("--controller", keys=["type", "address", "num_pcie_root_ports"],
                  positional=("type",))
INPUT = Spec("--input", keys=["type", "bus"], positional=("type",))
_CHAR_HOSTS = ["source.host", "source.bind_host", "source.connect_host",
               "source.bind_service", "source.connect_service"]
RNG = Spec("--rng", keys=["type", "model", "device", "backend", "backend.model",
                          "backend.type", *("backend." + k for k in _CHAR_HOSTS)],
           positional=("backend.model",),
           aliases={"backend_type": "backend.type", "backend_connect_service":
                    "backend.source.connect_service", "backend_mode": "backend.source.mode",
                    "backend_host": "backend.source.host", "backend_service":
                    "backend.source.service", "backend_connect_host":
                    "backend.source.connect_host"})
TPM = Spec("--tpm", keys=["type", "model", "path", "version"], positional=("type",),
           aliases={"backend.type": "type", "backend.version": "version",
                    "backend.device.path": "path"})
MEMBALLOON = Spec("--memballoon", keys=["model"], positional=("model",))
WATCHDOG = Spec("--watchdog", keys=["model", "action"], positional=("model",))
SOUND = Spec("--sound", keys=["model"],
             positional=("model",))
FILESYSTEM = Spec("--filesystem", keys=["type", "accessmode", "source", "target"],
                  positional=("source", "target"), aliases={"mode": "accessmode"})
PANIC = Spec("--panic", keys=["model", "iobase", "address.iobase"],
             positional=("model",))
REDIRDEV = Spec("--redirdev", keys=["bus", "type", "server", *_CHAR_HOSTS], positional=("bus",))
SMARTCARD = Spec("--smartcard", keys=["mode", "type", *_CHAR_HOSTS], positional=("mode",),
                 comma=("database", r"certificate[0-9]*"))
VSOCK = Spec("--vsock", keys=["model"], positional=("model",))
HOSTDEV = Spec("--hostdev", keys=["name", "type"], positional=("name",))


def _port(o: dict[str, str | None], key: str, label: str) -> int | None:
    """virt-install's port check: a VNC/SPICE port is -1 (auto) or 5900 and above."""
    raw = o.get(key)
    if raw is None:
        return None
    try:
        port = int(raw)
    except ValueError as exc:
        raise SubOptError(f"invalid literal for int() with base 10: '{raw}'") from exc
    if port < 5900 and port != -1:
        raise SubOptError(f"{label} must be above 5900, or -1 for auto allocation")
    return port


def apply_graphics(g: Guest, optstr: str) -> None:
    """--graphics: the type, ports and listen shorthand; the rest are table locations.

    As virt-install: ``listen=ADDR`` is only the ``listen`` attribute (libvirt derives the
    <listen> child), ``listen=none`` drops ports and adds ``<listen type="none"/>``,
    ``listen=socket`` adds ``<listen type="socket"/>``; spice with both ports automatic
    gets ``autoport="yes"``; ``keymap=local``/``none`` mean no keymap."""
    o = parse(GRAPHICS, optstr)
    check_unknown(GRAPHICS, o)
    typ = o.get("type") or "default"
    if typ == "none":
        g.flags.skip_graphics = True
        return
    port = _port(o, "port", "Port")
    tls = _port(o, "tlsPort", "TLS Port")
    keymap = o.get("keymap")
    listen = o.get("listen")
    gfx = xd.Graphics(type=typ if typ != "default" else None, port=port, tls_port=tls,
                      autoport=True if typ == "spice" and port == -1 and tls == -1 else None,
                      keymap=keymap if keymap and keymap.lower() not in ("local", "none") else None)
    if listen == "none":
        gfx.port = gfx.tls_port = gfx.autoport = None
        gfx.listens.append(xd.Listen(type="none"))
    elif listen == "socket":
        gfx.listens.append(xd.Listen(type="socket"))
    elif listen:
        gfx.listen = listen
    modelopt.add(g, "--graphics", gfx)


def apply_video(g: Guest, optstr: str) -> None:
    """--video MODEL: the model type (``default`` leaves it to the defaults); heads, vram,
    acceleration... are table locations."""
    o = parse(VIDEO, optstr)
    check_unknown(VIDEO, o)
    model = o.get("model") if o.get("model") != "default" else None
    modelopt.add(g, "--video", xd.Video(model_type=model or None))


def _char(tag: str, spec: Spec):
    """--serial/--parallel/--console/--channel, as virt-install's char parser: ``path``,
    ``mode`` and ``bind_host`` are the source's; ``host=H:P`` connects (binds when
    mode=bind); ``target.address=H:P`` splits into address and port; UNIX and TCP sources
    default to mode=bind, channels to a virtio target, spicevmc/qemu-vdagent channels to
    the SPICE agent's name."""
    def apply(g: Guest, optstr: str) -> None:
        if optstr == "none" and tag in ("console", "channel"):
            # only these two read "none" as "no default device"; a serial or parallel
            # port "none" is a device of type none (virtinst's _ParserChar)
            if tag == "console":
                g.flags.skip_console = True
            else:
                g.flags.skip_channel = True
            return
        o = parse(spec, optstr)
        check_unknown(spec, o)
        for old, new in (("path", "source.path"), ("mode", "source.mode"),
                         ("bind_host", "source.bind_host")):
            if old in o:
                o[new] = o.pop(old)
        typ = o.get("type")
        dev = xd.CharDev(kind=tag, type=typ or None)  # no type given, none written: libvirt's default is pty
        sources = Sources()
        mode = o.get("source.mode")
        if o.get("source.bind_host") or (o.get("host") and mode == "bind"):
            h, p = host_port(o.get("source.bind_host") or o.get("host"))
            sources.set("bind", host=h, service=p)
        if o.get("source.connect_host") or (o.get("host") and mode != "bind"):
            h, p = host_port(o.get("source.connect_host") or o.get("host"))
            sources.set("connect", host=h, service=p)
        sources.hosts({k: v for k, v in o.items() if k not in ("source.bind_host", "source.connect_host")})
        if mode:
            src = sources.main()
            if src is None:
                src = sources.get(None)
            if src.get("mode") is None:
                src["mode"] = mode
        if o.get("source.path"):
            sources.set(None, path=o["source.path"])
        if o.get("target.address"):
            h, p = host_port(o["target.address"])
            dev.target_address = h
            dev.target_port = _port_value(p)
        # virt-xml's --edit builds no defaults (virtinst's set_defaults is install-time)
        _char_defaults(dev, sources, o, bind_default=not g.flags.extra.get("probe"))
        sources.store(dev, udp=typ == "udp")
        modelopt.add(g, "--" + tag, dev)
    return apply


def _port_value(port: str | None) -> int | str | None:
    """A target port as the model reads it back (a number where it is one)."""
    if port is None:
        return None
    return int(port) if port.isdigit() else Verbatim(port)


def _char_defaults(dev: xd.CharDev, sources: Sources, o: dict[str, str | None], *,
                   bind_default: bool = True) -> None:
    """virt-install's char device defaults (DeviceChar.set_defaults), for what the
    sub-options leave out (names the table writes later are looked up in `o`, since they
    are not on the object yet)."""
    src = sources.main()
    if bind_default and dev.type in ("unix", "tcp") and (src is None or not src.get("mode")):
        sources.get(None)["mode"] = "bind"
    if dev.kind != "channel":
        return
    if not any(k in o for k in ("target.type", "target_type")) and not dev.target_type:
        dev.target_type = "virtio"
    named = any(k in o for k in ("target.name", "name"))
    if dev.type in ("spicevmc", "qemu-vdagent") and not named and not dev.target_name:
        dev.target_name = "com.redhat.spice.0"


def _pci_address(addr: str) -> xd.Address:
    """``address=[DOMAIN:]BUS:SLOT.FUNCTION`` (virt-install's controller shorthand)."""
    if addr.count(":") not in (1, 2) or "." not in addr:
        raise SubOptError(f"Expected PCI format string for '{addr}'")
    rest, func = addr.split(".", 1)
    rest, slot = rest.rsplit(":", 1)
    domain, bus = rest.split(":", 1) if ":" in rest else ("0", rest)
    # the numbers as typed, as virtinst writes them (not libvirt's hex layout)
    return xd.Address(type="pci", domain=Verbatim(domain), bus=Verbatim(bus), slot=Verbatim(slot),
                      function=Verbatim(func))


def apply_controller(g: Guest, optstr: str) -> None:
    """--controller TYPE: ``usb2``/``usb3`` are virt-install's controller sets,
    ``num_pcie_root_ports=N`` only sets how many root ports the defaults add."""
    if optstr in ("usb2", "usb3"):
        _usb_set(g, optstr)
        return
    o = parse(CONTROLLER, optstr)
    check_unknown(CONTROLLER, o)
    if o.get("num_pcie_root_ports"):
        g.flags.num_pcie_root_ports = int(o["num_pcie_root_ports"])
        return
    address = _pci_address(o["address"]) if o.get("address") else None
    modelopt.add(g, "--controller", xd.Controller(type=o.get("type") or None, address=address))


def _usb_set(g: Guest, which: str) -> None:
    from pyvirt.install.defaults import USB2_MODELS, usb3_model
    if which == "usb3":
        modelopt.add(g, "--controller", xd.Controller(type="usb", model=usb3_model(g), ports=15))
        return
    for m in USB2_MODELS:
        start = None if m == "ich9-ehci1" else (int(m[-1]) - 1) * 2
        modelopt.add(g, "--controller", xd.Controller(type="usb", model=m, master_startport=start))


def apply_input(g: Guest, optstr: str) -> None:
    """--input TYPE,bus=B: mouse by default; the bus defaults to usb for a tablet, none
    for evdev, xen on Xen and ps2 otherwise (virt-install's DeviceInput defaults)."""
    o = parse(INPUT, optstr)
    check_unknown(INPUT, o)
    typ = o.get("type") if o.get("type") not in (None, "default") else "mouse"
    bus = o.get("bus") if o.get("bus") not in (None, "default") else None
    if bus is None and "bus" not in o:
        bus = ("usb" if typ == "tablet" else None if typ == "evdev" else
               "xen" if g.ci.is_xen() else "ps2")
    modelopt.add(g, "--input", xd.Input(type=typ, bus=bus or None))


def apply_rng(g: Guest, optstr: str) -> None:
    """--rng: ``--rng /dev/urandom`` is the random backend reading that device; ``type=``
    and ``device=`` are the old names of ``backend.model=`` and ``backend=``; the model
    defaults to virtio.  Backend source, rate, address... are table locations."""
    if optstr == "none":
        g.flags.skip_rng = True
        return
    o = parse(RNG, optstr)
    check_unknown(RNG, o)
    bmodel = o.get("backend.model") or o.get("type")
    device = o.get("backend") or o.get("device")
    if bmodel and bmodel.startswith("/"):
        device, bmodel = bmodel, "random"
    if device and not bmodel:
        bmodel = "random"  # virtinst's DeviceRng.device is ./backend[@model='random']
    rng = xd.RNG(model=o.get("model") or "virtio", backend_model=bmodel or None, backend=device or None,
                 backend_type=o.get("backend.type") or None)
    sources = Sources()
    sources.hosts(o, "backend.")
    sources.store(rng, udp=rng.backend_type == "udp", fields="backend_source_")
    modelopt.add(g, "--rng", rng)


def apply_tpm(g: Guest, optstr: str) -> None:
    """--tpm: ``--tpm /dev/tpm0`` passes that host device through; ``default`` leaves
    every choice to the defaults (emulator backend, tpm-crb when the host offers it)."""
    if optstr == "none":
        g.flags.skip_tpm = True
        return
    o = parse(TPM, optstr)
    check_unknown(TPM, o)
    typ = o.get("type")
    path = o.get("path")
    if typ and typ.startswith("/"):
        path, typ = typ, None
    if typ == "default":
        typ = None
    if path and not typ:
        typ = "passthrough"
    modelopt.add(g, "--tpm", xd.TPM(model=o.get("model") or None, backend_type=typ or "emulator",
                                 backend_version=o.get("version") or None, backend_device_path=path or None))


def apply_memballoon(g: Guest, optstr: str) -> None:
    """--memballoon MODEL (virtio by default; ``none`` is a model too)."""
    o = parse(MEMBALLOON, optstr)
    check_unknown(MEMBALLOON, o)
    model = o.get("model") if o.get("model") not in (None, "default") else "virtio"
    modelopt.add(g, "--memballoon", xd.MemBalloon(model=model))


def apply_watchdog(g: Guest, optstr: str) -> None:
    """--watchdog MODEL,action=A: i6300esb and reset by default."""
    o = parse(WATCHDOG, optstr)
    check_unknown(WATCHDOG, o)
    model = o.get("model") if o.get("model") not in (None, "default") else "i6300esb"
    action = o.get("action") if o.get("action") not in (None, "default") else "reset"
    modelopt.add(g, "--watchdog", xd.Watchdog(model=model, action=action))


def apply_sound(g: Guest, optstr: str) -> None:
    if optstr == "none":
        g.flags.skip_sound = True
        return
    o = parse(SOUND, optstr)
    check_unknown(SOUND, o)
    model = o.get("model")
    if not model or model == "default":
        model = "ich9" if g.is_q35() else "ich6"
    modelopt.add(g, "--sound", xd.Sound(model=model))


#: the model field a filesystem type's source names (a directory for the others)
_FS_SOURCE = {"template": "source_name", "file": "source_file", "block": "source_dev", "ram": "source_usage"}


def apply_filesystem(g: Guest, optstr: str) -> None:
    """--filesystem SOURCE,TARGET: the source attribute follows the type (template ->
    name, file -> file, block -> dev, ram -> usage, else dir); type defaults to mount."""
    o = parse(FILESYSTEM, optstr)
    check_unknown(FILESYSTEM, o)
    typ = o.get("type") or "mount"
    fs = xd.Filesystem(type=typ, accessmode=o.get("accessmode") or None)
    if o.get("source"):
        setattr(fs, _FS_SOURCE.get(typ, "source_dir"), o["source"])
    if o.get("target"):
        # virtinst's DeviceFilesystem.validate_target: on QEMU (and the test driver) a mount's
        # target is a tag the guest mounts by, not a path
        if not o["target"].startswith("/") and not ((g.ci.is_qemu() or g.ci.is_test()) and typ == "mount"):
            raise SubOptError(f"Filesystem target '{o['target']}' must be an absolute path")
        fs.target_dir = o["target"]
    modelopt.add(g, "--filesystem", fs)


_VIRTIO_DRIVER_KEYS = ("driver.ats", "driver.iommu", "driver.packed", "driver.page_per_vq")


def finish_filesystem(fs: Element, opts: dict[str, str | None]) -> None:
    """<filesystem> children in virtinst's order once every sub-option is written: the
    virtio driver options (parsed with the common device ones) bring <driver> first, then
    alias and address, then the rest in its parser's order, where ``target=`` is parsed
    before the ``source.*`` names (a source given or overridden that way follows the target) and
    ``target.dir=`` after them."""
    order = ["alias", "address", "readonly", "space_hard_limit", "space_soft_limit",
             "source", "target", "binary", "driver", "boot"]
    if any(k in opts for k in _VIRTIO_DRIVER_KEYS):
        order.insert(0, order.pop(order.index("driver")))
    by_sub = any(k.startswith("source.") for k in opts)
    if by_sub and "target" in opts and "target.dir" not in opts:
        i, j = order.index("source"), order.index("target")
        order[i], order[j] = "target", "source"
    kids = list(fs)
    fs[:] = sorted(kids, key=lambda k: order.index(k.tag) if k.tag in order else len(order))


def apply_panic(g: Guest, optstr: str) -> None:
    """--panic MODEL; a lone ``0x...`` is an ISA panic device at that I/O base."""
    o = parse(PANIC, optstr)
    check_unknown(PANIC, o)
    model = o.get("model")
    if len(o) == 1 and model and model.startswith("0x"):
        o["address.iobase"], model = model, "isa"
    if model in (None, "default"):
        model = "isa" if g.is_x86() else ("pseries" if g.is_pseries() else
                                          "s390" if g.is_s390x() else None)
    iobase = o.get("address.iobase") or o.get("iobase")
    if not model and not iobase and set(o) <= {"model"}:
        # virtinst's XML builder makes no element for a device nothing was set on
        # (``--panic default`` where the machine has no panic model)
        return
    address = xd.Address(type=o.get("address.type") or "isa", iobase=iobase) if iobase else None
    modelopt.add(g, "--panic", xd.Panic(model=model or None, address=address))


def apply_redirdev(g: Guest, optstr: str) -> None:
    """--redirdev BUS,type=T,server=HOST:PORT (a TCP source)."""
    if optstr == "none":
        g.flags.skip_usbredir = True
        return
    o = parse(REDIRDEV, optstr)
    check_unknown(REDIRDEV, o)
    bus = o.get("bus") if o.get("bus") not in (None, "default") else "usb"
    typ = o.get("type") if o.get("type") not in (None, "default") else "spicevmc"
    rd = xd.Redirdev(bus=bus, type=typ)
    sources = Sources()
    if o.get("server"):
        h, p = host_port(o["server"])
        sources.set(None, host=h, service=p)
    sources.hosts(o)
    sources.store(rd, udp=typ == "udp")
    modelopt.add(g, "--redirdev", rd)


def apply_smartcard(g: Guest, optstr: str) -> None:
    """--smartcard MODE (its mode and type defaults are virtinst's set_defaults,
    install/defaults.py: virt-xml's --edit does not apply them)."""
    if optstr == "none":
        return
    o = parse(SMARTCARD, optstr)
    check_unknown(SMARTCARD, o)
    mode = o.get("mode") if o.get("mode") not in (None, "default") else None
    typ = o.get("type") if o.get("type") not in (None, "default") else None
    sc = xd.Smartcard(mode=mode, type=typ)
    sources = Sources()
    sources.hosts(o)
    sources.store(sc, udp=sc.type == "udp")
    modelopt.add(g, "--smartcard", sc)


def apply_vsock(g: Guest, optstr: str) -> None:
    """--vsock: model virtio (without a CID, cid.auto=yes: a default, install/defaults.py,
    which virt-xml's --edit does not apply)."""
    o = parse(VSOCK, optstr)
    check_unknown(VSOCK, o)
    model = o.get("model") if o.get("model") not in (None, "default") else "virtio"
    modelopt.add(g, "--vsock", xd.Vsock(model=model))


def _nodedevs(g: Guest) -> list[Element]:
    """Every node device the connection lists (none when it cannot list them)."""
    conn = g.ci.conn
    out = []
    try:
        devices = conn.list_node_devices()  # NodeDeviceInfo records
    except Exception:
        return []
    for dev in devices:
        try:
            out.append(safe_parse(conn.get_node_device_xml(dev.name)))
        except Exception:
            continue
    return out


def _hex_eq(a: str | None, b: str | None) -> bool:
    """virt-install's _compare_int: an unset side matches, numbers compare by value."""
    if a is None or b is None:
        return True
    try:
        return int(str(a), 0 if str(a).startswith("0x") else 10) == \
            int(str(b), 0 if str(b).startswith("0x") else 10)
    except ValueError:
        return a == b


def _cap(dev: Element) -> Element | None:
    return dev.find("capability")


def _matches(dev: Element, want: dict[str, str | None]) -> bool:
    cap = _cap(dev)
    if cap is None:
        return False
    kind = cap.get("type")
    if kind == "pci" and want["type"] == "pci":
        return all(_hex_eq(cap.findtext(k), want[k]) for k in ("domain", "bus", "slot", "function"))
    if kind == "usb_device" and want["type"] == "usb":
        return (_hex_eq(cap.find("product").get("id") if cap.find("product") is not None else None,
                        want.get("product"))
                and _hex_eq(cap.find("vendor").get("id") if cap.find("vendor") is not None else None,
                            want.get("vendor"))
                and _hex_eq(cap.findtext("bus"), want.get("bus"))
                and _hex_eq(cap.findtext("device"), want.get("device")))
    return False


def _address_string(addr: str) -> dict[str, str | None]:
    """virt-install's three host device address forms: (domain:)bus:slot.func (PCI),
    vendor:product and bus.device (USB)."""
    if addr.count(":") in (1, 2) and "." in addr:
        rest, func = addr.split(".", 1)
        rest, slot = rest.rsplit(":", 1)
        domain, bus = rest.split(":", 1) if ":" in rest else ("0", rest)
        return {"type": "pci", "domain": f"0x{int(domain, 16):04X}", "bus": f"0x{int(bus, 16):02X}",
                "slot": f"0x{int(slot, 16):02X}", "function": f"0x{int(func, 16):02X}"}
    if ":" in addr:
        vendor, product = addr.split(":")
        return {"type": "usb", "vendor": f"0x{int(vendor, 16):04X}",
                "product": f"0x{int(product, 16):04X}", "bus": None, "device": None}
    if "." in addr:
        bus, device = addr.split(".", 1)
        return {"type": "usb", "bus": bus, "device": device, "vendor": None, "product": None}
    raise SubOptError(f"Unknown hostdev address string format '{addr}'")


def _lookup_nodedev(g: Guest, name: str) -> Element:
    devs = _nodedevs(g)
    for dev in devs:
        if dev.findtext("name") == name:
            return dev
    want = _address_string(name)
    found = [d for d in devs if _matches(d, want)]
    if len(found) > 1:
        raise SubOptError(f"{name} corresponds to multiple node devices")
    if not found:
        raise SubOptError(f"Did not find a matching node device for '{name}'")
    return found[0]


def _hostdev_from_nodedev(g: Guest, hd: xd.Hostdev, dev: Element, devs: list[Element]) -> None:
    """virt-install's DeviceHostdev.set_from_nodedev for the kinds a host can pass; the node
    device's numbers are written as its XML gives them (virtinst copies the text)."""
    cap = _cap(dev)
    kind = cap.get("type") if cap is not None else None
    if kind == "net":
        parent = next((d for d in devs if d.findtext("name") == dev.findtext("parent")), None)
        if parent is None:
            raise SubOptError(f"Unsupported node device type '{kind}'")
        return _hostdev_from_nodedev(g, hd, parent, devs)
    if kind == "pci":
        hd.type = "pci"
        hd.source_address = _source_address(domain=cap.findtext("domain"), bus=cap.findtext("bus"),
                                            slot=cap.findtext("slot"), function=cap.findtext("function"))
    elif kind == "usb_device":
        hd.type = "usb"
        vendor = cap.find("vendor").get("id")
        product = cap.find("product").get("id")
        hd.source_vendor, hd.source_product = vendor, product
        same = [d for d in devs if _cap(d) is not None and _cap(d).get("type") == "usb_device"
                and _cap(d).find("vendor").get("id") == vendor
                and _cap(d).find("product").get("id") == product]
        if len(same) > 1:
            hd.source_address = _source_address(bus=cap.findtext("bus"), device=cap.findtext("device"))
    elif kind == "mdev":
        _mdev_hostdev(hd, dev, cap)
    elif kind == "scsi":
        hd.type = "scsi"
        hd.managed = False
        hd.source_adapter = f"scsi_host{cap.findtext('host')}"
        hd.source_address = _source_address(bus=cap.findtext("bus"), target=cap.findtext("target"),
                                            unit=cap.findtext("lun"))
    else:
        raise SubOptError(f"Unsupported node device type '{kind}'")


def _source_address(**given: str | None) -> xd.HostdevSourceAddress:
    """A host address with the values as given (text, not the model's hex layout)."""
    return xd.HostdevSourceAddress(**{k: Verbatim(v) for k, v in given.items() if v is not None})


def _mdev_hostdev(hd: xd.Hostdev, dev: Element, cap: Element) -> None:
    """virt-install's mdev passthrough: the model and management follow the mdev type, the
    source is the mdev's UUID (its <uuid>, else the name ``mdev_UUID_WITH_UNDERSCORES``)."""
    type_id = cap.find("type").get("id") if cap.find("type") is not None else ""
    hd.type = "mdev"
    if type_id == "vfio_ccw-io":
        hd.managed, hd.model = False, "vfio-ccw"
    elif type_id == "vfio_ap-passthrough":
        hd.managed, hd.model = False, "vfio-ap"
    elif re.match(r"^nvidia-[0-9]{2}", type_id) or re.match(r"^i915-GVTg_V[0-9]_[0-9]", type_id):
        hd.managed, hd.model, hd.display, hd.ramfb = True, "vfio-pci", False, False
    else:
        raise SubOptError(f"Don't know how to generate nodedev for mdev type id '{type_id}'")
    uuid = cap.findtext("uuid") or (dev.findtext("name") or "")[5:].replace("_", "-")
    hd.source_address = xd.HostdevSourceAddress(uuid=uuid)


def drm_render_node(g: Guest) -> str | None:
    """The first DRM render node the host lists, by its by-path link when it has one
    (virt-install's default ``rendernode`` for SPICE with OpenGL)."""
    for dev in _nodedevs(g):
        cap = _cap(dev)
        if cap is None or cap.get("type") != "drm" or cap.findtext("type") != "render":
            continue
        nodes = [n.text or "" for n in dev.findall("devnode")]
        for path in nodes:
            parts = path.split("/")
            if len(parts) > 2 and parts[-2] == "by-path":
                return path
        return nodes[0] if nodes else None
    return None


def apply_hostdev(g: Guest, optstr: str) -> None:
    """--hostdev NAME: a node device by name or by address (PCI D:B:S.F, USB vendor:product
    or bus.device); ``type=net|misc|storage`` pass a host interface/char/block device in
    capabilities mode instead."""
    o = parse(HOSTDEV, optstr)
    check_unknown(HOSTDEV, o)
    name = o.get("name") or ""
    typ = o.get("type")
    caps_tags = {"net": "interface", "misc": "char", "storage": "block"}
    if typ in caps_tags:  # capabilities mode: a host interface, char or block device
        hd = xd.Hostdev(mode="capabilities", type=Verbatim(typ))
        if name:
            set_value(hd, f"source/{caps_tags[typ]}", name)
    else:
        hd = xd.Hostdev(mode="subsystem", type=typ or None)
    if name and hd.mode == "subsystem":
        devs = _nodedevs(g)
        dev = _lookup_nodedev(g, name)
        _hostdev_from_nodedev(g, hd, dev, devs)
    if hd.managed is None:  # virtinst's DeviceHostdev.set_defaults, whatever the mode
        hd.managed = not g.ci.is_xen()
    modelopt.add(g, "--hostdev", hd)


MEMDEV = Spec("--memdev", keys=["model", "target.size", "target_size", "target.label_size",
                                "target_label_size", "source.alignsize"], positional=("model",))


def apply_memdev(g: Guest, optstr: str) -> None:
    """--memdev MODEL,target.size=MiB: sizes are given in MiB and written in KiB (label
    and alignment sizes too); everything else is a table location."""
    o = parse(MEMDEV, optstr)
    check_unknown(MEMDEV, o)
    mem = xd.MemoryDevice(model=o.get("model") or None)
    for keys, name in ((("target.size", "target_size"), "target_size"),
                       (("target.label_size", "target_label_size"), "target_label_size"),
                       (("source.alignsize",), "source_alignsize")):
        val = next((o[k] for k in keys if o.get(k) is not None), None)
        if val is not None:
            try:
                kib = int(val) * 1024
            except ValueError as exc:
                raise SubOptError(f"invalid literal for int() with base 10: '{val}'") from exc
            setattr(mem, name, VerbatimSize(str(kib)))  # written as virtinst writes it: no unit
    modelopt.add(g, "--memdev", mem)


SPECS = {s.flag: s for s in (MEMDEV, GRAPHICS, VIDEO, CONSOLE, SERIAL, PARALLEL, CHANNEL, CONTROLLER,
                             INPUT, RNG, TPM, MEMBALLOON, WATCHDOG, SOUND, FILESYSTEM, PANIC,
                             REDIRDEV, SMARTCARD, VSOCK, HOSTDEV)}
APPLY = {"--graphics": apply_graphics, "--video": apply_video,
         "--console": _char("console", CONSOLE), "--serial": _char("serial", SERIAL),
         "--parallel": _char("parallel", PARALLEL), "--channel": _char("channel", CHANNEL),
         "--controller": apply_controller, "--input": apply_input, "--rng": apply_rng,
         "--tpm": apply_tpm, "--memballoon": apply_memballoon, "--watchdog": apply_watchdog,
         "--sound": apply_sound, "--filesystem": apply_filesystem, "--panic": apply_panic,
         "--redirdev": apply_redirdev, "--smartcard": apply_smartcard, "--vsock": apply_vsock,
         "--hostdev": apply_hostdev, "--memdev": apply_memdev}
