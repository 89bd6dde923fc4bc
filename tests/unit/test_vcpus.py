"""pyvirt.xml.vcpus and the slot arithmetic of daemon/vcpus.py, without QEMU: which vCPUs a
start plugs and in what order, libvirt's start-time refusals, and how QEMU's hot-plug slots and
creation order map onto vCPU numbers (the live behaviour is tested with QEMU in
tests/integration/test_vcpu_individual.py, the definitions against libvirtd in
tests/e2e/test_vcpus_oracle.py)."""

from __future__ import annotations

import pytest

from pyvirt.daemon.vcpus import persist_order, slots_of
from pyvirt.xml import parse_domain
from pyvirt.xml.errors import XMLError, XMLUnsupportedError
from pyvirt.xml.vcpus import boot_count, startup_plugs


def _dom(vcpus: str, maximum: int = 6) -> object:
    return parse_domain(f"<domain type='qemu'><name>u</name><memory>65536</memory><vcpu>{maximum}</vcpu>"
                        f"<vcpus>{vcpus}</vcpus><os><type arch='x86_64'>hvm</type></os></domain>")


def _v(n: int, enabled: str = "yes", hp: str = "yes", order: int | None = None) -> str:
    ordered = f" order='{order}'" if order else ""
    return f"<vcpu id='{n}' enabled='{enabled}' hotpluggable='{hp}'{ordered}/>"


def test_start_plugs_by_order_then_id() -> None:
    dom = _dom(_v(0, hp="no", order=1) + _v(3, order=2) + _v(5, order=4) + _v(4, order=3))
    assert boot_count(dom) == 1 and startup_plugs(dom) == [3, 4, 5]
    unordered = _dom(_v(0, hp="no") + _v(1, hp="no") + _v(5) + _v(2))
    assert boot_count(unordered) == 2 and startup_plugs(unordered) == [2, 5]


@pytest.mark.parametrize("vcpus, message", [
    (_v(0, hp="no") + _v(1) + _v(2, hp="no"),
     "online non-hotpluggable vcpus need to be ordered prior to hotplugable vcpus"),
    (_v(0, hp="no", order=1) + _v(1, order=1), "duplicate vcpu order '1'"),
    (_v(0, hp="no", order=1) + _v(1, order=7), "vcpu order '7' exceeds vcpu count"),
])
def test_start_refusals(vcpus: str, message: str) -> None:
    with pytest.raises(XMLUnsupportedError) as exc:
        startup_plugs(_dom(vcpus))
    assert exc.value.message == message


def test_define_refusals_name_the_vcpu() -> None:
    with pytest.raises(XMLError, match="vcpu id '6' is out of range of maximum vcpu count"):
        _dom(_v(0, hp="no") + _v(6))
    with pytest.raises(XMLError, match="vcpu '2' is both offline and not hotpluggable"):
        _dom(_v(0, hp="no") + _v(2, "no", "no"))


def test_slots_map_vcpus_and_creation_order() -> None:
    """QEMU lists slots highest first and sockets with two threads: vCPU numbers run along the
    sorted slots, a slot's vCPUs share it, and the order is query-cpus-fast's."""
    def slot(socket: int, path: str | None = None) -> dict:
        return {"type": "t", "vcpus-count": 2, "props": {"socket-id": socket, "core-id": 0},
                **({"qom-path": path} if path else {})}

    slots = slots_of([slot(2), slot(1, "/machine/peripheral/vcpu2"), slot(0, "/machine/unattached/device[0]")],
                     [{"qom-path": "/machine/unattached/device[0]"}, {"qom-path": "/machine/unattached/device[0]"},
                      {"qom-path": "/machine/peripheral/vcpu2"}, {"qom-path": "/machine/peripheral/vcpu2"}])
    assert [(n, s.first, s.alias, s.order) for n, s in sorted(slots.items())] == [
        (0, 0, None, 1), (1, 0, None, 1), (2, 2, "vcpu2", 2), (3, 2, "vcpu2", 2), (4, 4, None, 0), (5, 4, None, 0)]
    dom = _dom(_v(0, hp="no") + _v(1, hp="no") + _v(2) + _v(3))
    persist_order(dom, slots)
    assert [v.order for v in dom.vcpu_states] == [1, 1, 2, 2, None, None]
