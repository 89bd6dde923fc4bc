"""Network disks (``<disk type='network'>``): the protocol node of the -blockdev chain.

libvirt 9.0 (qemuBlockStorageSourceGetBackendProps) gives each ``<source protocol=...>`` QEMU's
block driver of the same name, with the server(s) as QAPI SocketAddress objects and a port
filled in from the protocol's well-known one when the XML has none.  Everything here is JSON
(``-blockdev``), so values need no comma escaping.  What pyvirt cannot translate faithfully is
refused by name: TLS (libvirt takes the x509 directory from qemu.conf, pyvirt has no such
setting yet), protocols whose QEMU drivers are gone or out of tree (sheepdog, vxhs), tftp.
Authentication (``<auth>``: iscsi CHAP, rbd cephx, http(s)/ftp(s) users) is a secret object the
credentials properties name (argv_disks._auth); pyvirtd resolves the secret at start.
"""

from __future__ import annotations

import grp
import pwd
from typing import Any

from pyvirt.xml.errors import XMLError, XMLInternalError
from pyvirt.xml.generic_defaults import NET_DEFAULT_PORTS

from .argv_common import unsupported

#: the port of a <host> without one: libvirt's defaults (filled at define) and Ceph's monitor port
DEFAULT_PORTS = {**NET_DEFAULT_PORTS, "rbd": 6789}
_URL_PROTOCOLS = ("http", "https", "ftp", "ftps")
#: libvirt's qemu.conf gluster_debug_level default
_GLUSTER_DEBUG = 4


def is_network(disk: Any) -> bool:
    """Whether the disk's image is reached over a network protocol (not a host path)."""
    return disk.type == "network"


def net_storage(disk: Any) -> dict[str, Any]:
    """The protocol node's properties (without node-name, cache and the trailing flags)."""
    proto = disk.source_protocol
    if proto is None:
        raise XMLError("missing network source protocol type", disk.line)
    if (disk.source_tls or disk.source_tls_hostname) and proto != "nbd":
        raise unsupported(f"<source protocol={proto!r} tls=...> (TLS is built for NBD disks only)", disk.line)
    builder = _BUILDERS.get(proto)
    if builder is None:
        raise unsupported(f"network disk protocol {proto!r}", disk.line)
    for what, value in (("snapshot", disk.source_snapshot), ("config", disk.source_config)):
        if value is not None and proto != "rbd":
            raise XMLError(f"<source><{what}> is only supported with protocol 'rbd', not {proto!r}",
                           disk.line)
    if disk.source_initiator_iqn is not None and proto != "iscsi":
        raise XMLError(f"<source><initiator> is only supported with protocol 'iscsi', not {proto!r}",
                       disk.line)
    has_identity = disk.source_identity_user is not None or disk.source_identity_group is not None
    if has_identity and proto != "nfs":
        raise XMLError(f"<source><identity> is only supported with protocol 'nfs', not {proto!r}",
                       disk.line)
    if disk.source_query is not None and proto not in _URL_PROTOCOLS:
        raise XMLError(f"<source query=...> is only supported with http(s)/ftp(s), not {proto!r}",
                       disk.line)
    return builder(disk)


def _hosts(disk: Any, *, exactly_one: bool) -> list[Any]:
    hosts = list(disk.source_hosts)
    if exactly_one and len(hosts) != 1:  # qemuBlockStorageSourceGet*Props' words
        proto = disk.source_protocol
        raise XMLInternalError(f"{proto} protocol accepts only one host" if proto in ("nbd", "ssh")
                               else f"protocol '{proto}' accepts only one host", disk.line)
    for h in hosts:
        if (h.transport or "tcp") == "unix":
            if not h.socket:
                raise XMLError("missing socket for unix transport", h.line or disk.line, libvirt_words=True)
        elif not h.name:
            raise XMLError("missing name for host of <source><host>", h.line or disk.line)
        if h.transport == "rdma":
            raise unsupported("<host transport='rdma'>", h.line or disk.line)
    return hosts


def _port(disk: Any, host: Any) -> int:
    return host.port if host.port else DEFAULT_PORTS[disk.source_protocol]


def _server(disk: Any, host: Any, *, typed: bool = True) -> dict[str, Any]:
    """qemuBlockStorageSourceBuildJSONSocketAddress (``typed``) or its inet-only variant."""
    if (host.transport or "tcp") == "unix":
        if not typed:
            raise unsupported(f"unix socket <host> with protocol '{disk.source_protocol}'", disk.line)
        return {"type": "unix", "path": host.socket}
    out: dict[str, Any] = {"type": "inet"} if typed else {}
    out.update(host=host.name, port=str(_port(disk, host)))
    return out


def _nbd(disk: Any) -> dict[str, Any]:
    (host,) = _hosts(disk, exactly_one=True)
    out: dict[str, Any] = {"driver": "nbd", "server": _server(disk, host)}
    if disk.source_name:
        out["export"] = disk.source_name
    return out


def _url(disk: Any) -> dict[str, Any]:
    (host,) = _hosts(disk, exactly_one=True)
    if (host.transport or "tcp") != "tcp":
        raise XMLError(f"protocol '{disk.source_protocol}' needs a tcp <host>", disk.line)
    path = disk.source_name or ""
    if not path.startswith("/"):
        path = "/" + path
    url = f"{disk.source_protocol}://{_url_host(host.name)}:{_port(disk, host)}{path}"
    if disk.source_query:
        url += "?" + disk.source_query
    props: dict[str, Any] = {"driver": disk.source_protocol, "url": url}
    if disk.source_ssl_verify is not None:
        props["sslverify"] = disk.source_ssl_verify
    if disk.source_timeout:  # 0 is none (qemuBlockStorageSourceGetCURLProps: 'P:' properties)
        props["timeout"] = disk.source_timeout
    if disk.source_readahead:
        props["readahead"] = disk.source_readahead
    return props


