"""Host commands and host objects against a real pyvirtd (no guest): CPU models from QEMU's probe,
free huge pages from sysfs, KSM tunables, suspend refused; nothing on the host is changed (page
pools and KSM values are only written back as they are)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_harness import DaemonHarness, cli, running


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonHarness]:
    with running(DaemonHarness(tmp_path_factory.mktemp("hostobj") / "state")) as harness:
        yield harness


def test_cpu_models_are_qemus(daemon: DaemonHarness) -> None:
    out = cli(daemon, "cpu-models", "x86_64")
    assert out.returncode == 0, out.stderr
    domcaps = ET.fromstring(daemon.connect().get_domain_capabilities(arch="x86_64"))
    custom = {m.text for m in domcaps.iterfind("cpu/mode[@name='custom']/model")}
    listed = out.stdout.split()
    assert "qemu64" in listed and custom <= set(listed)
    assert cli(daemon, "cpu-models", "aarch64").stdout == "all CPU models are accepted\n\n"
    bad = cli(daemon, "cpu-models", "foo")
    assert bad.returncode == 1 and "cannot find architecture foo" in bad.stderr


def _node0(name: str) -> Path:
    return Path("/sys/devices/system/node/node0/hugepages/hugepages-2048kB") / name


def test_free_pages_from_sysfs(daemon: DaemonHarness) -> None:
    if not _node0("free_hugepages").exists():
        pytest.skip("no 2 MiB huge page pool on NUMA node 0")
    out = cli(daemon, "freepages", "0", "2M")
    assert out.stdout == f"2048KiB: {int(_node0('free_hugepages').read_text())}\n\n", out.stderr
    small = cli(daemon, "freepages", "--cellno", "0", "--pagesize", "4")
    assert small.returncode == 0 and small.stdout.startswith("4KiB: ")
    missing = cli(daemon, "freepages", "0", "8")
    assert missing.returncode == 1 and "page size or NUMA node not available" in missing.stderr


def test_alloc_pages_refusals_and_a_no_op(daemon: DaemonHarness) -> None:
    before = _node0("nr_hugepages").read_text() if _node0("nr_hugepages").exists() else None
    system = cli(daemon, "allocpages", "4", "10")
    assert system.returncode == 1 and "system pages pool can't be modified" in system.stderr
    noop = cli(daemon, "allocpages", "2M", "0", "--add", "--cellno", "0")
    assert (noop.returncode, noop.stdout, noop.stderr) == (0, "\n", "")
    if before is not None:
        assert _node0("nr_hugepages").read_text() == before


def test_node_memory_tune_reads_and_writes_ksm(daemon: DaemonHarness) -> None:
    ksm = Path("/sys/kernel/mm/ksm")
    if not (ksm / "pages_to_scan").exists():
        pytest.skip("kernel without KSM")
    out = cli(daemon, "node-memory-tune")
    assert out.stdout.startswith("Shared memory:\n"), out.stderr
    current = int((ksm / "pages_to_scan").read_text())
    assert f"\tshm_pages_to_scan {current}\n" in out.stdout
    same = cli(daemon, "node-memory-tune", "--shm-pages-to-scan", str(current))
    assert same.returncode == 0 or "failed to set shm_pages_to_scan" in same.stderr
    assert int((ksm / "pages_to_scan").read_text()) == current


def test_nodesuspend_is_refused_as_libvirt_without_a_target(daemon: DaemonHarness) -> None:
    out = cli(daemon, "nodesuspend", "mem", "60")
    assert out.returncode == 1
    assert out.stderr == ("error: The host was not suspended\n"
                          "error: Requested operation is not valid: Suspend-to-RAM\n")


def test_host_interfaces_change_nothing_as_libvirt_without_netcf(daemon: DaemonHarness, tmp_path: Path) -> None:
    """pyvirtd reads the host's interfaces and changes none: each changing command gets libvirt's
    "not supported" for the call libvirt's udev backend lacks, after virsh's own first line."""
    xml = tmp_path / "eth.xml"
    xml.write_text("<interface type='ethernet' name='pv0'/>")
    name = [row.split()[0] for row in cli(daemon, "iface-list", "--all").stdout.splitlines()[2:] if row.strip()]
    no = "error: this function is not supported by the connection driver: "
    cases = [(("iface-define", str(xml)), f"error: Failed to define interface from {xml}\n{no}virInterfaceDefineXML\n"),
             (("iface-begin",), f"error: Failed to begin network config change transaction\n{no}"
                                "virInterfaceChangeBegin\n"),
             (("iface-start", name[0]), f"error: Failed to start interface {name[0]}\n{no}virInterfaceCreate\n"),
             (("iface-undefine", name[0]), f"error: Failed to undefine interface {name[0]}\n{no}virInterfaceUndefine\n")]
    for args, stderr in cases:
        out = cli(daemon, *args)
        assert (out.returncode, out.stderr) == (1, stderr), args
    before = cli(daemon, "iface-list", "--all").stdout
    bridged = cli(daemon, "iface-bridge", name[0], "pvbr-test")
    assert bridged.returncode == 1
    assert bridged.stderr in (f"error: Failed to define new bridge interface pvbr-test\n{no}virInterfaceDefineXML\n",
                              f"error: Existing device {name[0]} is already a bridge\n"
                              "error: Interface not found: no interface with matching name 'pvbr-test'\n")
    assert cli(daemon, "iface-list", "--all").stdout == before


def test_session_daemon_has_no_network_filters(daemon: DaemonHarness) -> None:
    out = cli(daemon, "nwfilter-list")
    assert (out.returncode, out.stderr) == (1, "error: Failed to count network filters\nerror: this function is not "
                                               "supported by the connection driver: virConnectNumOfNWFilters\n")


def test_node_device_changes_get_libvirts_answers(daemon: DaemonHarness, tmp_path: Path) -> None:
    """pyvirtd's devices are present and transient, none a vport-capable HBA; PCI passthrough is
    refused (no VFIO here, or pyvirt does not rebind host drivers); nothing on the host changes."""
    conn = daemon.connect()
    pci = sorted(d.name for d in conn.list_node_devices() if "pci" in d.caps)
    if not pci:
        pytest.skip("no PCI devices in sysfs")
    dev = pci[0]
    mdev = tmp_path / "mdev.xml"
    mdev.write_text(f"<device><parent>{dev}</parent><capability type='mdev'><type id='nvidia-63'/></capability>"
                    "</device>")
    created = cli(daemon, "nodedev-create", str(mdev))
    assert created.returncode == 1
    assert created.stderr.startswith(f"error: Failed to create node device from {mdev}\nerror: internal error: "
                                     f"Unable to start mediated device 'new device': parent device '{dev}' has no "
                                     "mediated device type 'nvidia-63'"), created.stderr
    started = cli(daemon, "nodedev-start", dev)
    assert started.stderr == (f"error: Failed to start device {dev}\n"
                              "error: Requested operation is not valid: Device is already active\n")
    undefined = cli(daemon, "nodedev-undefine", dev)
    assert f"Node device '{dev}' is not defined" in undefined.stderr
    detached = cli(daemon, "nodedev-detach", dev)
    assert detached.returncode == 1 and detached.stderr.startswith(f"error: Failed to detach device {dev}\n")
    assert ("VFIO device assignment is currently not supported on this system" in detached.stderr
            or "pyvirt does not rebind host drivers" in detached.stderr)
    not_pci = cli(daemon, "nodedev-reset", "computer")
    assert "device computer is not a PCI device" in not_pci.stderr
    assert sorted(d.name for d in conn.list_node_devices() if "pci" in d.caps) == pci


def test_numa_cells_in_capabilities_drive_the_all_options(daemon: DaemonHarness) -> None:
    """The capabilities' <topology> (libvirt's cells, pages, distances, CPUs) is what freecell,
    freepages and allocpages --all loop over."""
    caps = ET.fromstring(cli(daemon, "capabilities").stdout)
    cells = [c.get("id") for c in caps.iterfind("host/topology/cells/cell")]
    assert cells and caps.find("host/topology/cells").get("num") == str(len(cells))  # type: ignore[union-attr]
    cpus = caps.findall("host/topology/cells/cell/cpus/cpu")
    assert sorted(int(c.get("id", "-1")) for c in cpus) == sorted(
        i for i, up in enumerate(daemon.connect().node_cpu_map()) if up)
    free = cli(daemon, "freecell", "--all").stdout
    assert [line.split(":")[0].strip() for line in free.splitlines() if "KiB" in line and "Total" not in line] == cells
    pages = cli(daemon, "freepages", "--all").stdout
    sizes = [p.get("size") for p in caps.iterfind("host/cpu/pages")]
    assert pages.startswith(f"Node {cells[0]}:\n") and all(f"{s}KiB: " in pages for s in sizes), pages
