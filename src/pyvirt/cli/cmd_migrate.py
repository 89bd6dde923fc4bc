"""migrate, migrate-setmaxdowntime/-getmaxdowntime/-setspeed/-getspeed/-postcopy/-compcache,
domjobinfo, domjobabort.

``migrate`` is libvirt's client-driven ("managed direct") migration by default: this process holds
a connection to each daemon and runs the protocol of pyvirt.client.migrate (begin, prepare,
perform, finish, confirm).  With ``--p2p`` the source pyvirtd runs that protocol itself
(virDomainMigrateToURI3) and this process only waits, showing ``--verbose`` progress from a second
connection.  Options virsh has and pyvirt does not act on are refused by name, never ignored.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from pyvirt.cli.cmd_lifecycle import read_file
from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.fmt import pretty_capacity, typed_value
from pyvirt.cli.grammar import BOOL, NUMBER, Parsed
from pyvirt.cli.values import number, option_int
from pyvirt.client.migrate import JOB_TYPES as _JOB_TYPES

if TYPE_CHECKING:
    from pyvirt.api import Connection, JobInfo
    from pyvirt.client.migrate import MigrateOptions

POLL = 0.1
#: migrate's options pyvirt does not implement
_REFUSED = ("suspend", "copy-storage-synchronous-writes", "change-protection",
            "compressed", "rdma-pin-all", "abort-on-error", "postcopy-after-precopy", "postcopy-resume",
            "zerocopy", "graphicsuri", "dname", "timeout", "timeout-suspend", "timeout-postcopy",
            "migrate-disks", "disks-port", "comp-methods", "comp-mt-level", "comp-mt-threads",
            "comp-mt-dthreads", "comp-xbzrle-cache", "auto-converge-initial", "auto-converge-increment",
            "persistent-xml", "postcopy-bandwidth", "parallel", "parallel-connections")
_OPERATIONS = ("Unknown", "Start", "Save", "Restore", "Incoming migration", "Outgoing migration", "Snapshot",
               "Snapshot revert", "Dump", "Backup", "Snapshot delete")


def _progress(ctl: Ctl, remaining: int, total: int, label: str = "Migration") -> None:
    """virsh 9.0's virshPrintJobProgress: ``\\rMigration: [ 42 %]`` on stderr, 100 only when done
    (what the installed virsh prints; later libvirt shows two decimals)."""
    progress = 100
    if remaining:
        progress = min(int(100.0 - remaining * 100.0 / total), 99) if total else 0
    ctl.out.flush()
    ctl.err.write(f"\r{label}: [{progress:3d} %]")
    ctl.err.flush()


def _refuse_unsupported(p: Parsed) -> None:
    for name in _REFUSED:
        if p.has(name):
            raise CmdError(f"unsupported flag: pyvirt's migrate does not implement --{name}")


def _options(p: Parsed, xml: str | None) -> MigrateOptions:
    from pyvirt.client.migrate import MigrateOptions

    bandwidth = number(p.str("bandwidth"), "bandwidth") if p.has("bandwidth") else 0
    return MigrateOptions(
        live=p.bool("live"), offline=p.bool("offline"), persistent=p.bool("persistent"),
        undefine_source=p.bool("undefinesource"),
        copy_storage="all" if p.bool("copy-storage-all") else "inc" if p.bool("copy-storage-inc") else None,
        auto_converge=p.bool("auto-converge"), postcopy=p.bool("postcopy"), tls=p.bool("tls"),
        tls_destination=p.str("tls-destination"), xml=xml,
        listen_address=p.str("listen-address"), uri=p.str("migrateuri"), disks_uri=p.str("disks-uri"),
        bandwidth=bandwidth or 0, tunnelled=p.bool("tunnelled"))


#: virsh's cmdMigrate checks before anything else, in its order: (a, b) exclusive, or a needs b
_EXCLUSIVE = (("live", "offline"), ("timeout-suspend", "timeout-postcopy"))
_REQUIRES = (("postcopy-after-precopy", "postcopy"), ("timeout-postcopy", "postcopy"),
             ("persistent-xml", "persistent"), ("tls-destination", "tls"), ("postcopy-resume", "postcopy"))


#: virsh-only options: how virsh waits, not what it asks libvirt
_VIRSH_ONLY = frozenset({"domain", "desturi", "verbose", "postcopy-after-precopy", "timeout", "timeout-suspend",
                         "timeout-postcopy"})


def _read_options(ctl: Ctl, p: Parsed) -> tuple[set[str], set[str], str | None]:
    """doMigrate's reading, after the domain: every valued option in virsh's order (an empty one
    refused), --xml's file read; then the flags.  Returns (flags, typed parameters, XML)."""
    from pyvirt.cli import table

    cmd = table.lookup("migrate")
    assert cmd is not None
    params, xml = set(), None
    for opt in cmd.opts:
        if opt.kind == BOOL or opt.name in _VIRSH_ONLY or not p.has(opt.name):
            continue
        value = p.str(opt.name)  # a number past the C type virsh reads it as (the table's) is refused here
        if opt.kind == NUMBER and number(value, opt.name) == 0 and opt.name == "disks-port":
            continue  # doMigrate passes the disks' port only when it is not 0
        params.add(opt.name)
        if opt.name == "xml" and value is not None:
            try:
                xml = read_file(value)
            except CmdError as exc:
                ctl.error(f"cannot read file '{value}'")
                raise exc from None
    flags = {o.name for o in cmd.opts if o.kind == BOOL and o.name not in _VIRSH_ONLY and p.bool(o.name)}
    if "copy-storage-synchronous-writes" in flags and not flags & {"copy-storage-all", "copy-storage-inc"}:
        raise CmdError("'--copy-storage-synchronous-writes' requires one of '--copy-storage-all', 'copy-storage-inc'")
    return flags, params, xml


