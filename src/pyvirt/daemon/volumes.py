"""Disks named by storage pool and volume: resolved to paths for QEMU, kept as named in the XML.

A mixin of the QEMU driver: it needs the registry (`_by_name`) and the storage driver's
`volume_resolver(pool, volume) -> (path, 'file'|'block', format)` that pyvirtd installs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

if TYPE_CHECKING:
    from pyvirt.xml.domain import Domain


class VolumeDisksMixin:
    volume_resolver: Any
    _by_name: dict[str, Any]

    def _resolve_volumes(self, dom: Domain) -> dict[int, tuple[str, str]]:
        """Resolve each ``<disk type='volume'>``: {disk index: (path, 'file'|'block')}.

        The live definition keeps naming pool and volume, as libvirt's live XML does (so
        ``dumpxml`` shows what the user wrote); only the source checks and QEMU's argv need
        the path, see :meth:`_volume_sources`.  A disk that names no format gets the volume's.
        """
        resolved: dict[int, tuple[str, str]] = {}
        for index, disk in enumerate(dom.devices.disks):
            if disk.type != "volume" and not disk.source_pool:
                continue
            target = disk.target_dev or "?"
            if self.volume_resolver is None or not disk.source_pool or not disk.source_volume:
                raise PyvirtError(f"unsupported configuration: disk '{target}' names no usable storage volume",
                                  ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
            try:
                path, kind, fmt = self.volume_resolver(disk.source_pool, disk.source_volume)
            except PyvirtError as exc:
                raise PyvirtError(f"Cannot access storage volume '{disk.source_volume}' (pool "
                                  f"'{disk.source_pool}') of disk '{target}': {exc.message}",
                                  ErrorCode.NO_SOURCE, ErrorDomain.QEMU) from None
            resolved[index] = (path, kind)
            disk.driver_type = disk.driver_type or fmt
        return resolved

    @staticmethod
    @contextlib.contextmanager
    def _volume_sources(dom: Domain, resolved: dict[int, tuple[str, str]]) -> Iterator[None]:
        """Within the block, `dom`'s volume disks are file/block disks on their paths.

        In place rather than on a copy, so that what argv building adds to the definition
        (aliases, USB ports) stays in the live XML; only the disk sources are put back.
        """
        saved = {}
        for index, (path, kind) in resolved.items():
            disk = dom.devices.disks[index]
            saved[index] = (disk.type, disk.source_pool, disk.source_volume, disk.source_mode,
                            disk.source_file, disk.source_dev)
            disk.type, disk.source_pool, disk.source_volume, disk.source_mode = kind, None, None, None
            disk.source_file, disk.source_dev = (path, None) if kind == "file" else (None, path)
        try:
            yield
        finally:
            for index, values in saved.items():
                disk = dom.devices.disks[index]
                (disk.type, disk.source_pool, disk.source_volume, disk.source_mode,
                 disk.source_file, disk.source_dev) = values

    def _disk_path(self, disk: Any) -> str | None:
        """A live disk's host path; a volume disk's is asked of the storage driver again."""
        if disk.source_pool and disk.source_volume and self.volume_resolver is not None:
            try:
                return str(self.volume_resolver(disk.source_pool, disk.source_volume)[0])
            except PyvirtError:
                return None
        return disk.source_file or disk.source_dev

    def domain_using_path(self, path: str) -> str | None:
        """The running domain whose live disks include `path` (the storage driver's in-use check).

        Called from the storage worker threads: it only reads, over a snapshot of the registry.
        """
        real = os.path.realpath(path)
        for rec in list(self._by_name.values()):
            live = rec.live
            if not rec.active or live is None:
                continue
            for disk in live.devices.disks:
                src = self._disk_path(disk)
                if src and os.path.realpath(src) == real:
                    return rec.name
        return None
