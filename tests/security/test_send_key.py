"""virDomainSendKey: every code set translated to the qnum numbers QEMU's send-key takes, as
libvirt's qemuDomainSendKey does, and the public API's own checks in both drivers.

pyvirtd sent linux codes as they were, as qnum numbers: right for the keys below 89, where the
two sets agree, but KEY_DELETE (111) became another key, so Cockpit's Ctrl+Alt+Del (linux 29,
56, 111) and the arrow keys did not reach the guest as pressed; a qnum code went as a QMP qcode,
which QEMU refuses.  The test driver took any code and even a read-only connection's keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.client import connect
from pyvirt.connection import check_send_key, send_key_qnum
from tests.security.fakedriver import domain_xml, run


def test_code_sets_translate_to_qnum() -> None:
    assert send_key_qnum("linux", [29, 56, 111]) == [0x1D, 0x38, 0xD3]  # Ctrl+Alt+Del
    assert send_key_qnum("linux", [103, 108, 105, 106]) == [0xC8, 0xD0, 0xCB, 0xCD]  # arrows
    assert send_key_qnum("usb", [4]) == [0x1E]  # USB HID 'a'
    assert send_key_qnum("qnum", [0x9C]) == send_key_qnum("rfb", [0x9C]) == [0x9C]
    # os_x and win32 go through libvirt's rows (their pages name keys in the set's own names: the
    # table had no qnum for nearly all of them); Ctrl+Alt+Del by virsh's key names for each set
    from pyvirt.cli.keycodes import keycode

    for codeset, keys in (("win32", "VK_CONTROL VK_MENU VK_DELETE"), ("os_x", "Control Option ForwardDelete")):
        assert send_key_qnum(codeset, [keycode(codeset, k) for k in keys.split()]) == [0x1D, 0x38, 0xD3]
    with pytest.raises(PyvirtError, match="cannot translate keycode 999 of linux codeset to qnum keycode"):
        send_key_qnum("linux", [999])
    with pytest.raises(PyvirtError, match="keycode set 'xt' is not supported by pyvirt") as xt:
        send_key_qnum("xt", [28])
    assert xt.value.code == ErrorCode.CONFIG_UNSUPPORTED
    with pytest.raises(PyvirtError, match="^nkeycodes must be <= 16$"):
        check_send_key(0, [30] * 17)
    with pytest.raises(PyvirtError, match="holdtime"):
        check_send_key(-1, [30])


def test_pyvirtd_sends_qnum_numbers(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("keys", emulator()))
        await drv.start("keys")
        sent: list[tuple[str, Any]] = []

        async def qmp(run: Any, command: str, args: Any = None) -> Any:
            sent.append((command, args))

        drv._qmp = qmp
        await drv.send_key("keys", "linux", 0, [29, 56, 111])
        await drv.send_key("keys", "qnum", 50, [0x9C])
        assert sent == [("send-key", {"keys": [{"type": "number", "data": q} for q in (0x1D, 0x38, 0xD3)]}),
                        ("send-key", {"keys": [{"type": "number", "data": 0x9C}], "hold-time": 50})]
        del drv._qmp
        await drv.destroy("keys")

    run(tmp_path, scenario)


def test_the_test_driver_checks_codes_and_read_only() -> None:
    with pytest.raises(PyvirtError, match="invalid keycode 999 of usb codeset"):
        connect("test:///default").send_key("test", "usb", 0, [999])
    with pytest.raises(PyvirtError, match="read only access prevents virDomainSendKey"):
        connect("test:///default", readonly=True).send_key("test", "linux", 0, [30])
