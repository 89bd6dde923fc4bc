"""How libvirt 9.0 stores and writes back tunables, security labels and a few device defaults
(the fifth xml2xml round, each rule found on a probe defined in the real libvirt 9.0 and
dumped): what virsh define then dumpxml gives, which pyvirt's define must give too.

Shared by both of pyvirt's parsers (the QEMU driver's :func:`pyvirt.xml.defaults.fill_defaults`
and the test driver's :func:`pyvirt.xml.generic_defaults.fill_generic_defaults`): these are
libvirt's generic parser and formatter (virDomainCputuneDefFormat, virDomainMemtuneFormat,
virSecurityLabelDefParseXML/Format, virDomainTPMDefParseXML)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from .tunables import UNLIMITED
from .validate import parse_cpuset

if TYPE_CHECKING:
    from .domain import Domain

#: virDomainTPMDefParseXML's passthrough device when none is named
DEFAULT_TPM_DEVICE = "/dev/tpm0"


def apply_format_rules(dom: Domain) -> None:
    """Bring ``dom`` to the form libvirt keeps after a define."""
    cputune_order(dom)
    memtune_limits(dom)
    seclabel_rules(dom)
    for disk in dom.devices.disks:
        layer = disk
        while layer is not None:
            layer.source_seclabels = image_seclabels(layer.source_seclabels)
            layer = layer.backing_store
    parse_only_when_used(dom)
    for audio in dom.devices.audios:  # virDomainAudioCommonFormat: fixed settings, written even if empty
        for io in (audio.input, audio.output):
            if io is not None:
                io.settings = bool(io.fixed_settings)
    for tpm in dom.devices.tpms:
        if tpm.backend_type == "passthrough" and not tpm.backend_device_path:
            tpm.backend_device_path = DEFAULT_TPM_DEVICE
    empty_elements_dropped(dom)


def empty_elements_dropped(dom: Domain) -> None:
    """libvirt writes these through a child buffer that it leaves out when nothing is in it: a
    disk's ``<iotune>`` with no value set (``<iotune/>``, or one whose only value was an empty
    element, read as none), and an SMM ``<tseg>`` without a size (its unit alone is not kept:
    virDomainParseScaledValue found no size)."""
    for disk in dom.devices.disks:
        tune = disk.iotune
        if tune is not None and all(getattr(tune, f.name) in (None, 0, "")
                                    for f in dataclasses.fields(tune) if f.name != "line"):
            disk.iotune = None
    if dom.features is not None and dom.features.smm_tseg is None:
        dom.features.smm_tseg_unit = None


def cputune_order(dom: Domain) -> None:
    """libvirt keeps pinning and scheduling per thread (in its vCPU array and iothread list) and
    writes them back thread by thread: ``<vcpupin>`` by vCPU id, ``<iothreadpin>`` in
    ``<iothreadids>`` order, and one ``<vcpusched>``/``<iothreadsched>`` per thread (libvirt 9.0
    writes ``vcpus='0-1'`` back as ``vcpus='0'`` and ``vcpus='1'``)."""
    from .domain import ThreadSched

    tune = dom.cputune
    if tune is None:
        return
    tune.vcpupins.sort(key=lambda p: p.vcpu if p.vcpu is not None else -1)
    order = {t.id: n for n, t in enumerate(dom.iothread_ids)}
    tune.iothreadpins.sort(key=lambda p: order.get(p.iothread, len(order)))

    def per_thread(scheds: list[ThreadSched], ids: str, key: dict[int, int] | None) -> list[ThreadSched]:
        out: list[tuple[int, ThreadSched]] = []
        for s in scheds:
            text = getattr(s, ids)
            if not text:
                return scheds  # refused by validation; left as written
            for n in parse_cpuset(text, s.line):
                one = ThreadSched(scheduler=s.scheduler, priority=s.priority, line=s.line)
                setattr(one, ids, str(n))
                out.append((key.get(n, len(key)) if key is not None else n, one))
        return [s for _, s in sorted(out, key=lambda pair: pair[0])]

    tune.vcpuscheds = per_thread(tune.vcpuscheds, "vcpus", None)
    tune.iothreadscheds = per_thread(tune.iothreadscheds, "iothreads", order)


def memtune_limits(dom: Domain) -> None:
    """virDomainParseMemoryLimit: a limit of VIR_DOMAIN_MEMORY_PARAM_UNLIMITED KiB is "unlimited",
    which virDomainMemtuneFormat leaves out (a ``<memtune>`` left empty is not written)."""
    tune = dom.memtune
    if tune is None:
        return
    for name in ("hard_limit", "soft_limit", "swap_hard_limit"):
        if getattr(tune, name) is not None and getattr(tune, name) >= UNLIMITED:
            setattr(tune, name, None)
    if tune.hard_limit is None and tune.soft_limit is None and tune.swap_hard_limit is None \
            and tune.min_guarantee is None:
        dom.memtune = None


def seclabel_rules(dom: Domain) -> None:
    """virSecurityLabelDefParseXML with VIR_DOMAIN_DEF_PARSE_INACTIVE, then its formatter: a label
    without ``type`` is the driver's default and is not kept; ``relabel`` is always written for
    a dynamic (default yes) or static (default no) label; a dynamic label's ``<label>`` and
    ``<imagelabel>`` and a static one's ``<imagelabel>`` and ``<baselabel>`` are live-only
    (not read back into a definition); model ``none`` is ``type='none'``."""
    kept = []
    for label in dom.seclabels:
        if label.type is None:
            continue
        if label.model == "none":
            label.type = "none"
        if label.type == "none":
            label.relabel = None
            label.label = label.imagelabel = label.baselabel = None
        elif label.type == "dynamic":
            label.relabel = True if label.relabel is None else label.relabel
            label.label = label.imagelabel = None
        else:
            label.relabel = False if label.relabel is None else label.relabel
            label.imagelabel = label.baselabel = None
        kept.append(label)
    dom.seclabels = kept


def image_seclabels(labels: list) -> list:
    """virSecurityDeviceLabelDefParseXML/Format for a definition: ``labelskip`` is a running
    guest's (not read), and a label that relabels without naming a label says nothing, so it
    is not written (``<seclabel model='dac'/>``, ``<seclabel relabel='yes'/>``); ``relabel`` is
    always written on the others."""
    kept = [label for label in labels if label.relabel is False or label.label]
    for label in kept:
        label.labelskip = None
        label.relabel = label.relabel is not False  # written yes or no (labelskip aside)
    return kept


def parse_only_when_used(dom: Domain) -> None:
    """What libvirt's parser reads only where it has an effect, so a define drops it: the boot
    menu's timeout of a disabled menu, the model of a ``host-passthrough`` CPU, ``match`` off a
    custom CPU, a disabled Hyper-V stimer's ``<direct>``, a zero TCG cache size, the value of a
    fw_cfg entry read from a file, the address of ``<memballoon model='none'>``, and a
    ``<cputune>`` left with nothing (its pins all named vCPUs that do not exist)."""
    if dom.os is not None and dom.os.bootmenu_enable is False:
        dom.os.bootmenu_timeout = None
    cpu = dom.cpu
    if cpu is not None and cpu.mode == "host-passthrough":
        cpu.model = None
    if cpu is not None and cpu.mode in ("host-model", "host-passthrough", "maximum"):
        cpu.match = None
    f = dom.features
    if f is not None and f.hv_stimer is False:
        f.hv_stimer_direct = None
    if f is not None and f.tcg_tb_cache == 0:
        f.tcg_tb_cache = None
    for info in dom.sysinfos:
        for e in info.fw_cfgs if info.type == "fwcfg" else []:
            if e.file:
                e.value = None
    for disk in dom.devices.disks:  # virDomainDiskDefFormat: the geometry only when complete
        if not (disk.geometry_cyls and disk.geometry_heads and disk.geometry_secs):
            disk.geometry_cyls = disk.geometry_heads = disk.geometry_secs = disk.geometry_trans = None
    for c in dom.devices.controllers:  # only the root buses have a 64-bit PCI hole
        if not (c.type == "pci" and c.model in ("pci-root", "pcie-root")):
            c.pcihole64 = None
    for h in dom.devices.hostdevs:  # read for SCSI host devices only
        if h.type != "scsi":
            h.readonly = h.shareable = False
    for snd in dom.devices.sounds:  # codecs of the HDA models only
        if snd.model not in ("ich6", "ich7", "ich9"):
            snd.codecs = []
    order = ("main", "display", "inputs", "cursor", "playback", "record", "smartcard", "usbredir")
    for g in dom.devices.graphics:  # one mode per SPICE channel, the last given, in libvirt's order
        last = {ch.name: ch for ch in g.channels}
        g.channels = sorted(last.values(), key=lambda ch: order.index(ch.name) if ch.name in order else len(order))
    mb = dom.devices.memballoon
    if mb is not None and mb.model == "none":
        mb.address = None
    tune = dom.cputune
    if tune is not None and all(v is None or v == [] for k, v in vars(tune).items() if k != "line"):
        dom.cputune = None
    if f is not None:
        from .defaults import _says_nothing  # noqa: PLC0415 - defaults imports this module

        if _says_nothing(f):
            dom.features = None
