"""migrate, migrate-setmaxdowntime/-getmaxdowntime/-setspeed/-getspeed/-postcopy/-compcache,
domjobinfo, domjobabort.

``migrate`` is libvirt's client-driven ("managed direct") migration: this process holds a
connection to each daemon and runs begin (source), prepare (destination), perform (source),
finish (destination), confirm (source) — see pyvirt.daemon.migration.  Whatever fails before the
destination has the guest running leaves it running on the source: the destination is told to
drop what it prepared, the source to go on.  Options virsh has and pyvirt does not act on are
refused by name, never ignored.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from pyvirt.cli.cmd_lifecycle import read_file
from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.fmt import pretty_capacity
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import number

if TYPE_CHECKING:
    from pyvirt.api import Connection, JobInfo

POLL = 0.1
#: migrate's options pyvirt does not implement (p2p/tunnelled need a daemon-to-daemon channel)
_REFUSED = ("p2p", "direct", "tunnelled", "suspend", "copy-storage-synchronous-writes", "change-protection",
            "compressed", "rdma-pin-all", "abort-on-error", "postcopy-after-precopy", "postcopy-resume",
            "zerocopy", "graphicsuri", "dname", "timeout", "timeout-suspend", "timeout-postcopy",
            "migrate-disks", "disks-port", "comp-methods", "comp-mt-level", "comp-mt-threads",
            "comp-mt-dthreads", "comp-xbzrle-cache", "auto-converge-initial", "auto-converge-increment",
            "persistent-xml", "postcopy-bandwidth")
_JOB_TYPES = ("None", "Bounded", "Unbounded", "Completed", "Failed", "Cancelled")
_OPERATIONS = ("Unknown", "Start", "Save", "Restore", "Incoming migration", "Outgoing migration", "Snapshot",
               "Snapshot revert", "Dump", "Backup", "Snapshot delete")


def _progress(ctl: Ctl, remaining: int, total: int) -> None:
    """virshPrintJobProgress: ``\\rMigration: [ 42.17 %]`` on stderr; 100 only when done."""
    progress = 100.0
    if remaining:
        progress = min(100.0 - remaining * 100.0 / total, 99.99) if total else 0.0
    ctl.out.flush()
    ctl.err.write(f"\rMigration: [{int(progress * 100) / 100.0:5.2f} %]")
    ctl.err.flush()


def _refuse_unsupported(p: Parsed) -> None:
    for name in _REFUSED:
        if p.has(name):
            raise CmdError(f"unsupported flag: pyvirt's migrate does not implement --{name}")


def cmd_migrate(ctl: Ctl, p: Parsed) -> bool:
    _refuse_unsupported(p)
    info = ctl.domain(p.str("domain") or "")
    dest_uri = p.str("desturi") or ""
    copy = "all" if p.bool("copy-storage-all") else "inc" if p.bool("copy-storage-inc") else None
    if p.bool("copy-storage-all") and p.bool("copy-storage-inc"):
        raise CmdError("Options --copy-storage-all and --copy-storage-inc are mutually exclusive")
    if p.bool("offline") and (p.bool("live") or copy):
        raise CmdError("Options --offline and --live (or --copy-storage-*) are mutually exclusive")
    from pyvirt.api import PyvirtError
    from pyvirt.client import connect

    try:
        dest = connect(dest_uri)
    except PyvirtError as exc:
        raise CmdError(exc.message) from None
    try:
        if p.bool("offline"):
            _offline(ctl, dest, info.name, p)
        else:
            _live(ctl, dest, info.name, p, copy)
    except PyvirtError as exc:
        raise CmdError(exc.message) from None
    finally:
        dest.close()
    return True


def _offline(ctl: Ctl, dest: Connection, name: str, p: Parsed) -> None:
    """libvirt's --offline: only the definition moves (needs --persistent)."""
    if not p.bool("persistent"):
        raise CmdError("offline migration requires persistent flag")
    xml = read_file(p.str("xml") or "") if p.str("xml") else ctl.conn.get_xml(name, inactive=True,
                                                                              security_info=True)
    dest.define_xml(xml)
    if p.bool("undefinesource"):
        ctl.conn.undefine(name)


