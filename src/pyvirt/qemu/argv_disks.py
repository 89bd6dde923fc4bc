"""Disks: a -blockdev chain (protocol node + format node) and the frontend -device.

libvirt 9.0 never uses -drive: every disk source is a ``libvirt-N-storage`` protocol node
(file / host_device / host_cdrom) under a ``libvirt-N-format`` node, and the frontend device
names the format node in ``drive``.  Numbers count down so the last disk is ``libvirt-1``.
"""

from __future__ import annotations

import os
from typing import Any

from pyvirt.xml.define_rules import check_disk_rules
from pyvirt.xml.errors import XMLConfigError, XMLError, XMLInternalError

from .argv_common import Argv, Ctx, iothread_name, pci_props, unsupported, usb_props, virtio_driver
from .argv_netdisk import curl_order, is_network, net_storage

#: <driver cache=> -> (cache.direct, cache.no-flush, write-cache)
_CACHE = {
    "none": (True, False, True),
    "writeback": (False, False, True),
    "writethrough": (False, False, False),
    "directsync": (True, False, False),
    "unsafe": (False, True, True),
}


def cache_mode(disk: Any) -> tuple[bool, bool, bool] | None:
    """(direct, no-flush, write-cache) of the disk's cache mode, None when QEMU's default stays.

    A writable ``<shareable/>`` disk without a cache mode gets ``none``: another host may write
    the same image, so the page cache must be bypassed (qemuDomainPrepareDiskCachemode); it then
    shows on the nodes and as the frontend's write-cache like an explicit ``cache='none'``."""
    mode = disk.driver_cache or ""
    if mode in ("", "default") and disk.shareable and not disk.readonly:
        mode = "none"
    return _CACHE.get(mode)


def _vhostuser_disk(a: Argv, ctx: Ctx, disk: Any) -> None:
    """A disk served by a vhost-user backend: its socket as ``chr-vu-ALIAS`` and a
    ``vhost-user-blk-pci`` device (libvirt 9.0's rules: virtio bus, raw, shared guest RAM)."""
    from types import SimpleNamespace

    from pyvirt.xml.define_rules_more import require_shared_memory

    from .argv_chardev import chardev_backend

    if disk.target_bus != "virtio" or (disk.device or "disk") != "disk":
        raise XMLError("vhostuser disk supports only a disk device on the virtio bus", disk.line)
    if (disk.driver_type or "raw") != "raw":
        raise XMLError("vhostuser disk supports only the raw format", disk.line)
    if disk.source_type != "unix" or not disk.source_path:
        raise XMLError("a vhostuser disk needs <source type='unix' path=...>", disk.line)
    for what, value in (("cache", disk.driver_cache), ("error_policy", disk.driver_error_policy),
                        ("io", disk.driver_io), ("iothread", disk.driver_iothread), ("readonly", disk.readonly),
                        ("shareable", disk.shareable), ("serial", disk.serial), ("iotune", disk.iotune),
                        ("discard", disk.driver_discard), ("detect_zeroes", disk.driver_detect_zeroes)):
        if value:
            raise XMLError(f"{what} is not supported with vhostuser disk", disk.line)
    require_shared_memory(ctx.domain, "vhostuser", disk.line)
    alias = ctx.alias(disk)
    chr_ = SimpleNamespace(kind="disk", type="unix", source_mode="connect", source_path=disk.source_path,
                           source_host=None, source_service=None, protocol_type=None, source_append=None,
                           log_file=None, log_append=None, target_name=None,
                           source_reconnect_enabled=disk.source_reconnect_enabled,
                           source_reconnect_timeout=disk.source_reconnect_timeout, line=disk.line)
    a.opt("-chardev", chardev_backend(ctx, chr_, f"chr-vu-{alias}"))
    props: dict[str, Any] = {"driver": "vhost-user-blk-pci"}
    ctx.virtio(disk, props)
    if disk.driver_queues is not None:
        props["num-queues"] = disk.driver_queues
    if disk.driver_queue_size is not None:
        props["queue-size"] = disk.driver_queue_size
    props.update(pci_props(ctx, disk.address, "vhostuser disk"))
    props.update({"chardev": f"chr-vu-{alias}", "id": alias})
    boot = ctx.boot_index.get(id(disk))
    if boot is not None:
        props["bootindex"] = boot
    a.device(props)


