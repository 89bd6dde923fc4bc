"""libvirt's QEMU XML namespace beyond ``<qemu:commandline>`` (argv.py handles that one):
``<qemu:deprecation>``, ``<qemu:override>`` and ``<qemu:capabilities>``, as libvirt 9.0 turns
them into the command line (qemuBuildCompatDeprecatedCommandLine,
qemuBuildDeviceCommandlineHandleOverrides, qemuDomainDefNamespaceParseCaps).  The XML rules
themselves (libvirt's parse errors) are checked in :mod:`pyvirt.xml.validate`.
"""

from __future__ import annotations

from typing import Any

from .argv_common import Argv, unsupported

#: ``<qemu:deprecation behavior>`` -> QEMU's ``-compat`` policy (libvirt writes nothing for
#: ``none`` or for a word it does not know, and accepts any word)
_COMPAT: dict[str, dict[str, str]] = {
    "omit": {"deprecated-output": "hide"},
    "reject": {"deprecated-output": "hide", "deprecated-input": "reject"},
    "crash": {"deprecated-output": "hide", "deprecated-input": "crash"},
}

#: libvirt 9.0's retired capability flags (``X_QEMU_CAPS_*``): kept in its list for old status
#: files, no longer consulted anywhere, so forcing one on or off changes nothing in libvirt
#: either.  Every other flag steers libvirt's own code paths, which pyvirt does not have.
RETIRED_CAPABILITIES = frozenset(["#", "noqa:", "SIM905", "(a", "word", "list", "reads", "better", "than", "250", "quoted", "strings)", "vnc-colon", "no-reboot", "drive", "drive-boot", "name", "uuid", "domid", "vnet-hdr", "migrate-kvm-stdio", "migrate-qemu-tcp", "migrate-qemu-exec", "drive-cache-v2", "drive-format", "vga", "0.10", "pci-device", "mem-path", "drive-serial", "xen-domid", "migrate-qemu-unix", "chardev", "enable-kvm", "monitor-json", "balloon", "device", "smp-topology", "netdev", "rtc", "vhost-net", "rtc-td-hack", "no-hpet", "no-kvm-pit", "tdf", "pci-configfd", "nodefconfig", "boot-menu", "fsdev", "nesting", "name-process", "drive-readonly", "smbios-type", "vga-qxl", "vga-none", "migrate-qemu-fd", "boot-index", "drive-aio", "pci-multibus", "pci-bootindex", "chardev-spicevmc", "device-spicevmc", "virtio-tx-alg", "device-qxl-vga", "pci-multifunction", "virtio-blk-pci.ioeventfd", "sga", "virtio-blk-pci.event_idx", "virtio-net-pci.event_idx", "cache-directsync", "no-shutdown", "cache-unsafe", "rombar", "no-acpi", "fsdev-readonly", "blk-sg-io", "drive-copy-on-read", "cpu-host", "fsdev-writeout", "drive-iotune", "system_wakeup", "transaction", "block-job-sync", "block-job-async", "scsi-cd", "ide-cd", "no-user-config", "dump-guest-memory", "virtio-s390", "balloon-event", "bridge", "blockio", "disable-s3", "disable-s4", "ide-drive.wwn", "scsi-disk.wwn", "reboot-timeout", "dump-guest-core", "seamless-migration", "block-commit", "drive-mirror", "usb-redir.bootindex", "usb-host.bootindex", "blockdev-snapshot-sync", "device-video-primary", "usb-net", "add-fd", "nbd-server", "dtb", "ipv6-migration", "machine-opt", "machine-usb-opt", "vfio-pci.bootindex", "scsi-generic", "scsi-generic.bootindex", "mem-merge", "vnc-websocket", "drive-discard", "mlock", "vnc-share-policy", "device-del-event", "i440fx-pci-hole64-size", "q35-pci-hole64-size", "usb-storage.removable", "boot-strict", "spice-file-xfer-disable", "spiceport", "host-pci-multidomain", "msg-timestamp", "active-commit", "change-backing-file", "memory-backend-ram", "numa", "memory-backend-file", "splash-timeout", "iothread", "ivshmem", "drive-iotune-max", "qxl-vga.vgamem_mb", "aes-key-wrap", "dea-key-wrap", "aarch64-off", "vhost-user-multiqueue", "migration-event", "gic-version", "incoming-defer", "chardev-file-append", "ich9-disable-s3", "ich9-disable-s4", "vserport-change-event", "qxl-vga.vram64_size_mb", "chardev-logfile", "debug-threads", "secret", "device-tray-moved-event", "nec-usb-xhci-ports", "virtio-scsi-pci.iothread", "name-guest", "qxl.max_outputs", "qxl-vga.max_outputs", "spice-unix", "drive-detect-zeroes", "tls-creds-x509", "display", "smm", "virtio-pci-disable-legacy", "query-hotpluggable-cpus", "virtio-net.rx_queue_size", "machine-iommu", "drive-iotune-max-length", "query-qmp-schema", "gluster.debug_level", "drive-iotune-group", "virtio-net.host_mtu", "block-write-threshold", "query-named-block-nodes", "cpu-cache", "kernel-irqchip", "kernel-irqchip.split", "virtio.iommu_platform", "virtio.ats", "loadparm", "vnc-multi-servers", "virtio-net.tx_queue_size", "virtio-gpu.max_outputs", "virtio-blk.num-queues", "machine.pseries.resize-hpt", "numa.dist", "disk-share-rw", "iscsi.password-secret", "machine.pseries.max-cpu-compat", "dump-completed", "qcow2-luks", "seccomp-blacklist", "query-cpus-fast", "disk-write-cache", "qom-list-properties", "memory-backend-file.discard-data", "virtual-css-bridge", "virtual-css-bridge.cssid-unrestricted", "sdl-gl", "blockdev-del", "chardev-fd-pass", "machine.pseries.cap-hpt-max-page-size", "machine.pseries.cap-htm", "usb-storage.werror", "vfio-pci.display", "blockdev", "iothread.poll-max-ns", "machine.pseries.cap-nested-hv", "memory-backend-file.align", "scsi-disk.device_id", "overcommit", "query-current-machine", "bitmap-merge", "machine.pseries.cap-ccf-assist", "blockdev-file-dynamic-auto-read-only", "savevm-monitor-nodes", "virtio-net.failover", "storage.werror", "virtio.packed", "machine.pseries.cap-cfpc", "machine.pseries.cap-sbbc", "machine.pseries.cap-ibs", "query-cpu-model-expansion.migratable", "fw_cfg", "migration-param.bandwidth", "migration-param.downtime", "migration-param.xbzrle-cache-size", "blockdev-hostdev-scsi", "fsdev.createmode", "vnc-opts", "audiodev", "blockdev-backup", "query-display-options", "device.json"])


