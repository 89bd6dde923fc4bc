"""Domain state on disk: inactive XML in the config dir, runtime records in the runtime dir.

Layout (per domain NAME):
  config/qemu/NAME.xml               inactive definition (persistent domains only)
  config/qemu/autostart/NAME.xml     symlink to ../NAME.xml when autostart is on
  run/qemu/KEY/                      the guest's own runtime dir, KEY = runtime_key(NAME):
           record.json               runtime record: name, id, pid identity, state, intent
           live.xml                  live XML
           qemu.pid                  QEMU's own pidfile (found even if the daemon died mid-start)
           qmp.sock                  QMP socket
           ...                       whatever else the guest needs at run time (display sockets)

One directory per guest, named by a fixed-length key, so no two domains' files can collide
(domain "x.json" against domain "x"), the monitor's path fits AF_UNIX's 108 bytes whatever the
name, and clearing a guest's runtime state is one directory removal.

A file that cannot be read or parsed is logged and skipped; it is never rewritten with less.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyvirt.api import system_error
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


#: what one stored definition may weigh (the API takes requests up to 16 MiB; what is stored
#: must be something every client can be sent back)
MAX_STORED_XML = 8 << 20
#: sun_path is 108 bytes with the terminating NUL
UNIX_PATH_MAX = 107


def runtime_key(name: str) -> str:
    """A domain's runtime directory name: a readable prefix of the name plus a digest of all of it."""
    prefix = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in name[:8])
    return f"{prefix}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"


