"""Looking into running guests: memory and domain statistics, display URIs, interface addresses.

A mixin of the QEMU driver (it uses `lookup`, `info`, `_running`, `_qmp`, `_disk_path`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, enforce_stats_groups, operation_invalid

log = logging.getLogger(__name__)


#: QEMU's guest-stats names, libvirt's, and the divisor to libvirt's unit (KiB for sizes)
_GUEST_STATS = (("stat-swap-in", "swap_in", 1024), ("stat-swap-out", "swap_out", 1024),
                ("stat-major-faults", "major_fault", 1), ("stat-minor-faults", "minor_fault", 1),
                ("stat-free-memory", "unused", 1024), ("stat-total-memory", "available", 1024),
                ("stat-available-memory", "usable", 1024), ("stat-disk-caches", "disk_caches", 1024),
                ("stat-htlb-pgalloc", "hugetlb_pgalloc", 1), ("stat-htlb-pgfail", "hugetlb_pgfail", 1))
#: the virConnectGetAllDomainStats groups pyvirtd answers (the default set when none is named)
STATS_GROUPS_ANSWERED = ("state", "cpu-total", "balloon", "vcpu", "interface", "block", "dirtyrate")
_STATS_ORDER = ("actual", "swap_in", "swap_out", "major_fault", "minor_fault", "unused", "available", "usable",
                "last_update", "disk_caches", "hugetlb_pgalloc", "hugetlb_pgfail")


def proc_bytes(path: str) -> bytes | None:
    """A small /proc file (a few KiB at most) with one os.read: domain stats read several per
    running guest, and a text-mode open() costs ~3x as much."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, 65536)
    except OSError:
        return None
    finally:
        os.close(fd)


def _rss_kib(pid: int) -> int | None:
    raw = proc_bytes(f"/proc/{pid}/status")
    at = raw.find(b"\nVmRSS:") if raw is not None else -1
    if raw is None or at < 0:
        return None
    return int(raw[at + 7:raw.index(b"\n", at + 1)].split()[0])


def _vcpu_threads(pid: int) -> dict[int, int]:
    """vCPU number -> thread id, by the names QEMU gives its threads with debug-threads=on
    ("CPU 0/TCG", "CPU 1/KVM"): libvirt's vcpu.N.time without a QMP call."""
    out: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            comm = proc_bytes(f"/proc/{pid}/task/{tid}/comm")
            if comm is not None and comm.startswith(b"CPU ") and b"/" in comm:
                with contextlib.suppress(ValueError):
                    out[int(comm[4:comm.index(b"/")])] = int(tid)
    return out


def json_command(text: str, what: str) -> dict[str, Any]:
    """A raw JSON command for QEMU's monitor or its guest agent (qemu-monitor-command,
    qemu-agent-command): an object with an "execute" name, else libvirt's parse error."""
    import json

    try:
        request = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
        raise PyvirtError(f"internal error: cannot parse json {text}: {exc}", ErrorCode.INTERNAL_ERROR,
                          ErrorDomain.QEMU) from None
    if not isinstance(request, dict) or not isinstance(request.get("execute"), str):
        raise PyvirtError(f"internal error: the command is not a {what} object with an 'execute' member",
                          ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU)
    return request


