"""Volumes of file-based pools (dir, fs, netfs): create, clone, delete, wipe, resize, streams.

Every create-like operation writes to a hidden temp name in the pool directory and renames at
the end, so a failure (ENOSPC included) leaves no half-written volume and the pool listing
never shows one.  Formats come from :class:`FormatRecords`, never from file content.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO

from pyvirt.api import ErrorCode
from pyvirt.atomicio import fsync_dir, remove_quietly
from pyvirt.storage import qcow2, qemuimg
from pyvirt.storage.errors import invalid_arg, op_failed, op_invalid, storage_error
from pyvirt.storage.model import VolInfo
from pyvirt.storage.records import FormatRecords
from pyvirt.storage.streams import chunks_of, read_chunks, write_chunks

if TYPE_CHECKING:
    from pyvirt.xml.pool import Permissions

TMP_PREFIX = ".pyvirt-tmp-"
# (path) -> recorded format of a volume inside some pool, or None when it is in none.
BackingResolver = Callable[[str], str | None]


def metadata_prealloc_refused(raw_writer: bool) -> Exception:
    """libvirt's refusal of VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA where nothing can take it: its
    raw writer (storageBackendCreateRaw: a new raw file, a raw LV, a raw-to-raw copy) and its
    qemu-img path into any format but qcow2 word it differently."""
    return storage_error("metadata preallocation is not supported for raw volumes" if raw_writer
                         else "metadata preallocation only available with qcow2", ErrorCode.CONFIG_UNSUPPORTED)


def check_overlay_flags(prealloc_metadata: bool, reflink: bool) -> None:
    """An overlay clone copies nothing, so neither copy flag applies: refused, not dropped."""
    if prealloc_metadata or reflink:
        raise invalid_arg("an overlay clone takes neither metadata preallocation nor a reflink")


def copy_options(src_fmt: str, dst_fmt: str, *, prealloc_metadata: bool, reflink: bool) -> dict[str, str] | None:
    """libvirt's copier for a volume copy (storageBackendGetBuildVolFromFunction) and the flags
    each honours, so none is accepted and dropped: raw to raw is a plain file copy (a reflink
    when asked; raw has no metadata to preallocate), anything else qemu-img convert (metadata
    preallocation into qcow2 only, no reflink).  qemu-img's options, or None for the raw copy."""
    if src_fmt == "raw" and dst_fmt == "raw":
        if prealloc_metadata:
            raise metadata_prealloc_refused(raw_writer=True)
        return None
    if reflink:  # VIR_STORAGE_VOL_CREATE_REFLINK, which libvirt's qemu-img copier refuses
        raise invalid_arg("unsupported flags (0x2) in function storageBackendCreateQemuImg")
    if not prealloc_metadata:
        return {}
    if dst_fmt != "qcow2":
        raise metadata_prealloc_refused(raw_writer=False)
    return {"preallocation": "metadata"}


def _replace_keeping(tmp: str, path: str) -> None:
    """Rename the finished `tmp` over the volume at `path`, which keeps its mode and owner: a
    volume rewritten whole (wiped, uploaded) is still nobody else's to read, and still the
    user's QEMU runs as."""
    st = os.stat(path)
    os.chmod(tmp, st.st_mode & 0o7777)
    if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
        os.chown(tmp, st.st_uid, st.st_gid)
    os.replace(tmp, path)


def _clone_file(src: str, dst: str) -> None:
    """A copy-on-write clone (FICLONE), failing as libvirt's reflink copy does where the file
    system cannot share extents."""
    import fcntl

    with open(src, "rb") as fin, open(dst, "wb") as fout:
        try:
            fcntl.ioctl(fout.fileno(), 0x40049409, fin.fileno())  # FICLONE
        except OSError as exc:
            raise storage_error(f"failed to clone files from '{src}': {exc.strerror}",
                                ErrorCode.SYSTEM_ERROR) from None


