"""Storage pools and volumes (libvirt's storage driver): see :class:`StorageDriver`."""

from pyvirt.storage.driver import StorageDriver
from pyvirt.storage.model import PoolInfo, VolInfo

__all__ = ["PoolInfo", "StorageDriver", "VolInfo"]
