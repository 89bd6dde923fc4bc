"""A ``<cpu>`` description as libvirt reads and writes it for the CPU calls (virCPUDefParseXML,
virCPUDefFormat): cpu-baseline, cpu-compare and their hypervisor variants.

A description is a *host* CPU (it names an ``<arch>``: every feature is simply present) or a
*guest* CPU (a ``mode``/``match``, features with a ``policy``).  The errors are libvirt's, word
for word, since scripts compare them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.cpumodels import ARCHES
from pyvirt.xml.escape import escape_xml

MODES = ("custom", "host-model", "host-passthrough", "maximum")
MATCHES = ("minimum", "exact", "strict")
POLICIES = ("force", "require", "optional", "disable", "forbid")
#: a host CPU's features carry no policy: each is present
PRESENT = "require"


def cpu_error(message: str, code: int = ErrorCode.XML_ERROR) -> PyvirtError:
    prefix = {ErrorCode.XML_ERROR: "XML error: ", ErrorCode.CONFIG_UNSUPPORTED: "unsupported configuration: ",
              ErrorCode.INTERNAL_ERROR: "internal error: ", ErrorCode.OPERATION_FAILED: "operation failed: ",
              ErrorCode.INVALID_ARG: "invalid argument: ",
              ErrorCode.NO_SUPPORT: "this function is not supported by the connection driver: "}.get(code, "")
    return PyvirtError(prefix + message, code, ErrorDomain.CPU)


@dataclass
class CpuDef:
    """One CPU: `host` says which kind; `features` keep their order (name, policy)."""

    host: bool
    arch: str | None = None
    model: str | None = None
    vendor: str | None = None
    mode: str = "custom"
    match: str | None = None
    fallback: str = "allow"
    features: list[tuple[str, str]] = field(default_factory=list)

    def policy_set(self, policy: str) -> set[str]:
        return {n for n, p in self.features if p == policy}


def parse_cpu(xml: str, kind: str = "auto") -> CpuDef:
    """virCPUDefParseXML for ``kind`` "auto" (a host CPU when it names an arch, else a guest
    CPU), "host" (libvirt's baseline reads every input as one) or "guest"."""
    from pyvirt.xml import safe_parse
    from pyvirt.xml.errors import XMLError
    from pyvirt.xml.libxml_report import URLS

    if not xml:
        raise cpu_error("missing CPU definition", ErrorCode.INVALID_ARG)
    try:
        root = safe_parse(xml, URLS["cpu"])
    except XMLError as exc:
        raise cpu_error(getattr(exc, "report", None) or f"(CPU_definition): {exc.message}") from None
    if root.tag != "cpu":
        raise cpu_error("XML does not contain expected 'cpu' element")

    def text(path: str) -> str | None:
        return str(root.xpath(f"string(./{path}[1])")) or None

    has_arch = root.find("arch") is not None
    if kind == "auto":
        if has_arch and root.get("match") is not None:
            raise cpu_error("'arch' element cannot be used inside 'cpu' element with 'match' attribute'")
        host = has_arch
    else:
        host = kind == "host"
    cpu = CpuDef(host=host)
    mode = root.get("mode")
    if mode is not None:
        if host:
            raise cpu_error("Attribute mode is only allowed for guest CPU", ErrorCode.CONFIG_UNSUPPORTED)
        if mode not in MODES:
            raise cpu_error(f"Invalid mode attribute '{mode}'", ErrorCode.CONFIG_UNSUPPORTED)
        cpu.mode = mode
    if not host:
        match = root.get("match")
        if match is None:
            cpu.match = "exact" if root.find("model") is not None else None
        elif match not in MATCHES:
            raise cpu_error(f"Invalid value for attribute 'match' in element 'cpu': '{match}'.")
        else:
            cpu.match = match
    if host:
        cpu.arch = text("arch")
        if cpu.arch is None:
            raise cpu_error("Missing CPU architecture")
        if cpu.arch not in ARCHES:
            raise cpu_error(f"Unknown architecture {cpu.arch}", ErrorCode.CONFIG_UNSUPPORTED)
    cpu.model = text("model")
    if cpu.model is None and host:
        raise cpu_error("Missing CPU model name")
    model_el = root.find("model")
    if not host and model_el is not None and model_el.get("fallback") is not None:
        if model_el.get("fallback") not in ("allow", "forbid"):
            raise cpu_error("Invalid fallback attribute")
        cpu.fallback = model_el.get("fallback") or "allow"
    cpu.vendor = text("vendor")
    if cpu.vendor is not None and cpu.model is None:
        raise cpu_error("CPU vendor specified without CPU model")
    nodes = root.findall("feature")
    if nodes and cpu.model is None and cpu.mode != "host-model":
        raise cpu_error("Non-empty feature list specified without CPU model")
    seen: set[str] = set()
    for node in nodes:
        policy = PRESENT
        if not host:
            policy = node.get("policy", "require")
            if policy not in POLICIES:
                raise cpu_error("Invalid CPU feature policy", ErrorCode.CONFIG_UNSUPPORTED)
        name = node.get("name")
        if not name:
            raise cpu_error("Invalid CPU feature name")
        if name in seen:
            raise cpu_error(f"CPU feature '{name}' specified more than once")
        seen.add(name)
        cpu.features.append((name, policy))
    return cpu


def format_cpu(cpu: CpuDef) -> str:
    """virCPUDefFormat of a computed guest CPU (what the baseline calls return)."""
    lines = [f"<cpu mode='{cpu.mode}' match='{cpu.match or 'exact'}'>"]
    if cpu.model:
        lines.append(f"  <model fallback='{cpu.fallback}'>{escape_xml(cpu.model)}</model>")
    if cpu.vendor:
        lines.append(f"  <vendor>{escape_xml(cpu.vendor)}</vendor>")
    lines += [f"  <feature policy='{p}' name='{escape_xml(n)}'/>" for n, p in cpu.features]
    return "\n".join([*lines, "</cpu>"]) + "\n"
