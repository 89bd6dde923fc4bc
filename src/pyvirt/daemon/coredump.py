"""virDomainCoreDumpWithFormat for pyvirtd, as libvirt 9.0's QEMU driver does it.

`memory_only` is QMP ``dump-guest-memory`` (an ELF core, or kdump with the format's compression);
otherwise the dump is QEMU's migration stream of the whole machine, as libvirt writes it.  pyvirtd
opens the file (0600, under a temporary name renamed into place once complete) and hands QEMU the
descriptor, so QEMU never opens a path of the caller's choosing.  The guest is paused during the
dump unless `live` and runs again afterwards; `crash` stops it (shut off, crashed), `reset` resets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from typing import TYPE_CHECKING

from pyvirt.api import (
    DomainState,
    ErrorCode,
    ErrorDomain,
    EventType,
    PausedReason,
    PyvirtError,
    ResumedDetail,
    RunningReason,
    ShutoffReason,
    StoppedDetail,
    SuspendedDetail,
    check_core_dump_flags,
)
from pyvirt.atomicio import remove_quietly
from pyvirt.daemon.migstatus import failed
from pyvirt.daemon.saves import UNLIMITED_BANDWIDTH, _absolute, open_partial, publish_partial

if TYPE_CHECKING:
    from pyvirt.daemon.records import DomainRecord, Running

DUMP_TIMEOUT = 600.0
POLL = 0.05
#: pyvirt's format word -> QMP DumpGuestMemoryFormat
QMP_FORMATS = {"raw": "elf", "kdump-zlib": "kdump-zlib", "kdump-lzo": "kdump-lzo",
               "kdump-snappy": "kdump-snappy", "win-dmp": "win-dmp"}


def _check_flags(dump_format: str, crash: bool, live: bool, reset: bool, memory_only: bool) -> str:
    """The QMP format, or libvirt's error for a combination it refuses before touching the guest."""
    check_core_dump_flags(crash, live, reset)
    if dump_format not in QMP_FORMATS:
        raise PyvirtError(f"invalid argument: unknown core dump format '{dump_format}'", ErrorCode.INVALID_ARG,
                          ErrorDomain.QEMU)
    if not memory_only and dump_format != "raw":
        raise PyvirtError("Operation not supported: kdump-compressed format is only supported with memory-only dump",
                          ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
    return QMP_FORMATS[dump_format]


class CoreDumpMixin:
    """virDomainCoreDumpWithFormat for :class:`pyvirt.daemon.driver.QemuDriver`."""

    async def core_dump(self, dom: str, path: str, *, dump_format: str = "raw", crash: bool = False,
                        live: bool = False, bypass_cache: bool = False, reset: bool = False,
                        memory_only: bool = False) -> None:
        qmp_format = _check_flags(dump_format, crash, live, reset, memory_only)
        target = _absolute(path, "dump")
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            run = self._running(rec)  # type: ignore[attr-defined]
            if memory_only:
                await self._check_dump_format(run, qmp_format)
            resume = rec.state == DomainState.RUNNING
            if resume and not live:
                await self._qmp(run, "stop")  # type: ignore[attr-defined]
                self._dump_state(rec, DomainState.PAUSED, PausedReason.DUMP,
                                 EventType.SUSPENDED, SuspendedDetail.PAUSED)
            try:
                await self._write_dump(run, target, qmp_format if memory_only else None, bypass_cache)
            except BaseException:
                if resume and rec.active:
                    with contextlib.suppress(Exception):
                        await self._resume_after_dump(rec, run)
                raise
            if crash:
                await self._crash_after_dump(run)
                return
            if reset:
                await self._qmp(run, "system_reset")  # type: ignore[attr-defined]
            if resume:
                await self._resume_after_dump(rec, run)

    async def _check_dump_format(self, run: Running, qmp_format: str) -> None:
        caps = await self._qmp(run, "query-dump-guest-memory-capability")  # type: ignore[attr-defined]
        if qmp_format not in (caps or {}).get("formats", []):
            raise PyvirtError(f"invalid argument: unsupported dumpformat '{qmp_format}' for this QEMU binary",
                              ErrorCode.INVALID_ARG, ErrorDomain.QEMU)

    async def _write_dump(self, run: Running, target: str, qmp_format: str | None, bypass_cache: bool) -> None:
        """QEMU writes into a descriptor pyvirtd opened; the file appears under `target` only complete."""
        fd, tmp = open_partial(target)
        try:
            await self._pass_fd(run, fd, "pyvirt-dump")  # type: ignore[attr-defined]
            if qmp_format is not None:
                await self._qmp(run, "dump-guest-memory", {  # type: ignore[attr-defined]
                    "paging": False, "protocol": "fd:pyvirt-dump", "detach": True, "format": qmp_format})
                await self._wait_dump(run)
            else:
                await self._qmp(run, "migrate-set-parameters", {"max-bandwidth": UNLIMITED_BANDWIDTH})  # type: ignore[attr-defined]
                await self._qmp(run, "migrate", {"uri": "fd:pyvirt-dump"})  # type: ignore[attr-defined]
                await self._wait_migration(run)  # type: ignore[attr-defined]
        except BaseException:
            os.close(fd)
            remove_quietly(tmp)
            raise
        publish_partial(fd, tmp, target, bypass_cache)

    async def _wait_dump(self, run: Running) -> None:
        deadline = time.monotonic() + DUMP_TIMEOUT
        while True:
            status = await self._qmp(run, "query-dump")  # type: ignore[attr-defined]
            state = (status or {}).get("status")
            if state == "completed":
                return
            if state == "failed":
                raise failed("memory-only dump failed")
            if time.monotonic() > deadline:
                raise failed(f"dumping the guest's memory took longer than {DUMP_TIMEOUT:.0f} s")
            await asyncio.sleep(POLL)

    async def _resume_after_dump(self, rec: DomainRecord, run: Running) -> None:
        await self._qmp(run, "cont")  # type: ignore[attr-defined]
        if rec.state == DomainState.PAUSED:
            self._dump_state(rec, DomainState.RUNNING, RunningReason.UNPAUSED,
                             EventType.RESUMED, ResumedDetail.UNPAUSED)

    def _dump_state(self, rec: DomainRecord, state: DomainState, reason: int, event: EventType, detail: int) -> None:
        rec.state, rec.reason = state, reason
        self._save_runtime(rec, xml=False)  # type: ignore[attr-defined]
        self.events.emit(rec.name, rec.uuid, event, detail, rec.id)  # type: ignore[attr-defined]

    async def _crash_after_dump(self, run: Running) -> None:
        """--crash: the guest stops as crashed (libvirt's qemuProcessStop, reason crashed)."""
        from pyvirt.qemu import process

        run.stop_reason, run.stop_detail = ShutoffReason.CRASHED, StoppedDetail.CRASHED
        process.kill(run.ident, signal.SIGTERM)
        try:
            await asyncio.wait_for(run.exited.wait(), 10)
        except TimeoutError:
            process.kill(run.ident, signal.SIGKILL)
            await run.exited.wait()
