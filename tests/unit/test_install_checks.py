"""pyvirt install refuses what virt-install 4.1 refuses, with its words: sub-options named
without a value, storage that would need creating but has no size, volumes that cannot fit
their pool, MAC addresses other guests use; --check and --force relax the optional ones.

Runs the command in-process against virt-manager's test driver state (no daemon)."""

from __future__ import annotations

import pytest

from tests.conformance_data import CONFORMANCE

DATA = CONFORMANCE / "virt-manager-4.1.0" / "tree" / "tests" / "data"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="shared conformance data not present")


@pytest.fixture(autouse=True)
def _testdriver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testsuite.xml"))
    monkeypatch.setenv("VIRTCOMPAT_PREDICTABLE", "1")
    monkeypatch.setenv("VIRTINST_TEST_SUITE", "1")
    from pyvirt import ids
    ids.reset_predictable()  # each command starts at the first predictable MAC, as a new process does


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from pyvirt.cli.install import main
    rc = main(["--connect", "test:///default", "--noautoconsole", "--osinfo", "generic",
               "--ram", "64", "--print-xml", *args])
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


@pytest.mark.parametrize(("args", "message"), [
    (["--nodisks", "--pxe", "--graphics", "type=vnc,keymap"],
     "Error: --graphics type=vnc,keymap: Option 'keymap' had no value set."),
    (["--pxe", "--disk", "/pool-dir/not-there.img"],
     "Size must be specified for non existent volume 'not-there.img'"),
    (["--pxe", "--disk", "pool=pool-dir"], "Size must be specified for non existent volume 'vm1.qcow2'"),
    (["--pxe", "--disk", "vol=pool-dir-no-slash"],
     "Storage volume must be specified as vol=poolname/volname"),
    (["--pxe", "--disk", "perms=badformat"], "ERROR    Unknown 'perms' value 'badformat'"),
    (["--pxe", "--disk", "/pool-dir/new1.img,size=100000000"],
     "The requested volume capacity will exceed the available pool space when the volume is "
     "fully allocated. (102400000000 M requested capacity > "),
    (["--pxe", "--disk", "/pool-dir/new1.img,size=100000,sparse=no"],
     "There is not enough free space on the storage pool to create the volume. (102400000 M "
     "requested allocation > "),
    (["--nodisks", "--pxe", "--mac", "22:11:11:11:11:11"],
     "The MAC address '22:11:11:11:11:11' is in use by another virtual machine. "
     "(Use --check mac_in_use=off or --check all=off to override)"),
])
def test_refused_with_virt_install_words(capsys: pytest.CaptureFixture[str], args: list[str],
                                         message: str) -> None:
    rc, out = _run(capsys, *args)
    assert rc == 1
    assert message in out


