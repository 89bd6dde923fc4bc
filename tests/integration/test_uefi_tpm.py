"""UEFI with Secure Boot and a TPM, with the real test guest under TCG, through pyvirtd.

One boot (OVMF under TCG takes about a minute): ``<os firmware='efi'>`` with secure-boot and
enrolled-keys wished (Debian's OVMF with Microsoft's keys enrolled: Secure Boot is on, and OVMF's
direct kernel boot still starts the guest's kernel, which reports it and locks itself down) on
q35 with SMM, per-domain NVRAM from the template, and an emulated TPM 2.0 manufactured by
swtpm_setup: the guest sees EFI, Secure Boot, /dev/tpm0 and the TPM2 ACPI table; swtpm runs with
the guest and ends with it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.qemu import process
from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, guest_shell, guest_xml, wait_console

FIRMWARE = ("<firmware><feature enabled='yes' name='secure-boot'/><feature enabled='yes' name='enrolled-keys'/>"
            "</firmware>")
TPM = "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>"


def _swtpm_pids(root: Path) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            cmd = process.cmdline(int(entry.name))
            if cmd and cmd[0].endswith("swtpm") and any(str(root) in c for c in cmd):
                out.append(int(entry.name))
    return out


def test_uefi_secure_boot_guest_with_tpm(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    if not Path("/usr/share/qemu/firmware").is_dir():
        pytest.skip("ovmf is not installed (make deps)")
    xml = guest_xml(test_guest, "efi", extra_devices=TPM).replace("<os>", "<os firmware='efi'>")
    xml = xml.replace("machine='pc'>hvm</type>", f"machine='q35'>hvm</type>{FIRMWARE}")
    conn = daemon.connect()
    conn.define_xml(xml)
    assert "firmware='efi'" in conn.get_xml("efi", inactive=True)
    with pytest.raises(PyvirtError, match="pflash based firmware are not supported"):
        conn.snapshot_create("efi", "<domainsnapshot/>")  # the NVRAM would be left out
    conn.start("efi")
    live = conn.get_xml("efi")
    assert "OVMF_CODE_4M.ms.fd" in live and "OVMF_VARS_4M.ms.fd" in live and "<smm state='on'/>" in live
    nvram = daemon.root / "data" / "nvram" / "efi_VARS.fd"
    assert nvram.is_file() and f">{nvram}</nvram>" in live
    assert _swtpm_pids(daemon.root), "swtpm did not start with the guest"
    wait_console(conn, "efi", READY_MARKER, 300)
    out = guest_shell(conn, "efi", "[ -d /sys/firmware/efi ] && echo EFI=yes; ls /dev/tpm0 "
                                   "/sys/firmware/acpi/tables/TPM2; dmesg | grep secureboot:", "STEP-1")
    assert "EFI=yes" in out and "/dev/tpm0" in out and "No such file" not in out, out
    assert "secureboot: Secure boot enabled" in out, out
    conn.destroy("efi")
    deadline = time.monotonic() + 60
    while _swtpm_pids(daemon.root) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _swtpm_pids(daemon.root), "swtpm outlived its guest"
    assert nvram.is_file()  # the guest's variables stay for its next boot


def test_nvram_and_tpm_state_at_undefine_and_start(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    """libvirt's rules without booting the firmware: a domain with a variable store refuses a plain
    undefine (nothing removed), --keep-nvram keeps the file, --nvram deletes it; an emulated TPM's
    state goes with the domain unless --keep-tpm; start --reset-nvram copies the template afresh."""
    code, template = Path("/usr/share/OVMF/OVMF_CODE_4M.fd"), Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
    if not (code.exists() and template.exists()):
        pytest.skip("ovmf is not installed (make deps)")
    conn = daemon.connect()
    vars_file = daemon.root / "own_VARS.fd"
    loader = (f"<loader readonly='yes' type='pflash'>{code}</loader>"
              f"<nvram template='{template}'>{vars_file}</nvram>")
    xml = guest_xml(test_guest, "nv", extra_devices=TPM).replace("machine='pc'>hvm</type>",
                                                                 f"machine='pc'>hvm</type>{loader}")
    info = conn.define_xml(xml)
    saved = conn.get_xml("nv", inactive=True)  # the same UUID when defined again
    vars_file.write_bytes(b"changed by the guest")
    conn.start("nv", paused=True, reset_nvram=True)  # paused: the firmware never runs
    assert vars_file.read_bytes() == template.read_bytes()
    tpm_state = daemon.root / "data" / "swtpm" / info.uuid
    assert tpm_state.is_dir()  # swtpm started with the guest and keeps its state there
    # manufactured by swtpm_setup first, as libvirt does: EK, its certificate, platform certificate
    assert (tpm_state / "tpm2" / "tpm2-00.permall").is_file()
    setup_log = (daemon.root / "log" / "qemu" / "nv-swtpm.log").read_text()
    assert "Successfully created EK certificate" in setup_log and "Successfully authored TPM state" in setup_log
    conn.destroy("nv")
    with pytest.raises(PyvirtError, match="cannot undefine domain with nvram"):
        conn.undefine("nv")
    assert conn.lookup_domain("nv").name == "nv" and vars_file.exists() and tpm_state.is_dir()
    conn.undefine("nv", keep_nvram=True, keep_tpm=True)
    assert vars_file.exists() and tpm_state.is_dir()
    conn.define_xml(saved)
    conn.undefine("nv", nvram=True)
    assert not vars_file.exists() and not tpm_state.exists()


def test_external_snapshot_keeps_the_uefi_variables(daemon: DaemonHarness, test_guest: TestGuest,
                                                    guest_disk: Path) -> None:
    """An external snapshot of a UEFI guest keeps its variable store and a revert puts it back
    (--reset-nvram: the template's instead); internal ones stay refused (libvirt's rule).  The
    guest stays paused: the firmware never runs, so the store's bytes are the test's own."""
    code, template = Path("/usr/share/OVMF/OVMF_CODE_4M.fd"), Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
    if not (code.exists() and template.exists()):
        pytest.skip("ovmf is not installed (make deps)")
    conn = daemon.connect()
    vars_file, mem = daemon.root / "uvs_VARS.fd", daemon.root / "uvs.mem"
    blank = template.read_bytes()
    marked, changed = blank[:-16] + b"PYVIRT-SNAPSHOT!", blank[:-16] + b"CHANGED-AFTER-S1"
    vars_file.write_bytes(marked)
    loader = (f"<loader readonly='yes' type='pflash'>{code}</loader>"
              f"<nvram template='{template}'>{vars_file}</nvram>")
    conn.define_xml(guest_xml(test_guest, "uvs", disk=guest_disk).replace(
        "machine='pc'>hvm</type>", f"machine='pc'>hvm</type>{loader}"))
    conn.start("uvs", paused=True)
    with pytest.raises(PyvirtError, match="pflash based firmware are not supported"):
        conn.snapshot_create("uvs", "<domainsnapshot><name>int</name></domainsnapshot>")
    conn.snapshot_create("uvs", f"<domainsnapshot><name>s1</name><memory snapshot='external' file='{mem}'/>"
                                "</domainsnapshot>")
    vars_file.write_bytes(changed)  # what the guest's firmware would have written since
    conn.snapshot_revert("uvs", "s1")
    assert vars_file.read_bytes() == marked and conn.get_state("uvs")[0] == 3  # paused, as it was taken
    good = mem.read_bytes()  # a damaged memory file: refused before anything changes
    mem.write_bytes(b"not a save image" + good[16:])
    vars_file.write_bytes(changed)
    before = conn.get_info("uvs")
    with pytest.raises(PyvirtError, match=f"image magic is incorrect in '{mem}'"):
        conn.snapshot_revert("uvs", "s1")
    assert conn.get_info("uvs").id == before.id and vars_file.read_bytes() == changed
    mem.write_bytes(good)
    conn.snapshot_revert("uvs", "s1", reset_nvram=True)
    assert vars_file.read_bytes() == blank
    kept = daemon.root / "data" / "nvram" / "snapshot" / "uvs" / "s1.fd"
    assert kept.read_bytes() == marked
    conn.snapshot_delete("uvs", "s1")
    assert not kept.exists() and not mem.exists()

    saved = daemon.root / "uvs.save"  # restore --reset-nvram: the template's too
    conn.save("uvs", str(saved))
    vars_file.write_bytes(changed)
    conn.restore(str(saved), reset_nvram=True)
    assert vars_file.read_bytes() == blank
    conn.destroy("uvs")
    # no template to copy from: refused before the store is touched
    conn.define_xml(conn.get_xml("uvs", inactive=True).replace(f" template='{template}'", ""))
    vars_file.write_bytes(changed)
    with pytest.raises(PyvirtError, match=f"unable to find any master var store for loader: {code}"):
        conn.start("uvs", reset_nvram=True)
    assert vars_file.read_bytes() == changed
