"""placement='auto': numad's advice binds the guest's memory (and pins its vCPUs), as libvirt's
virNumaGetAutoPlacementAdvice; a fake numad stands in for the real one (which may start its own
daemon on the host)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon import numad
from pyvirt.qemu.argv import RuntimePaths, build_argv
from pyvirt.xml import XMLUnsupportedError, fill_defaults, parse_domain

DOC = """<domain type='qemu'><name>g</name><memory unit='MiB'>512</memory>
<vcpu placement='auto'>2</vcpu><numatune><memory mode='{mode}' placement='auto'/></numatune>
<os><type arch='x86_64' machine='pc'>hvm</type></os>{cpu}</domain>"""


def _dom(mode: str = "interleave", cpu: str = ""):  # noqa: ANN202
    return fill_defaults(parse_domain(DOC.format(mode=mode, cpu=cpu)))


def _ram_objects(argv: list[str]) -> list[dict]:
    objs = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-object" and argv[i + 1][0] == "{"]
    return [o for o in objs if o["qom-type"].startswith("memory-backend")]


def test_test_mode_binds_memory_to_the_harness_nodes() -> None:
    (ram,) = _ram_objects(build_argv(_dom()))
    assert (ram["host-nodes"], ram["policy"]) == ([0, 1, 2, 3], "interleave")


def test_advised_nodes_bind_memory_and_numa_cells() -> None:
    rt = RuntimePaths.debug("g")
    rt.test_mode, rt.auto_nodeset = False, frozenset({1})
    (ram,) = _ram_objects(build_argv(_dom("strict"), runtime=rt))
    assert (ram["host-nodes"], ram["policy"]) == ([1], "bind")
    cells = "<cpu><numa><cell id='0' cpus='0-1' memory='524288' unit='KiB'/></numa></cpu>"
    (node0,) = _ram_objects(build_argv(_dom("preferred", cells), runtime=rt))
    assert (node0["id"], node0["host-nodes"], node0["policy"]) == ("ram-node0", [1], "preferred")


def test_without_advice_the_start_is_refused_naming_numad() -> None:
    rt = RuntimePaths.debug("g")
    rt.auto_nodeset = None
    with pytest.raises(XMLUnsupportedError, match="placement='auto'.*numad"):
        build_argv(_dom(), runtime=rt)


def _fake_numad(tmp_path: Path, body: str) -> str:
    exe = tmp_path / "numad"
    exe.write_text("#!/bin/sh\n" + body + "\n")
    exe.chmod(0o755)
    return str(exe)


def test_advice_asks_numad_with_vcpus_and_mib(tmp_path: Path) -> None:
    log = tmp_path / "args"
    exe = _fake_numad(tmp_path, f'echo "$@" > {log}; echo 0-1,3')
    assert numad.advice(_dom(), exe) == frozenset({0, 1, 3})
    assert log.read_text().split() == ["-w", "2:512"]


@pytest.mark.parametrize("body", ["exit 1", "echo", "echo nodes"])
def test_numad_failures_are_reported(tmp_path: Path, body: str) -> None:
    with pytest.raises(PyvirtError, match="Failed to query numad for the advisory nodeset"):
        numad.advice(_dom(), _fake_numad(tmp_path, body))


def test_missing_numad_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PyvirtError, match="Advice from numad is needed"):
        numad.advice(_dom())


def test_node_cpus_read_from_sysfs(tmp_path: Path) -> None:
    for node, cpus in ((0, "0-1"), (1, "2,5")):
        os.makedirs(tmp_path / f"node{node}")
        (tmp_path / f"node{node}" / "cpulist").write_text(cpus + "\n")
    assert numad.node_cpus(frozenset({0, 1}), str(tmp_path)) == frozenset({0, 1, 2, 5})
    with pytest.raises(PyvirtError, match="NUMA node 7"):
        numad.node_cpus(frozenset({7}), str(tmp_path))
