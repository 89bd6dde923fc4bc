"""Cockpit Machines 288 against pyvirt-dbus, with no libvirt daemon in the way: Debian's
cockpit-ws and cockpit-bridge, the cockpit-machines package, headless Chromium (Playwright).

One Cockpit session, one `qemu:///system` pyvirtd over a private state root and one guest for
the module (tests.cockpit_stack says why root and a private system bus), walked through in
order as a person would: the VM list shows pyvirt's guest with its live state, Run starts it,
its overview opens, its serial console and a second guest's VNC console connect, Shut down
(ACPI) stops it, and the "Create VM" dialog creates a VM that
pyvirtd then owns (Cockpit runs `virt-install --print-xml` and `virsh define`: pyvirt's, from
`make install-compat`).  Screenshots go to .cache/cockpit-screenshots/.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvirt.api import DomainState, PyvirtError
from pyvirt.testguest import READY_MARKER, TestGuest
from tests import cockpit_stack
from tests.daemon_harness import DaemonHarness, wait_console, wait_state

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]  # root (CI); a container's small /dev/shm
SHOTS = Path(__file__).resolve().parents[2] / ".cache" / "cockpit-screenshots"
GUEST = "ckguest"
CREATED = "ckcreated"
VNC_GUEST = "ckvnc"

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

if not os.path.exists(CHROMIUM):
    pytest.skip("chromium not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def env(test_guest: TestGuest) -> Iterator[dict[str, Any]]:
    lacking = cockpit_stack.missing()
    if lacking:
        pytest.skip(f"not available: {', '.join(lacking)}")
    folder = Path(tempfile.mkdtemp(prefix="pvck-", dir="/tmp"))
    (folder / "state").mkdir()
    daemon = DaemonHarness(folder / "state", uri="qemu:///system",
                           env={"PYVIRT_NETWORK_AUTOSTART": "0"})  # a system pyvirtd: leave the host's networks alone
    daemon.start()
    stack = cockpit_stack.CockpitStack(folder / "cockpit", daemon.root)
    conn = daemon.connect()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        stack.start()
        conn.define_xml(test_guest.domain_xml(GUEST, memory_mib=192))
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            frames: list[str] = []  # what Cockpit's websocket brings the page (consoles' output)
            page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(
                data if isinstance(data, str) else data.decode("utf-8", "replace"))))
            t0 = time.monotonic()
            page.goto(stack.url)  # one page load: cockpit-ws --local-session serves one session
            try:
                yield {"daemon": daemon, "conn": conn, "stack": stack, "page": page, "t0": t0,
                       "errors": errors, "folder": folder, "frames": frames,
                       "test_guest": test_guest}
            finally:
                browser.close()
    finally:
        conn.close()
        stack.stop()
        daemon.stop()
        daemon.kill_all_guests()
        subprocess.run(["rm", "-rf", str(folder)], check=False)


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def details(page: Any, name: str) -> Any:
    """The Overview card of `name`'s page, once that page shows (its breadcrumb names it)."""
    page.locator(".pf-c-breadcrumb").get_by_text(name, exact=True).wait_for(timeout=90_000)
    return page.locator(".pf-c-card", has=page.get_by_role("heading", name="Overview"))


def row(page: Any, name: str) -> Any:
    return page.locator("tbody tr", has=page.get_by_role("link", name=name, exact=True))


def test_vm_list_shows_the_guest_with_its_state(env: dict[str, Any]) -> None:
    page = env["page"]
    row(page, GUEST).get_by_text("Shut off", exact=True).wait_for()
    shot(page, "01-vm-list")
    assert row(page, GUEST).get_by_text("System").count() == 1  # the system connection's guest


def test_run_from_the_list(env: dict[str, Any]) -> None:
    page, conn = env["page"], env["conn"]
    row(page, GUEST).get_by_role("button", name="Run").click()
    row(page, GUEST).get_by_text("Running", exact=True).wait_for()  # from the DomainEvent signal
    assert conn.get_info(GUEST).state == DomainState.RUNNING  # pyvirtd started it
    wait_console(conn, GUEST, READY_MARKER, timeout=120)  # booted: it will answer the ACPI button
    shot(page, "02-running")


def test_overview(env: dict[str, Any]) -> None:
    page = env["page"]
    page.get_by_role("link", name=GUEST, exact=True).click()
    overview = details(page, GUEST)
    overview.get_by_text("Running", exact=True).wait_for()
    assert "192" in overview.inner_text()  # memory, read from GetXMLDesc
    shot(page, "03-overview")
    page.get_by_role("link", name="Virtual machines").first.click()
    row(page, GUEST).wait_for()


