"""pyvirtd's node device changes over a sysfs tree of the test's own: libvirt's answers for the
devices pyvirtd lists (vHBA parents, mediated device types, transient devices, PCI drivers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.daemon import nodedev_changes as nd


@pytest.fixture
def sys(tmp_path: Path) -> Path:
    root = tmp_path / "sys"
    drivers = root / "bus/pci/drivers"
    for address, driver, types in (("0000:00:02.0", "i915", ("i915-GVTg_V5_8",)), ("0000:00:03.0", "vfio-pci", ()),
                                   ("0000:00:04.0", None, ())):
        dev = root / "devices/pci0000:00" / address
        dev.mkdir(parents=True)
        for t in types:
            (dev / "mdev_supported_types" / t).mkdir(parents=True)
        if driver:
            (drivers / driver).mkdir(parents=True, exist_ok=True)
            (dev / "driver").symlink_to(drivers / driver)
        (root / "bus/pci/devices").mkdir(parents=True, exist_ok=True)
        (root / "bus/pci/devices" / address).symlink_to(dev)
    return root


MDEV = ("<device><parent>{parent}</parent><capability type='mdev'><type id='{type}'/></capability></device>")
VHBA = ("<device><parent>{parent}</parent><capability type='scsi_host'><capability type='fc_host'>"
        "<wwnn>2001001b32a9da4e</wwnn><wwpn>2101001b32a9da4e</wwpn></capability></capability></device>")


def _refused(call, words: str, code: int | None = None) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PyvirtError) as err:
        call()
    assert words in err.value.message, err.value.message
    if code is not None:
        assert err.value.code == code


def test_create_and_define(sys: Path) -> None:
    _refused(lambda: nd.create("<cpu/>", sys=sys), "expecting root element of 'device', not 'cpu'")
    _refused(lambda: nd.create("<device/>", sys=sys), "no device capabilities for 'new device'")
    _refused(lambda: nd.create(VHBA.format(parent="pci_0000_00_02_0"), sys=sys),
             "Parent device pci_0000_00_02_0 is not capable of vport operations")
    _refused(lambda: nd.create(VHBA.format(parent="nope"), sys=sys), "Could not find parent device for 'new device'")
    _refused(lambda: nd.create("<device><capability type='pci'/></device>", sys=sys), "Unsupported device type",
             ErrorCode.CONFIG_UNSUPPORTED)
    _refused(lambda: nd.create(MDEV.format(parent="pci_0000_00_04_0", type="i915-GVTg_V5_8"), sys=sys),
             "Unable to start mediated device 'new device': parent device 'pci_0000_00_04_0' has no mediated "
             "device type 'i915-GVTg_V5_8'")
    _refused(lambda: nd.create(MDEV.format(parent="pci_0000_00_04_0", type="x"), define=True, sys=sys),
             "Unable to define mediated device 'new device'")
    _refused(lambda: nd.create(MDEV.format(parent="pci_0000_00_02_0", type="i915-GVTg_V5_8"), sys=sys),
             "pyvirt does not create mediated devices", ErrorCode.OPERATION_UNSUPPORTED)
    _refused(lambda: nd.create("<device><capability type='mdev'><type id='t'/></capability></device>", sys=sys),
             "cannot create a mediated device without a parent")


def test_transient_devices_answer_as_libvirt(sys: Path) -> None:
    _refused(lambda: nd.start("pci_0000_00_02_0", sys=sys), "Device is already active", ErrorCode.OPERATION_INVALID)
    _refused(lambda: nd.undefine("pci_0000_00_02_0", sys=sys), "Node device 'pci_0000_00_02_0' is not defined")
    _refused(lambda: nd.set_autostart("pci_0000_00_02_0", True, sys=sys), "cannot set autostart for transient device")
    nd.set_autostart("computer", True, sys=sys)  # as it is: nothing to change
    _refused(lambda: nd.set_autostart("computer", False, sys=sys), "Unsupported device type")
    _refused(lambda: nd.destroy("pci_0000_00_02_0", sys=sys), "Unsupported device type")
    _refused(lambda: nd.destroy("nope", sys=sys), "no node device with matching name 'nope'")


def test_pci_passthrough(sys: Path, tmp_path: Path) -> None:
    vfio = tmp_path / "vfio"
    _refused(lambda: nd.detach("pci_0000_00_02_0", sys=sys, vfio=vfio),
             "VFIO device assignment is currently not supported on this system", ErrorCode.CONFIG_UNSUPPORTED)
    _refused(lambda: nd.detach("pci_0000_00_02_0", "xen", sys=sys, vfio=vfio), "unknown driver name 'xen'")
    _refused(lambda: nd.detach("pci_0000_00_02_0", "kvm", sys=sys, vfio=vfio), "KVM device assignment is no longer")
    vfio.touch()
    _refused(lambda: nd.detach("computer", sys=sys, vfio=vfio), "device computer is not a PCI device")
    _refused(lambda: nd.detach("pci_0000_00_02_0", sys=sys, vfio=vfio), "is bound to 'i915'; bind it to vfio-pci")
    nd.detach("pci_0000_00_03_0", sys=sys, vfio=vfio)  # on vfio-pci already
    nd.reset("pci_0000_00_03_0", sys=sys)  # the kernel resets it
    _refused(lambda: nd.reset("pci_0000_00_04_0", sys=sys), "bound to 'no driver'")
    nd.reattach("pci_0000_00_02_0", sys=sys)  # on its own driver already
    _refused(lambda: nd.reattach("pci_0000_00_03_0", sys=sys), "stays bound to vfio-pci")
