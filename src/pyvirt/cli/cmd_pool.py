"""Storage pool commands: pool-list, pool-info, pool-define(-as), pool-create(-as), pool-build,
pool-start, pool-destroy, pool-delete, pool-undefine, pool-autostart, pool-refresh, pool-dumpxml,
pool-edit, pool-uuid, pool-name, pool-capabilities.

Pools come back from the connection as typed records (``api.PoolInfo``, the same from the test
driver and from pyvirtd), and every message is virsh 9.0's: scripts grep for "Pool x started".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyvirt.cli.cmd_lifecycle import from_file
from pyvirt.cli.context import CmdError, Ctl, act_on, failing, state_flags_match, xpath_option
from pyvirt.cli.fmt import keyvalues, table
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import is_uuid

if TYPE_CHECKING:
    from pyvirt.api import PoolInfo

def pretty(value: int) -> str:
    """vshPrettyCapacity: ``0.00 B``, ``1.00 GiB``."""
    from pyvirt.cli.fmt import pretty_capacity

    size, unit = pretty_capacity(value)
    return f"{size:.2f} {unit}"


def yes_no(value: Any) -> str:
    return "yes" if value else "no"


def get_pool(ctl: Ctl, ref: str) -> PoolInfo:
    """vshCommandOptPool: by name, then UUID; a miss prints virsh's two error lines."""
    with failing(f"failed to get pool '{ref}'"):
        return ctl.conn.lookup_pool(ref)


def _act(ctl: Ctl, p: Parsed, fail: str, done: str, call) -> bool:
    """Look the pool up, run `call(name)`, and print virsh's success or failure lines."""
    given = p.str("pool") or ""
    return act_on(ctl, get_pool(ctl, given).name, fail, done, call, given)


# ------------------------------------------------------------------------------------ listing
def _matches(p: Parsed, pool: PoolInfo) -> bool:
    if not state_flags_match(p, pool):
        return False
    types = [t for t in (p.str("type") or "").split(",") if t]
    return not types or pool.type in types