def node_numbers(disks: list[Any]) -> dict[int, int]:
    """id(layer) -> N of its ``libvirt-N`` nodes.  libvirt numbers the nodes walking the disks
    from the last one, each from its top layer down its <backingStore> chain: the last disk's top
    image is libvirt-1.  SCSI host devices take the numbers after them (argv_hostdev)."""
    node_no: dict[int, int] = {}
    for d in reversed(disks):
        if _source(d):
            for layer in chain(d):
                node_no[id(layer)] = len(node_no) + 1
    return node_no


def disk_opts(a: Argv, ctx: Ctx) -> None:
    disks = ctx.domain.devices.disks
    node_no = node_numbers(disks)
    for disk in disks:
        if disk.type == "vhostuser":
            _vhostuser_disk(a, ctx, disk)
            continue
        check_disk(disk)
        _check_startup_policy(ctx, disk)
        drive = None
        if _source(disk):
            layers = chain(disk)
            backing: str | None = None
            for depth in range(len(layers) - 1, 0, -1):
                below, layer = backing, layers[depth]
                backing = f"libvirt-{node_no[id(layer)]}"
                blockdevs(a, ctx, disk, backing, layer=layer, backing=below or _ends(layer), depth=depth)
                backing += "-format"
            node = f"libvirt-{node_no[id(disk)]}"
            blockdevs(a, ctx, disk, node, backing=backing or _ends(disk))
            drive = f"{node}-format"
            if disk.driver_copy_on_read:
                # libvirt puts a copy-on-read filter on top of the format node
                cor = f"libvirt-CoR-{disk.target_dev}"
                a.json("-blockdev", {"driver": "copy-on-read", "node-name": cor, "file": drive,
                                     "discard": "unmap"})
                drive = cor
        a.device(frontend(ctx, disk, drive))


def disk_qom_name(disk: Any) -> str:
    """The QOM path QMP's block commands name a disk frontend by (libvirt's ``qomName``): a
    virtio-blk-pci proxies its block backend through the inner virtio device."""
    if disk.target_bus == "virtio":
        return f"/machine/peripheral/{disk.alias}/virtio-backend"
    return disk.alias or ""


def _source(disk: Any) -> str | bool | None:
    """Whether the disk has an image (a CD-ROM or floppy may be empty: a network one without a
    protocol too, as virStorageSourceIsEmpty says)."""
    return (disk.source_file or disk.source_dev or disk.source_dir or disk.type == "nvme"
            or (is_network(disk) and disk.source_protocol))


def nvme_pci_name(disk: Any) -> str:
    """The host PCI name (``DDDD:BB:SS.F``) of an NVMe disk's controller."""
    a = disk.source_pci
    return f"{a.domain or 0:04x}:{a.bus:02x}:{a.slot:02x}.{a.function:x}"


def chain(disk: Any) -> list[Any]:
    """The disk and the images of its XML backing chain, top first (no terminator)."""
    layers = [disk]
    layer = disk.backing_store
    while layer is not None and not layer.terminator:
        if not (layer.source_file or layer.source_dev or is_network(layer)):
            raise XMLError("missing source of <backingStore>", layer.line)
        layers.append(layer)
        layer = layer.backing_store
    return layers


#: the QEMU format drivers that take a backing image (a raw node has no ``backing`` at all)
_BACKING_FORMATS = frozenset({"qcow2", "qcow", "qed", "vmdk"})

#: the ``backing`` of a format node whose chain ends in ``<backingStore/>``: none (JSON null)
_NO_BACKING = object()


def _ends(layer: Any) -> object | None:
    bs = layer.backing_store
    return _NO_BACKING if bs is not None and bs.terminator else None


