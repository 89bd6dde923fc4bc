"""libvirt's generic parser refusals as the test driver words them (prefix and message), and
what only the QEMU driver refuses (a second TPM) let through, as libvirt's test driver does.
Where real virsh is installed every document is defined through ``virsh -c test:///default``
too and must end with the same line (or both succeed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.client import connect
from tests.conformance_data import CONFORMANCE

DOC = "<domain type='test'><name>t</name><memory>1024</memory><os><type>hvm</type>{os}</os><devices>{}</devices></domain>"
USB_HOSTDEV = ("<hostdev mode='subsystem' type='usb'><source><vendor id='0x04b3'/><product id='0x4485'/>"
               "</source></hostdev>")
EMU_TPM = "<tpm model='{}'><backend type='emulator'/></tpm>"
# (devices, <os> extra, message or None for accepted)
CASES = [
    ("<watchdog model='i6300esb'/><watchdog model='ib700'/>", "",
     "internal error: only a single watchdog device is supported"),
    ("<memballoon model='virtio'/><memballoon model='virtio'/>", "",
     "internal error: only a single memory balloon device is supported"),
    ("<nvram/><nvram/>", "", "internal error: only a single nvram device is supported"),
    ("<iommu model='intel'/><iommu model='intel'/>", "", "XML error: only a single IOMMU device is supported"),
    ("<vsock model='virtio'><cid auto='no' address='3'/></vsock><vsock model='virtio'><cid auto='no' address='4'/>"
     "</vsock>", "", "XML error: only a single vsock device is supported"),
    (EMU_TPM.format("tpm-tis") + EMU_TPM.format("tpm-crb"), "", None),
    ("<video><model type='none'/></video><video><model type='vga'/></video>", "",
     "unsupported configuration: a 'none' video type must be the only video device defined for the domain"),
    ("<panic model='isa'/><panic model='isa'/>", "", "XML error: Multiple panic devices with model 'isa'"),
    ("<interface type='user'><boot order='1'/></interface>", "<boot dev='hd'/>",
     "unsupported configuration: per-device boot elements cannot be used together with os/boot elements"),
    ("<controller type='scsi' model='ich9-ehci1'/>", "", "unsupported configuration: Unknown model type 'ich9-ehci1'"),
    ("<controller type='usb' model='bogus'/>", "", "unsupported configuration: Unknown model type 'bogus'"),
    ("<controller type='virtio-serial' model='virtio'/>", "", None),
    ("<video><model type='bogus'/></video>", "", "unsupported configuration: unknown video model 'bogus'"),
    ("<input type='mouse' bus='bogus'/>", "", "unsupported configuration: unknown input bus type 'bogus'"),
    ("<serial type='bogus'/>", "",
     "unsupported configuration: unknown type presented to host for character device: bogus"),
    ("<channel type='pty'><target type='bogus'/></channel>", "",
     "unsupported configuration: unknown target type 'bogus' specified for character device"),
    ("<channel type='pty'><target type='guestfwd'/></channel>", "",
     "XML error: guestfwd channel does not define a target address"),
    ("<watchdog model='i6300esb' action='bogus'/>", "", "unsupported configuration: unknown watchdog action 'bogus'"),
    (USB_HOSTDEV + USB_HOSTDEV, "", "XML error: Hostdev already exists in the domain configuration"),
    ("<controller type='usb' model='none'/><input type='tablet' bus='usb'/>", "",
     "unsupported configuration: Can't add USB input device. USB bus is disabled"),
    ("<redirdev bus='usb' type='spicevmc'/>", "",
     "unsupported configuration: cannot add redirected USB device: USB is disabled for this domain"),
    ("<controller type='usb' model='qemu-xhci'/><redirdev bus='usb' type='spicevmc'/>", "", None),
    # a document with something pyvirt's QEMU driver leaves unsupported still gets the
    # generic checks (it used to skip them all)
    ("<video><model type='vmvga'/></video>" + USB_HOSTDEV + USB_HOSTDEV, "",
     "XML error: Hostdev already exists in the domain configuration"),
]


def _define(devices: str, os_extra: str) -> str | None:
    try:
        connect("test:///default").define_xml(DOC.format(devices, os=os_extra))
    except PyvirtError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize(("devices", "os_extra", "message"), CASES)
def test_define_in_libvirts_words(devices: str, os_extra: str, message: str | None) -> None:
    assert _define(devices, os_extra) == message


def test_lookup_of_a_missing_domain_has_no_detail() -> None:
    """testDomainLookupByName/UUID/ID: VIR_ERR_NO_DOMAIN without a message of its own."""
    with pytest.raises(PyvirtError) as info:
        connect("test:///default").lookup_domain("nosuch")
    assert str(info.value) == "Domain not found"


@pytest.mark.skipif(shutil.which("virsh") is None, reason="real virsh (libvirt-clients) not installed")
def test_same_as_real_virsh(tmp_path: Path) -> None:
    for n, (devices, os_extra, _message) in enumerate(CASES):
        doc = tmp_path / f"d{n}.xml"
        doc.write_text(DOC.format(devices, os=os_extra))
        real = subprocess.run(["virsh", "-c", "test:///default", "define", str(doc)], capture_output=True,
                              text=True, timeout=60)
        ours = _define(devices, os_extra)
        if ours is None:
            assert real.returncode == 0, (devices, real.stderr)
        else:
            assert f"error: {ours}" in real.stderr.splitlines(), (devices, real.stderr, ours)


ZERO_MEMORY = "<domain type='test'><name>t</name><memory>0</memory><os><type>hvm</type></os><devices/></domain>"
ZERO_MEMORY_WORDS = "XML error: Memory size must be specified via <memory> or in the <numa> configuration"


def test_zero_memory_in_libvirts_words(tmp_path: Path) -> None:
    """A zero <memory> without NUMA cells is the same rule as a missing one
    (virDomainDefPostParseMemory), refused in the same words by every driver."""
    with pytest.raises(PyvirtError) as info:
        connect("test:///default").define_xml(ZERO_MEMORY)
    assert str(info.value) == ZERO_MEMORY_WORDS
    if shutil.which("virsh") is not None:
        doc = tmp_path / "zero.xml"
        doc.write_text(ZERO_MEMORY)
        real = subprocess.run(["virsh", "-c", "test:///default", "define", str(doc)], capture_output=True,
                              text=True, timeout=60)
        assert f"error: {ZERO_MEMORY_WORDS}" in real.stderr.splitlines()


@pytest.mark.skipif(not (CONFORMANCE / "virt-manager-4.1.0").exists(), reason="shared conformance data missing")
@pytest.mark.parametrize("fixture", ["testdriver.xml", "testsuite.xml"])
def test_fixture_domains_define_again(fixture: str) -> None:
    """virt-xml defines a fixture domain's XML back after its edit: each one as the test
    driver formats it must be accepted again (libvirt accepts them: a vepa source mode, a
    USB host address in hex once stopped a define)."""
    conn = connect(f"test://{CONFORMANCE}/virt-manager-4.1.0/tree/tests/data/testdriver/{fixture}")
    for dom in conn.list_domains():
        conn.define_xml(conn.get_xml(dom.name, inactive=True))