def _check_timeout(p: Parsed) -> None:
    """cmdMigrate's --timeout rules, after the domain's lookup: an unsigned int (the table's
    type), 0 meaning none (not vshCommandOptTimeoutToMs's rules: any unsigned value is taken)."""
    timeout = number(p.str("timeout"), "timeout") or 0
    if timeout and not p.bool("live"):
        raise CmdError("migrate: Unexpected timeout for offline migration")
    if not timeout and (p.bool("timeout-suspend") or p.bool("timeout-postcopy")):
        raise CmdError("migrate: Unexpected --timeout-* option without --timeout")


def cmd_migrate(ctl: Ctl, p: Parsed) -> bool:
    """virsh's order: its option rules, the domain, --timeout, the options read (doMigrate),
    the destination connected (not for --p2p/--direct), libvirt's own checks by what the source
    driver supports (pyvirt.client.migrate_checks), then pyvirt's refusals of what it does not do."""
    from pyvirt.api import PyvirtError
    from pyvirt.client import migrate_checks

    for a, b in _EXCLUSIVE:  # VSH_EXCLUSIVE_OPTIONS
        if p.has(a) and p.has(b):
            raise CmdError(f"Options --{a} and --{b} are mutually exclusive")
    for opt, needs in _REQUIRES:  # VSH_REQUIRE_OPTION
        if p.has(opt) and not p.has(needs):
            raise CmdError(f"Option --{needs} is required by option --{opt}")
    info = ctl.domain(p.str("domain") or "")
    _check_timeout(p)
    flags, params, xml = _read_options(ctl, p)
    dest_uri = p.str("desturi") or ""
    dest = None
    if not flags & {"p2p", "direct"}:
        from pyvirt.client import connect

        try:
            dest = connect(dest_uri)
        except PyvirtError as exc:
            raise CmdError(exc.message) from None
    try:
        try:
            migrate_checks.check(str(ctl.conn.get_version().get("hypervisor", "QEMU")), flags, params,
                                 readonly=ctl.readonly)
        except PyvirtError as exc:
            raise CmdError(exc.message) from None
        _refuse_unsupported(p)
        opts = _options(p, xml)
        try:
            opts.check()
        except PyvirtError as exc:
            raise CmdError(exc.message.removeprefix("invalid argument: ")) from None
        if dest is None:
            _peer_to_peer(ctl, info.name, dest_uri, opts, p.bool("verbose"))
            return True
        from pyvirt.client.migrate import dest_host, migrate

        verbose = p.bool("verbose")
        try:
            migrate(ctl.conn, dest, info.name, opts, lambda src, name: _watch(ctl, src, name, verbose),
                    dest_host=dest_host(dest))
        except PyvirtError as exc:
            raise CmdError(exc.message) from None
    finally:
        if dest is not None:
            dest.close()
    return True