class DomainStore:
    def __init__(self, paths: StatePaths) -> None:
        self.paths = paths
        self._runtime_files: dict[str, RuntimeFiles] = {}

    # -- config
    def config_path(self, name: str) -> Path:
        return self.paths.domains_config / f"{name}.xml"

    def autostart_link(self, name: str) -> Path:
        return self.paths.autostart_dir / f"{name}.xml"

    def remove_stale_temps(self) -> None:
        """Temp files of writes a killed daemon never finished (write_atomic's ``.NAME.*.tmp``): the
        rename never happened, so the real file is intact and these are nobody's."""
        for base in (self.paths.domains_config, self.paths.autostart_dir, self.paths.runtime):
            for tmp in base.glob(".*.tmp"):
                log.info("removing %s, left by an interrupted write", tmp)
                remove_quietly(tmp)
        for tmp in self.paths.domains_runtime.glob("*/.*.tmp"):
            remove_quietly(tmp)

    def iter_configs(self) -> Iterator[tuple[Path, str]]:
        for path in sorted(self.paths.domains_config.glob("*.xml")):
            try:
                yield path, path.read_text()
            except (OSError, UnicodeDecodeError) as exc:
                log.error("skipping unreadable domain config %s: %s", path, exc)

    def save_config(self, name: str, xml: str) -> None:
        path = self.config_path(name)
        if len(xml) > MAX_STORED_XML:
            from pyvirt.api import ErrorCode, PyvirtError

            raise PyvirtError(f"XML error: domain '{name}' would be stored as {len(xml)} bytes of XML; "
                              f"at most {MAX_STORED_XML} are kept", ErrorCode.XML_ERROR)
        try:
            write_atomic(path, xml, 0o600)
        except OSError as exc:
            raise system_error(f"cannot write config file '{path}'", exc) from exc

    def delete_config(self, name: str) -> None:
        remove_quietly(self.autostart_link(name))
        remove_quietly(self.config_path(name))

    def is_autostart(self, name: str) -> bool:
        return self.autostart_link(name).is_symlink()

    def autostart_names(self) -> set[str]:
        """Every domain whose autostart link exists, from one directory listing."""
        try:
            entries = list(os.scandir(self.paths.autostart_dir))
        except OSError:
            return set()
        return {e.name[:-4] for e in entries if e.name.endswith(".xml") and e.is_symlink()}

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
        """The guest's runtime paths; kept per name (a start asks for them ~6 times, and six
        pathlib joins and a digest each time were ~5% of pyvirtd's work before QEMU's exec)."""
        files = self._runtime_files.get(name)
        if files is None:
            if len(self._runtime_files) >= 4096:  # bounded: names come and go
                self._runtime_files.clear()
            base = self.paths.domains_runtime / runtime_key(name)
            files = self._runtime_files[name] = RuntimeFiles(
                record=base / "record.json", live_xml=base / "live.xml", pidfile=base / "qemu.pid",
                monitor=base / "qmp.sock", private_dir=base, log=self.paths.qemu_log / f"{name}.log")
        return files

    def check_runtime_paths(self, name: str, socket_names: Iterable[str] = ()) -> None:
        """Refuse, naming the limit, a state root so deep that a socket QEMU binds in the guest's
        runtime dir (the monitor, and `socket_names`: agent channels and the like) cannot be bound;
        QEMU would only fail later with a less helpful message."""
        base = self.runtime_files(name).private_dir
        for sock in [self.runtime_files(name).monitor, *(base / n for n in socket_names)]:
            if len(str(sock).encode()) > UNIX_PATH_MAX:
                from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

                raise PyvirtError(f"unsupported configuration: the socket path {sock} is longer than "
                                  f"the {UNIX_PATH_MAX} bytes a unix socket path may have; use a shorter "
                                  "runtime directory", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)

    def iter_runtime(self) -> Iterator[tuple[str, dict[str, Any], str | None]]:
        """(name, record, live XML or None) for every runtime record that can be read.

        A guest dir without a record is a start that never got as far as spawning QEMU (the
        record is written before): it is removed, not left behind forever.
        """
        from pyvirt.daemon.qemuuser import restore

        for base in sorted(self.paths.domains_runtime.iterdir()):
            if not base.is_dir() or base.is_symlink():
                continue
            path = base / "record.json"
            try:
                record = json.loads(path.read_text())
                name = record["name"]
                if not isinstance(name, str) or runtime_key(name) != base.name:
                    raise ValueError(f"record names domain {name!r}, which does not live here")
            except FileNotFoundError:
                log.warning("removing runtime dir %s: it has no runtime record", base)
                restore(base)  # a start that died after handing files to QEMU's user gives them back
                self._remove_dir(base)
                continue
            except (OSError, ValueError, KeyError, TypeError) as exc:
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
        try:
            if live_xml is not None:
                write_atomic(files.live_xml, live_xml, 0o600, durable=False)
            files.private_dir.mkdir(mode=0o700, exist_ok=True)
            write_atomic(files.record, json.dumps({**record, "name": name}, sort_keys=True), 0o600,
                         durable=False)
        except OSError as exc:
            raise system_error(f"cannot write runtime state of domain '{name}'", exc) from exc

    def clear_runtime(self, name: str) -> None:
        """Every end of a guest comes here: its helpers (daemon/guesthelpers) stop, what was
        chowned to its QEMU user is given back, and its cgroup (if it had one) goes."""
        from pyvirt.daemon.cgroups import remove_for_guest
        from pyvirt.daemon.guesthelpers import stop_all as stop_helpers
        from pyvirt.daemon.qemuuser import restore

        base = self.runtime_files(name).private_dir
        stop_helpers(base)  # its managed qemu-pr-helper, its D-Bus display's bus
        restore(base)
        self._remove_dir(base)
        remove_for_guest(self.paths.runtime, name, self.paths.uri.rstrip("/").endswith("/system")
                         and os.geteuid() == 0)

    @staticmethod
    def _remove_dir(path: Path) -> None:
        """Remove a guest's runtime dir and all in it (rmtree never follows symlinks out of it)."""
        try:
            shutil.rmtree(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove %s: %s", path, exc)

    def next_id_path(self) -> Path:
        return self.paths.runtime / "next-id"
