"""pyvirtd's network driver: persistent and transient virtual networks on Linux bridges.

State on disk (libvirt's split):
- ``config/network/NAME.xml``: each persistent network's definition (atomic, durable writes);
  ``config/network/autostart/NAME.xml`` links to it when autostart is on;
- ``runtime/network/NAME.xml``: the live definition of each *running* network.  Its presence is what "active" means, so a pyvirtd that was killed finds
  its running networks again at start instead of setting them up a second time.

Starting a network builds, in order, the bridge with its addresses, the nftables table and
the dnsmasq; if any step fails, every earlier one is undone before the error is reported, so
a failed start leaves nothing behind.  Stopping undoes the same in reverse order.

Blocking work (iproute2, nft, dnsmasq) runs in the caller's thread: pyvirtd calls the driver
from worker threads; one lock serialises changes.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyvirt.api import (
    ErrorCode,
    ErrorDomain,
    NetworkEvent,
    NetworkEventType,
    NetworkInfo,
    PyvirtError,
    from_xml_error,
)
from pyvirt.atomicio import remove_quietly, remove_stale_temps, write_atomic
from pyvirt.network import dnsmasq, firewall, hostnet
from pyvirt.network.hostnet import net_error
from pyvirt.xml.errors import XMLError
from pyvirt.xml.network import Network
from pyvirt.xml.network_rules import (
    BRIDGED_MODES,
    check_unique_hosts,
    ip_network,
    parse_network,
    route_destination,
)
from pyvirt.xml.network_validate import validate_network

log = logging.getLogger(__name__)

#: forward modes this driver sets up (bridge: an existing host bridge, nothing to build)
SUPPORTED_MODES = (*BRIDGED_MODES, "bridge")
DEFAULT_NETWORK = """<network>
  <name>default</name>
  <forward mode='nat'/>
  <bridge name='{bridge}' stp='on' delay='0'/>
  <ip address='192.168.{n}.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.{n}.2' end='192.168.{n}.254'/>
    </dhcp>
  </ip>
