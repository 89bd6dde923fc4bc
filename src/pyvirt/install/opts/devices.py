"""Other device options: graphics, video, consoles and channels, controllers, input, rng,
tpm, memballoon, watchdog, sound, filesystem, panic, redirdev, smartcard, vsock."""

from __future__ import annotations

import re

from lxml import etree

from pyvirt.install.guest import Guest
from pyvirt.install.subopts import Spec, SubOptError, check_unknown, parse, yesno
from pyvirt.install.xmltree import child

GRAPHICS = Spec("--graphics", keys=["type", "port", "tlsport", "tlsPort", "websocket", "listen",
                                    "listens0.type", r"listens[0-9]*\..*", "keymap", "password",
                                    "passwd", "passwordvalidto", "connected", "defaultMode",
                                    "gl", "gl.enable", "rendernode", "gl.rendernode",
                                    "image.compression", "image_compression", "clipboard.copypaste",
                                    "mouse.mode", "filetransfer.enable", "zlib.compression",
                                    "streaming.mode", "display", "xauth"],
                positional=("type",), aliases={"password": "passwd", "tlsport": "tlsPort",
                                               "gl.enable": "gl"})
VIDEO = Spec("--video", keys=["model", "model.type", "model.heads", "model.vram", "model.ram",
                              "model.vgamem", "model.acceleration.accel3d", "accel3d", "heads",
                              "vram", "ram", "vgamem"],
             positional=("model",), aliases={"model.type": "model"})
CHAR_KEYS = ["type", "char_type", "path", "source.path", "mode", "source.mode", "host",
             "bind_host", "source.host", "source.service", "protocol", "protocol.type",
             "target_type", "target.type", "name", "target.name", "target_port",
             "target.port", "target_address", "target.address", "log.file", "log.append",
             "target.model.name", "source.master", "source.slave", "source.channel",
             "source.seclabel.*", r"source\..*"]
CONSOLE = Spec("--console", keys=CHAR_KEYS, positional=("type",))
SERIAL = Spec("--serial", keys=CHAR_KEYS, positional=("type",))
PARALLEL = Spec("--parallel", keys=CHAR_KEYS, positional=("type",))
CHANNEL = Spec("--channel", keys=CHAR_KEYS, positional=("type",))
CONTROLLER = Spec("--controller", keys=["type", "model", "index", "ports", "vectors",
                                        "master", "maxGrantFrames", "driver.queues",
                                        "num_pcie_root_ports", r"address\..*", "target.*"],
                  positional=("type",))
INPUT = Spec("--input", keys=["type", "bus", "model", "source.evdev", r"source\..*"],
             positional=("type",))
RNG = Spec("--rng", keys=["type", "model", "device", "backend", "backend.model",
                          "backend.type", r"backend\..*", "rate.bytes", "rate.period"],
           positional=("type",))
TPM = Spec("--tpm", keys=["type", "model", "path", "device", "version", "backend.type",
                          "backend.version", "backend.device.path", r"backend\..*"],
           positional=("type",))
MEMBALLOON = Spec("--memballoon", keys=["model", "autodeflate", "stats.period",
                                        "freePageReporting", r"address\..*"],
                  positional=("model",))
WATCHDOG = Spec("--watchdog", keys=["model", "action", r"address\..*"], positional=("model",))
SOUND = Spec("--sound", keys=["model", "codec.type", r"codec[0-9]*\.type"],
             positional=("model",))
FILESYSTEM = Spec("--filesystem", keys=["type", "accessmode", "mode", "driver.type",
                                        "source", "source.dir", "target", "target.dir",
                                        "readonly", "multidevs", "binary.path"],
                  positional=("source", "target"))
PANIC = Spec("--panic", keys=["model", "iobase", r"address\..*"], positional=("model",))
REDIRDEV = Spec("--redirdev", keys=["bus", "type", "server", "boot.order"], positional=("bus",))
SMARTCARD = Spec("--smartcard", keys=["mode", "type", "database"], positional=("mode",))
VSOCK = Spec("--vsock", keys=["cid.auto", "cid.address", "model"], positional=("cid.auto",))
HOSTDEV = Spec("--hostdev", keys=["name", "type", "driver_name", "boot.order", "rom.bar"],
               positional=("name",))


