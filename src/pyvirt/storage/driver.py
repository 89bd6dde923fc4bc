"""The storage driver: pools and volumes as plain methods with JSON-friendly results.

State on disk (libvirt's split):
- ``config_dir/storage/NAME.xml``: each defined pool (atomic writes);
- ``config_dir/storage/autostart/NAME.xml``: symlink to the above when autostart is on;
- ``config_dir/storage/volumes/NAME.json``: recorded volume formats (see records.py);
- ``state_dir/storage/NAME.xml``: the pool is active (removed on stop).  A transient pool
  (``pool-create``) has only this file: state_dir is the runtime dir, so a daemon restart
  finds it again, still transient, and a host reboot forgets it, as libvirt does.

A corrupt pool file is logged and skipped, never rewritten.  One lock serialises changes;
the daemon may call these methods from worker threads.

Deleting (or wiping, shrinking, uploading over) a volume that a running guest uses is refused
unless ``force=True``: the daemon supplies ``in_use(path) -> domain name | None``.  libvirt
itself does not check, but losing a live guest's disk to a typo is the worse surprise.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid as uuidlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from pyvirt import textindex
from pyvirt.api import ErrorCode, Event, StoragePoolEvent, StoragePoolRefreshEvent
from pyvirt.api import StoragePoolEventType as PoolEv
from pyvirt.atomicio import remove_quietly, remove_stale_temps, write_atomic
from pyvirt.storage import names, sizes
from pyvirt.storage.backends import BACKENDS, LogicalBackend
from pyvirt.storage.errors import (
    invalid_arg,
    no_pool,
    no_vol,
    op_invalid,
    storage_error,
    unsupported,
)
from pyvirt.storage.model import PoolInfo, VolInfo
from pyvirt.storage.records import FormatRecords
from pyvirt.storage.volumes import FileVolumes, check_overlay_flags, metadata_prealloc_refused, qcow2_options
from pyvirt.xml.errors import XMLError, XMLMalformedError, XMLUnsupportedError
from pyvirt.xml.pool import PoolDef, check_absolute_target
from pyvirt.xml.volume import VOLUME_FORMATS, VolumeDef, format_fits_pool

log = logging.getLogger(__name__)
InUse = Callable[[str], str | None]


def _xml_error(exc: XMLError) -> Exception:
    if isinstance(exc, XMLMalformedError):  # libvirt's whole catchXMLError text
        return storage_error(exc.report, ErrorCode.XML_DETAIL)
    code = ErrorCode.CONFIG_UNSUPPORTED if isinstance(exc, XMLUnsupportedError) else ErrorCode.XML_ERROR
    return storage_error(str(exc), code)


def _size(value: int | str | None, what: str) -> int | None:
    if value is None:
        return None
    try:
        return sizes.parse_size(value)
    except ValueError as exc:
        raise invalid_arg(f"invalid {what}: {exc}") from None


def _check_format_flags(pool: PoolDef, overwrite: bool, no_overwrite: bool) -> None:
    """Building with --overwrite/--no-overwrite means formatting the pool's source device
    (libvirt's virStorageBackendMakeFileSystem, or the logical backend's device wipe/probe).
    pyvirt does not format devices, so the flags are refused by name, before anything is made,
    rather than building the pool without what they ask; with no source device to format
    (a dir pool) the refusal is libvirt's own."""
    if overwrite and no_overwrite:
        raise invalid_arg("Flags 'VIR_STORAGE_POOL_BUILD_OVERWRITE' and "
                          "'VIR_STORAGE_POOL_BUILD_NO_OVERWRITE' are mutually exclusive")
    if not (overwrite or no_overwrite):
        return
    if not (pool.source and pool.source.devices):
        raise op_invalid(f"No source device specified when formatting pool '{pool.name}'")
    flag = "--overwrite" if overwrite else "--no-overwrite"
    raise unsupported(f"building pool '{pool.name}' with {flag} (formatting its source device) "
                      "is not supported by pyvirt")


#: the pool index in state_dir/storage (see _PoolTable)
POOL_INDEX = "pool-index.json"


class _Stored:
    """A pool definition held as the text of its file until first use (see _PoolTable)."""

    __slots__ = ("text",)

    def __init__(self, text: bytes) -> None:
        self.text = text


