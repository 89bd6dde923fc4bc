"""Helper processes that live as long as a guest and do not end by themselves (the managed
qemu-pr-helper, a D-Bus display's private bus): their identities are kept in the guest's private
directory (``<name>.helper.json``), so every end of the guest (daemon/store.clear_runtime) stops
them, even after a daemon restart.  Identities carry the start time: a reused pid is never hit.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.atomicio import write_atomic
from pyvirt.qemu import process

SUFFIX = ".helper.json"


def wait_for_socket(ident: process.ProcessIdentity, sock: Path, log: Path, what: str, timeout: float = 5.0) -> None:
    """Until helper `ident` has made its listening `sock` (QEMU connects at start); an error naming
    `what` and its log when it ends or takes longer than `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not sock.exists():
        if not process.identity_alive(ident) or time.monotonic() > deadline:
            raise PyvirtError(f"operation failed: {what} did not create its socket {sock} (see {log})",
                              ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
        time.sleep(0.02)


def launch(argv: list[str], log: Path, private_dir: Path, name: str, sock: Path, *, run_as: Any = None,
           socket_owner: Any = None) -> process.ProcessIdentity:
    """Start helper `name` (`argv`, as `run_as`, output to `log`), wait for its listening `sock`,
    hand the socket to `socket_owner` when given (QEMU's user) and record the helper; on any
    failure the helper is killed, so nothing is left running."""
    ident = process.spawn_detached(argv, log, user=run_as)
    try:
        wait_for_socket(ident, sock, log, Path(argv[0]).name)
        if socket_owner is not None:
            os.chown(sock, socket_owner.uid, socket_owner.gid)
        keep(private_dir, name, ident)
    except BaseException:
        process.kill(ident)
        raise
    return ident


def keep(private_dir: Path, name: str, ident: process.ProcessIdentity) -> None:
    """Record `ident` as the guest's helper `name`."""
    write_atomic(private_dir / f"{name}{SUFFIX}", json.dumps(ident.to_dict()).encode(), mode=0o600, durable=False)


def stop_all(private_dir: Path) -> None:
    """Stop every helper recorded for the guest (nothing recorded: nothing to do)."""
    try:
        records = sorted(private_dir.glob(f"*{SUFFIX}"))
    except OSError:
        return
    for record in records:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            raw = json.loads(record.read_bytes()[:4096])
            process.kill(process.ProcessIdentity(int(raw["pid"]), int(raw["start_ticks"])))