def apply_graphics(g: Guest, optstr: str) -> None:
    o = parse(GRAPHICS, optstr)
    check_unknown(GRAPHICS, o)
    typ = o.get("type") or "default"
    if typ == "none":
        g.flags.skip_graphics = True
        return
    gfx = etree.Element("graphics")
    if typ != "default":
        gfx.set("type", typ)
    if o.get("port"):
        try:
            port = int(o["port"])
        except ValueError as exc:
            raise SubOptError(f"Invalid graphics port '{o['port']}'") from exc
        gfx.set("port", str(port))
        gfx.set("autoport", "no" if port != -1 else "yes")
    if o.get("tlsPort"):
        gfx.set("tlsPort", o["tlsPort"])
    if o.get("keymap"):
        gfx.set("keymap", o["keymap"])
    if o.get("listen"):
        listen = o["listen"]
        if listen == "none":
            child(gfx, "listen", type="none")
        elif listen == "socket":
            child(gfx, "listen", type="socket")
        else:
            gfx.set("listen", listen)
            child(gfx, "listen", type="address", address=listen)
    if o.get("passwd"):
        gfx.set("passwd", o["passwd"])
    if o.get("gl"):
        child(gfx, "gl", enable="yes" if yesno(o["gl"]) else "no")
    ic = o.get("image.compression") or o.get("image_compression")
    if ic:
        child(gfx, "image", compression=ic)
    g.add_device(gfx)


def apply_video(g: Guest, optstr: str) -> None:
    o = parse(VIDEO, optstr)
    check_unknown(VIDEO, o)
    vid = etree.Element("video")
    if o.get("model") and o["model"] != "default":
        m = child(vid, "model", type=o["model"])
        for k in ("heads", "vram", "ram", "vgamem"):
            v = o.get(k) or o.get(f"model.{k}")
            if v:
                m.set(k, v)
    g.add_device(vid)


def _char(tag: str, spec: Spec):
    def apply(g: Guest, optstr: str) -> None:
        if optstr == "none":
            if tag == "console":
                g.flags.skip_console = True
            if tag == "channel":
                g.flags.skip_channel = True
            return
        o = parse(spec, optstr)
        check_unknown(spec, o)
        typ = o.get("type") or o.get("char_type") or "pty"
        dev = etree.Element(tag, type=typ)
        path = o.get("path") or o.get("source.path")
        mode = o.get("mode") or o.get("source.mode")
        host = o.get("host") or o.get("source.host")
        if path or mode or host:
            src = child(dev, "source")
            if mode:
                src.set("mode", mode)
            if path:
                src.set("path", path)
            if host:
                h, _, svc = host.partition(":")
                src.set("host", h)
                if svc:
                    src.set("service", svc)
        proto = o.get("protocol") or o.get("protocol.type")
        if proto:
            child(dev, "protocol", type=proto)
        ttype = o.get("target_type") or o.get("target.type")
        tname = o.get("name") or o.get("target.name")
        tport = o.get("target_port") or o.get("target.port")
        if tag == "channel" and not ttype and typ in ("spicevmc", "unix", "pty") and not o.get("target.address"):
            ttype = "virtio"
        if tag == "channel" and typ == "spicevmc" and not tname:
            tname = "com.redhat.spice.0"
        if ttype or tname or tport:
            tgt = child(dev, "target", type=ttype, name=tname, port=tport)
            del tgt
        g.add_device(dev)
    return apply


def apply_controller(g: Guest, optstr: str) -> None:
    o = parse(CONTROLLER, optstr)
    check_unknown(CONTROLLER, o)
    if o.get("num_pcie_root_ports"):
        g.flags.num_pcie_root_ports = int(o["num_pcie_root_ports"])
        if len(o) == 1:
            return
    typ = o.get("type")
    if typ == "usb2" or typ == "usb3":
        if typ == "usb3":
            g.add_device(etree.Element("controller", type="usb", model="qemu-xhci", ports="15"))
        else:
            from pyvirt.install.defaults import USB2_MODELS
            for m in USB2_MODELS:
                c = etree.Element("controller", type="usb", model=m)
                if m != "ich9-ehci1":
                    etree.SubElement(c, "master", startport=str((int(m[-1]) - 1) * 2))
                g.add_device(c)
        return
    c = etree.Element("controller", type=typ or "")
    for k in ("index", "model", "ports", "vectors", "maxGrantFrames"):
        if o.get(k):
            c.set(k, o[k])
    if o.get("master"):
        etree.SubElement(c, "master", startport=o["master"])
    g.add_device(c)


def apply_input(g: Guest, optstr: str) -> None:
    o = parse(INPUT, optstr)
    check_unknown(INPUT, o)
    typ = o.get("type") or "mouse"
    bus = o.get("bus")
    if not bus and typ in ("tablet", "keyboard", "mouse") and typ == "tablet":
        bus = "usb"
    g.add_device(etree.Element("input", type=typ, **({"bus": bus} if bus else {})))


