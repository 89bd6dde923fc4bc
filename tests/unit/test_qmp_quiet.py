"""pyvirt's QMP client formats messages for the log only when debug logging is on
(pyvirt.qemu.qmp._Client): qemu.qmp's hooks pretty-print every message before the logger can
decline it."""

from __future__ import annotations

import logging

import pytest
from qemu.qmp.message import Message

from pyvirt.qemu.qmp import _Client


class CountingMessage(Message):
    formatted = 0

    def __str__(self) -> str:
        CountingMessage.formatted += 1
        return super().__str__()


@pytest.mark.parametrize("level, formatted", [(logging.INFO, 0), (logging.DEBUG, 2)])
def test_messages_formatted_only_for_debug(caplog: pytest.LogCaptureFixture, level: int, formatted: int) -> None:
    client = _Client("quiet-test")
    CountingMessage.formatted = 0
    msg = CountingMessage({"execute": "query-status"})
    with caplog.at_level(level, logger=client.logger.name):
        assert client._cb_outbound(msg) is msg  # the message itself passes either way
        assert client._cb_inbound(msg) is msg
    assert CountingMessage.formatted == formatted
    assert ("query-status" in caplog.text) == (formatted > 0)
