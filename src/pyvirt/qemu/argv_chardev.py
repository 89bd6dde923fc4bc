"""Character devices (serial, console, channel, parallel) and their -chardev backends."""

from __future__ import annotations

from typing import Any

from pyvirt.xml.errors import XMLError
from pyvirt.xml.generic_defaults import reconnect_rule

from .argv_common import TEST_FD, Argv, Ctx, pci_props, unsupported, usb_props


def chardev_opt(a: Argv, ctx: Ctx, chr_: Any, chr_id: str) -> None:
    """``-chardev`` for a device's source, after the TLS objects a TCP one uses."""
    a.opt("-chardev", chardev_backend(ctx, chr_, chr_id, _tls_creds(a, ctx, chr_, chr_id)))


def _tls_creds(a: Argv, ctx: Ctx, chr_: Any, chr_id: str) -> str | None:
    """TLS on a TCP character device (qemuDomainPrepareChardevSourceOne): the XML's ``tls``, else
    qemu.conf's ``chardev_tls``; a ``tls-creds-x509`` object on chardev_tls_x509_cert_dir, a server
    verifying its clients as chardev_tls_x509_verify says, a client always verifying its server,
    the key's password a secret object when qemu.conf names one (its value in the guest's private
    directory, one file for every character device)."""
    from .argv_disks import secret_file

    rt = ctx.runtime
    tls = getattr(chr_, "source_tls", None)
    if chr_.type != "tcp" or not (rt.chardev_tls_default if tls is None else tls):
        return None
    if rt.chardev_tls_x509_dir is None:
        raise unsupported(f"<source tls='yes'> on a {chr_.kind}: no chardev TLS certificate directory known",
                          chr_.line)
    server = chr_.source_mode == "bind"
    creds = f"obj{chr_id}_tls0"
    obj: dict[str, Any] = {"qom-type": "tls-creds-x509", "id": creds, "dir": rt.chardev_tls_x509_dir,
                           "endpoint": "server" if server else "client",
                           "verify-peer": rt.chardev_tls_verify if server else True}
    if rt.chardev_tls_secret:
        a.json("-object", {"qom-type": "secret", "id": f"{chr_id}-secret0", "format": "raw",
                           "file": secret_file(rt.domain_dir, "chardev", "tls")})
        obj["passwordid"] = f"{chr_id}-secret0"
    a.json("-object", obj)
    return creds


