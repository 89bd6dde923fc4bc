"""Per-pool record of each volume's format (the anti-probing memory).

A volume's format is what it was created/uploaded as, kept in
``config_dir/storage/volumes/POOL.json``; a file the driver did not create has no record and
is treated as ``raw`` — never sniffed.  The record lives under config (not the runtime dir)
because it must survive reboots: forgetting that a disk is qcow2 would corrupt guests.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

from pyvirt.atomicio import write_atomic

log = logging.getLogger(__name__)


class FormatRecords:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, str]] | None = None

    def _load(self) -> dict[str, dict[str, str]]:
        if self._data is None:
            try:
                data = json.loads(self.path.read_text())
                if not isinstance(data, dict):
                    raise ValueError("not an object")
                self._data = {k: v for k, v in data.items() if isinstance(v, dict)}
            except FileNotFoundError:
                self._data = {}
            except (ValueError, OSError) as exc:
                # Keep the corrupt file for a human; volumes read as raw meanwhile.
                log.error("volume records %s unreadable (%s); treating volumes as raw",
                          self.path, exc)
                os.replace(self.path, self.path.with_suffix(".json.corrupt"))
                self._data = {}
        return self._data

    def format_of(self, name: str) -> str | None:
        rec = self._load().get(name)
        return rec.get("format") if rec else None

    def set(self, name: str, fmt: str) -> None:
        data = self._load()
        data[name] = {"format": fmt}
        self._save()

    def remove(self, name: str) -> None:
        data = self._load()
        if data.pop(name, None) is not None:
            self._save()

    def prune(self, keep: set[str]) -> None:
        data = self._load()
        gone = [n for n in data if n not in keep]
        for n in gone:
            del data[n]
        if gone:
            self._save()

    def drop(self) -> None:
        self._data = {}
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(self._load(), indent=1, sort_keys=True))
