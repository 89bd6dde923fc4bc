"""Host figures and guest monitoring answers of a test connection, as libvirt's test driver gives them.

libvirt's test driver has no host to measure: it answers from its <node> state (NUMA cells in its
capabilities, the node info) and from canned figures that never change (CPU statistics, an
eight-CPU map with 0,2,4 online, a guest clock stopped at 627319920).  Front ends and scripts
are tested against exactly those answers, so pyvirt gives the same ones; `virsh -c test:///default`
shows each of them (the oracle tests compare live).
"""

from __future__ import annotations

from pyvirt.api import ErrorCode
from pyvirt.testdriver import errors as E

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyvirt.api import NodeInfo
    from pyvirt.testdriver.loader import NodeState
    from pyvirt.testdriver.objects import DomainObj, NetworkObj

#: the test driver's guest clock (virsh domtime, dommemstat's last_update): seconds since the epoch
TEST_CLOCK = 627319920
#: testNodeGetCPUStats's figures in ns, whatever the CPU asked for
_CPU_STATS = {"user": 9797400000, "system": 34678723400000, "idle": 87264900000, "iowait": 763600000}
#: testNodeGetCPUMap: eight CPUs present, every other one of the first six online
_CPU_MAP = [True, False, True, False, True, False, False, False]
_MAX_VCPUS = 32


