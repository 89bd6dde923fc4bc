"""NVDIMMs and virtio-pmem devices (libvirt 9.0's qemuBuildMemoryBackendProps and
qemuBuildMemoryDeviceProps): a file backend on the named host path, modules 2 MiB aligned."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

XML = """<domain type='qemu'><name>g</name><maxMemory slots='16' unit='KiB'>4194304</maxMemory>
<memory unit='KiB'>1048576</memory><vcpu>2</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>
<cpu><numa><cell id='0' cpus='0-1' memory='524288' unit='KiB'/></numa></cpu><devices>{}</devices></domain>"""


def _argv(mem: str, machine: str = "pc") -> list[str]:
    return build_argv(fill_defaults(parse_domain(XML.format(mem).replace("'pc'", f"'{machine}'"))))


def _json(argv: list[str], opt: str) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == opt and argv[i + 1].startswith("{")]


def test_nvdimm() -> None:
    argv = _argv("<memory model='nvdimm' access='shared'><source><path>/srv/nv</path><alignsize unit='KiB'>2048"
                 "</alignsize></source><target><size unit='KiB'>523264</size><node>0</node><label><size "
                 "unit='KiB'>128</size></label><readonly/></target></memory>")
    assert "nvdimm=on" in argv[argv.index("-machine") + 1]
    backend = next(o for o in _json(argv, "-object") if o["id"] == "memnvdimm0")
    assert backend == {"qom-type": "memory-backend-file", "id": "memnvdimm0", "mem-path": "/srv/nv", "share": True,
                       "prealloc": True, "align": 2097152, "size": 536870912}  # 511 MiB rounded up to 2 MiB
    dev = next(d for d in _json(argv, "-device") if d["driver"] == "nvdimm")
    assert (dev["label-size"], dev["unarmed"], dev["slot"], dev["id"]) == (131072, True, 0, "nvdimm0")


def test_real_pmem_is_not_preallocated() -> None:
    argv = _argv("<memory model='nvdimm'><source><path>/dev/pmem0</path><pmem/></source><target><size "
                 "unit='KiB'>524288</size><node>0</node></target></memory>")
    backend = next(o for o in _json(argv, "-object") if o["id"] == "memnvdimm0")
    assert backend["pmem"] is True and "prealloc" not in backend


def test_virtio_pmem_is_a_pci_device() -> None:
    argv = _argv("<memory model='virtio-pmem' access='shared'><source><path>/srv/pm</path></source><target>"
                 "<size unit='KiB'>524288</size></target></memory>")
    backend = next(o for o in _json(argv, "-object") if o["id"] == "memvirtiopmem0")
    assert backend["share"] is True and "prealloc" not in backend
    dev = next(d for d in _json(argv, "-device") if d["driver"] == "virtio-pmem-pci")
    assert dev["memdev"] == "memvirtiopmem0" and dev["bus"] == "pci.0"


def test_rules() -> None:
    with pytest.raises(XMLError, match="source><path>"):
        _argv("<memory model='virtio-pmem'><target><size unit='KiB'>524288</size></target></memory>")
    with pytest.raises(XMLError, match="at least 128KiB"):
        _argv("<memory model='nvdimm'><source><path>/p</path></source><target><size unit='KiB'>524288</size>"
              "<node>0</node><label><size unit='KiB'>64</size></label></target></memory>")


def test_dimms_are_2mib_aligned() -> None:
    argv = _argv("<memory model='dimm'><target><size unit='KiB'>523264</size><node>0</node></target></memory>")
    assert next(o for o in _json(argv, "-object") if o["id"] == "memdimm0")["size"] == 536870912
