"""A session pyvirtd starts a real TCG guest whose definition carries what issue 14's last
round turned from refused into kept: ``<resource><partition>``, disabled ``<perf>`` events,
``<features><msrs>``, a custom CPU with a ``<vendor>`` (libvirt 9.0's session daemon starts the
same definition); the live XML keeps them.  An enabled perf event or an unknown CPU feature
stops the start in libvirt's words, naming it, and leaves the definition as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from tests.daemon_harness import DaemonHarness, running

pytestmark = pytest.mark.timeout(120)

XML = """<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<resource><partition>/machine</partition></resource>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<features><acpi/><msrs unknown='ignore'/></features>
<cpu mode='custom' match='exact'><model>qemu64</model><vendor>Intel</vendor>{features}</cpu>
{perf}<devices><graphics type='vnc' autoport='yes' listen='127.0.0.1'/></devices></domain>"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, qemu_binary: str) -> Iterator[DaemonHarness]:
    root = tmp_path_factory.mktemp("refused")
    with running(DaemonHarness(Path(root))) as harness:
        yield harness


def test_kept_elements_start_and_stay_in_the_live_xml(daemon: DaemonHarness) -> None:
    conn = daemon.connect()
    conn.define_xml(XML.format(name="kept", features="<feature policy='require' name='pclmuldq'/>",
                               perf="<perf><event name='cmt' enabled='no'/></perf>"))
    conn.start("kept")
    try:
        live = conn.get_xml("kept")
        for part in ("<partition>/machine</partition>", "<msrs unknown='ignore'/>", "<vendor>Intel</vendor>",
                     "<event name='cmt' enabled='no'/>"):
            assert part in live, part
        assert conn.perf_events("kept")["cmt"] is False
        # virsh perf: the running guest's events stay off; the persistent definition takes either state
        conn.set_perf_events("kept", {"task_clock": False}, live=True)
        assert "<event name='cmt' enabled='no'/>\n    <event name='task_clock' enabled='no'/>" in conn.get_xml("kept")
        with pytest.raises(PyvirtError, match="unable to enable host cpu perf event for cpu_cycles"):
            conn.set_perf_events("kept", {"cpu_cycles": True}, live=True)
        conn.set_perf_events("kept", {"cpu_cycles": True}, config=True)
        assert conn.perf_events("kept", config=True)["cpu_cycles"] is True
        assert "<event name='cpu_cycles' enabled='yes'/>" in conn.get_xml("kept", inactive=True)
        assert "cpu_cycles" not in conn.get_xml("kept")
    finally:
        conn.destroy("kept")
        conn.undefine("kept")


@pytest.mark.parametrize(("features", "perf", "message"), [
    ("", "<perf><event name='cpu_cycles' enabled='yes'/></perf>",
     "<perf><event name='cpu_cycles' enabled='yes'>: unable to enable host cpu perf event for cpu_cycles"),
    ("<feature policy='require' name='nosuchfeature'/>", "", "unknown CPU feature: nosuchfeature"),
])
def test_refused_at_start_by_name(daemon: DaemonHarness, features: str, perf: str, message: str) -> None:
    conn = daemon.connect()
    xml = XML.format(name="refused", features=features, perf=perf)
    conn.define_xml(xml)
    try:
        before = conn.get_xml("refused", inactive=True)
        with pytest.raises(PyvirtError, match=message):
            conn.start("refused")
        assert conn.get_state("refused")[0] == 5  # shut off
        assert conn.get_xml("refused", inactive=True) == before
    finally:
        conn.undefine("refused")
