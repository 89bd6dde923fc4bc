"""Pool backends: how each pool type is built, started, stopped, deleted and measured.

One class per pool type; the driver picks by ``PoolDef.type``.  Tools that a type needs
(``mount``, ``vgs``...) are checked first, so a missing tool is a precise refusal
("logical pools need lvm2: 'vgs' not found"), not a traceback halfway through.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.storage.errors import op_failed, op_invalid, storage_error, unsupported
from pyvirt.xml.pool import KNOWN_TYPES, SUPPORTED_TYPES, PoolDef


def _run(argv: list[str], what: str) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise op_failed(f"{what} failed: {(proc.stderr or proc.stdout).strip()}")
    return proc.stdout


def _need(tool: str, why: str) -> str:
    path = shutil.which(tool) or next((p for p in (f"/usr/sbin/{tool}", f"/sbin/{tool}")
                                       if os.access(p, os.X_OK)), None)
    if not path:
        raise unsupported(f"{why}: '{tool}' not found (install it or use a dir pool)")
    return path


BTRFS_SUPER_MAGIC = 0x9123683E
_FS_IOC_GETFLAGS, _FS_IOC_SETFLAGS, _FS_NOCOW_FL = 0x80086601, 0x40086602, 0x00800000


def set_cow(path: str, cow: bool | None) -> None:
    """libvirt's virFileSetCOW for a pool's ``<features><cow state>``: on btrfs, set or clear
    the directory's no-copy-on-write flag (inherited by the volumes made in it); elsewhere a
    stated choice is refused, as libvirt refuses it, rather than ignored."""
    if cow is None:
        return
    import ctypes
    import fcntl
    import struct

    class _StatFs(ctypes.Structure):
        _fields_ = [("f_type", ctypes.c_long), ("rest", ctypes.c_byte * 112)]

    buf = _StatFs()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.statfs(os.fsencode(path), ctypes.byref(buf)) != 0:
        raise op_failed(f"cannot read the file system of '{path}': {os.strerror(ctypes.get_errno())}")
    if buf.f_type & 0xFFFFFFFF != BTRFS_SUPER_MAGIC:
        raise unsupported(f"unable to control COW flag on '{path}', not btrfs")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        flags = struct.unpack("l", fcntl.ioctl(fd, _FS_IOC_GETFLAGS, struct.pack("l", 0)))[0]
        flags = flags & ~_FS_NOCOW_FL if cow else flags | _FS_NOCOW_FL
        fcntl.ioctl(fd, _FS_IOC_SETFLAGS, struct.pack("l", flags))
    except OSError as exc:
        raise op_failed(f"cannot set the COW flag of '{path}': {exc.strerror}") from None
    finally:
        os.close(fd)


class DirBackend:
    """A directory on an already mounted file system."""

    file_based = True

    def check(self, pool: PoolDef) -> None:
        """Called at define time: refuse what can never work on this host."""

    def build(self, pool: PoolDef) -> None:
        path = pool.target_path
        if os.path.lexists(path) and not os.path.isdir(path):
            raise op_invalid(f"cannot build pool '{pool.name}': '{path}' exists and is not a directory")
        mode = pool.permissions.mode if pool.permissions and pool.permissions.mode is not None else 0o711
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
        perms = pool.permissions
        if perms and (perms.owner is not None or perms.group is not None):
            os.chown(path, -1 if perms.owner is None else perms.owner,
                     -1 if perms.group is None else perms.group)
        set_cow(path, pool.cow)

    def start(self, pool: PoolDef) -> None:
        path = pool.target_path
        if not os.path.exists(path):
            raise storage_error(f"cannot start pool '{pool.name}': target path '{path}' does not "
                                "exist (build the pool first)", ErrorCode.OPERATION_INVALID)
        if not os.path.isdir(path):
            raise op_invalid(f"cannot start pool '{pool.name}': '{path}' is not a directory")

    def stop(self, pool: PoolDef) -> None:
        """Nothing to undo for a plain directory."""

    def delete(self, pool: PoolDef) -> None:
        try:
            os.rmdir(pool.target_path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise op_invalid(f"cannot delete pool '{pool.name}': {exc.strerror} "
                             f"('{pool.target_path}')") from None

    def space(self, pool: PoolDef) -> tuple[int, int, int]:
        """(capacity, allocation, available) in bytes, from statvfs of the target."""
        st = os.statvfs(pool.target_path)
        capacity = st.f_frsize * st.f_blocks
        available = st.f_frsize * st.f_bavail
        return capacity, capacity - st.f_frsize * st.f_bfree, available


class FsBackend(DirBackend):
    """A block device holding a file system, mounted on the target directory."""

    def check(self, pool: PoolDef) -> None:
        _need("mount", "fs pools need util-linux mount")

    def _source(self, pool: PoolDef) -> str:
        """The one device to mount: libvirt defines an fs pool with several and refuses it here
        (virStorageBackendFileSystemIsValid)."""
        if len(pool.source.devices) != 1:
            raise storage_error("XML error: expected exactly 1 device for the storage pool", ErrorCode.XML_ERROR)
        return pool.source.devices[0].path

    def _fstype(self, pool: PoolDef) -> str | None:
        fmt = pool.source.format
        return None if fmt in (None, "auto") else fmt

    def build(self, pool: PoolDef) -> None:
        super().build(pool)

    def start(self, pool: PoolDef) -> None:
        if not os.path.isdir(pool.target_path):
            raise op_invalid(f"cannot start pool '{pool.name}': target '{pool.target_path}' "
                             "is not a directory (build the pool first)")
        if os.path.ismount(pool.target_path):
            return
        argv = [_need("mount", "fs pools need util-linux mount")]
        if self._fstype(pool):
            argv += ["-t", self._fstype(pool)]
        options = self._mount_options(pool)
        if options:
            argv += ["-o", ",".join(options)]
        _run([*argv, "--", self._source(pool), pool.target_path], f"mounting pool '{pool.name}'")

    def _mount_options(self, pool: PoolDef) -> list[str]:
        """The ``fs:mount_opts`` options, in the order written."""
        return list(pool.mount_opts)

    def stop(self, pool: PoolDef) -> None:
        if os.path.ismount(pool.target_path):
            _run([_need("umount", "fs pools need util-linux umount"), pool.target_path],
                 f"unmounting pool '{pool.name}'")


class NetfsBackend(FsBackend):
    def _source(self, pool: PoolDef) -> str:
        host = pool.source.hosts[0].name
        if pool.source.format == "cifs":
            return f"//{host}/{pool.source.dir}"
        return f"{host}:{pool.source.dir}"

    def _fstype(self, pool: PoolDef) -> str | None:
        fmt = pool.source.format
        return "nfs" if fmt in (None, "auto") else fmt

    def _mount_options(self, pool: PoolDef) -> list[str]:
        """``<protocol ver>`` first (``nfsvers=``, before the namespace options, as libvirt's
        virStorageBackendFileSystemMountAddOptions), then ``fs:mount_opts``."""
        vers = [f"nfsvers={pool.source.protocol_ver}"] if pool.source.protocol_ver else []
        return vers + super()._mount_options(pool)


#: LVM settings for hosts without a running udev (containers, minimal hosts): without them an
#: activation can wait forever for a udev cookie that nobody will ever complete.  With
#: udev_rules=0 LVM creates the /dev/VG/LV nodes itself.
NO_UDEV_CONFIG = ("activation { udev_sync=0 udev_rules=0 verify_udev_operations=1 } "
                  "devices { obtain_device_list_from_udev=0 }")
LVM_TIMEOUT = 120.0


def udev_running() -> bool:
    """What LVM itself checks: udevd listens on /run/udev/control."""
    return os.path.exists("/run/udev/control")


def device_mapper_problem() -> str | None:
    """Why this kernel cannot activate logical volumes, or None when it can.

    Opening /dev/mapper/control is the test libdevmapper makes (and it loads dm_mod on demand);
    a container or a kernel without device-mapper fails it with ENODEV/ENOENT.
    """
    try:
        fd = os.open("/dev/mapper/control", os.O_RDWR)
    except OSError as exc:
        return f"the kernel's device-mapper is not available (/dev/mapper/control: {exc.strerror})"
    os.close(fd)
    return None


class LogicalBackend:
    """An LVM volume group; volumes are logical volumes (raw only).

    Every LVM command runs with a timeout and, where udev is not running, with udev sync and
    rules switched off, so that a host without udev gets an answer instead of a hung thread.
    """

    file_based = False

    def check(self, pool: PoolDef) -> None:
        _need("vgs", "logical pools need lvm2")

    def _lvm(self, tool: str, *args: str, what: str) -> str:
        argv = [_need(tool, "logical pools need lvm2")]
        if not udev_running():
            argv += ["--config", NO_UDEV_CONFIG]
        env = dict(os.environ, LVM_SUPPRESS_FD_WARNINGS="1")
        try:
            proc = subprocess.run([*argv, *args], capture_output=True, text=True, check=False,
                                  env=env, timeout=LVM_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise op_failed(f"{what} failed: {tool} did not finish within {LVM_TIMEOUT:.0f}s") from None
        if proc.returncode != 0:
            raise op_failed(f"{what} failed: {(proc.stderr or proc.stdout).strip()}")
        return proc.stdout

    def build(self, pool: PoolDef) -> None:
        self.check(pool)
        if not pool.source.devices:
            raise op_invalid(f"cannot build logical pool '{pool.name}': no source devices")
        devs = [d.path for d in pool.source.devices]
        self._lvm("pvcreate", "-y", "--", *devs, what="pvcreate")
        self._lvm("vgcreate", "--", pool.source.name, *devs, what="vgcreate")

    def start(self, pool: PoolDef) -> None:
        self.check(pool)
        self._lvm("vgchange", "-aay", "--", pool.source.name,
                  what=f"activating volume group '{pool.source.name}'")

    def stop(self, pool: PoolDef) -> None:
        self._lvm("vgchange", "-aln", "--", pool.source.name,
                  what=f"deactivating volume group '{pool.source.name}'")

    def delete(self, pool: PoolDef) -> None:
        """vgremove, then pvremove of each source device (as libvirt's pool-delete does)."""
        self._lvm("vgremove", "-f", "--", pool.source.name, what="vgremove")
        devs = [d.path for d in pool.source.devices]
        if devs:
            self._lvm("pvremove", "-y", "--", *devs, what="pvremove")

    def space(self, pool: PoolDef) -> tuple[int, int, int]:
        out = self._lvm("vgs", "--noheadings", "--units", "b", "--nosuffix",
                        "-o", "vg_size,vg_free", "--", pool.source.name, what="vgs")
        size, free = (int(x) for x in out.split()[:2])
        return size, size - free, free

    def list_lvs(self, pool: PoolDef) -> list[tuple[str, int]]:
        out = self._lvm("lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", "|",
                        "-o", "lv_name,lv_size", "--", pool.source.name, what="lvs")
        rows = [line.strip().split("|") for line in out.splitlines() if line.strip()]
        return [(name, int(size)) for name, size in rows]

    def create_lv(self, pool: PoolDef, name: str, size: int) -> None:
        # lvcreate only fails on a kernel without device-mapper after a cryptic "striped:
        # Required device-mapper target(s) not detected"; an LV nobody can activate would be
        # no use to a guest anyway, so say why up front.
        problem = device_mapper_problem()
        if problem:
            raise op_failed(f"cannot create logical volume '{name}': {problem}")
        kib = max(1, -(-size // 1024))  # libvirt's rounding: whole KiB, up; LVM then rounds to extents
        self._lvm("lvcreate", "-y", "-n", name, "-L", f"{kib}K", "--", pool.source.name,
                  what=f"creating logical volume '{name}'")

    def remove_lv(self, pool: PoolDef, name: str) -> None:
        self._lvm("lvremove", "-f", "--", f"{pool.source.name}/{name}",
                  what=f"removing logical volume '{name}'")


class UndrivenBackend:
    """A pool type pyvirt reads, checks and shows like libvirt but does not run (iscsi, rbd,
    scsi, disk, mpath, gluster, zfs, ...): defining one keeps its XML; building, starting or
    deleting it is refused naming the type, so nothing pretends to work."""

    file_based = False

    def check(self, pool: PoolDef) -> None:
        """Defining is allowed: the document is kept and shown as libvirt shows it."""

    def _refuse(self, pool: PoolDef, what: str) -> PyvirtError:
        return unsupported(f"cannot {what} pool '{pool.name}': storage pool type '{pool.type}' is "
                           f"not supported by pyvirt's storage driver (supported: {', '.join(SUPPORTED_TYPES)})")

    def build(self, pool: PoolDef) -> None:
        raise self._refuse(pool, "build")

    def start(self, pool: PoolDef) -> None:
        raise self._refuse(pool, "start")

    def stop(self, pool: PoolDef) -> None:
        """Never started, so nothing to stop."""

    def delete(self, pool: PoolDef) -> None:
        raise self._refuse(pool, "delete")

    def space(self, pool: PoolDef) -> tuple[int, int, int]:
        return 0, 0, 0


BACKENDS = {"dir": DirBackend(), "fs": FsBackend(), "netfs": NetfsBackend(),
            "logical": LogicalBackend()}
BACKENDS.update({kind: UndrivenBackend() for kind in KNOWN_TYPES if kind not in BACKENDS})
