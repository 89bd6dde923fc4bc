"""``event``: wait for domain lifecycle events and print them in virsh's words."""

from __future__ import annotations

import time

from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.fmt import event_words
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import number

#: virsh 9.0's event names, in its order (``event --list``); pyvirt delivers "lifecycle".
EVENT_NAMES = ("lifecycle", "reboot", "rtc-change", "watchdog", "io-error", "graphics",
               "io-error-reason", "control-error", "block-job", "disk-change", "tray-change",
               "pm-wakeup", "pm-suspend", "balloon-change", "pm-suspend-disk", "device-removed",
               "block-job-2", "tunable", "agent-lifecycle", "device-added", "migration-iteration",
               "job-completed", "device-removal-failed", "metadata-change", "block-threshold",
               "memory-failure", "memory-device-size-change")


def _stamp(ts: float) -> str:
    t = ts or time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}+0000"


def cmd_event(ctl: Ctl, p: Parsed) -> bool:
    if p.bool("list"):
        ctl.print("".join(n + "\n" for n in EVENT_NAMES))
        return True
    kind = p.str("event")
    if not p.bool("all") and kind is None:
        raise CmdError("one of --list, --all, or --event <type> is required")
    if kind is not None and kind not in EVENT_NAMES:
        raise CmdError(f"unknown event type {kind}")
    timeout = number(p.str("timeout"), "timeout")
    if timeout is not None and timeout <= 0:
        raise CmdError(f"Numeric value '{p.str('timeout')}' for <timeout> option is malformed or out of range")
    dom = None
    if p.str("domain"):
        info = ctl.domain(p.str("domain") or "")
        dom = info.uuid or info.name
    want_lifecycle = p.bool("all") or kind == "lifecycle"
    count = 0
    deadline = time.monotonic() + timeout if timeout else None
    outcome = "timeout"
    try:
        for ev in ctl.conn.events(dom, timeout=float(timeout) if timeout else None):
            if not want_lifecycle:
                continue
            what, detail = event_words(ev.event, ev.detail)
            prefix = _stamp(ev.timestamp) + ": " if p.bool("timestamp") else ""
            ctl.print(f"{prefix}event 'lifecycle' for domain '{ev.name}': {what} {detail}\n")
            ctl.out.flush()
            count += 1
            if not p.bool("loop"):
                outcome = "done"
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
    except KeyboardInterrupt:
        outcome = "interrupted"
    if outcome == "timeout":
        ctl.print("event loop timed out\n")
    elif outcome == "interrupted":
        ctl.print("event loop interrupted\n")
    ctl.print(f"events received: {count}\n")
    return count > 0
