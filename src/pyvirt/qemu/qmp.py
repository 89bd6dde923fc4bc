"""Thin helpers over the ``qemu.qmp`` library: listen, connect with a deadline, execute, sync probes.

pyvirtd uses ``QMPClient`` directly (it needs the event stream); these helpers only remove
the boilerplate every caller would otherwise repeat: a monitor socket bound *before* QEMU
starts (so there is no race polling for a socket file, as libvirt does with its fd=N
monitor), a connect that gives up after a timeout, and a synchronous one-shot session for
probes that just want a few replies.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qemu.qmp import QMPClient
from qemu.qmp.error import QMPError

__all__ = ["QMPClient", "QMPError", "listen_unix", "connect", "execute", "run_commands"]

Command = tuple[str, Mapping[str, Any] | None]


def listen_unix(path: str | Path) -> socket.socket:
    """A listening unix socket for ``-chardev socket,fd=N,server=on,wait=off`` (inheritable fd).

    Because it is bound and listening before QEMU runs, a client may connect at once: the
    kernel queues the connection until QEMU accepts it.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        sock.listen(1)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


async def connect(address: str | Path, timeout: float = 5.0, name: str | None = None) -> QMPClient:
    """Connect and negotiate capabilities; retry while the socket is not there yet, up to ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        client = QMPClient(name)
        try:
            await asyncio.wait_for(client.connect(str(address)), max(0.01, deadline - loop.time()))
            return client
        except (QMPError, OSError) as exc:
            # FileNotFoundError / ConnectionRefused are wrapped by qemu.qmp; retry until the deadline.
            if loop.time() >= deadline:
                raise TimeoutError(f"QMP connect to {address} timed out: {exc}") from exc
            await asyncio.sleep(0.01)


async def execute(
    client: QMPClient, cmd: str, arguments: Mapping[str, Any] | None = None, timeout: float | None = 10.0
) -> Any:
    """``client.execute`` with a timeout: a wedged QEMU must not wedge its caller."""
    return await asyncio.wait_for(client.execute(cmd, arguments), timeout)


async def _run(address: str | Path, commands: Sequence[Command], timeout: float) -> list[Any]:
    client = await connect(address, timeout)
    try:
        results = []
        for cmd, args in commands:
            results.append(await execute(client, cmd, args, timeout))
        return results
    finally:
        await client.disconnect()


def run_commands(address: str | Path, commands: Sequence[Command], timeout: float = 5.0) -> list[Any]:
    """Synchronously connect, run ``commands`` in order and return their replies (for probes and tools)."""
    return asyncio.run(_run(address, commands, timeout))
