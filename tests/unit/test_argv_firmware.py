"""Firmware autoselection on the command line (libvirt 9.0's qemuFirmwareFillDomain rules).

In test mode the builder chooses among libvirt's test-harness descriptors
(``firmware.TEST_DESCRIPTORS``); these tests state the selection rules against descriptors of
their own where the rule does not depend on that set, and never read expected command lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.qemu import firmware
from pyvirt.qemu.argv import build_argv
from pyvirt.qemu.firmware import Descriptor, choose, fill_domain
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLConfigError, XMLError

SECURE = Descriptor("50-secure.json", ["uefi"], "flash", "/fw/secure.fd", "/fw/secure.vars",
                    [("x86_64", ["pc-q35-*"])], {"requires-smm", "secure-boot", "enrolled-keys"})
PLAIN = Descriptor("60-plain.json", ["uefi"], "flash", "/fw/plain.fd", "/fw/plain.vars",
                   [("x86_64", ["pc-q35-*", "pc-i440fx-*"])], set())
BIOS = Descriptor("40-bios.json", ["bios"], "memory", "/fw/bios.bin", None, [("x86_64", ["pc-*"])], set())
FOUND = [BIOS, SECURE, PLAIN]


def _dom(os_: str, machine: str = "pc-q35-7.2", features: str = "<acpi/>", name: str = "g"):
    dom = parse_domain(f"<domain type='qemu'><name>{name}</name><memory>65536</memory>"
                       f"<os{os_.split('|')[0]}><type arch='x86_64' machine='{machine}'>hvm</type>"
                       f"{os_.split('|')[1] if '|' in os_ else ''}</os><features>{features}</features>"
                       "<devices/></domain>")
    return fill_defaults(dom) or dom


def _machine(argv: list[str]) -> str:
    return argv[argv.index("-machine") + 1]


def _pflash_files(argv: list[str]) -> list[str]:
    return [a.split('"filename":"')[1].split('"')[0] for a in argv if "libvirt-pflash" in a and '"filename"' in a]


def test_first_fitting_descriptor_by_interface_machine_and_wishes() -> None:
    assert choose(FOUND, "efi", "x86_64", "pc-q35-7.2", {}, check_files=False) is SECURE
    assert choose(FOUND, "efi", "x86_64", "pc-i440fx-7.2", {}, check_files=False) is PLAIN
    assert choose(FOUND, "efi", "x86_64", "pc-q35-7.2", {"enrolled-keys": False}, check_files=False) is PLAIN
    assert choose(FOUND, "efi", "x86_64", "pc-q35-7.2", {"secure-boot": True}, check_files=False) is SECURE
    assert choose(FOUND, "efi", "x86_64", "pc-i440fx-7.2", {"secure-boot": True}, check_files=False) is None
    assert choose(FOUND, "bios", "x86_64", "pc-q35-7.2", {}, check_files=False) is BIOS


def test_smm_off_refuses_a_chosen_firmware_that_requires_smm() -> None:
    """libvirt 9.0 does not skip SMM-requiring builds when choosing: it refuses the choice."""
    dom = _dom(" firmware='efi'", features="<acpi/><smm state='off'/>")
    with pytest.raises(PyvirtError, match="domain has SMM turned off but chosen firmware requires it"):
        fill_domain(dom, FOUND, "/nv", check_files=False)
    plain = _dom(" firmware='efi'", features="<acpi/><smm state='off'/>", machine="pc-i440fx-7.2")
    fill_domain(plain, FOUND, "/nv", check_files=False)
    assert plain.os.loader.path == "/fw/plain.fd" and plain.features.smm is False


def test_secure_loader_wish_picks_a_secure_boot_build() -> None:
    dom = _dom(" firmware='efi'|<loader secure='yes'/>", machine="pc-q35-7.2")
    fill_domain(dom, FOUND, "/nv", check_files=False)
    assert dom.os.loader.path == SECURE.executable
    # on i440fx libvirt 9.0 refuses the wish at define, before any firmware is looked for
    with pytest.raises(XMLConfigError, match="Secure boot is supported with q35 machine types only"):
        _dom(" firmware='efi'|<loader secure='yes'/>", machine="pc-i440fx-7.2")


def test_fill_sets_loader_nvram_and_smm_like_libvirt() -> None:
    dom = _dom(" firmware='efi'", name="vm1")
    fill_domain(dom, FOUND, "/nv", check_files=False)
    assert (dom.os.loader.type, dom.os.loader.readonly, dom.os.loader.secure) == ("pflash", True, True)
    assert (dom.os.nvram.path, dom.os.nvram.template) == ("/nv/vm1_VARS.fd", "/fw/secure.vars")
    assert dom.features.smm is True and dom.os.firmware is None
    kept = _dom(" firmware='efi'|<nvram>/mine/VARS.fd</nvram>", machine="pc-i440fx-7.2")
    fill_domain(kept, FOUND, "/nv", check_files=False)
    assert kept.os.nvram.path == "/mine/VARS.fd" and kept.os.loader.secure is None  # plain: no SMM


def test_efi_build_in_test_mode_uses_pflash_and_smm() -> None:
    argv = build_argv(_dom(" firmware='efi'", name="vm1"))
    files = _pflash_files(argv)
    assert len(files) == 2 and files[1] == "/var/lib/libvirt/qemu/nvram/vm1_VARS.fd"
    assert "smm=on" in _machine(argv) and "pflash0=libvirt-pflash0-format" in _machine(argv)
    assert "driver=cfi.pflash01,property=secure,value=on" in argv
    plain = build_argv(_dom(" firmware='efi'|<firmware><feature enabled='no' name='secure-boot'/></firmware>"))
    assert "smm=on" not in _machine(plain) and "driver=cfi.pflash01,property=secure,value=on" not in plain
    assert _pflash_files(plain)[0] != files[0]


def test_bios_autoselection_is_a_rom_loader() -> None:
    argv = build_argv(_dom(" firmware='bios'|<loader stateless='yes'/>"))
    assert argv[argv.index("-bios") + 1].endswith(".bin") and not _pflash_files(argv)
    dom = _dom(" firmware='bios'")
    fill_domain(dom, [PLAIN], "/nv", check_files=False)  # no BIOS descriptor: QEMU's own SeaBIOS
    assert dom.os.loader is None and dom.os.firmware is None


def test_readonly_pflash_loader_gets_a_default_nvram() -> None:
    dom = _dom("|<loader readonly='yes' type='pflash'>/fw/plain.fd</loader>", name="vm2")
    files = _pflash_files(build_argv(dom))
    assert files == ["/fw/plain.fd", "/var/lib/libvirt/qemu/nvram/vm2_VARS.fd"]
    stateless = _dom("|<loader readonly='yes' type='pflash' stateless='yes'>/fw/plain.fd</loader>")
    assert _pflash_files(build_argv(stateless)) == ["/fw/plain.fd"]
    fill_domain(dom, FOUND, "/nv", check_files=False)  # the template of the descriptor shipping it
    assert dom.os.nvram.template == "/fw/plain.vars"


def test_stateless_rules_and_refusals() -> None:
    with pytest.raises(XMLError, match="NVRAM is not permitted when loader is stateless"):
        _dom("|<loader readonly='yes' type='pflash' stateless='yes'>/a.fd</loader><nvram>/b.fd</nvram>")
    with pytest.raises(XMLError, match="NVRAM template is not permitted when loader is stateless"):
        _dom("|<loader readonly='yes' type='pflash' stateless='yes'>/a.fd</loader><nvram template='/t'/>")
    with pytest.raises(XMLError, match="stateless='yes'.*'efi'"):
        build_argv(_dom(" firmware='efi'|<loader stateless='yes'/>"))
    with pytest.raises(XMLError, match="Unable to find any firmware to satisfy 'efi'"):
        build_argv(_dom(" firmware='efi'|<firmware><feature enabled='yes' name='secure-boot'/></firmware>",
                        machine="pc-i440fx-7.2"))


def test_host_mode_reads_the_host_descriptors(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from pyvirt.qemu.argv_common import RuntimePaths

    monkeypatch.setattr(firmware, "SEARCH_DIRS", (str(tmp_path),))
    with pytest.raises(XMLError, match="no firmware descriptors"):
        build_argv(_dom(" firmware='efi'"), runtime=RuntimePaths())


def test_autoselection_takes_no_nvram_template() -> None:
    with pytest.raises(XMLError, match="nvram attribute 'template' cannot be specified"):
        build_argv(_dom(" firmware='efi'|<nvram template='/fw/plain.vars'/>"))


def _flash_nodes(argv: list[str]) -> dict[str, dict]:
    import json

    nodes = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-blockdev"]
    return {n["node-name"]: n for n in nodes if "pflash1" in n["node-name"]}


LOADER = "<loader readonly='yes' type='pflash'>/fw/plain.fd</loader>"


def test_nvram_as_a_storage_source() -> None:
    """libvirt 8.5's <nvram type=>: a file, a block device or a network image (no template)."""
    from pyvirt.daemon.firmware import nvram_path

    f = _flash_nodes(build_argv(_dom(f"|{LOADER}<nvram type='file'><source file='/v/a.fd'/></nvram>")))
    assert f["libvirt-pflash1-storage"]["driver"] == "file" and f["libvirt-pflash1-storage"]["filename"] == "/v/a.fd"
    b = _flash_nodes(build_argv(_dom(f"|{LOADER}<nvram type='block'><source dev='/dev/vg/vars'/></nvram>")))
    assert b["libvirt-pflash1-storage"]["driver"] == "host_device"
    net = (f"|{LOADER}<nvram type='network'><source protocol='iscsi' name='iqn.2020-01.x:t/1'><host name='san'/>"
           "<auth username='u'><secret type='iscsi' usage='s'/></auth></source></nvram>")
    dom = _dom(net)
    n = _flash_nodes(build_argv(dom))["libvirt-pflash1-storage"]
    assert (n["driver"], n["lun"], n["user"], n["password-secret"]) == (
        "iscsi", 1, "u", "libvirt-pflash1-storage-auth-secret0")
    assert nvram_path(dom, Path("/nv")) is None  # nothing on this host to keep or remove
    with pytest.raises(XMLError, match="not supported for network-backed NVRAM"):
        build_argv(_dom(net.replace("<nvram type='network'>", "<nvram type='network' template='/t'>")))


