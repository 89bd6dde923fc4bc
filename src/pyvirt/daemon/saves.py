"""Save, restore and managed save: a guest's RAM and device state in a file, QEMU's migration
stream behind libvirt's save-image header (:mod:`pyvirt.qemu.saveimage`).

Saving pauses the guest, migrates it into the file through a descriptor handed to QEMU
(``getfd`` + ``migrate fd:``), marks the image complete, and stops QEMU (shut off, reason
"saved").  The image is written under a temporary name and renamed into place, so a failed or
interrupted save never leaves a half image where a good one was; on failure the guest runs on.
Restoring starts a new QEMU with ``-incoming defer`` and feeds it the stream
(``migrate-incoming fd:``) before the guest runs.  A managed save lives in pyvirtd's data dir
and is restored by the next ``start`` (unless ``--force-boot``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pyvirt.api import (
    DomainState,
    ErrorCode,
    ErrorDomain,
    PyvirtError,
    ShutoffReason,
    StoppedDetail,
    operation_invalid,
)
from pyvirt.atomicio import fsync_dir, remove_quietly
from pyvirt.daemon import model
from pyvirt.daemon.migstatus import failed as _failed
from pyvirt.daemon.migstatus import wait_migration
from pyvirt.qemu import saveimage

if TYPE_CHECKING:
    from pyvirt.daemon.records import DomainRecord, Running
    from pyvirt.xml import Domain

#: QEMU's own default (32 MiB/s) would make saving a 1 GiB guest take half a minute: libvirt lifts it
UNLIMITED_BANDWIDTH = (2**63 - 1) // (1 << 20) * (1 << 20)
MIGRATE_TIMEOUT = 600.0


def _invalid_arg(message: str) -> PyvirtError:
    return PyvirtError(f"invalid argument: {message}", ErrorCode.INVALID_ARG, ErrorDomain.QEMU)


def _absolute(path: str, what: str = "save image") -> str:
    if not path or not os.path.isabs(path) or "\0" in path:
        raise _invalid_arg(f"{what} path '{path}' must be absolute")
    return os.path.normpath(path)


def open_partial(target: str) -> tuple[int, str]:
    """A new 0600 file beside `target` (pyvirtd opens it; QEMU only gets the descriptor), and its
    name: what QEMU writes lands there first, so a failed write never replaces a good file."""
    tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.pyvirt-partial")
    try:
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600), tmp
    except OSError as exc:
        raise PyvirtError(f"Failed to create file '{target}': {exc.strerror}", ErrorCode.SYSTEM_ERROR,
                          ErrorDomain.QEMU) from None


def publish_partial(fd: int, tmp: str, target: str, bypass_cache: bool) -> None:
    """The complete file of :func:`open_partial` on disk, closed and renamed into place."""
    try:
        os.fsync(fd)
        if bypass_cache:
            drop_cached(fd)
    except BaseException:
        os.close(fd)
        remove_quietly(tmp)
        raise
    os.close(fd)
    os.replace(tmp, target)
    try:
        fsync_dir(os.path.dirname(target))
    except BaseException:  # not known to be on disk: not left as the guest's saved state either
        remove_quietly(target)
        raise


class SavesMixin:
    """virDomainSave*/Restore*/ManagedSave* for :class:`pyvirt.daemon.driver.QemuDriver`."""

    # ------------------------------------------------------------------ paths and flags
    def managed_save_path(self, rec: DomainRecord) -> Path:
        return self.paths.data / "save" / f"{rec.name}.save"  # type: ignore[attr-defined]

    def has_managed_save(self, rec: DomainRecord) -> bool:
        """One stat, no pathlib: `list` asks this of every inactive domain."""
        return os.path.isfile(f"{self.paths.data}/save/{rec.name}.save")  # type: ignore[attr-defined]

    def managed_save_names(self) -> set[str]:
        """The file names in the managed-save directory (for listing every domain at once)."""
        try:
            return set(os.listdir(f"{self.paths.data}/save"))  # type: ignore[attr-defined]
        except OSError:
            return set()

    # ------------------------------------------------------------------ API
    async def save(self, dom: str, path: str, *, xml: str | None = None, bypass_cache: bool = False,
                   running: bool = False, paused: bool = False) -> None:
        _exclusive_state(running, paused)
        target = _absolute(path)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            await self._save_locked(rec, target, xml, running, paused, bypass_cache)

    async def managed_save(self, dom: str, *, bypass_cache: bool = False, running: bool = False,
                           paused: bool = False) -> None:
        _exclusive_state(running, paused)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        if not rec.persistent:
            raise operation_invalid("cannot do managed save for transient domain")
        target = self.managed_save_path(rec)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        async with rec.lock:
            await self._save_locked(rec, str(target), None, running, paused, bypass_cache)

    async def restore(self, path: str, *, xml: str | None = None, bypass_cache: bool = False,
                      running: bool = False, paused: bool = False, reset_nvram: bool = False) -> None:
        _exclusive_state(running, paused)
        source = _absolute(path)
        header = await asyncio.to_thread(saveimage.read_header, source)
        dom = self._image_domain(header.xml if xml is None else xml, header)
        rec = await self._restore_target(dom)
        try:
            async with rec.lock:
                if rec.active:
                    raise operation_invalid(f"domain '{rec.name}' is already active")
                if reset_nvram:
                    from pyvirt.daemon.firmware import reset_nvram as drop_nvram

                    drop_nvram(dom, self.paths.data / "nvram")  # type: ignore[attr-defined]
                await self._restore_locked(rec, dom, source, header, running, paused)
        except BaseException:
            if not rec.persistent and not rec.active:
                self._unindex(rec)  # type: ignore[attr-defined]
            raise
        if bypass_cache:  # QEMU has read it all: its pages go
            _drop_file_cache(source)

    def save_image_xml(self, path: str, *, security_info: bool = False) -> str:
        header = saveimage.read_header(_absolute(path))
        return model.parse_stored(header.xml).to_xml(inactive=True, security_info=security_info)

    def save_image_define(self, path: str, xml: str, *, running: bool = False, paused: bool = False) -> None:
        _exclusive_state(running, paused)
        source = _absolute(path)
        header = saveimage.read_header(source)
        self._redefine_image(source, header, xml, running, paused)

    def managed_save_xml(self, dom: str, *, security_info: bool = False) -> str:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        path = self._existing_managed_save(rec)
        return self.save_image_xml(str(path), security_info=security_info)

    def managed_save_define(self, dom: str, xml: str, *, running: bool = False, paused: bool = False) -> None:
        _exclusive_state(running, paused)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        path = self._existing_managed_save(rec)
        self._redefine_image(str(path), saveimage.read_header(str(path)), xml, running, paused)

    async def managed_save_remove(self, dom: str) -> None:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            remove_quietly(self.managed_save_path(rec))

    # ------------------------------------------------------------------ start with a managed save
    async def start_from_managed_save(self, rec: DomainRecord, paused: bool, force_boot: bool,
                                      bypass_cache: bool = False) -> bool:
        """Called by start with the domain locked: True when a managed save was restored."""
        path = self.managed_save_path(rec)
        if rec.active or not path.is_file():
            return False  # starting a running guest fails in _start_locked, with libvirt's words
        if force_boot:
            remove_quietly(path)
            return False
        header = await asyncio.to_thread(saveimage.read_header, str(path))
        dom = self._image_domain(header.xml, header)
        if dom.uuid != rec.uuid:
            raise _failed(f"managed save image {path} belongs to another domain ({dom.uuid})")
        await self._restore_locked(rec, dom, str(path), header, False, paused)
        if bypass_cache:
            _drop_file_cache(str(path))
        remove_quietly(path)
        return True

    # ------------------------------------------------------------------ helpers
    async def _restore_target(self, dom: Domain) -> DomainRecord:
        """The domain a restore runs: the defined one with this name and UUID, or a new transient one."""
        from pyvirt.daemon.records import DomainRecord

        async with self._registry_lock:  # type: ignore[attr-defined]
            by_name = self._by_name.get(dom.name or "")  # type: ignore[attr-defined]
            by_uuid = self._by_uuid.get(dom.uuid or "")  # type: ignore[attr-defined]
            if by_name is not None and by_name.uuid != dom.uuid:
                raise _failed(f"domain '{dom.name}' already exists with uuid {by_name.uuid}")
            if by_uuid is not None and by_uuid.name != dom.name:
                raise _failed(f"domain '{by_uuid.name}' is already defined with uuid {dom.uuid}")
            rec = by_name
            if rec is None:
                rec = DomainRecord(name=dom.name or "", uuid=dom.uuid or "", config=None)
                self._index(rec)  # type: ignore[attr-defined]
            return rec

    def _existing_managed_save(self, rec: DomainRecord) -> Path:
        path = self.managed_save_path(rec)
        if not path.is_file():
            raise operation_invalid("domain does not have managed save image")
        return path

    @staticmethod
    def _image_domain(xml: str, header: saveimage.SaveHeader) -> Domain:
        dom = model.parse_stored(xml)
        if xml is not header.xml:  # an updated XML must describe the same guest
            saved = model.parse_stored(header.xml)
            if (saved.name, saved.uuid) != (dom.name, dom.uuid):
                raise _invalid_arg("the updated XML must keep the saved domain's name and UUID")
        return dom

    def _redefine_image(self, path: str, header: saveimage.SaveHeader, xml: str, running: bool,
                        paused: bool) -> None:
        dom = self._image_domain(xml, header)
        was_running = header.was_running if not (running or paused) else running
        new = saveimage.SaveHeader(dom.to_xml(inactive=True, security_info=True), was_running, header.data_len)
        saveimage.rewrite_header(path, new)

    async def _save_locked(self, rec: DomainRecord, target: str, xml: str | None, running: bool,
                           paused: bool, bypass_cache: bool = False) -> None:
        run = self._running(rec)  # type: ignore[attr-defined]
        dom = rec.current()
        if xml is not None:
            dom = self._image_domain(xml, saveimage.SaveHeader(dom.to_xml(inactive=True), True))
        was_running = rec.state == DomainState.RUNNING
        header = saveimage.SaveHeader(dom.to_xml(inactive=True, security_info=True),
                                      running or (was_running and not paused))
        await self._write_state_image(run, target, header, pause=was_running, bypass_cache=bypass_cache)
        await self._stop_saved(rec, run)

    async def _write_state_image(self, run: Running, target: str, header: saveimage.SaveHeader,
                                 pause: bool, bypass_cache: bool = False, running: bool | None = None) -> None:
        """QEMU's state into `target` behind `header` (a save, or an external snapshot's memory):
        written under a temporary name, marked complete and renamed into place.  QEMU is left
        paused ('postmigrate'); on failure nothing is left behind and a guest this paused
        (`pause`) runs again, as does one that ran before (`running`, for a live copy that QEMU
        pauses only at its end).  `bypass_cache`: the image leaves no pages in the host's page
        cache (libvirt's O_DIRECT iohelper; here the written pages are dropped once on disk)."""
        fd, tmp = open_partial(target)
        stopped = False
        resume = pause if running is None else running

        async def undo() -> None:
            remove_quietly(tmp)
            if stopped or resume:  # QEMU paused it (stop, or the end of a completed migration)
                with contextlib.suppress(Exception):
                    await self._qmp(run, "cont")  # type: ignore[attr-defined]

        try:
            os.write(fd, header.pack(partial=True))
            os.lseek(fd, header.stream_offset, os.SEEK_SET)
            if pause:
                await self._qmp(run, "stop")  # type: ignore[attr-defined]
                stopped = True
            await self._qmp(run, "migrate-set-parameters", {"max-bandwidth": UNLIMITED_BANDWIDTH})  # type: ignore[attr-defined]
            await self._pass_fd(run, fd, "pyvirt-save")
            await self._qmp(run, "migrate", {"uri": "fd:pyvirt-save"})  # type: ignore[attr-defined]
            await self._wait_migration(run)
            os.pwrite(fd, saveimage.MAGIC, 0)
        except BaseException:
            os.close(fd)
            await undo()
            raise
        try:  # the last step can fail too (EIO, ENOSPC at fsync): the guest goes on as it was
            publish_partial(fd, tmp, target, bypass_cache)  # closes fd whatever happens
        except BaseException as exc:
            await undo()
            if isinstance(exc, OSError):
                raise PyvirtError(f"unable to write save image '{target}': {exc.strerror}", ErrorCode.SYSTEM_ERROR,
                                  ErrorDomain.QEMU) from None
            raise

    async def _restore_locked(self, rec: DomainRecord, dom: Domain, source: str, header: saveimage.SaveHeader,
                              running: bool, paused: bool, from_snapshot: bool = False) -> None:
        start_paused = paused or (not running and not header.was_running)

        async def incoming(run: Running) -> None:
            fd = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.lseek(fd, header.stream_offset, os.SEEK_SET)
                await self._pass_fd(run, fd, "pyvirt-restore")
            finally:
                os.close(fd)
            await self._qmp(run, "migrate-incoming", {"uri": "fd:pyvirt-restore"})  # type: ignore[attr-defined]
            await self._wait_migration(run)

        # QEMU must be the machine in the image: its definition, whatever the config says now
        await self._start_locked(rec, paused=start_paused, definition=dom,  # type: ignore[attr-defined]
                                 incoming=incoming, from_snapshot=from_snapshot)

    async def _pass_fd(self, run: Running, fd: int, name: str) -> None:
        if run.qmp is None:
            raise _failed("monitor not available")
        run.qmp.send_fd_scm(fd)
        await self._qmp(run, "getfd", {"fdname": name})  # type: ignore[attr-defined]

    async def _wait_migration(self, run: Running) -> None:
        async def cancel() -> None:
            with contextlib.suppress(PyvirtError):
                await self._qmp(run, "migrate_cancel")  # type: ignore[attr-defined]

        await wait_migration(lambda: self._qmp(run, "query-migrate"),  # type: ignore[attr-defined]
                             what="migration", deadline=time.monotonic() + MIGRATE_TIMEOUT, on_timeout=cancel,
                             timed_out=f"saving the guest state took longer than {MIGRATE_TIMEOUT:.0f} s")

    async def _stop_saved(self, rec: DomainRecord, run: Running) -> None:
        """QEMU has nothing left to do once its state is in the image: shut off, reason saved."""
        from pyvirt.qemu import process

        if not await self._quit_qemu(run, ShutoffReason.SAVED, StoppedDetail.SAVED):
            process.kill(run.ident, signal.SIGKILL)
            await run.exited.wait()

    async def _quit_qemu(self, run: Running, reason: ShutoffReason, detail: StoppedDetail) -> bool:
        """Ask QEMU to quit once the guest's state lives elsewhere (a save image, the migration's
        destination), recording why it stopped; whether it exited within 10 s (if not, the
        caller forces it)."""
        run.stop_reason, run.stop_detail = reason, detail
        with contextlib.suppress(Exception):
            await self._qmp(run, "quit")  # type: ignore[attr-defined]
        try:
            await asyncio.wait_for(run.exited.wait(), 10)
        except TimeoutError:
            return False
        return True


def drop_cached(fd: int) -> None:
    """--bypass-cache: the file's clean pages leave the page cache, so a large image does not push
    the host's own out (what libvirt's O_DIRECT I/O avoids in the first place)."""
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def _drop_file_cache(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        drop_cached(fd)
    finally:
        os.close(fd)


def _exclusive_state(running: bool, paused: bool) -> None:
    if running and paused:
        raise PyvirtError("Flags 'VIR_DOMAIN_SAVE_RUNNING' and 'VIR_DOMAIN_SAVE_PAUSED' are mutually exclusive",
                          ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN)

