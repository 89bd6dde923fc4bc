"""Sockets QEMU binds in a guest's runtime dir must fit AF_UNIX's limit, or start says why."""

from __future__ import annotations

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon.store import UNIX_PATH_MAX, DomainStore
from pyvirt.paths import state_paths
from pyvirt.qemu.argv_chardev import generated_socket_names
from pyvirt.xml import parse_domain

AGENT = """<domain type='qemu'><name>g</name><memory>65536</memory><os><type>hvm</type></os>
<devices><channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
<channel type='unix'><source mode='bind' path='/run/x.sock'/><target type='virtio' name='given'/></channel>
</devices></domain>"""


def test_generated_names_are_channels_without_a_path() -> None:
    assert generated_socket_names(parse_domain(AGENT)) == ["org.qemu.guest_agent.0"]


def test_agent_socket_too_long_is_refused_naming_it(tmp_path) -> None:
    store = DomainStore(state_paths("qemu:///session", tmp_path))
    monitor = str(store.runtime_files("g").monitor)
    # a root where the monitor still fits but the agent channel's socket does not
    room = UNIX_PATH_MAX - len(monitor.encode())
    name = "org.qemu.guest_agent.0" + "x" * max(0, room)
    store.check_runtime_paths("g", ["qmp.sock"])
    with pytest.raises(PyvirtError, match=r"socket path .*guest_agent.* longer than the 107 bytes"):
        store.check_runtime_paths("g", [name])
