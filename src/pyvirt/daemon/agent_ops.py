"""Everything pyvirtd asks a guest through its QEMU guest agent (daemon/agent.py): filesystems
(freeze, thaw, trim, info), guestinfo, the guest's vCPUs, SSH keys, passwords, its clock and
hostname, its addresses, power management, raw agent commands, and the agent's lifecycle.

A mixin of the QEMU driver (`lookup`, `_running`, `_qmp`, `events`, `store`, `_save_runtime`).
Agent calls do not take the domain's lock (libvirt runs them as agent jobs, apart from monitor
jobs): a guest that never answers holds up nothing but its own caller, and destroy ends the wait.
The conversions from qemu-ga's replies to libvirt's structures are libvirt's (qemu_agent.c,
qemuDomainGetGuestInfo, qemuDomainGetFSInfo).
"""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

from pyvirt.api import (
    AgentLifecycleEvent,
    DomainState,
    ErrorCode,
    ErrorDomain,
    EventType,
    PyvirtError,
    RunningReason,
    StartedDetail,
    agent_not_configured,
    operation_invalid,
)
from pyvirt.daemon.agent import BLOCK, DEFAULT, NOWAIT, AgentClient, AgentCommandError, agent_channel
from pyvirt.daemon.introspect import json_command

log = logging.getLogger(__name__)

#: virDomainGuestInfoTypes, in the order libvirt fills them
GUEST_INFO_TYPES = ("users", "os", "timezone", "hostname", "filesystem", "disks", "interfaces")
_OS_FIELDS = ("id", "name", "pretty-name", "version", "version-id", "machine", "variant", "variant-id",
              "kernel-release", "kernel-version")
#: dompmsuspend's targets -> qemu-ga's command and the <pm> element that can disable it
_SUSPEND = {"mem": ("guest-suspend-ram", "suspend_to_mem"), "disk": ("guest-suspend-disk", "suspend_to_disk"),
            "hybrid": ("guest-suspend-hybrid", "suspend_to_mem")}


def _invalid_arg(message: str) -> PyvirtError:
    return PyvirtError(f"invalid argument: {message}", ErrorCode.INVALID_ARG, ErrorDomain.QEMU)


def _unsupported_arg(message: str) -> PyvirtError:
    return PyvirtError(f"argument unsupported: {message}", ErrorCode.ARGUMENT_UNSUPPORTED, ErrorDomain.QEMU)


def _pci_of(disk: Any) -> tuple[int, int, int, int] | None:
    addr = disk.address
    if addr is None or addr.type != "pci":
        return None
    return (int(addr.domain or 0), int(addr.bus or 0), int(addr.slot or 0), int(addr.function or 0))


def _disk_alias(dom: Any, agent_disk: dict[str, Any]) -> str | None:
    """The domain disk (its target name) behind one of qemu-ga's disk addresses: by serial, then
    by PCI address for virtio disks, then by the guest's device name (libvirt's matching)."""
    disks = [d for d in dom.devices.disks if d.device in (None, "disk")]
    serial = agent_disk.get("serial")
    if serial:
        for d in disks:
            if getattr(d, "serial", None) == serial:
                return str(d.target_dev)
    pci = agent_disk.get("pci-controller")
    if isinstance(pci, dict) and agent_disk.get("bus-type") == "virtio":
        wanted = tuple(int(pci.get(k, -1)) for k in ("domain", "bus", "slot", "function"))
        for d in disks:
            if _pci_of(d) == wanted:
                return str(d.target_dev)
    return None