@pytest.mark.parametrize("os_, features, message", [
    (" firmware='efi'|<loader readonly='yes'/>", "<acpi/>", "loader attribute 'readonly' cannot be specified"),
    (" firmware='efi'|<loader>/fw/plain.fd</loader>", "<acpi/>", "loader attribute 'type' cannot be specified"),
    (" firmware='efi'|<loader secure='no'/>", "<acpi/>", "loader attribute 'secure' cannot be specified"),
    ("|<loader readonly='yes' type='pflash'/>", "<acpi/>", "no loader path specified and firmware auto selection"),
    ("|<loader readonly='yes' type='pflash'>/fw/plain.fd</loader>", "", "UEFI requires ACPI on this architecture"),
    (" firmware='efi'", "", "UEFI requires ACPI on this architecture"),
    # a wish for NVRAM where none can be (qemuFirmwareFillDomain)
    (" firmware='bios'|<loader stateless='no'/>", "<acpi/>", "^Only EFI firmware permits NVRAM"),
    ("|<loader stateless='no'>/fw/bios.bin</loader>", "", "^Only pflash loader type permits NVRAM"),
    ("|<loader type='rom' stateless='no'>/fw/bios.bin</loader>", "", "^Only pflash loader type permits NVRAM"),
])
def test_loader_rules_of_libvirt_9_0(os_: str, features: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        build_argv(_dom(os_, features=features))


def test_nvram_wish_checked_before_autoselection_replaces_the_loader() -> None:
    """pyvirtd resolves firmware before the argv: the refusal names the 'bios' wish, not the ROM
    loader autoselection would put in its place; an EFI wish for NVRAM is kept."""
    with pytest.raises(XMLError, match="Only EFI firmware permits NVRAM"):
        fill_domain(_dom(" firmware='bios'|<loader stateless='no'/>"), FOUND, "/nv")
    dom = _dom(" firmware='efi'|<loader stateless='no'/>")
    fill_domain(dom, FOUND, "/nv", check_files=False)
    assert dom.os.loader.type == "pflash" and dom.os.nvram.path == "/nv/g_VARS.fd"


def test_stateless_loader_has_no_nvram_flash() -> None:
    argv = build_argv(_dom("|<loader readonly='yes' type='pflash' stateless='yes'>/fw/plain.fd</loader>",
                           machine="pc-i440fx-7.2"))
    assert "pflash0=libvirt-pflash0-format" in _machine(argv) and "pflash1" not in _machine(argv)
    assert _pflash_files(argv) == ["/fw/plain.fd"]
