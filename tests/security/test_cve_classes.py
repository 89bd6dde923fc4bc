"""One named test per class of libvirt CVE, showing pyvirt immune (issue 10 campaign).

Classes covered elsewhere, by name (docs/SECURITY.md lists them all):
  XXE / entity expansion       test_xml_limits.py::test_xxe_external_entity_is_not_resolved,
                               test_xml_limits.py::test_billion_laughs_is_refused
  unbounded monitor reads      test_monitor.py::test_unbounded_monitor_read_is_refused
  password in argv/logs        test_monitor.py::test_graphics_password_reaches_qemu_by_qmp_never_by_argv
  socket hijack (runtime dir)  test_runtime_dir.py::test_client_refuses_a_socket_served_by_another_user
Here: volume path traversal and access to the daemon's socket by another local user.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from tests.daemon_harness import DaemonHarness

NOBODY = 65534


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img")
def test_cve_class_volume_path_traversal(tmp_path: Path) -> None:
    """Volume names and paths never reach outside their pool (cf. CVE-2014-7823-style traversal)."""
    from pyvirt.storage import StorageDriver

    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.img"
    victim.write_bytes(b"do not touch")
    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images", default_pool=True)
    xml = "<volume><name>{}</name><capacity>4096</capacity><target><format type='raw'/></target></volume>"
    for name in ("../outside/victim.img", "../../etc/evil", "/etc/evil", "a/b", ".", "..", ""):
        with pytest.raises(PyvirtError):
            drv.create_volume_xml("default", xml.format(name))
    drv.create_volume_xml("default", xml.format("ok.img"))
    for name in ("../outside/victim.img", "/etc/passwd"):
        with pytest.raises(PyvirtError):
            drv.delete_volume("default", name)
        with pytest.raises(PyvirtError):
            drv.clone_volume("default", "ok.img", name)
        with pytest.raises(PyvirtError):
            drv.upload_volume("default", name, [b"x"])
    with pytest.raises(PyvirtError):
        drv.lookup_volume_by_path(str(victim))
    assert victim.read_bytes() == b"do not touch"
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["ok.img"]
    assert not (Path("/etc") / "evil").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_cve_class_socket_access_by_another_local_user(tmp_path: Path) -> None:
    """The daemon's socket is its owner's alone: 0600 in a 0700 dir; another user cannot connect."""
    tmp_path.chmod(0o755)  # let the other user reach the state root itself, as /run would
    harness = DaemonHarness(tmp_path)
    harness.start()
    try:
        sock_path = tmp_path / "run" / "pyvirtd.sock"
        st = os.lstat(sock_path)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.geteuid()
        assert stat.S_IMODE(os.lstat(tmp_path / "run").st_mode) == 0o700
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            os.close(read_end)
            code = b"?"
            try:
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                probe.connect(str(sock_path))
                code = b"connected"
            except PermissionError:
                code = b"denied"
            except OSError as exc:
                code = f"oserror {exc.errno}".encode()
            finally:
                os.write(write_end, code)
                os._exit(0)
        os.close(write_end)
        os.waitpid(pid, 0)
        answer = os.read(read_end, 100)
        os.close(read_end)
        assert answer == b"denied", answer
    finally:
        harness.stop()