def check_capabilities(domain: Any) -> None:
    """``<qemu:capabilities>``: accepted where libvirt's own flag is a retired one (forcing it
    changes nothing there either); any other is refused by name, since its effect lives in
    libvirt's code paths, which pyvirt's command line builder does not have."""
    for verb, caps in (("add", domain.qemu_caps_add), ("del", domain.qemu_caps_del)):
        for cap in caps:
            if cap.capability not in RETIRED_CAPABILITIES:
                raise unsupported(f"<qemu:capabilities><qemu:{verb} capability='{cap.capability}'> "
                                  "(pyvirt has no libvirt capability flags to toggle; only the flags "
                                  "libvirt 9.0 retired, which change nothing, are accepted)", cap.line)


def compat_opt(a: Argv, domain: Any) -> None:
    """``-compat`` from ``<qemu:deprecation behavior>``, right after ``-name`` as libvirt."""
    policy = _COMPAT.get(domain.qemu_deprecation or "")
    if policy is not None:
        a.json("-compat", policy)


def override_values(domain: Any) -> dict[str, list[tuple[str, Any]]]:
    """alias -> [(property, value or REMOVE)], in document order, of ``<qemu:override>``:
    what :meth:`Argv.device` applies to the ``-device`` whose ``id`` is that alias."""
    out: dict[str, list[tuple[str, Any]]] = {}
    for dev in domain.qemu_overrides:
        ops = out.setdefault(dev.alias or "", [])
        for prop in dev.frontend:
            ops.append((prop.name or "", property_value(prop)))
    return out


#: marks a property ``type='remove'`` takes away
REMOVE = object()


def property_value(prop: Any) -> Any:
    """A ``<qemu:property>``'s JSON value (validated at parse: integers and booleans given)."""
    if prop.type == "remove":
        return REMOVE
    if prop.type in ("signed", "unsigned"):
        return int(prop.value)
    if prop.type == "bool":
        return prop.value == "true"
    return prop.value


def apply_overrides(props: dict[str, Any], ops: list[tuple[str, Any]]) -> None:
    """libvirt's order: each property is first removed, then (unless ``remove``) appended, so an
    overridden property moves to the end of the set."""
    for name, value in ops:
        props.pop(name, None)
        if value is not REMOVE:
            props[name] = value
