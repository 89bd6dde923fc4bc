"""The storage driver's results: the API's records (pyvirt.api), named here for storage code."""

from __future__ import annotations

from pyvirt.api import PoolInfo, VolInfo

__all__ = ["PoolInfo", "VolInfo"]