def cmd_pool_list(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.xml.pool import KNOWN_TYPES

    details, by_name, by_uuid = p.bool("details"), p.bool("name"), p.bool("uuid")
    if p.bool("all") and p.bool("inactive"):  # virsh's first check
        raise CmdError("Options --all and --inactive are mutually exclusive")
    if details and (by_name or by_uuid):
        raise CmdError(f"Options --details and --{'name' if by_name else 'uuid'} are mutually exclusive")
    for kind in (p.str("type") or "").split(","):
        if kind and kind not in KNOWN_TYPES:  # virsh checks every name before it lists anything
            raise CmdError(f"Invalid pool type '{kind}'")
    pools = sorted((x for x in ctl.conn.list_pools() if _matches(p, x)), key=lambda x: x.name)
    if by_name or by_uuid:
        lines = []
        for x in pools:
            if by_uuid and by_name:
                lines.append(f"{x.uuid:<36} {x.name:<20}\n")
            elif by_uuid:
                lines.append(f"{x.uuid:<36}\n")
            else:
                lines.append(f"{x.name:<20}\n")
        ctl.print("".join(lines))
        return True
    if not details:
        rows = [[x.name, "active" if x.active else "inactive", yes_no(x.autostart)]
                for x in pools]
        ctl.print(table(["Name", "State", "Autostart"], rows, show_header=not ctl.quiet))
        return True
    rows = []
    for x in pools:
        sizes = [pretty(x.capacity), pretty(x.allocation), pretty(x.available)] \
            if x.active else ["-", "-", "-"]
        rows.append([x.name, "running" if x.active else "inactive", yes_no(x.autostart),
                     yes_no(x.persistent), *sizes])
    ctl.print(table(["Name", "State", "Autostart", "Persistent", "Capacity", "Allocation", "Available"], rows,
                    show_header=not ctl.quiet))
    return True


def cmd_pool_info(ctl: Ctl, p: Parsed) -> bool:
    pool = get_pool(ctl, p.str("pool") or "")
    active = bool(pool.active)
    pairs = [("Name", pool.name), ("UUID", pool.uuid), ("State", "running" if active else "inactive"),
             ("Persistent", yes_no(pool.persistent)), ("Autostart", yes_no(pool.autostart))]
    if active:
        for label, value in (("Capacity", pool.capacity), ("Allocation", pool.allocation),
                             ("Available", pool.available)):
            pairs.append((label, str(value) if p.bool("bytes") else pretty(value)))
    ctl.print(keyvalues(pairs))
    return True


def cmd_pool_uuid(ctl: Ctl, p: Parsed) -> bool:
    ctl.print(get_pool(ctl, p.str("pool") or "").uuid + "\n")
    return True


def cmd_pool_name(ctl: Ctl, p: Parsed) -> bool:
    """virsh looks the pool up by UUID only: a non-UUID is not looked up at all, and a miss is
    virStoragePoolLookupByUUIDString's error."""
    from pyvirt.api import ErrorCode, PyvirtError

    ref = p.str("pool") or ""
    if not is_uuid(ref):
        raise CmdError(f"failed to get pool '{ref}'")
    try:
        pool = ctl.conn.lookup_pool(ref)
    except PyvirtError as exc:
        if exc.code != ErrorCode.NO_STORAGE_POOL:
            raise CmdError(f"failed to get pool '{ref}'", exc.message) from None
        raise CmdError(f"failed to get pool '{ref}'",
                       f"Storage pool not found: no storage pool with matching uuid '{ref}'") from None
    if pool.uuid.replace("-", "") != ref.replace("-", "").lower():
        raise CmdError(f"failed to get pool '{ref}'",
                       f"Storage pool not found: no storage pool with matching uuid '{ref}'")
    ctl.print(pool.name + "\n")
    return True


def cmd_pool_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    pool = get_pool(ctl, p.str("pool") or "")
    xpath = xpath_option(p)
    ctl.print_xml(ctl.conn.get_pool_xml(pool.name, inactive=p.bool("inactive")), xpath,
                  wrap=p.bool("wrap"))
    return True


def cmd_pool_capabilities(ctl: Ctl, p: Parsed) -> bool:
    with failing("failed to get storage pool capabilities"):
        ctl.print_xml(ctl.conn.get_storage_pool_capabilities())
    return True


# ------------------------------------------------------------------------------------ definition

def cmd_pool_define(ctl: Ctl, p: Parsed) -> bool:
    path, pool = from_file(p, "define pool", ctl.conn.define_pool)
    ctl.extra(f"Pool {pool.name} defined from {path}\n")
    return True


def _build(p: Parsed) -> dict[str, bool]:
    """--build, --overwrite and --no-overwrite (the last two exclude each other) as the
    operations' keyword arguments: virsh passes each as its own flag."""
    if p.bool("overwrite") and p.bool("no-overwrite"):
        raise CmdError("Options --overwrite and --no-overwrite are mutually exclusive")
    return {"build": p.bool("build"), "overwrite": p.bool("overwrite"), "no_overwrite": p.bool("no-overwrite")}


def cmd_pool_create(ctl: Ctl, p: Parsed) -> bool:
    build = _build(p)
    path, pool = from_file(p, "create pool", lambda xml: ctl.conn.create_pool(xml, **build))
    ctl.extra(f"Pool {pool.name} created from {path}\n")
    return True


def build_pool_xml(p: Parsed) -> str:
    """virsh's buildPoolXML, through the pool model: only what the options give, in virsh's
    order (its <source> children differ from libvirt's), so --print-xml matches."""
    from pyvirt.xml.pool import PoolDef, SourceAdapter, SourceAuth, SourceDevice, SourceHost, VirshPoolSource

    names = ("name", "type", "source-host", "source-path", "source-dev", "source-name", "source-format", "target",
             "auth-type", "auth-username", "secret-usage", "secret-uuid", "source-initiator", "adapter-name",
             "adapter-wwnn", "adapter-wwpn", "adapter-parent", "adapter-parent-wwnn", "adapter-parent-wwpn",
             "adapter-parent-fabric-wwn", "source-protocol-ver")
    o = {k: p.str(k) for k in names}  # read in virsh's order: the first empty one is refused
    host, path, dev, src_name, target = (o[k] for k in ("source-host", "source-path", "source-dev",
                                                        "source-name", "target"))
    src_fmt, initiator, adapter = o["source-format"], o["source-initiator"], o["adapter-name"]
    auth_type, auth_user = o["auth-type"], o["auth-username"]
    secret_usage, secret_uuid = o["secret-usage"], o["secret-uuid"]
    fc_host = None
    if not adapter and o["adapter-wwnn"] and o["adapter-wwpn"]:  # a vHBA, its parent by one of three names
        parent, pwwnn, pwwpn = o["adapter-parent"], o["adapter-parent-wwnn"], o["adapter-parent-wwpn"]
        pair = not parent and pwwnn and pwwpn
        fabric = not parent and not pair and o["adapter-parent-fabric-wwn"]
        fc_host = SourceAdapter(type="fc_host", parent=parent or None, parent_wwnn=pwwnn if pair else None,
                                parent_wwpn=pwwpn if pair else None, parent_fabric_wwn=fabric or None,
                                wwnn=o["adapter-wwnn"], wwpn=o["adapter-wwpn"])
    source = None
    if any((host, path, dev, src_name, src_fmt, initiator, auth_type, adapter, fc_host)):
        auth = None
        if auth_type and auth_user and (secret_usage or secret_uuid):
            auth = SourceAuth(type=auth_type, username=auth_user, secret_usage=secret_usage or None,
                              secret_uuid=None if secret_usage else secret_uuid)
        source = VirshPoolSource(
            hosts=[SourceHost(name=host)] if host else [], dir=path or None,
            devices=[SourceDevice(path=dev)] if dev else [],
            adapter=SourceAdapter(type="scsi_host", name=adapter) if adapter else fc_host,
            initiator_iqn=initiator or None, auth=auth, format=src_fmt or None, name=src_name or None,
            protocol_ver=o["source-protocol-ver"] or None)  # written as given, checked by define
    return PoolDef(type=o["type"] or "", name=o["name"] or "", source=source,
                   target_path=target or None).to_request_xml()


def _define_or_create_as(ctl: Ctl, p: Parsed, create: bool) -> bool:
    xml = build_pool_xml(p)
    if p.bool("print-xml"):
        ctl.print(xml)
        return True
    name = p.str("name") or ""
    with failing(f"Failed to {'create' if create else 'define'} pool {name}"):
        if create:
            ctl.conn.create_pool(xml, **_build(p))
        else:
            ctl.conn.define_pool(xml)
    ctl.extra(f"Pool {name} {'created' if create else 'defined'}\n")
    return True


def cmd_pool_define_as(ctl: Ctl, p: Parsed) -> bool:
    return _define_or_create_as(ctl, p, create=False)


def cmd_pool_create_as(ctl: Ctl, p: Parsed) -> bool:
    return _define_or_create_as(ctl, p, create=True)


def cmd_pool_edit(ctl: Ctl, p: Parsed) -> bool:
    """The inactive XML in $VISUAL/$EDITOR, redefined on save, with edit's retry prompt."""
    from pyvirt.cli.cmd_edit import edit_loop, inactive_xml

    name = get_pool(ctl, p.str("pool") or "").name
    return edit_loop(ctl, inactive_xml(ctl.conn.get_pool_xml, name), name, "Pool {}",
                     lambda xml, _validate: ctl.conn.define_pool(xml).name, tmp_prefix=f"pyvirt-pool-{name}-")


# ------------------------------------------------------------------------------------ lifecycle
def cmd_pool_build(ctl: Ctl, p: Parsed) -> bool:
    # virsh's pool-build passes both flags as given (the driver refuses the pair), unlike pool-start
    overwrite, no_overwrite = p.bool("overwrite"), p.bool("no-overwrite")
    return _act(ctl, p, "Failed to build pool {}", "Pool {} built",
                lambda name: ctl.conn.build_pool(name, overwrite=overwrite, no_overwrite=no_overwrite))


def cmd_pool_start(ctl: Ctl, p: Parsed) -> bool:
    build = _build(p)
    return _act(ctl, p, "Failed to start pool {}", "Pool {} started",
                lambda name: ctl.conn.start_pool(name, **build))


def cmd_pool_destroy(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "Failed to destroy pool {}", "Pool {} destroyed", ctl.conn.destroy_pool)


def cmd_pool_delete(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "Failed to delete pool {}", "Pool {} deleted", ctl.conn.delete_pool)


def cmd_pool_undefine(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "Failed to undefine pool {}", "Pool {} has been undefined", ctl.conn.undefine_pool)


def cmd_pool_refresh(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "Failed to refresh pool {}", "Pool {} refreshed", ctl.conn.refresh_pool)


def cmd_pool_autostart(ctl: Ctl, p: Parsed) -> bool:
    enable = not p.bool("disable")
    verb = "mark" if enable else "unmark"
    return _act(ctl, p, f"failed to {verb} pool {{}} as autostarted", f"Pool {{}} {verb}ed as autostarted",
                lambda name: ctl.conn.set_pool_autostart(name, enable))


# ------------------------------------------------------------------------------------ events
#: pool-event's names (``pool-event --list``) and virshPoolEventToString's words
POOL_EVENT_NAMES = ("lifecycle", "refresh")
_POOL_EVENT_WORDS = ("Defined", "Undefined", "Started", "Stopped", "Created", "Deleted")


def cmd_pool_event(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_event import chosen_event, event_loop, object_event_line
    from pyvirt.cli.values import number

    kind = chosen_event(ctl, p, POOL_EVENT_NAMES)
    if kind is None:
        return True
    timeout = number(p.str("timeout"), "timeout")
    name = get_pool(ctl, p.str("pool") or "").uuid if p.str("pool") else None
    line = object_event_line(kind, "storage pool", _POOL_EVENT_WORDS)
    kinds = ["StoragePool.refresh" if kind == "refresh" else "StoragePool"]
    return event_loop(ctl, p, lambda left: ctl.conn.events(name, timeout=left, kinds=kinds), line, timeout) > 0  # virsh: no event is a failure


def _find_sources(ctl: Ctl, p: Parsed, spec: str | None) -> bool:
    """virsh's cmdPoolDiscoverSources tail: the driver's <sources> document as it comes."""
    kind = p.str("type") or ""
    with failing(f"Failed to find any {kind} pool sources"):
        found = ctl.conn.find_pool_sources(kind, spec)
    ctl.print(found)
    return True


def cmd_find_storage_pool_sources(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_lifecycle import read_file
    from pyvirt.cli.values import required

    path = required(p.str("srcSpec"), "srcSpec")
    return _find_sources(ctl, p, read_file(path) if path is not None else None)


def cmd_find_storage_pool_sources_as(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdPoolDiscoverSourcesAs: a <source> with --host (and --port, --initiator) when a
    host is given (values escaped here, where virsh pastes them in)."""
    from pyvirt.cli.values import required
    from pyvirt.xml.escape import escape_xml

    host, initiator = (required(p.str(n), n) for n in ("host", "initiator"))
    spec = None
    if host:
        try:  # virsh reads --port only for a host, and adds its own line when it cannot
            port = p.str("port")
        except CmdError as exc:
            raise exc.then("missing argument") from None
        lines = ["<source>\n", f"  <host name='{escape_xml(host)}'"
                 + (f" port='{escape_xml(port)}'" if port else "") + "/>\n"]
        if initiator:
            lines.append(f"  <initiator>\n    <iqn name='{escape_xml(initiator)}'/>\n  </initiator>\n")
        spec = "".join([*lines, "</source>\n"])
    return _find_sources(ctl, p, spec)
