"""The guest agent client (daemon/agent.py) against a fake qemu-ga speaking the protocol on a
unix socket: the guest-sync-delimited handshake with a fresh random id before every command,
stale replies dropped, error replies in libvirt's words, bounded reads, per-call timeouts and
the "not connected" state.  The real qemu-ga is exercised in tests/integration/test_guest_agent.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.daemon import agent as agentmod
from pyvirt.daemon.agent import AgentClient, AgentCommandError
from pyvirt.daemon.agent_ops import _interface_params, _interfaces


class FakeAgent:
    """qemu-ga's wire behaviour: a 0xFF resets its parser (it answers with a parse error, as
    qemu-ga does), guest-sync-delimited answers 0xFF then the id, other commands from `answers`."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.sync_ids: list[int] = []
        self.received: list[dict[str, Any]] = []
        self.stale: list[bytes] = []   # sent before the next sync answer (leftovers of a reboot)
        self.delay: dict[str, float] = {}

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buf = b""
        while True:
            chunk = await reader.read(4096)
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.startswith(b"\xff"):
                    writer.write(b'{"error": {"class": "GenericError", "desc": "JSON parse error"}}\n')
                    line = line[1:]
                request = json.loads(line)
                name = request["execute"]
                if name == "guest-sync-delimited":
                    self.sync_ids.append(request["arguments"]["id"])
                    for stale in self.stale:
                        writer.write(stale)
                    self.stale = []
                    writer.write(b"\xff" + json.dumps({"return": request["arguments"]["id"]}).encode() + b"\n")
                    await writer.drain()
                    continue
                self.received.append(request)
                await asyncio.sleep(self.delay.get(name, 0))
                answer = self.answers.get(name, {"error": {"class": "CommandNotFound",
                                                           "desc": f"The command {name} has not been found"}})
                if answer is None:  # answers only on failure (guest-shutdown)
                    continue
                writer.write(answer if isinstance(answer, bytes) else json.dumps(answer).encode() + b"\n")
                await writer.drain()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _with_agent(tmp_path: Path, answers: dict[str, Any], body: Any) -> Any:
    fake = FakeAgent(answers)
    path = str(tmp_path / "qga.sock")
    server = await asyncio.start_unix_server(fake.serve, path)
    try:
        client = AgentClient(path, "vm", timeout=agentmod.BLOCK)
        client.set_connected(True)
        return await body(client, fake)
    finally:
        server.close()


def test_command_syncs_with_a_fresh_random_id_and_drops_stale_replies(tmp_path: Path) -> None:
    async def body(client: AgentClient, fake: FakeAgent) -> None:
        fake.stale = [b'{"return": {"host-name": "old"}}\n', b'{"return": 7}\n']
        assert await client.command("guest-get-host-name") == {"host-name": "vm1"}
        assert await client.command("guest-get-host-name") == {"host-name": "vm1"}
        assert len(fake.sync_ids) == 2 and fake.sync_ids[0] != fake.sync_ids[1]
        assert [r["execute"] for r in fake.received] == ["guest-get-host-name"] * 2

    run(_with_agent(tmp_path, {"guest-get-host-name": {"return": {"host-name": "vm1"}}}, body))


def test_error_reply_in_libvirts_words(tmp_path: Path) -> None:
    async def body(client: AgentClient, fake: FakeAgent) -> None:
        with pytest.raises(AgentCommandError) as info:
            await client.command("guest-ssh-get-authorized-keys", {"username": "root"})
        assert info.value.message == ("internal error: unable to execute QEMU agent command "
                                      "'guest-ssh-get-authorized-keys': no such user")
        with pytest.raises(AgentCommandError) as missing:
            await client.command("guest-nothing")
        assert missing.value.unsupported and "has not been found" in missing.value.message
        assert fake.received[0]["arguments"] == {"username": "root"}

    run(_with_agent(tmp_path, {"guest-ssh-get-authorized-keys": {
        "error": {"class": "GenericError", "desc": "no such user"}}}, body))


def test_not_connected_fails_at_once(tmp_path: Path) -> None:
    async def body(client: AgentClient, fake: FakeAgent) -> None:
        client.set_connected(False)
        with pytest.raises(PyvirtError) as info:
            await client.command("guest-ping")
        assert info.value.message == "Guest agent is not responding: QEMU guest agent is not connected"
        assert info.value.code == ErrorCode.AGENT_UNRESPONSIVE
        assert fake.sync_ids == []  # nothing was sent

    run(_with_agent(tmp_path, {}, body))


def test_timeout_then_the_late_reply_is_not_taken_for_the_next(tmp_path: Path) -> None:
    async def body(client: AgentClient, fake: FakeAgent) -> None:
        fake.delay["guest-get-time"] = 1.5
        with pytest.raises(PyvirtError) as info:
            await client.command("guest-get-time", timeout=1)
        assert info.value.message == "Guest agent is not responding: Guest agent not available for now"
        fake.delay.clear()
        await asyncio.sleep(0.8)  # the slow answer arrives on the old connection, or is dropped by the sync
        assert await client.command("guest-info") == {"version": "7.2"}

    run(_with_agent(tmp_path, {"guest-get-time": {"return": 5}, "guest-info": {"return": {"version": "7.2"}}},
                    body))


