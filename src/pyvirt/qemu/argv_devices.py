"""The remaining devices: NICs, inputs, graphics, audio, video, sound, watchdog, balloon, RNG,
TPM, filesystems, panic.  One small function per device kind, in libvirt's emission order."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pyvirt.xml.domain import Shmem
from pyvirt.xml.errors import XMLConfigError, XMLError
from pyvirt.xml.nictypes import MULTIQUEUE_TYPES, TAP_NIC_TYPES

from .argv_chardev import chardev_backend, chardev_opt
from .argv_common import (
    TEST_FD,
    TEST_SWTPM_SOCKET,
    TEST_VSOCK_CID,
    TEST_VSOCK_FD,
    Argv,
    Ctx,
    pci_props,
    unsupported,
    usb_props,
    virtio_driver,
)
from .escape import FLAG

_NIC_MODELS = {"virtio": "virtio-net-pci", "rtl8139": "rtl8139", "e1000": "e1000", "e1000e": "e1000e",
               "virtio-transitional": "virtio-net-pci-transitional",
               "virtio-non-transitional": "virtio-net-pci-non-transitional", "vmxnet3": "vmxnet3",
               "ne2k_pci": "ne2k_pci", "pcnet": "pcnet", "i82559er": "i82559er"}


def net_opts(a: Argv, ctx: Ctx) -> None:
    for nic in ctx.domain.devices.interfaces:
        if nic.type == "vhostuser":
            a.opt("-chardev", chardev_backend(ctx, _vhostuser_chardev(nic), f"char{ctx.alias(nic)}"))
        netdev, dev = nic_args(ctx, nic)
        a.json("-netdev", netdev)
        a.device(dev)


def _vhostuser_chardev(nic: Any) -> SimpleNamespace:
    """The vhost-user socket of a NIC as a unix chardev source (libvirt's server mode is QEMU
    listening, and waiting for the backend: no ``wait=off``)."""
    if not nic.source_path:  # virDomainNetDefParseXML's words
        raise XMLError("Missing required attribute 'path' in element 'source'", nic.line, libvirt_words=True)
    if nic.source_type != "unix":
        raise XMLError("a vhostuser interface needs <source type='unix' path=...>", nic.line)
    if nic.source_mode is None:
        raise XMLError("missing 'mode' attribute of the vhostuser <source>", nic.line)
    return SimpleNamespace(kind="net", type="unix", source_mode="connect" if nic.source_mode == "client" else "listen",
                           source_path=nic.source_path, source_host=None, source_service=None, protocol_type=None,
                           source_append=None, log_file=None, log_append=None, target_name=None,
                           source_reconnect_enabled=nic.source_reconnect_enabled,
                           source_reconnect_timeout=nic.source_reconnect_timeout, line=nic.line)


def _socket_netdev(nic: Any) -> dict[str, Any]:
    """QEMU's socket backend for server/client/mcast/udp NICs (qemuBuildHostNetProps)."""
    if nic.source_port is None:
        raise XMLError(f"missing 'port' attribute of the <source> of a {nic.type} interface", nic.line)
    where = f"{nic.source_address or ''}:{nic.source_port}"
    if nic.type in ("client", "mcast", "udp") and not nic.source_address:
        raise XMLError(f"missing 'address' attribute of the <source> of a {nic.type} interface", nic.line)
    key = {"server": "listen", "client": "connect", "mcast": "mcast", "udp": "udp"}[nic.type]
    props: dict[str, Any] = {"type": "socket", key: where}
    if nic.type == "udp":
        if not nic.source_local_address or nic.source_local_port is None:
            raise XMLError("a udp interface needs <source><local address= port=>", nic.line)
        props["localaddr"] = f"{nic.source_local_address}:{nic.source_local_port}"
    elif nic.source_local_address is not None or nic.source_local_port is not None:
        raise XMLError(f"<source><local> is only valid for udp interfaces, not {nic.type}", nic.line)
    return props


def _user_networks(nic: Any) -> dict[str, Any]:
    """A user NIC's ``<ip>`` as QEMU's slirp options (qemuBuildHostNetProps): the IPv4 network
    (``net=ADDR[/PREFIX]``), the IPv6 prefix and its length."""
    props: dict[str, Any] = {}
    for ip in nic.ips:
        if ip.family == "ipv4":
            props["net"] = f"{ip.address}/{ip.prefix}" if ip.prefix else ip.address
        else:
            props["ipv6-prefix"] = ip.address
            if ip.prefix:
                props["ipv6-prefixlen"] = ip.prefix
    return props


