"""libvirt's ``<capabilities>`` and ``<domainCapabilities>`` documents, built from probes.

Tools written for libvirt (virt-install, virt-manager, Cockpit) decide what to offer from
these two documents, so pyvirt emits them in libvirt's shape and they validate against
libvirt's capability.rng and domaincaps.rng. Everything comes from facts: the QEMU probe
(:mod:`pyvirt.qemu.caps`), the KVM verdict (:mod:`pyvirt.qemu.kvmprobe`) and the host
(:func:`probe_host`); ``type='kvm'`` is offered only when the KVM probe ran a guest.
Elements are built with lxml, never by string concatenation.
"""

from __future__ import annotations

import os
import platform
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyvirt.cpumodels import cpu_model_vendor
from pyvirt.qemu.caps import EmulatorCaps
from pyvirt.qemu.kvmprobe import KvmVerdict
from pyvirt.xml.defaults import I386_EMULATOR as I386_BINARY
from pyvirt.xml.lazy_etree import etree

OVMF_DIR = Path("/usr/share/OVMF")
_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon"}


@dataclass(frozen=True)
class HostInfo:
    """The facts about the host that ``<host>`` reports."""

    uuid: str
    arch: str
    cpu_vendor: str | None
    cpu_model: str | None
    sockets: int
    cores: int
    threads: int
    cpu_flags: frozenset[str] = frozenset()


def _host_uuid() -> str:
    """DMI product UUID when readable (libvirt's choice), else /etc/machine-id as a UUID, else random."""
    try:
        return str(uuidlib.UUID(Path("/sys/class/dmi/id/product_uuid").read_text().strip()))
    except (OSError, ValueError):
        pass
    try:
        return str(uuidlib.UUID(hex=Path("/etc/machine-id").read_text().strip()))
    except (OSError, ValueError):
        return str(uuidlib.uuid4())


