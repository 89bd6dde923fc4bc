"""One dnsmasq per network: its configuration (from the network model), start, stop, leases.

The configuration follows libvirt's (networkDnsmasqConfContents): bound to the bridge only,
DHCP ranges and static hosts from ``<ip><dhcp>``, DNS hosts/TXT/SRV/forwarders from ``<dns>``.
dnsmasq writes its own lease file, which ``net-dhcp-leases`` and ``domifaddr --source lease``
read back.  Values come from the validated model (addresses, MACs, names) and are refused when
they hold a newline or comma that would change the meaning of a configuration line.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from pyvirt.api import ErrorCode
from pyvirt.atomicio import write_atomic
from pyvirt.network.hostnet import net_error, run
from pyvirt.xml.network import Network
from pyvirt.xml.network_rules import ip_network, ip_prefix

DNSMASQ = "dnsmasq"
_MAX_LEASES_READ = 1 << 20  # bytes of lease file read at most


@dataclass(frozen=True)
class Files:
    """Where one network's dnsmasq keeps its files (all in the daemon's private runtime dir)."""

    conf: Path
    pid: Path
    leases: Path
    hostsfile: Path
    addnhosts: Path

    @classmethod
    def under(cls, directory: Path, network: str) -> Files:
        return cls(directory / f"{network}.conf", directory / f"{network}.pid", directory / f"{network}.leases",
                   directory / f"{network}.hostsfile", directory / f"{network}.addnhosts")


def _clean(value: str, what: str) -> str:
    if any(c in value for c in "\n\r\0,"):
        raise net_error(f"unsupported configuration: {what} '{value}' cannot be passed to dnsmasq",
                        ErrorCode.CONFIG_UNSUPPORTED)
    return value


def needed(net: Network) -> bool:
    """dnsmasq runs for networks with an address (DNS) unless DNS is off and there is no DHCP."""
    if not net.ips:
        return False
    dns_off = net.dns is not None and net.dns.enable is False
    has_dhcp = any(ip.dhcp is not None for ip in net.ips)
    return not dns_off or has_dhcp


def config(net: Network, bridge: str, files: Files) -> tuple[str, str]:
    """(dnsmasq.conf, dhcp-hostsfile) for `net` on `bridge`."""
    lines = ["strict-order", f"pid-file={files.pid}", "except-interface=lo", "bind-dynamic",
             f"interface={bridge}", "user=nobody", "group=nogroup", f"dhcp-leasefile={files.leases}"]
    dns = net.dns
    if dns is not None and dns.enable is False:
        lines.append("port=0")
    if net.domain_name:
        dom = _clean(net.domain_name, "domain name")
        lines += [f"domain={dom}", "expand-hosts"]
        if net.domain_local_only:
            lines.append(f"local=/{dom}/")
    if dns is not None:
        if dns.forward_plain_names is False:
            lines.append("domain-needed")
        for fwd in dns.forwarders:
            target = fwd.addr or "#"
            lines.append(f"server=/{_clean(fwd.domain, 'forwarder domain')}/{target}" if fwd.domain
                         else f"server={target}")
        if any(fwd.addr and not fwd.domain for fwd in dns.forwarders):
            lines.append("no-resolv")
        for txt in dns.txts:
            lines.append(f"txt-record={_clean(txt.name or '', 'TXT name')},{_clean(txt.value or '', 'TXT value')}")
        for srv in dns.srvs:
            rec = f"_{_clean(srv.service or '', 'SRV service')}._{_clean(srv.protocol or '', 'SRV protocol')}"
            if srv.domain:
                rec += f".{_clean(srv.domain, 'SRV domain')}"
            parts = [rec]
            if srv.target:
                parts += [_clean(srv.target, "SRV target"), str(srv.port or 0), str(srv.priority or 0),
                          str(srv.weight or 0)]
            lines.append("srv-host=" + ",".join(parts))
    hosts: list[str] = []
    leases = 0
    ra = False
    for ip in net.ips:
        if ip.dhcp is None:
            continue
        subnet = ip_network(ip)
        for rng in ip.dhcp.ranges:
            size = int(ipaddress.ip_address(rng.end)) - int(ipaddress.ip_address(rng.start)) + 1
            leases += size
            lease = _lease_time(rng.lease)
            if subnet.version == 4:
                lines.append(f"dhcp-range={rng.start},{rng.end},{subnet.netmask}{lease}")
            else:
                ra = True
                lines.append(f"dhcp-range={rng.start},{rng.end},{ip_prefix(ip)}{lease}")
        for host in ip.dhcp.hosts:
            ident = host.mac or (f"id:{host.id}" if host.id else None)
            parts = [p for p in (ident, _clean(host.name, "DHCP host name") if host.name else None) if p]
            addr = f"[{host.ip}]" if subnet.version == 6 else host.ip
            hosts.append(",".join([*parts, addr or ""]) + _lease_time(host.lease))
        if ip.dhcp.bootp_file:
            boot = _clean(ip.dhcp.bootp_file, "bootp file")
            lines.append(f"dhcp-boot={boot}" + (f",,{ip.dhcp.bootp_server}" if ip.dhcp.bootp_server else ""))
        if ip.tftp_root:
            lines += ["enable-tftp", f"tftp-root={_clean(ip.tftp_root, 'tftp root')}"]
    if leases or hosts:
        lines += ["dhcp-no-override", "dhcp-authoritative", f"dhcp-lease-max={max(leases, 1)}",
                  f"dhcp-hostsfile={files.hostsfile}"]
    if dns is not None and dns.hosts:
        lines.append(f"addn-hosts={files.addnhosts}")
    if ra:
        lines.append("enable-ra")
    for opt in net.dnsmasq_options:  # <dnsmasq:options>: appended last, one line each, as libvirt
        if any(c in opt for c in "\n\r\0"):
            raise net_error(f"unsupported configuration: dnsmasq:option '{opt}' spans more than one line",
                            ErrorCode.CONFIG_UNSUPPORTED)
        lines.append(opt)
    return "\n".join(lines) + "\n", "".join(h + "\n" for h in hosts)


def addn_hosts(net: Network) -> str:
    """The ``addn-hosts`` file of `net`'s ``<dns><host>`` records, one ``IP<TAB>NAME…`` line
    each, as libvirt writes it (addnhostsWrite): exact names (with ``expand-hosts``, also under
    the network's domain).  Not ``address=/NAME/IP``, which would also answer every subdomain,
    and whose ``/``-separated list lets a name like ``#`` or ``a/b`` capture other domains.
    A name dnsmasq's hosts-file reader would split (space, tab) or cut (``#``) is refused."""
    lines = []
    for host in net.dns.hosts if net.dns is not None else []:
        names = []
        for name in host.hostnames:
            if any(c.isspace() or c in "#\0" or ord(c) < 32 for c in name):
                raise net_error(f"unsupported configuration: DNS host name '{name}' cannot be passed to "
                                "dnsmasq", ErrorCode.CONFIG_UNSUPPORTED)
            names.append(name)
        lines.append("\t".join([str(host.ip), *names]) + "\n")
    return "".join(lines)


def _lease_time(lease: object) -> str:
    if lease is None:
        return ""
    expiry, unit = getattr(lease, "expiry", None), getattr(lease, "unit", None)
    if expiry == 0:
        return ",infinite"
    return f",{expiry}{ {'seconds': 's', 'minutes': 'm', 'hours': 'h'}.get(unit or 'minutes', 'm') }"


def pid_of(files: Files) -> int | None:
    """The pid in the pid file if that process is still this network's dnsmasq."""
    try:
        pid = int(files.pid.read_text().strip() or 0)
    except (OSError, ValueError):
        return None
    if pid <= 0:
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    return pid if f"--conf-file={files.conf}".encode() in cmdline else None


def start(net: Network, bridge: str, files: Files) -> int:
    """Write the configuration and start dnsmasq (it daemonizes); its pid."""
    conf, hosts = config(net, bridge, files)
    addn = addn_hosts(net)  # every check before the first file is written
    write_atomic(files.hostsfile, hosts.encode())
    write_atomic(files.addnhosts, addn.encode())
    write_atomic(files.conf, conf.encode())
    with contextlib.suppress(FileNotFoundError):
        files.pid.unlink()
    run([DNSMASQ, f"--conf-file={files.conf}"])
    for _ in range(50):
        pid = pid_of(files)
        if pid is not None:
            return pid
        time.sleep(0.02)
    raise net_error(f"internal error: dnsmasq for bridge {bridge} did not start")


def stop(files: Files) -> None:
    """Stop this network's dnsmasq (only if the pid really is it) and wait for it to go."""
    pid = pid_of(files)
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not os.path.exists(f"/proc/{pid}"):
            break
        time.sleep(0.02)
    for path in (files.pid, files.conf, files.hostsfile, files.addnhosts):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def read_leases(files: Files, subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> list[dict[str, object]]:
    """dnsmasq's lease file as virNetworkDHCPLease records (IPv4 lines; IPv6 ones after 'duid')."""
    try:
        with open(files.leases, encoding="utf-8", errors="replace") as fh:
            text = fh.read(_MAX_LEASES_READ)
    except FileNotFoundError:
        return []
    out: list[dict[str, object]] = []
    v6 = False
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "duid":
            v6 = True
            continue
        if len(parts) < 5:
            continue
        expiry, first, addr, hostname, client = parts[:5]
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            continue
        prefix = next((n.prefixlen for n in subnets if ip.version == n.version and ip in n), 0)
        out.append({"expirytime": int(expiry) if expiry.isdigit() else 0,
                    "mac": "" if v6 else first.lower(), "iaid": first if v6 else "",
                    "type": 1 if ip.version == 6 else 0, "ipaddr": str(ip), "prefix": prefix,
                    "hostname": "" if hostname == "*" else hostname,
                    "clientid": "" if client == "*" else client})
    return out