def nic_args(ctx: Ctx, nic: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(-netdev, -device) properties of one NIC: the command line and a hot-plug
    (netdev_add / device_add take the same JSON) share them.  A link set down in the XML is
    not a property: pyvirtd sets it with QMP set_link before the guest runs, as libvirt does."""
    alias = ctx.alias(nic)
    netdev_id = f"host{alias}"
    virtio = (nic.model_type or "").lower() in ("virtio", "virtio-transitional", "virtio-non-transitional")
    if virtio and (nic.driver_queues or 0) > 1 and nic.type not in MULTIQUEUE_TYPES:
        # libvirt 9.0 defines it; the guest does not start
        raise XMLConfigError(f"interface {nic.mac_address} - multiqueue is not supported for network interfaces "
                             f"of type {nic.type}", nic.line)
    if nic.backend_tap not in (None, "/dev/net/tun") or nic.backend_vhost not in (None, "/dev/vhost-net"):
        raise unsupported("<backend tap= vhost=> other than /dev/net/tun and /dev/vhost-net", nic.line)
    if nic.mtu_size or nic.driver_queues and nic.type != "vhostuser" or nic.target_dev and nic.type == "user":
        raise unsupported("<mtu>/<driver queues>/<target dev> on this interface", nic.line)
    if nic.type != "vhostuser" and (nic.source_type or nic.source_path or nic.source_mode):
        raise XMLError(f"<source type/path/mode> belong to vhostuser interfaces, not {nic.type}", nic.line)
    if (nic.source_ips or nic.source_routes) and nic.type != "ethernet":
        raise XMLError(f"<source><ip>/<route> (host-side addresses) belong to ethernet interfaces, not {nic.type}",
                       nic.line)
    if any(not ip.address for ip in nic.source_ips) or any(not r.address or not r.gateway
                                                            for r in nic.source_routes):
        raise XMLError("Missing required address in <ip>/<route> (and gateway in <route>)", nic.line)
    if nic.script_path and nic.type != "ethernet":  # qemuValidateDomainDeviceDefNetwork
        raise XMLError(f"scripts are not supported on interfaces of type {nic.type}", nic.line)
    if nic.target_managed is False and nic.type != "ethernet":
        raise XMLError(f"unmanaged target dev is not supported on interfaces of type '{nic.type}'", nic.line)
    if nic.port_isolated:
        # libvirt sets the bridge port's 'isolated' flag on the tap; pyvirt's NICs do not yet
        raise unsupported("<interface><port isolated='yes'> (bridge port isolation)", nic.line)
    props: dict[str, Any]
    if nic.type == "user":
        props = {"type": "user", **_user_networks(nic), "id": netdev_id}
    elif nic.type == "vhostuser":
        if (nic.model_type or "") not in ("virtio", "virtio-transitional", "virtio-non-transitional"):
            raise XMLError("Wrong or no <model> 'type' attribute specified with <interface type='vhostuser'/>. "
                           "vhostuser requires the virtio-net* frontend", nic.line)
        props = {"type": "vhost-user", "chardev": f"char{alias}"}
        if nic.driver_queues and nic.driver_queues > 1:
            props["queues"] = nic.driver_queues
        props["id"] = netdev_id
    elif nic.type in ("server", "client", "mcast", "udp"):
        props = {**_socket_netdev(nic), "id": netdev_id}
    elif nic.type in TAP_NIC_TYPES:
        fds = ctx.runtime.tap_fds.get(alias)
        if fds is None:
            if not ctx.runtime.test_mode:
                raise unsupported(f"interface type {nic.type!r} without a tap fd from the daemon",
                                  nic.line)
            fds = [TEST_FD]
        props = {"type": "tap"}
        props["fd" if len(fds) == 1 else "fds"] = ":".join(str(f) for f in fds)
        vhost = ctx.runtime.vhost_fds.get(alias)
        if vhost is None and ctx.runtime.test_mode and (nic.model_type or "").startswith("virtio"):
            vhost = [TEST_FD]  # libvirt's harness: /dev/vhost-net opens for every virtio tap NIC
        if vhost and nic.driver_name != "qemu":
            props["vhost"] = True
            props["vhostfd" if len(vhost) == 1 else "vhostfds"] = ":".join(str(f) for f in vhost)
        if nic.tune_sndbuf is not None:
            props["sndbuf"] = nic.tune_sndbuf  # qemuBuildHostNetProps: tap backends only
        props["id"] = netdev_id
    else:
        raise unsupported(f"interface type {nic.type!r}", nic.line)
    model = nic.model_type or "rtl8139"
    drv = _NIC_MODELS.get(model)
    if drv is None:
        raise unsupported(f"interface model {model!r}", nic.line)
    dev: dict[str, Any] = {"driver": drv}
    if model.startswith("virtio"):
        ctx.virtio(nic, dev)
        if nic.driver_txmode is not None:
            dev["tx"] = "bh" if nic.driver_txmode == "iothread" else "timer"
        if nic.driver_ioeventfd is not None:
            dev["ioeventfd"] = nic.driver_ioeventfd
        if nic.driver_event_idx is not None:
            dev["event_idx"] = nic.driver_event_idx
        if nic.driver_rss is not None:
            dev["rss"] = nic.driver_rss
        if nic.driver_rss_hash_report is not None:
            dev["hash"] = nic.driver_rss_hash_report
        for field, prop in _NIC_OFFLOADS:
            if getattr(nic, field) is not None:
                dev[prop] = getattr(nic, field)
        if nic.driver_rx_queue_size is not None:  # qemuBuildNicDevProps, after the offloads
            dev["rx_queue_size"] = nic.driver_rx_queue_size
        if nic.driver_tx_queue_size is not None:
            dev["tx_queue_size"] = nic.driver_tx_queue_size
    elif any(v is not None for v in (nic.driver_txmode, nic.driver_ioeventfd, nic.driver_event_idx,
                                     nic.driver_rss, nic.driver_rss_hash_report, nic.driver_rx_queue_size,
                                     nic.driver_tx_queue_size, *(getattr(nic, f) for f, _ in _NIC_OFFLOADS))):
        raise unsupported("<driver txmode/ioeventfd/event_idx/rss/rx_queue_size/tx_queue_size/host/guest> "
                          "on a non-virtio interface", nic.line)
    if nic.type == "vhostuser" and nic.driver_queues and nic.driver_queues > 1:
        dev.update({"mq": True, "vectors": 2 * nic.driver_queues + 2})
    if nic.teaming_type == "persistent":  # the virtio side of a failover pair (QEMU's failover)
        dev["failover"] = True
    dev.update({"netdev": netdev_id, "id": alias, "mac": nic.mac_address})
    dev.update(rom_props(nic))
    dev.update(pci_props(ctx, nic.address, "network interface"))
    boot = ctx.boot_index.get(id(nic))
    if boot is not None:
        dev["bootindex"] = boot
    return props, dev


def input_opts(a: Argv, ctx: Ctx) -> None:
    for inp in ctx.domain.devices.inputs:
        if inp.type == "evdev":
            # qemuBuildInputEvdevProps: QEMU's input-linux object reads the host device
            obj: dict[str, Any] = {"qom-type": "input-linux", "id": ctx.alias(inp), "evdev": inp.source_dev}
            if inp.source_repeat is not None:
                obj["repeat"] = inp.source_repeat
            if inp.source_grab == "all":
                obj["grab_all"] = True
            if inp.source_grab_toggle is not None:
                obj["grab-toggle"] = inp.source_grab_toggle
            a.json("-object", obj)
            continue
        if inp.bus in ("none", "parallels"):  # no QEMU device: libvirt 9.0 builds none either
            continue
        if inp.bus in (None, "ps2"):
            if inp.type not in ("mouse", "keyboard"):
                raise unsupported(f"{inp.type} on the ps2 bus", inp.line)
            continue
        if inp.bus == "usb":
            drv = {"mouse": "usb-mouse", "keyboard": "usb-kbd", "tablet": "usb-tablet"}[inp.type]
            props: dict[str, Any] = {"driver": drv, "id": ctx.alias(inp)}
            props.update(usb_props(ctx, inp.address))
        elif inp.bus == "virtio":
            drv = {"mouse": "virtio-mouse-pci", "keyboard": "virtio-keyboard-pci",
                   "tablet": "virtio-tablet-pci", "passthrough": "virtio-input-host-pci"}[inp.type]
            props = {"driver": drv}
            ctx.virtio(inp, props)
            props["id"] = ctx.alias(inp)
            if inp.type == "passthrough":
                props["evdev"] = inp.source_evdev
            props.update(pci_props(ctx, inp.address, "virtio input"))
        else:
            raise unsupported(f"input bus {inp.bus!r}", inp.line)
        a.device(props)


_AUDIO_DRIVER = {"none": "none", "spice": "spice", "alsa": "alsa", "coreaudio": "coreaudio", "jack": "jack",
                 "oss": "oss", "pulseaudio": "pa", "file": "wav", "sdl": "sdl", "dbus": "dbus"}
# Per backend: the <input>/<output> attributes it takes (model field -> QEMU property), after
# the common ones; libvirt's schema allows nothing else.
_AUDIO_IO = {
    "alsa": (("dev", "dev"),),
    "coreaudio": (("buffer_count", "buffer-count"),),
    "sdl": (("buffer_count", "buffer-count"),),
    "jack": (("server_name", "server-name"), ("client_name", "client-name"),
             ("connect_ports", "connect-ports"), ("exact_name", "exact-name")),
    "oss": (("dev", "dev"), ("buffer_count", "buffer-count"), ("try_poll", "try-poll")),
    "pulseaudio": (("name", "name"), ("stream_name", "stream-name"), ("latency", "latency")),
}
_AUDIO_TOP = {"oss": (("try_mmap", "try-mmap"), ("exclusive", "exclusive"), ("dsp_policy", "dsp-policy")),
              "pulseaudio": (("server_name", "server"),), "file": (("path", "path"),)}
_AUDIO_IO_SPECIFIC = ("dev", "buffer_count", "try_poll", "server_name", "client_name", "connect_ports",
                      "exact_name", "name", "stream_name", "latency")
_AUDIO_TOP_SPECIFIC = ("try_mmap", "exclusive", "dsp_policy", "server_name", "path")


def _audio_io(au: Any, io: Any, direction: str) -> dict[str, Any]:
    """libvirt's qemuBuildAudioCommonProps + the backend's own stream properties.

    The ``<settings>`` values only reach QEMU with ``fixedSettings='yes'`` (libvirt drops them
    otherwise: QEMU would ignore them too).
    """
    allowed = dict(_AUDIO_IO.get(au.type, ()))
    for name in _AUDIO_IO_SPECIFIC:
        if getattr(io, name) is not None and name not in allowed:
            raise XMLError(f"attribute '{name}' of <audio/{direction}> is not valid for audio type "
                           f"{au.type!r}", io.line)
    props: dict[str, Any] = {}
    for name, key in (("mixing_engine", "mixing-engine"), ("fixed_settings", "fixed-settings"),
                      ("voices", "voices"), ("buffer_length", "buffer-length")):
        if getattr(io, name) is not None:
            props[key] = getattr(io, name)
    if io.fixed_settings:
        for name in ("frequency", "channels", "format"):
            if getattr(io, name) is not None:
                props[name] = getattr(io, name)
    for name, key in _AUDIO_IO.get(au.type, ()):
        if getattr(io, name) is not None:
            props[key] = getattr(io, name)
    return props


def iommu_opts(a: Argv, ctx: Ctx) -> None:
    """intel-iommu / virtio-iommu; QEMU wants the IOMMU before the devices behind it."""
    iommu = ctx.domain.devices.iommu
    if iommu is None:
        return
    if iommu.model == "intel":
        props: dict[str, Any] = {"driver": "intel-iommu", "id": ctx.alias(iommu)}
        if iommu.driver_intremap is not None:
            props["intremap"] = "on" if iommu.driver_intremap else "off"
        if iommu.driver_caching_mode is not None:
            props["caching-mode"] = iommu.driver_caching_mode
        if iommu.driver_eim is not None:
            props["eim"] = "on" if iommu.driver_eim else "off"
        if iommu.driver_iotlb is not None:
            props["device-iotlb"] = iommu.driver_iotlb
        if iommu.driver_aw_bits is not None:
            props["aw-bits"] = iommu.driver_aw_bits
    elif iommu.model == "virtio":
        props = {"driver": "virtio-iommu", "id": ctx.alias(iommu)}
        props.update(pci_props(ctx, iommu.address, "virtio-iommu"))
    else:
        raise unsupported(f"iommu model {iommu.model!r}", iommu.line)
    a.device(props)


def audio_opts(a: Argv, ctx: Ctx) -> None:
    for au in ctx.domain.devices.audios:
        drv = _AUDIO_DRIVER.get(au.type or "")
        if drv is None:
            raise unsupported(f"audio backend {au.type!r}", au.line)
        allowed = dict(_AUDIO_TOP.get(au.type, ()))
        for name in _AUDIO_TOP_SPECIFIC:
            if getattr(au, name) is not None and name not in allowed:
                raise XMLError(f"attribute '{name}' of <audio> is not valid for audio type {au.type!r}",
                               au.line)
        props: dict[str, Any] = {"id": f"audio{au.id or 1}", "driver": drv}
        if au.timer_period is not None:
            props["timer-period"] = au.timer_period
        for name, key in allowed.items():
            if getattr(au, name) is not None:
                props[key] = getattr(au, name)
        for direction, io in (("in", au.input), ("out", au.output)):
            if io is not None:
                sub = _audio_io(au, io, "input" if direction == "in" else "output")
                if sub:
                    props[direction] = sub
        a.json("-audiodev", props)


def graphics_opts(a: Argv, ctx: Ctx) -> None:
    gfx = ctx.domain.devices.graphics
    if any(len([g for g in gfx if g.type == t]) > 1 for t in ("vnc", "spice", "dbus")):  # qemuValidateDomainDefGraphics
        raise XMLConfigError("only 1 graphics device of each type (sdl, vnc, spice, headless, dbus) is supported",
                             gfx[-1].line)
    for g in gfx:
        if g.audio_id is not None and g.type not in ("vnc", "dbus"):
            raise unsupported(f"<audio> in <graphics type='{g.type}'>", g.line)
        if g.type == "vnc":
            _vnc(a, ctx, g)
        elif g.type == "spice":
            _spice(a, ctx, g)
        elif g.type == "egl-headless":
            _egl_headless(a, ctx, g, gfx)
        elif g.type == "sdl":
            if g.fullscreen:
                a.opt("-full-screen")
            a.kv("-display", "sdl", [("gl", g.gl_enable)])
        elif g.type == "dbus":
            _dbus(a, ctx, g)
        else:
            raise unsupported(f"graphics type {g.type!r}", g.line)


def _render_node(ctx: Ctx, g: Any) -> str:
    """The DRM render node OpenGL uses: the XML's, else the host's first (libvirt's
    qemuProcessGraphicsSetupRenderNode picks it at start; the runtime says which)."""
    node = g.gl_rendernode or ctx.runtime.render_node
    if node is None:
        raise unsupported(f"<graphics type='{g.type}'> OpenGL: no DRM render node on this host (/dev/dri/renderD*)",
                          g.line)
    return node


def dbus_socket(domain_dir: str | None) -> str:
    """The private D-Bus bus pyvirtd runs for a guest's D-Bus display (daemon/dbusdisplay.py)."""
    return f"{domain_dir}/dbus.sock"


def _dbus(a: Argv, ctx: Ctx, g: Any) -> None:
    """``-display dbus`` (qemuBuildGraphicsDBusCommandLine): peer to peer, on the XML's bus
    address, or on the guest's private bus; OpenGL with the render node."""
    if g.p2p:
        pairs: list[tuple[str, Any]] = [("p2p", True)]
    else:
        pairs = [("addr", g.bus_address or f"unix:path={dbus_socket(ctx.runtime.domain_dir)}")]
    if g.gl_enable is not None:
        pairs.append(("gl", g.gl_enable))
        if g.gl_enable:
            pairs.append(("rendernode", _render_node(ctx, g)))
    if g.audio_id is not None:  # the <audio> whose sound the display's clients play
        pairs.append(("audiodev", ctx.audio_id(g.audio_id)))
    a.kv("-display", "dbus", pairs)


def _egl_headless(a: Argv, ctx: Ctx, g: Any, gfx: list[Any]) -> None:
    """``-display egl-headless``: OpenGL rendered on the host GPU and shown by a VNC/SPICE
    display (qemuBuildGraphicsEGLHeadlessCommandLine).  Alone it is fine (libvirt 9.0 starts it
    with the video device only); beside another display, that one must be VNC or SPICE."""
    if sum(1 for o in gfx if o.type == "egl-headless") > 1:
        raise XMLError("only 1 graphics device of type 'egl-headless' is supported", g.line)
    a.kv("-display", "egl-headless", [("rendernode", _render_node(ctx, g))])


def _listen(g: Any) -> tuple[str, str | None]:
    """(kind, value): kind 'address' / 'socket' / 'none'."""
    if g.socket:
        return "socket", g.socket
    if g.listens:
        lis = g.listens[0]
        if lis.type == "socket":
            return "socket", lis.socket
        if lis.type == "none":
            return "none", None
        if lis.type == "network":
            raise unsupported("<listen type='network'>", lis.line)
        return "address", lis.address or g.listen
    if g.socket:
        return "socket", g.socket
    return "address", g.listen


def _vnc(a: Argv, ctx: Ctx, g: Any) -> None:
    from .escape import escape_value, kv_option

    kind, value = _listen(g)
    if kind == "none":
        head = "none"
    elif kind == "socket":
        # QEMU 7.2 spells a unix socket as the 'vnc' key (libvirt 9.0's vnc=unix:PATH)
        head = "vnc=unix:" + (value or f"{ctx.runtime.domain_dir}/vnc.sock")
    else:
        if not g.autoport and not 5900 <= (g.port or 0) <= 65535:  # qemuBuildGraphicsVNCCommandLine
            raise XMLConfigError("vnc port must be in range [5900,65535]", g.line)
        port = g.port if g.port is not None and g.port >= 5900 else None
        if port is None and ctx.runtime.vnc_port is not None:
            port = ctx.runtime.vnc_port
        if port is None:
            port = 5900
        host = value or "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        head = f"{host}:{port - 5900}"
    pairs: list[tuple[str, Any]] = []
    if g.websocket is not None and g.websocket != -1:
        pairs.append(("websocket", g.websocket))
    if g.share_policy is not None:
        pairs.append(("share", g.share_policy))
    if g.passwd is not None:
        pairs.append(("password", True))
    if g.power_control:
        pairs.append(("power-control", True))
    pairs.append(("audiodev", ctx.audio_id(g.audio_id)))
    a.opt("-vnc", escape_value(head) + ("," + kv_option(None, pairs) if pairs else ""))
    if g.keymap:
        a.opt("-k", g.keymap)


def _spice(a: Argv, ctx: Ctx, g: Any) -> None:
    kind, value = _listen(g)
    pairs: list[tuple[str, Any]] = []
    head = None
    secure = insecure = False
    if kind == "socket":
        head = "unix"
        pairs += [("addr", value or f"{ctx.runtime.domain_dir}/spice.sock")]
    elif kind == "none":
        pairs.append(("port", 0))
    else:
        port = g.port if g.port is not None and g.port > 0 else None
        if port is None and g.autoport is not False:
            port = ctx.runtime.spice_port if ctx.runtime.spice_port is not None else 5900
        pairs.append(("port", port if port is not None else 0))
        insecure = port is not None
        if g.tls_port not in (None, -1, 0):
            if ctx.runtime.spice_tls_x509_dir is None:  # (qemu.conf's spice_tls, spice_tls_x509_cert_dir)
                raise XMLConfigError("spice TLS port set in XML configuration, but TLS is disabled in qemu.conf",
                                     g.line)
            pairs.append(("tls-port", g.tls_port))
            secure = True
        if port is not None or secure:  # an address only for a port in use (qemuBuildGraphicsSPICECommandLine)
            pairs.append(("addr", value or "127.0.0.1"))  # else qemu.conf's default spice_listen
    if g.mouse_mode is not None:  # libvirt's order: after the listen address, before the ticket
        pairs.append(("agent-mouse", g.mouse_mode == "client"))
    if g.passwd is None and not ctx.runtime.spice_password:  # no password will ever be set
        pairs.append(("disable-ticketing", True))
    if secure:
        pairs.append(("x509-dir", ctx.runtime.spice_tls_x509_dir))
    pairs += _spice_channels(g, secure, insecure)
    # libvirt's order (qemuBuildGraphicsSPICECommandLine); virt-install sets <image compression='off'>.
    pairs += [("image-compression", g.image_compression), ("jpeg-wan-compression", g.jpeg_compression),
              ("zlib-glz-wan-compression", g.zlib_compression),
              ("playback-compression", g.playback_compression), ("streaming-video", g.streaming_mode)]
    if g.clipboard_copypaste is False:
        pairs.append(("disable-copy-paste", True))
    if g.filetransfer_enable is False:
        pairs.append(("disable-agent-file-xfer", True))
    if g.gl_enable:
        pairs.append(("gl", True))
        pairs.append(("rendernode", _render_node(ctx, g)))
    pairs.append(("seamless-migration", True))
    a.kv("-spice", head, pairs)
    if g.keymap:  # qemuBuildGraphicsSPICECommandLine, as for VNC
        a.opt("-k", g.keymap)


def _spice_channels(g: Any, secure: bool, insecure: bool) -> list[tuple[str, Any]]:
    """``tls-channel=``/``plaintext-channel=`` for defaultMode and each <channel>, refused when
    the display has no TLS (or no plaintext) port to serve them (libvirt's checks and words)."""
    out: list[tuple[str, Any]] = []
    wanted = [("default", g.default_mode, g.line)] + [(c.name, c.mode, c.line) for c in g.channels]
    for name, mode, line in wanted:
        if mode == "secure":
            if not secure:
                what = "defaultMode secure requested" if name == "default" else "secure channels set"
                raise XMLConfigError(f"spice {what} in XML configuration, but TLS connection is not available", line)
            out.append(("tls-channel", name))
        elif mode == "insecure":
            if not insecure:
                what = "defaultMode insecure requested" if name == "default" else "insecure channels set"
                raise XMLError(f"spice {what} in XML configuration, but plaintext connection is not available",
                               line)
            out.append(("plaintext-channel", name))
    return out


def video_opts(a: Argv, ctx: Ctx) -> None:
    for i, v in enumerate(ctx.domain.devices.videos):
        primary = i == 0
        t = v.model_type
        if t == "none":
            continue
        props: dict[str, Any]
        if t == "vga":
            props = {"driver": "VGA" if primary else "secondary-vga", "id": ctx.alias(v)}
            if v.model_vram:  # libvirt sizes a VGA's video memory by its vram (qemuBuildDeviceVideoStr)
                props["vgamem_mb"] = v.model_vram // 1024
        elif t == "vmvga":  # QEMU's VMware SVGA II, sized by its vram as a VGA is
            props = {"driver": "vmware-svga", "id": ctx.alias(v)}
            if v.model_vram:
                props["vgamem_mb"] = v.model_vram // 1024
        elif t == "cirrus":
            props = {"driver": "cirrus-vga", "id": ctx.alias(v)}
        elif t == "qxl":
            props = {"driver": "qxl-vga" if primary else "qxl", "id": ctx.alias(v),
                     "max_outputs": v.model_heads, "ram_size": (v.model_ram or 65536) * 1024,
                     "vram_size": (v.model_vram or 65536) * 1024, "vram64_size_mb": (v.model_vram64 or 0) // 1024,
                     "vgamem_mb": (v.model_vgamem or 16384) // 1024}
            if not v.model_heads:  # heads='0' given: libvirt writes no head count
                del props["max_outputs"]
        elif t == "virtio":
            props = _virtio_gpu(a, ctx, v, primary)
        elif t == "bochs":
            props = {"driver": "bochs-display", "id": ctx.alias(v)}
            if v.model_vram:
                props["vgamem"] = v.model_vram * 1024
        elif t == "ramfb":
            a.device({"driver": "ramfb", "id": ctx.alias(v)})
            continue
        else:
            raise unsupported(f"video model {t!r}", v.line)
        if v.model_res_x is not None or v.model_res_y is not None:  # qemuBuildDeviceVideoStr
            if v.model_res_x is None or v.model_res_y is None:
                raise XMLError("missing values for resolution", v.line)
            if t not in ("vga", "qxl", "virtio", "bochs"):
                raise XMLConfigError("model resolution is not supported", v.line)
            props.update({"xres": v.model_res_x, "yres": v.model_res_y})
        props.update(pci_props(ctx, v.address, "video device"))
        a.device(props)


def _virtio_gpu(a: Argv, ctx: Ctx, v: Any, primary: bool) -> dict[str, Any]:
    """A virtio GPU: QEMU's own (virtio-vga / virtio-gpu-pci, their -gl models with virgl for
    ``<acceleration accel3d='yes'>``) or one rendered by a vhost-user-gpu
    process over a socket pair (vhost-user-vga / vhost-user-gpu-pci on ``-chardev socket,fd=``).
    As libvirt's qemuDeviceVideoGetModel, a vhost-user VGA-compatible primary takes no virtio
    options (libvirt accepts and ignores them there); QEMU's own virtio-vga(-gl) primary and
    every secondary one do."""
    alias = ctx.alias(v)
    vhost_user = v.driver_name == "vhostuser"
    if vhost_user:
        fd = ctx.runtime.vhost_user_gpu_fds.get(alias, TEST_FD if ctx.runtime.test_mode else None)
        if fd is None:
            raise unsupported("<video><driver name='vhostuser'> without a vhost-user-gpu process", v.line)
        a.kv("-chardev", "socket", [("id", f"chr-vu-{alias}"), ("fd", fd)])
        props: dict[str, Any] = {"driver": "vhost-user-vga" if primary else "vhost-user-gpu-pci"}
    elif v.model_accel3d:  # QEMU renders with virgl (qemuDeviceVideoGetModel's -gl models)
        props = {"driver": "virtio-vga-gl" if primary else "virtio-gpu-gl-pci"}
    else:
        props = {"driver": "virtio-vga" if primary else "virtio-gpu-pci"}
    if primary and vhost_user:
        ctx.virtio_done.add(id(v))
    else:
        ctx.virtio(v, props)
    props["id"] = alias
    if v.model_heads:  # libvirt writes the head count whenever it is known (default 1)
        props["max_outputs"] = v.model_heads
    if vhost_user:
        props["chardev"] = f"chr-vu-{alias}"
    return props


_SOUND = {"ac97": "AC97", "es1370": "ES1370", "ich6": "intel-hda", "ich9": "ich9-intel-hda",
          "sb16": "sb16", "usb": "usb-audio"}
_CODEC = {"duplex": "hda-duplex", "micro": "hda-micro", "output": "hda-output"}


def sound_opts(a: Argv, ctx: Ctx) -> None:
    for s in ctx.domain.devices.sounds:
        if s.model == "pcspk":
            continue  # a -machine property
        drv = _SOUND[s.model]
        alias = ctx.alias(s)
        audio = ctx.audio_id(s.audio_id)
        props: dict[str, Any] = {"driver": drv, "id": alias}
        hda = s.model in ("ich6", "ich9")
        if not hda:
            props["audiodev"] = audio
        if s.model == "usb":
            props.update(usb_props(ctx, s.address))
        elif s.model != "sb16":
            props.update(pci_props(ctx, s.address, "sound device"))
        a.device(props)
        if hda:
            codecs = s.codecs or [type("C", (), {"type": "duplex"})()]
            for n, codec in enumerate(codecs):
                a.device({"driver": _CODEC[codec.type or "duplex"], "id": f"{alias}-codec{n}",
                          "bus": f"{alias}.0", "cad": n, "audiodev": audio})
        elif s.codecs:
            raise unsupported(f"<codec> on sound model {s.model!r}", s.line)


def watchdog_opts(a: Argv, ctx: Ctx) -> None:
    wds = ctx.domain.devices.watchdogs
    for w in wds:
        if w.model == "i6300esb":
            props: dict[str, Any] = {"driver": "i6300esb", "id": ctx.alias(w)}
            props.update(pci_props(ctx, w.address, "watchdog"))
            a.device(props)
        elif w.model == "ib700":
            a.device({"driver": "ib700", "id": ctx.alias(w)})
        else:
            raise unsupported(f"watchdog model {w.model!r}", w.line)
    if wds:
        actions = {w.action or "reset" for w in wds}
        if len(actions) > 1:
            raise unsupported("watchdogs with different actions")
        action = actions.pop()
        a.opt("-watchdog-action", "pause" if action == "dump" else action)


def balloon_opts(a: Argv, ctx: Ctx) -> None:
    b = ctx.domain.devices.memballoon
    if b is None or b.model == "none":
        return
    if b.model not in ("virtio", "virtio-transitional", "virtio-non-transitional"):
        raise unsupported(f"memballoon model {b.model!r}", b.line)
    props: dict[str, Any] = {"driver": virtio_driver("virtio-balloon-pci", b.model)}
    ctx.virtio(b, props)
    props["id"] = ctx.alias(b)
    props.update(pci_props(ctx, b.address, "memballoon"))
    if b.autodeflate is not None:
        props["deflate-on-oom"] = b.autodeflate
    if b.free_page_reporting is not None:
        props["free-page-reporting"] = b.free_page_reporting
    a.device(props)


def rng_opts(a: Argv, ctx: Ctx) -> None:
    for r in ctx.domain.devices.rngs:
        alias = ctx.alias(r)
        if r.model not in ("virtio", "virtio-transitional", "virtio-non-transitional"):
            raise unsupported(f"rng model {r.model!r}", r.line)
        if r.backend_model == "random":
            a.json("-object", {"qom-type": "rng-random", "id": f"obj{alias}",
                               "filename": r.backend or "/dev/random"})
        elif r.backend_model == "builtin":
            a.json("-object", {"qom-type": "rng-builtin", "id": f"obj{alias}"})
        elif r.backend_model == "egd":
            # the entropy daemon's socket, through the one -chardev builder (qemuBuildRNGBackendChrdev)
            if r.backend_type is None:
                raise XMLError("missing 'type' attribute of the egd <backend> of <rng>", r.line)
            chr_ = SimpleNamespace(kind="rng", type=r.backend_type, source_mode=r.backend_source_mode,
                                   source_host=r.backend_source_host, source_service=r.backend_source_service,
                                   source_bind_host=r.backend_source_bind_host,
                                   source_bind_service=r.backend_source_bind_service,
                                   source_path=r.backend_source_path, protocol_type=r.backend_protocol_type,
                                   source_tls=r.backend_source_tls,
                                   source_reconnect_enabled=r.backend_source_reconnect_enabled,
                                   source_reconnect_timeout=r.backend_source_reconnect_timeout,
                                   source_append=None, log_file=None, log_append=None, target_name=None,
                                   line=r.line)
            chardev_opt(a, ctx, chr_, f"char{alias}")
            a.json("-object", {"qom-type": "rng-egd", "id": f"obj{alias}", "chardev": f"char{alias}"})
        else:
            raise unsupported(f"rng backend {r.backend_model!r}", r.line)
        props: dict[str, Any] = {"driver": virtio_driver("virtio-rng-pci", r.model)}
        ctx.virtio(r, props)
        props.update({"rng": f"obj{alias}", "id": alias})
        if r.rate_bytes:  # 0 is no rate (qemuBuildRNGDevProps: only a positive one)
            props["max-bytes"] = r.rate_bytes
            props["period"] = r.rate_period or 1000
        props.update(pci_props(ctx, r.address, "rng"))
        a.device(props)


#: libvirt's test-mode stand-ins for the host TPM's and its cancel file's descriptors
TEST_TPM_FDS = (TEST_FD + 1, TEST_FD + 2)


def _tpm_passthrough(a: Argv, ctx: Ctx, t: Any, alias: str) -> None:
    """A host TPM given to the guest: pyvirtd opens the device and its sysfs cancel file and
    passes both as fd sets (libvirt's qemuBuildTPMBackendStr with -add-fd)."""
    if t.model not in (None, "tpm-tis", "tpm-crb"):
        raise unsupported(f"TPM passthrough with model {t.model!r}", t.line)
    fds = TEST_TPM_FDS if ctx.runtime.test_mode else ctx.runtime.tpm_passthrough_fds.get(alias)
    if fds is None:
        raise unsupported("<tpm><backend type='passthrough'>: the host TPM was not opened for it", t.line)
    sets = []
    for fd, what in zip(fds, ("tpm", "cancel"), strict=True):
        sets.append(ctx.next_fdset)
        a.kv("-add-fd", None, [("set", ctx.next_fdset), ("fd", fd), ("opaque", f"{alias}-{what}")])
        ctx.next_fdset += 1
    a.kv("-tpmdev", "passthrough", [("id", f"tpm-{alias}"), ("path", f"/dev/fdset/{sets[0]}"),
                                    ("cancel-path", f"/dev/fdset/{sets[1]}")])
    a.device({"driver": t.model or "tpm-tis", "tpmdev": f"tpm-{alias}", "id": alias})


def tpm_opts(a: Argv, ctx: Ctx) -> None:
    for t in ctx.domain.devices.tpms:
        alias = ctx.alias(t)
        if t.backend_type == "external":
            # a TPM emulator run by someone else: QEMU speaks swtpm's protocol over its socket,
            # exactly as with the swtpm pyvirtd starts (libvirt's qemuBuildTPMBackendStr)
            sock = t.backend_source_path
        elif t.backend_type == "emulator":
            if t.backend_version == "1.2" and t.model == "tpm-crb":
                raise unsupported("TPM 1.2 with tpm-crb", t.line)
            sock = ctx.runtime.tpm_socket.get(alias) or (
                TEST_SWTPM_SOCKET if ctx.runtime.test_mode else f"{ctx.runtime.domain_dir}/{alias}-swtpm.sock")
        elif t.backend_type == "passthrough":
            _tpm_passthrough(a, ctx, t, alias)
            continue
        else:
            raise unsupported(f"TPM backend {t.backend_type!r}", t.line)
        chr_id = "chrtpm" if alias == "tpm0" else f"chrtpm{alias[3:]}"
        a.kv("-chardev", "socket", [("id", chr_id), ("path", sock)])
        a.kv("-tpmdev", "emulator", [("id", f"tpm-{alias}"), ("chardev", chr_id)])
        a.device({"driver": t.model or "tpm-tis", "tpmdev": f"tpm-{alias}", "id": alias})


def fs_opts(a: Argv, ctx: Ctx) -> None:
    for fs in ctx.domain.devices.filesystems:
        alias = ctx.alias(fs)
        if fs.type not in (None, "mount"):
            raise unsupported(f"filesystem type {fs.type!r}", fs.line)
        if fs.driver_type == "virtiofs":
            if fs.multidevs is not None:
                raise XMLError("multidevs is only supported with the 9p filesystem driver", fs.line)
            # the user's virtiofsd on its socket, or the one pyvirtd starts (daemon/virtiofs.py)
            sock = fs.source_socket or ctx.runtime.virtiofs_socket.get(alias) or \
                f"{ctx.runtime.domain_dir}/{alias}-fs.sock"
            a.kv("-chardev", "socket", [("id", f"chr-vu-{alias}"), ("path", sock)])
            props: dict[str, Any] = {"driver": "vhost-user-fs-pci", "id": alias, "chardev": f"chr-vu-{alias}"}
            if fs.driver_queue is not None:  # QEMU's own default otherwise, as libvirt
                props["queue-size"] = fs.driver_queue
            props["tag"] = fs.target_dir
        else:
            # libvirt's qemuBuildFSStr order: security model, multidevs, create modes, writeout, id, path
            mode = fs.accessmode or "passthrough"
            pairs: list[tuple[str, Any]] = [("security_model", "mapped" if mode == "mapped" else "passthrough"
                                             if mode == "passthrough" else "none")]
            if fs.multidevs not in (None, "default"):
                pairs.append(("multidevs", fs.multidevs))
            for name in ("fmode", "dmode"):
                value = getattr(fs, name)
                if value is not None:
                    # libvirt writes the create mode as 4 octal digits; only 'mapped' stores it
                    if mode != "mapped":
                        raise XMLError(f"{name} is only supported with accessmode='mapped'", fs.line)
                    pairs.append((name, value))
            if fs.driver_wrpolicy is not None:
                pairs.append(("writeout", fs.driver_wrpolicy))
            pairs += [("id", f"fsdev-{alias}"), ("path", fs.source_dir)]
            if fs.readonly:
                pairs.append(("readonly", FLAG))  # libvirt writes a bare ",readonly"
            a.kv("-fsdev", "local", pairs)
            props = {"driver": virtio_driver("virtio-9p-pci", fs.model), "id": alias, "fsdev": f"fsdev-{alias}",
                     "mount_tag": fs.target_dir}
        ctx.virtio(fs, props)
        props.update(pci_props(ctx, fs.address, "filesystem"))
        boot = ctx.boot_index.get(id(fs))
        if boot is not None:
            props["bootindex"] = boot
        a.device(props)


_VSOCK = {"virtio": "vhost-vsock-pci", "virtio-transitional": "vhost-vsock-pci-transitional",
          "virtio-non-transitional": "vhost-vsock-pci-non-transitional"}


def vsock_opts(a: Argv, ctx: Ctx) -> None:
    """``<vsock>``: ``vhost-vsock-pci`` on the /dev/vhost-vsock pyvirtd opened and set the guest
    CID on (libvirt's qemuBuildVsockDevProps; the CID is picked at start when ``auto='yes'``)."""
    v = ctx.domain.devices.vsock
    if v is None:
        return
    rt = ctx.runtime
    cid = rt.vsock_cid
    if cid is None:
        cid = TEST_VSOCK_CID if rt.test_mode and v.cid_auto else v.cid_address
    if cid is None:
        raise unsupported("<vsock><cid auto='yes'> without a CID picked at start", v.line)
    props: dict[str, Any] = {"driver": _VSOCK[v.model or "virtio"], "id": ctx.alias(v), "guest-cid": cid}
    fd = rt.vsock_fd if rt.vsock_fd is not None else TEST_VSOCK_FD if rt.test_mode else None
    if fd is not None:
        props["vhostfd"] = str(fd)
    ctx.virtio(v, props)
    props.update(pci_props(ctx, v.address, "vsock"))
    a.device(props)


def vmcoreinfo_opts(a: Argv, ctx: Ctx) -> None:
    """``<features><vmcoreinfo state='on'/>``: QEMU's ``vmcoreinfo`` device, through which the
    guest kernel publishes where its crash-dump notes live (qemuBuildVMCoreInfoCommandLine,
    right after the RNGs)."""
    feats = ctx.domain.features
    if feats is not None and feats.vmcoreinfo:
        a.device({"driver": "vmcoreinfo"})


def panic_opts(a: Argv, ctx: Ctx) -> None:
    for p in ctx.domain.devices.panics:
        if p.model in (None, "isa"):
            # 'ioport' only from an ISA address, as libvirt; QEMU's own default is 0x505
            props: dict[str, Any] = {"driver": "pvpanic"}
            if p.address is not None and p.address.iobase:
                props["ioport"] = int(p.address.iobase, 0)
            a.device(props)
        elif p.model != "hyperv":
            raise unsupported(f"panic model {p.model!r}", p.line)


def redirdev_opts(a: Argv, ctx: Ctx) -> None:
    """``<redirdev bus='usb'>``: a chardev (spicevmc ``name=usbredir``, or a socket) feeding a
    ``usb-redir`` device on the USB bus (libvirt's qemuBuildRedirdevCommandLine)."""
    from pyvirt.xml import redirfilter

    from .argv_chardev import chardev_opt

    for r in ctx.domain.devices.redirdevs:
        if r.type == "spicevmc" and not any(g.type == "spice" for g in ctx.domain.devices.graphics):
            raise unsupported("<redirdev type='spicevmc'> without <graphics type='spice'> "
                              "(QEMU's spicevmc chardev needs a SPICE server)", r.line)
        if r.address is not None and r.address.type != "usb":
            raise XMLError(f"redirdev with address type {r.address.type!r} (expected 'usb')", r.line)
        alias = ctx.alias(r)
        chardev_opt(a, ctx, r, f"char{alias}")
        props: dict[str, Any] = {"driver": "usb-redir", "chardev": f"char{alias}", "id": alias}
        rules = redirfilter.filter_string(ctx.domain.devices.redirfilter)  # one filter for every redirdev
        if rules is not None:
            props["filter"] = rules
        if r.boot_order is not None:
            props["bootindex"] = r.boot_order
        props.update(usb_props(ctx, r.address))
        a.device(props)


_GUEST_RESET = {"off": (False, None), "uninitialized": (True, False), "on": (True, True)}


def hostdev_opts(a: Argv, ctx: Ctx) -> None:
    """``<hostdev mode='subsystem'>``: ``usb-host`` on /dev/bus/usb/BBB/DDD, ``vfio-pci`` on a host
    PCI function or a mediated device's sysfs node (libvirt's qemuBuild{USB,PCI,MDEV}HostdevDevProps).
    What the host must prepare (binding a managed PCI function to vfio-pci) is the daemon's."""
    from .argv_hostdev_scsi import scsi_hostdev_props, vhost_scsi_props

    for h in ctx.domain.devices.hostdevs:
        if h.mode not in (None, "subsystem"):
            raise unsupported(f"<hostdev mode='{h.mode}'>", h.line)
        if h.type != "scsi" and (h.readonly or h.shareable or h.sgio or h.rawio is not None):
            raise XMLError("<readonly>, <shareable>, sgio and rawio are only valid for SCSI host devices", h.line)
        if h.type == "scsi":
            a.device(scsi_hostdev_props(a, ctx, h))
            continue
        alias = ctx.alias(h)
        if h.address is not None and h.address.type == "unassigned":
            if h.type != "pci":
                raise XMLError("only PCI host devices can have an address of type 'unassigned'", h.line)
            continue  # libvirt prepares it on the host but gives it no QEMU device
        src = h.source_address
        props: dict[str, Any]
        if h.type == "scsi_host":
            props = vhost_scsi_props(ctx, h)
        elif h.type == "usb":
            where = (src.bus, src.device) if src is not None else ctx.runtime.usb_hostdevs.get(alias)
            if where is None:
                raise unsupported(f"USB host device {h.source_vendor}:{h.source_product}: not found on this host",
                                  h.line)
            props = {"driver": "usb-host", "hostdevice": f"/dev/bus/usb/{where[0]:03d}/{where[1]:03d}", "id": alias}
            if h.source_guest_reset is not None:
                reset, reset_all = _GUEST_RESET[h.source_guest_reset]
                props["guest-reset"] = reset
                if reset_all is not None:
                    props["guest-resets-all"] = reset_all
        elif h.type == "pci":
            props = {"driver": "vfio-pci", "id": alias,
                     "host": f"{src.domain or 0:04x}:{src.bus:02x}:{src.slot:02x}.{src.function:x}"}
        else:
            if h.model != "vfio-pci":
                raise unsupported(f"mdev model {h.model!r} (an s390 device API)", h.line)
            if h.display and not any(g.type in ("vnc", "spice", "egl-headless") for g in ctx.domain.devices.graphics):
                raise XMLError("graphics device is needed for attribute value 'display=on' in <hostdev>", h.line)
            if h.ramfb and not h.display:
                raise XMLError("'ramfb' requires display='on' in <hostdev>", h.line)
            props = {"driver": "vfio-pci-nohotplug" if h.ramfb else "vfio-pci", "id": alias,
                     "sysfsdev": f"/sys/bus/mdev/devices/{src.uuid}"}
            if h.display is not None:
                props["display"] = "on" if h.display else "off"
            if h.ramfb:
                props["ramfb"] = True
        boot = ctx.boot_index.get(id(h))
        if boot is not None and h.type != "scsi_host":
            props["bootindex"] = boot
        if h.teaming_type == "transient":  # qemuBuildPCIHostdevDevProps: the failover pair's NIC
            props["failover_pair_id"] = h.teaming_persistent
        if h.type in ("pci", "mdev"):
            props.update(rom_props(h))
        elif h.rom_enabled is not None or h.rom_bar is not None or h.rom_file is not None:
            raise XMLError(f"<rom> on a {h.type} host device (PCI devices only)", h.line)
        if h.type == "usb":
            if h.address is not None and h.address.type != "usb":
                raise XMLError(f"USB host device with address type {h.address.type!r} (expected 'usb')", h.line)
            props.update(usb_props(ctx, h.address))
        else:
            props.update(pci_props(ctx, h.address, "host device"))
        a.device(props)


def shmem_opts(a: Argv, ctx: Ctx) -> None:
    """``<shmem>`` as libvirt 9.0 builds it (qemuBuildShmemCommandLine): ivshmem-plain on a shared
    file backend ``/dev/shm/NAME``, ivshmem-doorbell on the ivshmem server's socket; the legacy
    ``ivshmem`` device is gone from QEMU 7.2, so is refused as libvirt refuses it."""
    from pyvirt.xml.units import parse_size_bytes

    for shm in ctx.domain.devices.shmems:
        alias = ctx.alias(shm)
        model = shm.model_type
        if model not in ("ivshmem-plain", "ivshmem-doorbell"):
            raise XMLError(f"'{model or 'ivshmem'}' shmem model is not supported with this QEMU binary "
                           "(use ivshmem-plain or ivshmem-doorbell)", shm.line)
        if not shm.name:
            raise XMLError("shmem element must contain at least the attribute name", shm.line)
        if shm.role is not None:
            raise unsupported("<shmem role=...> (migration roles of ivshmem peers)", shm.line)
        props: dict[str, Any] = {"driver": model, "id": alias}
        if model == "ivshmem-plain":
            if shm.server or shm.msi:
                raise XMLError("shmem model 'ivshmem-plain' is not supported with server option enabled "
                               "and doesn't support msi", shm.line)
            size = parse_size_bytes(str(shm.size if shm.size is not None else 4), shm.size_unit or ("M" if shm.size is None else "B"),
                                    "<shmem><size>", shm.line, default_scale=1)
            if size < (1 << 20):
                raise XMLError("shmem size must be at least 1 MiB (1024 KiB)", shm.line)
            if size & (size - 1):
                raise XMLError("shmem size must be a power of two", shm.line)
            a.json("-object", {"qom-type": "memory-backend-file", "id": f"shmmem-{alias}",
                               "mem-path": f"/dev/shm/{shm.name}", "size": size, "share": True})
            props["memdev"] = f"shmmem-{alias}"
        else:
            if not shm.server:
                raise XMLError("shmem model 'ivshmem-doorbell' is supported only with server option enabled",
                               shm.line)
            if shm.size is not None:
                raise XMLError("shmem model 'ivshmem-doorbell' does not support size setting", shm.line)
            props["chardev"] = f"char{alias}"
            if shm.msi_vectors is not None:
                props["vectors"] = shm.msi_vectors
            if shm.msi_ioeventfd is not None:
                props["ioeventfd"] = shm.msi_ioeventfd
        props.update(pci_props(ctx, shm.address, "shmem"))
        a.device(props)
        if model == "ivshmem-doorbell":
            a.kv("-chardev", "socket", [("id", f"char{alias}"), ("path", shmem_server_path(shm))])


def shmem_server_path(shm: Shmem) -> str:
    """The ivshmem server's socket: libvirt's default is filled where qemuBuildShmemCommandLine
    builds the chardev, never at define (the inactive XML keeps a bare ``<server/>``)."""
    return shm.server_path or f"/var/lib/libvirt/shmem-{shm.name}-sock"


#: <driver><host>/<guest> offloads -> virtio-net properties, in libvirt's qemuBuildNicDevProps order
_NIC_OFFLOADS = (("driver_host_csum", "csum"), ("driver_host_gso", "gso"), ("driver_host_tso4", "host_tso4"),
                 ("driver_host_tso6", "host_tso6"), ("driver_host_ecn", "host_ecn"),
                 ("driver_host_ufo", "host_ufo"), ("driver_host_mrg_rxbuf", "mrg_rxbuf"),
                 ("driver_guest_csum", "guest_csum"), ("driver_guest_tso4", "guest_tso4"),
                 ("driver_guest_tso6", "guest_tso6"), ("driver_guest_ecn", "guest_ecn"),
                 ("driver_guest_ufo", "guest_ufo"))


def rom_props(dev: Any) -> dict[str, Any]:
    """``rombar``/``romfile`` of a PCI device's <rom> (libvirt's qemuBuildRomProps): a disabled
    ROM is an empty romfile, else the file and the BAR switch as given."""
    if dev.rom_enabled is False:
        return {"romfile": ""}
    props: dict[str, Any] = {}
    if dev.rom_bar is not None:
        props["rombar"] = 1 if dev.rom_bar else 0
    if dev.rom_file is not None:
        props["romfile"] = dev.rom_file
    return props


def hub_opts(a: Argv, ctx: Ctx) -> None:
    """``<hub type='usb'>``: QEMU's 8-port ``usb-hub`` on its USB port (libvirt writes hubs
    right after the controllers, so the ports below them exist when devices are plugged)."""
    for h in ctx.domain.devices.hubs:
        if h.address is not None and h.address.type != "usb":
            raise XMLError(f"hub with address type {h.address.type!r} (expected 'usb')", h.line)
        props: dict[str, Any] = {"driver": "usb-hub", "id": ctx.alias(h)}
        props.update(usb_props(ctx, h.address))
        a.device(props)


#: where NSS looks for host-certificates cards when the XML names no database (libvirt's default)
SMARTCARD_DEFAULT_DATABASE = "/etc/pki/nssdb"


def smartcard_opts(a: Argv, ctx: Ctx) -> None:
    """``<smartcard>`` as libvirt 9.0's qemuBuildSmartcardCommandLine: one card, in slot 0 of
    CCID controller 0 (QEMU's ``usb-ccid``, built with the controllers)."""
    cards = ctx.domain.devices.smartcards
    if not cards:
        return
    card = cards[0]
    addr = card.address
    if len(cards) > 1 or addr is None or addr.type != "ccid" or addr.controller or addr.slot:
        raise XMLConfigError("this QEMU binary lacks multiple smartcard support", cards[-1].line)
    ccid = next((c for c in ctx.domain.devices.controllers if c.type == "ccid" and not c.index), None)
    if ccid is None:
        raise XMLError("no CCID controller for the smartcard", card.line)
    alias = ctx.alias(card)
    props: dict[str, Any]
    if card.mode == "host":
        props = {"driver": "ccid-card-emulated", "backend": "nss-emulated"}
    elif card.mode == "host-certificates":
        props = {"driver": "ccid-card-emulated", "backend": "certificates"}
        props.update({f"cert{n}": cert for n, cert in enumerate(card.certificates, 1)})
        props["db"] = card.database or SMARTCARD_DEFAULT_DATABASE
    elif card.mode == "passthrough":
        chardev_opt(a, ctx, card, f"char{alias}")
        props = {"driver": "ccid-card-passthru", "chardev": f"char{alias}"}
    else:
        raise XMLError(f"unknown smartcard mode {card.mode!r}", card.line)
    props.update({"id": alias, "bus": f"{ctx.alias(ccid)}.0"})
    a.device(props)