def _peer_to_peer(ctl: Ctl, name: str, dest_uri: str, opts: MigrateOptions, verbose: bool) -> None:
    """The source daemon migrates; a second connection shows --verbose's progress meanwhile and
    Ctrl-C aborts the job, as virsh does around virDomainMigrateToURI3."""
    from pyvirt.api import PyvirtError

    done = threading.Event()
    watcher = threading.Thread(target=_show_progress, args=(ctl, name, done), daemon=True) if verbose else None
    if watcher is not None:
        watcher.start()
    try:
        ctl.conn.migrate_to_uri(name, dest_uri, live=opts.live, offline=opts.offline, persistent=opts.persistent,
                                undefine_source=opts.undefine_source, copy_storage=opts.copy_storage,
                                auto_converge=opts.auto_converge, postcopy=opts.postcopy, tls=opts.tls,
                                tls_destination=opts.tls_destination, xml=opts.xml,
                                listen_address=opts.listen_address, uri=opts.uri, disks_uri=opts.disks_uri,
                                bandwidth=opts.bandwidth, tunnelled=opts.tunnelled)
    except KeyboardInterrupt:
        done.set()
        ctl.conn.abort_job(name)
        raise CmdError("operation aborted: migration job: canceled by client") from None
    except PyvirtError as exc:
        raise CmdError(exc.message) from None
    finally:
        done.set()
        if watcher is not None:
            watcher.join(5)
    if verbose:
        _progress(ctl, 0, 1)
        ctl.err.write("\n")


def _show_progress(ctl: Ctl, name: str, done: threading.Event) -> None:
    from pyvirt.api import PyvirtError
    from pyvirt.client import connect

    try:
        conn = connect(ctl.conn.get_uri())
    except PyvirtError:
        return
    try:
        while not done.wait(POLL):
            job = conn.get_job_info(name)
            if job.type in (1, 2) and job.data_total > 0 and not done.is_set():
                _progress(ctl, job.data_remaining, job.data_total)
    except PyvirtError:
        pass  # the domain left this host: the migration's own answer says the rest
    finally:
        conn.close()


def _watch(ctl: Ctl, src: Connection, name: str, verbose: bool) -> JobInfo:
    """Poll the source's job until it ends; --verbose prints virsh's progress line."""
    interrupted = False
    try:
        while True:
            job = src.get_job_info(name, completed=True, keep_completed=True)
            if job.type not in (1, 2):
                if verbose and job.type == 3:
                    _progress(ctl, 0, 1)
                    ctl.err.write("\n")
                return job
            if verbose and job.data_total > 0:  # virshWatchJob: nothing until QEMU knows the size
                _progress(ctl, job.data_remaining, job.data_total)
            time.sleep(POLL)
    except KeyboardInterrupt:  # virsh's Ctrl-C during migrate: abort the job, report it
        interrupted = True
        src.abort_job(name)
        raise CmdError("operation aborted: migration job: canceled by client") from None
    finally:
        if verbose and interrupted:
            ctl.err.write("\n")