def test_blocking_call_ends_when_the_agent_leaves(tmp_path: Path) -> None:
    async def body(client: AgentClient, fake: FakeAgent) -> None:
        fake.delay["guest-fsfreeze-freeze"] = 30
        call = asyncio.ensure_future(client.command("guest-fsfreeze-freeze"))
        await asyncio.sleep(0.3)
        client.set_connected(False)  # QEMU's VSERPORT_CHANGE open=false (a guest reboot)
        with pytest.raises(PyvirtError, match="QEMU guest agent is not connected"):
            await asyncio.wait_for(call, 5)

    run(_with_agent(tmp_path, {"guest-fsfreeze-freeze": {"return": 1}}, body))


def test_replies_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agentmod, "MAX_REPLY", 4096)

    async def body(client: AgentClient, fake: FakeAgent) -> None:
        with pytest.raises(PyvirtError, match="larger than 4096 bytes"):
            await client.command("guest-get-fsinfo")
        assert await client.command("guest-ping") == {}  # a fresh connection afterwards

    run(_with_agent(tmp_path, {"guest-get-fsinfo": b'{"return": "' + b"x" * 100000 + b'"}\n',
                               "guest-ping": {"return": {}}}, body))


def test_commands_answered_only_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agentmod, "NO_REPLY_WAIT", 0.3)

    async def body(client: AgentClient, fake: FakeAgent) -> None:
        assert await client.command("guest-shutdown", {"mode": "powerdown"}, reply=False) is None
        with pytest.raises(AgentCommandError, match="cannot suspend"):
            await client.command("guest-suspend-ram", reply=False)

    run(_with_agent(tmp_path, {"guest-shutdown": None,
                               "guest-suspend-ram": {"error": {"class": "GenericError", "desc": "cannot suspend"}}},
                    body))


def test_no_socket_is_not_responding(tmp_path: Path) -> None:
    client = AgentClient(str(tmp_path / "missing.sock"), "vm")
    client.set_connected(True)
    with pytest.raises(PyvirtError, match="QEMU guest agent is not connected"):
        run(client.command("guest-ping"))


def test_interfaces_as_libvirt_reports_them() -> None:
    reply = [{"name": "lo", "hardware-address": "00:00:00:00:00:00",
              "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8}]},
             {"name": "eth0", "hardware-address": "52:54:00:12:34:56",
              "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "10.0.2.15", "prefix": 24},
                               {"ip-address-type": "ipv6", "ip-address": "fe80::1", "prefix": 64}]},
             {"name": "eth0:1", "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "10.0.3.1",
                                                  "prefix": 16}]}]
    ifaces = _interfaces(reply)
    assert [i["name"] for i in ifaces] == ["lo", "eth0"]
    assert [a["addr"] for a in ifaces[1]["addrs"]] == ["10.0.2.15", "fe80::1", "10.0.3.1"]
    params = _interface_params(reply)
    assert params["if.count"] == 2 and params["if.1.addr.count"] == 3
    assert (params["if.1.addr.1.type"], params["if.1.addr.1.prefix"]) == ("ipv6", 64)


def test_a_call_behind_a_stuck_one_gives_up_in_libvirts_words(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agentmod, "QUEUE_WAIT", 0.5)

    async def body(client: AgentClient, fake: FakeAgent) -> None:
        fake.delay["guest-fsfreeze-freeze"] = 30
        stuck = asyncio.ensure_future(client.command("guest-fsfreeze-freeze"))
        await asyncio.sleep(0.2)
        with pytest.raises(PyvirtError, match="cannot acquire state change lock") as info:
            await client.command("guest-ping")
        assert info.value.code == ErrorCode.OPERATION_TIMEOUT
        client.set_connected(False)
        with pytest.raises(PyvirtError):
            await stuck
        client.set_connected(True)
        assert await client.command("guest-ping") == {}  # the lock was given back

    run(_with_agent(tmp_path, {"guest-fsfreeze-freeze": {"return": 1}, "guest-ping": {"return": {}}}, body))


def test_a_reply_nested_past_the_parsers_depth_is_skipped_as_not_json(tmp_path: Path) -> None:
    """json.loads raises RecursionError, not ValueError, on a line nested deeper than Python's
    recursion limit: a guest sending one made every agent call fail as pyvirtd's internal error
    (with a trace in its log each time) instead of being skipped like any line that is not JSON."""
    async def body(client: AgentClient, fake: FakeAgent) -> None:
        assert await client.command("guest-get-time", timeout=5) == 5

    run(_with_agent(tmp_path, {"guest-get-time": b"[" * 100000 + b'\n{"return": 5}\n'}, body))


def test_a_raw_command_nested_past_the_parsers_depth_is_a_parse_error() -> None:
    """qemu-monitor-command / qemu-agent-command text nested deeper than Python's recursion limit
    raised RecursionError out of the driver (pyvirtd's internal error, with a trace)."""
    from pyvirt.daemon.introspect import json_command

    with pytest.raises(PyvirtError, match="^internal error: cannot parse json"):
        json_command("[" * 100000, "QMP")