def secret_file(domain_dir: str | None, owner: str, purpose: str) -> str:
    """Where pyvirtd puts the value of the secret a device (`owner`: a disk's target, a TPM's
    alias) needs for ``purpose`` ("encryption", "vtpm"), for QEMU's ``secret`` object or swtpm
    to read at start: in the guest's private 0700 directory, 0600, gone once read (libvirt
    passes it AES-encrypted under a master key file instead: the same exposure, a file only
    QEMU's user reads).  Never on a command line."""
    return f"{domain_dir or '/nonexistent'}/secret-{owner}-{purpose}"


def encryption_purpose(depth: int) -> str:
    """The `secret_file` purpose of the encryption secret of a disk's layer ``depth`` (0: the
    disk's own image, 1: its first backing image ...): each layer has its own secret."""
    return "encryption" if depth == 0 else f"encryption-backing{depth}"


def encrypted_layers(disk: Any) -> list[tuple[int, Any]]:
    """(depth, <encryption>) of every image of the disk's XML chain QEMU decrypts: the disk's
    own and each ``<backingStore><source><encryption>`` (libvirt gives every layer its own
    secret object)."""
    out = [(0, disk.disk_encryption)] if disk.disk_encryption is not None else []
    if _source(disk):
        out += [(depth, layer.source_encryption) for depth, layer in enumerate(chain(disk))
                if depth and layer.source_encryption is not None]
    return out


def _encryption(a: Argv, ctx: Ctx, disk: Any, node: str, depth: int) -> str | None:
    """``<encryption format='luks'>``: the secret object QEMU opens the image with (its id), or
    None for an image without encryption.  ``depth``: which layer of the disk's chain."""
    enc = dict(encrypted_layers(disk)).get(depth)
    if enc is None:
        return None
    if enc.format != "luks" or enc.engine not in (None, "qemu"):
        what = f"format='{enc.format}'" if enc.format != "luks" else f"engine='{enc.engine}'"
        raise unsupported(f"<encryption {what}> (LUKS decrypted by QEMU only)", enc.line)
    if len(enc.secrets) != 1:
        raise unsupported("<encryption> with other than one <secret>", enc.line)
    secret_id = f"{node}-format-encryption-secret0"
    a.json("-object", {"qom-type": "secret", "id": secret_id, "format": "raw",
                       "file": secret_file(ctx.runtime.domain_dir, disk.target_dev, encryption_purpose(depth))})
    return secret_id


def _decrypt(fmt: dict[str, Any], key_secret: str, line: int | None) -> None:
    """A LUKS image's format node, as libvirt 9.0 writes it: raw images through the ``luks``
    format driver, qcow2 ones through qcow2's own LUKS encryption."""
    if fmt["driver"] == "raw":
        fmt["driver"] = "luks"
        fmt["key-secret"] = key_secret
    elif fmt["driver"] == "qcow2":
        fmt["encrypt"] = {"format": "luks", "key-secret": key_secret}
    else:
        raise unsupported(f"LUKS encryption of a {fmt['driver']} image", line)


#: how each protocol's QEMU driver takes <auth> credentials (libvirt's qemuBlockStorageSourceGet*Props):
#: the user key, the secret key, and extra properties
_AUTH_KEYS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "iscsi": ("user", "password-secret", {}),
    "rbd": ("user", "key-secret", {"auth-client-required": ["cephx", "none"]}),
    **{p: ("username", "password-secret", {}) for p in ("http", "https", "ftp", "ftps")},
}


def auth_secret(a: Argv, ctx: Ctx, disk: Any, node: str, proto: dict[str, Any]) -> None:
    """A network image's credentials (a disk's, or a network NVRAM's: anything with
    ``disk_auth``, ``source_protocol`` and ``target_dev``)."""
    _auth(a, ctx, disk, node, proto)


def _auth(a: Argv, ctx: Ctx, disk: Any, node: str, proto: dict[str, Any]) -> None:
    """A network disk's ``<auth>``: a ``secret`` object reading the value pyvirtd put in the
    guest's private directory (:func:`secret_file`, as for encryption), named by the protocol
    node's credential properties."""
    auth = disk.disk_auth
    keys = _AUTH_KEYS.get(disk.source_protocol or "")
    if keys is None:
        raise unsupported(f"<auth> for protocol {disk.source_protocol!r}", auth.line)
    user_key, secret_key, extra = keys
    secret_id = f"{node}-storage-auth-secret0"
    a.json("-object", {"qom-type": "secret", "id": secret_id, "format": "raw",
                       "file": secret_file(ctx.runtime.domain_dir, disk.target_dev, "auth")})
    if auth.username is not None:
        proto[user_key] = auth.username
    proto.update(extra)
    proto[secret_key] = secret_id