def _live(ctl: Ctl, dest: Connection, name: str, p: Parsed, copy: str | None) -> None:
    src = ctl.conn
    tls = p.bool("tls")
    begin = src.migrate_begin(name, copy_storage=copy, tls=tls)
    xml = read_file(p.str("xml") or "") if p.str("xml") else begin.xml
    target = dest.migrate_prepare(xml, disks=begin.disks, copy_storage=copy,
                                  listen_address=p.str("listen-address") or _listen_default(dest),
                                  postcopy=p.bool("postcopy"), uri=p.str("migrateuri"),
                                  disks_uri=p.str("disks-uri"), tls=tls)
    performed = False
    try:
        src.migrate_perform(name, _reachable(target.uri, dest), nbd=target.nbd and _reachable(target.nbd, dest),
                            copy_storage=copy, live=p.bool("live"), auto_converge=p.bool("auto-converge"),
                            postcopy=p.bool("postcopy"), tls=tls)
        performed = True
        job = _watch(ctl, src, name, p.bool("verbose"))
        if job.type != 3:
            raise CmdError(f"operation failed: migration job: {job.error or _JOB_TYPES[job.type].lower()}")
        dest.migrate_finish(target.name, persistent=p.bool("persistent"))
    except BaseException:
        _cancel(src, dest, name, target.name, performed)
        raise
    src.migrate_confirm(name, undefine_source=p.bool("undefinesource"))


def _dest_host(dest: Connection) -> str | None:
    """The destination URI's host (None: a daemon on this machine)."""
    parsed = getattr(getattr(dest, "transport", None), "uri", None)
    return getattr(parsed, "host", None)


def _listen_default(dest: Connection) -> str | None:
    """A destination on another host must be reachable from the source: it listens on every
    address (libvirt's default) and is reached through its URI's host; a local one on loopback."""
    return "0.0.0.0" if _dest_host(dest) else None


def _reachable(address: str, dest: Connection) -> str:
    """A destination listening on every address (0.0.0.0, ::) is reached through its URI's host."""
    for wildcard in ("0.0.0.0", "[::]"):
        if wildcard in address:
            return address.replace(wildcard, _dest_host(dest) or "127.0.0.1")
    return address


def _watch(ctl: Ctl, src: Connection, name: str, verbose: bool) -> JobInfo:
    """Poll the source's job until it ends; --verbose prints virsh's progress line."""
    interrupted = False
    try:
        while True:
            job = src.get_job_info(name, completed=True)
            if job.type not in (1, 2):
                if verbose and job.type == 3:
                    _progress(ctl, 0, 1)
                    ctl.err.write("\n")
                return job
            if verbose:
                _progress(ctl, job.data_remaining, job.data_total)
            time.sleep(POLL)
    except KeyboardInterrupt:  # virsh's Ctrl-C during migrate: abort the job, report it
        interrupted = True
        src.abort_job(name)
        raise CmdError("operation aborted: migration job: canceled by client") from None
    finally:
        if verbose and interrupted:
            ctl.err.write("\n")


def _cancel(src: Connection, dest: Connection, name: str, dest_name: str, performed: bool) -> None:
    """Undo both sides; the first error stays the one reported."""
    from pyvirt.api import PyvirtError

    for call in ((lambda: src.migrate_confirm(name, cancelled=True)) if performed else None,
                 lambda: dest.migrate_finish(dest_name, cancelled=True)):
        if call is None:
            continue
        try:
            call()
        except PyvirtError as exc:
            print(f"warning: cleaning up the migration: {exc.message}", file=sys.stderr)


