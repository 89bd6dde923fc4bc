"""destroy --remove-logs (VIR_DOMAIN_DESTROY_REMOVE_LOGS): pyvirtd deletes the domain's QEMU log
and its rotations; libvirt's test driver refuses the flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon.driver import remove_domain_logs
from pyvirt.testdriver import open_test_connection


def test_only_the_domains_own_log_and_rotations_go(tmp_path: Path) -> None:
    names = ["vm.log", "vm.log.0", "vm.log.12", "vm-swtpm.log", "vm.log.old", "vm2.log", "vmx.log.1"]
    for n in names:
        (tmp_path / n).write_text("x")
    remove_domain_logs(tmp_path, "vm")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vm-swtpm.log", "vm.log.old", "vm2.log", "vmx.log.1"]


def test_test_driver_refuses_the_flag_and_keeps_the_domain_running() -> None:
    conn = open_test_connection("test:///default")
    with pytest.raises(PyvirtError, match=r"unsupported flags \(0x2\) in function testDomainDestroyFlags"):
        conn.destroy("test", graceful=True, remove_logs=True)
    assert conn.get_info("test").active