class _PoolTable(dict[str, "PoolDef | _Stored"]):
    """Pool name -> its definition.  A definition whose exact file text parsed before, under the
    same parser code (the pool index, :mod:`pyvirt.textindex`), is held as that text and parsed
    the first time it is looked up: a daemon restart reads pool files without parsing them, so
    one that serves only domains never loads lxml and the model (~6 MiB resident) for a pool
    (the ``default`` pool exists on nearly every host).  Broken or changed files are parsed at
    load as before; this only defers the parse of a text already known to parse, to the same
    result.  Names, membership and length never parse; lookups and iteration over the
    definitions do."""

    def _real(self, name: str, value: PoolDef | _Stored) -> PoolDef:
        if isinstance(value, _Stored):
            value = PoolDef.from_xml(value.text)
            dict.__setitem__(self, name, value)
        return value

    def __getitem__(self, name: str) -> PoolDef:
        return self._real(name, dict.__getitem__(self, name))

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        value = dict.get(self, name)
        return default if value is None else self._real(name, value)

    def values(self) -> list[PoolDef]:  # type: ignore[override]
        return [self._real(n, v) for n, v in list(dict.items(self))]

    def items(self) -> list[tuple[str, PoolDef]]:  # type: ignore[override]
        return [(n, self._real(n, v)) for n, v in list(dict.items(self))]