</network>
"""

Listener = Callable[[NetworkEvent], None]


def _invalid(message: str) -> PyvirtError:
    return PyvirtError(f"Requested operation is not valid: {message}", ErrorCode.OPERATION_INVALID,
                       ErrorDomain.NETWORK)


def _no_network(ref: str) -> PyvirtError:
    return PyvirtError(f"Network not found: no network with matching name '{ref}'", ErrorCode.NO_NETWORK,
                       ErrorDomain.NETWORK)


def _parse(xml: str) -> Network:
    try:
        return parse_network(xml)
    except XMLError as exc:
        raise from_xml_error(exc, ErrorDomain.NETWORK) from None


def _parse_new(xml: str) -> Network:
    """A document to define or create: read, then held to what the network driver allows
    (libvirt's networkValidate), before anything is stored."""
    net = _parse(xml)
    try:
        validate_network(net)
    except XMLError as exc:
        raise from_xml_error(exc, ErrorDomain.NETWORK) from None
    return net


class _Net:
    """One network: its persistent config (None if transient) and live definition (None if stopped)."""

    __slots__ = ("config", "live")

    def __init__(self, config: Network | None, live: Network | None = None) -> None:
        self.config = config
        self.live = live

    @property
    def current(self) -> Network:
        model = self.live or self.config
        assert model is not None
        return model


class NetworkDriver:
    """virNetwork* for pyvirtd (the declared Network operations, by the same names)."""

    BLOCKING = True  # iproute2, nft, dnsmasq: pyvirtd calls these methods in worker threads

    def __init__(self, config_dir: Path, runtime_dir: Path) -> None:
        self.config = config_dir
        self.runtime = runtime_dir
        for d in (self.config, self.config / "autostart", self.runtime):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._nets: dict[str, _Net] = {}
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []

    # ------------------------------------------------------------------ state on disk
    def _config_file(self, name: str) -> Path:
        return self.config / f"{name}.xml"

    def _autostart_link(self, name: str) -> Path:
        return self.config / "autostart" / f"{name}.xml"

    def _live_file(self, name: str) -> Path:
        return self.runtime / f"{name}.xml"

    def _files(self, name: str) -> dnsmasq.Files:
        return dnsmasq.Files.under(self.runtime, name)

    def load(self) -> None:
        """Read every definition, then find running networks again (never set up twice)."""
        with self._lock:
            for directory in (self.config, self.config / "autostart", self.runtime):
                remove_stale_temps(directory)
            for path in sorted(self.config.glob("*.xml")):
                try:
                    net = _parse(path.read_text())
                except (OSError, PyvirtError) as exc:
                    log.error("ignoring network config %s: %s", path, exc)
                    continue
                self._nets[net.name or path.stem] = _Net(net)
            for path in sorted(self.runtime.glob("*.xml")):
                try:
                    live = _parse(path.read_text())
                except (OSError, PyvirtError) as exc:
                    log.error("ignoring network runtime state %s: %s", path, exc)
                    continue
                entry = self._nets.setdefault(live.name or path.stem, _Net(None))
                entry.live = live
                try:
                    self._reattach(entry)
                except Exception as exc:  # noqa: BLE001 - one network must not keep pyvirtd (and every guest's management) down
                    # its bridge is up and guests use it: it stays active, as libvirt keeps a network
                    # whose firewall or dnsmasq it could not restore (net-destroy, net-start mend it)
                    log.error("network %s: could not restore it fully after a restart: %s", live.name or path.stem, exc)

    def _reattach(self, entry: _Net) -> None:
        """A network that was running when pyvirtd stopped: keep it if its bridge is still
        there (re-applying rules and restarting a dead dnsmasq), else clean up what is left."""
        live = entry.current
        name, bridge = live.name or "", live.bridge_name or ""
        if live.forward_mode in BRIDGED_MODES and not hostnet.link_exists(bridge):
            log.warning("network %s: bridge %s is gone; marking the network inactive", name, bridge)
            self._teardown(live)
            entry.live = None
            if entry.config is None:
                del self._nets[name]
            return
        if live.forward_mode in BRIDGED_MODES:
            if not firewall.present(name):
                self._apply_rules(live, bridge)
            if dnsmasq.needed(live) and dnsmasq.pid_of(self._files(name)) is None:
                log.warning("network %s: dnsmasq was not running; starting it again", name)
                dnsmasq.start(live, bridge, self._files(name))
        log.info("network %s found running on %s", name, bridge)

    def _save_config(self, net: Network) -> None:
        write_atomic(self._config_file(net.name or ""), net.to_xml(inactive=True))

    def _save_live(self, net: Network) -> None:
        write_atomic(self._live_file(net.name or ""), net.to_xml(), durable=False)

    # ------------------------------------------------------------------ events
    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(fn)

    def _emit(self, net: Network, event: NetworkEventType) -> None:
        ev = NetworkEvent(net.name or "", net.uuid or "", int(event), 0, time.time())
        for fn in list(self._listeners):
            try:
                fn(ev)
            except Exception:  # noqa: BLE001 - a broken listener must not break the operation
                log.exception("network event listener failed")

    # ------------------------------------------------------------------ lookups
    def _get(self, ref: str) -> _Net:
        entry = self._nets.get(ref)
        if entry is not None:
            return entry
        low = ref.lower()
        for candidate in self._nets.values():
            if candidate.current.uuid == low:
                return candidate
        raise _no_network(ref)

    def _record(self, entry: _Net) -> NetworkInfo:
        net = entry.current
        return NetworkInfo(net.name or "", net.uuid or "", active=entry.live is not None,
                           persistent=entry.config is not None,
                           autostart=self._autostart_link(net.name or "").exists(), bridge=net.bridge_name or "")

    def list_networks(self) -> list[NetworkInfo]:
        with self._lock:
            return [self._record(e) for _, e in sorted(self._nets.items())]

    def lookup_network(self, ref: str) -> NetworkInfo:
        with self._lock:
            return self._record(self._get(ref))

    def get_network_xml(self, name: str, inactive: bool = False) -> str:
        with self._lock:
            entry = self._get(name)
            if inactive and entry.config is not None:
                return entry.config.to_xml(inactive=True)
            return entry.current.to_xml(inactive=inactive)

    # ------------------------------------------------------------------ definition
    def _claim(self, net: Network) -> _Net | None:
        """The existing entry of that name (UUIDs must agree), or None; no other may hold the UUID."""
        for name, entry in self._nets.items():
            cur = entry.current
            if name == net.name:
                if cur.uuid != net.uuid:
                    raise PyvirtError(f"operation failed: network '{name}' already exists with uuid {cur.uuid}",
                                      ErrorCode.OPERATION_FAILED, ErrorDomain.NETWORK)
                return entry
            if cur.uuid == net.uuid:
                raise PyvirtError(f"operation failed: network '{name}' is already defined with uuid {cur.uuid}",
                                  ErrorCode.OPERATION_FAILED, ErrorDomain.NETWORK)
        return None

    def _keep_uuid(self, net: Network, xml: str) -> None:
        """A definition without <uuid> for an existing network keeps that network's UUID."""
        entry = self._nets.get(net.name or "")
        if entry is not None and "<uuid" not in xml:
            net.uuid = entry.current.uuid

    def _name_bridge(self, net: Network) -> None:
        """libvirt's networkBridgeNameValidate, at define and at create: a network that builds
        its own bridge gets the bridge's name now, not at start (the first free ``virbrN``, or
        of a ``prefix%dsuffix`` template), so an inactive network already shows the bridge it
        will use (net-info, net-dumpxml, the web UI's list) and its name stays the same from
        start to start; a name given outright must not be another network's."""
        if net.forward_mode not in BRIDGED_MODES or net.bridge is None:
            return
        name, given = net.name or "", net.bridge.name
        taken = self._bridges_named(skip=name)
        if given and "%d" not in given:
            if given in taken:
                raise net_error(f"internal error: bridge name '{given}' already in use.")
            return
        if not given:  # a redefinition without a name keeps the one the network has
            entry = self._nets.get(name)
            kept = entry.current.bridge_name if entry is not None else None
            if kept and kept not in taken:
                net.bridge.name = kept
                return
        prefix, _, suffix = (given or "virbr%d").partition("%d")
        net.bridge.name = hostnet.free_name(prefix, taken | hostnet.link_names(), suffix)

    def define_network(self, xml: str, validate: bool = False) -> NetworkInfo:
        net = _parse_new(xml)
        with self._lock:
            self._keep_uuid(net, xml)
            entry = self._claim(net)
            self._name_bridge(net)
            self._save_config(net)
            if entry is None:
                entry = self._nets[net.name or ""] = _Net(net)
            else:
                entry.config = net
            self._emit(net, NetworkEventType.DEFINED)
            return self._record(entry)

    def create_network(self, xml: str, validate: bool = False) -> NetworkInfo:
        net = _parse_new(xml)
        with self._lock:
            self._keep_uuid(net, xml)
            entry = self._claim(net)
            if entry is not None and entry.live is not None:
                raise _invalid(f"network is already active as '{net.name}'")
            self._name_bridge(net)
            live = self._setup(net)
            if entry is None:
                entry = self._nets[net.name or ""] = _Net(None)
            entry.live = live
            self._emit(live, NetworkEventType.STARTED)
            return self._record(entry)

    def undefine_network(self, name: str) -> None:
        """A running network stays up, now transient (libvirt's network driver)."""
        with self._lock:
            entry = self._get(name)
            if entry.config is None:
                raise _invalid(f"network '{entry.current.name}' is not persistent")
            name = entry.current.name or ""
            remove_quietly(self._autostart_link(name))
            remove_quietly(self._config_file(name))
            self._emit(entry.config, NetworkEventType.UNDEFINED)
            entry.config = None
            if entry.live is None:
                del self._nets[name]

    def set_network_autostart(self, name: str, autostart: bool) -> None:
        with self._lock:
            entry = self._get(name)
            if entry.config is None:
                raise PyvirtError("internal error: cannot set autostart for transient network",
                                  ErrorCode.INTERNAL_ERROR, ErrorDomain.NETWORK)
            link = self._autostart_link(entry.config.name or "")
            if autostart and not link.is_symlink():
                link.symlink_to(self._config_file(entry.config.name or ""))
            elif not autostart:
                remove_quietly(link)

    # ------------------------------------------------------------------ lifecycle
    def start_network(self, name: str) -> None:
        with self._lock:
            entry = self._get(name)
            if entry.live is not None:
                raise _invalid(f"network '{entry.current.name}' is already active")
            assert entry.config is not None
            entry.live = self._setup(entry.config)
            self._emit(entry.live, NetworkEventType.STARTED)

    def destroy_network(self, name: str) -> None:
        with self._lock:
            entry = self._get(name)
            if entry.live is None:
                raise _invalid(f"network '{entry.current.name}' is not active")
            live, entry.live = entry.live, None
            self._teardown(live)
            if entry.config is None:
                del self._nets[live.name or ""]
            self._emit(live, NetworkEventType.STOPPED)

    def autostart_networks(self) -> list[str]:
        started = []
        with self._lock:
            for name, entry in sorted(self._nets.items()):
                if entry.live is None and entry.config is not None and self._autostart_link(name).exists():
                    try:
                        self.start_network(name)
                        started.append(name)
                    except PyvirtError as exc:
                        log.error("cannot autostart network %s: %s", name, exc)
        return started

    def stop_all(self) -> None:
        """Tear down every running network (a host shutting pyvirt down for good, and tests)."""
        with self._lock:
            for name in [n for n, e in self._nets.items() if e.live is not None]:
                self.destroy_network(name)

    # ------------------------------------------------------------------ setting up the host
    def _subnets(self, net: Network) -> list[str]:
        return [str(ip_network(ip)) for ip in net.ips]

    def _check(self, net: Network) -> None:
        """What must hold before anything is touched on the host (so a refusal leaves nothing)."""
        mode, name = net.forward_mode, net.name or ""
        if mode not in SUPPORTED_MODES:
            raise net_error(f"unsupported configuration: forward mode '{mode}' of network '{name}' is not "
                            "supported by pyvirt's network driver", ErrorCode.CONFIG_UNSUPPORTED)
        # a portgroup that only names itself changes nothing for a guest's tap: accepted, as libvirt does
        loaded_pg = next((pg.name for pg in net.portgroups
                          if pg.vlan or pg.virtualport or pg.bandwidth or pg.trust_guest_rx_filters), None)
        for what, present in ((f"<portgroup name='{loaded_pg}'> with vlan/virtualport/bandwidth/trustGuestRxFilters",
                               loaded_pg is not None), ("<virtualport>", net.virtualport),
                              ("<vlan>", net.vlan), ("<bandwidth>", net.bandwidth),
                              ("<port isolated>", net.port_isolated),
                              ("<forward dev>", net.forward and net.forward.interfaces and mode != "bridge"),
                              ("<route> in a network without a bridge of its own",
                               net.routes and mode not in BRIDGED_MODES)):
            if present:
                raise net_error(f"unsupported configuration: {what} in network '{name}' is not supported by "
                                "pyvirt's network driver", ErrorCode.CONFIG_UNSUPPORTED)
        try:
            check_unique_hosts(net)
            for route in net.routes:
                route_destination(route)
        except XMLError as exc:
            raise from_xml_error(exc, ErrorDomain.NETWORK) from None
        if mode == "bridge":
            if not net.bridge_name:
                raise net_error(f"unsupported configuration: network '{name}' with forward mode='bridge' needs "
                                "<bridge name=> (an existing host bridge)", ErrorCode.CONFIG_UNSUPPORTED)
            hostnet.check_ifname(net.bridge_name, "bridge")
            if not hostnet.link_exists(net.bridge_name):
                raise net_error(f"internal error: bridge '{net.bridge_name}' of network '{name}' does not exist")
            return
        links = hostnet.link_names()
        if net.bridge_name:
            hostnet.check_ifname(net.bridge_name, "bridge")
            if net.bridge_name in links or net.bridge_name in self._bridges_in_use(name):
                raise net_error(f"internal error: bridge name '{net.bridge_name}' already in use.")
        self._check_overlap(net)

    def _bridges_in_use(self, skip: str) -> set[str]:
        return {e.live.bridge_name for n, e in self._nets.items()
                if e.live is not None and n != skip and e.live.bridge_name}

    def _bridges_named(self, skip: str) -> set[str]:
        """Bridge names of every other network, running or not (a definition holds its name)."""
        return {net.bridge_name for n, e in self._nets.items() if n != skip
                for net in (e.config, e.live) if net is not None and net.bridge_name}

    def _check_overlap(self, net: Network) -> None:
        mine = [ip_network(ip) for ip in net.ips]
        for other_name, entry in self._nets.items():
            if entry.live is None or other_name == net.name:
                continue
            for theirs in (ip_network(ip) for ip in entry.live.ips):
                for subnet in mine:
                    if subnet.version == theirs.version and subnet.overlaps(theirs):
                        raise net_error(f"internal error: network '{net.name}' subnet {subnet} overlaps with "
                                        f"{theirs} of active network '{other_name}'")
        for route in hostnet.routes():
            for subnet in mine:
                if subnet.version == route.version and subnet.overlaps(route):
                    raise net_error(f"internal error: Network is already in use by a host route to {route} "
                                    f"(network '{net.name}', subnet {subnet})")

    def _setup(self, config: Network) -> Network:
        """Bring the network up on the host; its live definition.  All or nothing."""
        import copy

        self._check(config)
        live = copy.deepcopy(config)
        if live.forward_mode == "bridge":
            self._save_live(live)
            return live
        assert live.bridge is not None
        if not live.bridge.name:
            live.bridge.name = hostnet.free_name("virbr", hostnet.link_names() | self._bridges_in_use(""))
        name, bridge = live.name or "", live.bridge.name
        try:
            hostnet.bridge_create(bridge, mac=live.mac, mtu=live.mtu, stp=bool(live.bridge.stp),
                                  delay=live.bridge.delay or 0)
            for ip in live.ips:
                subnet = ip_network(ip)
                hostnet.addr_add(bridge, ip.address or "", subnet.prefixlen)
            hostnet.link_up(bridge)
            for route in live.routes:
                hostnet.route_add(bridge, route_destination(route), route.gateway or "", route.metric)
            self._apply_rules(live, bridge)
            if live.forward_mode in ("nat", "route"):
                if any(ip_network(ip).version == 4 for ip in live.ips):
                    hostnet.set_sysctl("net/ipv4/ip_forward", "1")
                if any(ip_network(ip).version == 6 for ip in live.ips):
                    hostnet.set_sysctl("net/ipv6/conf/all/forwarding", "1")
            if dnsmasq.needed(live):
                dnsmasq.start(live, bridge, self._files(name))
            self._save_live(live)
        except BaseException:
            self._teardown(live)
            raise
        log.info("network %s started on %s", name, bridge)
        return live

    def _apply_rules(self, live: Network, bridge: str) -> None:
        firewall.apply(live.name or "", live.forward_mode, bridge, self._subnets(live),
                       live.forward.nat if live.forward is not None else None)

    def _teardown(self, live: Network) -> None:
        """Undo _setup; every step tolerates what is already gone."""
        name = live.name or ""
        if live.forward_mode in BRIDGED_MODES:
            dnsmasq.stop(self._files(name))
            firewall.remove(name)
            if live.bridge_name:
                hostnet.link_delete(live.bridge_name)
        remove_quietly(self._live_file(name))

    # ------------------------------------------------------------------ changes while defined or running
    def update_network(self, name: str, command: str, section: str, xml: str, parent_index: int = -1,
                       live: bool = False, config: bool = False) -> None:
        from pyvirt.xml.network_update import update_network

        with self._lock:
            entry = self._get(name)
            if not live and not config:
                live, config = entry.live is not None, entry.live is None
            if live and entry.live is None:
                raise _invalid("network is not running")
            if config and entry.config is None:
                raise _invalid("cannot change persistent config of a transient network")
            try:
                new_live = update_network(entry.live, command, section, xml, parent_index) if live else None
                new_config = update_network(entry.config, command, section, xml, parent_index) if config else None
                if new_live is not None:  # refused before anything changes: --config too stays as it was
                    check_unique_hosts(new_live)
            except XMLError as exc:
                raise from_xml_error(exc, ErrorDomain.NETWORK) from None
            if new_live is not None:  # the host first: a dnsmasq that will not start changes nothing
                self._update_live(entry, new_live, section)
            if new_config is not None:
                self._save_config(new_config)
                entry.config = new_config

    def _update_live(self, entry: _Net, new_live: Network, section: str) -> None:
        """Run the network as `new_live` says (dnsmasq restarted for ip/dns changes); when the
        new dnsmasq fails, the old one is started again and the error raised."""
        old = entry.current
        name, bridge = new_live.name or "", new_live.bridge_name or ""
        if new_live.forward_mode in BRIDGED_MODES and section.startswith(("ip", "dns")):
            dnsmasq.stop(self._files(name))
            try:
                if dnsmasq.needed(new_live):
                    dnsmasq.start(new_live, bridge, self._files(name))
            except BaseException:
                with contextlib.suppress(Exception):
                    if dnsmasq.needed(old):
                        dnsmasq.start(old, bridge, self._files(name))
                raise
        entry.live = new_live
        self._save_live(new_live)

    # ------------------------------------------------------------------ guests
    def network_dhcp_leases(self, name: str, mac: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            entry = self._get(name)
            if entry.live is None:
                raise _invalid(f"network '{entry.current.name}' is not active")
            live = entry.live
        subnets = [ip_network(ip) for ip in live.ips]
        leases = dnsmasq.read_leases(self._files(live.name or ""), subnets)
        now = time.time()
        out = []
        for lease in leases:
            if mac and lease["mac"] != mac.lower():
                continue
            if lease["expirytime"] and int(lease["expirytime"]) < now:  # type: ignore[arg-type]
                continue
            out.append({**lease, "iface": live.bridge_name or ""})
        return out

    def bridge_for(self, ref: str) -> tuple[str, int | None]:
        """(bridge, mtu) a guest NIC on network `ref` attaches to; libvirt's error if it is not running."""
        with self._lock:
            entry = self._nets.get(ref)
            if entry is None:
                raise _no_network(ref)
            if entry.live is None:
                raise _invalid(f"network '{ref}' is not active")
            mode = entry.live.forward_mode
            if mode not in SUPPORTED_MODES or not entry.live.bridge_name:
                raise net_error(f"unsupported configuration: guests cannot join network '{ref}' (forward mode "
                                f"'{mode}')", ErrorCode.CONFIG_UNSUPPORTED)
            return entry.live.bridge_name, entry.live.mtu

    def leases_for_mac(self, mac: str) -> list[dict[str, Any]]:
        """Every running network's leases for `mac` (domifaddr --source lease)."""
        with self._lock:
            names = [n for n, e in self._nets.items() if e.live is not None]
        out: list[dict[str, Any]] = []
        for name in names:
            with contextlib.suppress(PyvirtError):
                out += self.network_dhcp_leases(name, mac)
        return out

    # ------------------------------------------------------------------ the default network
    def ensure_default(self) -> None:
        """libvirt's first-start behaviour on the system daemon: define the NAT network
        `default` on the first free 192.168.N.0/24 (122 first) and mark it autostarted.  Done
        once: a marker remembers it, so an admin's net-undefine of it sticks."""
        marker = self.config / ".default-created"
        with self._lock:
            if marker.exists() or "default" in self._nets:
                return
            taken = [ip_network(ip) for e in self._nets.values() for ip in e.current.ips]
            taken += hostnet.routes()
            for n in range(122, 255):
                subnet = ipaddress.ip_network(f"192.168.{n}.0/24")
                if not any(subnet.version == t.version and subnet.overlaps(t) for t in taken):
                    break
            else:
                log.error("no free 192.168.N.0/24 for the default network")
                return
            used = hostnet.link_names() | self._bridges_named("")
            bridge = "virbr0" if "virbr0" not in used else hostnet.free_name("virbr", used)
            self.define_network(DEFAULT_NETWORK.format(n=n, bridge=bridge))
            self.set_network_autostart("default", True)
            write_atomic(marker, b"")