def cookie_string(disk: Any) -> str:
    """The Cookie header value of an http(s) disk (qemuBlockStorageSourceGetCookieString)."""
    return "; ".join(f"{c.name}={c.value or ''}" for c in disk.source_cookies)


def _cookie_secret(a: Argv, ctx: Ctx, disk: Any, node: str) -> str:
    """An http(s) disk's cookies go to QEMU as a secret (they often carry credentials), read from
    the guest's private directory like an <auth> secret."""
    for c in disk.source_cookies:
        if not c.name or any(ch in c.name + (c.value or "") for ch in ";\r\n"):
            raise XMLError(f"cookie {c.name!r}: name required, and no ';' or line breaks", c.line or disk.line)
    secret_id = f"{node}-storage-httpcookie-secret0"
    a.json("-object", {"qom-type": "secret", "id": secret_id, "format": "raw",
                       "file": secret_file(ctx.runtime.domain_dir, disk.target_dev, "httpcookie")})
    return secret_id


#: the SCSI frontend of each <disk device> (a 'lun' passes SCSI commands through: scsi-block)
_SCSI_FRONTENDS = {"disk": "scsi-hd", "cdrom": "scsi-cd", "lun": "scsi-block"}


def check_lun(disk: Any) -> None:
    """libvirt's rules for ``<disk device='lun'>`` (virDomainDiskDefValidate and
    qemuValidateDomainDeviceDefDisk): a block device or an iSCSI LUN on a SCSI bus; what it asks
    of the host (unfiltered SG_IO, CAP_SYS_RAWIO) is refused by name."""
    if disk.device != "lun":  # what only a LUN takes is refused at define (define_rules_more._lun_only)
        return
    # a block device or an iSCSI LUN: checked at define (xml.define_rules.check_disk_rules)
    if disk.target_bus == "virtio":
        raise unsupported("<disk device='lun'> on the virtio bus (QEMU 7.2's virtio-blk has no SCSI "
                          "passthrough)", disk.line)
    if disk.target_bus != "scsi":
        raise XMLConfigError(f"disk device='lun' is not supported for bus='{disk.target_bus}'", disk.line)
    if disk.rawio:
        raise unsupported("<disk device='lun' rawio='yes'> (QEMU would need CAP_SYS_RAWIO)", disk.line)
    if disk.sgio == "unfiltered":
        raise unsupported("<disk device='lun' sgio='unfiltered'> (the host's unpriv_sgio setting)", disk.line)


def _nbd_tls(a: Argv, ctx: Ctx, disk: Any, layer: Any, node: str, proto: dict[str, Any]) -> None:
    """TLS to an NBD server (qemuDomainPrepareStorageSourceTLS): the XML's ``tls``, else qemu.conf's
    ``nbd_tls``; a ``tls-creds-x509`` client object on qemu.conf's certificate directory, its key
    password a secret object when qemu.conf names one (its value in the guest's private dir)."""
    rt = ctx.runtime
    if layer.source_protocol != "nbd":
        return
    tls = layer.source_tls if layer.source_tls is not None else rt.nbd_tls_default
    if not tls:
        if layer.source_tls_hostname:
            raise XMLError("'tlsHostname' is only valid with tls='yes'", layer.line)
        return
    if rt.nbd_tls_x509_dir is None:
        raise unsupported("<source protocol='nbd' tls='yes'>: no NBD TLS certificate directory known", layer.line)
    creds = f"obj{node}-storage_tls0"
    obj: dict[str, Any] = {"qom-type": "tls-creds-x509", "id": creds, "dir": rt.nbd_tls_x509_dir,
                           "endpoint": "client", "verify-peer": rt.nbd_tls_verify}
    if rt.nbd_tls_secret:
        a.json("-object", {"qom-type": "secret", "id": f"{creds}-secret0", "format": "raw",
                           "file": secret_file(rt.domain_dir, disk.target_dev, "tls")})
        obj["passwordid"] = f"{creds}-secret0"
    a.json("-object", obj)
    proto["tls-creds"] = creds
    if layer.source_tls_hostname:
        proto["tls-hostname"] = layer.source_tls_hostname