class IntrospectionMixin:
    _by_name: dict[str, Any]
    _cpu_time_ns: Any  # the driver's: CPU time of a process or thread, from /proc/ID/stat

    async def memory_stats(self, dom: str) -> dict[str, int]:
        """libvirt's order: the balloon's size, what the guest last reported (once a stats period is
        set: <memballoon><stats period>), then QEMU's resident size."""
        rec = self.lookup(dom)
        run = self._running(rec)
        stats: dict[str, int] = {}
        with contextlib.suppress(PyvirtError):
            balloon = await self._qmp(run, "query-balloon")
            stats["actual"] = int(balloon["actual"]) // 1024
        mb = rec.current().devices.memballoon
        if mb is not None and mb.model not in (None, "none") and mb.alias:
            with contextlib.suppress(PyvirtError, TypeError, ValueError, AttributeError):
                guest = await self._qmp(run, "qom-get", {"path": f"/machine/peripheral/{mb.alias}",
                                                         "property": "guest-stats"})
                figures = guest.get("stats", {})
                for qemu_name, name, divisor in _GUEST_STATS:
                    value = int(figures.get(qemu_name, -1))
                    if value >= 0:
                        stats[name] = value // divisor
                if int(guest.get("last-update", 0)) > 0:
                    stats["last_update"] = int(guest["last-update"])
                    stats = {k: stats[k] for k in _STATS_ORDER if k in stats}
        if (rss := _rss_kib(run.ident.pid)) is not None:
            stats["rss"] = rss
        return stats

    async def domain_stats(self, doms: list[str] | None = None, groups: list[str] | None = None,
                           enforce: bool = False, backing: bool = False) -> list[dict[str, Any]]:
        """virConnectGetAllDomainStats, libvirt's key names, for the groups pyvirt can answer
        (others left out, or refused under `enforce`).  The block group's backing-chain entries
        (`backing`) are not collected: refused rather than ignored."""
        if enforce:
            enforce_stats_groups(groups, STATS_GROUPS_ANSWERED)
        if backing:
            raise PyvirtError("argument unsupported: backing chain statistics (VIR_CONNECT_GET_ALL_DOMAINS_STATS_BACKING)"
                              " are not supported by pyvirtd", ErrorCode.ARGUMENT_UNSUPPORTED)
        wanted = set(groups or STATS_GROUPS_ANSWERED)
        by_name = self._by_name
        recs = [self.lookup(r) for r in doms] if doms else [by_name[name] for name in sorted(by_name)]
        out = []
        # Only what the groups asked for is read: the state group (virt-manager's and Cockpit's
        # poll) needs neither /proc nor the definition's summary.
        summary = "balloon" in wanted or "vcpu" in wanted
        dirty: list[tuple[dict[str, Any], Any]] = []  # the running guests' dirtyrate queries, sent at once
        for rec in recs:
            stats: dict[str, Any] = {}
            if "state" in wanted:
                stats["state.state"] = int(rec.state)
                stats["state.reason"] = int(rec.reason)
            if "cpu-total" in wanted and rec.run is not None:
                stats["cpu.time"] = self._cpu_time_ns(rec.run.ident.pid)
            if summary:
                _title, max_kib, cur_kib, vcpus, vcpus_now = rec.summary()
            if "balloon" in wanted:
                stats.update({"balloon.current": cur_kib, "balloon.maximum": max_kib})
                if rec.run is not None and (rss := _rss_kib(rec.run.ident.pid)) is not None:
                    stats["balloon.rss"] = rss  # what Cockpit shows as the guest's memory use
            if "vcpu" in wanted:
                stats.update({"vcpu.current": vcpus_now, "vcpu.maximum": vcpus})
                if rec.run is not None:
                    for n, tid in sorted(_vcpu_threads(rec.run.ident.pid).items()):
                        stats.update({f"vcpu.{n}.state": 1, f"vcpu.{n}.time": self._cpu_time_ns(tid)})
            if "interface" in wanted and rec.active and rec.live is not None:
                nics = rec.live.devices.interfaces
                stats["net.count"] = len(nics)
                for i, nic in enumerate(nics):
                    stats[f"net.{i}.name"] = nic.target_dev or nic.alias or f"net{i}"
            if "block" in wanted:
                disks = rec.disks()  # an idle domain's config stays unparsed
                stats["block.count"] = len(disks)
                for i, disk in enumerate(disks):
                    stats[f"block.{i}.name"] = disk.target_dev
                    path = self._disk_path(disk)
                    if path:
                        stats[f"block.{i}.path"] = path
            if "dirtyrate" in wanted and rec.run is not None and rec.active:
                dirty.append((stats, rec))  # the last group: its keys still come last
            out.append({"name": rec.name, "stats": stats})
        if dirty:  # one monitor round trip per guest, all in flight together rather than one after another
            found = await asyncio.gather(*(self._dirty_rate_stats(rec) for _, rec in dirty))  # type: ignore[attr-defined]
            for (stats, _), group in zip(dirty, found, strict=True):
                stats.update(group)
        return out

    def display_uri(self, dom: str, kind: str | None = None) -> str:
        """`domdisplay`: the first (or the `kind`) VNC/SPICE display of a running guest."""
        rec = self.lookup(dom)
        if not rec.active or rec.live is None:
            raise operation_invalid("domain is not running")
        for g in rec.live.devices.graphics:
            if (kind and g.type != kind) or g.type not in ("vnc", "spice") or not g.port or g.port < 0:
                continue
            host = (g.listens[0].address if g.listens and g.listens[0].address else g.listen) or "localhost"
            if host in ("0.0.0.0", "::"):
                host = "localhost"
            if ":" in host:
                host = f"[{host}]"
            return f"vnc://{host}:{g.port - 5900}" if g.type == "vnc" else f"spice://{host}:{g.port}"
        raise PyvirtError("No graphical display found", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)

    async def domain_hostname(self, dom: str, source: str | None = None) -> str:
        """`domhostname`: from the guest agent (libvirt's QEMU default, daemon/agent_ops.py), or
        from the DHCP leases of the guest's network NICs (qemuDomainGetHostnameLease)."""
        rec = self.lookup(dom)
        if not rec.active or rec.live is None:
            raise operation_invalid("domain is not running")
        if source != "lease":
            return await self.agent_hostname(dom)  # type: ignore[attr-defined, no-any-return]
        networks = getattr(self, "networks", None)
        for nic in rec.live.devices.interfaces if networks is not None else ():
            if nic.type != "network" or not nic.mac_address:
                continue
            with contextlib.suppress(PyvirtError):
                for lease in networks.network_dhcp_leases(nic.source_network or "", nic.mac_address):
                    if lease.get("hostname"):
                        return str(lease["hostname"])
        raise PyvirtError(f"no hostname found: no hostname found for domain {rec.name}", ErrorCode.OPERATION_FAILED,
                          ErrorDomain.QEMU)

    def iothread_info(self, dom: str, live: bool = False, config: bool = False) -> list[dict[str, Any]]:
        """`iothreadinfo`: the IOThreads of the definition asked for; pyvirtd pins every QEMU thread
        to the guest's <vcpu cpuset> (else leaves it on every host CPU), which is what this reports."""
        from pyvirt.xml.generic_defaults import iothread_affinities

        rec = self.lookup(dom)
        if live and not rec.active:
            raise operation_invalid("domain is not running")
        target = rec.config if config or rec.live is None else rec.live
        if target is None:
            return []
        ids = [t.id for t in target.iothread_ids if t.id is not None] or list(range(1, (target.iothreads or 0) + 1))
        return iothread_affinities(ids, {}, target.vcpu_cpuset, os.cpu_count() or 1)

    def _running_record(self, dom: str) -> Any:
        rec = self.lookup(dom)
        if not rec.active or rec.run is None:
            raise operation_invalid("domain is not running")
        return rec

    def launch_security_info(self, dom: str) -> dict[str, Any]:
        """qemuDomainGetLaunchSecurityInfo: SEV figures only for a guest with <launchSecurity>,
        which pyvirt refuses to define; any other guest has none (an empty answer, not an error)."""
        self.lookup(dom)
        return {}

    def control_info(self, dom: str) -> dict[str, int]:
        """`domcontrol`: QEMU's monitor answers (ok), or it is gone (error, reason monitor)."""
        rec = self._running_record(dom)
        if rec.run.qmp is None:
            return {"state": 3, "details": 1, "state_time": 0}  # ERROR, VIR_DOMAIN_CONTROL_ERROR_REASON_MONITOR
        return {"state": 0, "details": 0, "state_time": 0}

    async def interface_addresses(self, dom: str, source: str = "lease") -> list[dict[str, Any]]:
        """`domifaddr`: 'lease' reads the DHCP leases of the guest's virtual networks (user-mode
        NICs have none, in libvirt either); 'arp' reads the host's ARP table; 'agent' asks the
        guest agent (daemon/agent_ops.py)."""
        rec = self.lookup(dom)
        if not rec.active or rec.live is None:
            raise operation_invalid("domain is not running")
        if source == "agent":
            return await self.agent_interface_addresses(dom)  # type: ignore[attr-defined, no-any-return]
        if source != "arp":
            from pyvirt.daemon.nics import lease_addresses

            return lease_addresses(rec.live, getattr(self, "networks", None))
        table: dict[str, list[str]] = {}
        with contextlib.suppress(OSError), open("/proc/net/arp") as handle:
            for line in list(handle)[1:]:
                fields = line.split()
                if len(fields) >= 4 and fields[2] != "0x0":
                    table.setdefault(fields[3].lower(), []).append(fields[0])
        out = []
        for i, nic in enumerate(rec.live.devices.interfaces):
            mac = (nic.mac_address or "").lower()
            addrs = [{"type": "ipv4", "addr": a, "prefix": 0} for a in table.get(mac, [])]
            if addrs:
                out.append({"name": nic.target_dev or nic.alias or f"net{i}", "hwaddr": mac, "addrs": addrs})
        return out

    async def set_memory_stats_period(self, dom: str, period: int, live: bool = False, config: bool = False) -> None:
        """<memballoon><stats period> and, live, QEMU's guest-stats-polling-interval (qom-set)."""
        from pyvirt.connection import check_non_negative

        check_non_negative("period", period, "virDomainSetMemoryStatsPeriod")
        rec = self.lookup(dom)
        async with rec.lock:
            targets = self._targets(rec, live, config)
            for target in targets:
                mb = target.devices.memballoon
                if mb is None or mb.model in (None, "none"):
                    which = "Inactive" if target is rec.config else "Active"
                    raise operation_invalid(f"{which} domain doesn't have balloon device")
            if rec.live is not None and any(t is rec.live for t in targets):
                await self.apply_stats_period(rec.run, rec.live.devices.memballoon, period)

            def set_period(target: Any) -> None:
                target.devices.memballoon.stats_period = period or None

            self._change(rec, targets, set_period)

    async def apply_stats_period(self, run: Any, balloon: Any, period: int) -> None:
        """The polling interval of a running guest's balloon (also at start, from the XML)."""
        await self._qmp(run, "qom-set", {"path": f"/machine/peripheral/{balloon.alias}",
                                         "property": "guest-stats-polling-interval", "value": period})

    async def qemu_monitor_command(self, dom: str, command: str, hmp: bool = False) -> str:
        """virDomainQemuMonitorCommand: QEMU's reply as text, its errors included (libvirt passes
        them through too).  Like libvirt, it taints the domain (custom-monitor)."""
        import json

        rec = self.lookup(dom)
        run = self._running(rec)
        self.taint(rec, "custom-monitor")  # qemuDomainQemuMonitorCommand: before the command runs
        if hmp:
            return str(await self._qmp(run, "human-monitor-command", {"command-line": command}))
        request = json_command(command, "QMP")
        args = request.get("arguments")
        self._monitor_ids = getattr(self, "_monitor_ids", 0) + 1
        ident = request.get("id", f"pyvirt-{self._monitor_ids}")
        from qemu.qmp import ExecuteError

        if run.qmp is None:
            raise operation_invalid("domain is not running")
        try:
            result = await asyncio.wait_for(run.qmp.execute(request["execute"], args), self.monitor_timeout)
        except ExecuteError as exc:
            return json.dumps({"error": {"class": exc.error_class, "desc": exc.error.error.desc}, "id": ident})
        return json.dumps({"return": result, "id": ident})