@pytest.mark.parametrize("args", [
    ["--pxe", "--disk", "/pool-dir/new1.img,size=100000000", "--check", "disk_size=off"],
    ["--nodisks", "--pxe", "--mac", "22:11:11:11:11:11", "--check", "mac_in_use=off"],
    ["--nodisks", "--pxe", "--mac", "22:11:11:11:11:11", "--force"],
    ["--nodisks", "--pxe", "--boot", "network,hd,menu=on"],
    ["--nodisks", "--pxe", "--os-variant", "fedora26", "--unattended", "none"],
    ["--nodisks", "--pxe", "--os-variant", "fedora26", "--unattended"],
])
def test_relaxed_or_valid(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    rc, out = _run(capsys, *args)
    assert rc == 0, out
    assert "<domain" in out


def _kvm(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, caps: str,
         domcaps: str | None, *args: str, fakeuri: str = "qemu:///system") -> str:
    """The first domain XML of a --print-xml run on a KVM host of `caps`."""
    from lxml import etree

    from pyvirt.cli.install import main
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testdriver.xml"))
    monkeypatch.setenv("VIRTCOMPAT_FAKEURI", fakeuri)
    monkeypatch.setenv("VIRTCOMPAT_CAPS", str(DATA / "capabilities" / caps))
    if domcaps:
        monkeypatch.setenv("VIRTCOMPAT_DOMCAPS", str(DATA / "capabilities" / domcaps))
    rc = main(["--connect", fakeuri, "--noautoconsole", "--ram", "64", "--print-xml", "1", *args])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    return etree.fromstring(cap.out.split("</domain>")[0] + "</domain>")


def test_defaults_virt_install_derives(capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    x86 = ("kvm-x86_64.xml", "kvm-x86_64-domcaps-latest.xml")
    # a panic device with no model for the machine (aarch64 virt) makes no element
    dom = _kvm(capsys, monkeypatch, "kvm-aarch64.xml", "kvm-aarch64-domcaps.xml", "--import",
               "--disk", "none", "--os-variant", "fedora21", "--panic", "default")
    assert dom.find("devices/panic") is None
    # --boot kernel_args, extra_args and cmdline are one value: the last given wins
    dom = _kvm(capsys, monkeypatch, *x86, "--osinfo", "generic", "--disk", "none", "--boot",
               "kernel=/k,initrd=/i,kernel_args=first,extra_args=second")
    assert dom.findtext("os/cmdline") == "second"
    # SEV policy 0x07 where the host runs SEV-ES guests
    dom = _kvm(capsys, monkeypatch, "kvm-x86_64.xml", "kvm-x86_64-domcaps-amd-sev.xml",
               "--osinfo", "linux2020", "--boot", "uefi", "--machine", "q35", "--disk", "none",
               "--pxe", "--launchSecurity", "sev")
    assert dom.findtext("launchSecurity/policy") == "0x07"
    # a remote connection has no host bridge to look for: the 'default' network
    dom = _kvm(capsys, monkeypatch, *x86, "--import", "--disk", "none", "--osinfo", "generic",
               fakeuri="qemu+tls://fakeuri.example.com/system")
    assert dom.find("devices/interface/source").get("network") == "default"
    # <pm> children in the order they were set
    dom = _kvm(capsys, monkeypatch, *x86, "--import", "--disk", "none", "--osinfo", "generic",
               "--pm", "suspend_to_disk=yes")
    assert [c.tag for c in dom.find("pm")] == ["suspend-to-disk", "suspend-to-mem"]
    # --install no_install=yes is an install method (an import)
    dom = _kvm(capsys, monkeypatch, *x86, "--disk", "none", "--osinfo", "generic", "--install",
               "no_install=yes")
    assert dom.find("os/kernel") is None and dom.findtext("on_reboot") != "destroy"


def test_container_xen_and_firmware_defaults(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # --init is --boot init=; a full-OS container (filesystem at /) gets privnet
    dom = _kvm(capsys, monkeypatch, "lxc.xml", None, "--name", "c1", "--init", "/usr/bin/httpd",
               fakeuri="lxc:///")
    assert dom.findtext("os/init") == "/usr/bin/httpd"
    assert dom.find("features/privnet") is None
    dom = _kvm(capsys, monkeypatch, "lxc.xml", None, "--name", "c1", "--filesystem", "/src,/",
               fakeuri="lxc:///")
    assert dom.find("features/privnet") is not None
    # Xen has no default video model: no empty <video/>
    dom = _kvm(capsys, monkeypatch, "xen-rhel5.4.xml", None, "--import", "--disk",
               "/pool-dir/testvol1.img", "--osinfo", "generic", fakeuri="xen:///")
    assert dom.find("devices/video") is None
    # secure-boot firmware only: the machine becomes q35
    dom = _kvm(capsys, monkeypatch, "kvm-x86_64.xml", "kvm-x86_64-domcaps-oldfirmware.xml",
               "--osinfo", "generic", "--boot", "uefi", "--disk", "none", "--pxe")
    assert dom.find("os/type").get("machine") == "q35"
    assert dom.find("features/smm").get("state") == "on"


@pytest.mark.parametrize(("args", "message"), [
    (["--nodisks", "--pxe", "--boot", "menu=foobar"], "ERROR    menu must be 'yes' or 'no'"),
    (["--nodisks", "--pxe", "--os-variant", "fedora26", "--unattended", "user-login=root"],
     "fedora26 cannot use 'root' as user-login."),
    (["--nodisks", "--pxe", "--os-variant", "debian9", "--unattended", "profile=desktop"],
     "OS 'debian9' does not support required injection method 'cdrom'"),
    (["--nodisks", "--cdrom", "/no/such/media.iso", "--os-variant", "fedora26"],
     "Validating install media '/no/such/media.iso' failed: Must specify storage creation "
     "parameters for non-existent path '/no/such/media.iso'."),
])
def test_refused_values(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    rc, out = _run(capsys, *args)
    assert rc == 1
    assert message in out


def test_container_filesystem_target_and_vz_transient(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from pyvirt.cli.install import main
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testdriver.xml"))
    monkeypatch.setenv("VIRTCOMPAT_FAKEURI", "lxc:///")
    monkeypatch.setenv("VIRTCOMPAT_CAPS", str(DATA / "capabilities" / "lxc.xml"))
    assert main(["--connect", "lxc:///", "--name", "c1", "--noautoconsole", "--filesystem",
                 "/,not/abs"]) == 1
    assert "Filesystem target 'not/abs' must be an absolute path" in capsys.readouterr().err
    monkeypatch.setenv("VIRTCOMPAT_FAKEURI", "vz:///")
    monkeypatch.setenv("VIRTCOMPAT_CAPS", str(DATA / "capabilities" / "vz.xml"))
    assert main(["--connect", "vz:///", "--noautoconsole", "--container", "--transient"]) == 1
    assert "Domain type 'vz' doesn't support transient installs." in capsys.readouterr().err