def _check_startup_policy(ctx: Ctx, disk: Any) -> None:
    """``<source startupPolicy=>`` decides what a start does when the local source is missing
    (qemuDomainCheckDiskStartupPolicy): 'mandatory' (the default) fails, 'requisite' fails a cold
    boot, 'optional' starts without the media.  A present source starts as any other; a missing
    one under 'optional' or 'requisite' is refused here (pyvirt does not drop media), while a
    mandatory one is left to QEMU as without the attribute.  libvirt's test harness checks no
    file, nor does pyvirt with its constants."""
    policy = disk.source_startup_policy
    path = disk.source_file if disk.type in (None, "file") else disk.source_dev if disk.type == "block" else None
    if policy in ("optional", "requisite") and path and not ctx.runtime.test_mode and not os.path.exists(path):
        raise unsupported(f"<source startupPolicy='{policy}'> with a missing source {path!r} (libvirt would "
                          f"{'start without it' if policy == 'optional' else 'refuse the start'})", disk.line)


def check_disk(disk: Any) -> None:
    if disk.target_bus in ("xen", "uml"):  # defined by libvirt 9.0, refused when its device is built
        raise XMLInternalError(f"unsupported disk bus '{disk.target_bus}' with device setup", disk.line)
    check_lun(disk)
    if disk.transient:
        raise unsupported("<disk><transient/> (libvirt puts a throwaway overlay over the image at start; pyvirt "
                          "does not create one)", disk.line)
    if disk.type == "volume" or disk.source_pool:
        raise unsupported("<disk type='volume'> (resolve the pool volume to a path first)", disk.line)
    if disk.wwn and disk.target_bus not in ("scsi", "ide", "sata"):
        raise unsupported("<wwn> on this bus", disk.line)
    check_disk_rules(disk)  # libvirt's define-time rules, for a hot-plugged disk too
    if disk.driver_type not in (None, "raw", "qcow2", "qcow", "vmdk", "vdi", "vpc", "vhdx", "qed",
                                "luks", "dmg", "cloop", "bochs", "parallels") and disk.type != "dir":
        raise unsupported(f"disk format {disk.driver_type!r}", disk.line)  # a directory's "fat": validated


def _slice(a: Argv, layer: Any, node: str, fmt: dict[str, Any]) -> None:
    """A storage ``<slice>`` (qemuBlockStorageSourceGetBlockdevStorageSliceProps): a raw image
    reads its byte range itself; any other format reads it through a raw node of its own."""
    if layer.slice_offset is None or layer.slice_size is None:
        raise XMLError("a storage <slice> needs both offset and size", layer.line)
    window = {"offset": layer.slice_offset, "size": layer.slice_size}
    if fmt["driver"] == "raw":
        fmt.update(window)
        return
    a.json("-blockdev", {"driver": "raw", "node-name": f"{node}-slice-sto", **window, "file": fmt["file"],
                         "auto-read-only": True, "discard": "unmap"})
    fmt["file"] = f"{node}-slice-sto"


def _pr_manager(a: Argv, ctx: Ctx, disk: Any, node: str) -> str:
    """The pr-manager-helper object of ``<reservations>`` (qemuBuildPRManagerInfoProps): the one
    managed helper of the guest on its socket in the guest's directory, or one per disk on the
    socket the XML names."""
    if disk.source_reservations_managed:
        ident = "pr-helper0"
        if ident not in ctx.pr_managers:
            ctx.pr_managers.add(ident)
            a.json("-object", {"qom-type": "pr-manager-helper", "id": ident,
                               "path": f"{ctx.runtime.domain_dir}/{ident}.sock"})
        return ident
    if not disk.source_reservations_path:
        raise XMLError("missing path for unmanaged <reservations>", disk.line)
    ident = f"pr-helper-{node}-storage"
    a.json("-object", {"qom-type": "pr-manager-helper", "id": ident, "path": disk.source_reservations_path})
    return ident


