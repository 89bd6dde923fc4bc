"""D-Bus displays (``<graphics type='dbus'>``): the private bus libvirt 9.0 runs for a guest
(qemuDBusStart) when the display is neither peer to peer (``p2p='yes'``) nor on a bus the XML
names (``address=``).

pyvirtd writes the bus configuration libvirt writes (a bus of its own type, listening on
``<private dir>/dbus.sock``, EXTERNAL authentication, everything allowed among its peers), starts
``dbus-daemon`` as QEMU's user, waits for the socket (QEMU connects to it at start) and keeps its
identity so every end of the guest stops it (daemon/guesthelpers).  Clients (a D-Bus display
viewer) connect to that socket as QEMU's user.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.atomicio import write_atomic
from pyvirt.daemon import guesthelpers
from pyvirt.qemu import process
from pyvirt.xml.escape import escape_xml

CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>org.libvirt.qemu</type>
  <listen>unix:path={path}</listen>
  <auth>EXTERNAL</auth>
  <policy context='default'>
    <allow send_destination='*' eavesdrop='true'/>
    <allow eavesdrop='true'/>
    <allow own='*'/>
  </policy>
</busconfig>
"""


def needed(dom: Any) -> bool:
    """Whether the guest has a D-Bus display on a private bus pyvirtd must run."""
    return any(g.type == "dbus" and not g.p2p and not g.bus_address for g in dom.devices.graphics)


def start(dom: Any, private_dir: Path, log: Path, user: Any = None) -> list[process.ProcessIdentity]:
    """The guest's private bus, running and listening, as QEMU's `user`; nothing when not needed.
    On failure nothing is left running."""
    if not needed(dom):
        return []
    binary = shutil.which("dbus-daemon")
    if binary is None:
        raise PyvirtError("operation failed: a D-Bus display needs dbus-daemon, which is not installed (Debian "
                          "package 'dbus-daemon')", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
    from pyvirt.qemu.argv_devices import dbus_socket  # the argv builders load with the first guest started

    sock = Path(dbus_socket(str(private_dir)))
    config = private_dir / "dbus.conf"
    write_atomic(config, CONFIG.format(path=escape_xml(str(sock))).encode(), mode=0o644, durable=False)
    ident = guesthelpers.launch([binary, f"--config-file={config}", "--nofork", "--nopidfile", "--nosyslog"],
                                log, private_dir, "dbus", sock, run_as=user)
    return [ident]



