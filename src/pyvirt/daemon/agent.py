"""The QEMU guest agent client: one per running domain whose XML has the agent's channel,
``<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>``.

QEMU listens on the channel's unix socket (argv_chardev: the guest's private runtime dir plus the
port name, unless the XML gives a path) and relays bytes to the virtio port qemu-ga opens inside
the guest.  The host side stays connected across guest reboots, so stale replies are possible:
every command is preceded, as libvirt does, by a sync: a 0xFF byte (which resets the agent's JSON
parser), ``guest-sync-delimited`` with a random id, then everything up to the agent's 0xFF marker
and any reply not carrying that id is dropped.

Whether qemu-ga is there at all is QEMU's to say (VSERPORT_CHANGE, query-chardev's frontend-open):
`connected` is that state; while it is False every call fails at once with libvirt's "QEMU guest
agent is not connected" and a call waiting for an answer is woken.  Every read is bounded
(MAX_REPLY), every wait has the call's timeout: libvirt's numbers, -2 (the default: as long as
the agent stays connected and the guest runs), 0 (send, do not wait), or seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, agent_unresponsive

log = logging.getLogger(__name__)

#: the virtio port name of the QEMU guest agent (libvirt's and qemu-ga's default)
AGENT_PORT = "org.qemu.guest_agent.0"
#: the largest reply accepted (a guest's fsinfo or interface list is a few KiB)
MAX_REPLY = 4 * 1024 * 1024
#: libvirt's agent timeouts (virDomainAgentResponseTimeoutValues)
BLOCK, DEFAULT, NOWAIT = -2, -1, 0
#: how long the sync before each command may take (libvirt's QEMU_AGENT_WAIT_TIME)
SYNC_TIMEOUT = 5.0
#: commands qemu-ga answers only when they fail (success-response false): wait this long for an error
NO_REPLY_WAIT = 1.0
NOT_AVAILABLE = "Guest agent not available for now"
#: how long a call waits for the one before it (libvirt's job wait, QEMU_JOB_WAIT_TIME)
QUEUE_WAIT = 30.0


class AgentCommandError(PyvirtError):
    """The agent answered with an error; `klass` is its QMP class (CommandNotFound, GenericError…)."""

    def __init__(self, command: str, klass: str, desc: str) -> None:
        super().__init__(f"internal error: unable to execute QEMU agent command '{command}': {desc}",
                         ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU)
        self.klass = klass

    @property
    def unsupported(self) -> bool:
        return self.klass in ("CommandNotFound", "CommandDisabled")


def agent_channel(dom: Any) -> Any:
    """The domain's guest agent <channel> (None: it has none)."""
    if dom is None:
        return None
    for ch in dom.devices.channels:
        if ch.type == "unix" and ch.target_type == "virtio" and ch.target_name == AGENT_PORT:
            return ch
    return None


