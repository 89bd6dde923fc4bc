"""Pool source discovery (virConnectFindStoragePoolSources, virsh find-storage-pool-sources):
what the host's tools see for the pool types libvirt can discover, in libvirt's ``<sources>``
document.  The rules and the tools are libvirt 9.0's storage backends':

* logical: ``vgscan``, then ``pvs --noheadings -o pv_name,vg_name``: one source per volume group
  with its physical volumes (virStorageBackendLogicalFindPoolSources);
* netfs: the exports ``showmount --no-headers --exports HOST`` lists, one source each
  (virStorageBackendFileSystemNetFindPoolSources); no answer is "no storage pools were found";
* iscsi: the targets ``iscsiadm --mode discovery --type sendtargets`` finds at the portal
  (virStorageBackendISCSIFindPoolSources).

Other types are refused as libvirt refuses them.  Tool output is bounded by the tools' own
timeouts; what they print is read line by line with libvirt's patterns.
"""

from __future__ import annotations

import re
import subprocess

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.storage.backends import NO_UDEV_CONFIG, _need, udev_running
from pyvirt.storage.errors import invalid_arg, op_failed, storage_error
from pyvirt.xml import XMLError
from pyvirt.xml.pool import KNOWN_TYPES, PoolSource, SourceDevice, SourceHost, SourceList

#: how long one discovery tool may run
TIMEOUT = 60.0
#: libvirt's line patterns (virCommandRunRegex)
_PVS_LINE = re.compile(r"^\s*(\S+)\s+(\S+)\s*$")
_SHOWMOUNT_LINE = re.compile(r"^(/.*\S) +\S+$")
_ISCSI_LINE = re.compile(r"^\S+\s+(\S+)\s*$")


def _no_discovery(pool_type: str) -> PyvirtError:
    return PyvirtError(f"this function is not supported by the connection driver: pool type '{pool_type}' does "
                       "not support source discovery", ErrorCode.NO_SUPPORT, ErrorDomain.STORAGE)


def parse_spec(spec: str | None) -> PoolSource | None:
    """The ``<source>`` a caller gave (virStoragePoolDefParseSourceString), through the safe parser."""
    if not spec:
        return None
    from pyvirt.xml.mapping import parse_obj
    from pyvirt.xml.safe import parse_root

    try:
        return parse_obj(parse_root(spec, "source"), PoolSource)  # type: ignore[no-any-return]
    except XMLError as exc:
        report = getattr(exc, "report", None)  # malformed: libvirt's whole catchXMLError text
        raise storage_error(report or f"XML error: {exc}", ErrorCode.XML_DETAIL if report else ErrorCode.XML_ERROR
                            ) from None


def _tool(argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise op_failed(f"{what} did not finish within {TIMEOUT:.0f}s") from None


def find_pool_sources(pool_type: str, spec: str | None = None) -> str:
    """libvirt's storageConnectFindStoragePoolSources for this host."""
    if pool_type not in KNOWN_TYPES:
        raise storage_error(f"unknown storage pool type {pool_type}")
    finder = _FINDERS.get(pool_type)
    if finder is None:
        raise _no_discovery(pool_type)
    return SourceList(finder(parse_spec(spec))).to_xml()


def _logical(_spec: PoolSource | None) -> list[PoolSource]:
    lvm = [] if udev_running() else ["--config", NO_UDEV_CONFIG]
    _tool([_need("vgscan", "logical pool discovery needs lvm2"), *lvm], "vgscan")  # refreshes LVM's cache
    out = _tool([_need("pvs", "logical pool discovery needs lvm2"), *lvm, "--noheadings", "-o", "pv_name,vg_name"],
                "pvs")
    if out.returncode != 0:
        raise op_failed(f"pvs failed: {(out.stderr or out.stdout).strip()}")
    groups: dict[str, list[str]] = {}
    for line in out.stdout.splitlines():
        m = _PVS_LINE.match(line)
        if m:
            groups.setdefault(m.group(2), []).append(m.group(1))
    return [PoolSource(devices=[SourceDevice(path=p) for p in pvs], name=vg, format="lvm2")
            for vg, pvs in groups.items()]


def _host(spec: PoolSource | None, kind: str) -> SourceHost:
    if spec is None or not spec.hosts or not spec.hosts[0].name:
        raise invalid_arg(f"hostname must be specified for {kind} sources")
    return spec.hosts[0]


def _netfs(spec: PoolSource | None) -> list[PoolSource]:
    host = _host(spec, "netfs").name or ""
    found: list[PoolSource] = []
    try:
        out = _tool([_need("showmount", "netfs pool discovery needs nfs-common"), "--no-headers", "--exports",
                     host], "showmount")
        if out.returncode == 0:
            for line in out.stdout.splitlines():
                m = _SHOWMOUNT_LINE.match(line)
                if m:
                    found.append(PoolSource(hosts=[SourceHost(name=host)], dir=m.group(1), format="nfs"))
            return found
    except PyvirtError:
        pass  # no showmount, or it failed: libvirt's answer below
    raise op_failed(f"no storage pools were found on host '{host}'")


def _iscsi(spec: PoolSource | None) -> list[PoolSource]:
    host = _host(spec, "iscsi")
    assert spec is not None
    if len(spec.hosts) != 1:
        raise invalid_arg("Expected exactly 1 host for the storage pool")
    if spec.initiator_iqn:
        raise storage_error("pyvirt does not discover iSCSI targets through a given initiator "
                            "(<initiator><iqn>) yet", ErrorCode.CONFIG_UNSUPPORTED)
    portal = f"{host.name}:{host.port or 3260},1"
    argv = [_need("iscsiadm", "iscsi pool discovery needs open-iscsi"), "--mode", "discovery", "--type",
            "sendtargets", "--portal", portal, "--op", "nonpersistent"]
    out = _tool(argv, "iscsiadm")
    if out.returncode != 0:
        raise storage_error(f"Child process ({' '.join(argv)}) unexpected exit status {out.returncode}: "
                            f"{(out.stderr or out.stdout).strip()}")
    targets = [m.group(1) for line in out.stdout.splitlines() if (m := _ISCSI_LINE.match(line))]
    return [PoolSource(hosts=[SourceHost(name=host.name, port=host.port)], devices=[SourceDevice(path=t)])
            for t in targets]


_FINDERS = {"logical": _logical, "netfs": _netfs, "iscsi": _iscsi}
