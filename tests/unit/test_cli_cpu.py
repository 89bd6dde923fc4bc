"""virsh's way of finding CPUs in a file (vshExtractCPUDefXMLs), as the cpu-* commands use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.cli.cmd_cpu import extract_cpus
from pyvirt.cli.context import CmdError


def test_cpus_from_every_kind_of_document(tmp_path: Path) -> None:
    f = tmp_path / "cpus.xml"
    f.write_text("<?xml version='1.0'?>\n<cpu><model>A</model></cpu>\n<cpu><model>B</model></cpu>\n"
                 "<domain><cpu mode='custom'><model>C</model></cpu></domain>\n"
                 "<capabilities><host><cpu><arch>x86_64</arch><model>D</model></cpu></host></capabilities>\n"
                 "<domainCapabilities><cpu><mode name='host-passthrough' supported='no'/>"
                 "<mode name='host-model' supported='yes'><model fallback='forbid'>E</model></mode>"
                 "</cpu></domainCapabilities>")
    cpus = extract_cpus(str(f))
    assert [c[c.index("<model") :].split(">")[1].split("<")[0] for c in cpus] == ["A", "B", "C", "D", "E"]
    assert cpus[4].startswith("<cpu><model")  # the host-model <mode>, renamed, its attributes gone


def test_files_without_cpus_are_refused_as_virsh_does(tmp_path: Path) -> None:
    f = tmp_path / "none.xml"
    f.write_text("<domain><name>x</name></domain>")
    with pytest.raises(CmdError, match="does not contain any <cpu> element or valid domain XML"):
        extract_cpus(str(f))
    with pytest.raises(CmdError, match="Failed to open file"):
        extract_cpus(str(tmp_path / "missing.xml"))
