"""Host capabilities and domain capabilities, as virt-install reads them.

Only what the XML defaults need: which guest (os type, arch, domain type, emulator,
machines) a request resolves to, and from domcaps whether EFI firmware, a TPM emulator,
and which loader paths are available.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from pyvirt.xml.safe import safe_parse


@dataclass
class Machine:
    name: str
    canonical: str | None = None


@dataclass
class CapsDomain:
    type: str
    emulator: str | None
    machines: list[Machine]


@dataclass
class CapsGuest:
    os_type: str
    arch: str
    emulator: str | None
    loader: str | None
    machines: list[Machine]
    domains: list[CapsDomain]
    features: list[str] = field(default_factory=list)

    def all_machine_names(self, domain: CapsDomain | None) -> list[str]:
        """Machine names plus canonical aliases, without duplicates (virtinst's order)."""
        mobjs = (domain and domain.machines) or self.machines
        out: list[str] = []
        for m in mobjs:
            out.append(m.name)
            if m.canonical and m.canonical not in out:
                out.append(m.canonical)
        return out


@dataclass
class CapsInfo:
    """The resolved guest/domain pair for one install request."""

    guest: CapsGuest
    domain: CapsDomain

    @property
    def hypervisor_type(self) -> str:
        return self.domain.type

    @property
    def os_type(self) -> str:
        return self.guest.os_type

    @property
    def arch(self) -> str:
        return self.guest.arch

    @property
    def emulator(self) -> str | None:
        return self.domain.emulator or self.guest.emulator

    @property
    def machines(self) -> list[str]:
        return self.guest.all_machine_names(self.domain)

    def is_machine_alias(self, src: str, tgt: str) -> bool:
        mobjs = self.domain.machines or self.guest.machines
        return any(m.name == src and m.canonical == tgt for m in mobjs)


def _machines(node: etree._Element) -> list[Machine]:
    return [Machine((m.text or "").strip(), m.get("canonical")) for m in node.findall("machine")]


@dataclass
class Capabilities:
    host_arch: str
    guests: list[CapsGuest] = field(default_factory=list)
    secmodels: list[str] = field(default_factory=list)
    # The host CPU's model name (libvirt's cpu_map naming): --cpu host-copy copies it.
    host_cpu_model: str | None = None

    @classmethod
    def parse(cls, xml: str) -> Capabilities:
        root = safe_parse(xml)
        caps = cls(host_arch=root.findtext("host/cpu/arch", "").strip())
        caps.secmodels = [m.text or "" for m in root.findall("host/secmodel/model")]
        caps.host_cpu_model = (root.findtext("host/cpu/model") or "").strip() or None
        for g in root.findall("guest"):
            arch = g.find("arch")
            if arch is None:
                continue
            domains = [CapsDomain(d.get("type", ""), d.findtext("emulator"), _machines(d))
                       for d in arch.findall("domain")]
            caps.guests.append(CapsGuest(
                os_type=g.findtext("os_type", "").strip(), arch=arch.get("name", ""),
                emulator=arch.findtext("emulator"), loader=arch.findtext("loader"),
                machines=_machines(arch), domains=domains,
                features=[f.tag for f in g.findall("features/*")]))
        return caps

    def _guest_for(self, os_type: str | None, arch: str | None) -> CapsGuest | None:
        archs = [arch] if arch else [self.host_arch, None]
        for a in archs:
            for g in self.guests:
                if (os_type is None or g.os_type == os_type) and (a is None or g.arch == a):
                    return g
        return None

    @staticmethod
    def _best_domain(guest: CapsGuest, dtype: str | None, machine: str | None) -> CapsDomain | None:
        domains = [d for d in guest.domains
                   if (not dtype or d.type == dtype.lower())
                   and (not machine or machine in guest.all_machine_names(d))]
        if not domains:
            return None
        for pref in ("kvm", "xen", "qemu"):
            for d in domains:
                if d.type == pref:
                    return d
        return domains[-1]

    def lookup(self, os_type: str | None = None, arch: str | None = None,
               typ: str | None = None, machine: str | None = None) -> CapsInfo:
        """virtinst's guest_lookup, with its error messages."""
        if os_type == "linux":
            os_type = "xen"
        guest = self._guest_for(os_type, arch)
        if guest is None:
            if arch and os_type:
                msg = (f"Host does not support virtualization type '{os_type}' "
                       f"for architecture '{arch}'")
            elif arch:
                msg = f"Host does not support any virtualization options for architecture '{arch}'"
            elif os_type:
                msg = f"Host does not support virtualization type '{os_type}'"
            else:
                msg = "Host does not support any virtualization options"
            raise ValueError(msg)
        domain = self._best_domain(guest, typ, machine)
        if domain is None:
            if machine:
                msg = (f"Host does not support domain type {typ} with machine '{machine}' for "
                       f"virtualization type '{guest.os_type}' with architecture '{guest.arch}'")
            else:
                msg = (f"Host does not support domain type {typ} for virtualization type "
                       f"'{guest.os_type}' with architecture '{guest.arch}'")
            raise ValueError(msg)
        return CapsInfo(guest, domain)


# The CPU flags virt-install counts as speculative-execution mitigations
# (virtinst.domcapabilities._lookup_cpu_security_features).
SECURITY_FEATURES = ("spec-ctrl", "ssbd", "ibpb", "virt-ssbd", "md-clear")


def _model_security_features(model: str) -> set[str]:
    """Mitigation flags a named x86 CPU model already includes in libvirt's cpu_map.

    virt-install asks libvirt to expand the host-model CPU (baselineCPU with
    EXPAND_FEATURES), which adds the model's own features to the required ones.  pyvirt
    has no cpu_map, so this encodes the few model families whose definition carries one
    of SECURITY_FEATURES (checked against libvirt 9's x86_*.xml).
    """
    if model.endswith("-IBRS"):
        return {"spec-ctrl"}
    if model.startswith(("Cascadelake", "Cooperlake", "Icelake", "Snowridge",
                         "SapphireRapids")):
        return {"spec-ctrl", "ssbd"}
    if model in ("EPYC-IBPB", "EPYC-Rome", "EPYC-Milan", "Dhyana"):
        return {"ibpb"}
    return set()


def _cpu_security_features(root: etree._Element) -> list[str]:
    """virt-install's domcaps.get_cpu_security_features: the mitigation flags of the expanded
    host-model CPU (its model's flags plus required ones, less disabled ones), sorted as
    libvirt's expansion lists them."""
    mode = root.find("cpu/mode[@name='host-model']")
    if mode is None or mode.get("supported") != "yes":
        return []
    found = _model_security_features((mode.findtext("model") or "").strip())
    for f in mode.findall("feature"):
        name = f.get("name", "")
        if f.get("policy") in ("require", "force"):
            found.add(name)
        elif f.get("policy") in ("disable", "forbid"):
            found.discard(name)
    return sorted(found & set(SECURITY_FEATURES))


@dataclass
class DomCaps:
    """The few domain-capabilities facts virt-install's defaults consult."""

    machine: str | None = None
    arch: str | None = None
    domain: str | None = None
    path: str | None = None
    firmware_values: list[str] = field(default_factory=list)
    loader_values: list[str] = field(default_factory=list)
    loader_supported: bool = False
    tpm_models: list[str] = field(default_factory=list)
    tpm_supported: bool = False
    tpm_backends: list[str] = field(default_factory=list)
    cpu_host_model: bool = False
    cpu_host_passthrough: bool = False
    cpu_security_features: list[str] = field(default_factory=list)
    # virtinst's supports_safe_host_passthrough / supports_safe_host_model
    cpu_passthrough_safe: bool = False
    cpu_host_model_safe: bool = False
    cpu_custom_models: dict[str, str] = field(default_factory=dict)  # name -> usable
    sev: bool = False
    sev_es: bool = False
    graphics_types: list[str] = field(default_factory=list)
    graphics_supported: bool = False
    video_models: list[str] = field(default_factory=list)
    present: bool = False

    @classmethod
    def parse(cls, xml: str | None) -> DomCaps:
        if not xml:
            return cls()
        root = safe_parse(xml)

        def enum(xpath: str) -> list[str]:
            return [v.text or "" for v in root.xpath(xpath)]

        loader = root.find("os/loader")
        return cls(
            machine=root.findtext("machine"), arch=root.findtext("arch"),
            domain=root.findtext("domain"), path=root.findtext("path"),
            firmware_values=enum("os/enum[@name='firmware']/value"),
            loader_values=[v.text or "" for v in root.findall("os/loader/value")],
            loader_supported=loader is not None and loader.get("supported") == "yes",
            tpm_models=enum("devices/tpm/enum[@name='model']/value"),
            tpm_backends=enum("devices/tpm/enum[@name='backendModel']/value"),
            tpm_supported=bool(root.xpath("devices/tpm[@supported='yes']")),
            cpu_host_model=bool(root.xpath("cpu/mode[@name='host-model' and @supported='yes']")),
            cpu_host_passthrough=bool(root.xpath(
                "cpu/mode[@name='host-passthrough' and @supported='yes']")),
            cpu_security_features=_cpu_security_features(root),
            cpu_passthrough_safe=bool(root.xpath(
                "cpu/mode[@name='host-passthrough' and @supported='yes']"
                "/enum[@name='hostPassthroughMigratable']/value[text()='on']")),
            cpu_host_model_safe=(root.xpath(
                "string(cpu/mode[@name='host-model' and @supported='yes']/model[1]/@fallback)")
                == "forbid"),
            cpu_custom_models={m.text or "": m.get("usable", "") for m in root.xpath(
                "cpu/mode[@name='custom' and @supported='yes']/model")},
            sev=bool(root.xpath("features/sev[@supported='yes']")),
            sev_es=bool(root.xpath("features/sev[@supported='yes']/maxESGuests[. > 0]")),
            graphics_types=enum("devices/graphics/enum[@name='type']/value"),
            graphics_supported=bool(root.xpath("devices/graphics[@supported='yes']")),
            video_models=enum("devices/video/enum[@name='modelType']/value"),
            present=True)

    def supports_firmware_efi(self) -> bool:
        return "efi" in self.firmware_values

    def supports_tpm_emulator(self) -> bool:
        if self.arch == "armv7l" and self.tpm_models == ["tpm-tis"]:
            return False  # advertised by libvirt 8.4+ for armv7l, then refused
        return "emulator" in self.tpm_backends and bool(self.tpm_models)