def parse_cpuinfo(text: str) -> dict[str, str | int | frozenset[str]]:
    """vendor, model name, flags, and socket/core/thread counts from /proc/cpuinfo text (pure)."""
    first: dict[str, str] = {}
    sockets: set[str] = set()
    cores: set[tuple[str, str]] = set()
    processors = 0
    block: dict[str, str] = {}
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if block:
                processors += 1
                first = first or block
                sockets.add(block.get("physical id", "0"))
                cores.add((block.get("physical id", "0"), block.get("core id", str(processors))))
                block = {}
            continue
        key, _, value = line.partition(":")
        block[key.strip()] = value.strip()
    nsockets = max(1, len(sockets))
    ncores = max(1, len(cores) // nsockets)
    nthreads = max(1, processors // max(1, len(cores)))
    return {
        "vendor": first.get("vendor_id", ""),
        "model": first.get("model name", ""),
        "flags": frozenset(first.get("flags", "").split()),
        "sockets": nsockets,
        "cores": ncores,
        "threads": nthreads,
    }


def probe_host() -> HostInfo:
    """Read the host's identity and CPU topology (cheap: a few /proc and /sys reads)."""
    try:
        info = parse_cpuinfo(Path("/proc/cpuinfo").read_text())
    except OSError:
        info = {"vendor": "", "model": "", "flags": frozenset(), "sockets": 1, "cores": os.cpu_count() or 1,
                "threads": 1}  # fmt: skip
    vendor = _VENDORS.get(str(info["vendor"]), str(info["vendor"]) or None)
    return HostInfo(
        uuid=_host_uuid(),
        arch=platform.machine() or "x86_64",
        cpu_vendor=vendor,
        cpu_model=None,  # libvirt's cpu_map naming is not derived yet (see host_cpu_model)
        sockets=int(info["sockets"]),  # type: ignore[arg-type]
        cores=int(info["cores"]),  # type: ignore[arg-type]
        threads=int(info["threads"]),  # type: ignore[arg-type]
        cpu_flags=info["flags"],  # type: ignore[arg-type]
    )


def host_cpu_model(caps: EmulatorCaps, host: HostInfo) -> str:
    """A QEMU CPU model name to report for the host: the explicit one, else a safe baseline."""
    if host.cpu_model:
        return host.cpu_model
    return "qemu64" if any(m.name == "qemu64" for m in caps.cpu_models) else caps.cpu_models[0].name


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _serialize(root: etree._Element) -> str:
    return etree.tostring(root, pretty_print=True, encoding="unicode")


def _guest(root: etree._Element, caps: EmulatorCaps, kvm: KvmVerdict, arch: str) -> None:
    guest = _sub(root, "guest")
    _sub(guest, "os_type", "hvm")
    a = _sub(guest, "arch", name=arch)
    _sub(a, "wordsize", "64" if arch == "x86_64" else "32")
    emulator = caps.binary
    if arch == "i686" and os.access(I386_BINARY, os.X_OK):
        emulator = I386_BINARY
    _sub(a, "emulator", emulator)
    for m in caps.machines:
        if m.name == "none":
            continue
        attrs = {"maxCpus": str(m.cpu_max)}
        if m.deprecated:
            attrs["deprecated"] = "yes"
        _sub(a, "machine", m.name, **attrs)
        if m.alias:
            _sub(a, "machine", m.alias, canonical=m.name, **attrs)
    _sub(a, "domain", type="qemu")
    if kvm.usable:
        _sub(a, "domain", type="kvm")
    feats = _sub(guest, "features")
    if arch == "i686":
        _sub(feats, "pae")
        _sub(feats, "nonpae")
    _sub(feats, "acpi", default="on", toggle="yes")
    _sub(feats, "apic", default="on", toggle="no")
    _sub(feats, "cpuselection")
    _sub(feats, "deviceboot")
    _sub(feats, "disksnapshot", default="on", toggle="no")


def capabilities_xml(caps: EmulatorCaps, kvm: KvmVerdict, host: HostInfo | None = None,
                     cells: list[dict[str, Any]] | None = None) -> str:
    """``virsh capabilities``: the host, and one ``<guest>`` per architecture the emulator runs;
    `cells` (daemon.hostnuma.topology) the host's NUMA topology."""
    host = host or probe_host()
    root = etree.Element("capabilities")
    h = _sub(root, "host")
    _sub(h, "uuid", host.uuid)
    cpu = _sub(h, "cpu")
    _sub(cpu, "arch", host.arch)
    _sub(cpu, "model", host_cpu_model(caps, host))
    if host.cpu_vendor:
        _sub(cpu, "vendor", host.cpu_vendor)
    _sub(
        cpu, "topology", sockets=str(host.sockets), dies="1", cores=str(host.cores), threads=str(host.threads)
    )
    _sub(cpu, "pages", unit="KiB", size="4")
    if "pse" in host.cpu_flags or not host.cpu_flags:
        _sub(cpu, "pages", unit="KiB", size="2048")
    if "pdpe1gb" in host.cpu_flags:
        _sub(cpu, "pages", unit="KiB", size="1048576")
    _sub(h, "iommu", support="yes" if Path("/sys/kernel/iommu_groups").is_dir() and
         any(Path("/sys/kernel/iommu_groups").iterdir()) else "no")  # fmt: skip
    if cells:
        _topology(h, cells)
    sec = _sub(h, "secmodel")
    _sub(sec, "model", "none")
    _sub(sec, "doi", "0")
    for arch in ("i686", "x86_64"):
        _guest(root, caps, kvm, arch)
    return _serialize(root)


def _topology(host: etree._Element, cells: list[dict[str, Any]]) -> None:
    """<topology><cells>: virCapabilitiesHostNUMAFormat."""
    top = _sub(_sub(host, "topology"), "cells", num=str(len(cells)))
    for cell in cells:
        el = _sub(top, "cell", id=str(cell["id"]))
        _sub(el, "memory", str(cell["memory"]), unit="KiB")
        for size, count in cell["pages"]:
            _sub(el, "pages", str(count), unit="KiB", size=str(size))
        if cell["distances"]:
            dist = _sub(el, "distances")
            for sibling, value in cell["distances"]:
                _sub(dist, "sibling", id=str(sibling), value=str(value))
        cpus = _sub(el, "cpus", num=str(len(cell["cpus"])))
        for cpu in cell["cpus"]:
            _sub(cpus, "cpu", id=str(cpu["id"]), socket_id=str(cpu["socket_id"]), die_id=str(cpu["die_id"]),
                 core_id=str(cpu["core_id"]), siblings=str(cpu["siblings"]))


def _enum(parent: etree._Element, name: str, values: list[str]) -> None:
    e = _sub(parent, "enum", name=name)
    for v in values:
        _sub(e, "value", v)


def ovmf_loaders(ovmf_dir: Path = OVMF_DIR) -> list[str]:
    """UEFI firmware code images installed on the host (Debian's ovmf package layout)."""
    if not ovmf_dir.is_dir():
        return []
    return sorted(str(p) for p in ovmf_dir.glob("OVMF_CODE*.fd"))


def _video_models(caps: EmulatorCaps) -> list[str]:
    table = [("vga", "VGA"), ("cirrus", "cirrus-vga"), ("vmvga", "vmware-svga"), ("qxl", "qxl-vga"),
             ("virtio", "virtio-vga"), ("bochs", "bochs-display"), ("ramfb", "ramfb")]  # fmt: skip
    return [name for name, dev in table if caps.has_device(dev)] + ["none"]


class DomainCapsRefused(ValueError):
    """A domcapabilities request libvirt refuses as "invalid argument" (a machine or accelerator
    this emulator lacks): its own class, so that no other ValueError raised while the document is
    built (a bug) is reported to the client as its own mistake."""


def domain_capabilities_xml(
    caps: EmulatorCaps,
    kvm: KvmVerdict,
    machine: str | None = None,
    arch: str = "x86_64",
    virttype: str = "qemu",
    ovmf_dir: Path = OVMF_DIR,
    host_model: Any = None,
) -> str:
    """``virsh domcapabilities``: what a domain of ``virttype`` on ``machine`` may use;
    `host_model` (a :class:`pyvirt.cpudef.CpuDef`) is the CPU a host-model guest gets.

    Raises DomainCapsRefused for a machine the emulator lacks or ``kvm`` when KVM is unusable,
    as libvirt refuses those requests.
    """
    if virttype not in ("qemu", "kvm"):
        raise DomainCapsRefused(f"unknown virttype: {virttype}")
    if virttype == "kvm" and not kvm.usable:
        raise DomainCapsRefused(f"the accel 'kvm' is not supported by '{caps.binary}' on this host")
    mt = caps.machine(machine or caps.default_machine or "pc")
    if mt is None:
        raise DomainCapsRefused(f"the machine '{machine}' is not supported by emulator '{caps.binary}'")
    q35 = "q35" in mt.name
    root = etree.Element("domainCapabilities")
    _sub(root, "path", caps.binary)
    _sub(root, "domain", virttype)
    _sub(root, "machine", mt.name)
    _sub(root, "arch", arch)
    _sub(root, "vcpu", max=str(mt.cpu_max))
    _sub(root, "iothreads", supported="yes")

    loaders = ovmf_loaders(ovmf_dir)
    os_el = _sub(root, "os", supported="yes")
    _enum(os_el, "firmware", ["bios", "efi"] if loaders else ["bios"])
    loader = _sub(os_el, "loader", supported="yes")
    for path in loaders:
        _sub(loader, "value", path)
    _enum(loader, "type", ["rom", "pflash"])
    _enum(loader, "readonly", ["yes", "no"])
    _enum(loader, "secure", ["yes", "no"] if q35 and any("secboot" in p for p in loaders) else ["no"])

    cpu = _sub(root, "cpu")
    hp = _sub(cpu, "mode", name="host-passthrough", supported="yes" if virttype == "kvm" else "no")
    if virttype == "kvm":
        _enum(hp, "hostPassthroughMigratable", ["on", "off"])
    mx = _sub(cpu, "mode", name="maximum", supported="yes")
    _enum(mx, "maximumMigratable", ["on", "off"])
    hm = _sub(cpu, "mode", name="host-model", supported="yes" if host_model is not None else "no")
    if host_model is not None:
        _sub(hm, "model", host_model.model, fallback="forbid")
        if host_model.vendor:
            _sub(hm, "vendor", host_model.vendor)
        for name, policy in host_model.features:
            _sub(hm, "feature", policy=policy, name=name)
    custom = _sub(cpu, "mode", name="custom", supported="yes")
    for m in caps.cpu_models:
        attrs = {"usable": "yes" if m.usable else "no"}
        if m.deprecated:
            attrs["deprecated"] = "yes"
        attrs["vendor"] = cpu_model_vendor(m.name)
        _sub(custom, "model", m.name, **attrs)

    mb = _sub(root, "memoryBacking", supported="yes")
    _enum(mb, "sourceType", ["file", "anonymous", "memfd"])

    dev = _sub(root, "devices")
    disk = _sub(dev, "disk", supported="yes")
    _enum(disk, "diskDevice", ["disk", "cdrom", "floppy", "lun"])
    buses = (
        ["fdc", "scsi", "virtio", "usb", "sata"] if q35 else ["ide", "fdc", "scsi", "virtio", "usb", "sata"]
    )
    _enum(disk, "bus", buses)
    _enum(disk, "model", ["virtio", "virtio-transitional", "virtio-non-transitional"])
    gfx = _sub(dev, "graphics", supported="yes")
    _enum(gfx, "type", ["vnc"] + (["spice"] if caps.has_device("qxl-vga") else []) + ["egl-headless"])
    video = _sub(dev, "video", supported="yes")
    _enum(video, "modelType", _video_models(caps))
    hd = _sub(dev, "hostdev", supported="yes")
    _enum(hd, "mode", ["subsystem"])
    _enum(hd, "startupPolicy", ["default", "mandatory", "requisite", "optional"])
    _enum(hd, "subsysType", ["usb", "pci", "scsi"])
    _enum(hd, "capsType", [])
    _enum(hd, "pciBackend", ["default", "vfio"])
    rng = _sub(dev, "rng", supported="yes")
    _enum(rng, "model", ["virtio", "virtio-transitional", "virtio-non-transitional"])
    _enum(rng, "backendModel", ["random", "egd", "builtin"])
    fs = _sub(dev, "filesystem", supported="yes")
    _enum(fs, "driverType", ["path", "handle", "virtiofs"])
    tpm_models = [n for n, d in (("tpm-tis", "tpm-tis"), ("tpm-crb", "tpm-crb")) if caps.has_device(d)]
    tpm = _sub(dev, "tpm", supported="yes" if tpm_models else "no")
    if tpm_models:
        _enum(tpm, "model", tpm_models)
        _enum(tpm, "backendModel", ["passthrough", "emulator"])

    feats = _sub(root, "features")
    _sub(feats, "gic", supported="no")
    _sub(feats, "vmcoreinfo", supported="yes" if caps.has_device("vmcoreinfo") else "no")
    _sub(feats, "genid", supported="yes" if caps.has_device("vmgenid") else "no")
    _sub(feats, "backingStoreInput", supported="yes")
    _sub(feats, "backup", supported="yes")
    _sub(feats, "sev", supported="no")
    return _serialize(root)
