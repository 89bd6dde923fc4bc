"""Looking into running guests: memory and domain statistics, display URIs, interface addresses.

A mixin of the QEMU driver (it uses `lookup`, `info`, `_running`, `_qmp`, `_disk_path`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, operation_invalid


class IntrospectionMixin:
    _by_name: dict[str, Any]

    async def memory_stats(self, dom: str) -> dict[str, int]:
        rec = self.lookup(dom)
        run = self._running(rec)
        stats: dict[str, int] = {}
        with contextlib.suppress(PyvirtError):
            balloon = await self._qmp(run, "query-balloon")
            stats["actual"] = int(balloon["actual"]) // 1024
        with contextlib.suppress(OSError), open(f"/proc/{run.ident.pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    stats["rss"] = int(line.split()[1])
        return stats

    def domain_stats(self, doms: list[str] | None = None, groups: list[str] | None = None
                     ) -> list[dict[str, Any]]:
        """virConnectGetAllDomainStats, libvirt's key names, for the groups pyvirt can answer."""
        wanted = set(groups or ("state", "cpu-total", "balloon", "vcpu", "interface", "block"))
        recs = [self.lookup(r) for r in doms] if doms else sorted(self._by_name.values(), key=lambda r: r.name)
        out = []
        for rec in recs:
            info = self.info(rec)
            stats: dict[str, Any] = {}
            if "state" in wanted:
                stats.update({"state.state": info.state, "state.reason": info.reason})
            if "cpu-total" in wanted and rec.run is not None:
                stats["cpu.time"] = info.cpu_time_ns
            if "balloon" in wanted:
                stats.update({"balloon.current": info.mem_kib, "balloon.maximum": info.max_mem_kib})
            if "vcpu" in wanted:
                stats.update({"vcpu.current": info.vcpus, "vcpu.maximum": info.max_vcpus})
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
            out.append({"name": rec.name, "stats": stats})
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

    def interface_addresses(self, dom: str, source: str = "lease") -> list[dict[str, Any]]:
        """`domifaddr`: 'lease' reads the DHCP leases of the guest's virtual networks (user-mode
        NICs have none, in libvirt either); 'arp' reads the host's ARP table; 'agent' needs a
        guest agent pyvirt does not drive."""
        rec = self.lookup(dom)
        if not rec.active or rec.live is None:
            raise operation_invalid("domain is not running")
        if source == "agent":
            raise PyvirtError("Guest agent is not responding: QEMU guest agent is not connected",
                              ErrorCode.AGENT_UNRESPONSIVE, ErrorDomain.QEMU)
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