class AgentClient:
    """One domain's agent connection; calls are serialised (qemu-ga answers one at a time)."""

    def __init__(self, path: str, name: str, timeout: int = BLOCK) -> None:
        self.path = path
        self.name = name
        self.timeout = timeout
        self.connected: bool | None = None  # None: not known yet (ask QEMU)
        self._lock = asyncio.Lock()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._gone = asyncio.Event()  # set while the agent is away: wakes a call waiting for it

    # ------------------------------------------------------------------ state
    def set_connected(self, connected: bool) -> None:
        """QEMU says qemu-ga opened (True) or closed (False) its port: a guest reboot closes it,
        so the socket is dropped and the next call starts afresh."""
        self.connected = connected
        if connected:
            self._gone.clear()
        else:
            self._gone.set()
            self.close()

    def close(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        self._reader = self._writer = None

    # ------------------------------------------------------------------ calls
    async def command(self, execute: str, arguments: dict[str, Any] | None = None, *,
                      timeout: int | None = None, reply: bool = True) -> Any:
        """Run one agent command and return its "return" value.  `reply=False` is for the
        commands qemu-ga does not answer when they succeed (guest-shutdown, guest-suspend-*)."""
        request: dict[str, Any] = {"execute": execute}
        if arguments is not None:
            request["arguments"] = arguments
        answer = await self.raw(request, timeout=timeout, reply=reply)
        if answer is None:
            return None
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            raise AgentCommandError(execute, str(error.get("class", "")),
                                    str(error.get("desc") or error.get("class") or "unknown error"))
        return answer.get("return")

    async def raw(self, request: dict[str, Any], *, timeout: int | None = None, reply: bool = True
                  ) -> dict[str, Any] | None:
        """Send one request object; the agent's whole reply object (None: none awaited)."""
        seconds = self.timeout if timeout is None or timeout == DEFAULT else timeout
        if seconds == DEFAULT:
            seconds = BLOCK
        if not self.connected:
            raise agent_unresponsive()
        try:
            await asyncio.wait_for(self._lock.acquire(), QUEUE_WAIT)
        except TimeoutError:
            raise PyvirtError("Timed out during operation: cannot acquire state change lock (held by agent job)",
                              ErrorCode.OPERATION_TIMEOUT, ErrorDomain.QEMU) from None
        try:
            try:
                await self._open()
                await self._sync()
                assert self._writer is not None
                self._writer.write(json.dumps(request).encode() + b"\n")
                await self._writer.drain()
                if seconds == NOWAIT:
                    return None
                if not reply:
                    try:
                        return await self._wait(self._read_object(), NO_REPLY_WAIT)
                    except PyvirtError:
                        return None  # no error came: it is doing what it was asked (and may be gone)
                return await self._wait(self._read_object(), None if seconds == BLOCK else float(seconds))
            except (OSError, asyncio.IncompleteReadError) as exc:
                self.close()
                log.info("%s: guest agent connection lost: %s", self.name, exc)
                raise agent_unresponsive() from None
            except BaseException:
                self.close()  # a reply may still be on its way: the next call starts clean
                raise
        finally:
            self._lock.release()

    # ------------------------------------------------------------------ plumbing
    async def _open(self) -> None:
        if self._writer is not None and not self._writer.is_closing():
            return
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_unix_connection(self.path, limit=MAX_REPLY), SYNC_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            log.info("%s: cannot connect to the guest agent socket %s: %s", self.name, self.path, exc)
            raise agent_unresponsive() from None

    async def _sync(self) -> None:
        """guest-sync-delimited with a random id; everything before the matching reply is dropped."""
        assert self._writer is not None and self._reader is not None
        ident = secrets.randbelow(2**31 - 1) + 1
        sync = {"execute": "guest-sync-delimited", "arguments": {"id": ident}}
        self._writer.write(b"\xff" + json.dumps(sync).encode() + b"\n")
        await self._writer.drain()

        async def matched() -> None:
            assert self._reader is not None
            await self._bounded(self._reader.readuntil(b"\xff"))
            while True:
                obj = await self._read_object()
                if obj.get("return") == ident:
                    return

        await self._wait(matched(), SYNC_TIMEOUT)

    async def _read_object(self) -> dict[str, Any]:
        """The next JSON object the agent sends (lines that are not one are skipped)."""
        assert self._reader is not None
        while True:
            line = (await self._bounded(self._reader.readuntil(b"\n"))).strip(b"\xff \r\n")
            if not line:
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):  # nested past the parser's depth: not JSON to us
                log.info("%s: guest agent sent something that is not JSON: %.80r", self.name, line)
                continue
            if isinstance(obj, dict):
                return obj

    async def _bounded(self, read: Any) -> bytes:
        try:
            return bytes(await read)
        except asyncio.LimitOverrunError:
            self.close()
            raise PyvirtError(f"internal error: guest agent reply larger than {MAX_REPLY} bytes",
                              ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU) from None
        except asyncio.IncompleteReadError:
            raise agent_unresponsive() from None

    async def _wait(self, work: Any, seconds: float | None) -> Any:
        """`work` until done, the agent goes away (agent_unresponsive) or `seconds` pass."""
        task = asyncio.ensure_future(work)
        gone = asyncio.ensure_future(self._gone.wait())
        try:
            done, _ = await asyncio.wait({task, gone}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if task in done:
            return task.result()
        if gone in done:
            raise agent_unresponsive()
        raise agent_unresponsive(NOT_AVAILABLE)