def blockdevs(a: Argv, ctx: Ctx, disk: Any, node: str, *, layer: Any = None,
              backing: object | None = None, depth: int = 0) -> None:
    """The protocol + format nodes of ``layer`` (the disk's own image when None), ``depth``
    layers below the disk's own; ``backing`` names the format node below it (or
    ``_NO_BACKING`` for a chain that ends there)."""
    top = layer is None
    layer = disk if top else layer
    cache = cache_mode(disk)
    if is_network(layer):
        proto: dict[str, Any] = net_storage(layer)
        if top and disk.disk_auth is not None:
            _auth(a, ctx, disk, node, proto)
        if top and disk.source_cookies:
            proto["cookie-secret"] = _cookie_secret(a, ctx, disk, node)
        _nbd_tls(a, ctx, disk, layer, node, proto)
        proto = curl_order(proto)
    elif top and disk.type == "nvme":
        # qemuBlockStorageSourceGetNVMeProps: QEMU's userspace NVMe driver on the VFIO-bound controller
        proto = {"driver": "nvme", "device": nvme_pci_name(disk), "namespace": disk.source_namespace}
    elif top and disk.type == "dir":
        # libvirt's vvfat node: the directory as a FAT image, a floppy's geometry for floppies
        proto = {"driver": "vvfat", "dir": disk.source_dir, "floppy": disk.device == "floppy", "rw": False}
    elif layer.type == "block" or (layer.source_dev and not layer.source_file):
        # QEMU's host_cdrom needs a real optical drive; the daemon tells which paths are ones.
        cdrom = top and disk.device == "cdrom" and layer.source_dev in ctx.runtime.host_cdroms
        driver = "host_cdrom" if cdrom else "host_device"
        proto = {"driver": driver, "filename": layer.source_dev}
    else:
        proto = {"driver": "file", "filename": layer.source_file}
    key_secret = _encryption(a, ctx, disk, node, depth)  # its secret object comes first
    if top and disk.source_reservations_managed is not None:
        proto["pr-manager"] = _pr_manager(a, ctx, disk, node)
    if disk.driver_io in ("native", "io_uring", "threads"):
        proto["aio"] = disk.driver_io
    proto["node-name"] = f"{node}-storage"
    if cache is not None:
        proto["cache"] = {"direct": cache[0], "no-flush": cache[1]}
    proto["auto-read-only"] = True
    proto["discard"] = "unmap"
    a.json("-blockdev", proto)
    read_only = bool(disk.readonly) or disk.device == "cdrom" or not top
    fmt: dict[str, Any] = {"node-name": f"{node}-format", "read-only": read_only}
    if disk.driver_discard == "unmap":
        fmt["discard"] = "unmap"
    if cache is not None:
        fmt["cache"] = {"direct": cache[0], "no-flush": cache[1]}
    if disk.driver_detect_zeroes and top:
        zeroes = disk.driver_detect_zeroes
        if zeroes == "unmap" and disk.driver_discard != "unmap":
            zeroes = "on"
        fmt["detect-zeroes"] = zeroes
    fmt["driver"] = (disk.driver_type if top else layer.format_type) or "raw"
    if fmt["driver"] == "fat":  # the vvfat node below is the FAT image: read raw
        fmt["driver"] = "raw"
    cache_size = disk.driver_metadata_cache if top else layer.format_metadata_cache
    if cache_size is not None:
        if fmt["driver"] != "qcow2":
            raise XMLError("metadata_cache can only be used with 'qcow2' format", disk.line)
        fmt["cache-size"] = cache_size
    if key_secret is not None:
        _decrypt(fmt, key_secret, disk.line)
    fmt["file"] = f"{node}-storage"
    if layer.slice_offset is not None or layer.slice_size is not None:
        _slice(a, layer, node, fmt)
    if backing is not None and fmt["driver"] in _BACKING_FORMATS:
        fmt["backing"] = None if backing is _NO_BACKING else backing
    a.json("-blockdev", fmt)


