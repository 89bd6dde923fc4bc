"""Pool backends: how each pool type is built, started, stopped, deleted and measured.

One class per pool type; the driver picks by ``PoolDef.type``.  Tools that a type needs
(``mount``, ``vgs``...) are checked first, so a missing tool is a precise refusal
("logical pools need lvm2: 'vgs' not found"), not a traceback halfway through.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from pyvirt.api import ErrorCode
from pyvirt.storage.errors import op_failed, op_invalid, storage_error, unsupported
from pyvirt.xml.pool import PoolDef


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
        if pool.mount_opts:
            argv += ["-o", ",".join(pool.mount_opts)]
        _run([*argv, "--", self._source(pool), pool.target_path], f"mounting pool '{pool.name}'")

    def stop(self, pool: PoolDef) -> None:
        if os.path.ismount(pool.target_path):
            _run([_need("umount", "fs pools need util-linux umount"), pool.target_path],
                 f"unmounting pool '{pool.name}'")


class NetfsBackend(FsBackend):
    def _source(self, pool: PoolDef) -> str:
        host = pool.source.hosts[0][0]
        if pool.source.format == "cifs":
            return f"//{host}/{pool.source.dir}"
        return f"{host}:{pool.source.dir}"

    def _fstype(self, pool: PoolDef) -> str | None:
        fmt = pool.source.format
        return "nfs" if fmt in (None, "auto") else fmt


class LogicalBackend:
    """An LVM volume group; volumes are logical volumes (raw only)."""

    file_based = False

    def check(self, pool: PoolDef) -> None:
        _need("vgs", "logical pools need lvm2")

    def build(self, pool: PoolDef) -> None:
        self.check(pool)
        if not pool.source.devices:
            raise op_invalid(f"cannot build logical pool '{pool.name}': no source devices")
        devs = [d.path for d in pool.source.devices]
        _run([_need("pvcreate", "lvm2"), "-y", "--", *devs], "pvcreate")
        _run([_need("vgcreate", "lvm2"), "--", pool.source.name, *devs], "vgcreate")

    def start(self, pool: PoolDef) -> None:
        self.check(pool)
        _run([_need("vgchange", "lvm2"), "-aay", "--", pool.source.name],
             f"activating volume group '{pool.source.name}'")

    def stop(self, pool: PoolDef) -> None:
        _run([_need("vgchange", "lvm2"), "-aln", "--", pool.source.name],
             f"deactivating volume group '{pool.source.name}'")

    def delete(self, pool: PoolDef) -> None:
        _run([_need("vgremove", "lvm2"), "-f", "--", pool.source.name], "vgremove")

    def space(self, pool: PoolDef) -> tuple[int, int, int]:
        out = _run([_need("vgs", "lvm2"), "--noheadings", "--units", "b", "--nosuffix",
                    "-o", "vg_size,vg_free", "--", pool.source.name], "vgs")
        size, free = (int(x) for x in out.split()[:2])
        return size, size - free, free

    def list_lvs(self, pool: PoolDef) -> list[tuple[str, int]]:
        out = _run([_need("lvs", "lvm2"), "--noheadings", "--units", "b", "--nosuffix",
                    "--separator", "|", "-o", "lv_name,lv_size", "--", pool.source.name], "lvs")
        rows = [line.strip().split("|") for line in out.splitlines() if line.strip()]
        return [(name, int(size)) for name, size in rows]

    def create_lv(self, pool: PoolDef, name: str, size: int) -> None:
        _run([_need("lvcreate", "lvm2"), "-y", "-n", name, "-L", f"{size}b", "--",
              pool.source.name], f"creating logical volume '{name}'")

    def remove_lv(self, pool: PoolDef, name: str) -> None:
        _run([_need("lvremove", "lvm2"), "-f", "--", f"{pool.source.name}/{name}"],
             f"removing logical volume '{name}'")


BACKENDS = {"dir": DirBackend(), "fs": FsBackend(), "netfs": NetfsBackend(),
            "logical": LogicalBackend()}
