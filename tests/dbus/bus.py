"""A private D-Bus session bus, a pyvirt-dbus on it, and a small blocking client for tests.

The client is dbus-fast's asyncio MessageBus run on a background loop, so tests stay plain
functions: ``call(path, iface, member, signature, *args)`` returns the reply body or raises
:class:`DBusError` (with the error's D-Bus name), and ``signals()`` collects what the service
emits from the moment it is created.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

TEST = "/org/libvirt/Test"
QEMU = "/org/libvirt/QEMU"
CONNECT = "org.libvirt.Connect"
DOMAIN = "org.libvirt.Domain"
PROPS = "org.freedesktop.DBus.Properties"


class DBusError(Exception):
    def __init__(self, name: str, text: str) -> None:
        super().__init__(f"{name}: {text}")
        self.name = name
        self.text = text


class PrivateBus:
    """dbus-daemon --session on a socket of our own (never the user's bus)."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("dbus-daemon") is None:
            pytest.skip("dbus-daemon not installed (apt-get install dbus-daemon)")
        self.socket = folder / "bus"
        self.address = f"unix:path={self.socket}"
        self.proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", f"--address={self.address}",
                                      "--print-address"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # printed once it listens

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class ServiceProcess:
    """pyvirt-dbus --session on the private bus, its QEMU object pointed at `state_root`; with
    `system`, pyvirt-dbus --system (QEMU object: qemu:///system) with the private bus standing in
    for the system bus."""

    def __init__(self, bus: PrivateBus, state_root: Path, log: Path, system: bool = False) -> None:
        variable = "DBUS_SYSTEM_BUS_ADDRESS" if system else "DBUS_SESSION_BUS_ADDRESS"
        env = dict(os.environ, PYVIRT_STATE_ROOT=str(state_root), **{variable: bus.address})
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "pyvirt.dbus.main",
                                          "--system" if system else "--session"], env=env,
                                         stdout=out, stderr=out, start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class Client:
    def __init__(self, address: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        async def connect() -> MessageBus:
            return await MessageBus(bus_address=address, negotiate_unix_fd=True).connect()

        self.bus: MessageBus = self._run(connect())
        self._queues: list[queue.SimpleQueue[Message]] = []
        self.bus.add_message_handler(self._on_message)
        self.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s",
                  "type='signal',sender='org.libvirt'", destination="org.freedesktop.DBus")

    def _run(self, coro: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def _on_message(self, msg: Message) -> None:
        if msg.message_type == MessageType.SIGNAL and msg.path and msg.path.startswith("/org/libvirt"):
            for q in list(self._queues):
                q.put(msg)

    def call(self, path: str, iface: str | None, member: str, signature: str = "", *args: Any,
             destination: str = "org.libvirt", timeout: float = 60) -> list[Any]:
        msg = Message(destination=destination, path=path, interface=iface, member=member,
                      signature=signature, body=list(args))
        reply = self._run(self.bus.call(msg), timeout)
        if reply.message_type == MessageType.ERROR:
            raise DBusError(reply.error_name or "", reply.body[0] if reply.body else "")
        return list(reply.body)

    def call_fds(self, path: str, iface: str, member: str, signature: str, *args: Any,
                 fds: list[int] | None = None) -> tuple[list[Any], list[int]]:
        """A call that sends descriptors (`h` values index `fds`): the reply body and the
        descriptors it carried (the caller's to close)."""
        msg = Message(destination="org.libvirt", path=path, interface=iface, member=member,
                      signature=signature, body=list(args), unix_fds=list(fds or []))
        reply = self._run(self.bus.call(msg), 60)
        if reply.message_type == MessageType.ERROR:
            for fd in reply.unix_fds or ():
                os.close(fd)
            raise DBusError(reply.error_name or "", reply.body[0] if reply.body else "")
        return list(reply.body), list(reply.unix_fds or [])

    def one(self, path: str, iface: str, member: str, signature: str = "", *args: Any) -> Any:
        (value,) = self.call(path, iface, member, signature, *args)
        return value

    def get_all(self, path: str, iface: str) -> dict[str, Any]:
        """GetAll's values (each sent as a variant of the property's variant, as libvirt-dbus)."""
        return {k: v.value for k, v in unwrap_params(self.one(path, PROPS, "GetAll", "s", iface)).items()}

    def get(self, path: str, iface: str, name: str) -> Any:
        return self.one(path, PROPS, "Get", "ss", iface, name).value

    @contextlib.contextmanager
    def signals(self) -> Iterator[queue.SimpleQueue[Message]]:
        q: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._queues.append(q)
        try:
            yield q
        finally:
            self._queues.remove(q)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.bus.disconnect()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def unwrap_params(answer: dict[str, Variant]) -> dict[str, Variant]:
    """An a{sv} of typed parameters or of GetAll, as libvirt-dbus 1.4.1 sends it (each value a
    variant holding the value's variant), with the outer variant checked and taken off."""
    for name, value in answer.items():
        assert value.signature == "v", f"{name}: {value.signature}, not a variant of a variant"
    return {name: value.value for name, value in answer.items()}


def wait_signal(q: queue.SimpleQueue[Message], member: str, body_match: Any, timeout: float = 30) -> Message:
    """The first signal `member` whose body satisfies `body_match(body)`."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {member} signal matching; saw {seen}")
        try:
            msg = q.get(timeout=left)
        except queue.Empty:
            continue
        seen.append((msg.member, msg.body))
        if msg.member == member and body_match(msg.body):
            return msg


def wait_owned(client: Client, service: ServiceProcess, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        (has,) = client.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", "s",
                             "org.libvirt", destination="org.freedesktop.DBus")
        if has:
            return
        if not service.alive() or time.monotonic() > deadline:
            raise RuntimeError(f"pyvirt-dbus did not take org.libvirt: {service.log.read_text()[-3000:]}")
        time.sleep(0.05)


@contextlib.contextmanager
def running_service(folder: Path, state_root: Path,
                    system: bool = False) -> Iterator[tuple[PrivateBus, ServiceProcess, Client]]:
    """A private bus with pyvirt-dbus on it and a client; everything stopped afterwards."""
    bus = PrivateBus(folder)
    service = client = None
    try:
        service = ServiceProcess(bus, state_root, folder / "pyvirt-dbus.log", system)
        client = Client(bus.address)
        wait_owned(client, service)
        yield bus, service, client
    finally:
        if client is not None:
            client.close()
        if service is not None:
            service.stop()
        bus.stop()