class AgentMixin:
    """The agent half of the QEMU driver."""

    # ------------------------------------------------------------------ the client of a domain
    def _agent_record(self, dom: str) -> tuple[Any, AgentClient]:
        """The one gate of every agent call (libvirt's qemuDomainAgentAvailable): a guest that is
        not running (paused, suspended: its agent cannot answer) is refused before anything is
        sent, then a domain without the channel; only then the client."""
        rec = self.lookup(dom)
        run = self._running(rec)
        if rec.state != DomainState.RUNNING:
            raise operation_invalid("domain is not running")
        channel = agent_channel(rec.live)
        if channel is None:
            raise agent_not_configured()
        if run.agent is None:
            path = channel.source_path or str(self.store.runtime_files(rec.name).private_dir / channel.target_name)
            # connected: not known yet, QEMU is asked on first use (events may have been missed
            # while a restarted daemon was away); VSERPORT_CHANGE keeps it from then on
            run.agent = AgentClient(path, rec.name, timeout=self._agent_timeouts().get(rec.uuid, BLOCK))
        return rec, run.agent

    async def _agent(self, dom: str) -> tuple[Any, AgentClient]:
        """The domain and its agent client, its connection state asked of QEMU when not known
        (after a daemon restart: query-chardev's frontend-open, as libvirt refreshes it)."""
        rec, agent = self._agent_record(dom)
        if agent.connected is None:
            channel = agent_channel(rec.live)
            chardevs = await self._qmp(rec.run, "query-chardev")
            agent.connected = any(c.get("label") == f"char{channel.alias}" and c.get("frontend-open")
                                  for c in chardevs if isinstance(c, dict))
        return rec, agent

    async def _ask(self, dom: str, command: str, arguments: dict[str, Any] | None = None, **kw: Any) -> Any:
        _rec, agent = await self._agent(dom)
        return await agent.command(command, arguments, **kw)

    def on_vserport_change(self, rec: Any, data: dict[str, Any]) -> None:
        """QEMU's VSERPORT_CHANGE: a virtio port's guest side opened or closed; for the agent's
        port this is libvirt's AGENT_LIFECYCLE event (reason: channel event)."""
        if rec.live is None or rec.run is None:
            return
        alias, opened = str(data.get("id", "")), bool(data.get("open"))
        for ch in rec.live.devices.channels:
            if ch.alias != alias or ch.target_type != "virtio":
                continue
            ch.target_state = "connected" if opened else "disconnected"
            self._save_runtime(rec)
            if agent_channel(rec.live) is ch:
                if rec.run.agent is not None:
                    rec.run.agent.set_connected(opened)
                self.events.publish(AgentLifecycleEvent(
                    name=rec.name, uuid=rec.uuid, id=rec.id, timestamp=time.time(),
                    state=AgentLifecycleEvent.CONNECTED if opened else AgentLifecycleEvent.DISCONNECTED,
                    reason=AgentLifecycleEvent.CHANNEL))
            return

    def mark_channels_disconnected(self, dom: Any) -> None:
        """At a start: no guest has opened a virtio port yet (libvirt's live XML says so too)."""
        for ch in dom.devices.channels:
            if ch.target_type == "virtio" and ch.type == "unix":
                ch.target_state = "disconnected"

    # ------------------------------------------------------------------ filesystems
    async def fs_freeze(self, dom: str, mountpoints: list[str] | None = None) -> int:
        if mountpoints:
            return int(await self._ask(dom, "guest-fsfreeze-freeze-list", {"mountpoints": list(mountpoints)}))
        return int(await self._ask(dom, "guest-fsfreeze-freeze"))

    async def fs_thaw(self, dom: str, mountpoints: list[str] | None = None) -> int:
        if mountpoints:
            raise _unsupported_arg("specifying mountpoints is not supported")
        return int(await self._ask(dom, "guest-fsfreeze-thaw"))

    async def fs_trim(self, dom: str, mountpoint: str | None = None, minimum: int = 0) -> None:
        if mountpoint:
            raise _unsupported_arg("Specifying mount point is not supported for now")
        await self._ask(dom, "guest-fstrim", {"minimum": minimum} if minimum else None)

    async def _fs_list(self, dom: str) -> tuple[Any, list[dict[str, Any]]]:
        rec, agent = await self._agent(dom)
        reply = await agent.command("guest-get-fsinfo")
        entries = [e for e in reply if isinstance(e, dict)] if isinstance(reply, list) else []
        return rec, list(reversed(entries))  # libvirt: mount order

    async def fs_info(self, dom: str) -> list[dict[str, Any]]:
        rec, entries = await self._fs_list(dom)
        out = []
        for e in entries:
            devices = [a for a in (_disk_alias(rec.live, d) for d in e.get("disk") or [] if isinstance(d, dict)) if a]
            out.append({"mountpoint": str(e.get("mountpoint", "")), "name": str(e.get("name", "")),
                        "fstype": str(e.get("type", "")), "devices": devices})
        return out

    # ------------------------------------------------------------------ guestinfo
    async def guest_info(self, dom: str, types: list[str] | None = None) -> dict[str, Any]:
        wanted = list(types) if types else list(GUEST_INFO_TYPES)
        for t in wanted:
            if t not in GUEST_INFO_TYPES:
                raise _unsupported_arg(f"unknown guest info type '{t}'")
        rec, agent = await self._agent(dom)
        out: dict[str, Any] = {}

        async def ask(command: str) -> Any:
            try:
                return await agent.command(command)
            except AgentCommandError as exc:
                if exc.unsupported:
                    return None  # an older agent lacks it: that group is left out, as libvirt does
                raise

        for kind in GUEST_INFO_TYPES:
            if kind not in wanted:
                continue
            if kind == "users" and isinstance(users := await ask("guest-get-users"), list):
                out["user.count"] = len(users)
                for i, u in enumerate(users):
                    out[f"user.{i}.name"] = str(u.get("user", ""))
                    if u.get("domain"):
                        out[f"user.{i}.domain"] = str(u["domain"])
                    out[f"user.{i}.login-time"] = int(float(u.get("login-time", 0)) * 1000)
            elif kind == "os" and isinstance(osinfo := await ask("guest-get-osinfo"), dict):
                out.update({f"os.{f}": str(osinfo[f]) for f in _OS_FIELDS if osinfo.get(f) is not None})
            elif kind == "timezone" and isinstance(tz := await ask("guest-get-timezone"), dict):
                if tz.get("zone"):
                    out["timezone.name"] = str(tz["zone"])
                out["timezone.offset"] = int(tz.get("offset", 0))
            elif kind == "hostname" and isinstance(host := await ask("guest-get-host-name"), dict):
                out["hostname"] = str(host.get("host-name", ""))
            elif kind == "filesystem" and isinstance(fsinfo := await ask("guest-get-fsinfo"), list):
                out.update(self._fs_params(rec.live, list(reversed(fsinfo))))
            elif kind == "disks" and isinstance(disks := await ask("guest-get-disks"), list):
                out["disk.count"] = len(disks)
                for i, d in enumerate(disks):
                    out[f"disk.{i}.name"] = str(d.get("name", ""))
                    out[f"disk.{i}.partition"] = bool(d.get("partition"))
                    deps = d.get("dependencies") or []
                    out[f"disk.{i}.dependency.count"] = len(deps)
                    for j, dep in enumerate(deps):
                        out[f"disk.{i}.dependency.{j}.name"] = str(dep)
                    address = d.get("address") if isinstance(d.get("address"), dict) else None
                    if address is not None:
                        if address.get("serial"):
                            out[f"disk.{i}.serial"] = str(address["serial"])
                        if (alias := _disk_alias(rec.live, address)) is not None:
                            out[f"disk.{i}.alias"] = alias
                    if d.get("alias"):
                        out[f"disk.{i}.guest_alias"] = str(d["alias"])
            elif kind == "interfaces" and isinstance(ifaces := await ask("guest-network-get-interfaces"), list):
                out.update(_interface_params(ifaces))
        return out

    @staticmethod
    def _fs_params(dom: Any, entries: list[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"fs.count": len(entries)}
        for i, e in enumerate(entries):
            out[f"fs.{i}.mountpoint"] = str(e.get("mountpoint", ""))
            out[f"fs.{i}.name"] = str(e.get("name", ""))
            out[f"fs.{i}.fstype"] = str(e.get("type", ""))
            if e.get("total-bytes") is not None:
                out[f"fs.{i}.total-bytes"] = int(e["total-bytes"])
            if e.get("used-bytes") is not None:
                out[f"fs.{i}.used-bytes"] = int(e["used-bytes"])
            disks = [d for d in e.get("disk") or [] if isinstance(d, dict)]
            out[f"fs.{i}.disk.count"] = len(disks)
            for j, d in enumerate(disks):
                if (alias := _disk_alias(dom, d)) is not None:
                    out[f"fs.{i}.disk.{j}.alias"] = alias
                if d.get("serial"):
                    out[f"fs.{i}.disk.{j}.serial"] = str(d["serial"])
                if d.get("dev"):
                    out[f"fs.{i}.disk.{j}.device"] = str(d["dev"])
        return out

    # ------------------------------------------------------------------ vCPUs
    async def _guest_cpus(self, dom: str) -> list[dict[str, Any]]:
        reply = await self._ask(dom, "guest-get-vcpus")
        return [c for c in reply if isinstance(c, dict)] if isinstance(reply, list) else []

    async def guest_vcpus(self, dom: str) -> dict[str, str]:
        from pyvirt.xml.generic_defaults import format_cpuset

        cpus = await self._guest_cpus(dom)
        ids = {int(c["logical-id"]) for c in cpus}
        return {"vcpus": format_cpuset(ids),
                "online": format_cpuset({int(c["logical-id"]) for c in cpus if c.get("online")}),
                "offlinable": format_cpuset({int(c["logical-id"]) for c in cpus if c.get("can-offline")})}

    async def set_guest_vcpus(self, dom: str, cpumap: str, enable: bool) -> None:
        from pyvirt.xml import XMLError
        from pyvirt.xml.validate import parse_cpuset

        try:
            wanted = parse_cpuset(cpumap)
        except XMLError:
            raise _invalid_arg(f"failed to parse vcpu map '{cpumap}'") from None
        cpus = {int(c["logical-id"]): c for c in await self._guest_cpus(dom)}
        changes = []
        for cpu in sorted(wanted):
            if cpu not in cpus:
                raise _invalid_arg(f"vCPU '{cpu}' is not present in the guest")
            if not enable and not cpus[cpu].get("can-offline"):
                raise PyvirtError(f"Operation not supported: vCPU '{cpu}' can't be offlined",
                                  ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
            changes.append({"logical-id": cpu, "online": enable})
        await self._set_guest_cpus(dom, changes)

    async def _set_guest_cpus(self, dom: str, changes: list[dict[str, Any]]) -> None:
        if not changes:
            return
        done = int(await self._ask(dom, "guest-set-vcpus", {"vcpus": changes}))
        if done < len(changes):
            raise PyvirtError(f"operation failed: failed to set state of vCPU '{changes[done]['logical-id']}'",
                              ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)

    async def guest_vcpu_count(self, dom: str) -> int:
        """vcpucount --guest: the vCPUs online in the guest."""
        return sum(1 for c in await self._guest_cpus(dom) if c.get("online"))

    async def set_guest_vcpu_count(self, dom: str, count: int) -> None:
        """setvcpus --guest (qemuDomainSetVcpusAgent): online or offline vCPUs until `count` run."""
        if count < 1:
            raise _invalid_arg("requested vcpu count must be at least 1")
        cpus = sorted(await self._guest_cpus(dom), key=lambda c: int(c["logical-id"]))
        online = [c for c in cpus if c.get("online")]
        if count > len(cpus):
            raise _invalid_arg(f"requested vcpu count is greater than the count of enabled vcpus in the "
                               f"domain: {count} > {len(cpus)}")
        changes = []
        if count > len(online):
            changes = [{"logical-id": int(c["logical-id"]), "online": True}
                       for c in cpus if not c.get("online")][:count - len(online)]
        elif count < len(online):
            can = [c for c in reversed(online) if c.get("can-offline")][:len(online) - count]
            if len(can) < len(online) - count:
                raise PyvirtError("Operation not supported: guest lacks enough vcpus that can be offlined",
                                  ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
            changes = [{"logical-id": int(c["logical-id"]), "online": False} for c in can]
        await self._set_guest_cpus(dom, changes)

    # ------------------------------------------------------------------ users
    async def authorized_ssh_keys(self, dom: str, user: str) -> list[str]:
        reply = await self._ask(dom, "guest-ssh-get-authorized-keys", {"username": user})
        return [str(k) for k in (reply or {}).get("keys", [])]

    async def set_authorized_ssh_keys(self, dom: str, user: str, keys: list[str], append: bool = False,
                                      remove: bool = False) -> None:
        if append and remove:
            raise _invalid_arg("Flags 'VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_APPEND' and "
                               "'VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_REMOVE' are mutually exclusive")
        if remove:
            await self._ask(dom, "guest-ssh-remove-authorized-keys", {"username": user, "keys": list(keys)})
        else:
            await self._ask(dom, "guest-ssh-add-authorized-keys",
                            {"username": user, "keys": list(keys), "reset": not append})

    async def set_user_password(self, dom: str, user: str, password: str, encrypted: bool = False) -> None:
        await self._ask(dom, "guest-set-user-password",
                        {"username": user, "password": base64.b64encode(password.encode()).decode(),
                         "crypted": encrypted})

    # ------------------------------------------------------------------ clock, name, addresses
    async def get_time(self, dom: str) -> dict[str, int]:
        ns = int(await self._ask(dom, "guest-get-time"))
        return {"seconds": ns // 1_000_000_000, "nseconds": ns % 1_000_000_000}

    async def set_time(self, dom: str, seconds: int = 0, nseconds: int = 0, sync: bool = False) -> None:
        if not sync and (seconds < 0 or not 0 <= nseconds < 1_000_000_000):
            raise _invalid_arg("time out of range")
        await self._ask(dom, "guest-set-time", None if sync else {"time": seconds * 1_000_000_000 + nseconds})

    async def agent_hostname(self, dom: str) -> str:
        reply = await self._ask(dom, "guest-get-host-name")
        return str((reply or {}).get("host-name", ""))

    async def agent_interface_addresses(self, dom: str) -> list[dict[str, Any]]:
        return _interfaces(await self._ask(dom, "guest-network-get-interfaces"))

    # ------------------------------------------------------------------ power
    async def agent_power(self, dom: str, mode: str) -> None:
        """guest-shutdown (`mode` "powerdown" or "reboot"): qemu-ga answers only when it fails."""
        await self._ask(dom, "guest-shutdown", {"mode": mode}, reply=False)

    async def pm_suspend(self, dom: str, target: str, duration: int = 0) -> None:
        if target not in _SUSPEND:
            raise _invalid_arg(f"unknown suspend target {target!r}")
        if duration:
            raise _unsupported_arg("Duration not supported. Use 0 for now")
        rec = self.lookup(dom)
        self._running(rec)
        command, pm = _SUSPEND[target]
        pm_setting = getattr(rec.live.pm, pm, None) if rec.live is not None and rec.live.pm else None
        if pm_setting is False:
            raise PyvirtError(f"Operation not supported: {'S3' if pm == 'suspend_to_mem' else 'S4'} state is "
                              "disabled for this domain", ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
        if rec.state != DomainState.RUNNING:
            raise operation_invalid("domain is not running")
        await self._ask(dom, command, reply=False)

    async def pm_wakeup(self, dom: str) -> None:
        rec = self.lookup(dom)
        run = self._running(rec)
        await self._qmp(run, "system_wakeup")

    def on_pm_event(self, rec: Any, name: str) -> None:
        """QEMU's SUSPEND/SUSPEND_DISK/WAKEUP: the guest went to sleep or woke (libvirt's states
        and lifecycle events for them)."""
        if name == "WAKEUP":
            if rec.state == DomainState.PMSUSPENDED:
                rec.state, rec.reason = DomainState.RUNNING, RunningReason.WAKEUP
                self._save_runtime(rec, xml=False)
                self.events.emit(rec.name, rec.uuid, EventType.STARTED, StartedDetail.WAKEUP, rec.id)
            return
        rec.state, rec.reason = DomainState.PMSUSPENDED, 0
        self._save_runtime(rec, xml=False)
        self.events.emit(rec.name, rec.uuid, EventType.PMSUSPENDED, 0 if name == "SUSPEND" else 1, rec.id)

    # ------------------------------------------------------------------ raw
    async def qemu_agent_command(self, dom: str, command: str, timeout: int = DEFAULT) -> str:
        if timeout < BLOCK:
            raise _invalid_arg(f"guest agent timeout '{timeout}' is less than the minimum '{BLOCK}'")
        request = json_command(command, "JSON")
        rec, agent = await self._agent(dom)
        self.taint(rec, "custom-ga-command")  # qemuDomainQemuAgentCommand: once the agent is there
        reply = await agent.raw(request, timeout=timeout)
        if reply is None:
            return ""
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            raise AgentCommandError(request["execute"], str(error.get("class", "")),
                                    str(error.get("desc") or error.get("class") or "unknown error"))
        return json.dumps(reply, separators=(",", ":"))

    def _agent_timeouts(self) -> dict[str, int]:
        """guest-agent-timeout per domain UUID: kept for the domain, running or not, as libvirt
        keeps it in the domain's private data (for this daemon's lifetime)."""
        timeouts: dict[str, int] | None = getattr(self, "_agent_timeout_of", None)
        if timeouts is None:
            timeouts = self._agent_timeout_of = {}
        return timeouts

    def agent_set_timeout(self, dom: str, timeout: int) -> None:
        if timeout < BLOCK:
            raise _invalid_arg(f"guest agent timeout '{timeout}' is less than the minimum '{BLOCK}'")
        rec = self.lookup(dom)
        value = BLOCK if timeout == DEFAULT else timeout
        self._agent_timeouts()[rec.uuid] = value
        if rec.run is not None and rec.run.agent is not None:
            rec.run.agent.timeout = value
        if value == NOWAIT:
            log.info("%s: guest agent calls will not wait for answers", rec.name)


def _interfaces(reply: Any) -> list[dict[str, Any]]:
    """qemu-ga's interface list as virDomainInterfaceAddresses' (guest aliases eth0:1 folded into eth0)."""
    out: dict[str, dict[str, Any]] = {}
    for iface in reply if isinstance(reply, list) else []:
        if not isinstance(iface, dict) or not iface.get("name"):
            continue
        name = str(iface["name"]).split(":", 1)[0]
        entry = out.setdefault(name, {"name": name, "hwaddr": str(iface.get("hardware-address", "")), "addrs": []})
        for a in iface.get("ip-addresses") or []:
            kind = a.get("ip-address-type")
            if kind in ("ipv4", "ipv6"):
                entry["addrs"].append({"type": kind, "addr": str(a.get("ip-address", "")),
                                       "prefix": int(a.get("prefix", 0))})
    return list(out.values())


def _interface_params(reply: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ifaces = _interfaces(reply)
    out["if.count"] = len(ifaces)
    for i, iface in enumerate(ifaces):
        out[f"if.{i}.name"] = iface["name"]
        if iface["hwaddr"]:
            out[f"if.{i}.hwaddr"] = iface["hwaddr"]
        out[f"if.{i}.addr.count"] = len(iface["addrs"])
        for j, a in enumerate(iface["addrs"]):
            out[f"if.{i}.addr.{j}.type"] = a["type"]
            out[f"if.{i}.addr.{j}.addr"] = a["addr"]
            out[f"if.{i}.addr.{j}.prefix"] = a["prefix"]
    return out