def test_serial_console_shows_the_guest(env: dict[str, Any]) -> None:
    """The Console card runs `virsh console` (pyvirt's, by that name) in a pty: a line typed into
    its terminal reaches the guest's shell, and the shell's answer reaches the page. The terminal
    draws on a canvas, so the answer is read from Cockpit's websocket frames."""
    page, frames = env["page"], env["frames"]
    page.get_by_role("link", name=GUEST, exact=True).click()
    details(page, GUEST).get_by_text("Running", exact=True).wait_for()
    terminal = page.locator(".xterm")
    terminal.wait_for()
    answered = lambda: any("pv-42" in f for f in frames)  # noqa: E731 - only $((6*7)) evaluated gives it
    deadline = time.monotonic() + 90
    while not answered() and time.monotonic() < deadline:
        terminal.click()
        page.keyboard.type("echo pv-$((6*7))")
        page.keyboard.press("Enter")
        end = time.monotonic() + 5
        while not answered() and time.monotonic() < end:
            page.wait_for_timeout(250)
    shot(page, "04-serial-console")
    assert answered(), frames[-20:]
    page.get_by_role("link", name="Virtual machines").first.click()
    row(page, GUEST).wait_for()


def test_vnc_console_reaches_the_guests_display(env: dict[str, Any]) -> None:
    """A guest with a VNC display: the Console card's graphics console (noVNC, over a Cockpit
    channel to the port pyvirt's live XML reports) completes the RFB handshake with QEMU's VNC
    server (Cockpit offers consoles of running guests only, not paused ones)."""
    page, conn, frames = env["page"], env["conn"], env["frames"]
    display = "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>"
    conn.define_xml(env["test_guest"].domain_xml(VNC_GUEST, memory_mib=128, extra_devices=display))
    conn.start(VNC_GUEST)
    try:
        page.get_by_role("link", name=VNC_GUEST, exact=True).click()
        details(page, VNC_GUEST)
        handshake = lambda: any("RFB 003." in f for f in frames)  # noqa: E731 - QEMU's greeting
        deadline = time.monotonic() + 60
        while not handshake() and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        shot(page, "05-vnc-console")
        assert handshake(), frames[-20:]
        # back to the list while the guest still exists: its page re-renders once it is gone
        page.get_by_role("link", name="Virtual machines").first.click()
        row(page, GUEST).wait_for()
    finally:
        conn.destroy(VNC_GUEST)
        conn.undefine(VNC_GUEST)
    row(page, VNC_GUEST).wait_for(state="detached")


def test_shut_down_from_the_list(env: dict[str, Any]) -> None:
    page, conn = env["page"], env["conn"]
    row(page, GUEST).get_by_role("button", name="Shut down").click()
    row(page, GUEST).get_by_text("Shut off", exact=True).wait_for(timeout=90_000)
    wait_state(conn, GUEST, DomainState.SHUTOFF, timeout=10)  # pyvirtd stopped it (ACPI)
    shot(page, "06-shut-off")


def test_create_vm_dialog_defines_a_vm_pyvirtd_owns(env: dict[str, Any]) -> None:
    page, conn, folder = env["page"], env["conn"], env["folder"]
    iso = folder / "install.iso"
    content = folder / "iso"
    content.mkdir()
    (content / "README").write_text("pyvirt cockpit test\n")
    subprocess.run(["genisoimage", "-quiet", "-V", "CKTEST", "-o", str(iso), str(content)], check=True)
    with pytest.raises(PyvirtError):
        conn.lookup_domain(CREATED)
    page.get_by_role("button", name="Create VM").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(CREATED)
    # pyvirt's virt-install answers `--install=?` as virt-install 4.1 does, so Cockpit offers
    # "Download an OS" and makes it the default installation type: choose the local ISO
    dialog.get_by_label("Installation type").select_option(
        label="Local install media (ISO image or distro install tree)")
    source = dialog.get_by_placeholder("Path to ISO file on host's file system")
    source.fill(str(iso))
    page.get_by_role("option", name=str(iso)).click()
    system = dialog.get_by_placeholder("Choose an operating system")
    system.fill("Debian")  # Cockpit offers the OSes osinfo-db says are current: Debian testing
    page.get_by_role("option", name="Debian testing").click()
    dialog.get_by_label("Storage", exact=True).select_option(label="No storage")
    shot(page, "07-create-dialog")
    dialog.get_by_role("button", name="Create and edit").click()
    details(page, CREATED)  # Cockpit opened the new VM's page
    page.get_by_text("Please start the virtual machine to access its console").wait_for()
    shot(page, "08-created")
    info = conn.lookup_domain(CREATED)  # pyvirtd owns it
    assert info.persistent and info.state == DomainState.SHUTOFF
    xml = conn.get_xml(CREATED, inactive=True)
    assert str(iso) in xml and "cockpit_machines" in xml, xml  # the medium; Cockpit's own metadata
    assert "debiantesting" in xml  # the chosen OS, as libosinfo metadata
    assert not env["errors"], env["errors"]