class MonitorMixin:
    """node_* figures, max_vcpus, interface addresses and send-key for TestConnection."""

    _state: NodeState

    def get_capabilities(self) -> str:  # TestConnection's
        raise NotImplementedError

    def node_info(self) -> NodeInfo:  # TestConnection's
        raise NotImplementedError

    def _get(self, ref: str) -> DomainObj:  # TestConnection's
        raise NotImplementedError

    def _network(self, ref: str) -> NetworkObj:  # NetworksMixin's
        raise NotImplementedError

    def _running_tree(self, dom: str):  # type: ignore[no-untyped-def]
        """The definition a running guest's figures come from: libvirt's test driver answers these
        calls only for an active domain ("domain is not running" otherwise)."""
        obj = self._get(dom)
        if not obj.active:
            raise E.invalid("domain is not running")
        return obj.live if obj.live is not None else obj.config

    # -- host
    def _cells(self) -> list[int]:
        """Each NUMA cell's memory figure from the capabilities (KiB there; the driver hands the
        number out as bytes, which is what virsh freecell then shows divided by 1024)."""
        import xml.etree.ElementTree as ET

        root = ET.fromstring(self.get_capabilities())
        return [int(m.text or 0) for m in root.iterfind("host/topology/cells/cell/memory")]

    def node_free_memory(self) -> int:
        # testNodeGetFreeMemory hands out the node memory figure (KiB) as bytes, as for cells
        return self.node_info().memory_kib

    def node_cells_free_memory(self, start: int = 0, count: int = 1) -> list[int]:
        cells = self._cells()
        if start < 0 or start >= len(cells):
            raise E.invalid_arg("Range exceeds available cells")
        return cells[start:start + max(count, 0)]

    def max_vcpus(self, virttype: str | None = None) -> int:
        return _MAX_VCPUS

    def node_cpu_map(self) -> list[bool]:
        return list(_CPU_MAP)

    def node_cpu_stats(self, cpu: int = -1) -> dict[str, int]:
        from pyvirt.connection import check_all_or_one

        check_all_or_one(cpu, "cpuNum in virNodeGetCPUStats")
        return dict(_CPU_STATS)

    # -- guests
    def domain_hostname(self, dom: str, source: str | None = None) -> str:
        """testDomainGetHostname: a fixed name for a running domain; no source flags."""
        self._write("virDomainGetHostname")  # type: ignore[attr-defined]
        if source is not None:
            raise E.unsupported_flags({"lease": 1, "agent": 2}.get(source, 0), "testDomainGetHostname")
        if not self._get(dom).active:
            raise E.invalid("domain is not running")
        return "testhost"

    def iothread_info(self, dom: str, live: bool = False, config: bool = False) -> list[dict[str, Any]]:
        """testDomainGetIOThreadInfo: from the definition (live or config); an IOThread neither pinned
        nor under <vcpu cpuset> shows CPUs 0 to the domain's current vCPU count less one (what
        libvirt 9.0's test driver prints, whatever the host has)."""
        from pyvirt.testdriver.tuning import vcpu_current
        from pyvirt.xml.generic_defaults import iothread_affinities

        tree = self._one_def(self._get(dom), live, config)  # type: ignore[attr-defined]
        ids = [int(t.get("id", "0")) for t in tree.iterfind("iothreadids/iothread")]
        if not ids:
            ids = list(range(1, int(tree.findtext("iothreads") or 0) + 1))
        pins = {int(p.get("iothread", "0")): p.get("cpuset", "") for p in tree.iterfind("cputune/iothreadpin")}
        vcpu = tree.find("vcpu")
        return iothread_affinities(ids, pins, vcpu.get("cpuset") if vcpu is not None else None, vcpu_current(tree))

    def disk_errors(self, dom: str) -> list[dict[str, Any]]:
        """testDomainGetDiskErrors: disk i reports error (i % 2) + 1 (unspecified, no space, ...)."""
        tree = self._running_tree(dom)
        disks = list(tree.iterfind("devices/disk")) if tree is not None else []
        return [{"disk": (d.find("target").get("dev", "") if d.find("target") is not None else ""),
                 "error": i % 2 + 1} for i, d in enumerate(disks)]

    def get_time(self, dom: str) -> dict[str, int]:
        """testDomainGetTime: a fixed clock (1989-11-17 15:32:00 UTC), read from a running
        domain only (libvirt 9.0 answers "not running" for a paused one too; setting takes one)."""
        self._write("virDomainGetTime")  # type: ignore[attr-defined]
        from pyvirt.api import DomainState

        if self._get(dom).state != DomainState.RUNNING:
            raise E.invalid("domain is not running")
        return {"seconds": 627319920, "nseconds": 0}

    def set_time(self, dom: str, seconds: int = 0, nseconds: int = 0, sync: bool = False) -> None:
        """testDomainSetTime: accepted, and changes nothing."""
        self._write("virDomainSetTime")  # type: ignore[attr-defined]
        if not self._get(dom).active:
            raise E.invalid("domain is not running")

    # -- the pretend guest agent: libvirt's test driver has two filesystems, "/" and "/boot", on
    #    the first disk, which it freezes and thaws (testDomainFSFreeze and its kin)
    _TEST_MOUNTS = ("/", "/boot")

    def _agent_domain(self, dom: str) -> Any:
        obj = self._get(dom)
        if not obj.active:
            raise E.invalid("domain is not running")
        return obj

    def _test_mounts(self, mountpoints: list[str] | None) -> set[str]:
        for m in mountpoints or ():
            if m not in self._TEST_MOUNTS:
                raise E.invalid(f"mount point not found: {m}")
        return set(mountpoints or self._TEST_MOUNTS)

    def fs_freeze(self, dom: str, mountpoints: list[str] | None = None) -> int:
        """testDomainFSFreeze: how many of the chosen were not frozen yet."""
        self._write("virDomainFSFreeze")
        obj = self._agent_domain(dom)
        chosen = self._test_mounts(mountpoints)
        newly = chosen - obj.frozen
        obj.frozen |= chosen
        return len(newly)

    def fs_thaw(self, dom: str, mountpoints: list[str] | None = None) -> int:
        """testDomainFSThaw: how many of the chosen were frozen."""
        self._write("virDomainFSThaw")
        obj = self._agent_domain(dom)
        chosen = self._test_mounts(mountpoints)
        thawed = chosen & obj.frozen
        obj.frozen -= chosen
        return len(thawed)

    def fs_trim(self, dom: str, mountpoint: str | None = None, minimum: int = 0) -> None:
        """testDomainFSTrim: accepted for the two pretend mount points."""
        self._write("virDomainFSTrim")
        self._agent_domain(dom)
        self._test_mounts([mountpoint] if mountpoint else None)

    def fs_info(self, dom: str) -> list[dict[str, Any]]:
        """testDomainGetFSInfo: "/" and "/boot" as partitions 1 and 2 of the first disk."""
        self._write("virDomainGetFSInfo")  # type: ignore[attr-defined]
        obj = self._agent_domain(dom)
        tree = obj.live if obj.live is not None else obj.config
        for disk in tree.iterfind("devices/disk") if tree is not None else ():
            if disk.get("device", "disk") != "disk":
                continue
            target = disk.find("target")
            name = target.get("dev", "") if target is not None else ""
            return [{"mountpoint": m, "name": f"{name}{i}", "fstype": "ext4", "devices": [name]}
                    for i, m in enumerate(self._TEST_MOUNTS, 1)]
        return []

    def set_user_password(self, dom: str, user: str, password: str, encrypted: bool = False) -> None:
        """testDomainSetUserPassword: accepted for a running domain."""
        self._write("virDomainSetUserPassword")
        self._agent_domain(dom)

    def control_info(self, dom: str) -> dict[str, int]:
        """testDomainGetControlInfo: a running domain's monitor is always fine."""
        if not self._get(dom).active:
            raise E.invalid("domain is not running")
        return {"state": 0, "details": 0, "state_time": 0}

    def interface_addresses(self, dom: str, source: str = "lease") -> list[dict[str, Any]]:
        """testDomainInterfaceAddresses: interface i is testnet<i>; on a network it gets the
        address after the network's DHCP range start (or after its own address) plus i, with the
        network's prefix; other interfaces get 192.168.0.(1+i)/24."""
        if source == "agent":  # virDomainInterfaceAddresses asks the guest: not read-only
            self._write("virDomainInterfaceAddresses")  # type: ignore[attr-defined]
        tree = self._running_tree(dom)
        out: list[dict[str, Any]] = []
        for i, nic in enumerate(tree.iterfind("devices/interface") if tree is not None else ()):
            mac = nic.find("mac")
            source_el = nic.find("source")
            if nic.get("type") == "network" and source_el is not None:
                addr, prefix = _network_base(self._network(source_el.get("network", "")))
                address = _ipv4_add(addr, 1 + i)
            else:
                address, prefix = f"192.168.0.{1 + i}", 24
            out.append({"name": f"testnet{i}", "hwaddr": mac.get("address", "") if mac is not None else "",
                        "addrs": [{"type": "ipv4", "addr": address, "prefix": prefix}]})
        return out

    def vcpu_count(self, dom: str, *, live: bool = False, config: bool = False, maximum: bool = False,
                   guest: bool = False) -> int:
        """testDomainGetVcpusFlags: one definition's count (no guest agent: an unsupported flag)."""
        if guest:
            raise E.unsupported_flags(0x8, "testDomainGetVcpusFlags")
        obj = self._get(dom)
        if live and config:
            raise E.invalid_arg("Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive")
        if live and not obj.active:
            raise E.invalid("domain is not running")
        tree = obj.config if config or not obj.active else obj.live
        vcpu = tree.find("vcpu") if tree is not None else None
        top = int((vcpu.text or "1").strip()) if vcpu is not None else 1
        return top if maximum else int(vcpu.get("current", top)) if vcpu is not None else top

    def block_info(self, dom: str, disk: str) -> dict[str, int]:
        """testDomainGetBlockInfo: a disk by target or source gets fixed figures (1 TiB)."""
        obj = self._get(dom)
        tree = obj.live if obj.live is not None else obj.config
        for el in tree.iterfind("devices/disk") if tree is not None else ():
            target, source = el.find("target"), el.find("source")
            names = {target.get("dev") if target is not None else None}
            names |= {source.get(a) for a in ("file", "dev", "name")} if source is not None else set()
            if disk in names:
                if source is None:
                    raise E.invalid_arg(f"disk '{disk}' does not currently have a source assigned")
                return {"capacity": 1099506450432, "allocation": 1099511627776, "physical": 1099511627776}
        raise E.invalid_arg(f"invalid path {disk} not assigned to domain")

    def block_stats(self, dom: str, disk: str) -> dict[str, int]:
        """testDomainBlockStats (virsh falls back to it: the driver has no BlockStatsFlags): a
        running guest's disk, by target or source, gets the five legacy counters derived from
        the clock -- libvirt's "no significance to these numbers"; no disk: no summary."""
        import time

        if not disk:
            raise E.err("Operation not supported: summary statistics are not supported yet",
                        ErrorCode.OPERATION_UNSUPPORTED)
        tree = self._running_tree(dom)
        for el in tree.iterfind("devices/disk") if tree is not None else ():
            target, source = el.find("target"), el.find("source")
            names = {target.get("dev") if target is not None else None}
            names |= {source.get(a) for a in ("file", "dev", "name")} if source is not None else set()
            if disk in names:
                base = time.time_ns() // 1000
                return {"rd_operations": base // 10, "rd_bytes": base // 20, "wr_operations": base // 30,
                        "wr_bytes": base // 40, "errs": base // 1000000 // 2}
        raise E.invalid_arg(f"invalid path: {disk}")

    def interface_stats(self, dom: str, device: str) -> dict[str, int]:
        """testDomainInterfaceStats: a running guest's NIC (by MAC or target dev) gets figures
        derived from the clock in microseconds -- no meaning, "just enough to mix it up"."""
        import time

        tree = self._running_tree(dom)
        for nic in tree.iterfind("devices/interface") if tree is not None else ():
            mac, target = nic.find("mac"), nic.find("target")
            if ((mac is not None and mac.get("address", "").lower() == device.lower())
                    or (target is not None and target.get("dev") == device)):
                base = time.time_ns() // 1000
                return {"rx_bytes": base // 10, "rx_packets": base // 100, "rx_errs": base // 1000000,
                        "rx_drop": base // 2000000, "tx_bytes": base // 20, "tx_packets": base // 110,
                        "tx_errs": base // 3000000, "tx_drop": base // 4000000}
        raise E.invalid_arg(f"'{device}' is not a known interface")

    def send_key(self, dom: str, codeset: str, holdtime: int, keycodes: list[int]) -> None:
        """testDomainSendKey: the keys go nowhere, but only a running guest takes them, and each
        must be a code of its set; not on a read-only connection (virDomainSendKey's check)."""
        from pyvirt.connection import check_send_key, keycode_table

        self._write("virDomainSendKey")  # type: ignore[attr-defined]
        check_send_key(holdtime, keycodes)
        obj = self._get(dom)
        if not obj.active:
            raise E.invalid("domain is not running")
        table = keycode_table(codeset)
        for code in keycodes:
            if code not in table:
                raise E.err(f"internal error: invalid keycode {code} of {codeset} codeset", E.ErrorCode.INTERNAL_ERROR)

    def launch_security_info(self, dom: str) -> dict[str, Any]:
        """testDomainGetLaunchSecurityInfo takes no flags, and virDomainGetLaunchSecurityInfo
        always adds VIR_TYPED_PARAM_STRING_OKAY: refused whatever the domain."""
        self._write("virDomainGetLaunchSecurityInfo")  # type: ignore[attr-defined]
        raise E.unsupported_flags(0x4, "testDomainGetLaunchSecurityInfo")

    def screenshot(self, dom: str, screen: int = 0) -> str:
        """testDomainScreenshot: a fixed PNG whatever the guest's state or the screen asked for
        (libvirt sends a picture from its data directory; this driver draws its own)."""
        self._write("virDomainScreenshot")  # type: ignore[attr-defined]
        import base64

        self._get(dom)
        return base64.b64encode(_test_png()).decode("ascii")


def _test_png(width: int = 64, height: int = 48) -> bytes:
    """A grey 8-bit grayscale PNG with a darker frame: the test driver's screen."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    edge = bytes([0x40]) * width
    inner = bytes([0x40]) + bytes([0xc0]) * (width - 2) + bytes([0x40])
    rows = b"".join(b"\0" + (edge if y in (0, height - 1) else inner) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def _network_base(net: NetworkObj) -> tuple[str, int]:
    """The first IPv4 <ip> of a network: (DHCP range start, or its address; prefix length)."""
    for ip in net.xml.iterfind("ip"):
        if ip.get("family", "ipv4") != "ipv4":
            continue
        prefix = int(ip.get("prefix")) if ip.get("prefix") else _prefix(ip.get("netmask", "255.255.255.0"))
        rng = ip.find("dhcp/range")
        return (rng.get("start") if rng is not None else ip.get("address", "0.0.0.0")), prefix
    return "0.0.0.0", 0


def _prefix(netmask: str) -> int:
    return sum(bin(int(part)).count("1") for part in netmask.split("."))


def _ipv4_add(address: str, n: int) -> str:
    a, b, c, d = (int(x) for x in address.split("."))
    value = ((a << 24) | (b << 16) | (c << 8) | d) + n
    return ".".join(str(value >> shift & 255) for shift in (24, 16, 8, 0))