def chardev_backend(ctx: Ctx, chr_: Any, chr_id: str, tls_creds: str | None = None) -> str:
    """The ``-chardev`` value for a <serial>/<console>/<channel>/<parallel> source."""
    from .escape import kv_option

    t = chr_.type
    pairs: list[tuple[str, Any]] = [("id", chr_id)]
    if t == "pty":
        head = "pty"
    elif t == "null":
        head = "null"
    elif t == "vc":
        head = "vc"
    elif t == "dev":
        # a host serial line or, for <parallel>, a host parallel port (QEMU's backend names)
        head = "parallel" if chr_.kind == "parallel" else "serial"
        if chr_.source_path is None:  # an empty path='' is written as given, as libvirt does
            raise XMLError(f"Missing source path attribute for char device ({chr_.kind})", chr_.line)
        pairs.append(("path", chr_.source_path))
    elif t == "stdio":
        head = "stdio"
    elif t == "pipe":
        head = "pipe"
        if chr_.source_path is None:  # an empty path='' is written as given, as libvirt does
            raise XMLError(f"Missing source path attribute for char device ({chr_.kind})", chr_.line)
        pairs.append(("path", chr_.source_path))
    elif t == "spiceport":
        if not any(g.type == "spice" for g in ctx.domain.devices.graphics):
            raise XMLError("chardev 'spiceport' not supported without spice graphics", chr_.line)
        channel = getattr(chr_, "source_channel", None)
        if not channel:
            raise XMLError(f"Missing source channel attribute for char device ({chr_.kind})", chr_.line)
        head = "spiceport"
        pairs.append(("name", channel))
    elif t == "dbus":
        # QEMU's D-Bus chardev (qemuBuildChardevCommand): a name a D-Bus display's client opens
        channel = getattr(chr_, "source_channel", None)
        if not channel:
            raise XMLError("Missing source channel attribute for char device", chr_.line, libvirt_words=True)
        head = "dbus"
        pairs.append(("name", channel))
    elif t == "file":
        head = "file"
        pairs.append(("path", chr_.source_path))
        if chr_.source_append is not None:
            pairs.append(("append", chr_.source_append))
    elif t == "unix":
        head = "socket"
        path = chr_.source_path
        if chr_.source_mode in (None, "bind") and ctx.runtime.test_mode and (
                not path or chr_.kind in ("channel", "redirdev")):
            pairs += [("fd", TEST_FD), ("server", True), ("wait", False)]
        else:
            generated = path is None  # an empty path='' is used as given, as libvirt does
            if generated:
                path = _generated_channel_path(chr_, ctx.runtime.channel_dir or ctx.runtime.domain_dir)
            pairs.append(("path", path))
            if generated or chr_.source_mode in (None, "bind"):  # QEMU makes the socket libvirt names
                pairs += [("server", True), ("wait", False)]
            elif chr_.source_mode == "listen":  # a vhost-user server: QEMU waits for its backend
                pairs.append(("server", True))
    elif t == "spicevmc":
        # libvirt names the SPICE channel by the device: usbredir for <redirdev>, vdagent for the
        # agent <channel> (the only char device spicevmc is valid for besides redirdev).
        if chr_.kind not in ("redirdev", "channel", "smartcard"):
            raise unsupported(f"spicevmc {chr_.kind}", chr_.line)
        if not any(g.type == "spice" for g in ctx.domain.devices.graphics):  # libvirt refuses it too
            raise XMLError(f"chardev 'spicevmc' not supported without spice graphics ({chr_.kind})", chr_.line)
        head = "spicevmc"
        pairs.append(("name", {"redirdev": "usbredir", "smartcard": "smartcard"}.get(chr_.kind, "vdagent")))
    elif t == "qemu-vdagent":
        # QEMU's own SPICE agent (clipboard sharing with VNC/D-Bus clients): a back end like any
        # other, which libvirt 9.0 puts behind whatever front end names it (a serial, console or
        # parallel port, a guestfwd or virtio channel), its <source> options included
        head = "qemu-vdagent"
        pairs.append(("name", "vdagent"))
        if chr_.source_clipboard_copypaste is not None:
            pairs.append(("clipboard", chr_.source_clipboard_copypaste))
        if chr_.source_mouse_mode is not None:
            pairs.append(("mouse", chr_.source_mouse_mode == "client"))
    elif t == "tcp":
        if not chr_.source_service:
            raise XMLError(f"Missing source service attribute for char device ({chr_.kind})", chr_.line)
        head = "socket"
        pairs += [("host", chr_.source_host), ("port", chr_.source_service)]
        if chr_.protocol_type == "telnet":
            pairs.append(("telnet", True))
        if chr_.source_mode == "bind":
            pairs += [("server", True), ("wait", False)]
        pairs.append(("tls-creds", tls_creds))
    elif t == "udp":
        # where QEMU sends (the connect source) and listens (the bind source: any address,
        # port 0 unless given), as qemuBuildChrChardevStr
        head = "udp"
        pairs += [("host", chr_.source_host or ""), ("port", chr_.source_service),
                  ("localaddr", getattr(chr_, "source_bind_host", None) or ""),
                  ("localport", getattr(chr_, "source_bind_service", None) or "0")]
    else:
        raise unsupported(f"character device type {t!r}", chr_.line)
    pairs += _reconnect(chr_)
    if t != "qemu-vdagent" and (getattr(chr_, "source_clipboard_copypaste", None) is not None
                                or getattr(chr_, "source_mouse_mode", None) is not None):
        raise XMLError(f"<source><clipboard>/<mouse> belong to qemu-vdagent channels, not {t}", chr_.line)
    if chr_.log_file:
        pairs.append(("logfile", chr_.log_file))
        if chr_.log_append is not None:
            pairs.append(("logappend", chr_.log_append))
    return kv_option(head, pairs)


def _reconnect(chr_: Any) -> list[tuple[str, Any]]:
    """``reconnect=N`` of a client socket (libvirt's qemuBuildChrChardevReconnect); the rules are
    :func:`reconnect_rule`'s, checked again here for sources that reach the command line without
    a define (hot-plugged devices, vhost-user NICs and disks)."""
    enabled = getattr(chr_, "source_reconnect_enabled", None)
    timeout = getattr(chr_, "source_reconnect_timeout", None)
    if enabled is None:
        if timeout is not None:
            raise XMLError("missing 'enabled' attribute of <reconnect>", chr_.line)
        return []
    if chr_.type not in ("tcp", "unix"):
        raise XMLError(f"<reconnect> on a {chr_.type} character device (sockets only)", chr_.line)
    timeout = reconnect_rule(chr_.type, chr_.source_mode, getattr(chr_, "source_path", None), enabled, timeout,
                             chr_.line)
    return [("reconnect", timeout if enabled else 0)]


def serial_opts(a: Argv, ctx: Ctx) -> None:
    for s in ctx.domain.devices.serials:
        alias = ctx.alias(s)
        chardev_opt(a, ctx, s, f"char{alias}")
        ttype = s.target_type or "isa-serial"
        model = s.target_model_name
        if ttype == "isa-serial" and model in (None, "isa-serial"):
            props: dict[str, Any] = {"driver": "isa-serial", "chardev": f"char{alias}", "id": alias,
                                     "index": s.target_port or 0}
            props.update(_isa_props(s))
        elif ttype == "isa-debug" and model in (None, "isa-debugcon"):
            props = {"driver": "isa-debugcon", "chardev": f"char{alias}", "id": alias}
            props.update(_isa_props(s))
        elif ttype == "usb-serial" and model in (None, "usb-serial"):
            props = {"driver": "usb-serial", "chardev": f"char{alias}", "id": alias}
            props.update(usb_props(ctx, s.address))
        elif ttype == "pci-serial" and model in (None, "pci-serial"):
            props = {"driver": "pci-serial", "chardev": f"char{alias}", "id": alias}
            props.update(pci_props(ctx, s.address, "pci-serial"))
        else:
            raise unsupported(f"serial target {ttype!r}/{model!r}", s.line)
        a.device(props)


