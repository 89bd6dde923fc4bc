"""JSON-friendly results of the storage driver (what the daemon will put on the wire)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class PoolInfo:
    name: str
    uuid: str
    type: str
    path: str
    active: bool
    persistent: bool
    autostart: bool
    capacity: int = 0
    allocation: int = 0
    available: int = 0

    @property
    def state(self) -> str:
        return "running" if self.active else "inactive"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "state": self.state}


@dataclass
class VolInfo:
    pool: str
    name: str
    path: str
    key: str
    type: str
    format: str
    capacity: int
    allocation: int
    backing: str | None = None
    backing_format: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
