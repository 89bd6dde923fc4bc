"""virDomainGetXMLDesc's VIR_DOMAIN_XML_UPDATE_CPU and VIR_DOMAIN_XML_MIGRATABLE for the QEMU
driver (virsh dumpxml --update-cpu / --migratable), on a copy of the definition being dumped.

libvirt's qemuDomainDefFormatBufInternal copies the definition (a format and re-parse:
virDomainDefCopy, which puts the controllers back in its insertion order), then:

* UPDATE_CPU: virCPUUpdate against the host-model CPU the hypervisor offers (the one
  domcapabilities shows): a host-model CPU, or a custom one matched 'minimum', becomes that
  model with its features (the guest's own features set over them), mode 'custom', match
  'exact'; a custom CPU's 'optional' features become 'require' where that CPU has them, else
  'disable'; host-passthrough, maximum and other custom CPUs are kept.
* MIGRATABLE: the defaults older libvirt added without writing them are dropped so an older
  destination reads the document: the only USB controller when it is the default one (index 0,
  piix3-uhci or no model), the only PCI controller when it is a plain pci-root, a panic device
  of the default model, the PS/2 keyboard every x86 guest has, the single audio backend the
  display chose by default, and socket paths libvirt generated for virtio channels.  (Measured
  against libvirt 9.0's session daemon: tests/unit/test_xmlflags.py.)
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.xml.domain import Audio, Domain, is_user_alias


def formatted_copy(dom: Domain, *, update_cpu: bool, migratable: bool, host_model: Any = None,
                   cpu_map: Any = None) -> Domain:
    """The definition as dumpxml prints it under the flags.  `host_model` is the host-model CPU
    (a :class:`pyvirt.cpudef.CpuDef`, None where the hypervisor offers none) and `cpu_map` the
    CPU map its features are read with; both only matter for `update_cpu`."""
    from pyvirt.xml.parse import parse_order

    out = copy.deepcopy(dom)
    parse_order(out)  # virDomainDefCopy re-parses: libvirt's controller order
    if update_cpu and out.cpu is not None and (out.cpu.mode not in (None, "custom") or out.cpu.model):
        update_guest_cpu(out.cpu, host_model, cpu_map)
    if migratable:
        strip_for_migration(out)
    return out


def update_guest_cpu(cpu: Any, host: Any, cmap: Any) -> None:
    """virCPUUpdate (x86): see the module docstring.  `cpu` is the domain's ``<cpu>`` model."""
    if cpu.mode in ("host-passthrough", "maximum"):
        return
    optional = any(f.policy == "optional" for f in cpu.features)
    expand = cpu.mode == "host-model" or cpu.match == "minimum"
    if not expand and not optional:
        return
    if host is None:
        raise PyvirtError("unsupported configuration: unknown host CPU model", ErrorCode.CONFIG_UNSUPPORTED,
                          ErrorDomain.CPU)
    from pyvirt.cpucompute import features_of

    have = features_of(cmap, host)
    for f in cpu.features:
        if f.policy == "optional":
            f.policy = "require" if f.name in have else "disable"
    if not expand:
        return
    from pyvirt.xml.domain import CPUFeature

    features = [CPUFeature(policy=policy, name=name) for name, policy in host.features]
    for own in cpu.features:  # virCPUDefUpdateFeature: in place where the model lists it, else added
        same = next((f for f in features if f.name == own.name), None)
        if same is not None:
            same.policy = own.policy
        else:
            features.append(CPUFeature(policy=own.policy, name=own.name))
    if cpu.mode == "host-model":  # a custom CPU keeps its own vendor (virCPUDefStealModel)
        cpu.vendor = host.vendor
    cpu.model, cpu.features = host.model, features
    cpu.mode, cpu.match = "custom", "exact"
    cpu.model_fallback = cpu.model_fallback or "allow"


def _user_alias(dev: Any) -> bool:
    return is_user_alias(dev.alias)


def _only(devices: list, kind: str) -> Any:
    found = [c for c in devices if c.type == kind]
    return found[0] if len(found) == 1 else None


def strip_for_migration(dom: Domain) -> None:
    """The MIGRATABLE rules of the module docstring, on `dom` itself."""
    from pyvirt.xml.defaults import default_audio, drop_generated_channel_path

    devs = dom.devices
    usb, pci = _only(devs.controllers, "usb"), _only(devs.controllers, "pci")
    drop = []
    if usb is not None and (usb.index or 0) == 0 and usb.model in (None, "piix3-uhci") and not _user_alias(usb):
        drop.append(usb)
    if pci is not None and (pci.index or 0) == 0 and pci.model == "pci-root" and not _user_alias(pci) \
            and not pci.pcihole64:
        drop.append(pci)
    devs.controllers = [c for c in devs.controllers if all(c is not d for d in drop)]
    panic = next((p for p in devs.panics if p.model in (None, "s390")), None)
    if panic is not None:
        devs.panics.remove(panic)
    devs.inputs = [i for i in devs.inputs if not (i.type == "keyboard" and i.bus == "ps2" and not _user_alias(i))]
    default = default_audio(devs.graphics)
    if len(devs.audios) == 1 and default is not None and _is_plain(devs.audios[0], Audio(id=1, type=default)):
        devs.audios = []
    for ch in devs.channels:
        drop_generated_channel_path(ch)


def _is_plain(audio: Audio, plain: Audio) -> bool:
    """`audio` says nothing `plain` does not (its line number aside)."""
    return all(getattr(audio, f.name) == getattr(plain, f.name)
               for f in dataclasses.fields(Audio) if f.name != "line")