def _isa_props(dev: Any) -> dict[str, int]:
    """``iobase``/``irq`` of an ISA device from its ``<address type='isa'>`` (hex or decimal)."""
    addr = dev.address
    if addr is None:
        return {}
    if addr.type != "isa":
        raise XMLError(f"{dev.kind} with address type {addr.type!r} (expected 'isa')", dev.line)
    out: dict[str, int] = {}
    for key in ("iobase", "irq"):
        value = getattr(addr, key)
        if value is not None:
            try:
                out[key] = int(value, 0)
            except ValueError:
                raise XMLError(f"invalid ISA {key} {value!r}", addr.line or dev.line) from None
    return out


def parallel_opts(a: Argv, ctx: Ctx) -> None:
    for p in ctx.domain.devices.parallels:
        alias = ctx.alias(p)
        chardev_opt(a, ctx, p, f"char{alias}")
        a.device({"driver": "isa-parallel", "chardev": f"char{alias}", "id": alias})


def _virtio_serial_props(ctx: Ctx, dev: Any) -> dict[str, Any]:
    addr = dev.address
    if addr is None or addr.type != "virtio-serial":
        raise unsupported(f"virtio {dev.kind} without a virtio-serial address", dev.line)
    props: dict[str, Any] = {"bus": f"virtio-serial{addr.controller or 0}.{addr.bus or 0}"}
    if addr.port and int(addr.port) > 0:  # libvirt's "p:nr": port 0 is QEMU's to choose
        props["nr"] = int(addr.port)
    return props


def channel_opts(a: Argv, ctx: Ctx) -> None:
    for ch in ctx.domain.devices.channels:
        alias = ctx.alias(ch)
        if ch.target_type == "guestfwd":
            # slirp forwards guest connections to ADDRESS:PORT into the chardev
            if not ch.target_address or ch.target_port is None:
                raise XMLError("guestfwd channel needs <target address= port=>", ch.line)
            chardev_opt(a, ctx, ch, f"char{alias}")
            a.json("-netdev", {"type": "user", "guestfwd": [
                {"str": f"tcp:{ch.target_address}:{ch.target_port}-chardev:char{alias}"}], "id": alias})
            continue
        if ch.target_type != "virtio":
            raise unsupported(f"channel target type {ch.target_type!r}", ch.line)
        chardev_opt(a, ctx, ch, f"char{alias}")
        props = {"driver": "virtserialport"}
        props.update(_virtio_serial_props(ctx, ch))
        props.update({"chardev": f"char{alias}", "id": alias})
        if ch.target_name or ch.type == "spicevmc":  # the SPICE agent's port unless named
            props["name"] = ch.target_name or "com.redhat.spice.0"
        a.device(props)


def console_opts(a: Argv, ctx: Ctx) -> None:
    for i, con in enumerate(ctx.domain.devices.consoles):
        ttype = con.target_type or "serial"
        if ttype == "serial":
            if i == 0 and ctx.domain.devices.serials:
                continue  # the first console mirrors serial0
            raise unsupported("a serial console without a matching <serial>", con.line)
        if ttype != "virtio":
            raise unsupported(f"console target type {ttype!r}", con.line)
        alias = ctx.alias(con)
        chardev_opt(a, ctx, con, f"char{alias}")
        props = {"driver": "virtconsole"}
        if con.address is not None:
            props.update(_virtio_serial_props(ctx, con))
        props.update({"chardev": f"char{alias}", "id": alias})
        a.device(props)


def generated_socket_names(dom: Any) -> list[str]:
    """Names of the unix sockets the command line puts in the guest's runtime dir for channels that
    give no path (virtio channels named by their target, as libvirt's channel/target dir), so the
    daemon can check their length before QEMU tries to bind them."""
    return [ch.target_name for ch in dom.devices.channels
            if ch.type == "unix" and not ch.source_path and ch.target_name]


def _generated_channel_path(chr_: Any, directory: str | None) -> str:
    """The socket libvirt 9.0 gives a virtio ``<channel type='unix'>`` without a path at start
    (qemuDomainPrepareChannel): DIR/<target name>, or for an unnamed channel DIR/vioser-CC-BB-PP.sock
    after its virtio-serial controller, bus and port."""
    if chr_.kind != "channel" or getattr(chr_, "target_type", None) != "virtio":
        raise unsupported(f"{chr_.kind} unix socket without a path", chr_.line)
    if chr_.target_name:
        return f"{directory}/{chr_.target_name}"
    addr = chr_.address
    if addr is None or addr.type != "virtio-serial":
        raise unsupported("an unnamed virtio channel without its virtio-serial address", chr_.line)
    return f"{directory}/vioser-{addr.controller or 0:02d}-{addr.bus or 0:02d}-{int(addr.port or 0):02d}.sock"