def apply_rng(g: Guest, optstr: str) -> None:
    if optstr == "none":
        g.flags.skip_rng = True
        return
    o = parse(RNG, optstr)
    check_unknown(RNG, o)
    typ = o.get("type") or o.get("backend.model") or "random"
    if typ == "default":
        typ = "random"
    rng = etree.Element("rng", model=o.get("model") or "virtio")
    be = etree.SubElement(rng, "backend", model=typ)
    if typ == "random":
        be.text = o.get("device") or "/dev/urandom"
    g.add_device(rng)


def apply_tpm(g: Guest, optstr: str) -> None:
    if optstr == "none":
        g.flags.skip_tpm = True
        return
    o = parse(TPM, optstr)
    check_unknown(TPM, o)
    typ = o.get("type") or o.get("backend.type")
    if typ == "default" or (typ and typ.startswith("/")):
        if typ and typ.startswith("/"):
            o["path"] = typ
            typ = "passthrough"
        else:
            typ = "emulator"
    path = o.get("path") or o.get("device") or o.get("backend.device.path")
    typ = typ or ("passthrough" if path else "emulator")  # a device path means passthrough
    tpm = etree.Element("tpm")
    if o.get("model"):
        tpm.set("model", o["model"])
    be = etree.SubElement(tpm, "backend", type=typ)
    ver = o.get("version") or o.get("backend.version")
    if ver:
        be.set("version", ver)
    if typ == "passthrough":
        etree.SubElement(be, "device", path=path or "/dev/tpm0")
    g.add_device(tpm)


def apply_memballoon(g: Guest, optstr: str) -> None:
    o = parse(MEMBALLOON, optstr)
    check_unknown(MEMBALLOON, o)
    model = o.get("model") or "virtio"
    if model == "default":
        model = "virtio"
    mb = etree.Element("memballoon", model=model)
    if o.get("autodeflate"):
        mb.set("autodeflate", "on" if yesno(o["autodeflate"]) else "off")
    if o.get("stats.period"):
        etree.SubElement(mb, "stats", period=o["stats.period"])
    g.add_device(mb)


def apply_watchdog(g: Guest, optstr: str) -> None:
    o = parse(WATCHDOG, optstr)
    check_unknown(WATCHDOG, o)
    model = o.get("model")
    if not model or model == "default":
        model = "i6300esb"
    g.add_device(etree.Element("watchdog", model=model, action=o.get("action") or "reset"))


def apply_sound(g: Guest, optstr: str) -> None:
    if optstr == "none":
        g.flags.skip_sound = True
        return
    o = parse(SOUND, optstr)
    check_unknown(SOUND, o)
    model = o.get("model")
    if not model or model == "default":
        model = "ich9" if g.is_q35() else "ich6"
    g.add_device(etree.Element("sound", model=model))


def apply_filesystem(g: Guest, optstr: str) -> None:
    o = parse(FILESYSTEM, optstr)
    check_unknown(FILESYSTEM, o)
    fs = etree.Element("filesystem", type=o.get("type") or "mount")
    mode = o.get("accessmode") or o.get("mode")
    if mode:
        fs.set("accessmode", mode)
    if o.get("driver.type"):
        etree.SubElement(fs, "driver", type=o["driver.type"])
    src = o.get("source") or o.get("source.dir")
    if src:
        etree.SubElement(fs, "source", dir=src)
    tgt = o.get("target") or o.get("target.dir")
    if tgt:
        etree.SubElement(fs, "target", dir=tgt)
    if o.get("readonly") is not None and yesno(o.get("readonly") or "yes"):
        etree.SubElement(fs, "readonly")
    g.add_device(fs)


def apply_panic(g: Guest, optstr: str) -> None:
    o = parse(PANIC, optstr)
    check_unknown(PANIC, o)
    model = o.get("model")
    if model == "default" or model is None:
        model = "isa" if g.is_x86() else ("pseries" if g.is_pseries() else "s390" if g.is_s390x() else None)
    p = etree.Element("panic")
    if model and model.startswith("0x"):
        p.set("model", "isa")
        etree.SubElement(p, "address", type="isa", iobase=model)
    elif model:
        p.set("model", model)
    g.add_device(p)


def apply_redirdev(g: Guest, optstr: str) -> None:
    if optstr == "none":
        g.flags.skip_usbredir = True
        return
    o = parse(REDIRDEV, optstr)
    check_unknown(REDIRDEV, o)
    g.add_device(etree.Element("redirdev", bus=o.get("bus") or "usb",
                               type=o.get("type") or "spicevmc"))