def frontend(ctx: Ctx, disk: Any, node: str | None) -> dict[str, Any]:
    bus = disk.target_bus
    addr = disk.address
    alias = ctx.alias(disk)
    props: dict[str, Any]
    tail: dict[str, Any] = {}
    if disk.driver_iothread is not None and bus != "virtio":
        raise XMLError("IOThreads only available for virtio pci and virtio ccw disk", disk.line)
    if bus == "virtio":
        props = {"driver": virtio_driver("virtio-blk-pci", disk.model)}
        ctx.virtio(disk, props)
        if disk.driver_iothread is not None:
            props["iothread"] = iothread_name(ctx, disk.driver_iothread, "disk", disk.line)
        for name, key in (("driver_ioeventfd", "ioeventfd"), ("driver_event_idx", "event_idx"),
                          ("driver_queues", "num-queues"), ("driver_queue_size", "queue-size")):
            if getattr(disk, name) is not None:
                props[key] = getattr(disk, name)
        props.update(pci_props(ctx, addr, "virtio disk"))
    elif bus in ("ide", "sata"):
        props = {"driver": "ide-cd" if disk.device == "cdrom" else "ide-hd"}
        props.update(_ide_bus(ctx, disk))
    elif bus == "scsi":
        props = {"driver": _SCSI_FRONTENDS.get(disk.device or "disk", "scsi-hd")}
        props.update(scsi_bus(ctx, disk))
        if disk.device != "lun":  # scsi-block passes the LUN's own identity through
            props["device_id"] = disk.serial or f"drive-{alias}"
    elif bus == "usb":
        # libvirt 9.0 gives a USB cdrom the same usb-storage device as a USB disk
        props = {"driver": "usb-storage"}
        props.update(usb_props(ctx, addr))
        tail["removable"] = bool(disk.target_removable)
    elif bus == "fdc":
        if disk.device != "floppy":
            raise unsupported("fdc bus for a non-floppy disk", disk.line)
        props = {"driver": "floppy", "unit": addr.unit if addr and addr.unit is not None else 0}
        if props["unit"] > 1:  # libvirt 9.0 defines it and leaves QEMU to fail; refused before
            raise unsupported(f"floppy unit {props['unit']} (QEMU's floppy controller has units 0 and 1)",
                              disk.line)
    else:
        raise unsupported(f"disk bus {bus!r}", disk.line)
    if bus != "virtio":
        for name in ("driver_ioeventfd", "driver_event_idx", "driver_queues", "driver_queue_size"):
            if getattr(disk, name) is not None:
                raise unsupported(f"<driver {name.removeprefix('driver_')}=...> on a {bus} disk", disk.line)
    tail.update(_geometry(disk))
    tail.update(_error_policy(disk))
    if disk.blockio_logical is not None:
        tail["logical_block_size"] = disk.blockio_logical
    if disk.blockio_physical is not None:
        tail["physical_block_size"] = disk.blockio_physical
    if disk.vendor is not None or disk.product is not None:
        if bus != "scsi":
            raise XMLError("Only scsi disk supports vendor and product", disk.line)
        if disk.vendor is not None:
            tail["vendor"] = disk.vendor
        if disk.product is not None:
            tail["product"] = disk.product
    if disk.target_rotation_rate is not None:
        if bus not in ("ide", "sata", "scsi") or disk.device == "cdrom":
            raise XMLError("rotation rate is only valid for SCSI/IDE/SATA disks", disk.line)
        tail["rotation_rate"] = disk.target_rotation_rate
    if node is not None:
        props["drive"] = node
    props["id"] = alias
    boot = ctx.boot_index.get(id(disk))
    if boot is not None and bus != "fdc":
        props["bootindex"] = boot
    if disk.serial:
        # libvirt escapes a space in the serial with a backslash (a -drive era escape it keeps
        # under -device), so the guest reads 'a\ b' for <serial>a b</serial>: kept, the same disk
        props["serial"] = disk.serial.replace(" ", "\\ ")
    if disk.wwn:
        props["wwn"] = int(disk.wwn, 16)
    if disk.shareable:
        props["share-rw"] = True
    cache = cache_mode(disk)
    if cache is not None and disk.device != "lun":
        # libvirt sets it on every frontend but scsi-block (lun): cdroms and floppies too
        props["write-cache"] = "on" if cache[2] else "off"
    props.update(tail)
    return props