def qcow2_options(compat: str | None, cluster_size: int | None, features: Iterable[str] | None) -> dict[str, str]:
    """A qcow2 document's compat, cluster size and features as qemu-img's ``-o`` options."""
    opts: dict[str, str] = {}
    if compat:
        opts["compat"] = compat
    if cluster_size:
        opts["cluster_size"] = str(cluster_size)
    for feat in features or ():
        opts[feat] = "on"
    return opts


class FileVolumes:
    """The volumes of one file-based pool, rooted at `root`."""

    def __init__(self, pool: str, root: str, records: FormatRecords,
                 space: Callable[[], int], resolve_backing: BackingResolver) -> None:
        self.pool = pool
        self.root = root
        self.records = records
        self.available = space
        self.resolve_backing = resolve_backing

    # -- lookups ------------------------------------------------------------------------

    def path_of(self, name: str) -> str:
        return os.path.join(self.root, name)

    def format_of(self, name: str) -> str:
        return self.records.format_of(name) or "raw"

    def exists(self, name: str) -> bool:
        return os.path.lexists(self.path_of(name))

    def require_file(self, name: str, what: str) -> str:
        """The path of volume `name`, refused in libvirt's class when it is a directory (a dir
        pool lists its subdirectories as volumes of type 'dir': they have no bytes to wipe,
        resize, copy or move)."""
        path = self.path_of(name)
        if os.path.isdir(path):
            raise op_invalid(f"cannot {what} volume '{name}' of pool '{self.pool}': it is a directory")
        return path

    def names(self) -> list[str]:
        with os.scandir(self.root) as it:
            return sorted(e.name for e in it if not e.name.startswith(".")
                          and (e.is_file() or e.is_dir()))

    def describe(self, name: str, entry: os.stat_result | None = None) -> VolInfo:
        """Cheap facts: stat, plus the qcow2 header for volumes recorded as qcow2."""
        path = self.path_of(name)
        st = entry or os.stat(path)
        if os.path.isdir(path):
            return VolInfo(self.pool, name, path, path, "dir", "dir", 0, 0)
        fmt = self.format_of(name)
        capacity, backing = st.st_size, None
        if fmt == "qcow2":
            try:
                capacity, backing = qcow2.read_header(path)
            except (ValueError, OSError):
                capacity = 0
        return VolInfo(self.pool, name, path, path, "file", fmt, capacity, st.st_blocks * 512,
                       backing, None)

    def info(self, name: str) -> VolInfo:
        """Authoritative facts from ``qemu-img info --output=json``."""
        vol = self.describe(name)
        if vol.type == "dir":
            return vol
        data = qemuimg.info(vol.path, vol.format)
        vol.capacity = int(data.get("virtual-size", vol.capacity))
        vol.allocation = int(data.get("actual-size", vol.allocation))
        vol.backing = data.get("full-backing-filename") or data.get("backing-filename")
        vol.backing_format = data.get("backing-filename-format")
        return vol

    def list(self) -> list[VolInfo]:
        out = []
        with os.scandir(self.root) as it:
            for e in it:
                if e.name.startswith("."):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    if e.is_file() or e.is_dir():
                        out.append(self.describe(e.name, e.stat()))
        return sorted(out, key=lambda v: v.name)

    # -- creation -----------------------------------------------------------------------

    def _tmp(self) -> str:
        return os.path.join(self.root, f"{TMP_PREFIX}{uuid.uuid4().hex}")

    def _publish(self, tmp: str, name: str, fmt: str) -> None:
        """Record the format, then rename the finished temp file into place (no clobber)."""
        final = self.path_of(name)
        self.records.set(name, fmt)
        try:
            os.link(tmp, final)
        except FileExistsError:
            self.records.remove(name)
            raise storage_error(f"storage volume '{name}' exists already",
                                ErrorCode.STORAGE_VOL_EXIST) from None
        finally:
            remove_quietly(tmp)
        fsync_dir(self.root)

    def _guarded(self, name: str, fmt: str, build: Callable[[str], None], perms: Permissions | None = None) -> None:
        """Build the volume at a temp name (mode, owner and group from `perms`, libvirt's
        ``<target><permissions>``), then publish it: any failure leaves no volume."""
        tmp = self._tmp()
        try:
            build(tmp)
            # libvirt's default mode: a guest's disk is nobody else's to read
            os.chmod(tmp, perms.mode if perms is not None and perms.mode is not None else 0o600)
            if perms is not None and (perms.owner is not None or perms.group is not None):
                os.chown(tmp, -1 if perms.owner is None else perms.owner, -1 if perms.group is None else perms.group)
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            remove_quietly(tmp)
            if qemuimg.is_enospc(exc):
                raise op_failed(f"no space left in pool '{self.pool}' for volume '{name}'") from None
            raise op_failed(f"cannot create volume '{name}': {exc}") from None
        except BaseException:
            remove_quietly(tmp)
            raise
        self._publish(tmp, name, fmt)

    def _check_new(self, name: str, fmt: str) -> None:
        if fmt not in qemuimg.FORMATS:
            raise invalid_arg(f"unsupported volume format '{fmt}' (supported: "
                              f"{', '.join(qemuimg.FORMATS)})")
        if self.exists(name):
            raise storage_error(f"storage volume '{name}' exists already",
                                ErrorCode.STORAGE_VOL_EXIST)

    def _check_space(self, need: int, what: str) -> None:
        avail = self.available()
        if need > avail:
            raise storage_error(f"not enough space in pool '{self.pool}' for {what}: "
                                f"{need} bytes needed, {avail} available",
                                ErrorCode.OPERATION_FAILED)

    def create(self, name: str, capacity: int | None, fmt: str, *, allocation: int | None = None,
               backing: str | None = None, prealloc_metadata: bool = False,
               compat: str | None = None, cluster_size: int | None = None,
               features: list[str] | None = None, perms: Permissions | None = None) -> VolInfo:
        self._check_new(name, fmt)
        backing_fmt = None
        if backing is not None:
            backing = os.path.abspath(backing)
            backing_fmt = self.resolve_backing(backing)
            if backing_fmt is None:
                raise op_invalid(f"backing store '{backing}' is not a volume of any active "
                                 "pool: pyvirt only accepts backing files that a pool manages")
            if fmt != "qcow2":
                raise invalid_arg("a backing store needs format qcow2")
            if capacity is None:
                capacity = (qcow2.read_header(backing)[0] if backing_fmt == "qcow2"
                            else os.stat(backing).st_size)
        if capacity is None:
            raise invalid_arg("volume capacity is required")
        if capacity < 0 or (allocation is not None and allocation < 0):
            raise invalid_arg("volume sizes must not be negative")
        if allocation is not None and allocation > capacity:
            allocation = capacity
        opts: dict[str, str] = {}
        if fmt == "raw" and allocation:
            opts["preallocation"] = "falloc" if allocation >= capacity else "off"
            self._check_space(allocation, f"volume '{name}'")
        if prealloc_metadata and fmt != "qcow2":  # libvirt's raw writer and qemu-img's rule
            raise metadata_prealloc_refused(raw_writer=fmt == "raw")
        if fmt == "qcow2":
            if prealloc_metadata:
                if backing:
                    raise invalid_arg("metadata preallocation is not possible with a backing store")
                opts["preallocation"] = "metadata"
            opts.update(qcow2_options(compat, cluster_size, features))

        def build(tmp: str) -> None:
            qemuimg.create(tmp, fmt, capacity, backing=backing, backing_fmt=backing_fmt, options=opts)
            if fmt == "raw" and allocation and allocation < capacity:  # before publishing: ENOSPC leaves nothing
                with open(tmp, "r+b") as fh:
                    os.posix_fallocate(fh.fileno(), 0, allocation)

        self._guarded(name, fmt, build, perms)
        return self.describe(name)

    def overlay_clone(self, src: str, name: str, fmt: str | None = None, *,
                      prealloc_metadata: bool = False, reflink: bool = False) -> VolInfo:
        """A qcow2 volume NAME over `src` of this pool (vol-clone's overlay); full copies are
        :meth:`copy_in`."""
        src_fmt = self.format_of(src)
        src_path = self.require_file(src, "clone")
        if not os.path.isfile(src_path):
            raise storage_error(f"no storage volume '{src}' in pool '{self.pool}'",
                                ErrorCode.NO_STORAGE_VOL)
        if fmt not in (None, "qcow2"):
            raise invalid_arg("an overlay clone is always qcow2")
        check_overlay_flags(prealloc_metadata, reflink)
        self._check_new(name, "qcow2")
        size = qcow2.read_header(src_path)[0] if src_fmt == "qcow2" else os.stat(src_path).st_size
        self._guarded(name, "qcow2", lambda tmp: qemuimg.create(
            tmp, "qcow2", size, backing=src_path, backing_fmt=src_fmt))
        return self.describe(name)

    def copy_in(self, src_path: str, src_fmt: str, name: str, fmt: str, *, prealloc_metadata: bool = False,
                reflink: bool = False, qcow2_options: dict[str, str] | None = None,
                perms: Permissions | None = None) -> VolInfo:
        """A new volume NAME of format FMT holding a copy of SRC_PATH (any pool's volume);
        `qcow2_options`: the new document's compat, cluster size and features (qemu-img's -o)."""
        if os.path.isdir(src_path):
            raise op_invalid(f"cannot copy '{src_path}': it is a directory")
        opts = copy_options(src_fmt, fmt, prealloc_metadata=prealloc_metadata, reflink=reflink)
        if qcow2_options:
            if fmt != "qcow2":
                raise storage_error(f"compat, clusterSize and features need format qcow2, not {fmt}",
                                    ErrorCode.CONFIG_UNSUPPORTED)
            opts = {**(opts or {}), **qcow2_options}
        self._check_new(name, fmt)
        self._check_space(os.stat(src_path).st_blocks * 512, f"a copy of '{os.path.basename(src_path)}'")
        if opts is None and reflink:
            self._guarded(name, fmt, lambda tmp: _clone_file(src_path, tmp), perms)
        else:
            self._guarded(name, fmt, lambda tmp: qemuimg.convert(src_path, src_fmt, tmp, fmt, options=opts), perms)
        return self.describe(name)

    # -- changes ------------------------------------------------------------------------

    def delete(self, name: str) -> None:
        path = self.path_of(name)
        if os.path.isdir(path) and not os.path.islink(path):
            os.rmdir(path)
        else:
            os.unlink(path)
        self.records.remove(name)
        fsync_dir(self.root)

    def wipe(self, name: str) -> None:
        """Zero the volume: raw becomes all zeros (sparse); qcow2 is re-created empty."""
        self.require_file(name, "wipe")
        vol = self.info(name)
        if vol.format == "raw":
            fd = os.open(vol.path, os.O_WRONLY)
            try:
                os.ftruncate(fd, 0)
                os.ftruncate(fd, vol.capacity)
                os.fsync(fd)
            finally:
                os.close(fd)
            return
        backing = vol.backing if vol.backing and self.resolve_backing(vol.backing) else None
        tmp_fmt = vol.backing_format or (self.resolve_backing(backing) if backing else None)

        def build(tmp: str) -> None:
            qemuimg.create(tmp, "qcow2", vol.capacity, backing=backing, backing_fmt=tmp_fmt)

        tmp = self._tmp()
        try:
            build(tmp)
            _replace_keeping(tmp, vol.path)
        finally:
            remove_quietly(tmp)
        fsync_dir(self.root)

    def resize(self, name: str, capacity: int, shrink: bool = False, allocate: bool = False) -> VolInfo:
        self.require_file(name, "resize")
        vol = self.info(name)
        if capacity < 0:
            raise invalid_arg("volume capacity must not be negative")
        if capacity < vol.capacity and not shrink:
            raise invalid_arg(f"cannot shrink volume '{name}' from {vol.capacity} to {capacity} "
                              "bytes without the shrink flag")
        if allocate and capacity > vol.capacity:
            self._check_space(capacity - vol.capacity, f"growing '{name}'")
        if vol.format != "raw":  # libvirt (storageBackendResizeQemuImg) rounds up: qemu-img wants 512s
            capacity = -(-capacity // 512) * 512
        qemuimg.resize(vol.path, vol.format, capacity, shrink=capacity < vol.capacity,
                       preallocation="falloc" if allocate and vol.format == "raw" else None)
        return self.describe(name)

    # -- streams ------------------------------------------------------------------------

    def upload(self, name: str, data: Iterable[bytes | int] | BinaryIO, offset: int = 0,
               length: int | None = None) -> int:
        """Replace (offset 0, no length) or patch the volume's bytes; returns bytes written.

        A whole-volume upload goes to a temp file renamed at the end: ENOSPC or a broken
        stream leaves the old volume intact.  A partial upload (offset/length) patches in
        place after checking that the pool has room for `length` bytes.
        """
        path = self.require_file(name, "upload to")
        if offset < 0 or (length is not None and length < 0):
            raise invalid_arg("offset and length must not be negative")
        fmt = self.format_of(name)
        chunks = chunks_of(data)
        if offset == 0 and length is None:
            tmp = self._tmp()
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    done = write_chunks(fd, 0, chunks, None, fresh=True)
                    os.ftruncate(fd, done)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                if fmt == "qcow2":
                    self._check_uploaded_backing(tmp)
                _replace_keeping(tmp, path)
            except OSError as exc:
                remove_quietly(tmp)
                if qemuimg.is_enospc(exc):
                    raise op_failed(f"no space left in pool '{self.pool}' while uploading "
                                    f"'{name}'; the volume is unchanged") from None
                raise op_failed(f"upload to '{name}' failed: {exc}") from None
            except BaseException:
                remove_quietly(tmp)
                raise
            fsync_dir(self.root)
            return done
        if length is not None:
            self._check_space(length, f"uploading {length} bytes into '{name}'")
        fd = os.open(path, os.O_WRONLY)
        try:
            done = write_chunks(fd, offset, chunks, length)
            os.fsync(fd)
        except OSError as exc:
            raise op_failed(f"upload to '{name}' failed: {exc}") from None
        finally:
            os.close(fd)
        return done

    def _check_uploaded_backing(self, tmp: str) -> None:
        try:
            _size, backing = qcow2.read_header(tmp)
        except ValueError:
            raise invalid_arg("uploaded data is not a qcow2 image but the volume is qcow2") from None
        if backing:
            full = backing if os.path.isabs(backing) else os.path.join(self.root, backing)
            if self.resolve_backing(os.path.normpath(full)) is None:
                raise op_invalid(f"uploaded image refers to backing file '{backing}' which is "
                                 "not a volume of any active pool; refused")

    def download(self, name: str, offset: int = 0, length: int | None = None,
                 chunk: int = 1 << 20) -> Iterator[bytes]:
        path = self.require_file(name, "download")
        size = os.stat(path).st_size
        if offset < 0 or offset > size or (length is not None and length < 0):
            raise invalid_arg(f"offset/length outside the volume ({size} bytes)")
        count = size - offset if length is None else min(length, size - offset)
        return read_chunks(path, offset, count, chunk)

    def clean_temp(self) -> None:
        """Remove temp files a crash left behind (called when the pool starts)."""
        with os.scandir(self.root) as it:
            for e in it:
                if e.name.startswith(TMP_PREFIX):
                    remove_quietly(e.path)