class StorageDriver:
    """Storage pools (dir, fs, netfs, logical) and their volumes: the StoragePool and StorageVol
    operations of pyvirt.api.Connection, under their declared names.  A `pool` argument is a
    pool's name or UUID.

    With ``default_pool=True`` (pyvirtd) the pool ``default`` (a dir pool at default_pool_path)
    is made on the first storage call, not at start: a daemon that only runs domains never
    makes it, and a failure to make it is logged, never fatal to other pools.
    """

    #: every method may block (qemu-img, stat, fsync): pyvirtd calls them in worker threads
    BLOCKING = True

    def __init__(self, config_dir: str | os.PathLike[str], state_dir: str | os.PathLike[str],
                 default_pool_path: str | os.PathLike[str], in_use: InUse | None = None,
                 default_pool: bool = False, on_event: Callable[[Event], None] | None = None) -> None:
        """`on_event` receives the pools' lifecycle events (virsh pool-event's numbers); it is
        called from whatever thread runs the method."""
        self._default_pending = default_pool
        self._on_event = on_event
        self.config = Path(config_dir) / "storage"
        self.state = Path(state_dir) / "storage"
        self.default_pool_path = str(default_pool_path)
        self.in_use = in_use or (lambda path: None)
        self._lock = threading.RLock()
        self._pools = _PoolTable()
        #: an active pool's definition as it was started stays in _pools while it runs; a
        #: definition given meanwhile waits here until the pool stops (libvirt's newDef)
        self._pending: dict[str, PoolDef] = {}
        self._transient: set[str] = set()
        for d in (self.config, self.config / "autostart", self.config / "volumes", self.state):
            d.mkdir(parents=True, exist_ok=True)
        self._load()

    # -- persistence --------------------------------------------------------------------

    def _load(self) -> None:
        """Every pool file, parsed unless the pool index vouches for its very text (_PoolTable)."""
        fingerprint = textindex.code_fingerprint([*textindex.xml_code_files(), Path(__file__).resolve()])
        indexed = textindex.load_digests(self.state / POOL_INDEX, fingerprint)
        digests: dict[str, str] = {}
        for directory in (self.config, self.config / "autostart", self.config / "volumes", self.state):
            remove_stale_temps(directory)

        def read(path: Path, key: str, what: str) -> PoolDef | _Stored | None:
            try:
                text = path.read_bytes()
            except OSError as exc:
                log.error("skipping unreadable %s %s: %s", what, path, exc)
                return None
            sha = textindex.digest(text)
            if indexed.get(key) == sha:  # this very text parsed, to this name, before
                digests[key] = sha
                return _Stored(text)
            try:
                pool = PoolDef.from_xml(text)
                check_absolute_target(pool)  # as define refuses it: never built relative to our cwd
            except XMLError as exc:
                log.error("skipping unreadable %s %s: %s", what, path, exc)
                return None
            if pool.name == path.stem:
                digests[key] = sha
            return pool

        for path in sorted(self.config.glob("*.xml")):
            pool = read(path, f"config/{path.name}", "pool file")
            if pool is None:
                continue
            if isinstance(pool, PoolDef) and pool.name != path.stem:
                log.error("skipping %s: it defines pool '%s'", path, pool.name)
                continue
            self._pools[path.stem] = pool
        for path in sorted(self.state.glob("*.xml")):
            if path.stem in self._pools:
                self._load_running(path)
                continue
            pool = read(path, f"state/{path.name}", "transient pool file")
            if pool is not None and (isinstance(pool, _Stored) or pool.name == path.stem):
                self._pools[path.stem] = pool
                self._transient.add(path.stem)
        if digests != indexed:
            textindex.save_digests(self.state / POOL_INDEX, fingerprint, digests)

    def _load_running(self, path: Path) -> None:
        """An active persistent pool runs as its state file says: a definition saved while it
        ran (a different config file) waits in _pending for its stop."""
        name = path.stem
        try:
            live_text = path.read_bytes()
            if live_text == (self.config / f"{name}.xml").read_bytes():
                return
            live = PoolDef.from_xml(live_text)
        except (OSError, XMLError) as exc:
            log.error("pool %s: its running definition %s is unreadable (%s); using its config", name, path, exc)
            return
        if live.name == name:
            self._pending[name] = self._pools[name]
            self._pools[name] = live

    def _save(self, pool: PoolDef) -> None:
        write_atomic(self.config / f"{pool.name}.xml", pool.to_xml())

    def _pool(self, ref: str) -> PoolDef:
        """A pool by name, then by UUID (virsh's vshCommandOptPool order)."""
        pool = self._pools.get(ref)
        if pool is None and self._default_pending:
            self._ensure_default()
            pool = self._pools.get(ref)
        if pool is None and len(ref) in (32, 36):
            low = ref.lower().replace("-", "")
            pool = next((p for p in self._pools.values() if p.uuid.replace("-", "") == low), None)
        if pool is None:
            raise no_pool(ref)
        return pool

    def _event(self, pool: PoolDef, event: int, cls: type[Event] = StoragePoolEvent) -> None:
        if self._on_event is not None:
            self._on_event(cls(pool.name, pool.uuid, event))

    def _ensure_default(self) -> None:
        if not self._default_pending:
            return
        with self._lock:
            if not self._default_pending:
                return
            self._default_pending = False
            try:
                self.ensure_default_pool()
            except Exception as exc:  # noqa: BLE001 - other pools must still work
                log.error("cannot create the default storage pool: %s", exc)

    def _active(self, name: str) -> bool:
        return (self.state / f"{name}.xml").exists()

    def _autostart(self, name: str) -> bool:
        return (self.config / "autostart" / f"{name}.xml").is_symlink()

    def _require_active(self, pool: PoolDef) -> None:
        if not self._active(pool.name):
            raise op_invalid(f"storage pool '{pool.name}' is not active")

    def _records(self, name: str) -> FormatRecords:
        return FormatRecords(self.config / "volumes" / f"{name}.json")

    def _vols(self, pool: PoolDef) -> FileVolumes:
        backend = BACKENDS[pool.type]
        if not backend.file_based:
            raise unsupported(f"this operation is not supported on {pool.type} pool '{pool.name}'")
        return FileVolumes(pool.name, pool.target_path, self._records(pool.name),
                           lambda: backend.space(pool)[2], self._backing_format)

    def _backing_format(self, path: str) -> str | None:
        """Recorded format of `path` if it is a volume of an active file pool, else None."""
        real = os.path.realpath(path)
        for pool in self._pools.values():
            if not BACKENDS[pool.type].file_based or not self._active(pool.name):
                continue
            root = os.path.realpath(pool.target_path)
            if os.path.dirname(real) == root and os.path.isfile(real):
                return self._records(pool.name).format_of(os.path.basename(real)) or "raw"
        return None

    # -- pools --------------------------------------------------------------------------

    def _info(self, pool: PoolDef) -> PoolInfo:
        info = PoolInfo(pool.name, pool.uuid, pool.type, pool.target_path or "", self._active(pool.name),
                        pool.name not in self._transient, self._autostart(pool.name))
        if info.active:
            try:
                info.capacity, info.allocation, info.available = BACKENDS[pool.type].space(pool)
            except OSError as exc:
                log.warning("pool %s: %s", pool.name, exc)
        return info

    def find_pool_sources(self, pool_type: str, spec: str | None = None) -> str:
        """virConnectFindStoragePoolSources through the host's tools (storage/discovery.py)."""
        from pyvirt.storage.discovery import find_pool_sources

        return find_pool_sources(pool_type, spec)

    def get_storage_pool_capabilities(self) -> str:
        """virConnectGetStoragePoolCapabilities: the pool types this driver runs (dir, fs, netfs,
        logical) with their source and volume formats."""
        formats = {"dir": ("none", "raw", "qcow2"), "fs": ("auto", "ext2", "ext3", "ext4", "xfs", "vfat"),
                   "netfs": ("auto", "nfs", "cifs"), "logical": ("auto", "lvm2")}
        lines = ["<storagepoolCapabilities>\n"]
        for kind, fmts in formats.items():
            lines.append(f"  <pool type='{kind}' supported='yes'>\n")
            if kind != "dir":
                lines.append("    <poolOptions>\n      <defaultFormat type='"
                             f"{fmts[0]}'/>\n      <enum name='sourceFormatType'>\n")
                lines += [f"        <value>{f}</value>\n" for f in fmts]
                lines.append("      </enum>\n    </poolOptions>\n")
            vol_fmts = ("raw",) if kind == "logical" else ("raw", "qcow2", "qcow", "qed", "vmdk", "vpc", "vdi")
            lines.append("    <volOptions>\n      <defaultFormat type='raw'/>\n      <enum name='targetFormatType'>\n")
            lines += [f"        <value>{f}</value>\n" for f in vol_fmts]
            lines.append("      </enum>\n    </volOptions>\n  </pool>\n")
        lines.append("</storagepoolCapabilities>\n")
        return "".join(lines)

    def list_pools(self) -> list[PoolInfo]:
        self._ensure_default()
        with self._lock:
            return [self._info(p) for _, p in sorted(self._pools.items())]

    def lookup_pool(self, ref: str) -> PoolInfo:
        with self._lock:
            return self._info(self._pool(ref))

    def get_pool_xml(self, pool: str, inactive: bool = False) -> str:
        with self._lock:
            pool = self._pool(pool)  # type: ignore[assignment]
            if inactive and pool.name in self._pending:
                return self._pending[pool.name].to_xml()
            if inactive or not self._active(pool.name):
                return pool.to_xml()
            info = self._info(pool)
            return pool.to_xml(info.capacity, info.allocation, info.available)

    def _parse(self, xml: str) -> PoolDef:
        try:
            pool = PoolDef.from_xml(xml)
        except XMLError as exc:
            raise _xml_error(exc) from None
        except ValueError as exc:  # what the pool parser refuses before its own checks
            raise storage_error(f"XML error: {exc}", ErrorCode.XML_ERROR) from None
        try:
            check_absolute_target(pool)
        except XMLError as exc:
            raise _xml_error(exc) from None
        names.check_name(pool.name, "storage pool")
        BACKENDS[pool.type].check(pool)
        return pool

    def define_pool(self, xml: str) -> PoolInfo:
        """virsh pool-define; defining a running transient pool makes it persistent."""
        pool = self._parse(xml)
        self._ensure_default()
        with self._lock:
            old = self._pools.get(pool.name)
            self._check_source_conflict(pool)
            for other in self._pools.values():
                if other.name != pool.name and other.uuid == pool.uuid:
                    raise storage_error(f"pool '{other.name}' is already defined with uuid {pool.uuid}",
                                        ErrorCode.OPERATION_FAILED)
            if old is not None:
                if old.uuid != pool.uuid and "<uuid>" in xml:
                    raise storage_error(f"pool '{pool.name}' already exists with uuid {old.uuid}",
                                        ErrorCode.OPERATION_FAILED)
                pool.uuid = old.uuid
            if pool.target_path and os.path.isfile(pool.target_path):
                raise invalid_arg(f"pool target path '{pool.target_path}' is a file, not a directory")
            self._save(pool)
            self._transient.discard(pool.name)
            if old is not None and self._active(pool.name):
                # the running pool keeps its definition (its target, its source) until it stops
                self._pending[pool.name] = pool
                self._event(pool, PoolEv.DEFINED)
                return self._info(old)
            self._pools[pool.name] = pool
            self._event(pool, PoolEv.DEFINED)
            return self._info(pool)

    def create_pool(self, xml: str, build: bool = False, overwrite: bool = False,
                    no_overwrite: bool = False) -> PoolInfo:
        """virsh pool-create: a transient pool, started now and forgotten when stopped."""
        pool = self._parse(xml)
        _check_format_flags(pool, overwrite, no_overwrite)
        self._ensure_default()
        with self._lock:
            if pool.name in self._pools:
                raise storage_error(f"operation failed: pool '{pool.name}' already exists",
                                    ErrorCode.OPERATION_FAILED)
            self._check_source_conflict(pool)
            for other in self._pools.values():
                if other.uuid == pool.uuid:
                    raise storage_error(f"pool '{other.name}' is already defined with uuid {pool.uuid}",
                                        ErrorCode.OPERATION_FAILED)
            self._activate(pool, build)
            self._pools[pool.name] = pool
            self._transient.add(pool.name)
            self._event(pool, PoolEv.STARTED)
            return self._info(pool)

    def _check_source_conflict(self, pool: PoolDef) -> None:
        """virStoragePoolObjSourceFindDuplicate, before the name and UUID checks: no other pool
        may name the same storage (by type: a directory, a host's export, a source device)."""
        from pyvirt.xml.poolsources import conflicting_defs

        other = conflicting_defs(self._pools.values(), pool)
        if other is not None:
            raise storage_error(f"Storage source conflict with pool: '{other}'", ErrorCode.OPERATION_FAILED)

    def build_pool(self, pool: str, overwrite: bool = False, no_overwrite: bool = False) -> None:
        with self._lock:
            obj = self._pool(pool)
            if self._active(obj.name):
                raise op_invalid(f"storage pool '{obj.name}' is already active")
            _check_format_flags(obj, overwrite, no_overwrite)
            BACKENDS[obj.type].build(obj)
            self._event(obj, PoolEv.CREATED)

    def start_pool(self, pool: str, build: bool = False, overwrite: bool = False,
                   no_overwrite: bool = False) -> PoolInfo:
        with self._lock:
            pool = self._pool(pool)  # type: ignore[assignment]
            if self._active(pool.name):
                raise op_invalid(f"storage pool '{pool.name}' is already active")
            _check_format_flags(pool, overwrite, no_overwrite)
            self._activate(pool, build)
            self._event(pool, PoolEv.STARTED)
            return self._info(pool)

    def _activate(self, pool: PoolDef, build: bool) -> None:
        """Start a pool (building a missing directory first if asked) and mark it active."""
        backend = BACKENDS[pool.type]
        if build and backend.file_based and not os.path.exists(pool.target_path):
            backend.build(pool)
        backend.start(pool)
        if backend.file_based:
            self._vols(pool).clean_temp()
        write_atomic(self.state / f"{pool.name}.xml", pool.to_xml())

    def destroy_pool(self, pool: str) -> None:
        """virsh pool-destroy: deactivate (unmount/deactivate VG); no data is touched.
        A transient pool is forgotten here."""
        with self._lock:
            pool = self._pool(pool)  # type: ignore[assignment]
            name = pool.name
            self._require_active(pool)
            BACKENDS[pool.type].stop(pool)
            remove_quietly(self.state / f"{name}.xml")
            if name in self._pending:  # a definition given while it ran takes effect now
                self._pools[name] = self._pending.pop(name)
            self._event(pool, PoolEv.STOPPED)
            if name in self._transient:
                self._transient.discard(name)
                self._records(name).drop()
                del self._pools[name]

    def delete_pool(self, pool: str) -> None:
        """virsh pool-delete: remove the (empty) directory or the volume group."""
        with self._lock:
            obj = self._pool(pool)
            if self._active(obj.name):
                raise op_invalid(f"storage pool '{obj.name}' is still active")
            BACKENDS[obj.type].delete(obj)
            self._event(obj, PoolEv.DELETED)

    def undefine_pool(self, pool: str) -> None:
        with self._lock:
            pool = self._pool(pool)  # type: ignore[assignment]
            name = pool.name
            if self._active(name):
                raise op_invalid(f"storage pool '{name}' is still active")
            remove_quietly(self.config / "autostart" / f"{name}.xml")
            remove_quietly(self.config / f"{name}.xml")
            self._records(name).drop()
            del self._pools[pool.name]
            self._event(pool, PoolEv.UNDEFINED)

    def set_pool_autostart(self, pool: str, autostart: bool) -> None:
        with self._lock:
            name = self._pool(pool).name
            if name in self._transient:
                raise storage_error("pool has no config file", ErrorCode.INTERNAL_ERROR)  # libvirt's words
            link = self.config / "autostart" / f"{name}.xml"
            remove_quietly(link)
            if autostart:
                os.symlink(f"../{name}.xml", link)

    def autostart_pools(self) -> list[str]:
        """Start every autostart pool that is not active; returns those started (errors logged)."""
        started = []
        with self._lock:  # not list_pools(): that would make the default pool at daemon start
            names = [n for n in sorted(self._pools) if self._autostart(n) and not self._active(n)]
        for name in names:
            try:
                self.start_pool(name)
                started.append(name)
            except Exception as exc:  # noqa: BLE001 - one bad pool must not stop the rest
                log.error("autostart of pool %s failed: %s", name, exc)
        return started

    def refresh_pool(self, pool: str) -> PoolInfo:
        """Re-scan: forget format records of files that are gone; then the refresh event."""
        with self._lock:
            pool = self._pool(pool)  # type: ignore[assignment]
            self._require_active(pool)
            if BACKENDS[pool.type].file_based:
                vols = self._vols(pool)
                vols.records.prune(set(vols.names()))
            info = self._info(pool)
        self._event(pool, 0, StoragePoolRefreshEvent)
        return info

    def ensure_default_pool(self) -> PoolInfo:
        """The ``default`` dir pool at default_pool_path: defined, built, started, autostart."""
        with self._lock:
            if "default" not in self._pools:
                from pyvirt.xml.pool import Permissions

                pool = PoolDef(type="dir", name="default", uuid=str(uuidlib.uuid4()),
                               target_path=os.path.abspath(self.default_pool_path),
                               permissions=Permissions(mode=0o711))
                self.define_pool(pool.to_xml())
                self.set_pool_autostart("default", True)
            if not self._active("default"):
                self.start_pool("default", build=True)
            return self.lookup_pool("default")

    # -- volumes ------------------------------------------------------------------------

    def _active_pool(self, name: str) -> PoolDef:
        pool = self._pool(name)
        self._require_active(pool)
        return pool

    def _vol_name(self, pool: PoolDef, name: str) -> str:
        names.check_name(name, "storage volume")
        if BACKENDS[pool.type].file_based and not self._vols(pool).exists(name):
            raise no_vol(f"no storage vol with matching name '{name}' in pool '{pool.name}'")
        return name

    def _check_not_in_use(self, path: str, what: str, force: bool) -> None:
        user = self.in_use(path)
        if user and not force:
            raise storage_error(f"cannot {what} volume '{path}': it is in use by domain '{user}' "
                                "(use force to override)", ErrorCode.OPERATION_INVALID)

    def list_volumes(self, pool: str) -> list[VolInfo]:
        with self._lock:
            pool = self._active_pool(pool)
            backend = BACKENDS[pool.type]
            if isinstance(backend, LogicalBackend):
                return [VolInfo(pool.name, n, f"{pool.target_path}/{n}", f"{pool.target_path}/{n}",
                                "block", "raw", size, size) for n, size in backend.list_lvs(pool)]
            return self._vols(pool).list()

    def vol_info(self, pool: str, name: str) -> VolInfo:
        with self._lock:
            pool = self._active_pool(pool)
            if isinstance(BACKENDS[pool.type], LogicalBackend):
                for vol in self.list_volumes(pool.name):
                    if vol.name == name:
                        return vol
                raise no_vol(f"no storage vol with matching name '{name}'")
            return self._vols(pool).info(self._vol_name(pool, name))

    def get_volume_xml(self, pool: str, name: str) -> str:
        with self._lock:
            vol = self.vol_info(pool, name)
            pool_type = self._active_pool(pool).type
        # a pool type whose volumes have no format (a logical pool's LVs) writes none, as libvirt
        fmt = vol.format if pool_type in VOLUME_FORMATS else None
        doc = VolumeDef(name=vol.name, type=vol.type, key=vol.key, capacity=vol.capacity,
                        allocation=vol.allocation, path=vol.path, format=fmt)
        if vol.backing:
            from pyvirt.xml.volume import BackingStore

            doc.backing = BackingStore(vol.backing, vol.backing_format)
        return doc.to_xml()

    def create_volume(self, pool: str, name: str, capacity: int | str | None,
                      format: str | None = "raw", allocation: int | str | None = None,
                      backing: str | None = None, prealloc_metadata: bool = False) -> VolInfo:
        """virsh vol-create-as."""
        format = format or "raw"
        names.check_name(name, "storage volume")
        cap = _size(capacity, "capacity")
        alloc = _size(allocation, "allocation")
        with self._lock:
            pool = self._active_pool(pool)
            backend = BACKENDS[pool.type]
            if isinstance(backend, LogicalBackend):
                if format != "raw" or backing:
                    raise unsupported("logical volumes are raw and have no backing store")
                if prealloc_metadata:  # a raw LV has no metadata to preallocate: refused, not dropped
                    raise metadata_prealloc_refused(raw_writer=True)
                if cap is None:
                    raise invalid_arg("volume capacity is required")
                backend.create_lv(pool, name, cap)
                return self.vol_info(pool.name, name)
            return self._vols(pool).create(name, cap, format, allocation=alloc, backing=backing,
                                           prealloc_metadata=prealloc_metadata)

    def create_volume_xml(self, pool: str, xml: str, prealloc_metadata: bool = False,
                          from_pool: str | None = None, from_vol: str | None = None,
                          reflink: bool = False) -> VolInfo:
        """virsh vol-create: a ``<volume>`` document; vol-create-from when `from_vol` is given
        (the document names the new volume and may pick a format, the data comes from
        `from_vol` in `from_pool`, by default this pool)."""
        try:
            doc = VolumeDef.from_xml(xml)
        except XMLError as exc:
            raise _xml_error(exc) from None
        except ValueError as exc:
            raise storage_error(f"XML error: {exc}", ErrorCode.XML_ERROR) from None
        if doc.encryption:  # with or without a volume to copy from: refused, never dropped
            raise unsupported("encrypted volumes are not supported by pyvirt")
        if from_vol:
            return self._create_from(pool, doc, from_pool or pool, from_vol,
                                     prealloc_metadata=prealloc_metadata, reflink=reflink)
        names.check_name(doc.name, "storage volume")
        with self._lock:
            pool = self._active_pool(pool)
            if not format_fits_pool(doc.format, pool.type):
                raise storage_error(f"unknown volume format type {doc.format}", ErrorCode.CONFIG_UNSUPPORTED)
            if isinstance(BACKENDS[pool.type], LogicalBackend):
                return self.create_volume(pool.name, doc.name, doc.capacity, "raw",
                                          prealloc_metadata=prealloc_metadata)
            if doc.type != "file":
                raise unsupported(f"volume type '{doc.type}' cannot be created in a file pool")
            return self._vols(pool).create(
                doc.name, doc.capacity, doc.format or "raw", allocation=doc.allocation,
                backing=doc.backing.path if doc.backing else None,
                prealloc_metadata=prealloc_metadata, compat=doc.compat,
                cluster_size=doc.cluster_size, features=doc.feature_names(), perms=doc.permissions)

    def _create_from(self, pool: str, doc: VolumeDef, src_pool: str, src: str, *, prealloc_metadata: bool,
                     reflink: bool) -> VolInfo:
        """vol-create-from: a copy of `src` made as the document says (its name, format, qcow2
        compat/clusterSize/features, permissions, a larger capacity), all or nothing: what the
        copy cannot honour (another volume type, a backing store) is refused before anything
        is made, and a copy that cannot be grown to the document's capacity is removed."""
        names.check_name(doc.name, "storage volume")
        if doc.type != "file":
            raise unsupported(f"volume type '{doc.type}' cannot be created in a file pool")
        if doc.backing is not None:
            raise storage_error("<backingStore> in a volume copied from another (vol-create-from) is not "
                                "supported by pyvirt", ErrorCode.CONFIG_UNSUPPORTED)
        opts = qcow2_options(doc.compat, doc.cluster_size, doc.feature_names())
        with self._lock:
            dst = self._active_pool(pool)
            if not format_fits_pool(doc.format, dst.type):
                raise storage_error(f"unknown volume format type {doc.format}", ErrorCode.CONFIG_UNSUPPORTED)
            info = self._clone(src_pool, src, doc.name, doc.format, False, pool, prealloc_metadata=prealloc_metadata,
                               reflink=reflink, qcow2_options=opts, perms=doc.permissions)
            if doc.capacity and doc.capacity > info.capacity:
                try:
                    info = self.resize_volume(pool, doc.name, doc.capacity)
                except BaseException:
                    self._vols(dst).delete(doc.name)
                    raise
            return info

    def clone_volume(self, pool: str, src: str, name: str, format: str | None = None,
                     overlay: bool = False, target_pool: str | None = None, *,
                     prealloc_metadata: bool = False, reflink: bool = False) -> VolInfo:
        """virsh vol-clone: a full copy (qemu-img convert, or a reflink of a raw file), or a
        qcow2 overlay over `src`."""
        return self._clone(pool, src, name, format, overlay, target_pool, prealloc_metadata=prealloc_metadata,
                           reflink=reflink)

    def _clone(self, pool: str, src: str, name: str, format: str | None, overlay: bool, target_pool: str | None,
               *, prealloc_metadata: bool, reflink: bool, qcow2_options: dict[str, str] | None = None,
               perms: Any = None) -> VolInfo:
        names.check_name(name, "storage volume")
        with self._lock:
            pool = self._active_pool(pool)
            self._vol_name(pool, src)
            dst_pool = self._active_pool(target_pool or pool.name)
            src_vols = self._vols(pool)
            if overlay:
                if dst_pool is pool:
                    return src_vols.overlay_clone(src, name, format, prealloc_metadata=prealloc_metadata,
                                                  reflink=reflink)
                check_overlay_flags(prealloc_metadata, reflink)
                return self._vols(dst_pool).create(name, None, "qcow2", backing=src_vols.require_file(src, "clone"))
            src_fmt = src_vols.format_of(src)
            return self._vols(dst_pool).copy_in(src_vols.require_file(src, "clone"), src_fmt, name, format or src_fmt,
                                                prealloc_metadata=prealloc_metadata, reflink=reflink,
                                                qcow2_options=qcow2_options, perms=perms)

    def delete_volume(self, pool: str, name: str, force: bool = False) -> None:
        with self._lock:
            pool = self._active_pool(pool)
            backend = BACKENDS[pool.type]
            if isinstance(backend, LogicalBackend):
                self.vol_info(pool.name, name)  # "not found" before lvremove's own wording
                self._check_not_in_use(f"{pool.target_path}/{name}", "delete", force)
                backend.remove_lv(pool, name)
                return
            vols = self._vols(pool)
            self._vol_name(pool, name)
            self._check_not_in_use(vols.path_of(name), "delete", force)
            vols.delete(name)

    def wipe_volume(self, pool: str, name: str, force: bool = False) -> None:
        with self._lock:
            pool = self._active_pool(pool)
            vols = self._vols(pool)
            self._vol_name(pool, name)
            self._check_not_in_use(vols.path_of(name), "wipe", force)
            vols.wipe(name)

    def resize_volume(self, pool: str, name: str, capacity: int | str, shrink: bool = False,
                      delta: bool = False, allocate: bool = False, force: bool = False) -> VolInfo:
        """virsh vol-resize; shrinking needs ``shrink=True`` (and force if in use)."""
        cap = _size(capacity, "capacity")
        with self._lock:
            pool = self._active_pool(pool)
            vols = self._vols(pool)
            self._vol_name(pool, name)
            if delta:
                cap = vols.info(name).capacity + cap
            if shrink:
                self._check_not_in_use(vols.path_of(name), "shrink", force)
            return vols.resize(name, cap, shrink=shrink, allocate=allocate)

    def upload_volume(self, pool: str, name: str, data: Iterable[bytes | int] | BinaryIO,
                      offset: int = 0, length: int | None = None, force: bool = False) -> int:
        with self._lock:
            pool = self._active_pool(pool)
            vols = self._vols(pool)
            self._vol_name(pool, name)
            self._check_not_in_use(vols.path_of(name), "upload to", force)
        return vols.upload(name, data, offset, length)

    def download_volume(self, pool: str, name: str, offset: int = 0,
                        length: int | None = None, chunk: int = 1 << 20) -> Iterator[bytes]:
        with self._lock:
            pool = self._active_pool(pool)
            vols = self._vols(pool)
            self._vol_name(pool, name)
            return vols.download(name, offset, length, chunk)

    def open_download(self, pool: str, name: str, offset: int = 0,
                      length: int | None = None) -> tuple[int, Iterator[bytes]]:
        """(byte count, pieces) of a download: known up front, so the transport can say it
        before the first byte; `length` 0 or None means to the end."""
        info = self.vol_info(pool, name)
        size = os.path.getsize(info.path) if info.type == "file" else info.capacity
        left = max(0, size - offset)
        count = left if not length else min(length, left)
        return count, self.download_volume(pool, name, offset=offset, length=count)

    def lookup_volume_by_path(self, path: str) -> VolInfo:
        """By path or key (a file volume's key is its path)."""
        self._ensure_default()
        real = os.path.realpath(path)
        with self._lock:
            for pool in self._pools.values():
                if not self._active(pool.name) or not BACKENDS[pool.type].file_based:
                    continue
                if os.path.dirname(real) == os.path.realpath(pool.target_path):
                    name = os.path.basename(real)
                    if not name.startswith(".") and os.path.exists(real):
                        return self._vols(pool).describe(name)
        raise no_vol(f"no storage vol with matching path '{path}'")

    lookup_volume_by_key = lookup_volume_by_path  # a file volume's key is its path

    def resolve_disk_volume(self, pool: str, name: str) -> tuple[str, str, str]:
        """(path, disk type 'file'|'block', format) for a domain's ``<source pool volume>``.

        The daemon calls this at guest start: QEMU only knows paths, so the live definition
        carries the volume's path while the persistent one keeps naming the volume.
        """
        vol = self.lookup_volume(pool, name)
        return vol.path, "block" if vol.type == "block" else "file", vol.format

    def lookup_volume(self, pool: str, name: str) -> VolInfo:
        with self._lock:
            pool = self._active_pool(pool)
            if not BACKENDS[pool.type].file_based:
                return self.vol_info(pool.name, name)
            return self._vols(pool).describe(self._vol_name(pool, name))
