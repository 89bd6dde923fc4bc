"""The managed persistent-reservation helper: pyvirtd's qemu-pr-helper for a guest with
``<reservations managed='yes'/>`` listens where the command line's ``pr-manager-helper`` object
connects; real QEMU 7.2 connects to it and starts; every end of the guest stops it (its identity
is kept in the guest's directory).  A session daemon refuses it, naming why."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon import guesthelpers, prhelper
from pyvirt.qemu import process
from pyvirt.qemu.argv import RuntimePaths, build_argv
from pyvirt.xml import fill_defaults, parse_domain

pytestmark = [pytest.mark.qemu, pytest.mark.skipif(
    shutil.which("qemu-system-x86_64") is None or shutil.which("qemu-pr-helper") is None,
    reason="QEMU and qemu-pr-helper needed")]

XML = """<domain type='qemu'><name>pr</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
<disk type='block' device='lun'><driver name='qemu' type='raw'/><source dev='/dev/null'>
<reservations managed='yes'/></source><target dev='sda' bus='scsi'/></disk></devices></domain>"""


def test_helper_serves_qemus_pr_manager_and_stops_with_the_guest(tmp_path: Path) -> None:
    dom = fill_defaults(parse_domain(XML))
    with pytest.raises(PyvirtError, match="session daemon cannot run it"):
        prhelper.check(dom, privileged=False)
    (ident,) = prhelper.start(dom, tmp_path, tmp_path / "pr.log")
    try:
        sock = tmp_path / prhelper.SOCKET
        assert sock.is_socket() and json.loads((tmp_path / "pr-helper0.helper.json").read_text())["pid"] == ident.pid
        argv = build_argv(dom, runtime=RuntimePaths(domain_dir=str(tmp_path)))
        (helper,) = [json.loads(argv[i + 1]) for i, a in enumerate(argv) if a == "-object" and "pr-manager" in argv[i + 1]]
        assert helper == {"qom-type": "pr-manager-helper", "id": "pr-helper0", "path": str(sock)}
        # QEMU connects when it makes the object: it stays up only if the helper answers
        qemu = subprocess.Popen(["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none",
                                 "-S", "-monitor", "none", "-object", json.dumps(helper)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            time.sleep(1.5)
            assert qemu.poll() is None, qemu.stdout.read().decode() if qemu.stdout else ""
        finally:
            qemu.kill()
            qemu.wait()
    finally:
        guesthelpers.stop_all(tmp_path)  # what store.clear_runtime does at every end of the guest
    deadline = time.monotonic() + 60
    while process.identity_alive(ident) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process.identity_alive(ident)
