"""libvirt's migration protocol between two connections: begin (source), prepare (destination),
perform (source), the job watched, finish (destination), confirm (source).

Written once on the Connection interface and run by both drivers of it: ``pyvirt migrate``
(cli/cmd_migrate.py), where the client holds a connection to each daemon, and ``migrate --p2p``
(daemon/migration_p2p.py), where the source pyvirtd itself opens the destination URI and the
client only waits.  Whatever fails before the destination runs the guest leaves it running on the
source: the destination is told to drop what it prepared, the source to go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

if TYPE_CHECKING:
    from pyvirt.api import Connection, JobInfo, MigrationTarget

POLL = 0.1
JOB_TYPES = ("None", "Bounded", "Unbounded", "Completed", "Failed", "Cancelled")


@dataclass
class MigrateOptions:
    """virsh migrate's options that the protocol carries (the rest is refused by the CLI)."""

    live: bool = False
    offline: bool = False
    persistent: bool = False
    undefine_source: bool = False
    copy_storage: str | None = None        # "all", "inc"
    auto_converge: bool = False
    postcopy: bool = False
    tls: bool = False
    tls_destination: str | None = None
    xml: str | None = None                 # the destination's XML (--xml FILE's text)
    listen_address: str | None = None
    uri: str | None = None                 # --migrateuri
    disks_uri: str | None = None
    bandwidth: int = 0                     # MiB/s, 0: the domain's migrate-setspeed value
    tunnelled: bool = False                # the stream inside the daemons' connection (p2p only)

    def check(self) -> None:
        """virsh's and libvirt's rules between options."""
        if self.offline and (self.live or self.copy_storage):
            raise _invalid("Options --offline and --live (or --copy-storage-*) are mutually exclusive")
        if self.offline and not self.persistent:
            raise _invalid("offline migration requires persistent flag")
        if self.tls_destination and not self.tls:
            raise _invalid("--tls-destination needs --tls")
        if self.bandwidth < 0:
            raise _invalid("migrate: Invalid bandwidth")
        if self.tunnelled:
            tunnel_limits(self.copy_storage, self.tls, self.uri, self.disks_uri)


def tunnel_limits(copy_storage: str | None, tls: bool, uri: str | None, disks_uri: str | None) -> None:
    """What a tunnelled migration cannot carry (libvirt's rules, and pyvirt's NBD outside it)."""
    if copy_storage:
        raise _invalid("--copy-storage-* with --tunnelled is not supported: the disks would travel outside "
                       "the tunnel")
    if tls:
        raise _invalid("--tls with --tunnelled: the tunnel is the daemons' own connection; use a qemu+tls:// "
                       "destination URI to encrypt it")
    if uri or disks_uri:
        raise _invalid("migration URI is not supported by tunnelled migration")


def _invalid(message: str) -> PyvirtError:
    return PyvirtError(f"invalid argument: {message}", ErrorCode.INVALID_ARG, ErrorDomain.QEMU)


Watch = Callable[["Connection", str], "JobInfo"]
#: a tunnelled migration's hook: given prepare's answer, open the tunnel, return perform's URI
Tunnel = Callable[["MigrationTarget"], str]


def wait_job(src: Connection, name: str) -> JobInfo:
    """Poll the source's job until it ends (no progress shown)."""
    while True:
        job = src.get_job_info(name, completed=True, keep_completed=True)
        if job.type not in (1, 2):
            return job
        time.sleep(POLL)


def migrate(src: Connection, dest: Connection, name: str, opts: MigrateOptions, watch: Watch = wait_job,
            dest_host: str | None = None, tunnel: Tunnel | None = None) -> None:
    """Move domain `name` from `src` to `dest`.  `dest_host`: the destination URI's host (None:
    a daemon on this machine), where its listening sockets are reached; `tunnel`: the source
    daemon's hook for opts.tunnelled."""
    opts.check()
    if opts.offline:
        xml = opts.xml or src.get_xml(name, inactive=True, security_info=True)
        dest.define_xml(xml)
        if opts.undefine_source:
            src.undefine(name)
        return
    begin = src.migrate_begin(name, copy_storage=opts.copy_storage, tls=opts.tls)
    listen = opts.listen_address or ("0.0.0.0" if dest_host else None)
    target = dest.migrate_prepare(opts.xml or begin.xml, disks=begin.disks, copy_storage=opts.copy_storage,
                                  listen_address=listen, postcopy=opts.postcopy, uri=opts.uri,
                                  disks_uri=opts.disks_uri, tls=opts.tls, tunnelled=opts.tunnelled)
    performed = False
    try:
        uri = tunnel(target) if opts.tunnelled and tunnel else reachable(target.uri, dest_host)
        src.migrate_perform(name, uri,
                            nbd=target.nbd and reachable(target.nbd, dest_host),
                            copy_storage=opts.copy_storage, live=opts.live, auto_converge=opts.auto_converge,
                            postcopy=opts.postcopy, bandwidth=opts.bandwidth, tls=opts.tls,
                            tls_destination=opts.tls_destination)
        performed = True
        job = watch(src, name)
        if job.type != 3:
            raise PyvirtError(f"operation failed: migration job: {job.error or JOB_TYPES[job.type].lower()}",
                              ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
        dest.migrate_finish(target.name, persistent=opts.persistent, stats=job.to_dict())
    except BaseException:
        cancel(src, dest, name, target.name, performed)
        raise
    src.migrate_confirm(name, undefine_source=opts.undefine_source)


def reachable(address: str, dest_host: str | None) -> str:
    """A destination listening on every address (0.0.0.0, ::) is reached through its URI's host."""
    for wildcard in ("0.0.0.0", "[::]"):
        if wildcard in address:
            return address.replace(wildcard, dest_host or "127.0.0.1")
    return address


def cancel(src: Connection, dest: Connection, name: str, dest_name: str, performed: bool) -> None:
    """Undo both sides; the first error stays the one reported, later ones are only warned of."""
    import sys

    for call in ((lambda: src.migrate_confirm(name, cancelled=True)) if performed else None,
                 lambda: dest.migrate_finish(dest_name, cancelled=True)):
        if call is None:
            continue
        try:
            call()
        except PyvirtError as exc:
            print(f"warning: cleaning up the migration: {exc.message}", file=sys.stderr)


def dest_host(dest: Connection) -> str | None:
    """The destination connection's URI host (None: a daemon on this machine)."""
    parsed = getattr(getattr(dest, "transport", None), "uri", None)
    return getattr(parsed, "host", None)