# ---------------------------------------------------------------- tunables
def cmd_migrate_setmaxdowntime(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    downtime = number(p.str("downtime"), "downtime") or 0
    if downtime < 1:
        raise CmdError("migrate: Invalid downtime")
    ctl.conn.migrate_set_max_downtime(info.name, downtime)
    return True


def cmd_migrate_getmaxdowntime(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    ctl.print(f"{ctl.conn.migrate_get_max_downtime(info.name)}\n")
    return True


def cmd_migrate_setspeed(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    bandwidth = number(p.str("bandwidth"), "bandwidth") or 0
    ctl.conn.migrate_set_max_speed(info.name, bandwidth, postcopy=p.bool("postcopy"))
    return True


def cmd_migrate_getspeed(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    ctl.print(f"{ctl.conn.migrate_get_max_speed(info.name, postcopy=p.bool('postcopy'))}\n")
    return True


def cmd_migrate_postcopy(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    ctl.conn.migrate_start_post_copy(info.name)
    return True


def cmd_migrate_compcache(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    size = number(p.str("size"), "size")
    if size is not None:
        ctl.conn.migrate_set_compression_cache(info.name, size)
    value, unit = pretty_capacity(ctl.conn.migrate_get_compression_cache(info.name))
    ctl.print(f"Compression cache: {value:.3f} {unit}\n")
    return True


# ---------------------------------------------------------------- jobs
def cmd_domjobinfo(ctl: Ctl, p: Parsed) -> bool:
    for name in ("keep-completed", "anystats", "rawstats"):
        if p.bool(name):
            raise CmdError(f"unsupported flag: pyvirt's domjobinfo does not implement --{name}")
    info = ctl.domain(p.str("domain") or "")
    job = ctl.conn.get_job_info(info.name, completed=p.bool("completed"))
    ctl.print(_job_text(job))
    return True


def _job_text(job: JobInfo) -> str:
    lines = [f"{'Job type:':<17} {_JOB_TYPES[job.type]:<12}"]
    if job.type == 0:
        return "\n".join(lines) + "\n"
    lines.append(f"{'Operation:':<17} {_OPERATIONS[job.operation]:<12}")
    lines.append(f"{'Time elapsed:':<17} {job.time_elapsed:<12} ms")

    def size(label: str, value: int, suffix: str = "") -> None:
        amount, unit = pretty_capacity(value)
        lines.append(f"{label:<17} {amount:.3f} {unit}{suffix}")

    if job.data_total or job.data_remaining or job.data_processed:
        size("Data processed:", job.data_processed)
        size("Data remaining:", job.data_remaining)
        size("Data total:", job.data_total)
    if job.mem_total or job.mem_remaining or job.mem_processed:
        size("Memory processed:", job.mem_processed)
        size("Memory remaining:", job.mem_remaining)
        size("Memory total:", job.mem_total)
        if job.mem_bps:
            size("Memory bandwidth:", job.mem_bps, "/s")
    if job.iteration:
        lines.append(f"{'Iteration:':<17} {job.iteration:<12}")
    if job.disk_total or job.disk_remaining or job.disk_processed:
        size("File processed:", job.disk_processed)
        size("File remaining:", job.disk_remaining)
        size("File total:", job.disk_total)
    if job.downtime:
        label = "Total downtime:" if job.type == 3 else "Expected downtime:"
        lines.append(f"{label:<17} {job.downtime:<12} ms")
    if job.setup_time:
        lines.append(f"{'Setup time:':<17} {job.setup_time:<12} ms")
    if job.error and job.type in (4, 5):
        lines.append(f"{'Error message:':<17} {job.error}")
    return "\n".join(lines) + "\n"


def cmd_domjobabort(ctl: Ctl, p: Parsed) -> bool:
    if p.bool("postcopy"):
        raise CmdError("unsupported flag: pyvirt's domjobabort does not implement --postcopy")
    info = ctl.domain(p.str("domain") or "")
    ctl.conn.abort_job(info.name)
    return True