def _geometry(disk: Any) -> dict[str, Any]:
    """``<geometry>``: the BIOS geometry QEMU reports, each number when positive (qemuBuildDiskDeviceProps
    adds them as 'p:' properties), the translation when given."""
    out: dict[str, Any] = {k: v for k, v in (("cyls", disk.geometry_cyls), ("heads", disk.geometry_heads),
                                             ("secs", disk.geometry_secs)) if v}
    if disk.geometry_trans is not None:
        out["bios-chs-trans"] = disk.geometry_trans
    return out


def _error_policy(disk: Any) -> dict[str, Any]:
    """``werror``/``rerror`` (qemuBuildDiskGetErrorPolicy): a read error follows the write policy
    unless told otherwise, except for 'enospace' (QEMU's ``enospc``, write errors only)."""
    werror, rerror = disk.driver_error_policy, disk.driver_rerror_policy
    if werror == "enospace":
        werror = "enospc"
    elif rerror is None:
        rerror = werror
    return {k: v for k, v in (("rerror", rerror), ("werror", werror)) if v is not None}


def _ide_bus(ctx: Ctx, disk: Any) -> dict[str, Any]:
    addr = disk.address
    if addr is None or addr.type != "drive":
        raise unsupported(f"{disk.target_bus} disk without a drive address", disk.line)
    ctrl = addr.controller or 0
    if disk.target_bus == "ide":
        if ctx.q35:
            raise unsupported("IDE bus on a q35 machine", disk.line)
        return {"bus": f"ide.{addr.bus or 0}", "unit": addr.unit or 0}
    from pyvirt.xml.aliases import controller_alias_ide_sata

    return {"bus": f"{controller_alias_ide_sata('sata', ctrl, ctx.q35)}.{addr.unit or 0}"}


def scsi_bus(ctx: Ctx, disk: Any) -> dict[str, Any]:
    """``bus``/``channel``/``scsi-id``/``lun`` of a device on a SCSI controller (a disk, or a
    SCSI host device), from its drive address and the controller's model."""
    addr = disk.address
    if addr is None or addr.type != "drive":
        raise unsupported(f"{'scsi disk' if hasattr(disk, 'target_bus') else 'SCSI host device'} "
                          "without a drive address", disk.line)
    ctrl = addr.controller or 0
    controller = next((c for c in ctx.domain.devices.controllers if c.type == "scsi" and (c.index or 0) == ctrl),
                      None)
    model = controller.model if controller is not None else None
    # the bus is named after the controller's alias (a user alias too), as qemuBuildDeviceAddressDriveProps
    name = ctx.aliases.get(id(controller), f"scsi{ctrl}") if controller is not None else f"scsi{ctrl}"
    if model in ("lsilogic", "am53c974", "dc390"):
        # the parallel SCSI HBAs: one bus per <address bus>, the unit is the SCSI id, no LUNs;
        # only lsilogic refuses a target (the ESP ones ignore it, as libvirt 9.0 does)
        if addr.target and model == "lsilogic":
            raise XMLConfigError(f"target must be 0 for controller model '{model}'", disk.line)
        return {"bus": f"{name}.{addr.bus or 0}", "scsi-id": addr.unit or 0}
    if model in ("virtio-scsi", "virtio-transitional", "virtio-non-transitional", "vmpvscsi", "lsisas1068",
                 "lsisas1078", "ibmvscsi"):
        # every other HBA: one bus, addressed by channel, SCSI id (target) and LUN (unit)
        return {"bus": f"{name}.0", "channel": addr.bus or 0, "scsi-id": addr.target or 0, "lun": addr.unit or 0}
    raise unsupported(f"SCSI device on controller model {model!r}", disk.line)