# ---------------------------------------------------------------- tunables
def cmd_migrate_setmaxdowntime(ctl: Ctl, p: Parsed) -> bool:
    name = ctl.domain_arg(p).name
    downtime = option_int(p, "downtime", unsigned=True) or 0  # vshCommandOptULongLong: no sign
    if downtime < 1:
        raise CmdError("migrate: Invalid downtime")
    ctl.conn.migrate_set_max_downtime(name, downtime)
    return True


def cmd_migrate_getmaxdowntime(ctl: Ctl, p: Parsed) -> bool:
    ctl.print(f"{ctl.conn.migrate_get_max_downtime(ctl.domain_arg(p).name)}\n")
    return True


def cmd_migrate_setspeed(ctl: Ctl, p: Parsed) -> bool:
    name = ctl.domain_arg(p).name
    ctl.conn.migrate_set_max_speed(name, number(p.str("bandwidth"), "bandwidth") or 0, postcopy=p.bool("postcopy"))
    return True


def cmd_migrate_getspeed(ctl: Ctl, p: Parsed) -> bool:
    ctl.print(f"{ctl.conn.migrate_get_max_speed(ctl.domain_arg(p).name, postcopy=p.bool('postcopy'))}\n")
    return True


def cmd_migrate_postcopy(ctl: Ctl, p: Parsed) -> bool:
    ctl.conn.migrate_start_post_copy(ctl.domain_arg(p).name)
    return True


def cmd_migrate_compcache(ctl: Ctl, p: Parsed) -> bool:
    name = ctl.domain_arg(p).name
    size = option_int(p, "size", unsigned=True)  # vshCommandOptULongLong
    if size is not None:
        ctl.conn.migrate_set_compression_cache(name, size)
    value, unit = pretty_capacity(ctl.conn.migrate_get_compression_cache(name))
    ctl.print(f"Compression cache: {value:.3f} {unit}\n")
    return True


# ---------------------------------------------------------------- jobs
def cmd_domjobinfo(ctl: Ctl, p: Parsed) -> bool:
    """virsh's domjobinfo: --completed reads the last finished job, which the daemon then forgets
    unless --keep-completed; a finished job that did not complete shows its type only, unless
    --anystats; --rawstats prints the typed parameters as they came."""
    if p.bool("keep-completed") and not p.bool("completed"):
        raise CmdError("Option --completed is required by option --keep-completed")
    from pyvirt.api import ErrorCode, PyvirtError, no_support

    info = ctl.domain(p.str("domain") or "")
    try:
        job = ctl.conn.get_job_info(info.name, completed=p.bool("completed"),
                                    keep_completed=p.bool("keep-completed"))
    except PyvirtError as exc:  # virsh falls back to virDomainGetJobInfo, which has no flags
        if exc.code == ErrorCode.NO_SUPPORT and (p.bool("completed") or p.bool("rawstats")):
            raise CmdError("Optional flags or --rawstats are not supported by the daemon",
                           no_support("virDomainGetJobStats").message) from None
        raise
    if p.bool("rawstats"):
        ctl.print(f"Job type: {job.type}\n\n")
        for key, value in job.params().items():
            ctl.print(f"{key}: {typed_value(value)}\n")
        return True
    if job.type not in (1, 2) and not p.bool("anystats") and not (p.bool("completed") and job.type == 3):
        ctl.print(f"{'Job type:':<17} {_JOB_TYPES[job.type]:<12}\n")
        return True
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
    if job.temp_total or job.temp_used:
        size("Temporary disk space use:", job.temp_used)
        size("Temporary disk space total:", job.temp_total)
    if job.error:
        lines.append(f"{'Error message:':<17} {job.error}")
    return "\n".join(lines) + "\n"


def cmd_domjobabort(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    ctl.conn.abort_job(info.name, postcopy=p.bool("postcopy"))  # virDomainAbortJobFlags for a flag
    return True