def apply_smartcard(g: Guest, optstr: str) -> None:
    if optstr == "none":
        return
    o = parse(SMARTCARD, optstr)
    check_unknown(SMARTCARD, o)
    g.add_device(etree.Element("smartcard", mode=o.get("mode") or "passthrough",
                               **({"type": o["type"]} if o.get("type") else {})))


def apply_vsock(g: Guest, optstr: str) -> None:
    o = parse(VSOCK, optstr)
    v = etree.Element("vsock", model="virtio")
    auto = o.get("cid.auto")
    if auto in (None, "auto", "default") or auto and yesno(auto):
        etree.SubElement(v, "cid", auto="yes")
    else:
        etree.SubElement(v, "cid", auto="no", address=o.get("cid.address") or auto or "3")
    g.add_device(v)


def _nodedev(g: Guest, name: str) -> etree._Element | None:
    getter = getattr(g.ci.conn, "get_node_device_xml", None)
    if getter is None:
        return None
    try:
        return etree.fromstring(getter(name).encode())
    except Exception:
        pass
    m = re.fullmatch(r"(?:0x)?([0-9a-fA-F]{1,4}):(?:0x)?([0-9a-fA-F]{1,4})", name)
    if m is None:
        return None
    # VENDOR:PRODUCT: the USB device with those ids (virt-install's lookup)
    want = (int(m.group(1), 16), int(m.group(2), 16))
    for devname in getattr(g.ci.conn, "list_node_devices", list)():
        try:
            dev = etree.fromstring(getter(devname).encode())
        except Exception:
            continue
        cap = dev.find("capability[@type='usb_device']")
        if cap is None or cap.find("vendor") is None or cap.find("product") is None:
            continue
        try:
            ids = (int(cap.find("vendor").get("id", ""), 16), int(cap.find("product").get("id", ""), 16))
        except ValueError:
            continue
        if ids == want:
            return dev
    return None


def apply_hostdev(g: Guest, optstr: str) -> None:
    """--host-device NODEDEV: PCI and USB devices by node device name (the forms the
    connection can resolve); other node device kinds are refused as virt-install does."""
    o = parse(HOSTDEV, optstr)
    check_unknown(HOSTDEV, o)
    name = o.get("name") or ""
    dev = _nodedev(g, name)
    if dev is None:
        if ":" not in name and "." not in name and not name.startswith("pci_") \
                and not name.startswith("usb_"):
            raise SubOptError(f"Unknown hostdev address string format '{name}'")
        raise SubOptError(f"Did not find a matching node device for '{name}'")
    cap = dev.find("capability")
    kind = cap.get("type") if cap is not None else None
    if cap is None or kind not in ("pci", "usb_device"):
        raise SubOptError(f"Unsupported node device type '{kind}'")
    hd = etree.Element("hostdev", mode="subsystem", type="pci" if kind == "pci" else "usb",
                       managed="yes")
    src = etree.SubElement(hd, "source")
    if kind == "pci":
        etree.SubElement(src, "address", domain=hex(int(cap.findtext("domain", "0"))),
                         bus=hex(int(cap.findtext("bus", "0"))),
                         slot=hex(int(cap.findtext("slot", "0"))),
                         function=hex(int(cap.findtext("function", "0"))))
    else:
        vendor, product = cap.find("vendor"), cap.find("product")
        etree.SubElement(src, "vendor", id=vendor.get("id", "") if vendor is not None else "")
        etree.SubElement(src, "product", id=product.get("id", "") if product is not None else "")
    if o.get("boot.order"):
        etree.SubElement(hd, "boot", order=o["boot.order"])
    g.add_device(hd)


SPECS = {s.flag: s for s in (GRAPHICS, VIDEO, CONSOLE, SERIAL, PARALLEL, CHANNEL, CONTROLLER,
                             INPUT, RNG, TPM, MEMBALLOON, WATCHDOG, SOUND, FILESYSTEM, PANIC,
                             REDIRDEV, SMARTCARD, VSOCK, HOSTDEV)}
APPLY = {"--graphics": apply_graphics, "--video": apply_video,
         "--console": _char("console", CONSOLE), "--serial": _char("serial", SERIAL),
         "--parallel": _char("parallel", PARALLEL), "--channel": _char("channel", CHANNEL),
         "--controller": apply_controller, "--input": apply_input, "--rng": apply_rng,
         "--tpm": apply_tpm, "--memballoon": apply_memballoon, "--watchdog": apply_watchdog,
         "--sound": apply_sound, "--filesystem": apply_filesystem, "--panic": apply_panic,
         "--redirdev": apply_redirdev, "--smartcard": apply_smartcard, "--vsock": apply_vsock,
         "--hostdev": apply_hostdev}
