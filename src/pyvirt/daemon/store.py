"""Domain state on disk: inactive XML in the config dir, runtime records in the runtime dir.

Layout (per domain NAME):
  config/qemu/NAME.xml               inactive definition (persistent domains only)
  config/qemu/autostart/NAME.xml     symlink to ../NAME.xml when autostart is on
  run/qemu/NAME.json                 runtime record: id, pid identity, paths, state, intent
  run/qemu/NAME.xml                  live XML
  run/qemu/NAME.pid                  QEMU's own pidfile (found even if the daemon died mid-start)
  run/qemu/NAME.monitor              QMP socket
  run/qemu/NAME/                     private per-guest dir

A file that cannot be read or parsed is logged and skipped; it is never rewritten with less.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyvirt.atomicio import remove_quietly, write_atomic
from pyvirt.paths import StatePaths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuntimeFiles:
    record: Path
    live_xml: Path
    pidfile: Path
    monitor: Path
    private_dir: Path
    log: Path


class DomainStore:
    def __init__(self, paths: StatePaths) -> None:
        self.paths = paths

    # -- config
    def config_path(self, name: str) -> Path:
        return self.paths.domains_config / f"{name}.xml"

    def autostart_link(self, name: str) -> Path:
        return self.paths.autostart_dir / f"{name}.xml"

    def iter_configs(self) -> Iterator[tuple[Path, str]]:
        for path in sorted(self.paths.domains_config.glob("*.xml")):
            try:
                yield path, path.read_text()
            except (OSError, UnicodeDecodeError) as exc:
                log.error("skipping unreadable domain config %s: %s", path, exc)

    def save_config(self, name: str, xml: str) -> None:
        write_atomic(self.config_path(name), xml, 0o600)

    def delete_config(self, name: str) -> None:
        remove_quietly(self.autostart_link(name))
        remove_quietly(self.config_path(name))

    def is_autostart(self, name: str) -> bool:
        return self.autostart_link(name).is_symlink()

    def set_autostart(self, name: str, on: bool) -> None:
        link = self.autostart_link(name)
        if on:
            if not link.is_symlink():
                tmp = link.with_name(f".{link.name}.tmp")
                remove_quietly(tmp)
                os.symlink(f"../{name}.xml", tmp)
                os.replace(tmp, link)
        else:
            remove_quietly(link)

    # -- runtime
    def runtime_files(self, name: str) -> RuntimeFiles:
        base = self.paths.domains_runtime
        return RuntimeFiles(record=base / f"{name}.json", live_xml=base / f"{name}.xml",
                            pidfile=base / f"{name}.pid", monitor=base / f"{name}.monitor",
                            private_dir=base / name, log=self.paths.qemu_log / f"{name}.log")

    def iter_runtime(self) -> Iterator[tuple[str, dict[str, Any], str | None]]:
        """(name, record, live XML or None) for every runtime record that can be read."""
        for path in sorted(self.paths.domains_runtime.glob("*.json")):
            name = path.stem
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                log.error("skipping unreadable runtime record %s: %s", path, exc)
                continue
            try:
                live = self.runtime_files(name).live_xml.read_text()
            except OSError:
                live = None
            yield name, record, live

    def save_runtime(self, name: str, record: dict[str, Any], live_xml: str | None = None) -> None:
        files = self.runtime_files(name)
        # runtime state describes running QEMUs, which a power loss ends too: atomic, not durable
        if live_xml is not None:
            write_atomic(files.live_xml, live_xml, 0o600, durable=False)
        write_atomic(files.record, json.dumps(record, sort_keys=True), 0o600, durable=False)

    def clear_runtime(self, name: str) -> None:
        files = self.runtime_files(name)
        for path in (files.record, files.live_xml, files.pidfile, files.monitor):
            remove_quietly(path)
        if files.private_dir.is_dir():
            for child in files.private_dir.iterdir():
                remove_quietly(child)
            try:
                files.private_dir.rmdir()
            except OSError as exc:
                log.warning("could not remove %s: %s", files.private_dir, exc)

    def next_id_path(self) -> Path:
        return self.paths.runtime / "next-id"
