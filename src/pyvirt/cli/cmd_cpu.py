"""CPU baseline and comparison: cpu-baseline, cpu-compare, hypervisor-cpu-baseline,
hypervisor-cpu-compare.

virsh finds the CPU descriptions in the file itself (vshExtractCPUDefXMLs): bare ``<cpu>``
elements, or the CPU inside a domain, a host capabilities or a domain capabilities document
(its host-model), and hands each to the driver as its own document.
"""

from __future__ import annotations

from pyvirt.cli.cmd_lifecycle import read_file
from pyvirt.cli.context import CmdError, Ctl, failing
from pyvirt.cli.grammar import Parsed

#: where virsh looks for CPUs in a file
_CPU_PATHS = ("/container/cpu|/container/domain/cpu|/container/capabilities/host/cpu|"
              "/container/domainCapabilities/cpu/mode[@name='host-model' and @supported='yes']")

#: virCPUCompareResult -> (what cpu-compare prints, what hypervisor-cpu-compare prints)
_VERDICTS = {
    0: ("CPU described in {} is incompatible with host CPU\n",
        "CPU described in {} is incompatible with the CPU provided by hypervisor on the host\n"),
    1: ("CPU described in {} is identical to host CPU\n",
        "CPU described in {} is identical to the CPU provided by hypervisor on the host\n"),
    2: ("Host CPU is a superset of CPU described in {}\n",
        "The CPU provided by hypervisor on the host is a superset of CPU described in {}\n"),
}


def extract_cpus(path: str) -> list[str]:
    """vshExtractCPUDefXMLs: each CPU description in the file, as a document of its own."""
    from lxml import etree

    from pyvirt.xml import safe_parse
    from pyvirt.xml.errors import XMLError

    text = read_file(path)
    if text.startswith("<?xml") and "?>" in text:
        text = text[text.index("?>") + 2:]
    try:
        root = safe_parse(f"<container>{text}</container>", path)
    except XMLError as exc:
        raise CmdError(getattr(exc, "report", None) or f"XML error: {path}: {exc.message}") from None
    nodes = root.xpath(_CPU_PATHS)
    if not nodes:
        raise CmdError(f"File '{path}' does not contain any <cpu> element or valid domain XML, host "
                       "capabilities XML, or domain capabilities XML")
    out = []
    for node in nodes:
        if node.tag == "mode":  # a domain capabilities' host-model: a <cpu> without attributes
            node.tag = "cpu"
            node.attrib.clear()
        out.append(etree.tostring(node, encoding="unicode", with_tail=False))
    return out


def _flags(p: Parsed, *names: str) -> dict[str, bool]:
    return {kw: p.bool(opt) for opt, kw in (n.split(":") for n in names)}


def cmd_cpu_baseline(ctl: Ctl, p: Parsed) -> bool:
    cpus = extract_cpus(p.str("file") or "")
    ctl.print(ctl.conn.baseline_cpu(cpus, **_flags(p, "features:expand_features", "migratable:migratable")))
    return True


def _hv(p: Parsed) -> dict[str, str | None]:
    """The hypervisor's options, read (an empty one refused) in virsh's order."""
    return {name: p.str(name) for name in ("virttype", "emulator", "arch", "machine")}


def cmd_hypervisor_cpu_baseline(ctl: Ctl, p: Parsed) -> bool:
    # virsh reads every option (file, the hypervisor's, model) before it checks or opens any
    path = p.str("file")
    hv = _hv(p)
    model = p.str("model")
    if path is not None and model is not None:
        raise CmdError("Options --file and --model are mutually exclusive")
    if path is not None:
        cpus = extract_cpus(path)
    elif model is not None:
        cpus = [f"<cpu><model>{model}</model></cpu>"]
    else:
        raise CmdError("Either --file or --model must be provided")
    ctl.print(ctl.conn.baseline_hypervisor_cpu(
        cpus, **hv, **_flags(p, "features:expand_features", "migratable:migratable")))
    return True


def _compare(ctl: Ctl, p: Parsed, hypervisor: bool) -> bool:
    path = p.str("file") or ""
    hv = _hv(p) if hypervisor else {}  # read before the file is, as virsh does
    cpu = extract_cpus(path)[0]
    flags = _flags(p, "error:fail_incompatible", "validate:validate")
    with failing(f"Failed to compare {'hypervisor' if hypervisor else 'host'} CPU with {path}"):
        if hypervisor:
            result = ctl.conn.compare_hypervisor_cpu(cpu, **hv, **flags)
        else:
            result = ctl.conn.compare_cpu(cpu, **flags)
    if result not in _VERDICTS:
        raise CmdError(f"Failed to compare {'hypervisor' if hypervisor else 'host'} CPU with {path}")
    ctl.print(_VERDICTS[result][hypervisor].format(path))
    return result != 0


def cmd_cpu_compare(ctl: Ctl, p: Parsed) -> bool:
    return _compare(ctl, p, False)


def cmd_hypervisor_cpu_compare(ctl: Ctl, p: Parsed) -> bool:
    return _compare(ctl, p, True)