#: qemuBlockStorageSourceGetCURLProps' order of a curl node's properties (credentials and the
#: cookies' secret are added by argv_disks after the node is built)
_CURL_ORDER = ("driver", "url", "username", "password-secret", "sslverify", "cookie-secret", "timeout", "readahead")


def curl_order(props: dict[str, Any]) -> dict[str, Any]:
    """``props`` of an http(s)/ftp(s) node in libvirt's order (others unchanged)."""
    if props.get("driver") not in _URL_PROTOCOLS:
        return props
    rank = {k: i for i, k in enumerate(_CURL_ORDER)}
    return dict(sorted(props.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def _url_host(name: str) -> str:
    return f"[{name}]" if ":" in name else name


def _rbd(disk: Any) -> dict[str, Any]:
    pool, sep, image = (disk.source_name or "").partition("/")
    if not sep or not pool or not image:
        raise XMLError(f"can't split rbd source name {disk.source_name!r} into pool and image",
                       disk.line)
    out: dict[str, Any] = {"driver": "rbd", "pool": pool}
    namespace, sep, rest = image.partition("/")
    if sep:
        out["namespace"] = namespace
        image = rest
    out["image"] = image
    if disk.source_snapshot is not None:
        out["snapshot"] = disk.source_snapshot
    if disk.source_config is not None:
        out["conf"] = disk.source_config
    hosts = _hosts(disk, exactly_one=False)
    if hosts:
        out["server"] = [_server(disk, h, typed=False) for h in hosts]
    return out


def _gluster(disk: Any) -> dict[str, Any]:
    volume, sep, path = (disk.source_name or "").lstrip("/").partition("/")
    if not sep or not volume or not path:
        raise XMLError(f"missing volume name or file name in gluster source path {disk.source_name!r}",
                       disk.line)
    hosts = _hosts(disk, exactly_one=False)
    if not hosts:
        raise XMLError("protocol 'gluster' needs at least one <host>", disk.line)
    return {"driver": "gluster", "volume": volume, "path": path,
            "server": [_server(disk, h) for h in hosts], "debug": _GLUSTER_DEBUG}


def _iscsi(disk: Any) -> dict[str, Any]:
    (host,) = _hosts(disk, exactly_one=True)
    if (host.transport or "tcp") != "tcp":
        raise XMLError("protocol 'iscsi' needs a tcp <host>", disk.line)
    target, sep, lun_text = (disk.source_name or "").rpartition("/")
    if not sep:
        target, lun_text = disk.source_name or "", "0"
    if not target or not lun_text.isdigit():
        raise XMLError(f"invalid iscsi source name {disk.source_name!r} (expected IQN[/LUN])", disk.line)
    out: dict[str, Any] = {"driver": "iscsi", "portal": f"{_url_host(host.name)}:{_port(disk, host)}",
                           "target": target, "lun": int(lun_text), "transport": "tcp"}
    if disk.source_initiator_iqn is not None:
        out["initiator-name"] = disk.source_initiator_iqn
    return out


def _nfs(disk: Any) -> dict[str, Any]:
    (host,) = _hosts(disk, exactly_one=True)
    if (host.transport or "tcp") != "tcp":
        raise XMLError("protocol 'nfs' needs a tcp <host>", disk.line)
    if host.port:
        raise XMLError("port isn't supported for 'nfs' protocol", disk.line)
    out: dict[str, Any] = {"driver": "nfs", "server": {"host": host.name, "type": "inet"},
                           "path": disk.source_name or "/"}
    if disk.source_identity_user is not None:
        out["user"] = _nfs_id(disk, disk.source_identity_user, "user")
    if disk.source_identity_group is not None:
        out["group"] = _nfs_id(disk, disk.source_identity_group, "group")
    return out


def _nfs_id(disk: Any, value: str, kind: str) -> int:
    """``+N`` is a numeric id; anything else a host user/group name (libvirt resolves it too)."""
    text = value.removeprefix("+")
    if text.isdigit():
        return int(text)
    try:
        return pwd.getpwnam(value).pw_uid if kind == "user" else grp.getgrnam(value).gr_gid
    except KeyError:
        raise XMLError(f"unknown {kind} {value!r} in <source><identity>", disk.line) from None


def _ssh(disk: Any) -> dict[str, Any]:
    """qemuBlockStorageSourceGetSshProps: the image's path on one server (an untyped inet
    address, port 22 by default).  libvirt passes only an ``<auth>``'s user name and drops its
    secret (QEMU's ssh driver authenticates through the ssh agent): pyvirt refuses the
    ``<auth>`` rather than ignore its password."""
    (host,) = _hosts(disk, exactly_one=True)
    if disk.disk_auth is not None:
        raise unsupported("<auth> of a network disk with protocol 'ssh' (QEMU's ssh driver uses the ssh agent, "
                          "not a password)", disk.line)
    return {"driver": "ssh", "path": disk.source_name or "", "server": _server(disk, host, typed=False)}


_BUILDERS = {"nbd": _nbd, "rbd": _rbd, "gluster": _gluster, "iscsi": _iscsi, "nfs": _nfs, "ssh": _ssh,
             **{p: _url for p in _URL_PROTOCOLS}}
